"""De-identification: keys and pseudonyms, scrubbing, k-anonymity, digests, and the leak scan."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from riskmodel import config
from riskmodel.linkage.deid import (Deidentifier, IdentifierIndex, LeakError, PseudonymKeyError, Pseudonymizer, assert_no_leaks,
                                    create_key, find_leaks, load_key, warning_digests)
from riskmodel.linkage.roles import RoleView

DEID_ROLES = ("education_officer", "leadership", "model_reviewer")


# -- the key ---------------------------------------------------------------------------------------------------


def test_missing_key_says_how_to_create_one(monkeypatch):
    monkeypatch.delenv("RISKMODEL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("RISKMODEL_PSEUDONYM_KEY_FILE", raising=False)
    with pytest.raises(PseudonymKeyError, match="riskmodel deid keygen"):
        load_key()


def test_keygen_writes_a_private_key_outside_the_repository(tmp_path, monkeypatch):
    p = create_key(tmp_path / "k" / "pseudonym.key")
    assert len(p.read_text().strip()) == 64
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    with pytest.raises(PseudonymKeyError, match="--force"):
        create_key(p)
    with pytest.raises(PseudonymKeyError, match="inside the repository"):
        create_key(config.PROJ_ROOT / "pseudonym.key")
    assert not (config.PROJ_ROOT / "pseudonym.key").exists()
    monkeypatch.delenv("RISKMODEL_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("RISKMODEL_PSEUDONYM_KEY_FILE", str(p))
    assert load_key() == bytes.fromhex(p.read_text().strip())


def test_short_key_is_refused(monkeypatch):
    monkeypatch.setenv("RISKMODEL_PSEUDONYM_KEY", "short")
    with pytest.raises(PseudonymKeyError, match="too short"):
        load_key()


def test_same_person_same_pseudonym_under_one_key_only():
    a, b = Pseudonymizer(b"a" * 32), Pseudonymizer(b"b" * 32)
    assert a("E00001") == a("E00001") != a("E00002")
    assert a("E00001") != b("E00001")
    assert a("E00001", "employee") != a("E00001", "grower")


# -- scrubbing and generalisation ---------------------------------------------------------------------------


def test_scrub_replaces_names_ids_and_unknown_numbers(small_ds, small_tables, pseud):
    emp = small_tables["employees"].iloc[5]
    grower = small_tables["growers"].iloc[3]
    d = Deidentifier(small_ds, pseud)
    text = (f"经查，{emp['name']}（身份证{emp.id_number}，电话{emp.phone}）与烟农{grower['name']}（账户{grower.bank_account}）"
            f"在{emp.address}见面；另一号码13912345678，员工号{emp.employee_id}。")
    out = d.scrub_text(text, {emp["name"]: "某采购员"})
    assert find_leaks(out, small_ds).empty
    assert "某采购员" in out and "某某" in out and "[电话已脱敏]" in out
    assert pseud(emp.employee_id) in out


def test_generalisation_reaches_k_and_hides_a_unique_post(small_ds, pseud):
    d = Deidentifier(small_ds, pseud, k=3)
    ph = small_ds.table("post_history")
    year = 2024
    on = ph[(ph.start_date <= f"{year}-12-31") & (ph.end_date.isna() | (ph.end_date >= f"{year}-01-01"))]
    sizes = on.groupby(["department_id", "position_id"]).employee_id.nunique()
    unique_post = sizes[sizes == 1].index[0]
    big_post = sizes[sizes >= 3].index[0]
    f = pd.DataFrame({"department_id": [unique_post[0], big_post[0]], "position_id": [unique_post[1], big_post[1]], "year": year})
    g = d.generalise(f)
    assert g.gen_level.tolist()[0] >= 1 and g.gen_level.tolist()[1] == 0
    assert (g.class_size >= 3).all()
    dept_names = set(small_ds.table("departments")["name"])
    assert g.unit_zh.iloc[0] not in dept_names  # the small unit is no longer named
    # with a floor, nobody is shown with their exact department and post
    assert (d.generalise(f, min_level=2).gen_level >= 2).all()


def test_generalisation_is_shared_within_a_group(small_ds, pseud):
    d = Deidentifier(small_ds, pseud, k=3)
    ph = small_ds.table("post_history")
    on = ph[ph.end_date.isna()]
    sizes = on.groupby(["department_id", "position_id"]).employee_id.nunique()
    small, big = sizes[sizes == 1].index[0], sizes[sizes >= 3].index[0]
    f = pd.DataFrame({"department_id": [small[0], big[0]], "position_id": [small[1], big[1]], "year": 2025, "who": "EMP-x"})
    g = d.generalise(f, group="who")
    assert g.gen_level.nunique() == 1


# -- warning-case digests ---------------------------------------------------------------------------------------


def test_digests_one_per_closed_case_without_names(small_ds, small_tables, pseud):
    d = Deidentifier(small_ds, pseud, k=3)
    dg = warning_digests(small_ds, d)
    cases = small_tables["cases"]
    assert len(dg) == (cases.status == "closed").sum()
    assert find_leaks(dg, small_ds).empty
    assert (dg.class_size[dg.gen_level < 4] >= 3).all()
    names = set(small_tables["employees"]["name"])
    assert not any(n in t for t in dg.summary_zh for n in names if len(n) >= 2)
    assert (dg.summary_zh.str.contains("某") | dg.summary_zh.str.contains("有关人员")).all()
    assert dg.lessons_zh.str.len().gt(0).all() and dg.material_ids.str.len().gt(0).all()


def test_digests_include_confirmed_alerts(small_ds, small_run, pseud):
    dg = warning_digests(small_ds, Deidentifier(small_ds, pseud), run_dir=small_run["dir"])
    conf = dg[dg.source == "confirmed_alert"]
    assert len(conf) == 1
    assert find_leaks(dg, small_ds).empty


# -- the leak scan ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deid_outputs(small_ds, small_run, pseud):
    """Every de-identified output the linkage room produces, for every de-identified role."""
    outs: dict[str, object] = {}
    for role in DEID_ROLES:
        v = RoleView(role, small_ds, pseudonymizer=pseud)
        run = small_run["dir"]
        calls = {"alerts": lambda: v.alerts(run), "archive": lambda: v.archive_search("问题", limit=None),
                 "statistics": v.archive_statistics, "digests": lambda: v.digests(run),
                 "education_plan": lambda: v.education_plan(run), "recommendations": lambda: v.recommendations(run, n=2),
                 "learning": v.learning, "profiles": lambda: v.profiles(run)}
        for view, call in calls.items():
            if view in v.policy.views:
                res = call()
                for name, df in (res.items() if isinstance(res, dict) else [(view, res)]):
                    outs[f"{role}/{view}/{name}"] = df
    return outs


def test_leak_scan_passes_on_every_deidentified_output(deid_outputs, small_ds):
    assert len(deid_outputs) >= 20
    leaks = find_leaks(deid_outputs, small_ds)
    assert leaks.empty, leaks.head()


def test_deidentified_outputs_hold_no_raw_ids(deid_outputs, small_tables):
    ids = set(small_tables["employees"].employee_id)
    for name, df in deid_outputs.items():
        for c in df.columns:
            assert not df[c].astype(str).isin(ids).any(), (name, c)


@pytest.fixture(scope="module")
def index(small_ds):
    return IdentifierIndex.from_data(small_ds)


@pytest.mark.parametrize("table,column", [("employees", "name"), ("employees", "id_number"), ("employees", "phone"),
                                          ("employees", "address"), ("employees", "bank_account"), ("employees", "employee_id"),
                                          ("growers", "name"), ("growers", "bank_account"), ("suppliers", "legal_rep_name")])
def test_leak_scan_fails_when_an_identifier_is_planted(deid_outputs, small_ds, small_tables, index, table, column):
    value = str(small_tables[table][column].iloc[7])
    target = next(k for k in deid_outputs if k.endswith("/digests/digests"))
    df = deid_outputs[target].copy()
    df.loc[df.index[0], "summary_zh"] = df.summary_zh.iloc[0] + f"（{value}）"
    assert find_leaks({target: deid_outputs[target]}, small_ds, index=index).empty
    leaks = find_leaks({target: df}, small_ds, index=index)
    assert len(leaks) >= 1
    assert (leaks.table == table).any() or value in set(small_tables["employees"]["name"])
    assert value not in leaks.to_string()  # the report masks what it found


def test_leak_scan_reads_lists_files_and_folders(small_ds, small_tables, tmp_path):
    name = small_tables["employees"]["name"].iloc[3]
    assert len(find_leaks(pd.DataFrame({"reasons": [[{"text_zh": f"经查{name}"}]]}), small_ds)) == 1
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.csv").write_text("x\n无\n", encoding="utf-8")
    assert find_leaks(tmp_path / "out", small_ds).empty
    (tmp_path / "out" / "b.json").write_text(f'{{"who": "{small_tables["growers"].phone.iloc[0]}"}}', encoding="utf-8")
    assert set(find_leaks(tmp_path / "out", small_ds).column) == {"phone"}


def test_assert_no_leaks_refuses_without_repeating_the_value(small_ds, small_tables):
    phone = small_tables["employees"].phone.iloc[0]
    with pytest.raises(LeakError) as e:
        assert_no_leaks({"x": f"电话{phone}"}, small_ds)
    assert phone not in str(e.value) and "employees.phone" in str(e.value)


def test_identifier_index_covers_every_identifier_column(small_ds):
    from riskmodel.data.schema import identifier_columns

    idx = IdentifierIndex.from_data(small_ds)
    found = set(idx.values.values())
    for t, cols in identifier_columns().items():
        for c in cols:
            assert (t, c) in found
