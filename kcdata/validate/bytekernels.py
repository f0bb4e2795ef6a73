"""Accept-kernels that read the Arrow string buffers with numpy instead of running RE2 per cell.

RE2 costs ~30 ns a cell whatever the cell; these cost about a nanosecond a byte. Each one decides
exactly what the regular expression it replaces decides (property tests compare them), and like every
kernel it only ever *accepts*: what it does not accept goes to frictionless's cell reader.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_DIM = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)  # 29 Feb: the cell reader
_DIGIT = np.zeros(256, dtype=np.uint8)
_DIGIT[48:58] = 1
_LITERALS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _-:/,@#")
_ESCAPED = frozenset(".-/:,@#_ ()[]{}+*?|^$")


def lengths(col: Any) -> np.ndarray:
    """The byte length of each cell of a pyarrow string array, from its offsets (no kernel call)."""
    offsets = np.frombuffer(col.buffers()[1], dtype=np.int32, count=len(col) + 1, offset=col.offset * 4)
    return offsets[1:] - offsets[:-1]


def _bytes(col: Any) -> tuple[np.ndarray, np.ndarray]:
    """The column's data bytes (one zero byte of padding) and each cell's start in them."""
    n = len(col)
    _, obuf, dbuf = col.buffers()
    offsets = np.frombuffer(obuf, dtype=np.int32, count=n + 1, offset=col.offset * 4)
    o0 = int(offsets[0])
    raw = np.zeros(int(offsets[-1]) - o0 + 1, dtype=np.uint8)
    if dbuf is not None:
        raw[:-1] = np.frombuffer(dbuf, dtype=np.uint8)[o0:int(offsets[-1])]
    return raw, (offsets - o0).astype(np.int64)


def fixed_width(col: Any, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The cells of exactly ``width`` bytes as a (k, width) byte matrix, and the mask of those cells."""
    lens = lengths(col)
    full = lens == width
    _, obuf, dbuf = col.buffers()
    offsets = np.frombuffer(obuf, dtype=np.int32, count=len(col) + 1, offset=col.offset * 4)
    raw = (np.frombuffer(dbuf, dtype=np.uint8)[int(offsets[0]):int(offsets[-1])] if dbuf is not None
           else np.zeros(0, dtype=np.uint8))
    other = np.flatnonzero(~full & (lens != 0))
    if 0 < len(other) <= 64:  # a few cells of another width: cut their bytes out (k+1 memcpy-like slices)
        cuts = offsets[np.stack([other, other + 1], axis=1).ravel()] - offsets[0]
        bounds = np.concatenate([[0], cuts, [len(raw)]]).reshape(-1, 2)
        raw = np.concatenate([raw[a:b] for a, b in bounds.tolist()])
    elif len(other):
        raw = raw[np.repeat(full, lens)]  # only the bytes of the full-width cells, in order
    return raw.reshape(-1, width), full


def calendar(col: Any, *, with_clock: bool) -> tuple[np.ndarray, np.ndarray]:
    """Exactly the cells ``^DAY$`` / ``^DAYTCLOCK$`` (kernels._DATE_RX / _DATETIME_RX) match among the cells
    of the format's width, and the mask of the non-empty cells of another width (still to decide)."""
    width = 19 if with_clock else 10
    mat, full = fixed_width(col, width)
    ok = np.zeros(len(col), dtype=bool)
    other = ~full & (lengths(col) != 0)
    if not len(mat):
        return ok, other
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
    return ok, other


def _per_cell(flagged: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """How many flagged bytes each cell holds (bytes are rarely flagged: no pass over every byte)."""
    pos = np.flatnonzero(flagged)
    n = len(offsets) - 1
    if not len(pos):
        return np.zeros(n, dtype=np.int64)
    return np.bincount(np.searchsorted(offsets, pos, side="right") - 1, minlength=n)[:n]


def integer_text(col: Any) -> np.ndarray:
    """Exactly the cells ``^-?[0-9]{1,18}$`` matches: a count of non-digit bytes per cell."""
    raw, offsets = _bytes(col)
    lens = offsets[1:] - offsets[:-1]
    bad = _per_cell(_DIGIT[raw[:-1]] == 0, offsets)
    minus = raw[offsets[:-1]] == 45
    return (((bad == 0) & (lens >= 1) & (lens <= 18))
            | (minus & (bad == 1) & (lens >= 2) & (lens <= 19)))


def foreign_bytes(col: Any, allowed: np.ndarray) -> np.ndarray:
    """Cells holding at least one byte outside ``allowed`` (a 256-entry bool table)."""
    raw, offsets = _bytes(col)
    return _per_cell(~allowed[raw[:-1]], offsets) > 0


def compile_fixed(pattern: str) -> list[np.ndarray] | None:
    """A pattern that matches only one width of ASCII text (literals, ``\\d``, ``\\w``, ``[a-z0-9_]`` classes,
    ``{n}``) as one 256-entry table of allowed bytes per position; None for anything else."""
    sets: list[frozenset[int]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c in _LITERALS:
            cur, i = frozenset([ord(c)]), i + 1
        elif c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            if e == "d":
                cur = frozenset(range(48, 58))
            elif e == "w":
                cur = frozenset(ord(x) for x in _LITERALS if x.isalnum() or x == "_")
            elif e in _ESCAPED:
                cur = frozenset([ord(e)])
            else:
                return None
            i += 2
        elif c == "[":
            end = pattern.find("]", i + 1)
            body = pattern[i + 1:end] if end > i + 1 else ""
            if not body or body[0] == "^" or "\\" in body or "[" in body:
                return None
            chars: set[int] = set()
            j = 0
            while j < len(body):
                if j + 2 < len(body) and body[j + 1] == "-":
                    lo, hi = body[j], body[j + 2]
                    if not (lo.isalnum() and hi.isalnum() and lo.isascii() and hi.isascii() and lo <= hi):
                        return None
                    chars.update(range(ord(lo), ord(hi) + 1))
                    j += 3
                elif body[j] in _LITERALS or body[j] == ".":
                    chars.add(ord(body[j]))
                    j += 1
                else:
                    return None
            cur, i = frozenset(chars), end + 1
        else:
            return None
        count = 1
        if i < len(pattern) and pattern[i] == "{":
            end = pattern.find("}", i)
            if end < 0 or not pattern[i + 1:end].isdigit():
                return None
            count, i = int(pattern[i + 1:end]), end + 1
        if i < len(pattern) and pattern[i] in "?*+{":
            return None
        sets.extend([cur] * count)
    if not sets or len(sets) > 256:
        return None
    tables = []
    for s in sets:
        t = np.zeros(256, dtype=bool)
        t[sorted(s)] = True
        tables.append(t)
    return tables


def match_fixed(col: Any, tables: list[np.ndarray]) -> np.ndarray:
    """Cells of exactly ``len(tables)`` bytes whose every byte is allowed at its position."""
    mat, full = fixed_width(col, len(tables))
    good = np.ones(len(mat), dtype=bool)
    for pos, table in enumerate(tables):
        good &= table[mat[:, pos]]
    ok = np.zeros(len(col), dtype=bool)
    ok[full] = good
    return ok
