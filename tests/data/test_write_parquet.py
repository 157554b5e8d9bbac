"""`riskmodel validate --write-parquet`: a clean CSV export becomes a Parquet folder the engines read in place."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from riskmodel import engine
from riskmodel.cli import main
from riskmodel.data.dataset import Dataset


def test_clean_csv_export_is_written_as_parquet(csv_dir, tmp_path):
    out = tmp_path / "parquet"
    r = CliRunner().invoke(main, ["validate", str(csv_dir), "--write-parquet", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "manifest.json").is_file()
    data = Dataset.from_dir(out)
    assert engine._parquet_dir(data) == str(out.resolve())
    for f in csv_dir.glob("*.csv"):
        assert len(pd.read_parquet(out / f"{f.stem}.parquet")) == len(pd.read_csv(f))


def test_a_dataset_with_errors_is_not_converted(csv_dir, tmp_path):
    emp = pd.read_csv(csv_dir / "employees.csv")
    emp.loc[0, "employee_id"] = emp.loc[1, "employee_id"]  # duplicate key
    emp.to_csv(csv_dir / "employees.csv", index=False)
    out = tmp_path / "parquet"
    r = CliRunner().invoke(main, ["validate", str(csv_dir), "--write-parquet", str(out)])
    assert r.exit_code == 1 and not out.exists()
