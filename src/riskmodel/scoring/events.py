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
EVENT_COLUMNS = ["indicator_id", "entity_type", "entity_id", "period", "value", "fired", "severity", "employee_id",
                 "department_id", "supplier_id", "station_id"]
EVENT_TYPES = ("tender", "purchase_order", "claim", "leaf_purchase", "supplier", "grower")
#: queue at most one event of a type per group and quarter: the same bidding ring, the same responsible person, the
#: same buying station (see :func:`event_groups`); the others are named in its reasons and evidence
ONE_PER_GROUP = True
#: the columns of :func:`event_features` that say whose and where an event is, not how risky
ID_COLUMNS = ("employee_id", "department_id", "supplier_id", "station_id")
#: the ``feature`` of the reason that names the other events of an alert's group (no part of its score)
SAME_GROUP = "same_group"
#: the supplier flags whose rows name a bidding ring's members (their evidence: the ring's joint tenders)
RING_FLAGS = ("REL-003", "REL-004")
#: joint tenders two flagged suppliers must share to be one ring (:func:`bidding_rings`)
RING_MIN_SHARED = 2
#: the tender flag that says a tender's winner and losers take turns (a ring member winning it is the ring's turn)
ROTATION_FLAG = "BID-011"
#: how a reason counts the other events of a group: (Chinese measure word and noun, English plural)
EVENT_NOUNS = {"tender": ("个招标", "tenders"), "purchase_order": ("张采购订单", "purchase orders"), "claim": ("张报销单", "claims"),
               "leaf_purchase": ("笔烟叶收购", "leaf purchases"), "supplier": ("家供应商", "suppliers"), "grower": ("户烟农", "growers")}


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
    ids = {c: (c, "first") for c in ID_COLUMNS if c in f}
    agg = f.groupby(key).agg(**ids)
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


def bidding_rings(flags: pd.DataFrame, until: pd.Timestamp) -> pd.DataFrame:
    """The bidding rings known by ``until``: ``supplier_id, ring, tender_id`` for each member and joint tender.

    The suppliers :data:`RING_FLAGS` flagged by then, each with its evidence (the ring's joint tenders): two
    suppliers are in one ring when they share at least :data:`RING_MIN_SHARED` joint tenders (the members of one
    co-bidding community share most of theirs; two rings that met once in a large tender stay two), and a ring is a
    connected set of them, named by its smallest supplier id.  A joint tender belongs to the ring most of whose
    flagged suppliers name it.

    Examples
    --------
    >>> f = pd.DataFrame({"indicator_id": ["REL-003", "REL-003", "REL-004", "REL-003", "REL-003", "REL-003"],
    ...                   "entity_type": "supplier", "entity_id": ["S2", "S1", "S3", "S7", "S8", "S9"], "fired": True,
    ...                   "period": pd.to_datetime(["2025-01-05", "2025-01-09", "2025-02-01", "2025-02-01", "2025-02-01",
    ...                                             "2025-06-01"]),
    ...                   "evidence": [["T1", "T2", "X"], ["T1", "T2", "T3"], ["T2", "T3"], ["U1", "U2", "X"], ["U1", "U2"],
    ...                                ["T1", "T2"]]})
    >>> r = bidding_rings(f, pd.Timestamp("2025-03-31"))
    >>> sorted(set(zip(r.supplier_id, r.ring)))  # S9 is seen only in June; X, shared once, joins nothing
    [('S1', 'S1'), ('S2', 'S1'), ('S3', 'S1'), ('S7', 'S7'), ('S8', 'S7')]
    >>> sorted(r[r.ring == "S1"].tender_id.unique())
    ['T1', 'T2', 'T3', 'X']
    """
    import networkx as nx

    f = flags[flags.indicator_id.isin(RING_FLAGS).to_numpy() & flags.fired.to_numpy(bool)
              & (pd.to_datetime(flags.period) <= until).to_numpy()]
    cols = ["supplier_id", "ring", "tender_id"]
    if f.empty:
        return pd.DataFrame(columns=cols)
    ev = pd.DataFrame([(str(sup), str(t)) for sup, e in zip(f.entity_id, f.evidence) for t in (e if e is not None else [])],
                      columns=["supplier_id", "tender_id"]).drop_duplicates()
    pairs = ev.merge(ev, on="tender_id")
    pairs = pairs[pairs.supplier_id_x < pairs.supplier_id_y].groupby(["supplier_id_x", "supplier_id_y"]).size()
    G = nx.Graph()
    G.add_nodes_from(f.entity_id.astype(str))
    G.add_edges_from(pairs[pairs >= RING_MIN_SHARED].index)
    ring = {m: min(comp) for comp in nx.connected_components(G) for m in comp}
    ev["ring"] = ev.supplier_id.map(ring)
    # each joint tender to the ring most of whose members name it (ties: the smallest ring id)
    votes = ev.groupby(["tender_id", "ring"]).size().rename("n").reset_index()
    owner = votes.sort_values(["n", "ring"], ascending=[False, True]).drop_duplicates("tender_id").set_index("tender_id").ring
    members = pd.DataFrame({"supplier_id": list(ring), "ring": list(ring.values())})
    tenders = owner.rename("ring").reset_index()
    out = members.merge(tenders, on="ring", how="left")
    return out[cols].sort_values(cols, na_position="last").reset_index(drop=True)


def event_groups(events: pd.DataFrame, entity_type: str, rings: dict, rotating=frozenset()) -> pd.Series:
    """Which events a reviewer reads together: each event's group in its quarter, or None where it has none.

    ``events`` is :func:`event_features`' rows (``entity_id``, ``period``, ``employee_id``, ``supplier_id``,
    ``station_id``); ``rings`` maps each quarter to its :func:`bidding_rings`; ``rotating`` names the tenders a
    rotation flag (BID-011) fired on.  The group is, first found:

    1. the bidding ring (tenders and suppliers): a supplier that is a member; a tender among the ring's joint
       tenders, or one a rotation flag fired on that a member won (the ring's turn) — a member winning some other
       tender is not the ring's business and keeps its own slot;
    2. for growers and leaf purchases, the buying station: a station's growers over their contract or outside its
       area are one station's purchasing, which LEAF-008 judges as a whole, and its graders work there;
    3. the responsible employee: one person's orders or claims of a quarter are reviewed together.

    Returns
    -------
    pandas.Series
        ``"ring:S…"``, ``"employee:E…"``, ``"station:ST…"`` or None, on ``events``' index.
    """
    key = pd.Series(None, index=events.index, dtype=object)
    if entity_type in ("tender", "supplier"):
        for q, idx in events.groupby("period").groups.items():
            r = rings.get(q)
            if r is None or r.empty:
                continue
            e = events.loc[idx]
            by_sup = r.drop_duplicates("supplier_id").set_index("supplier_id").ring
            if entity_type == "supplier":
                ring = e.entity_id.map(by_sup)
            else:
                ring = e.entity_id.map(r.dropna(subset=["tender_id"]).drop_duplicates("tender_id").set_index("tender_id").ring)
                turn = e.entity_id.isin(list(rotating)) & ring.isna()
                ring[turn] = e.supplier_id[turn].map(by_sup)
            key.loc[idx] = ("ring:" + ring[ring.notna()]).reindex(idx)
    # a grower's or lot's station comes before its grader: a grader works at one station, and a station's
    # purchasing beyond contracts is one scheme whoever graded the lots
    by = (("station_id", "station"), ("employee_id", "employee")) if entity_type in ("grower", "leaf_purchase") else (("employee_id", "employee"),)
    for col, name in by:
        if col in events:
            known = key.isna() & events[col].notna()
            key[known] = name + ":" + events.loc[known, col].astype(str)
    return key.where(key.notna(), None)


def _group_reason(entity_type: str, group: str, others: list[str], rings: pd.DataFrame | None) -> dict:
    """The reason an alert gives for the events of its group it stands for."""
    kind, _, who = group.partition(":")
    zh_noun, en_noun = EVENT_NOUNS[entity_type]
    shown = others[:10]
    more_zh, more_en = ("等" if len(others) > len(shown) else ""), (" …" if len(others) > len(shown) else "")
    listed_zh, listed_en = "、".join(shown) + more_zh, ", ".join(shown) + more_en
    if kind == "ring" and entity_type == "supplier":  # the others are the members
        whose_zh, whose_en = "同一投标团伙", "the same bidding group"
    elif kind == "ring":
        members = sorted(set(rings.supplier_id[rings.ring == who])) if rings is not None else [who]
        whose_zh, whose_en = f"同一投标团伙（{'、'.join(members)}）", f"the same bidding group ({', '.join(members)})"
    elif kind == "employee":
        whose_zh, whose_en = f"同一责任人{who}", f"the same responsible employee {who}"
    else:
        whose_zh, whose_en = f"同一收购站{who}", f"the same buying station {who}"
    return {"feature": SAME_GROUP, "indicator_id": None, "value": float(len(others)), "contribution": None,
            "text_zh": f"{whose_zh}本季度另有{len(others)}{zh_noun}触发预警，一并复核：{listed_zh}",
            "text_en": f"{len(others)} more {en_noun} of {whose_en} flagged this quarter, to review with this one: {listed_en}"}


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
    With :data:`ONE_PER_GROUP`, the best event of a type in each group of :func:`event_groups` (a bidding ring,
    a responsible person, a buying station) stands for the group's others that quarter: they are named in its
    reasons and evidence, and the reviewer reads them together, so five slots reach up to five rings or people
    instead of one ring's five tenders.  Events in no group are never grouped.
    """
    frames, used = [], {}
    rings = {}
    if ONE_PER_GROUP:  # the rings known at the end of each test quarter
        rings = {q: bidding_rings(flags, q.to_period("Q").end_time) for q in pd.to_datetime(list(test_periods))}
    rotating = set(flags.entity_id[(flags.indicator_id == ROTATION_FLAG).to_numpy() & flags.fired.to_numpy(bool)])
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
        cols = [c for c in E.columns if c not in ("entity_id", "period", *ID_COLUMNS)]
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
        test["group"], test["others"] = None, [[] for _ in range(len(test))]
        if ONE_PER_GROUP:
            # one event per group and quarter, the best: the others are read with it
            order = pd.DataFrame({"s": s, "p": test.period.to_numpy(), "g": event_groups(test, etype, rings, rotating).to_numpy(),
                                  "id": test.entity_id.to_numpy()})
            order["g"] = order.g.where(order.g.notna(), "_none_" + order.index.astype(str))
            order = order.sort_values("s", ascending=False, kind="stable")
            first = order.drop_duplicates(["p", "g"]).index
            others = order.groupby(["p", "g"], sort=False).id.apply(lambda x: list(x)[1:])
            keep = np.zeros(len(test), bool)
            keep[first] = True
            test = test.assign(group=order.g.where(~order.g.str.startswith("_none_"), None).reindex(test.index),
                               others=[others.get((p, g), []) for p, g in zip(order.p.reindex(test.index), order.g.reindex(test.index))])
            test, s = test[keep].reset_index(drop=True), s[keep]
        cut = th.by_capacity(s, test.period.to_numpy(), capacity, max_share=1.0)
        q = test[cut.labels].copy()
        q["score"] = s[cut.labels]
        q["entity_type"] = etype
        q["model"] = name
        q["policy"] = cut.policy
        q["cutoff"] = q.period.map(cut.cutoff)
        frames.append(q[["entity_type", "entity_id", "period", "score", "model", "policy", "cutoff", "employee_id", "department_id",
                         "group", "others"]])
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
        own = [] if g is None else [
            {"feature": i, "indicator_id": i, "value": float(v), "contribution": float(sev), "text_zh": zh, "text_en": en}
            for i, v, sev, zh, en in zip(g.indicator_id, g.value, g.severity, g.text_zh, g.text_en)][:5]
        # the group's other events come next to it: the reviewer reads them together
        reasons.append(own + ([_group_reason(r.entity_type, r.group, r.others, rings.get(r.period))] if r.others else []))
        flagged = [] if g is None else [str(x) for e in g.evidence for x in (e if e is not None else [])]
        # its own evidence first: the others are named in the reason too, and a large group would crowd it out
        evidence.append(list(dict.fromkeys([r.entity_id, *flagged[:40], *r.others]))[:50])
    q["reasons"] = reasons
    q["evidence"] = evidence
    return q.drop(columns=["group", "others"]), used
