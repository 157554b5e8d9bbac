"""Project hygiene: environment.yml matches pyproject.toml; notebooks are committed clean; CI calls the README's command."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_NAME = {"duckdb": "python-duckdb"}
CONDA_ONLY = {"python", "pip", "font-ttf-noto-cjk"}


def _req(spec: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(>=\s*[0-9][^,;\s]*)?.*", spec)
    assert m, spec
    return m.group(1).lower(), (m.group(2) or "").replace(" ", "")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_req(s) for s in py["dependencies"] + py["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    have = {}
    for dep in env["dependencies"]:
        for spec in (dep["pip"] if isinstance(dep, dict) else [dep]):
            name, bound = _req(spec)
            have[name] = bound
    for name, bound in wanted.items():
        conda = CONDA_NAME.get(name, name)
        assert conda in have, f"{name} is in pyproject.toml but not in environment.yml"
        assert have[conda] == bound, f"{name}: pyproject says {bound!r}, environment.yml says {have[conda]!r}"
    extra = set(have) - {CONDA_NAME.get(n, n) for n in wanted} - CONDA_ONLY
    assert not extra, f"environment.yml lists packages pyproject.toml does not: {extra}"


def test_notebooks_are_committed_without_outputs_and_with_parameters():
    for nb_path in (ROOT / "notebooks").rglob("*.ipynb"):
        if ".ipynb_checkpoints" in nb_path.parts:
            continue
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert not any(c.get("outputs") for c in code), f"{nb_path} has outputs: run nbstripout on it"
        assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in code), f"{nb_path} has no cell tagged 'parameters'"


def test_ci_and_readme_use_the_two_commands():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
