"""Labels for scoring: incomplete and delayed (positive–unlabelled).

Positives come from the case archive (people named as subjects of cases opened
by the as-of date; the quarters in the look-back window before the case opened
are marked positive) and from reviewers' decisions (``confirmed``).  Everything
else is *unlabelled*, not negative — except what a reviewer ``dismissed``,
which is a reliable negative.
"""

from __future__ import annotations

import pandas as pd

from riskmodel.data.dataset import Dataset

#: case types that are misconduct of the kind the models look for (minor conduct cases are not)
MISCONDUCT_CASE_TYPES = ("受贿", "违规采购", "围标串标", "虚假报销", "烟叶收购违规", "违反八项规定")


def case_labels(data: Dataset, asof: pd.Timestamp | None = None, lookback_months: int = 24,
                case_types: tuple[str, ...] = MISCONDUCT_CASE_TYPES) -> pd.DataFrame:
    """Employee-quarters labelled positive by the archive as known on ``asof``.

    Returns a DataFrame ``entity_id, period, label`` (label 1) for every quarter from
    ``opened_date - lookback_months`` to the quarter the case opened.
    """
    if not data.has("cases", "case_people"):
        return pd.DataFrame(columns=["entity_id", "period", "label"])
    c = data.sql("""SELECT cp.employee_id, c.opened_date FROM cases c JOIN case_people cp USING (case_id)
                    WHERE cp.role = 'subject'""" + (" AND c.case_type IN (" + ",".join(f"'{t}'" for t in case_types) + ")"))
    if asof is not None:
        c = c[pd.to_datetime(c.opened_date) <= pd.Timestamp(asof)]
    rows = []
    for r in c.itertuples():  # one row per case: a few hundred at most
        opened = pd.Timestamp(r.opened_date)
        q = pd.period_range(opened - pd.DateOffset(months=lookback_months), opened, freq="Q").start_time
        rows.append(pd.DataFrame({"entity_id": r.employee_id, "period": q, "label": 1}))
    return pd.concat(rows, ignore_index=True).drop_duplicates(["entity_id", "period"]) if rows else \
        pd.DataFrame(columns=["entity_id", "period", "label"])


def decision_labels(decisions: pd.DataFrame) -> pd.DataFrame:
    """Reviewer decisions as labels: confirmed → 1, dismissed → 0 (reliable negative); 'needs_information' is left out.

    ``decisions`` has ``entity_id``, ``period`` and ``decision``; the latest decision per entity-period counts.
    """
    if decisions is None or decisions.empty:
        return pd.DataFrame(columns=["entity_id", "period", "label"])
    d = decisions.sort_values("decided_at") if "decided_at" in decisions else decisions
    d = d.drop_duplicates(["entity_id", "period"], keep="last")
    d = d[d.decision.isin(["confirmed", "dismissed"])]
    return pd.DataFrame({"entity_id": d.entity_id, "period": pd.to_datetime(d.period), "label": (d.decision == "confirmed").astype(int)})


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

    Returns ``entity_id, period, decision, decided_at`` (feed it to :func:`decision_labels`); empty when the
    optional table is absent.
    """
    cols = ["entity_id", "period", "decision", "decided_at"]
    if not data.has("alert_reviews"):
        return pd.DataFrame(columns=cols)
    r = data.sql("SELECT entity_id, period, decision, decided_at FROM alert_reviews WHERE entity_type = 'employee'")
    if asof is not None:
        r = r[pd.to_datetime(r.decided_at) < pd.Timestamp(asof)]
    r["period"] = pd.to_datetime(r.period).dt.to_period("Q").dt.start_time
    return r[cols]
