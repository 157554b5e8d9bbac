"""The case archive: cases (only some schemes become cases, late), people, interviews, rectification ledger."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.synthetic.base import Context, random_dates

# scheme type -> (case type, title, summary); {name} {post} {extra} are filled in
CASE_TEXT = {
    "kickback_related_supplier": ("受贿", "{name}利用采购职务便利为亲属关联企业谋利案",
                                  "经查，{name}在担任{post}期间，利用职务便利，多次将采购业务交由其亲属实际控制的企业承接，采购价格明显高于市场均价，并收受对方好处费，涉嫌受贿。"),
    "split_purchase": ("违规采购", "{name}化整为零规避招标问题",
                       "经查，{name}将应当公开招标的采购项目拆分为多笔，单笔金额均低于招标限额，化整为零规避招标（应招未招）。"),
    "bid_rigging_ring": ("围标串标", "供应商围标串标问题",
                         "经查，多家供应商在招标中相互串通投标报价、轮流中标，其余企业陪标；{name}在评标中未履行审查职责。"),
    "fake_travel_claims": ("虚假报销", "{name}虚假报销差旅费问题",
                           "经查，{name}在无出差审批的情况下虚构出差事由，以伪造行程、虚开住宿发票等方式报销差旅费。"),
    "duplicate_invoices": ("虚假报销", "{name}重复报销、虚开发票问题",
                           "经查，{name}使用同一张增值税发票重复报销，并虚开增值税发票套取公款。"),
    "leaf_upgrading": ("烟叶收购违规", "{name}收购烟叶提级提价问题",
                       "经查，{name}在烟叶收购定级工作中，对其亲友交售的烟叶提级提价（人情烟、关系烟），造成公司经济损失。"),
    "leaf_downgrading": ("烟叶收购违规", "{name}压级压价损害烟农利益问题",
                         "经查，{name}在烟叶收购中对部分烟农交售的烟叶压级压价，损害烟农利益，群众反映强烈。"),
    "over_contract_purchase": ("烟叶收购违规", "{name}超合同收购、夜间收购问题",
                               "经查，{name}违反烟叶收购管理规定，超合同收购、跨区收购，并组织夜间收购，与烟贩内外勾结倒买倒卖烟叶。"),
    "approver_self_dealing": ("违规采购", "{name}自批自购、虚假采购问题",
                              "经查，{name}利用审批权限自行审批本人提交的采购申请，向关联企业虚假采购，未验收即付款。"),
    "unrotated_tenure_favours": ("违反八项规定", "{name}长期未轮岗、公款吃喝问题",
                                 "经查，{name}在收购站站长岗位长期未轮岗，多次在节假日期间以业务招待名义公款吃喝，并公车私用，违反中央八项规定精神。"),
}
MINOR = [("工作作风", "{name}工作作风问题", "经查，{name}存在迟到早退、工作推诿等作风问题，予以提醒谈话。"),
         ("违规饮酒", "{name}工作日午间饮酒问题", "经查，{name}工作日午间饮酒，违反工作纪律。")]
DISPOSITIONS = np.array(["党内警告", "党内严重警告", "记过", "降级", "撤销职务", "移送司法机关", "诫勉谈话"])
MEASURES = np.array(["开展重点岗位轮岗交流", "完善采购审批与招标管理制度", "组织专题警示教育", "加强烟叶收购定级复检",
                     "建立报销与差旅记录比对机制", "清理供应商库并开展关联关系排查", "落实节假日廉洁提醒"])
INTERVIEW_TEXT = {"heart_to_heart": "开展谈心谈话，了解思想动态和工作生活情况，提醒严守廉洁纪律。",
                  "reminder": "针对{topic}进行提醒谈话，本人表示接受并整改。",
                  "admonition": "就{topic}进行诫勉谈话，责令作出书面检查。",
                  "inquiry": "就反映的{topic}问题进行函询，本人已作书面说明。"}


def build(ctx: Context, org: dict, truth: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("archive")
    emp = org["employees"].set_index("employee_id")
    pos = org["positions"].set_index("position_id").title_zh
    schemes = truth["schemes"]
    people = truth["scheme_entities"][truth["scheme_entities"].entity_type == "employee"]
    lo, hi = ctx.settings.generator.case_delay_days
    rows, case_people = [], []
    for s in schemes.itertuples():
        if rng.random() >= ctx.settings.generator.case_fraction:
            continue  # never discovered
        opened = s.end_date + pd.Timedelta(days=int(rng.integers(lo, hi + 1)))
        if opened > ctx.end:
            continue  # discovered after the data ends
        who = people[people.scheme_id == s.scheme_id].entity_id.tolist()
        subject = who[0] if who else None
        case_type, title, summary = CASE_TEXT[s.scheme_type]
        name = emp.name.get(subject, "有关人员") if subject else "有关人员"
        post = pos.get(emp.position_id.get(subject), "") if subject else ""
        dept = emp.department_id.get(subject, "D001") if subject else "D001"
        rows.append((case_type, title.format(name=name), summary.format(name=name, post=post), dept, opened))
        case_people.append([(w, "subject" if i == 0 else "related") for i, w in enumerate(who)])
    n_minor = max(2, len(emp) // 150)
    minor_who = rng.choice(emp.index.to_numpy(), n_minor, replace=False)
    for w, d in zip(minor_who, random_dates(rng, ctx.start, ctx.end, n_minor)):
        case_type, title, summary = MINOR[rng.integers(len(MINOR))]
        rows.append((case_type, title.format(name=emp.name[w]), summary.format(name=emp.name[w]), emp.department_id[w], d))
        case_people.append([(w, "subject")])
    cases = pd.DataFrame(rows, columns=["case_type", "title", "summary", "department_id", "opened_date"])
    n = len(cases)
    cases.insert(0, "case_id", ctx.ids("CASE", n, 4))
    cases["source"] = rng.choice(np.array(["alert", "report", "audit", "inspection"]), n, p=[0.2, 0.4, 0.25, 0.15])
    closed = cases.opened_date + pd.to_timedelta(rng.integers(30, 200, n), unit="D")
    cases["closed_date"] = closed.where(closed <= ctx.end)
    cases["status"] = np.where(cases.closed_date.notna(), "closed", "open")
    cases["disposition"] = np.where(cases.closed_date.notna(), rng.choice(DISPOSITIONS, n), None)
    cases = cases[["case_id", "case_type", "title", "summary", "department_id", "source", "opened_date", "closed_date", "status", "disposition"]]
    cp = pd.DataFrame([(cid, e, r) for cid, lst in zip(cases.case_id, case_people) for e, r in lst],
                      columns=["case_id", "employee_id", "role"]).drop_duplicates(["case_id", "employee_id"])

    interviewers = org["roster"][(org["roster"].department_id == "D007") & (org["roster"].ryear == ctx.years[-1])].employee_id.unique()
    iv = []
    subj = cp.merge(cases[["case_id", "opened_date", "case_type"]], on="case_id")
    for r in subj.itertuples():
        kind = rng.choice(np.array(["inquiry", "admonition"]))
        iv.append((r.case_id, r.employee_id, kind, r.opened_date + pd.Timedelta(days=int(rng.integers(3, 40))),
                   INTERVIEW_TEXT[kind].format(topic=r.case_type)))
    routine = emp.index.to_numpy()[rng.random(len(emp)) < 0.3 * len(ctx.years)] if len(ctx.years) < 4 else emp.index.to_numpy()
    for w, d in zip(routine, random_dates(rng, ctx.start, ctx.end, len(routine))):
        iv.append((None, w, "heart_to_heart", d, INTERVIEW_TEXT["heart_to_heart"]))
    interviews = pd.DataFrame(iv, columns=["case_id", "employee_id", "kind", "interview_date", "record_text"])
    interviews = interviews[interviews.interview_date <= ctx.end].reset_index(drop=True)
    interviews["interviewer_id"] = rng.choice(interviewers, len(interviews))
    interviews.insert(0, "interview_id", ctx.ids("IV", len(interviews), 6))
    interviews = interviews[["interview_id", "case_id", "employee_id", "interviewer_id", "kind", "interview_date", "record_text"]]

    k = rng.integers(1, 4, n)
    rc = cases.iloc[np.repeat(np.arange(n), k)].reset_index(drop=True)
    due = rc.opened_date + pd.to_timedelta(rng.integers(60, 240, len(rc)), unit="D")
    done_at = rc.opened_date + pd.to_timedelta(rng.integers(30, 300, len(rc)), unit="D")
    done = (done_at <= ctx.end) & (rng.random(len(rc)) < 0.85)
    rect = pd.DataFrame({"rectification_id": ctx.ids("RC", len(rc), 5), "case_id": rc.case_id, "department_id": rc.department_id,
                         "issue_text": rc.title, "measure_text": rng.choice(MEASURES, len(rc)), "due_date": due,
                         "completed_date": done_at.where(done)})
    rect["status"] = np.where(done, "done", np.where(due < ctx.end, "overdue", "in_progress"))
    return {"cases": cases, "case_people": cp, "interviews": interviews, "rectifications": rect}
