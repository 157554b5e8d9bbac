"""Relationship red flags (``REL-…``): shared identifiers between staff and counterparties, bid rings, brokers.

Each indicator reads the relationship graph of the dataset (:func:`~riskmodel.graph.build.graph_frames`, built
once per dataset and cached) and explains itself with the path that links the people involved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.graph.bidding import rings_as_of
from riskmodel.graph.build import cached, grading_evidence, supplier_registrations
from riskmodel.graph.features import dealing_centrality
from riskmodel.graph.links import DEALING_MIN_STRENGTH, KIND_WEIGHTS, MAX_SHARE, conflict_links, related_bidders
from riskmodel.indicators.base import Indicator, Params
from riskmodel.indicators.registry import register

_CP_ZH = {"supplier": "供应商", "grower": "烟农"}


class LinkParams(Params):
    """Parameters shared by the shared-attribute detectors."""

    max_hops: int = 2
    hop_decay: float = 0.5
    max_share: int = MAX_SHARE
    weight_id_number: float = KIND_WEIGHTS["id_number"]
    weight_bank_account: float = KIND_WEIGHTS["bank_account"]
    weight_mobile: float = KIND_WEIGHTS["mobile"]
    weight_landline: float = KIND_WEIGHTS["landline"]
    weight_address: float = KIND_WEIGHTS["address"]


def _kind_weights(p: LinkParams) -> dict:
    return {"id_number": p.weight_id_number, "bank_account": p.weight_bank_account, "mobile": p.weight_mobile,
            "landline": p.weight_landline, "address": p.weight_address}


def _link_kwargs(p: LinkParams) -> dict:
    return {"max_hops": p.max_hops, "hop_decay": p.hop_decay, "kind_weights": _kind_weights(p), "max_share": p.max_share}


def _links(data: Dataset, p: LinkParams) -> pd.DataFrame:
    return cached(data, conflict_links, **_link_kwargs(p))


def link_settings(settings=None) -> tuple[dict, float]:
    """REL-002's configured links (``conflict_links``' keyword arguments) and its threshold, for the graph features
    the scoring uses (:func:`riskmodel.scoring.pipeline.graph_features_for`)."""
    from riskmodel.indicators.registry import configured

    ind = configured(settings, ["REL-002"])[0]
    return _link_kwargs(ind.params), float(ind.params.threshold)


def _start(data: Dataset):
    try:
        return data.period()[0]
    except Exception:  # hand-made data without dated tables
        return pd.NaT


def _link_rows(links: pd.DataFrame) -> pd.DataFrame:
    df = links.copy()
    df["entity_id"] = df.employee_id
    df["value"] = df.strength.astype(float)
    df["supplier_id"] = df.counterparty_id.where(df.counterparty_type.eq("supplier"))
    df["grower_id"] = df.counterparty_id.where(df.counterparty_type.eq("grower"))
    df["counterparty_zh"] = df.counterparty_type.map(_CP_ZH)
    return df


@register
class SharedAttributeLink(Indicator):
    """Employee linked to a supplier or grower through shared identifiers, without handling its business."""

    id = "REL-001"
    title_zh = "员工与供应商/烟农存在身份信息关联"
    title_en = "Employee shares identifiers with a supplier or grower"
    entity = "employee"
    grain = "all"
    tables = ("employees",)
    severity = 1
    why = ("An employee who shares a phone number, home address, bank account or ID number with a supplier (its "
           "legal representative, its registered address or account) or a grower is likely related to it (特定关系人). "
           "Even where the employee does not handle that counterparty's business, colleagues may be influenced and the "
           "relationship should be declared (利益冲突申报); it ranks below the same link with dealings (REL-002).")
    source = ("《中国共产党纪律处分条例》(2023) 第一百零三条 (利用职权为特定关系人谋利); 《国有企业领导人员廉洁从业若干规定》 "
              "(conflicts of interest, related parties); OCP Red Flags for Integrity (2016): links between officials and bidders.")
    methodology = ("Identifiers are normalised (NFKC, digits only for numbers, country code dropped, administrative "
                   "prefixes above the county dropped from addresses) and linked into a graph of entities and attribute "
                   "nodes.  A link through an attribute held by n entities weighs kind_weight / (n − 1) (inverse frequency; "
                   "attributes held by more than `max_share` entities link nobody); several shared attributes combine as "
                   "1 − Π(1 − w); a path of up to `max_hops` links multiplies its links' strengths and `hop_decay` per extra "
                   "hop.  Value: the strongest path's strength from the employee to the counterparty.  Dated when the link "
                   "is known (the data's start, or the supplier's registration).  Once the employee requests, approves, "
                   "buys from or grades the counterparty the pair belongs to REL-002 (dated at that first dealing); "
                   "REL-001 keeps it only where the link was known in an earlier quarter.")
    example = ("Employee 张三's mobile 138-1234-5678 is supplier S1's legal representative's phone, written +86 13812345678: "
               "value 1.0, fires.  Two suppliers in one business park share the switchboard 0451-8500 0000: a landline "
               "shared by 4 weighs 0.3 / 3 = 0.1, and supplier–supplier links are not employee conflicts anyway.")
    output = "value: link strength 0–1; the reason gives the path node → attribute → node."
    exclusions = ("Employee–employee links (spouses who both work here share a home) are never reported, only used as "
                  "steps of a path; attributes held by more than `max_share` entities.")
    reason_zh = "{explanation_zh}（关联强度{value:.2f}，{hops}跳；未发现其经手该{counterparty_zh}业务）"
    reason_en = "{explanation_en} (strength {value:.2f}, {hops} hop(s); no dealings with this {counterparty_type} found)"

    class Params(LinkParams):
        threshold: float = 0.5

    def compute(self, data: Dataset) -> pd.DataFrame:
        df = _link_rows(_links(data, self.params))
        # known from the data's start, or from the supplier's registration where that is later (no look-ahead)
        df["period"] = _start(data)
        since = df.supplier_id.map(supplier_registrations(data))
        df["period"] = since.where(since > df.period, df.period)
        # until the employee first decides on the counterparty's business (REL-002 from then on): a pair that deals
        # later was a link without dealings in the quarters before
        decided = pd.to_datetime(df.first_decided)
        later = decided.dt.to_period("Q") > pd.to_datetime(df.period).dt.to_period("Q")
        df = df[decided.isna() | later.fillna(True)].copy()
        # such a pair's documents are REL-002's evidence (all dated after this row)
        df["evidence"] = [[] if pd.notna(d) else e for d, e in zip(df.first_decided, df.evidence)]
        return df


@register
class DealingWithLinkedParty(Indicator):
    """The requester, approver, buyer or grader handles the business of a supplier or grower they are linked to."""

    id = "REL-002"
    title_zh = "经办/审批/定级人员与其经手的供应商/烟农存在关联"
    title_en = "Requester, approver, buyer or grader linked to the supplier or grower they deal with"
    entity = "employee"
    grain = "event"
    tables = ("employees",)
    severity = 3
    why = ("The strongest relationship signal: a person who requests, approves or places orders with a supplier, or "
           "grades a grower's leaf, while sharing a phone, address, account or ID with it, is deciding on the business of "
           "a related party (利用职权为特定关系人谋利; 人情烟、关系烟).  The supervision platform must flag approvers linked "
           "to the suppliers they approve.")
    source = ("《中国共产党纪律处分条例》(2023) 第一百零三条; 《国有企业领导人员廉洁从业若干规定》 第六条 (related-party "
              "transactions); county tobacco bureaus' 烟叶收购 \"严禁\" lists (no grading for relatives).")
    methodology = ("The links of REL-001 (same weights, hops and normalisation) joined to who handled the counterparty's "
                   "business: requisitions (requester), approval steps (approver), orders (buyer), tenders the supplier bid "
                   "in (their requester and approvers), leaf purchases (grader).  Dated at the pair's first dealing in one of those roles.  Value: the link "
                   "strength; fires at `threshold` (lower than REL-001's: dealing with the party makes a weaker link worth a look).")
    example = ("Manager 李四 approves and requests 9 orders from supplier S2, whose bank account is 李四's salary account: "
               "value 1.0, fires with evidence the 9 orders.")
    output = "value: link strength 0–1; evidence: the orders, tenders or leaf purchases handled (first 50)."
    exclusions = "Receivers and cashiers only (they do not choose the counterparty) count as REL-001."
    reason_zh = "{explanation_zh}；该员工作为{roles_zh}经手其业务{n_dealings}笔（关联强度{value:.2f}）"
    reason_en = "{explanation_en}; the employee handled {n_dealings} of its documents as {roles_en} (strength {value:.2f})"

    class Params(LinkParams):
        threshold: float = DEALING_MIN_STRENGTH

    def compute(self, data: Dataset) -> pd.DataFrame:
        links = _links(data, self.params)
        df = _link_rows(links[links.deals])
        if df.empty:
            return df
        df["period"] = pd.to_datetime(df["first_decided"])
        g = df.counterparty_type.eq("grower")
        if g.any():
            df.loc[g, "evidence"] = grading_evidence(data, df.loc[g, ["employee_id", "grower_id"]]).to_numpy()
        return df


def _rings(data: Dataset, p) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bid rings as seen at the end of every quarter of the tenders' dates (:func:`rings_as_of`)."""
    d = pd.to_datetime(_tender_dates(data)).dropna()
    ends = tuple(pd.period_range(d.min(), d.max(), freq="Q").end_time) if len(d) else (pd.Timestamp.max,)
    return cached(data, rings_as_of, ends=ends, alpha=p.alpha, min_joint=p.min_joint, resolution=p.resolution,
                  min_size=p.min_size, min_members=p.min_members)


def _first_fired(data: Dataset, mem: pd.DataFrame, value: pd.Series, threshold: float) -> pd.DataFrame:
    """One row per supplier from the rings seen quarter by quarter: the first quarter in which its value reached
    ``threshold`` (dated at the last joint tender known then: when the evidence was complete), else its row as
    of the data's end.  Without this a ring's first tender would carry a flag that only later tenders earned."""
    rows = _member_rows(data, mem.assign(value=value.astype(float)))
    rows = rows.sort_values(["as_of", "supplier_id"], kind="stable")
    fired = rows[rows.value >= threshold].drop_duplicates("supplier_id")
    last = rows[rows.as_of.eq(rows.as_of.max()) & ~rows.supplier_id.isin(fired.supplier_id)]
    return pd.concat([fired, last], ignore_index=True).drop(columns="as_of")


class RingParams(Params):
    alpha: float = 0.01
    min_joint: int = 3
    resolution: float = 1.0
    min_size: int = 3
    min_members: int = 3


def _tender_dates(data: Dataset) -> pd.Series:
    return data.sql("SELECT tender_id, close_date FROM tenders").set_index("tender_id").close_date


def _member_rows(data: Dataset, mem: pd.DataFrame) -> pd.DataFrame:
    df = mem.copy()
    dates = _tender_dates(data)
    df["entity_id"] = df.supplier_id
    df["evidence"] = df.joint_tenders
    df["period"] = [dates.reindex(j).max() if len(j) else pd.NaT for j in df.joint_tenders]  # the evidence complete
    df["partners_text"] = ["、".join(p) for p in df.partners]
    df["partners_en"] = [", ".join(p) for p in df.partners]
    return df


@register
class CoBiddingCommunity(Indicator):
    """A supplier in a community of suppliers that bid together far more often than chance explains."""

    id = "REL-003"
    title_zh = "固定投标团伙（共同投标社区）"
    title_en = "Co-bidding community (the same group of bidders again and again)"
    entity = "supplier"
    grain = "all"
    tables = ("bids", "tenders")
    severity = 2
    why = ("Bid rings (围标串标, 陪标) show as the same group of companies meeting in tender after tender; cover bidders "
           "are invited to make a tender look competitive.  Co-bidding far beyond what the suppliers' own activity in "
           "the category explains is the footprint.")
    source = ("OECD, Guidelines for Fighting Bid Rigging in Public Procurement (2009, rev. 2021); Wachs & Kertész (2019), "
              "A network approach to cartel detection in public auction markets, Sci. Rep. 9:10818; 《招标投标法实施条例》第三十九、四十条.")
    methodology = ("Per tender category, the number of tenders two suppliers bid in together is compared with the "
                   "hypergeometric chance given their own bid counts; pairs with at least `min_joint` joint tenders and "
                   "p ≤ `alpha` form the co-bidding graph (weight −log10 p).  Louvain communities (resolution "
                   "`resolution`) of at least `min_size` suppliers are candidate rings.  Value: the tenders in which the "
                   "supplier bid together with at least `min_members` − 1 other members.  The rings are found again at "
                   "the end of every quarter from the tenders closed by then; a supplier's row is that of the first "
                   "quarter it fires in, dated at the last joint tender known then (else its row at the data's end).")
    example = ("Suppliers A, B, C of a category with 20 tenders each bid only in the same 6: p ≈ 2.6e-5 per pair; the "
               "three form a community, value 6 for each, fires.  Four suppliers of a thin market bid in every one of its "
               "tenders: p = 1, no edge, silent.")
    output = "value: joint tenders; evidence: those tenders."
    exclusions = "Thin markets where every supplier bids in every tender (no excess co-bidding); single-source tenders (one bid)."
    reason_zh = "与{partners_text}构成固定投标团伙，{value:.0f}次招标中团伙成员同时投标"
    reason_en = "bids as a group with {partners_en}: members bid together in {value:.0f} tenders"

    class Params(RingParams):
        threshold: float = 5

    def compute(self, data: Dataset) -> pd.DataFrame:
        _, mem = _rings(data, self.params)
        if mem.empty:
            return mem
        return _first_fired(data, mem, mem.n_joint, self.params.threshold)


@register
class BidRotation(Indicator):
    """Winners take turns within a co-bidding community, the losers bidding just above."""

    id = "REL-004"
    title_zh = "团伙内轮流中标"
    title_en = "Bid rotation within a co-bidding community"
    entity = "supplier"
    grain = "all"
    tables = ("bids", "tenders")
    severity = 3
    why = ("In a rotation scheme the ring decides who wins each tender and the others bid above as cover (轮流坐庄、陪标); "
           "the members all win in turn and nearly every tender they meet in goes to one of them.")
    source = ("OECD, Guidelines for Fighting Bid Rigging in Public Procurement (2009, rev. 2021): bid rotation, cover "
              "bidding; Imhof, Karagök & Rutz (2018), Screening for bid rigging — does it work?, J. Competition Law & Econ.")
    methodology = ("For each co-bidding community of REL-003 with at least `min_joint_tenders` joint tenders: rotation = "
                   "(members who won a joint tender) / min(members, joint tenders) × (share of joint tenders a member won). "
                   "Value: the community's rotation, on each member.  The reason adds the cover gap: the median of the "
                   "lowest losing member bid over the winning member bid.  Seen quarter by quarter as REL-003: dated when "
                   "the rotation could first be seen.")
    example = ("A ring of 4 meets in 8 tenders; each member wins 2; every tender goes to a member: value 1.0, fires.  A "
               "community where one member always wins: value 1/3, silent (that is a dominant supplier, not rotation).")
    output = "value: rotation 0–1; evidence: the joint tenders."
    exclusions = "Communities with fewer than `min_joint_tenders` joint tenders."
    reason_zh = "所在投标团伙（{partners_text}）{n_joint}次共同投标中由{distinct_winners}家成员轮流中标{cover_zh}"
    reason_en = "its bidding group ({partners_en}) rotated the wins of {n_joint} joint tenders among {distinct_winners} members{cover_en}"

    class Params(RingParams):
        threshold: float = 0.6
        min_joint_tenders: int = 3

    def compute(self, data: Dataset) -> pd.DataFrame:
        comm, mem = _rings(data, self.params)
        if mem.empty:
            return mem
        mem = mem.drop(columns=["n_joint"]).merge(comm[["as_of", "community", "n_joint", "distinct_winners"]],
                                                  on=["as_of", "community"])
        mem = mem[mem.n_joint >= self.params.min_joint_tenders]
        if mem.empty:
            return mem
        df = _first_fired(data, mem, mem.rotation, self.params.threshold)
        gap = df.cover_gap.astype(float)
        df["cover_zh"] = np.where(gap.notna(), "，陪标报价中位仅高出中标价" + (gap * 100).round(1).astype(str) + "%", "")
        df["cover_en"] = np.where(gap.notna(), ", cover bids a median " + (gap * 100).round(1).astype(str) + "% above the winner", "")
        return df


@register
class RelatedBidders(Indicator):
    """Two bidders in one tender are linked through shared identifiers."""

    id = "REL-005"
    title_zh = "同一招标中投标人之间存在关联"
    title_en = "Related bidders in the same tender"
    entity = "tender"
    grain = "event"
    tables = ("bids", "tenders", "suppliers")
    severity = 3
    why = ("Bidders that share a legal representative, a phone, an account or an address are not independent: the "
           "law treats bids from related companies, or prepared by the same people, as collusion (串通投标).")
    source = ("《招标投标法实施条例》第三十四条 (related bidders may not bid in the same lot) and 第四十条 (bids treated as "
              "collusive: same contact, same account…); OECD Guidelines for Fighting Bid Rigging (2021).")
    methodology = ("Supplier–supplier paths of shared attributes (REL-001's weights, normalisation and hops) between two "
                   "bidders of the same tender.  Value: the strongest pair's strength.")
    example = ("S1's legal representative's phone is S2's company phone and both bid in T1: value 1.0, fires.  Two bidders "
               "in one business park share its switchboard (a landline held by 4 companies): value 0.1, silent.")
    output = "value: strongest link between two of the tender's bidders; evidence: the tender."
    exclusions = "Landlines and addresses shared by many companies (business parks) weigh little; see REL-001's weights."
    reason_zh = "投标人之间存在关联：{explanation_zh}（关联强度{value:.2f}）"
    reason_en = "two bidders are related: {explanation_en} (strength {value:.2f})"

    class Params(LinkParams):
        threshold: float = 0.5

    def compute(self, data: Dataset) -> pd.DataFrame:
        p = self.params
        rb = cached(data, related_bidders, max_hops=p.max_hops, hop_decay=p.hop_decay, kind_weights=_kind_weights(p),
                    max_share=p.max_share)
        if rb.empty:
            return rb
        df = rb.drop_duplicates("tender_id").copy()
        dates = _tender_dates(data)
        df["entity_id"] = df.tender_id
        df["period"] = df.tender_id.map(dates)
        df["value"] = df.strength.astype(float)
        df["supplier_id"] = df.supplier_a
        df["evidence"] = [[t] for t in df.tender_id]
        return df


@register
class DealingBroker(Indicator):
    """An employee sits between far more suppliers and colleagues than others in the same post."""

    id = "REL-006"
    title_zh = "经手关系网络中的异常中介人"
    title_en = "Broker in the dealings network (betweenness far above post peers)"
    entity = "employee"
    grain = "year"
    tables = ("purchase_orders", "employees")
    severity = 1
    threshold_method = "given"
    why = ("Whoever sits between many suppliers and many approvals controls who gets business; power concentrated in "
           "one person is what rotation (轮岗) and separation of duties aim to prevent.  High betweenness compared with "
           "people in the same post marks such a broker.")
    source = ("Freeman (1977), A set of measures of centrality based on betweenness, Sociometry 40(1); "
              "《国有企业领导人员廉洁从业若干规定》 (separation of duties, 关键岗位轮岗).")
    methodology = ("Per year, employees and suppliers are joined by their dealings (requests, approvals, orders, receipts, "
                   "payments, tenders).  Value: the employee's normalised betweenness centrality (exact, igraph) in that graph "
                   "without its pendant nodes (a supplier only one employee handles adds paths through that employee "
                   "alone: busy is not brokering).  "
                   "Threshold per row: Q3 + `fence_k` × IQR of the values of employees in the same post code that year "
                   "(all employees where fewer than `min_peers`), at least `min_threshold`.")
    example = ("Officer B buys from one supplier of each of 9 colleagues: betweenness 0.9, the officers' fence 0.2, fires.  "
               "A colleague with 8 suppliers of his own is busy but sits between nobody: betweenness 0, silent.")
    output = "value: normalised betweenness; threshold: the post's fence."
    exclusions = "Employees without procurement dealings in the year; leaf grading is not part of this network."
    reason_zh = "在{year}年经手关系网络中的中介中心度{value:.4f}，高于同岗位({post_code})上限{threshold:.4f}，连接{n_suppliers}家供应商"
    reason_en = "betweenness {value:.4f} in the {year} dealings network, above the {post_code} peers' fence {threshold:.4f}; deals with {n_suppliers} suppliers"

    class Params(Params):
        fence_k: float = 3.0
        min_threshold: float = 0.005
        min_peers: int = 5

    def compute(self, data: Dataset) -> pd.DataFrame:
        c = dealing_centrality(data, "year")
        df = c[c.entity_type.eq("employee")].copy()
        if df.empty:
            return df
        posts = data.sql("""SELECT e.employee_id AS entity_id, coalesce(p.post_code, e.position_id, 'unknown') AS post_code
                            FROM employees e LEFT JOIN positions p USING (position_id)""") if data.has("positions") else \
            data.sql("SELECT employee_id AS entity_id, position_id AS post_code FROM employees")
        df = df.merge(posts, on="entity_id", how="left")
        df["post_code"] = df.post_code.fillna("unknown")
        df["value"] = df.betweenness.astype(float)

        def fence(v: pd.Series) -> float:
            q1, q3 = np.percentile(v, [25, 75])
            return q3 + self.params.fence_k * (q3 - q1)

        by_post = df.groupby(["period", "post_code"]).value.agg(["size", fence]).rename(columns={"size": "n_peers", "fence": "post_fence"})
        by_year = df.groupby("period").value.agg(fence).rename("year_fence")
        df = df.merge(by_post, left_on=["period", "post_code"], right_index=True).merge(by_year, left_on="period", right_index=True)
        df["threshold"] = np.maximum(np.where(df.n_peers >= self.params.min_peers, df.post_fence, df.year_fence), self.params.min_threshold)
        df["employee_id"] = df.entity_id
        df["n_suppliers"] = df.degree.fillna(0).astype(int)
        df["year"] = pd.to_datetime(df.period).dt.year
        return df
