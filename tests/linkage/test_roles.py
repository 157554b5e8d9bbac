"""Roles decide views and columns, and the commands enforce it: an education officer cannot get identified data."""

from __future__ import annotations

import json

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel.cli import main
from riskmodel.ledger import read_entries, verify
from riskmodel.linkage.commands import ROLE_FREE, register
from riskmodel.linkage.deid import find_leaks
from riskmodel.linkage.roles import POLICIES, AccessDenied, RoleView, require, resolve_role
from riskmodel.scoring.feedback import ROLES


def _commands() -> dict[tuple[str, str], click.Command]:
    grp = click.Group("riskmodel")
    register(grp)
    return {(g, c): cmd for g, sub in grp.commands.items() for c, cmd in sub.commands.items()}


def test_every_role_has_a_policy_and_only_two_see_identified_data():
    assert set(POLICIES) == set(ROLES)
    assert {r for r, p in POLICIES.items() if p.identified} == {"supervisor", "analyst"}
    assert not POLICIES["education_officer"].identified and not POLICIES["leadership"].identified
    assert "tiers" in POLICIES["supervisor"].views and all("tiers" not in p.views for r, p in POLICIES.items() if r != "supervisor")
    with pytest.raises(AccessDenied, match="supervisor, analyst"):
        require("education_officer", "ledger")


def test_every_command_that_shows_data_takes_a_role():
    for (g, c), cmd in _commands().items():
        has_role = any(p.name == "role" for p in cmd.params)
        assert has_role or (g, c) in ROLE_FREE, f"riskmodel {g} {c} shows data without --role"


def test_a_pinned_role_cannot_be_exceeded(monkeypatch):
    monkeypatch.setenv("RISKMODEL_ROLE", "education_officer")
    assert resolve_role(None) == "education_officer"
    with pytest.raises(AccessDenied, match="pinned"):
        resolve_role("supervisor")


def test_deidentified_search_refuses_filters_that_would_undo_it(small_ds, pseud):
    v = RoleView("education_officer", small_ds, pseudonymizer=pseud)
    with pytest.raises(AccessDenied, match="department or person"):
        v.archive_search("问题", department="D013")
    with pytest.raises(AccessDenied, match="department or person"):
        v.archive_search("问题", person="E00001")
    assert set(v.archive_search("问题", year=2025, limit=None).year_label) <= {"2025"}


def test_identified_roles_get_ids_and_deidentified_roles_do_not(small_ds, small_run, pseud):
    run = small_run["dir"]
    ident = RoleView("analyst", small_ds).alerts(run)
    assert "entity_id" in ident and "evidence" in ident
    assert not find_leaks(ident, small_ds).empty  # the scan would catch an identified export
    de = RoleView("education_officer", small_ds, pseudonymizer=pseud).alerts(run)
    assert {"entity_id", "evidence", "department_id", "position_id"}.isdisjoint(de.columns)
    assert de.entity_ref.str.startswith("EMP-").all() and (de.gen_level >= 2).all()
    assert find_leaks(de, small_ds).empty


def test_the_same_person_gets_the_same_pseudonym_in_every_report(small_ds, small_run, pseud):
    v = RoleView("education_officer", small_ds, pseudonymizer=pseud)
    ce = small_run["confirmed_employee"]
    alerts = v.alerts(small_run["dir"])
    ref = alerts.entity_ref[alerts.decision == "confirmed"].iloc[0]
    assert ref == pseud(ce)
    prof = v.profiles(small_run["dir"], employee=ref)
    assert prof.employee_ref.tolist() == [ref] and prof.alerts_confirmed.iloc[0] == 1
    rec = v.recommendations(small_run["dir"], employees=[ref], n=2)
    assert set(rec.employee_ref) == {ref}


# -- the commands ------------------------------------------------------------------------------------------


@pytest.fixture
def cli(key_env):
    runner = CliRunner()

    def call(*args: str):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return call


def test_education_officer_cannot_get_identified_data_through_any_command(cli, small_company, small_run, small_tables, pseud, tmp_path):
    run, data, role = small_run["dir"], small_company, "education_officer"
    a_person = small_tables["employees"].employee_id.iloc[0]
    plans = tmp_path / "plans.csv"
    pd.DataFrame({"department_id": [small_run["cluster_post"][0]], "position_id": [small_run["cluster_post"][1]],
                  "plan_date": ["2025-04-01"]}).to_csv(plans, index=False)
    out = tmp_path / "out"
    allowed = {
        ("archive", "search"): [["archive", "search", "问题", "--data", data, "--out", out / "search.csv"],
                                ["archive", "search", "虚开发票", "--data", data]],
        ("archive", "stats"): [["archive", "stats", "--data", data, "--out", out / "stats"]],
        ("export", "alerts"): [["export", "alerts", "--run", run, "--out", out / "alerts.csv"],
                               ["export", "alerts", "--run", run, "--out", out / "alerts.parquet"],
                               ["export", "alerts", "--run", run, "--out", out / "alerts.jsonl"]],
        ("export", "digests"): [["export", "digests", "--data", data, "--run", run, "--out", out / "digests.json"]],
        ("education", "plan"): [["education", "plan", "--data", data, "--run", run, "--out", out / "plan"],
                                ["education", "plan", "--data", data, "--run", run]],
        ("education", "recommend"): [["education", "recommend", "--data", data, "--run", run, "-n", "2", "--out", out / "rec.csv"],
                                     ["education", "recommend", "--data", data, "--employee", pseud(a_person), "-n", "2"]],
        ("education", "progress"): [["education", "progress", "--data", data, "--out", out / "progress"],
                                    ["education", "progress", "--data", data, "-n", "3"]],
        ("education", "effect"): [["education", "effect", "--data", data, "--run", run, "--plans", plans, "--window", "2"]],
        ("profile", "list"): [["profile", "list", "--data", data, "--run", run, "--out", out / "profiles.csv"]],
        ("profile", "show"): [["profile", "show", pseud(small_run["confirmed_employee"]), "--data", data, "--run", run]],
    }
    denied = {
        ("archive", "search"): [["archive", "search", "问题", "--data", data, "--department", "D013"],
                                ["archive", "search", "问题", "--data", data, "--person", a_person]],
        ("education", "recommend"): [["education", "recommend", "--data", data, "--employee", a_person]],
        ("profile", "show"): [["profile", "show", a_person, "--data", data]],
        ("profile", "set-tier"): [["profile", "set-tier", a_person, "red", "--reason", "测试原因", "--actor", "x",
                                   "--data", data, "--ledger", tmp_path / "l.jsonl"]],
        ("deid", "scan"): [["deid", "scan", out, "--data", data]],
        ("deid", "resolve"): [["deid", "resolve", pseud(a_person), "--data", data]],
        ("ledger", "show"): [["ledger", "show", run / "ledger.jsonl"]],
        ("ledger", "log-alerts"): [["ledger", "log-alerts", "--run", run]],
    }
    with_role = {k for k, c in _commands().items() if any(p.name == "role" for p in c.params)}
    assert with_role == set(allowed) | set(denied), "every command with --role is exercised here"
    shown = {}
    for key, calls in allowed.items():
        for i, args in enumerate(calls):
            r = cli(*args, "--role", role)
            assert r.exit_code == 0, (args, r.output)
            shown[f"{' '.join(key)} #{i}"] = r.output
    for key, calls in denied.items():
        for args in calls:
            r = cli(*args, "--role", role)
            assert r.exit_code == 2, (args, r.output)
            assert any(w in r.output for w in ("may not", "cannot", "pseudonym")), r.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 12
    leaks = find_leaks({**shown, **{str(p): p for p in files}}, small_company)
    assert leaks.empty, leaks.head()
    assert not (tmp_path / "l.jsonl").exists()
    # what was exported is on the record, and the record holds
    reports = [e for e in read_entries(run / "ledger.jsonl", "report") if e["actor_role"] == role]
    assert {e["payload"]["report"] for e in reports} >= {"alerts", "digests", "education_plan"}
    assert verify(run / "ledger.jsonl").ok


@pytest.mark.parametrize("role", ["leadership", "model_reviewer"])
def test_other_deidentified_roles_get_deidentified_alerts(cli, small_company, small_run, tmp_path, role):
    r = cli("export", "alerts", "--role", role, "--run", small_run["dir"], "--out", tmp_path / "a.csv")
    assert r.exit_code == 0, r.output
    got = pd.read_csv(tmp_path / "a.csv")
    assert "entity_id" not in got and "evidence" not in got
    assert find_leaks(tmp_path / "a.csv", small_company).empty


def test_deidentified_export_needs_the_key(monkeypatch, small_run, tmp_path):
    monkeypatch.delenv("RISKMODEL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("RISKMODEL_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.delenv("RISKMODEL_ROLE", raising=False)
    r = CliRunner().invoke(main, ["export", "alerts", "--role", "education_officer", "--run", str(small_run["dir"]),
                                  "--out", str(tmp_path / "a.csv")])
    assert r.exit_code == 2 and "riskmodel deid keygen" in r.output and not (tmp_path / "a.csv").exists()


def test_analyst_export_is_identified_and_on_the_record(cli, small_run, tmp_path):
    r = cli("export", "alerts", "--role", "analyst", "--run", small_run["dir"], "--out", tmp_path / "a.json")
    assert r.exit_code == 0, r.output
    rows = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert {x["entity_id"] for x in rows} >= set(small_run["cluster"])
    last = read_entries(small_run["dir"] / "ledger.jsonl", "report")[-1]
    assert last["actor_role"] == "analyst" and last["payload"]["identified"] is True and len(last["payload"]["sha256"]) == 64


def test_pinned_role_is_enforced_by_the_commands(cli, monkeypatch, small_company):
    monkeypatch.setenv("RISKMODEL_ROLE", "education_officer")
    r = cli("archive", "search", "问题", "--role", "analyst", "--data", small_company)
    assert r.exit_code == 2 and "pinned" in r.output
    r = cli("archive", "search", "虚开发票", "--data", small_company)
    assert r.exit_code == 0 and "WC-" in r.output
