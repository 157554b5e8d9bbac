from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def small_run(small_company, tmp_path_factory):
    """A full run on the small company whose truth/ folder has been removed (so nothing can read it)."""
    from riskmodel.scoring.pipeline import run_pipeline

    blind = tmp_path_factory.mktemp("blind") / "company"
    shutil.copytree(small_company, blind, ignore=shutil.ignore_patterns("truth"))
    out = tmp_path_factory.mktemp("run") / "run"
    run_pipeline(blind, out, progress=False)
    return out
