"""The model evaluation report / model card for model reviewers."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from riskmodel.reports.figures import bars, setup_fonts, t
from riskmodel.reports.rundata import RunData
from riskmodel.scoring.calibration import NO_CALIBRATION_NOTE, NO_CALIBRATION_NOTE_ZH
from riskmodel.scoring.explain import OTHER_FLAGS, feature_name
from riskmodel.scoring.pipeline import load_model

LIMITATIONS = {
    "zh": ["训练标签来自案件档案，不完整且有滞后（正例—未标注学习）；未被立案的问题被当作未标注样本。“上限”一行是以合成公司真实标签训练的同一模型，仅用于评估：它与模型之差是更好的标签（更多案件、复核结论）可能带来的提升。",
           "由数据推导的指标阈值（IQR 围栏、分位数）按每个季度末已知的数据确定；共享标识（电话、地址、账户）的稀有度权重仍按全部数据中的共用人数计算。",
           "评估使用合成公司的真实标签；真实数据上的精度需要依靠复核结论持续检验。",
           "若拟合了概率校准器（scoring.calibration），它拟合于训练期最后几个季度的已知标签（正例—未标注），再按标注比例 c 换算；c 假定已立案的问题是全部问题的随机子集，若立案有偏，概率也会有偏。",
           "原因代码中的贡献值（精确 TreeSHAP）相加等于模型边际分（对数几率），而不是校准后的概率；排序按边际分，与校准概率的排序一致。",
           "模型只辅助判断：每条预警都需经人工核查后方可作出结论。"],
    "en": ["Training labels come from the case archive: incomplete and delayed (positive–unlabelled); misconduct that never became a case is unlabelled, not negative. The 'ceiling' row is the same learner fitted on the synthetic company's truth, for evaluation only: its distance from the model is what better labels (more cases, reviewers' decisions) could add.",
           "Data-derived indicator fences (IQR, percentiles) are set from the data known at each quarter's end; the rarity weight of a shared identifier (phone, address, account) still counts everyone who holds it in the whole data.",
           "Evaluation uses the synthetic company's ground truth; on real data precision must be tracked through reviewers' decisions.",
           "When a calibrator is fitted (scoring.calibration), probabilities are calibrated on the last training quarters against the labels known then (positive–unlabelled) and divided by the label frequency c, which assumes that the misconduct that became a case is a random share of all misconduct; if cases are selective, so are the probabilities.",
           "Reason-code contributions (exact TreeSHAP) add up to the model's margin (log-odds), not to the calibrated probability; the queue is ordered by the margin, which is the order of the calibrated probability too.",
           "The model assists judgement: every alert is reviewed by a person before any conclusion."],
}


#: the report's sections (zh, en) and the paragraph under some of them
SECTIONS = (("数据与标签", "Data and labels"),
            ("时间外验证：复核能力下的精确率（含基线）", "Temporal validation at review capacity, baselines side by side"),
            ("方案召回：人员预警与事件预警", "Scheme recall: people alerts and event alerts"),
            ("曲线", "Curves"), ("概率校准", "Probability calibration"),
            ("稳定性：各季度与各单位", "Stability across quarters and units"), ("解释", "Explanations"),
            ("已知局限", "Known limitations"), ("运行信息", "Provenance"))
INTROS = {
    2: ("最后一行“上限”是以合成公司真实标签训练的同一 XGBoost（仅评估时可得，不是模型）：模型与它的差距是更好的标签可能带来的提升；"
        "上限自身的误报是特征无法区分的部分。",
        "The last row, the ceiling, is the same XGBoost fitted on the synthetic company's truth (only evaluation can make "
        "it; it is not a model): the model's distance from it is what better labels could add; the ceiling's own false "
        "positives are what the features cannot tell apart."),
    3: ("测试期内活跃的每个植入方案，只要其任一当事人员或相关事件（招标、订单、报销、供应商、烟农）进入预警名单即算发现。"
        "“人员预警”只计人员名单；“全部预警”再计事件预警。",
        "A planted scheme active in the test quarters counts as found when any of its people or events (tenders, orders, "
        "claims, suppliers, growers) is in the queue. 'People alerts' counts the people queue only; 'all alerts' adds "
        "the event alerts."),
    7: ("各特征贡献（精确 TreeSHAP）相加等于模型边际分（对数几率），不等于校准概率。",
        "Feature contributions (exact TreeSHAP) add up to the model's margin (log-odds), not to the calibrated probability."),
}
#: the planted schemes' kinds as the report names them (zh, en)
SCHEME_NAMES = {"kickback_related_supplier": ("关联企业采购受贿", "kickbacks via a related supplier"),
                "split_purchase": ("化整为零规避招标", "split purchases"), "bid_rigging_ring": ("围标串标", "bid-rigging ring"),
                "fake_travel_claims": ("虚假差旅报销", "fake travel claims"), "duplicate_invoices": ("重复报销发票", "duplicate invoices"),
                "leaf_upgrading": ("烟叶提级提价", "leaf grade inflation"), "leaf_downgrading": ("烟叶压级压价", "leaf grade deflation"),
                "over_contract_purchase": ("超合同收购", "purchases beyond contract"),
                "approver_self_dealing": ("自批自购", "approver self-dealing"),
                "unrotated_tenure_favours": ("长期未轮岗、公款吃喝", "unrotated post, hospitality at public expense")}


def section(number: int, lang: str = "zh") -> str:
    """The Markdown heading of section ``number`` (from 1) in the report's language, with its paragraph if it has one.

    Examples
    --------
    >>> section(1, "en")
    '## 1 · Data and labels'
    """
    i = 0 if lang == "zh" else 1
    intro = INTROS.get(number)
    return f"## {number} · {SECTIONS[number - 1][i]}" + (f"\n\n{intro[i]}" if intro else "")


def scheme_recall(run: RunData, lang: str = "zh") -> pd.DataFrame:
    """Planted schemes found, by kind of scheme: by the people queue and by every alert (people and events), with
    the counts and the 95 % interval of the total (needs ``riskmodel evaluate``).  The issue's recall goal is the
    all-alerts column: a bid ring names no employee, so only its tenders or suppliers can find it."""
    ev = run.evaluation or {}
    if "scheme_recall_all_alerts_by_type" not in ev:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "尚未运行 riskmodel evaluate", "run 'riskmodel evaluate' first")]})
    i = 0 if lang == "zh" else 1
    people, every = ev["scheme_recall_by_type"], ev["scheme_recall_all_alerts_by_type"]
    col_p, col_a = t(lang, "人员预警", "people alerts"), t(lang, "全部预警", "all alerts")
    rows = [{t(lang, "方案类型", "kind of scheme"): SCHEME_NAMES.get(k, (k, k))[i],
             col_p: "—" if k not in people else f"{people[k]:.0%}", col_a: f"{v:.0%}"} for k, v in every.items()]
    lo, hi = ev["scheme_recall_all_alerts_ci95"]
    m = ev["models"][ev["model"]]
    rows.append({t(lang, "方案类型", "kind of scheme"): t(lang, "合计", "all"),
                 col_p: f"{m['scheme_recall']:.3f}（{m['schemes_caught']}/{m['schemes_active']}）" if lang == "zh"
                 else f"{m['scheme_recall']:.3f} ({m['schemes_caught']}/{m['schemes_active']})",
                 col_a: f"{ev['scheme_recall_all_alerts']:.3f}（{ev['schemes_caught_all_alerts']}/{ev['schemes_active_all_alerts']}）"
                        f" [{lo:.2f}, {hi:.2f}]" if lang == "zh" else
                        f"{ev['scheme_recall_all_alerts']:.3f} ({ev['schemes_caught_all_alerts']}/{ev['schemes_active_all_alerts']})"
                        f" [{lo:.2f}, {hi:.2f}]"})
    return pd.DataFrame(rows).set_index(t(lang, "方案类型", "kind of scheme"))


def alerts_by_type(run: RunData, lang: str = "zh") -> pd.DataFrame:
    """How many alerts of each kind the queue holds over the test quarters (needs ``riskmodel evaluate``)."""
    from riskmodel.reports.supervision import ENTITY_NAMES

    counts = (run.evaluation or {}).get("alerts_by_type") or {}
    i = 0 if lang == "zh" else 1
    return pd.DataFrame({t(lang, "预警对象", "alert on"): [ENTITY_NAMES.get(k, (k, k))[i] for k in counts],
                         t(lang, "预警数", "alerts"): list(counts.values())}).set_index(t(lang, "预警对象", "alert on"))


def data_and_labels(run: RunData, lang: str = "zh") -> pd.DataFrame:
    c = run.card
    lab = c["labels"]
    rows = [(t(lang, "数据来源", "data source"), c["data_source"]), (t(lang, "数据指纹", "data fingerprint"), c["data_fingerprint"][:16]),
            (t(lang, "代码版本", "code version"), c["code_version"]), (t(lang, "随机种子", "seed"), c["seed"]),
            (t(lang, "训练期", "training quarters"), f"{c['train_periods'][0]} … {c['train_periods'][-1]}"),
            (t(lang, "测试期", "test quarters"), f"{c['test_periods'][0]} … {c['test_periods'][-1]}"),
            (t(lang, "标签截止日", "labels as of"), lab["as_of"]), (t(lang, "正例", "positives"), lab["positives"]),
            (t(lang, "可靠负例（复核排除；案件违纪期间以外）", "reliable negatives (dismissed; outside a case's flagged span)")
             if lab.get("localised") else t(lang, "可靠负例（复核排除）", "reliable negatives (dismissed)"), lab["reliable_negatives"]),
            (t(lang, "未标注", "unlabelled"), lab["unlabelled"]),
            (t(lang, "正例—未标注处理", "PU handling"),
             f"Elkan & Noto（2008）加权；标注比例 c = {lab['label_frequency']:.3f}" if lang == "zh" and "label_frequency" in lab
             else lab["pu_method"]),
            (t(lang, "复核能力", "review capacity"), c["capacity"]), (t(lang, "特征数", "features"), len(c["features"]))]
    if "window" in lab:
        rows.insert(-2, (t(lang, "标签期间", "label window"), label_window(lab, lang)))
    q = c.get("queue") or {}
    if q.get("model") and (q["model"], (q.get("policy") or {}).get("policy")) != (c["model"], c["policy"]["policy"]):
        # 'riskmodel score' re-queued people: the queue reviewers have (and the evaluation's "model") is not the trained one
        name = MODEL_ZH.get(q["model"], q["model"]) if lang == "zh" else q["model"]
        policy = (q.get("policy") or {}).get("policy")
        rows.append((t(lang, "当前预警名单", "current review queue"),
                     t(lang, f"人员预警按{name}评分排出（{policy} 策略，由 {q.get('source')} 生成）；训练的模型为 {c['model']}",
                       f"people alerts from {name} (policy {policy}, {q.get('source')}); the trained model is {c['model']}")))
    cal = c.get("calibration")
    if cal:
        held = f"{cal['periods'][0]} … {cal['periods'][-1]}" if cal.get("periods") else "—"
        note = cal.get("note", "")
        note = NO_CALIBRATION_NOTE_ZH if lang == "zh" and note == NO_CALIBRATION_NOTE else note
        how = (f"{cal['method']}, {held}, c = {cal['label_frequency']:.3f}" if cal.get("fitted")
               else f"{t(lang, '未校准', 'not calibrated')}: {note}")
        rows.insert(-2, (t(lang, "概率校准", "probability calibration"), how))
    return pd.DataFrame(rows, columns=[t(lang, "项目", "item"), t(lang, "内容", "value")])


def label_window(labels: dict, lang: str = "zh") -> str:
    """The model card's label window in the report's language (cards from before the structured fields: as written)."""
    if lang != "zh" or "lookback_months" not in labels:
        return labels["window"]
    text = f"案件标记其当事人自立案前{labels['lookback_months']}个月至立案当季的各季度"
    if labels.get("localised"):
        outside = {"negative": "可靠负例", "unlabelled": "未标注"}.get(labels.get("outside_span"), labels.get("outside_span"))
        text += f"，并收窄到当事人与案件类型相关的红旗所跨的季度；窗口内其他季度为{outside}（烟叶收购案件：未标注，停收季不算停止）"
    return text


#: the three parts of each queue, in the order stacked, with their colours
QUEUE_PARTS = (("precision_at_capacity", "当季存在违规行为", "in a scheme that quarter", "#2c7fb8"),
               ("queued_after_scheme", "违规已停止（一年内）", "after their scheme (≤ 1 year)", "#fdae61"),
               ("queued_no_recent_scheme", "近一年无违规行为", "no scheme in the past year", "#d7191c"))
#: the models' names in the Chinese report
MODEL_ZH = {"xgboost": "XGBoost", "rules": "规则", "iforest": "孤立森林", "logistic": "逻辑评分卡"}
#: the evaluation's reference learner fitted on the truth (``supervised_ceiling``), in Chinese and English
CEILING_NAME = ("上限：真实标签训练的 XGBoost（诊断）", "ceiling: XGBoost fitted on the truth (diagnostic)")


def metrics(run: RunData, lang: str = "zh") -> pd.DataFrame:
    """Every model side by side at the same capacity (needs ``riskmodel evaluate`` to have run)."""
    ev = run.evaluation
    if not ev:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "尚未运行 riskmodel evaluate", "run 'riskmodel evaluate' first")]})
    rows = []
    best, ratio, ratio_ci = ev["model"], ev.get("precision_ratio_vs_baselines", {}), ev.get("precision_ratio_ci95", {})
    ratio_col = t(lang, f"{MODEL_ZH.get(best, best)}精确率为其倍数 [95% CI]", f"{best}'s precision ÷ this [95% CI]")
    for name, m in ev["models"].items():
        lo_hi = ratio_ci.get(name)
        rows.append({"model": name, t(lang, "复核能力下精确率", "precision@capacity"): round(m["precision_at_capacity"], 3),
                     "95% CI": f"[{m['precision_ci95'][0]:.2f}, {m['precision_ci95'][1]:.2f}]",
                     ratio_col: "—" if name == best or name not in ratio else
                     f"{ratio[name]:.2f}" + (f" [{lo_hi[0]:.2f}, {lo_hi[1]:.2f}]" if lo_hi else ""),
                     **{t(lang, zh, en): round(m.get(key, float("nan")), 3) for key, zh, en, _ in QUEUE_PARTS[1:]},
                     t(lang, "方案召回", "scheme recall (people)"): round(m["scheme_recall"], 3),
                     "AP": round(m["average_precision"], 3), t(lang, "入队（人·季度）", "queued (employee-quarters)"): m["queued"],
                     t(lang, "入队人数", "people queued"): m.get("queued_people", "—")})
    if c := ev.get("supervised_ceiling"):
        # the reference learner fitted on the truth: the ratio column reads "the model reaches this share of it"
        r, lo_hi = c["precision_ratio_vs_models"].get(best), c["precision_ratio_ci95"].get(best)
        rows.append({"model": t(lang, CEILING_NAME[0], CEILING_NAME[1]),
                     t(lang, "复核能力下精确率", "precision@capacity"): round(c["precision_at_capacity"], 3),
                     "95% CI": f"[{c['precision_ci95'][0]:.2f}, {c['precision_ci95'][1]:.2f}]",
                     ratio_col: "—" if not r else f"{1 / r:.2f}" + (f" [{1 / lo_hi[1]:.2f}, {1 / lo_hi[0]:.2f}]" if lo_hi else ""),
                     **{t(lang, zh, en): round(c[key], 3) for key, zh, en, _ in QUEUE_PARTS[1:]},
                     t(lang, "方案召回", "scheme recall (people)"): "—", "AP": "—",
                     t(lang, "入队（人·季度）", "queued (employee-quarters)"): c["queued"],
                     t(lang, "入队人数", "people queued"): c["queued_people"]})
    return pd.DataFrame(rows).set_index("model")


def queue_composition(run: RunData, lang: str = "zh"):
    """Who each model queues at the same capacity: people in a scheme that quarter (the precision), people whose
    scheme ended in the year before, and people with no scheme in that year — one stacked bar per model (needs
    ``riskmodel evaluate``).

    Returns the figure, or ``None`` when the run has not been evaluated (or was evaluated before the split existed).
    """
    models = (run.evaluation or {}).get("models", {})
    if not models or any(k not in m for m in models.values() for k, *_ in QUEUE_PARTS):
        return None
    labels = [MODEL_ZH.get(n, n) for n in models] if lang == "zh" else list(models)
    if ceiling := run.evaluation.get("supervised_ceiling"):  # what perfect labels would give: shown beneath
        models = {**models, "ceiling": ceiling}
        labels.append(t(lang, "上限（真实标签训练）", "ceiling (fitted on the truth)"))
    setup_fonts()
    fig = Figure(figsize=(8, 0.6 * len(models) + 1.2))
    ax = fig.subplots()
    names, labels = list(models)[::-1], labels[::-1]
    left = [0.0] * len(names)
    for key, zh, en, colour in QUEUE_PARTS:
        v = [models[n][key] for n in names]
        ax.barh(labels, v, left=left, color=colour, label=t(lang, zh, en))
        for i, (x, w) in enumerate(zip(left, v)):
            if w >= 0.05:
                ax.text(x + w / 2, i, f"{w:.0%}", ha="center", va="center", fontsize=9,
                        color="black" if key == "queued_after_scheme" else "white")
        left = [a + b for a, b in zip(left, v)]
    c = run.evaluation.get("capacity")
    cap = (f"{c:.0%}" if c < 1 else f"{c:.0f}") if isinstance(c, (int, float)) else "?"
    ax.set(xlim=(0, 1), xlabel=t(lang, "占预警名单人次（人·季度）比例", "share of queued employee-quarters"),
           title=t(lang, f"同一复核能力（每季度{cap}）下各模型的预警名单构成", f"Who each model queues at the same capacity ({cap} a quarter)"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(names) < 4 else -0.2), ncol=3, fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def calibration_table(run: RunData, lang: str = "zh") -> pd.DataFrame:
    """Brier score of the raw (sigmoid of the margin) and calibrated probabilities on the test quarters, with the
    base rate and the mean prediction (needs ``riskmodel evaluate``); the ``model`` column names whose probability
    it is: the trained model's, also when ``riskmodel score`` queued people with another."""
    cal = (run.evaluation or {}).get("calibration")
    if not cal:
        return pd.DataFrame({t(lang, "说明", "note"): [t(lang, "尚未运行 riskmodel evaluate", "run 'riskmodel evaluate' first")]})
    rows = []
    # the trained model's probability (after 'riskmodel score' the queue's model may be another): say whose
    ev = run.evaluation or {}
    whose = {t(lang, "模型", "model"): cal.get("model") or ev.get("trained_model") or ev.get("model") or "—"}
    for kind, zh, en in (("raw", "原始（边际分的 sigmoid）", "raw (sigmoid of the margin)"), ("calibrated", "校准后", "calibrated")):
        if f"brier_{kind}" not in cal:
            continue
        if kind == "calibrated" and not cal.get("calibrated", True):
            # scoring.calibration: none — the "calibrated" figures are the raw ones again: say so, repeat nothing
            rows.append({t(lang, "概率", "probability"): t(lang, "校准后：未拟合校准器", "calibrated: no calibrator fitted"),
                         **whose, "Brier": float("nan"), "95% CI": "",
                         t(lang, "平均预测", "mean predicted"): float("nan"),
                         t(lang, "说明", "note"): t(lang, "未拟合校准器（scoring.calibration: none），概率即模型自身概率，同上行“原始”",
                                                   "no calibrator was fitted (scoring.calibration: none): the probability is "
                                                   "the scorer's own, the raw row above")})
            continue
        lo, hi = cal[f"brier_{kind}_ci95"]
        rows.append({t(lang, "概率", "probability"): t(lang, zh, en), **whose, "Brier": round(cal[f"brier_{kind}"], 5),
                     "95% CI": f"[{lo:.4f}, {hi:.4f}]", t(lang, "平均预测", "mean predicted"): round(cal[f"mean_predicted_{kind}"], 4)})
    rows.append({t(lang, "概率", "probability"): t(lang, "常数（测试期实际比例）", "constant (the test base rate)"),
                 t(lang, "模型", "model"): float("nan"), "Brier": round(cal["brier_constant_base_rate"], 5), "95% CI": "", t(lang, "平均预测", "mean predicted"): round(cal["base_rate"], 4)})
    table = pd.DataFrame(rows).set_index(t(lang, "概率", "probability"))
    return table.astype(object).where(table.notna(), "—")  # no number where there is none (not NaN)


def curves_figure(run: RunData, lang: str = "zh"):
    """PR curves, calibration and capacity trade-off in one figure (ground truth read at evaluation time)."""
    from riskmodel.scoring.datasource import resolve_data_source
    from riskmodel.scoring.evaluate import curves

    setup_fonts()
    # the ground truth of the dataset 'riskmodel evaluate' used (the run itself never saw it)
    ev = run.evaluation or {}
    cv = curves(run.run_dir, resolve_data_source(ev, run.run_dir, "evaluation.json") if ev.get("data_source") else run.data_dir)
    fig = Figure(figsize=(15, 4.2))
    axes = fig.subplots(1, 3)
    for name, g in cv["pr"].groupby("model"):
        axes[0].plot(g.recall, g.precision, label=name)
    axes[0].set(xlabel=t(lang, "召回率", "recall"), ylabel=t(lang, "精确率", "precision"), title=t(lang, "精确率—召回率曲线", "Precision–recall"))
    axes[0].legend()
    cal = cv["calibration"]
    top = float(max(cal.predicted.max(), cal.observed.max()))
    axes[1].plot([0, top], [0, top], ls="--", c="grey")
    fitted = (run.evaluation or {}).get("calibration", {}).get("calibrated", True)
    for kind, g in cal.groupby("kind", sort=False):
        if kind == "calibrated" and not fitted:
            continue  # no calibrator: the same curve as the raw one
        axes[1].plot(g.predicted, g.observed, marker="o", label=t(lang, {"raw": "原始", "calibrated": "校准后"}[kind], kind))
    axes[1].set(xlabel=t(lang, "预测概率", "predicted probability"), ylabel=t(lang, "实际比例", "observed rate"),
                title=t(lang, "校准曲线（按预测分位分箱）", "Calibration (bins by predicted quantile)"))
    axes[1].legend()
    for name, g in cv["capacity"].groupby("model"):
        axes[2].plot(g.capacity * 100, g.precision, marker="o", label=f"{name} {t(lang, '精确率', 'precision')}")
    axes[2].set(xlabel=t(lang, "复核能力（每季度人员占比 %）", "review capacity (% of people per quarter)"),
                ylabel=t(lang, "精确率", "precision"), title=t(lang, "阈值权衡", "Threshold trade-off"))
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig, cv


def stability_figure(cv: dict, lang: str = "zh", run: RunData | None = None, audience: str = "supervisor"):
    """Where the queue's hits and misses fall: per quarter and per department, the queued employee-quarters split
    into those in a scheme that quarter and the others (stacked counts; the precision is the blue share).

    ``cv`` is :func:`curves_figure`'s second value (its ``stability`` table).  Departments are sorted by how many
    were queued there; a department with one or two queued says little about the model, many queued and a long
    orange bar say where its false positives gather.  A de-identified audience (``run`` needed) sees kinds of unit
    (收购站, 采购部门 …) instead of departments, and a kind with fewer than ``linkage.k_anonymity`` queued is
    counted under "other": a department with one queued person would point at that person.
    """
    from riskmodel.linkage.roles import POLICIES

    st = cv["stability"]
    setup_fonts()
    quarters, depts = st[st.by == "quarter"], st[st.by == "department"]
    if not POLICIES[audience].identified:
        depts = _unit_kinds(depts, run, lang)
    depts = depts.sort_values(["queued", "group"])
    fig = Figure(figsize=(12, max(3.5, 0.22 * len(depts) + 1.5)))
    ax_q, ax_d = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    for ax, g, horizontal in ((ax_q, quarters, False), (ax_d, depts, True)):
        hit = (g.precision * g.queued).round().to_numpy()
        miss = g.queued.to_numpy() - hit
        labels = [str(x) for x in g.group] if horizontal else [str(pd.Period(x, "Q")) for x in g.group]
        draw = ax.barh if horizontal else ax.bar
        draw(labels, hit, color=QUEUE_PARTS[0][3], label=t(lang, "当季存在违规行为", "in a scheme that quarter"))
        draw(labels, miss, **{"left" if horizontal else "bottom": hit}, color="#fdae61",
             label=t(lang, "其他（误报）", "others (false positives)"))
        if not horizontal:
            for i, (h, n) in enumerate(zip(hit, g.queued)):
                ax.text(i, n, f"{h / n:.0%}" if n else "", ha="center", va="bottom", fontsize=9)
    ax_q.set(title=t(lang, "各季度预警名单（柱顶为精确率）", "Queue per quarter (precision on top)"),
             ylabel=t(lang, "入队人·季度", "employee-quarters queued"))
    per_kind = len(depts) and (depts.by == "unit kind").all()
    ax_d.set(title=t(lang, "各类单位预警名单", "Queue per kind of unit") if per_kind else t(lang, "各部门预警名单", "Queue per department"),
             xlabel=t(lang, "入队人·季度", "employee-quarters queued"))
    ax_d.tick_params(axis="y", labelsize=7)
    ax_q.set_ylim(0, max(1, quarters.queued.max() if len(quarters) else 1) * 1.12)
    ax_q.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def _test_contributions(run: RunData, sample: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trained model's contributions (with ``bias``) and its features over a seeded sample of the test rows
    (computed once per report: the importance bars and the beeswarm share them)."""
    memo = run.__dict__.setdefault("_test_contributions", {})
    if (sample, seed) not in memo:
        memo[(sample, seed)] = _compute_test_contributions(run, sample, seed)
    return memo[(sample, seed)]


def _compute_test_contributions(run: RunData, sample: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    bundle = load_model(run.run_dir)
    X = run.features
    test = X[X.period.isin(pd.to_datetime(run.card["test_periods"]))]
    if len(test) > sample:
        test = test.sample(sample, random_state=seed)
    return bundle["model"].contributions(test[bundle["features"]]), test[bundle["features"]]


def shap_summary(run: RunData, lang: str = "zh", sample: int = 3000, seed: int = 0, max_display: int = 12):
    """SHAP beeswarm (``shap.plots.beeswarm``) of the trained model over test rows: each dot a row, its place the
    feature's contribution to the margin, its colour the feature's value — where the importance bars say how much,
    this says in which direction (e.g. whether long tenure raises or lowers the score)."""
    import warnings

    with warnings.catch_warnings():  # shap imports tqdm.auto, which warns in a kernel without ipywidgets: not the reader's concern
        warnings.simplefilter("ignore")
        import shap

    contrib, X = _test_contributions(run, sample, seed)
    setup_fonts()
    names = [feature_name(f)[0 if lang == "zh" else 1] for f in X.columns]
    e = shap.Explanation(values=contrib[X.columns].to_numpy(), base_values=contrib["bias"].to_numpy() if "bias" in contrib else None,
                         data=X.to_numpy(float), feature_names=names)
    fig = Figure(figsize=(11, 0.45 * (max_display + 1) + 1.5))
    ax = fig.add_axes((0.42, 0.12, 0.46, 0.8))  # room on the left for the long feature names
    with warnings.catch_warnings():  # matplotlib's notice about shap's colour map, not the reader's concern
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        shap.plots.beeswarm(e, max_display=max_display, ax=ax, show=False, plot_size=None,
                            color_bar_label=t(lang, "特征取值", "feature value"))
    # shap's own labels are English: the report's language for the axis, the colour bar and the remainder row
    ax.set_xlabel(t(lang, "SHAP 值（对模型边际分的贡献）", "SHAP value (contribution to the margin)"))
    ax.set_title(t(lang, "SHAP 蜂群图：特征取值与贡献方向", "SHAP beeswarm: feature values and direction of effect"))
    other = t(lang, "其余{}个特征之和", "sum of the other {} features")
    ax.set_yticks(ax.get_yticks(), [other.format(lab.get_text().split()[2]) if lab.get_text().startswith("Sum of ") else lab.get_text()
                                    for lab in ax.get_yticklabels()])
    for cax in fig.axes[1:]:
        cax.set_yticks(cax.get_yticks(), [t(lang, "低", "low"), t(lang, "高", "high")][:len(cax.get_yticks())])
    return fig


def _unit_kinds(depts: pd.DataFrame, run: RunData, lang: str) -> pd.DataFrame:
    """The per-department rows of the stability table summed by kind of unit, kinds with fewer than k queued summed
    as "other" (k: ``linkage.k_anonymity``)."""
    from riskmodel.linkage.deid import DEPT_TYPE_ZH
    from riskmodel.settings import load_settings

    k = load_settings().linkage.k_anonymity
    kinds = run.data.table("departments").set_index("department_id").dept_type
    kind = depts.group.map(kinds).fillna("other")
    g = depts.assign(hits=depts.precision * depts.queued, group=kind).groupby("group")[["hits", "queued"]].sum()
    small = g.queued < k
    g = pd.concat([g[~small], g[small].sum().to_frame("other").T]) if small.any() else g
    g.index = [t(lang, DEPT_TYPE_ZH.get(i, "其他"), i) for i in g.index]
    return pd.DataFrame({"group": g.index, "precision": (g.hits / g.queued).to_numpy(), "queued": g.queued.to_numpy(),
                         "by": "unit kind"})


def global_importance(run: RunData, lang: str = "zh", sample: int = 3000, seed: int = 0):
    """Mean |contribution| per feature over test rows (exact TreeSHAP for XGBoost): what drives the model overall."""
    contrib = _test_contributions(run, sample, seed)[0].drop(columns="bias", errors="ignore")
    imp = contrib.abs().mean().sort_values(ascending=False).head(15)
    imp.index = [feature_name(f)[0 if lang == "zh" else 1] for f in imp.index]
    return bars(imp, t(lang, "全局重要性（平均|SHAP|）", "Global importance (mean |SHAP|)"), "mean |SHAP|", color="#2c7fb8")


def local_examples(run: RunData, n: int = 3, lang: str = "zh", audience: str = "supervisor") -> pd.DataFrame:
    """The top alerts' reason codes: what a reviewer reads first.

    A de-identified audience (model reviewers, leadership, education officers:
    :data:`riskmodel.linkage.roles.POLICIES`) gets the alert's and the person's keyed pseudonyms and, for each
    reason, what drives the score without the evidence: the feature's name or the red flag's title and id, with the
    same contribution.  The evidence texts are left out, not scrubbed: their exact dates and amounts (a claim of
    1,820 元 on 2025-10-07, a post held since 2011-04-21) find the person in the ERP as surely as a name.
    """
    from riskmodel.indicators.registry import titles
    from riskmodel.linkage.roles import POLICIES, RoleView

    a = run.alerts[run.alerts.entity_type == "employee"].sort_values("score", ascending=False).head(n)
    key = "text_zh" if lang == "zh" else "text_en"
    identified = POLICIES[audience].identified
    if not identified:
        names = titles(sorted({x["indicator_id"] for rs in a.reasons for x in rs if x.get("indicator_id")}))

        def text(x):  # the feature or red flag, never its evidence
            if x.get("indicator_id"):
                title = names.get(x["indicator_id"], ("", ""))[0 if lang == "zh" else 1]
                return f"{title}（{x['indicator_id']}）" if lang == "zh" else f"{title} ({x['indicator_id']})"
            if x["feature"] == OTHER_FLAGS:  # the flags not listed one by one: their ids and counts only
                return x[key]
            return feature_name(x["feature"])[0 if lang == "zh" else 1]
    # a merged red flag has no model contribution: a dash in the table, never a number
    rows = [(r.alert_id, r.entity_id, str(pd.Timestamp(r.period).to_period("Q")),
             "—" if x["contribution"] is None else round(float(x["contribution"]), 3), x[key] if identified else text(x))
            for r in a.itertuples() for x in r.reasons]
    out = pd.DataFrame(rows, columns=["alert", t(lang, "人员", "employee"), t(lang, "季度", "quarter"), "SHAP", t(lang, "原因", "reason")])
    if not identified and len(out):
        deid = RoleView(audience, run.data).deid
        out["alert"] = [deid.pseudonymizer(x, "alert") for x in out["alert"]]
        out.iloc[:, 1] = [deid.pseudonymizer(x, "employee") for x in out.iloc[:, 1]]
    return out


def limitations(lang: str = "zh") -> str:
    """The known limitations as a Markdown list (a table would right-align and number the long sentences)."""
    return "\n".join(f"- {x}" for x in LIMITATIONS[lang])
