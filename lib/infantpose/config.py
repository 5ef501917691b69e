"""Profiles and paths.

A *profile* (``configs/{smoke,default,paper}.yaml``) says how the whole book is run:
which data, which device, the time budgets, and the literals handed to each
chapter's ``parameters`` cell by papermill. Profiles differ only in those literals;
notebooks contain no ``if CI`` branches.

Paths: the data root is ``$INFANTPOSE_DATA`` (default ``<project>/data``) and the
runs root ``$INFANTPOSE_RUNS`` (default ``<project>/runs``); every artifact lives
under one of them, with its config and a ``metrics.json`` beside it. The project is the
checkout above the working directory, else the one the package is installed from; with
neither, the environment variables are required (never folders in whatever directory
a command happens to run in).

A profile is checked as it loads: unknown keys (also under ``paths:`` and each chapter)
are errors with the closest known name, budgets must be positive, ``device`` must be
``cpu``, ``cuda``, ``cuda:N`` or ``auto``. :meth:`Profile.check_data` (run before any
chapter) refuses ``data: real`` without any dataset path.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

PROFILE_NAMES = ("smoke", "default", "paper")
DATA_KINDS = ("embedded", "real")

#: What a profile's ``paths:`` may name: the real datasets, then licence-gated files.
DATASET_PATHS = {
    "syrip": "SyRIP root (annotations/, images/)",
    "minirgbd": "MINI-RGBD_web root (01/ … 12/)",
    "surreal": "SURREAL root",
    "coco": "COCO root (annotations/, train2017/, val2017/)",
}
MODEL_PATHS = {
    "smil_model": "smil_web.pkl from the SMIL authors",
    "pose_resnet_coco": "a COCO Pose-ResNet checkpoint (Microsoft .pth.tar or mmpose .pth)",
}
PATH_KEYS = (*DATASET_PATHS, *MODEL_PATHS)

#: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when available).
DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d+)?|auto")


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

    def check_data(self) -> None:
        """Refuse ``data: real`` without any dataset path (it would run the stand-in)."""
        if self.data == "real" and not any(self.paths.get(key) for key in DATASET_PATHS):
            raise ConfigError(
                f"{self.source}: `data: real` but no dataset is configured under `paths:` "
                f"({', '.join(DATASET_PATHS)} are all unset); set `paths.syrip:` to your SyRIP "
                "folder (and the others you have), or use `data: embedded` for the rendered "
                "stand-in"
            )


def _checkout_above(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "configs").is_dir():
            return folder
    return None


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The checkout holding ``pyproject.toml`` and ``configs/``: searched upwards from ``start``
    (default: the working directory), then from where the package is installed (an editable
    install lives in the checkout). Raises :class:`ConfigError` when there is none.
    """
    here = Path(start or Path.cwd()).resolve()
    installed = Path(__file__).resolve().parent
    found = _checkout_above(here) or _checkout_above(installed)
    if found is None:
        raise ConfigError(
            f"no project checkout (a folder with pyproject.toml and configs/) above {here} or "
            f"the installed package {installed}; run from the Infant Pose Book checkout, or "
            "set INFANTPOSE_DATA and INFANTPOSE_RUNS to the folders for datasets and runs"
        )
    return found


def _root(variable: str, folder: str) -> Path:
    if os.environ.get(variable):
        return Path(os.environ[variable]).expanduser().resolve()
    try:
        return (project_root() / folder).resolve()
    except ConfigError as error:
        raise ConfigError(f"{error} (set {variable} for the {folder} root)") from None


def data_root() -> Path:
    """Where datasets are made or found: ``$INFANTPOSE_DATA`` or ``<project>/data``."""
    return _root("INFANTPOSE_DATA", "data")


def runs_root() -> Path:
    """Where runs write checkpoints and metrics: ``$INFANTPOSE_RUNS`` or ``<project>/runs``."""
    return _root("INFANTPOSE_RUNS", "runs")


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


def _positive(mapping: dict, key: str, where: str, hint: str) -> float:
    value = float(_require(mapping, key, (int, float), where, hint))
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{where}: field `{key}` must be > 0 (and finite), got {value!r}; {hint}")
    return value


def _device(value: Any, field_name: str, where: str) -> str:
    if not isinstance(value, str) or not DEVICE_PATTERN.fullmatch(value):
        raise ConfigError(
            f"{where}: field `{field_name}` is {value!r}; use cpu, cuda, cuda:N or auto"
        )
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
    check_keys(raw, {f.name for f in fields(Profile)} - {"source"}, where)

    data = _require(raw, "data", str, where, f"one of {DATA_KINDS}")
    if data not in DATA_KINDS:
        raise ConfigError(f"{where}: field `data` is {data!r}; use one of {DATA_KINDS}")
    chapters_raw = _require(raw, "notebooks", dict, where, "map each chapter name to its budget")
    chapters = {}
    for notebook, spec in chapters_raw.items():
        at = f"{where}: notebooks.{notebook}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{at}: expected a mapping with `budget_s` and optional `parameters`")
        check_keys(spec, ("budget_s", "parameters"), at)
        budget = _positive(spec, "budget_s", at, "the chapter's time budget in seconds")
        params = spec.get("parameters") or {}
        if not isinstance(params, dict):
            raise ConfigError(f"{at}.parameters: expected a mapping of parameter names to literals")
        chapters[notebook] = ChapterSpec(budget_s=float(budget), parameters=dict(params))

    paths = raw.get("paths") or {}
    if not isinstance(paths, dict):
        raise ConfigError(f"{where}: field `paths` must map dataset/model names to paths")
    check_keys(paths, PATH_KEYS, f"{where}: paths")
    for key, value in paths.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(
                f"{where}: `paths.{key}` must be a folder path or null, got {value!r} "
                f"({DATASET_PATHS.get(key) or MODEL_PATHS[key]})"
            )
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ConfigError(f"{where}: field `parameters` must map parameter names to literals")
    if "device" in parameters:
        _device(parameters["device"], "parameters.device", where)
    for notebook, spec in chapters.items():
        if "device" in spec.parameters:
            _device(spec.parameters["device"], f"notebooks.{notebook}.parameters.device", where)
    return Profile(
        name=_require(raw, "name", str, where, "the profile's short name"),
        description=_require(raw, "description", str, where, "one line saying what it is for"),
        data=data,
        device=_device(_require(raw, "device", str, where, "cpu, cuda or auto"), "device", where),
        book_budget_s=_positive(raw, "book_budget_s", where, "seconds for the whole book"),
        notebook_timeout_s=_positive(
            raw, "notebook_timeout_s", where, "seconds before a chapter is stopped"
        ),
        cell_timeout_s=_positive(raw, "cell_timeout_s", where, "seconds per cell"),
        parameters=dict(parameters),
        notebooks=chapters,
        paths={str(k): (None if v is None else str(v)) for k, v in paths.items()},
        source=where,
    )
