"""Vectorised "certainly valid" masks per field type, over pyarrow string arrays.

A kernel only ever *accepts*: every cell it does not accept is re-checked with frictionless's own
cell reader, so a kernel that is too strict costs time, never exactness. Each kernel must therefore
accept only cells that frictionless accepts too (e.g. RE2's ``\\d`` is ASCII-only while Python's is
Unicode, so RE2 accepts a subset).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

Kernel = Callable[[Any], np.ndarray]

_INT = r"^-?[0-9]{1,18}$"
_NUM = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$"
# Regex syntax on which RE2 and Python agree (or RE2 is stricter): literals, classes, groups, quantifiers.
_SAFE_PATTERN = re.compile(r"^(?:[A-Za-z0-9 _\-:/,.@#]|\\[dDwWsS.\-()\[\]{}+*?|^$]|[\[\]()|?*+{}^]|(?<=\[)\^)*$")
_CONSTRAINT_KEYS = frozenset({"required", "unique"})


def _np(mask: Any) -> np.ndarray:
    import pyarrow.compute as pc

    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def kernel_for(descriptor: dict[str, Any]) -> Kernel | None:
    """The accept-kernel for one field descriptor, or None when only the cell reader can decide."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ftype = descriptor.get("type", "string")
    fmt = descriptor.get("format", "default")
    cons = {k: v for k, v in (descriptor.get("constraints") or {}).items() if k not in _CONSTRAINT_KEYS}

    if ftype == "string" and fmt == "default":
        checks: list[Callable[[Any], Any]] = []
        if "enum" in cons:
            values = pa.array([str(v) for v in cons.pop("enum")], pa.string())
            checks.append(lambda col: pc.is_in(col, value_set=values))
        if "minLength" in cons:
            lo = int(cons.pop("minLength"))
            checks.append(lambda col: pc.greater_equal(pc.utf8_length(col), lo))
        if "maxLength" in cons:
            hi = int(cons.pop("maxLength"))
            checks.append(lambda col: pc.less_equal(pc.utf8_length(col), hi))
        if "pattern" in cons:
            pattern = str(cons.pop("pattern"))
            if not _SAFE_PATTERN.match(pattern):
                return None
            rx = f"^(?:{pattern})$"
            checks.append(lambda col: pc.match_substring_regex(col, rx))
        if cons:
            return None
        return _all_of(checks)

    if ftype == "integer" and fmt == "default" and descriptor.get("bareNumber", True) is not False:
        lo, hi = cons.pop("minimum", None), cons.pop("maximum", None)
        if cons:
            return None

        def integer(col: Any) -> np.ndarray:
            ok = _np(pc.match_substring_regex(col, _INT))
            if (lo is not None or hi is not None) and ok.any():
                vals = pc.cast(pc.if_else(pa.array(ok), col, "0"), pa.int64()).to_numpy()
                if lo is not None:
                    ok &= vals >= int(lo)
                if hi is not None:
                    ok &= vals <= int(hi)
            return ok

        return integer

    if ftype == "number" and fmt == "default" and not ({"decimalChar", "groupChar", "bareNumber"} & descriptor.keys()):
        lo, hi = cons.pop("minimum", None), cons.pop("maximum", None)
        if cons:
            return None

        def number(col: Any) -> np.ndarray:
            ok = _np(pc.match_substring_regex(col, _NUM))
            if (lo is not None or hi is not None) and ok.any():
                vals = pc.cast(pc.if_else(pa.array(ok), col, "0"), pa.float64()).to_numpy()
                # Binary floats near a bound are left to the Decimal-exact cell reader.
                if lo is not None:
                    ok &= vals > float(lo) + 1e-9 * max(1.0, abs(float(lo)))
                if hi is not None:
                    ok &= vals < float(hi) - 1e-9 * max(1.0, abs(float(hi)))
            return ok

        return number

    if cons:
        return None
    if ftype == "boolean":
        values = pa.array([*descriptor.get("trueValues", ["true", "True", "TRUE", "1"]),
                           *descriptor.get("falseValues", ["false", "False", "FALSE", "0"])], pa.string())
        return lambda col: _np(pc.is_in(col, value_set=values))
    if ftype == "date" and fmt == "default":
        return _timestamp(_DATE, "%Y-%m-%d")
    if ftype == "datetime" and fmt == "default":
        return _timestamp(_DATETIME, "%Y-%m-%dT%H:%M:%S")
    return None


def _all_of(checks: list[Callable[[Any], Any]]) -> Kernel:
    def run(col: Any) -> np.ndarray:
        ok = np.ones(len(col), dtype=bool)
        for check in checks:
            ok &= _np(check(col))
        return ok

    return run


def _timestamp(rx: str, fmt: str) -> Kernel:
    import pyarrow as pa
    import pyarrow.compute as pc

    date_only = "T" not in fmt

    def run(col: Any) -> np.ndarray:
        # strptime alone is lenient (2021-02-30 rolls over to March, 1-digit months pass): a cell is
        # certainly valid only if it is the canonical text of the instant it parses to.
        parsed = pc.strptime(col, format=fmt, unit="s", error_is_null=True)
        if date_only:
            canon = pc.cast(pc.cast(parsed, pa.date32()), pa.string())
            return _np(pc.equal(canon, col))
        canon = pc.cast(parsed, pa.string())  # "YYYY-MM-DD HH:MM:SS"
        return _np(pc.equal(canon, pc.utf8_replace_slice(col, 10, 11, " ")))

    return run
