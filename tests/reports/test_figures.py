"""Report figures: long labels keep the bars readable, the ego network names only what stays legible, and a
trend marks the range a report was asked for."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import networkx as nx
import pandas as pd
import pytest

from riskmodel.reports.figures import LABEL_EMS, _text_width, bars, bars_svg, ego_svg, trend_svg, wrap_label

SVG = "{http://www.w3.org/2000/svg}"
LONG = "highest conflict-of-interest link score (weighted up where they handle the linked party's business)"


def _of_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def _importance() -> pd.Series:
    """The evaluation report's global importance: one long English feature name among short ones."""
    return pd.Series({"red-flag severity (in the last four quarters)": 0.9, "red flags fired": 0.3, LONG: 0.1,
                      "years in the current post": 0.08, "PageRank in the dealings network": 0.05})


def test_long_labels_wrap_to_lines_of_bounded_width():
    assert wrap_label("red-flag severity") == ["red-flag severity"]
    lines = wrap_label(LONG)
    assert len(lines) > 1 and " ".join(lines) == LONG, "wrapped at spaces, nothing lost"
    assert all(_text_width(x, 1) <= LABEL_EMS for x in lines)
    cut = wrap_label("夜间收购" * 40)
    assert len(cut) == 3 and cut[-1].endswith("…") and all(_text_width(x, 1) <= LABEL_EMS for x in cut)


def test_one_long_label_does_not_squeeze_the_matplotlib_bars():
    fig = bars(_importance(), "Global importance (mean |SHAP|)", "mean |SHAP|")
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_position().width >= 0.45, "the bars keep about half the figure's width"
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert any("\n" in x for x in shown) and [x.replace("\n", " ") for x in shown][::-1] == list(_importance().index)


def test_one_long_label_does_not_squeeze_the_svg_bars():
    root = ET.fromstring(bars_svg(_importance(), "Global importance", "mean |SHAP|").svg)
    width = float(root.get("width"))
    widest = max(float(b.get("width")) for b in _of_class(root, "bar"))
    assert width <= 800 and widest >= 0.45 * width, "the largest bar spans about half the figure"
    texts = [" ".join(lab.itertext()) for lab in _of_class(root, "label")]
    assert texts == list(_importance().sort_values(ascending=False).index), "wrapped lines read back as the label"


def test_trend_marks_the_chosen_range():
    d = pd.DataFrame({"m": pd.date_range("2025-01-01", periods=6, freq="MS"), "y": [0, 2, 0, 0, 5, 1]})
    root = ET.fromstring(trend_svg(d, "m", ["y"], "t", "y", highlight=(d.m[3], d.m[5]), highlight_label="所选期间").svg)
    band = _of_class(root, "highlight")[0]
    xs = sorted(float(c.get("cx")) for c in _of_class(root, "point"))
    x0, x1 = float(band.get("x")), float(band.get("x")) + float(band.get("width"))
    assert x0 < xs[3] and xs[5] <= x1 and x0 > xs[2], "the band covers the chosen months and no earlier one"
    assert _of_class(root, "highlight-label")[0].text == "所选期间"
    assert not _of_class(ET.fromstring(trend_svg(d, "m", ["y"], "t", "y").svg), "highlight")


@pytest.fixture
def busy_graph() -> nx.Graph:
    """A station manager dealing with 60 suppliers with long names, one of them sharing the manager's phone."""
    G = nx.Graph()
    G.add_node("employee:E1", kind="employee", label="沈斌")
    G.add_node("phone:1", kind="phone", label="045****7904")
    for i in range(60):
        G.add_node(f"supplier:S{i}", kind="supplier", label=f"哈尔滨第{i}号包装材料有限公司")
        G.add_edge("employee:E1", f"supplier:S{i}", kind="deals")
    G.add_edges_from([("employee:E1", "phone:1"), ("supplier:S7", "phone:1")], kind="attribute")
    return G


def test_ego_network_labels_do_not_overlap(busy_graph):
    root = ET.fromstring(ego_svg(busy_graph, "employee:E1", lang="zh").svg)
    boxes = []
    for lab in _of_class(root, "label"):
        x, y, w = float(lab.get("x")), float(lab.get("y")), _text_width(lab.text, 11)
        boxes.append((x - w / 2, y - 10, x + w / 2, y + 3, lab.text))
    overlaps = [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    assert not overlaps, overlaps[:3]
    named = {b[4] for b in boxes}
    assert {"沈斌", "045****7904", "哈尔滨第7号包装材料有限公司"} <= named, "the person and the shared phone's holder"
    assert len(named) < 40, "not every supplier of sixty"
    nodes = _of_class(root, "node")
    assert len(nodes) == 60 and all(n.find(f"{SVG}title") is not None for n in nodes), "every node named in a tooltip"
    assert "鼠标悬停" in _of_class(root, "note")[0].text
    assert [t.text for t in _of_class(root, "legend")] == ["员工", "供应商", "电话"], "no raw codes in a Chinese figure"
    en = ET.fromstring(ego_svg(busy_graph, "employee:E1", lang="en").svg)
    assert [t.text for t in _of_class(en, "legend")] == ["employee", "supplier", "phone"]
    assert "(E1)" in _of_class(en, "title")[0].text


def test_a_small_ego_network_names_every_node():
    G = nx.Graph()
    G.add_node("employee:E1", kind="employee", label="张三")
    G.add_node("supplier:S1", kind="supplier", label="哈尔滨甲公司")
    G.add_node("phone:1", kind="phone", label="138****5678")
    G.add_edges_from([("employee:E1", "phone:1"), ("supplier:S1", "phone:1")], kind="attribute")
    root = ET.fromstring(ego_svg(G, "employee:E1").svg)
    assert {t.text for t in _of_class(root, "label")} == {"138****5678", "张三", "哈尔滨甲公司"}
    assert not _of_class(root, "note")
