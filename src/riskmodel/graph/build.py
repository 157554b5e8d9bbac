"""The relationship graph: people, companies, growers and tenders, and the attributes and dealings that link them.

The graph is built columnar first (:class:`GraphFrames`: a node table and an edge table, from DuckDB queries over
the contract tables) and turned into a :class:`networkx.Graph` for analysts (:func:`build_graph`) or an
:class:`igraph.Graph` for heavy algorithms (:meth:`GraphFrames.to_igraph`).  The detectors work on the frames;
both graph objects carry the same node names, so results from either meet.

Nodes (``kind``)
    entities ``employee``, ``supplier``, ``grower``, ``tender`` (named ``kind:id``, e.g. ``employee:E00012``) and
    attribute nodes ``phone``, ``address``, ``bank_account``, ``id_number`` (named ``kind:normalised key``).
    Every node has a ``label`` (names for entities, a masked value for attributes).
Edges (``kind``)
    ``attribute``: entity — attribute it holds, ``role`` says which field (``legal_rep_phone``, ``home_address``…);
    ``deals``: employee — supplier whose business they handled, ``roles`` (requester, approver, buyer, receiver,
    payer), ``count`` (documents), ``amount``, ``first``, ``last``, ``evidence`` (document ids);
    ``grades``: grader — grower whose leaf they graded, ``count``, ``weight_kg``, ``amount``, ``first``, ``last``;
    ``bids``: supplier — tender, ``won``, ``amount``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.graph.normalize import is_mobile, normalize_account, normalize_address, normalize_phone

ENTITY_KINDS = ("employee", "supplier", "grower", "tender")
ATTRIBUTE_KINDS = ("phone", "address", "bank_account", "id_number")
EDGE_KINDS = ("attribute", "deals", "grades", "bids")
#: attribute fields per entity table: (column, attribute kind, role)
ATTRIBUTE_FIELDS = {
    "employees": ("employee", "employee_id", "name", [("phone", "phone", "phone"), ("address", "address", "home_address"),
                                                     ("bank_account", "bank_account", "salary_account"),
                                                     ("id_number", "id_number", "id_number")]),
    "suppliers": ("supplier", "supplier_id", "name", [("phone", "phone", "company_phone"), ("address", "address", "registered_address"),
                                                     ("bank_account", "bank_account", "company_account"),
                                                     ("legal_rep_phone", "phone", "legal_rep_phone"),
                                                     ("legal_rep_id_number", "id_number", "legal_rep_id_number")]),
    "growers": ("grower", "grower_id", "name", [("phone", "phone", "phone"), ("address", "address", "address"),
                                               ("bank_account", "bank_account", "bank_account"), ("id_number", "id_number", "id_number")]),
}
NODE_COLUMNS = ["node", "kind", "label", "entity_id"]
EDGE_COLUMNS = ["source", "target", "kind", "role"]


@dataclass
class GraphFrames:
    """The relationship graph as two tables (see the module docstring for kinds and columns).

    ``nodes``: ``node``, ``kind``, ``label``, ``entity_id`` (empty for attributes), ``subkind`` (``mobile`` /
    ``landline`` for phones), ``category_id`` and ``date`` (tenders).  ``edges``: ``source``, ``target``, ``kind``,
    ``role`` and the per-kind columns; each undirected edge once, the entity or employee first.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    _cache: dict = field(default_factory=dict, repr=False)

    def edges_of(self, *kinds: str) -> pd.DataFrame:
        return self.edges[self.edges.kind.isin(kinds)]

    def to_networkx(self) -> nx.Graph:
        """An undirected :class:`networkx.Graph` with every node and edge column as attributes (empty ones left out)."""
        G = nx.Graph()
        G.add_nodes_from((r.pop("node"), r) for r in _records(self.nodes))
        G.add_edges_from((r.pop("source"), r.pop("target"), r) for r in _records(self.edges))
        return G

    def to_igraph(self, kinds: tuple[str, ...] | None = None):
        """An undirected :class:`igraph.Graph`; vertex attributes ``name`` (the node name) and ``kind``, edge
        attribute ``kind``.  ``kinds`` keeps only those edge kinds (every node stays)."""
        import igraph as ig

        e = self.edges if kinds is None else self.edges_of(*kinds)
        names = self.nodes.node.to_numpy(dtype=object)
        code = pd.Index(names)
        src, dst = code.get_indexer(e.source.to_numpy(dtype=object)), code.get_indexer(e.target.to_numpy(dtype=object))
        # a list of tuples is igraph's fastest input (a numpy array goes through the buffer path, ~2x slower)
        g = ig.Graph(n=len(names), edges=list(zip(src.tolist(), dst.tolist())), directed=False)
        g.vs["name"] = names.tolist()
        g.vs["kind"] = self.nodes.kind.to_numpy(dtype=object).tolist()
        g.es["kind"] = e.kind.to_numpy(dtype=object).tolist()
        return g


def _records(df: pd.DataFrame):
    """Row dicts without the empty cells, per group of rows of one ``kind`` (edge kinds have disjoint columns)."""
    groups = df.groupby("kind", sort=False) if "kind" in df and len(df) else [(None, df)]
    for _, g in groups:
        g = g.dropna(axis=1, how="all")
        cols = list(g.columns)
        partial = [c for c in cols if g[c].isna().any()]
        values = [_pylist(g[c]) for c in cols]
        for row in zip(*values):
            r = dict(zip(cols, row))
            for c in partial:
                if _missing(r[c]):
                    del r[c]
            yield r


def _pylist(col: pd.Series) -> list:
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        # numpy turns datetime64[s] into datetime objects in C; boxing pandas Timestamps is far slower
        return col.to_numpy(dtype="datetime64[s]").tolist()
    return col.to_numpy(dtype=object).tolist()


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and np.isnan(v)


# -- attributes ------------------------------------------------------------------------------------------------
def _mask(kind: pd.Series, key: pd.Series) -> pd.Series:
    """Labels for attribute nodes that do not spell the identifier out (a figure may be shown to colleagues)."""
    k = key.astype(str)
    phone = k.str[:3] + "****" + k.str[-4:]
    acct = k.str[:4] + "…" + k.str[-4:]
    addr = k.str[:12] + np.where(k.str.len() > 12, "…", "")
    return pd.Series(np.select([kind.eq("phone"), kind.eq("address")], [phone, addr], acct), index=key.index)


def entity_attributes(data: Dataset, min_share: int = 1) -> pd.DataFrame:
    """Long table of every identifying attribute an entity holds, normalised.

    Parameters
    ----------
    data : Dataset
    min_share : int, default=1
        Keep only attributes held by at least this many entities (2: those that link someone).  The filter runs
        on the normalised keys before the node names are made, so a national company's millions of attributes
        held by one person each cost one pass, not a table.

    Returns
    -------
    DataFrame
        ``source`` (entity node), ``entity_type``, ``entity_id``, ``target`` (attribute node), ``attr_kind``,
        ``role``, ``key`` (normalised), ``subkind`` (``mobile`` / ``landline`` for phones, else the kind).
        Includes accounts that payments went into (role ``paid_into_account`` of the paid supplier).
    """
    cols = ["source", "entity_type", "entity_id", "target", "attr_kind", "role", "key", "subkind"]
    normalise = {"phone": normalize_phone, "bank_account": normalize_account, "id_number": normalize_account}
    # one kind at a time (a key links only entities of its kind): at most one kind's raw values are held at once;
    # ``seq`` is the source's place (tables, then their fields; paid-into accounts last), the rows' order in the end
    sources = []  # (kind, sql, entity_type, role)
    for table, (etype, id_col, _, fields) in ATTRIBUTE_FIELDS.items():
        if data.has(table):
            sources += [(kind, f"SELECT {id_col} AS entity_id, {col} AS raw FROM {table}", etype, role) for col, kind, role in fields]
    if data.has("payments", "purchase_orders"):
        sources.append(("bank_account", """SELECT DISTINCT po.supplier_id AS entity_id, p.bank_account AS raw
                                           FROM payments p JOIN purchase_orders po USING (po_id)""", "supplier", "paid_into_account"))
    kept = []
    for kind in dict.fromkeys(k for k, *_ in sources):
        parts, raws = [], []
        for seq, (k, sql, etype, role) in enumerate(sources):
            if k != kind:
                continue
            df = data.sql(sql)
            part = pd.DataFrame({"entity_type": etype, "entity_id": df.entity_id.astype(str), "attr_kind": kind, "role": role,
                                 "seq": seq})
            if kind == "address":  # one call for every table's addresses: city names are learnt across them
                raws.append(df.raw)
            else:
                part["key"] = normalise[kind](df.raw)
            parts.append(part)
            del df
        a = pd.concat(parts, ignore_index=True)
        del parts
        if kind == "address":
            a["key"] = normalize_address(pd.concat(raws, ignore_index=True)).to_numpy()
            del raws
        a = a[a.key.notna()]
        # an account that payments went into and that is the supplier's own registered account says nothing new
        a = a.drop_duplicates(["entity_type", "entity_id", "key"], keep="first")
        if min_share > 1:
            a = a[a.groupby("key").entity_id.transform("size") >= min_share]
        kept.append(a)
    if not kept:
        return pd.DataFrame(columns=cols)
    a = pd.concat(kept, ignore_index=True).sort_values("seq", kind="stable", ignore_index=True)
    a["subkind"] = np.where(a.attr_kind.eq("phone"), np.where(is_mobile(a.key), "mobile", "landline"), a.attr_kind)
    a["source"] = a.entity_type + ":" + a.entity_id
    a["target"] = a.attr_kind + ":" + a.key.astype(str)
    return a[cols].reset_index(drop=True)


def supplier_registrations(data: Dataset) -> pd.Series:
    """Each supplier's registration date (a Series by ``supplier_id``; empty for data without them): before it a
    link to the supplier did not exist."""
    if not data.has("suppliers") or "registration_date" not in data.table("suppliers"):
        return pd.Series(dtype="datetime64[ns]")
    sup = data.table("suppliers")
    return pd.Series(pd.to_datetime(sup.registration_date).to_numpy(), index=sup.supplier_id)


def period_sql(freq: str | None, col: str) -> str:
    if freq is None:
        return ""
    if freq not in ("year", "quarter", "month"):
        raise ValueError(f"freq must be 'year', 'quarter' or 'month', not {freq!r}")
    return f"CAST(date_trunc('{freq}', {col}) AS TIMESTAMP) AS period, "


# -- dealings --------------------------------------------------------------------------------------------------
#: roles that make a dealing a decision on the counterparty's business (requested, approved, bought from, graded);
#: receiving its goods or paying it is not
DECIDING_ROLES = ("requester", "approver", "buyer", "grader")


def supplier_dealings(data: Dataset, max_evidence: int = 50, freq: str | None = None) -> pd.DataFrame:
    """Who handled which supplier's business: one row per (employee, supplier).

    Roles come from orders (``buyer``), their requisitions (``requester``) and approval steps (``approver``),
    goods receipts (``receiver``), payments (``payer``), and tenders the supplier bid in (the tender's
    requester and approvers, ``requester`` / ``approver``).

    ``freq`` (``'year'``, ``'quarter'``, ``'month'``) splits the rows by the documents' period (column ``period``).

    Returns
    -------
    DataFrame
        ``employee_id``, ``supplier_id``, ``roles`` (sorted list), ``count`` (distinct documents), ``amount``
        (orders' amounts), ``first``, ``last`` (dates), ``evidence`` (up to ``max_evidence`` order / tender ids),
        ``role_first`` (the first date in each of ``roles``, same order: a pair paid in 2023 and approved in 2025
        has decided on the supplier's business only since 2025), ``n_decided`` (documents in one of
        :data:`DECIDING_ROLES`).  A tender's requester and approvers are dated at its close (when the bidders, and
        so the supplier, are known).
    """
    q = []
    if data.has("purchase_orders"):
        q.append("SELECT buyer_id AS employee_id, supplier_id, 'buyer' AS role, po_id AS ref, order_date AS d, amount FROM purchase_orders")
        if data.has("requisitions"):
            q.append("""SELECT r.requester_id AS employee_id, po.supplier_id, 'requester' AS role, po.po_id AS ref,
                               po.order_date AS d, po.amount AS amount
                        FROM purchase_orders po JOIN requisitions r USING (requisition_id)""")
        if data.has("approvals"):
            q.append("""SELECT a.approver_id AS employee_id, po.supplier_id, 'approver' AS role, po.po_id AS ref,
                               po.order_date AS d, po.amount AS amount
                        FROM purchase_orders po JOIN approvals a USING (requisition_id)""")
        if data.has("goods_receipts"):
            q.append("""SELECT g.receiver_id AS employee_id, po.supplier_id, 'receiver' AS role, po.po_id AS ref,
                               po.order_date AS d, po.amount AS amount
                        FROM purchase_orders po JOIN goods_receipts g USING (po_id)""")
        if data.has("payments"):
            q.append("""SELECT p.payer_id AS employee_id, po.supplier_id, 'payer' AS role, po.po_id AS ref,
                               po.order_date AS d, po.amount AS amount
                        FROM purchase_orders po JOIN payments p USING (po_id)""")
    if data.has("tenders", "bids", "requisitions"):
        q.append("""SELECT r.requester_id AS employee_id, b.supplier_id, 'requester' AS role, t.tender_id AS ref,
                           coalesce(t.close_date, t.publish_date) AS d, CAST(0 AS DOUBLE) AS amount
                    FROM tenders t JOIN requisitions r USING (requisition_id) JOIN bids b USING (tender_id)""")
        if data.has("approvals"):
            q.append("""SELECT a.approver_id AS employee_id, b.supplier_id, 'approver' AS role, t.tender_id AS ref,
                           coalesce(t.close_date, t.publish_date) AS d, CAST(0 AS DOUBLE) AS amount
                        FROM tenders t JOIN approvals a USING (requisition_id) JOIN bids b USING (tender_id)""")
    if not q:
        return pd.DataFrame(columns=["employee_id", "supplier_id", "roles", "count", "amount", "first", "last", "evidence", "role_first",
                                     "n_decided"])
    per, key = period_sql(freq, "d"), "employee_id, supplier_id" + (", period" if freq else "")
    deciding = ", ".join(f"'{r}'" for r in DECIDING_ROLES)
    return data.sql(f"""
        WITH r AS ({' UNION ALL '.join(q)}),
        rr AS (SELECT * FROM r WHERE employee_id IS NOT NULL AND supplier_id IS NOT NULL),
        doc AS (SELECT employee_id, supplier_id, ref, max(amount) AS amount, min(d) AS d,
                       bool_or(role IN ({deciding})) AS decided FROM rr GROUP BY employee_id, supplier_id, ref),
        pair AS (SELECT employee_id, supplier_id, {per}count(*) AS count, sum(amount) AS amount, min(d) AS first,
                        max(d) AS last, list(ref ORDER BY d, ref)[1:{int(max_evidence)}] AS evidence,
                        count(*) FILTER (WHERE decided) AS n_decided
                 FROM doc GROUP BY ALL),
        rf AS (SELECT {key}, list(role ORDER BY role) AS roles, list(f ORDER BY role) AS role_first
               FROM (SELECT employee_id, supplier_id, {per}role, min(d) AS f FROM rr GROUP BY ALL) GROUP BY ALL)
        SELECT {key}, rf.roles, pair.count, pair.amount, pair.first, pair.last, pair.evidence, rf.role_first, pair.n_decided
        FROM pair JOIN rf USING ({key})""")


def grower_dealings(data: Dataset, max_evidence: int = 0, freq: str | None = None, growers=None) -> pd.DataFrame:
    """Which grader graded which grower's leaf: one row per (grader, grower), ``roles`` = ``['grader']``.

    ``evidence`` (the purchase ids, up to ``max_evidence``) only when ``max_evidence > 0``: listing them for
    every pair costs more than the rest together; :func:`grading_evidence` fetches them for the pairs needed.
    ``growers`` (grower ids) limits the answer to those growers' leaf.
    """
    cols = ["employee_id", "grower_id", "roles", "count", "weight_kg", "amount", "first", "last", "evidence"]
    if not data.has("leaf_purchases"):
        return pd.DataFrame(columns=cols)
    ev = f"list(purchase_id ORDER BY purchased_at, purchase_id)[1:{int(max_evidence)}]" if max_evidence > 0 else "NULL"
    sql = f"""SELECT grader_id AS employee_id, grower_id, {period_sql(freq, "purchased_at")}['grader'] AS roles, count(*) AS count,
                     sum(weight_kg) AS weight_kg, sum(amount) AS amount, min(purchased_at) AS first, max(purchased_at) AS last,
                     {ev} AS evidence
              FROM leaf_purchases WHERE grader_id IS NOT NULL {{only}} GROUP BY ALL"""
    if growers is None:
        return data.sql(sql.format(only=""))
    with data.registered("_rel_growers", _ids("grower_id", growers)):
        return data.sql(sql.format(only="AND CAST(grower_id AS VARCHAR) IN (SELECT grower_id FROM _rel_growers)"))


def _ids(column: str, ids) -> pd.DataFrame:
    return pd.DataFrame({column: pd.unique(pd.Series(ids, dtype=object).astype(str))})


def grading_evidence(data: Dataset, pairs: pd.DataFrame, max_evidence: int = 50) -> pd.Series:
    """The leaf purchase ids behind (``employee_id``, ``grower_id``) pairs, in time order, as a Series aligned
    with ``pairs`` (empty lists where none)."""
    if pairs.empty or not data.has("leaf_purchases"):
        return pd.Series([[] for _ in range(len(pairs))], index=pairs.index, dtype=object)
    q = pairs[["employee_id", "grower_id"]].astype(str).drop_duplicates()
    with data.registered("_rel_pairs", q):
        ev = data.sql(f"""
            SELECT lp.grader_id AS employee_id, lp.grower_id,
                   list(lp.purchase_id ORDER BY lp.purchased_at, lp.purchase_id)[1:{int(max_evidence)}] AS evidence
            FROM leaf_purchases lp JOIN _rel_pairs p ON lp.grader_id = p.employee_id AND lp.grower_id = p.grower_id
            GROUP BY ALL""")
    m = pairs[["employee_id", "grower_id"]].astype(str).merge(ev, how="left", on=["employee_id", "grower_id"])
    return pd.Series([list(v) if isinstance(v, (list, np.ndarray)) else [] for v in m.evidence], index=pairs.index, dtype=object)


def tender_bids(data: Dataset) -> pd.DataFrame:
    """Every bid with its tender's category and date: ``supplier_id``, ``tender_id``, ``category_id``, ``date``,
    ``won``, ``amount``."""
    if not data.has("bids", "tenders"):
        return pd.DataFrame(columns=["supplier_id", "tender_id", "category_id", "date", "won", "amount"])
    return data.sql("""
        SELECT b.supplier_id, b.tender_id, t.category_id, t.close_date AS date,
               coalesce(b.is_winner, t.winner_supplier_id = b.supplier_id, false) AS won, b.bid_amount AS amount
        FROM bids b JOIN tenders t USING (tender_id)""")


# -- the graph ---------------------------------------------------------------------------------------------------
_FRAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def graph_frames(data: Dataset, min_share: int = 1, include: tuple[str, ...] = EDGE_KINDS,
                 all_growers: bool = True) -> GraphFrames:
    """The relationship graph of a dataset as :class:`GraphFrames` (cached per dataset and arguments).

    Parameters
    ----------
    data : Dataset
    min_share : int, default=1
        Keep attribute nodes held by at least this many entities (2: only attributes that link someone).
    include : tuple of str
        Edge kinds to build (:data:`EDGE_KINDS`).
    all_growers : bool, default=True
        False keeps growers (their nodes and ``grades`` edges) only where they hold a kept attribute.  A national
        company has millions of growers and tens of millions of grader–grower pairs, and no attribute path runs
        through a grower who shares nothing: the links, rings and related bidders are the same
        (:func:`cached` builds this graph).  Growers per grader are counted where the data are
        (:func:`~riskmodel.graph.features.graph_features`).
    """
    key = (min_share, tuple(include), all_growers)
    cache = _FRAMES.setdefault(data, {})
    if key not in cache:
        cache[key] = _build_frames(data, min_share, include, all_growers)
    return cache[key]


_RESULTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def cached(data: Dataset, fn, **params):
    """``fn(graph_frames(data, min_share=2), **params)``, computed once per dataset and arguments.

    The relationship indicators (``REL-…``) and the graph features ask for the same links, bid rings and related
    bidders; this computes each once.  The graph keeps only the attributes that link someone and the growers that
    hold one (``min_share=2, all_growers=False``): links, rings and dealings are the same as on the whole graph,
    and a national company's millions of phones, accounts and addresses held by one person each, and its millions
    of growers, stay out of memory; the run writes this graph for portraits.  Arguments left out and the same values given explicitly are one entry
    (the key is the function's bound arguments with its defaults).  The result is shared: do not modify it.
    """
    import inspect
    from collections.abc import Mapping

    bound = inspect.signature(fn).bind(None, **params)
    bound.apply_defaults()
    args = list(bound.arguments.items())[1:]
    key = (fn.__module__, fn.__qualname__,
           repr([(k, sorted(v.items()) if isinstance(v, Mapping) else v) for k, v in args]))
    store = _RESULTS.setdefault(data, {})
    if key not in store:
        store[key] = fn(graph_frames(data, min_share=2, all_growers=False), **params)
    return store[key]


def release(data: Dataset) -> None:
    """Forget the graph of ``data`` and everything computed from it (links, rings, centrality); the next call
    rebuilds them.  A run calls it once the graph is written, so training does not hold it in memory."""
    from riskmodel.graph import features

    for cache in (_FRAMES, _RESULTS, features._MEMO):
        cache.pop(data, None)


def _build_frames(data: Dataset, min_share: int, include: tuple[str, ...], all_growers: bool = True) -> GraphFrames:
    nodes, edges = [], []
    growers = None  # every grower, or (all_growers False) the ids of those holding a kept attribute
    if "attribute" in include:
        a = entity_attributes(data, min_share=min_share)
        if not all_growers:
            growers = a.entity_id[a.entity_type.eq("grower")].unique()
        attrs = a.drop_duplicates("target")
        edges.append(a.assign(kind="attribute")[["source", "target", "kind", "role"]])
        attr_nodes = pd.DataFrame({"node": attrs.target, "kind": attrs.attr_kind, "label": _mask(attrs.attr_kind, attrs.key),
                                   "entity_id": None, "subkind": attrs.subkind})
        del a, attrs
    for table, (etype, id_col, name_col, _) in ATTRIBUTE_FIELDS.items():
        if data.has(table):
            if etype == "grower" and growers is not None:
                with data.registered("_rel_growers", _ids("grower_id", growers)):
                    df = data.sql(f"""SELECT {id_col} AS entity_id, {name_col} AS name FROM {table}
                                      WHERE CAST({id_col} AS VARCHAR) IN (SELECT grower_id FROM _rel_growers)""")
            else:
                df = data.sql(f"SELECT {id_col} AS entity_id, {name_col} AS name FROM {table}")
            nodes.append(pd.DataFrame({"node": etype + ":" + df.entity_id.astype(str), "kind": etype,
                                       "label": df["name"].astype(str), "entity_id": df.entity_id.astype(str)}))
    if "attribute" in include:
        nodes.append(attr_nodes)
    if "deals" in include:
        d = supplier_dealings(data)
        edges.append(pd.DataFrame({"source": "employee:" + d.employee_id.astype(str), "target": "supplier:" + d.supplier_id.astype(str),
                                   "kind": "deals", "role": d.roles.map(lambda r: ",".join(r)), "roles": d.roles,
                                   "count": d["count"], "amount": d.amount, "first": d["first"], "last": d["last"],
                                   "evidence": d.evidence, "role_first": d.role_first}))
    if "grades" in include:
        g = grower_dealings(data, growers=growers)
        edges.append(pd.DataFrame({"source": "employee:" + g.employee_id.astype(str), "target": "grower:" + g.grower_id.astype(str),
                                   "kind": "grades", "role": "grader", "count": g["count"], "weight_kg": g.weight_kg,
                                   "amount": g.amount, "first": g["first"], "last": g["last"]}))
    if "bids" in include:
        b = tender_bids(data)
        t = b.drop_duplicates("tender_id")
        nodes.append(pd.DataFrame({"node": "tender:" + t.tender_id.astype(str), "kind": "tender", "label": t.tender_id.astype(str),
                                   "entity_id": t.tender_id.astype(str), "category_id": t.category_id, "date": t.date}))
        edges.append(pd.DataFrame({"source": "supplier:" + b.supplier_id.astype(str), "target": "tender:" + b.tender_id.astype(str),
                                   "kind": "bids", "role": np.where(b.won.astype(bool), "winner", "bidder"),
                                   "won": b.won.astype(bool), "amount": b.amount}))
    nodes_df = pd.concat(nodes, ignore_index=True) if nodes else pd.DataFrame(columns=NODE_COLUMNS)
    edges_df = pd.concat([e for e in edges if len(e)], ignore_index=True) if any(len(e) for e in edges) else pd.DataFrame(columns=EDGE_COLUMNS)
    nodes_df = nodes_df.drop_duplicates("node").reset_index(drop=True)
    # an edge may point at an entity a table does not list (a grader missing from employees): add a bare node
    known = set(nodes_df.node)
    extra = pd.Index(pd.concat([edges_df.source, edges_df.target]).unique()).difference(pd.Index(list(known)))
    if len(extra):
        kinds = extra.str.split(":", n=1).str[0]
        nodes_df = pd.concat([nodes_df, pd.DataFrame({"node": extra, "kind": kinds, "label": extra.str.split(":", n=1).str[1],
                                                      "entity_id": extra.str.split(":", n=1).str[1]})], ignore_index=True)
    return GraphFrames(nodes_df, edges_df.reset_index(drop=True))


def build_graph(data: Dataset, min_share: int = 2, include: tuple[str, ...] = EDGE_KINDS) -> nx.Graph:
    """The relationship graph of a dataset, for exploring in a notebook.

    Parameters
    ----------
    data : Dataset
    min_share : int, default=2
        Attribute nodes held by fewer entities are left out (an attribute nobody shares links nobody).
    include : tuple of str, default=('attribute', 'deals', 'grades', 'bids')

    Returns
    -------
    networkx.Graph
        Node attributes ``kind`` and ``label`` (and ``entity_id``); edge attributes ``kind``, ``role`` and the
        per-kind columns (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> from riskmodel.data.dataset import Dataset
    >>> data = Dataset.from_frames({
    ...     "employees": pd.DataFrame({"employee_id": ["E1"], "name": ["张三"], "phone": ["138-1234-5678"],
    ...                                "address": ["南岗区学府路1号"], "bank_account": ["6222000011112222"], "id_number": ["230102198001011234"]}),
    ...     "suppliers": pd.DataFrame({"supplier_id": ["S1"], "name": ["哈尔滨甲公司"], "phone": ["0451-85000000"],
    ...                                "address": ["道里区中央大街9号"], "bank_account": ["6222999988887777"],
    ...                                "legal_rep_phone": ["+86 13812345678"], "legal_rep_id_number": ["230102197001011111"]})})
    >>> G = build_graph(data)
    >>> sorted(G.neighbors("employee:E1")), G.nodes["phone:13812345678"]["label"]
    (['phone:13812345678'], '138****5678')
    >>> G.edges["supplier:S1", "phone:13812345678"]["role"]
    'legal_rep_phone'
    """
    return graph_frames(data, min_share=min_share, include=include).to_networkx()


def frames_from_networkx(G: nx.Graph) -> GraphFrames:
    """The inverse of :meth:`GraphFrames.to_networkx`: lets the detectors run on a graph built or edited by hand.

    Nodes need ``kind`` (an entity or attribute kind); attribute edges need ``role`` (defaults to the attribute
    kind); other edges need ``kind``.  ``entity_id`` defaults to the part of the node name after ``kind:``.
    """
    nodes = pd.DataFrame([{"node": n, **d} for n, d in G.nodes(data=True)])
    if nodes.empty:
        return GraphFrames(pd.DataFrame(columns=NODE_COLUMNS), pd.DataFrame(columns=EDGE_COLUMNS))
    if "label" not in nodes:
        nodes["label"] = nodes.node.astype(str)
    nodes["label"] = nodes.label.fillna(nodes.node.astype(str))
    ent = nodes.kind.isin(ENTITY_KINDS)
    eid = nodes.node.astype(str).str.split(":", n=1).str[-1]
    given = nodes["entity_id"] if "entity_id" in nodes else pd.Series(None, index=nodes.index, dtype=object)
    nodes["entity_id"] = given.where(given.notna(), eid).where(ent, None)
    kind_of = dict(zip(nodes.node, nodes.kind))
    rows = []
    for u, v, d in G.edges(data=True):
        ku, kv = kind_of[u], kind_of[v]
        if ku in ATTRIBUTE_KINDS and kv not in ATTRIBUTE_KINDS:
            u, v, ku, kv = v, u, kv, ku
        elif kv == "employee" and ku != "employee" or (kv == "supplier" and ku == "tender"):
            u, v, ku, kv = v, u, kv, ku
        kind = d.get("kind") or ("attribute" if kv in ATTRIBUTE_KINDS else None)
        rows.append({"source": u, "target": v, **d, "kind": kind, "role": d.get("role", kv if kind == "attribute" else kind)})
    edges = pd.DataFrame(rows, columns=None) if rows else pd.DataFrame(columns=EDGE_COLUMNS)
    if "subkind" not in nodes:
        nodes["subkind"] = None
    ph = nodes.kind.eq("phone") & nodes.subkind.isna()
    nodes.loc[ph, "subkind"] = np.where(is_mobile(nodes.loc[ph, "node"].str.split(":", n=1).str[-1]), "mobile", "landline")
    other = nodes.kind.isin(ATTRIBUTE_KINDS) & nodes.subkind.isna()
    nodes.loc[other, "subkind"] = nodes.loc[other, "kind"]
    return GraphFrames(nodes.reset_index(drop=True), edges.reset_index(drop=True))


def as_frames(obj) -> GraphFrames:
    """Accept a :class:`Dataset`, a :class:`networkx.Graph` or :class:`GraphFrames`."""
    if isinstance(obj, GraphFrames):
        return obj
    if isinstance(obj, Dataset):
        return graph_frames(obj)
    if isinstance(obj, nx.Graph):
        return frames_from_networkx(obj)
    raise TypeError(f"expected a Dataset, a networkx Graph or GraphFrames, got {type(obj).__name__}")


def attribute_table(frames: GraphFrames) -> pd.DataFrame:
    """The attribute edges with what the detectors need: ``source``, ``entity_type``, ``target``, ``attr_kind``,
    ``subkind``, ``role``."""
    e = frames.edges_of("attribute")[["source", "target", "role"]]
    n = frames.nodes.set_index("node")
    out = e.assign(entity_type=e.source.map(n.kind), attr_kind=e.target.map(n.kind),
                   subkind=e.target.map(n.subkind) if "subkind" in n else e.target.map(n.kind))
    out["subkind"] = out.subkind.fillna(out.attr_kind)
    return out.reset_index(drop=True)
