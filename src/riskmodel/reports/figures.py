"""Figure helpers shared by the report notebooks: CJK fonts, heatmaps, trends, bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

# Figures are built without pyplot: nothing is shown twice in a notebook, nothing leaks between reports,
# and the returned Figure renders once (inline PNG) where the notebook displays it.


def setup_fonts() -> str | None:
    """Make Chinese render in every figure (see :func:`riskmodel.plotting.use_cjk_font`)."""
    from riskmodel.plotting import use_cjk_font

    return use_cjk_font()


def t(lang: str, zh: str, en: str) -> str:
    """Pick the label for the report's language."""
    return zh if lang == "zh" else en


def heatmap(table: pd.DataFrame, title: str, cbar: str, mark: pd.DataFrame | None = None, figsize=None):
    """A heatmap of ``table`` (rows × columns); cells where ``mark`` is True get a red frame (abnormal change)."""
    setup_fonts()
    h = max(2.5, 0.32 * len(table) + 1.5)
    fig = Figure(figsize=figsize or (min(16, 2 + 0.45 * table.shape[1]), h))
    ax = fig.subplots()
    im = ax.imshow(table.to_numpy(dtype=float), aspect="auto", cmap="YlOrRd")
    ax.set_yticks(range(len(table)), [str(i) for i in table.index])
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=60, ha="right")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label=cbar, shrink=0.8)
    if mark is not None:
        for (i, j) in zip(*np.nonzero(mark.reindex(index=table.index, columns=table.columns).fillna(False).to_numpy())):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#1f3b99", lw=2))
    fig.tight_layout()
    return fig


def bars(series: pd.Series, title: str, xlabel: str, color="#c0392b"):
    setup_fonts()
    s = series.sort_values()
    fig = Figure(figsize=(8, max(2.2, 0.35 * len(s) + 1)))
    ax = fig.subplots()
    ax.barh([str(i) for i in s.index], s.to_numpy(), color=color)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    return fig


def trend(frame: pd.DataFrame, x: str, ys: list[str], title: str, ylabel: str, labels: list[str] | None = None):
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
