"""Producing reports: check the parameters, execute the notebook with papermill, file the result, update the index.

Every report lands in ``reports/<kind>/<period-or-date>/<name>/`` with the executed notebook, an HTML file
(code hidden, figures embedded) and ``parameters.json`` (parameters, data fingerprint, code version), written
atomically by :func:`riskmodel.reports.runner.run_notebook`.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from riskmodel import config
from riskmodel.errors import RiskModelError
from riskmodel.reports.rundata import RunData

NOTEBOOKS = {"portrait": "portrait.ipynb", "supervision": "supervision.ipynb", "evaluation": "evaluation.ipynb"}
LANGS = ("zh", "en")
AUDIENCES = ("supervisor", "analyst", "model_reviewer", "education_officer", "leadership")
#: audiences that may only see de-identified material (the report refuses identified content for them): the roles
#: of :data:`riskmodel.linkage.roles.POLICIES` that are not identified
DEIDENTIFIED_AUDIENCES = ("model_reviewer", "education_officer", "leadership")


def _notebook(kind: str) -> Path:
    p = config.NOTEBOOKS_DIR / "reports" / NOTEBOOKS[kind]
    if not p.is_file():
        raise RiskModelError(f"report notebook {p} is missing; reinstall riskmodel from a checkout")
    return p


def _common(lang: str, audience: str) -> None:
    if lang not in LANGS:
        raise RiskModelError(f"language {lang!r} is not one of {', '.join(LANGS)}")
    if audience not in AUDIENCES:
        raise RiskModelError(f"audience {audience!r} is not one of {', '.join(AUDIENCES)}")


def _execute(kind: str, params: dict, dest: Path) -> dict:
    from riskmodel.reports.runner import run_notebook

    check = None
    if params.get("audience") in DEIDENTIFIED_AUDIENCES:
        from riskmodel.linkage.deid import find_leaks

        data_dir = RunData(params["run_dir"]).data_dir

        def check(html_text: str) -> None:
            """Refuse to file a de-identified report that names anyone (the earlier report stays)."""
            leaks = find_leaks({"report": html_text}, data_dir)
            if len(leaks):
                raise RiskModelError(f"the {kind} report for {params['audience']} would disclose {len(leaks)} identifier(s) "
                                     f"(e.g. {leaks.table.iloc[0]}.{leaks.column.iloc[0]} {leaks.value_masked.iloc[0]}); "
                                     f"nothing was written")
    paths = run_notebook(_notebook(kind), params, dest, check=check)
    # every report produced goes on the run's tamper-evident record
    from riskmodel.ledger import log_report

    log_report(Path(params["run_dir"]) / "ledger.jsonl", paths["html"], kind, params.get("audience", "supervisor"),
               extra={k: v for k, v in params.items() if k != "run_dir"})
    return paths


def portrait(entity_kind: str, entity_id: str, period: str | None = None, lang: str = "zh", audience: str = "supervisor",
             run_dir: str | Path | None = None, out_root: str | Path | None = None) -> dict:
    """Produce a risk portrait; bad parameters fail before anything is executed.

    ``entity_id='top'`` picks the entity of the highest-ranked alert of that kind in the latest quarter.
    """
    from riskmodel.reports import portrait as P

    _common(lang, audience)
    run = RunData(run_dir)
    if entity_id == "top":
        col = {"employee": "entity_id", "department": "department_id", "post": "position_id"}.get(entity_kind)
        a = run.alerts[run.alerts.entity_type == "employee"]
        if col is None or a.empty:
            raise RiskModelError("'top' works for employee, department and post portraits of a run with people alerts")
        entity_id = str(a[a.period == a.period.max()].sort_values("rank")[col].iloc[0])
    P.check_entity(run, entity_kind, entity_id)
    P._range(run, period)
    if audience in DEIDENTIFIED_AUDIENCES:
        raise RiskModelError(f"a risk portrait shows identified people and transactions; the {audience} role gets de-identified "
                             f"material only: the supervision report, 'riskmodel export alerts --role {audience}' or warning-case digests")
    dest = Path(out_root or config.REPORTS_DIR) / "portrait" / (period or "all").replace(":", "_") / f"{entity_kind}-{entity_id}-{lang}"
    params = {"run_dir": str(run.run_dir.resolve()), "entity_kind": entity_kind, "entity_id": entity_id, "periods": period,
              "lang": lang, "audience": audience}
    return _execute("portrait", params, dest)


def supervision(period: str, lang: str = "zh", audience: str = "leadership", run_dir: str | Path | None = None,
                out_root: str | Path | None = None) -> dict:
    from riskmodel.reports import supervision as S

    _common(lang, audience)
    run = RunData(run_dir)
    S.check_period(run, period)
    dest = Path(out_root or config.REPORTS_DIR) / "supervision" / period / f"supervision-{lang}"
    return _execute("supervision", {"run_dir": str(run.run_dir.resolve()), "period": period, "lang": lang, "audience": audience}, dest)


def evaluation(lang: str = "zh", run_dir: str | Path | None = None, out_root: str | Path | None = None,
               audience: str = "model_reviewer") -> dict:
    """The model evaluation report; for a de-identified audience (model reviewers, the default) its examples carry
    pseudonyms and scrubbed reasons, and the page is scanned for identifiers before it is filed."""
    _common(lang, audience)
    run = RunData(run_dir)
    if run.evaluation is None:
        raise RiskModelError(f"{run.run_dir} has no evaluation.json: run 'riskmodel evaluate --run {run.run_dir}' first")
    dest = Path(out_root or config.REPORTS_DIR) / "evaluation" / time.strftime("%Y-%m-%d") / f"evaluation-{lang}"
    dest = dest if audience == "model_reviewer" else dest.with_name(f"{dest.name}-{audience}")
    return _execute("evaluation", {"run_dir": str(run.run_dir.resolve()), "lang": lang, "audience": audience}, dest)


@dataclass
class BatchResult:
    done: list[str]
    failed: list[tuple[str, str]]


def batch(period: str, lang: str = "zh", run_dir: str | Path | None = None, out_root: str | Path | None = None,
          portraits: str = "departments", progress: bool = True) -> BatchResult:
    """Scheduled run: the supervision report for ``period`` and portraits (of every department with alerts, or
    ``none``); one failing report does not stop the others, and failures are summarised at the end."""
    run = RunData(run_dir)
    jobs = [("supervision", lambda: supervision(period, lang, "leadership", run_dir, out_root))]
    if portraits == "departments":
        from riskmodel.reports.supervision import parse_period

        lo, hi, _ = parse_period(period)
        a = run.alerts
        p = pd.to_datetime(a.period)
        depts = sorted(a[(p >= lo.to_period("Q").start_time) & (p <= hi)].department_id.dropna().unique())
        jobs += [(f"portrait department {d}", lambda d=d: portrait("department", d, None, lang, "supervisor", run_dir, out_root))
                 for d in depts]
    done, failed = [], []
    with Progress(TextColumn("[bold]reports[/] {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  disable=not progress) as bar:
        task = bar.add_task("", total=len(jobs))
        for name, job in jobs:
            bar.update(task, description=name)
            try:
                job()
                done.append(name)
            except Exception as exc:  # noqa: BLE001 - a scheduled batch reports every failure and goes on
                failed.append((name, f"{type(exc).__name__}: {exc}"))
            bar.advance(task)
    write_index(out_root)
    return BatchResult(done, failed)


def write_index(out_root: str | Path | None = None) -> Path:
    """``reports/index.html``: every report produced, newest first, with its parameters."""
    from riskmodel.data.store import atomic_write_bytes

    root = Path(out_root or config.REPORTS_DIR)
    rows = []
    for pj in sorted(root.rglob("parameters.json")):
        try:
            meta = json.loads(pj.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        htmls = sorted(pj.parent.glob("*.html"))
        if not htmls:
            continue
        rel = htmls[0].relative_to(root).as_posix()
        params = meta.get("parameters", meta)
        rows.append((pj.stat().st_mtime, pj.parent.relative_to(root).parts[0], rel,
                     ", ".join(f"{k}={v}" for k, v in params.items() if k != "run_dir"), meta.get("code_version", "")))
    rows.sort(reverse=True)
    body = "\n".join(f"<tr><td>{html.escape(kind)}</td><td><a href='{html.escape(rel)}'>{html.escape(rel)}</a></td>"
                     f"<td>{html.escape(p)}</td><td>{time.strftime('%Y-%m-%d %H:%M', time.localtime(ts))}</td><td>{html.escape(cv)}</td></tr>"
                     for ts, kind, rel, p, cv in rows)
    page = f"""<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>riskmodel 报告索引 / reports</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:14px}}th{{background:#f3f3f3}}</style></head><body>
<h1>报告索引 / Reports</h1><p>{len(rows)} 份报告 / reports. 数据分析辅助判断，不替代人工判断。</p>
<table><tr><th>类型 kind</th><th>报告 report</th><th>参数 parameters</th><th>生成时间 produced</th><th>代码版本 code</th></tr>
{body}</table></body></html>"""
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(root / "index.html", page.encode("utf-8"))
    return root / "index.html"
