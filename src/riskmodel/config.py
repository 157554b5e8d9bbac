"""Every path riskmodel uses, resolved in one place.

The project root is the folder holding ``pyproject.toml`` when riskmodel runs
from a checkout; otherwise the current working directory.  ``RISKMODEL_HOME``
overrides it (for scheduled runs that live elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _find_root() -> Path:
    env = os.environ.get("RISKMODEL_HOME")
    if env:
        return Path(env).resolve()
    for parent in PACKAGE_DIR.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "riskmodel").is_dir():
            return parent
    return Path.cwd().resolve()


PROJ_ROOT = _find_root()
DATA_DIR = PROJ_ROOT / "data"
RAW_DATA_DIR = DATA_DIR / "raw"
INTERIM_DATA_DIR = DATA_DIR / "interim"
PROCESSED_DATA_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJ_ROOT / "reports"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
DEFAULT_SETTINGS_FILE = PACKAGE_DIR / "settings.yaml"
#: a user's settings file, found in the project root unless ``--settings`` names another
USER_SETTINGS_FILE = PROJ_ROOT / "riskmodel.yaml"
#: the synthetic company ``make demo`` generates
DEMO_DATA_DIR = RAW_DATA_DIR / "demo"
#: name of the ground-truth folder inside a generated dataset; only evaluation may read it
TRUTH_DIRNAME = "truth"

#: the roles that review identified alerts and decide on them: the identified roles of
#: :data:`riskmodel.linkage.roles.POLICIES` (leadership, education officers and model reviewers get de-identified
#: material only: they cannot tell whom an alert concerns, so their word never becomes a training label)
REVIEWER_ROLES = ("supervisor", "analyst")
