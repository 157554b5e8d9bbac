"""Tables and figures of the collusion validation report (``notebooks/reports/collusion_validation.ipynb``).

Each function is one notebook cell: it takes the bids or the evaluation and
returns a :class:`pandas.DataFrame` or a :class:`matplotlib.figure.Figure`
(built without pyplot, so nothing is drawn twice or leaks between reports).
Labels follow ``lang`` (``"zh"`` or ``"en"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve

from riskmodel.collusion.evaluate import GOAL_CEILING, GOAL_RATIO, NO_IDENTITY, OURS, REFERENCE, Evaluation
from riskmodel.collusion.identity import IDENTITY_SCREEN_NAMES, IDENTITY_SCREENS
from riskmodel.collusion.model import ALL_SCREENS, CANDIDATES, LABEL, SIZE_FEATURE, tender_table
from riskmodel.collusion.screens import EXTRA_SCREENS
from riskmodel.indicators.screens import CLASSIC_SCREENS, SCREENS

#: every screen's catalogue entry, the shared ones and the collusion-specific ones
_CATALOGUE = {**SCREENS, **EXTRA_SCREENS, **IDENTITY_SCREENS}

_COUNTRY_ZH = {"brazil": "巴西", "italy": "意大利", "japan": "日本", "usa_ohio_milk": "美国俄亥俄（学校牛奶）",
               "ohio_school_milk_bidders": "美国俄亥俄（学校牛奶，含投标人）"}
_COUNTRY_EN = {"brazil": "Brazil", "italy": "Italy", "japan": "Japan", "usa_ohio_milk": "USA / Ohio school milk",
               "ohio_school_milk_bidders": "USA / Ohio school milk, with bidders"}


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _name(dataset: str, lang: str) -> str:
    return (_COUNTRY_ZH if lang == "zh" else _COUNTRY_EN).get(dataset, dataset)


def _fonts() -> None:
    from riskmodel.plotting import use_cjk_font

    use_cjk_font()


#: Published figures, quoted for comparison (different data, splits and screens: context, not a benchmark).
LITERATURE: tuple[dict, ...] = (
    {"study": "Huber & Imhof (2019), International Journal of Industrial Organization 65:277–301",
     "data": "Switzerland (Ticino, St. Gallen; construction), cartel vs post-cartel tenders",
     "method": "screens (CV, spread, DIFFP, RD, skewness, kurtosis, KS, number of bids) + lasso / ensemble",
     "figure": "> 84 % of tenders correctly classified out of sample (working paper version: > 80 %)"},
    {"study": "Huber, Imhof & Ishii (2022), \"Transnational machine learning with screens for flagging bid-rigging "
              "cartels\", Journal of the Royal Statistical Society Series A 185(3) (working paper SES 519, 2020)",
     "data": "Japan (Okinawa bid-rigging cartel), ~11 % collusive",
     "method": "the same screens + random forest / ensemble",
     "figure": "88 %–93 % correctly classified (working paper); 88 %–97 % depending on the learner (published)"},
    {"study": "Imhof, Karagök & Rutz (2018), Journal of Competition Law & Economics 14(2):235–261",
     "data": "Switzerland (road construction), no labels",
     "method": "CV and relative distance as mutually reinforcing flags",
     "figure": "the flagged region led to an investigation and a cartel finding (no classification rate)"},
    {"study": "Wallimann, Imhof & Huber (2022), Computational Economics 62:1669–1720",
     "data": "Switzerland, incomplete cartels",
     "method": "screens over subgroups of 3–4 bids + machine learning",
     "figure": "outperforms whole-tender screens on incomplete cartels"},
    {"study": "Huber & Imhof (2023), International Journal of Industrial Organization 89:102946",
     "data": "Japan and Switzerland, firm-level bidding interactions",
     "method": "convolutional neural network reading normalised bids as images",
     "figure": "around 95 % accuracy within Japanese, Swiss or pooled data; lower across countries"},
    {"study": "Conley & Decarolis (2016), \"Detecting bidders groups in collusive auctions\", American Economic "
              "Journal: Microeconomics 8(2):1–38",
     "data": "Italy (Turin road works 1999–2003, the court case behind the Italian tenders here), average-bid auctions",
     "method": "tests of coordinated entry and bidding among groups of firms (needs bidder identities)",
     "figure": "average-bid auctions \"create incentives to coordinate bids to manipulate the bid distribution\"; "
               "the tests perform well where the court case makes coordination observable (no classification rate)"},
    {"study": "Imhof & Wallimann (2021), \"Detecting bid-rigging coalitions in different countries and auction "
              "formats\", International Review of Law and Economics 68:106016",
     "data": "Switzerland, Japan and Italy; first-price and mean-price (average-bid) sealed-bid auctions",
     "method": "screens computed on coalitions of bidders within a tender (needs bidder identities) + lasso, SVM, "
               "random forest, super learner",
     "figure": "90 % of collusive and competitive coalitions correctly classified; variance and uniformity screens "
               "the most important"},
    {"study": "Porter & Zona (1999), \"Ohio school milk markets: an analysis of bidding\", RAND Journal of "
              "Economics 30(2):263–288",
     "data": "USA, Ohio school-milk contracts 1980–1990 (the Ohio tenders here)",
     "method": "bid and participation equations of the accused Cincinnati dairies against a control group "
               "(distance to the school district, capacity: firm-level data)",
     "figure": "each accused firm behaves differently from the control group; collusion raised prices by about "
               "6.5 % on average (no tender classification rate)"},
    {"study": "García Rodríguez, Rodríguez-Montequín, Ballesteros-Pérez, Love & Signor (2022), Automation in "
              "Construction 133:104047",
     "data": "Brazil, Italy, Japan, Switzerland, USA (the labelled tenders evaluated here)",
     "method": "eleven machine-learning algorithms on the tenders' bids",
     "figure": "detection rates per dataset and algorithm in the paper's tables (not restated here: its evaluation "
               "unit and splits differ from ours)"},
)


def load(data_dir: str | Path, files: Sequence[str]) -> pd.DataFrame:
    """Read the bid files ``files`` under ``data_dir`` (a relative ``data_dir`` is taken from the project root).

    Examples
    --------
    >>> load("no/such/dir", ["x.csv"])
    Traceback (most recent call last):
    ...
    riskmodel.collusion.bids.BidsFileError: .../no/such/dir/x.csv: no such file
    """
    from riskmodel import config
    from riskmodel.collusion.bids import load_bids

    root = Path(data_dir)
    if not root.is_absolute():
        root = config.PROJ_ROOT / root
    return load_bids([root / f for f in files])


def literature_table(lang: str = "zh") -> pd.DataFrame:
    """The literature's figures, with citations, for comparison with :func:`evaluation_table`."""
    df = pd.DataFrame(LITERATURE)
    if lang == "zh":
        df.columns = ["研究", "数据", "方法", "报告结果"]
    return df


def dataset_summary(bids: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Per dataset: tenders, bids, bids per tender, share of small tenders, collusive share.

    Examples
    --------
    >>> from riskmodel.collusion.synthetic import synthetic_bids
    >>> s = dataset_summary(synthetic_bids(50, seed=2), lang="en")
    >>> int(s.loc["synthetic", "tenders"])
    50
    """
    g = bids.groupby(["dataset", "tender_id"])
    per = pd.DataFrame({"n": g.size(), "y": g[LABEL].first()}).reset_index()
    out = per.groupby("dataset", sort=False).agg(
        tenders=("n", "size"), bids=("n", "sum"), median_bids=("n", "median"),
        share_lt2=("n", lambda s: (s < 2).mean()), share_lt3=("n", lambda s: (s < 3).mean()),
        share_lt4=("n", lambda s: (s < 4).mean()), collusive_share=("y", "mean"))
    if lang == "zh":
        out.index = [_name(i, lang) for i in out.index]
        out.columns = ["招标数", "投标数", "每标投标数中位数", "少于2份占比", "少于3份占比", "少于4份占比", "围标比例"]
    return out


def _chosen(selected: Sequence[str]) -> str:
    """'distribution ×4, vote ×1': the candidates ours chose in the outer folds."""
    return ", ".join(f"{c} ×{k}" for c, k in pd.Series(list(selected), dtype=object).value_counts().items())


def evaluation_table(ev: Evaluation, lang: str = "zh") -> pd.DataFrame:
    """One row per dataset: counts, ours vs reference (ROC AUC, balanced accuracy, accuracy, FPR), choices (the goal
    is :func:`goal_summary`'s, which weighs the firm checks)."""
    rows = []
    for d in ev.datasets:
        o, r = d.metrics[OURS], d.metrics[REFERENCE]
        row = {"dataset": d.dataset, "tenders": d.n_tenders, "used": d.n_used,
               "too_few_bids": f"{d.n_too_few_bids} ({d.n_collusive_too_few_bids} {_t(lang, '围标', 'collusive')})",
               "collusive_share": d.n_collusive_used / d.n_used,
               "auc_ours": o["roc_auc"], "auc_reference": r["roc_auc"], "auc_ratio": d.auc_ratio,
               "balacc_ours": o["balanced_accuracy"], "balacc_reference": r["balanced_accuracy"],
               "acc_ours": o["accuracy"], "acc_reference": r["accuracy"],
               "fpr_ours": o["fpr"], "fpr_reference": r["fpr"],
               "chosen": _chosen(d.selected.get(OURS, []))}
        for extra in d.metrics:
            if extra not in (OURS, REFERENCE):
                row[f"auc_{extra}"] = d.metrics[extra]["roc_auc"]
        rows.append(row)
    df = pd.DataFrame(rows).set_index("dataset").round(3)
    df.index = [_name(i, lang) for i in df.index]
    if lang == "zh":
        df = df.rename(columns={
            "tenders": "招标数", "used": "参与评估", "too_few_bids": "投标过少（其中围标）", "collusive_share": "围标比例",
            "auc_ours": "AUC 本模型", "auc_reference": "AUC 参照RF", "auc_ratio": "AUC 比值",
            "balacc_ours": "平衡准确率 本模型", "balacc_reference": "平衡准确率 参照RF", "acc_ours": "准确率 本模型",
            "acc_reference": "准确率 参照RF", "fpr_ours": "误报率 本模型", "fpr_reference": "误报率 参照RF",
            "chosen": "本模型各折所选"})
    return df


def model_choice(ev: Evaluation, model: str = OURS, lang: str = "zh") -> pd.DataFrame:
    """The nested choice, laid open: per dataset and outer fold, every candidate's inner ROC AUC and the one chosen.

    The inner AUC comes from the cross-validation of that fold's *training*
    tenders only; the test fold never takes part in the choice.

    Examples
    --------
    >>> from riskmodel.collusion.evaluate import evaluate
    >>> from riskmodel.collusion.synthetic import synthetic_bids
    >>> ev = evaluate(synthetic_bids(60, seed=1), n_splits=3, n_estimators=10, inner_cv=3, inner_repeats=1)
    >>> t = model_choice(ev, lang="en")
    >>> len(t), bool((t["chosen"] == t.drop(columns="chosen").idxmax(axis=1)).all())
    (3, True)
    """
    rows = []
    for d in ev.datasets:
        for k, (chosen, auc) in enumerate(zip(d.selected.get(model, []), d.inner_auc.get(model, []))):
            rows.append({"dataset": _name(d.dataset, lang), "fold": k + 1, **{c: auc.get(c) for c in CANDIDATES},
                         "chosen": chosen})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df = df.set_index(["dataset", "fold"]).dropna(axis=1, how="all")
    if lang == "zh":
        df = df.rename(columns={"chosen": "所选"}).rename_axis(["数据集", "外层折"])
    return df


def plot_roc(ev: Evaluation, lang: str = "zh") -> Figure:
    """Out-of-fold ROC curves per dataset, ours against the reference (and any other model evaluated)."""
    _fonts()
    n = len(ev.datasets)
    cols = min(n, 2)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(5.2 * cols, 4.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    style = {OURS: ("#c0392b", "-"), REFERENCE: ("#34495e", "--")}
    label = {OURS: _t(lang, "本模型", "ours"), REFERENCE: _t(lang, "参照：随机森林+经典筛查", "reference: RF, classic screens")}
    for ax, d in zip(axes, ev.datasets):
        p = d.predictions
        for m in d.metrics:
            fpr, tpr, _ = roc_curve(p[LABEL], p[f"score_{m}"])
            color, ls = style.get(m, ("#7f8c8d", ":"))
            ax.plot(fpr, tpr, color=color, ls=ls, lw=1.8, label=f"{label.get(m, m)} (AUC {d.metrics[m]['roc_auc']:.3f})")
        ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=0.8)
        ax.set_title(f"{_name(d.dataset, lang)} (n={d.n_used})")
        ax.set_xlabel(_t(lang, "误报率（竞争性招标被标记的比例）", "false-positive rate (competitive tenders flagged)"))
        ax.set_ylabel(_t(lang, "检出率（围标被标记的比例）", "true-positive rate (rigged tenders flagged)"))
        ax.legend(loc="lower right", fontsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(_t(lang, "交叉验证 ROC 曲线（各国分别训练与测试）", "Cross-validated ROC curves (each country on its own)"))
    fig.tight_layout()
    return fig


def screen_profile(bids: pd.DataFrame, screens: Sequence[str] | None = None, lang: str = "zh") -> pd.DataFrame:
    """Per dataset and screen: how many tenders it is defined for, its median by label, and its own ROC AUC.

    ``auc`` is the probability that a collusive tender has a higher value than
    a competitive one (0.5: the screen says nothing; below 0.5: collusion
    lowers it).  Tenders where the screen is NaN are left out of its AUC.

    Examples
    --------
    >>> from riskmodel.collusion.synthetic import synthetic_bids
    >>> p = screen_profile(synthetic_bids(120, seed=1), ["cv", "rd"], lang="en")
    >>> bool(p.loc[("synthetic", "cv"), "auc"] < 0.3)  # rigged tenders have tight bids
    True
    """
    table = tender_table(bids)
    if screens is None:
        screens = [*ALL_SCREENS, SIZE_FEATURE, *(c for c in IDENTITY_SCREEN_NAMES if c in table.columns)]
    screens = list(screens)
    table = table[table[LABEL].notna()]
    rows = []
    for ds, part in table.groupby(level="dataset", sort=False):
        y = part[LABEL].astype(int)
        for s in screens:
            v = part[s]
            ok = v.notna()
            auc = roc_auc_score(y[ok], v[ok]) if ok.any() and y[ok].nunique() == 2 else np.nan
            rows.append({"dataset": ds, "screen": s, "min_bids": _CATALOGUE[s].min_bids if s in _CATALOGUE else 1,
                         "family": _CATALOGUE[s].family if s in _CATALOGUE else "context",
                         "classic": s in CLASSIC_SCREENS, "defined": int(ok.sum()),
                         "median_competitive": v[ok & (y == 0)].median(), "median_collusive": v[ok & (y == 1)].median(),
                         "auc": auc})
    df = pd.DataFrame(rows).set_index(["dataset", "screen"]).round(4)
    if lang == "zh":
        df = df.rename(columns={"min_bids": "最少投标数", "family": "类别", "classic": "经典筛查", "defined": "可计算招标数",
                                "median_competitive": "中位数 竞争", "median_collusive": "中位数 围标", "auc": "单项AUC"})
    return df


def plot_screens(bids: pd.DataFrame, screens: Sequence[str] = ("cv", "rd", "kurt", "aba_thr_pos", "near_ties", "lq10"),
                 lang: str = "zh") -> Figure:
    """Box plots of a few screens by label, one panel per screen, the datasets side by side."""
    _fonts()
    table = tender_table(bids)
    table = table[table[LABEL].notna()]
    datasets = list(dict.fromkeys(table.index.get_level_values("dataset")))
    cols = 3
    rows = int(np.ceil(len(screens) / cols))
    fig = Figure(figsize=(5 * cols, 3.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, s in zip(axes, screens):
        data, pos, colors = [], [], []
        for i, ds in enumerate(datasets):
            part = table.xs(ds, level="dataset")
            v = part[s]
            lo, hi = v.quantile(0.02), v.quantile(0.98)  # the tails of ratio screens would flatten every box
            for j, lab in enumerate((0, 1)):
                vals = v[(part[LABEL] == lab) & v.notna()].clip(lo, hi)
                data.append(vals.to_numpy())
                pos.append(i * 3 + j)
                colors.append("#2e86c1" if lab == 0 else "#c0392b")
        bp = ax.boxplot(data, positions=pos, widths=0.8, patch_artist=True, showfliers=False)
        for patch, c in zip(bp["boxes"], colors):
            patch.set_facecolor(c)
            patch.set_alpha(0.55)
        ax.set_xticks([i * 3 + 0.5 for i in range(len(datasets))], [_name(d, lang) for d in datasets], fontsize=8)
        entry = _CATALOGUE.get(s)
        title = s if entry is None else (entry.title_zh if lang == "zh" else entry.title_en)
        ax.set_title(f"{title} ({s})", fontsize=10)
    for ax in axes[len(screens):]:
        ax.set_visible(False)
    fig.suptitle(_t(lang, "筛查指标分布：蓝=竞争性招标，红=围标", "Screens by label: blue = competitive, red = rigged"))
    fig.tight_layout()
    return fig


def screen_findings(bids: pd.DataFrame, ev: Evaluation | None = None, top: int = 3, lang: str = "zh") -> pd.DataFrame:
    """What the screens say about each dataset: its strongest screens, in which direction, and the classifiers' AUC.

    Examples
    --------
    >>> from riskmodel.collusion.synthetic import synthetic_bids
    >>> f = screen_findings(synthetic_bids(120, seed=1), lang="en")
    >>> "lower" in f.loc["synthetic", "strongest screens"]
    True
    """
    prof = screen_profile(bids, lang="en")
    rows = {}
    for ds, part in prof.groupby(level="dataset", sort=False):
        p = part.droplevel("dataset")
        p = p[p["defined"] > 0].assign(strength=lambda x: (x["auc"] - 0.5).abs()).sort_values("strength", ascending=False)
        parts = []
        for s, r in p.head(top).iterrows():
            higher = r["auc"] > 0.5
            if lang == "zh":
                parts.append(f"{s}：围标{'更高' if higher else '更低'}（中位数 {r['median_collusive']:.3g} 对 "
                             f"{r['median_competitive']:.3g}，单项AUC {r['auc']:.2f}）")
            else:
                parts.append(f"{s}: {'higher' if higher else 'lower'} when rigged (median {r['median_collusive']:.3g} vs "
                             f"{r['median_competitive']:.3g}, AUC {r['auc']:.2f})")
        weak = p[p["strength"] < 0.05].index.tolist()
        row = {"strongest screens": "; ".join(parts), "uninformative (|AUC−0.5| < 0.05)": ", ".join(weak) or "—"}
        if ev is not None:
            d = ev[ds]
            row["AUC ours / reference"] = f"{d.metrics[OURS]['roc_auc']:.3f} / {d.metrics[REFERENCE]['roc_auc']:.3f}"
            if "ours_screens_only" in d.metrics:
                row["AUC ours without tender size"] = f"{d.metrics['ours_screens_only']['roc_auc']:.3f}"
            if NO_IDENTITY in d.metrics:
                row["AUC ours without identity screens"] = f"{d.metrics[NO_IDENTITY]['roc_auc']:.3f}"
        rows[ds] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    if lang == "zh":
        df.index = [_name(i, lang) for i in df.index]
        df = df.rename(columns={"strongest screens": "区分力最强的筛查", "uninformative (|AUC−0.5| < 0.05)": "基本无区分力",
                                "AUC ours / reference": "AUC 本模型/参照", "AUC ours without tender size": "AUC 本模型（不含标的规模）",
                                "AUC ours without identity screens": "AUC 本模型（不含身份筛查）"})
    return df


def goal_summary(ev: Evaluation, lang: str = "zh", checks: Sequence = ()) -> pd.DataFrame:
    """The goal check of issue #8 per dataset, stated plainly.

    Where ours reads identity screens, their gain counts only when the firm checks (``checks``, from
    :func:`riskmodel.collusion.holdout.firm_check`) ran and passed
    (:func:`~riskmodel.collusion.holdout.identity_gain_counts`): otherwise the goal is judged on ours without them
    (the ablation ``ours_no_identity``), and the row says why.
    """
    from riskmodel.collusion.holdout import identity_gain_counts

    by_dataset = {c.dataset: c for c in checks}
    rows = []
    for d in ev.datasets:
        o, r = d.metrics[OURS]["roc_auc"], d.metrics[REFERENCE]["roc_auc"]
        need = r if r > GOAL_CEILING else GOAL_RATIO * r
        counts = identity_gain_counts(by_dataset.get(d.dataset))
        model, judged, met = d.judged(counts)
        basis = (_t(lang, "本模型", "ours") if model == OURS else
                 _t(lang, "不含身份筛查（企业检验未通过）", "ours without identity screens (the firm checks failed)")
                 if counts is False else
                 _t(lang, "不含身份筛查（企业检验未运行或未完成）", "ours without identity screens (firm checks not run or incomplete)"))
        rows.append({"dataset": _name(d.dataset, lang), "AUC ours": round(o, 3), "AUC reference": round(r, 3),
                     "needed": round(need, 3), "judged on": basis, "AUC judged": round(judged, 3), "met": met})
    df = pd.DataFrame(rows).set_index("dataset")
    if lang == "zh":
        df.columns = ["AUC 本模型", "AUC 参照", "目标", "判定依据", "判定 AUC", "达标"]
        df.index.name = "数据集"
    return df


# -- bidder identities ---------------------------------------------------------------------------

def same_tenders(plain: pd.DataFrame, identified: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Whether two bid tables hold the same tenders: counts, and tender-by-tender agreement of bids and labels.

    Compares the tenders as multisets, so the tender ids may differ and the
    bids may be scaled by a constant (deflated to another base year): the
    second table's bids are brought to the first's scale (``bid_scale``, the
    ratio of the two tables' total bids), each tender becomes its label,
    number of bids and sorted bids, the tenders of each table are sorted by
    those, and the two lists must agree tender for tender (bids within a
    relative 1e-4: published files round their amounts).  The labels take
    part only in this comparison, never in a feature.

    Examples
    --------
    >>> a = pd.DataFrame({"tender_id": ["1", "1", "2"], "bid": [1.0, 1.2, 3.0], "collusive_tender": [1, 1, 0]})
    >>> b = pd.DataFrame({"tender_id": ["x", "y", "y"], "bid": [6.0, 2.0, 2.4], "collusive_tender": [0, 1, 1]})
    >>> t = same_tenders(a, b, lang="en")
    >>> t.loc["same tenders (bids and label)", "value"], t.loc["bid_scale", "value"]
    (True, 0.5)
    """
    scale = float(plain["bid"].sum() / identified["bid"].sum())

    def rows_sorted(df: pd.DataFrame, factor: float) -> np.ndarray:
        d = df.assign(b=df["bid"] * factor).sort_values(["tender_id", "b"])
        d["k"] = d.groupby("tender_id").cumcount()
        wide = d.pivot(index="tender_id", columns="k", values="b")
        head = d.groupby("tender_id").agg(y=(LABEL, "first"), n=("b", "size")).reindex(wide.index)
        m = np.column_stack([head["y"].astype(float), head["n"].astype(float), wide.fillna(-1.0).to_numpy()])
        return m[np.lexsort(m.T[::-1])]

    def agree() -> bool:
        a, b = rows_sorted(plain, 1.0), rows_sorted(identified, scale)
        return bool(a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=0.0))

    def counts(df: pd.DataFrame) -> dict:
        n = df.groupby("tender_id").size()
        y = df.groupby("tender_id")[LABEL].first()
        return {"tenders": len(n), "bids": int(n.sum()), "single-bid tenders": int((n == 1).sum()),
                "collusive tenders": int((y == 1).sum())}

    a, b = counts(plain), counts(identified)
    rows = [{"check": k, "plain": a[k], "identified": b[k], "value": a[k] == b[k]} for k in a]
    rows.append({"check": "same tenders (bids and label)", "plain": "", "identified": "", "value": agree()})
    rows.append({"check": "bid_scale", "plain": "", "identified": "", "value": round(scale, 4)})
    df = pd.DataFrame(rows).set_index("check")
    if lang == "zh":
        df = df.rename(index={"tenders": "招标数", "bids": "投标数", "single-bid tenders": "单一投标招标数",
                              "collusive tenders": "围标招标数", "same tenders (bids and label)": "逐标一致（报价与标注）",
                              "bid_scale": "报价比例（总额之比）"},
                       columns={"plain": "无身份文件", "identified": "含身份文件", "value": "结果"})
    return df


def ohio_check(data_dir: str | Path, plain: str = "usa_ohio_milk.csv",
               identified: str = "ohio_school_milk_bidders.csv", lang: str = "zh") -> pd.DataFrame:
    """:func:`same_tenders` on the two Ohio files under ``data_dir``; an empty table where either is absent."""
    from riskmodel import config
    from riskmodel.collusion.bids import read_bids

    root = Path(data_dir)
    if not root.is_absolute():
        root = config.PROJ_ROOT / root
    if not (root / plain).is_file() or not (root / identified).is_file():
        return pd.DataFrame()
    return same_tenders(read_bids(root / plain), read_bids(root / identified), lang)


def identity_contribution(ev: Evaluation, lang: str = "zh") -> pd.DataFrame:
    """Per dataset whose bids name their bidders: ours with and without the identity screens, and the reference.

    Examples
    --------
    >>> from riskmodel.collusion.evaluate import evaluate
    >>> from riskmodel.collusion.synthetic import synthetic_bids
    >>> ev = evaluate(synthetic_bids(90, seed=1, identities=True), n_splits=3, n_estimators=10, inner_cv=3,
    ...               inner_repeats=1, ablation=True)
    >>> list(identity_contribution(ev, lang="en").columns[:3])
    ['identity screens', 'AUC ours', 'AUC ours without identity']
    """
    rows = []
    for d in ev.datasets:
        if NO_IDENTITY not in d.metrics:
            continue
        o, n, r = d.metrics[OURS], d.metrics[NO_IDENTITY], d.metrics[REFERENCE]
        rows.append({"dataset": _name(d.dataset, lang), "identity screens": ", ".join(d.identity_screens),
                     "AUC ours": o["roc_auc"], "AUC ours without identity": n["roc_auc"], "AUC reference": r["roc_auc"],
                     "ratio ours / reference": o["roc_auc"] / r["roc_auc"],
                     "ratio without identity / reference": n["roc_auc"] / r["roc_auc"],
                     "balanced accuracy ours / without": f"{o['balanced_accuracy']:.3f} / {n['balanced_accuracy']:.3f}",
                     "FPR ours / without": f"{o['fpr']:.3f} / {n['fpr']:.3f}",
                     "folds": f"grouped by {d.group_by}" if d.group_by else "stratified"})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df = df.set_index("dataset").round(3)
    if lang == "zh":
        df = df.rename(columns={"identity screens": "身份筛查", "AUC ours": "AUC 本模型", "AUC ours without identity":
                                "AUC 本模型（不含身份筛查）", "AUC reference": "AUC 参照",
                                "ratio ours / reference": "比值 本模型/参照",
                                "ratio without identity / reference": "比值 不含身份/参照",
                                "balanced accuracy ours / without": "平衡准确率 本模型/不含身份",
                                "FPR ours / without": "误报率 本模型/不含身份", "folds": "划分"})
    return df


def grouped_check(bids: pd.DataFrame, ev: Evaluation, group_by: str = "market", lang: str = "zh",
                  **evaluate_args) -> pd.DataFrame:
    """Re-evaluate the datasets that have ``group_by`` with folds grouped by it, beside the stratified figures.

    Where the same market's contracts recur, stratified folds put a market's
    other years in training; grouped folds ask whether the classifiers
    recognise collusion in markets they have never seen.  ``evaluate_args``
    go to :func:`riskmodel.collusion.evaluate.evaluate` (seed, trees, …).
    Empty where no dataset has the column.
    """
    from riskmodel.collusion.evaluate import evaluate

    has = [ds for ds, part in bids.groupby("dataset", sort=False)
           if group_by in part.columns and part[group_by].notna().all()]
    if not has:
        return pd.DataFrame()
    grouped = evaluate(bids[bids["dataset"].isin(has)], group_by=group_by, **evaluate_args)
    rows = []
    for g in grouped.datasets:
        s = ev[g.dataset]
        for model in g.metrics:
            if model not in s.metrics:
                continue
            rows.append({"dataset": _name(g.dataset, lang), "model": model,
                         "AUC stratified": s.metrics[model]["roc_auc"], f"AUC grouped by {group_by}": g.metrics[model]["roc_auc"],
                         "balanced accuracy stratified": s.metrics[model]["balanced_accuracy"],
                         f"balanced accuracy grouped by {group_by}": g.metrics[model]["balanced_accuracy"],
                         "groups": g.n_groups})
    df = pd.DataFrame(rows).set_index(["dataset", "model"]).round(3)
    if lang == "zh":
        df = df.rename(columns={"AUC stratified": "AUC 分层划分", f"AUC grouped by {group_by}": f"AUC 按{group_by}分组",
                                "balanced accuracy stratified": "平衡准确率 分层",
                                f"balanced accuracy grouped by {group_by}": f"平衡准确率 按{group_by}分组",
                                "groups": "组数"}).rename_axis(["数据集", "模型"])
    return df


def plot_identity_screens(bids: pd.DataFrame, lang: str = "zh") -> Figure | None:
    """Box plots of the identity screens by label, for the datasets whose bids name their bidders (None if none)."""
    from riskmodel.collusion.identity import has_identities

    keep = [ds for ds, part in bids.groupby("dataset", sort=False) if has_identities(part)]
    if not keep:
        return None
    return plot_screens(bids[bids["dataset"].isin(keep)], IDENTITY_SCREEN_NAMES, lang)


def firm_checks(bids: pd.DataFrame, data_dir: str | Path, files: Sequence[str],
                hold_out_firms: Sequence[str] | None = None, **check_args) -> list:
    """The firm checks (:func:`riskmodel.collusion.holdout.firm_check`) on every dataset whose bids name their bidders.

    ``hold_out_firms`` default: the accused firms of the Ohio bidders file
    among ``files`` (read from its ``is_cartel_firm``); an empty list where
    no firm is known or no dataset names its bidders.  ``check_args`` go to
    ``firm_check`` (placebo, seed, trees, …).
    """
    from riskmodel import config
    from riskmodel.collusion.bids import ohio_milk_accused_firms
    from riskmodel.collusion.holdout import firm_check
    from riskmodel.collusion.identity import has_identities

    firms = list(hold_out_firms or [])
    if not firms:
        root = Path(data_dir) if Path(data_dir).is_absolute() else config.PROJ_ROOT / data_dir
        ohio = [root / f for f in files if f.startswith("ohio_school_milk_bidders")]
        if not ohio:
            return []
        firms = ohio_milk_accused_firms(ohio[0])
    return [firm_check(part, firms, **check_args) for _, part in bids.groupby("dataset", sort=False)
            if has_identities(part) and set(firms) <= set(part["bidder"].astype(str))]


def held_out_table(checks: Sequence, lang: str = "zh") -> pd.DataFrame:
    """Leave one accused firm out: per dataset, firm and model, the test counts, ROC AUC, TPR, FPR, median scores."""
    frames = [c.held_out_table().assign(dataset=_name(c.dataset, lang)) for c in checks if c.held_out]
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames).set_index(["dataset", "firm", "model"]).round(3)
    if lang == "zh":
        df = df.rename(columns={"positives": "正例（该企业的招标）", "negatives": "反例", "negatives_same_market":
                                "其中同学区反例", "train": "训练招标", "train_collusive": "训练中的串通招标",
                                "roc_auc": "AUC", "roc_auc_market": "AUC（仅同学区反例）", "tpr": "检出率",
                                "fpr": "误报率", "median_score_positive": "正例得分中位数",
                                "median_score_negative": "反例得分中位数", "threshold": "阈值"}
                       ).rename_axis(["数据集", "被留出企业", "模型"])
    return df


def placebo_table(checks: Sequence, lang: str = "zh") -> pd.DataFrame:
    """The placebo cartel beside the real label: matched firms, and ROC AUC of each model on both labels."""
    from riskmodel.collusion.holdout import PlaceboCheck

    rows = []
    for c in checks:
        if c.placebo is None:
            continue
        p = c.placebo
        matched = ", ".join(f"{f}→{r['placebo']}" for f, r in p.matches.iterrows())
        for label, d in (("real", p.real), ("placebo", p.placebo)):
            rows.append({"dataset": _name(c.dataset, lang), "label": label, "matched firms": matched,
                         "tenders": d.n_used, "positives": d.n_collusive_used,
                         **{f"AUC {m}": met["roc_auc"] for m, met in d.metrics.items()},
                         "identity gain": PlaceboCheck._gain(d)})
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows).set_index(["dataset", "label"]).round(3)
    if lang == "zh":
        df = df.rename(index={"real": "真实标注", "placebo": "安慰剂"}).rename(
            columns={"matched firms": "替身企业", "tenders": "招标数", "positives": "正例", "AUC ours": "AUC 本模型",
                     "AUC reference": "AUC 参照", "AUC ours_no_identity": "AUC 不含身份筛查",
                     "identity gain": "身份筛查增益"}).rename_axis(["数据集", "标注"])
    return df


def firm_check_verdicts(checks: Sequence, lang: str = "zh") -> pd.DataFrame:
    """What the firm checks mean for the goal, per dataset, from their figures and the criteria fixed beforehand."""
    from riskmodel.collusion.holdout import verdict

    df = pd.DataFrame({"dataset": [_name(c.dataset, lang) for c in checks],
                       "verdict": [verdict(c, lang) for c in checks]})
    if df.empty:
        return df
    df = df.set_index("dataset")
    return df.rename(columns={"verdict": "结论"}).rename_axis("数据集") if lang == "zh" else df
