"""Value hashes: comparing a CSV with the rows a portal holds when no manifest can be trusted (a PR
plan without credentials, a killed run, a manifest made under other rules).

A row's value hash is a hash of its *canonical* values (:func:`typemap.canonical`), so the same
data hashes the same whether it comes from the CSV or is read back from the portal, however either
side spells it ("1.50" / 1.5, "2024-01-02T00:00:00" / "...000Z"). Value hashes are only compared
within one plan, never stored. They are computed column by column: each column canonicalised once
per distinct value (text already in canonical form passes an Arrow regex instead of a Python call),
hashed with numpy, and folded into the row's hash in column order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kcdata.publish.rows import hashing
from kcdata.publish.rows.rowset import RowHashes
from kcdata.publish.rows.scan import SourceScan, encoded_columns, key_text
from kcdata.publish.typemap import Column, TableMapping, canonical


def local_value_hashes(scanned: SourceScan, mapping: TableMapping, *, chunk_size: int = 50_000) -> RowHashes:
    """Every row's value hash (see :func:`value_hashes`) from the CSV's encoded values."""
    hashes = [value_hashes(mapping.columns, columns) for _ks, columns in
              encoded_columns(scanned, mapping, scanned.table(), scanned.rows.keys, chunk_size)]
    return row_hashes([scanned.rows.keys], hashes)


def key_texts(col: Column, values: Sequence[Any]) -> Any:
    """:func:`key_text` of every value, as an Arrow string array (keys read back from the portal);
    plain integer and text keys are taken as they are, without a Python call per key."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = None
    if arr is not None and not arr.null_count and (col.data_type == "text" or (
            col.source_type == "integer" and pc.all(pc.match_substring_regex(arr, r"^[0-9]+$")).as_py() is not False)):
        return arr
    return pa.array([key_text(col, v) for v in values], type=pa.string())


def row_hashes(keys: Sequence[Any], hashes: Sequence[Any]) -> RowHashes:
    """Key arrays and their hash arrays as one :class:`RowHashes`; the last of a repeated key
    wins (as a dict built row by row would)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    h = np.concatenate(hashes).astype(np.uint64) if len(hashes) else np.zeros(0, dtype=np.uint64)
    k = pa.concat_arrays([pa.array(x, type=pa.string()) if not isinstance(x, pa.Array) else x for x in keys]) \
        if len(keys) else pa.array([], type=pa.string())
    if len(k) != len(h):
        raise AssertionError("one hash per key")
    if pc.count_distinct(k).as_py() == len(k):
        return RowHashes(keys=k, hashes=h)
    return RowHashes.from_mapping(dict(zip(k.to_pylist(), h.tolist(), strict=True)))


_NULL_HASH = 0x6E756C6C_6E756C6C  # what a null cell adds to a row's value hash ("nullnull")


def value_hashes(columns: Sequence[Column], values: Sequence[Sequence[Any]]) -> Any:
    """One 64-bit hash per row of the rows' canonical values (:func:`typemap.canonical`), column
    by column (``values[i]`` is column ``i``): the same data hashes the same whether it comes from
    the CSV or is read back from the portal. Values are canonicalised once per distinct value and
    hashed with numpy, so a million rows cost about a second rather than a Python digest each.
    Value hashes are only compared within one plan, never stored."""
    import numpy as np

    n = len(values[0]) if values else 0
    acc = np.full(n, np.uint64(0x9E3779B97F4A7C15 ^ len(columns)), dtype=np.uint64)
    for col, cells in zip(columns, values, strict=True):
        texts = canonical_array(col.data_type, cells)
        h = hashing.hash_strings(texts)
        if texts.null_count:
            h[texts.is_null().to_numpy(zero_copy_only=False)] = np.uint64(_NULL_HASH)
        acc = _fold(acc, h)
    return acc


def _fold(acc: Any, h: Any) -> Any:
    """acc = murmur3-finalise(acc * P ^ h): order-sensitive, so columns cannot trade places."""
    import numpy as np

    acc = acc * np.uint64(0x100000001B3) ^ h
    acc ^= acc >> np.uint64(33)
    acc *= np.uint64(0xFF51AFD7ED558CCD)
    acc ^= acc >> np.uint64(33)
    acc *= np.uint64(0xC4CEB9FE1A85EC53)
    acc ^= acc >> np.uint64(33)
    return acc


# Text that is already in the canonical form of its type (checked by Arrow's regex engine, so the
# common case needs no Python call per cell); anything else goes through typemap.canonical.
_CANONICAL_SHAPE = {
    "number": r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$",  # "-0" is excluded below
    "calendar_date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}$",
}


def canonical_array(data_type: str, cells: Sequence[Any]) -> Any:
    """:func:`canonical_texts` as an Arrow string array, with a vectorised fast path for cells
    that are text already in canonical form."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    shape = _CANONICAL_SHAPE.get(data_type)
    if data_type == "text" or shape is not None:
        try:
            arr = pa.array(cells, type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None  # not all text (numbers or booleans as JSON values): the slow path
        if arr is not None and data_type == "text":
            return arr
        if arr is not None and shape is not None:
            ok = pc.fill_null(pc.match_substring_regex(arr, shape), True)  # nulls stay null
            if data_type == "number":
                ok = pc.and_(ok, pc.fill_null(pc.not_equal(arr, "-0"), True))
            bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
            if not len(bad):
                return arr
            fixed = pa.array(canonical_texts(data_type, [cells[i] for i in bad.tolist()]), type=pa.string())
            mask = np.zeros(len(arr), dtype=bool)
            mask[bad] = True
            return pc.replace_with_mask(arr, pa.array(mask), fixed)
    return pa.array(canonical_texts(data_type, cells), type=pa.string())


def canonical_texts(data_type: str, cells: Sequence[Any]) -> list[str | None]:
    """The canonical form of each cell as text (None stays None), computed once per distinct value."""
    def text(v: Any) -> str | None:
        c = canonical(data_type, v)
        if c is None or isinstance(c, str):
            return c
        if isinstance(c, bool):
            return "true" if c else "false"
        return json.dumps(c, default=str)

    try:
        distinct = dict.fromkeys(cells)
    except TypeError:  # unhashable values (a point as a dict): one by one
        return [text(v) for v in cells]
    # True == 1 == 1.0 share a dict slot; a column holds one kind of value, and all three
    # canonicalise alike where they could meet (a number column), so sharing is harmless.
    for v in distinct:
        distinct[v] = text(v)
    return list(map(distinct.__getitem__, cells))
