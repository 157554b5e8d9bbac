"""The flag store: every scored row on disk as it is produced, the fired rows in memory, the same table as in memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.dataset import Dataset
from riskmodel.indicators.runner import compute_flag_store, compute_flags

#: a few indicators of different entity types (tenders, orders, growers, employees), seconds on `small`; BID-001
#: names a tender's responsible employee without firing on `small`, so the rules queue needs unfired rows too
ONLY = ["PRC-001", "PRC-002", "BID-001", "BID-003", "BID-007", "LEAF-004", "HR-001"]


@pytest.fixture(scope="module")
def both(small_company, tmp_path_factory):
    data = Dataset.from_dir(small_company)
    flags, thresholds = compute_flags(data, only=ONLY)
    store, store_thresholds = compute_flag_store(data, only=ONLY, folder=tmp_path_factory.mktemp("spill"))
    yield flags, thresholds, store, store_thresholds
    store.close()


def _round_trip(df: pd.DataFrame, path) -> pd.DataFrame:
    df.to_parquet(path, index=False)
    return pd.read_parquet(path)


def test_the_written_table_equals_the_in_memory_flags(both, tmp_path):
    flags, thresholds, store, store_thresholds = both
    assert len(store) == len(flags) > 0 and flags.fired.any() and not flags.fired.all()
    store.write(tmp_path / "flags.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "flags.parquet"), _round_trip(flags, tmp_path / "mem.parquet"))
    pd.testing.assert_frame_equal(store_thresholds.drop(columns="seconds"), thresholds.drop(columns="seconds"))


def test_only_fired_rows_stay_in_memory_and_equal_the_fired_flags(both):
    flags, _, store, _ = both
    fired = flags[flags.fired].reset_index(drop=True)
    assert store.fired.fired.all()
    pd.testing.assert_frame_equal(store.fired[fired.columns], fired, check_dtype=False)


def test_scored_rows_read_back_by_type_columns_and_entity(both, tmp_path):
    flags, _, store, _ = both
    cols = ["indicator_id", "entity_id", "value", "fired", "employee_id"]
    tenders = store.scored("tender", columns=cols)
    expect = _round_trip(flags.loc[flags.entity_type == "tender", cols].reset_index(drop=True), tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(tenders, expect)
    some = tenders.entity_id.unique()[:3]
    picked = store.scored("tender", columns=cols, entity_ids=some)
    assert set(picked.entity_id) == set(some) and len(picked) == tenders.entity_id.isin(some).sum()
    assert len(store.scored()) == len(flags)


def test_closing_the_store_deletes_its_parts(small_company, tmp_path):
    store, _ = compute_flag_store(Dataset.from_dir(small_company), only=["PRC-001"], folder=tmp_path)
    with store:
        assert list(store.folder.glob("*.parquet"))
    assert not store.folder.exists()
    assert len(store.fired) > 0  # the fired rows stay readable


@pytest.mark.parametrize("model", ["rules", "logistic"])
def test_event_queue_from_the_store_equals_the_queue_from_every_row(both, model):
    """Rules read back only the fired events' rows (another indicator may name the owner); a supervised model
    every scored row of each type — the queue equals the one built from the whole table in memory."""
    from riskmodel.scoring.events import event_queue

    flags, _, store, _ = both
    quarters = sorted(pd.to_datetime(flags.period.dropna()).dt.to_period("Q").dt.start_time.unique())
    test = quarters[-4:]
    owners = flags[flags.fired & flags.employee_id.notna()]
    rng = np.random.default_rng(0)
    lab = owners.assign(period=pd.to_datetime(owners.period).dt.to_period("Q").dt.start_time)[["employee_id", "period"]]
    lab = lab.drop_duplicates().rename(columns={"employee_id": "entity_id"})
    lab["label"] = rng.integers(0, 2, len(lab))
    a, used_a = event_queue(flags, lab, test, 3, model=model)
    b, used_b = event_queue(store.fired, lab, test, 3, model=model, scored=store.scored)
    assert used_a == used_b and len(a) > 0
    pd.testing.assert_frame_equal(a, b)


def test_catalogue_lets_go_of_what_indicators_shared(small_company):
    """Leaf pairs and bid-screen inputs are cached while the catalogue runs and released after it."""
    from riskmodel.data.dataset import Dataset
    from riskmodel.indicators import bids, leaf
    from riskmodel.indicators.runner import compute_flag_store

    data = Dataset.from_dir(small_company)
    bids._screen_inputs(data)
    assert data in bids._SCREEN_INPUTS
    store, _ = compute_flag_store(data, only=["LEAF-002", "BID-005"])
    with store:
        assert len(store.fired) or store.rows
    assert data not in leaf._PAIRS and data not in bids._SCREEN_INPUTS
