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

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.publish import hashing
from kcdata.publish.rowset import RowHashes
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
        numbers of this scan, ascending), or of every row."""
        import numpy as np
        import pyarrow as pa

        n = len(self.rows)
        whole = positions is None or len(positions) == n
        if self._full or self.spans is None or (not whole and len(positions) > n // 8):
            if not self._full:
                self._full.append(self._parse_all())
            full = self._full[0]
            return full if whole else full.take(pa.array(np.asarray(positions, dtype=np.int64)))
        if whole:
            self._full.append(self._parse_all())
            return self._full[0]
        return read_table(self.path, self.mapping, data=self._records(np.asarray(positions, dtype=np.int64)),
                          quoted=self.quoted)

    def _parse_all(self) -> Any:
        """Every row, parsed from the bytes already in memory (records with an empty key dropped)."""
        import numpy as np
        import pyarrow as pa

        if self.text is None:
            raise AssertionError("a scan without its bytes holds its table already")
        data = _as_buffer(self.text, len(self.text) - 8) if self.rows else self._records(np.zeros(0, dtype=np.int64))
        full = read_table(self.path, self.mapping, data=data, quoted=self.quoted)
        return full if self.kept is None else full.filter(pa.array(self.kept))

    def _records(self, at: Any) -> Any:
        """A CSV (header, then the records of rows ``at``, one per line) as an Arrow buffer,
        gathered with numpy rather than a Python loop over rows."""
        import numpy as np
        import pyarrow as pa

        assert self.spans is not None
        starts, ends = self.spans[0][at], self.spans[1][at]
        lens = ends - starts + 1  # each record and its "\n"
        head = len(self.header) + 1
        out = np.empty(head + int(lens.sum()), dtype=np.uint8)
        out[:head - 1] = np.frombuffer(self.header, dtype=np.uint8)
        out[head - 1] = 10
        if len(at):
            first = np.cumsum(lens) - lens + head  # where each record goes in ``out``
            src = np.repeat(starts - first, lens) + np.arange(head, len(out))
            out[head:] = self.text[src]
            out[first + lens - 1] = 10
        return pa.py_buffer(out)


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
            parse_options=pcsv.ParseOptions(newlines_in_values=_has_quotes(path) if quoted is None else quoted),
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
        from kcdata.publish.rowset import key_hashes

        kh = np.sort(key_hashes(keys))
        if not bool((kh[1:] == kh[:-1]).any()):
            return ()
    counts = pc.value_counts(keys)
    many = counts.filter(pc.greater(counts.field("counts"), 1))
    return tuple(many.field("values").to_pylist()[:20])


def scan(path: Path, mapping: TableMapping) -> SourceScan:
    """Read the CSV once: every row's key and source hash. Raises InputError on unreadable files.

    The source hash of a row is the hash of its CSV record's bytes (a CRLF line end excluded)
    when the header is exactly the schema's fields in order, so the record holds the row's mapped
    cells and nothing else, and every record can be located safely (:func:`_record_spans`); the
    cells of a few rows are then parsed only when they are uploaded. Otherwise (extra or
    reordered columns, a stray quote, a bare CR) the file is parsed in full and the hash is that
    of the mapped cells joined by a unit separator. Either way the hash is a function of the
    file's bytes alone, so a manifest written from the same file always compares equal."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text, quoted = _read_padded(path)
    size = len(text) - 8
    header, body_at = _header_record(text, size)
    if not header.removeprefix(b"\xef\xbb\xbf").strip():
        raise InputError(f"{path}: the data file is empty", hint="Add a header row and data.")
    key_source = mapping.column(mapping.row_identifier).source
    # A header with no line end after it (and no rows) is a file the reader refuses: give it one.
    whole = _as_buffer(text, size) if body_at < size else pa.py_buffer(header + b"\n")
    spans: tuple[Any, Any] | None = None
    table, hashes = None, np.zeros(0, dtype=np.uint64)
    if _header_is(header, mapping):
        # The key column is parsed by Arrow (its own threads, no GIL) while numpy locates and
        # hashes the records here; the hash is split in two so both cores share it.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kcdata-scan") as pool:
            keys_read = pool.submit(read_table, path, mapping, data=whole, quoted=quoted, only=[key_source])
            spans = _record_spans(text, size, body_at, quoted)
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
    cheap second guard (besides the checks in :func:`_record_spans`) that hash ``i`` is row ``i``."""
    import numpy as np

    n = len(spans[0])
    if len(key_col) != n:
        return False
    if n == 0:
        return True
    at = np.unique(np.linspace(0, n - 1, num=min(n, 64)).astype(np.int64))
    probe = SourceScan(path=path, mapping=mapping, rows=RowHashes.empty(), duplicates=(), empty_keys=0, text=text,
                       spans=spans, header=header, quoted=quoted)
    key_source = mapping.column(mapping.row_identifier).source
    try:
        got = read_table(path, mapping, data=probe._records(at), quoted=quoted, only=[key_source]).column(0)
    except InputError:
        return False
    return bool(got.to_pylist() == key_col.take(at).to_pylist())


def _read_padded(path: Path) -> tuple[Any, bool]:
    """The file's bytes followed by 8 zero bytes (``uint8``), and whether it holds a double quote."""
    import mmap

    import numpy as np

    try:
        with open(path, "rb", buffering=0) as fh:
            size = os.fstat(fh.fileno()).st_size
            text = np.empty(size + 8, dtype=np.uint8)
            text[size:] = 0
            got = fh.readinto(text[:size].data) if size else 0
            quoted = True
            if size:
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                    quoted = mm.find(b'"') >= 0
    except OSError as exc:
        raise InputError(f"{path}: cannot read the data file ({exc.strerror})",
                         hint="Check the dataset's `data` path in the inventory.") from exc
    if got != size:
        raise InputError(f"{path}: the data file changed while it was read", hint="Run the command again.")
    return text, quoted


def _as_buffer(text: Any, size: int) -> Any:
    import pyarrow as pa

    return pa.py_buffer(text[:size])


def _header_record(text: Any, size: int) -> tuple[bytes, int]:
    """The first line (without its line end) and where the next one starts. Header names with a
    line break in them are not supported by the line scan (:func:`_header_is` then fails)."""
    import numpy as np

    first = np.flatnonzero(text[:min(size, 1 << 20)] == 10)
    end = int(first[0]) if len(first) else size
    line = text[:end].tobytes()
    return line.removesuffix(b"\r"), min(end + 1, size)


def _header_is(header: bytes, mapping: TableMapping) -> bool:
    """Whether the header row names exactly the mapped source columns, in mapping order."""
    import csv

    try:
        names = next(csv.reader([header.decode("utf-8-sig")]), [])
    except (UnicodeDecodeError, csv.Error):
        return False
    return names == [c.source for c in mapping.columns]


def _record_spans(text: Any, size: int, start: int, quoted: bool) -> tuple[Any, Any] | None:
    """``(starts, ends)`` of every non-empty record after ``start``, or None when the records
    cannot be located exactly as Arrow's CSV reader will split them.

    A record ends at a line feed outside quotes (a CR before it is left out). With quotes in the
    file, a line feed is inside a value when an odd number of quotes precede it; that holds only
    when every quote is structural (opens a value at its start, closes it at its end, or is one
    of a doubled pair), which is checked, like the absence of a bare CR (another line end to the
    reader). The caller also checks that the reader finds as many records."""
    import numpy as np

    found = _find_record_ends(text, start, size, quoted)
    if found is None:
        return None
    nl, crs = found
    before_nl = text[nl - 1] == 13  # a CR ending the line (left out of the record)
    starts = np.empty(len(nl) + 1, dtype=np.int64)
    starts[0] = start
    starts[1:] = nl + 1
    ends = np.empty(len(nl) + 1, dtype=np.int64)
    ends[:-1] = nl - before_nl if crs else nl
    ends[-1] = size  # never after a CR: a CR at the very end would be a bare one
    keep = ends > starts
    if not keep.all():
        starts, ends = starts[keep], ends[keep]
    return starts, ends


_SCAN_BYTES = 1 << 20


def _find_record_ends(text: Any, start: int, size: int, quoted: bool) -> tuple[Any, int] | None:
    """Positions of the LFs that end a record (outside quoted values) in ``text[start:size]`` and
    the number of CRs, or None when a CR is not part of a CRLF, a quote is not structural (see
    :func:`_quotes_structural`) or a quoted value is left open.

    One pass of cache-sized blocks (whole-array compares would stream 40 MB temporaries through
    memory for a 1M-row file); the quote count carried from block to block gives each LF its
    parity, so quote positions never exist for the whole file at once."""
    import numpy as np

    nls, crs, crlfs, quotes = [np.zeros(0, dtype=np.int64)], 0, 0, 0
    hit = np.empty(min(_SCAN_BYTES, max(size - start, 0)), dtype=bool)
    for at in range(start, size, _SCAN_BYTES):
        block = text[at:min(at + _SCAN_BYTES, size)]
        m = hit[:len(block)]
        np.equal(block, 10, out=m)
        nl = np.flatnonzero(m) + at
        np.equal(block, 13, out=m)
        crs += int(np.count_nonzero(m))
        if crs:  # (a CR at the end of the last block pairs with an LF at the start of this one)
            crlfs += int(np.count_nonzero(text[nl - 1] == 13))
        if quoted:
            np.equal(block, 34, out=m)
            q = np.flatnonzero(m) + at
            if len(q):
                if not _quotes_structural(text, q, size, first=quotes):
                    return None
                nl = nl[((np.searchsorted(q, nl) + quotes) & 1) == 0]
                quotes += len(q)
            elif quotes & 1:
                nl = nl[:0]  # the whole block is inside one quoted value
        nls.append(nl)
    if crs != crlfs or quotes & 1:
        return None  # a bare CR (the reader would end a record there), or an unterminated quote
    return np.concatenate(nls), crs


def _quotes_structural(text: Any, q: Any, size: int, *, first: int = 0) -> bool:
    """Whether the quotes at ``q`` (numbered from ``first`` in the file) are all structural: one
    at an even place opens a value (after a delimiter or a line end) or follows another quote
    directly (the second of a doubled pair); one at an odd place closes a value (before a
    delimiter, a line end or the end of the file) or is followed directly by another quote."""
    import numpy as np

    before = text[q - 1]  # q >= 1: the header comes first
    after = text[q + 1]  # the 8 zero bytes after the file keep this in bounds
    opens = ((np.arange(len(q)) + first) & 1) == 0
    ok_open = (before == 44) | (before == 10) | (before == 13) | (before == 34)
    ok_close = (after == 44) | (after == 10) | (after == 13) | (after == 34) | (q + 1 >= size)
    return bool(np.where(opens, ok_open, ok_close).all())


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
    for ks, columns in _encoded_columns(scanned, mapping, table, all_keys, chunk_size):
        yield ks, [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _encoded_columns(scanned: SourceScan, mapping: TableMapping, table: Any, keys: Any, chunk_size: int
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


def local_value_hashes(scanned: SourceScan, mapping: TableMapping, *, chunk_size: int = 50_000) -> RowHashes:
    """Every row's value hash (see :func:`value_hashes`) from the CSV's encoded values."""

    hashes = [value_hashes(mapping.columns, columns) for _ks, columns in
              _encoded_columns(scanned, mapping, scanned.table(), scanned.rows.keys, chunk_size)]
    return _row_hashes([scanned.rows.keys], hashes)


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


def _row_hashes(keys: Sequence[Any], hashes: Sequence[Any]) -> RowHashes:
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
        texts = _canonical_array(col.data_type, cells)
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


def _canonical_array(data_type: str, cells: Sequence[Any]) -> Any:
    """:func:`_canonical_texts` as an Arrow string array, with a vectorised fast path for cells
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
            fixed = pa.array(_canonical_texts(data_type, [cells[i] for i in bad.tolist()]), type=pa.string())
            mask = np.zeros(len(arr), dtype=bool)
            mask[bad] = True
            return pc.replace_with_mask(arr, pa.array(mask), fixed)
    return pa.array(_canonical_texts(data_type, cells), type=pa.string())


def _canonical_texts(data_type: str, cells: Sequence[Any]) -> list[str | None]:
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


def iter_encoded(scanned: SourceScan, mapping: TableMapping, *, keys: frozenset[str] | None = None
                 ) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(key, row)`` one by one (see :func:`iter_encoded_chunks`)."""
    for ks, rows in iter_encoded_chunks(scanned, mapping, keys=keys):
        yield from zip(ks, rows, strict=True)
