"""The catalogue as a whole: fields, golden fixtures for every id, generated docs, settings, coverage on the small company."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from riskmodel.cli import main
from riskmodel.errors import SettingsError
from riskmodel.indicators.docs import default_settings_section, index_page, indicator_page
from riskmodel.indicators.registry import all_indicators, configured
from riskmodel.settings import load_settings

from tests.indicators.golden import check_case, run_case

ROOT = Path(__file__).resolve().parents[2]
FAMILY_TEST_MODULES = ["test_procurement", "test_bids", "test_reimbursement", "test_leaf", "test_hr", "test_graph_indicators"]


def _all_cases():
    cases = []
    for name in FAMILY_TEST_MODULES:
        try:
            mod = importlib.import_module(f"tests.indicators.{name}")
        except ModuleNotFoundError:
            continue
        cases += getattr(mod, "CASES", [])
    return cases


def test_at_least_thirty_indicators_with_every_field():
    res = CliRunner().invoke(main, ["indicators", "list", "--format", "json"])
    assert res.exit_code == 0, res.output
    entries = json.loads(res.output)
    assert len(entries) >= 30, f"only {len(entries)} indicators"
    for e in entries:
        for field in ("id", "title_zh", "title_en", "entity", "parameters", "why", "source", "methodology", "exclusions"):
            assert e[field] not in (None, ""), f"{e['id']} lacks {field}"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in e["title_zh"]), f"{e['id']} title_zh is not Chinese"
    families = {e["family"] for e in entries}
    assert {"PRC", "BID", "RMB", "LEAF", "HR"} <= families


def test_every_indicator_has_a_golden_fixture_with_a_positive_and_a_lookalike():
    covered = {}
    for c in _all_cases():
        if c.fired and c.silent:
            covered[c.indicator_id] = True
    missing = sorted(set(all_indicators()) - set(covered))
    assert not missing, f"indicators without a golden fixture (a case that fires and a look-alike that stays silent): {missing}"


def test_docs_are_generated_from_the_registry():
    docs = ROOT / "docs" / "indicators"
    assert (docs / "index.md").read_text(encoding="utf-8") == index_page(), "run: riskmodel indicators docs"
    for iid, cls in all_indicators().items():
        page = docs / f"{iid}.md"
        assert page.is_file() and page.read_text(encoding="utf-8") == indicator_page(cls), f"{page} is stale: run riskmodel indicators docs"
        for section in ("## Methodology", "## Example", "## Why is this a red flag", "## Output", "## Configuration", "## Exclusions"):
            assert section in page.read_text(encoding="utf-8")


def test_settings_file_lists_every_indicator_default():
    data = yaml.safe_load((ROOT / "src" / "riskmodel" / "settings.yaml").read_text(encoding="utf-8"))
    assert data.get("indicators") == default_settings_section(), "run: python scripts/sync_indicator_settings.py"


def test_unknown_indicator_settings_are_errors():
    with pytest.raises(SettingsError, match="PRC-999"):
        configured(load_settings(overrides={"indicators": {"PRC-999": {}}}))
    with pytest.raises(SettingsError, match="window_dayz"):
        configured(load_settings(overrides={"indicators": {"PRC-002": {"window_dayz": 3}}}))
    ind = configured(load_settings(overrides={"indicators": {"PRC-002": {"window_days": 10}}}), only=["PRC-002"])[0]
    assert ind.params.window_days == 10


def test_golden_cases_run_together():
    for case in _all_cases():
        check_case(case)


def test_evidence_is_kept_for_fired_rows_only():
    """Rows that did not fire carry no evidence (memory at scale); fired rows keep theirs."""
    seen_fired_evidence = False
    for case in _all_cases():
        flags = run_case(case)
        if flags.empty:
            continue
        assert all(len(e) == 0 for e in flags.evidence[~flags.fired]), case.id
        seen_fired_evidence |= any(len(e) > 0 for e in flags.evidence[flags.fired])
    assert seen_fired_evidence
