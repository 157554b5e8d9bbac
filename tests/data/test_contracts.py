"""The data contract: a valid dataset passes; each kind of bad input gets its own clear problem."""

from __future__ import annotations

import json
import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel import config
from riskmodel.cli import main
from riskmodel.data.contracts import (
    NON_EMPTY_TABLES,
    Problem,
    ValidationReport,
    data_dictionary_markdown,
    require_valid,
    table_schema,
    validate_dataset,
    validate_tables,
)
from riskmodel.data.io import load_dataset
from riskmodel.data.schema import TABLES, TABLES_BY_NAME
from riskmodel.errors import DataContractError, InputFileError, RiskModelError


def run_cli(*args: str):
    """Invoke ``riskmodel validate``; return (exit code, output), asserting it ended without a traceback."""
    result = CliRunner().invoke(main, ["validate", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def only(report: ValidationReport, rule: str, severity: str = "error") -> Problem:
    """The single problem of this rule and severity in the report."""
    found = [p for p in report.problems if p.rule == rule and p.severity == severity]
    assert len(found) == 1, report.to_text()
    return found[0]


def error_rules(report: ValidationReport) -> set[tuple[str | None, str | None, str]]:
    return {(p.table, p.column, p.rule) for p in report.errors}


# -- the valid dataset ---------------------------------------------------------------------
def test_valid_tables_in_memory_have_no_problem_at_all(valid_tables):
    report = validate_tables(valid_tables)
    assert report.ok
    assert report.problems == []
    assert report.rows == {name: len(df) for name, df in valid_tables.items()}


def test_valid_csv_folder_passes_through_the_cli_with_exit_0(csv_dir):
    code, out = run_cli(csv_dir)
    assert code == 0
    assert "VALID: 0 errors, 0 warnings" in out
    assert f"{len(TABLES)} tables read" in out


def test_cli_json_output_is_machine_readable(csv_dir):
    code, out = run_cli(csv_dir, "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["ok"] is True and data["n_errors"] == 0 and data["problems"] == []
    assert data["tables"]["employees"] == {"file": str(csv_dir / "employees.csv"), "rows": 6}


def test_parquet_folder_is_valid_and_loads_with_contract_types(tmp_path, valid_tables, write_dataset):
    folder = write_dataset(valid_tables, tmp_path / "pq", fmt="parquet")
    assert validate_dataset(folder).problems == []
    tables = load_dataset(folder)
    assert str(tables["positions"]["sensitivity"].dtype) == "Int64"
    assert str(tables["employees"]["hire_date"].dtype) == "datetime64[us]"
    assert str(tables["categories"]["single_source"].dtype) == "boolean"
    assert tables["purchase_orders"]["tender_id"].isna().tolist() == [False, True]


def test_duckdb_database_is_valid(tmp_path, valid_tables, write_duckdb):
    db = write_duckdb(valid_tables, tmp_path / "company.duckdb")
    report = validate_dataset(db)
    assert report.problems == []
    assert report.files["bids"] == f"{db} (table bids)"
    code, _out = run_cli(db)
    assert code == 0


def test_duckdb_problems_name_the_database_table(tmp_path, valid_tables, write_duckdb):
    valid_tables["payments"].loc[1, "amount"] = -1.0
    db = write_duckdb({k: v for k, v in valid_tables.items() if k != "bids"}, tmp_path / "company.duckdb")
    report = validate_dataset(db)
    assert error_rules(report) == {("bids", None, "missing_table"), ("payments", "amount", "ge")}
    assert only(report, "ge").file == f"{db} (table payments)"


def test_truth_folder_and_manifest_are_ignored(csv_dir):
    (csv_dir / "truth").mkdir()
    (csv_dir / "truth" / "schemes.csv").write_text("scheme_id\nX1\n", encoding="utf-8")
    (csv_dir / "manifest.json").write_text("{}", encoding="utf-8")
    assert validate_dataset(csv_dir).problems == []


def test_require_valid_returns_typed_tables_of_a_valid_dataset(csv_dir):
    tables = require_valid(csv_dir)
    assert set(tables) == set(TABLES_BY_NAME)
    assert tables["leaf_purchases"]["purchased_at"].iloc[0] == pd.Timestamp("2023-08-10 09:15:00")


# -- one bad thing at a time ----------------------------------------------------------------
def test_missing_column_names_table_column_and_the_columns_present(tmp_path, valid_tables, write_dataset):
    valid_tables["purchase_orders"] = valid_tables["purchase_orders"].drop(columns="amount")
    folder = write_dataset(valid_tables, tmp_path / "d")
    report = validate_dataset(folder)
    p = only(report, "missing_column")
    assert (p.table, p.column, p.file) == ("purchase_orders", "amount", str(folder / "purchase_orders.csv"))
    assert "purchase_orders: column 'amount' is missing" in p.message
    assert "columns present: po_id, requisition_id" in p.message
    assert "mapping file" in p.hint
    assert error_rules(report) == {("purchase_orders", "amount", "missing_column")}
    code, out = run_cli(folder)
    assert code == 1
    assert "NOT VALID: 1 error" in out and "column 'amount' is missing" in out


def test_misspelt_column_gets_a_suggestion_and_an_extra_column_warning(valid_tables):
    valid_tables["suppliers"] = valid_tables["suppliers"].rename(columns={"credit_code": "credit_cod"})
    report = validate_tables(valid_tables)
    assert "did you mean 'credit_cod'?" in only(report, "missing_column").message
    assert "credit_cod" in only(report, "extra_column", "warning").message


def test_text_in_an_amount_column_is_a_type_error_with_row_ids(csv_dir):
    path = csv_dir / "purchase_orders.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("78000.0", "七万八"), encoding="utf-8")
    report = validate_dataset(csv_dir)
    p = only(report, "dtype")
    assert (p.table, p.column, p.count, p.example_ids) == ("purchase_orders", "amount", 1, ("PO02",))
    assert p.message == ("purchase_orders.amount: 1 row whose value is not a number (float) [dtype]; "
                         "e.g. PO02 ('七万八')")
    assert "plain numbers" in p.hint
    # the unparsed value is not reported a second time as an empty cell
    assert error_rules(report) == {("purchase_orders", "amount", "dtype")}


def test_unparseable_date_is_a_type_error_not_a_crash(csv_dir):
    path = csv_dir / "employees.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2012-03-01", "2012-13-45"), encoding="utf-8")
    report = validate_dataset(csv_dir)
    p = only(report, "dtype")
    assert (p.table, p.column, p.example_ids) == ("employees", "hire_date", ("E003",))
    assert "not a date (date)" in p.message and "'2012-13-45'" in p.message


def test_in_memory_text_in_a_number_column_is_reported_not_raised(valid_tables):
    valid_tables["payments"]["amount"] = valid_tables["payments"]["amount"].astype(object)
    valid_tables["payments"].loc[1, "amount"] = "n/a?"
    p = only(validate_tables(valid_tables), "dtype")
    assert (p.table, p.column, p.example_ids) == ("payments", "amount", ("PM02",))


def test_duplicate_key(tmp_path, valid_tables, write_dataset):
    valid_tables["suppliers"] = pd.concat([valid_tables["suppliers"], valid_tables["suppliers"].iloc[[1]]])
    valid_tables["suppliers"].iloc[-1, valid_tables["suppliers"].columns.get_loc("credit_code")] = "91530400MA6K999999"
    report = validate_tables(valid_tables)
    p = only(report, "unique")
    assert (p.table, p.column, p.count, p.example_ids) == ("suppliers", "supplier_id", 2, ("S02",))
    assert p.message == "suppliers.supplier_id: 2 rows with a repeated supplier_id [unique]; e.g. S02"
    code, out = run_cli(write_dataset(valid_tables, tmp_path / "d"))
    assert code == 1 and "[unique]" in out


def test_duplicate_composite_key(valid_tables):
    mp = valid_tables["market_prices"]
    valid_tables["market_prices"] = pd.concat([mp, mp.iloc[[0]].assign(reference_unit_price=1.0)])
    p = only(validate_tables(valid_tables), "unique_key")
    assert (p.table, p.count, p.example_ids) == ("market_prices", 2, ("C01/2023-01-01",))
    assert "(category_id, month)" in p.message


def test_identifier_values_are_never_printed(valid_tables):
    emp = valid_tables["employees"]
    emp.loc[1, "id_number"] = emp.loc[0, "id_number"]
    p = only(validate_tables(valid_tables), "unique")
    assert (p.table, p.column, p.example_ids) == ("employees", "id_number", ("E001", "E002"))
    assert emp.loc[0, "id_number"] not in p.message


def test_dangling_foreign_key(tmp_path, valid_tables, write_dataset):
    valid_tables["bids"].loc[2, "supplier_id"] = "S99"
    folder = write_dataset(valid_tables, tmp_path / "d")
    report = validate_dataset(folder)
    p = only(report, "foreign_key")
    assert (p.table, p.column, p.example_ids) == ("bids", "supplier_id", ("BD03",))
    assert p.message == ("bids.supplier_id: 1 row pointing to a supplier_id missing from suppliers [foreign_key]; "
                         "e.g. BD03 ('S99')")
    assert "suppliers" in p.hint
    assert error_rules(report) == {("bids", "supplier_id", "foreign_key")}
    code, out = run_cli(folder)
    assert code == 1 and "BD03 ('S99')" in out


def test_empty_nullable_foreign_key_is_fine_but_empty_required_one_is_not(valid_tables):
    valid_tables["purchase_orders"].loc[0, "tender_id"] = None  # nullable
    valid_tables["purchase_orders"].loc[1, "supplier_id"] = None  # not nullable
    report = validate_tables(valid_tables)
    p = only(report, "not_null")
    assert (p.table, p.column, p.example_ids) == ("purchase_orders", "supplier_id", ("PO02",))
    assert error_rules(report) == {("purchase_orders", "supplier_id", "not_null")}


def test_negative_amount(csv_dir):
    path = csv_dir / "payments.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("290000.0", "-290000.0"), encoding="utf-8")
    report = validate_dataset(csv_dir)
    p = only(report, "ge")
    assert (p.table, p.column, p.example_ids) == ("payments", "amount", ("PM01",))
    assert p.message == "payments.amount: 1 row below the minimum 0 [ge]; e.g. PM01 (-290000.0)"
    assert error_rules(report) == {("payments", "amount", "ge")}


def test_value_above_maximum(valid_tables):
    valid_tables["learning_events"].loc[0, "test_score"] = 130.0
    p = only(validate_tables(valid_tables), "le")
    assert (p.table, p.column, p.example_ids) == ("learning_events", "test_score", ("EV01",))
    assert "above the maximum 100" in p.message


def test_dates_out_of_order(tmp_path, valid_tables, write_dataset):
    valid_tables["tenders"].loc[0, "close_date"] = pd.Timestamp("2023-01-01")
    valid_tables["claims"].loc[1, "submit_date"] = pd.Timestamp("2023-03-01")
    folder = write_dataset(valid_tables, tmp_path / "d")
    report = validate_dataset(folder)
    found = {(p.table, p.example_ids): p for p in report.errors if p.rule == "date_order"}
    assert set(found) == {("tenders", ("T01",)), ("claims", ("CL02",))}
    assert found[("tenders", ("T01",))].message == (
        "tenders.publish_date/close_date: 1 row with publish_date after close_date [date_order]; "
        "e.g. T01 (2023-01-15 > 2023-01-01)")
    assert len(report.errors) == 2
    code, _ = run_cli(folder)
    assert code == 1


def test_unknown_code(valid_tables):
    valid_tables["tenders"].loc[0, "method"] = "public"
    report = validate_tables(valid_tables)
    p = only(report, "allowed")
    assert (p.table, p.column, p.example_ids) == ("tenders", "method", ("T01",))
    assert "T01 ('public')" in p.message
    assert "open, invited, single_source" in p.hint


def test_example_ids_are_the_first_five_key_values(valid_tables):
    lp = valid_tables["leaf_purchases"]
    more = pd.concat([lp.iloc[[0]]] * 7, ignore_index=True)
    more["purchase_id"] = [f"LPX{i}" for i in range(7)]
    more["weight_kg"] = -1.0
    valid_tables["leaf_purchases"] = pd.concat([lp, more], ignore_index=True)
    p = only(validate_tables(valid_tables), "ge")
    assert p.count == 7
    assert p.example_ids == ("LPX0", "LPX1", "LPX2", "LPX3", "LPX4")
    assert p.message.endswith(", ...")


def test_rows_without_a_key_are_named_by_row_number(valid_tables):
    valid_tables["bids"].loc[1, "bid_id"] = None
    valid_tables["bids"].loc[1, "bid_amount"] = -3.0
    report = validate_tables(valid_tables)
    assert only(report, "not_null").example_ids == ("row 2",)
    assert only(report, "ge").example_ids == ("row 2",)


def test_every_problem_is_reported_not_just_the_first(tmp_path, valid_tables, write_dataset):
    valid_tables["payments"].loc[0, "amount"] = -1.0
    valid_tables["bids"].loc[0, "supplier_id"] = "S99"
    valid_tables["tenders"].loc[0, "method"] = "public"
    valid_tables["claims"] = valid_tables["claims"].drop(columns="city")
    valid_tables["employees"].loc[0, "gender"] = "M"
    folder = write_dataset(valid_tables, tmp_path / "d")
    report = validate_dataset(folder)
    assert error_rules(report) == {
        ("payments", "amount", "ge"), ("bids", "supplier_id", "foreign_key"), ("tenders", "method", "allowed"),
        ("claims", "city", "missing_column"), ("employees", "gender", "allowed"),
    }
    text = report.to_text()
    # grouped by table, in contract order, each group headed by the table and its file
    assert text.index("employees  (") < text.index("employees.gender") < text.index("tenders  (")
    assert text.index("tenders  (") < text.index("bids  (") < text.index("payments  (") < text.index("claims  (")


def test_missing_table(tmp_path, valid_tables, write_dataset):
    del valid_tables["bids"]
    folder = write_dataset(valid_tables, tmp_path / "d")
    report = validate_dataset(folder)
    p = only(report, "missing_table")
    assert p.table == "bids"
    assert "no bids.csv or bids.parquet" in p.message
    assert "mapping file" in p.hint
    assert len(report.errors) == 1
    code, out = run_cli(folder)
    assert code == 1 and "table 'bids' is missing" in out


def test_misnamed_table_file_is_pointed_out(csv_dir):
    (csv_dir / "stations.csv").rename(csv_dir / "station.csv")
    report = validate_dataset(csv_dir)
    assert "'station' is there" in only(report, "missing_table").message
    assert "did you mean 'stations'?" in only(report, "unknown_table", "warning").message


def test_gbk_csv_is_reported_with_the_encoding_to_use(csv_dir):
    path = csv_dir / "employees.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    report = validate_dataset(csv_dir)
    p = only(report, "unreadable_file")
    assert (p.table, p.file) == ("employees", str(path))
    assert "is not valid UTF-8 (byte 0xc0 on line 2); it decodes as GBK" in p.message
    assert "--encoding gbk" in p.hint
    # the unreadable table is not also called missing, and FKs into it are not checked
    assert [e.rule for e in report.errors] == ["unreadable_file"]
    code, out = run_cli(csv_dir)
    assert code == 1 and "--encoding gbk" in out
    with pytest.raises(InputFileError, match="employees.csv is not valid UTF-8.*--encoding gbk"):
        load_dataset(csv_dir)


def test_gbk_folder_reads_with_encoding_gbk(tmp_path, valid_tables, write_dataset):
    folder = write_dataset(valid_tables, tmp_path / "gbk", encoding="gbk")
    assert validate_dataset(folder, encoding="gbk").problems == []
    assert load_dataset(folder, encoding="gbk")["employees"]["name"].iloc[0] == "李建国"
    code, _ = run_cli(folder, "--encoding", "gbk")
    assert code == 0


def test_utf8_with_bom_is_read_by_default(tmp_path, valid_tables, write_dataset):
    folder = write_dataset(valid_tables, tmp_path / "bom", encoding="utf-8-sig")
    assert (folder / "departments.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert validate_dataset(folder).problems == []


def test_unknown_encoding_is_an_input_error(csv_dir):
    code, out = run_cli(csv_dir, "--encoding", "klingon")
    assert code == 2 and "unknown encoding 'klingon'" in out


def test_zero_byte_file_is_an_error(csv_dir):
    (csv_dir / "interviews.csv").write_bytes(b"")
    report = validate_dataset(csv_dir)
    p = only(report, "unreadable_file")
    assert p.table == "interviews" and "interviews.csv is an empty file (0 bytes)" in p.message
    assert "header row" in p.hint
    assert len(report.errors) == 1
    code, _ = run_cli(csv_dir)
    assert code == 1


def test_header_only_file_is_an_empty_table(csv_dir, valid_tables):
    valid_tables["interviews"].iloc[:0].to_csv(csv_dir / "interviews.csv", index=False)
    report = validate_dataset(csv_dir)
    assert report.ok
    p = only(report, "empty_table", "warning")
    assert p.table == "interviews"
    assert report.rows["interviews"] == 0


@pytest.mark.parametrize("table", NON_EMPTY_TABLES)
def test_header_only_backbone_table_is_an_error(csv_dir, valid_tables, table):
    valid_tables[table].iloc[:0].to_csv(csv_dir / f"{table}.csv", index=False)
    report = validate_dataset(csv_dir)
    p = only(report, "empty_table")
    assert p.table == table and "every other table refers to it" in p.message


def test_malformed_csv_names_the_line(csv_dir):
    path = csv_dir / "categories.csv"
    path.write_text(path.read_text(encoding="utf-8") + "C03,多余,Extra,kg,False,oops\n", encoding="utf-8")
    p = only(validate_dataset(csv_dir), "unreadable_file")
    assert p.table == "categories" and "line 4" in p.message


def test_unreadable_parquet_is_an_error(tmp_path, valid_tables, write_dataset):
    folder = write_dataset(valid_tables, tmp_path / "pq", fmt="parquet")
    (folder / "suppliers.parquet").write_bytes(b"this is not parquet")
    report = validate_dataset(folder)
    p = only(report, "unreadable_file")
    assert p.table == "suppliers" and "suppliers.parquet cannot be read as Parquet" in p.message
    with pytest.raises(InputFileError, match="suppliers.parquet"):
        load_dataset(folder)


def test_same_table_as_csv_and_parquet_is_ambiguous(csv_dir, valid_tables):
    valid_tables["bids"].to_parquet(csv_dir / "bids.parquet", index=False)
    p = only(validate_dataset(csv_dir), "ambiguous_table")
    assert p.table == "bids" and "bids.csv" in p.message and "bids.parquet" in p.message


def test_missing_source_exits_2_with_a_clear_message(tmp_path):
    code, out = run_cli(tmp_path / "nowhere")
    assert code == 2
    assert "nowhere does not exist; give a folder of <table>.csv" in out
    with pytest.raises(InputFileError):
        validate_dataset(tmp_path / "nowhere")


def test_folder_without_tables_and_non_database_file(tmp_path):
    (tmp_path / "empty").mkdir()
    code, out = run_cli(tmp_path / "empty")
    assert code == 2 and "holds no .csv or .parquet files" in out
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    code, out = run_cli(tmp_path / "notes.txt")
    assert code == 2 and "cannot be opened as a DuckDB database" in out


def test_single_csv_file_as_source_asks_for_its_folder(csv_dir):
    with pytest.raises(InputFileError, match="single table; give the folder"):
        validate_dataset(csv_dir / "employees.csv")


# -- the mapping file ------------------------------------------------------------------------
def test_mapping_renames_tables_and_columns(tmp_path, csv_dir):
    po = pd.read_csv(csv_dir / "purchase_orders.csv", dtype=str)
    po.rename(columns={"po_id": "order_no", "amount": "total_amount"}).to_csv(
        csv_dir / "采购订单.csv", index=False)
    (csv_dir / "purchase_orders.csv").unlink()
    unmapped = validate_dataset(csv_dir)
    assert ("purchase_orders", None, "missing_table") in error_rules(unmapped)

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n  采购订单: purchase_orders\n"
                       "columns:\n  purchase_orders:\n    order_no: po_id\n    total_amount: amount\n",
                       encoding="utf-8")
    report = validate_dataset(csv_dir, mapping=mapping)
    assert report.problems == []
    assert report.files["purchase_orders"] == str(csv_dir / "采购订单.csv")
    assert load_dataset(csv_dir, mapping=mapping)["purchase_orders"]["amount"].sum() == 368_000.0
    code, _ = run_cli(csv_dir, "--mapping", mapping)
    assert code == 0


def test_mapping_with_an_unknown_key_is_an_error_naming_it(tmp_path, csv_dir):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables: {}\ncolums:\n  purchase_orders: {order_no: po_id}\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"unknown key 'colums' \(allowed keys: tables, columns\)"):
        validate_dataset(csv_dir, mapping=mapping)
    code, out = run_cli(csv_dir, "--mapping", mapping)
    assert code == 2 and "unknown key 'colums'" in out and str(mapping) in out


def test_mapping_to_an_unknown_table_or_column_is_an_error(tmp_path, csv_dir):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables: {po: purchase_order}\ncolumns:\n  purchase_orders: {total: amout}\n",
                       encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        validate_dataset(csv_dir, mapping=mapping)
    message = str(info.value)
    assert "'purchase_order', which is not a contract table (did you mean 'purchase_orders'?)" in message
    assert "'amout', which is not a column of purchase_orders (did you mean 'amount'?)" in message


def test_mapping_entry_that_matches_nothing_is_a_warning(tmp_path, csv_dir):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("columns:\n  bids: {bidder: supplier_id}\n", encoding="utf-8")
    report = validate_dataset(csv_dir, mapping=mapping)
    assert report.ok
    p = only(report, "unused_mapping", "warning")
    assert (p.table, p.column) == ("bids", "supplier_id") and "no column 'bidder'" in p.message


def test_missing_mapping_file_exits_2(tmp_path, csv_dir):
    code, out = run_cli(csv_dir, "--mapping", tmp_path / "nope.yaml")
    assert code == 2 and "nope.yaml does not exist" in out


# -- library interface ---------------------------------------------------------------------
def test_require_valid_raises_with_every_problem(valid_tables):
    valid_tables["payments"].loc[0, "amount"] = -1.0
    valid_tables["tenders"].loc[0, "method"] = "public"
    with pytest.raises(DataContractError) as info:
        require_valid(valid_tables)
    assert {(p.table, p.rule) for p in info.value.problems} == {("payments", "ge"), ("tenders", "allowed")}
    assert "breaks the data contract (2 errors)" in str(info.value)
    assert "PM01" in str(info.value) and "T01" in str(info.value)
    assert isinstance(info.value, RiskModelError)


def test_require_valid_on_a_subset_of_tables(csv_dir):
    tables = require_valid(csv_dir, tables=["tenders", "bids"])
    assert set(tables) == {"tenders", "bids"}
    with pytest.raises(DataContractError, match="unknown table name"):
        require_valid(csv_dir, tables=["tender"])


def test_in_memory_subset_checks_only_reachable_foreign_keys(valid_tables):
    report = validate_tables({"bids": valid_tables["bids"]}, expect=["bids"])
    assert report.problems == []


def test_extra_column_is_a_warning_only(valid_tables):
    valid_tables["claims"]["备注"] = "x"
    report = validate_tables(valid_tables)
    assert report.ok
    p = only(report, "extra_column", "warning")
    assert p.table == "claims" and "备注" in p.message


def test_every_table_has_a_pandera_schema_matching_the_contract():
    for table in TABLES:
        schema = table_schema(table)
        assert list(schema.columns) == table.column_names
        for col in table.columns:
            assert schema.columns[col.name].nullable == col.nullable
    assert table_schema("grade_prices").unique == ["year", "grade"]


def test_report_json_lists_problems_with_all_fields(valid_tables):
    valid_tables["payments"].loc[0, "amount"] = -1.0
    data = json.loads(validate_tables(valid_tables).to_json())
    assert data["ok"] is False and data["n_errors"] == 1
    assert data["problems"] == [{
        "severity": "error", "file": "<in-memory tables>", "table": "payments", "column": "amount", "rule": "ge",
        "count": 1, "example_ids": ["PM01"],
        "message": "payments.amount: 1 row below the minimum 0 [ge]; e.g. PM01 (-1.0)",
        "hint": "amount must be at least 0; check the sign and units",
    }]


# -- the data dictionary ----------------------------------------------------------------------
def test_committed_data_dictionary_is_up_to_date():
    committed = (config.PROJ_ROOT / "docs" / "data_contract.md").read_text(encoding="utf-8")
    assert committed == data_dictionary_markdown(), (
        "docs/data_contract.md is out of date; regenerate it with "
        "`python -m riskmodel.data.contracts > docs/data_contract.md`")


def test_data_dictionary_describes_every_table_and_the_mapping_format():
    md = data_dictionary_markdown()
    for table in TABLES:
        assert f"## `{table.name}`" in md
    assert "| `supplier_id` | str | no |  | `suppliers.supplier_id` |  | Bidder |" in md
    assert "| `id_number` | str | no | unique |  | yes | Resident ID number (fake) |" in md
    assert "## Mapping file" in md and "columns:" in md


# -- the synthetic company ----------------------------------------------------------------------
def test_generated_small_company_keeps_the_contract(small_company):
    report = validate_dataset(small_company)
    assert report.problems == [], report.to_text()
    assert set(report.rows) == set(TABLES_BY_NAME)
