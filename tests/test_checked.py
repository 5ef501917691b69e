"""One checked config class for every typed config: names, numbers and the way in from a mapping."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
import pkgutil
from dataclasses import InitVar, dataclass, field
from typing import ClassVar

import pytest

from infantpose.checked import CheckedConfig
from infantpose.config import ConfigError


@dataclass(frozen=True)
class Inner(CheckedConfig):
    sigma: float = 1.0
    sizes: tuple[int, ...] = (2, 4)

    _limits: ClassVar[dict[str, str]] = {"sigma": "(0, inf)", "sizes": "[1, inf)"}


@dataclass
class Outer(CheckedConfig):
    inner: Inner = field(default_factory=lambda: Inner(sigma=3.0))
    steps: int = 10
    sigma: InitVar[float | None] = None  # moved into `inner`

    _nested: ClassVar[dict[str, type]] = {"inner": Inner}
    _limits: ClassVar[dict[str, str]] = {"steps": "[1, inf)"}
    _moved: ClassVar[dict[str, str]] = {"sigma": "inner"}

    def __post_init__(self, sigma: float | None) -> None:
        super().__post_init__()
        if sigma is not None:
            self.inner = self.inner.replace(sigma=sigma)


def test_names_are_checked_everywhere_with_the_closest_one():
    with pytest.raises(
        ConfigError, match=r"Outer: unknown field\(s\) `step` \(did you mean `steps`"
    ):
        Outer.from_dict({"step": 3})
    with pytest.raises(ConfigError, match=r"Outer.replace\(inner=...\).*did you mean `sizes`"):
        Outer().replace(inner={"size": (1,)})
    with pytest.raises(ConfigError, match=r"Outer.inner.*did you mean `sigma`"):
        Outer(inner={"sigmaa": 1.0})
    with pytest.raises(ConfigError, match="expected a mapping"):
        Outer.from_dict([("steps", 3)])


def test_numbers_are_checked_by_the_one_rule():
    for bad in ({"steps": 0}, {"steps": 2.5}, {"inner": {"sigma": math.nan}},
                {"inner": {"sizes": (1, 0)}}):  # fmt: skip
        with pytest.raises(ConfigError, match="it must be"):
            Outer.from_dict(bad)


def test_mappings_change_the_fields_they_name_and_round_trip_as_json():
    assert Outer.from_dict({"inner": {"sizes": [8]}}).inner == Inner(sigma=3.0, sizes=(8,))
    changed = Outer().replace(inner={"sizes": [1, 2, 3]}).replace(inner={"sigma": 0.5})
    assert changed.inner == Inner(sigma=0.5, sizes=(1, 2, 3))  # from the current value
    plain = changed.to_dict()
    assert plain == {"inner": {"sigma": 0.5, "sizes": [1, 2, 3]}, "steps": 10}
    assert Outer.from_dict(json.loads(json.dumps(plain))) == changed


def test_a_moved_name_still_reads_from_old_files_and_arguments():
    assert Outer.from_dict({"sigma": 2.0, "steps": 3}).inner.sigma == 2.0
    assert Outer(sigma=2.0).inner == Inner(sigma=2.0)
    assert Outer(sigma=2.0).replace(steps=4).inner.sigma == 2.0  # not reset by a replace
    assert Outer().replace(sigma=5.0, inner={"sizes": (3,)}).inner == Inner(5.0, (3,))
    assert "sigma" not in Outer(sigma=2.0).to_dict()  # one place only


def _configs_of(package: str) -> list[type]:
    found = []
    module = importlib.import_module(f"infantpose.{package}")
    for info in pkgutil.iter_modules(module.__path__):
        if info.name == "__main__":
            continue
        child = importlib.import_module(f"infantpose.{package}.{info.name}")
        found += [
            cls
            for _, cls in inspect.getmembers(child, inspect.isclass)
            if cls.__module__ == child.__name__
            and dataclasses.is_dataclass(cls)
            and hasattr(cls, "from_dict")
        ]
    return found


@pytest.mark.parametrize("package", ["pose2d", "shift", "lift3d"])
def test_every_typed_config_of_the_models_is_a_checked_config(package):
    configs = _configs_of(package)
    assert configs
    hand_made = [cls.__name__ for cls in configs if not issubclass(cls, CheckedConfig)]
    assert not hand_made, f"give these CheckedConfig instead of their own from_dict: {hand_made}"
    for cls in configs:
        default = cls()
        assert cls.from_dict(json.loads(json.dumps(default.to_dict()))) == default, cls.__name__
