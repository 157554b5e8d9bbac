"""Firm checks: a held-out firm's tenders never train; the placebo cartel; the verdict follows the fixed criteria."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.base import BaseEstimator, ClassifierMixin

from riskmodel.cli import main
from riskmodel.collusion.evaluate import CollusionEvaluationError, DatasetEvaluation, evaluate_dataset
from riskmodel.collusion.holdout import (PLACEBO_GAIN_SHARE, FirmCheck, HeldOutFirm, PlaceboCheck, firm_presence,
                                         leave_one_firm_out, match_placebo_firms, placebo_check, placebo_labels,
                                         verdict)
from riskmodel.collusion.synthetic import synthetic_bids

FAST = {"n_estimators": 10, "inner_cv": 3, "inner_repeats": 1}


@pytest.fixture(scope="module")
def ring() -> pd.DataFrame:
    """A ring of six firms, one cover each; ring districts also have competitive years."""
    return synthetic_bids(300, seed=2, identities=True, n_markets=24, ring_firms=6, covers=1, mixed_markets=True,
                          dataset="ring")


class Spy(ClassifierMixin, BaseEstimator):
    """Scores by the coefficient of variation (low: rigged) and records the tenders it was trained on."""

    seen: list = []

    def fit(self, X, y):
        Spy.seen.append(set(X.index))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = 1 / (1 + 50 * X["cv"].fillna(1).to_numpy())
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def test_a_held_out_firm_never_trains_and_its_test_set_is_as_described(ring):
    Spy.seen.clear()
    firms = ["R1", "R2"]
    res = leave_one_firm_out(ring, firms, models={"spy": Spy()}, min_bids=2)
    present = firm_presence(ring, firms)
    tenders = ring.assign(tender_id=ring.tender_id.astype(str)).groupby("tender_id")
    n_bids, label, market = tenders.size(), tenders.collusive_tender.first(), tenders.market.first()
    usable = n_bids >= 2
    for h, seen in zip(res, Spy.seen):
        with_f = present[h.firm]
        assert not seen & set(with_f.index[with_f])                     # none of the firm's tenders trained
        assert h.n_positive == int((with_f & usable & (label == 1)).sum()) > 0
        assert h.n_too_few_bids == int((with_f & ~usable).sum())
        same = market.isin(market[with_f]) & ~with_f & (label == 0) & usable
        assert h.n_negative_market == int(same.sum()) > 0
        assert not seen & set(same.index[same])                         # nor its markets' competitive tenders
        assert h.n_negative >= h.n_negative_market
        assert h.n_train + h.n_positive + h.n_negative == int(usable.sum())
        assert h.n_train == len(seen)
        m = h.metrics["spy"]
        assert 0 <= m["fpr"] <= 1 and m["roc_auc"] > 0.9               # tight covers: low cv, as planted


def test_ours_still_finds_a_held_out_ring_member(ring):
    h = leave_one_firm_out(ring, ["R3"], **FAST)[0]
    assert set(h.metrics) == {"ours", "reference", "ours_no_identity"}
    assert h.metrics["ours"]["roc_auc"] > 0.85
    assert h.passed == (h.metrics["ours"]["roc_auc"] >= 1.05 * h.metrics["reference"]["roc_auc"])


def test_bad_input_is_a_clear_error(ring):
    with pytest.raises(CollusionEvaluationError, match=r"firm\(s\) \['NOPE'\] never bid"):
        leave_one_firm_out(ring, ["NOPE"], **FAST)
    with pytest.raises(CollusionEvaluationError, match="'market', a column the bids lack"):
        leave_one_firm_out(ring.drop(columns="market"), ["R1"], **FAST)
    with pytest.raises(CollusionEvaluationError, match="need the bidder of every bid"):
        leave_one_firm_out(ring.drop(columns="bidder"), ["R1"], **FAST)


def test_placebo_firms_are_ordinary_firms_of_similar_activity():
    # A is accused: 3 tenders in 3 markets, wins 2.  B: the same activity; C: one tender; D: wins everything.
    rows = [("1", 1.0, "A", "m"), ("1", 2.0, "C", "m"), ("2", 1.0, "A", "n"), ("2", 2.0, "B", "n"),
            ("3", 2.0, "A", "o"), ("3", 1.0, "D", "o"), ("4", 1.0, "B", "p"), ("4", 2.0, "D", "p"),
            ("5", 1.0, "B", "q"), ("5", 2.0, "E", "q"), ("6", 1.0, "D", "r"), ("6", 2.0, "E", "r")]
    b = pd.DataFrame(rows, columns=["tender_id", "bid", "bidder", "market"])
    m = match_placebo_firms(b, ["A"])
    assert m.loc["A", "placebo"] == "B" and m.loc["A", "distance"] == pytest.approx(0.0)
    two = match_placebo_firms(b, ["A", "B"])
    assert set(two["placebo"]).isdisjoint({"A", "B"}) and two["placebo"].is_unique


def test_placebo_labels_cover_the_competitive_tenders_only(ring):
    lab = placebo_labels(ring, ["F001", "F030"])
    tenders = ring.groupby("tender_id")
    competitive = tenders.collusive_tender.first() == 0
    assert set(lab.index) == set(competitive.index[competitive])
    expected = tenders.bidder.agg(lambda s: bool({"F001", "F030"} & set(s)))[lab.index]
    assert (lab.astype(bool) == expected).all() and lab.sum() > 0


def test_replacement_labels_leave_the_other_tenders_unlabelled(ring):
    lab = placebo_labels(ring, ["F001", "F030", "F060"])
    d = evaluate_dataset(ring, labels=lab, n_splits=3, models={"spy": Spy()})
    t = ring.groupby("tender_id").agg(label=("collusive_tender", "first"), n=("bid", "size"))
    assert d.n_unlabelled == int(((t.label == 1) & (t.n >= 2)).sum()) > 0   # the rigged tenders drop out
    assert d.n_used + d.n_unlabelled + d.n_too_few_bids == d.n_tenders
    assert d.n_collusive_used == int(lab.reindex(d.predictions.tender_id).sum())


def test_a_fake_cartel_of_ordinary_firms_is_not_detected_on_the_ring(ring):
    pc = placebo_check(ring, [f"R{i}" for i in range(1, 7)], n_splits=3, **FAST)   # the whole ring is accused
    assert pc.matches.index.tolist() and not pc.matches["placebo"].str.startswith("R").any()
    assert pc.real.metrics["ours"]["roc_auc"] > 0.9
    assert pc.placebo.metrics["ours"]["roc_auc"] < 0.75                # no collusion behind the placebo label
    assert pc.passed == (pc.placebo_gain < PLACEBO_GAIN_SHARE * pc.real_gain)


def _dataset(ours: float, without: float, ref: float = 0.6) -> DatasetEvaluation:
    m = {"ours": {"roc_auc": ours}, "ours_no_identity": {"roc_auc": without}, "reference": {"roc_auc": ref}}
    return DatasetEvaluation("d", 10, 10, 5, 0, 0, 0, 2, 5, 0, m)


def _held(firm: str, ours: float, ref: float) -> HeldOutFirm:
    return HeldOutFirm(firm, 5, 5, 0, 0, 10, 5, 1, 2, {"ours": {"roc_auc": ours}, "reference": {"roc_auc": ref}})


@pytest.mark.parametrize("placebo_ours, expect_pass", [(0.66, True), (0.80, False)])
def test_verdict_follows_the_fixed_criteria(placebo_ours, expect_pass):
    # real label: identities add 0.87 - 0.70 = 0.17; placebo without identities 0.60
    pc = PlaceboCheck(pd.DataFrame({"placebo": ["X"]}, index=pd.Index(["A"], name="firm")),
                      placebo=_dataset(placebo_ours, 0.60), real=_dataset(0.87, 0.70))
    assert pc.passed is expect_pass
    fc = FirmCheck("d", ["A"], "market", [_held("A", 0.80, 0.70)], pc, {})
    assert fc.held_out_passed is True
    text = verdict(fc, "en")
    assert ("may count towards the goal" in text) is expect_pass
    assert ("cannot be counted" in text) is (not expect_pass)
    failing = FirmCheck("d", ["A"], "market", [_held("A", 0.70, 0.70)], pc, {})
    assert failing.held_out_passed is False and "cannot be counted" in verdict(failing, "zh") + verdict(failing)
    assert "不能作为目标达成的依据" in verdict(failing, "zh")


def test_cli_hold_out_firms(tmp_path):
    path = tmp_path / "ring.csv"
    synthetic_bids(150, seed=4, identities=True, ring_firms=3, covers=1, mixed_markets=True).to_csv(path, index=False)
    r = CliRunner().invoke(main, ["collusion", "evaluate", str(path), "--hold-out-firms", "R1,R2,R3", "--placebo",
                                  "--format", "json", "--folds", "3", "--trees", "10", "--inner-folds", "3",
                                  "--inner-repeats", "1"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)[0]
    assert [h["firm"] for h in data["held_out"]] == ["R1", "R2", "R3"]
    assert {m["firm"] for m in data["placebo"]["matches"]} == {"R1", "R2", "R3"}
    assert {"real_identity_gain", "placebo_identity_gain", "passed"} <= set(data["placebo"])
    r = CliRunner().invoke(main, ["collusion", "evaluate", str(path), "--placebo"])
    assert r.exit_code == 2 and "--placebo needs --hold-out-firms" in r.output
    r = CliRunner().invoke(main, ["collusion", "evaluate", str(path), "--hold-out-firms", "ZZ"])
    assert r.exit_code == 2 and "never bid" in r.output and "Traceback" not in r.output


def test_report_tables_show_the_checks_figures():
    from riskmodel.collusion import report as R

    pc = PlaceboCheck(pd.DataFrame({"placebo": ["X"]}, index=pd.Index(["A"], name="firm")),
                      placebo=_dataset(0.62, 0.60), real=_dataset(0.87, 0.70))
    h = _held("A", 0.80, 0.70)
    h.metrics["ours"].update(roc_auc_market=0.7, tpr=0.5, fpr=0.1, median_score_positive=0.4,
                             median_score_negative=0.1, threshold=0.3)
    fc = FirmCheck("d", ["A"], "market", [h], pc, {})
    t = R.held_out_table([fc], lang="en")
    assert t.loc[("d", "A", "ours"), "roc_auc"] == 0.8 and t.loc[("d", "A", "ours"), "positives"] == 5
    p = R.placebo_table([fc], lang="en")
    assert p.loc[("d", "real"), "identity gain"] == pytest.approx(0.17)
    assert p.loc[("d", "placebo"), "AUC ours"] == 0.62 and p.loc[("d", "placebo"), "matched firms"] == "A→X"
    assert "may count towards the goal" in R.firm_check_verdicts([fc], lang="en").loc["d", "verdict"]
    assert R.held_out_table([], "zh").empty and R.placebo_table([], "zh").empty
    assert R.firm_checks(pd.DataFrame({"dataset": ["x"], "tender_id": [1], "bid": [1.0]}), "no/dir", ["x.csv"]) == []


def test_verdict_stays_open_until_both_checks_ran():
    pc = PlaceboCheck(pd.DataFrame({"placebo": ["X"]}, index=pd.Index(["A"], name="firm")),
                      placebo=_dataset(0.61, 0.60), real=_dataset(0.87, 0.70))
    only_placebo = FirmCheck("d", ["A"], "market", [], pc, {})
    assert "Leave one firm out: not run" in verdict(only_placebo) and "Not decided" in verdict(only_placebo)
    only_lofo = FirmCheck("d", ["A"], "market", [_held("A", 0.80, 0.70)], None, {})
    assert "Placebo: not run" in verdict(only_lofo) and "尚不能判断" in verdict(only_lofo, "zh")


def test_verdict_compares_the_bid_screens_on_both_labels():
    fake = PlaceboCheck(pd.DataFrame({"placebo": ["X"]}, index=pd.Index(["A"], name="firm")),
                        placebo=_dataset(0.85, 0.70), real=_dataset(0.87, 0.70))
    text = verdict(FirmCheck("d", ["A"], "market", [], fake, {}))
    assert "ours scores 0.700 on the placebo against 0.700 on the real label" in text
    assert "on this label they do not show collusion detection either" in text and "cannot be counted" in text
    real_only = PlaceboCheck(fake.matches, placebo=_dataset(0.56, 0.55), real=_dataset(0.87, 0.70))
    assert "find the real cartel better" in verdict(FirmCheck("d", ["A"], "market", [], real_only, {}))


def test_the_goal_counts_the_identity_screens_only_when_the_firm_checks_pass():
    from riskmodel.collusion import report as R
    from riskmodel.collusion.evaluate import Evaluation

    ev = Evaluation([_dataset(0.87, 0.62, ref=0.60)], {})  # with identities 1.45×, without 1.03× the reference
    passing = PlaceboCheck(pd.DataFrame({"placebo": ["X"]}, index=pd.Index(["A"], name="firm")),
                           placebo=_dataset(0.61, 0.60), real=_dataset(0.87, 0.62))
    failing = PlaceboCheck(passing.matches, placebo=_dataset(0.86, 0.60), real=_dataset(0.87, 0.62))
    ok = FirmCheck("d", ["A"], "market", [_held("A", 0.80, 0.70)], passing, {})
    bad = FirmCheck("d", ["A"], "market", [_held("A", 0.80, 0.70)], failing, {})
    assert R.goal_summary(ev, "en", [ok]).loc["d", "met"] and R.goal_summary(ev, "en", [ok]).loc["d", "AUC judged"] == 0.87
    for checks, why in (([bad], "failed"), ([], "not run")):
        g = R.goal_summary(ev, "en", checks).loc["d"]
        assert not g["met"] and g["AUC judged"] == 0.62 and why in g["judged on"]
    assert "达标" in R.goal_summary(ev, "zh").columns and not R.goal_summary(ev, "zh").iloc[0]["达标"]
    # the evaluation's own verdict (CLI text, JSON, bench) is the same, the checks not being known to it
    d = ev.datasets[0]
    assert not d.goal_met and d.to_dict()["goal_judged_on"] == "ours_no_identity" and d.to_dict()["goal_met"] is False
