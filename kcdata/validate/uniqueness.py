"""unique and primaryKey checks over millions of rows in bounded memory.

Each row keeps only a 64-bit hash of its cast value (plus its row number), not the value: 12 bytes a
row per key. Duplicates are found at the end by sorting the hashes. Two different values with the
same 64-bit hash would be reported as a duplicate; for 10 million rows the chance is about 3e-6.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from kcdata.validate.model import ValidationError

UNIQUE_GROUP, PK_GROUP = 3, 4
_NULL = "\x00<null>"
_MIX = np.uint64(0x100000001B3)


def _hash(values: np.ndarray) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.util.hash_array(values, categorize=False), dtype=np.uint64)


class KeyTracker:
    """Collects hashed key values batch by batch; ``finish`` reports unique-error and primary-key errors.

    Per row and keyed field: the uint64 hash of the cast value (0 = no value: missing or a type error),
    plus one uint32 row number.
    """

    def __init__(self, *, unique: list[str], primary_key: list[str], numbers: dict[str, int]) -> None:
        self.unique = unique
        self.primary_key = primary_key
        self.numbers = numbers
        self.active = bool(unique or primary_key)
        self._rows: list[np.ndarray] = []
        self._hashes: dict[str, list[np.ndarray]] = {name: [] for name in dict.fromkeys([*unique, *primary_key])}

    def add(self, rows: np.ndarray, values: dict[str, tuple[Any, np.ndarray, Any]], n: int) -> None:
        """One batch: per keyed field (string column, missing mask, (positions, cast values) of slow cells)."""
        self._rows.append(rows.astype(np.uint32))
        for name in self._hashes:
            col, miss, slow = values[name]
            obj = col.to_numpy(zero_copy_only=False)
            if not obj.flags.writeable:
                obj = obj.copy()
            null = miss.copy()
            if slow is not None:
                pos, canon = slow
                obj[pos] = canon
                null[pos] |= np.array([c is None for c in canon], dtype=bool)
            obj[null] = _NULL
            self._hashes[name].append(_finish_hash(_hash(obj), null))

    def add_row(self, row: int, values: dict[str, str | None]) -> None:
        """One row evaluated by frictionless itself (a ragged row)."""
        self._rows.append(np.array([row], dtype=np.uint32))
        for name in self._hashes:
            v = values.get(name)
            h = _hash(np.array([_NULL if v is None else v], dtype=object))
            self._hashes[name].append(_finish_hash(h, np.array([v is None])))

    def finish(self, *, limit: int | None) -> tuple[Counter[str], list[tuple[int, int, ValidationError]]]:
        from frictionless import errors as ferrors

        counts: Counter[str] = Counter()
        found: list[tuple[np.ndarray, np.ndarray, int, str | None]] = []  # rows, previous rows, key, field
        if not self.active or not self._rows:
            return counts, []
        rows = np.concatenate(self._rows)
        self._rows = []
        hashes = {name: np.concatenate(parts) for name, parts in self._hashes.items()}
        self._hashes = {}
        done: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in self.unique:
            dup, prev = done[name] = _duplicates(hashes[name], rows)
            counts["unique-error"] += len(dup)
            found.append((dup, prev, UNIQUE_GROUP * 10**7 + self.numbers[name] * 16, name))
        if self.primary_key:
            if len(self.primary_key) == 1:
                key = hashes[self.primary_key[0]]
                # a one-field key that is also unique has the very same duplicates: no second sort
                dup, prev = done.get(self.primary_key[0]) or _duplicates(key, rows)
            else:
                key = np.zeros(len(rows), dtype=np.uint64)
                present = np.zeros(len(rows), dtype=bool)
                for name in self.primary_key:
                    key = key * _MIX ^ hashes[name]
                    present |= hashes[name] != 0
                key[~present] = 0
                key[present & (key == 0)] = 1
                dup, prev = _duplicates(key, rows)
            nulls = np.sort(rows[key == 0]).astype(np.int64)
            counts["primary-key"] += len(dup) + len(nulls)
            found.append((dup, prev, PK_GROUP * 10**7, None))
            found.append((nulls, np.zeros(len(nulls), dtype=np.int64), PK_GROUP * 10**7, None))
        listed: list[tuple[int, int, ValidationError]] = []
        for dup_rows, prev_rows, key_order, name in found:
            take_n = len(dup_rows) if limit is None else min(limit, len(dup_rows))
            for r, p in zip(dup_rows[:take_n].tolist(), prev_rows[:take_n].tolist(), strict=True):
                if name is not None:
                    note = f"the same as in the row at position {p}"
                    msg = ferrors.UniqueError.template.format(rowNumber=r, fieldName=name,
                                                              fieldNumber=self.numbers[name], note=note, cell="")
                    err = ValidationError(code="unique-error", row=r, field=name, message=msg)
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


CHUNK = 1 << 20


def _duplicates(hashes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose value appeared before (in row order), and the row of the previous appearance.

    Memory stays near one sorted copy of the hashes: duplicated values are found on the sorted copy,
    then the rows holding them are picked out chunk by chunk.
    """
    hs = np.sort(hashes)
    hs = hs[np.searchsorted(hs, 0, side="right"):]  # drop "no value"
    dupvals = np.unique(hs[1:][hs[1:] == hs[:-1]])
    del hs
    empty = np.zeros(0, dtype=np.int64)
    if not len(dupvals):
        return empty, empty
    cand: list[np.ndarray] = []
    for start in range(0, len(hashes), CHUNK):
        chunk = hashes[start:start + CHUNK]
        at = np.minimum(np.searchsorted(dupvals, chunk), len(dupvals) - 1)
        cand.append(np.nonzero(dupvals[at] == chunk)[0] + start)
    idx = np.concatenate(cand)
    h, r = hashes[idx], rows[idx].astype(np.int64)
    order = np.lexsort((r, h))
    h, r = h[order], r[order]
    same = np.zeros(len(h), dtype=bool)
    same[1:] = h[1:] == h[:-1]
    later, previous = r[same], r[np.nonzero(same)[0] - 1]
    sort = np.argsort(later, kind="stable")
    return later[sort], previous[sort]
