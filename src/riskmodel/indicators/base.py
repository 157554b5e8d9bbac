"""The one small interface every red-flag indicator follows.

An indicator is a class with catalogue fields (stable ``id``, Chinese and
English titles, the entity it scores, why it is a red flag and the source, how
it is computed, its exclusions) and a ``Params`` model whose defaults are the
settings file's defaults.  ``compute`` returns one row per scored entity with
a ``value``; the base class turns values into ``fired`` flags in one place
(:meth:`Indicator.run`), with the threshold either fixed by policy or derived
from the data (an IQR fence or a percentile of the values known by the end of
each row's quarter: no row is judged by later data), and writes the threshold
used next to every result.  Inspired by PyOD's ``BaseDetector`` (``threshold_``,
``labels_``) and Open Contracting's cardinal red-flag catalogue.
"""

from __future__ import annotations

import string
import weakref
from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from riskmodel.data.dataset import Dataset
from riskmodel.errors import RiskModelError

#: per-dataset caches that indicators share while the catalogue runs (:func:`dataset_cache`)
_CACHES: list[weakref.WeakKeyDictionary] = []


def dataset_cache() -> weakref.WeakKeyDictionary:
    """A cache keyed by dataset for what several indicators of the catalogue read (a dataset that is gone takes
    its entries with it); :func:`release_caches` empties it once the catalogue has run."""
    cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    _CACHES.append(cache)
    return cache


def release_caches(data: Dataset) -> None:
    """Forget what the indicators cached for ``data`` (at scale, gigabytes held through training otherwise); the
    next indicator that needs it computes it again."""
    for cache in _CACHES:
        cache.pop(data, None)


ENTITY_TYPES = ("purchase_order", "tender", "claim", "leaf_purchase", "employee", "supplier", "grower",
                "department", "station", "contract", "month")
LINK_COLUMNS = ("employee_id", "department_id", "supplier_id", "station_id", "grower_id")
FLAG_COLUMNS = ["indicator_id", "entity_type", "entity_id", "period", "value", "threshold", "threshold_method", "fired",
                "severity", "evidence", *LINK_COLUMNS, "text_zh", "text_en"]


def evidence_complete(period: pd.Series, data_end: pd.Timestamp | None) -> pd.Series:
    """Re-date yearly rows dated at their year's start to when the year's evidence is complete: 31 December, or
    ``data_end`` (the data's last day) when the data stop earlier in that year.

    A yearly aggregate dated 1 January would enter the features of the year's first quarter with the claims and
    orders of the three quarters after it (look-ahead); dated at its completion it enters the quarter it was known
    in.  Rows dated at any other moment (a leaf season's last purchase; an event at 09:00 on 1 January) are already
    dated at completion and are kept.

    Examples
    --------
    >>> p = pd.Series(pd.to_datetime(["2024-01-01 00:00", "2025-01-01 00:00", "2024-12-25 00:00", "2024-01-01 09:00"]))
    >>> evidence_complete(p, pd.Timestamp("2025-06-30")).dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2024-12-31 00:00', '2025-06-30 00:00', '2024-12-25 00:00', '2024-01-01 09:00']
    """
    period = pd.to_datetime(period)
    at_start = period == period.dt.to_period("Y").dt.start_time.astype(period.dtype)  # 1 January, midnight
    end = period.dt.to_period("Y").dt.end_time.dt.normalize().astype(period.dtype)
    if data_end is not None and not pd.isna(data_end):
        end = end.clip(upper=pd.Timestamp(data_end))
    return period.where(~at_start, end)


def as_of_quarters(period: pd.Series, compute) -> np.ndarray:
    """Per-row values as they could be computed at the end of each row's quarter.

    ``compute(known)`` gets a boolean mask of the rows dated up to a quarter's end and returns a scalar (for every
    row of that quarter) or an array over all the rows (only that quarter's rows are read).  Undated rows get
    ``compute`` of every row.  One pass per quarter of the data.

    Examples
    --------
    >>> p = pd.Series(pd.to_datetime(["2024-01-05", "2024-05-01", None]))
    >>> as_of_quarters(p, lambda known: known.sum()).tolist()  # rows known by each row's quarter end
    [1.0, 2.0, 3.0]
    """
    period = pd.to_datetime(pd.Series(period)).reset_index(drop=True)
    n = len(period)

    def full(known: np.ndarray) -> np.ndarray:
        v = np.asarray(compute(known), dtype=float)
        return np.full(n, float(v)) if v.ndim == 0 else v

    out = np.full(n, np.nan)
    undated = period.isna().to_numpy()
    if undated.any():
        out[undated] = full(np.ones(n, dtype=bool))[undated]
    q_end = period.dt.to_period("Q").dt.end_time
    for qe in q_end.dropna().unique():
        rows = (q_end == qe).to_numpy()
        out[rows] = full((period <= qe).to_numpy())[rows]
    return out


def _data_end(data: Dataset) -> pd.Timestamp | None:
    """The data's last day with activity; None for hand-made data without dated activity tables."""
    try:
        return data.period()[1]
    except RiskModelError:
        return None


def _evidence(e) -> list:
    """A fired row's evidence as a list of ids (from a list, an array or a single id)."""
    if isinstance(e, (list, tuple, np.ndarray)):
        return list(e)
    return [e] if isinstance(e, str) else []


class Params(BaseModel):
    """Parameters of an indicator; subclass per indicator.  Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Indicator(ABC):
    """Base class of every indicator (see module docstring).

    Class attributes
    ----------------
    id : str
        Stable id, ``FAMILY-NNN`` (``PRC``, ``BID``, ``RMB``, ``LEAF``, ``HR``, ``REL``).
    title_zh, title_en : str
    entity : str
        What it scores, one of :data:`ENTITY_TYPES`.
    grain : {'event', 'month', 'quarter', 'year', 'all'}
        The period a row stands for.  A row's ``period`` is the date its evidence is complete, so that nothing
        dated before it uses later data: a ``year`` row that ``compute`` dates at its year's start (1 January) is
        re-dated by :meth:`run` to the year's last day the data cover (see :func:`evidence_complete`).
    tables : tuple of str
        Contract tables it reads.
    severity : int, 1–3
        Weight in the rules-only score and in reason ordering.
    direction : {'high', 'low'}
        Whether large values (default) or small ones are suspicious.
    threshold_method : {'policy', 'iqr', 'percentile', 'given'}
        ``policy``: ``Params.threshold`` (a rule such as a limit);
        ``iqr``: Q3 + ``fence_k`` × IQR of the values (Tukey's fence);
        ``percentile``: the ``percentile``-th percentile of the values;
        ``given``: ``compute`` supplies a per-row threshold (peer groups).
    why, source, methodology, exclusions, example, output : str
        The documentation page's sections.
    reason_zh, reason_en : str
        Reason-code templates, formatted with the row (``value``,
        ``threshold`` and any extra column ``compute`` returns).
    """

    id: ClassVar[str]
    title_zh: ClassVar[str]
    title_en: ClassVar[str]
    entity: ClassVar[str]
    grain: ClassVar[Literal["event", "month", "quarter", "year", "all"]] = "event"
    tables: ClassVar[tuple[str, ...]] = ()
    severity: ClassVar[int] = 2
    direction: ClassVar[Literal["high", "low"]] = "high"
    threshold_method: ClassVar[Literal["policy", "iqr", "percentile", "given"]] = "policy"
    why: ClassVar[str]
    source: ClassVar[str]
    methodology: ClassVar[str]
    exclusions: ClassVar[str] = "None."
    example: ClassVar[str] = ""
    output: ClassVar[str] = ""
    reason_zh: ClassVar[str]
    reason_en: ClassVar[str]

    class Params(Params):
        pass

    def __init__(self, policy=None, **params):
        from riskmodel.settings import load_settings

        self.params = self.Params(**params)
        #: the company rules (limits, opening hours…) from the settings' ``policy`` section
        self.policy = policy or load_settings().policy

    @property
    def family(self) -> str:
        return self.id.split("-")[0]

    @abstractmethod
    def compute(self, data: Dataset) -> pd.DataFrame:
        """Return one row per scored entity: ``entity_id``, ``period``, ``value``, optional ``evidence``
        (list of transaction ids, or one id), link columns, extra columns for the reason text, and ``threshold`` when
        ``threshold_method == 'given'``."""

    # -- thresholds in one place ------------------------------------------------------------------
    def threshold_for(self, values: pd.Series) -> float:
        """The cut-off used (see ``threshold_method``); NaN when there is nothing to derive it from."""
        p = self.params
        v = values.dropna().astype(float)
        if self.threshold_method == "policy":
            return float(p.threshold)
        if v.empty:
            return float("nan")
        if self.threshold_method == "iqr":
            q1, q3 = np.percentile(v, [25, 75])
            k = p.fence_k
            fence = q3 + k * (q3 - q1) if self.direction == "high" else q1 - k * (q3 - q1)
            floor = getattr(p, "min_threshold", None)
            return float(max(fence, floor) if (floor is not None and self.direction == "high") else fence)
        if self.threshold_method == "percentile":
            q = p.percentile if self.direction == "high" else 100 - p.percentile
            return float(np.percentile(v, q))
        raise RiskModelError(f"{self.id}: threshold_method {self.threshold_method!r} needs a per-row threshold from compute()")

    def thresholds_as_of(self, values: pd.Series, period: pd.Series) -> np.ndarray:
        """Each row's cut-off as known at the end of its quarter: a data-derived fence (``iqr``, ``percentile``)
        comes from the values dated up to that quarter's end, so no row is judged by a population that includes
        later tenders or seasons (:meth:`threshold_for` on those values).  The fence of the data's last quarter is
        the fence of all the data.  A ``policy`` threshold, and rows without a date, use :meth:`threshold_for` on
        all the values.

        Examples
        --------
        >>> class Up(Indicator):
        ...     id, threshold_method = "X-001", "percentile"
        ...     class Params(Params):
        ...         percentile: float = 50.0
        ...     def compute(self, data): ...
        >>> v = pd.Series([1.0, 3.0, 10.0, 20.0])
        >>> p = pd.Series(pd.to_datetime(["2024-01-05", "2024-02-01", "2024-05-01", "2024-05-02"]))
        >>> Up(policy=object()).thresholds_as_of(v, p).tolist()  # Q1 knows 1 and 3; Q2 all four
        [2.0, 2.0, 6.5, 6.5]
        """
        values = values.reset_index(drop=True)
        period = pd.to_datetime(period).reset_index(drop=True) if period is not None else pd.Series(pd.NaT, index=values.index)
        if self.threshold_method == "policy" or period.isna().all():
            return np.full(len(values), self.threshold_for(values), dtype=float)
        return as_of_quarters(period, lambda known: self.threshold_for(values[known]))

    def run(self, data: Dataset) -> pd.DataFrame:
        """Compute, threshold and format: the tidy flag rows (:data:`FLAG_COLUMNS`)."""
        missing = [t for t in self.tables if not data.has(t)]
        if missing:
            return pd.DataFrame(columns=FLAG_COLUMNS)
        df = self.compute(data)
        if df is None or df.empty:
            return pd.DataFrame(columns=FLAG_COLUMNS)
        # a stable row order, whatever order the query engine's threads returned the rows in
        keys = [c for c in ("entity_id", "period", "value", *LINK_COLUMNS) if c in df]
        df = df.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
        df["period"] = pd.to_datetime(df["period"]) if "period" in df else pd.NaT
        if self.grain == "year" and df["period"].notna().any():
            df["period"] = evidence_complete(df["period"], _data_end(data))
        if self.threshold_method != "given":
            df["threshold"] = self.thresholds_as_of(df["value"], df["period"])
        value = df["value"].astype(float)
        fired = value >= df["threshold"] if self.direction == "high" else value <= df["threshold"]
        df["fired"] = fired.fillna(False).astype(bool)
        df["indicator_id"] = self.id
        df["entity_type"] = self.entity
        df["severity"] = self.severity
        df["threshold_method"] = self.threshold_method
        # evidence is kept for the rows that fired (reasons, portraits and queues read only those): at scale the
        # lists of every scored row would cost more memory than everything else in the flag table
        # (an unfired row's "no evidence" is the one empty tuple Python shares, not a new list per row)
        # (an indicator whose evidence is the scored document itself gives its id, not a one-item list per row)
        df["evidence"] = ([_evidence(e) if f else () for e, f in zip(df["evidence"], df["fired"])]
                          if "evidence" in df else [() for _ in range(len(df))])
        for c in LINK_COLUMNS:
            if c not in df:
                df[c] = None
        # one text dtype (Arrow-backed, missing = NaN) whatever the source's: same flags from Parquet, pandas or a
        # cluster, and compact at scale
        for c in ("entity_id", *LINK_COLUMNS):
            df[c] = df[c].astype("str")
        df["text_zh"] = self._texts(df, self.reason_zh)
        df["text_en"] = self._texts(df, self.reason_en)
        return df[FLAG_COLUMNS]

    @staticmethod
    def _texts(df: pd.DataFrame, template: str) -> pd.Series:
        """Format the reason template for the fired rows (vectorised over the columns it names)."""
        out = pd.Series([None] * len(df), dtype=object)
        rows = df.index[df["fired"]]
        if len(rows) == 0:
            return out
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        sub = df.loc[rows, [f.split(".")[0].split("[")[0] for f in fields]]
        out.loc[rows] = [template.format(**r) for r in sub.to_dict("records")]
        return out

    # -- catalogue ----------------------------------------------------------------------------------
    @classmethod
    def describe(cls) -> dict:
        """The catalogue entry: every field users and the docs need."""
        return {
            "id": cls.id, "family": cls.id.split("-")[0], "title_zh": cls.title_zh, "title_en": cls.title_en,
            "entity": cls.entity, "grain": cls.grain, "tables": list(cls.tables), "severity": cls.severity,
            "direction": cls.direction, "threshold_method": cls.threshold_method,
            "parameters": cls.Params().model_dump(mode="json"),
            "why": cls.why, "source": cls.source, "methodology": cls.methodology, "exclusions": cls.exclusions,
            "example": cls.example, "output": cls.output,
        }
