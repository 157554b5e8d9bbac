"""Shared fixtures: one small synthetic company per test session (seconds to generate)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# a pseudonym key for the test session only (deployments keep theirs outside the repository)
os.environ.setdefault("RISKMODEL_PSEUDONYM_KEY", "7e57" * 16)

SMALL_SEED = 11


@pytest.fixture(scope="session")
def small_company(tmp_path_factory):
    """Path of a generated ``small`` company (read-only for tests: copy before corrupting)."""
    from riskmodel.data.synthetic import generate_company

    out = tmp_path_factory.mktemp("company") / "small"
    generate_company("small", seed=SMALL_SEED, out=out, progress=False)
    return out


@pytest.fixture(scope="session")
def small_tables(small_company):
    """The small company's tables as DataFrames (do not modify in place)."""
    return {p.stem: pd.read_parquet(p) for p in small_company.glob("*.parquet")}


@pytest.fixture(scope="session")
def small_truth(small_company):
    return {p.stem: pd.read_parquet(p) for p in (small_company / "truth").glob("*.parquet")}


@pytest.fixture(scope="session")
def small_run(small_company, tmp_path_factory):
    """A full run on the small company whose truth/ folder has been removed (so nothing can read it)."""
    import shutil

    from riskmodel.scoring.pipeline import run_pipeline

    blind = tmp_path_factory.mktemp("blind") / "company"
    shutil.copytree(small_company, blind, ignore=shutil.ignore_patterns("truth"))
    out = tmp_path_factory.mktemp("run") / "run"
    run_pipeline(blind, out, progress=False)
    return out
