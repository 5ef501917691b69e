"""One rule for lift3d's typed configs: a misspelt field is an error, never a silent default.

Every config dataclass of :mod:`infantpose.lift3d` mixes in :class:`CheckedConfig`, whose
constructors from names (:meth:`~CheckedConfig.from_dict`, :meth:`~CheckedConfig.replace`,
and the presets such as ``LiftConfig.fast(**overrides)``) check the names through
:func:`infantpose.config.check_keys`, which raises :class:`~infantpose.config.ConfigError`
with the closest field ("did you mean"). Its values are checked as it is made
(:func:`infantpose.config.check_values`): each number of its declared type, finite, and inside
the interval its class gives in ``_limits``, so ``hypotheses=0`` or ``ipo_lr=nan`` fails at once
with the field's name. A subclass with a ``__post_init__`` of its own calls ``super()``'s first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from ..config import check_keys, check_values

__all__ = ["CheckedConfig"]

C = TypeVar("C", bound="CheckedConfig")


class CheckedConfig:
    """Mixin for dataclasses: ``from_dict``, ``replace`` and ``to_dict`` with checked names."""

    #: Fields whose values are configs themselves (name -> class), built from nested mappings.
    _nested: ClassVar[dict[str, type]] = {}
    #: The interval of each numeric field that has one, e.g. ``{"steps": "[1, inf)"}``.
    _limits: ClassVar[dict[str, str]] = {}

    def __post_init__(self) -> None:
        check_values(self, type(self).__name__, self._limits)

    @classmethod
    def from_dict(cls: type[C], values: Mapping[str, Any], where: str | None = None) -> C:
        """Build from a mapping of field names; unknown names raise ``ConfigError``.

        A nested config given as a mapping changes only the fields it names, starting from the
        field's default (``{"lift": {"init": "flat"}}`` keeps the other lifting settings).
        """
        return cls._build({}, values, where or cls.__name__)

    @classmethod
    def _preset(cls: type[C], name: str, values: Mapping[str, Any], overrides: Mapping) -> C:
        return cls._build(values, overrides, f"{cls.__name__}.{name}")

    @classmethod
    def _build(cls: type[C], base: Mapping[str, Any], values: Mapping[str, Any], where: str) -> C:
        if not isinstance(values, Mapping):
            from ..config import ConfigError

            raise ConfigError(f"{where}: expected a mapping of field names, got {values!r}")
        check_keys(values, cls, where)
        merged = {**base, **values}
        defaults = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        for name, kind in cls._nested.items():
            change = values.get(name)
            if not isinstance(change, Mapping):
                continue
            start = base.get(name)
            if start is None:
                field = defaults[name]
                start = field.default_factory() if callable(field.default_factory) else kind()
            check_keys(change, kind, f"{where}.{name}")
            merged[name] = dataclasses.replace(start, **change)
        return cls(**merged)

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes``; unknown names raise ``ConfigError``."""
        check_keys(changes, self, f"{type(self).__name__}.replace")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
