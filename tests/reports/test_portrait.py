"""Risk portraits: every element for every entity kind and both languages, computed with less work than the whole
run (one entity's flags, one person's integrity profile, the catalogue's titles without its code, the ego network
from the columns it draws) and giving the same answers as the full computation."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from riskmodel.reports import portrait as P
from riskmodel.reports.figures import SVGFigure, bars_svg, trend_svg
from riskmodel.reports.rundata import RunData

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def full(small_run):
    """A RunData with every flag loaded: the reference the filtered reads must equal."""
    run = RunData(small_run)
    _ = run.flags
    return run


@pytest.fixture(scope="module")
def entities(full):
    a = full.alerts[full.alerts.entity_type == "employee"].sort_values("rank")
    fired = full.flags[full.flags.fired.astype(bool)]
    return {"employee": a.entity_id.iloc[0], "department": a.department_id.iloc[0], "post": a.position_id.iloc[0],
            "station": fired.station_id.dropna().value_counts().index[0], "business_type": fired.family.value_counts().index[0],
            "period": str(fired.month.max().to_period("Q"))}


def _svg(fig) -> ET.Element:
    assert isinstance(fig, SVGFigure)
    return ET.fromstring(fig._repr_svg_())


def _of_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def _comparable(f: pd.DataFrame) -> pd.DataFrame:
    f = f.assign(evidence=f.evidence.map(lambda e: tuple(e) if e is not None else None))
    return f.sort_values(["indicator_id", "entity_type", "entity_id", "period"]).reset_index(drop=True)


@pytest.mark.parametrize("column", ["employee_id", "department_id", "position_id", "station_id", "family"])
def test_one_entitys_fired_flags_equal_filtering_every_flag(small_run, full, column):
    fired = full.flags[full.flags.fired.astype(bool)]
    value = fired[column].dropna().value_counts().index[0]
    lean = RunData(small_run)
    got = lean.fired_flags(column, value)
    assert "flags" not in lean.__dict__, "the whole flags file was not loaded"
    want = fired[fired[column] == value]
    assert len(got) == len(want) > 0
    pd.testing.assert_frame_equal(_comparable(got)[list(want.columns)], _comparable(want), check_dtype=False)
    assert lean.fired_flags(column, "no such id").empty
    with pytest.raises(Exception, match="flags can be selected by"):
        lean.fired_flags("text_zh", "x")


def test_peer_reads_equal_the_whole_tables(small_run, full, entities):
    lean = RunData(small_run)
    for e in (entities["employee"], full.scores.entity_id.iloc[-1]):
        sc, X = full.scores, full.features
        want = sc[sc.position_id.isin(sc.position_id[sc.entity_id == e])]
        pd.testing.assert_frame_equal(lean.post_scores(e).sort_values(["entity_id", "period"]).reset_index(drop=True),
                                      want.sort_values(["entity_id", "period"]).reset_index(drop=True), check_dtype=False)
        last = X[X.entity_id == e].sort_values("period").iloc[-1]
        want = X[(X.period == last.period) & (X.position_id == last.position_id)]
        assert sorted(lean.post_features(e).entity_id) == sorted(want.entity_id) and e in set(want.entity_id)
    assert "scores" not in lean.__dict__ and "features" not in lean.__dict__


def test_titles_come_from_the_catalogue_without_importing_its_code():
    from riskmodel.indicators.registry import all_indicators, titles

    assert titles() == {i: (c.title_zh, c.title_en) for i, c in all_indicators().items()}
    assert titles(["PRC-002", "not-an-id"]) == {"PRC-002": (all_indicators()["PRC-002"].title_zh, all_indicators()["PRC-002"].title_en)}
    code = ("import sys\nfrom riskmodel.indicators.registry import FAMILY_MODULES, titles\n"
            "t = titles(['PRC-001', 'LEAF-002', 'REL-001', 'HR-001'])\n"
            "assert len(t) == 4, t\n"
            "loaded = [m for m in FAMILY_MODULES if m in sys.modules]\n"
            "assert not loaded and 'pandas' not in sys.modules, loaded\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_one_persons_integrity_profile_equals_everyones(small_run, small_company, tmp_path):
    from riskmodel.data.dataset import Dataset
    from riskmodel.linkage.profiles import integrity_profiles, set_tier

    ds = Dataset.from_dir(small_company)
    ledger = tmp_path / "ledger.jsonl"
    everyone = integrity_profiles(ds, small_run, None)
    someone = everyone[everyone.suggested_tier != "green"].employee_id.iloc[0]
    set_tier(ledger, someone, "red", "预警经复核确认，需加强监督", actor="王科长")
    everyone = integrity_profiles(ds, small_run, ledger)
    # one of each suggested tier, of each rule that fired, the recorded red, and someone green
    picks = {someone} | set(everyone.groupby("suggested_tier").employee_id.first())
    picks |= {everyone[everyone.rules.map(lambda r, k=k: k in r)].employee_id.iloc[0] for k in set(everyone.rules.sum())}
    assert {"Y5", "Y3"} <= set(everyone.rules.sum()), "the fixture exercises the company-wide and the alert rules"
    for e in sorted(picks):
        one = integrity_profiles(ds, small_run, ledger, employees=[e])
        pd.testing.assert_frame_equal(one, everyone[everyone.employee_id == e].reset_index(drop=True))
    some = sorted(everyone.employee_id.sample(25, random_state=0))
    pd.testing.assert_frame_equal(integrity_profiles(ds, small_run, ledger, employees=some),
                                  everyone[everyone.employee_id.isin(some)].reset_index(drop=True))
    assert integrity_profiles(ds, small_run, ledger, employees=["E99999"]).empty


def test_the_portraits_integrity_profile_is_the_persons_row(small_run, full, entities):
    from riskmodel.linkage.profiles import integrity_profiles

    e = entities["employee"]
    row = integrity_profiles(full.data, small_run, None).set_index("employee_id").loc[e]
    shown = P.integrity_profile(RunData(small_run), e, "en").set_index("item").value
    assert shown["suggested tier"] == P.TIER_NAMES[row.suggested_tier][1] and shown["alerts, 4 quarters"] == row.alerts_4q
    assert shown["years in post"] == row.years_in_post
    assert P.integrity_profile(RunData(small_run), "E99999", "zh").iloc[0, 0] == "不在岗或无档案"


def test_ego_network_draws_what_the_graph_room_draws_from_the_whole_graph(small_run, full, entities):
    from riskmodel.graph import GraphFrames
    from riskmodel.graph.figure import ego_subgraph

    G = GraphFrames(pd.read_parquet(small_run / "graph_nodes.parquet"), pd.read_parquet(small_run / "graph_edges.parquet")).to_networkx()
    run = RunData(small_run)
    busiest = max((n for n in G if n.startswith("employee:")), key=G.degree)
    for node in (f"employee:{entities['employee']}", busiest):
        want, got = ego_subgraph(G, node, radius=2), ego_subgraph(run.graph_around(node, radius=2), node, radius=2)
        assert list(got) == list(want), "the same nodes, in the same order (the seeded layout places them alike)"
        assert list(got.edges(data="kind")) == list(want.edges(data="kind"))
        assert [got.nodes[n] for n in got] == [{k: v for k, v in want.nodes[n].items() if k in ("kind", "label")} for n in want]
    assert len(ego_subgraph(G, busiest, radius=2)) == 60, "the busiest employee's neighbourhood is trimmed"
    e = entities["employee"]
    H = ego_subgraph(G, f"employee:{e}", radius=2)
    root = _svg(P.ego_network(run, e))
    assert len(_of_class(root, "node")) == len(H) and len(_of_class(root, "edge")) == H.number_of_edges()
    names = sorted(str(H.nodes[n].get("label", n)) for n in H)
    assert sorted(n.find(f"{SVG}title").text for n in _of_class(root, "node")) == names, "every node is named in its tooltip"
    assert {t.text for t in _of_class(root, "label")} <= set(names)
    assert e in _of_class(root, "title")[0].text
    assert P.ego_network(run, "E99999") is None


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", ["employee", "department", "post", "station", "business_type", "period"])
def test_every_element_for_every_kind(small_run, full, entities, kind, lang):
    run = RunData(small_run)
    e = entities[kind]
    P.check_entity(run, kind, e)
    assert P.title(run, kind, e, lang)
    fired = P._fired(full, kind, e, None)
    assert len(fired) > 0
    s = P.summary(run, kind, e, None, lang).set_index(P.t(lang, "项目", "item")).iloc[:, 0]
    assert s[P.t(lang, "触发红旗（项次）", "red flags fired")] == len(fired)
    bars = _svg(P.by_indicator(run, kind, e, None, lang))
    counts = fired.groupby("indicator_id").size()
    assert len(_of_class(bars, "bar")) == len(counts)
    assert sorted(float(v.text) for v in _of_class(bars, "value")) == sorted(map(float, counts))
    texts = [" ".join(lab.itertext()) if lang == "en" else "".join(lab.itertext()) for lab in _of_class(bars, "label")]
    names = {x.split(" ", 1)[0]: x.split(" ", 1)[1] for x in texts}
    cat = __import__("riskmodel.indicators.registry", fromlist=["titles"]).titles(counts.index)
    assert names == {i: cat[i][0 if lang == "zh" else 1] for i in counts.index}
    trend = _svg(P.score_trend(run, kind, e, lang))
    assert _of_class(trend, "title")[0].text == (P.t(lang, "风险分趋势", "Risk score by quarter") if kind == "employee"
                                                 else P.t(lang, "红旗严重度趋势", "Red-flag severity by month"))
    first, last = full.flag_months()  # every month up to the portrait's end, months without flags included
    end = min(last, pd.Period(e).end_time.to_period("M").start_time) if kind == "period" else last
    points = len(full.scores[full.scores.entity_id == e]) if kind == "employee" else len(pd.date_range(first, end, freq="MS"))
    assert len(_of_class(trend, "point")) == points * (2 if kind == "employee" else 1)
    ff = P.flags_fired(run, kind, e, None, lang)
    assert len(ff) == min(30, len(fired)) and list(ff.index) == list(range(len(ff)))
    assert ff.iloc[:, 0].str.split(" ").str[0].isin(counts.index).all()
    if kind in ("employee", "department", "post"):
        assert isinstance(P.reasons(run, kind, e, lang), pd.DataFrame)
    if kind == "employee":
        assert not P.peer_comparison(run, e, lang).empty
        assert isinstance(P.review_history(run, e, lang), pd.DataFrame)
        assert len(P.integrity_profile(run, e, lang)) > 5
        assert isinstance(P.education(run, e, lang), pd.DataFrame)
        # the rank among peers, read from the post's scores only, is the rank among the whole table's same-post rows
        sc, col = full.scores, f"score_{full.card['model']}"
        last = sc[sc.entity_id == e].sort_values("period").iloc[-1]
        peers = sc[(sc.period == last.period) & (sc.position_id == last.position_id)]
        assert s[P.t(lang, "同岗位排名", "rank among the same post")] == f"{int((peers[col] > last[col]).sum()) + 1} / {len(peers)}"
    assert "flags" not in run.__dict__, "a portrait never loads every flag of the run"


def test_svg_figures_are_well_formed_and_escape_text():
    t = trend_svg(pd.DataFrame({"q": pd.to_datetime(["2025-01-01", "2025-04-01"]), "a": [1.0, 2.0], "b": [0.5, None]}),
                  "q", ["a", "b"], "A & B <趋势>", "score", ["本人", "median"], xformat="quarter")
    root = _svg(t)
    assert _of_class(root, "title")[0].text == "A & B <趋势>"
    assert len(_of_class(root, "point")) == 3 and "2025Q2" in t.svg
    assert [e.text for e in _of_class(root, "legend")] == ["本人", "median"]
    b = _svg(bars_svg(pd.Series({"x": 1, "y": 5}), "t", "n"))
    bars = _of_class(b, "bar")
    assert float(bars[0].get("width")) > float(bars[1].get("width")), "largest first"


def test_portrait_notebook_in_chinese_shows_each_figure_once(small_run, entities, tmp_path):
    import nbformat

    from riskmodel.reports import commands

    out = commands.portrait("employee", entities["employee"], None, "zh", "supervisor", small_run, tmp_path)
    html = out["html"].read_text(encoding="utf-8").split("<body", 1)[-1]
    assert "风险画像" in html and "同岗位排名" in html and "建议等级" in html
    nb = nbformat.read(out["notebook"], as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not any(o.output_type == "error" for o in outputs)
    figures = [o for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert len(figures) == 3 and html.count('src="data:image/svg+xml;base64,') == 3, "score trend, red flags, ego network"
    assert not any("image/png" in o.get("data", {}) for o in outputs)
    assert "风险分趋势" in figures[0]["data"]["image/svg+xml"] and "的关系网络" in figures[2]["data"]["image/svg+xml"]


def test_review_history_shows_the_archives_reviews_too(full):
    run = full
    rv = run.data.table("alert_reviews")
    e = rv[rv.decision == "confirmed"].entity_id.iloc[0]
    for lang in ("zh", "en"):
        h = P.review_history(run, e, lang)
        assert len(h) == (rv.entity_id == e).sum() + (run.decisions.entity_id == e).sum()
        src = h[P.t(lang, "记录来源", "recorded in")]
        assert (src == P.t(lang, "以往复核记录", "earlier reviews")).sum() == (rv.entity_id == e).sum()
    assert "属实" in set(P.review_history(run, e, "zh")["结论"]), "the archive's confirmed review, in Chinese"
    # the profile counts them apart from this run's alerts (its grounds may cite them)
    prof = dict(P.integrity_profile(run, e, "en").values)
    assert "earlier reviews confirmed, 12 months" in prof and "this run's alerts confirmed" in prof


def _quarter(ts) -> str:
    return str(pd.Timestamp(ts).to_period("Q"))


def test_a_period_range_applies_to_every_per_period_element(small_run, full, entities):
    """A one-quarter portrait shows that quarter's score, rank, alerts, reasons and peers, and its trend ends there."""
    run, e, col = RunData(small_run), entities["employee"], f"score_{full.card['model']}"
    a = full.alerts[(full.alerts.entity_type == "employee") & (full.alerts.entity_id == e)]
    mine = full.scores[full.scores.entity_id == e].sort_values("period")
    # a quarter with an alert that is not the person's last: what a range leaves out is visible
    q = a.period[a.period < mine.period.max()].min() if (a.period < mine.period.max()).any() else mine.period.iloc[-2]
    Q = _quarter(q)
    assert len(a) and (a.period != q).any() and (mine.period > q).any(), "the fixture has something outside the quarter"
    s = P.summary(run, "employee", e, Q, "en").set_index("item").value
    assert s[f"latest risk score ({Q})"] == round(float(mine.loc[mine.period == q, col].iloc[0]), 3)
    assert s["alerts"] == (a.period == q).sum()
    r = P.reasons(run, "employee", e, "en", Q)
    if (a.period == q).any():
        assert set(r.quarter) == {Q} and len(r) == sum(len(x) for x in a[a.period == q].reasons)
    else:
        assert r.iloc[0, 0] == "no alerts in the period"
    assert set(P.reasons(run, "employee", e, "en").quarter) == set(a.period.map(_quarter)), "no range: every alert"
    trend = _svg(P.score_trend(run, "employee", e, "en", Q))
    assert len(_of_class(trend, "point")) == 2 * (mine.period <= q).sum(), "earlier quarters for context, none after"
    assert _of_class(trend, "highlight") and _of_class(trend, "highlight-label")[0].text == "selected period"
    assert not _of_class(_svg(P.score_trend(run, "employee", e, "en")), "highlight")
    peers = P.peer_comparison(run, e, "en", Q)
    X = full.features
    row = X[(X.entity_id == e) & (X.period == q)].iloc[0]
    assert peers.columns[0] == f"this person ({Q})"
    cols = [c for c in full.card["features"] if c in X]
    want = dict(zip(P._feature_names(cols, "en"), (round(float(row[c]), 2) for c in cols)))
    assert len(peers) and all(want[name] == v for name, v in peers.iloc[:, 0].items())
    # a department: the reasons of the quarter's alerts only, the monthly trend ending with the quarter
    d = entities["department"]
    r = P.reasons(run, "department", d, "zh", Q)
    assert "说明" in r or set(r["季度"]) == {Q}
    months = _of_class(_svg(P.score_trend(run, "department", d, "zh", Q)), "point")
    first = full.flag_months()[0]
    assert len(months) == len(pd.date_range(first, pd.Period(Q).end_time.normalize(), freq="MS"))


def test_flag_table_shows_every_indicator_most_severe_and_recent_first(small_run, full):
    run = RunData(small_run)
    fired = full.flags[full.flags.fired.astype(bool)]
    # the family whose indicators fired most unevenly: the case where raw values buried all but one indicator
    uneven = fired.groupby("family").indicator_id.agg(lambda s: s.value_counts().max() / len(s) if s.nunique() > 1 else 0)
    fam = uneven[fired.family.value_counts().reindex(uneven.index) > 30].idxmax()
    f = fired[fired.family == fam]
    assert f.indicator_id.nunique() > 1 and len(f) > 30
    ff = P.flags_fired(run, "business_type", fam, None, "en")
    ids = ff.indicator.str.split(" ").str[0]
    assert len(ff) == 30 and set(ids) == set(f.indicator_id), "every indicator that fired shows"
    key = list(zip(-ff.severity, pd.to_datetime(ff.date).map(lambda d: -d.value)))
    assert key == sorted(key), "most severe first, then most recent"
    for i, rows in ff.groupby(ids):  # each indicator's rows are its own most severe and most recent flags
        own = f[f.indicator_id == i].sort_values(["severity", "period"], ascending=False)
        assert list(zip(rows.severity, rows.date)) == [(s, pd.Timestamp(p).strftime("%Y-%m-%d"))
                                                        for s, p in zip(own.severity, own.period)][:len(rows)]


def test_portrait_names_codes_and_features_in_both_languages(small_run, full, entities):
    import re

    from riskmodel.linkage.topics import TOPIC_ZH

    run, e = RunData(small_run), entities["employee"]
    zh, en = P.reasons(run, "employee", e, "zh"), P.reasons(run, "employee", e, "en")
    assert set(zh["对象类型"]) == {"人员"} and set(en["type"]) == {"person"}
    prof = P.integrity_profile(run, e, "zh").set_index("项目")["内容"]
    assert prof["建议等级"] in {v[0] for v in P.TIER_NAMES.values()} and prof["记录等级"] in {v[0] for v in P.TIER_NAMES.values()}
    assert not re.search(r"[a-z]", prof["建议等级"] + prof["记录等级"])
    prof_en = P.integrity_profile(run, e, "en").set_index("item").value
    assert not re.search(r"[\u4e00-\u9fff]", prof_en["grounds"] + prof_en["measures"]), "English words in English"
    ed = P.education(run, e, "zh")
    if "形式" in ed:
        assert set(ed["形式"]) <= {v[0] for v in P.MATERIAL_KIND_NAMES.values()}
        assert not ed["主题"].str.contains(r"[a-z]").any() and set("、".join(ed["主题"]).split("、")) <= set(TOPIC_ZH.values())
        assert not P.education(run, e, "en").why.str.contains(r"[\u4e00-\u9fff]").any()
    for lang in ("zh", "en"):
        peers = P.peer_comparison(run, e, lang)
        assert not any(re.fullmatch(r"[A-Z]+-\d{3}(_\d+q)?|[a-z_]+", str(i)) for i in peers.index), list(peers.index)
        assert list(peers.index)[:2] == P._feature_names(["sensitivity", "tenure_years"], lang) or len(peers) < 2


def test_monthly_trend_counts_months_without_flags_as_zero(small_run, full, entities):
    run = RunData(small_run)
    for kind in ("department", "station", "business_type"):
        e = entities[kind]
        fired = P._fired(full, kind, e, None)
        first, last = full.flag_months()
        months = pd.date_range(first, last, freq="MS")
        assert fired.month.nunique() < len(months), "the fixture has months without flags"
        root = _svg(P.score_trend(run, kind, e, "en"))
        pts = _of_class(root, "point")
        assert len(pts) == len(months)
        ys = sorted({round(float(p.get("cy")), 1) for p in pts})
        zero_y = max(ys)  # zero is the lowest value: the lowest point on the page
        assert sum(round(float(p.get("cy")), 1) == zero_y for p in pts) == len(months) - fired.month.nunique()


def test_a_months_portrait_shows_no_alerts_of_a_quarter_not_yet_over(full):
    a = full.alerts[full.alerts.entity_type == "employee"].iloc[0]
    q = pd.Timestamp(a.period).to_period("Q")
    n = int(((full.alerts.entity_id == a.entity_id) & (full.alerts.period == a.period)).sum())

    def alerts(period: str) -> int:
        s = P.summary(full, "employee", a.entity_id, period, "en")
        return int(s.set_index("item").loc["alerts", "value"])

    # the quarter's alerts are made from its whole data: a month before its end cannot show them
    assert alerts(str(q.asfreq("M", "start"))) == 0
    assert alerts(str(q.asfreq("M", "end"))) == alerts(str(q)) == n
