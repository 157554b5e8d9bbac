"""Golden fixtures for indicators: tiny hand-made tables where an indicator must fire on the positive
entities and stay silent on the benign look-alikes.

Each family's test module defines ``CASES``, a list of :class:`Case`; ``test_catalogue.py`` checks that every
registered indicator id has a case, and runs them all.  Write only the columns a case needs: :func:`frame`
fills the other contract columns with neutral defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from riskmodel.data.dataset import Dataset
from riskmodel.data.schema import TABLES_BY_NAME
from riskmodel.indicators.registry import all_indicators
from riskmodel.settings import load_settings

_DEFAULTS = {"str": "x", "int": 0, "float": 0.0, "bool": False, "date": pd.Timestamp("2024-01-01"),
             "datetime": pd.Timestamp("2024-01-01 10:00")}


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """A contract table from partial rows: missing columns get neutral defaults (nullable ones stay empty)."""
    t = TABLES_BY_NAME[table]
    df = pd.DataFrame(rows)
    for c in t.columns:
        if c.name not in df:
            df[c.name] = None if c.nullable else _DEFAULTS[c.dtype]
        if c.dtype in ("date", "datetime"):
            df[c.name] = pd.to_datetime(df[c.name])
    return df[t.column_names]


@dataclass
class Case:
    """``fired``: entity ids that must fire; ``silent``: the look-alikes that must not."""

    indicator_id: str
    name: str
    tables: dict[str, list[dict]]
    fired: set[str]
    silent: set[str]
    params: dict = field(default_factory=dict)
    policy: dict = field(default_factory=dict)


def run_case(case: Case) -> pd.DataFrame:
    settings = load_settings(overrides={"policy": case.policy} if case.policy else None)
    cls = all_indicators()[case.indicator_id]
    ind = cls(policy=settings.policy, **case.params)
    data = Dataset.from_frames({name: frame(name, rows) for name, rows in case.tables.items()})
    return ind.run(data)


def check_case(case: Case) -> None:
    flags = run_case(case)
    fired = set(flags.loc[flags.fired, "entity_id"])
    assert case.fired <= fired, f"{case.indicator_id} [{case.name}] should fire on {case.fired - fired}"
    assert not (case.silent & fired), f"{case.indicator_id} [{case.name}] should stay silent on {case.silent & fired}"
    texts = flags.loc[flags.fired & flags.entity_id.isin(case.fired)]
    assert texts.text_zh.notna().all() and texts.text_en.notna().all(), "fired rows carry reason texts"
    assert flags.threshold.notna().all() or case.indicator_id.startswith("REL"), "the threshold used is written"
