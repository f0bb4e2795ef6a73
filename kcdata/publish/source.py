"""Reading a dataset's CSV once: row keys and row hashes for the plan, encoded rows for the upload.

The file is read with Arrow's C++ CSV reader, every column as text, so a million rows cost a
fraction of a second. Two hashes exist, for two ways of knowing what the portal holds:

* the *source hash* of a row is a 64-bit hash of its CSV cells as written — cheap and vectorised,
  and what the manifest kept on the portal records; it is only comparable under the same column
  mapping and hash function (the manifest carries :func:`manifest_fingerprint` and is ignored when
  that differs);
* the *value hash* is a digest of the row's canonical portal values (:func:`typemap.canonical`), so
  it can be computed both from our CSV and from rows read back from the portal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.publish import hashing
from kcdata.publish.rowset import RowHashes
from kcdata.publish.typemap import Column, EncodeError, TableMapping, canonical, column_encoder

HASH_SEP = "\x1f"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceScan:
    """A CSV read into memory: the mapped columns as text, and every row's key and source hash."""

    path: Path
    table: Any  # pyarrow.Table, one string column per mapped column, in mapping order
    rows: RowHashes
    duplicates: tuple[str, ...]  # some keys seen more than once
    empty_keys: int  # rows whose row identifier is empty

    @property
    def row_count(self) -> int:
        return len(self.rows)


def key_text(col: Column, value: Any) -> str:
    """A row-identifier value as the text both sides (CSV and portal) agree on."""
    if isinstance(value, str) and (col.data_type == "text" or (col.source_type == "integer" and value.isdigit())):
        return value  # text and canonical integers need no work
    c = canonical(col.data_type, value)
    return c if isinstance(c, str) else json.dumps(c)


def read_table(path: Path, mapping: TableMapping) -> Any:
    """The mapped columns of the CSV as an Arrow table of strings (empty cells are "")."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    sources = [c.source for c in mapping.columns]
    try:
        with open(path, "rb") as fh:
            head = fh.readline()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the data file ({exc.strerror})",
                         hint="Check the dataset's `data` path in the inventory.") from exc
    if not head.strip():
        raise InputError(f"{path}: the data file is empty", hint="Add a header row and data.")
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(encoding="utf8"),
            # A line break inside a value needs quotes; without any quote in the file the reader
            # may split it at line breaks and parse the blocks in parallel (~2x faster).
            parse_options=pcsv.ParseOptions(newlines_in_values=_has_quotes(path)),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(sources, pa.string()), include_columns=sources,
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        text = str(exc)
        missing = [s for s in sources if f"'{s}'" in text or f"\"{s}\"" in text]
        if missing or "include_columns" in text or "No match for" in text:
            raise InputError(f"{path}:1: a column of the schema is missing from the CSV header ({text[:160]})",
                             hint="Validate the dataset (`kcdata validate`) and fix the header or schema.") from exc
        raise InputError(f"{path}: cannot parse the CSV ({text[:200]})",
                         hint="Run `kcdata validate` on the dataset.") from exc
    return table.select(sources)


def _has_quotes(path: Path) -> bool:
    """Whether the file holds a double quote anywhere (memchr over a memory map: milliseconds)."""
    import mmap

    with open(path, "rb") as fh:
        try:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return mm.find(b'"') >= 0
        except (ValueError, OSError):  # empty or unmappable file: assume the worst
            return True


def _keys_of(table: Any, mapping: TableMapping) -> Any:
    """Canonical key text per row (Arrow string array); "" for an empty key."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pos = next(i for i, c in enumerate(mapping.columns) if c.field_name == mapping.row_identifier)
    col = mapping.columns[pos]
    raw = table.column(pos).combine_chunks()
    if col.data_type == "text":
        return pc.if_else(pc.is_in(raw, value_set=pa.array(list(col.missing_values))), "", raw)
    if col.source_type == "integer" and pc.all(pc.and_(pc.string_is_ascii(raw), pc.utf8_is_digit(raw))).as_py() \
            and not pc.any(pc.and_(
            pc.starts_with(raw, "0"), pc.greater(pc.utf8_length(raw), 1))).as_py():
        return raw  # plain integers are canonical key text already
    from kcdata.publish.typemap import encoder

    enc = encoder(col)
    out = []
    for i, cell in enumerate(raw.to_pylist()):
        try:
            v = enc(cell)
        except EncodeError as exc:
            raise InputError(f"{mapping.columns[pos].source} at data row {i + 1}: {exc}",
                             hint="The row identifier must be valid in every row.") from None
        out.append("" if v is None else key_text(col, v))
    return pa.array(out, type=pa.string())


def manifest_fingerprint(mapping: TableMapping) -> str:
    """What a manifest's source hashes are only comparable under: the column mapping and the hash
    function (a manifest written with another one is ignored, never misread)."""
    return f"{mapping.fingerprint()}-{hashing.VERSION}"


def _hashes_of(table: Any) -> Any:
    import pyarrow.compute as pc

    joined = pc.binary_join_element_wise(*[table.column(i) for i in range(table.num_columns)], HASH_SEP)
    return hashing.hash_strings(joined)


def _duplicates(keys: Any) -> tuple[str, ...]:
    """Some keys that occur more than once (empty when all are unique)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(keys) < 2:
        return ()
    try:  # integer keys (the common case): a sort of int64 is far cheaper than hashing strings
        ints = pc.cast(keys, pa.int64()).to_numpy()
        if bool((ints[1:] > ints[:-1]).all()):
            return ()  # ascending keys (a file sorted by its id): unique without a sort
        srt = np.sort(ints)
        if not bool((srt[1:] == srt[:-1]).any()):
            return ()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        from kcdata.publish.rowset import key_hashes

        kh = np.sort(key_hashes(keys))
        if not bool((kh[1:] == kh[:-1]).any()):
            return ()
    counts = pc.value_counts(keys)
    many = counts.filter(pc.greater(counts.field("counts"), 1))
    return tuple(many.field("values").to_pylist()[:20])


def scan(path: Path, mapping: TableMapping) -> SourceScan:
    """Read the CSV once: every row's key and source hash. Raises InputError on unreadable files."""
    import pyarrow.compute as pc

    table = read_table(path, mapping)
    keys = _keys_of(table, mapping)
    hashes = _hashes_of(table)
    nonempty = pc.not_equal(keys, "")
    empty = len(keys) - pc.sum(nonempty).as_py() if len(keys) else 0
    if empty:
        table, keys, hashes = table.filter(nonempty), keys.filter(nonempty), hashes[nonempty.to_numpy(False)]
    dups = _duplicates(keys)
    return SourceScan(path=path, table=table, rows=RowHashes(keys=keys, hashes=hashes), duplicates=dups,
                      empty_keys=int(empty or 0))


def iter_encoded_chunks(scanned: SourceScan, mapping: TableMapping, *, keys: frozenset[str] | None = None,
                        chunk_size: int = 10_000, positions: Any = None
                        ) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
    """Yield ``(keys, rows)`` batches of at most ``chunk_size`` rows as portal JSON values.

    ``positions`` (row numbers in the scan, ascending) or ``keys`` select the rows (default: all).
    Every column is present in every row (None for null), so an update also clears cells that
    became empty. Encoding is column-wise: the upload's hot path.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    table, all_keys = scanned.table, scanned.rows.keys
    if positions is not None:
        if len(positions) != len(all_keys):
            take = pa.array(positions, type=pa.int64())
            table, all_keys = table.take(take), all_keys.take(take)
    elif keys is not None and len(keys) != len(all_keys):
        mask = pc.is_in(all_keys, value_set=pa.array(list(keys), type=pa.string()))
        table, all_keys = table.filter(mask), all_keys.filter(mask)
    names = [c.field_name for c in mapping.columns]
    encoders = [column_encoder(c) for c in mapping.columns]
    for start in range(0, table.num_rows, chunk_size):
        part = table.slice(start, chunk_size)
        columns = []
        for i, enc in enumerate(encoders):
            try:
                columns.append(enc(part.column(i).to_pylist()))
            except EncodeError as exc:
                raise InputError(f"{scanned.path}: data rows {start + 1}-{start + part.num_rows}: column "
                                 f"{mapping.columns[i].source}: {exc}",
                                 hint="Run `kcdata validate` and fix the data.") from None
        yield (all_keys.slice(start, chunk_size).to_pylist(),
               [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)])


def iter_encoded(scanned: SourceScan, mapping: TableMapping, *, keys: frozenset[str] | None = None
                 ) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(key, row)`` one by one (see :func:`iter_encoded_chunks`)."""
    for ks, rows in iter_encoded_chunks(scanned, mapping, keys=keys):
        yield from zip(ks, rows, strict=True)


def value_hash(mapping: TableMapping, row: Mapping[str, Any], columns: Sequence[Column] | None = None) -> int:
    """64-bit digest of a row's canonical values over ``columns`` (default: all mapped columns)."""
    cols = columns if columns is not None else mapping.columns
    values = [canonical(c.data_type, row.get(c.field_name)) for c in cols]
    digest = hashlib.blake2b(json.dumps(values, default=str).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")
