"""An old run folder stores its ``data_source`` relative to the folder it was made from: every command that reads a
run's dataset finds it from the current folder or from the folders above the run, and says to give ``--data``
when it is nowhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from riskmodel.cli import main
from riskmodel.errors import RiskModelError
from riskmodel.scoring.datasource import resolve_data_source


@pytest.fixture()
def old_run(small_run, small_company, tmp_path, monkeypatch):
    """A copy of the small run made in ``proj/`` as ``--data data/raw/company --out data/processed/run``, read from
    another folder."""
    proj = tmp_path / "proj"
    run = proj / "data" / "processed" / "run"
    shutil.copytree(small_run, run)
    (proj / "data" / "raw").mkdir(parents=True)
    (proj / "data" / "raw" / "company").symlink_to(small_company, target_is_directory=True)
    card = json.loads((run / "model_card.json").read_text(encoding="utf-8"))
    card["data_source"] = "data/raw/company"
    (run / "model_card.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return run


def test_a_relative_source_is_tried_from_the_current_folder_then_above_the_run(tmp_path, monkeypatch):
    (tmp_path / "proj" / "data" / "raw" / "company").mkdir(parents=True)
    (tmp_path / "here" / "data" / "raw" / "company").mkdir(parents=True)
    run = tmp_path / "proj" / "data" / "processed" / "run"
    card = {"data_source": "data/raw/company"}
    monkeypatch.chdir(tmp_path / "here")
    assert resolve_data_source(card, run) == (tmp_path / "here" / "data" / "raw" / "company").resolve(), "the current folder first"
    monkeypatch.chdir(tmp_path)
    assert resolve_data_source(card, run) == (tmp_path / "proj" / "data" / "raw" / "company").resolve()
    assert resolve_data_source(card, Path("proj/data/processed/run")) == (tmp_path / "proj" / "data" / "raw" / "company").resolve(), \
        "a relative run folder too"
    absolute = {"data_source": str(tmp_path / "here" / "data" / "raw" / "company")}
    assert resolve_data_source(absolute, run) == Path(absolute["data_source"]).resolve()


def test_a_source_found_nowhere_is_a_message_naming_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    for card in ({"data_source": "data/raw/gone"}, {"data_source": str(tmp_path / "gone")}):
        with pytest.raises(RiskModelError, match=r"data_source '.*gone'.*--data DIR.*model_card.json"):
            resolve_data_source(card, run)
    with pytest.raises(RiskModelError, match="names no data_source.*--data DIR"):
        resolve_data_source({}, run)
    with pytest.raises(RiskModelError, match=r"evaluation.json: data_source"):
        resolve_data_source({"data_source": "gone"}, run, "evaluation.json")
    (tmp_path / "a_file").write_text("not a dataset")
    with pytest.raises(RiskModelError, match="is not at"):
        resolve_data_source({"data_source": "a_file"}, run)


def test_reports_read_an_old_runs_dataset_from_another_folder(old_run, small_company):
    from riskmodel.reports import supervision as S
    from riskmodel.reports.rundata import RunData

    run = RunData(old_run)
    assert run.data_dir == small_company.resolve()
    assert len(run.employees) > 0
    dq = S.data_quality(run, "en").set_index("item").result
    assert dq["data contract check"] == "passed"


def test_the_deidentified_reports_check_reads_an_old_runs_dataset(old_run, small_company, tmp_path, monkeypatch):
    """The check that refuses a report naming anyone scans the run's dataset (here: a name from it)."""
    import pandas as pd

    from riskmodel.reports import commands, runner

    name = pd.read_parquet(small_company / "employees.parquet").name.iloc[0]
    checked = []

    def fake_notebook(notebook, params, out_dir, check=None):
        out = Path(out_dir)
        out.mkdir(parents=True)
        check("<p>一份干净的报告</p>")
        checked.append("clean")
        with pytest.raises(RiskModelError, match="would disclose"):
            check(f"<p>{name}</p>")
        (out / "r.html").write_text("<p>一份干净的报告</p>", encoding="utf-8")
        return {"html": out / "r.html"}

    monkeypatch.setattr(runner, "run_notebook", fake_notebook)
    commands._execute("supervision", {"run_dir": str(old_run), "period": "2025Q4", "lang": "zh", "audience": "leadership"},
                      tmp_path / "out")
    assert checked == ["clean"]


def test_the_evaluation_reports_curves_read_the_evaluated_dataset(old_run, small_company, monkeypatch):
    from riskmodel.reports import evaluation as E
    from riskmodel.reports.rundata import RunData
    from riskmodel.scoring import evaluate

    class Read(Exception):
        pass

    seen = []

    def fake_curves(run_dir, dataset_dir):
        seen.append(Path(dataset_dir))
        raise Read

    monkeypatch.setattr(evaluate, "curves", fake_curves)
    monkeypatch.setattr(E, "setup_fonts", lambda: None)
    with pytest.raises(Read):
        E.curves_figure(RunData(old_run))
    (old_run / "evaluation.json").write_text(json.dumps({"data_source": "data/raw/company"}), encoding="utf-8")
    with pytest.raises(Read):
        E.curves_figure(RunData(old_run))
    assert seen == [small_company.resolve()] * 2


def test_exports_read_an_old_runs_dataset_and_say_what_to_do_when_it_is_gone(old_run, tmp_path):
    out = tmp_path / "alerts.csv"
    r = CliRunner().invoke(main, ["export", "alerts", "--role", "supervisor", "--run", str(old_run), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.is_file()
    (old_run.parents[1] / "raw" / "company").unlink()
    r = CliRunner().invoke(main, ["export", "alerts", "--role", "supervisor", "--run", str(old_run), "--out", str(out)])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.output
    assert "data_source 'data/raw/company'" in r.output and "--data DIR" in r.output
