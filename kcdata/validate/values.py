"""What makes two cast cell values "the same" for ``unique`` and ``primaryKey``.

frictionless keeps the cast values in a dict, so Python's equality decides: ``1.0`` and ``1`` are one
number, ``10:00:00Z`` and ``11:00:00+01:00`` one instant, a naive and an aware time never equal. Objects
and arrays (which frictionless cannot hash) compare as JSON values: ``{"a": 1}`` equals ``{"a": 1.0}``,
``true`` is not ``1``. :func:`canonical_value` maps a value to a hashable key with exactly that equality.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

NAN = object()  # NaN != NaN: a NaN is never a duplicate (the callers give each one its own key)


def canonical_value(value: Any) -> Any:
    """A hashable key: equal keys exactly for values frictionless (or JSON, for objects) counts as equal."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, decimal.Decimal):
        if value.is_nan():
            return NAN
        return ("num", "0" if value.is_zero() else str(value.normalize()))  # 1.0 == 1, -0 == 0
    if isinstance(value, float):
        if value != value:
            return NAN
        if value.is_integer():
            return ("num", str(int(value)) if value else "0")
        return ("num", str(decimal.Decimal(value).normalize()))
    if isinstance(value, int):
        return ("num", str(value))
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        if offset is not None:  # aware: the instant
            return ("datetime-aware", (value.replace(tzinfo=None) - offset).isoformat())
        return ("datetime", value.isoformat())
    if isinstance(value, dt.time):
        offset = value.utcoffset()
        if offset is not None:
            # Python compares aware times by their UTC clock (which may fall on another day)
            seconds = value.hour * 3600 + value.minute * 60 + value.second - offset.total_seconds()
            return ("time-aware", seconds, value.microsecond)
        return ("time", value.isoformat())
    if isinstance(value, dict):
        items = tuple(sorted((str(k), canonical_value(v)) for k, v in value.items()))
        return ("object", items)
    if isinstance(value, (list, tuple)):
        keys = tuple(canonical_value(v) for v in value)
        return (type(value).__name__ if hasattr(value, "_fields") else "array", keys)
    return (type(value).__name__, repr(value))
