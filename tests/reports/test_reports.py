"""Reports: every notebook runs on small data through papermill; bad parameters fail first; output is atomic,
self-contained HTML with code hidden and Chinese rendered."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskmodel import config
from riskmodel.errors import RiskModelError
from riskmodel.reports import commands
from riskmodel.reports.runner import ReportError, run_notebook


@pytest.fixture(scope="module")
def run_dir(small_run):
    return small_run


def _html_ok(path, figures="image/png"):
    html = path.read_text(encoding="utf-8")
    body = html.split("<body", 1)[-1]
    assert f'src="data:{figures};base64,' in body, "figures are embedded"  # (the page's CSS holds icons too)
    assert "RunData(" not in body and "import " not in body, "code is hidden"
    assert "Traceback" not in body
    assert "...</td>" not in body, "table text is shown whole, not cut at pandas' 50 characters"
    assert "<td>NaN</td>" not in body and "<td>None</td>" not in body, "an empty cell reads as a dash, not NaN or None"
    return html


def test_supervision_report(run_dir, tmp_path):
    out = commands.supervision("2025Q3", "zh", "leadership", run_dir, tmp_path)
    html = _html_ok(out["html"])
    assert "监督报告" in html and "风险热力图" in html
    # the review queue is 2025Q3's, with a quarter column, and every header and section title is Chinese
    a = pd.read_parquet(run_dir / "alerts.parquet")
    q = pd.to_datetime(a.period).dt.to_period("Q").astype(str)
    assert html.count("<td>2025Q3</td>") == min(30, int((q == "2025Q3").sum())) > 0
    assert "<td>2025Q1</td>" not in html and "<td>2025Q2</td>" not in html
    for header in ("预警编号", "季度", "对象类型", "单位", "岗位", "主要原因", "立案年份", "完成率", "待核查预警"):
        assert f">{header}<" in html or f"· {header}<" in html, header
    for raw in ("entity_type", "entity_ref", "unit_zh", "post_zh", "reasons_zh", "year_label", "n_items", "done_on_time",
                "Review queue", "Headline numbers", ">year<", ">employee<"):
        assert raw not in html, raw
    meta = json.loads(out["parameters"].read_text(encoding="utf-8"))
    assert meta["parameters"]["period"] == "2025Q3" and meta["data_fingerprint"] and meta["code_version"]
    idx = commands.write_index(tmp_path).read_text(encoding="utf-8")
    assert "supervision/2025Q3" in idx


def test_portrait_and_evaluation_reports(run_dir, tmp_path, small_company):
    import shutil

    from riskmodel.scoring.evaluate import evaluate_run

    a = pd.read_parquet(run_dir / "alerts.parquet")
    emp = a[a.entity_type == "employee"].entity_id.iloc[0]
    out = commands.portrait("employee", emp, None, "en", "supervisor", run_dir, tmp_path)
    assert "Risk portrait" in _html_ok(out["html"], figures="image/svg+xml")
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    (run / "evaluation.json").write_text(json.dumps(evaluate_run(run, small_company), default=str))
    out = commands.evaluation("zh", run, tmp_path)
    assert "模型评估报告" in _html_ok(out["html"])


def test_exploration_notebook_runs(run_dir, small_company, tmp_path):
    nb = config.NOTEBOOKS_DIR / "exploratory" / "explore_demo.ipynb"
    out = run_notebook(nb, {"data_dir": str(small_company), "run_dir": str(run_dir)}, tmp_path / "explore")
    assert out["html"].is_file()


def test_bad_parameters_fail_before_execution(run_dir, tmp_path):
    with pytest.raises(RiskModelError, match="unknown employee"):
        commands.portrait("employee", "E99999", None, "zh", "supervisor", run_dir, tmp_path)
    with pytest.raises(RiskModelError, match="no data in period"):
        commands.supervision("2019-01", "zh", "leadership", run_dir, tmp_path)
    with pytest.raises(RiskModelError, match="neither a month"):
        commands.supervision("last month", "zh", "leadership", run_dir, tmp_path)
    with pytest.raises(RiskModelError, match="de-identified"):
        commands.portrait("employee", "E00001", None, "zh", "education_officer", run_dir, tmp_path)
    assert not any(tmp_path.iterdir()), "nothing was written"


def test_a_failing_report_leaves_the_earlier_one_intact(run_dir, tmp_path):
    dest = tmp_path / "supervision"
    dest.mkdir()
    (dest / "supervision.html").write_text("earlier report")
    nb = config.NOTEBOOKS_DIR / "reports" / "supervision.ipynb"
    with pytest.raises(ReportError, match="failed in cell"):
        run_notebook(nb, {"run_dir": str(run_dir), "period": "1999Q1", "lang": "zh"}, dest)
    assert (dest / "supervision.html").read_text() == "earlier report"
    assert [p.name for p in tmp_path.iterdir()] == ["supervision"]


def test_a_cjk_font_is_resolved_and_has_the_glyphs():
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from riskmodel.plotting import use_cjk_font

    fam = use_cjk_font()
    assert fam, "no CJK font installed: make setup installs fonts-noto-cjk"
    path = font_manager.findfont(font_manager.FontProperties(family=fam), fallback_to_default=False)
    font = FT2Font(path)
    assert all(font.get_char_index(ord(ch)) for ch in "监督报告风险画像"), "the font draws Chinese, not empty boxes"
