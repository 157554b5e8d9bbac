"""Commands that compute check their dataset first: Parquet folders in SQL as read in place, other sources as validate does."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel.cli import main
from riskmodel.data.contracts import validate_dataset
from riskmodel.data.dataset import Dataset
from riskmodel.data.parquet_check import check_parquet_folder, manifest_matches
from riskmodel.data.store import write_manifest
from riskmodel.engine import open_dataset
from riskmodel.errors import DataContractError


def _rules(problems, severity="error"):
    return {(p.table, p.column, p.rule) for p in problems if p.severity == severity}


def test_padded_ids_in_parquet_stop_the_check_and_validate_warns(tmp_path, valid_tables, write_dataset):
    valid_tables["claims"]["employee_id"] = valid_tables["claims"]["employee_id"] + " "
    folder = write_dataset(valid_tables, tmp_path / "pq", fmt="parquet")
    with pytest.raises(DataContractError) as exc:
        Dataset.from_dir(folder, check=True)
    assert _rules(exc.value.problems) == {("claims", "employee_id", "padded_text")}  # not also a foreign-key error
    assert "CL01 ('E002 ')" in str(exc.value) and "--write-parquet" in str(exc.value)
    report = validate_dataset(folder)  # the pandas reading trims them: valid, with the warning that run refuses it
    assert report.ok and ("claims", "employee_id", "padded_text") in _rules(report.problems, "warning")
    assert len(Dataset.from_dir(folder).sql("SELECT * FROM claims")) == 2  # unchecked, as before


def test_text_dates_and_amounts_in_parquet_are_stored_type_errors(tmp_path, valid_tables, write_dataset):
    claims = valid_tables["claims"]
    claims["expense_date"] = claims["expense_date"].dt.strftime("%Y/%m/%d")
    claims["amount"] = claims["amount"].map(lambda v: f"{v:.2f}")
    folder = write_dataset(valid_tables, tmp_path / "pq", fmt="parquet")
    report = check_parquet_folder(folder)
    assert _rules(report.problems) == {("claims", "expense_date", "stored_type"), ("claims", "amount", "stored_type")}
    assert "claims.expense_date is stored as VARCHAR" in report.errors[0].message
    with pytest.raises(DataContractError, match="stored as VARCHAR"):
        open_dataset(folder)


def test_sql_check_finds_what_the_pandas_check_finds(tmp_path, valid_tables, write_dataset):
    t = valid_tables
    t["claims"].loc[1, "claim_id"] = "CL01"                              # unique
    t["claims"].loc[0, "amount"] = -5.0                                  # ge
    t["claims"].loc[0, "category"] = "karaoke"                           # allowed
    t["employees"].loc[0, "department_id"] = "D99"                       # foreign key
    t["employees"].loc[1, "birth_date"] = pd.Timestamp("1800-01-01")     # plausible date
    t["purchase_orders"].loc[0, "order_date"] = pd.Timestamp("2203-05-01")
    t["travel_records"].loc[0, "end_date"] = t["travel_records"].loc[0, "start_date"] - pd.Timedelta(days=3)
    t["positions"].loc[0, "sensitivity"] = pd.NA                         # not null
    folder = write_dataset(t, tmp_path / "pq", fmt="parquet")
    sql, pandas = check_parquet_folder(folder), validate_dataset(folder)
    assert _rules(sql.problems) == _rules(pandas.problems)
    assert {("claims", "claim_id", "unique"), ("employees", "department_id", "foreign_key"),
            ("employees", "birth_date", "plausible_date"), ("purchase_orders", "order_date", "plausible_date"),
            ("positions", "sensitivity", "not_null"), ("travel_records", "start_date", "date_order")} <= _rules(sql.problems)
    by_rule = {p.rule + str(p.column): p for p in sql.errors}
    assert by_rule["plausible_dateorder_date"].example_ids == ("PO01",)
    assert "PO01 (2203-05-01)" in by_rule["plausible_dateorder_date"].message


def test_a_matching_manifest_is_trusted_and_a_changed_file_is_checked(tmp_path, valid_tables, write_dataset):
    folder = write_dataset(valid_tables, tmp_path / "pq", fmt="parquet")
    write_manifest(folder, {"converted_by": "test"})
    recorded = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["fingerprint"]
    assert manifest_matches(folder) and open_dataset(folder).fingerprint == recorded
    bad = valid_tables["claims"].assign(employee_id=lambda d: d.employee_id + " ")
    bad.to_parquet(folder / "claims.parquet", index=False)
    assert not manifest_matches(folder)
    with pytest.raises(DataContractError, match="padded_text"):
        open_dataset(folder)
    # changed but valid: checked, and the run names the data it read, not the manifest's
    valid_tables["claims"].assign(amount=lambda d: d.amount + 1).to_parquet(folder / "claims.parquet", index=False)
    assert not manifest_matches(folder)
    assert open_dataset(folder).fingerprint not in (None, recorded)


def test_csv_sources_are_read_once_and_checked(tmp_path, valid_tables, write_dataset):
    valid_tables["employees"].loc[0, "hire_date"] = pd.Timestamp("2099-01-01")
    folder = write_dataset(valid_tables, tmp_path / "csv")
    with pytest.raises(DataContractError, match=r"employees.hire_date: 1 row with an implausible date .*E001 \(2099-01-01\)"):
        open_dataset(folder)
    assert "E001" in str(open_dataset(folder, check=False).sql("SELECT employee_id FROM employees").employee_id.tolist())


def test_scientific_invoice_numbers_are_a_warning(tmp_path, valid_tables, write_dataset):
    valid_tables["claims"]["invoice_number"] = ["8.55571E+19", "8.55571E+19"]
    report = validate_dataset(write_dataset(valid_tables, tmp_path / "csv"))
    assert report.ok and ("claims", "invoice_number", "scientific_notation") in _rules(report.problems, "warning")


def test_commands_refuse_a_broken_dataset_before_any_work(tmp_path, valid_tables, write_dataset):
    valid_tables["purchase_orders"].loc[0, "order_date"] = pd.Timestamp("2203-05-01")
    folder = write_dataset(valid_tables, tmp_path / "pq", fmt="parquet")
    runner = CliRunner()
    for args, out in ((["run", "--data", str(folder), "--out", str(tmp_path / "run"), "--quiet"], tmp_path / "run"),
                      (["features", str(folder), "--out", str(tmp_path / "feat"), "--quiet"], tmp_path / "feat"),
                      (["backtest", "--data", str(folder), "--quiet"], None)):
        r = runner.invoke(main, args)
        assert r.exit_code == 2, (args, r.output)
        assert "purchase_orders.order_date: 1 row with an implausible date" in r.output and "PO01 (2203-05-01)" in r.output
        assert "Traceback" not in r.output and (out is None or not out.exists())


def test_features_takes_mapping_and_encoding(tmp_path, valid_tables, write_dataset):
    valid_tables["claims"] = valid_tables["claims"].rename(columns={"amount": "金额"})
    folder = write_dataset(valid_tables, tmp_path / "gbk", encoding="gbk")
    (tmp_path / "map.yaml").write_text("columns:\n  claims:\n    金额: amount\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["features", str(folder), "--mapping", str(tmp_path / "map.yaml"), "--encoding", "gbk",
                                  "--only", "RMB-001", "--out", str(tmp_path / "feat"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "feat").is_dir()
    shutil.rmtree(tmp_path / "feat")
    r = CliRunner().invoke(main, ["features", str(folder), "--mapping", str(tmp_path / "map.yaml"), "--quiet",
                                  "--out", str(tmp_path / "feat")])
    assert r.exit_code == 2 and "decodes as GBK" in r.output and "--write-parquet" in r.output


def test_run_on_gbk_files_names_the_conversion_route_once(tmp_path, valid_tables, write_dataset):
    folder = write_dataset(valid_tables, tmp_path / "gbk", encoding="gbk")
    r = CliRunner().invoke(main, ["run", "--data", str(folder), "--out", str(tmp_path / "run"), "--quiet"])
    assert r.exit_code == 2 and not (tmp_path / "run").exists()
    assert "employees.csv is not valid UTF-8" in r.output and "departments.csv is not valid UTF-8" in r.output
    assert r.output.count("decodes as GBK") >= 2 and r.output.count("--encoding auto") == 1  # one hint for all files
    assert f"riskmodel validate {folder} --mapping MAPPING.yaml --encoding ENC --write-parquet OUT" in r.output
