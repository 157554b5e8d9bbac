"""Ego-network figure of a flagged entity: who and what lies within a few hops, with readable Chinese labels."""

from __future__ import annotations

import networkx as nx

#: fill colour per node kind; attribute nodes are drawn small and square
KIND_COLOURS = {"employee": "#d62728", "supplier": "#1f77b4", "grower": "#2ca02c", "tender": "#9467bd",
                "phone": "#ff7f0e", "address": "#8c564b", "bank_account": "#e377c2", "id_number": "#7f7f7f"}
KIND_ZH = {"employee": "员工", "supplier": "供应商", "grower": "烟农", "tender": "招标", "phone": "电话", "address": "地址",
           "bank_account": "银行账户", "id_number": "身份证号"}
EDGE_STYLES = {"attribute": ("dashed", "#555555"), "deals": ("solid", "#1f77b4"), "grades": ("dotted", "#2ca02c"),
               "bids": ("solid", "#9467bd")}
#: node kinds that are shared attributes (drawn as small squares), not entities
ATTRIBUTE_KINDS = ("phone", "address", "bank_account", "id_number")


def ego_subgraph(G: nx.Graph, node, radius: int = 2, max_nodes: int = 60) -> nx.Graph:
    """The nodes within ``radius`` hops of ``node``.  Past ``max_nodes`` the relationship part is kept first (the
    attribute nodes and the entities holding them), then the nearest and best-connected others, so that a grader's
    hundreds of growers do not bury the shared phone."""
    if node not in G:
        raise KeyError(f"{node!r} is not a node of the graph; nodes are named 'kind:id', e.g. 'employee:E00012'")
    dist = nx.single_source_shortest_path_length(G, node, cutoff=radius)
    if len(dist) > max_nodes:
        attrs = {n for n in dist if G.nodes[n].get("kind") in ATTRIBUTE_KINDS}
        holders = {m for a in attrs for m in G.neighbors(a) if m in dist}
        tier = {n: 0 if n == node else 1 if n in attrs else 2 if n in holders else 3 for n in dist}
        order = sorted(dist, key=lambda n: (tier[n], dist[n], -G.degree(n), str(n)))
        keep = set(order[:max_nodes])
    else:
        keep = set(dist)
    return G.subgraph(keep).copy()


def ego_figure(G: nx.Graph, node, radius: int = 2, max_nodes: int = 60, seed: int = 0, ax=None):
    """Draw the ego network of ``node``: entities coloured by kind, attributes as small squares, edge style by kind.

    Parameters
    ----------
    G : networkx.Graph
        A relationship graph (:func:`~riskmodel.graph.build.build_graph`): node attributes ``kind`` and ``label``.
    node : str
        The flagged entity, e.g. ``'employee:E00012'``.
    radius : int, default=2
    max_nodes : int, default=60
        See :func:`ego_subgraph`.
    seed : int, default=0
        Layout seed (the same figure every time).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_node("employee:E1", kind="employee", label="张三")
    >>> G.add_node("supplier:S1", kind="supplier", label="哈尔滨甲公司")
    >>> G.add_node("phone:13812345678", kind="phone", label="138****5678")
    >>> G.add_edges_from([("employee:E1", "phone:13812345678"), ("supplier:S1", "phone:13812345678")], kind="attribute")
    >>> fig = ego_figure(G, "employee:E1")
    >>> sorted(t.get_text() for t in fig.axes[0].texts)[:2]
    ['138****5678', '哈尔滨甲公司']
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from riskmodel.plotting import use_cjk_font  # matplotlib is imported only when a figure is drawn

    use_cjk_font()
    H = ego_subgraph(G, node, radius, max_nodes)
    if ax is None:
        # a bare Figure, not pyplot: a notebook shows the returned figure once, not once more on its own
        fig = Figure(figsize=(10, 8))
        ax = fig.subplots()
    else:
        fig = ax.figure
    pos = nx.spring_layout(H, seed=seed, k=1.2 / max(len(H), 1) ** 0.5)
    for kind, (style, colour) in EDGE_STYLES.items():
        es = [(u, v) for u, v, d in H.edges(data=True) if d.get("kind", "attribute") == kind]
        if es:
            nx.draw_networkx_edges(H, pos, edgelist=es, style=style, edge_color=colour, width=1.2, alpha=0.8, ax=ax)
    kinds = {n: H.nodes[n].get("kind", "") for n in H}
    for kind, colour in KIND_COLOURS.items():
        ns = [n for n in H if kinds[n] == kind]
        if not ns:
            continue
        is_attr = kind in ATTRIBUTE_KINDS
        nx.draw_networkx_nodes(H, pos, nodelist=ns, node_color=colour, node_shape="s" if is_attr else "o",
                               node_size=[160 if is_attr else (700 if n == node else 380) for n in ns],
                               edgecolors=["black" if n == node else "white" for n in ns], linewidths=2, ax=ax)
    labels = {n: str(H.nodes[n].get("label", n)) for n in H}
    nx.draw_networkx_labels(H, pos, labels=labels, font_size=8, ax=ax)
    present = sorted({k for k in kinds.values() if k in KIND_COLOURS}, key=list(KIND_COLOURS).index)
    handles = [Line2D([], [], marker="s" if k in ATTRIBUTE_KINDS else "o", linestyle="",
                      color=KIND_COLOURS[k], label=f"{KIND_ZH[k]} {k}") for k in present]
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    centre = G.nodes[node]
    ax.set_title(f"{KIND_ZH.get(centre.get('kind', ''), '')} {centre.get('label', node)} 的关系网络（{radius}跳）/ "
                 f"ego network of {node}, radius {radius}", fontsize=11)
    ax.set_axis_off()
    fig.tight_layout()
    return fig
