"""One table from what supervision found to what education teaches: indicators and case types → material topics.

Education materials carry topic tags (``materials.topic_tags``).  When an
indicator fires or a case is confirmed, the materials to push are the ones
whose tags match the topics below.  A specific indicator id wins over its
family's default; a case's topics are its type's topics plus those of any
keyword in its title or summary.

==============  ========================================================  ==========================================
indicator       what it flags                                             topics
==============  ========================================================  ==========================================
PRC-… (family)  procurement red flags                                     procurement
PRC-002         化整为零规避招标 (split purchase under the tender limit)     procurement, tender
PRC-003         申请人自批 (requester approves own requisition)             procurement, conflict_of_interest
PRC-004         approvals concentrated on one supplier                    procurement, conflict_of_interest
PRC-006         new supplier wins soon after registration                 procurement, conflict_of_interest
PRC-007         buyer's spend concentrated on few suppliers               procurement, conflict_of_interest
BID-… (family)  tenders and bid-rigging screens (围标串标, 陪标)              tender
BID-002         same supplier wins again and again                        tender, conflict_of_interest
BID-003         award above the market reference                          tender, procurement
RMB-… (family)  reimbursement (虚假报销, 虚开发票)                            reimbursement
RMB-004         hospitality on weekends and holidays (公款吃喝)              hospitality, gifts
RMB-005         fuel and tolls on holidays (公车私用)                        official_car
RMB-009         hospitality far above peers                               hospitality
LEAF-… (family) leaf purchasing: contracts, plans, night purchasing        leaf_contract
LEAF-001..003   grade manipulation (抬级抬价, 压级压价, 人情烟)               leaf_grading
HR-… (family)   tenure without rotation                                   rotation
REL-… (family)  shared phone, address or account; rings (利益输送)          conflict_of_interest
==============  ========================================================  ==========================================

``integrity_general`` fills a plan when the specific topics have too few materials.

Examples
--------
>>> topics_for_indicators(["PRC-002", "RMB-005", "LEAF-002"])
['leaf_grading', 'official_car', 'procurement', 'tender']
>>> topics_for_case("虚假报销", "经查，某人虚开增值税发票套取公款。")
['reimbursement']
"""

from __future__ import annotations

from collections.abc import Iterable

#: the topic tags education materials use
TOPICS = ("procurement", "tender", "reimbursement", "hospitality", "gifts", "leaf_grading", "leaf_contract",
          "conflict_of_interest", "rotation", "official_car", "integrity_general")
TOPIC_ZH = {"procurement": "物资采购", "tender": "招标投标", "reimbursement": "费用报销", "hospitality": "公务接待",
            "gifts": "礼品礼金", "leaf_grading": "烟叶定级", "leaf_contract": "烟叶合同与收购纪律",
            "conflict_of_interest": "利益冲突", "rotation": "重点岗位轮岗", "official_car": "公务用车",
            "integrity_general": "廉洁从业"}
#: one line of "what to learn from it" per topic, for warning-case digests (警示案例)
TOPIC_LESSONS = {
    "procurement": "严格执行采购审批和预算管理，杜绝化整为零、虚假采购。",
    "tender": "应招必招，严防未招先定、明招暗定和围标串标。",
    "reimbursement": "报销必须真实、合规，严禁虚开发票、重复报销和虚构出差事由。",
    "hospitality": "严格执行公务接待规定，坚决纠治公款吃喝。",
    "gifts": "节假日严守纪律，严禁违规收送礼品礼金。",
    "leaf_grading": "坚持按标准定级，严禁抬级抬价、压级压价和收购人情烟、关系烟。",
    "leaf_contract": "严格按合同和计划收购，严禁超合同、跨区和夜间收购。",
    "conflict_of_interest": "如实申报利益关系，落实回避制度，严禁为亲属关联企业谋利。",
    "rotation": "重点岗位按期轮岗交流，防止长期任职形成利益圈子。",
    "official_car": "公务用车只用于公务，严禁公车私用。",
    "integrity_general": "筑牢廉洁从业思想防线，自觉遵守党纪国法。",
}

FAMILY_TOPICS: dict[str, tuple[str, ...]] = {
    "PRC": ("procurement",), "BID": ("tender",), "RMB": ("reimbursement",), "LEAF": ("leaf_contract",),
    "HR": ("rotation",), "REL": ("conflict_of_interest",),
}
INDICATOR_TOPICS: dict[str, tuple[str, ...]] = {
    "PRC-002": ("procurement", "tender"),
    "PRC-003": ("procurement", "conflict_of_interest"),
    "PRC-004": ("procurement", "conflict_of_interest"),
    "PRC-006": ("procurement", "conflict_of_interest"),
    "PRC-007": ("procurement", "conflict_of_interest"),
    "BID-002": ("tender", "conflict_of_interest"),
    "BID-003": ("tender", "procurement"),
    "RMB-004": ("hospitality", "gifts"),
    "RMB-005": ("official_car",),
    "RMB-009": ("hospitality",),
    "LEAF-001": ("leaf_grading",),
    "LEAF-002": ("leaf_grading",),
    "LEAF-003": ("leaf_grading",),
}
CASE_TYPE_TOPICS: dict[str, tuple[str, ...]] = {
    "受贿": ("procurement", "conflict_of_interest"),
    "违规采购": ("procurement", "tender"),
    "围标串标": ("tender",),
    "虚假报销": ("reimbursement",),
    "烟叶收购违规": ("leaf_grading", "leaf_contract"),
    "违反八项规定": ("hospitality", "gifts", "official_car"),
    "工作作风": ("integrity_general",),
    "违规饮酒": ("integrity_general",),
}
#: keywords in a case's title or summary that add a topic
KEYWORD_TOPICS: dict[str, str] = {
    "化整为零": "tender", "招标": "tender", "围标": "tender", "串标": "tender", "陪标": "tender",
    "采购": "procurement", "报销": "reimbursement", "发票": "reimbursement", "差旅": "reimbursement",
    "招待": "hospitality", "吃喝": "hospitality", "礼品": "gifts", "礼金": "gifts", "公车": "official_car",
    "轮岗": "rotation", "亲属": "conflict_of_interest", "关联企业": "conflict_of_interest",
    "提级": "leaf_grading", "压级": "leaf_grading", "定级": "leaf_grading", "人情烟": "leaf_grading",
    "超合同": "leaf_contract", "跨区": "leaf_contract", "夜间收购": "leaf_contract", "倒买倒卖": "leaf_contract",
}


def topics_for_indicator(indicator_id: str) -> tuple[str, ...]:
    """Topics of one indicator id (its own entry, else its family's; unknown families: integrity_general).

    Examples
    --------
    >>> topics_for_indicator("BID-007")
    ('tender',)
    """
    iid = str(indicator_id)
    return INDICATOR_TOPICS.get(iid) or FAMILY_TOPICS.get(iid.split("-", 1)[0], ("integrity_general",))


def topics_for_indicators(indicator_ids: Iterable[str]) -> list[str]:
    """Sorted union of the topics of several indicators."""
    return sorted({t for i in indicator_ids if i for t in topics_for_indicator(i)})


def topics_for_case(case_type: str | None, text: str | None = "") -> list[str]:
    """Topics of a case: its type's, plus those of keywords in its text; ``integrity_general`` when none."""
    found = set(CASE_TYPE_TOPICS.get(str(case_type or ""), ()))
    found |= {t for kw, t in KEYWORD_TOPICS.items() if kw in (text or "")}
    return sorted(found) or ["integrity_general"]


def split_tags(value: object) -> list[str]:
    """``'a;b'`` → ``['a', 'b']`` (the contract's multi-valued text fields)."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    return [t.strip() for t in str(value).split(";") if t.strip()]
