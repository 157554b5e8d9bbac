"""Where the work runs: this machine out of core, or a Dask cluster — chosen by a setting, same code, same results.

``engine.backend: local`` (the default) opens the Parquet tables as DuckDB views with a
memory limit and a spill folder, so the indicator catalogue and the graph features run on
tables larger than memory; scoring goes through the feature matrix in chunks.

``engine.backend: dask`` runs the same functions on a Dask cluster: each indicator of the
catalogue and the graph features are tasks (every worker opens the Parquet folder with its
own DuckDB connection, spilling to its own disk), the XGBoost models train with
``xgboost.dask`` on the partitioned training matrix, and every scorer scores the feature
matrix partition by partition on the workers.  ``engine.scheduler`` names a running
scheduler (``tcp://host:8786``); left empty, a ``LocalCluster`` of worker processes starts
on this machine for the duration of the run.

Examples
--------
>>> from riskmodel.settings import load_settings
>>> s = load_settings(overrides={"engine": {"memory_limit": "2GB", "threads": 1}})
>>> duck_options(s)["memory_limit"]
'2GB'
"""

from __future__ import annotations

import contextlib
import errno
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.errors import DataContractError, RiskModelError
from riskmodel.settings import Settings, load_settings

#: rows per chunk when a scorer goes through a large feature matrix on this machine
SCORE_CHUNK_ROWS = 250_000

_ACTIVE = threading.local()


# -- this machine ------------------------------------------------------------------------------------
def spill_directory(settings: Settings) -> Path:
    """The folder DuckDB spills to (``engine.temp_directory``, else ``<system temp>/riskmodel-spill``)."""
    return Path(settings.engine.temp_directory or Path(tempfile.gettempdir()) / "riskmodel-spill")


def duck_options(settings: Settings | None = None) -> dict:
    """Keyword arguments for :meth:`Dataset.from_dir`: threads, memory limit and spill folder from the settings."""
    e = (settings or load_settings()).engine
    return {"threads": e.threads, "memory_limit": e.memory_limit, "temp_dir": str(spill_directory(settings or load_settings()))}


def open_dataset(data_dir: str | Path, settings: Settings | None = None, mapping=None, encoding: str | None = None,
                 check: bool = True) -> Dataset:
    """Open a company's tables with the engine's memory limit and spill folder, checked against the data contract.

    Every command that computes on a dataset opens it here, so a dataset that breaks the contract stops the
    command before any work, with the contract check's message (file, table, column, example rows, rule, what
    to do).  A Parquet folder whose ``manifest.json`` still matches its files (written by ``riskmodel generate``
    or ``riskmodel validate --write-parquet``) costs only the hashing of its files; another Parquet folder is
    checked in DuckDB SQL over its files; CSV folders and DuckDB files are read once and checked as
    ``riskmodel validate`` checks them.

    Parameters
    ----------
    data_dir : str or Path
        The dataset: a folder of Parquet or CSV files, or a DuckDB file.
    settings : Settings, optional
    mapping, encoding : optional
        As for ``riskmodel validate`` (renames; the CSV files' encoding).
    check : bool, default=True
        Check the contract first (``riskmodel features --no-validate`` turns it off).

    Raises
    ------
    DataContractError
        The dataset breaks the contract.
    """
    settings = settings or load_settings()
    spill = spill_directory(settings)
    try:
        spill.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RiskModelError(f"cannot create the spill folder {spill} ({exc.strerror}); set engine.temp_directory "
                             f"to a writable folder with free space") from exc
    if not Path(data_dir).exists():
        raise RiskModelError(f"no dataset at {data_dir}; give a folder written by 'riskmodel generate' or "
                             f"'riskmodel validate --write-parquet', or a folder of your own tables")
    with resource_errors("opening the data", settings):
        try:
            return Dataset.from_dir(data_dir, mapping=mapping, encoding=encoding, check=check, **duck_options(settings))
        except DataContractError as exc:
            if mapping is None and encoding is None and {p.rule for p in exc.problems} & _NEEDS_CONVERSION:
                raise DataContractError(f"{exc}\n{_CONVERT_ONCE.format(src=data_dir)}", problems=exc.problems) from None
            raise


#: problems that a mapping file or an encoding solves
_NEEDS_CONVERSION = {"missing_table", "missing_column", "unreadable_file", "unknown_table"}
_CONVERT_ONCE = ("'riskmodel run', 'train' and 'backtest' take no --mapping or --encoding ('features' takes both): "
                 "convert the tables once, "
                 "riskmodel validate {src} --mapping MAPPING.yaml --encoding ENC --write-parquet OUT, then use "
                 "--data OUT")


@contextlib.contextmanager
def resource_errors(step: str, settings: Settings | None = None) -> Iterator[None]:
    """Turn out-of-memory and out-of-disk failures into a :class:`RiskModelError` that says what to change."""
    import duckdb

    e = (settings or load_settings()).engine
    spill = spill_directory(settings or load_settings())
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        raise RiskModelError(f"{step}: DuckDB ran out of memory (engine.memory_limit = {e.memory_limit}) and could not "
                             f"spill enough to {spill}. Free disk space there, point engine.temp_directory at a larger "
                             f"disk, lower engine.threads, or raise engine.memory_limit. DuckDB said: {_first_line(exc)}") from exc
    except MemoryError as exc:
        raise RiskModelError(f"{step}: this machine ran out of memory. Lower engine.memory_limit so DuckDB spills to "
                             f"disk earlier, or run on a cluster (engine.backend: dask, see the README).") from exc
    except (duckdb.IOException, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.ENOSPC and "No space left" not in str(exc):
            raise
        if not isinstance(exc, OSError) and "space" not in str(exc).lower():
            raise
        raise RiskModelError(f"{step}: the disk is full ({spill} or the output folder). Free space or set "
                             f"engine.temp_directory to a folder on a larger disk; earlier results are untouched. "
                             f"Error: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def step(label: str, progress: bool = True) -> Iterator[None]:
    """Show a long step while it runs (a spinner on a terminal, a line in a log) and how long it took."""
    if not progress:
        yield
        return
    from rich.console import Console

    console = Console(stderr=True)
    t = time.perf_counter()
    with console.status(f"[bold]{label}[/] …"):
        yield
    console.print(f"[bold]{label}[/] done in {time.perf_counter() - t:.1f} s")


# -- Dask ----------------------------------------------------------------------------------------------
def active_client():
    """The Dask client of the run in progress (inside :func:`session` with ``backend: dask``), else None."""
    return getattr(_ACTIVE, "client", None)


@contextlib.contextmanager
def session(settings: Settings | None = None) -> Iterator[object | None]:
    """The engine for one run: yields a Dask ``Client`` (``backend: dask``) or None (``local``).

    With ``engine.scheduler`` set, connects to that scheduler; otherwise starts a ``LocalCluster`` of
    ``engine.n_workers`` processes and closes it afterwards.  Nested sessions reuse the outer client.
    """
    settings = settings or load_settings()
    e = settings.engine
    if e.backend == "local" or active_client() is not None:
        yield active_client()
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise RiskModelError("engine.backend 'dask' needs the 'distributed' package: pip install 'dask[distributed]'") from exc
    with contextlib.ExitStack() as stack:
        if e.scheduler:
            try:
                client = stack.enter_context(Client(e.scheduler, timeout="30s"))
            except OSError as exc:
                raise RiskModelError(f"cannot reach the Dask scheduler at {e.scheduler} ({exc}); start it "
                                     f"(dask scheduler) or correct engine.scheduler") from exc
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=e.n_workers, threads_per_worker=e.threads_per_worker,
                                                       processes=True, memory_limit=e.worker_memory,
                                                       dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        _ACTIVE.client, _ACTIVE.settings = client, e
        try:
            yield client
        finally:
            _ACTIVE.client = _ACTIVE.settings = None


def n_workers(client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


_WORKER_DATA: dict[tuple, Dataset] = {}


def _worker_dataset(data_dir: str, duck: tuple) -> Dataset:
    """One Dataset per worker process and folder, so the catalogue's shared per-dataset caches work on workers too."""
    key = (data_dir, duck)
    if key not in _WORKER_DATA:
        _WORKER_DATA.clear()
        Path(dict(duck)["temp_dir"]).mkdir(parents=True, exist_ok=True)
        _WORKER_DATA[key] = Dataset.from_dir(data_dir, **dict(duck))
    return _WORKER_DATA[key]


def _indicator_task(data_dir: str, duck: tuple, settings: Settings, indicator_id: str):
    from riskmodel.indicators.registry import configured
    from riskmodel.indicators.runner import run_indicator

    data = _worker_dataset(data_dir, duck)
    with resource_errors(f"indicator {indicator_id}", settings):
        return run_indicator(configured(settings, [indicator_id])[0], data)


def _graph_task(data_dir: str, duck: tuple, settings: Settings):
    from riskmodel.scoring.pipeline import graph_features_for

    data = _worker_dataset(data_dir, duck)
    with resource_errors("graph features", settings):
        return graph_features_for(data, settings)


def _parquet_dir(data: Dataset) -> str:
    src = Path(data.source)
    if data.fingerprint is None or not src.is_dir() or not any(src.glob("*.parquet")):
        raise RiskModelError(f"engine.backend 'dask' reads the tables where the workers can reach them: a folder of "
                             f"Parquet files; {data.source} is not one. Convert it first (riskmodel validate "
                             f"{data.source} --write-parquet DIR) or use engine.backend: local")
    return str(src.resolve())


def flags_and_graph(data: Dataset, settings: Settings, progress: bool = True, with_graph: bool = True):
    """The indicator catalogue's flags (a :class:`~riskmodel.indicators.runner.FlagStore`: every scored row on disk
    in the spill folder, the fired rows in memory), the thresholds table and the employee-quarter graph features.

    Locally: one indicator after the other over DuckDB.  On Dask: the graph features and every
    indicator are tasks on the cluster (the graph first, as it is the longest); each indicator's rows are
    stored as its task finishes, in catalogue order, so the flags equal the local run's.
    """
    from riskmodel.indicators.registry import configured
    from riskmodel.indicators.runner import FlagStore, compute_flag_store
    from riskmodel.scoring.pipeline import graph_features_for

    folder = spill_directory(settings)
    client = active_client()
    if client is None:
        with resource_errors("the indicator catalogue", settings):
            store, thresholds = compute_flag_store(data, settings, progress=progress, folder=folder)
        with resource_errors("graph features", settings), step("graph features", progress):
            graph = graph_features_for(data, settings) if with_graph else None
        return store, thresholds, graph

    from distributed import as_completed
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    path, duck = _parquet_dir(data), tuple(sorted(duck_options(settings).items()))
    ids = [ind.id for ind in configured(settings)]
    graph_f = client.submit(_graph_task, path, duck, settings, pure=False) if with_graph else None
    futures = {client.submit(_indicator_task, path, duck, settings, i, pure=False, key=f"indicator-{i}-{time.time_ns()}"): i
               for i in ids}
    store, stats = FlagStore(data, folder), {}
    with Progress(TextColumn("[bold]indicators on dask[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), disable=not progress) as bar:
        task = bar.add_task(f"({n_workers(client)} workers)", total=len(ids))
        for fut in as_completed(futures):
            i = futures[fut]
            frame, stats[i] = fut.result()
            store.add(ids.index(i), frame)
            del frame
            fut.release()
            bar.update(task, advance=1, description=i)
    with step("graph features (waiting for the cluster)", progress and graph_f is not None and not graph_f.done()):
        graph = graph_f.result() if graph_f is not None else None
    return store, pd.DataFrame([stats[i] for i in ids]), graph


def _score_chunk(model, X: pd.DataFrame) -> np.ndarray:
    return np.asarray(model.decision_function(X), dtype=float)


def decision_scores(models: dict, X: pd.DataFrame, chunk_rows: int = SCORE_CHUNK_ROWS) -> dict[str, np.ndarray]:
    """Every model's ``decision_function`` over ``X``: in chunks here, or partition by partition on the cluster.

    Scoring is row-wise, so the result does not depend on how ``X`` is cut.
    """
    client = active_client()
    if client is None:
        bounds = range(0, max(len(X), 1), chunk_rows)
        return {name: np.concatenate([_score_chunk(m, X.iloc[i:i + chunk_rows]) for i in bounds]) if len(X) else np.array([])
                for name, m in models.items()}
    parts = np.array_split(np.arange(len(X)), max(1, min(n_workers(client) * 2, len(X))))
    chunks = client.scatter([X.iloc[p] for p in parts])
    out = {}
    for name, m in models.items():
        mf = client.scatter(m, broadcast=True)
        futs = client.map(_score_chunk, [mf] * len(chunks), chunks, pure=False)
        out[name] = np.concatenate(client.gather(futs)) if futs else np.array([])
    return out


def fit_estimator(estimator, X: pd.DataFrame, y, sample_weight=None):
    """Fit a scikit-learn-style estimator; an ``xgboost.XGBClassifier`` trains with ``xgboost.dask`` on the
    cluster of the active session (others, and every estimator outside a Dask session, fit here).

    On the cluster the training matrix is cut into ``engine.train_partitions`` partitions (default: one per
    worker) and trained with ``DaskXGBClassifier`` and the same parameters; the fitted booster comes back
    as a plain ``XGBClassifier``, so the saved model, its explanations and its scores do not depend on
    where it was trained.  With one partition, or without row subsampling, the trees equal a local fit's;
    with ``subsample < 1`` and several partitions each worker draws its own rows, so the trees differ as two
    seeds would.
    """
    from xgboost import XGBClassifier

    client = active_client()
    if client is None or not isinstance(estimator, XGBClassifier):
        return estimator.fit(X, y, sample_weight=sample_weight)
    import dask.dataframe as dd
    from xgboost.dask import DaskXGBClassifier

    e = getattr(_ACTIVE, "settings", None)
    nparts = (e.train_partitions if e is not None and e.train_partitions else None) or n_workers(client)
    nparts = max(1, min(nparts, len(X)))
    Xd = dd.from_pandas(X.reset_index(drop=True), npartitions=nparts, sort=False)
    yd = dd.from_pandas(pd.Series(np.asarray(y), name="y"), npartitions=nparts, sort=False)
    wd = dd.from_pandas(pd.Series(np.asarray(sample_weight, dtype=float), name="w"), npartitions=nparts, sort=False) \
        if sample_weight is not None else None
    params = estimator.get_params()
    params.pop("n_jobs", None)
    dm = DaskXGBClassifier(**params)
    dm.client = client
    dm.fit(Xd, yd, sample_weight=wd)
    local = XGBClassifier(**estimator.get_params())
    local.load_model(bytearray(dm.get_booster().save_raw(raw_format="ubj")))
    return local
