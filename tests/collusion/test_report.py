"""Report pieces about bidder identities: the same-tenders check, the identity contribution, the grouped check."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from riskmodel.collusion import report as R
from riskmodel.collusion.evaluate import evaluate
from riskmodel.collusion.identity import IDENTITY_SCREEN_NAMES
from riskmodel.collusion.synthetic import synthetic_bids

FAST = {"n_splits": 3, "n_estimators": 10, "inner_cv": 3, "inner_repeats": 1}


@pytest.fixture(scope="module")
def ident():
    return synthetic_bids(120, seed=7, identities=True, dataset="ring")


@pytest.fixture(scope="module")
def ev(ident):
    return evaluate(ident, ablation=True, **FAST)


def test_same_tenders_sees_scaled_bids_and_renamed_tenders_as_the_same(ident):
    plain = ident.drop(columns=["bidder", "period", "market"])
    other = plain.assign(bid=plain.bid * 0.84, tender_id="x" + plain.tender_id)
    t = R.same_tenders(plain, other, lang="en")
    assert t.loc["same tenders (bids and label)", "value"] is True
    assert t.loc["bid_scale", "value"] == pytest.approx(1 / 0.84, abs=1e-4)
    one = plain.tender_id.iloc[0]
    flipped = other.assign(collusive_tender=lambda d: d.collusive_tender.where(d.tender_id != "x" + one,
                                                                               1 - d.collusive_tender))
    assert R.same_tenders(plain, flipped, lang="en").loc["same tenders (bids and label)", "value"] is False
    assert R.ohio_check("no/such/dir").empty


def test_identity_contribution_and_grouped_check(ident, ev):
    c = R.identity_contribution(ev, lang="en")
    d = ev["ring"]
    assert c.loc["ring", "AUC ours"] == round(d.metrics["ours"]["roc_auc"], 3)
    assert c.loc["ring", "AUC ours without identity"] == round(d.metrics["ours_no_identity"]["roc_auc"], 3)
    assert c.loc["ring", "identity screens"] == ", ".join(IDENTITY_SCREEN_NAMES)
    plain_ev = evaluate(ident.drop(columns=["bidder"]), **FAST)
    assert R.identity_contribution(plain_ev, lang="en").empty      # no bidders: nothing to show
    g = R.grouped_check(ident, ev, lang="en", **FAST)
    assert set(g.index.get_level_values("model")) == {"ours", "reference"}
    assert (g["groups"] == ident.market.nunique()).all()
    assert g.loc[("ring", "reference"), "AUC stratified"] == round(d.metrics["reference"]["roc_auc"], 3)
    assert R.grouped_check(ident.drop(columns="market"), ev, lang="en", **FAST).empty


def test_identity_screens_in_profile_and_figure(ident):
    prof = R.screen_profile(ident, lang="en")
    assert set(IDENTITY_SCREEN_NAMES) <= set(prof.index.get_level_values("screen"))
    assert (prof.xs("inc_win", level="screen")["family"] == "identity").all()
    assert isinstance(R.plot_identity_screens(ident, lang="en"), Figure)
    assert R.plot_identity_screens(ident.drop(columns="bidder"), lang="en") is None
