"""The one registry of indicators, keyed by stable id."""

from __future__ import annotations

import re

from pydantic import ValidationError

from riskmodel.errors import SettingsError
from riskmodel.indicators.base import ENTITY_TYPES, Indicator

REGISTRY: dict[str, type[Indicator]] = {}
_ID = re.compile(r"(PRC|BID|RMB|LEAF|HR|REL)-\d{3}")
_REQUIRED = ("title_zh", "title_en", "entity", "why", "source", "methodology", "reason_zh", "reason_en")


def register(cls: type[Indicator]) -> type[Indicator]:
    """Class decorator adding an indicator to the catalogue (checks its catalogue fields)."""
    if not _ID.fullmatch(getattr(cls, "id", "")):
        raise TypeError(f"{cls.__name__}: id must look like PRC-001 (families PRC, BID, RMB, LEAF, HR, REL)")
    if cls.id in REGISTRY and REGISTRY[cls.id] is not cls:
        raise TypeError(f"indicator id {cls.id} is used twice ({REGISTRY[cls.id].__name__}, {cls.__name__})")
    missing = [f for f in _REQUIRED if not getattr(cls, f, "")]
    if missing:
        raise TypeError(f"{cls.id}: missing catalogue field(s) {missing}")
    if cls.entity not in ENTITY_TYPES:
        raise TypeError(f"{cls.id}: entity {cls.entity!r} is not one of {ENTITY_TYPES}")
    REGISTRY[cls.id] = cls
    return cls


FAMILY_MODULES = ("riskmodel.indicators.procurement", "riskmodel.indicators.bids", "riskmodel.indicators.reimbursement",
                  "riskmodel.indicators.leaf", "riskmodel.indicators.hr", "riskmodel.graph.indicators")


def _load_families() -> None:
    """Import the family modules (importing registers their indicators)."""
    import importlib
    import importlib.util

    for name in FAMILY_MODULES:
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) and importlib.util.find_spec(name):
            importlib.import_module(name)


def all_indicators() -> dict[str, type[Indicator]]:
    """Every registered indicator class, by id, sorted."""
    _load_families()
    return dict(sorted(REGISTRY.items()))


def configured(settings=None, only: list[str] | None = None) -> list[Indicator]:
    """Instantiate indicators with parameters from the settings' ``indicators`` section.

    An unknown id or parameter raises :class:`~riskmodel.errors.SettingsError` naming it.
    """
    from riskmodel.settings import load_settings

    settings = settings or load_settings()
    cat = all_indicators()
    section = settings.indicators
    unknown = sorted(set(section) - set(cat))
    if unknown:
        raise SettingsError(f"unknown indicator(s) in settings 'indicators': {', '.join(unknown)}; "
                            f"run 'riskmodel indicators list' for the ids")
    wanted = only or list(cat)
    bad = [i for i in wanted if i not in cat]
    if bad:
        raise SettingsError(f"unknown indicator id(s) {', '.join(bad)}; run 'riskmodel indicators list' for the ids")
    out = []
    for iid in wanted:
        try:
            out.append(cat[iid](policy=settings.policy, **(section.get(iid) or {})))
        except ValidationError as exc:
            e = exc.errors()[0]
            raise SettingsError(f"setting 'indicators.{iid}.{'.'.join(map(str, e['loc']))}': {e['msg']} "
                                f"(known parameters: {', '.join(cat[iid].Params.model_fields)})") from exc
    return out
