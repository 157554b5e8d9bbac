"""What leaves the supervision office names nobody: the de-identified queue, exports and the leadership report of a
real run on the small company hold no raw identifier of it, checked here by plain substring search (not by the
package's own leak scan), and the report's provenance is labelled in its language."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from riskmodel.data.store import read_manifest
from riskmodel.linkage.roles import RoleView
from riskmodel.provenance import code_version
from riskmodel.reports import commands
from riskmodel.reports import supervision as S
from riskmodel.reports.rundata import RunData

DEID_ROLES = ("education_officer", "leadership", "model_reviewer")
#: raw ids as the generator writes them, and partly masked values as the relationship reasons write them
RAW_PATTERNS = {"employee id": r"(?<![0-9A-Za-z])E\d{5}(?!\d)", "grower id": r"(?<![0-9A-Za-z])G\d{6}(?!\d)",
                "station id": r"(?<![0-9A-Za-z])ST\d{3}(?!\d)", "supplier id": r"(?<![0-9A-Za-z])S\d{5}(?!\d)",
                "masked number": r"\d{3,4}(?:\*{3,}|…)\d{4}"}


@pytest.fixture(scope="module")
def run(small_run):
    return RunData(small_run)


@pytest.fixture(scope="module")
def raw_values(small_tables):
    """Every value that names a person, a company or a station: ``value -> table.column``."""
    cols = {"employees": ("employee_id", "name", "id_number", "phone", "address", "bank_account"),
            "growers": ("grower_id", "name", "id_number", "phone", "address", "bank_account"),
            "stations": ("station_id", "name"),
            "suppliers": ("supplier_id", "name", "credit_code", "address", "phone", "bank_account", "legal_rep_name",
                          "legal_rep_id_number", "legal_rep_phone")}
    return {str(v): f"{t}.{c}" for t, cs in cols.items() for c in cs
            for v in small_tables[t][c].dropna().unique() if len(str(v)) >= 2}


def _found(text: str, values: dict[str, str], skip: tuple[str, ...] = ()) -> list[str]:
    hits = [f"{k}: {m}" for k, rx in RAW_PATTERNS.items() for m in set(re.findall(rx, text))]
    return hits + [f"{c}: {v}" for v, c in values.items() if c not in skip and v in text]


def test_the_raw_queue_names_what_must_not_leave(run):
    """The check below means something: the run's own reasons name stations, suppliers and growers."""
    texts = " ".join(r["text_zh"] for rs in run.alerts.reasons for r in rs)
    for name in ("station id", "supplier id", "grower id"):
        assert re.search(RAW_PATTERNS[name], texts), name


def test_no_raw_identifier_in_any_deidentified_queue_or_export(run, small_run, raw_values):
    outs = {}
    for role in DEID_ROLES:
        v = RoleView(role, run.data)
        outs[f"{role}/alerts"] = v.alerts(small_run)
        outs[f"{role}/digests"] = v.digests(small_run)
    quarters = sorted(pd.to_datetime(run.alerts.period).dt.to_period("Q").astype(str).unique())
    for q in quarters:
        for lang in ("zh", "en"):
            for audience in ("leadership", "education_officer"):
                outs[f"queue {q} {lang} {audience}"] = S.queue(run, q, lang, top=None, audience=audience).reset_index()
    assert sum(len(df) for k, df in outs.items() if "alerts" in k) > 0
    for name, df in outs.items():
        text = df.to_csv(index=False)
        # a digest names a unit (a station too) where k people share its post: that label is not a leak
        skip = ("stations.name",) if name.endswith("digests") else ()
        assert not _found(text, raw_values, skip), (name, _found(text, raw_values, skip)[:5])
    # the English queue's reasons say what was removed in English
    en = pd.concat([df.iloc[:, -1] for k, df in outs.items() if " en " in k])
    zh_labels = en.str.contains("某某|某公司|某收购站|已脱敏")
    assert not zh_labels.any(), en[zh_labels].head(3).tolist()


def test_the_leadership_report_names_nobody_and_labels_its_provenance(run, small_run, raw_values, tmp_path):
    out = commands.supervision("2025Q3", "zh", "leadership", small_run, tmp_path)
    html = out["html"].read_text(encoding="utf-8")
    body = html.split("<body", 1)[-1]
    # department and station names appear as units of aggregate tables (alerts per department), never with a person
    assert not _found(body, raw_values, skip=("stations.name",)), _found(body, raw_values, skip=("stations.name",))[:5]
    for label in ("运行目录", "模型", "阈值策略", "数据指纹", "代码版本", "随机种子", "测试期", "数据集", "报告代码版本"):
        assert f">{label}<" in body, label
    for key in ("data_fingerprint", "code_version", "test_periods", ">seed<", ">policy<", "'run'"):
        assert key not in body, key


def test_provenance_keeps_its_keys_and_reads_in_each_language(run):
    p = run.provenance()
    assert list(p) == ["run", "model", "policy", "data_fingerprint", "code_version", "seed", "test_periods", "dataset",
                       "report_code_version"]
    assert p["dataset"]["seed"] == read_manifest(run.data_dir)["seed"], "the synthetic company's generator seed"
    assert p["report_code_version"] == code_version()
    zh, en = run.provenance_table("zh"), run.provenance_table("en")
    assert list(zh.columns) == ["项目", "内容"] and list(en.columns) == ["item", "value"]
    assert len(zh) == len(en) == len(p)
    assert not zh["项目"].str.contains("[A-Za-z_]").any()
    assert "data fingerprint" in set(en["item"]) and p["data_fingerprint"] in set(zh["内容"])
    assert not en["value"].str.contains(r"[\u4e00-\u9fff]").any()
