"""A tiny hand-made dataset that keeps the whole data contract, and ways to write it out.

Every table has a few rows, every foreign key points at a row that exists and
every date rule holds.  Tests break one thing at a time and check that exactly
that is reported.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from riskmodel.data.schema import TABLES, TABLES_BY_NAME

N = None  # an empty cell


def _rows(columns: str, *rows: tuple) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(columns.split(), r, strict=True)) for r in rows])


def build_valid_tables() -> dict[str, pd.DataFrame]:
    """Every contract table, a few rows each, all keys unique and all foreign keys satisfied."""
    t = {
        "departments": _rows(
            "department_id name dept_type county parent_id",
            ("D01", "公司领导", "leadership", "华宁县", N),
            ("D02", "物资采购部", "procurement", "华宁县", "D01"),
            ("D03", "财务部", "finance", "华宁县", "D01"),
            ("D04", "青龙烟叶站", "station", "通海县", "D01"),
            ("D05", "仓储部", "warehouse", "华宁县", "D01"),
        ),
        "positions": _rows(
            "position_id post_code title_zh title_en sensitivity",
            ("P01", "leader", "公司领导", "Leader", 2),
            ("P02", "procurement_officer", "采购员", "Procurement officer", 3),
            ("P03", "cashier", "出纳", "Cashier", 3),
            ("P04", "grader", "定级员", "Grader", 3),
            ("P05", "warehouse_keeper", "保管员", "Warehouse keeper", 2),
            ("P06", "station_manager", "站长", "Station manager", 3),
        ),
        "employees": _rows(
            "employee_id name gender birth_date id_number phone address bank_account hire_date leave_date "
            "department_id position_id",
            ("E001", "李建国", "男", "1968-04-02", "530424196804020011", "13800000001", "华宁县宁州街道1号",
             "6222000000000001", "1990-07-01", N, "D01", "P01"),
            ("E002", "王芳", "女", "1985-11-20", "530424198511200022", "13800000002", "华宁县宁州街道2号",
             "6222000000000002", "2008-09-01", N, "D02", "P02"),
            ("E003", "张丽", "女", "1990-01-15", "530424199001150043", "13800000003", "华宁县宁州街道3号",
             "6222000000000003", "2012-03-01", N, "D03", "P03"),
            ("E004", "赵强", "男", "1982-06-30", "530424198206300014", "13800000004", "通海县秀山街道4号",
             "6222000000000004", "2005-05-01", N, "D04", "P04"),
            ("E005", "陈明", "男", "1979-09-09", "530424197909090035", "13800000005", "华宁县宁州街道5号",
             "6222000000000005", "2001-02-01", "2023-12-31", "D05", "P05"),
            ("E006", "刘洋", "男", "1975-03-03", "530424197503030016", "13800000006", "通海县秀山街道6号",
             "6222000000000006", "1998-08-01", N, "D04", "P06"),
        ),
        "post_history": _rows(
            "assignment_id employee_id department_id position_id start_date end_date",
            ("A01", "E002", "D02", "P02", "2019-01-01", N),
            ("A02", "E004", "D04", "P04", "2016-03-01", "2021-12-31"),
            ("A03", "E004", "D04", "P04", "2022-01-01", N),
        ),
        "reporting_lines": _rows(
            "line_id employee_id manager_id start_date end_date",
            ("L01", "E002", "E001", "2019-01-01", N),
            ("L02", "E003", "E001", "2012-03-01", N),
            ("L03", "E004", "E006", "2016-03-01", "2023-06-30"),
        ),
        "suppliers": _rows(
            "supplier_id name credit_code registration_date registered_capital address phone bank_account "
            "legal_rep_name legal_rep_id_number legal_rep_phone main_category_id",
            ("S01", "云南丰农化肥有限公司", "91530400MA6K000001", "2010-05-12", 5_000_000.0, "玉溪市红塔区1号",
             "0877-2000001", "6217000000000001", "孙伟", "530402197001010011", "13900000001", "C01"),
            ("S02", "玉溪绿原农资有限公司", "91530400MA6K000002", "2015-08-20", 2_000_000.0, "玉溪市红塔区2号",
             "0877-2000002", "6217000000000002", "周敏", "530402198002020022", "13900000002", "C01"),
            ("S03", "昆明恒温烘烤设备厂", "91530100MA6K000003", "2008-03-03", 8_000_000.0, "昆明市官渡区3号",
             "0871-3000003", "6217000000000003", "吴刚", "530111197503030033", "13900000003", "C02"),
        ),
        "categories": _rows(
            "category_id name_zh name_en unit single_source",
            ("C01", "烟草专用复合肥", "Tobacco fertiliser", "吨", False),
            ("C02", "密集烤房设备", "Curing barn equipment", "台", True),
        ),
        "market_prices": _rows(
            "category_id month reference_unit_price",
            ("C01", "2023-01-01", 2950.0),
            ("C01", "2023-02-01", 3000.0),
            ("C02", "2023-01-01", 40000.0),
        ),
        "budget_lines": _rows(
            "budget_line_id department_id category_id year amount",
            ("B01", "D02", "C01", 2023, 1_000_000.0),
            ("B02", "D02", "C02", 2023, 500_000.0),
        ),
        "requisitions": _rows(
            "requisition_id department_id requester_id category_id budget_line_id request_date quantity "
            "estimated_amount urgent",
            ("R01", "D02", "E002", "C01", "B01", "2023-01-10", 100.0, 300_000.0, False),
            ("R02", "D02", "E002", "C02", "B02", "2023-02-01", 2.0, 80_000.0, True),
        ),
        "approvals": _rows(
            "approval_id requisition_id approver_id level decision decided_at",
            ("AP01", "R01", "E001", 1, "approved", "2023-01-11 09:30:00"),
            ("AP02", "R02", "E001", 1, "approved", "2023-02-02 15:10:00"),
        ),
        "tenders": _rows(
            "tender_id requisition_id department_id category_id method publish_date close_date quantity "
            "estimated_amount winner_supplier_id awarded_amount",
            ("T01", "R01", "D02", "C01", "open", "2023-01-15", "2023-02-05", 100.0, 300_000.0, "S01", 290_000.0),
        ),
        "bids": _rows(
            "bid_id tender_id supplier_id bid_amount submitted_at is_winner",
            ("BD01", "T01", "S01", 290_000.0, "2023-02-01 10:00:00", True),
            ("BD02", "T01", "S02", 305_000.0, "2023-02-02 11:20:00", False),
            ("BD03", "T01", "S03", 310_000.0, "2023-02-03 16:45:00", False),
        ),
        "purchase_orders": _rows(
            "po_id requisition_id tender_id supplier_id department_id buyer_id category_id order_date quantity "
            "unit_price amount",
            ("PO01", "R01", "T01", "S01", "D02", "E002", "C01", "2023-02-10", 100.0, 2900.0, 290_000.0),
            ("PO02", "R02", N, "S03", "D02", "E002", "C02", "2023-02-05", 2.0, 39_000.0, 78_000.0),
        ),
        "goods_receipts": _rows(
            "receipt_id po_id receiver_id receipt_date quantity",
            ("GR01", "PO01", "E005", "2023-02-20", 100.0),
            ("GR02", "PO02", "E005", "2023-02-15", 2.0),
        ),
        "invoices": _rows(
            "invoice_id invoice_number po_id supplier_id invoice_date amount",
            ("I01", "05301234", "PO01", "S01", "2023-02-21", 290_000.0),
            ("I02", "05305678", "PO02", "S03", "2023-02-16", 78_000.0),
        ),
        "payments": _rows(
            "payment_id invoice_id po_id payer_id payment_date amount bank_account",
            ("PM01", "I01", "PO01", "E003", "2023-03-01", 290_000.0, "6217000000000001"),
            ("PM02", "I02", "PO02", "E003", "2023-02-28", 78_000.0, "6217000000000003"),
        ),
        "travel_records": _rows(
            "trip_id employee_id approver_id destination_city start_date end_date purpose",
            ("TR01", "E002", "E001", "昆明", "2023-03-05", "2023-03-07", "参加供应商考察"),
        ),
        "claims": _rows(
            "claim_id employee_id approver_id category expense_date submit_date city amount invoice_number trip_id "
            "description",
            ("CL01", "E002", "E001", "lodging", "2023-03-06", "2023-03-10", "昆明", 450.0, "05309001", "TR01",
             "昆明住宿两晚"),
            ("CL02", "E004", "E006", "meals", "2023-04-02", "2023-04-03", "通海", 120.0, "05309002", N, "工作餐"),
        ),
        "stations": _rows(
            "station_id department_id name county township",
            ("ST01", "D04", "青龙烟叶站", "通海县", "四街镇"),
        ),
        "station_plans": _rows("station_id year plan_kg", ("ST01", 2023, 50_000.0)),
        "growers": _rows(
            "grower_id name id_number phone address bank_account station_id is_cooperative",
            ("G01", "杨大山", "530423197201010051", "13700000001", "四街镇一村", "6228000000000001", "ST01", False),
            ("G02", "四街镇烟农合作社", "530423198001010062", "13700000002", "四街镇二村", "6228000000000002", "ST01",
             True),
        ),
        "grower_contracts": _rows(
            "contract_id grower_id station_id year area_mu contracted_kg",
            ("K01", "G01", "ST01", 2023, 20.0, 3000.0),
            ("K02", "G02", "ST01", 2023, 150.0, 22_000.0),
        ),
        "grade_prices": _rows(
            "year grade price_per_kg",
            (2023, "B1F", 35.0),
            (2023, "C2F", 30.0),
            (2023, "X3F", 18.0),
        ),
        "leaf_purchases": _rows(
            "purchase_id station_id grader_id grower_id contract_id purchased_at grade weight_kg unit_price amount",
            ("LP01", "ST01", "E004", "G01", "K01", "2023-08-10 09:15:00", "C2F", 500.0, 30.0, 15_000.0),
            ("LP02", "ST01", "E004", "G02", N, "2023-08-11 10:00:00", "B1F", 200.0, 35.0, 7000.0),
            ("LP03", "ST01", "E004", "G01", "K01", "2023-08-12 14:30:00", "X3F", 100.0, 18.0, 1800.0),
        ),
        "cases": _rows(
            "case_id case_type title summary department_id source opened_date closed_date status disposition",
            ("CA01", "procurement", "采购围标问题", "供应商报价高度相似", "D02", "audit", "2023-05-01", "2023-09-30",
             "closed", "诫勉谈话"),
            ("CA02", "leaf_grading", "压级压价问题", "烟农反映定级偏低", "D04", "report", "2023-10-01", N, "open", N),
        ),
        "case_people": _rows(
            "case_id employee_id role",
            ("CA01", "E002", "subject"),
            ("CA01", "E001", "related"),
            ("CA02", "E004", "subject"),
        ),
        "interviews": _rows(
            "interview_id case_id employee_id interviewer_id kind interview_date record_text",
            ("IV01", "CA01", "E002", "E001", "inquiry", "2023-05-10", "说明报价情况"),
            ("IV02", N, "E004", "E006", "reminder", "2023-06-01", "提醒定级纪律"),
        ),
        "rectifications": _rows(
            "rectification_id case_id department_id issue_text measure_text due_date completed_date status",
            ("RC01", "CA01", "D02", "评标流程不规范", "修订评标办法", "2023-12-31", "2023-11-30", "done"),
            ("RC02", "CA02", "D04", "定级复核缺失", "建立定级复核制度", "2024-03-31", N, "open"),
        ),
        "materials": _rows(
            "material_id title kind topic_tags target_posts minutes credits published_date",
            ("M01", "采购领域警示教育片", "video", "采购;廉洁", "procurement_officer;cashier", 30.0, 1.0, "2023-01-05"),
            ("M02", "廉洁从业若干规定", "article", "廉洁", "all", 10.0, 0.5, "2023-01-06"),
        ),
        "learning_events": _rows(
            "event_id employee_id material_id started_at minutes completed test_score points",
            ("EV01", "E002", "M01", "2023-02-01 09:00:00", 30.0, True, 90.0, 10.0),
            ("EV02", "E004", "M02", "2023-02-03 20:15:00", 10.0, True, N, 5.0),
        ),
        "alert_reviews": _rows(
            "review_id entity_type entity_id period source decision decided_at reviewer_role",
            ("RV01", "employee", "E002", "2023-01-01", "legacy_platform", "dismissed", "2023-05-10", "supervisor"),
        ),
        "credit_requirements": _rows(
            "position_id year required_credits",
            ("P02", 2023, 4.0),
            ("P04", 2023, 4.0),
        ),
    }
    assert set(t) == set(TABLES_BY_NAME), "the valid dataset must cover every contract table"
    for name, df in t.items():  # typed as a careful exporter would write them
        for col in TABLES_BY_NAME[name].columns:
            if col.dtype in ("date", "datetime"):
                df[col.name] = pd.to_datetime(df[col.name])
            elif col.dtype == "int":
                df[col.name] = df[col.name].astype("Int64")
            elif col.dtype == "float":
                df[col.name] = df[col.name].astype("float64")
            elif col.dtype == "bool":
                df[col.name] = df[col.name].astype("boolean")
    return {t_.name: t[t_.name] for t_ in TABLES}


def _write_dataset(tables: dict[str, pd.DataFrame], folder: Path, fmt: str = "csv",
                  encoding: str = "utf-8") -> Path:
    """Write tables as ``<table>.csv`` or ``<table>.parquet`` files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if fmt == "csv":
            df.to_csv(folder / f"{name}.csv", index=False, encoding=encoding)
        else:
            df.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _write_duckdb(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write tables into a DuckDB database file, one table each."""
    with duckdb.connect(str(path)) as con:
        for name, df in tables.items():
            con.register("frame", df)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
    return path


@pytest.fixture
def valid_tables() -> dict[str, pd.DataFrame]:
    """A fresh copy of the valid dataset (tests may change it)."""
    return build_valid_tables()


@pytest.fixture
def csv_dir(tmp_path, valid_tables) -> Path:
    """The valid dataset as a folder of UTF-8 CSV files."""
    return _write_dataset(valid_tables, tmp_path / "csv")


@pytest.fixture(name="write_dataset")
def write_dataset_fixture():
    """``write_dataset(tables, folder, fmt="csv", encoding="utf-8")`` -> folder."""
    return _write_dataset


@pytest.fixture(name="write_duckdb")
def write_duckdb_fixture():
    """``write_duckdb(tables, path)`` -> path."""
    return _write_duckdb
