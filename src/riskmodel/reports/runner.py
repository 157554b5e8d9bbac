"""Execute a report notebook with papermill and export it to HTML (code hidden, figures embedded), atomically."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from riskmodel import __version__, config
from riskmodel.data.store import atomic_dir
from riskmodel.errors import RiskModelError
from riskmodel.provenance import code_version

KERNEL = "python3"


class ReportError(RiskModelError):
    """A report notebook failed while executing; the earlier report (if any) is left in place."""


def _fingerprint(parameters: dict) -> str | None:
    """The data fingerprint of what the report reads: a run's (from its model card), else the files it names."""
    from riskmodel.provenance import fingerprint_files

    run_dir = parameters.get("run_dir")
    card = Path(run_dir) / "model_card.json" if run_dir else None
    if card and card.is_file():
        return json.loads(card.read_text(encoding="utf-8")).get("data_fingerprint")
    base = Path(config.PROJ_ROOT) / parameters.get("data_dir", "")
    names = parameters.get("files") or []
    files = {str(n): base / n for n in names if (base / n).is_file()}
    return fingerprint_files(files) if files else None


def run_notebook(notebook: str | Path, parameters: dict, out_dir: str | Path, timeout: int = 600, check=None) -> dict:
    """Execute ``notebook`` with ``parameters`` into ``out_dir`` (replaced only when everything succeeded).

    Writes ``<name>.ipynb`` (executed, with its parameters recorded by papermill), ``<name>.html`` and
    ``parameters.json`` (parameters, data fingerprint, code version, timings).  ``check``, if given, is
    called with the HTML before anything is filed and may raise to stop it.  Returns their paths.
    """
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    notebook = Path(notebook)
    name = notebook.stem
    t0 = time.perf_counter()
    with atomic_dir(out_dir) as tmp:
        out_nb = tmp / f"{name}.ipynb"
        # figures render inline as PNG in the executed notebook (and so in the HTML), whatever the caller's backend
        env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            pm.execute_notebook(str(notebook), str(out_nb), parameters=parameters, kernel_name=KERNEL, progress_bar=False,
                                cwd=str(config.PROJ_ROOT), execution_timeout=timeout)
        except pm.PapermillExecutionError as exc:
            raise ReportError(f"{notebook.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}") from exc
        finally:
            for k, v in old.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
        body, _ = exporter.from_notebook_node(nbformat.read(out_nb, as_version=4))
        if check is not None:
            check(body)  # e.g. the leak gate for de-identified audiences; raising leaves the earlier report in place
        (tmp / f"{name}.html").write_text(body, encoding="utf-8")
        meta = {"notebook": notebook.name, "parameters": parameters, "data_fingerprint": _fingerprint(parameters),
                "code_version": code_version(), "package_version": __version__, "kernel": KERNEL,
                "produced_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": round(time.perf_counter() - t0, 1)}
        (tmp / "parameters.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    out = Path(out_dir)
    return {"notebook": out / f"{name}.ipynb", "html": out / f"{name}.html", "parameters": out / "parameters.json"}
