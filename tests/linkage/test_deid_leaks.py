"""De-identification leaks: stations, suppliers, partly masked values and pseudonyms that look like numbers.

The relationship and leaf-purchasing reasons name stations, suppliers and masked phones, accounts and addresses; a
de-identified output must carry none of them, and a pseudonym must come out of the scrubbers as it went in.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from riskmodel.linkage.deid import PSEUDONYM_RE, Deidentifier, Pseudonymizer, find_leaks

CJK = re.compile(r"[\u4e00-\u9fff]")


def _decimal_pseudonym(p: Pseudonymizer, kind: str = "employee") -> tuple[str, str]:
    """The first id ``E00000``, ``E00001`` … whose pseudonym's 12 hex digits are all decimal (about 1 in 280)."""
    for i in range(100_000):
        v = f"E{i:05d}"
        if p(v, kind)[4:].isdigit():
            return v, p(v, kind)
    raise AssertionError("no all-decimal pseudonym in 100,000 ids")


def test_a_pseudonym_of_decimal_digits_is_not_scrubbed_as_an_account(small_ds, pseud):
    raw, ps = _decimal_pseudonym(pseud)
    assert re.fullmatch(r"EMP-\d{12}", ps) and PSEUDONYM_RE.fullmatch(ps)
    d = Deidentifier(small_ds, pseud)
    text = f"员工 {ps} 在同一天报销2笔；另一账户6228480544988335326"
    out = d.scrub_text(text)
    assert ps in out and "[账号已脱敏]" in out  # the pseudonym stays, the account beside it does not
    # the pseudonym a raw id is replaced by is left alone too (it was scrubbed a second time)
    mine = Deidentifier({"employees": pd.DataFrame({"employee_id": [raw], "name": ["张三丰"]})}, pseud)
    assert mine.scrub_text(f"经查{raw}（张三丰）") == f"经查{ps}（某某）"
    assert mine.scrub_text(f"employee {raw}", lang="en") == f"employee {ps}"


def test_the_leak_scan_does_not_look_inside_a_pseudonym(pseud):
    _, ps = _decimal_pseudonym(pseud)
    digits = ps[4:]
    data = {"employees": pd.DataFrame({"employee_id": ["E1"], "name": ["张三丰"], "bank_account": [digits]})}
    assert find_leaks({"queue": f"对象 {ps}"}, data).empty
    assert len(find_leaks({"queue": f"账户 {digits}"}, data)) == 1  # the same digits on their own are a leak


@pytest.fixture(scope="module")
def who(small_tables):
    """One of each: employee, grower, station, supplier (with a legal representative), from the small company."""
    emp, gro = small_tables["employees"].iloc[11], small_tables["growers"].iloc[17]
    sta, sup = small_tables["stations"].iloc[2], small_tables["suppliers"].iloc[5]
    return {"emp": emp, "gro": gro, "sta": sta, "sup": sup}


def _reasons(w) -> tuple[str, str]:
    """Reasons written the way the leaf, procurement and relationship indicators write them (zh, en)."""
    emp, gro, sta, sup = w["emp"], w["gro"], w["sta"], w["sup"]
    phone = f"{gro.phone[:3]}****{gro.phone[-4:]}"
    acct = f"{emp.bank_account[:4]}…{emp.bank_account[-4:]}"
    addr = emp.address.split("市", 1)[-1][:12] + "…"  # an address as the graph writes it: no province or city, cut at 12
    zh = (f"2025年{sta.station_id}收购烟农{gro.grower_id}的烟叶4,195公斤不合规；{sta['name']}夜间收购；"
          f"员工 {emp['name']}({emp.employee_id}) —[电话 {phone}：电话=电话]— 烟农 {gro['name']}({gro.grower_id})；"
          f"员工 {emp['name']}({emp.employee_id}) —[银行账户 {acct}：工资账户=对公账户]— 供应商 {sup['name']}({sup.supplier_id})；"
          f"员工 {emp['name']}({emp.employee_id}) —[地址 {addr}：住址=注册地址]— 供应商 {sup['name']}({sup.supplier_id})；"
          f"65%支出流向供应商{sup.supplier_id}；法定代表人{sup.legal_rep_name}，电话{sup.phone}，信用代码{sup.credit_code}")
    en = (f"in 2025 {sta.station_id} bought 4,195 kg from grower {gro.grower_id} irregularly; "
          f"employee {emp['name']} ({emp.employee_id}) shares phone {phone} (phone / phone) with grower {gro['name']} ({gro.grower_id}); "
          f"employee {emp['name']} ({emp.employee_id}) shares bank account {acct} with supplier {sup['name']} ({sup.supplier_id}); "
          f"shares address {addr} (home address / registered address); 64% went to supplier {sup.supplier_id}")
    return zh, en


def test_reasons_name_no_station_supplier_or_masked_value(small_ds, pseud, who):
    zh, en = _reasons(who)
    d = Deidentifier(small_ds, pseud)
    out_zh, out_en = d.scrub_text(zh), d.scrub_text(en, lang="en")
    emp, gro, sta, sup = who["emp"], who["gro"], who["sta"], who["sup"]
    raw = [emp.employee_id, emp["name"], gro.grower_id, gro["name"], sta.station_id, sta["name"], sup.supplier_id, sup["name"],
           sup.legal_rep_name, sup.phone, sup.credit_code, gro.phone[-4:] + "：", emp.bank_account[-4:] + "：",
           emp.address.split("市", 1)[-1][:8]]
    for out in (out_zh, out_en):
        assert not [v for v in raw if v in out], out
        assert find_leaks({"reasons": out}, small_ds).empty
    # ids become the pseudonyms the de-identified queue names them by; the rest reads naturally in each language
    for kind, v in (("employee", emp.employee_id), ("grower", gro.grower_id), ("supplier", sup.supplier_id)):
        assert pseud(v, kind) in out_zh and pseud(v, kind) in out_en
    assert out_zh.startswith("2025年某收购站收购烟农") and "某收购站夜间收购" in out_zh and "供应商 某公司(" in out_zh
    assert "—[电话 [已脱敏]：" in out_zh and "—[地址 [已脱敏]：" in out_zh
    assert out_en.startswith("in 2025 a station bought") and "shares phone [removed] (phone" in out_en
    assert "employee [name removed] (EMP-" in out_en and "shares address [removed] (home" in out_en
    assert not CJK.search(out_en), out_en


def test_the_leak_scan_finds_stations_suppliers_and_masked_values(small_ds, who):
    zh, en = _reasons(who)
    leaks = find_leaks({"zh": zh, "en": en}, small_ds)
    found = set(zip(leaks.table, leaks.column))
    for tc in [("stations", "station_id"), ("suppliers", "supplier_id"), ("suppliers", "name"), ("growers", "grower_id"),
               ("*", "partly masked identifier"), ("*", "address cut short")]:
        assert tc in found, (tc, found)
    # a station's name is a unit label (k-anonymous in digests and plans): scrubbed in text, but not a leak in itself
    assert find_leaks({"unit": who["sta"]["name"]}, small_ds).empty


def test_deidentified_alerts_name_no_station_or_supplier(small_ds, small_run, pseud, tmp_path, who):
    """The de-identified queue of a run whose reasons name a station, a supplier and masked values."""
    from riskmodel.linkage.roles import RoleView

    zh, en = _reasons(who)
    run = tmp_path / "run"
    run.mkdir()
    for f in ("flags.parquet", "model_card.json"):
        (run / f).write_bytes((small_run["dir"] / f).read_bytes())
    a = pd.read_parquet(small_run["dir"] / "alerts.parquet")
    a["reasons"] = [[{"feature": "LEAF-005", "indicator_id": "LEAF-005", "value": 1.0, "contribution": 1.0,
                      "text_zh": zh, "text_en": en}]] * len(a)
    a.to_parquet(run / "alerts.parquet", index=False)
    for role in ("education_officer", "leadership", "model_reviewer"):
        v = RoleView(role, small_ds, pseudonymizer=pseud).alerts(run)
        text = v.to_csv(index=False)
        sta, sup = who["sta"], who["sup"]
        assert sta.station_id not in text and sta["name"] not in text and sup.supplier_id not in text and sup["name"] not in text
        assert v.reasons_zh.str.contains("某收购站").all() and v.reasons_en.str.contains("a station").all()
        assert not v.reasons_en.str.contains(CJK).any()


def test_an_address_cut_short_is_removed_even_where_its_street_is_someones_name(pseud):
    data = {"employees": pd.DataFrame({"employee_id": ["E1", "E2"], "name": ["张三丰", "长江"],
                                       "address": ["黑龙江省哈尔滨市道外区长江路138号5单元1201室", "黑龙江省哈尔滨市南岗区学府路1号"]})}
    d = Deidentifier(data, pseud)
    text = "员工 张三丰(E1) —[地址 道外区长江路138号5单…：住址=注册地址]— 供应商 某公司"
    assert set(find_leaks({"reasons": text}, data).column) == {"name", "employee_id", "address cut short"}
    out = d.scrub_text(text)
    assert out == f"员工 某某({pseud('E1')}) —[地址 [已脱敏]：住址=注册地址]— 供应商 某公司"
    assert find_leaks({"reasons": out}, data).empty


def test_the_leak_scan_reads_a_report_with_an_embedded_image_quickly(small_ds):
    """A report's HTML holds long runs without spaces (figures in base64) and an ellipsis elsewhere: looking for an
    address cut short must not try every start in such a run (it took the leadership report's check 18 minutes)."""
    import time

    html = "<img src='data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAAB" * 2400 + "'/> <p>其余略…</p>"
    t = time.perf_counter()
    assert find_leaks({"report": html}, small_ds).empty
    assert time.perf_counter() - t < 10  # seconds
