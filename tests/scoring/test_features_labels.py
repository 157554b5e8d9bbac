"""Employee-quarter memory and recency features look only backwards; case windows narrow to the flagged span."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import RiskModelError
from riskmodel.scoring.explain import feature_text
from riskmodel.scoring.features import RECENCY_CAP, _recency, monotone_signs, split_window, trailing_sum
from riskmodel.scoring.labels import localise


def _quarters(n, start="2023-01-01"):
    return pd.date_range(start, periods=n, freq="QS")


def test_recency_counts_quarters_since_the_last_flag_of_each_family():
    q = _quarters(6)
    X = pd.DataFrame({"entity_id": ["E1"] * 6 + ["E2"] * 6, "period": list(q) * 2,
                      "PRC-002": [0, 1, 0, 0, 2, 0] + [0] * 6, "RMB-003": [0] * 6 + [0, 0, 0, 0, 0, 1]})
    r = _recency(X, ["PRC-002", "RMB-003"])
    assert r.since_PRC[:6].tolist() == [RECENCY_CAP, 0, 1, 2, 0, 1]
    assert r.since_PRC[6:].tolist() == [RECENCY_CAP] * 6, "E1's flags never reach E2"
    assert r.since_RMB[6:].tolist() == [RECENCY_CAP] * 5 + [0], "a later flag never reaches back"
    assert (r.since_LEAF == RECENCY_CAP).all()


@pytest.mark.parametrize("window", [1, 2, 4, 8])
def test_trailing_sum_equals_a_rolling_sum_per_entity(window):
    rng = np.random.default_rng(window)
    df = pd.DataFrame({"entity_id": np.sort(rng.choice(["a", "b", "c", "d", "e"], 60)), "v": rng.integers(0, 5, 60).astype(float)})
    df.loc[df.entity_id == "e", "v"] = rng.random((df.entity_id == "e").sum())  # not only counts
    expected = df.groupby("entity_id").v.rolling(window, min_periods=1).sum().reset_index(level=0, drop=True).sort_index()
    got = trailing_sum(df.v.to_numpy(), df.groupby("entity_id").cumcount().to_numpy(), window)
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=0, atol=1e-9)


def test_window_names_monotone_signs_and_texts():
    assert split_window("PRC-002_8q") == ("PRC-002", 8) and split_window("since_PRC") == ("since_PRC", None)
    signs = monotone_signs(["PRC-002", "PRC-002_4q", "severity_sum_8q", "since_RMB", "tenure_years", "sensitivity",
                            "graph_pagerank", "deal_amount"])
    assert signs == {"PRC-002": 1, "PRC-002_4q": 1, "severity_sum_8q": 1, "since_RMB": -1, "tenure_years": 1,
                     "sensitivity": 1, "graph_pagerank": 0, "deal_amount": 0}
    zh, en = feature_text("PRC-002_8q", 3)
    assert "近八个季度" in zh and "in the last eight quarters" in en
    assert feature_text("since_LEAF", 0)[1] == "leaf-purchasing red flags this quarter"
    assert "2 quarters ago" in feature_text("since_RMB", 2)[1]
    assert feature_text("since_RMB", 1)[1] == "last reimbursement red flag 1 quarter ago"


def test_case_window_narrows_to_the_span_of_the_subjects_relevant_flags():
    q = _quarters(9)
    windows = pd.concat([
        pd.DataFrame({"case_id": "C1", "case_type": "虚假报销", "entity_id": "E1", "period": q}),
        pd.DataFrame({"case_id": "C2", "case_type": "烟叶收购违规", "entity_id": "E2", "period": q}),
        pd.DataFrame({"case_id": "C3", "case_type": "烟叶收购违规", "entity_id": "E3", "period": q}),
    ], ignore_index=True)
    X = pd.DataFrame({"entity_id": ["E1"] * 9 + ["E2"] * 9 + ["E3"] * 9, "period": list(q) * 3,
                      # E1: reimbursement flags in quarters 2 and 5, a procurement flag in quarter 7 (not this case's family)
                      "RMB-001": [0, 0, 1, 0, 0, 1, 0, 0, 0] + [0] * 18,
                      "PRC-008": [0, 0, 0, 0, 0, 0, 0, 1, 0] + [0] * 18,
                      "RMB-001_4q": [0, 0, 1, 1, 1, 2, 1, 1, 1] + [0] * 18,
                      "LEAF-002": [0] * 18 + [0, 0, 0, 1, 0, 0, 0, 1, 0]})
    for outside in ("negative", "unlabelled"):
        out = localise(windows, X, outside=outside)
        assert list(out.columns) == [*windows.columns, "label"]
        e1 = out[out.entity_id == "E1"].set_index("period").label
        assert e1[e1 == 1].index.tolist() == list(q[2:6]), "from the first to the last reimbursement flag"
        assert e1[e1 == 0].index.tolist() == ([*q[:2], *q[6:]] if outside == "negative" else []), \
            "the rest of the window: reliable negatives, or unlabelled"
        e2 = out[out.entity_id == "E2"]
        assert e2.period.tolist() == list(q) and (e2.label == 1).all(), "no leaf flag at all: the archive's window"
        e3 = out[out.entity_id == "E3"]
        assert e3.period.tolist() == list(q[3:8]) and (e3.label == 1).all(), \
            "a leaf case's quiet quarters are the off-season: positive within the span, unlabelled outside it"


def test_localised_labels_never_add_quarters_and_bad_mode_is_an_error():
    rng = np.random.default_rng(0)
    q = _quarters(9)
    windows = pd.DataFrame({"case_id": "C1", "case_type": "受贿", "entity_id": "E1", "period": q})
    X = pd.DataFrame({"entity_id": "E1", "period": q, "PRC-008": rng.integers(0, 2, 9), "REL-002": rng.integers(0, 2, 9)})
    out = localise(windows, X)
    assert set(out.period) <= set(q) and (out.label == 1).sum() >= 1
    with pytest.raises(RiskModelError, match="outside must be"):
        localise(windows, X, outside="maybe")


def _event_flags():
    rows = [("PO1", "E1", 3), ("PO2", "E1", 3), ("PO3", "E1", 3), ("PO4", "E2", 2), ("PO5", "E3", 1), ("PO9", None, 1)]
    return pd.DataFrame({"entity_type": "purchase_order", "entity_id": [r[0] for r in rows], "indicator_id": "PRC-002",
                         "period": pd.Timestamp("2025-02-01"), "value": 1.0, "fired": True, "severity": [r[2] for r in rows],
                         "employee_id": [r[1] for r in rows], "department_id": "D004", "text_zh": "拆分", "text_en": "split",
                         "evidence": [[r[0]] for r in rows]})


def test_one_event_per_person_and_none_for_people_already_queued():
    from riskmodel.scoring.events import event_queue

    flags = _event_flags()
    q, used = event_queue(flags, pd.DataFrame(columns=["entity_id", "period", "label"]), [pd.Timestamp("2025-01-01")], 3)
    assert used == {"purchase_order": "rules"}
    assert q.employee_id.tolist() == ["E1", "E2", "E3"], "E1's three orders take one slot"
    assert q["rank"].tolist() == [1, 2, 3] and (q.score.diff().dropna() <= 0).all()
    busy = pd.DataFrame({"entity_id": ["E1"], "period": [pd.Timestamp("2025-01-01")]})
    q, _ = event_queue(flags, pd.DataFrame(columns=["entity_id", "period", "label"]), [pd.Timestamp("2025-01-01")], 3, under_review=busy)
    assert "E1" not in set(q.employee_id) and len(q) == 3, "E1 is reviewed as a person; the slot goes to the next"
    assert q.reasons.map(len).min() >= 1 and all(r[0]["text_en"] == "split" for r in q.reasons)


def _ring_flags(ring_dated: str):
    """Three tenders of one ring (S1–S3: T1 and T2 among its joint tenders, T3 a rotation its member S3 won), one
    tender won by an outsider, and one a member won that is no rotation (T9, another person's split purchase); the
    ring's REL-003 rows dated ``ring_dated``, and a ring that met it once in a large tender (S7, S8: X)."""
    q = pd.Timestamp("2025-02-01")
    tenders = pd.DataFrame({"entity_type": "tender", "entity_id": ["T1", "T2", "T3", "T4", "T9"],
                            "indicator_id": ["BID-011", "BID-011", "BID-011", "BID-011", "PRC-002"],
                            "period": q, "value": 2.0, "fired": True, "severity": [3, 3, 3, 1, 2],
                            "employee_id": [None, None, None, None, "E5"], "department_id": "D004",
                            "supplier_id": ["S1", "S2", "S3", "S9", "S2"], "station_id": None,
                            "text_zh": "轮流中标", "text_en": "rotation", "evidence": [["B1"], ["B2"], ["B3"], ["B4"], ["B9"]]})
    ring = pd.DataFrame({"entity_type": "supplier", "entity_id": ["S1", "S2", "S3", "S7", "S8"], "indicator_id": "REL-003",
                         "period": pd.Timestamp(ring_dated), "value": 6.0, "fired": True, "severity": 2,
                         "employee_id": None, "department_id": None, "supplier_id": ["S1", "S2", "S3", "S7", "S8"],
                         "station_id": None, "text_zh": "团伙", "text_en": "group",
                         "evidence": [["T0", "T1", "T2", "X"], ["T0", "T1", "T2"], ["T0", "T1"], ["U1", "U2", "X"], ["U1", "U2"]]})
    return pd.concat([tenders, ring], ignore_index=True)


def test_a_rings_tenders_take_one_slot_and_name_each_other():
    from riskmodel.scoring.events import event_queue

    no_labels = pd.DataFrame(columns=["entity_id", "period", "label"])
    q, _ = event_queue(_ring_flags("2025-03-01"), no_labels, [pd.Timestamp("2025-01-01")], 3)
    t = q[q.entity_type == "tender"].set_index("entity_id")
    assert sorted(t.index) == ["T1", "T4", "T9"], "T1–T3 are one ring's: one slot; T9, a member's win that is no rotation, keeps its own"
    assert t.evidence["T1"][:2] == ["T1", "B1"] and set(t.evidence["T1"][2:]) == {"T2", "T3"}, "its own evidence first"
    note = t.reasons["T1"][-1]
    assert note["feature"] == "same_group" and note["value"] == 2 and note["contribution"] is None
    assert "S1、S2、S3" in note["text_zh"] and "T2、T3" in note["text_zh"] and "2 more tenders" in note["text_en"]
    assert t.reasons["T4"][-1]["feature"] == "BID-011", "an outsider's tender stands alone"
    s = q[q.entity_type == "supplier"].set_index("entity_id")
    assert sorted(s.index) == ["S1", "S7"], "two rings that met once (tender X) stay two: a slot each"
    assert s.reasons["S1"][-1]["value"] == 2 and s.reasons["S7"][-1]["value"] == 1
    # a ring seen only after the quarter groups nothing in it: its tenders are queued one by one
    q, _ = event_queue(_ring_flags("2025-04-02"), no_labels, [pd.Timestamp("2025-01-01")], 3)
    assert sorted(q[q.entity_type == "tender"].entity_id) == ["T1", "T2", "T3"]


def test_a_stations_growers_take_one_slot_before_their_graders():
    from riskmodel.scoring.events import event_queue

    rows = [("G1", "ST1", "E1", 3), ("G2", "ST1", "E2", 3), ("G3", "ST1", None, 3), ("G4", "ST2", None, 2), ("G5", None, "E5", 1)]
    flags = pd.DataFrame({"entity_type": "grower", "entity_id": [r[0] for r in rows], "indicator_id": "LEAF-004",
                          "period": pd.Timestamp("2025-10-20"), "value": 2.0, "fired": True, "severity": [r[3] for r in rows],
                          "employee_id": [r[2] for r in rows], "department_id": None, "supplier_id": None,
                          "station_id": [r[1] for r in rows], "text_zh": "超合同", "text_en": "beyond contract",
                          "evidence": [[f"LP{i}"] for i in range(5)]})
    q, _ = event_queue(flags, pd.DataFrame(columns=["entity_id", "period", "label"]), [pd.Timestamp("2025-10-01")], 3)
    assert q.entity_id.tolist() == ["G1", "G4", "G5"], "ST1's three growers, each with another grader or none: one slot"
    assert "同一收购站ST1本季度另有2户烟农" in q.reasons.iloc[0][-1]["text_zh"]
