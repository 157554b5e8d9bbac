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

Optional identity columns (:data:`IDENTITY_COLUMNS`) switch on the identity
screens of :mod:`riskmodel.collusion.identity` (incumbency, coordinated entry,
rotation, a firm's bid against its own other bids):

=================  ===========  ====================================================
column             type         meaning
=================  ===========  ====================================================
bidder             str          who submitted the bid (one bid per bidder and tender)
period             int or date  when the tender was awarded (a year, or a date);
                                the same for all bids of a tender; only its order is used
market             str          the buyer or market the contract belongs to (a school
                                district, a purchasing unit's category); same per tender
is_winner          bool         which bid won (at most one per tender; default: the lowest)
=================  ===========  ====================================================

A column given must have a value on every row.  A label column is never an
identity column: nothing derived from ``collusive_tender`` may be a feature.

:func:`read_bids` / :func:`load_bids` read CSV files in that shape and check
them (a file in the firm-level layout of the Ohio school-milk bidders file is
recognised and converted by :func:`from_ohio_milk_bidders`);
:func:`from_tables` maps riskmodel's own ``tenders``/``bids`` tables to it,
bidder, period, market and winner included, so the same screens and
classifiers run on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.errors import InputFileError

BID_COLUMNS: tuple[str, ...] = ("dataset", "tender_id", "bid_idx", "bid", "collusive_tender")
REQUIRED_COLUMNS: tuple[str, ...] = ("tender_id", "bid")
#: Optional columns that name the bidders and place a tender in time and market (identity screens).
IDENTITY_COLUMNS: tuple[str, ...] = ("bidder", "period", "market", "is_winner")
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
        _per_tender_constant(df, LABEL, source, header_lines, what="is a tender-level label", same="label")
    else:
        df[LABEL] = pd.array([pd.NA] * len(df), dtype="Int8")
    _check_identity_columns(df, source, header_lines)
    extra = [c for c in df.columns if c not in BID_COLUMNS]
    return df[list(BID_COLUMNS) + extra].reset_index(drop=True)


def _per_tender_constant(df: pd.DataFrame, col: str, source: str, header_lines: int, what: str = "describes the tender",
                         same: str | None = None) -> None:
    per = df.groupby(["dataset", "tender_id"], sort=False)[col].nunique(dropna=False)
    mixed = per[per > 1]
    if len(mixed):
        rows = df.index[df.set_index(["dataset", "tender_id"]).index.isin(mixed.index)]
        tenders = ", ".join(t for _, t in mixed.index[:_MAX_LISTED])
        raise BidsFileError(f"{source}: column '{col}' {what} but differs between bids of tender(s) "
                            f"{tenders} ({_rows(rows, header_lines)}); give every bid of a tender the same {same or col}")


def _check_identity_columns(df: pd.DataFrame, source: str, header_lines: int) -> None:
    """Check and normalise the optional identity columns in place (see :data:`IDENTITY_COLUMNS`)."""
    for col in ("bidder", "market"):
        if col not in df.columns:
            continue
        empty = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if empty.any():
            raise BidsFileError(f"{source}: column '{col}' is empty on {_rows(df.index[empty], header_lines)}; "
                                f"give every bid its {col} or drop the column (identity screens then go unused)")
        df[col] = df[col].astype(str).str.strip()
    if "bidder" in df.columns:
        dup = df.duplicated(["dataset", "tender_id", "bidder"], keep=False)
        if dup.any():
            raise BidsFileError(f"{source}: a bidder bids twice in one tender on {_rows(df.index[dup], header_lines)}; "
                                "keep one bid per bidder and tender (the last valid one)")
    if "period" in df.columns:
        raw = df["period"]
        num = pd.to_numeric(raw, errors="coerce")
        if pd.api.types.is_datetime64_any_dtype(raw):
            pass  # already dates (riskmodel's own tables)
        elif num.notna().all():
            df["period"] = num
        else:
            when = pd.to_datetime(raw.astype(str), format="mixed", errors="coerce")
            bad = when.isna()
            if bad.any():
                raise BidsFileError(f"{source}: column 'period' must be a year, a number or a date; "
                                    f"{_rows(df.index[bad], header_lines)} hold {_values(raw[bad])}")
            df["period"] = when
    if "is_winner" in df.columns:
        raw = df["is_winner"]
        text = raw.astype(str).str.strip().str.lower()
        val = text.map({"1": True, "0": False, "true": True, "false": False, "1.0": True, "0.0": False})
        bad = val.isna()
        if bad.any():
            raise BidsFileError(f"{source}: column 'is_winner' must be 0/1 or true/false; "
                                f"{_rows(df.index[bad], header_lines)} hold {_values(raw[bad])}")
        df["is_winner"] = val.astype(bool)
        many = df.groupby(["dataset", "tender_id"], sort=False)["is_winner"].transform("sum") > 1
        if many.any():
            raise BidsFileError(f"{source}: more than one winning bid in a tender on "
                                f"{_rows(df.index[many], header_lines)}; mark at most one bid per tender")
    for col in ("period", "market"):
        if col in df.columns:
            _per_tender_constant(df, col, source, header_lines)


def read_bids(path: str | Path, dataset: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read and check one CSV file of bids.

    Parameters
    ----------
    path : str or Path
        CSV with a header line; columns as in :data:`BID_COLUMNS` (``tender_id``
        and ``bid`` required) and optionally :data:`IDENTITY_COLUMNS`; or a
        file in the Ohio school-milk bidders layout (:data:`OHIO_MILK_COLUMNS`,
        converted by :func:`from_ohio_milk_bidders`; dataset name
        :data:`OHIO_MILK_DATASET` unless ``dataset`` is given).
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
    if set(OHIO_MILK_COLUMNS) <= set(frame.columns) and "tender_id" not in frame.columns:
        return from_ohio_milk_bidders(frame, str(path), dataset=dataset or OHIO_MILK_DATASET)
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


#: Columns of the firm-level Ohio school-milk bidders file (one row per firm's bid on a contract, 1980–1990).
OHIO_MILK_COLUMNS: tuple[str, ...] = ("contract_id", "year", "firm", "winning_bid", "inflation_adjusted_bid",
                                      "is_cartel_firm")
#: The dataset name it is read under: the same tenders as ``usa_ohio_milk.csv``, with identities.
OHIO_MILK_DATASET = "usa_ohio_milk"
#: Label columns of that file: read only to build ``collusive_tender``, never passed on.
OHIO_MILK_LABELS: tuple[str, ...] = ("is_cartel_firm", "only_cartels_bidding_on_contract")


def from_ohio_milk_bidders(frame: pd.DataFrame, source: str = "<frame>",
                           dataset: str = OHIO_MILK_DATASET) -> pd.DataFrame:
    """Convert the firm-level Ohio school-milk bidders file to the bid-level shape, identities included.

    The file (``contract_id, year, firm, bid, winning_bid,
    inflation_adjusted_bid, inflation_raw_milk_price_adjusted_bid,
    is_cartel_firm, only_cartels_bidding_on_contract,
    number_of_bidders_on_contract``) holds the same 3,754 contracts and
    7,004 bids as ``usa_ohio_milk.csv``: that file's bids are
    ``inflation_adjusted_bid`` × 0.84 (one constant) and its label is 1
    exactly where a firm of the accused cartel bid (checked on the real
    files; the report shows the check).  So:

    * ``tender_id`` = ``contract_id`` (``YY_DISTRICT``), ``market`` = the
      school district (the part after ``_``), ``period`` = ``year``,
      ``bidder`` = ``firm``, ``is_winner`` = ``winning_bid``;
    * ``bid`` = ``inflation_adjusted_bid`` (bids comparable across years, as
      in ``usa_ohio_milk.csv``);
    * ``collusive_tender`` = 1 where any bidder has ``is_cartel_firm`` = 1.

    The label columns (:data:`OHIO_MILK_LABELS`) and everything else are
    dropped: ``is_cartel_firm`` is a firm's label, and a feature derived from
    it would hand the tender's label to the classifier.
    ``number_of_bidders_on_contract`` is dropped too (it disagrees with the
    bids listed for some contracts; ``n_bids`` counts them).

    Raises
    ------
    BidsFileError
        A column missing; a contract id not of the form ``YY_DISTRICT`` or
        whose ``YY`` is not the year's last two digits.

    Examples
    --------
    >>> f = pd.DataFrame({"contract_id": ["80_0461", "80_0461", "81_0461"], "year": [1980, 1980, 1981],
    ...                   "firm": ["A", "B", "A"], "bid": [.14, .15, .13], "winning_bid": [1, 0, 1],
    ...                   "inflation_adjusted_bid": [.14, .15, .12], "is_cartel_firm": [0, 1, 0]})
    >>> df = from_ohio_milk_bidders(f)
    >>> df[["tender_id", "bid", "collusive_tender", "bidder", "period", "market", "is_winner"]].to_dict("records")[1]
    {'tender_id': '80_0461', 'bid': 0.15, 'collusive_tender': 1, 'bidder': 'B', 'period': 1980, 'market': '0461', 'is_winner': False}
    >>> "is_cartel_firm" in df.columns
    False
    """
    missing = [c for c in OHIO_MILK_COLUMNS if c not in frame.columns]
    if missing:
        raise BidsFileError(f"{source}: missing column(s) {missing} of the Ohio school-milk bidders layout "
                            f"({list(OHIO_MILK_COLUMNS)})")
    cid = frame["contract_id"].astype(str).str.strip()
    parts = cid.str.extract(r"^(\d{2})_(\S+)$")
    year = pd.to_numeric(frame["year"], errors="coerce")
    bad = parts[0].isna() | year.isna() | (pd.to_numeric(parts[0], errors="coerce") != year % 100)
    if bad.any():
        raise BidsFileError(f"{source}: contract ids must read YY_DISTRICT with YY the year's last two digits; "
                            f"{_rows(frame.index[bad], 2)} hold {_values(cid[bad])}")
    label = pd.to_numeric(frame["is_cartel_firm"], errors="coerce")
    if label.isna().any() or not label.isin([0, 1]).all():
        raise BidsFileError(f"{source}: column 'is_cartel_firm' must be 0 or 1")
    out = pd.DataFrame({"dataset": dataset, "tender_id": cid, "bid": frame["inflation_adjusted_bid"],
                        LABEL: label.groupby(cid).transform("max").astype(int),
                        "bidder": frame["firm"], "period": year.astype(int), "market": parts[1],
                        "is_winner": frame["winning_bid"]})
    out = out.sort_values(["tender_id", "bid"], kind="stable").reset_index(drop=True)
    return validate_bids(out, source, dataset=dataset)


def ohio_milk_accused_firms(path: str | Path, encoding: str | None = None) -> list[str]:
    """The accused firms of an Ohio school-milk bidders file: the ``firm`` names with ``is_cartel_firm`` = 1.

    For the firm checks of :mod:`riskmodel.collusion.holdout` (the label is
    "one of these firms bid"); read from the file, never typed in.

    Raises
    ------
    BidsFileError
        The file is not in the Ohio bidders layout, or names no accused firm.

    Examples
    --------
    >>> import io
    >>> ohio_milk_accused_firms(io.StringIO("firm,is_cartel_firm\\nA,0\\nB,1\\nB,1\\nC,1\\n"))
    ['B', 'C']
    """
    frame = pd.read_csv(path, encoding=encoding or "utf-8", usecols=lambda c: c in ("firm", "is_cartel_firm"))
    if not {"firm", "is_cartel_firm"} <= set(frame.columns):
        raise BidsFileError(f"{path}: not an Ohio school-milk bidders file (columns 'firm' and 'is_cartel_firm' "
                            "needed)")
    firms = sorted(frame.loc[pd.to_numeric(frame["is_cartel_firm"], errors="coerce") == 1, "firm"].astype(str).unique())
    if not firms:
        raise BidsFileError(f"{path}: no firm has is_cartel_firm = 1")
    return firms


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
        :data:`BID_COLUMNS`, then the identity columns ``bidder``
        (``supplier_id``), ``period`` (``close_date``), ``market``
        (``category_id``) and ``is_winner`` where the tables have them, then
        ``bid_id``, ``supplier_id``, ``estimated_amount``, ``category_id``,
        ``method`` where present.
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
    >>> df[["bid_idx", "bid", "collusive_tender", "bidder", "market", "is_winner"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'bid_idx': 0, 'bid': 950000.0, 'collusive_tender': 1, 'bidder': 'S1', 'market': 'C1', 'is_winner': True},
     {'bid_idx': 1, 'bid': 990000.0, 'collusive_tender': 1, 'bidder': 'S2', 'market': 'C1', 'is_winner': False}]
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
    t_cols = [c for c in ("tender_id", "estimated_amount", "category_id", "method", "close_date") if c in tenders.columns]
    t = tenders[t_cols].copy()
    t["tender_id"] = t["tender_id"].astype(str)
    out = b.rename(columns={"bid_amount": "bid"}).merge(t, on="tender_id", how="left")
    out["dataset"] = dataset
    if collusive is not None:
        rigged = {str(x) for x in collusive}
        out[LABEL] = out["tender_id"].isin(rigged).astype(int)
    # identities for the identity screens: the supplier bids, the close date orders tenders in time, and the
    # category is the market in which the same supplier winning again and again means something
    if "supplier_id" in out.columns:
        out["bidder"] = out["supplier_id"]
    for col, src in (("period", "close_date"), ("market", "category_id")):
        if src in out.columns and out[src].notna().all():
            out[col] = out[src]
    extra = [c for c in ("bidder", "period", "market", "is_winner", "bid_id", "supplier_id", "estimated_amount",
                         "category_id", "method") if c in out.columns]
    out = out[[c for c in ("dataset", "tender_id", "bid", LABEL) if c in out.columns] + extra]
    return validate_bids(out, f"table 'bids' ({dataset})", dataset=dataset)
