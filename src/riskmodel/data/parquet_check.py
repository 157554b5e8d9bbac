"""The data contract checked in DuckDB SQL over a folder of Parquet files, where they lie.

``riskmodel run`` and ``riskmodel features`` read a Parquet folder in place (DuckDB views over
the files), without the conversion :mod:`riskmodel.data.io` applies to CSV files: text is not
trimmed, blank text is not made missing and a column is the type its Parquet schema says.  So
a Parquet folder is checked as it will be read, to the rules of :mod:`riskmodel.data.contracts`:

* every contract table and column is there, of a type its Parquet schema stores compatibly
  (a date stored as text is an error, not a value to guess);
* ids, references and codes carry no surrounding spaces and no blank or ``NA`` text;
* not-null columns, unique ids and keys, bounds, allowed codes, date orders, plausible dates;
* every foreign key.

Every rule of a table is counted in one aggregate over its file (one scan, out of core, never
a pandas copy), then at most five example rows are fetched for each rule broken; a repeated id
is counted by groups only where ``count(DISTINCT)`` says one repeats.  A folder whose
``manifest.json`` (written by ``riskmodel generate`` or ``riskmodel validate --write-parquet``)
still matches its files is trusted as written, so the scale benchmark's folders cost only the
hashing of their files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

from riskmodel.data.contracts import (
    N_EXAMPLES,
    NON_EMPTY_TABLES,
    Problem,
    ValidationReport,
    date_rule_text,
    date_bounds,
)
from riskmodel.data.io import MISSING_MARKERS
from riskmodel.data.schema import TABLES, Column, Table
from riskmodel.data.store import MANIFEST, folder_fingerprint, read_manifest

#: DuckDB types a contract type may be stored as, read in place
_STORED_AS = {
    "str": ("VARCHAR",),
    "int": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"),
    "float": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
              "FLOAT", "DOUBLE", "DECIMAL"),
    "bool": ("BOOLEAN",),
    "date": ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE"),
    "datetime": ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE"),
}
_TYPE_WORDS = {"str": "text", "int": "whole numbers", "float": "numbers", "bool": "true/false",
               "date": "dates", "datetime": "date-times"}
#: the whitespace reading a CSV file strips from text (Python's str.strip): ideographic and no-break spaces too
_SPACES = " \t\n\r\x0b\x0c\u3000\u00a0\ufeff\u2002\u2003\u2009\u200a"
_CONVERT = ("or let riskmodel convert the folder once: riskmodel validate {src} --write-parquet OUT "
            "(it trims text, makes blanks missing and converts types), then use OUT")


def manifest_matches(folder: str | Path, current: str | None = None) -> bool:
    """Whether ``folder`` has a riskmodel ``manifest.json`` whose fingerprint still matches its Parquet files
    (``current``: their :func:`folder_fingerprint`, where it is already known).

    Such a folder was written by ``riskmodel generate`` or ``riskmodel validate --write-parquet`` and not
    changed since; hashing the files (seconds for the scale benchmark) is all its check costs.
    """
    folder = Path(folder)
    manifest = read_manifest(folder) if (folder / MANIFEST).is_file() else None
    if not manifest or not manifest.get("fingerprint"):
        return False
    current = current or folder_fingerprint(folder)
    return current is not None and current == manifest["fingerprint"]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check_parquet_views(con: duckdb.DuckDBPyConnection, files: Mapping[str, str], source: str) -> ValidationReport:
    """Check the contract tables behind ``con``'s views (one per table in ``files``) in SQL.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection with a view per contract table present, named as the table.
    files : dict of str to str
        The file each view reads (for messages), by table name.
    source : str
        How the report names the folder.

    Returns
    -------
    ValidationReport
        Errors and warnings as :func:`riskmodel.data.contracts.validate_dataset` reports them, with the
        rule ``stored_type`` for a column whose Parquet type does not hold the contract type and
        ``padded_text`` / ``blank_text`` for text that reading a CSV file would have trimmed or made missing.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW positions AS SELECT * FROM (VALUES ('P1 ', 'grader', '定级员', 'Grader', 2)) "
    ...                 "t(position_id, post_code, title_zh, title_en, sensitivity)")
    >>> report = check_parquet_views(con, {"positions": "positions.parquet"}, "folder")
    >>> [p.rule for p in report.problems if p.table == "positions"]
    ['padded_text']
    """
    report = ValidationReport(source=source, files=dict(files))
    columns: dict[str, dict[str, str]] = {}
    for t in TABLES:
        if t.name in files:
            described = con.execute(f"DESCRIBE SELECT * FROM {_q(t.name)}").fetchall()
            columns[t.name] = {str(r[0]): str(r[1]) for r in described}
        elif t.optional:
            report.problems.append(Problem("warning", None, t.name, None, "missing_table", 1, (),
                                           f"optional table {t.name!r} is not in {source}; what needs it is left "
                                           "out [missing_table]", "add it if you have it (see docs/data_contract.md)"))
        else:
            report.problems.append(Problem("error", None, t.name, None, "missing_table", 1, (),
                                           f"table {t.name!r} is missing from {source}: no {t.name}.parquet "
                                           "[missing_table]", "add it (see docs/data_contract.md)"))
    for t in TABLES:
        if t.name in files:
            report.problems += _check_table(con, t, files[t.name], columns, source, report.rows)
    return report


def check_parquet_folder(folder: str | Path) -> ValidationReport:
    """Check a folder of ``<table>.parquet`` files in place (see :func:`check_parquet_views`)."""
    folder = Path(folder)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        files = {}
        for p in sorted(folder.glob("*.parquet")):
            if p.stem in {t.name for t in TABLES}:
                try:
                    con.execute(f"CREATE VIEW {_q(p.stem)} AS SELECT * FROM read_parquet({_lit(p.as_posix())})")
                except duckdb.Error:
                    continue  # an unreadable file: reading it reports it (riskmodel.data.io)
                files[p.stem] = str(p)
        return check_parquet_views(con, files, str(folder))
    finally:
        con.close()


def _base_type(duck_type: str) -> str:
    return duck_type.split("(")[0].strip().upper()


def _rules(t: Table, col: Column, source: str) -> list[tuple[str, str, str, str, bool]]:
    """(rule, SQL condition of a bad row, what, hint, show values) for one column stored in a compatible type."""
    c, out = _q(col.name), []
    convert = _CONVERT.format(src=source)
    if col.dtype == "str" and (col.name in t.key_columns or col.unique or col.references or col.allowed or not col.nullable):
        spaces = ", ".join(_lit(ch) for ch in _SPACES)
        out.append(("padded_text", f"(left({c}, 1) IN ({spaces}) OR right({c}, 1) IN ({spaces}))", "with spaces around the value",
                    f"remove the spaces ({col.name} is compared as written, so 'E001 ' is not 'E001'), {convert}", True))
        blanks = ", ".join(_lit(m) for m in ("", *MISSING_MARKERS))
        out.append(("blank_text", f"trim({c}) IN ({blanks})", "with blank or NA text instead of a missing value",
                    f"store a missing value as null, not as text, {convert}" if col.nullable else
                    f"fill in {col.name}: it may not be empty", True))
    if not col.nullable:
        out.append(("not_null", f"{c} IS NULL", "left empty", f"fill in {col.name}: it may not be empty", False))
    if col.ge is not None:
        out.append(("ge", f"{c} < {col.ge}", f"below the minimum {col.ge:g}",
                    f"{col.name} must be at least {col.ge:g}; check the sign and units", True))
    if col.le is not None:
        out.append(("le", f"{c} > {col.le}", f"above the maximum {col.le:g}",
                    f"{col.name} must be at most {col.le:g}; check the units and typos", True))
    if col.allowed is not None:
        out.append(("allowed", f"{c} NOT IN ({', '.join(_lit(a) for a in col.allowed)})",
                    "with a code not in the contract",
                    f"use one of: {', '.join(col.allowed)}; translate your codes in the export", True))
    if col.dtype in ("date", "datetime"):
        lo, hi = date_bounds(t.name, col.name)
        out.append(("plausible_date", f"(CAST({c} AS TIMESTAMP) < TIMESTAMP '{lo:%Y-%m-%d}' "
                                      f"OR CAST({c} AS TIMESTAMP) > TIMESTAMP '{hi:%Y-%m-%d}')",
                    f"with an implausible date (outside {lo:%Y-%m-%d} to {hi:%Y-%m-%d})",
                    f"{col.name} must lie {date_rule_text(t.name, col.name)}; look for a mistyped year or a "
                    "placeholder date, correct it or leave it empty where the column may be empty", True))
    return out


def _check_table(con, t: Table, file: str, columns: Mapping[str, Mapping[str, str]], source: str,
                 rows_of: dict[str, int]) -> list[Problem]:
    problems: list[Problem] = []
    name = t.name
    stored = columns[name]
    for col in t.columns:
        if col.name not in stored:
            problems.append(Problem("error", file, name, col.name, "missing_column", 1, (),
                                    f"{name}: column {col.name!r} is missing [missing_column]; columns present: "
                                    f"{', '.join(stored) or '(none)'}", "add the column (see docs/data_contract.md)"))
    extra = [c for c in stored if c not in t.column_names]
    if extra:
        problems.append(Problem("warning", file, name, None, "extra_column", len(extra), (),
                                f"{name}: {len(extra)} column{'s' * (len(extra) != 1)} not in the contract, ignored: "
                                f"{', '.join(extra)}", "nothing to do if they are not needed"))
    usable: list[Column] = []
    for col in t.columns:
        if col.name not in stored:
            continue
        if _base_type(stored[col.name]) not in _STORED_AS[col.dtype]:
            sample = [r[0] for r in con.execute(f"SELECT {_q(col.name)} FROM {_q(name)} WHERE {_q(col.name)} IS NOT NULL "
                                                f"LIMIT 3").fetchall()]
            shown = "" if col.identifier else f"; e.g. {', '.join(repr(v) for v in sample)}"
            problems.append(Problem(
                "error", file, name, col.name, "stored_type", 1, (),
                f"{name}.{col.name} is stored as {stored[col.name]} in {Path(file).name}, not as "
                f"{_TYPE_WORDS[col.dtype]} ({col.dtype}) [stored_type]{shown}",
                f"write {col.name} as a Parquet {col.dtype} column, {_CONVERT.format(src=source)}"))
        else:
            usable.append(col)
    checks = [(col, col.name, *r) for col in usable for r in _rules(t, col, source)]
    checks += [(t.column(o.earlier), f"{o.earlier}/{o.later}", "date_order", f"{_q(o.earlier)} > {_q(o.later)}",
                f"with {o.earlier} after {o.later}",
                f"{o.earlier} must be on or before {o.later}; look for swapped or mistyped dates", False)
               for o in t.date_orders if {o.earlier, o.later} <= {c.name for c in usable}]
    checks += _foreign_keys(t, usable, columns)
    key = [k for k in t.key_columns if k in stored]
    ids = (f"concat_ws('/', {', '.join(f'CAST({_q(k)} AS VARCHAR)' for k in key)})" if len(key) == len(t.key_columns)
           else "'row ' || CAST(row_number() OVER () AS VARCHAR)")
    groups = _unique_groups(t, {c.name for c in usable})
    present = [" AND ".join(f"{_q(g)} IS NOT NULL" for g in group) for group in groups]
    # one scan of the table: its rows, every rule's bad rows, and whether each id or key repeats
    counted = con.execute("SELECT " + ", ".join(
        ["count(*)"] + [f"count(*) FILTER (WHERE {ch[3]})" for ch in checks]
        + [f"count(*) FILTER (WHERE {p}) - count(DISTINCT ({', '.join(_q(g) for g in group)})) FILTER (WHERE {p})"
           for group, p in zip(groups, present)]) + f" FROM {_q(name)}").fetchone()
    n_rows, counts, repeats = counted[0], counted[1:1 + len(checks)], counted[1 + len(checks):]
    rows_of[name] = int(n_rows)
    if n_rows == 0:
        must = name in NON_EMPTY_TABLES
        problems.append(Problem("error" if must else "warning", file, name, None, "empty_table", 0, (),
                                f"{name} has no rows [empty_table]" + (": every other table refers to it" if must else ""),
                                "fill it in" if must else "fine if your company has no such records"))
        return problems
    for (col, label, rule, cond, what, hint, show), n in zip(checks, counts):
        if n:
            show_values = show and col is not None and not col.identifier
            value = f", {_q(col.name)}" if show_values else ""
            rows = con.execute(f"SELECT {ids} AS id{value} FROM {_q(name)} WHERE {cond} LIMIT {N_EXAMPLES}").fetchall()
            problems.append(_problem(file, name, col.name if col is not None else None, label, rule, int(n), rows,
                                     show_values, what, hint))
    # an id with spaces around it cannot match its reference: one problem is enough
    padded = {p.column for p in problems if p.rule == "padded_text"}
    problems = [p for p in problems if not (p.rule == "foreign_key" and p.column in padded)]
    for group, p, repeated in zip(groups, present, repeats):
        if not repeated:
            continue
        cols = ", ".join(_q(g) for g in group)
        n = con.execute(f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {_q(name)} WHERE {p} "
                        f"GROUP BY {cols} HAVING n > 1)").fetchone()[0]
        if n:
            rows = con.execute(f"SELECT concat_ws('/', {', '.join(f'CAST({_q(g)} AS VARCHAR)' for g in group)}) FROM "
                               f"{_q(name)} WHERE {' AND '.join(f'{_q(g)} IS NOT NULL' for g in group)} GROUP BY {cols} "
                               f"HAVING count(*) > 1 LIMIT {N_EXAMPLES}").fetchall()
            joined = ", ".join(group)
            if len(group) > 1:
                problems.append(_problem(file, name, None, f"({joined})", "unique_key", int(n), rows, False,
                                         f"with a repeated key ({joined})",
                                         f"each ({joined}) must appear once; remove duplicate rows or correct them"))
            else:
                is_key = t.key_columns == group
                problems.append(_problem(file, name, group[0], group[0], "unique", int(n), rows, False,
                                         f"with a repeated {group[0]}",
                                         f"each {group[0]} must appear once; remove duplicate rows or correct the "
                                         + ("ids" if is_key else "values")))
    return problems


def _unique_groups(t: Table, usable: set[str]) -> list[tuple[str, ...]]:
    groups = [(c.name,) for c in t.columns if (c.unique or t.key_columns == (c.name,)) and c.name in usable]
    if len(t.key_columns) > 1 and set(t.key_columns) <= usable:
        groups.append(t.key_columns)
    return list(dict.fromkeys(groups))


def _problem(file, table, column, label, rule, n, rows, show_values, what, hint) -> Problem:
    ids = tuple(str(r[0]) for r in rows)
    shown = [f"{r[0]} ({_fmt(r[1])})" for r in rows] if show_values else list(ids)
    more = ", ..." if n > N_EXAMPLES else ""
    message = f"{table}.{label}: {n:,} row{'s' * (n != 1)} {what} [{rule}]; e.g. {', '.join(shown)}{more}"
    return Problem("error", file, table, column, rule, n, ids, message, hint)


def _fmt(value) -> str:
    if value is None:
        return "empty"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d") if getattr(value, "hour", 0) == getattr(value, "minute", 0) == 0 \
            else value.strftime("%Y-%m-%d %H:%M:%S")
    return repr(value) if isinstance(value, str) else str(value)


def _foreign_keys(t: Table, usable: list[Column], columns: Mapping[str, Mapping[str, str]]) -> list[tuple]:
    """The foreign-key rules of a table, as conditions on its rows (counted in the table's one aggregate)."""
    out = []
    for c in usable:
        if c.references is None:
            continue
        ref_table, ref_col = c.references.split(".")
        ref_type = columns.get(ref_table, {}).get(ref_col)
        if ref_type is None or _base_type(ref_type) not in _STORED_AS[c.dtype]:
            continue  # the missing table or column, or one stored as another type, is an error of its own
        cond = (f"{_q(c.name)} IS NOT NULL AND {_q(c.name)} NOT IN "
                f"(SELECT {_q(ref_col)} FROM {_q(ref_table)} WHERE {_q(ref_col)} IS NOT NULL)")
        out.append((c, c.name, "foreign_key", cond, f"pointing to a {ref_col} missing from {ref_table}",
                    f"every {t.name}.{c.name} must be a {ref_table}.{ref_col}; add the missing {ref_table} rows "
                    "or correct the ids", True))
    return out


__all__ = ["check_parquet_folder", "check_parquet_views", "manifest_matches"]
