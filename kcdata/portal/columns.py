"""Whole-column write conversion: the upsert hot path.

An upsert batch is converted column by column instead of cell by cell: each column's values are
checked in bulk (their Python types, one regex over the joined text) and converted with C-level
``map``/``join`` calls. Whenever a column holds anything the bulk check does not prove it can handle
exactly, :func:`encode_column` converts that column with the per-cell encoder from
:mod:`kcdata.portal.types`, so the stored values are always the ones the per-cell encoder would store
(the property tests compare both).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from kcdata.portal.types import _BIG, ENCODERS, MAX_NUMBER_DIGITS, NUMERIC, encoder

_NONE = type(None)
# Canonical decimal text, one per line: the per-cell encoder returns such strings unchanged.
_CANON_NUMBERS = re.compile(r"(?:-?(?:0|[1-9][0-9]{0,999})(?:\.[0-9]{0,999}[1-9])?\n)*")


def encode_column(data_type: str, values: Sequence[Any]) -> list[Any]:
    """Stored values for one column of a batch (None stays None).

    Raises :class:`kcdata.portal.types.ValueProblem` when a cell does not fit the column (the caller
    then falls back to row-by-row planning, which attributes the problem to its row).
    """
    kind = "number" if data_type in NUMERIC else data_type if data_type in ENCODERS else "text"
    bulk = _BULK.get(kind)
    if bulk is not None:
        kinds = set(map(type, values))
        present = values
        if _NONE in kinds:  # not ``None in values``: that compares every value with None
            kinds.discard(_NONE)
            present = [v for v in values if v is not None]
        converted = bulk(present, kinds) if present else []
        if converted is not None:
            if present is values:
                return converted
            it = iter(converted)
            return [None if v is None else next(it) for v in values]
    f = encoder(data_type)
    return [None if v is None else f(v) for v in values]


def _lines_match(pattern: re.Pattern[str], values: Sequence[str]) -> bool:
    """Every value, one per line, matches ``pattern``'s item (and no value holds a line break)."""
    joined = "\n".join(values) + "\n"
    return joined.count("\n") == len(values) and pattern.fullmatch(joined) is not None


def _text(values: Sequence[Any], kinds: set[type]) -> list[Any] | None:
    return list(values) if kinds == {str} else None


def _number(values: Sequence[Any], kinds: set[type]) -> list[Any] | None:
    if kinds == {int}:
        if not -_BIG < min(values) <= max(values) < _BIG:
            return None  # the per-cell encoder refuses the out-of-range ones
        return list(map(str, values))
    if kinds <= {int, float}:
        texts = list(map(repr, values))  # int repr is str(); float repr is the shortest round trip
        if int in kinds and max(map(len, texts)) > MAX_NUMBER_DIGITS + 1:
            return None  # an int beyond the bound: the per-cell encoder refuses it
        # Integral floats ("3.0" -> "3"), exponents and non-finite values need the per-cell rules.
        fix = encoder("number")
        for i in [i for i, t in enumerate(texts) if "e" in t or "n" in t or t[-2:] == ".0"]:
            texts[i] = fix(values[i])
        return texts
    if kinds == {str} and _lines_match(_CANON_NUMBERS, values):
        return list(values)
    return None


def _checkbox(values: Sequence[Any], kinds: set[type]) -> list[Any] | None:
    return list(map(int, values)) if kinds == {bool} else None


_BULK: dict[str, Callable[[Sequence[Any], set[type]], list[Any] | None]] = {
    "text": _text, "number": _number, "checkbox": _checkbox,
}
