"""Integrity profiles and tiers: rules suggest, only a recorded decision changes a tier."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel import ledger
from riskmodel.linkage.profiles import (MEASURES, TierChangeError, integrity_profiles, pending_tier_changes, recorded_tiers,
                                        set_tier)

AS_OF = pd.Timestamp("2025-12-31")


@pytest.fixture(scope="module")
def profiles(small_ds, small_run):
    return integrity_profiles(small_ds, small_run["dir"], as_of=AS_OF)


def test_profiles_cover_supervision_alerts_and_training(profiles, small_tables, small_run):
    p = profiles.set_index("employee_id")
    subj = small_tables["case_people"].query("role == 'subject'").merge(small_tables["cases"], on="case_id")
    recent = subj[subj.opened_date >= AS_OF - pd.DateOffset(months=24)].employee_id
    for e in set(recent) & set(p.index):
        assert p.loc[e, "cases_subject"] >= 1
        assert p.loc[e, "suggested_tier"] == "red" and "R1" in p.loc[e, "rules"]
    ce = small_run["confirmed_employee"]
    assert p.loc[ce, "alerts_confirmed"] == 1 and p.loc[ce, "suggested_tier"] == "red" and "R2" in p.loc[ce, "rules"]
    assert p.credits_last_year.notna().mean() > 0.9 and p.required_last_year.notna().all()
    assert set(p.suggested_tier) <= {"green", "yellow", "red"}
    green = p[p.suggested_tier == "green"]
    assert (green.rules.map(len) == 0).all()


def test_tiers_change_only_with_a_recorded_reason(profiles, small_run, tmp_path):
    led = tmp_path / "ledger.jsonl"
    assert set(profiles.tier) == {"green"}  # suggestions alone change nothing
    ce = small_run["confirmed_employee"]
    with pytest.raises(TierChangeError, match="reason"):
        set_tier(led, ce, "red", "", actor="王科长")
    with pytest.raises(TierChangeError, match="may not"):
        set_tier(led, ce, "red", "预警经复核确认", actor="某分析员", actor_role="analyst")
    with pytest.raises(TierChangeError, match="who"):
        set_tier(led, ce, "red", "预警经复核确认", actor=" ")
    assert not led.exists()
    e = set_tier(led, ce, "red", "预警经复核确认，需加强监督", actor="王科长", profiles=profiles)
    assert (e["kind"], e["actor"], e["actor_role"]) == ("tier_change", "王科长", "supervisor") and e["ts"]
    assert e["payload"]["from_tier"] == "green" and e["payload"]["to_tier"] == "red"
    assert e["payload"]["reason"] == "预警经复核确认，需加强监督" and "R2" in e["payload"]["rules"]
    with pytest.raises(TierChangeError, match="already red"):
        set_tier(led, ce, "red", "再次确认", actor="王科长")
    set_tier(led, ce, "yellow", "整改到位，降为黄色", actor="李主任")
    rec = recorded_tiers(led).set_index("employee_id")
    assert rec.tier[ce] == "yellow" and "李主任" in rec.tier_by[ce] and rec.tier_reason[ce] == "整改到位，降为黄色"
    assert ledger.verify(led).ok and len(ledger.read_entries(led, "tier_change")) == 2


def test_profiles_read_recorded_tiers_from_the_ledger(small_ds, small_run, tmp_path):
    led = tmp_path / "ledger.jsonl"
    ce = small_run["confirmed_employee"]
    set_tier(led, ce, "red", "预警经复核确认", actor="王科长")
    p = integrity_profiles(small_ds, small_run["dir"], led, as_of=AS_OF).set_index("employee_id")
    assert p.loc[ce, "tier"] == "red" and p.loc[ce, "tier_reason"] == "预警经复核确认" and "王科长" in p.loc[ce, "tier_by"]
    assert p.loc[ce, "measures_zh"] == MEASURES["red"]
    pend = pending_tier_changes(p.reset_index())
    assert ce not in set(pend.employee_id)  # its recorded tier is what the rules suggest


def test_exemplary_people_are_green_with_full_credits_and_high_scores(profiles):
    ex = profiles[profiles.exemplary]
    assert (ex.suggested_tier == "green").all()
    assert (ex.credits_last_year >= ex.required_last_year).all() and (ex.mean_test_score >= 90).all()
