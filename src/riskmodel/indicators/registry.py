"""The one registry of indicators, keyed by stable id."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from riskmodel.errors import SettingsError

if TYPE_CHECKING:  # the base (pydantic, pandas) is imported by the family modules that register; titles() needs neither
    from riskmodel.indicators.base import Indicator

REGISTRY: dict[str, type[Indicator]] = {}
_ID = re.compile(r"(PRC|BID|RMB|LEAF|HR|REL)-\d{3}")
_REQUIRED = ("title_zh", "title_en", "entity", "why", "source", "methodology", "reason_zh", "reason_en")


def register(cls: type[Indicator]) -> type[Indicator]:
    """Class decorator adding an indicator to the catalogue (checks its catalogue fields)."""
    from riskmodel.indicators.base import ENTITY_TYPES

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


def _declared_titles(path: Path) -> dict[str, tuple[str, str]]:
    """``{id: (title_zh, title_en)}`` of the ``@register`` classes in one module's source, read without importing it."""
    out = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if not isinstance(node, ast.ClassDef) or not any(
                isinstance(d, ast.Name) and d.id == "register" for d in node.decorator_list):
            continue
        consts = {t.id: st.value.value for st in node.body if isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant)
                  for t in st.targets if isinstance(t, ast.Name)}
        if all(isinstance(consts.get(k), str) for k in ("id", "title_zh", "title_en")):
            out[consts["id"]] = (consts["title_zh"], consts["title_en"])
    return out


@lru_cache(maxsize=1)
def _catalogue_titles() -> dict[str, tuple[str, str]]:
    import riskmodel

    root = Path(riskmodel.__file__).parent
    found: dict[str, tuple[str, str]] = {}
    for name in FAMILY_MODULES:
        path = root.joinpath(*name.split(".")[1:]).with_suffix(".py")
        if path.is_file():
            found.update(_declared_titles(path))
    return found


def titles(ids: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
    """Chinese and English titles by indicator id, without importing every family module.

    A report that only names indicators should not pay for importing the code that computes them (pandas,
    DuckDB, SciPy and the graph room: seconds).  The titles are read from the family modules' source: the ``id``,
    ``title_zh`` and ``title_en`` literals of each ``@register`` class.  Indicators already imported, and any
    id the source does not declare literally, come from the registry itself, so the answer always equals
    ``{i: (c.title_zh, c.title_en) for i, c in all_indicators().items()}``.

    Parameters
    ----------
    ids : iterable of str, optional
        The ids wanted (default: the whole catalogue).  Ids that are not indicators are left out.

    Returns
    -------
    dict of str to (str, str)

    Examples
    --------
    >>> titles(["PRC-002"])
    {'PRC-002': ('化整为零规避招标', 'Split purchase under the tender limit')}
    """
    found = dict(_catalogue_titles())
    found.update({i: (c.title_zh, c.title_en) for i, c in REGISTRY.items()})
    wanted = set(found) if ids is None else set(ids)
    if ids is None or wanted - set(found):
        # something the source does not declare literally (or the whole catalogue asked for): ask the registry
        found.update({i: (c.title_zh, c.title_en) for i, c in all_indicators().items()})
    return {i: found[i] for i in sorted(wanted) if i in found}


def configured(settings=None, only: list[str] | None = None) -> list[Indicator]:
    """Instantiate indicators with parameters from the settings' ``indicators`` section.

    An unknown id or parameter raises :class:`~riskmodel.errors.SettingsError` naming it.
    """
    from pydantic import ValidationError

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
