"""A company's tables behind one DuckDB connection: the way indicators and graph code read data.

Parquet folders are queried in place (DuckDB views over the files, so large
data is never loaded whole); CSV folders, DuckDB files and in-memory tables go
through :mod:`riskmodel.data.io` first (renamed by the mapping and converted to
the contract types) and are registered with DuckDB.  With ``check=True``
(what :func:`riskmodel.engine.open_dataset` asks for) the tables are checked
against the data contract before anything is computed on them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

from riskmodel.data.schema import TABLE_NAMES
from riskmodel.data.store import folder_fingerprint, read_manifest
from riskmodel.errors import DataContractError, InputFileError


class Dataset:
    """Tables of one company.

    Use :meth:`from_dir` or :meth:`from_frames`; query with :meth:`sql`, read a
    whole table with :meth:`table`.

    Examples
    --------
    >>> import pandas as pd
    >>> ds = Dataset.from_frames({"positions": pd.DataFrame({"position_id": ["P1"], "sensitivity": [3]})})
    >>> ds.sql("SELECT count(*) AS n FROM positions").n[0]
    np.int64(1)
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, tables: set[str], source: str, fingerprint: str | None):
        self.con = con
        self.tables = tables
        self.source = source
        self.fingerprint = fingerprint
        self._cache: dict[str, pd.DataFrame] = {}

    @staticmethod
    def _connect(threads: int | None = None, memory_limit: str | None = None, temp_dir: str | None = None):
        con = duckdb.connect()
        con.execute(f"SET threads = {int(threads or os.cpu_count() or 1)}")
        try:
            con.execute("SET enable_progress_bar = false")  # riskmodel shows its own progress per step
        except duckdb.Error:
            pass  # inside Jupyter DuckDB refuses the setting without ipywidgets; it shows no bar there either
        if memory_limit:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        if temp_dir:
            con.execute(f"SET temp_directory = '{temp_dir}'")
        return con

    @classmethod
    def from_dir(cls, path: str | Path, mapping=None, encoding: str | None = None, check: bool = False,
                 **duck) -> Dataset:
        """Open a folder of tables (or a DuckDB file).  Parquet folders without a mapping are read in place.

        Parameters
        ----------
        path : str or Path
            A folder of ``<table>.csv`` / ``<table>.parquet`` files, or a DuckDB database file.
        mapping, encoding
            As for :func:`riskmodel.data.io.load_dataset` (a mapping makes a Parquet folder go through pandas too).
        check : bool, default=False
            Check the tables against the data contract first, and raise before any work is done.  A Parquet
            folder read in place is checked in DuckDB SQL as it will be read
            (:mod:`riskmodel.data.parquet_check`), unless its ``manifest.json`` still matches its files; other
            sources are checked as ``riskmodel validate`` checks them, from the tables read once.
        **duck
            ``threads``, ``memory_limit``, ``temp_dir`` of the DuckDB connection.

        Raises
        ------
        DataContractError
            With ``check``: the tables break the contract (``exc.problems`` holds every problem).
        InputFileError
            The source or a file in it cannot be read.
        """
        path = Path(path)
        parquet = {p.stem: p for p in path.glob("*.parquet")} if path.is_dir() else {}
        if path.is_dir() and mapping is None and parquet and not any(path.glob("*.csv")):
            con = cls._connect(**duck)
            files = {name: p for name, p in parquet.items() if name in TABLE_NAMES}
            for name, p in files.items():
                try:
                    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{p.as_posix()}')")
                except duckdb.Error as exc:
                    raise InputFileError(f"{p} cannot be read as Parquet ({str(exc).splitlines()[0]}); write the "
                                         "table again as Parquet, or export it as CSV (UTF-8)") from None
            fp = None
            if check:
                from riskmodel.data.parquet_check import check_parquet_views, manifest_matches

                # the files as they are now: a folder changed since its manifest is checked, and fingerprinted anew
                # (a run's card must name the data it read, not the data the manifest described)
                fp = folder_fingerprint(path)
                if not manifest_matches(path, fp):
                    check_parquet_views(con, {k: str(v) for k, v in files.items()}, str(path)).raise_if_invalid()
            # unchecked: the manifest's word, else the files hashed as a manifest would hash them
            fp = fp or (read_manifest(path) or {}).get("fingerprint") or folder_fingerprint(path)
            return cls(con, set(files), str(path), fp)
        if check:
            from riskmodel.data.contracts import require_valid

            return cls.from_frames(require_valid(path, mapping=mapping, encoding=encoding), source=str(path), **duck)
        from riskmodel.data.io import load_dataset

        return cls.from_frames(load_dataset(path, mapping=mapping, encoding=encoding), source=str(path), **duck)

    @classmethod
    def from_frames(cls, frames: Mapping[str, pd.DataFrame], source: str = "<memory>", **duck) -> Dataset:
        """Register in-memory tables (tests, notebooks, data read from CSV)."""
        con = cls._connect(**duck)
        for name, df in frames.items():
            con.register(f"_{name}_df", df)
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_df")
        ds = cls(con, set(frames), source, None)
        ds._cache.update(frames)
        return ds

    def has(self, *names: str) -> bool:
        return all(n in self.tables for n in names)

    def require(self, *names: str, needed_by: str = "this step") -> None:
        missing = [n for n in names if n not in self.tables]
        if missing:
            raise DataContractError(f"{needed_by} needs table(s) {', '.join(missing)}, which {self.source} does not have; "
                                    f"add them (see docs/data_contract.md) or leave this step out")

    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(query, params or []).df()

    @contextlib.contextmanager
    def registered(self, name: str, frame: pd.DataFrame):
        """``frame`` as the view ``name`` for the queries inside the block (a key list to join against)."""
        self.con.register(name, frame)
        try:
            yield name
        finally:
            self.con.unregister(name)

    def table(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            self.require(name)
            self._cache[name] = self.sql(f"SELECT * FROM {name}")
        return self._cache[name]

    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day with activity (from orders, claims and leaf purchases, where present)."""
        parts = [f"SELECT min({c}) AS lo, max({c}) AS hi FROM {t}" for t, c in
                 (("purchase_orders", "order_date"), ("claims", "expense_date"), ("leaf_purchases", "purchased_at")) if t in self.tables]
        if not parts:
            raise DataContractError(f"{self.source} has no dated activity tables (purchase_orders, claims, leaf_purchases)")
        r = self.sql(f"SELECT min(lo) AS lo, max(hi) AS hi FROM ({' UNION ALL '.join(parts)})")
        return pd.Timestamp(r.lo[0]).normalize(), pd.Timestamp(r.hi[0]).normalize()
