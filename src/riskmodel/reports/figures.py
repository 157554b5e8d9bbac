"""Figure helpers shared by the report notebooks: CJK fonts, heatmaps, trends, bars; light SVG figures for portraits."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

# Figures are built without pyplot: nothing is shown twice in a notebook, nothing leaks between reports,
# and the returned Figure renders once (inline PNG) where the notebook displays it.  matplotlib is imported
# by the functions that draw with it, so that a report drawing only SVG figures never loads it.


def setup_fonts() -> str | None:
    """Make Chinese render in every figure (see :func:`riskmodel.plotting.use_cjk_font`)."""
    from riskmodel.plotting import use_cjk_font

    return use_cjk_font()


def setup_display() -> None:
    """Show tables' text whole in a report: pandas cuts a cell at 50 characters by default, which would clip
    reason codes, verdicts and citations ("报销金额贴近限额（RMB-006）近...").  Every report notebook calls this
    in its first cell (the kernel is the report's own, so the setting reaches nothing else).

    Examples
    --------
    >>> setup_display()
    >>> "..." in pd.DataFrame({"reason": ["中标价高于同类市场均价37%" * 5]})._repr_html_()
    False
    """
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_rows", 500)  # a report's table whole (the screen profile has ~200 rows), not cut at 60


def t(lang: str, zh: str, en: str) -> str:
    """Pick the label for the report's language."""
    return zh if lang == "zh" else en


def heatmap(table: pd.DataFrame, title: str, cbar: str, mark: pd.DataFrame | None = None, figsize=None,
            scale: str = "table", annotate: bool | None = None):
    """A heatmap of ``table`` (rows × columns); cells where ``mark`` is True get a blue frame (abnormal change).

    Parameters
    ----------
    table : DataFrame
        Numbers to draw; the index labels the rows, the columns the columns.
    title, cbar : str
        The title and the colour bar's label (say what the colour shows: with ``scale='row'`` it is a share of the
        row's highest cell, not the value).
    mark : DataFrame of bool, optional
        Cells to frame.
    figsize : (float, float), optional
    scale : {'table', 'row'}, default='table'
        'table': one colour scale for the whole table.  'row': each row on its own scale, the colour being the cell's
        share of its row's highest value (0–1), so that one large row does not wash out the others; a row of zeros
        stays blank.
    annotate : bool, optional
        Write each non-zero value in its cell (default: with ``scale='row'``, where the colour alone no longer tells
        the size).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = heatmap(pd.DataFrame({"1月": [70, 1], "2月": [10, 4]}, index=["甲", "乙"]), "t", "share", scale="row")
    >>> fig.axes[0].images[0].get_array().round(2).tolist()
    [[1.0, 0.14], [0.25, 1.0]]
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    if scale not in ("table", "row"):
        from riskmodel.errors import RiskModelError

        raise RiskModelError(f"heatmap scale must be 'table' or 'row', not {scale!r}")
    setup_fonts()
    values = table.to_numpy(dtype=float)
    shown = values
    if scale == "row":
        peak = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).max(axis=1, initial=0.0, keepdims=True)
        shown = np.divide(values, peak, out=np.zeros_like(values), where=peak > 0)
    h = max(2.5, 0.32 * len(table) + 1.5)
    fig = Figure(figsize=figsize or (min(16, 2 + 0.45 * table.shape[1]), h))
    ax = fig.subplots()
    im = ax.imshow(shown, aspect="auto", cmap="YlOrRd", **({"vmin": 0, "vmax": 1} if scale == "row" else {}))
    ax.set_yticks(range(len(table)), [str(i) for i in table.index])
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=60, ha="right")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.8).set_label(cbar, fontsize=9)
    if annotate if annotate is not None else scale == "row":
        dark = shown > (0.6 * np.nanmax(shown) if shown.size and np.isfinite(shown).any() else np.inf)
        for i, j in zip(*np.nonzero(np.isfinite(values) & (values != 0))):
            v = values[i, j]
            ax.text(j, i, f"{v:,.0f}" if abs(v) >= 10 or v.is_integer() else f"{v:.2g}", ha="center", va="center",
                    fontsize=7, color="white" if dark[i, j] else "#333333")
    if mark is not None:  # framed in a bright blue, visible on the darkest red as on the palest yellow
        for (i, j) in zip(*np.nonzero(mark.reindex(index=table.index, columns=table.columns).fillna(False).to_numpy())):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#1f5fff", lw=2.2))
    fig.tight_layout()
    return fig


#: widest line of a bar label, in ems (about 46 Latin letters or 28 Chinese characters); longer labels wrap
LABEL_EMS = 28.0
#: lines a bar label wraps to at most; the rest is cut with an ellipsis
LABEL_LINES = 3


def wrap_label(label, ems: float = LABEL_EMS, max_lines: int = LABEL_LINES) -> list[str]:
    """Break a label into lines of at most ``ems`` font sizes (Chinese characters break anywhere, English words at
    spaces), at most ``max_lines`` of them, the last cut with an ellipsis: one long feature name must not squeeze
    every bar of a chart to a sliver.

    Examples
    --------
    >>> wrap_label("red-flag severity")
    ['red-flag severity']
    >>> wrap_label("highest conflict-of-interest link score (weighted up where they handle the linked party's business)")
    ['highest conflict-of-interest link score', '(weighted up where they handle the linked', "party's business)"]
    >>> [len(x) for x in wrap_label("利" * 60)]
    [28, 28, 4]
    """
    import re

    tokens = re.findall(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+|\s+", str(label))
    lines, line = [], ""
    for tok in tokens:
        if line and not tok.isspace() and _text_width(line.rstrip() + tok, 1) > ems:
            lines.append(line.rstrip())
            line = ""
        if not (tok.isspace() and not line):
            line += tok
    lines.append(line.rstrip())
    lines = [x for x in lines if x] or [""]
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _text_width(last + "…", 1) > ems:
            last = last[:-1]
        lines = lines[:max_lines - 1] + [last.rstrip() + "…"]
    return lines


def bars(series: pd.Series, title: str, xlabel: str, color="#c0392b"):
    """Horizontal bars of ``series`` (largest on top); long labels wrap (:func:`wrap_label`), so the bars keep their
    width.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    setup_fonts()
    s = series.sort_values()
    labels = ["\n".join(wrap_label(i)) for i in s.index]
    lines = sum(lab.count("\n") + 1 for lab in labels)
    fig = Figure(figsize=(8, max(2.2, 0.35 * len(s) + 0.2 * (lines - len(s)) + 1)))
    ax = fig.subplots()
    ax.barh(range(len(s)), s.to_numpy(), color=color)
    ax.set_yticks(range(len(s)), labels, fontsize=9 if lines > len(s) else None)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    return fig


def trend(frame: pd.DataFrame, x: str, ys: list[str], title: str, ylabel: str, labels: list[str] | None = None):
    from matplotlib.figure import Figure

    setup_fonts()
    fig = Figure(figsize=(8, 3.2))
    ax = fig.subplots()
    for y, lab in zip(ys, labels or ys):
        ax.plot(frame[x], frame[y], marker="o", label=lab)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(ys) > 1:
        ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


# -- SVG figures ------------------------------------------------------------------------------------------------
# A risk portrait draws three small figures.  Drawn as SVG markup they cost milliseconds and need no matplotlib
# (importing it and rasterising text glyph by glyph took most of a portrait's time); the browser draws the text
# with the page's fonts, so Chinese renders wherever the HTML's own Chinese does.

#: CSS font stack of SVG figures: the CJK fonts the set-up installs first, then what Windows and macOS have
SVG_FONTS = ("'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei', 'Microsoft YaHei', "
             "'PingFang SC', SimHei, 'DejaVu Sans', sans-serif")
_DASHES = {"solid": None, "dashed": "6 4", "dotted": "1.5 3"}


class SVGFigure:
    """A figure as SVG markup; a notebook displays it inline (IPython's ``_repr_svg_``).

    Parameters
    ----------
    svg : str
        A complete ``<svg>`` element.
    title : str, default=''
        Shown by ``repr``.

    Examples
    --------
    >>> f = trend_svg(pd.DataFrame({"m": [1, 2, 3], "y": [0.2, 0.5, 0.4]}), "m", ["y"], "风险分趋势", "风险分")
    >>> f._repr_svg_().startswith("<svg") and "风险分趋势" in f.svg
    True
    """

    def __init__(self, svg: str, title: str = ""):
        self.svg = svg
        self.title = title

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<SVGFigure {self.title!r}>"


def _esc(s) -> str:
    return html.escape(str(s), quote=True)


def _text_width(s: str, size: float) -> float:
    """Approximate drawn width of ``s`` at font ``size`` px (CJK characters are square, Latin ones narrower)."""
    return sum(size * (1.0 if ord(ch) >= 0x2E80 else 0.6) for ch in str(s))


def _svg(width: float, height: float, body: list[str], title: str) -> SVGFigure:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{_esc(SVG_FONTS)}" font-size="12">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<text class="title" x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="15">{_esc(title)}</text>')
    return SVGFigure(head + "".join(body) + "</svg>", title)


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi]."""
    if not np.isfinite(lo) or not np.isfinite(hi):
        return [0.0, 1.0]
    if hi <= lo:
        lo, hi = (lo - 1, hi + 1) if lo == 0 else (lo - abs(lo) * 0.1, hi + abs(hi) * 0.1)
    raw = (hi - lo) / n
    mag = 10 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [float(v) for v in np.arange(np.floor(lo / step) * step, hi + step * 0.999, step)]


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1e3 else f"{v:,.0f}"


def trend_svg(frame: pd.DataFrame, x: str, ys: list[str], title: str, ylabel: str, labels: list[str] | None = None,
              xlabel: str = "", xformat: str = "%Y-%m", highlight: tuple | None = None, highlight_label: str = "") -> SVGFigure:
    """Lines of ``ys`` against ``x`` (dates, on a time scale, ticks written with ``xformat``; ``'quarter'`` gives
    ``2025Q3``), a legend when there are several; optionally a shaded band over the ``x`` values ``highlight``.

    Parameters
    ----------
    frame : DataFrame
    x : str
        Column of dates or numbers.
    ys : list of str
        Columns to draw, one line each.
    title, ylabel : str
    labels : list of str, optional
        Legend entries (default: the column names).
    xlabel : str, default=''
    xformat : str, default='%Y-%m'
    highlight : (first, last), optional
        ``x`` values of the first and last point of a range to shade (half a step wider on each side), e.g. the
        period a portrait was asked for, drawn among the periods before it.
    highlight_label : str, default=''
        Written at the top of the band.

    Returns
    -------
    SVGFigure
    """
    colours = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
    W, H, left, right, top, bottom = 800, 320, 72, 24, 40 + 16 * (len(ys) > 1), 64
    d = frame.sort_values(x)
    is_date = pd.api.types.is_datetime64_any_dtype(d[x])
    xv = (d[x].astype("datetime64[s]").astype("int64") / 86400.0 if is_date else d[x].astype(float)).to_numpy()
    vals = d[ys].to_numpy(dtype=float) if len(d) else np.zeros((0, len(ys)))
    finite = vals[np.isfinite(vals)]
    yt = _nice_ticks(float(finite.min()) if finite.size else 0.0, float(finite.max()) if finite.size else 1.0)
    x0, x1 = (float(xv.min()), float(xv.max())) if len(xv) else (0.0, 1.0)
    x0, x1 = (x0 - 1, x1 + 1) if x1 == x0 else (x0, x1)
    pw, ph = W - left - right, H - top - bottom

    def px(v):
        return left + 12 + (v - x0) / (x1 - x0) * (pw - 24)

    def py(v):
        return top + ph - (v - yt[0]) / (yt[-1] - yt[0]) * ph

    body = []
    if highlight is not None and len(xv):
        a, b = (pd.Timestamp(h).timestamp() / 86400.0 if is_date else float(h) for h in highlight)
        steps = np.diff(np.unique(xv))
        half = float(np.median(steps)) / 2 if len(steps) else 0.5
        xa, xb = max(left + 1, px(a - half)), min(left + pw, px(b + half))
        body.append(f'<rect class="highlight" x="{xa:.1f}" y="{top}" width="{max(xb - xa, 2):.1f}" height="{ph}" '
                    f'fill="#fdebd0" stroke="#e67e22" stroke-dasharray="4 3"/>')
        if highlight_label:
            half_w = _text_width(highlight_label, 11) / 2 + 3  # kept inside the plot when the band is narrow
            mid = min(max((xa + xb) / 2, left + half_w), left + pw - half_w)
            body.append(f'<text class="highlight-label" x="{mid:.1f}" y="{top + 14}" text-anchor="middle" '
                        f'fill="#a04000" font-size="11">{_esc(highlight_label)}</text>')
    body += [f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#333"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>']
    for v in yt:
        body.append(f'<line x1="{left}" y1="{py(v):.1f}" x2="{left + pw}" y2="{py(v):.1f}" stroke="#ddd"/>'
                    f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    ticks = sorted(set(xv.tolist()))
    keep = ticks[::max(1, -(-len(ticks) // 16))]
    for v in keep:
        if is_date:
            ts = pd.Timestamp(v * 86400.0, unit="s")
            lab = f"{ts.year}Q{ts.quarter}" if xformat == "quarter" else ts.strftime(xformat)
        else:
            lab = _fmt(v)
        body.append(f'<line x1="{px(v):.1f}" y1="{top + ph}" x2="{px(v):.1f}" y2="{top + ph + 4}" stroke="#333"/>'
                    f'<text x="{px(v):.1f}" y="{top + ph + 16}" text-anchor="end" '
                    f'transform="rotate(-30 {px(v):.1f} {top + ph + 16})">{_esc(lab)}</text>')
    body.append(f'<text x="16" y="{top + ph / 2:.1f}" text-anchor="middle" transform="rotate(-90 16 {top + ph / 2:.1f})">'
                f'{_esc(ylabel)}</text>')
    if xlabel:
        body.append(f'<text x="{left + pw / 2:.1f}" y="{H - 6}" text-anchor="middle">{_esc(xlabel)}</text>')
    for j, (y, lab) in enumerate(zip(ys, labels or ys)):
        c = colours[j % len(colours)]
        pts = [(px(a), py(b)) for a, b in zip(xv, vals[:, j]) if np.isfinite(b)]
        if pts:
            body.append(f'<polyline class="series" fill="none" stroke="{c}" stroke-width="2" '
                        f'points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}"/>')
            body += [f'<circle class="point" cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{c}"/>' for a, b in pts]
        if len(ys) > 1:  # the legend sits above the plot, right-aligned, where it cannot hide a line
            lx = W - right - sum(34 + _text_width(name, 12) + 16 for name in (labels or ys)[j:])
            body.append(f'<line x1="{lx:.1f}" y1="{top - 12}" x2="{lx + 24:.1f}" y2="{top - 12}" stroke="{c}" stroke-width="2"/>'
                        f'<circle cx="{lx + 12:.1f}" cy="{top - 12}" r="3.5" fill="{c}"/>'
                        f'<text class="legend" x="{lx + 30:.1f}" y="{top - 8}">{_esc(lab)}</text>')
    return _svg(W, H, body, title)


def bars_svg(series: pd.Series, title: str, xlabel: str, color: str = "#c0392b") -> SVGFigure:
    """Horizontal bars of ``series`` (largest on top), each labelled with its index and value; long labels wrap
    (:func:`wrap_label`), so the bars keep their width.

    Returns
    -------
    SVGFigure
    """
    s = series.sort_values(ascending=False)
    labels = [wrap_label(i) for i in s.index]
    nlines = max([len(lab) for lab in labels] + [1])
    row, top, bottom, right = max(26, 14 * nlines + 10), 40, 48, 48
    left = 12 + max([_text_width(line, 12) for lab in labels for line in lab] + [40])
    W = max(800, left + 360 + right)
    pw = W - left - right
    H = top + row * max(len(s), 1) + bottom
    vmax = float(s.max()) if len(s) and s.max() > 0 else 1.0
    xt = _nice_ticks(0.0, vmax)
    body = [f'<line x1="{left}" y1="{top}" x2="{left}" y2="{H - bottom}" stroke="#333"/>',
            f'<line x1="{left}" y1="{H - bottom}" x2="{left + pw}" y2="{H - bottom}" stroke="#333"/>']
    for v in xt:
        xx = left + v / xt[-1] * pw
        body.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{H - bottom}" stroke="#eee"/>'
                    f'<text x="{xx:.1f}" y="{H - bottom + 16}" text-anchor="middle">{_fmt(v)}</text>')
    for i, (lab, v) in enumerate(zip(labels, s.to_numpy(dtype=float))):
        y = top + i * row + 4
        w = max(v, 0) / xt[-1] * pw
        y0 = y + row / 2 - 7 * (len(lab) - 1)  # the lines centred on the bar
        text = _esc(lab[0]) if len(lab) == 1 else "".join(f'<tspan x="{left - 6}" y="{y0 + 14 * k:.1f}">{_esc(line)}</tspan>'
                                                           for k, line in enumerate(lab))
        body.append(f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{row - 8}" fill="{color}"/>'
                    f'<text class="label" x="{left - 6}" y="{y0:.1f}" text-anchor="end">{text}</text>'
                    f'<text class="value" x="{left + w + 4:.1f}" y="{y + row / 2}">{_fmt(v)}</text>')
    body.append(f'<text x="{left + pw / 2:.1f}" y="{H - 8}" text-anchor="middle">{_esc(xlabel)}</text>')
    return _svg(W, H, body, title)


def ego_svg(G, node: str, radius: int = 2, max_nodes: int = 60, seed: int = 0, lang: str | None = None,
            max_labels: int = 12) -> SVGFigure:
    """The ego network of ``node`` as :func:`riskmodel.graph.ego_figure` draws it (the same nodes, layout, colours,
    shapes and edge styles), as SVG, with only the main nodes named.

    Sixty names drawn at once cover each other, so labels go, in this order, to the entity itself, the relationship
    part (shared phones, addresses, accounts and the entities holding them, other employees), then its direct links
    and the rest by how connected they are within the figure (at most ``max_labels`` of those); a label is drawn
    only where it covers no label already drawn (on the node, else below or above it).  Every node carries its name
    as a tooltip (``<title>``), and a note says that the other names show on hovering.

    Parameters
    ----------
    G : networkx.Graph
        Node attributes ``kind`` and ``label``, edge attribute ``kind``.
    node : str
        The flagged entity, e.g. ``'employee:E00012'``.
    radius, max_nodes, seed : int
        See :func:`riskmodel.graph.figure.ego_subgraph`; ``seed`` seeds the layout.
    lang : {'zh', 'en'}, optional
        Language of the title, legend and note (default: both).
    max_labels : int, default=12
        Labels beyond the entity and its relationship part.

    Returns
    -------
    SVGFigure

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_node("employee:E1", kind="employee", label="张三")
    >>> G.add_node("supplier:S1", kind="supplier", label="哈尔滨甲公司")
    >>> G.add_node("phone:13812345678", kind="phone", label="138****5678")
    >>> G.add_edges_from([("employee:E1", "phone:13812345678"), ("supplier:S1", "phone:13812345678")], kind="attribute")
    >>> "哈尔滨甲公司" in ego_svg(G, "employee:E1").svg
    True
    """
    import networkx as nx

    from riskmodel.graph.figure import ATTRIBUTE_KINDS, EDGE_STYLES, KIND_COLOURS, KIND_ZH, ego_subgraph

    H = ego_subgraph(G, node, radius, max_nodes)
    pos = nx.spring_layout(H, seed=seed, k=1.2 / max(len(H), 1) ** 0.5)
    W, Ht, pad, top = 1000, 800, 60, 50
    xy = np.array([pos[n] for n in H]) if len(H) else np.zeros((1, 2))
    lo, span = xy.min(axis=0), np.maximum(xy.max(axis=0) - xy.min(axis=0), 1e-9)

    def at(n):
        p = (pos[n] - lo) / span
        return pad + p[0] * (W - 2 * pad), top + pad / 2 + (1 - p[1]) * (Ht - top - 2 * pad)

    def words(zh: str, en: str) -> str:
        return zh if lang == "zh" else en if lang == "en" else f"{zh} / {en}"

    def label_of(n) -> str:
        return str(H.nodes[n].get("label", n))

    body = []
    for kind, (style, colour) in EDGE_STYLES.items():
        dash = f' stroke-dasharray="{_DASHES[style]}"' if _DASHES.get(style) else ""
        for u, v, d in H.edges(data=True):
            if d.get("kind", "attribute") == kind:
                (x1, y1), (x2, y2) = at(u), at(v)
                body.append(f'<line class="edge {kind}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                            f'stroke="{colour}" stroke-width="1.5" stroke-opacity="0.8"{dash}/>')
    kinds = {n: H.nodes[n].get("kind", "") for n in H}
    for kind, colour in KIND_COLOURS.items():
        for n in (m for m in H if kinds[m] == kind):
            x, y = at(n)
            edge = ' stroke="black" stroke-width="2.5"' if n == node else ' stroke="white" stroke-width="2"'
            tip = f"<title>{_esc(label_of(n))}</title>"
            if kind in ATTRIBUTE_KINDS:
                body.append(f'<rect class="node {kind}" x="{x - 8:.1f}" y="{y - 8:.1f}" width="16" height="16" '
                            f'fill="{colour}"{edge}>{tip}</rect>')
            else:
                body.append(f'<circle class="node {kind}" cx="{x:.1f}" cy="{y:.1f}" r="{18 if n == node else 13}" '
                            f'fill="{colour}"{edge}>{tip}</circle>')
    # which nodes to name, most important first: the entity, its relationship part, then by connections in the figure
    attrs = {n for n in H if kinds[n] in ATTRIBUTE_KINDS}
    related = attrs | {m for a in attrs for m in H.neighbors(a)} | {n for n in H if kinds[n] == "employee"}
    direct = set(H.neighbors(node)) if node in H else set()
    order = sorted(H, key=lambda n: (n != node, n not in related, n not in direct, -H.degree(n), -G.degree(n), str(n)))
    placed: list[tuple[float, float, float, float]] = []
    others = 0
    for n in order:
        if n != node and n not in related and others >= max_labels:
            break
        x, y = at(n)
        lab = label_of(n)
        w, r = _text_width(lab, 11), 18 if n == node else 13 if kinds[n] not in ATTRIBUTE_KINDS else 8
        for base in (y + 4, y + r + 12, y - r - 4):  # on the node, below it, above it
            box = (x - w / 2 - 2, base - 10, x + w / 2 + 2, base + 3)
            inside = box[0] >= 0 and box[2] <= W and box[1] >= top and box[3] <= Ht
            if inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                placed.append(box)
                body.append(f'<text class="label" x="{x:.1f}" y="{base:.1f}" text-anchor="middle" font-size="11">'
                            f'{_esc(lab)}</text>')
                others += n != node and n not in related
                break
    if len(placed) < len(H):
        note = words(f"仅标注主要节点（共{len(H)}个，标注{len(placed)}个）；鼠标悬停可见其余名称",
                     f"{len(placed)} of {len(H)} nodes named; hover over a node for its name")
        body.append(f'<text class="note" x="{W - 14}" y="{Ht - 16}" text-anchor="end" font-size="11" fill="#555">{_esc(note)}</text>')
    present = sorted({k for k in kinds.values() if k in KIND_COLOURS}, key=list(KIND_COLOURS).index)
    for i, k in enumerate(present):
        y = Ht - 16 - 18 * (len(present) - 1 - i)
        mark = (f'<rect x="14" y="{y - 6}" width="12" height="12" fill="{KIND_COLOURS[k]}"/>' if k in ATTRIBUTE_KINDS
                else f'<circle cx="20" cy="{y}" r="6" fill="{KIND_COLOURS[k]}"/>')
        body.append(mark + f'<text class="legend" x="32" y="{y + 4}" font-size="11">'
                           f'{_esc(words(KIND_ZH[k], k.replace("_", " ")))}</text>')
    centre = G.nodes[node]
    kind_zh, kind_en = KIND_ZH.get(centre.get("kind", ""), ""), centre.get("kind", "").replace("_", " ")
    name, ident = centre.get("label", node), node.split(":", 1)[-1]
    shown = name if name == ident else f"{name}（{ident}）"
    title = words(f"{kind_zh} {shown} 的关系网络（{radius}跳）",
                  f"Relationships of {kind_en} {name if name == ident else f'{name} ({ident})'} within {radius} hops")
    return _svg(W, Ht, body, title)
