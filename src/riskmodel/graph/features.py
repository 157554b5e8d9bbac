"""Graph features per entity and period, ready for scoring, and the centrality of people in the dealings graph.

The dealings graph of a period joins employees to the suppliers whose business they handled in it (requests,
approvals, orders, receipts, payments, tenders).  Who sits between many suppliers and many colleagues has high
betweenness there (pendant nodes left out, see :func:`dealing_centrality`); whose business runs through one
person shows as a high top share.
"""

from __future__ import annotations

import weakref

import networkx as nx
import numpy as np
import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.graph.algorithms import betweenness, pagerank
from riskmodel.graph.bidding import bid_rings
from riskmodel.graph.build import period_sql, cached, grower_dealings, supplier_dealings, supplier_registrations
from riskmodel.graph.links import DEALING_MIN_STRENGTH, KIND_WEIGHTS, conflict_links, related_bidders

FEATURE_COLUMNS = {
    "employee": ["n_suppliers", "deal_amount", "top_supplier_share", "betweenness", "pagerank", "n_growers_graded",
                 "n_links", "link_strength_max", "conflict_score_max", "linked_dealings"],
    "supplier": ["n_employees", "top_employee_share", "betweenness", "pagerank", "n_links", "link_strength_max",
                 "conflict_score_max", "cobid_community_size", "cobid_joint_tenders", "bid_rotation", "cover_gap",
                 "related_bidder_strength"],
    "grower": ["n_graders", "n_links", "link_strength_max", "conflict_score_max"],
}
_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _memo(data: Dataset, key: tuple, fn):
    store = _MEMO.setdefault(data, {})
    if key not in store:
        store[key] = fn()
    return store[key]


def _period_dealings(data: Dataset, freq: str) -> pd.DataFrame:
    """:func:`~riskmodel.graph.build.supplier_dealings` per period, read once per dataset (centrality and
    ``linked_dealings`` both use it)."""
    return _memo(data, ("dealings", freq), lambda: supplier_dealings(data, max_evidence=0, freq=freq))


def dealings_graph(d: pd.DataFrame) -> nx.Graph:
    """Employees and suppliers joined by their dealings (rows of :func:`~riskmodel.graph.build.supplier_dealings`);
    edge attributes ``count`` and ``amount``."""
    G = nx.Graph()
    G.add_nodes_from(("employee:" + d.employee_id.astype(str)).unique(), kind="employee")
    G.add_nodes_from(("supplier:" + d.supplier_id.astype(str)).unique(), kind="supplier")
    G.add_edges_from((f"employee:{e}", f"supplier:{s}", {"count": int(c), "amount": float(a or 0.0)})
                     for e, s, c, a in zip(d.employee_id, d.supplier_id, d["count"], d.amount))
    return G


def dealing_centrality(data: Dataset, freq: str = "year") -> pd.DataFrame:
    """Betweenness (exact, normalised) and PageRank of employees and suppliers in each period's dealings graph.

    Betweenness is taken without the pendant nodes (suppliers handled by one employee only, employees with one
    supplier): a pendant's paths all run through its one neighbour, which would make every busy officer a "broker".

    Returns
    -------
    DataFrame
        ``entity_type``, ``entity_id``, ``period``, ``degree`` (counterparties), ``amount``, ``top_share``
        (largest counterparty's share of the amount), ``betweenness``, ``pagerank``.
    """
    def run():
        d = _period_dealings(data, freq)
        cols = ["entity_type", "entity_id", "period", "degree", "amount", "top_share", "betweenness", "pagerank"]
        if d.empty:
            return pd.DataFrame(columns=cols)
        import igraph as ig

        out = []
        for period, g in d.groupby("period"):
            nodes = pd.Index(pd.unique(np.concatenate([("employee:" + g.employee_id.astype(str)).to_numpy(dtype=object),
                                                       ("supplier:" + g.supplier_id.astype(str)).to_numpy(dtype=object)])))
            src = nodes.get_indexer(("employee:" + g.employee_id.astype(str)).to_numpy(dtype=object))
            dst = nodes.get_indexer(("supplier:" + g.supplier_id.astype(str)).to_numpy(dtype=object))
            G = ig.Graph(n=len(nodes), edges=list(zip(src.tolist(), dst.tolist())))
            G.vs["name"] = nodes.tolist()
            # pendant suppliers (one handler) only add paths through their handler: a busy officer with many
            # exclusive suppliers would look like a broker.  Betweenness is taken on the graph without them.
            core = G.induced_subgraph([v.index for v in G.vs if v.degree() > 1])
            bc = betweenness(core) if core.ecount() else {}
            pr = pagerank(G, implementation="arpack")  # PRPACK is slow on these bipartite graphs (see pagerank)
            df = pd.DataFrame({"node": nodes, "betweenness": [bc.get(n, 0.0) for n in nodes], "pagerank": [pr[n] for n in nodes]})
            df["period"] = period
            out.append(df)
        c = pd.concat(out, ignore_index=True)
        c["entity_type"] = c.node.str.split(":", n=1).str[0]
        c["entity_id"] = c.node.str.split(":", n=1).str[1]
        amt = d.assign(amount=d.amount.fillna(0.0))
        emp = amt.groupby(["employee_id", "period"]).agg(degree=("supplier_id", "nunique"), amount=("amount", "sum"),
                                                         top=("amount", "max")).reset_index()
        emp = emp.rename(columns={"employee_id": "entity_id"}).assign(entity_type="employee")
        sup = amt.groupby(["supplier_id", "period"]).agg(degree=("employee_id", "nunique"), top=("amount", "max")).reset_index()
        sup = sup.rename(columns={"supplier_id": "entity_id"}).assign(entity_type="supplier")
        if data.has("purchase_orders"):
            tot = data.sql(f"""SELECT supplier_id AS entity_id, CAST(date_trunc('{freq}', order_date) AS TIMESTAMP) AS period,
                                      sum(amount) AS amount FROM purchase_orders GROUP BY ALL""")
            sup = sup.merge(tot, on=["entity_id", "period"], how="left")
        else:
            sup["amount"] = np.nan
        both = pd.concat([emp, sup], ignore_index=True)
        both["top_share"] = (both.top / both.amount.where(both.amount > 0)).clip(upper=1.0)
        res = c.merge(both.drop(columns="top"), on=["entity_type", "entity_id", "period"], how="left")
        return res[cols]

    return _memo(data, ("centrality", freq), run)


def _data_periods(data: Dataset, freq: str) -> pd.DatetimeIndex:
    try:
        lo, hi = data.period()
    except Exception:  # no dated tables (hand-made data): one undated period
        return pd.DatetimeIndex([pd.NaT])
    return pd.date_range(lo.to_period(freq[0].upper()).start_time, hi, freq={"year": "YS", "quarter": "QS", "month": "MS"}[freq])


def links_as_of(data: Dataset, links: pd.DataFrame, periods: pd.DatetimeIndex, freq: str) -> pd.DataFrame:
    """The :func:`~riskmodel.graph.links.conflict_links` rows known at the end of each period, scored as of then.

    A link to a supplier counts from the supplier's registration (it did not exist before); deciding on its
    business counts from the pair's first dealing in a deciding role (``first_decided``: requester, approver,
    buyer, grader), so before it the link's score is its strength alone.  Without this a quarter
    would see a company registered, or orders placed, after it.  Identifiers (phones, addresses, accounts) are the
    tables' current ones: the contract holds no history of them.

    Returns
    -------
    DataFrame
        ``employee_id``, ``counterparty_type``, ``counterparty_id``, ``period``, ``strength``, ``score``.
    """
    if periods.isna().all():  # undated data: the links as they are
        return links.assign(period=periods[0])[["employee_id", "counterparty_type", "counterparty_id", "period", "strength", "score"]]
    ends = pd.PeriodIndex(periods, freq={"year": "Y", "quarter": "Q", "month": "M"}[freq]).end_time
    lk = links[["employee_id", "counterparty_type", "counterparty_id", "strength", "score", "first_decided"]].copy()
    lk["first_decided"] = pd.to_datetime(lk["first_decided"])
    # a supplier's link from its registration; other links (and data without the dates) from the start
    lk["since"] = lk.counterparty_id.map(supplier_registrations(data)).where(lk.counterparty_type.eq("supplier"))
    grid = lk.merge(pd.DataFrame({"period": periods, "_end": ends}), how="cross")
    grid = grid[grid.since.isna() | (grid.since <= grid._end)]
    dealt = grid.first_decided.notna() & (grid.first_decided <= grid._end)
    grid["score"] = grid.score.where(dealt, grid.strength)
    return grid[["employee_id", "counterparty_type", "counterparty_id", "period", "strength", "score"]].reset_index(drop=True)


def linked_dealings(data: Dataset, linked: pd.DataFrame, freq: str, min_strength: float = DEALING_MIN_STRENGTH) -> pd.DataFrame:
    """Documents an employee handled in each period in a deciding role (requester, approver, buyer, grader) for a
    supplier or grower linked to them (``linked``: :func:`links_as_of`, strength ≥ ``min_strength``, known by the
    period's end).  REL-002 fires once, at a pair's first such dealing; this counts them period by period, so a
    related-party deal that goes on stays lit and one that stopped fades.

    Returns
    -------
    DataFrame
        ``employee_id``, ``period``, ``linked_dealings``.
    """
    cols = ["employee_id", "period", "linked_dealings"]
    lk = linked[linked.strength >= min_strength][["employee_id", "counterparty_type", "counterparty_id", "period"]]
    if lk.empty:
        return pd.DataFrame(columns=cols)
    parts = []
    if lk.counterparty_type.eq("supplier").any():
        d = _period_dealings(data, freq)  # n_decided: the documents decided, not those received or paid
        parts.append(d.rename(columns={"supplier_id": "counterparty_id"}).assign(counterparty_type="supplier", count=d.n_decided))
    growers = lk.counterparty_id[lk.counterparty_type.eq("grower")].unique()
    if len(growers):
        g = grower_dealings(data, freq=freq, growers=growers)
        parts.append(g.rename(columns={"grower_id": "counterparty_id"}).assign(counterparty_type="grower"))
    if not parts:
        return pd.DataFrame(columns=cols)
    d = pd.concat([p[["employee_id", "counterparty_type", "counterparty_id", "period", "count"]] for p in parts], ignore_index=True)
    d["period"] = pd.to_datetime(d.period)
    m = d.merge(lk.assign(period=pd.to_datetime(lk.period)), on=["employee_id", "counterparty_type", "counterparty_id", "period"])
    return m.groupby(["employee_id", "period"])["count"].sum().rename("linked_dealings").reset_index()[cols]


def graph_features(data: Dataset, freq: str = "year", link_params: dict | None = None, ring_params: dict | None = None,
                   entity_types: tuple[str, ...] | None = None,
                   dealing_min_strength: float = DEALING_MIN_STRENGTH) -> pd.DataFrame:
    """Relationship-graph features per entity and period, ready for scoring.

    Parameters
    ----------
    data : Dataset
    freq : {'year', 'quarter', 'month'}, default='year'
    link_params : dict, optional
        Passed to :func:`~riskmodel.graph.links.conflict_links` (``max_hops``, ``kind_weights``…).
    ring_params : dict, optional
        Passed to :func:`~riskmodel.graph.bidding.bid_rings`.
    entity_types : tuple of str, optional
        Only these entity types' rows (default: employee, supplier and grower).  Every entity gets a row in every
        period, so at scale asking only for the employees the scoring needs saves the growers' millions of rows.
    dealing_min_strength : float, default=DEALING_MIN_STRENGTH
        The link strength from which a dealing counts in ``linked_dealings`` (REL-002's threshold).

    Returns
    -------
    DataFrame
        ``entity_type`` (employee, supplier, grower), ``entity_id``, ``period`` (start of the period) and the
        :data:`FEATURE_COLUMNS` of the entity type (others empty).  Link features are as of each period's end
        (:func:`links_as_of`); bidding-community features describe the whole data and repeat in every period;
        dealings, centrality and concentration are per period.
        Entities appear in every period of the data when they have any feature.
    """
    types = tuple(entity_types) if entity_types is not None else tuple(FEATURE_COLUMNS)
    if unknown := set(types) - set(FEATURE_COLUMNS):
        raise ValueError(f"entity_types must be among {tuple(FEATURE_COLUMNS)}, not {sorted(unknown)}")
    link_params, ring_params = dict(link_params or {}), ring_params or {}
    # the weights in full, as the REL indicators give them: the same links are computed once (graph.build.cached)
    link_params["kind_weights"] = {**KIND_WEIGHTS, **(link_params.get("kind_weights") or {})}
    periods = _data_periods(data, freq)
    parts = []
    # links as of each period: per employee, and per counterparty
    links = cached(data, conflict_links, **link_params)
    linked = links_as_of(data, links, periods, freq) if len(links) else pd.DataFrame()
    comm, mem = cached(data, bid_rings, **ring_params)
    if len(mem):
        m = mem.rename(columns={"supplier_id": "entity_id", "size": "cobid_community_size", "n_joint": "cobid_joint_tenders",
                                "rotation": "bid_rotation"})
        parts.append(m[["entity_id", "cobid_community_size", "cobid_joint_tenders", "bid_rotation", "cover_gap"]].assign(entity_type="supplier"))
    rb = cached(data, related_bidders, **{k: v for k, v in link_params.items() if k in ("max_hops", "hop_decay", "kind_weights", "max_share")})
    if len(rb):
        r = pd.concat([rb[["supplier_a", "strength"]].rename(columns={"supplier_a": "entity_id"}),
                       rb[["supplier_b", "strength"]].rename(columns={"supplier_b": "entity_id"})])
        parts.append(r.groupby("entity_id").strength.max().rename("related_bidder_strength").reset_index().assign(entity_type="supplier"))
    static = (pd.concat(parts, ignore_index=True).groupby(["entity_type", "entity_id"]).first().reset_index()
              if parts else pd.DataFrame(columns=["entity_type", "entity_id"]))
    # per period: centrality and concentration in the dealings graph, graders per grower, growers per grader
    cen = dealing_centrality(data, freq).rename(columns={"top_share": "top"})
    cen["n_suppliers"] = cen.degree.where(cen.entity_type.eq("employee"))
    cen["n_employees"] = cen.degree.where(cen.entity_type.eq("supplier"))
    cen["deal_amount"] = cen.amount.where(cen.entity_type.eq("employee"))
    cen["top_supplier_share"] = cen.top.where(cen.entity_type.eq("employee"))
    cen["top_employee_share"] = cen.top.where(cen.entity_type.eq("supplier"))
    dyn = [cen.drop(columns=["degree", "amount", "top"])]
    if data.has("leaf_purchases"):  # graders per grower, growers per grader: counted where the data are
        per = period_sql(freq, "purchased_at")
        if "grower" in types:
            dyn.append(data.sql(f"""SELECT 'grower' AS entity_type, grower_id AS entity_id, {per} count(DISTINCT grader_id) AS n_graders
                                    FROM leaf_purchases WHERE grader_id IS NOT NULL GROUP BY ALL"""))
        if "employee" in types:
            dyn.append(data.sql(f"""SELECT 'employee' AS entity_type, grader_id AS entity_id, {per} count(DISTINCT grower_id) AS n_growers_graded
                                    FROM leaf_purchases WHERE grader_id IS NOT NULL GROUP BY ALL"""))
    if len(linked):
        for keys, etype in ((["employee_id"], "employee"), (["counterparty_type", "counterparty_id"], None)):
            g = linked.groupby([*keys, "period"]).agg(n_links=("strength", "size"), link_strength_max=("strength", "max"),
                                                      conflict_score_max=("score", "max")).reset_index()
            g = g.rename(columns={keys[-1]: "entity_id", "counterparty_type": "entity_type"})
            dyn.append(g.assign(entity_type=etype) if etype else g)
        if "employee" in types and not periods.isna().all():
            ld = linked_dealings(data, linked, freq, dealing_min_strength)
            dyn.append(ld.rename(columns={"employee_id": "entity_id"}).assign(entity_type="employee"))
    dynamic = pd.concat(dyn, ignore_index=True)
    dynamic = dynamic[dynamic.entity_type.isin(types)].groupby(["entity_type", "entity_id", "period"]).first().reset_index()
    static = static[static.entity_type.isin(types)]
    ents = pd.concat([static[["entity_type", "entity_id"]], dynamic[["entity_type", "entity_id"]]]).drop_duplicates()
    grid = ents.merge(pd.DataFrame({"period": periods}), how="cross")
    out = grid.merge(dynamic, on=["entity_type", "entity_id", "period"], how="left").merge(static, on=["entity_type", "entity_id"], how="left")
    allcols = list(dict.fromkeys(c for cols in FEATURE_COLUMNS.values() for c in cols))
    for c in allcols:
        if c not in out:
            out[c] = np.nan
    counts = ["n_suppliers", "n_employees", "n_growers_graded", "n_graders", "n_links", "cobid_joint_tenders", "linked_dealings"]
    for et, cols in FEATURE_COLUMNS.items():
        m = out.entity_type.eq(et)
        for c in cols:
            if c in counts or c in ("deal_amount", "betweenness", "pagerank", "link_strength_max", "conflict_score_max",
                                    "related_bidder_strength", "cobid_community_size", "bid_rotation"):
                out.loc[m, c] = out.loc[m, c].fillna(0.0)
    out = out[["entity_type", "entity_id", "period", *allcols]]
    return out.sort_values(["entity_type", "entity_id", "period"]).reset_index(drop=True)
