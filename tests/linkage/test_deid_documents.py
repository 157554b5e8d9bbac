"""Document ids and fapiao numbers in de-identified outputs.

Anyone with access to the ERP finds the requester of PO0000123, and a fapiao number is a third party's identifier:
de-identified outputs name documents by keyed pseudonyms of their kind (``PO-…``, ``CLM-…``, ``FP-…``), the same for
the same document under one key, and the leak scan counts a raw one.  Identified roles still see the ids.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmodel.cli import main
from riskmodel.data import schema
from riskmodel.linkage import deid as deid_module
from riskmodel.linkage.deid import PSEUDONYM_RE, Deidentifier, IdentifierIndex, LeakError, document_columns, find_leaks
from riskmodel.linkage.roles import RoleView


@pytest.fixture(scope="module")
def docs(small_tables):
    """A purchase order, a claim (with its own fapiao), a leaf purchase, a contract and a supplier's fapiao."""
    po, cl = small_tables["purchase_orders"].iloc[7], small_tables["claims"].iloc[11]
    lp, gc = small_tables["leaf_purchases"].iloc[5], small_tables["grower_contracts"].iloc[3]
    inv = small_tables["invoices"].iloc[4]
    return {"po": po.po_id, "claim": cl.claim_id, "claim_fapiao": cl.invoice_number, "leaf": lp.purchase_id,
            "contract": gc.contract_id, "fapiao": inv.invoice_number}


def _reasons(d) -> tuple[str, str]:
    """Reasons naming documents the way the procurement, reimbursement and leaf indicators write them (zh, en)."""
    zh = (f"采购订单{d['po']}单价高于市场均价42%；发票号码{d['fapiao']}出现在2笔报销、1张供应商发票上，计3次使用"
          f"（报销单{d['claim']}，发票{d['claim_fapiao']}）；订单{d['po']}先开票后下单；"
          f"烟叶收购{d['leaf']}超合同{d['contract']}收购")
    en = (f"purchase order {d['po']} priced 42% above market; fapiao number {d['fapiao']} appears on 2 claim line(s) and "
          f"1 supplier invoice(s) (claim {d['claim']}, fapiao {d['claim_fapiao']}); order {d['po']} invoiced before it "
          f"was placed; leaf purchase {d['leaf']} beyond contract {d['contract']}")
    return zh, en


@pytest.fixture
def doc_run(small_run, tmp_path, docs):
    """The small run with reasons that name documents, and one event alert on the purchase order itself."""
    run = tmp_path / "run"
    run.mkdir()
    for f in ("flags.parquet", "model_card.json"):
        (run / f).write_bytes((small_run["dir"] / f).read_bytes())
    a = pd.read_parquet(small_run["dir"] / "alerts.parquet")
    zh, en = _reasons(docs)
    a["reasons"] = [[{"feature": "PRC-009", "indicator_id": "PRC-009", "value": 1.0, "contribution": 1.0,
                      "text_zh": zh, "text_en": en}]] * len(a)
    event = a.iloc[[0]].assign(alert_id="AL-event0001", entity_type="purchase_order", entity_id=docs["po"], rank=1)
    pd.concat([a, event], ignore_index=True).to_parquet(run / "alerts.parquet", index=False)
    return run


def test_document_columns_come_from_the_data_contract(monkeypatch):
    cols = document_columns()
    for tc in [("purchase_orders", "po_id"), ("requisitions", "requisition_id"), ("tenders", "tender_id"),
               ("claims", "claim_id"), ("invoices", "invoice_id"), ("leaf_purchases", "purchase_id"),
               ("grower_contracts", "contract_id"), ("travel_records", "trip_id")]:
        assert cols[tc] == tc[0]
    # one fapiao, one kind: the same number on a supplier's invoice and on a claim gets the same pseudonym
    assert cols[("claims", "invoice_number")] == cols[("invoices", "invoice_number")] == "invoice_number"
    # master data and people are not documents (people have their own pseudonyms)
    assert {t for t, _ in cols}.isdisjoint({"stations", "budget_lines", "categories", "growers", "suppliers", "employees"})
    # a transaction table the contract gains is covered without touching the de-identification
    extra = schema.Table("refunds", "procurement", "refund_id", "Refunds.", (
        schema.Column("refund_id", "str", "Refund id", unique=True),
        schema.Column("supplier_id", "str", "Supplier", references="suppliers.supplier_id"),
        schema.Column("receipt_number", "str", "Number printed on the refund receipt")))
    monkeypatch.setattr(deid_module, "TABLES", (*schema.TABLES, extra))
    cols = document_columns()
    assert cols[("refunds", "refund_id")] == "refunds" and cols[("refunds", "receipt_number")] == "receipt_number"


def test_scrubbed_text_names_documents_by_stable_pseudonyms(small_ds, pseud, docs):
    d = Deidentifier(small_ds, pseud)
    zh, en = _reasons(docs)
    out_zh, out_en = d.scrub_text(zh), d.scrub_text(en, lang="en")
    for out in (out_zh, out_en):
        assert not [v for v in docs.values() if v in out], out
        assert find_leaks({"reasons": out}, small_ds).empty
    po, fp = pseud(docs["po"], "purchase_orders"), pseud(docs["fapiao"], "invoice_number")
    assert po.startswith("PO-") and fp.startswith("FP-") and pseud(docs["claim"], "claims").startswith("CLM-")
    # the same order twice in one text is recognisably the same, in both languages, and under the same key elsewhere
    assert out_zh.count(po) == 2 and out_en.count(po) == 2
    assert out_zh.startswith(f"采购订单{po}单价") and f"发票号码{fp}出现在" in out_zh and f"烟叶收购{pseud(docs['leaf'], 'leaf_purchases')}超合同" in out_zh
    assert f"(claim {pseud(docs['claim'], 'claims')}, fapiao {pseud(docs['claim_fapiao'], 'invoice_number')})" in out_en
    assert Deidentifier(small_ds, pseud).scrub_text(f"订单{docs['po']}") == f"订单{po}"
    # a fapiao written with spaces or dashes is the same fapiao
    spaced = " ".join(docs["fapiao"][i:i + 4] for i in range(0, len(docs["fapiao"]), 4))
    mine = Deidentifier({"invoices": pd.DataFrame({"invoice_id": ["INV1"], "invoice_number": [spaced], "supplier_id": ["S1"]}),
                         "claims": pd.DataFrame({"claim_id": ["CL1"], "invoice_number": [docs["fapiao"]], "employee_id": ["E1"]})}, pseud)
    assert mine.scrub_text(f"{spaced}；{docs['fapiao']}") == f"{fp}；{fp}"
    # an unknown e-fapiao number (20 digits) is removed too
    assert d.scrub_text("发票号码04400123456789012345") == "发票号码[发票号已脱敏]"


def test_deidentified_alert_export_names_no_document(key_env, small_company, small_ds, pseud, doc_run, docs, tmp_path):
    po = pseud(docs["po"], "purchase_orders")
    for role in ("leadership", "education_officer", "model_reviewer"):
        out = tmp_path / f"{role}.csv"
        r = CliRunner().invoke(main, ["export", "alerts", "--role", role, "--run", str(doc_run), "--out", str(out)],
                               catch_exceptions=False)
        assert r.exit_code == 0, r.output
        text = out.read_text(encoding="utf-8-sig")
        assert not [v for v in docs.values() if v in text]
        assert find_leaks(out, small_company).empty
        got = pd.read_csv(out)
        assert got.reasons_zh.str.count(po).eq(2).all() and got.reasons_en.str.count(po).eq(2).all()
        # the alert on the order names it by the pseudonym its reasons use
        assert got.entity_ref[got.entity_type == "purchase_order"].tolist() == [po]
    # the view the supervision report reads is the same
    v = RoleView("leadership", small_ds, pseudonymizer=pseud).alerts(doc_run)
    assert v.reasons_zh.str.count(po).eq(2).all() and not v.reasons_zh.str.contains(docs["po"], regex=False).any()


def test_identified_views_keep_document_ids(small_ds, doc_run, docs):
    zh, en = _reasons(docs)
    raw = pd.read_parquet(doc_run / "alerts.parquet")
    for role in ("supervisor", "analyst"):
        a = RoleView(role, small_ds).alerts(doc_run)
        assert a.entity_id.tolist() == raw.entity_id.tolist()
        assert [r[0]["text_zh"] for r in a.reasons] == [zh] * len(a) and [r[0]["text_en"] for r in a.reasons] == [en] * len(a)
        assert not PSEUDONYM_RE.search(a.to_csv())


def test_the_leak_scan_counts_a_raw_document_id(small_ds, pseud, docs):
    tables = {"po": ("purchase_orders", "po_id"), "claim": ("claims", "claim_id"), "leaf": ("leaf_purchases", "purchase_id"),
              "contract": ("grower_contracts", "contract_id"), "fapiao": ("invoices", "invoice_number")}
    index = IdentifierIndex.from_data(small_ds)
    for k, tc in tables.items():
        leaks = find_leaks({"reasons": f"见{docs[k]}。"}, small_ds, index=index)
        assert list(zip(leaks.table, leaks.column)) == [tc], (k, leaks)
        assert docs[k] not in leaks.to_csv()  # the finding masks the value
        assert find_leaks({"reasons": f"见{pseud(docs[k], tc[0] if k != 'fapiao' else 'invoice_number')}。"}, small_ds, index=index).empty
    # a document id counts as a whole token: a requisition's id inside a goods receipt's is not a second leak
    gr = small_ds.table("goods_receipts").receipt_id.iloc[0]
    assert gr[1:] in set(small_ds.table("requisitions").requisition_id)
    assert set(find_leaks({"r": f"入库单{gr}"}, small_ds, index=index).table) == {"goods_receipts"}


def test_a_deidentified_view_that_misses_a_document_fails_loudly(small_ds, pseud, doc_run, monkeypatch):
    """A path that forgets to scrub a text must not return it: the leak scan before release stops it."""
    monkeypatch.setattr(Deidentifier, "scrub", lambda self, texts, people=None, lang="zh": texts)
    with pytest.raises(LeakError, match="purchase_orders.po_id|claims.claim_id|invoice_number|leaf_purchases|grower_contracts"):
        RoleView("leadership", small_ds, pseudonymizer=pseud).alerts(doc_run)


def test_the_supervisor_maps_pseudonyms_back_with_the_key(key_env, small_company, small_ds, pseud, doc_run, docs, tmp_path):
    out = tmp_path / "leadership.csv"
    r = CliRunner().invoke(main, ["export", "alerts", "--role", "leadership", "--run", str(doc_run), "--out", str(out)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    text = pd.read_csv(out).reasons_zh.iloc[0]
    refs = list(dict.fromkeys(PSEUDONYM_RE.findall(text)))
    assert len(refs) == 6  # order, two fapiao, claim, leaf purchase, contract
    back = RoleView("supervisor", small_ds, pseudonymizer=pseud).resolve(refs)
    assert set(back.value) == set(docs.values())
    assert dict(zip(back.value, back.table))[docs["po"]] == "purchase_orders"
    r = CliRunner().invoke(main, ["deid", "resolve", *refs, "EMP-000000000000", "--role", "supervisor", "--data", str(small_company)],
                           catch_exceptions=False)
    assert r.exit_code == 1 and docs["po"] in r.output and "1 pseudonym(s) not found" in r.output
    r = CliRunner().invoke(main, ["deid", "resolve", *refs, "--role", "leadership", "--data", str(small_company)])
    assert r.exit_code == 2 and "may not" in r.output and docs["po"] not in r.output


def test_many_document_ids_are_looked_for_in_one_pass(pseud):
    """A demo company has over a million document ids (leaf purchases): indexing them and scrubbing a report's worth
    of text must not cost a pass, or a regular expression, per id."""
    import time

    n = 300_000
    ids = pd.Series([f"LP{i:09d}" for i in range(1, n + 1)])
    data = {"leaf_purchases": pd.DataFrame({"purchase_id": ids, "grader_id": "E00001", "grower_id": "G000001"})}
    text = "；".join(f"烟叶收购{ids.iloc[i]}超合同收购" for i in range(0, n, 600)) * 20  # 10,000 mentions
    t = time.perf_counter()
    d = Deidentifier(data, pseud)
    out = d.scrub_text(text)
    assert find_leaks({"report": out}, data, index=d.index).empty
    assert time.perf_counter() - t < 30  # seconds (about 3 on two busy cores)
    assert out.count(pseud(ids.iloc[600], "leaf_purchases")) == 20 and "LP0" not in out
