"""Reading a dataset's CSV once: row keys and row hashes for the plan, encoded rows for the upload.

Two hashes exist, for two ways of knowing what the portal holds:

* the *source hash* of a row (:func:`scan`) is a 64-bit hash of its CSV record's bytes, found in
  place in the file (:mod:`kcdata.publish.rows.records`), or of its cells as Arrow parses them when the
  records cannot be located safely — cheap and vectorised, and what the manifest kept on the portal
  records; it is only comparable under the same column mapping and rules (the manifest carries
  :func:`manifest_fingerprint` and is ignored when that differs);
* the *value hash* (:mod:`kcdata.publish.rows.valuehash`) is a hash of the row's canonical portal
  values, so it can be computed both from our CSV and from rows read back from the portal.

Only the key column is parsed for the plan; the cells of the rows to upload are parsed when they
are uploaded (:meth:`SourceScan.table`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.publish.rows import hashing
from kcdata.publish.rows.records import (
    as_buffer,
    gather_records,
    has_quote,
    header_is,
    header_record,
    read_padded,
    record_spans,
    utf8_error_at,
)
from kcdata.publish.rows.rowset import RowHashes
from kcdata.publish.typemap import Column, EncodeError, TableMapping, canonical, column_encoder

HASH_SEP = "\x1f"
# What a source hash is taken over (see :func:`scan`); part of the manifest fingerprint.
# "records-1": the CSV record's bytes, or the mapped cells joined by HASH_SEP when the records
# cannot be located safely. (Before it, always the joined cells.)
SOURCE_HASH = "records-1"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceScan:
    """A CSV read into memory: every row's key and source hash, and the rows' cells on demand.

    A *line-hashed* scan keeps the file's bytes and each row's record span in them, and parses
    cells only for the rows asked for (:meth:`table`): a 1% re-publish parses 1% of the rows. A
    scan of a file whose records cannot be located safely holds the parsed table instead.
    """

    path: Path
    mapping: TableMapping
    rows: RowHashes
    duplicates: tuple[str, ...]  # some keys seen more than once
    empty_keys: int  # rows whose row identifier is empty
    text: Any = None  # uint8 array: the file's bytes then 8 zero bytes (line-hashed scans)
    spans: tuple[Any, Any] | None = None  # (starts, ends) of row i's record in ``text`` (line-hashed)
    header: bytes = b""  # the header record (line-hashed)
    quoted: bool = True  # the file holds a double quote (values may span lines)
    kept: Any = None  # bool per record of the file: False where the key is empty (None: all kept)
    _full: list[Any] = field(default_factory=list, repr=False, compare=False)  # the whole table, once parsed

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def table(self, positions: Any = None) -> Any:
        """The mapped columns (Arrow strings, mapping order) of the rows at ``positions`` (row
        numbers of this scan, ascending), or of every row. A few rows of a line-hashed scan are
        parsed on their own; more than an eighth of them, the whole file (once)."""
        import numpy as np
        import pyarrow as pa

        n = len(self.rows)
        at = None if positions is None or len(positions) == n else np.asarray(positions, dtype=np.int64)
        if at is not None and self.spans is not None and not self._full and len(at) <= n // 8:
            return read_table(self.path, self.mapping, data=gather_records(self.text, self.spans, self.header, at),
                              quoted=self.quoted)
        if not self._full:
            self._full.append(self._parse_all())
        full = self._full[0]
        return full if at is None else full.take(pa.array(at))

    def _parse_all(self) -> Any:
        """Every row, parsed from the bytes already in memory (records with an empty key dropped)."""
        import numpy as np
        import pyarrow as pa

        if self.text is None or self.spans is None:
            raise AssertionError("a scan without its bytes holds its table already")
        data = (as_buffer(self.text, len(self.text) - 8) if self.rows else
                gather_records(self.text, self.spans, self.header, np.zeros(0, dtype=np.int64)))
        full = read_table(self.path, self.mapping, data=data, quoted=self.quoted)
        return full if self.kept is None else full.filter(pa.array(self.kept))


def key_text(col: Column, value: Any) -> str:
    """A row-identifier value as the text both sides (CSV and portal) agree on."""
    if isinstance(value, str) and (col.data_type == "text" or (col.source_type == "integer" and value.isdigit())):
        return value  # text and canonical integers need no work
    c = canonical(col.data_type, value)
    return c if isinstance(c, str) else json.dumps(c)


def read_table(path: Path, mapping: TableMapping, *, data: Any = None, quoted: bool | None = None,
               only: Sequence[str] | None = None) -> Any:
    """The mapped columns of the CSV (or of ``data``, CSV bytes standing for ``path``) as an Arrow
    table of strings (empty cells are ""); ``only`` limits it to those source columns."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    sources = list(only) if only is not None else [c.source for c in mapping.columns]
    if data is None:
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
            path if data is None else pa.BufferReader(data),
            read_options=pcsv.ReadOptions(encoding="utf8"),
            # A line break inside a value needs quotes; without any quote in the file the reader
            # may split it at line breaks and parse the blocks in parallel (~2x faster).
            parse_options=pcsv.ParseOptions(newlines_in_values=has_quote(path) if quoted is None else quoted),
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


def _keys_of(column: Any, mapping: TableMapping) -> Any:
    """Canonical key text per row (Arrow string array) of the row identifier's CSV ``column``; ""
    for an empty key."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = mapping.column(mapping.row_identifier)
    raw = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
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
            raise InputError(f"{col.source} at data row {i + 1}: {exc}",
                             hint="The row identifier must be valid in every row.") from None
        out.append("" if v is None else key_text(col, v))
    return pa.array(out, type=pa.string())


def manifest_fingerprint(mapping: TableMapping) -> str:
    """What a manifest's source hashes are only comparable under: the column mapping and the hash
    function and what it is applied to (a manifest written under another one is ignored, never
    misread)."""
    return f"{mapping.fingerprint()}-{hashing.VERSION}-{SOURCE_HASH}"


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
        from kcdata.publish.rows.rowset import key_hashes

        kh = np.sort(key_hashes(keys))
        if not bool((kh[1:] == kh[:-1]).any()):
            return ()
    counts = pc.value_counts(keys)
    many = counts.filter(pc.greater(counts.field("counts"), 1))
    return tuple(many.field("values").to_pylist()[:20])


def scan(path: Path, mapping: TableMapping, *, locate_records: bool = True) -> SourceScan:
    """Read the CSV once: every row's key and source hash. Raises InputError on unreadable files.

    The source hash of a row is the hash of its CSV record's bytes (a CRLF line end excluded)
    when the header is exactly the schema's fields in order, so the record holds the row's mapped
    cells and nothing else, and every record can be located safely (:func:`record_spans`); the
    cells of a few rows are then parsed only when they are uploaded. Otherwise (extra or
    reordered columns, a stray quote, a bare CR) the file is parsed in full and the hash is that
    of the mapped cells joined by a unit separator. Either way the hash is a function of the
    file's bytes alone, so a manifest written from the same file always compares equal.

    ``locate_records=False`` takes the second path for any file (the benchmark's reference; its
    hashes are not comparable with a manifest written by the first)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text, quoted = read_padded(path)
    size = len(text) - 8
    header, body_at = header_record(text, size)
    if not header.removeprefix(b"\xef\xbb\xbf").strip():
        raise InputError(f"{path}: the data file is empty", hint="Add a header row and data.")
    key_source = mapping.column(mapping.row_identifier).source
    # A header with no line end after it (and no rows) is a file the reader refuses: give it one.
    whole = as_buffer(text, size) if body_at < size else pa.py_buffer(header + b"\n")
    spans: tuple[Any, Any] | None = None
    table, hashes = None, np.zeros(0, dtype=np.uint64)
    if locate_records and header_is(header, mapping):
        # Only the key column is parsed here, so the rest of the file is checked for UTF-8 now,
        # as a full parse would: a bad byte found at upload time would fail the apply half-way.
        bad = utf8_error_at(text, size)
        if bad is not None:
            raise InputError(f"{path}: not valid UTF-8 (byte {bad:,}, line "
                             f"{int(np.count_nonzero(text[:bad] == 10)) + 1})",
                             hint="Save the file as UTF-8, then run `kcdata validate` on the dataset.")
        # The key column is parsed by Arrow (its own threads, no GIL) while numpy locates and
        # hashes the records here; the hash is split in two so both cores share it.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kcdata-scan") as pool:
            keys_read = pool.submit(read_table, path, mapping, data=whole, quoted=quoted, only=[key_source])
            spans = record_spans(text, size, body_at, quoted)
            if spans is not None:
                half = len(spans[0]) // 2
                lens = spans[1] - spans[0]
                first = pool.submit(hashing.hash_spans, text, spans[0][:half], lens[:half])
                second = hashing.hash_spans(text, spans[0][half:], lens[half:])
                hashes = np.concatenate([first.result(), second])
            key_col = keys_read.result().column(0)
        if spans is not None and not _spans_agree(path, mapping, text, spans, header, quoted, key_col):
            spans = None  # the reader saw other records than the line scan: parse in full instead
    if spans is None:
        table = read_table(path, mapping, data=whole, quoted=quoted)
        key_col = table.column([c.source for c in mapping.columns].index(key_source))
        hashes = _hashes_of(table)
    keys = _keys_of(key_col, mapping)
    nonempty = pc.not_equal(keys, "")
    empty = len(keys) - pc.sum(nonempty).as_py() if len(keys) else 0
    if empty:
        mask = nonempty.to_numpy(zero_copy_only=False)
        keys, hashes = keys.filter(nonempty), hashes[mask]
        if table is not None:
            table = table.filter(nonempty)
        if spans is not None:
            spans = (spans[0][mask], spans[1][mask])
    else:
        mask = None
    dups = _duplicates(keys)
    rows = RowHashes(keys=keys, hashes=hashes)
    if spans is None:
        return SourceScan(path=path, mapping=mapping, rows=rows, duplicates=dups, empty_keys=int(empty or 0),
                          quoted=quoted, _full=[table])
    return SourceScan(path=path, mapping=mapping, rows=rows, duplicates=dups, empty_keys=int(empty or 0),
                      text=text, spans=spans, header=header, quoted=quoted, kept=mask)


def _spans_agree(path: Path, mapping: TableMapping, text: Any, spans: tuple[Any, Any], header: bytes,
                 quoted: bool, key_col: Any) -> bool:
    """Whether the reader found as many rows as there are spans, and a sample of spans (the first,
    the last and 62 between) parsed on their own give the reader's keys at their positions: a
    cheap second guard (besides the checks in :func:`record_spans`) that hash ``i`` is row ``i``."""
    import numpy as np

    n = len(spans[0])
    if len(key_col) != n:
        return False
    if n == 0:
        return True
    at = np.unique(np.linspace(0, n - 1, num=min(n, 64)).astype(np.int64))
    key_source = mapping.column(mapping.row_identifier).source
    try:
        got = read_table(path, mapping, data=gather_records(text, spans, header, at), quoted=quoted,
                         only=[key_source]).column(0)
    except InputError:
        return False
    return bool(got.to_pylist() == key_col.take(at).to_pylist())


def iter_encoded_chunks(scanned: SourceScan, mapping: TableMapping, *, keys: frozenset[str] | None = None,
                        chunk_size: int = 10_000, positions: Any = None
                        ) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
    """Yield ``(keys, rows)`` batches of at most ``chunk_size`` rows as portal JSON values.

    ``positions`` (row numbers in the scan, ascending) or ``keys`` select the rows (default: all).
    Every column is present in every row (None for null), so an update also clears cells that
    became empty. Encoding is column-wise: the upload's hot path.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    all_keys = scanned.rows.keys
    if positions is None and keys is not None and len(keys) != len(all_keys):
        mask = pc.is_in(all_keys, value_set=pa.array(list(keys), type=pa.string()))
        positions = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
    if positions is not None and len(positions) != len(all_keys):
        table = scanned.table(positions)
        all_keys = all_keys.take(pa.array(np.asarray(positions, dtype=np.int64)))
    else:
        table = scanned.table()
    names = [c.field_name for c in mapping.columns]
    for ks, columns in encoded_columns(scanned, mapping, table, all_keys, chunk_size):
        yield ks, [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def encoded_columns(scanned: SourceScan, mapping: TableMapping, table: Any, keys: Any, chunk_size: int
                     ) -> Iterator[tuple[list[str], list[list[Any]]]]:
    """``(keys, one list of portal values per mapped column)`` for each chunk of ``table``."""
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
        yield keys.slice(start, chunk_size).to_pylist(), columns
