"""The one settings file: typed, validated, an unknown key is an error naming it.

Defaults live in ``src/riskmodel/settings.yaml``.  A user's file overrides any
subset of keys; every value is checked by pydantic.

Examples
--------
>>> s = load_settings()
>>> s.policy.tender_limit
200000.0
>>> load_settings(overrides={"policy": {"tender_limt": 1}})
Traceback (most recent call last):
...
riskmodel.errors.SettingsError: unknown setting 'policy.tender_limt' in <overrides>; known keys in 'policy': ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskmodel import config
from riskmodel.errors import SettingsError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClaimLimits(_Section):
    meals: float = Field(gt=0)
    hospitality: float = Field(gt=0)
    lodging: float = Field(gt=0)
    fuel: float = Field(gt=0)
    toll: float = Field(gt=0)
    travel: float = Field(gt=0)
    office: float = Field(gt=0)


class Policy(_Section):
    approval_limit: float = Field(gt=0)
    leadership_limit: float = Field(gt=0)
    tender_limit: float = Field(gt=0)
    claim_limits: ClaimLimits
    station_hours: tuple[str, str]
    rotation_years: float = Field(gt=0)
    home_city: str


class Generator(_Section):
    start_year: int = Field(ge=2000, le=2100)
    years: int = Field(ge=1, le=10)
    case_fraction: float = Field(ge=0, le=1)
    case_delay_days: tuple[int, int]


class Scoring(_Section):
    model: str = "xgboost"
    policy: str = "capacity"
    capacity: float = Field(gt=0)
    per_department: bool = False
    target_precision: float = Field(gt=0, le=1)
    review_cost: float = Field(gt=0)
    expected_loss: float = Field(gt=0)
    test_quarters: int = Field(ge=1)
    label_lookback_months: int = Field(ge=1)
    seed: int = 0
    max_queue_share: float = Field(gt=0, le=1)
    top_reasons: int = Field(ge=1, le=10)
    event_capacity: int = Field(ge=0)
    calibration: Literal["isotonic", "sigmoid", "none"] = "none"
    calibration_quarters: int = Field(4, ge=1)
    event_model: Literal["rules", "xgboost", "logistic", "iforest"] = "rules"


class Linkage(_Section):
    """Supervision ↔ education linkage (riskmodel.linkage): de-identification, targeted education, integrity tiers."""

    pseudonym_key_file: str | None = None
    k_anonymity: int = Field(3, ge=2)
    lookback_months: int = Field(24, ge=1)
    min_confirmed: int = Field(1, ge=1)
    min_alerts: int = Field(3, ge=1)
    education_due_days: int = Field(30, ge=1)
    materials_per_plan: int = Field(5, ge=1)
    lagging_share: float = Field(0.5, gt=0, le=1)


class Engine(_Section):
    """Where the work runs (riskmodel.engine): this machine out of core, or a Dask cluster."""

    backend: Literal["local", "dask"] = "local"
    memory_limit: str | None = "6GB"
    temp_directory: str | None = None
    threads: int | None = Field(None, ge=1)
    scheduler: str | None = None
    n_workers: int = Field(2, ge=1)
    threads_per_worker: int = Field(1, ge=1)
    worker_memory: str = "4GB"
    train_partitions: int | None = Field(None, ge=1)


class Settings(_Section):
    policy: Policy
    generator: Generator
    scoring: Scoring
    linkage: Linkage = Field(default_factory=Linkage)
    engine: Engine = Field(default_factory=Engine)
    #: per-indicator parameters, ``{ID: {param: value}}``; checked against each indicator's ``Params``
    #: by :func:`riskmodel.indicators.registry.configured` (unknown ids and keys are errors there)
    indicators: dict[str, dict[str, Any]] = Field(default_factory=dict)


def _deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for k, v in override.items():
        out[k] = _deep_merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def _check_keys(data: Any, model: type[BaseModel], prefix: str, source: str) -> None:
    """Name the first unknown key before pydantic gives its generic message."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        if key not in model.model_fields:
            known = ", ".join(model.model_fields)
            where = prefix.rstrip(".") or "top level"
            raise SettingsError(f"unknown setting '{prefix}{key}' in {source}; known keys in '{where}': {known}")
        ann = model.model_fields[key].annotation
        if key == "indicators" and model is Settings:
            if not isinstance(value, dict) or not all(isinstance(v, dict) or v is None for v in value.values()):
                raise SettingsError(f"'indicators' in {source} must map indicator ids to parameter mappings")
            continue
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            _check_keys(value, ann, f"{prefix}{key}.", source)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise SettingsError(f"settings file {path} does not exist") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"settings file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path} must hold a mapping of sections, not {type(data).__name__}")
    return data


def load_settings(path: str | Path | None = None, overrides: dict | None = None) -> Settings:
    """Load the defaults, then the user's file, then ``overrides``.

    Parameters
    ----------
    path : path-like, optional
        A user's settings file.  When omitted, ``riskmodel.yaml`` in the
        project root is used if it exists.
    overrides : dict, optional
        Nested mapping applied last (used by tests and notebooks).

    Returns
    -------
    Settings
    """
    data = _read_yaml(config.DEFAULT_SETTINGS_FILE)
    if path is None and config.USER_SETTINGS_FILE.is_file():
        path = config.USER_SETTINGS_FILE
    for source, extra in ((str(path), _read_yaml(Path(path)) if path else None), ("<overrides>", overrides)):
        if extra:
            _check_keys(extra, Settings, "", source)
            data = _deep_merge(data, extra)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})" for e in exc.errors()]
        raise SettingsError("invalid settings:\n" + "\n".join(lines)) from exc
