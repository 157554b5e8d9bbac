"""Links through shared attributes: who shares a phone, an address, an account or an ID with whom, within k hops.

Evidence weighting
    A shared attribute is strong evidence when few entities hold it: the weight of a link through attribute
    ``a`` held by ``n`` entities is ``kind_weight / (n - 1)`` (inverse frequency: one phone shared by two people
    counts fully; a business park's switchboard shared by four companies counts a third of a landline's weight),
    and attributes held by more than ``max_share`` entities link nobody.  Kind weights say how personal an
    attribute is: an ID number, a bank account or a mobile number belong to one person; a home address to a
    household; a landline often to an office.  Several attributes shared by one pair combine as independent
    evidence (``1 - Π(1 - w)``); a path of several links multiplies its links' strengths and ``hop_decay`` per
    extra hop.
Node kinds
    Employee–employee links (spouses sharing a home) are not conflicts: they only serve as steps of a path
    (an employee whose spouse shares a phone with a supplier).  Whether the linked employee actually handled the
    counterparty's business comes from the ``deals`` and ``grades`` edges (:func:`conflict_links`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskmodel.graph.build import DECIDING_ROLES, GraphFrames, as_frames, attribute_table

#: how personal an attribute is (subkind: ``mobile`` / ``landline`` for phones, else the attribute kind)
KIND_WEIGHTS = {"id_number": 1.0, "bank_account": 1.0, "mobile": 1.0, "landline": 0.3, "address": 0.6}
MAX_SHARE = 20
#: the link strength from which deciding on a linked party's business is a red flag (REL-002's default threshold)
DEALING_MIN_STRENGTH = 0.25

KIND_ZH = {"employee": "员工", "supplier": "供应商", "grower": "烟农", "tender": "招标"}
ATTR_TEXT = {"phone": ("电话", "phone"), "address": ("地址", "address"), "bank_account": ("银行账户", "bank account"),
             "id_number": ("身份证号", "ID number")}
ROLE_TEXT = {
    "phone": ("电话", "phone"), "home_address": ("住址", "home address"), "salary_account": ("工资账户", "salary account"),
    "id_number": ("身份证号", "ID number"), "company_phone": ("联系电话", "company phone"),
    "registered_address": ("注册地址", "registered address"), "company_account": ("对公账户", "company account"),
    "legal_rep_phone": ("法定代表人电话", "legal representative's phone"),
    "legal_rep_id_number": ("法定代表人身份证号", "legal representative's ID number"),
    "paid_into_account": ("收款账户", "account paid into"), "address": ("地址", "address"), "bank_account": ("银行账户", "bank account"),
}
ROLE_DEAL_TEXT = {"requester": ("申请人", "requester"), "approver": ("审批人", "approver"), "buyer": ("采购经办人", "buyer"),
                  "receiver": ("收货人", "receiver"), "payer": ("付款出纳", "payer"), "grader": ("定级员", "grader")}


def _role(r: str, lang: int) -> str:
    return ROLE_TEXT.get(r, (r, r))[lang]


def shared_attribute_pairs(G, kind_weights: Mapping[str, float] | None = None, max_share: int = MAX_SHARE) -> pd.DataFrame:
    """Every ordered pair of entities holding one attribute, with the link's evidence weight.

    Parameters
    ----------
    G : networkx.Graph, Dataset or GraphFrames
        The relationship graph (attribute edges are used).
    kind_weights : mapping, optional
        Weight per attribute subkind (default :data:`KIND_WEIGHTS`).
    max_share : int, default=20
        Attributes held by more entities link nobody.

    Returns
    -------
    DataFrame
        ``u``, ``v`` (entity nodes, both orders), ``attribute`` (node), ``attr_kind``, ``subkind``, ``role_u``,
        ``role_v``, ``share`` (entities holding it), ``weight`` = kind weight / (share − 1).
    """
    w = {**KIND_WEIGHTS, **(kind_weights or {})}
    a = attribute_table(as_frames(G))
    a = a.drop_duplicates(["source", "target"])
    a["share"] = a.groupby("target").source.transform("size")
    a = a[(a.share >= 2) & (a.share <= max_share)]
    p = a.merge(a[["target", "source", "role"]], on="target", suffixes=("_u", "_v"))
    p = p[p.source_u != p.source_v]
    p = p.rename(columns={"source_u": "u", "source_v": "v", "target": "attribute"})
    p["weight"] = p.subkind.map(w).fillna(0.0).astype(float) / (p.share - 1)
    return p[["u", "v", "attribute", "attr_kind", "subkind", "role_u", "role_v", "share", "weight"]].reset_index(drop=True)


def attribute_links(G, kind_weights: Mapping[str, float] | None = None, max_share: int = MAX_SHARE,
                    pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per ordered pair of linked entities: ``u``, ``v``, ``strength`` (1 − Π(1 − weight) over the
    attributes they share), ``n_shared``, ``attribute`` (the strongest shared attribute node; every one is in
    :func:`shared_attribute_pairs`).  ``pairs``: :func:`shared_attribute_pairs` already computed."""
    p = shared_attribute_pairs(G, kind_weights, max_share) if pairs is None else pairs
    p = p.sort_values("weight", ascending=False)
    if p.empty:
        return pd.DataFrame(columns=["u", "v", "strength", "n_shared", "attribute"])
    with np.errstate(divide="ignore"):
        p["log_miss"] = np.log1p(-p.weight.clip(0, 1))
    g = p.groupby(["u", "v"], sort=False)
    out = g.agg(log_miss=("log_miss", "sum"), n_shared=("attribute", "size"), attribute=("attribute", "first")).reset_index()
    out["strength"] = 1 - np.exp(out.pop("log_miss"))
    return out[["u", "v", "strength", "n_shared", "attribute"]]


def attribute_paths(G, sources: tuple[str, ...] = ("employee",), targets: tuple[str, ...] = ("supplier", "grower"),
                    max_hops: int = 2, hop_decay: float = 0.5, min_strength: float = 0.05,
                    kind_weights: Mapping[str, float] | None = None, max_share: int = MAX_SHARE) -> pd.DataFrame:
    """The strongest path of shared-attribute links from each source entity to each target entity, within k hops.

    Parameters
    ----------
    G : networkx.Graph, Dataset or GraphFrames
    sources, targets : tuple of str
        Node kinds where paths start and end.
    max_hops : int, default=2
        Entity-to-entity links on a path (1: they share an attribute themselves; 2: through one other entity).
    hop_decay : float, default=0.5
        Factor per hop beyond the first.
    min_strength : float, default=0.05
        Paths weaker than this are not followed.

    Returns
    -------
    DataFrame
        ``source``, ``target`` (nodes), ``hops``, ``strength``, ``nodes`` (the entities on the path),
        ``explanation_zh``, ``explanation_en`` (node → attribute → node, with masked attribute values), sorted by
        strength.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_node("employee:E1", kind="employee", label="张三")
    >>> G.add_node("supplier:S1", kind="supplier", label="甲公司")
    >>> G.add_node("phone:13812345678", kind="phone", label="138****5678")
    >>> G.add_edge("employee:E1", "phone:13812345678", kind="attribute", role="phone")
    >>> G.add_edge("supplier:S1", "phone:13812345678", kind="attribute", role="legal_rep_phone")
    >>> p = attribute_paths(G)
    >>> p[["source", "target", "hops", "strength"]].values.tolist()
    [['employee:E1', 'supplier:S1', 1, 1.0]]
    >>> p.explanation_zh[0]
    '员工 张三(E1) —[电话 138****5678：电话=法定代表人电话]— 供应商 甲公司(S1)'
    """
    frames = as_frames(G)
    pairs = shared_attribute_pairs(frames, kind_weights, max_share)
    links = attribute_links(frames, pairs=pairs)
    cols = ["source", "target", "hops", "strength", "nodes", "explanation_zh", "explanation_en"]
    if links.empty:
        return pd.DataFrame(columns=cols)
    linked = pd.unique(pd.concat([links.u, links.v]))
    kind = frames.nodes.loc[frames.nodes.node.isin(linked), ["node", "kind"]].set_index("node").kind
    links["u_kind"], links["v_kind"] = links.u.map(kind), links.v.map(kind)
    step = links[["u", "v", "strength"]]
    frontier = links.loc[links.u_kind.isin(sources), ["u", "v", "strength"]].rename(columns={"u": "source", "v": "end"})
    frontier["nodes"] = [[a, b] for a, b in zip(frontier.source, frontier.end)]
    frontier["hops"] = 1
    found = [frontier]
    for hop in range(2, max_hops + 1):
        ext = frontier.merge(step.rename(columns={"u": "end", "v": "next", "strength": "s"}), on="end")
        ext = ext[[n not in ns for n, ns in zip(ext["next"], ext["nodes"])]]
        ext["strength"] = ext.strength * ext.s * hop_decay
        ext = ext[ext.strength >= min_strength]
        if ext.empty:
            break
        frontier = pd.DataFrame({"source": ext.source.to_numpy(), "end": ext["next"].to_numpy(), "strength": ext.strength.to_numpy(),
                                 "nodes": [ns + [n] for ns, n in zip(ext["nodes"], ext["next"])], "hops": hop})
        # keep only the best path to each node per source before going further (bounds the frontier)
        frontier = frontier.sort_values("strength", ascending=False).drop_duplicates(["source", "end"])
        found.append(frontier)
    paths = pd.concat(found, ignore_index=True).rename(columns={"end": "target"})
    paths = paths[paths.target.map(kind).isin(targets) & (paths.source != paths.target)]
    paths = paths.sort_values(["strength", "hops"], ascending=[False, True]).drop_duplicates(["source", "target"])
    paths = paths.reset_index(drop=True)
    paths["explanation_zh"], paths["explanation_en"] = _explain(paths.nodes, pairs, frames)
    return paths[cols]


def _explain(node_lists: pd.Series, pairs: pd.DataFrame, frames: GraphFrames) -> tuple[list[str], list[str]]:
    """Path texts, one per path: each linked pair's shared attributes are written once, strongest first."""
    on_path = set().union(*map(set, node_lists)) if len(node_lists) else set()
    pairs = pairs[pairs.u.isin(on_path) & pairs.v.isin(on_path)].drop_duplicates(["u", "v", "attribute"])
    nodes = frames.nodes[frames.nodes.node.isin(on_path | set(pairs.attribute))].set_index("node")
    label = dict(zip(nodes.index, nodes.label.astype(str)))
    kind = dict(zip(nodes.index, nodes.kind))
    via: dict[tuple[str, str], tuple[str, str]] = {}
    if len(pairs):
        p = pairs.sort_values("weight", ascending=False, kind="stable")
        rows = list(zip(p.attr_kind, (label.get(t, t) for t in p.attribute), p.role_u, p.role_v))
        p = p.assign(zh=[f"{ATTR_TEXT[a][0]} {lb}：{_role(ru, 0)}={_role(rv, 0)}" for a, lb, ru, rv in rows],
                     en=[f"{ATTR_TEXT[a][1]} {lb} ({_role(ru, 1)} / {_role(rv, 1)})" for a, lb, ru, rv in rows])
        g = p.groupby(["u", "v"], sort=False)
        texts = pd.DataFrame({"zh": g.zh.agg("；".join), "en": g.en.agg("; ".join)})
        via = dict(zip(texts.index, zip(texts.zh, texts.en)))

    def ent(n: str, lang: int) -> str:
        k, eid = kind.get(n, ""), n.split(":", 1)[-1]
        return f"{KIND_ZH.get(k, k)} {label.get(n, eid)}({eid})" if lang == 0 else f"{k} {label.get(n, eid)} ({eid})"

    def shared(u: str, v: str, lang: int) -> str:
        t = via.get((u, v))
        return "" if t is None else t[lang]

    zh, en = [], []
    for ns in node_lists:
        z = ent(ns[0], 0)
        e = ent(ns[0], 1)
        for i, (u, v) in enumerate(zip(ns[:-1], ns[1:])):
            z += f" —[{shared(u, v, 0)}]— {ent(v, 0)}"
            e += f"{', who' if i else ''} shares {shared(u, v, 1)} with {ent(v, 1)}"
        zh.append(z)
        en.append(e)
    return zh, en


def _date(x) -> pd.Timestamp:
    """A date, NaT for a missing one (None, NaN, a masked NULL from a list column)."""
    return pd.to_datetime(x, errors="coerce") if isinstance(x, (str, pd.Timestamp, np.datetime64)) or hasattr(x, "year") else pd.NaT


def dealings(G, pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Who handled whose business, from the ``deals`` (employee–supplier) and ``grades`` (grader–grower) edges.

    ``pairs`` (``source``, ``target`` node columns) limits the answer to those pairs.

    Returns
    -------
    DataFrame
        ``employee`` and ``counterparty`` (nodes), ``roles`` (list), ``count``, ``amount``, ``first``, ``last``,
        ``evidence`` (document ids where the graph has them), ``role_first`` (the first date in each role, same
        order as ``roles``; ``first`` for every role where the graph does not have it).
    """
    f = as_frames(G)
    e = f.edges_of("deals", "grades")
    if pairs is not None:
        e = e.merge(pairs[["source", "target"]].drop_duplicates(), on=["source", "target"])
    e = e.copy()
    cols = ["employee", "counterparty", "roles", "count", "amount", "first", "last", "evidence", "role_first"]
    if e.empty:
        return pd.DataFrame(columns=cols)
    e = e.rename(columns={"source": "employee", "target": "counterparty"})
    if "roles" not in e:
        e["roles"] = None
    e["roles"] = [list(r) if isinstance(r, (list, tuple, np.ndarray)) else (str(s).split(",") if isinstance(s, str) else [])
                  for r, s in zip(e.roles, e.role)]
    for c in ("count", "amount", "first", "last", "evidence"):
        if c not in e:
            e[c] = None
    e["count"] = pd.to_numeric(e["count"], errors="coerce").fillna(1)
    e["evidence"] = [list(v) if isinstance(v, (list, tuple, np.ndarray)) else [] for v in e.evidence]
    rf = e["role_first"] if "role_first" in e else pd.Series(None, index=e.index, dtype=object)
    e["role_first"] = [[_date(x) for x in f] if isinstance(f, (list, tuple, np.ndarray)) and len(f) == len(r)
                       else [_date(d)] * len(r) for f, r, d in zip(rf, e.roles, e["first"])]
    return e[cols].reset_index(drop=True)


def conflict_links(G, max_hops: int = 2, hop_decay: float = 0.5, kind_weights: Mapping[str, float] | None = None,
                   max_share: int = MAX_SHARE, min_strength: float = 0.05, deciding_roles: tuple[str, ...] = DECIDING_ROLES,
                   deal_bonus: float = 1.0) -> pd.DataFrame:
    """Employees linked to a supplier or grower through shared attributes, ranked; dealing with it ranks first.

    Parameters
    ----------
    G : networkx.Graph, Dataset or GraphFrames
    max_hops, hop_decay, kind_weights, max_share, min_strength
        See :func:`attribute_paths`.
    deciding_roles : tuple of str
        Roles that make the link the strongest signal (the employee requested, approved, bought or graded).
    deal_bonus : float, default=1.0
        ``score = strength × (1 + deal_bonus)`` where the employee holds a deciding role, else ``strength``.

    Returns
    -------
    DataFrame
        ``employee_id``, ``counterparty_type``, ``counterparty_id``, ``hops``, ``strength``, ``deals`` (bool: a
        deciding role), ``roles``, ``n_dealings``, ``first``, ``last``, ``first_decided`` (the first dealing in a
        deciding role: from then on the link is a decision on a related party's business), ``evidence``,
        ``score``, ``nodes``, ``explanation_zh``, ``explanation_en``; sorted by ``score``.  Employee–employee
        links never appear.
    """
    frames = as_frames(G)
    p = attribute_paths(frames, ("employee",), ("supplier", "grower"), max_hops, hop_decay, min_strength, kind_weights, max_share)
    d = dealings(frames, pairs=p).rename(columns={"employee": "source", "counterparty": "target", "count": "n_dealings"})
    m = p.merge(d, on=["source", "target"], how="left")
    m["roles"] = [r if isinstance(r, list) else [] for r in m.roles]
    m["evidence"] = [r if isinstance(r, list) else [] for r in m.evidence]
    m["n_dealings"] = m.n_dealings.fillna(0).astype(int)
    m["deals"] = [bool(set(r) & set(deciding_roles)) for r in m.roles]
    m["first_decided"] = pd.to_datetime(pd.Series(
        [min((f for r, f in zip(rs, fs) if r in deciding_roles and pd.notna(f)), default=pd.NaT)
         for rs, fs in zip(m.roles, m.role_first.map(lambda f: f if isinstance(f, list) else []))], index=m.index, dtype=object))
    m["score"] = m.strength * (1 + deal_bonus * m.deals)
    m["employee_id"] = m.source.str.split(":", n=1).str[1]
    m["counterparty_type"] = m.target.str.split(":", n=1).str[0]
    m["counterparty_id"] = m.target.str.split(":", n=1).str[1]
    m["roles_zh"] = ["、".join(ROLE_DEAL_TEXT.get(r, (r, r))[0] for r in rs) for rs in m.roles]
    m["roles_en"] = [", ".join(ROLE_DEAL_TEXT.get(r, (r, r))[1] for r in rs) for rs in m.roles]
    m = m.sort_values(["score", "hops"], ascending=[False, True]).reset_index(drop=True)
    return m[["employee_id", "counterparty_type", "counterparty_id", "hops", "strength", "deals", "roles", "roles_zh", "roles_en",
              "n_dealings", "first", "last", "first_decided", "evidence", "score", "nodes", "explanation_zh", "explanation_en"]]


def related_bidders(G, max_hops: int = 2, hop_decay: float = 0.5, kind_weights: Mapping[str, float] | None = None,
                    max_share: int = MAX_SHARE) -> pd.DataFrame:
    """Pairs of suppliers bidding in the same tender while linked through shared attributes.

    Returns
    -------
    DataFrame
        ``tender_id``, ``supplier_a``, ``supplier_b`` (ids), ``strength``, ``hops``, ``explanation_zh``,
        ``explanation_en``; one row per tender and linked pair, strongest first.
    """
    frames = as_frames(G)
    p = attribute_paths(frames, ("supplier",), ("supplier",), max_hops, hop_decay, 0.05, kind_weights, max_share)
    cols = ["tender_id", "supplier_a", "supplier_b", "strength", "hops", "explanation_zh", "explanation_en"]
    b = frames.edges_of("bids")[["source", "target"]]
    if p.empty or b.empty:
        return pd.DataFrame(columns=cols)
    p = p[p.source < p.target]
    m = p.merge(b.rename(columns={"source": "source", "target": "tender"}), on="source")
    m = m.merge(b.rename(columns={"source": "target", "target": "tender"}), on=["target", "tender"])
    m["tender_id"] = m.tender.str.split(":", n=1).str[1]
    m["supplier_a"] = m.source.str.split(":", n=1).str[1]
    m["supplier_b"] = m.target.str.split(":", n=1).str[1]
    return m.sort_values("strength", ascending=False)[cols].reset_index(drop=True)
