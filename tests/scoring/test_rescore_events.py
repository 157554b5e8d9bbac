"""``riskmodel score`` chooses the event alerts again beside the new people queue, as ``riskmodel run`` would have.

An event of a person queued that quarter takes no event slot (its reviewer reads it in the person's file): after
a re-queue, the events of a person who left the people queue come back, and those of a person now queued leave.
A supervised event scorer learns from the run's case archive: with the run's dataset the events are chosen again,
without it they are kept and the card and the command line say why.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel import ledger
from riskmodel.cli import main
from riskmodel.data.dataset import Dataset
from riskmodel.scoring.events import EVENT_TYPES, event_features, event_queue
from riskmodel.scoring.features import KEY
from riskmodel.scoring.labels import case_labels
from riskmodel.scoring.pipeline import ALERT_COLUMNS, _alert_id

EVENT_COLUMNS = ["alert_id", "entity_type", "entity_id", "period", "score", "rank", "policy", "model", "cutoff",
                 "department_id", "reasons", "evidence"]


def _copy(run, dest):
    shutil.copytree(run, dest, ignore=shutil.ignore_patterns("*.lock", "evaluation.json"))
    return dest


def _card(run) -> dict:
    return json.loads((run / "model_card.json").read_text(encoding="utf-8"))


def _score(run, *args):
    return CliRunner().invoke(main, ["score", "--run", str(run), *[str(a) for a in args]])


def _events(alerts: pd.DataFrame) -> pd.DataFrame:
    ev = alerts[(alerts.entity_type != "employee").to_numpy()].reset_index(drop=True)
    return ev.assign(period=pd.to_datetime(ev.period))


def _comparable(events: pd.DataFrame) -> pd.DataFrame:
    """The event alerts' columns, lists as lists (a Parquet round trip turns them into arrays), in a fixed order."""
    ev = events[EVENT_COLUMNS].copy()
    ev["period"] = pd.to_datetime(ev.period)
    for c in ("reasons", "evidence"):
        ev[c] = [json.dumps([dict(r) if isinstance(r, dict) else r for r in x], default=str, sort_keys=True) for x in ev[c]]
    return ev.sort_values(["entity_type", "period", "rank"]).reset_index(drop=True)


def _expected(run, people: pd.DataFrame, model: str = "rules", labels: pd.DataFrame | None = None) -> pd.DataFrame:
    """What ``event_queue`` chooses beside ``people`` from every flag row of the run, in memory."""
    card = _card(run)
    flags = pd.read_parquet(run / "flags.parquet")
    test_p = [pd.Timestamp(p) for p in card["test_periods"]]
    labels = labels if labels is not None else pd.DataFrame(columns=["entity_id", "period", "label"])
    ev, _ = event_queue(flags, labels, test_p, card["event_capacity"], card["seed"], model,
                        under_review=people[KEY].assign(period=pd.to_datetime(people.period)))
    ev["alert_id"] = [_alert_id(t, e, p, m) for t, e, p, m in zip(ev.entity_type, ev.entity_id, ev.period, ev.model)]
    return ev


def _keys(frame: pd.DataFrame) -> set:
    return set(zip(frame.entity_type, frame.entity_id, pd.to_datetime(frame.period)))


def _responsible(run) -> pd.DataFrame:
    """Each event-quarter's responsible employee, as the event queue reads it from the flags."""
    flags = pd.read_parquet(run / "flags.parquet")
    return pd.concat([event_features(flags, t).assign(entity_type=t)[["entity_type", "entity_id", "period", "employee_id"]]
                      for t in EVENT_TYPES if (flags.entity_type == t).any()], ignore_index=True)


def _other_model(run) -> str:
    trained = _card(run)["model"]
    return "rules" if trained != "rules" else "logistic"


def test_score_chooses_the_event_alerts_again_beside_the_new_people_queue(small_run, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    card0 = _card(run)
    assert card0["settings"]["scoring"]["event_model"] == "rules" and card0["event_capacity"] > 0
    before = pd.read_parquet(run / "alerts.parquet")
    other = _other_model(run)

    res = _score(run, "--model", other, "--policy", "capacity")
    assert res.exit_code == 0, res.output
    after = pd.read_parquet(run / "alerts.parquet")
    people = after[(after.entity_type == "employee").to_numpy()]
    events = _events(after)
    old_people = before[(before.entity_type == "employee").to_numpy()]

    # no one is both in the people queue and behind an event alert of the same quarter
    who = _events(after).merge(_responsible(run), on=["entity_type", "entity_id", "period"], how="left")
    assert who.employee_id.notna().any()
    queued = set(zip(people.entity_id, pd.to_datetime(people.period)))
    assert not [k for k in zip(who.employee_id, who.period) if k in queued]

    # the case this is about: another people queue, hence other events
    assert set(zip(people.entity_id, people.period)) != set(zip(old_people.entity_id, old_people.period))
    expected = _expected(run, people)
    assert _keys(expected) != _keys(_events(before)), "the small run must show events that change with the people queue"
    pd.testing.assert_frame_equal(_comparable(events), _comparable(expected), check_dtype=False)
    assert after.columns.tolist() == ALERT_COLUMNS and events.probability.isna().all()

    # the card names the queue they were chosen beside, and how; the command says so
    q = _card(run)["queue"]
    assert q["events_chosen_beside"] == {"model": other, "policy": "capacity", "source": "riskmodel score"}
    assert q["events"]["rechosen"] and q["events"]["event_model"] == "rules"
    assert set(q["events"]["event_models"].values()) == {"rules"}
    assert (q["people_alerts"], q["event_alerts"]) == (len(people), len(events))
    assert f"and {len(events)} event alerts (chosen again beside them; event scorer rules)" in res.output

    # the ledger records the queue as written: its counts, and every event alert in it
    entries = ledger.read_entries(run / ledger.LEDGER_FILE)
    last = [e["payload"] for e in entries if e["kind"] == "queue"][-1]
    assert (last["people_alerts"], last["event_alerts"], last["written_by"]) == (len(people), len(events), "riskmodel score")
    assert last["events_chosen_beside"] == q["events_chosen_beside"], "the record says which queue the events went beside"
    assert set(events.alert_id) <= {e["payload"]["alert_id"] for e in entries if e["kind"] == "alert"}
    assert ledger.verify(run / ledger.LEDGER_FILE).ok

    # re-queued back with the trained model, the events are the run's again
    res = _score(run, "--model", card0["model"], "--policy", card0["policy"]["policy"])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(_comparable(_events(pd.read_parquet(run / "alerts.parquet"))),
                                  _comparable(_events(before)), check_dtype=False)


def _supervised(run, event_model: str = "logistic", data_source=None):
    """The run as if its settings had asked for a supervised event scorer (the card is what 'score' reads)."""
    card = _card(run)
    card["settings"]["scoring"]["event_model"] = event_model
    if data_source is not None:
        card["data_source"] = str(data_source)
    (run / "model_card.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    return card


def test_a_supervised_event_scorer_is_fitted_again_on_the_run_s_labels(small_run, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    card = _supervised(run)
    other = _other_model(run)
    res = _score(run, "--model", other)
    assert res.exit_code == 0, res.output
    after = pd.read_parquet(run / "alerts.parquet")
    people = after[(after.entity_type == "employee").to_numpy()]

    data = Dataset.from_dir(card["data_source"])
    labels = case_labels(data, asof=pd.Timestamp(card["test_periods"][0]),
                         lookback_months=card["settings"]["scoring"]["label_lookback_months"],
                         X=pd.read_parquet(run / "features_people.parquet"))
    expected = _expected(run, people, "logistic", labels)
    assert "logistic" in set(expected.model), "some event type must have positive labels for the test to bite"
    pd.testing.assert_frame_equal(_comparable(_events(after)), _comparable(expected), check_dtype=False)
    q = _card(run)["queue"]
    assert q["events"]["rechosen"] and card["data_source"] in q["events"]["labels"]
    assert "logistic" in q["events"]["event_models"].values() and _card(run)["event_models"] == q["events"]["event_models"]
    assert q["events_chosen_beside"]["model"] == other


def test_without_the_run_s_dataset_the_events_are_kept_and_that_is_said(small_run, small_company, tmp_path):
    run = _copy(small_run, tmp_path / "run")
    card = _supervised(run, data_source=tmp_path / "moved")
    before = pd.read_parquet(run / "alerts.parquet")
    other = _other_model(run)
    res = _score(run, "--model", other)
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(_comparable(_events(pd.read_parquet(run / "alerts.parquet"))),
                                  _comparable(_events(before)), check_dtype=False)
    q = _card(run)["queue"]
    assert q["events_chosen_beside"] == {"model": card["model"], "policy": card["policy"]["policy"], "source": "riskmodel run"}
    assert not q["events"]["rechosen"] and "score --data DIR" in q["events"]["note"]
    assert f"kept from the run, chosen beside the people queue of {card['model']}" in res.output
    assert "note: the run's event scorer (logistic)" in res.output and str(tmp_path / "moved") in res.output

    # given the dataset, they are chosen again beside the current queue
    res = _score(run, "--model", other, "--data", small_company)
    assert res.exit_code == 0, res.output
    q = _card(run)["queue"]
    assert q["events"]["rechosen"] and q["events_chosen_beside"]["model"] == other
    assert "chosen again beside them; event scorer logistic" in res.output

    # a dataset that is not the run's is refused, and nothing is written
    other_data = tmp_path / "other"
    shutil.copytree(small_company, other_data, ignore=shutil.ignore_patterns("truth"))
    claims = pd.read_parquet(other_data / "claims.parquet")  # another company: one claim's amount differs
    claims.loc[0, "amount"] = claims.loc[0, "amount"] + 1
    claims.to_parquet(other_data / "claims.parquet", index=False)
    written = (run / "alerts.parquet").read_bytes()
    res = _score(run, "--model", "logistic" if other != "logistic" else "iforest", "--data", other_data)
    assert res.exit_code == 2 and "is not the data the run" in res.output and "Traceback" not in res.output
    assert (run / "alerts.parquet").read_bytes() == written

    # a card whose data source moved, regenerated in place (another fingerprint): kept, and said why
    _supervised(run, data_source=other_data)
    res = _score(run, "--model", other)
    assert res.exit_code == 0, res.output
    q = _card(run)["queue"]
    assert not q["events"]["rechosen"] and "no longer the run's" in q["events"]["note"]
    assert q["events_chosen_beside"]["model"] == other, "kept: chosen beside the queue they were chosen beside before"


@pytest.mark.parametrize("fork", [False, True])
def test_the_event_capacity_the_run_recorded_is_used(small_run, tmp_path, fork):
    """A re-queue changes the people model or policy, not the event scorer: the run's event capacity stands."""
    run = _copy(small_run, tmp_path / "run")
    card = _card(run)
    settings = tmp_path / "settings.yaml"
    settings.write_text("scoring:\n  event_capacity: 1\n", encoding="utf-8")
    out = tmp_path / "out"
    res = _score(run, "--model", _other_model(run), "--settings", settings, *(["--out", out] if fork else []))
    assert res.exit_code == 0, res.output
    target = out if fork else run
    events = _events(pd.read_parquet(target / "alerts.parquet"))
    assert events.groupby(["entity_type", "period"]).size().max() == card["event_capacity"] > 1
    q = _card(target)["queue"]
    assert q["events"]["event_capacity"] == _card(target)["review_workload"]["event_capacity_per_type"] == card["event_capacity"]
