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

from kcdata.validate.bytekernels import calendar, compile_fixed, foreign_bytes, integer_text, lengths, match_fixed

Kernel = Callable[[Any], np.ndarray]

_INT = r"^-?[0-9]{1,18}$"
_NUM = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"
# A real calendar day, year 0001 on (29 February is left to the cell reader: leap years), and a clock time.
_DAY = ("(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-"
        "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)")
_CLOCK = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_DATE_RX = f"^{_DAY}$"
_DATETIME_RX = f"^{_DAY}T{_CLOCK}$"
_ZONE = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_FRACTION_RX = f"^{_DAY}T{_CLOCK}(?:\\.[0-9]{{1,6}})?{_ZONE}?$"  # Socrata fractions, UTC "Z", offsets
# Regex syntax on which RE2 and Python agree (or RE2 is stricter): literals, classes, groups, quantifiers.
_SAFE_PATTERN = re.compile(r"^(?:[A-Za-z0-9 _\-:/,.@#]|\\[dDwWsS.\-()\[\]{}+*?|^$]|[\[\]()|?*+{}^]|(?<=\[)\^)*$")
# ...except where the two dialects part: "{,3}" (Python: 0-3 times, RE2: a literal), "[[:digit:]]"
# (RE2: a POSIX class, Python: a set), "(?...)" groups and flags.
_RE2_DIFFERS = re.compile(r"\(\?|\[:|\[\[|\{(?!\d+(?:,\d*)?\})")
_FLOAT_BYTES = np.zeros(256, dtype=bool)
_FLOAT_BYTES[[ord(c) for c in "0123456789.-+eE"]] = True
_NEGATED = re.compile(r"\\[WDS]|\[\^")
_PRINTABLE = np.zeros(256, dtype=bool)
_PRINTABLE[0x20:0x7F] = True
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

            def max_length(col: Any) -> np.ndarray:
                ok = lengths(col) <= hi  # never more characters than bytes: count them only past hi bytes
                if not ok.all():
                    pos = np.nonzero(~ok)[0]
                    ok[pos] = _np(pc.less_equal(pc.utf8_length(col.take(pa.array(pos))), hi))
                return ok

            checks.append(max_length)
        if "pattern" in cons:
            pattern = str(cons.pop("pattern"))
            if not _SAFE_PATTERN.match(pattern) or _RE2_DIFFERS.search(pattern):
                return None
            tables = compile_fixed(pattern)
            if tables is not None:  # one width of ASCII text: a byte-table check, no RE2
                checks.append(lambda col: match_fixed(col, tables))
            else:
                rx = f"^(?:{pattern})$"
                try:
                    pc.match_substring_regex(pa.array([""], pa.string()), rx)
                except pa.ArrowInvalid:  # RE2 cannot compile it: the cell reader decides
                    return None
                if _NEGATED.search(pattern):
                    # RE2's \W \D \S and [^...] are ASCII-minded: they match "é" or "٣" where Python's re does
                    # not. On printable ASCII both agree, so only such cells are accepted; the rest go to the reader.
                    checks.append(lambda col: _np(pc.match_substring_regex(col, rx)) & ~foreign_bytes(col, _PRINTABLE))
                else:
                    checks.append(lambda col: pc.match_substring_regex(col, rx))
        if cons:
            return None
        return _all_of(checks)

    if ftype == "integer" and fmt == "default" and descriptor.get("bareNumber", True) is not False:
        lo, hi = cons.pop("minimum", None), cons.pop("maximum", None)
        if cons:
            return None

        def integer(col: Any) -> np.ndarray:
            ok = integer_text(col)  # exactly _INT's cells
            if (lo is not None or hi is not None) and ok.any():
                text = col if ok.all() else pc.if_else(pa.array(ok), col, "0")
                vals = pc.cast(text, pa.int64()).to_numpy()
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
            ok, vals = _floats(col)
            if (lo is not None or hi is not None) and ok.any():
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
        return _timestamp(_DATE_RX)
    if ftype == "datetime" and fmt == "default":
        return _timestamp(_DATETIME_RX)
    return None


def _floats(col: Any, depth: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cells Arrow casts to a finite float (the rest are left to the cell reader), and their values.

    Arrow's float grammar is within Decimal's (checked: only "nan(...)" is Arrow's alone, and NaN/inf
    are left to the cell reader), so a run of cells that casts is one cheap pass. One bad cell fails
    the whole cast: the run is then split (an injected error costs a few small casts, not a regex
    over the batch).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(col)
    empty = lengths(col) == 0
    try:
        text = pc.if_else(pa.array(empty), "0", col) if empty.any() else col
        vals = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
        return np.isfinite(vals) & ~empty, vals
    except pa.ArrowInvalid:
        pass
    if depth == 0:  # usually a word among numbers: set aside every cell with a byte no float has
        odd = empty | foreign_bytes(col, _FLOAT_BYTES)
        if odd.any() and not odd.all():
            try:
                vals = pc.cast(pc.if_else(pa.array(odd), "0", col), pa.float64()).to_numpy(zero_copy_only=False)
                return np.isfinite(vals) & ~odd, vals
            except pa.ArrowInvalid:
                pass
    if n <= 256 or depth >= 6:
        ok = _np(pc.match_substring_regex(col, _NUM))
        vals = pc.cast(pc.if_else(pa.array(ok), col, "0"), pa.float64()).to_numpy()
        return ok, vals
    step = -(-n // 8)
    parts = [_floats(col.slice(i, step), depth + 1) for i in range(0, n, step)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _all_of(checks: list[Callable[[Any], Any]]) -> Kernel:
    def run(col: Any) -> np.ndarray:
        ok = np.ones(len(col), dtype=bool)
        for check in checks:
            mask = check(col)
            ok &= mask if isinstance(mask, np.ndarray) else _np(mask)
        return ok

    return run


def _timestamp(rx: str) -> Kernel:
    import pyarrow as pa
    import pyarrow.compute as pc

    clock = rx is _DATETIME_RX

    def by_regex(col: Any) -> np.ndarray:
        # One RE2 pass that knows the calendar (29 February is left to the cell reader, as are
        # fractions, zones, 24:00:00 and everything else frictionless may still accept).
        ok = _np(pc.match_substring_regex(col, rx))
        if clock and not ok.all():  # (empty and short cells cannot carry a fraction)
            # fractions ("...T10:00:00.000") and zones ("Z", "+02:00"): a second chance for the rejects only
            rejects = np.nonzero(~ok & _np(pc.greater(pc.binary_length(col), 19)))[0]
            sub = col.take(pa.array(rejects))
            ok[rejects] = _np(pc.match_substring_regex(sub, _FRACTION_RX))
        return ok

    def run(col: Any) -> np.ndarray:
        ok, other = calendar(col, with_clock=clock)
        if other.any():
            pos = np.nonzero(other)[0]
            ok[pos] = by_regex(col.take(pa.array(pos)))
        return ok

    return run
