"""The generator: deterministic, atomic, with a CLI, and its ground truth kept apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel import config
from riskmodel.cli import main
from riskmodel.data.schema import TABLE_NAMES, TABLES_BY_NAME
from riskmodel.data.synthetic import generate_company
from riskmodel.data.synthetic import education

from tests.conftest import SMALL_SEED


def test_writes_every_contract_table_and_truth(small_company):
    written = {p.stem for p in small_company.glob("*.parquet")}
    assert written == set(TABLE_NAMES)
    assert {p.stem for p in (small_company / "truth").glob("*.parquet")} == {"schemes", "scheme_entities", "lookalikes", "lookalike_entities"}
    manifest = json.loads((small_company / "manifest.json").read_text())
    assert manifest["seed"] == SMALL_SEED and manifest["preset"] == "small"
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["fingerprint"])
    for name in TABLE_NAMES:
        df = pd.read_parquet(small_company / f"{name}.parquet")
        assert list(df.columns) == TABLES_BY_NAME[name].column_names, name
        assert manifest["tables"][name] == len(df)


def test_same_seed_same_data_other_seed_other_data(small_company, tmp_path):
    again = generate_company("small", seed=SMALL_SEED, out=tmp_path / "again", progress=False)
    other = generate_company("small", seed=SMALL_SEED + 1, out=tmp_path / "other", progress=False)
    first = json.loads((small_company / "manifest.json").read_text())
    assert again["fingerprint"] == first["fingerprint"]
    assert other["fingerprint"] != first["fingerprint"]
    t1 = pd.read_parquet(small_company / "truth" / "scheme_entities.parquet")
    t2 = pd.read_parquet(tmp_path / "again" / "truth" / "scheme_entities.parquet")
    pd.testing.assert_frame_equal(t1, t2)


def test_failed_generation_leaves_earlier_output_intact(tmp_path, monkeypatch):
    out = tmp_path / "co"
    out.mkdir()
    (out / "keep.txt").write_text("earlier result")

    def boom(*a, **k):
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(education, "learning", boom)
    with pytest.raises(RuntimeError):
        generate_company("small", seed=1, out=out, progress=False)
    assert (out / "keep.txt").read_text() == "earlier result"
    assert [p.name for p in tmp_path.iterdir()] == ["co"], "no half-written siblings left behind"


def test_looks_chinese_and_fake(small_tables):
    emp = small_tables["employees"]
    assert emp.name.str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    assert emp.phone.str.fullmatch(r"1[3-9]\d{9}").all()
    assert emp.id_number.str.fullmatch(r"\d{17}[\dX]").all()
    # GB 11643 check digit
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = emp.id_number.map(lambda s: "10X98765432"[sum(int(c) * k for c, k in zip(s[:17], w)) % 11])
    assert (check == emp.id_number.str[-1]).all()
    assert emp.address.str.contains("哈尔滨").all()
    assert small_tables["suppliers"].name.str.endswith("有限公司").all()


def test_seasonality_and_heterogeneity(small_tables):
    lp = small_tables["leaf_purchases"]
    assert set(lp.purchased_at.dt.month.unique()) <= {9, 10, 11, 12}
    po = small_tables["purchase_orders"]
    by_month = po.groupby(po.order_date.dt.month).size()
    assert by_month.loc[[11, 12]].mean() > 1.3 * by_month.loc[[3, 4, 5, 6]].mean(), "year-end budget flush"
    per_station = lp.groupby("station_id").weight_kg.sum()
    assert per_station.max() > 1.5 * per_station.min(), "stations differ in size"


def test_cli_generate(tmp_path):
    res = CliRunner().invoke(main, ["generate", "--preset", "small", "--seed", "5", "--out", str(tmp_path / "x"), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "tables" in res.output and (tmp_path / "x" / "employees.parquet").is_file()
    bad = CliRunner().invoke(main, ["generate", "--preset", "huge"])
    assert bad.exit_code != 0 and "huge" in bad.output


# Only these modules may name the ground-truth folder: the generator writes it, evaluation reads it.
TRUTH_ALLOWED = {"config.py", "data/schema.py", "data/store.py", "data/synthetic/base.py", "data/synthetic/company.py",
                 "scoring/evaluate.py", "data/io.py"}


def test_no_feature_graph_or_scoring_code_reads_truth():
    pkg = Path(config.PACKAGE_DIR)
    offenders = []
    for path in pkg.rglob("*.py"):
        rel = path.relative_to(pkg).as_posix()
        text = path.read_text(encoding="utf-8")
        if re.search(r"TRUTH_DIRNAME|[\"']truth[/\"']|truth_tables|scheme_entities|lookalike_entities", text) and rel not in TRUTH_ALLOWED:
            if not rel.startswith("data/synthetic/"):
                offenders.append(rel)
    assert not offenders, f"these modules touch truth/: {offenders}; only evaluation may read the ground truth"
