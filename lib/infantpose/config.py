"""Profiles and paths.

A *profile* (``configs/{smoke,default,paper}.yaml``) says how the whole book is run:
which data, which device, the time budgets, and the literals handed to each
chapter's ``parameters`` cell by papermill. Profiles differ only in those literals;
notebooks contain no ``if CI`` branches.

Paths: the data root is ``$INFANTPOSE_DATA`` (default ``<project>/data``) and the
runs root ``$INFANTPOSE_RUNS`` (default ``<project>/runs``); every artifact lives
under one of them, with its config and a ``metrics.json`` beside it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

PROFILE_NAMES = ("smoke", "default", "paper")
DATA_KINDS = ("embedded", "real")


class ConfigError(ValueError):
    """A profile or config file that cannot be used; the message says where and how to fix it."""


def check_keys(keys: Any, allowed: Any, where: str) -> None:
    """Raise :class:`ConfigError` naming every key of ``keys`` not in ``allowed``, with the
    closest allowed name, so that a typo is an error and never a silently ignored setting.

    ``allowed`` is a collection of names or a dataclass (type or instance), whose fields are
    the allowed names. Every typed config of the package checks its keys through this one rule.
    """
    import difflib
    from dataclasses import is_dataclass

    names = {f.name for f in fields(allowed)} if is_dataclass(allowed) else set(allowed)
    unknown = sorted(str(k) for k in keys if k not in names)
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(names), n=1)
        hints.append(f"`{key}`" + (f" (did you mean `{close[0]}`?)" if close else ""))
    raise ConfigError(
        f"{where}: unknown field(s) {', '.join(hints)}; the fields are {', '.join(sorted(names))}"
    )


@dataclass(frozen=True)
class ChapterSpec:
    """What a profile says about one chapter."""

    budget_s: float
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """One way to run the whole book (see the module docstring)."""

    name: str
    description: str
    data: str
    device: str
    book_budget_s: float
    notebook_timeout_s: float
    cell_timeout_s: float
    parameters: dict[str, Any]
    notebooks: dict[str, ChapterSpec]
    paths: dict[str, str | None] = field(default_factory=dict)
    source: str = ""

    def chapter(self, notebook: str) -> ChapterSpec:
        try:
            return self.notebooks[notebook]
        except KeyError:
            raise ConfigError(
                f"{self.source}: no entry for chapter {notebook!r} under `notebooks:`; "
                f"add one with its `budget_s` (and `parameters` if it needs any)"
            ) from None

    def parameters_for(self, notebook: str) -> dict[str, Any]:
        """Shared parameters overridden by the chapter's own."""
        return {**self.parameters, **self.chapter(notebook).parameters}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The checkout holding ``pyproject.toml`` and ``configs/``, searched upwards from ``start``.

    Falls back to the current directory when run outside a checkout.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "configs").is_dir():
            return folder
    return Path.cwd().resolve()


def data_root() -> Path:
    """Where datasets are made or found: ``$INFANTPOSE_DATA`` or ``<project>/data``."""
    return Path(os.environ.get("INFANTPOSE_DATA") or project_root() / "data").resolve()


def runs_root() -> Path:
    """Where runs write checkpoints and metrics: ``$INFANTPOSE_RUNS`` or ``<project>/runs``."""
    return Path(os.environ.get("INFANTPOSE_RUNS") or project_root() / "runs").resolve()


def run_dir(profile: str, notebook: str) -> Path:
    """The folder a chapter writes its artifacts to under one profile."""
    return runs_root() / profile / notebook


def profile_path(name_or_path: str | os.PathLike) -> Path:
    """``"smoke"`` → ``<project>/configs/smoke.yaml``; a path is returned as given."""
    text = str(name_or_path)
    if text in PROFILE_NAMES or not text.endswith((".yaml", ".yml")):
        return project_root() / "configs" / f"{text}.yaml"
    return Path(text)


def _require(mapping: dict, key: str, kind: type | tuple[type, ...], where: str, hint: str) -> Any:
    if key not in mapping:
        raise ConfigError(f"{where}: missing field `{key}`; {hint}")
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}: field `{key}` must be {names}, got {value!r}; {hint}")
    return value


def load_profile(name_or_path: str | os.PathLike) -> Profile:
    """Read and validate a profile; errors name the file and the field."""
    path = profile_path(name_or_path)
    if not path.is_file():
        raise ConfigError(
            f"profile {str(name_or_path)!r}: no file {path}; choose one of "
            f"{', '.join(PROFILE_NAMES)} or pass the path of a YAML profile"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of fields at the top level")
    where = str(path)
    known = {f.name for f in fields(Profile)} - {"source"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(known)}")

    number = (int, float)
    data = _require(raw, "data", str, where, f"one of {DATA_KINDS}")
    if data not in DATA_KINDS:
        raise ConfigError(f"{where}: field `data` is {data!r}; use one of {DATA_KINDS}")
    chapters_raw = _require(raw, "notebooks", dict, where, "map each chapter name to its budget")
    chapters = {}
    for notebook, spec in chapters_raw.items():
        at = f"{where}: notebooks.{notebook}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{at}: expected a mapping with `budget_s` and optional `parameters`")
        extra = sorted(set(spec) - {"budget_s", "parameters"})
        if extra:
            raise ConfigError(f"{at}: unknown field(s) {extra}; allowed: budget_s, parameters")
        budget = _require(spec, "budget_s", number, at, "the chapter's time budget in seconds")
        params = spec.get("parameters") or {}
        if not isinstance(params, dict):
            raise ConfigError(f"{at}.parameters: expected a mapping of parameter names to literals")
        chapters[notebook] = ChapterSpec(budget_s=float(budget), parameters=dict(params))

    paths = raw.get("paths") or {}
    if not isinstance(paths, dict):
        raise ConfigError(f"{where}: field `paths` must map dataset/model names to paths")
    return Profile(
        name=_require(raw, "name", str, where, "the profile's short name"),
        description=_require(raw, "description", str, where, "one line saying what it is for"),
        data=data,
        device=_require(raw, "device", str, where, "cpu, cuda or auto"),
        book_budget_s=float(
            _require(raw, "book_budget_s", number, where, "seconds for the whole book")
        ),
        notebook_timeout_s=float(
            _require(
                raw, "notebook_timeout_s", number, where, "seconds before a chapter is stopped"
            )
        ),
        cell_timeout_s=float(_require(raw, "cell_timeout_s", number, where, "seconds per cell")),
        parameters=dict(raw.get("parameters") or {}),
        notebooks=chapters,
        paths={str(k): (None if v is None else str(v)) for k, v in paths.items()},
        source=where,
    )
