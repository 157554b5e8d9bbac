"""Bid-level data for the collusion screens: one row per bid, tender-level label.

The shape (the one of the labelled tenders published with García Rodríguez et
al. 2022) is

=================  ======  =========================================================
column             type    meaning
=================  ======  =========================================================
dataset            str     which collection of tenders (a country, a company)
tender_id          str     tender, unique within its dataset
bid_idx            int     position of the bid within its tender (unique per tender)
bid                float   bid amount, positive
collusive_tender   Int8    1 rigged, 0 competitive, <NA> unknown (same for all bids of a tender)
=================  ======  =========================================================

:func:`read_bids` / :func:`load_bids` read CSV files in that shape and check
them; :func:`from_tables` maps riskmodel's own ``tenders``/``bids`` tables to
it, so the same screens and classifiers run on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.errors import InputFileError

BID_COLUMNS: tuple[str, ...] = ("dataset", "tender_id", "bid_idx", "bid", "collusive_tender")
REQUIRED_COLUMNS: tuple[str, ...] = ("tender_id", "bid")
LABEL = "collusive_tender"
_MAX_LISTED = 5


class BidsFileError(InputFileError):
    """A bid file (or frame) breaks the bid-level shape: the message names the file, column, rows and rule."""


def _rows(index: Iterable, header_lines: int) -> str:
    """'lines 3, 7, 12 (and 4 more)' for CSV data rows (line numbers count the header), or 'rows …' for frames."""
    idx = list(index)
    shown = ", ".join(str(i + header_lines) for i in idx[:_MAX_LISTED])
    more = f" (and {len(idx) - _MAX_LISTED} more)" if len(idx) > _MAX_LISTED else ""
    return f"{'lines' if header_lines else 'rows'} {shown}{more}"


def _values(s: pd.Series) -> str:
    return ", ".join(repr(v) for v in s.head(_MAX_LISTED).tolist())


def validate_bids(frame: pd.DataFrame, source: str = "<frame>", *, header_lines: int = 0,
                  dataset: str | None = None) -> pd.DataFrame:
    """Check a bid table and return it in the canonical shape (columns of :data:`BID_COLUMNS` first).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per bid; needs ``tender_id`` and ``bid``.  ``dataset`` defaults
        to the ``dataset`` argument, ``bid_idx`` to the order of the rows within
        each tender, ``collusive_tender`` to unknown (<NA>).  Other columns are
        kept after the canonical ones.
    source : str, default="<frame>"
        Name used in error messages (the file path).
    header_lines : int, default=0
        Offset turning a row position into a file line number (2 for a CSV
        with a header line: data row 0 is line 2); 0 reports row positions.
    dataset : str, optional
        Dataset name where the frame has no ``dataset`` column.

    Returns
    -------
    pandas.DataFrame
        ``dataset`` and ``tender_id`` as str, ``bid_idx`` int, ``bid`` float,
        ``collusive_tender`` nullable Int8.

    Raises
    ------
    BidsFileError
        Missing column; empty table; a tender id missing; a bid that is not a
        positive finite number; a label other than 0/1; a label that differs
        between bids of one tender; a duplicated (dataset, tender_id, bid_idx).

    Examples
    --------
    >>> df = validate_bids(pd.DataFrame({"tender_id": [1, 1], "bid": [10.0, 12.0]}), dataset="demo")
    >>> list(df.columns), df.collusive_tender.isna().all()
    (['dataset', 'tender_id', 'bid_idx', 'bid', 'collusive_tender'], np.True_)
    >>> validate_bids(pd.DataFrame({"tender_id": [1, 1], "bid": [10.0, -1.0]}), "bids.csv", header_lines=2)
    Traceback (most recent call last):
    ...
    riskmodel.collusion.bids.BidsFileError: bids.csv: column 'bid' must be a positive finite number; lines 3 hold -1.0. Correct or remove those rows.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise BidsFileError(f"{source}: missing column(s) {missing}; a bid table needs {list(REQUIRED_COLUMNS)} "
                            f"(optional: dataset, bid_idx, collusive_tender); found {list(frame.columns)}")
    if frame.empty:
        raise BidsFileError(f"{source}: no bids (the table has a header but no rows)")
    df = frame.copy()
    if "dataset" not in df.columns:
        df["dataset"] = dataset if dataset is not None else Path(source).stem
    tid_missing = df["tender_id"].isna() | (df["tender_id"].astype(str).str.strip() == "")
    if tid_missing.any():
        raise BidsFileError(f"{source}: column 'tender_id' is empty on {_rows(df.index[tid_missing], header_lines)}; "
                            "every bid needs the tender it belongs to")
    bid = pd.to_numeric(df["bid"], errors="coerce")
    bad = bid.isna() | ~np.isfinite(bid.fillna(0)) | (bid <= 0)
    if bad.any():
        raise BidsFileError(f"{source}: column 'bid' must be a positive finite number; {_rows(df.index[bad], header_lines)} "
                            f"hold {_values(df.loc[bad, 'bid'])}. Correct or remove those rows.")
    df["bid"] = bid.astype(float)
    df["dataset"] = df["dataset"].astype(str)
    df["tender_id"] = df["tender_id"].astype(str).str.strip()
    if "bid_idx" in df.columns:
        idx = pd.to_numeric(df["bid_idx"], errors="coerce")
        bad = idx.isna() | (idx != np.floor(idx.fillna(0)))
        if bad.any():
            raise BidsFileError(f"{source}: column 'bid_idx' must be an integer; {_rows(df.index[bad], header_lines)} "
                                f"hold {_values(df.loc[bad, 'bid_idx'])}")
        df["bid_idx"] = idx.astype(np.int64)
    else:
        df["bid_idx"] = df.groupby(["dataset", "tender_id"], sort=False).cumcount().astype(np.int64)
    dup = df.duplicated(["dataset", "tender_id", "bid_idx"], keep=False)
    if dup.any():
        raise BidsFileError(f"{source}: (dataset, tender_id, bid_idx) must be unique; {_rows(df.index[dup], header_lines)} "
                            "repeat a bid of the same tender")
    if LABEL in df.columns:
        raw = df[LABEL]
        lab = pd.to_numeric(raw, errors="coerce")
        bad = (raw.notna() & lab.isna()) | (lab.notna() & ~lab.isin([0, 1]))
        if bad.any():
            raise BidsFileError(f"{source}: column '{LABEL}' must be 0 (competitive), 1 (collusive) or empty (unknown); "
                                f"{_rows(df.index[bad], header_lines)} hold {_values(raw[bad])}")
        df[LABEL] = lab.astype("Int8")
        per_tender = df.groupby(["dataset", "tender_id"], sort=False)[LABEL].nunique(dropna=False)
        mixed = per_tender[per_tender > 1]
        if len(mixed):
            rows = df.index[df.set_index(["dataset", "tender_id"]).index.isin(mixed.index)]
            tenders = ", ".join(t for _, t in mixed.index[:_MAX_LISTED])
            raise BidsFileError(f"{source}: column '{LABEL}' is a tender-level label but differs between bids of "
                                f"tender(s) {tenders} ({_rows(rows, header_lines)}); give every bid of a tender the same label")
    else:
        df[LABEL] = pd.array([pd.NA] * len(df), dtype="Int8")
    extra = [c for c in df.columns if c not in BID_COLUMNS]
    return df[list(BID_COLUMNS) + extra].reset_index(drop=True)


def read_bids(path: str | Path, dataset: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read and check one CSV file of bids.

    Parameters
    ----------
    path : str or Path
        CSV with a header line; columns as in :data:`BID_COLUMNS` (``tender_id``
        and ``bid`` required).
    dataset : str, optional
        Dataset name for files without a ``dataset`` column (default: the file
        name without extension).
    encoding : str, optional
        File encoding (default UTF-8; e.g. ``gbk``).

    Returns
    -------
    pandas.DataFrame
        See :func:`validate_bids`.

    Raises
    ------
    BidsFileError
        The file is missing, unreadable, or breaks the shape (the message says
        which lines and what to fix).
    """
    path = Path(path)
    if not path.is_file():
        raise BidsFileError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, dtype={"tender_id": str, "dataset": str}, encoding=encoding or "utf-8",
                            skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise BidsFileError(f"{path}: not {encoding or 'UTF-8'} text ({exc.reason} at byte {exc.start}); "
                            "pass the file's encoding (e.g. gbk)") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BidsFileError(f"{path}: not a readable CSV file: {exc}") from exc
    return validate_bids(frame, str(path), header_lines=2, dataset=dataset)


def load_bids(paths: str | Path | Sequence[str | Path], encoding: str | None = None) -> pd.DataFrame:
    """Read several bid files into one table (one ``dataset`` per file unless the files say otherwise).

    Raises
    ------
    BidsFileError
        As :func:`read_bids`; also when two files hold the same dataset name.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise BidsFileError("no bid files given")
    frames, owner = [], {}
    for p in paths:
        df = read_bids(p, encoding=encoding)
        for name in df["dataset"].unique():
            if name in owner:
                raise BidsFileError(f"{p}: dataset '{name}' also comes from {owner[name]}; "
                                    "give each file its own dataset name")
            owner[name] = p
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def from_tables(tenders: pd.DataFrame, bids: pd.DataFrame, collusive: Iterable[str] | None = None,
                dataset: str = "riskmodel") -> pd.DataFrame:
    """Map riskmodel's ``tenders`` and ``bids`` tables to the bid-level shape.

    Parameters
    ----------
    tenders : pandas.DataFrame
        The ``tenders`` table (``tender_id``, ``estimated_amount``,
        ``category_id``, ``method`` … see :mod:`riskmodel.data.schema`).
    bids : pandas.DataFrame
        The ``bids`` table (``bid_id``, ``tender_id``, ``supplier_id``,
        ``bid_amount``, ``is_winner``).
    collusive : iterable of str, optional
        Tender ids known to be rigged (from closed cases or, in evaluation
        only, the synthetic company's truth).  Given: every other tender is
        labelled 0; omitted: every label is unknown (<NA>).
    dataset : str, default="riskmodel"

    Returns
    -------
    pandas.DataFrame
        :data:`BID_COLUMNS`, then ``bid_id``, ``supplier_id``, ``is_winner``,
        ``estimated_amount``, ``category_id``, ``method`` where present.
        ``bid_idx`` follows ``bid_id`` within a tender.  Tenders without any
        bid have no row (there is nothing to screen).

    Raises
    ------
    BidsFileError
        A bid names a tender that is not in ``tenders``, or an amount is not
        positive (a zero bid cannot be screened: fix or drop it first).

    Examples
    --------
    >>> tenders = pd.DataFrame({"tender_id": ["T1"], "estimated_amount": [1e6], "category_id": ["C1"]})
    >>> bids = pd.DataFrame({"bid_id": ["B2", "B1"], "tender_id": ["T1", "T1"], "supplier_id": ["S2", "S1"],
    ...                      "bid_amount": [9.9e5, 9.5e5], "is_winner": [False, True]})
    >>> df = from_tables(tenders, bids, collusive=["T1"])
    >>> df[["bid_idx", "bid", "collusive_tender", "supplier_id"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'bid_idx': 0, 'bid': 950000.0, 'collusive_tender': 1, 'supplier_id': 'S1'},
     {'bid_idx': 1, 'bid': 990000.0, 'collusive_tender': 1, 'supplier_id': 'S2'}]
    """
    for name, frame, cols in (("tenders", tenders, ("tender_id",)), ("bids", bids, ("tender_id", "bid_amount"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise BidsFileError(f"table '{name}': missing column(s) {missing}")
    known = set(tenders["tender_id"].astype(str))
    b = bids.copy()
    b["tender_id"] = b["tender_id"].astype(str)
    orphan = ~b["tender_id"].isin(known)
    if orphan.any():
        ids = ", ".join(sorted(b.loc[orphan, "tender_id"].unique())[:_MAX_LISTED])
        raise BidsFileError(f"table 'bids': {int(orphan.sum())} bid(s) name tender(s) missing from 'tenders' ({ids}); "
                            "run `riskmodel validate` on the dataset")
    amount = pd.to_numeric(b["bid_amount"], errors="coerce")
    bad = ~(amount > 0) | ~np.isfinite(amount.fillna(0))
    if bad.any():
        who = b.loc[bad, "bid_id"] if "bid_id" in b.columns else b.index[bad].to_series()
        raise BidsFileError(f"table 'bids': column 'bid_amount' must be positive to be screened; bid(s) "
                            f"{_values(who)} hold {_values(b.loc[bad, 'bid_amount'])}. Drop withdrawn or empty bids first")
    order = ["tender_id", "bid_id"] if "bid_id" in b.columns else ["tender_id"]
    b = b.sort_values(order, kind="stable").reset_index(drop=True)
    t_cols = [c for c in ("tender_id", "estimated_amount", "category_id", "method") if c in tenders.columns]
    t = tenders[t_cols].copy()
    t["tender_id"] = t["tender_id"].astype(str)
    out = b.rename(columns={"bid_amount": "bid"}).merge(t, on="tender_id", how="left")
    out["dataset"] = dataset
    if collusive is not None:
        rigged = {str(x) for x in collusive}
        out[LABEL] = out["tender_id"].isin(rigged).astype(int)
    extra = [c for c in ("bid_id", "supplier_id", "is_winner", "estimated_amount", "category_id", "method")
             if c in out.columns]
    out = out[[c for c in ("dataset", "tender_id", "bid", LABEL) if c in out.columns] + extra]
    return validate_bids(out, f"table 'bids' ({dataset})", dataset=dataset)
