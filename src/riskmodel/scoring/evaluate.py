"""Evaluation against the synthetic company's ground truth.

This is the only module that reads ``truth/``; features, graph and model code
never do (a test enforces it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel import config
from riskmodel.errors import RiskModelError

_LINKS = {"employee": "employee_id", "supplier": "supplier_id", "grower": "grower_id"}


def load_truth(dataset_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read ``DIR/truth/*.parquet`` (schemes, scheme_entities, lookalikes, lookalike_entities)."""
    d = Path(dataset_dir) / config.TRUTH_DIRNAME
    if not d.is_dir():
        raise RiskModelError(f"{dataset_dir} has no {config.TRUTH_DIRNAME}/ folder: evaluation needs a generated dataset's ground truth")
    return {p.stem: pd.read_parquet(p) for p in d.glob("*.parquet")}


def _touched(flags: pd.DataFrame) -> pd.DataFrame:
    """Every (entity_type, entity_id, indicator_id) a fired flag touches: its entity, its links, its evidence."""
    f = flags[flags.fired.astype(bool)]
    parts = [f[["entity_type", "entity_id", "indicator_id"]]]
    for etype, col in _LINKS.items():
        if col in f:
            g = f[f[col].notna()]
            parts.append(pd.DataFrame({"entity_type": etype, "entity_id": g[col], "indicator_id": g.indicator_id}))
    ev = f[["entity_type", "evidence", "indicator_id"]].explode("evidence").dropna(subset=["evidence"])
    ev = ev.rename(columns={"evidence": "entity_id"})
    ev_types = {"PO": "purchase_order", "CL": "claim", "LP": "leaf_purchase", "T0": "tender"}
    ev["entity_type"] = ev.entity_id.astype(str).str[:2].map(ev_types).fillna(ev.entity_type)
    parts.append(ev[["entity_type", "entity_id", "indicator_id"]])
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def indicator_coverage(flags: pd.DataFrame, truth: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How often planted schemes and their look-alikes light indicators.

    Returns
    -------
    schemes : DataFrame
        Per scheme type: entities, share of entities lit by any indicator, the indicators lit.
    lookalikes : DataFrame
        Per look-alike type: the scheme type it mimics, share of its entities lit by the indicators
        that lit that scheme type (``lit_share``), the same share for the scheme's entities of the same
        entity types (``scheme_share``) and their ratio.
    """
    touched = _touched(flags)
    se = truth["scheme_entities"].merge(truth["schemes"][["scheme_id", "scheme_type"]], on="scheme_id")
    hit = se.merge(touched, on=["entity_type", "entity_id"], how="left")
    rows = []
    lit_by_type = {}
    for st, g in hit.groupby("scheme_type"):
        ent = g.drop_duplicates(["entity_type", "entity_id"])
        lit = g.dropna(subset=["indicator_id"])
        lit_by_type[st] = set(lit.indicator_id)
        rows.append({"scheme_type": st, "schemes": g.scheme_id.nunique(), "entities": len(ent),
                     "lit_share": lit.drop_duplicates(["entity_type", "entity_id"]).shape[0] / max(len(ent), 1),
                     "schemes_lit": lit.scheme_id.nunique(), "indicators": ", ".join(sorted(lit_by_type[st]))})
    schemes = pd.DataFrame(rows)
    le = truth["lookalike_entities"].merge(truth["lookalikes"], on="lookalike_id")
    out = []
    for lt, g in le.groupby("lookalike_type"):
        mimics = g.mimics.iloc[0]
        relevant = set().union(*[v for k, v in lit_by_type.items() if k == mimics]) if mimics in lit_by_type else set()
        types = set(g.entity_type)
        t = touched[touched.indicator_id.isin(relevant)]
        ents = g.drop_duplicates(["entity_type", "entity_id"])
        la_share = ents.merge(t, on=["entity_type", "entity_id"]).drop_duplicates(["entity_type", "entity_id"]).shape[0] / max(len(ents), 1)
        s_ents = se[(se.scheme_type == mimics) & se.entity_type.isin(types)].drop_duplicates(["entity_type", "entity_id"])
        s_share = s_ents.merge(t, on=["entity_type", "entity_id"]).drop_duplicates(["entity_type", "entity_id"]).shape[0] / max(len(s_ents), 1)
        out.append({"lookalike_type": lt, "mimics": mimics, "entities": len(ents), "lit_share": la_share,
                    "scheme_share": s_share, "ratio": la_share / s_share if s_share else np.nan})
    return schemes, pd.DataFrame(out)
