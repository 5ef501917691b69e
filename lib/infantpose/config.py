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

A profile is parsed with limits (:func:`read_yaml`): UTF-8 only, no duplicate key, at most
:data:`YAML_MAX_ALIASES` aliases and :data:`YAML_MAX_DEPTH` levels of nesting, each refusal
naming the file and the line. ``name`` and the chapter names become folders under the runs
root, so they must be plain names (:data:`NAME_PATTERN`).
"""

from __future__ import annotations

import contextlib
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

#: A profile's ``name`` and chapter names: they name folders under the runs root.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")

#: Limits on a YAML profile: a few aliases are handy, thousands are an expansion bomb.
YAML_MAX_ALIASES = 32
YAML_MAX_DEPTH = 32
YAML_MAX_BYTES = 1_000_000


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


def _interval(spec: str) -> tuple[float, float, bool, bool]:
    low, high = (float(v) for v in spec[1:-1].split(","))
    return low, high, spec[0] == "[", spec[-1] == "]"


def _scalar_problem(value: Any, kind: Any, spec: str | None) -> str | None:
    """Why ``value`` is not a ``kind`` (int, float or bool) inside ``spec``; None if it is."""
    import numbers

    if kind is bool:
        return None if isinstance(value, bool) else "true or false"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return "an integer" if kind is int else "a number"
    if kind is int and not isinstance(value, numbers.Integral):
        return "an integer (a count has no fraction)"
    if not math.isfinite(float(value)):
        return "a finite number"
    if spec:
        low, high, low_in, high_in = _interval(spec)
        inside = (value >= low if low_in else value > low) and (
            value <= high if high_in else value < high
        )
        if not inside:
            return f"in {spec}"
    return None


def check_values(config: Any, where: str, limits: dict[str, str] | None = None) -> None:
    """Raise :class:`ConfigError` naming the first field of the dataclass instance ``config``
    whose value is not of its declared type (``int``, ``float``, ``bool``, optional or in a
    tuple) or not finite, or lies outside its interval in ``limits`` (``"(0, inf)"``,
    ``"[0, 1)"``, applied to each number of a tuple): a bad value fails before any work, with
    the field's name. The one rule every typed config of the package checks its numbers by."""
    import types
    import typing

    limits = limits or {}
    hints = typing.get_type_hints(type(config))
    for f in fields(config):
        value, kind = getattr(config, f.name), hints.get(f.name)
        args = typing.get_args(kind)
        optional = isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union
        if optional and value is None:
            continue
        if optional:
            kinds = [a for a in args if a is not type(None)]
            kind = kinds[0] if len(kinds) == 1 else None
            args = typing.get_args(kind)
        spec = limits.get(f.name)
        if kind in (int, float, bool):
            problem = _scalar_problem(value, kind, spec)
        elif typing.get_origin(kind) is tuple and args:
            element = args[0]
            if element not in (int, float) or not all(a in (element, Ellipsis) for a in args):
                continue
            if not isinstance(value, tuple | list) or (
                Ellipsis not in args and len(value) != len(args)
            ):
                problem = f"a tuple of {len(args) if Ellipsis not in args else 'any number of'} "
                problem += "integers" if element is int else "numbers"
            else:
                problem = next((p for v in value if (p := _scalar_problem(v, element, spec))), None)
                problem = f"a tuple whose every value is {problem}" if problem else None
        else:
            continue
        if problem:
            raise ConfigError(f"{where}: field `{f.name}` is {value!r}; it must be {problem}")


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


class _LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses duplicate keys, many aliases and deep nesting."""

    def __init__(self, stream: str, where: str) -> None:
        super().__init__(stream)
        self.where, self.aliases, self.depth = where, 0, 0

    def _fail(self, mark: Any, what: str, fix: str) -> ConfigError:
        line = f", line {mark.line + 1}" if mark is not None else ""
        return ConfigError(f"{self.where}{line}: {what}; {fix}")

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > YAML_MAX_ALIASES:
                raise self._fail(
                    self.peek_event().start_mark,
                    f"more than {YAML_MAX_ALIASES} aliases (*name)",
                    "write the values out; a profile says a shared thing once under `parameters:`",
                )
        self.depth += 1
        try:
            if self.depth > YAML_MAX_DEPTH:
                raise self._fail(
                    self.peek_event().start_mark,
                    f"nested more than {YAML_MAX_DEPTH} levels deep",
                    "a profile needs a few levels; flatten it",
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            with contextlib.suppress(TypeError):  # an unhashable key: PyYAML reports it
                if key in seen:
                    raise self._fail(
                        key_node.start_mark,
                        f"key `{key}` appears twice in one mapping (first on line "
                        f"{seen[key].line + 1})",
                        "keep one of them: YAML would silently keep only the last",
                    )
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | os.PathLike) -> Any:
    """Parse the YAML file ``path`` with limits (see the module docstring); every refusal is a
    :class:`ConfigError` naming the file (and the line, where there is one)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > YAML_MAX_BYTES:
            raise ConfigError(
                f"{path}: {size} bytes; a profile is a few kilobytes of settings (at most "
                f"{YAML_MAX_BYTES}): check that this is the profile"
            )
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}: not UTF-8 text (byte {error.start}); save the profile as "
            "UTF-8 (in an editor: 'save with encoding', UTF-8)"
        ) from None
    loader = _LimitedLoader(text, str(path))
    try:
        return loader.get_single_data()
    except ConfigError:
        raise
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None
    except (ValueError, OverflowError, RecursionError) as err:  # e.g. a 5,000-digit integer
        raise ConfigError(
            f"{path}: a value cannot be read ({type(err).__name__}: "
            f"{' '.join(str(err).split())[:200]}); write plain numbers, strings and lists"
        ) from None
    finally:
        loader.dispose()


def _plain_name(value: Any, field_name: str, where: str) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value) or ".." in value:
        raise ConfigError(
            f"{where}: field `{field_name}` is {value!r}; it names a folder under the runs root, "
            "so use letters, digits, '-', '_' and '.' only (no '/', no '..'), e.g. my-profile"
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
    raw = read_yaml(path)
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
        _plain_name(notebook, f"notebooks.{notebook}", where)
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
        name=_plain_name(
            _require(raw, "name", str, where, "the profile's short name"), "name", where
        ),
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
