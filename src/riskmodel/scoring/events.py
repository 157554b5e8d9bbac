"""Event-level scoring: tenders, purchase orders, claims, leaf purchases, suppliers and growers, queued per quarter.

Each event's features are the values of the indicators that score it (and the
count and severity of those that fired).  Two scorers can rank them: ``rules``
(the sum of the severities of the indicators that fired, then their count) and
the supervised models, whose label is the responsible employee's label in that
quarter (positive–unlabelled, as for people).  The default is ``rules``: an
event inherits its label from a person, which says little about the event —
bid rings name no employee at all — and on the development companies the
supervised event models found no more schemes than the severity order.  Where
a supervised model is asked for but no positive label reaches an event type,
the queue falls back to ``rules`` and says so.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from riskmodel.errors import RiskModelError
from riskmodel.scoring import thresholds as th
from riskmodel.scoring.models import make_model

#: the flag columns :func:`event_features` reads
EVENT_COLUMNS = ["indicator_id", "entity_type", "entity_id", "period", "value", "fired", "severity", "employee_id", "department_id"]
EVENT_TYPES = ("tender", "purchase_order", "claim", "leaf_purchase", "supplier", "grower")
#: queue at most one event of a type per responsible person and quarter (see :func:`event_queue`)
ONE_PER_PERSON = True


def _quarter(period) -> pd.Series:
    return pd.to_datetime(period).dt.to_period("Q").dt.start_time


def event_features(flags: pd.DataFrame, entity_type: str) -> pd.DataFrame:
    """One row per event of ``entity_type`` and quarter that any indicator scored: indicator values (the largest),
    fired counts, severity."""
    f = flags[flags.entity_type == entity_type]
    if f.empty:
        return pd.DataFrame()
    f = f.assign(period=_quarter(f.period))
    key = ["entity_id", "period"]
    vals = f.pivot_table(index=key, columns="indicator_id", values="value", aggfunc="max").fillna(0.0)
    vals.columns = [f"{c}_value" for c in vals.columns]
    fired = f[f.fired.astype(bool)]
    agg = f.groupby(key).agg(employee_id=("employee_id", "first"), department_id=("department_id", "first"))
    agg["n_fired"] = fired.groupby(key).size().reindex(agg.index).fillna(0)
    agg["severity_sum"] = fired.groupby(key).severity.sum().reindex(agg.index).fillna(0)
    return agg.join(vals).reset_index()


def scored_from_file(path) -> Callable[..., pd.DataFrame]:
    """What :meth:`riskmodel.indicators.runner.FlagStore.scored` reads, read from a run's written ``flags.parquet``.

    :func:`event_queue` takes it as ``scored`` where the run's flag store is gone (``riskmodel score`` re-chooses
    the event alerts from the run folder): the file holds every row the store held, in the same order, and each
    call reads only the rows asked for, one event type at a time, as the store does.

    Parameters
    ----------
    path : path-like
        A run's ``flags.parquet``.

    Returns
    -------
    callable
        ``scored(entity_type=None, columns=None, entity_ids=None)`` → the matching rows, fired or not, in file order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "flags.parquet"
    >>> pd.DataFrame({"entity_type": ["claim", "tender", "tender"], "entity_id": ["C1", "T1", "T2"],
    ...               "fired": [True, False, True]}).to_parquet(path)
    >>> scored = scored_from_file(path)
    >>> scored("tender").entity_id.tolist(), scored("tender", columns=["fired"], entity_ids=["T2"]).fired.tolist()
    (['T1', 'T2'], [True])
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    parts = ds.dataset(str(path), format="parquet")

    def scored(entity_type: str | None = None, columns: list[str] | None = None, entity_ids=None) -> pd.DataFrame:
        flt = ds.field("entity_type") == entity_type if entity_type is not None else None
        if entity_ids is not None:
            ids = ds.field("entity_id").isin(pa.array([str(i) for i in entity_ids], pa.string()))
            flt = ids if flt is None else flt & ids
        return parts.to_table(columns=columns, filter=flt).to_pandas()

    return scored


def event_queue(flags: pd.DataFrame, person_labels: pd.DataFrame, test_periods: list, capacity: int, seed: int = 0,
                model: str = "rules", under_review: pd.DataFrame | None = None,
                scored: Callable[..., pd.DataFrame] | None = None) -> tuple[pd.DataFrame, dict]:
    """Queue the top ``capacity`` events of each type per test quarter; returns the queue and what was used per type.

    ``flags`` is every scored flag row, or — where ``scored`` is given
    (:meth:`riskmodel.indicators.runner.FlagStore.scored`) — the fired rows only, and ``scored`` reads the rest
    back one event type at a time, so that the unfired rows of all types never sit in memory together: all of
    them for a supervised ``model`` (it learns from every scored event), and for ``rules`` only those of the
    events that fired (another indicator's row may name the responsible person).

    ``under_review`` (``entity_id``, ``period``: the people queue) names employee-quarters already queued: their
    own events of that quarter are read in their file, so they take no event slot and the slot goes to the next.
    With :data:`ONE_PER_PERSON`, a responsible person's best event of a type stands for the others that quarter
    (the reviewer reads them together), so five slots reach up to five people instead of one person's five orders.
    Events without a responsible person (a bid ring names none) are never grouped.
    """
    frames, used = [], {}
    lab = person_labels.set_index(["entity_id", "period"]).label if len(person_labels) else pd.Series(dtype=int)
    for etype in EVENT_TYPES:
        if scored is None:
            rows = flags
        elif model == "rules":
            rows = scored(etype, columns=EVENT_COLUMNS,
                          entity_ids=flags.entity_id[(flags.entity_type == etype).to_numpy() & flags.fired.to_numpy(bool)].unique())
        else:
            rows = scored(etype, columns=EVENT_COLUMNS)
        E = event_features(rows, etype)
        if E.empty:
            continue
        cols = [c for c in E.columns if c not in ("entity_id", "period", "employee_id", "department_id")]
        y = lab.reindex(pd.MultiIndex.from_arrays([E.employee_id.astype(object), E.period])).fillna(-1).astype(int).to_numpy()
        train = (E.period < min(test_periods)).to_numpy()
        name = model
        try:  # rules: the severity of the fired indicators, then their count
            m = make_model(model, random_state=seed, **({"tiebreak": "n_fired"} if model == "rules" else {})).fit(E.loc[train, cols], y[train])
        except RiskModelError:
            name = "rules"
            m = make_model("rules", tiebreak="n_fired").fit(E.loc[train, cols], y[train])
        used[etype] = name
        E = E[E.period.isin(test_periods).to_numpy()]
        test = E[(E.n_fired > 0).to_numpy()]  # only events some indicator fired on
        if under_review is not None and len(under_review):
            busy = pd.MultiIndex.from_arrays([under_review.entity_id.astype(object), pd.to_datetime(under_review.period)])
            test = test[~pd.MultiIndex.from_arrays([test.employee_id.astype(object), test.period]).isin(busy)]
        test = test.reset_index(drop=True)
        if test.empty:
            continue
        s = m.decision_function(test[cols])
        if ONE_PER_PERSON:
            # one event per responsible person and quarter: the reviewer reads that person's other events with it
            order = pd.DataFrame({"s": s, "p": test.period.to_numpy(), "e": test.employee_id.to_numpy()})
            order["e"] = order.e.where(order.e.notna(), "_none_" + order.index.astype(str))
            first = order.sort_values("s", ascending=False, kind="stable").drop_duplicates(["p", "e"]).index
            keep = np.zeros(len(test), bool)
            keep[first] = True
            test, s = test[keep].reset_index(drop=True), s[keep]
        cut = th.by_capacity(s, test.period.to_numpy(), capacity, max_share=1.0)
        q = test[cut.labels].copy()
        q["score"] = s[cut.labels]
        q["entity_type"] = etype
        q["model"] = name
        q["policy"] = cut.policy
        q["cutoff"] = q.period.map(cut.cutoff)
        frames.append(q[["entity_type", "entity_id", "period", "score", "model", "policy", "cutoff", "employee_id", "department_id"]])
    if not frames:
        return pd.DataFrame(), used
    q = pd.concat(frames, ignore_index=True)
    q["rank"] = q.groupby(["entity_type", "period"]).score.rank(method="first", ascending=False).astype(int)
    # reasons: the event's own fired flags, most severe first, with their texts and evidence
    f = flags[flags.fired.astype(bool) & flags.entity_type.isin(EVENT_TYPES)]
    f = f.assign(period=_quarter(f.period))
    # the queued events' flags only: at scale the fired events are many and the queue is short
    queued = pd.MultiIndex.from_frame(q[["entity_type", "entity_id", "period"]])
    f = f[pd.MultiIndex.from_frame(f[["entity_type", "entity_id", "period"]]).isin(queued)]
    f = f.sort_values(["severity", "value"], ascending=False)
    grouped = {k: g for k, g in f.groupby(["entity_type", "entity_id", "period"])}
    reasons, evidence = [], []
    for r in q.itertuples():  # the queue only
        g = grouped.get((r.entity_type, r.entity_id, r.period))
        if g is None:
            reasons.append([])
            evidence.append([r.entity_id])
            continue
        reasons.append([{"feature": i, "indicator_id": i, "value": float(v), "contribution": float(sev), "text_zh": zh, "text_en": en}
                        for i, v, sev, zh, en in zip(g.indicator_id, g.value, g.severity, g.text_zh, g.text_en)][:5])
        evidence.append(list(dict.fromkeys([r.entity_id, *[str(x) for e in g.evidence for x in (e if e is not None else [])]]))[:50])
    q["reasons"] = reasons
    q["evidence"] = evidence
    return q, used
