"""Run the catalogue over a dataset; roll flags up to people, units and periods; write the results."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from riskmodel import __version__
from riskmodel.data.dataset import Dataset
from riskmodel.data.store import atomic_dir, write_table
from riskmodel.indicators.base import FLAG_COLUMNS, LINK_COLUMNS, release_caches
from riskmodel.indicators.registry import configured
from riskmodel.provenance import code_version

ROLLUP_TARGETS = ("employee", "supplier", "department", "post", "station", "month")
_TARGET_COL = {"employee": "employee_id", "supplier": "supplier_id", "department": "department_id", "post": "position_id",
               "station": "station_id"}


def compute_flags(data: Dataset, settings=None, only: list[str] | None = None, progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every configured indicator.

    Returns
    -------
    flags : DataFrame
        The tidy flag table (:data:`~riskmodel.indicators.base.FLAG_COLUMNS` plus ``position_id``).
    thresholds : DataFrame
        Per indicator: the threshold used and how it was set, rows scored, rows fired, seconds.

    See Also
    --------
    compute_flag_store : the same flags kept on disk, for data larger than memory.
    """
    frames, stats = [], []
    for _, f, stat in _each_indicator(data, settings, only, progress):
        frames.append(f)
        stats.append(stat)
    return attach_posts(stack_flags(frames), data), pd.DataFrame(stats)


def compute_flag_store(data: Dataset, settings=None, only: list[str] | None = None, progress: bool = False,
                       folder: str | Path | None = None) -> tuple[FlagStore, pd.DataFrame]:
    """Run every configured indicator into a :class:`FlagStore`: each indicator's rows go to disk as it finishes and
    only the fired rows stay in memory.  Returns the store and the thresholds table (as :func:`compute_flags`)."""
    store, stats = FlagStore(data, folder), []
    for position, f, stat in _each_indicator(data, settings, only, progress):
        store.add(position, f)
        stats.append(stat)
        del f  # on disk now: not held while the next indicator runs
    return store, pd.DataFrame(stats)


def _each_indicator(data: Dataset, settings, only, progress: bool):
    """``(catalogue position, flag rows, thresholds line)`` per configured indicator, with a progress bar."""
    indicators = configured(settings, only)
    with Progress(TextColumn("[bold]indicators[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), disable=not progress) as bar:
        task = bar.add_task("", total=len(indicators))
        try:
            for position, ind in enumerate(indicators):
                bar.update(task, description=ind.id)
                f, stat = run_indicator(ind, data)
                yield position, f, stat
                del f  # the consumer has it; at scale one indicator's rows at a time is what memory holds
                bar.advance(task)
        finally:
            release_caches(data)  # what indicators shared (leaf pairs, bid screen inputs) is not needed after them


#: the flag table's columns and types on disk (:class:`FlagStore`), whatever types an indicator's query produced
FLAG_SCHEMA = pa.schema([("indicator_id", pa.string()), ("entity_type", pa.string()), ("entity_id", pa.string()),
                         ("period", pa.timestamp("us")), ("value", pa.float64()), ("threshold", pa.float64()),
                         ("threshold_method", pa.string()), ("fired", pa.bool_()), ("severity", pa.int64()),
                         ("evidence", pa.list_(pa.string())), *[(c, pa.string()) for c in LINK_COLUMNS],
                         ("text_zh", pa.string()), ("text_en", pa.string()), ("position_id", pa.string())])


class FlagStore:
    """A run's flag table kept on disk as it is produced, so that its size is bounded by the disk, not by memory.

    Each indicator's rows — every row it scored, fired or not — are written to one Parquet file as soon as the
    indicator finishes (:meth:`add`), and only the fired rows stay in memory (:attr:`fired`): the people
    features, the reason codes and the rules-ranked event queue read only those.  The rows an indicator scored
    without firing (at national scale tens of millions: every grower scored every season) are read back from
    disk where they are needed (:meth:`scored`, one event type at a time) and streamed into the run's
    ``flags.parquet`` (:meth:`write`), in catalogue order, as :func:`compute_flags` would have stacked them.

    Parameters
    ----------
    data : Dataset
        The data the flags come from (the employees' posts are attached from its ``post_history``).
    folder : str or Path, optional
        Where the parts go (a new temporary folder inside it; default: the system's temporary folder); the parts
        are deleted by :meth:`close`, on leaving a ``with`` block, or when the store is garbage-collected.

    Examples
    --------
    >>> from riskmodel.indicators.runner import compute_flag_store
    >>> store, thresholds = compute_flag_store(data)  # doctest: +SKIP
    >>> with store:  # doctest: +SKIP
    ...     store.fired.indicator_id.value_counts()
    ...     store.write("run/flags.parquet")
    """

    def __init__(self, data: Dataset, folder: str | Path | None = None):
        self._data = data
        if folder is not None:
            Path(folder).mkdir(parents=True, exist_ok=True)
        self._tmp = tempfile.TemporaryDirectory(prefix="riskmodel-flags-", dir=folder)
        self.folder = Path(self._tmp.name)
        self._parts: dict[int, Path] = {}
        self._fired: dict[int, pd.DataFrame] = {}
        self._stacked: pd.DataFrame | None = None
        self.rows = 0

    def add(self, position: int, frame: pd.DataFrame) -> None:
        """Store one indicator's flag rows (``position``: its place in the catalogue, which orders the table)."""
        if not len(frame):
            return
        frame = attach_posts(frame, self._data, copy=False)  # the indicator's frame is ours: no copy of millions of rows
        path = self.folder / f"{position:04d}.parquet"
        write_table(frame, path, schema=FLAG_SCHEMA)  # a slice at a time: millions of rows are not held twice
        self._parts[position] = path
        self._fired[position] = frame[frame.fired.to_numpy(bool)].reset_index(drop=True)
        self._stacked = None
        self.rows += len(frame)

    @property
    def fired(self) -> pd.DataFrame:
        """The fired rows of every indicator, in catalogue order (the columns of :func:`compute_flags`)."""
        if self._stacked is None:
            self._stacked = stack_flags([self._fired[k] for k in sorted(self._fired)])
            if "position_id" not in self._stacked:
                self._stacked["position_id"] = pd.Series(dtype="str")
        return self._stacked

    def _files(self) -> list[str]:
        return [str(self._parts[k]) for k in sorted(self._parts)]

    def scored(self, entity_type: str | None = None, columns: list[str] | None = None, entity_ids=None) -> pd.DataFrame:
        """The stored rows (fired or not) read back from disk, in table order: optionally only those of one
        ``entity_type``, only the given ``columns``, only the rows of the given ``entity_ids``."""
        if not self._parts:
            return pd.DataFrame(columns=columns or FLAG_SCHEMA.names)
        import pyarrow.dataset as ds

        parts = ds.dataset(self._files(), schema=FLAG_SCHEMA, format="parquet")
        flt = ds.field("entity_type") == entity_type if entity_type is not None else None
        if entity_ids is not None:
            ids = ds.field("entity_id").isin(pa.array(list(entity_ids), pa.string()))
            flt = ids if flt is None else flt & ids
        return parts.to_table(columns=columns, filter=flt).to_pandas()

    def write(self, path: str | Path) -> None:
        """Stream every stored row into one Parquet file at ``path``, in catalogue order, one row group at a time."""
        with pq.ParquetWriter(path, FLAG_SCHEMA, compression="zstd") as out:
            for f in self._files():
                for batch in pq.ParquetFile(f).iter_batches():
                    out.write_batch(batch)

    def close(self) -> None:
        """Delete the parts on disk (the fired rows in memory stay readable)."""
        self._tmp.cleanup()

    def __enter__(self) -> FlagStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self.rows


def _latest_threshold(f: pd.DataFrame) -> float:
    """The cut-off in force at the data's end (a data-derived fence grows with the data: the latest is the fence of
    all of it); NaN without rows."""
    if not len(f):
        return np.nan
    at = f.period.reset_index(drop=True).idxmax() if f.period.notna().any() else 0
    return float(f.threshold.iloc[at])


def run_indicator(ind, data: Dataset) -> tuple[pd.DataFrame, dict]:
    """One indicator's flag rows and its line of the thresholds table (threshold, rows scored and fired, seconds)."""
    t = time.perf_counter()
    f = ind.run(data)
    return f, {"indicator_id": ind.id, "threshold": _latest_threshold(f) if ind.threshold_method != "given" else np.nan,
               "threshold_method": ind.threshold_method, "scored": len(f), "fired": int(f.fired.sum()) if len(f) else 0,
               "seconds": round(time.perf_counter() - t, 3), "parameters": json.dumps(ind.params.model_dump(mode="json"), ensure_ascii=False)}


def stack_flags(frames) -> pd.DataFrame:
    """The indicators' flag rows in one table (catalogue order)."""
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FLAG_COLUMNS)


def attach_posts(flags: pd.DataFrame, data: Dataset, copy: bool = True) -> pd.DataFrame:
    """Fill ``department_id`` (where empty) and ``position_id`` from the employee's post at the flag's period
    (in ``flags`` itself with ``copy=False``)."""
    if copy:
        flags = flags.copy()
    flags["position_id"] = pd.Series(np.nan, index=flags.index, dtype="str")
    if not data.has("post_history") or flags.empty:
        return flags
    ph = data.table("post_history")[["employee_id", "department_id", "position_id", "start_date"]].copy()
    has = flags.employee_id.notna() & flags.period.notna()
    if not has.any():
        return flags
    q = flags.loc[has, ["employee_id", "period"]].reset_index()
    q["period"] = pd.to_datetime(q.period).astype("datetime64[ns]")
    q["employee_id"] = q.employee_id.astype(str)
    ph["employee_id"] = ph.employee_id.astype(str)
    ph["start_date"] = pd.to_datetime(ph.start_date).astype("datetime64[ns]")
    # same-day moves: the same row wins whatever order the table was read in
    ph = ph.sort_values(["start_date", "employee_id", "position_id", "department_id"], kind="stable")
    m = pd.merge_asof(q.sort_values("period", kind="stable"), ph, left_on="period", right_on="start_date",
                      by="employee_id", direction="backward").set_index("index")
    flags.loc[m.index, "position_id"] = m.position_id
    empty_dept = flags.department_id.isna()
    fill = m.department_id.reindex(flags.index[empty_dept])
    flags.loc[empty_dept, "department_id"] = fill
    for c in ("department_id", "position_id"):
        flags[c] = flags[c].astype("str")
    return flags


def feature_matrix(flags: pd.DataFrame, target: str = "employee", freq: str = "Q") -> pd.DataFrame:
    """Wide features per target entity and period: fired count per indicator, totals and peer-normalised scores.

    Parameters
    ----------
    flags : DataFrame
        From :func:`compute_flags`.
    target : {'employee', 'supplier', 'department', 'post', 'station', 'month'}
    freq : {'M', 'Q', 'Y'}
        Period of the rows.

    Returns
    -------
    DataFrame
        Columns ``entity_id``, ``period`` (period start), one count column per
        indicator id, ``n_flags``, ``severity_sum`` and, for employees,
        ``severity_sum_peer_z``: the z-score of ``severity_sum`` among holders of
        the same post in the same period (peer-group normalisation).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"indicator_id": ["PRC-001", "PRC-001"], "employee_id": ["E1", "E1"], "fired": [True, False],
    ...                   "severity": [2, 2], "period": pd.to_datetime(["2024-01-03", "2024-02-01"]), "position_id": ["P3", "P3"]})
    >>> feature_matrix(f)[["entity_id", "PRC-001", "severity_sum"]].to_dict("records")
    [{'entity_id': 'E1', 'PRC-001': 1, 'severity_sum': 2}]
    """
    if target not in ROLLUP_TARGETS:
        raise ValueError(f"target must be one of {ROLLUP_TARGETS}")
    f = flags[flags.fired.astype(bool) & flags.period.notna()].copy()
    f["period"] = pd.to_datetime(f.period).dt.to_period(freq).dt.start_time
    f["entity_id"] = "company" if target == "month" else f[_TARGET_COL[target]]
    f = f[f.entity_id.notna()]
    if f.empty:
        return pd.DataFrame(columns=["entity_id", "period", "n_flags", "severity_sum"])
    counts = f.pivot_table(index=["entity_id", "period"], columns="indicator_id", values="fired", aggfunc="sum", fill_value=0)
    counts.columns.name = None
    out = counts.astype(int)
    out["n_flags"] = out.sum(axis=1)
    out["severity_sum"] = f.groupby(["entity_id", "period"]).severity.sum().reindex(out.index).astype(int)
    out = out.reset_index()
    if target == "employee" and "position_id" in f:
        post = f.groupby(["entity_id", "period"]).position_id.agg(lambda s: s.dropna().iloc[-1] if s.notna().any() else None)
        out["position_id"] = post.reindex(pd.MultiIndex.from_frame(out[["entity_id", "period"]])).to_numpy()
        g = out.groupby(["position_id", "period"]).severity_sum
        out["severity_sum_peer_z"] = ((out.severity_sum - g.transform("mean")) / g.transform("std").replace(0, np.nan)).fillna(0.0)
    return out


def write_features(data: Dataset, out: str | Path, settings=None, only: list[str] | None = None,
                   progress: bool = True) -> tuple[dict, pd.DataFrame]:
    """Compute flags and roll-ups and write them atomically to ``out``; returns the manifest and the flags."""
    from riskmodel.data.store import write_manifest

    flags, thresholds = compute_flags(data, settings, only, progress)
    with atomic_dir(out) as tmp:
        write_table(flags, tmp / "flags.parquet")
        write_table(thresholds, tmp / "thresholds.parquet")
        for target in ROLLUP_TARGETS:
            write_table(feature_matrix(flags, target, "Q"), tmp / f"features_{target}_quarter.parquet")
        manifest = {"step": "features", "source": data.source, "data_fingerprint": data.fingerprint,
                    "code_version": code_version(), "package_version": __version__,
                    "indicators": thresholds.indicator_id.tolist(), "flags": len(flags), "fired": int(flags.fired.sum()) if len(flags) else 0}
        (tmp / "run.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        write_manifest(tmp, manifest)
    return manifest, flags
