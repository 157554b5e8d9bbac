"""The evaluation command's text output: precision, ratios, scheme recall and the Brier scores it computes."""

from __future__ import annotations

import json
import re
import shutil

from click.testing import CliRunner

from riskmodel.cli import main
from riskmodel.scoring.evaluate import calibration_lines


def test_evaluate_prints_the_brier_scores_it_computes(small_run, small_company, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    res = CliRunner().invoke(main, ["evaluate", "--run", str(run), "--data", str(small_company)])
    assert res.exit_code == 0, res.output
    cal = json.loads((run / "evaluation.json").read_text(encoding="utf-8"))["calibration"]
    raw = re.search(r"raw \(sigmoid of the margin\)\s+([\d.]+) \[([\d.]+), ([\d.]+)\]", res.output)
    assert raw, res.output
    assert [float(x) for x in raw.groups()] == [round(cal["brier_raw"], 4), *(round(v, 4) for v in cal["brier_raw_ci95"])]
    # a run whose card says no calibrator was fitted (the default) says so next to the figures
    fitted = json.loads((run / "model_card.json").read_text(encoding="utf-8"))["calibration"]["fitted"]
    assert cal["calibrated"] is fitted
    assert ("no calibrator fitted" in res.output) is (not fitted)
    calibrated = re.search(r"calibrated\s+([\d.]+) \[([\d.]+), ([\d.]+)\]", res.output)
    if "brier_calibrated" in cal:
        assert calibrated and float(calibrated.group(1)) == round(cal["brier_calibrated"], 4)
    else:
        assert "none (the run has no calibrated probability)" in res.output
    assert f"{cal['brier_constant_base_rate']:.4f}" in res.output
    assert "vs baselines" in res.output and "scheme recall with event alerts" in res.output
    # the queue splits into: in a scheme active that quarter, after a scheme ended (within a year), uninvolved
    for name, m in json.loads((run / "evaluation.json").read_text(encoding="utf-8"))["models"].items():
        parts = (m["precision_at_capacity"], m["queued_after_scheme"], m["queued_uninvolved"])
        assert all(0 <= v <= 1 for v in parts) and abs(sum(parts) - 1) < 1e-9, (name, parts)
        assert re.search(rf"{name}\s.*after a scheme {m['queued_after_scheme']:.2f}  uninvolved {m['queued_uninvolved']:.2f}", res.output)


def test_calibration_lines_without_a_calibrated_probability():
    lines = calibration_lines("rules", {"base_rate": 0.02, "brier_constant_base_rate": 0.0196, "brier_raw": 0.25,
                                        "brier_raw_ci95": (0.24, 0.26)})
    assert lines[1].split() == ["raw", "(sigmoid", "of", "the", "margin)", "0.2500", "[0.2400,", "0.2600]"]
    assert "none" in lines[2] and lines[3].endswith("0.0196")
