"""The environment files agree with each other and with what is installed."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for line in requirements:
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"{line!r} is not pinned with =="
        pins[_canonical(name)] = version.strip()
    return pins


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return _pins(project["dependencies"] + project["optional-dependencies"]["dev"])


def environment_yml_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    return _pins(pip_sections[0])


def constraints_pins() -> dict[str, str]:
    return _pins((ROOT / "constraints.txt").read_text().splitlines())


def test_environment_yml_has_the_same_pins_as_pyproject():
    assert environment_yml_pins() == pyproject_pins()


def test_environment_yml_python_matches_requires_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == "python=3.11" and requires.startswith(">=3.11")


def test_constraints_agree_with_pyproject():
    constraints = constraints_pins()
    for name, version in pyproject_pins().items():
        assert constraints.get(name) == version, f"constraints.txt pins {name} differently"


@pytest.mark.parametrize("name", sorted(pyproject_pins()))
def test_installed_versions_match_the_pins(name):
    installed = metadata.version(name).split("+")[0]  # torch's "+cpu" local label
    assert installed == pyproject_pins()[name]
