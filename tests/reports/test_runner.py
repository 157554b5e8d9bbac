"""The collusion validation notebook runs end to end through run_notebook on a tiny bid file."""

from __future__ import annotations

import json

import nbformat
import pytest

from riskmodel import __version__, config
from riskmodel.collusion.synthetic import synthetic_bids
from riskmodel.errors import RiskModelError
from riskmodel.reports.runner import run_notebook

NOTEBOOK = config.NOTEBOOKS_DIR / "reports" / "collusion_validation.ipynb"


@pytest.fixture()
def tiny(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    synthetic_bids(60, seed=8, dataset="tiny", small_share=0.1).to_csv(data / "tiny.csv", index=False)
    return {"data_dir": str(data), "files": ["tiny.csv"], "n_splits": 3, "n_estimators": 20, "ablation": False}


def test_notebook_is_committed_thin_and_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "data_dir" in params[0].source and "seed" in params[0].source
    assert all(len(c.source.splitlines()) <= 3 for c in code if c is not params[0])  # one call per cell


def test_runs_on_a_tiny_fixture(tiny, tmp_path):
    out = tmp_path / "report"
    paths = run_notebook(NOTEBOOK, tiny, out)
    html = paths["html"].read_text(encoding="utf-8")
    assert "data:image/png;base64" in html                      # ROC curves and box plots embedded
    assert "R.evaluation_table" not in html and "evaluate(bids" not in html  # code hidden
    assert "参照" in html and "tiny" in html                    # the per-country table in the report's language
    meta = json.loads(paths["parameters"].read_text(encoding="utf-8"))
    assert meta["parameters"]["n_splits"] == 3 and meta["code_version"].startswith(__version__)
    executed = nbformat.read(paths["notebook"], as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert not any(o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", []))


def test_a_failed_run_leaves_the_earlier_report(tiny, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "collusion_validation.html").write_text("the earlier report", encoding="utf-8")
    with pytest.raises(RiskModelError, match="missing.csv: no such file"):
        run_notebook(NOTEBOOK, {**tiny, "files": ["missing.csv"]}, out)
    assert (out / "collusion_validation.html").read_text(encoding="utf-8") == "the earlier report"
    assert sorted(p.name for p in out.parent.iterdir()) == ["data", "report"]  # no temporary folder left behind
