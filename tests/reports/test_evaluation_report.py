"""The model evaluation report's contents: calibration of raw against calibrated probabilities, the model card rows."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from riskmodel.reports import evaluation as EV
from riskmodel.reports.rundata import RunData
from riskmodel.scoring.evaluate import curves, evaluate_run, reliability


@pytest.fixture(scope="module")
def evaluated(small_run, small_company, tmp_path_factory):
    run = tmp_path_factory.mktemp("evaluated") / "run"
    shutil.copytree(small_run, run)
    (run / "evaluation.json").write_text(json.dumps(evaluate_run(run, small_company), default=str))
    return run


def test_evaluation_compares_raw_and_calibrated_brier_scores(evaluated):
    ev = json.loads((evaluated / "evaluation.json").read_text())
    cal = ev["calibration"]
    card = json.loads((evaluated / "model_card.json").read_text())
    for key in ("base_rate", "brier_raw", "brier_constant_base_rate", "brier_calibrated"):
        assert 0 <= cal[key] <= 1, key
    lo, hi = cal["brier_raw_ci95"]
    assert lo <= cal["brier_raw"] <= hi
    sc = pd.read_parquet(evaluated / "scores.parquet")
    if not card["calibration"]["fitted"]:
        # without a calibrator the probability is the scorer's own: the two Brier scores coincide
        test = sc[sc.split == "test"]
        assert np.allclose(test.probability, 1 / (1 + np.exp(-test.score_xgboost)))
        assert cal["brier_calibrated"] == pytest.approx(cal["brier_raw"])


def test_report_tables_and_figure(evaluated):
    run = RunData(evaluated)
    table = EV.calibration_table(run, "en")
    assert "raw (sigmoid of the margin)" in table.index and "constant (the test base rate)" in table.index
    if run.evaluation["calibration"]["calibrated"]:
        assert "calibrated" in table.index
    else:  # scoring.calibration: none (the default): the row says so instead of repeating the raw figures
        assert "calibrated" not in table.index
        assert "no calibrator was fitted" in table.loc["calibrated: no calibrator fitted", "note"]
    assert (pd.to_numeric(table.Brier, errors="coerce").dropna().between(0, 1)).all()
    rows = dict(EV.data_and_labels(run, "en").values)
    assert "probability calibration" in rows and "label window" in rows
    assert rows["label window"].startswith("a case marks its subject's quarters from 24 months")
    # the Chinese report says them in Chinese (the card's English prose is for the card)
    zh = dict(EV.data_and_labels(run, "zh").values)
    assert zh["标签期间"].startswith("案件标记其当事人自立案前24个月") and "可靠负例" in zh["标签期间"]
    assert zh["正例—未标注处理"] == f"Elkan & Noto（2008）加权；标注比例 c = {run.card['labels']['label_frequency']:.3f}"
    if not run.card["calibration"].get("fitted"):
        assert zh["概率校准"].startswith("未校准: 已关闭概率校准") and "calibration switched off" not in zh["概率校准"]
    fig, cv = EV.curves_figure(run, "zh")
    assert set(cv["calibration"].kind) == {"raw", "calibrated"}
    assert fig.axes[1].get_legend() is not None
    assert "TreeSHAP" in EV.limitations("en") and EV.limitations("zh").count("\n- ") == len(EV.LIMITATIONS["zh"]) - 1
    # the queue composition: one stacked bar per model, its three parts the evaluation's shares
    comp = EV.queue_composition(run, "en")
    ax = comp.axes[0]
    models = {**run.evaluation["models"], "ceiling": run.evaluation["supervised_ceiling"]}  # the ceiling beneath
    widths = {}
    for bar_container, (key, *_rest) in zip(ax.containers, EV.QUEUE_PARTS):
        assert len(bar_container.patches) == len(models)
        for patch, name in zip(bar_container.patches, list(models)[::-1]):
            widths[(name, key)] = patch.get_width()
    assert widths == {(n, k): pytest.approx(models[n][k]) for n in models for k, *_ in EV.QUEUE_PARTS}
    assert ax.get_yticklabels()[0].get_text() == "ceiling (fitted on the truth)"
    # the metrics table: the ceiling's row, the model's precision as a share of it
    table = EV.metrics(run, "en")
    c, best = run.evaluation["supervised_ceiling"], run.evaluation["model"]
    row = table.loc[EV.CEILING_NAME[1]]
    assert row["precision@capacity"] == round(c["precision_at_capacity"], 3)
    assert row[f"{best}'s precision ÷ this [95% CI]"].startswith(f"{1 / c['precision_ratio_vs_models'][best]:.2f} [")
    assert [x.get_text() for x in ax.get_legend().get_texts()] == ["in a scheme that quarter", "after their scheme (≤ 1 year)", "no scheme in the past year"]
    zh = EV.queue_composition(run, "zh").axes[0]
    assert "规则" in [x.get_text() for x in zh.get_yticklabels()] and "1%" in zh.get_title()
    # not evaluated, or evaluated before the split existed: no figure
    assert EV.queue_composition(SimpleNamespace(evaluation=None)) is None
    assert EV.queue_composition(SimpleNamespace(evaluation={"models": {"rules": {"precision_at_capacity": 0.7}}})) is None


def test_curves_bins_follow_the_rare_positives(evaluated, small_company):
    cv = curves(evaluated, small_company)
    cal = cv["calibration"]
    for _, g in cal.groupby("kind"):
        assert g.n.sum() == len(pd.read_parquet(evaluated / "scores.parquet").query("split == 'test'"))
        assert (np.diff(g.predicted.to_numpy()) >= -1e-12).all(), "bins go up the predicted probability"


def test_reliability_bins_by_quantile_of_the_prediction():
    p = np.linspace(0, 1, 1000)
    r = reliability(p, (p > 0.95).astype(int))
    assert r.n.sum() == 1000 and len(r) == 8
    assert r.observed.iloc[-1] == 1 and r.observed.iloc[0] == 0


def test_calibration_row_follows_whether_a_calibrator_was_fitted():
    from types import SimpleNamespace

    cal = {"brier_raw": 0.0063, "brier_raw_ci95": (0.005, 0.0076), "mean_predicted_raw": 0.01,
           "brier_calibrated": 0.0068, "brier_calibrated_ci95": (0.0058, 0.0081), "mean_predicted_calibrated": 0.012,
           "brier_constant_base_rate": 0.0155, "base_rate": 0.0157}
    fitted = EV.calibration_table(SimpleNamespace(evaluation={"calibration": {**cal, "calibrated": True}}), "en")
    assert fitted.loc["calibrated", "Brier"] == 0.0068
    none = EV.calibration_table(SimpleNamespace(evaluation={"calibration": {**cal, "calibrated": False}}), "zh")
    assert "校准后：未拟合校准器" in none.index and "校准后" not in none.index
    assert none.loc["校准后：未拟合校准器", "Brier"] == "—"  # no number where no calibrator was fitted


def test_stability_figure_stacks_hits_and_misses_per_quarter_and_department(evaluated, small_company):
    cv = curves(evaluated, small_company)
    st = cv["stability"]
    fig = EV.stability_figure(cv, "zh")
    ax_q, ax_d = fig.axes
    quarters, depts = st[st.by == "quarter"], st[st.by == "department"]
    # each bar's two parts add up to the employee-quarters queued there, the lower part the hits
    q_hits, q_miss = ax_q.containers[0].patches, ax_q.containers[1].patches
    assert [p.get_height() for p in q_hits] == pytest.approx((quarters.precision * quarters.queued).round().tolist())
    assert [a.get_height() + b.get_height() for a, b in zip(q_hits, q_miss)] == pytest.approx(quarters.queued.tolist())
    assert [b.get_y() for b in q_miss] == [a.get_height() for a in q_hits], "the misses stand on the hits"
    assert [a.get_width() for a in q_hits] == [a.get_width() for a in q_miss]
    d_hits, d_miss = (c.patches for c in ax_d.containers)
    assert [b.get_x() for b in d_miss] == [a.get_width() for a in d_hits]
    assert sorted(a.get_width() + b.get_width() for a, b in zip(d_hits, d_miss)) == pytest.approx(sorted(depts.queued.tolist()))
    assert [x.get_text() for x in ax_q.get_xticklabels()][0].endswith("Q1") or len(quarters) < 1
    assert "各季度" in ax_q.get_title() and "当季存在违规行为" in [x.get_text() for x in ax_q.get_legend().get_texts()]


def test_local_examples_are_de_identified_for_model_reviewers(evaluated):
    """The report goes to model reviewers, a de-identified role: the examples carry pseudonyms and scrubbed reasons;
    a supervisor's copy names the people. The contributions are the same."""
    from riskmodel.linkage.deid import find_leaks
    from riskmodel.linkage.roles import POLICIES
    from riskmodel.reports.commands import DEIDENTIFIED_AUDIENCES

    assert set(DEIDENTIFIED_AUDIENCES) == {r for r, p in POLICIES.items() if not p.identified}
    run = RunData(evaluated)
    named = EV.local_examples(run, 3, "zh", "supervisor")
    deid = EV.local_examples(run, 3, "zh", "model_reviewer")
    assert named.shape == deid.shape and named.SHAP.tolist() == deid.SHAP.tolist()
    people = set(run.alerts.entity_id)
    assert set(named["人员"]) <= people
    assert not set(deid["人员"]) & people and all(p.startswith("EMP-") for p in deid["人员"])
    assert not set(deid["alert"]) & set(run.alerts.alert_id)
    leaks = find_leaks({"examples": deid.to_csv(index=False)}, run.data_dir)
    assert len(leaks) == 0, leaks
    # no evidence: its exact dates and amounts find the person in the ERP as a name would
    import re

    assert not deid["原因"].str.contains(r"\d{4}-\d{2}-\d{2}|元").any()
    people_alerts = run.alerts[run.alerts.entity_type == "employee"].sort_values("score", ascending=False).head(3)
    flags = [x["indicator_id"] for a in people_alerts.reasons for x in a if x.get("indicator_id")]
    flag_rows = deid["原因"][deid.SHAP == "—"]
    assert all(re.search(rf"（{i}）$", r) for i, r in zip(flags, flag_rows[~flag_rows.str.startswith("另有")]))
    assert not deid["原因"].isin(["other_flags"]).any(), "every reason has a name"
    assert len(find_leaks({"examples": named.to_csv(index=False)}, run.data_dir)) > 0, "the identified copy names people"


def test_shap_summary_is_the_models_contributions_in_the_reports_language(evaluated):
    from riskmodel.scoring.explain import feature_name

    run = RunData(evaluated)
    fig = EV.shap_summary(run, "zh", sample=200, max_display=5)
    ax, cbar = fig.axes
    labels = [x.get_text() for x in ax.get_yticklabels()]
    # the five largest mean |SHAP| features by name, top row first, then the rest summed
    contrib, X = EV._test_contributions(run, 200)
    top = contrib[X.columns].abs().mean().sort_values(ascending=False).index[:4]
    assert labels[::-1][:4] == [feature_name(f)[0] for f in top]
    assert labels[0] == f"其余{len(X.columns) - 4}个特征之和"
    dots = sum(len(c.get_offsets()) for c in ax.collections)
    assert dots == 5 * len(X), "one dot per sampled row and displayed row"
    assert ax.get_xlabel().startswith("SHAP 值") and [x.get_text() for x in cbar.get_yticklabels()] == ["低", "高"]


def test_stability_figure_shows_kinds_of_unit_to_de_identified_audiences(evaluated, small_company):
    """Model reviewers see kinds of unit, each with at least k queued or summed as "other": a department with one
    queued person would point at that person."""
    from riskmodel.settings import load_settings

    run = RunData(evaluated)
    cv = curves(evaluated, small_company)
    depts = cv["stability"].query("by == 'department'")
    ax_d = EV.stability_figure(cv, "zh", run, "model_reviewer").axes[1]
    labels = [x.get_text() for x in ax_d.get_yticklabels()]
    hits, miss = (c.patches for c in ax_d.containers)
    queued = [a.get_width() + b.get_width() for a, b in zip(hits, miss)]
    assert sum(queued) == pytest.approx(depts.queued.sum()) and sum(a.get_width() for a in hits) == pytest.approx((depts.precision * depts.queued).sum())
    assert not set(labels) & set(depts.group) and ax_d.get_title() == "各类单位预警名单"
    k = load_settings().linkage.k_anonymity
    assert all(q >= k for q, lab in zip(queued, labels) if lab != "其他")


def test_scheme_recall_table_shows_the_recall_goal_with_event_alerts(evaluated):
    run = RunData(evaluated)
    ev = run.evaluation
    for lang in ("zh", "en"):
        tab = EV.scheme_recall(run, lang)
        total = tab.iloc[-1]
        # the all-alerts total is the evaluation's, counts and interval included
        assert f"{ev['scheme_recall_all_alerts']:.3f}" in total.iloc[1]
        assert f"{ev['schemes_caught_all_alerts']}/{ev['schemes_active_all_alerts']}" in total.iloc[1]
        assert f"[{ev['scheme_recall_all_alerts_ci95'][0]:.2f}, {ev['scheme_recall_all_alerts_ci95'][1]:.2f}]" in total.iloc[1]
        assert len(tab) == len(ev["scheme_recall_all_alerts_by_type"]) + 1
        assert not tab.index.str.contains("_").any(), "kinds of scheme by name, not code"
    en = EV.scheme_recall(run, "en")
    assert "bid-rigging ring" in en.index and en.loc["bid-rigging ring", "people alerts"] == "—", "a ring names nobody"
    counts = EV.alerts_by_type(run, "zh")
    assert counts.iloc[:, 0].sum() == sum(ev["alerts_by_type"].values()) and "人员" in counts.index


def test_sections_are_in_the_reports_language_only():
    zh, en = EV.section(2, "zh"), EV.section(2, "en")
    assert zh.startswith("## 2 · 时间外验证") and not any(c.isascii() and c.isalpha() for c in zh.split("XGBoost")[0][6:])
    assert en.startswith("## 2 · Temporal validation") and not any("\u4e00" <= c <= "\u9fff" for c in en)
