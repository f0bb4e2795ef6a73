"""Where frictionless 5 crashes on valid input, the reference engine answers instead (both engines read
cells with frictionless's own readers, so both give this one answer).

- a bound (``minimum`` ...) compared with a value it cannot be compared with (an offset-aware datetime
  against a naive ``minimum``): frictionless raises TypeError; here the cell fails the constraint (it
  cannot be shown to satisfy it), reported as a ``constraint-error``;
- ``unique`` / ``primaryKey`` on ``object``, ``array``, ``geojson`` and ``list`` fields: frictionless keeps
  cast values in a dict and crashes on an unhashable dict or list; here those values are dicts and lists
  that hash and compare as JSON values (``{"a": 1}`` equals ``{"a": 1.0}``, ``true`` is not ``1``).

:func:`apply` is idempotent and called before any frictionless schema is built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from kcdata.validate.values import canonical_value

_applied = False


class JSONObject(dict):  # type: ignore[type-arg]
    """A dict read from a cell: equal and hashed as a JSON value."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(canonical_value(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dict):
            return bool(canonical_value(self) == canonical_value(other))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq


class JSONArray(list):  # type: ignore[type-arg]
    """A list read from a cell: equal and hashed as a JSON value."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(canonical_value(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return bool(canonical_value(self) == canonical_value(other))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq


def _hashable(value: Any) -> Any:
    if type(value) is dict:
        return JSONObject(value)
    if type(value) is list:
        return JSONArray(value)
    return value


def _safe_bound(check: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    @functools.wraps(check)
    def safe(constraint: Any, cell: Any) -> bool:
        try:
            return check(constraint, cell)
        except TypeError:  # e.g. an offset-aware datetime against a naive bound: cannot be shown within it
            return False

    return safe


def _hashable_reader(original: Callable[[Any], Callable[[Any], Any]]) -> Callable[[Any], Callable[[Any], Any]]:
    @functools.wraps(original)
    def create_value_reader(self: Any) -> Callable[[Any], Any]:
        read = original(self)

        def value_reader(cell: Any) -> Any:
            return _hashable(read(cell))

        return value_reader

    return create_value_reader


def apply() -> None:
    """Install the two fixes above into frictionless (once)."""
    global _applied
    if _applied:
        return
    from frictionless import fields
    from frictionless.schema import field as field_module

    for name in ("check_minimum", "check_maximum", "check_exclusiveMinimum", "check_exclusiveMaximum"):
        check = getattr(field_module, name, None)
        if check is not None:
            setattr(field_module, name, _safe_bound(check))
    for cls_name in ("ObjectField", "ArrayField", "GeojsonField", "ListField"):
        cls = getattr(fields, cls_name, None)
        if cls is not None:
            cls.create_value_reader = _hashable_reader(cls.create_value_reader)
    _applied = True
