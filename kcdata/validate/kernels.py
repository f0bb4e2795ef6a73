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
_CONSTRAINT_KEYS = frozenset({"required", "unique"})


def _np(mask: Any) -> np.ndarray:
    import pyarrow.compute as pc

    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def lengths(col: Any) -> np.ndarray:
    """The byte length of each cell of a pyarrow string array, from its offsets (no kernel call)."""
    n = len(col)
    return np.diff(np.frombuffer(col.buffers()[1], dtype=np.int32, count=n + 1, offset=col.offset * 4))


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
            if not _SAFE_PATTERN.match(pattern) or _RE2_DIFFERS.search(pattern):
                return None
            rx = f"^(?:{pattern})$"
            try:
                pc.match_substring_regex(pa.array([""], pa.string()), rx)
            except pa.ArrowInvalid:  # RE2 cannot compile it: the cell reader decides
                return None
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
            ok &= _np(check(col))
        return ok

    return run


_DIM = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)  # 29 Feb: the cell reader


def _fixed_width(col: Any, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The cells of exactly ``width`` bytes as a (k, width) byte matrix, their mask, and the positions of
    the other non-empty cells; None when those are too many for this to pay."""
    n = len(col)
    _, obuf, dbuf = col.buffers()
    offsets = np.frombuffer(obuf, dtype=np.int32, count=n + 1, offset=col.offset * 4)
    lens = np.diff(offsets)
    full = lens == width
    odd = np.nonzero(~full & (lens != 0))[0]
    if len(odd) > n // 16:
        return None
    o0 = int(offsets[0])
    raw = np.frombuffer(dbuf, dtype=np.uint8)[o0:int(offsets[-1])] if dbuf is not None else np.zeros(0, np.uint8)
    if len(odd):  # cut the odd cells' bytes out (a small copy) so the rest is one matrix again
        keep = np.ones(len(raw), dtype=bool)
        for i in odd.tolist():
            keep[offsets[i] - o0:offsets[i + 1] - o0] = False
        raw = raw[keep]
    return raw.reshape(-1, width), full, odd


def _calendar(col: Any, *, with_clock: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Exactly the cells ``_DATE_RX`` / ``_DATETIME_RX`` match among the cells of the format's width, decided
    with integer arithmetic on the bytes (several times cheaper than the RE2 pass), and the positions of
    cells of another width (still to decide); None when the column is mostly of other widths."""
    fixed = _fixed_width(col, 19 if with_clock else 10)
    if fixed is None:
        return None
    mat, full, odd = fixed
    ok = np.zeros(len(col), dtype=bool)
    if not len(mat):
        return ok, odd
    digits = [0, 1, 2, 3, 5, 6, 8, 9, *([11, 12, 14, 15, 17, 18] if with_clock else [])]
    d = mat[:, digits] - np.uint8(48)  # a non-digit wraps to >= 10
    good = (d < 10).all(axis=1) & (mat[:, 4] == 45) & (mat[:, 7] == 45)  # - -
    d = d.astype(np.int16)
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 4] * 10 + d[:, 5]
    day = d[:, 6] * 10 + d[:, 7]
    good &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    good &= day <= _DIM[np.where(good, month, 0)]
    if with_clock:
        good &= (mat[:, 10] == 84) & (mat[:, 13] == 58) & (mat[:, 16] == 58)  # T : :
        good &= (d[:, 8] * 10 + d[:, 9] <= 23) & (d[:, 10] <= 5) & (d[:, 12] <= 5)
    ok[full] = good
    return ok, odd


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
        fixed = _calendar(col, with_clock=clock)
        if fixed is None:
            return by_regex(col)
        ok, odd = fixed
        if len(odd):
            ok[odd] = by_regex(col.take(pa.array(odd)))
        return ok

    return run
