"""Presets, the generation context (seeded random streams, ids) and the ground-truth recorder."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.settings import Settings


@dataclass(frozen=True)
class Preset:
    """Size of the synthetic company.

    ``schemes`` is how many instances of each scheme type are planted and
    ``lookalikes`` how many of each benign look-alike.
    """

    name: str
    n_counties: int
    n_stations: int
    hq_staff: int
    n_suppliers: int
    n_growers: int
    requisitions_per_year: int
    visits_per_grower: float
    schemes: int
    lookalikes: int
    chunk_stations: int = 40


PRESETS: dict[str, Preset] = {
    "small": Preset("small", n_counties=2, n_stations=10, hq_staff=110, n_suppliers=90, n_growers=2_000,
                    requisitions_per_year=500, visits_per_grower=3.0, schemes=2, lookalikes=2),
    "demo": Preset("demo", n_counties=10, n_stations=60, hq_staff=1_400, n_suppliers=800, n_growers=30_000,
                   requisitions_per_year=4_000, visits_per_grower=4.0, schemes=8, lookalikes=8),
    "large": Preset("large", n_counties=12, n_stations=600, hq_staff=9_000, n_suppliers=5_000, n_growers=400_000,
                    requisitions_per_year=30_000, visits_per_grower=4.5, schemes=40, lookalikes=40, chunk_stations=25),
}


class Context:
    """Everything the area generators share: seed, settings, calendar, ids, ground truth."""

    def __init__(self, preset: Preset, seed: int, settings: Settings):
        self.preset = preset
        self.seed = int(seed)
        self.settings = settings
        g = settings.generator
        self.start = pd.Timestamp(f"{g.start_year}-01-01")
        self.end = pd.Timestamp(f"{g.start_year + g.years - 1}-12-31")
        self.years = list(range(g.start_year, g.start_year + g.years))
        self._counters: dict[str, int] = {}
        self.schemes: list[dict] = []
        self.scheme_entities: list[pd.DataFrame] = []
        self.lookalikes: list[dict] = []
        self.lookalike_entities: list[pd.DataFrame] = []

    def rng(self, name: str) -> np.random.Generator:
        """An independent random stream per name, so one area's draws never shift another's."""
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
        return np.random.default_rng(np.random.SeedSequence([self.seed, key]))

    def ids(self, prefix: str, n: int, width: int = 6) -> np.ndarray:
        start = self._counters.get(prefix, 0)
        self._counters[prefix] = start + n
        return np.char.add(prefix, np.char.zfill(np.arange(start + 1, start + n + 1).astype(str), width)).astype(object)

    # -- ground truth --------------------------------------------------------------
    def new_scheme(self, scheme_type: str, start, end) -> str:
        sid = f"SCH{len(self.schemes) + 1:04d}"
        self.schemes.append({"scheme_id": sid, "scheme_type": scheme_type,
                             "start_date": pd.Timestamp(start).normalize(), "end_date": pd.Timestamp(end).normalize()})
        return sid

    def add_entities(self, scheme_id: str, entity_type: str, ids) -> None:
        ids = pd.unique(pd.Series(np.asarray(ids, dtype=object)).dropna())
        self.scheme_entities.append(pd.DataFrame({"scheme_id": scheme_id, "entity_type": entity_type, "entity_id": ids}))

    def new_lookalike(self, lookalike_type: str, mimics: str) -> str:
        lid = f"LKA{len(self.lookalikes) + 1:04d}"
        self.lookalikes.append({"lookalike_id": lid, "lookalike_type": lookalike_type, "mimics": mimics})
        return lid

    def add_lookalike_entities(self, lookalike_id: str, entity_type: str, ids) -> None:
        ids = pd.unique(pd.Series(np.asarray(ids, dtype=object)).dropna())
        self.lookalike_entities.append(pd.DataFrame({"lookalike_id": lookalike_id, "entity_type": entity_type, "entity_id": ids}))

    def truth_tables(self) -> dict[str, pd.DataFrame]:
        def cat(frames, cols):
            return (pd.concat(frames, ignore_index=True).drop_duplicates() if frames else pd.DataFrame(columns=cols))
        return {
            "schemes": pd.DataFrame(self.schemes, columns=["scheme_id", "scheme_type", "start_date", "end_date"]),
            "scheme_entities": cat(self.scheme_entities, ["scheme_id", "entity_type", "entity_id"]),
            "lookalikes": pd.DataFrame(self.lookalikes, columns=["lookalike_id", "lookalike_type", "mimics"]),
            "lookalike_entities": cat(self.lookalike_entities, ["lookalike_id", "entity_type", "entity_id"]),
        }


def random_dates(rng: np.random.Generator, start, end, n: int, weights_by_month: dict[int, float] | None = None) -> pd.DatetimeIndex:
    """Uniform days in [start, end], optionally re-weighted by calendar month (seasonality)."""
    days = pd.date_range(start, end, freq="D")
    if weights_by_month:
        w = np.array([weights_by_month.get(m, 1.0) for m in days.month], dtype=float)
        return pd.DatetimeIndex(days[rng.choice(len(days), n, p=w / w.sum())])
    return pd.DatetimeIndex(days[rng.integers(0, len(days), n)])


def rotation_year(dates) -> np.ndarray:
    """Rotation happens on 1 March: Jan–Feb belong to the previous rotation year."""
    d = pd.DatetimeIndex(dates)
    return np.where(d.month >= 3, d.year, d.year - 1)
