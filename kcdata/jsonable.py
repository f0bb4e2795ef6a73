"""Library results as plain JSON values: the ``data`` of every ``--json`` envelope.

Objects that know their own JSON shape (:class:`kcdata.problems.Problem` and its kin) say so with a
``to_dict()`` method; other dataclasses serialise field by field (private ``_`` fields left out).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any


def fields_of(value: Any) -> dict[str, Any]:
    """A dataclass instance's public fields, each converted by :func:`to_jsonable`."""
    return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
            if not f.name.startswith("_")}


def to_jsonable(value: Any) -> Any:
    """Convert library results (dataclasses, enums, dates, paths) into plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        return to_jsonable(to_dict()) if to_dict is not None else fields_of(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, str | bytes):
        return [to_jsonable(v) for v in value]
    return value


__all__ = ["fields_of", "to_jsonable"]
