"""One typed config class for the whole package: checked names, checked numbers, one way in.

Every config dataclass of the package (pose2d's, shift's, lift3d's) mixes in
:class:`CheckedConfig`. A config comes from a mapping (a profile's YAML, a JSON file, the dict
saved in a checkpoint) through :meth:`~CheckedConfig.from_dict`, is changed through
:meth:`~CheckedConfig.replace` and goes back through :meth:`~CheckedConfig.to_dict` (plain JSON
values: nested configs as mappings, tuples as lists). Names are checked by
:func:`infantpose.config.check_keys` (a misspelt field is a :class:`~infantpose.config.ConfigError`
naming the closest field, never a silent default), values by
:func:`infantpose.config.check_values` as the config is made: each number of its declared type,
finite and inside the interval its class gives in ``_limits``, so ``lr=nan`` or ``steps=0``
fails at once with the field's name. A subclass with a ``__post_init__`` of its own calls
``super()``'s first.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from .config import ConfigError, check_keys, check_values

__all__ = ["CheckedConfig"]

C = TypeVar("C", bound="CheckedConfig")


class CheckedConfig:
    """Mixin for dataclasses: ``from_dict``, ``replace`` and ``to_dict`` with checked names and
    values (see the module docstring)."""

    #: Fields whose values are configs themselves (name -> class), built from nested mappings.
    _nested: ClassVar[dict[str, type]] = {}
    #: The interval of each numeric field that has one, e.g. ``{"steps": "[1, inf)"}``.
    _limits: ClassVar[dict[str, str]] = {}
    #: Names that moved into a nested config (old name -> nested field), still read from
    #: mappings so that files written before the move load: ``{"codec": "model"}``.
    _moved: ClassVar[dict[str, str]] = {}

    def __post_init__(self) -> None:
        name = type(self).__name__
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if field.name in self._nested and isinstance(value, Mapping):
                start = _default(field) or self._nested[field.name]()
                value = start._changed(value, f"{name}.{field.name}")
                object.__setattr__(self, field.name, value)
        check_values(self, name, self._limits)
        for field, kind in _tuple_fields(type(self)).items():
            value = getattr(self, field)
            if isinstance(value, tuple | list):
                object.__setattr__(self, field, _as_tuple(value, kind))

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
        values = cls._fold_moved(values, where)
        check_keys(values, cls, where)
        merged = {**base, **values}
        for name in cls._nested:
            change, start = values.get(name), base.get(name)
            if isinstance(change, Mapping) and start is not None:
                merged[name] = start._changed(change, f"{where}.{name}")
        return cls(**merged)

    @classmethod
    def _fold_moved(cls, values: Mapping[str, Any], where: str) -> Mapping[str, Any]:
        """``values`` with each moved name put into the nested mapping it moved to."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"{where}: expected a mapping of field names, got {values!r}")
        if not any(old in values for old in cls._moved):
            return values
        values = dict(values)
        for old, into in cls._moved.items():
            if old in values:
                nested = values.get(into)
                nested = nested.to_dict() if isinstance(nested, CheckedConfig) else nested
                values[into] = {**(nested or {}), old: values.pop(old)}
        return values

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes``; a nested config may be given as a mapping of the fields
        that change. Unknown names raise ``ConfigError`` (with the closest name)."""
        return self._changed(changes, f"{type(self).__name__}.replace")

    def _changed(self: C, changes: Mapping[str, Any], where: str) -> C:
        changes = dict(self._fold_moved(changes, where))
        check_keys(changes, self, where)
        for name in self._nested:
            change, current = changes.get(name), getattr(self, name)
            if isinstance(change, Mapping) and current is not None:
                changes[name] = current._changed(change, f"{where}({name}=...)")
        # Not dataclasses.replace: it would pass init-only arguments (a moved name) their
        # current value; here only fields are carried over.
        kept = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}  # type: ignore[arg-type]
        return type(self)(**{**kept, **changes})

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON values: nested configs as mappings, tuples as lists."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _default(field: dataclasses.Field) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None if field.default is dataclasses.MISSING else field.default


def _plain(value: Any) -> Any:
    if isinstance(value, CheckedConfig):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _tuple_kind(kind: Any) -> Any:
    """``tuple[...]`` out of ``kind`` (also out of ``tuple[...] | None``), else None."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kinds = [k for k in typing.get_args(kind) if k is not type(None)]
        kind = kinds[0] if len(kinds) == 1 else None
    return kind if typing.get_origin(kind) is tuple else None


@functools.cache
def _tuple_fields(cls: type) -> dict[str, Any]:
    """The fields of ``cls`` declared as tuples, with their ``tuple[...]`` type."""
    hints = typing.get_type_hints(cls)
    kinds = {f.name: _tuple_kind(hints.get(f.name)) for f in dataclasses.fields(cls)}
    return {name: kind for name, kind in kinds.items() if kind is not None}


def _as_tuple(value: tuple | list, kind: Any) -> tuple:
    """A list read from YAML or JSON as the declared tuple; the numbers of an ``int`` or
    ``float`` tuple as that type (``check_values`` has already checked them)."""
    elements = {a for a in typing.get_args(kind) if a is not Ellipsis}
    if elements in ({int}, {float}):
        (element,) = elements
        return tuple(element(v) for v in value)
    return tuple(value)
