"""Labels for scoring: incomplete and delayed (positive–unlabelled).

Positives come from the case archive (people named as subjects of cases opened
by the as-of date: the quarters of the look-back window before the case opened,
narrowed to the span of the subject's red flags of the case's kind) and from
reviewers' decisions (``confirmed``).  Everything else is *unlabelled*, not
negative — except what a reviewer ``dismissed`` and the quarters of a case's
window outside its flagged span, which are reliable negatives.
"""

from __future__ import annotations

import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.config import REVIEWER_ROLES
from riskmodel.errors import RiskModelError

#: case types that are misconduct of the kind the models look for (minor conduct cases are not)
MISCONDUCT_CASE_TYPES = ("受贿", "违规采购", "围标串标", "虚假报销", "烟叶收购违规", "违反八项规定")


#: the indicator families in which each kind of misconduct leaves its trace (what an investigator reads first)
CASE_FAMILIES = {"受贿": ("PRC", "BID", "REL", "RMB"), "违规采购": ("PRC", "BID", "REL"), "围标串标": ("BID", "REL", "PRC"),
                 "虚假报销": ("RMB",), "烟叶收购违规": ("LEAF", "HR", "REL"), "违反八项规定": ("RMB", "HR")}
_LABEL_COLUMNS = ["entity_id", "period", "label"]
#: case types whose misconduct follows the leaf season: quiet quarters between seasons are not "stopped"
SEASONAL_CASE_TYPES = ("烟叶收购违规",)
#: what the quarters of a case's window outside its subject's flagged span become (see :func:`localise`)
OUTSIDE_SPAN = "negative"


def case_windows(data: Dataset, asof: pd.Timestamp | None = None, lookback_months: int = 24,
                 case_types: tuple[str, ...] = MISCONDUCT_CASE_TYPES) -> pd.DataFrame:
    """One row per case subject and quarter of the look-back window: ``case_id, case_type, entity_id, period``.

    The window runs from ``opened_date - lookback_months`` to the quarter the case opened; only cases opened by
    ``asof`` are known.
    """
    cols = ["case_id", "case_type", "entity_id", "period"]
    if not data.has("cases", "case_people"):
        return pd.DataFrame(columns=cols)
    c = data.sql("""SELECT c.case_id, c.case_type, cp.employee_id, c.opened_date FROM cases c JOIN case_people cp USING (case_id)
                    WHERE cp.role = 'subject'""" + (" AND c.case_type IN (" + ",".join(f"'{t}'" for t in case_types) + ")"))
    if asof is not None:
        c = c[pd.to_datetime(c.opened_date) <= pd.Timestamp(asof)]
    rows = []
    for r in c.itertuples():  # one row per case: a few hundred at most
        opened = pd.Timestamp(r.opened_date)
        q = pd.period_range(opened - pd.DateOffset(months=lookback_months), opened, freq="Q").start_time
        rows.append(pd.DataFrame({"case_id": r.case_id, "case_type": r.case_type, "entity_id": r.employee_id, "period": q}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def localise(windows: pd.DataFrame, X: pd.DataFrame, families: dict[str, tuple[str, ...]] = CASE_FAMILIES,
             outside: str = "negative") -> pd.DataFrame:
    """Narrow each case's look-back window to the quarters its subject's relevant red flags span.

    A case file says who and what; the period of the misconduct is what the investigation establishes from the
    records.  Here it is estimated from the records the model sees: within the look-back window, the quarters
    from the first to the last quarter in which the subject had a fired indicator of the case type's families
    (``PRC``, ``RMB`` … in :data:`CASE_FAMILIES`) are positive; a window with no such quarter is kept whole
    (positive), as the archive gives it.  The window's other quarters are ``outside='negative'``: reliable
    negatives (the investigated person was not misbehaving then), or ``'unlabelled'``.  Seasonal case types
    (:data:`SEASONAL_CASE_TYPES`: leaf purchasing, where the quiet quarters between seasons are not a stop)
    leave them unlabelled either way.

    Parameters
    ----------
    windows : DataFrame
        From :func:`case_windows`.
    X : DataFrame
        The employee-quarter features: ``entity_id``, ``period`` and one fired-count column per indicator.
    families : dict
        Case type → indicator families whose flags date its misconduct.
    outside : {'negative', 'unlabelled'}, default='negative'

    Returns
    -------
    DataFrame
        The kept rows of ``windows`` with ``label`` (1 in the span, 0 outside it).
    """
    if outside not in ("negative", "unlabelled"):
        raise RiskModelError(f"outside must be 'negative' or 'unlabelled', not {outside!r}")
    if windows.empty:
        return windows.assign(label=pd.Series(dtype=int))
    ind = [c for c in X.columns if "-" in c and c.split("-")[0].isalpha() and c.split("-")[-1].isdigit()]
    fam_cols = {f: [c for c in ind if c.startswith(f + "-")] for fams in families.values() for f in fams}
    lit = pd.DataFrame({"entity_id": X.entity_id.to_numpy(), "period": pd.to_datetime(X.period).to_numpy()})
    for f, cols in fam_cols.items():
        lit[f] = X[cols].sum(axis=1).to_numpy() > 0 if cols else False
    w = windows.assign(period=pd.to_datetime(windows.period)).merge(lit, on=["entity_id", "period"], how="left")
    w["lit"] = False
    for case_type, g in w.groupby("case_type"):
        fs = [f for f in families.get(case_type, tuple(fam_cols)) if f in fam_cols]
        w.loc[g.index, "lit"] = g[fs].fillna(False).astype(bool).any(axis=1)
    span = w[w.lit].groupby(["case_id", "entity_id"]).period.agg(first="min", last="max")
    w = w.join(span, on=["case_id", "entity_id"])
    within = w["first"].isna() | ((w.period >= w["first"]) & (w.period <= w["last"]))
    w["label"] = within.astype(int)
    keep = within | ((outside == "negative") & ~w.case_type.isin(SEASONAL_CASE_TYPES))
    return w.loc[keep, [*windows.columns, "label"]].reset_index(drop=True)


def case_labels(data: Dataset, asof: pd.Timestamp | None = None, lookback_months: int = 24,
                case_types: tuple[str, ...] = MISCONDUCT_CASE_TYPES, X: pd.DataFrame | None = None) -> pd.DataFrame:
    """Employee-quarters labelled by the archive as known on ``asof``.

    Returns a DataFrame ``entity_id, period, label``: label 1 for every quarter from ``opened_date -
    lookback_months`` to the quarter the case opened; when the feature matrix ``X`` is given, narrowed to the span
    of the subject's relevant red flags (known by ``asof``), with the window's other quarters labelled 0 or left
    out (:func:`localise`, :data:`OUTSIDE_SPAN`).  A quarter positive for one case stays positive.
    """
    w = case_windows(data, asof, lookback_months, case_types)
    if X is not None:  # only what was known on the as-of date narrows the window
        w = localise(w, X if asof is None else X[pd.to_datetime(X.period) < pd.Timestamp(asof)], outside=OUTSIDE_SPAN)
    if w.empty:
        return pd.DataFrame(columns=_LABEL_COLUMNS)
    w = w if "label" in w else w.assign(label=1)
    return (w.sort_values("label", ascending=False)[_LABEL_COLUMNS].drop_duplicates(["entity_id", "period"])
            .sort_values(["entity_id", "period"]).reset_index(drop=True))


def decision_labels(decisions: pd.DataFrame) -> pd.DataFrame:
    """Reviewer decisions as labels: confirmed → 1, dismissed → 0 (reliable negative); 'needs_information' is left out.

    ``decisions`` has ``entity_id``, ``period`` and ``decision``; the latest decision per entity-period counts.
    """
    if decisions is None or decisions.empty:
        return pd.DataFrame(columns=["entity_id", "period", "label"])
    d = decisions.sort_values("decided_at") if "decided_at" in decisions else decisions
    if "entity_type" in d:  # the people model's labels; decisions on event alerts stay in the file and the ledger
        d = d[d.entity_type.isna() | d.entity_type.isin(["employee", ""])]
    if "reviewer_role" in d:  # only those who review the identified queue decide (leadership sees pseudonyms only)
        d = d[d.reviewer_role.isna() | d.reviewer_role.isin([*REVIEWER_ROLES, ""])]
    d = d.drop_duplicates(["entity_id", "period"], keep="last")
    d = d[d.decision.isin(["confirmed", "dismissed"])]
    return pd.DataFrame({"entity_id": d.entity_id, "period": pd.to_datetime(d.period), "label": (d.decision == "confirmed").astype(int)})


def unmatched_decisions(decisions: pd.DataFrame, X: pd.DataFrame) -> pd.DataFrame:
    """The decisions on employees that match no employee-quarter of ``X`` (a wrong id or period): they cannot be labels.

    Examples
    --------
    >>> X = pd.DataFrame({"entity_id": ["E1"], "period": pd.to_datetime(["2025-01-01"])})
    >>> d = pd.DataFrame({"entity_id": ["E1", "E9"], "period": pd.to_datetime(["2025-01-01"] * 2), "decision": ["confirmed"] * 2})
    >>> unmatched_decisions(d, X).entity_id.tolist()
    ['E9']
    """
    lab = decision_labels(decisions)
    keys = pd.MultiIndex.from_frame(X[["entity_id", "period"]])
    return lab[~pd.MultiIndex.from_arrays([lab.entity_id, lab.period]).isin(keys)]


def assemble_labels(X: pd.DataFrame, cases: pd.DataFrame, decisions: pd.DataFrame | None = None) -> pd.Series:
    """Label vector aligned with ``X``: 1 positive, 0 reliable negative, -1 unlabelled. Decisions override cases."""
    y = pd.Series(-1, index=X.index, dtype=int)
    key = pd.MultiIndex.from_frame(X[["entity_id", "period"]])
    for lab in (cases, decision_labels(decisions) if decisions is not None else None):
        if lab is None or lab.empty:
            continue
        m = pd.Series(lab.label.to_numpy(), index=pd.MultiIndex.from_arrays([lab.entity_id, pd.to_datetime(lab.period)]))
        m = m[~m.index.duplicated(keep="last")]
        hit = m.reindex(key)
        y[hit.notna().to_numpy()] = hit.dropna().astype(int).to_numpy()
    return y


def review_labels(data: Dataset, asof: pd.Timestamp | None = None) -> pd.DataFrame:
    """Past reviewers' decisions on employees from the ``alert_reviews`` table, as known on ``asof``.

    Returns ``entity_id, period, decision, decided_at, entity_type, reviewer_role`` (feed it to
    :func:`decision_labels`); empty when the
    optional table is absent.
    """
    cols = ["entity_id", "period", "decision", "decided_at", "entity_type", "reviewer_role"]
    if not data.has("alert_reviews"):
        return pd.DataFrame(columns=cols)
    r = data.sql("SELECT entity_id, period, decision, decided_at, entity_type, reviewer_role FROM alert_reviews "
                 "WHERE entity_type = 'employee'")
    if asof is not None:
        r = r[pd.to_datetime(r.decided_at) < pd.Timestamp(asof)]
    r["period"] = pd.to_datetime(r.period).dt.to_period("Q").dt.start_time
    return r[cols]
