"""A national company: id-disjoint provinces of a generated one, valid under the data contract."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel.data.contracts import validate_dataset
from riskmodel.data.synthetic.national import national_company
from riskmodel.errors import RiskModelError


def test_provinces_are_id_disjoint_copies_that_keep_the_contract(small_company, tmp_path):
    out = tmp_path / "national"
    m = national_company(small_company, out, 2, progress=False)
    src = {p.stem: pd.read_parquet(p) for p in small_company.glob("*.parquet")}
    assert m["provinces"] == 2 and m["tables"]["leaf_purchases"] == 2 * len(src["leaf_purchases"])
    emp = pd.read_parquet(out / "employees.parquet")
    assert emp.employee_id.is_unique and emp.phone.is_unique and emp.id_number.is_unique
    assert set(emp.employee_id.str[:4]) == {"P01-", "P02-"}
    assert (emp.employee_id.str[4:].iloc[: len(src["employees"])].to_numpy() == src["employees"].employee_id.to_numpy()).all()
    leaf = pd.read_parquet(out / "leaf_purchases.parquet", columns=["grader_id", "grower_id", "weight_kg"])
    assert (leaf.grader_id.str[:4] == leaf.grower_id.str[:4]).all()  # a province's purchases stay in the province
    assert leaf.weight_kg.sum() == pytest.approx(2 * src["leaf_purchases"].weight_kg.sum())
    # fapiao numbers are per province: the copies do not make every claim a duplicate (RMB-003)
    claims = pd.read_parquet(out / "claims.parquet", columns=["claim_id", "invoice_number"])
    per_number = claims.groupby("invoice_number").claim_id.agg(lambda c: c.str[:4].nunique())
    assert (per_number == 1).all()
    truth = pd.read_parquet(out / "truth" / "scheme_entities.parquet")
    assert truth.entity_id.str.startswith(("P01-", "P02-")).all()
    assert not [p for p in validate_dataset(out).problems if p.severity == "error"]


def test_cli_builds_provinces_and_rejects_a_folder_without_manifest(tmp_path):
    from riskmodel.cli import main

    with pytest.raises(RiskModelError, match="no manifest.json"):
        national_company(tmp_path, tmp_path / "out", 2)
    r = CliRunner().invoke(main, ["generate", "--preset", "small", "--seed", "3", "--provinces", "2", "--quiet", "--out", str(tmp_path / "n")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "n" / "manifest.json").is_file() and "rows" in r.output
