"""Checking a dataset against the data contract declared in :mod:`riskmodel.data.schema`.

Three layers of checks, all reported together (nothing stops at the first
problem):

1. **Reading** (:mod:`riskmodel.data.io`): unreadable files, values that do not
   parse as their column's type, tables and columns missing or not in the
   contract.
2. **Per table** (pandera, ``lazy=True``): nullability, uniqueness of ids and
   composite keys, numeric bounds, allowed codes; plus the table's
   :class:`~riskmodel.data.schema.DateOrder` row rules.
3. **Across tables**: every ``references="table.column"`` foreign key.

Every :class:`Problem` names the table, column and rule, gives the number of
rows and up to five example row ids (values of the table's key), and says
what to do.  Errors make a dataset invalid; warnings (extra columns, unknown
files, an empty table that may be empty) do not.

Every contract table is required.  A header-only CSV file stands for an empty
table, which is accepted with a warning, except for the tables in
:data:`NON_EMPTY_TABLES` that everything else refers to.

Running ``python -m riskmodel.data.contracts`` prints the data dictionary
(``docs/data_contract.md``).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from riskmodel.data.io import (
    MISSING_MARKERS,
    DatasetMapping,
    LoadedDataset,
    ReadIssue,
    add_table,
    read_dataset,
)
from riskmodel.data.schema import TABLES, TABLES_BY_NAME, Column, Table
from riskmodel.errors import DataContractError

#: tables that must hold rows: the organisation every other table refers to
NON_EMPTY_TABLES = ("departments", "positions", "employees")
#: how many example row ids a problem lists
N_EXAMPLES = 5
#: no date may lie before this day: a mistyped year, or a spreadsheet's zero date (1899-12-30)
EARLIEST_DATE = pd.Timestamp("1900-01-01")
#: how far after the day of the check an event's date may lie (an extract dated ahead, clocks set wrong)
FUTURE_MARGIN = pd.DateOffset(years=1)
#: dates that are plans rather than events may lie further ahead (a working life)
PLANNED_DATES = {("rectifications", "due_date"), ("employees", "leave_date"), ("post_history", "end_date"),
                 ("reporting_lines", "end_date")}
PLANNED_MARGIN = pd.DateOffset(years=40)
#: dates that cannot lie after the day of the check at all
PAST_DATES = {("employees", "birth_date"), ("employees", "hire_date")}

_DTYPES = {
    "str": pd.Series([], dtype="str").dtype,  # pandas 3: the string dtype; pandas 2: object
    "int": pd.Int64Dtype(),
    "float": np.dtype("float64"),
    "bool": pd.BooleanDtype(),
    "date": np.dtype("datetime64[us]"),
    "datetime": np.dtype("datetime64[us]"),
}
_TYPE_WORDS = {
    "str": "text", "int": "a whole number", "float": "a number", "bool": "true/false",
    "date": "a date", "datetime": "a date-time",
}
_TYPE_HINTS = {
    "int": "write whole numbers, without units, spaces or thousands separators",
    "float": "write plain numbers: no units (元, kg), currency signs or thousands separators; '.' as decimal point",
    "bool": "write true/false (1/0, yes/no and 是/否 are accepted too)",
    "date": "write dates as YYYY-MM-DD, e.g. 2023-01-31 (2023/01/31, 20230131 and 2023年1月31日 are accepted too)",
    "datetime": "write date-times as YYYY-MM-DD HH:MM:SS, e.g. 2023-01-31 14:05:00",
    "str": "",
}


# -- the report -------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One way a dataset breaks its contract.

    Parameters
    ----------
    severity : {'error', 'warning'}
    file : str or None
        The file (or database table) the problem is in.
    table, column : str or None
        Contract table and column, where the problem has one.
    rule : str
        The rule broken, e.g. ``missing_column``, ``dtype``, ``not_null``,
        ``unique``, ``unique_key``, ``ge``, ``le``, ``allowed``,
        ``foreign_key``, ``date_order``, ``missing_table``, ``empty_table``,
        ``unreadable_file``, ``extra_column``.
    count : int
        Rows (or columns, files) concerned.
    example_ids : tuple of str
        Up to five key values of the rows concerned (``row N``, the N-th data
        row, where a row has no key).
    message : str
        What is wrong, naming table, column, rule and example ids.
    hint : str
        What to do about it.
    """

    severity: str
    file: str | None
    table: str | None
    column: str | None
    rule: str
    count: int
    example_ids: tuple[str, ...]
    message: str
    hint: str


@dataclass
class ValidationReport:
    """Every problem found in a dataset, and what was read.

    Attributes
    ----------
    source : str
    problems : list of Problem
    files : dict of str to str
        The file each table was read from.
    rows : dict of str to int
        Rows per table read.
    """

    source: str
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems of severity ``warning``."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return not self.errors

    def raise_if_invalid(self, in_memory: bool = False, mapping: Any = None, encoding: str | None = None) -> None:
        """Raise a :class:`~riskmodel.errors.DataContractError` listing the first errors, if there are any.

        Parameters
        ----------
        in_memory : bool, default=False
            The tables were given in memory (the message then names no command to run).
        mapping, encoding : optional
            As given for the source, to repeat them in the ``riskmodel validate`` command the message names.
        """
        if self.ok:
            return
        errors = self.errors
        by_hint: dict[str, list[str]] = {}  # problems sharing what to do (one encoding for ten files) say it once
        for p in errors[:10]:
            by_hint.setdefault(p.hint, []).append(p.message)
        shown = "\n".join(f"  - {msgs[0]} → {hint}" if len(msgs) == 1 else
                          "\n".join(f"  - {m}" for m in msgs) + f"\n    → {hint}" for hint, msgs in by_hint.items())
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        opts = (f" --mapping {mapping}" if isinstance(mapping, (str, Path)) else "") + (
            f" --encoding {encoding}" if encoding else "")
        how = "" if in_memory else f"\nrun `riskmodel validate {self.source}{opts}` for the full report"
        n = len(errors)
        raise DataContractError(f"{self.source} breaks the data contract ({n} error{'s' * (n != 1)}):\n"
                                f"{shown}{more}{how}", problems=self.problems)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (what :meth:`to_json` writes)."""
        return {
            "source": self.source,
            "ok": self.ok,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "tables": {t: {"file": self.files.get(t), "rows": n} for t, n in self.rows.items()},
            "problems": [{**asdict(p), "example_ids": list(p.example_ids)} for p in self.problems],
        }

    def to_json(self) -> str:
        """The report as JSON (UTF-8 text, Chinese left readable)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_text(self) -> str:
        """A readable report, grouped by table (errors before warnings)."""
        e, w = len(self.errors), len(self.warnings)
        verdict = "VALID" if self.ok else "NOT VALID"
        counts = f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"
        lines = [f"Data contract check of {self.source}",
                 f"{verdict}: {counts}; {len(self.rows)} tables read, {sum(self.rows.values()):,} rows", ""]
        order = {name: i for i, name in enumerate(TABLES_BY_NAME)}
        groups: dict[str | None, list[Problem]] = {}
        for p in self.problems:
            groups.setdefault(p.table, []).append(p)
        for table in sorted(groups, key=lambda t: (t is not None, order.get(t, len(order)), t or "")):
            if table is None:
                lines.append("dataset")
            else:
                n = self.rows.get(table, 0)
                where = f"{self.files[table]}, {n:,} row{'s' * (n != 1)}" if table in self.files else "not read"
                lines.append(f"{table}  ({where})")
            for p in sorted(groups[table], key=lambda p: p.severity != "error"):
                lines.append(f"  {p.severity.upper():<8}{p.message}")
                if p.hint:
                    lines.append(f"  {'':<8}→ {p.hint}")
            lines.append("")
        if self.ok and any(p.rule in IN_PLACE_RULES for p in self.problems):
            lines.append("The dataset conforms to the data contract once converted as read here; 'riskmodel run' "
                         "reads the Parquet files as stored, so run it on a copy written with --write-parquet.")
        elif self.ok:
            lines.append("The dataset conforms to the data contract.")
        else:
            lines.append("Fix the errors above and run the check again; docs/data_contract.md describes every table.")
        return "\n".join(lines)


def date_bounds(table: str, column: str, today: pd.Timestamp | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The plausible range of a date column: from :data:`EARLIEST_DATE` to the day of the check plus a margin.

    Events may lie up to :data:`FUTURE_MARGIN` after ``today`` (births and hires not at all); the plans in
    :data:`PLANNED_DATES` up to :data:`PLANNED_MARGIN`.  A date outside is a typo (2203 for 2023) or a placeholder,
    and one such date stretches the data's period, and every quarter computed on it, by centuries.

    Examples
    --------
    >>> day = pd.Timestamp("2026-01-15")
    >>> [str(d.date()) for d in date_bounds("purchase_orders", "order_date", day)]
    ['1900-01-01', '2027-01-15']
    >>> str(date_bounds("employees", "birth_date", day)[1].date())
    '2026-01-15'
    """
    today = (pd.Timestamp.today() if today is None else pd.Timestamp(today)).normalize()
    if (table, column) in PAST_DATES:
        return EARLIEST_DATE, today
    return EARLIEST_DATE, today + (PLANNED_MARGIN if (table, column) in PLANNED_DATES else FUTURE_MARGIN)


def date_rule_text(table: str, column: str) -> str:
    lo, hi = date_bounds(table, column)
    if (table, column) in PAST_DATES:
        ahead = "the day of the check"
    elif (table, column) in PLANNED_DATES:
        ahead = "40 years after the day of the check (a plan)"
    else:
        ahead = "one year after the day of the check"
    return f"from {lo:%Y-%m-%d} to {ahead} ({hi:%Y-%m-%d} today)"


# -- pandera schemas --------------------------------------------------------------------
def _column_rules(col: Column) -> list[tuple[str, pa.Check]]:
    """The value checks of a column, with the rule name each is reported under."""
    rules = []
    if col.ge is not None:
        rules.append(("ge", pa.Check.ge(col.ge)))
    if col.le is not None:
        rules.append(("le", pa.Check.le(col.le)))
    if col.allowed is not None:
        rules.append(("allowed", pa.Check.isin(list(col.allowed))))
    return rules


def table_schema(table: Table | str, columns: Iterable[str] | None = None) -> pa.DataFrameSchema:
    """The pandera schema of one contract table.

    Types are those :func:`riskmodel.data.io.coerce_table` produces.  Extra
    columns are allowed (the contract check warns about them).

    Parameters
    ----------
    table : Table or str
    columns : iterable of str, optional
        Keep only these columns (the check uses this for a table that lacks
        some; a composite key is then checked only if all its columns remain).

    Returns
    -------
    pandera.DataFrameSchema

    Examples
    --------
    >>> schema = table_schema("positions")
    >>> schema.columns["sensitivity"].nullable, [c.statistics for c in schema.columns["sensitivity"].checks]
    (False, [{'min_value': 1}, {'max_value': 3}])
    >>> table_schema("market_prices").unique
    ['category_id', 'month']
    """
    table = TABLES_BY_NAME[table] if isinstance(table, str) else table
    keep = None if columns is None else set(columns)
    cols = {
        c.name: pa.Column(_DTYPES[c.dtype], checks=[chk for _, chk in _column_rules(c)], nullable=c.nullable,
                          unique=c.unique, required=True, title=c.name, description=c.description)
        for c in table.columns if keep is None or c.name in keep
    }
    key = table.key_columns
    unique = list(key) if len(key) > 1 and all(k in cols for k in key) else None
    return pa.DataFrameSchema(cols, unique=unique, strict=False, name=table.name, description=table.description)


def contract_schemas() -> dict[str, pa.DataFrameSchema]:
    """The pandera schema of every contract table, by name."""
    return {t.name: table_schema(t) for t in TABLES}


# -- validating -----------------------------------------------------------------------------
def validate_dataset(source: str | Path, mapping: str | Path | Mapping[str, Any] | DatasetMapping | None = None,
                     encoding: str | None = None) -> ValidationReport:
    """Check a dataset on disk against the data contract, reporting every problem.

    Parameters
    ----------
    source : str or Path
        A folder of ``<table>.csv`` / ``<table>.parquet`` files or a DuckDB
        database file.
    mapping : path, dict or DatasetMapping, optional
        Renames from your table and column names to riskmodel's.
    encoding : str, optional
        Encoding of the CSV files (default UTF-8, with or without BOM).

    Returns
    -------
    ValidationReport
        ``report.ok`` is False when any problem is an error.  Files that cannot
        be read are errors in the report.

    Raises
    ------
    InputFileError
        Only when nothing can be checked: the source does not exist or holds
        no tables, the mapping file is malformed, the encoding is unknown.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "positions.csv").write_text(
    ...     "position_id,post_code,title_zh,title_en,sensitivity\\nP1,grader,定级员,Grader,4\\n", encoding="utf-8")
    >>> report = validate_dataset(folder)
    >>> report.ok
    False
    >>> [p.message for p in report.problems if p.table == "positions"]
    ['positions.sensitivity: 1 row above the maximum 3 [le]; e.g. P1 (4)']
    """
    loaded = read_dataset(source, mapping=mapping, encoding=encoding)
    report = _validate_loaded(loaded, expect=TABLES_BY_NAME)
    report.problems += _read_in_place_problems(Path(source), mapping)
    return report


#: what reading a Parquet file converts, and reading it in place (``riskmodel run``) does not
IN_PLACE_RULES = ("stored_type", "padded_text", "blank_text")


def _read_in_place_problems(source: Path, mapping) -> list[Problem]:
    """Warnings for what this check converted in a Parquet folder that ``riskmodel run`` reads as stored.

    The values are valid once converted (text trimmed, blanks missing, types parsed), but the commands that
    compute read a Parquet folder in place and refuse it; a copy written by ``--write-parquet`` is converted.
    """
    if mapping is not None or not source.is_dir() or any(source.glob("*.csv")) or not any(source.glob("*.parquet")):
        return []
    from riskmodel.data.parquet_check import check_parquet_folder, manifest_matches

    if manifest_matches(source):
        return []
    found = [p for p in check_parquet_folder(source).problems if p.rule in IN_PLACE_RULES]
    note = (f" This check converts them, but 'riskmodel run' and 'riskmodel features' read the Parquet files as "
            f"stored and refuse them: run on a converted copy (riskmodel validate {source} --write-parquet OUT, "
            f"then riskmodel run --data OUT).")
    return [replace(p, severity="warning", hint=p.hint.split(", or let riskmodel convert")[0] + "." + note)
            for p in found]


def validate_tables(tables: Mapping[str, pd.DataFrame], expect: Iterable[str] | None = None,
                    source: str = "<in-memory tables>") -> ValidationReport:
    """Check tables held in memory against the data contract.

    The frames are converted to the contract types first (as when reading
    files), so a value that does not parse is reported, not raised.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Tables by contract name.
    expect : iterable of str, optional
        Tables that must be present (default: every contract table).  Foreign
        keys into tables neither given nor expected are not checked.
    source : str, default='<in-memory tables>'
        How the report names the data.

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> grades = pd.DataFrame({"year": [2023, 2023], "grade": ["B1F", "B1F"], "price_per_kg": [30.0, 31.0]})
    >>> report = validate_tables({"grade_prices": grades}, expect=["grade_prices"])
    >>> [(p.rule, p.example_ids) for p in report.problems]
    [('unique_key', ('2023/B1F',))]
    """
    loaded = _from_frames(tables, source)
    wanted = TABLES_BY_NAME if expect is None else _known(expect)
    return _validate_loaded(loaded, expect=wanted)


def require_valid(data: str | Path | Mapping[str, pd.DataFrame],
                  mapping: str | Path | Mapping[str, Any] | DatasetMapping | None = None,
                  encoding: str | None = None, tables: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read (or take) a dataset, and return its tables only if it keeps the contract.

    Pipeline steps start here: every command that computes on a CSV folder, a DuckDB file or a mapped dataset
    (:meth:`riskmodel.data.dataset.Dataset.from_dir` with ``check=True``).

    Parameters
    ----------
    data : path or dict of str to DataFrame
        A source as for :func:`validate_dataset`, or tables in memory.
    mapping, encoding
        As for :func:`validate_dataset` (for a source on disk).
    tables : iterable of str, optional
        Read and require only these tables (default: all).

    Returns
    -------
    dict of str to DataFrame
        The tables, converted to the contract types.

    Raises
    ------
    DataContractError
        Any error-level problem; ``exc.problems`` holds every problem.
    InputFileError
        The source cannot be read at all.

    Examples
    --------
    >>> bad = pd.DataFrame({"year": [2023], "grade": ["Z9"], "price_per_kg": [30.0]})
    >>> require_valid({"grade_prices": bad}, tables=["grade_prices"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskmodel.errors.DataContractError: <in-memory tables> breaks the data contract (1 error):
      - grade_prices.grade: 1 row with a code not in the contract [allowed]; e.g. 2023/Z9 ('Z9') → use one of: ...
    """
    wanted = TABLES_BY_NAME if tables is None else _known(tables)
    if isinstance(data, Mapping):
        loaded = _from_frames({k: v for k, v in data.items() if k in wanted}, "<in-memory tables>")
    else:
        # all tables: read as 'riskmodel validate' reads them (files outside the contract named, not skipped)
        loaded = read_dataset(data, mapping=mapping, encoding=encoding, tables=None if tables is None else wanted)
    _validate_loaded(loaded, expect=wanted).raise_if_invalid(in_memory=isinstance(data, Mapping), mapping=mapping,
                                                             encoding=encoding)
    return loaded.tables


def _from_frames(tables: Mapping[str, pd.DataFrame], source: str) -> LoadedDataset:
    """Convert in-memory tables as :func:`riskmodel.data.io.read_dataset` converts files."""
    loaded = LoadedDataset(source=source)
    for name, df in tables.items():
        if name not in TABLES_BY_NAME:
            loaded.unknown[name] = source
            loaded.issues.append(ReadIssue(
                "warning", "unknown_table", None, None, None,
                f"{name!r} is not a contract table and is ignored{_did_you_mean(name, TABLES_BY_NAME)}",
                "pass tables under riskmodel's table names"))
            continue
        add_table(loaded, name, df, source)
    return loaded


def _known(names: Iterable[str]) -> dict[str, Table]:
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in TABLES_BY_NAME]
    if unknown:
        raise DataContractError(f"unknown table name(s) {', '.join(map(repr, unknown))}; the contract's tables "
                                f"are: {', '.join(TABLES_BY_NAME)}")
    return {n: TABLES_BY_NAME[n] for n in names}


def _validate_loaded(loaded: LoadedDataset, expect: Mapping[str, Table]) -> ValidationReport:
    report = ValidationReport(source=loaded.source, files=dict(loaded.files),
                              rows={t: len(df) for t, df in loaded.tables.items()})
    problems = report.problems
    problems += [Problem(i.severity, i.file, i.table, i.column, i.rule, 1, (),
                         i.message if f"[{i.rule}]" in i.message else f"{i.message} [{i.rule}]", i.hint)
                 for i in loaded.issues]
    unreadable = {i.table for i in loaded.issues if i.severity == "error" and i.table}
    unknown = list(loaded.unknown)
    for name, table in expect.items():
        if name in loaded.tables:
            problems += _check_table(table, loaded.tables[name], loaded.files.get(name),
                                     loaded.unparsed.get(name, {}), loaded.original.get(name, {}))
        elif name not in unreadable:
            problems.append(_missing_table(table, loaded.source, unknown))
    problems += _check_foreign_keys(loaded.tables, loaded.files)
    return report


def _missing_table(table: Table, source: str, unknown: list[str]) -> Problem:
    close = difflib.get_close_matches(table.name, unknown, n=1, cutoff=0.6)
    guess = f" ({close[0]!r} is there: is it this table?)" if close else ""
    if table.optional:
        return Problem("warning", None, table.name, None, "missing_table", 1, (),
                       f"optional table {table.name!r} is not in {source}{guess}; what needs it is left out [missing_table]",
                       "add it if you have it (see docs/data_contract.md)")
    return Problem(
        "error", None, table.name, None, "missing_table", 1, (),
        f"table {table.name!r} is missing from {source}: no {table.name}.csv or {table.name}.parquet "
        f"(or database table {table.name}){guess} [missing_table]",
        f"add it; if yours has another name, map it in a mapping file (tables: {{your_name: {table.name}}}); "
        "a header-only CSV stands for an empty table")


def _check_table(table: Table, df: pd.DataFrame, file: str | None, unparsed: dict[str, pd.Series],
                 original: dict[str, pd.Series]) -> list[Problem]:
    problems: list[Problem] = []
    name = table.name
    columns = [str(c) for c in df.columns]
    missing = [c for c in table.column_names if c not in df.columns]
    for col in missing:
        problems.append(Problem(
            "error", file, name, col, "missing_column", 1, (),
            f"{name}: column {col!r} is missing [missing_column]{_did_you_mean(col, columns)}; "
            f"columns present: {', '.join(columns) or '(none)'}",
            f"add the column; if yours is called differently, map it in a mapping file "
            f"(columns: {{{name}: {{your_column: {col}}}}})"))
    extra = [c for c in columns if c not in table.column_names]
    if extra:
        listed = ", ".join(c or "(unnamed)" for c in extra)
        problems.append(Problem(
            "warning", file, name, None, "extra_column", len(extra), (),
            f"{name}: {len(extra)} column{'s' * (len(extra) != 1)} not in the contract, ignored: {listed}",
            "nothing to do if they are not needed; if one is a contract column under another name, map it"))
    if len(df) == 0:
        must = name in NON_EMPTY_TABLES
        problems.append(Problem(
            "error" if must else "warning", file, name, None, "empty_table", 0, (),
            f"{name} has no rows [empty_table]" + (": every other table refers to it" if must else ""),
            "fill it in" if must else "fine if your company has no such records; otherwise check the export"))

    for col, mask in unparsed.items():
        c = table.column(col)
        problems.append(_row_problem(
            table, df, file, col, "dtype", mask, f"whose value is not {_TYPE_WORDS[c.dtype]} ({c.dtype})",
            _TYPE_HINTS[c.dtype], values=original.get(col)))

    present = [c for c in table.column_names if c in df.columns]
    schema = table_schema(table, present)
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems += _pandera_problems(table, df, file, exc.failure_cases, unparsed)

    for order in table.date_orders:
        if order.earlier in df.columns and order.later in df.columns:
            a, b = df[order.earlier], df[order.later]
            bad = (a > b).fillna(False).astype(bool)
            if bad.any():
                shown = a.dt.strftime("%Y-%m-%d").astype(object) + " > " + b.dt.strftime("%Y-%m-%d").astype(object)
                problems.append(_row_problem(
                    table, df, file, order.earlier, "date_order", bad,
                    f"with {order.earlier} after {order.later}",
                    f"{order.earlier} must be on or before {order.later}; look for swapped or mistyped dates",
                    values=shown, quote=False, label=f"{order.earlier}/{order.later}"))
    for c in table.columns:
        if c.dtype in ("date", "datetime") and c.name in df.columns and c.name not in unparsed:
            lo, hi = date_bounds(name, c.name)
            v = df[c.name]
            bad = ((v < lo) | (v > hi)).fillna(False).astype(bool)
            if bad.any():
                problems.append(_row_problem(
                    table, df, file, c.name, "plausible_date", bad, f"with an implausible date (outside {lo:%Y-%m-%d} "
                    f"to {hi:%Y-%m-%d})", f"{c.name} must lie {date_rule_text(name, c.name)}; look for a mistyped "
                    "year or a placeholder date, correct it or leave it empty where the column may be empty"))
    problems += _scientific_ids(table, df, file)
    return problems


#: an id or number that a spreadsheet wrote in scientific notation (8.55571E+19): its digits are lost
_SCIENTIFIC = r"^[+-]?\d(?:\.\d+)?[eE][+]?\d+$"


def _scientific_ids(table: Table, df: pd.DataFrame, file: str | None) -> list[Problem]:
    """A warning for each id or reference column holding values in scientific notation (digits lost to Excel)."""
    problems = []
    for c in table.columns:
        is_id = c.name in table.key_columns or c.unique or c.references or c.name.endswith(("_id", "_no", "_number"))
        if c.dtype != "str" or not is_id or c.name not in df.columns:
            continue
        bad = df[c.name].str.match(_SCIENTIFIC).fillna(False).astype(bool)
        if bad.any():
            p = _row_problem(table, df, file, c.name, "scientific_notation", bad,
                             "written in scientific notation (a spreadsheet rounded the number)",
                             f"the digits of these {c.name} values are lost, so different ones now look equal: export "
                             "the column as text (in Excel: format the cells as Text before saving) and check again")
            problems.append(replace(p, severity="warning"))
    return problems


def _pandera_problems(table: Table, df: pd.DataFrame, file: str | None, cases: pd.DataFrame,
                      unparsed: dict[str, pd.Series]) -> list[Problem]:
    problems = []
    cases = cases.copy()
    cases["row"] = pd.to_numeric(cases["index"], errors="coerce")
    multi = cases["check"] == "multiple_fields_uniqueness"
    if multi.any():
        rows = np.unique(cases.loc[multi, "row"].dropna().astype(int))
        key = ", ".join(table.key_columns)
        problems.append(_row_problem(
            table, df, file, None, "unique_key", _mask(df, rows),
            f"with a repeated key ({key})",
            f"each ({key}) must appear once; remove duplicate rows or correct them", label=f"({key})"))
    for (col, check), group in cases[~multi].groupby(["column", "check"], sort=False, dropna=False):
        rows = np.unique(group["row"].dropna().astype(int))
        c = table.column(col) if col in table.column_names else None
        if check == "not_nullable":
            if col in unparsed:  # unparsed values are already reported as such
                rows = rows[~unparsed[col].to_numpy()[rows]]
            if len(rows):
                problems.append(_row_problem(table, df, file, col, "not_null", _mask(df, rows),
                                             "left empty", f"fill in {col}: it may not be empty", show=False))
        elif check == "field_uniqueness":
            is_key = table.key_columns == (col,)
            problems.append(_row_problem(
                table, df, file, col, "unique", _mask(df, rows), f"with a repeated {col}",
                f"each {col} must appear once; remove duplicate rows or correct the "
                + ("ids" if is_key else "values"), show=not is_key))
        elif c is not None and pd.notna(group["check_number"].iloc[0]):
            rule, _chk = _column_rules(c)[int(group["check_number"].iloc[0])]
            if rule == "ge":
                what, hint = f"below the minimum {c.ge:g}", f"{col} must be at least {c.ge:g}; check the sign and units"
            elif rule == "le":
                what, hint = f"above the maximum {c.le:g}", f"{col} must be at most {c.le:g}; check the units and typos"
            else:
                what = "with a code not in the contract"
                hint = f"use one of: {', '.join(c.allowed or ())}; translate your codes in the export"
            problems.append(_row_problem(table, df, file, col, rule, _mask(df, rows), what, hint))
        else:  # a check this module did not expect (e.g. a dtype mismatch after conversion)
            problems.append(_row_problem(table, df, file, col if col in df.columns else None, str(check),
                                         _mask(df, rows), f"fail the check {check}",
                                         "see docs/data_contract.md for the column's rules"))
    return problems


def _check_foreign_keys(tables: Mapping[str, pd.DataFrame], files: Mapping[str, str]) -> list[Problem]:
    problems = []
    for table in TABLES:
        df = tables.get(table.name)
        if df is None:
            continue
        for c in table.columns:
            if c.references is None or c.name not in df.columns:
                continue
            ref_table, ref_col = c.references.split(".")
            target = tables.get(ref_table)
            if target is None or ref_col not in target.columns:
                continue  # the missing table or column is an error of its own
            values = df[c.name]
            bad = values.notna() & ~values.isin(target[ref_col].dropna())
            if bad.any():
                problems.append(_row_problem(
                    table, df, files.get(table.name), c.name, "foreign_key", bad,
                    f"pointing to a {ref_col} missing from {ref_table}",
                    f"every {table.name}.{c.name} must be a {ref_table}.{ref_col}; add the missing {ref_table} rows "
                    "or correct the ids"))
    return problems


# -- messages -------------------------------------------------------------------------------
def _mask(df: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    mask = np.zeros(len(df), dtype=bool)
    mask[rows[(rows >= 0) & (rows < len(df))]] = True
    return pd.Series(mask, index=df.index)


def _row_problem(table: Table, df: pd.DataFrame, file: str | None, column: str | None, rule: str,
                 mask: pd.Series, what: str, hint: str, values: pd.Series | None = None, show: bool = True,
                 quote: bool = True, label: str | None = None) -> Problem:
    """A problem about the rows in ``mask``: count, example ids and, unless identifying, example values."""
    rows = np.flatnonzero(mask.to_numpy(dtype=bool))
    n = len(rows)
    # the first rows with distinct ids (duplicated keys would otherwise repeat one id)
    candidates = rows[:N_EXAMPLES * 10]
    first_of: dict[str, int] = {}
    for i, r in zip(_row_ids(table, df, candidates), candidates):
        first_of.setdefault(i, r)
    ids = list(first_of)[:N_EXAMPLES]
    first = [first_of[i] for i in ids]
    col = table.column(column) if column in table.column_names else None
    show = show and not (col is not None and col.identifier)
    if show and values is None and column is not None:
        values = df[column]
    if show and values is not None:
        shown = [f"{i} ({_fmt(values.iloc[r], quote=quote)})" for i, r in zip(ids, first)]
    else:
        shown = ids
    where = f"{table.name}.{label or column}" if (label or column) else table.name
    more = ", ..." if n > N_EXAMPLES else ""
    message = f"{where}: {n:,} row{'s' * (n != 1)} {what} [{rule}]; e.g. {', '.join(shown)}{more}"
    return Problem("error", file, table.name, column, rule, n, tuple(ids), message, hint)


def _row_ids(table: Table, df: pd.DataFrame, rows: np.ndarray) -> list[str]:
    """Key values of a few rows (``row N``, 1-based, where the key is absent)."""
    key = list(table.key_columns)
    if not all(k in df.columns for k in key):
        return [f"row {r + 1}" for r in rows]
    sub = df[key].iloc[rows]
    ids = []
    for r, values in zip(rows, sub.itertuples(index=False)):  # at most N_EXAMPLES rows
        ids.append(f"row {r + 1}" if any(pd.isna(v) for v in values) else "/".join(_fmt(v) for v in values))
    return ids


def _fmt(value: Any, quote: bool = False) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "empty"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{float(value):.1f}"
    return repr(str(value)) if quote and isinstance(value, str) else str(value)


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- the data dictionary ---------------------------------------------------------------------
_MAPPING_EXAMPLE = """\
```yaml
tables:                      # your file or table name -> riskmodel's table name
  采购订单: purchase_orders
  supplier_master: suppliers
columns:                     # per riskmodel table: your column -> riskmodel's column
  purchase_orders:
    order_no: po_id
    total_amount: amount
  suppliers:
    uscc: credit_code
```"""


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def _rules_text(c: Column, table: Table) -> str:
    rules = []
    if c.unique or table.key_columns == (c.name,):
        rules.append("unique")
    if c.ge is not None and c.le is not None:
        rules.append(f"{c.ge:g} to {c.le:g}")
    elif c.ge is not None:
        rules.append(f"≥ {c.ge:g}")
    elif c.le is not None:
        rules.append(f"≤ {c.le:g}")
    if c.allowed is not None:
        rules.append("one of " + ", ".join(f"`{a}`" for a in c.allowed))
    if c.dtype in ("date", "datetime"):
        rules.append("from 1900 to the day of the check" if (table.name, c.name) in PAST_DATES else
                     "from 1900 to 40 years ahead" if (table.name, c.name) in PLANNED_DATES else
                     "from 1900 to a year ahead")
    for o in table.date_orders:
        if o.earlier == c.name:
            rules.append(f"on or before `{o.later}`")
        if o.later == c.name:
            rules.append(f"on or after `{o.earlier}`")
    return "; ".join(rules)


def data_dictionary_markdown() -> str:
    """The data dictionary (``docs/data_contract.md``), printed from :mod:`riskmodel.data.schema`.

    Returns
    -------
    str
        Markdown: how a dataset is supplied and checked, the mapping-file
        format, then one section per table.

    Examples
    --------
    >>> md = data_dictionary_markdown()
    >>> md.splitlines()[0]
    '# Data contract'
    >>> "## `purchase_orders`" in md
    True
    """
    referenced_by: dict[str, list[str]] = {}
    for t in TABLES:
        for c in t.columns:
            if c.references:
                referenced_by.setdefault(c.references.split(".")[0], []).append(f"{t.name}.{c.name}")
    markers = ", ".join(f"`{m}`" for m in MISSING_MARKERS)
    out = [
        "# Data contract",
        "",
        "<!-- Generated from src/riskmodel/data/schema.py by riskmodel.data.contracts.data_dictionary_markdown();",
        "     do not edit by hand. Regenerate: python -m riskmodel.data.contracts > docs/data_contract.md -->",
        "",
        "Every table riskmodel reads, its columns, keys and rules. `riskmodel validate SOURCE` checks a dataset",
        "against it and reports every problem, with example row ids and what to do.",
        "",
        "## Supplying a dataset",
        "",
        "- **A folder** with one `<table>.csv` or `<table>.parquet` file per table (the `truth/` subfolder and",
        "  `manifest.json` of a generated dataset are ignored), or **a DuckDB database file** with one table per",
        "  contract table.",
        "- **Every table is required** unless marked optional. A CSV file with only its header row stands for an empty table: accepted",
        f"  with a warning, except {', '.join(f'`{t}`' for t in NON_EMPTY_TABLES)}, which must have rows.",
        "  A 0-byte file is an error.",
        "- **CSV**: UTF-8 with or without BOM; other encodings with `--encoding` (e.g. `--encoding gbk` for files",
        "  saved by Chinese Excel; `--encoding auto` reads each file as UTF-8 where it is, as GBK otherwise, for a",
        "  folder that mixes both). First row is the header. An empty cell and the markers",
        f"  {markers} are missing values.",
        "  Ids and numbers that a spreadsheet wrote in scientific notation (`8.55571E+19`) have lost digits:",
        "  a warning names them; export such columns as text.",
        "- **Types**: `str` text (surrounding spaces removed); `int` whole number; `float` plain number",
        "  (no units, currency signs or thousands separators); `bool` true/false, 1/0, yes/no or 是/否;",
        "  `date` `YYYY-MM-DD` (`2023/01/31`, `20230131` and `2023年1月31日` are accepted too);",
        "  `datetime` `YYYY-MM-DD HH:MM:SS`. Times with a zone are read as Beijing time.",
        "  A value that does not parse is reported with its row ids.",
        "- **Plausible dates**: no date before 1900-01-01; none after the day of the check plus one year",
        "  (`employees.birth_date` and `hire_date` not after the day of the check; the plans",
        "  " + ", ".join(f"`{t}.{c}`" for t, c in sorted(PLANNED_DATES)) + " up to 40 years",
        "  ahead). A date outside is an error naming its rows: one mistyped year (2203 for 2023) would stretch",
        "  the data's period, and every quarter computed on it, by centuries.",
        "- Columns not in the contract are ignored with a warning. Example row ids in a report are values",
        "  of the table's key; `row N` means the N-th data row (line N+1 of a CSV file).",
        "- **Nullable** `no` means the column may not be empty. **FK** `table.column` means every",
        "  non-empty value must exist there. **Identifier** marks columns that directly identify a person",
        "  (removed by de-identification; a report never prints their values).",
        "- `riskmodel validate` exits with 0 when the dataset is valid (warnings allowed), 1 when it has",
        "  errors, 2 when it cannot be read at all (missing folder, malformed mapping file).",
        "",
        "## Every command checks its dataset first",
        "",
        "`riskmodel run`, `train`, `score` (where it re-reads the data), `backtest` and `features` check the",
        "dataset against this contract before any work, and stop with the same messages as `riskmodel validate`",
        "(exit code 2). `riskmodel features --no-validate` skips the check.",
        "",
        "- **A folder of CSV files** (or a DuckDB file) is read once, converted as described above and checked.",
        "- **A folder of Parquet files** is read in place by DuckDB, as stored: text is not trimmed, blank text",
        "  is not made missing, and each column keeps the type its Parquet schema gives it. It is checked in",
        "  DuckDB SQL over the files, as it will be read: every rule of this contract, and besides",
        "  `stored_type` (a date, number or flag stored as text, or text stored as a number), `padded_text`",
        "  (an id, reference or code with spaces around it: `'E001 '` is not `'E001'`) and `blank_text` (empty",
        "  or `NA` text instead of a missing value). `riskmodel validate` converts such values when it reads the",
        "  folder, so it reports them as warnings.",
        "- **A folder written by `riskmodel generate` or `riskmodel validate --write-parquet`** whose",
        "  `manifest.json` still matches its files (the fingerprint, a hash of every Parquet file) was checked",
        "  when written and is not checked again; changing any file makes it checked like any other folder.",
        "",
        "**Tables that need a mapping file or an encoding**: `riskmodel validate` and `riskmodel features` take",
        "`--mapping` and `--encoding`; for `riskmodel run` (and the commands that re-read a run's data later),",
        "convert them once and run on the converted folder:",
        "",
        "```sh",
        "riskmodel validate MY_TABLES --mapping mapping.yaml --encoding gbk --write-parquet data/raw/my_company",
        "riskmodel run --data data/raw/my_company",
        "```",
        "",
        "The converted folder holds the contract's names and types, is read in place (large data included) and",
        "is trusted by its manifest, so later commands do not check it again.",
        "",
        "## Mapping file",
        "",
        "If your files, tables or columns have other names, a YAML mapping file renames them to riskmodel's",
        "(`riskmodel validate SOURCE --mapping mapping.yaml`). Both keys are optional; any other key is an error,",
        "and so is a target that is not a contract table or column.",
        "",
        _MAPPING_EXAMPLE,
        "",
        "## Tables",
        "",
        "| Area | Table | Key | Description |",
        "|---|---|---|---|",
    ]
    for t in TABLES:
        out.append(f"| {t.area} | [`{t.name}`](#{t.name}) | {', '.join(t.key_columns)} | {_md(t.description)} |")
    for t in TABLES:
        out += ["", f"## `{t.name}`", "", _md(t.description), "",
                f"- Area: {t.area}",
                f"- Key: {', '.join(f'`{k}`' for k in t.key_columns)}"
                + (" (the combination is unique)" if len(t.key_columns) > 1 else "")]
        for o in t.date_orders:
            out.append(f"- Row rule: `{o.earlier}` on or before `{o.later}` where both are present")
        if t.optional:
            out.append("- Optional: may be absent (a warning); what needs it is then left out")
        if t.name in NON_EMPTY_TABLES:
            out.append("- Must have rows")
        if t.name in referenced_by:
            out.append(f"- Referenced by: {', '.join(f'`{r}`' for r in referenced_by[t.name])}")
        out += ["", "| Column | Type | Nullable | Rules | FK | Identifier | Description |",
                "|---|---|---|---|---|---|---|"]
        for c in t.columns:
            out.append(f"| `{c.name}` | {c.dtype} | {'yes' if c.nullable else 'no'} | {_md(_rules_text(c, t))} | "
                       f"{f'`{c.references}`' if c.references else ''} | {'yes' if c.identifier else ''} | "
                       f"{_md(c.description)} |")
    return "\n".join(out) + "\n"


__all__ = [
    "NON_EMPTY_TABLES", "Problem", "ValidationReport", "contract_schemas", "data_dictionary_markdown",
    "date_bounds", "require_valid", "table_schema", "validate_dataset", "validate_tables",
]

if __name__ == "__main__":
    print(data_dictionary_markdown(), end="")
