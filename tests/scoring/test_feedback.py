"""Reviewer decisions: who may decide, how a filled-in CSV is read, which decisions become labels."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.errors import RiskModelError
from riskmodel.scoring.feedback import read_decisions, record_decision
from riskmodel.scoring.labels import decision_labels, unmatched_decisions


def _run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame({"alert_id": ["AL-1"], "entity_type": ["employee"], "entity_id": ["E1"],
                  "period": [pd.Timestamp("2025-01-01")]}).to_parquet(run / "alerts.parquet")
    return run


@pytest.mark.parametrize("role", ["leadership", "education_officer"])
def test_only_reviewers_of_the_identified_queue_decide(tmp_path, role):
    run = _run(tmp_path)
    with pytest.raises(RiskModelError, match="de-identified reports only"):
        record_decision(run, "AL-1", "confirmed", role)
    assert not (run / "decisions.csv").exists()


def test_an_unknown_alert_says_where_the_ids_are(tmp_path):
    with pytest.raises(RiskModelError, match="riskmodel export alerts"):
        record_decision(_run(tmp_path), "AL-404", "confirmed", "supervisor")


def test_a_day_in_the_quarter_stands_for_the_quarter(tmp_path):
    p = tmp_path / "decisions.csv"
    p.write_text("entity_id,period,decision\nE1,2025-02-15,confirmed\nE2,2025-04-01,dismissed\n", encoding="utf-8")
    d = read_decisions(p)
    assert d.period.tolist() == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01")]


def test_decisions_on_events_are_not_people_labels_and_wrong_ids_are_found():
    d = pd.DataFrame({"entity_type": ["employee", "claim", "employee"], "entity_id": ["E1", "CL9", "E7"],
                      "period": pd.to_datetime(["2025-01-01"] * 3), "decision": ["confirmed", "confirmed", "dismissed"]})
    assert decision_labels(d).entity_id.tolist() == ["E1", "E7"]
    X = pd.DataFrame({"entity_id": ["E1", "E2"], "period": pd.to_datetime(["2025-01-01"] * 2)})
    assert unmatched_decisions(d, X).entity_id.tolist() == ["E7"]


def test_past_reviews_and_this_runs_decisions_are_both_labels_and_only_reviewers_count():
    """The data's past reviews (no entity_type column) beside a decisions file: neither drops the other; a decision
    by leadership (who sees pseudonyms only) is no label."""
    past = pd.DataFrame({"entity_id": ["E1", "E2"], "period": pd.to_datetime(["2024-01-01"] * 2),
                         "decision": ["confirmed", "dismissed"], "reviewer_role": ["supervisor", "leadership"]})
    now = pd.DataFrame({"entity_type": ["employee"], "entity_id": ["E3"], "period": pd.to_datetime(["2025-01-01"]),
                        "decision": ["confirmed"], "reviewer_role": ["analyst"]})
    lab = decision_labels(pd.concat([past, now], ignore_index=True))
    assert sorted(lab.entity_id) == ["E1", "E3"]


def test_only_the_identified_roles_decide():
    """A decision is a label only from someone who saw whom the alert concerns: the identified roles of
    linkage.roles (a model reviewer gets de-identified material, as leadership does)."""
    from riskmodel.config import REVIEWER_ROLES
    from riskmodel.linkage.roles import POLICIES

    assert set(REVIEWER_ROLES) == {r for r, p in POLICIES.items() if p.identified}
    d = pd.DataFrame({"entity_id": ["E1", "E2"], "period": pd.to_datetime(["2024-01-01"] * 2),
                      "decision": ["confirmed", "confirmed"], "reviewer_role": ["model_reviewer", "analyst"]})
    assert decision_labels(d).entity_id.tolist() == ["E2"]
