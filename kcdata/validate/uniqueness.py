"""unique and primaryKey checks over millions of rows in bounded memory.

Each row keeps only a 64-bit hash of its cast value, not the value: 8 bytes a row per key. The hash
is computed from the Arrow string buffers with numpy (no Python string objects).
Duplicates are found at the end by sorting the hashes. Two different values with the same
64-bit hash would be reported as a duplicate; for 10 million rows the chance is about 3e-6.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from kcdata.validate.model import ValidationError

UNIQUE_GROUP, PK_GROUP = 3, 4
BUCKET_HASHES = 1 << 20
_MIX = np.uint64(0x100000001B3)
_LOW16 = np.uint64(0xFFFF)


_C1, _C2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_TAIL = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)  # k low bytes


def _mix(h: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser: every input bit flips each output bit with probability ~1/2."""
    h ^= h >> _S33
    h *= _C1
    h ^= h >> _S33
    h *= _C2
    h ^= h >> _S33
    return h


def hash_strings(col: Any) -> np.ndarray:
    """A 64-bit hash of each string of a pyarrow string array, straight from its buffers.

    The UTF-8 bytes are read 8 at a time through a 1-byte-strided uint64 view of the data buffer (no
    Python objects); each word is folded in with murmur3's finaliser, seeded by the length. Equal
    strings hash equally whatever array (or slice) they come from.
    """
    import pyarrow as pa

    n = len(col)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    if col.type != pa.string():
        col = col.cast(pa.string())
    if col.null_count:
        col = col.fill_null("")
    _, obuf, dbuf = col.buffers()
    offsets = np.frombuffer(obuf, dtype=np.int32, count=n + 1, offset=col.offset * 4).astype(np.int64)
    lens = np.diff(offsets)
    start = int(offsets[0])
    raw = np.frombuffer(dbuf, dtype=np.uint8)[start:int(offsets[-1])] if dbuf is not None else np.zeros(0, np.uint8)
    data = np.zeros(len(raw) + 8, dtype=np.uint8)  # padded: an 8-byte read at any cell start stays inside
    data[:len(raw)] = raw
    words = np.ndarray(shape=(len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))
    starts = offsets[:-1] - start
    h = _mix(lens.astype(np.uint64) ^ np.uint64(0x9E3779B97F4A7C15))
    active = np.nonzero(lens > 0)[0]
    k = 0
    while len(active):
        word = words[starts[active] + k] & _TAIL[np.minimum(lens[active] - k, 8)]
        if len(active) == n:
            h = _mix(h ^ word)
        else:
            h[active] = _mix(h[active] ^ word)
        k += 8
        active = active[lens[active] > k]
    return h


class KeyTracker:
    """Collects hashed key values batch by batch; ``finish`` reports unique-error and primary-key errors.

    Per parsed row and keyed field only the uint64 hash of the cast value is kept (0 = no value:
    missing or a type error); row numbers are recomputed at the end for the few duplicated rows.
    Rows judged one by one (ragged rows) keep their row number beside their hash.
    """

    def __init__(self, *, unique: list[str], primary_key: list[str], numbers: dict[str, int]) -> None:
        self.unique = unique
        self.primary_key = primary_key
        self.numbers = numbers
        self.active = bool(unique or primary_key)
        names = list(dict.fromkeys([*unique, *primary_key]))
        self._parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
        self._ragged_rows: list[int] = []
        self._ragged: dict[str, list[int]] = {name: [] for name in names}

    def add(self, rows: np.ndarray, values: dict[str, tuple[Any, np.ndarray, Any]], n: int) -> None:
        """One batch: per keyed field (string column, missing mask, (positions, cast values) of slow cells)."""
        import pyarrow as pa

        for name in self._parts:
            col, miss, slow = values[name]
            h = hash_strings(col)
            null = miss.copy()
            if slow is not None:
                pos, canon = slow
                none = np.array([c is None for c in canon], dtype=bool)
                null[pos[none]] = True
                if not none.all():
                    h[pos[~none]] = hash_strings(pa.array(canon[~none].tolist(), pa.string()))
            self._parts[name].append(_finish_hash(h, null))

    def add_row(self, row: int, values: dict[str, str | None]) -> None:
        """One row evaluated on its own (a ragged row)."""
        import pyarrow as pa

        self._ragged_rows.append(row)
        for name in self._parts:
            v = values.get(name)
            h = hash_strings(pa.array(["" if v is None else v], pa.string()))
            self._ragged[name].append(int(_finish_hash(h, np.array([v is None]))[0]))

    def finish(self, *, limit: int | None, row_of: Callable[[np.ndarray], np.ndarray]
               ) -> tuple[Counter[str], list[tuple[int, int, ValidationError]]]:
        """All unique/primary-key errors counted, the first ``limit`` listed; ``row_of`` maps parsed-row
        indexes to row numbers."""
        from frictionless import errors as ferrors

        counts: Counter[str] = Counter()
        found: list[tuple[np.ndarray, np.ndarray, int, str | None]] = []  # rows, previous rows, key, field
        if not self.active:
            return counts, []
        ragged_rows = np.asarray(self._ragged_rows, dtype=np.int64)
        done: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in self.unique:
            extra = np.asarray(self._ragged[name], dtype=np.uint64)
            dup, prev = done[name] = _duplicates(self._parts[name], extra, ragged_rows, row_of)
            counts["unique-error"] += len(dup)
            found.append((dup, prev, UNIQUE_GROUP * 10**7 + self.numbers[name] * 16, name))
        if self.primary_key:
            if len(self.primary_key) == 1:
                parts = self._parts[self.primary_key[0]]
                extra = np.asarray(self._ragged[self.primary_key[0]], dtype=np.uint64)
                # a one-field key that is also unique has the very same duplicates: no second sort
                dup, prev = done.get(self.primary_key[0]) or _duplicates(parts, extra, ragged_rows, row_of)
            else:
                parts = [_combine([self._parts[n][i] for n in self.primary_key])
                         for i in range(len(self._parts[self.primary_key[0]]))]
                extra = _combine([np.asarray(self._ragged[n], dtype=np.uint64) for n in self.primary_key])
                dup, prev = _duplicates(parts, extra, ragged_rows, row_of)
            nulls = np.sort(np.concatenate([*_positions(parts, lambda h: h == 0, row_of), ragged_rows[extra == 0]]))
            counts["primary-key"] += len(dup) + len(nulls)
            found.append((dup, prev, PK_GROUP * 10**7, None))
            found.append((nulls, np.zeros(len(nulls), dtype=np.int64), PK_GROUP * 10**7, None))
        self._parts = {}
        listed: list[tuple[int, int, ValidationError]] = []
        for dup_rows, prev_rows, key_order, fname in found:
            take_n = len(dup_rows) if limit is None else min(limit, len(dup_rows))
            for r, p in zip(dup_rows[:take_n].tolist(), prev_rows[:take_n].tolist(), strict=True):
                if fname is not None:
                    note = f"the same as in the row at position {p}"
                    msg = ferrors.UniqueError.template.format(rowNumber=r, fieldName=fname,
                                                              fieldNumber=self.numbers[fname], note=note, cell="")
                    err = ValidationError(code="unique-error", row=r, field=fname, message=str(msg))
                else:
                    note = (f"the same as in the row at position {p}" if p else
                            'cells composing the primary keys are all "None"')
                    msg = ferrors.PrimaryKeyError.template.format(rowNumber=r, note=note, cell="")
                    err = ValidationError(code="primary-key", row=r, field=None, message=msg)
                listed.append((r, key_order, err))
        return counts, listed


def _finish_hash(h: np.ndarray, null: np.ndarray) -> np.ndarray:
    h[h == 0] = 1  # 0 is reserved for "no value"
    h[null] = 0
    return h


def _combine(hashes: list[np.ndarray]) -> np.ndarray:
    """One hash for a composite key; 0 only when every part has no value (frictionless: all None)."""
    key = np.zeros(len(hashes[0]), dtype=np.uint64)
    present = np.zeros(len(hashes[0]), dtype=bool)
    for h in hashes:
        key = key * _MIX ^ h
        present |= h != 0
    key[present & (key == 0)] = 1
    key[~present] = 0
    return key


def _positions(parts: list[np.ndarray], test: Callable[[np.ndarray], np.ndarray],
               row_of: Callable[[np.ndarray], np.ndarray]) -> list[np.ndarray]:
    out, offset = [], 0
    for part in parts:
        out.append(row_of(np.nonzero(test(part))[0] + offset))
        offset += len(part)
    return out


def _duplicates(parts: list[np.ndarray], extra: np.ndarray, extra_rows: np.ndarray,
                row_of: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose value appeared before (in row order), and the row of the previous appearance.

    Memory stays near the hashes themselves: duplicated values are found bucket by bucket (the top
    bits of the hash, about a million hashes a bucket), each sorted on its own, then the rows holding
    them are picked out.
    """
    found = []
    total = sum(len(p) for p in parts) + len(extra)
    bits = min(4, (total // BUCKET_HASHES).bit_length())  # one bucket for small files
    shift = np.uint64(64 - bits) if bits else np.uint64(63)
    buckets = [(p >> shift).astype(np.uint8) if bits else np.zeros(len(p), dtype=np.uint8) for p in parts]
    extra_bucket = (extra >> shift).astype(np.uint8) if bits else np.zeros(len(extra), dtype=np.uint8)
    for b in range(1 << bits):
        hs = np.concatenate([*(p[k == b] for p, k in zip(parts, buckets, strict=True)), extra[extra_bucket == b]])
        hs.sort()
        hs = hs[np.searchsorted(hs, 0, side="right"):]  # drop "no value"
        found.append(np.unique(hs[1:][hs[1:] == hs[:-1]]))
    del buckets, hs
    dupvals = np.concatenate(found)  # buckets are in hash order, so this stays sorted
    empty = np.zeros(0, dtype=np.int64)
    if not len(dupvals):
        return empty, empty

    # A 64K-bit table of the duplicated hashes' low bits rules out almost every row with one lookup;
    # only the few candidates are binary-searched.
    table = np.zeros(1 << 16, dtype=bool)
    table[(dupvals & _LOW16).astype(np.intp)] = True

    def hit(h: np.ndarray) -> np.ndarray:
        mask = table[(h & _LOW16).astype(np.intp)]
        cand = np.nonzero(mask)[0]
        if len(cand):
            hc = h[cand]
            mask[cand] = dupvals[np.minimum(np.searchsorted(dupvals, hc), len(dupvals) - 1)] == hc
        return mask

    masks = [hit(p) for p in parts]
    extra_hit = hit(extra)
    rows = np.concatenate([*_positions(masks, lambda m: m, row_of), extra_rows[extra_hit]])
    h = np.concatenate([*(p[m] for p, m in zip(parts, masks, strict=True)), extra[extra_hit]])
    order = np.lexsort((rows, h))
    h, r = h[order], rows[order]
    same = np.zeros(len(h), dtype=bool)
    same[1:] = h[1:] == h[:-1]
    later, previous = r[same], r[np.nonzero(same)[0] - 1]
    sort = np.argsort(later, kind="stable")
    return later[sort], previous[sort]
