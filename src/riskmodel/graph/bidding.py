"""Co-bidding communities and bid rotation: suppliers that keep bidding together and take turns to win.

Co-bidding graph
    Two suppliers are joined when they bid together in more tenders than chance explains.  Within a tender
    category with ``T`` tenders, if supplier ``u`` bid in ``n_u`` and ``v`` in ``n_v`` of them independently, the
    number of tenders they share is hypergeometric; the edge keeps ``joint`` (tenders together), ``p_value``
    (P[X ≥ joint]) and ``weight`` = −log10 p.  A thin market where every supplier bids in every tender gives
    p ≈ 1 and no edge: meeting there is no evidence.
Communities
    Louvain modularity communities of the co-bidding graph (:func:`~riskmodel.graph.algorithms.louvain`).
Rotation and cover bids
    In the tenders where at least ``min_members`` of a community bid together (its *joint tenders*), a ring
    shows as members winning nearly all of them and the wins spread over the members (rotation), the losing
    members bidding just above the winner (cover bids).
Source: OECD, *Guidelines for Fighting Bid Rigging in Public Procurement* (2009/2021): bid rotation, cover
bidding, the same group of bidders; Imhof, Karagök & Rutz (2018), screening for bid rotation; Wachs & Kertész
(2019), *A network approach to cartel detection in public auction markets*, Sci. Rep. 9, 10818.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from riskmodel.graph.algorithms import louvain
from riskmodel.graph.build import GraphFrames, as_frames


def bids_table(G) -> pd.DataFrame:
    """The bids in a relationship graph: ``supplier`` and ``tender`` (nodes), ``category_id``, ``date``, ``won``,
    ``amount``."""
    f = as_frames(G)
    b = f.edges_of("bids")
    cols = ["supplier", "tender", "category_id", "date", "won", "amount"]
    if b.empty:
        return pd.DataFrame(columns=cols)
    t = f.nodes[f.nodes.kind.eq("tender")].set_index("node")
    out = pd.DataFrame({"supplier": b.source.to_numpy(), "tender": b.target.to_numpy()})
    out["category_id"] = out.tender.map(t["category_id"]) if "category_id" in t else None
    out["category_id"] = out.category_id.fillna("_all")
    out["date"] = out.tender.map(t["date"]) if "date" in t else pd.NaT
    out["won"] = b["won"].fillna(False).astype(bool).to_numpy() if "won" in b else b.role.eq("winner").to_numpy()
    out["amount"] = pd.to_numeric(b["amount"], errors="coerce").to_numpy() if "amount" in b else np.nan
    return out


def cobid_pairs(G, min_joint: int = 3) -> pd.DataFrame:
    """Supplier pairs that bid together in at least ``min_joint`` tenders of one category, with the chance of it.

    Returns
    -------
    DataFrame
        ``u``, ``v`` (supplier nodes, ``u < v``), ``category_id``, ``joint``, ``n_u``, ``n_v``, ``tenders`` (in the
        category), ``p_value``.
    """
    from scipy.stats import hypergeom  # scipy.stats takes a second to import: only when needed

    b = bids_table(G).drop_duplicates(["supplier", "tender"])
    cols = ["u", "v", "category_id", "joint", "n_u", "n_v", "tenders", "p_value"]
    if b.empty:
        return pd.DataFrame(columns=cols)
    T = b.groupby("category_id").tender.nunique().rename("tenders")
    n = b.groupby(["category_id", "supplier"]).size().rename("n")
    s = b[["tender", "category_id", "supplier"]]
    p = s.merge(s, on=["tender", "category_id"], suffixes=("_u", "_v"))
    p = p[p.supplier_u < p.supplier_v]
    j = p.groupby(["category_id", "supplier_u", "supplier_v"]).size().rename("joint").reset_index()
    j = j[j.joint >= min_joint]
    if j.empty:
        return pd.DataFrame(columns=cols)
    j["n_u"] = n.reindex(pd.MultiIndex.from_arrays([j.category_id, j.supplier_u])).to_numpy()
    j["n_v"] = n.reindex(pd.MultiIndex.from_arrays([j.category_id, j.supplier_v])).to_numpy()
    j["tenders"] = j.category_id.map(T).to_numpy()
    j["p_value"] = hypergeom.sf(j.joint - 1, j.tenders, j.n_u, j.n_v)
    return j.rename(columns={"supplier_u": "u", "supplier_v": "v"})[cols].reset_index(drop=True)


def cobid_graph(G, alpha: float = 0.01, min_joint: int = 3) -> nx.Graph:
    """The co-bidding graph: suppliers joined where they bid together more than chance explains.

    Parameters
    ----------
    G : networkx.Graph, Dataset or GraphFrames
        The relationship graph (``bids`` edges and tender nodes with ``category_id``).
    alpha : float, default=0.01
        Largest p-value kept.
    min_joint : int, default=3
        Fewest tenders together.

    Returns
    -------
    networkx.Graph
        Supplier nodes; edge attributes ``joint``, ``p_value``, ``weight`` (−log10 p, capped at 30),
        ``category_id``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> for t in range(12):
    ...     G.add_node(f"tender:T{t}", kind="tender", category_id="C1")
    ...     bidders = ["A", "B", "C"] if t < 6 else [f"X{t}", f"Y{t}"]
    ...     for s in bidders:
    ...         G.add_node(f"supplier:{s}", kind="supplier")
    ...         G.add_edge(f"supplier:{s}", f"tender:T{t}", kind="bids", won=False)
    >>> sorted(cobid_graph(G).edges())
    [('supplier:A', 'supplier:B'), ('supplier:A', 'supplier:C'), ('supplier:B', 'supplier:C')]
    """
    p = cobid_pairs(G, min_joint)
    p = p[p.p_value <= alpha].sort_values("p_value").drop_duplicates(["u", "v"])
    H = nx.Graph()
    H.add_weighted_edges_from(zip(p.u, p.v, np.minimum(-np.log10(p.p_value.clip(lower=1e-300)), 30.0)))
    for u, v, j, pv, c in zip(p.u, p.v, p.joint, p.p_value, p.category_id):
        H.edges[u, v].update(joint=int(j), p_value=float(pv), category_id=c)
    return H


def bid_communities(H: nx.Graph, weight: str = "weight", resolution: float = 1.0, seed: int = 0,
                    min_size: int = 3) -> dict:
    """Louvain communities of a co-bidding graph: ``{supplier node: community number}`` for communities of at
    least ``min_size`` suppliers (numbered from 0, largest first)."""
    comms = [c for c in louvain(H, weight=weight, resolution=resolution, seed=seed) if len(c) >= min_size]
    comms.sort(key=lambda c: (-len(c), min(c)))
    return {n: i for i, c in enumerate(comms) for n in c}


def community_bidding(G, communities: dict, min_members: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How each co-bidding community behaves in its joint tenders.

    Parameters
    ----------
    G : networkx.Graph, Dataset or GraphFrames
        The relationship graph (for the bids).
    communities : dict
        ``{supplier node: community}`` (:func:`bid_communities`).
    min_members : int, default=3
        A joint tender has at least ``min(min_members, community size)`` members bidding.

    Returns
    -------
    communities : DataFrame
        Per community: ``community``, ``members`` (list of supplier ids), ``size``, ``joint_tenders`` (tender ids),
        ``n_joint``, ``member_win_share`` (joint tenders a member won), ``distinct_winners``, ``rotation``
        (distinct member winners / min(size, joint tenders) × member win share), ``cover_gap`` (median over joint
        tenders won by a member of (lowest losing member bid − winning bid) / winning bid).
    members : DataFrame
        Per supplier: ``supplier_id``, ``community``, ``n_joint`` (joint tenders it bid in), ``wins`` (of them),
        ``partners`` (the other members' ids), and the community's ``rotation``, ``cover_gap``, ``size``.
    """
    b = bids_table(G)
    ccols = ["community", "members", "size", "joint_tenders", "n_joint", "member_win_share", "distinct_winners", "rotation", "cover_gap"]
    mcols = ["supplier_id", "community", "n_joint", "wins", "partners", "rotation", "cover_gap", "size", "joint_tenders"]
    if not communities or b.empty:
        return pd.DataFrame(columns=ccols), pd.DataFrame(columns=mcols)
    cm = pd.Series(communities, name="community")
    size = cm.value_counts()
    b = b.assign(community=b.supplier.map(cm))
    inb = b[b.community.notna()]
    cnt = inb.groupby(["tender", "community"]).supplier.nunique().rename("k").reset_index()
    cnt["need"] = np.minimum(min_members, cnt.community.map(size))
    joint = cnt[cnt.k >= cnt.need][["tender", "community"]]
    jb = inb.merge(joint, on=["tender", "community"])
    winners = b[b.won][["tender", "supplier"]].drop_duplicates("tender").rename(columns={"supplier": "winner"})
    jt = joint.merge(winners, on="tender", how="left")
    jt["member_won"] = jt.winner.map(cm).eq(jt.community)
    # cover gap: lowest losing member bid over the winning member bid
    won = jb[jb.won].drop_duplicates("tender")[["tender", "amount"]].rename(columns={"amount": "win_amount"})
    lose = jb[~jb.won].groupby("tender").amount.min().rename("lose_amount").reset_index()
    gaps = won.merge(lose, on="tender")
    gaps["gap"] = (gaps.lose_amount - gaps.win_amount) / gaps.win_amount
    jt = jt.merge(gaps[["tender", "gap"]], on="tender", how="left")
    rows = []
    by_comm = dict(list(jt.groupby("community")))
    for c in sorted(size.index):
        g = by_comm.get(c, jt.iloc[:0])
        members = sorted(cm.index[cm.eq(c)])
        n_joint = len(g)
        share = float(g.member_won.mean()) if n_joint else 0.0
        distinct = g.winner[g.member_won].nunique()
        rotation = distinct / max(min(len(members), n_joint), 1) * share
        rows.append({"community": int(c), "members": [m.split(":", 1)[1] for m in members], "size": len(members),
                     "joint_tenders": sorted(t.split(":", 1)[1] for t in g.tender), "n_joint": n_joint,
                     "member_win_share": share, "distinct_winners": int(distinct), "rotation": float(rotation),
                     "cover_gap": float(g.gap[g.member_won].median()) if g.member_won.any() and g.gap[g.member_won].notna().any() else np.nan})
    comm = pd.DataFrame(rows, columns=ccols)
    per = jb.groupby("supplier").agg(n_joint=("tender", "nunique"), wins=("won", "sum"))
    mem = pd.DataFrame({"supplier": cm.index, "community": cm.to_numpy()}).merge(per, left_on="supplier", right_index=True, how="left")
    mem[["n_joint", "wins"]] = mem[["n_joint", "wins"]].fillna(0).astype(int)
    mem["supplier_id"] = mem.supplier.str.split(":", n=1).str[1]
    mem = mem.merge(comm[["community", "members", "rotation", "cover_gap", "size", "joint_tenders"]], on="community", how="left")
    mem["partners"] = [[m for m in ms if m != s] if isinstance(ms, list) else [] for s, ms in zip(mem.supplier_id, mem.members)]
    mem["joint_tenders"] = [j if isinstance(j, list) else [] for j in mem.joint_tenders]
    mem["rotation"] = mem.rotation.fillna(0.0)
    return comm, mem[mcols].sort_values(["community", "supplier_id"]).reset_index(drop=True)


def bid_rings(G, alpha: float = 0.01, min_joint: int = 3, resolution: float = 1.0, seed: int = 0, min_size: int = 3,
              min_members: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Co-bidding graph → Louvain communities → their behaviour in joint tenders (:func:`community_bidding`)."""
    H = cobid_graph(G, alpha, min_joint)
    return community_bidding(G, bid_communities(H, resolution=resolution, seed=seed, min_size=min_size), min_members)


def rings_as_of(G, ends: tuple, alpha: float = 0.01, min_joint: int = 3, resolution: float = 1.0, seed: int = 0,
                min_size: int = 3, min_members: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`bid_rings` as they could be seen at each of ``ends``: on the tenders dated up to that moment only.

    A ring is found from co-bidding counted over the data; judged as of a quarter, it may count only the tenders
    closed by then (the same firms meeting again next year cannot have marked them this year).  Tenders without a
    date count from the start.

    Returns
    -------
    (communities, members)
        As :func:`bid_rings`, stacked, each row with ``as_of`` (the end it was seen at).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_nodes_from(["supplier:A", "supplier:B", "supplier:C"], kind="supplier")  # suppliers first: bids run supplier → tender
    >>> for k in range(8):  # three firms meet in eight tenders, one a month from January, and take turns
    ...     G.add_node(f"tender:T{k}", kind="tender", category_id="C1", date=pd.Timestamp(f"2024-{k + 1:02d}-15"))
    ...     for i, s in enumerate("ABC"):
    ...         G.add_edge(f"supplier:{s}", f"tender:T{k}", kind="bids", won=(i == k % 3), amount=100.0 + 3 * ((i - k) % 3))
    >>> for k in range(8, 48):  # the category's other tenders, between other firms
    ...     G.add_nodes_from([f"supplier:X{k}", f"supplier:Y{k}"], kind="supplier")
    ...     G.add_node(f"tender:T{k}", kind="tender", category_id="C1", date=pd.Timestamp("2024-01-20"))
    ...     G.add_edge(f"supplier:X{k}", f"tender:T{k}", kind="bids", won=True, amount=100.0)
    ...     G.add_edge(f"supplier:Y{k}", f"tender:T{k}", kind="bids", won=False, amount=110.0)
    >>> _, mem = rings_as_of(G, (pd.Timestamp("2024-03-31"), pd.Timestamp("2024-09-30")))
    >>> mem.groupby("as_of").n_joint.max().tolist()  # March knows 3 joint tenders, September all 8
    [3, 8]
    """
    f = as_frames(G)
    t = f.nodes[f.nodes.kind.eq("tender")]
    dates = pd.to_datetime(t["date"]) if "date" in t else pd.Series(pd.NaT, index=t.index)
    comms, mems = [], []
    for end in ends:
        late = t.node[dates > pd.Timestamp(end)]
        sub = GraphFrames(f.nodes[~f.nodes.node.isin(late)], f.edges[~f.edges.target.isin(late)]) if len(late) else f
        c, m = bid_rings(sub, alpha, min_joint, resolution, seed, min_size, min_members)
        comms.append(c.assign(as_of=pd.Timestamp(end)))
        mems.append(m.assign(as_of=pd.Timestamp(end)))
    return (pd.concat(comms, ignore_index=True) if comms else pd.DataFrame(),
            pd.concat(mems, ignore_index=True) if mems else pd.DataFrame())
