"""Small bid files written for these tests (never the shared real data)."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.collusion.synthetic import synthetic_bids


@pytest.fixture(scope="session")
def mini_bids() -> pd.DataFrame:
    """120 synthetic tenders: rigged ones have an isolated winner and tight cover bids; some have 1-2 bids."""
    return synthetic_bids(n_tenders=120, collusive_share=0.35, seed=5, dataset="mini", small_share=0.12)


@pytest.fixture()
def mini_csv(tmp_path, mini_bids):
    path = tmp_path / "mini.csv"
    mini_bids.to_csv(path, index=False)
    return path


@pytest.fixture()
def write_csv(tmp_path):
    """Write a CSV from text (header included) and return its path."""

    def write(text: str, name: str = "bids.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
