"""Reason codes: the model's top contributions plus the red flags behind them, with their evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import RiskModelError
from riskmodel.scoring.explain import feature_text, reason_codes
from riskmodel.scoring.models import RulesScorer

Q = pd.Timestamp("2025-04-01")  # the alert's quarter, 2025Q2
KEYS = pd.DataFrame({"entity_id": ["E1"], "period": [Q]})


def _flags(rows) -> pd.DataFrame:
    """Fired flags of E1 from ``(indicator, entity_type, entity_id, date, severity, evidence, value)``."""
    return pd.DataFrame({"indicator_id": [r[0] for r in rows], "entity_type": [r[1] for r in rows],
                         "entity_id": [r[2] for r in rows], "period": pd.to_datetime([r[3] for r in rows]),
                         "value": [float(r[6]) if len(r) > 6 else 1.0 for r in rows], "fired": True,
                         "severity": [r[4] for r in rows], "evidence": [r[5] for r in rows], "employee_id": "E1",
                         "text_zh": [f"{r[0]}例{r[2]}" for r in rows], "text_en": [f"{r[0]} example {r[2]}" for r in rows]})


#: E1's flags around 2025Q2: two this quarter, one after it, some in the trailing quarters
FLAGS = _flags([
    ("RMB-004", "claim", "CL1", "2025-05-03", 2, ["CL1"]),
    ("RMB-004", "claim", "CL2", "2025-06-01", 2, ["CL2"]),
    ("PRC-002", "purchase_order", "PO9", "2025-07-02", 3, ["PO9"]),      # 2025Q3: after the alert's quarter
    ("LEAF-002", "grower", "G1", "2024-10-20", 3, ["LP1", "LP2"]),      # 2024Q4: in the last four quarters
    ("HR-001", "employee", "E1", "2025-01-01", 1, []),                  # 2025Q1: in the last four quarters
    ("PRC-001", "purchase_order", "PO1", "2024-01-15", 2, ["PO1"]),    # 2024Q1: five quarters back
    ("REL-002", "supplier", "S1", "2023-06-01", 3, ["S1", "PO0"]),     # a link flagged two years before
    ("REL-002", "supplier", "S2", "2025-08-01", 3, ["S2"]),            # … and one after the quarter
])


def _explain(features: dict[str, tuple[float, float]], flags=FLAGS, **kw):
    """Reason codes of one alert whose features are ``{name: (value, contribution)}``."""
    X = pd.DataFrame({f: [v] for f, (v, _) in features.items()})
    contrib = pd.DataFrame({f: [c] for f, (_, c) in features.items()}).assign(bias=-2.0)
    reasons, evidence = reason_codes(contrib, X, KEYS, flags, **kw)
    return reasons[0], evidence[0]


def _merged(reasons):
    return [r for r in reasons if r["contribution"] is None]


def test_an_aggregate_feature_brings_in_the_flags_of_the_quarter_and_none_after_it():
    reasons, evidence = _explain({"severity_sum": (4, 1.5), "tenure_years": (3, -0.2)})
    assert [r["feature"] for r in reasons] == ["severity_sum", "RMB-004"]
    assert reasons[0]["contribution"] == 1.5, "the model's contribution is kept as it was"
    r = reasons[1]
    assert r["indicator_id"] == "RMB-004" and r["value"] == 2 and r["contribution"] is None
    assert "fired twice this quarter: RMB-004 example CL" in r["text_en"] and "本季度触发2次" in r["text_zh"]
    assert evidence == ["CL1", "CL2"], "the flags' evidence; PRC-002 fired after the quarter"


def test_a_windowed_feature_brings_in_its_window_this_quarter_first_then_by_severity():
    reasons, evidence = _explain({"severity_sum_4q": (10, 2.0)})
    merged = _merged(reasons)
    assert [r["indicator_id"] for r in merged] == ["RMB-004", "LEAF-002", "HR-001"], "PRC-001 is five quarters back"
    leaf = merged[1]
    assert leaf["value"] == 1
    assert "in the last four quarters (none this quarter)" in leaf["text_en"] and "近四个季度" in leaf["text_zh"]
    assert set(evidence) == {"CL1", "CL2", "G1", "LP1", "LP2"}, "a flagged grower's id is evidence, the person's own is not"
    assert evidence[:2] == ["CL1", "CL2"], "the listed reasons' evidence first"


def test_an_indicator_named_by_a_model_feature_is_not_repeated():
    reasons, evidence = _explain({"LEAF-002_4q": (1, 0.9), "severity_sum_4q": (10, 0.5)})
    assert [r["indicator_id"] for r in reasons].count("LEAF-002") == 1
    assert reasons[0]["contribution"] == 0.9 and "LEAF-002 example G1" in reasons[0]["text_en"]
    assert {"LP1", "LP2", "CL1"} <= set(evidence)


def test_recency_and_relationship_features_bring_in_the_flags_they_summarise():
    reasons, evidence = _explain({"since_PRC": (5, 0.7)})
    assert [r["indicator_id"] for r in _merged(reasons)] == ["RMB-004", "PRC-001"], "the PRC flag five quarters back"
    assert "PO1" in evidence
    reasons, evidence = _explain({"graph_link_strength_max": (0.8, 0.6)})
    rel = [r for r in reasons if r["indicator_id"] == "REL-002"]
    assert len(rel) == 1 and rel[0]["value"] == 1, "the link flagged before the quarter, not the one after"
    assert {"S1", "PO0"} <= set(evidence) and "S2" not in evidence
    assert "graph_" not in reasons[0]["text_zh"] + reasons[0]["text_en"]


def test_the_list_is_capped_and_names_the_rest():
    ids = ["PRC-003", "PRC-010", "RMB-001", "RMB-003", "PRC-008", "PRC-009", "PRC-011"]
    sev = [3, 3, 3, 3, 2, 2, 1]
    flags = _flags([(i, "claim", f"C{k}", "2025-05-01", s, [f"C{k}"]) for k, (i, s) in enumerate(zip(ids, sev))])
    reasons, evidence = _explain({"n_flags": (7, 1.0)}, flags, max_flags=3)
    merged = _merged(reasons)
    assert [r["feature"] for r in merged] == ["PRC-003", "PRC-010", "RMB-001", "other_flags"]
    rest = merged[-1]
    assert rest["value"] == 4 and rest["indicator_id"] is None
    assert all(i in rest["text_en"] and i in rest["text_zh"] for i in ids[3:]) and "4 more red flags" in rest["text_en"]
    assert set(evidence) == {f"C{k}" for k in range(7)}
    # one left over is listed, not summarised
    reasons, _ = _explain({"n_flags": (4, 1.0)}, flags[:4], max_flags=3)
    assert [r["feature"] for r in _merged(reasons)] == ["PRC-003", "PRC-010", "RMB-001", "RMB-003"]


def test_the_example_is_the_strongest_flag_also_where_low_values_are_suspicious():
    # PRC-006: a supplier registered shortly before its first award (fewer days is worse)
    flags = _flags([("PRC-006", "supplier", "S9", "2025-05-01", 2, ["S9"], 200),
                    ("PRC-006", "supplier", "S8", "2025-05-02", 2, ["S8"], 10)])
    reasons, evidence = _explain({"severity_sum": (4, 1.0)}, flags)
    assert reasons[1]["text_en"].endswith("PRC-006 example S8")
    assert evidence == ["S8", "S9"]


def test_rules_alerts_are_broken_down_by_the_indicators_that_fired():
    severity = FLAGS.assign(q=FLAGS.period.dt.to_period("Q").dt.start_time).query("q == @Q").severity.sum()
    X = pd.DataFrame({"severity_sum": [float(severity)], "severity_sum_4q": [10.0], "n_flags": [2.0]})
    model = RulesScorer().fit(X)
    reasons, evidence = reason_codes(model.contributions(X), X, KEYS, FLAGS)
    assert reasons[0][0]["feature"] == "severity_sum" and reasons[0][0]["contribution"] == severity
    named = {r["indicator_id"] for r in reasons[0]}
    assert {"RMB-004"} <= named and "PRC-002" not in named
    assert {"CL1", "CL2"} <= set(evidence[0])


def test_texts_read_naturally():
    from riskmodel.graph.features import FEATURE_COLUMNS
    from riskmodel.scoring.explain import feature_name

    assert feature_text("PRC-002", 1)[1].endswith("(PRC-002) fired once this quarter")
    assert "fired twice in the last four quarters" in feature_text("PRC-002_4q", 2)[1]
    assert "fired 3 times" in feature_text("PRC-002", 3)[1] and "触发3次" in feature_text("PRC-002", 3)[0]
    assert feature_text("since_RMB", 8)[1] == "no reimbursement red flag in the last eight quarters"
    for col in {c for cols in FEATURE_COLUMNS.values() for c in cols}:
        zh, en = feature_text(f"graph_{col}", 0.5)
        assert "_" not in zh + en and "graph" not in zh + en and zh.isascii() is False, col  # no raw feature id
        assert feature_name(f"graph_{col}")[1] in en
    assert feature_text("graph_deal_amount", 125000)[0] == "本季度经手的业务金额为125,000元"
    assert feature_text("graph_top_supplier_share", 0.64)[1].endswith(": 64%")
    assert feature_name("PRC-002_8q") == ("化整为零规避招标（PRC-002，近八个季度）", "Split purchase under the tender limit (PRC-002, in the last eight quarters)")
    assert feature_name("n_flags_8q") == ("触发红旗项次（近八个季度）", "red flags fired (in the last eight quarters)")
    assert feature_name("since_LEAF")[1] == "quarters since the last leaf-purchasing red flag"


def test_a_person_with_no_flags_gets_the_model_reasons_and_no_evidence():
    reasons, evidence = _explain({"tenure_years": (9, 0.4), "sensitivity": (3, 0.1)}, FLAGS.assign(employee_id="E2"))
    assert [r["feature"] for r in reasons] == ["tenure_years", "sensitivity"] and evidence == []


def test_bad_input_is_a_clear_error():
    with pytest.raises(RiskModelError, match="no column evidence.*rerun 'riskmodel run'"):
        _explain({"severity_sum": (4, 1.0)}, FLAGS.drop(columns="evidence"))
    X = pd.DataFrame({"severity_sum": [1.0, 2.0]})
    with pytest.raises(RiskModelError, match="one row per alert"):
        reason_codes(pd.DataFrame({"severity_sum": [1.0]}), X, KEYS, FLAGS)


def test_every_queued_person_is_told_every_flag_of_the_quarter(small_run):
    """On a real run: each employee alert names each indicator that fired for the person in its quarter (in a
    reason of its own or in the closing line), with evidence from those flags only."""
    a = pd.read_parquet(small_run / "alerts.parquet")
    a = a[a.entity_type == "employee"]
    f = pd.read_parquet(small_run / "flags.parquet", filters=[("fired", "==", True)])
    f = f[f.employee_id.isin(a.entity_id)]
    f["q"] = f.period.dt.to_period("Q").dt.start_time
    checked = 0
    for r in a.itertuples():
        mine = f[(f.employee_id == r.entity_id) & (f.q <= r.period)]
        fired_now = set(mine.indicator_id[mine.q == r.period])
        listed = {x["indicator_id"] for x in r.reasons if x["indicator_id"]}
        rest = " ".join(x["text_en"] for x in r.reasons if x["feature"] == "other_flags")
        assert all(i in listed or i in rest for i in fired_now), (r.entity_id, fired_now, listed)
        known = {str(e) for ev in mine.evidence for e in (ev if ev is not None else [])} | set(mine.entity_id)
        assert set(r.evidence) <= known, "evidence comes from the person's flags up to the quarter"
        assert bool(len(r.evidence)) or not len(fired_now) or mine[mine.q == r.period].evidence.map(len).sum() == 0
        for x in r.reasons:
            assert x["contribution"] is None or (np.isfinite(x["contribution"]) and x["contribution"] > 0)
        checked += bool(fired_now)
    assert checked > 0, "the small run queues people with flags"
