"""The engine: memory limit and spill folder, clear resource errors, and the Dask backend equal to this machine."""

from __future__ import annotations

import errno
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from riskmodel import engine
from riskmodel.errors import RiskModelError
from riskmodel.settings import load_settings


def test_open_dataset_applies_memory_limit_threads_and_spill_folder(small_company, tmp_path):
    s = load_settings(overrides={"engine": {"memory_limit": "1GB", "threads": 1, "temp_directory": str(tmp_path / "spill")}})
    data = engine.open_dataset(small_company, s)
    got = data.sql("SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t, "
                   "current_setting('temp_directory') AS d").iloc[0]
    assert got.m.replace(" ", "") in ("1.0GB", "953.6MiB", "1000.0MB")
    assert int(got.t) == 1
    assert got.d == str(tmp_path / "spill")
    assert (tmp_path / "spill").is_dir()


def test_a_query_larger_than_memory_and_spill_space_is_a_clear_error(tmp_path):
    s = load_settings(overrides={"engine": {"memory_limit": "16MB", "threads": 1, "temp_directory": str(tmp_path)}})
    con = duckdb.connect()
    con.execute("SET memory_limit = '16MB'")
    con.execute("SET max_temp_directory_size = '1MB'")
    con.execute(f"SET temp_directory = '{tmp_path}'")
    with pytest.raises(RiskModelError, match=r"ran out of memory \(engine.memory_limit = 16MB\).*engine.temp_directory"):
        with engine.resource_errors("a test step", s):
            con.execute("SELECT i % 200000 AS k, list(i) AS l FROM range(4000000) t(i) GROUP BY k").fetchall()


def test_full_disk_is_a_clear_error_and_other_os_errors_pass_through():
    with pytest.raises(RiskModelError, match="the disk is full"):
        with engine.resource_errors("writing"):
            raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(FileNotFoundError):
        with engine.resource_errors("writing"):
            raise FileNotFoundError(errno.ENOENT, "missing")


def test_local_scoring_in_chunks_equals_scoring_at_once():
    from riskmodel.scoring.models import RulesScorer

    X = pd.DataFrame({"severity_sum": np.arange(1000.0) % 7, "severity_sum_4q": np.arange(1000.0) % 11})
    m = RulesScorer().fit(X)
    assert np.array_equal(engine.decision_scores({"rules": m}, X, chunk_rows=97)["rules"], m.decision_function(X))


def test_dask_backend_needs_a_parquet_folder(small_tables):
    from riskmodel.data.dataset import Dataset

    with pytest.raises(RiskModelError, match="folder of Parquet files"):
        engine._parquet_dir(Dataset.from_frames(small_tables))


@pytest.fixture(scope="module")
def dask_settings():
    return load_settings(overrides={"engine": {"backend": "dask", "n_workers": 2, "threads_per_worker": 1,
                                               "worker_memory": "2GB", "train_partitions": 1}})


def test_dask_run_equals_the_single_machine_run(small_run, dask_settings, tmp_path):
    """The whole pipeline on a LocalCluster of worker processes gives the same flags, features, scores and queue."""
    from riskmodel.scoring.pipeline import run_pipeline

    data_dir = json.loads((small_run / "model_card.json").read_text())["data_source"]
    out = tmp_path / "dask_run"
    run_pipeline(data_dir, out, settings=dask_settings, progress=False)
    flags_local, flags_dask = (pd.read_parquet(d / "flags.parquet") for d in (small_run, out))
    pd.testing.assert_frame_equal(flags_local, flags_dask)
    pd.testing.assert_frame_equal(pd.read_parquet(small_run / "features_people.parquet"), pd.read_parquet(out / "features_people.parquet"))
    local, dask = (pd.read_parquet(d / "scores.parquet") for d in (small_run, out))
    score_cols = [c for c in local if c.startswith("score_")]
    assert score_cols and list(local.columns) == list(dask.columns)
    pd.testing.assert_frame_equal(local.drop(columns=score_cols), dask.drop(columns=score_cols))
    for c in score_cols:
        np.testing.assert_allclose(dask[c], local[c], rtol=1e-5, atol=1e-5, err_msg=c)
    a_local, a_dask = (pd.read_parquet(d / "alerts.parquet") for d in (small_run, out))
    assert a_local.alert_id.tolist() == a_dask.alert_id.tolist()


def test_xgboost_dask_training_on_two_partitions_equals_local_training_without_row_sampling(dask_settings):
    from xgboost import XGBClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.integers(0, 6, size=(2000, 4)).astype(float), columns=list("abcd"))
    y = (X.a + rng.normal(size=len(X)) > 3).astype(int)

    def est():
        return XGBClassifier(n_estimators=20, max_depth=3, subsample=1.0, random_state=0, tree_method="hist", n_jobs=1)

    two = load_settings(overrides={"engine": {**dask_settings.engine.model_dump(), "train_partitions": 2}})
    local = est().fit(X, y).predict(X, output_margin=True)
    with engine.session(two) as client:
        assert client is not None and engine.n_workers(client) == 2
        remote = engine.fit_estimator(est(), X, y)
    assert type(remote) is XGBClassifier
    np.testing.assert_allclose(remote.predict(X, output_margin=True), local, rtol=1e-5, atol=1e-5)
