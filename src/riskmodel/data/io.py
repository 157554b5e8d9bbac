"""Reading a dataset: a folder of CSV/Parquet files or a DuckDB database.

A *source* is either

* a folder holding one ``<table>.csv`` or ``<table>.parquet`` file per table
  of the contract (:data:`riskmodel.data.schema.TABLES`); the ``truth/``
  subfolder and ``manifest.json`` of a generated dataset are ignored, or
* a DuckDB database file whose tables carry the contract's table names.

A mapping file (YAML) renames a user's tables and columns to ours::

    tables:              # your file/table name -> riskmodel's table name
      po_2023: purchase_orders
    columns:             # per riskmodel table: your column -> riskmodel's column
      purchase_orders:
        po_no: po_id
        total: amount

Every contract column is converted to its contract type
(:func:`coerce_table`).  A value that does not parse becomes missing and is
recorded, with its row, so that :mod:`riskmodel.data.contracts` can report it;
reading never stops at a bad value.  A file that cannot be read at all
(0 bytes, not UTF-8, not Parquet) is recorded as well; :func:`load_dataset`
raises one :class:`~riskmodel.errors.InputFileError` naming every such file.

CSV conventions: UTF-8 with or without a byte-order mark unless ``encoding``
says otherwise; the first row is the header; an empty cell and the markers in
:data:`MISSING_MARKERS` are missing values; a header-only file is an empty
table.
"""

from __future__ import annotations

import codecs
import difflib
import warnings
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from riskmodel.data.schema import TABLES_BY_NAME, Table
from riskmodel.data.store import MANIFEST
from riskmodel.errors import DataContractError, InputFileError

#: file types read from a folder source
TABLE_SUFFIXES = (".csv", ".parquet")
#: text read as a missing value in any column (besides an empty or blank cell)
MISSING_MARKERS = ("NA", "N/A", "n/a", "NULL", "null", "None", "nan", "NaN", "#N/A", "\\N")
#: ``--encoding auto``: each CSV file is read as UTF-8 if it decodes as UTF-8, otherwise as GBK (GB18030)
AUTO_ENCODING = "auto"
#: the keys a mapping file may hold
MAPPING_KEYS = ("tables", "columns")
#: dates with a time zone are read as wall-clock time here before the zone is dropped
LOCAL_TZ = "Asia/Shanghai"

# pandas 3 has a dedicated string dtype; pandas 2 keeps text as object.
_STR = pd.Series([], dtype="str").dtype
_BLANKS = ("", *MISSING_MARKERS)
_TRUE = ("true", "t", "yes", "y", "1", "1.0", "是")
_FALSE = ("false", "f", "no", "n", "0", "0.0", "否")


# -- mapping file ---------------------------------------------------------------
@dataclass(frozen=True)
class DatasetMapping:
    """Renames from a user's tables and columns to the contract's.

    Parameters
    ----------
    tables : dict of str to str
        Your file or table name -> riskmodel's table name.
    columns : dict of str to dict of str to str
        riskmodel's table name -> {your column -> riskmodel's column}.
    path : str, optional
        The file the mapping was read from (for messages).
    """

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    path: str | None = None


def read_mapping(mapping: str | Path | Mapping[str, Any] | DatasetMapping | None) -> DatasetMapping:
    """Read and check a mapping file (or an equivalent dict).

    Parameters
    ----------
    mapping : path, dict, DatasetMapping or None
        A YAML file with the keys ``tables`` and/or ``columns`` (see the
        module docstring), the same content as a dict, or None for no renames.

    Returns
    -------
    DatasetMapping

    Raises
    ------
    InputFileError
        The file is missing or not YAML, or it holds an unknown key, names a
        table or column the contract does not have, or maps two names to one.
        Every such fault is listed in one message.

    Examples
    --------
    >>> read_mapping({"tables": {"po_2023": "purchase_orders"},
    ...               "columns": {"purchase_orders": {"total": "amount"}}}).tables
    {'po_2023': 'purchase_orders'}
    >>> read_mapping({"table": {}})
    Traceback (most recent call last):
    ...
    riskmodel.errors.InputFileError: mapping <dict>: unknown key 'table' (allowed keys: tables, columns); ...
    """
    if mapping is None:
        return DatasetMapping()
    if isinstance(mapping, DatasetMapping):
        return mapping
    if isinstance(mapping, Mapping):
        return _parse_mapping(mapping, "<dict>")
    path = Path(mapping)
    if not path.is_file():
        raise InputFileError(f"mapping file {path} does not exist; check the --mapping path "
                             "(the format is described in docs/data_contract.md)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputFileError(f"mapping file {path} cannot be read as UTF-8 YAML: {exc}; "
                             "fix the file (see docs/data_contract.md for the format)") from exc
    return _parse_mapping({} if data is None else data, str(path))


def _parse_mapping(data: Any, where: str) -> DatasetMapping:
    faults: list[str] = []
    if not isinstance(data, Mapping):
        raise InputFileError(f"mapping {where}: expected a YAML mapping with the keys "
                             f"{', '.join(MAPPING_KEYS)}, got {type(data).__name__}")
    for key in data:
        if key not in MAPPING_KEYS:
            faults.append(f"unknown key {key!r} (allowed keys: {', '.join(MAPPING_KEYS)})")
    tables_in = data.get("tables") or {}
    columns_in = data.get("columns") or {}
    tables: dict[str, str] = {}
    if not isinstance(tables_in, Mapping):
        faults.append("'tables' must map your table names to riskmodel's, e.g. {po_2023: purchase_orders}")
        tables_in = {}
    for theirs, ours in tables_in.items():
        if ours not in TABLES_BY_NAME:
            faults.append(f"tables: {theirs!r} is mapped to {ours!r}, which is not a contract table"
                          f"{_did_you_mean(str(ours), TABLES_BY_NAME)}")
        elif ours in tables.values():
            first = next(k for k, v in tables.items() if v == ours)
            faults.append(f"tables: both {first!r} and {theirs!r} are mapped to {ours!r}")
        else:
            tables[str(theirs)] = ours
    columns: dict[str, dict[str, str]] = {}
    if not isinstance(columns_in, Mapping):
        faults.append("'columns' must map riskmodel table names to {your_column: riskmodel_column}")
        columns_in = {}
    for table_name, renames in columns_in.items():
        if table_name not in TABLES_BY_NAME:
            hint = (f"; key 'columns' by riskmodel's table name {tables[table_name]!r}"
                    if table_name in tables else _did_you_mean(str(table_name), TABLES_BY_NAME))
            faults.append(f"columns: {table_name!r} is not a contract table{hint}")
            continue
        if not isinstance(renames, Mapping):
            faults.append(f"columns: {table_name!r} must map your column names to riskmodel's")
            continue
        known = TABLES_BY_NAME[table_name].column_names
        seen: dict[str, str] = {}
        for theirs, ours in renames.items():
            if ours not in known:
                faults.append(f"columns: {table_name}.{theirs} is mapped to {ours!r}, which is not a column of "
                              f"{table_name}{_did_you_mean(str(ours), known)} (its columns: {', '.join(known)})")
            elif ours in seen:
                faults.append(f"columns: both {seen[ours]!r} and {theirs!r} are mapped to {table_name}.{ours}")
            else:
                seen[ours] = str(theirs)
        columns[table_name] = {v: k for k, v in seen.items()}
    if faults:
        raise InputFileError(f"mapping {where}: " + "; ".join(faults)
                             + "; fix the mapping file (format: docs/data_contract.md, 'Mapping file')")
    return DatasetMapping(tables=tables, columns=columns, path=where)


# -- what reading found -------------------------------------------------------------
@dataclass(frozen=True)
class ReadIssue:
    """Something found while reading that is not a bad value: an unreadable file, an unknown table.

    :mod:`riskmodel.data.contracts` turns each into a report problem.
    """

    severity: str
    rule: str
    file: str | None
    table: str | None
    column: str | None
    message: str
    hint: str


@dataclass
class LoadedDataset:
    """Tables read from a source, with everything noticed on the way.

    Attributes
    ----------
    source : str
    tables : dict of str to DataFrame
        Contract tables by riskmodel's name, columns renamed and converted.
    files : dict of str to str
        The file (or database table) each table came from.
    unparsed : dict of str to dict of str to Series
        For each table and column, a boolean mask of the values that did not
        parse as the contract type (they are missing in ``tables``).
    original : dict of str to dict of str to Series
        The unparsed values as written, aligned with ``unparsed``.
    issues : list of ReadIssue
    unknown : dict of str to str
        Tables found that are not in the contract: their name -> file.
    """

    source: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    unparsed: dict[str, dict[str, pd.Series]] = field(default_factory=dict)
    original: dict[str, dict[str, pd.Series]] = field(default_factory=dict)
    issues: list[ReadIssue] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def unreadable(self) -> list[ReadIssue]:
        """Read issues that leave a table unavailable (severity ``error``)."""
        return [i for i in self.issues if i.severity == "error"]


class _Unreadable(Exception):
    """A file could not be read; carries the message and what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


# -- public entry points -------------------------------------------------------------
def load_dataset(source: str | Path, mapping: str | Path | Mapping[str, Any] | DatasetMapping | None = None,
                 encoding: str | None = None, tables: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read a dataset's tables, renamed by ``mapping`` and converted to the contract types.

    Parameters
    ----------
    source : str or Path
        A folder of ``<table>.csv`` / ``<table>.parquet`` files, or a DuckDB
        database file.
    mapping : path, dict or DatasetMapping, optional
        Renames from your table and column names to riskmodel's
        (see :func:`read_mapping`).
    encoding : str, optional
        Encoding of the CSV files; UTF-8 (with or without BOM) by default.
        ``gbk`` is read as GB18030, its superset; ``auto`` reads each file as
        UTF-8 where it decodes as UTF-8 and as GB18030 otherwise (a folder
        mixing files saved by Chinese Excel with UTF-8 ones).
    tables : iterable of str, optional
        Read only these contract tables (default: all found).

    Returns
    -------
    dict of str to DataFrame
        The tables found, keyed by riskmodel's table name, in contract order.
        Values that do not parse as their column's type are missing here;
        :func:`riskmodel.data.contracts.require_valid` reads the same way and
        refuses a dataset with such values, so pipeline steps should use it.

    Raises
    ------
    InputFileError
        The source is missing, the mapping is malformed, or a file cannot be
        read (every such file is named in one message).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "positions.csv").write_text(
    ...     "position_id,post_code,title_zh,title_en,sensitivity\\nP1,grader,定级员,Grader,3\\n", encoding="utf-8")
    >>> df = load_dataset(folder)["positions"]
    >>> df.loc[0, "sensitivity"], str(df["sensitivity"].dtype)
    (np.int64(3), 'Int64')
    """
    loaded = read_dataset(source, mapping=mapping, encoding=encoding, tables=tables)
    if loaded.unreadable:
        lines = "\n".join(f"  - {i.message} → {i.hint}" for i in loaded.unreadable)
        raise InputFileError(f"{len(loaded.unreadable)} problem(s) reading {loaded.source}:\n{lines}")
    return loaded.tables


def read_dataset(source: str | Path, mapping: str | Path | Mapping[str, Any] | DatasetMapping | None = None,
                 encoding: str | None = None, tables: Iterable[str] | None = None) -> LoadedDataset:
    """Read a dataset and record, rather than raise, what is wrong with its files and values.

    Parameters are those of :func:`load_dataset`.

    Returns
    -------
    LoadedDataset

    Raises
    ------
    InputFileError
        Only when nothing can be read: the source is missing or not a folder
        or DuckDB file, the mapping is malformed, or the encoding is unknown.
    """
    source = Path(source)
    maps = read_mapping(mapping)
    encoding = _check_encoding(encoding)
    wanted = _check_table_names(tables)
    if not source.exists():
        raise InputFileError(f"{source} does not exist; give a folder of <table>.csv / <table>.parquet "
                             "files or a DuckDB database file")
    loaded = LoadedDataset(source=str(source))
    if source.is_dir():
        raw = _read_folder(source, encoding, maps, wanted, loaded)
    elif source.suffix.lower() in TABLE_SUFFIXES:
        raise InputFileError(f"{source} is a single table; give the folder that holds it "
                             f"(one <table>.csv or <table>.parquet file per table)")
    else:
        raw = _read_duckdb(source, maps, wanted, loaded)
    used_sources = set(raw)
    for theirs, ours in maps.tables.items():
        if theirs not in used_sources and (wanted is None or ours in wanted):
            loaded.issues.append(ReadIssue(
                "warning", "unused_mapping", maps.path, ours, None,
                f"the mapping renames table {theirs!r} to {ours!r}, but {source} has no table {theirs!r}",
                "correct the name in the mapping file or remove the entry"))
    by_table: dict[str, tuple[str, pd.DataFrame]] = {}
    for theirs, (label, df) in raw.items():
        ours = maps.tables.get(theirs, theirs)
        if ours not in TABLES_BY_NAME:
            loaded.unknown[theirs] = label
            loaded.issues.append(ReadIssue(
                "warning", "unknown_table", label, None, None,
                f"{label} is not a contract table and is ignored{_did_you_mean(theirs, TABLES_BY_NAME)}",
                f"if it is one of ours, rename it or map it in a mapping file (tables: {{{theirs}: <table>}})"))
            continue
        if ours in by_table:
            loaded.issues.append(ReadIssue(
                "error", "ambiguous_table", label, ours, None,
                f"table {ours!r} is provided twice: by {by_table[ours][0]} and by {label}",
                "keep one of the two (or fix the mapping file)"))
            continue
        by_table[ours] = (label, df)
    ambiguous = {i.table for i in loaded.issues if i.rule == "ambiguous_table"}
    for name in TABLES_BY_NAME:
        if name not in by_table or name in ambiguous:
            continue
        label, df = by_table[name]
        add_table(loaded, name, _rename_columns(df, name, label, maps, loaded), label)
    return loaded


def add_table(loaded: LoadedDataset, name: str, df: pd.DataFrame, label: str) -> None:
    """Convert one table to the contract types and record it, with its doubled columns and unparsed values."""
    loaded.issues += doubled_columns(df, name, label)
    df, failed = coerce_table(df, TABLES_BY_NAME[name])
    loaded.tables[name] = df
    loaded.files[name] = label
    if failed:
        loaded.unparsed[name] = {c: m for c, (m, _v) in failed.items()}
        loaded.original[name] = {c: v for c, (_m, v) in failed.items()}


# -- converting to the contract types ------------------------------------------------
def coerce_table(df: pd.DataFrame, table: Table) -> tuple[pd.DataFrame, dict[str, tuple[pd.Series, pd.Series]]]:
    """Convert a table's contract columns to their contract types.

    ``str`` → pandas string (blank cells and :data:`MISSING_MARKERS` missing,
    surrounding spaces removed), ``int`` → ``Int64``, ``float`` →
    ``float64``, ``bool`` → ``boolean`` (true/false, 1/0, yes/no, 是/否),
    ``date`` and ``datetime`` → ``datetime64[us]`` (ISO 8601, also
    ``2023/01/31``, ``20230131`` and ``2023年1月31日``; a ``date`` is cut to
    midnight).  Columns outside the contract are left as they are; of
    columns sharing a name only the first is kept; the index is reset to
    0..n-1.

    Parameters
    ----------
    df : DataFrame
    table : Table

    Returns
    -------
    DataFrame
        The converted table (a new frame).
    dict of str to (Series, Series)
        For each column with values that did not parse: a boolean mask of
        those rows and the values as written.  They are missing in the frame.

    Examples
    --------
    >>> from riskmodel.data.schema import TABLES_BY_NAME
    >>> df = pd.DataFrame({"station_id": ["S1", "S2"], "year": ["2023", "twenty"], "plan_kg": ["10.5", ""]})
    >>> out, failed = coerce_table(df, TABLES_BY_NAME["station_plans"])
    >>> out["year"].tolist(), list(failed)
    ([2023, <NA>], ['year'])
    """
    out = df.reset_index(drop=True)
    if out.columns.duplicated().any():
        out = out.loc[:, ~out.columns.duplicated()]
    converted: dict[str, pd.Series] = {}
    failed: dict[str, tuple[pd.Series, pd.Series]] = {}
    for col in table.columns:
        if col.name not in out.columns:
            continue  # reported by the contract check
        values, bad = _coerce(out[col.name], col.dtype)
        converted[col.name] = values
        if bad is not None and bad.any():
            failed[col.name] = (bad, out[col.name].where(bad))
    if converted:
        out = out.assign(**converted)
    return out, failed


def _coerce(s: pd.Series, dtype: str) -> tuple[pd.Series, pd.Series | None]:
    if dtype == "str":
        return _to_str(s), None
    if dtype in ("int", "float"):
        return _to_number(s, integer=dtype == "int")
    if dtype == "bool":
        return _to_bool(s)
    if dtype in ("date", "datetime"):
        return _to_datetime(s, day=dtype == "date")
    raise ValueError(f"unknown contract dtype {dtype!r}")  # a bug in schema.py, not bad input


def _text(s: pd.Series) -> pd.Series:
    """Values as stripped text, with blanks and missing markers as missing."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.notna() & np.isfinite(s) & (s % 1 == 0)
        if whole.all() or (whole | s.isna()).all():
            s = s.astype("Int64")  # ids stored as numbers with gaps became floats: 12.0 -> "12"
    t = s.astype(_STR).str.strip()
    return t.mask(t.isin(_BLANKS))


def _to_str(s: pd.Series) -> pd.Series:
    return _text(s)


def _to_number(s: pd.Series, integer: bool) -> tuple[pd.Series, pd.Series]:
    target = "Int64" if integer else "float64"
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype(target), pd.Series(False, index=s.index)
    if pd.api.types.is_float_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
        present = num.notna()
    else:
        text = _text(s)
        present = text.notna()
        num = pd.to_numeric(text, errors="coerce").astype("float64")
    ok = num.notna() & np.isfinite(num)
    if integer:
        ok &= (num % 1 == 0)
    bad = present & ~ok
    return num.where(ok).astype(target), bad


def _to_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean"), pd.Series(False, index=s.index)
    text = _text(s).str.lower()
    present = text.notna()
    value = pd.Series(pd.NA, index=s.index, dtype="boolean")
    value[text.isin(_TRUE).fillna(False).astype(bool)] = True
    value[text.isin(_FALSE).fillna(False).astype(bool)] = False
    return value, present & value.isna()


def _to_datetime(s: pd.Series, day: bool) -> tuple[pd.Series, pd.Series]:
    if not pd.api.types.is_datetime64_any_dtype(s.dtype) and pd.api.types.infer_dtype(s, skipna=True) in (
            "date", "datetime", "datetime64"):
        s = pd.to_datetime(s, errors="coerce")  # date objects, e.g. from a Parquet date32 column
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        present = s.notna()
        value = s
    else:
        text = _text(s)
        present = text.notna()
        text = (text.str.replace("年", "-", regex=False).str.replace("月", "-", regex=False)
                .str.replace("日", "", regex=False))
        # a value with a zone (Z, +08:00) is an instant; one without is already Beijing wall-clock time
        zoned = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).fillna(False).astype(bool)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas warns about values it cannot parse; we report them
            value = pd.to_datetime(text.mask(zoned), format="ISO8601", errors="coerce")
            if zoned.any():
                instants = pd.to_datetime(text.where(zoned), format="ISO8601", errors="coerce", utc=True)
                local = instants.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).astype("datetime64[us]")
                value = value.astype("datetime64[us]").where(~zoned, local)
    if getattr(value.dt, "tz", None) is not None:
        value = value.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    value = value.astype("datetime64[us]")
    if day:
        value = value.dt.normalize()
    return value, present & value.isna()


# -- folders --------------------------------------------------------------------------
def _read_folder(folder: Path, encoding: str | None, maps: DatasetMapping, wanted: set[str] | None,
                 loaded: LoadedDataset) -> dict[str, tuple[str, pd.DataFrame]]:
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as exc:
        raise InputFileError(f"cannot list the folder {folder}: {exc.strerror}; check that you may read it") from None
    tables = [p for p in files if p.suffix.lower() in TABLE_SUFFIXES]
    if not tables:
        raise InputFileError(f"{folder} holds no .csv or .parquet files; give a folder with one "
                             "<table>.csv or <table>.parquet file per table (see docs/data_contract.md)")
    for p in files:
        if p.suffix.lower() not in TABLE_SUFFIXES and p.name != MANIFEST:
            loaded.issues.append(ReadIssue(
                "warning", "unknown_file", str(p), None, None,
                f"{p} is ignored: only .csv and .parquet files are read",
                "export it as CSV (UTF-8) or Parquet if it holds a contract table"))
    raw: dict[str, tuple[str, pd.DataFrame]] = {}
    seen: dict[str, Path] = {}
    for p in tables:
        theirs = p.stem
        ours = maps.tables.get(theirs, theirs)
        table = ours if ours in TABLES_BY_NAME else None
        if wanted is not None and ours not in wanted:
            continue
        if theirs in seen:
            loaded.issues.append(ReadIssue(
                "error", "ambiguous_table", str(p), table, None,
                f"{seen[theirs]} and {p} hold the same table {theirs!r}", "keep one of the two files"))
            raw.pop(theirs, None)
            continue
        seen[theirs] = p
        try:
            df = _read_csv(p, encoding) if p.suffix.lower() == ".csv" else _read_parquet(p)
        except _Unreadable as exc:
            loaded.issues.append(ReadIssue("error", "unreadable_file", str(p), table, None, exc.message, exc.hint))
            continue
        raw[theirs] = (str(p), df)
    return raw


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise _Unreadable(f"{path} is an empty file (0 bytes)",
                          "write at least the header row; a header-only file stands for an empty table")
    enc = encoding or "utf-8-sig"
    if enc == AUTO_ENCODING:  # each file on its own: UTF-8 where it decodes as UTF-8, else GB18030 (GBK's superset)
        enc = "utf-8-sig" if _decodes(path, "utf-8-sig") else "gb18030"
    try:
        # header=None: the C parser then rejects a row with more fields than the header
        # (with a header it silently turns the first column into the index)
        df = pd.read_csv(path, header=None, dtype=str, na_filter=False, encoding=enc)
    except UnicodeDecodeError:
        raise _decode_failure(path, enc) from None
    except pd.errors.EmptyDataError:
        raise _Unreadable(f"{path} has no header row (only blank lines)",
                          "write the header row with the contract's column names") from None
    except pd.errors.ParserError as exc:
        raise _Unreadable(f"{path} is not a well-formed CSV file: {exc}",
                          "check that row for unquoted commas or a stray quote; quote fields holding commas") from None
    except (OSError, ValueError) as exc:
        raise _Unreadable(f"{path} cannot be read: {exc}", "check that the file is a CSV file and readable") from None
    header = [str(c).strip() for c in df.iloc[0]] if len(df) else []
    df = df.iloc[1:].reset_index(drop=True)
    df.columns = header
    return df


def _decodes(path: Path, enc: str, chunk: int = 1 << 20) -> bool:
    """Whether the whole file decodes in ``enc`` (read a block at a time: a large file is never held whole)."""
    decoder = codecs.getincrementaldecoder(enc)()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(chunk):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _decode_failure(path: Path, enc: str) -> _Unreadable:
    data = path.read_bytes()
    try:
        data.decode(enc)
        where = ""
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f" (byte 0x{data[exc.start]:02x} on line {line})"
    name = "UTF-8" if codecs.lookup(enc).name in ("utf-8", "utf-8-sig") else enc
    try:
        data.decode("gbk")
        gbk = True
    except UnicodeDecodeError:
        gbk = False
    if gbk and codecs.lookup(enc).name not in ("gbk", "gb18030"):
        return _Unreadable(f"{path} is not valid {name}{where}; it decodes as GBK (Chinese Windows/Excel)",
                           "give --encoding gbk to 'riskmodel validate' or 'riskmodel features' (--encoding auto where "
                           "only some files are GBK), or save the file as UTF-8; 'riskmodel run' reads a converted "
                           f"copy: riskmodel validate {path.parent} --encoding gbk --write-parquet OUT, then riskmodel run --data OUT")
    return _Unreadable(f"{path} is not valid {name}{where}",
                       "give the file's encoding with --encoding (e.g. gbk, big5, latin-1), or save it as UTF-8; 'riskmodel run' "
                       f"reads a converted copy (riskmodel validate {path.parent} --encoding ENC --write-parquet OUT)")


def _read_parquet(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise _Unreadable(f"{path} is an empty file (0 bytes)", "write the table again as Parquet (or as CSV)")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a damaged file; all mean "unreadable"
        raise _Unreadable(f"{path} cannot be read as Parquet: {type(exc).__name__}: {exc}",
                          "write the table again as Parquet, or export it as CSV (UTF-8)") from None


# -- DuckDB ---------------------------------------------------------------------------
def _read_duckdb(path: Path, maps: DatasetMapping, wanted: set[str] | None,
                 loaded: LoadedDataset) -> dict[str, tuple[str, pd.DataFrame]]:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise InputFileError(f"{path} cannot be opened as a DuckDB database: {exc}; give a DuckDB database file "
                             "or a folder of <table>.csv / <table>.parquet files (if another program has the "
                             "database open for writing, close it first)") from None
    raw: dict[str, tuple[str, pd.DataFrame]] = {}
    with closing(con):
        con.execute("SET enable_progress_bar = false")  # it would draw over the report on the terminal
        rows = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() ORDER BY table_schema <> 'main', table_schema, table_name"
        ).fetchall()
        if not rows:
            raise InputFileError(f"{path} is a DuckDB database without tables; it should hold one table per "
                                 "contract table (see docs/data_contract.md)")
        for schema, theirs in rows:
            label = f"{path} (table {theirs})" if schema == "main" else f"{path} (table {schema}.{theirs})"
            ours = maps.tables.get(theirs, theirs)
            if wanted is not None and ours not in wanted:
                continue
            if theirs in raw:
                loaded.issues.append(ReadIssue(
                    "warning", "unknown_table", label, None, None,
                    f"{label} is ignored: {raw[theirs][0]} has the same name and is read instead",
                    "rename one of them if both matter"))
                continue
            quoted = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, theirs))
            try:
                raw[theirs] = (label, con.execute(f"SELECT * FROM {quoted}").df())
            except duckdb.Error as exc:
                loaded.issues.append(ReadIssue(
                    "error", "unreadable_file", label, ours if ours in TABLES_BY_NAME else None, None,
                    f"{label} cannot be read: {exc}", "check the table (or view) in DuckDB"))
    return raw


# -- helpers --------------------------------------------------------------------------
def doubled_columns(df: pd.DataFrame, table: str, label: str | None) -> list[ReadIssue]:
    """An error for each column name a table holds more than once (:func:`coerce_table` keeps the first)."""
    names = pd.Index([str(c) for c in df.columns])
    return [ReadIssue("error", "duplicate_column", label, table, name,
                      f"{table}: column {name!r} appears {int((names == name).sum())} times [duplicate_column]",
                      "keep one of them (or fix the mapping file)")
            for name in names[names.duplicated()].unique()]


def _rename_columns(df: pd.DataFrame, table: str, label: str, maps: DatasetMapping,
                    loaded: LoadedDataset) -> pd.DataFrame:
    df = df.rename(columns=lambda c: str(c).strip())
    renames = maps.columns.get(table, {})
    apply: dict[str, str] = {}
    for theirs, ours in renames.items():
        if theirs not in df.columns:
            loaded.issues.append(ReadIssue(
                "warning", "unused_mapping", maps.path, table, ours,
                f"the mapping renames {table}.{theirs} to {ours!r}, but {label} has no column {theirs!r}",
                "correct the column name in the mapping file or remove the entry"))
        elif ours in df.columns and ours not in renames:
            loaded.issues.append(ReadIssue(
                "error", "duplicate_column", label, table, ours,
                f"{table}: the mapping renames {theirs!r} to {ours!r}, but {label} already has a column {ours!r}",
                f"remove one of the two columns, or drop the entry {theirs}: {ours} from the mapping"))
        else:
            apply[theirs] = ours
    return df.rename(columns=apply) if apply else df


def _check_encoding(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    if encoding.lower() == AUTO_ENCODING:
        return AUTO_ENCODING
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputFileError(f"unknown encoding {encoding!r}; give one Python knows, e.g. utf-8 or gbk") from None
    if name == "utf-8":
        return "utf-8-sig"  # accept a byte-order mark either way
    if name in ("gbk", "gb2312"):
        return "gb18030"  # a superset: decodes every GBK file the same, and the rarer characters GBK lacks
    return encoding


def _check_table_names(tables: Iterable[str] | None) -> set[str] | None:
    if tables is None:
        return None
    wanted = {tables} if isinstance(tables, str) else set(tables)
    unknown = sorted(wanted - set(TABLES_BY_NAME))
    if unknown:
        raise DataContractError(f"unknown table name(s) {', '.join(map(repr, unknown))}; the contract's tables are: "
                                f"{', '.join(TABLES_BY_NAME)}")
    return wanted


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


__all__ = [
    "DatasetMapping", "LoadedDataset", "ReadIssue", "MISSING_MARKERS", "coerce_table", "doubled_columns",
    "load_dataset",
    "read_dataset", "read_mapping",
]
