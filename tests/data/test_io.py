"""Reading and type conversion: what each contract type accepts, and what it reports instead of raising."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.io import coerce_table, load_dataset, read_dataset, read_mapping
from riskmodel.data.schema import TABLES_BY_NAME
from riskmodel.errors import InputFileError, RiskModelError


def coerce_column(table: str, column: str, values: list) -> tuple[list, list[bool]]:
    """Convert one column of a table; return the values and which ones did not parse."""
    df = pd.DataFrame({column: pd.Series(values, dtype=object)})
    out, failed = coerce_table(df, TABLES_BY_NAME[table])
    bad = failed[column][0].tolist() if column in failed else [False] * len(values)
    return out[column].tolist(), bad


def test_float_accepts_plain_numbers_and_flags_units_and_separators():
    values, bad = coerce_column("payments", "amount", ["12.5", " 7 ", "", "NULL", "1,200", "30元", "inf"])
    assert values[:2] == [12.5, 7.0]
    assert all(np.isnan(v) for v in values[2:])
    assert bad == [False, False, False, False, True, True, True]


def test_int_rejects_fractions_and_keeps_missing_as_missing():
    values, bad = coerce_column("budget_lines", "year", ["2023", "2023.0", "2023.5", None, "二〇二三"])
    assert values[:2] == [2023, 2023] and values[2] is pd.NA and values[3] is pd.NA
    assert bad == [False, False, True, False, True]


def test_bool_accepts_common_spellings():
    values, bad = coerce_column("categories", "single_source",
                                ["true", "False", "1", "0", "是", "否", "Y", "n", "maybe", ""])
    assert values[:8] == [True, False, True, False, True, False, True, False]
    assert bad == [False] * 8 + [True, False]


def test_dates_accept_iso_slashes_compact_and_chinese_and_cut_to_midnight():
    values, bad = coerce_column("employees", "hire_date",
                                ["2023-01-31", "2023/1/31", "20230131", "2023年1月31日", "2023-01-31 15:20:00",
                                 "31/01/2023", "2023-02-30"])
    assert values[:5] == [pd.Timestamp("2023-01-31")] * 5
    assert bad == [False] * 5 + [True, True]


def test_datetimes_keep_the_time_and_read_zones_as_beijing_time():
    values, bad = coerce_column("bids", "submitted_at", ["2023-02-01 10:00:00", "2023-02-01T02:00:00Z"])
    assert values == [pd.Timestamp("2023-02-01 10:00:00")] * 2 and bad == [False, False]


def test_date_objects_and_tz_aware_columns_convert():
    df = pd.DataFrame({"hire_date": [dt.date(2020, 5, 1), None],
                       "leave_date": pd.to_datetime(["2021-01-01 20:00", None]).tz_localize("UTC")})
    out, failed = coerce_table(df, TABLES_BY_NAME["employees"])
    assert failed == {}
    assert out["hire_date"].iloc[0] == pd.Timestamp("2020-05-01") and pd.isna(out["hire_date"].iloc[1])
    assert out["leave_date"].iloc[0] == pd.Timestamp("2021-01-02")  # 04:00 next day in Beijing, cut to the day


def test_text_is_stripped_and_numeric_ids_lose_a_float_suffix():
    df = pd.DataFrame({"department_id": [101.0, np.nan], "name": ["  财务部 ", "N/A"]})
    out, _ = coerce_table(df, TABLES_BY_NAME["departments"])
    assert out["department_id"].tolist()[0] == "101" and pd.isna(out["department_id"].iloc[1])
    assert out["name"].iloc[0] == "财务部" and pd.isna(out["name"].iloc[1])


def test_coerce_keeps_extra_columns_and_resets_the_index():
    df = pd.DataFrame({"station_id": ["S1"], "year": ["2023"], "plan_kg": ["5"], "note": [1]}, index=[7])
    out, failed = coerce_table(df, TABLES_BY_NAME["station_plans"])
    assert list(out.index) == [0] and out["note"].tolist() == [1] and failed == {}


def test_read_dataset_records_unparsed_values_with_their_original_text(tmp_path):
    (tmp_path / "station_plans.csv").write_text("station_id,year,plan_kg\nS1,2023,五千\nS2,2024,10\n",
                                                encoding="utf-8")
    loaded = read_dataset(tmp_path)
    assert loaded.unparsed["station_plans"]["plan_kg"].tolist() == [True, False]
    assert loaded.original["station_plans"]["plan_kg"].iloc[0] == "五千"
    assert pd.isna(loaded.tables["station_plans"]["plan_kg"].iloc[0])


def test_load_dataset_reads_only_the_tables_asked_for(tmp_path):
    (tmp_path / "station_plans.csv").write_text("station_id,year,plan_kg\nS1,2023,1\n", encoding="utf-8")
    (tmp_path / "grade_prices.csv").write_text("year,grade,price_per_kg\n2023,B1F,30\n", encoding="utf-8")
    assert list(load_dataset(tmp_path, tables=["grade_prices"])) == ["grade_prices"]


def test_duplicate_header_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "station_plans.csv").write_text("station_id,year,year,plan_kg\nS1,2023,2024,1\n", encoding="utf-8")
    loaded = read_dataset(tmp_path)
    assert [(i.rule, i.column) for i in loaded.issues] == [("duplicate_column", "year")]
    assert loaded.tables["station_plans"]["year"].tolist() == [2023]


@pytest.mark.parametrize("content", [b"\x00\x01\x02\xff\xfe garbage", b"\n\n\n", b'a,b\n"unterminated,1\n',
                                     "年,月\n1,2\n".encode("utf-16")])
def test_garbage_csv_gives_only_riskmodel_errors(tmp_path, content):
    (tmp_path / "bids.csv").write_bytes(content)
    loaded = read_dataset(tmp_path)  # never raises for a bad file
    assert [i.rule for i in loaded.issues if i.severity == "error"] == ["unreadable_file"]
    with pytest.raises(RiskModelError):
        load_dataset(tmp_path)


def test_mapping_accepts_an_empty_file_and_rejects_a_non_mapping(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert read_mapping(empty).tables == {} and read_mapping(empty).columns == {}
    listy = tmp_path / "list.yaml"
    listy.write_text("- purchase_orders\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="expected a YAML mapping"):
        read_mapping(listy)
    broken = tmp_path / "broken.yaml"
    broken.write_text("tables: {a: [\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="broken.yaml cannot be read as UTF-8 YAML"):
        read_mapping(broken)


def test_mapping_rejects_two_names_for_one_target():
    with pytest.raises(InputFileError, match="both 'amt' and 'total' are mapped to payments.amount"):
        read_mapping({"columns": {"payments": {"amt": "amount", "total": "amount"}}})
    with pytest.raises(InputFileError, match="key 'columns' by riskmodel's table name 'payments'"):
        read_mapping({"tables": {"pay": "payments"}, "columns": {"pay": {"amt": "amount"}}})


def test_auto_encoding_reads_each_file_in_its_own(tmp_path, valid_tables, write_dataset):
    folder = write_dataset(valid_tables, tmp_path / "mixed")
    valid_tables["employees"].to_csv(folder / "employees.csv", index=False, encoding="gbk")
    with pytest.raises(InputFileError, match="employees.csv is not valid UTF-8.*--encoding auto"):
        load_dataset(folder)
    tables = load_dataset(folder, encoding="auto")
    assert tables["employees"].name.tolist() == valid_tables["employees"].name.tolist()
    assert tables["departments"].name.tolist() == valid_tables["departments"].name.tolist()  # UTF-8, not mangled
