"""The fast engine: streaming pyarrow record batches, vectorised casts, exact frictionless semantics.

Why it is exact: frictionless decides each cell with a pure function of the cell text (the field's
cell reader). Vectorised kernels accept the common, certainly-valid cells; every other cell is decided
by that very reader (once per distinct value). Rows pyarrow cannot fit to the header's width (numbered
by pyarrow as frictionless numbers them) are judged cell by cell with the same readers and the rules of
frictionless's ``Row``. Header errors come from frictionless's ``Header``.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kcdata.errors import InputError
from kcdata.validate.bytekernels import lengths
from kcdata.validate.kernels import kernel_for
from kcdata.validate.model import ValidationError
from kcdata.validate.reference import EngineResult, error_from_frictionless
from kcdata.validate.schema import Dialect, LoadedSchema, frictionless_schema
from kcdata.validate.segments import Segments
from kcdata.validate.source import Fallback, HashingFile, Prefetch, guess_delimiter, read_header
from kcdata.validate.uniqueness import KeyTracker
from kcdata.validate.values import NAN as _NAN_KEY
from kcdata.validate.values import canonical_value

BLOCK_SIZE = 2 << 20  # larger blocks are barely faster and cost the engine's memory bound
CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
UTF8 = frozenset({"utf-8", "utf8", "utf-8-sig", "ascii", "us-ascii"})
CELL_GROUP, EXTRA_GROUP, MISSING_GROUP = 0, 1, 2
MEMO_LIMIT = 200_000
PARSE_WORKERS = max(1, min(4, os.cpu_count() or 1))  # threads parsing segments of the file (pyarrow frees the GIL)
SEGMENT_BYTES = 8 << 20


@dataclass(slots=True)
class _Field:
    number: int  # 1-based position
    name: str
    reader: Callable[[Any], tuple[Any, dict[str, str] | None]]
    missing: Any  # pyarrow array of missing values
    required: bool
    kernel: Callable[[Any], np.ndarray] | None
    type_note: str
    keyed: bool  # unique or part of the primary key: its cast values are tracked
    empty_is_missing: bool = True
    memo: dict[str, tuple[Any, tuple[tuple[str, str], ...]]] = field(default_factory=dict)


_Item = tuple[str, "str | None", Callable[[], str]]  # code, field, message maker


@dataclass(slots=True)
class _Errors:
    """Errors of one batch as parallel arrays; messages are only built for the listed ones."""

    rows: list[np.ndarray] = field(default_factory=list)
    keys: list[np.ndarray] = field(default_factory=list)
    items: list[list[_Item]] = field(default_factory=list)

    def add(self, rows: np.ndarray, keys: np.ndarray | int, items: list[_Item]) -> None:
        if len(rows):
            self.rows.append(np.asarray(rows, dtype=np.int64))
            self.keys.append(np.broadcast_to(np.asarray(keys, dtype=np.int64), (len(rows),)))
            self.items.append(items)


def validate_fast(*, data: Path, schema: LoadedSchema, dialect: Dialect, max_errors: int,
                  on_progress: Callable[[int, int], None] | None = None,
                  data_sha256: str | None = None) -> EngineResult:
    """Validate a CSV file exactly as frictionless would, in bounded memory; Fallback when it cannot.

    The file is hashed (sha256) while it is read, unless the caller already knows ``data_sha256``.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from frictionless import errors as ferrors
    from frictionless.table import Header

    if data.suffix.lower() not in CSV_SUFFIXES:
        raise Fallback(f"'{data.suffix or 'no suffix'}' is not a CSV file (non-CSV sources are read by frictionless)")
    if schema.descriptor.get("foreignKeys"):
        raise Fallback("the schema declares foreign keys")
    if schema.descriptor.get("fieldsMatch", "exact") != "exact":
        raise Fallback("the schema sets fieldsMatch")
    if dialect.encoding and dialect.encoding.lower() not in UTF8:
        raise Fallback(f"encoding {dialect.encoding} (the fast engine reads UTF-8)")
    if len(dialect.delimiter) != 1 or len(dialect.quote_char) != 1:
        raise Fallback("a multi-character delimiter or quote character")
    size = data.stat().st_size
    if size == 0:
        raise Fallback("the file is empty")
    fschema = frictionless_schema(schema)
    first = read_header(data, dialect)
    labels = first.labels
    if not labels:
        # frictionless reads an empty first line as a header of no labels, and the rows after it
        # with the width it then guesses: its own answer is the one to give
        raise Fallback("the file starts with an empty line")
    if len(labels) == 1 and len(fschema.fields) > 1:
        guess = guess_delimiter(first.head, dialect.delimiter, [f.name for f in fschema.fields])
        if guess is not None:
            shown = {"\t": "\\t"}.get(guess, guess)
            raise InputError(
                f"{data}:1: the header has a single column but the schema expects {len(fschema.fields)} fields: "
                f"wrong delimiter? (declared {dialect.delimiter!r}, the header looks {shown!r}-separated)",
                hint=f"pass --delimiter '{shown}' or declare \"dialect\": {{\"delimiter\": \"{shown}\"}} in the schema")
    header = Header(labels, fields=fschema.fields, row_numbers=[1])
    expected = header.get_expected_fields()

    fields: list[_Field] = []
    pk = list(fschema.primary_key)
    if not set(pk) <= {e.name for e in expected}:
        pk = []  # as frictionless: a key field the header lacks (a missing-label) turns the key check off
    for number, fobj in enumerate(expected, start=1):
        desc = fobj.to_descriptor()
        mv = fobj.missing_values if fobj.has_defined("missing_values") else fschema.missing_values
        cons = desc.get("constraints") or {}
        fields.append(_Field(number=number, name=fobj.name, reader=fobj.create_cell_reader(),
                             missing=pa.array([str(v) for v in mv], pa.string()), required=bool(cons.get("required")),
                             kernel=_kernel(desc, keyed=bool(cons.get("unique")) or fobj.name in pk),
                             type_note=f'type is "{fobj.type}/{fobj.format}"',
                             keyed=bool(cons.get("unique")) or fobj.name in pk, empty_is_missing="" in mv))
    tracker = KeyTracker(unique=[f.name for f in fields if f.keyed and f.name in {
        e.name for e in expected if (e.constraints or {}).get("unique")}], primary_key=pk,
        numbers={f.name: f.number for f in fields})

    counts: Counter[str] = Counter()
    listed: list[tuple[int, int, ValidationError]] = []
    for err in header.errors:
        counts[err.type] += 1
        listed.append((1, 0, error_from_frictionless(err)))
    limit = max_errors if max_errors > 0 else None

    # Rows pyarrow cannot fit to the header's width: (row number, text). Single-threaded parsing numbers
    # them as frictionless does (CSV records, header = 1, quoted line breaks inside one record).
    ragged: list[tuple[int, str]] = []

    def on_invalid(row: Any) -> str:
        if row.number is None:
            raise Fallback("pyarrow did not number a malformed row")
        ragged.append((int(row.number) + 1, row.text))  # + the header record, read before pyarrow starts
        return "skip"

    names = [f"c{i}" for i in range(len(labels))]
    source = HashingFile(data, hashing=data_sha256 is None)
    source.skip(first.end)  # the header record (it may hold quoted line breaks): pyarrow reads the rows
    if first.end >= size:  # a header and nothing else
        source.close()
        return EngineResult(rows=0, errors=tuple(e for _, _, e in listed), counts=dict(counts),
                            data_sha256=data_sha256 or _sha256(data))

    def open_reader(stream: Any, handler: Callable[[Any], str]) -> Any:
        return pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=BLOCK_SIZE, skip_rows=0, column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=dialect.delimiter, quote_char=dialect.quote_char,
                                             double_quote=dialect.double_quote, newlines_in_values=True,
                                             ignore_empty_lines=False, invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))

    batches: Prefetch | Segments
    if PARSE_WORKERS > 1 and dialect.double_quote:
        # segments of the file parsed on several cores; rows numbered as one single-threaded stream would
        batches = Segments(source, open_reader=open_reader, quote=dialect.quote_char, delimiter=dialect.delimiter,
                           workers=PARSE_WORKERS, ragged=ragged, records_before=1, segment_bytes=SEGMENT_BYTES)
    else:
        batches = Prefetch(open_reader(source, on_invalid))
    accepted = 0
    skip_t: list[int] = []  # for ragged row j: the accepted-row index before which it sits
    ragged_rows: list[tuple[int, str]] = []  # located but not yet evaluated (row number, text)
    seen = 0
    try:
        while True:
            try:
                batch = batches.next()
            except pa.ArrowInvalid as exc:
                msg = str(exc)
                if "UTF8" in msg or "utf8" in msg.lower():
                    raise Fallback("the file is not valid UTF-8 (frictionless detects the encoding)") from None
                if "straddling" in msg or "block" in msg:
                    raise InputError(f"{data}: a row longer than {BLOCK_SIZE >> 20} MB "
                                     "(a single-line or corrupt file?)",
                                     hint="check the file is a CSV export with one record per line") from None
                raise InputError(f"{data}: cannot parse as CSV: {msg}",
                                 hint="check the delimiter and quoting") from None
            # Ragged rows up to this batch's end are known (pyarrow reports them in file order).
            new = ragged[seen:]
            seen += len(new)
            for row_number, text in new:
                skip_t.append(row_number - len(skip_t) - 2)
                ragged_rows.append((row_number, text))
            errs = _Errors()
            if batch is not None and batch.num_rows:
                n = batch.num_rows
                idx = np.arange(accepted, accepted + n, dtype=np.int64)
                rows = idx + 2 + np.searchsorted(np.asarray(skip_t, dtype=np.int64), idx, side="right")
                _check_batch(batch, rows, fields, errs, tracker, ferrors)
                accepted += n
                last_row = int(rows[-1])
            else:
                last_row = 1 << 62
            pending = [r for r in ragged_rows if r[0] < last_row]
            ragged_rows = [r for r in ragged_rows if r[0] >= last_row]
            for row_number, text in pending:
                _check_ragged(text, row_number, dialect, fields, errs, tracker, ferrors)
            _collect(errs, counts, listed, limit)
            if on_progress is not None:
                on_progress(accepted + seen, size)
            if batch is None:
                break
    finally:
        batches.stop()
    skips = np.asarray(skip_t, dtype=np.int64)
    key_counts, key_listed = tracker.finish(
        limit=limit, row_of=lambda idx: idx + 2 + np.searchsorted(skips, idx, side="right"))
    counts.update(key_counts)
    listed.extend(key_listed)
    listed.sort(key=lambda t: (t[0], t[1]))
    if limit is not None:
        listed = listed[:limit]
    digest = data_sha256 or source.hexdigest()
    source.close()
    return EngineResult(rows=accepted + len(ragged), errors=tuple(e for _, _, e in listed),
                        counts={k: v for k, v in counts.items() if v}, data_sha256=digest)


def _sha256(data: Path) -> str:
    import hashlib

    return hashlib.sha256(data.read_bytes()).hexdigest()  # only ever a header: a small file


def _kernel(desc: dict[str, Any], *, keyed: bool) -> Callable[[Any], np.ndarray] | None:
    # A keyed non-string field needs every cast value (007 and 7 are one integer), so no kernel.
    if keyed and desc.get("type", "string") != "string":
        return None
    return kernel_for(desc)


def _check_batch(batch: Any, rows: np.ndarray, fields: list[_Field], errs: _Errors, tracker: KeyTracker,
                 ferrors: Any) -> None:
    import pyarrow as pa

    n = batch.num_rows
    width = min(batch.num_columns, len(fields))
    cols = [batch.column(i) for i in range(width)]
    present, absent = fields[:width], fields[width:]  # absent: schema fields with no label (missing-label)
    missing = [_missing(c, f.missing) for c, f in zip(cols, present, strict=True)]
    if not all(f.empty_is_missing for f in present):

        empty = np.logical_and.reduce([lengths(c) == 0 for c in cols])
        if empty.any():
            # pyarrow reads an empty line as a row of "" cells, frictionless as a row with no cells:
            # the same thing only when "" is a missing value
            raise Fallback('a row of empty cells (or an empty line) where "" is not a missing value')
    blank = np.logical_and.reduce(missing) if missing else np.ones(n, dtype=bool)
    if blank.any():
        brows = rows[blank]
        errs.add(brows, 0, [("blank-row", None, _msg(ferrors.BlankRowError, rowNumber=r)) for r in brows.tolist()])
    values: dict[str, tuple[Any, np.ndarray, Any]] = {}
    for col, f, miss in zip(cols, present, missing, strict=True):
        if f.required:
            req = miss & ~blank
            if req.any():
                pos = np.nonzero(req)[0]
                note = 'constraint "required" is "True"'
                errs.add(rows[pos], CELL_GROUP * 10**7 + f.number * 16, [
                    ("constraint-error", f.name, _msg(ferrors.ConstraintError, cell=_Cell(col, p), rowNumber=x,
                                                      fieldName=f.name, fieldNumber=f.number, note=note))
                    for p, x in zip(pos.tolist(), rows[pos].tolist(), strict=True)])
        ok = f.kernel(col) if f.kernel is not None else np.zeros(n, dtype=bool)
        todo = ~miss & ~ok
        canon = None
        if todo.any():
            canon = _slow_cells(col, np.nonzero(todo)[0], rows, f, errs, ferrors)
        if f.keyed:
            values[f.name] = (col, miss, canon)
    live = rows[~blank]
    for f in absent:
        # frictionless reads a cell that is not there as None: required fails, then missing-cell
        _, notes = f.reader(None)
        for j, note in enumerate((notes or {}).values()):
            errs.add(live, CELL_GROUP * 10**7 + f.number * 16 + j, [
                ("constraint-error", f.name, _msg(ferrors.ConstraintError, cell="None", rowNumber=x, fieldName=f.name,
                                                  fieldNumber=f.number, note=note)) for x in live.tolist()])
        errs.add(live, MISSING_GROUP * 10**7 + f.number * 16, [
            ("missing-cell", f.name, _msg(ferrors.MissingCellError, cell="", rowNumber=x, fieldName=f.name,
                                          fieldNumber=f.number, note="")) for x in live.tolist()])
        if f.keyed:
            values[f.name] = (pa.array([""] * n, pa.string()), np.ones(n, dtype=bool), None)
    if tracker.active:
        tracker.add(rows, values, n)


class _Cell:
    """A cell's text, fetched only if its message is built."""

    __slots__ = ("col", "pos")

    def __init__(self, col: Any, pos: int) -> None:
        self.col, self.pos = col, pos

    def __format__(self, spec: str) -> str:
        return format(str(self.col[self.pos].as_py()), spec)


def _missing(col: Any, values: Any) -> np.ndarray:
    import pyarrow.compute as pc

    if len(values) == 1 and values[0].as_py() == "":
        return lengths(col) == 0  # the default: a length test on the offsets, no hash lookup
    mask = pc.is_in(col, value_set=values)
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _slow_cells(col: Any, pos: np.ndarray, rows: np.ndarray, f: _Field, errs: _Errors, ferrors: Any) -> Any:
    """Decide the cells the kernel did not accept with frictionless's own reader, once per distinct value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    sub = col.take(pa.array(pos))
    uniq = pc.unique(sub)
    which = pc.index_in(sub, value_set=uniq).to_numpy(zero_copy_only=False)
    results = []
    for text in uniq.to_pylist():
        results.append(_read(f, text))
    bad = np.array([bool(r[1]) for r in results], dtype=bool)
    if bad.any():
        cells = np.nonzero(bad[which])[0]
        for k in cells.tolist():
            u = int(which[k])
            row = int(rows[pos[k]])
            text = uniq[u].as_py()
            for j, (name, note) in enumerate(results[u][1]):
                code = "type-error" if name == "type" else "constraint-error"
                cls = ferrors.TypeError if name == "type" else ferrors.ConstraintError
                errs.add(np.array([row]), CELL_GROUP * 10**7 + f.number * 16 + j,
                         [(code, f.name, _msg(cls, cell=text, rowNumber=row, fieldName=f.name,
                                              fieldNumber=f.number, note=note))])
    if not f.keyed:
        return None
    canon_u = np.array([_canon(r[0]) if not any(k == "type" for k, _ in r[1]) else None for r in results],
                       dtype=object)
    canon = canon_u[which]
    for k in np.nonzero(canon == _NAN)[0].tolist():
        canon[k] = _unique_nan(int(rows[pos[k]]))
    return pos, canon


def _read(f: _Field, text: str | None) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """The field's frictionless cell reader, remembered per distinct text (a pure function of it)."""
    hit = f.memo.get(text) if text is not None else None
    if hit is None:
        value, notes = f.reader(text)
        hit = (value, tuple((notes or {}).items()))
        if text is not None:
            if len(f.memo) >= MEMO_LIMIT:
                f.memo.clear()
            f.memo[text] = hit
    return hit


_NAN = "\x00nan"


def _unique_nan(row: int) -> str:
    # NaN != NaN: frictionless's dict lookups never find a NaN again, so no NaN is a duplicate
    return f"{_NAN}:{row}"


def _canon(value: Any) -> str | None:
    """The text two cast values share exactly when frictionless's dict lookup treats them as equal."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    key = canonical_value(value)
    return _NAN if key is _NAN_KEY else repr(key)


def _check_ragged(text: str, row_number: int, dialect: Dialect, fields: list[_Field], errs: _Errors,
                  tracker: KeyTracker, ferrors: Any) -> None:
    """A row with too few or too many cells, judged as frictionless's ``Row`` judges it.

    Same cell readers, same order, same blank-row rule; frictionless's own error objects cost about
    a millisecond each to build, so only their message templates are used.
    """
    cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter, quotechar=dialect.quote_char,
                            doublequote=dialect.double_quote), [])
    found: list[tuple[int, _Item]] = []
    blank = 0
    values: dict[str, str | None] = {}
    for i, f in enumerate(fields):
        source = cells[i] if i < len(cells) else None
        target, items = _read(f, source)
        notes = dict(items)
        type_note = notes.pop("type", None)
        if target is None and not type_note:
            blank += 1
        cell = str(source)
        if type_note:
            found.append((CELL_GROUP * 10**7 + f.number * 16, ("type-error", f.name, _msg(
                ferrors.TypeError, cell=cell, rowNumber=row_number, fieldName=f.name, fieldNumber=f.number,
                note=type_note))))
        for j, note in enumerate(notes.values()):
            found.append((CELL_GROUP * 10**7 + f.number * 16 + j, ("constraint-error", f.name, _msg(
                ferrors.ConstraintError, cell=cell, rowNumber=row_number, fieldName=f.name, fieldNumber=f.number,
                note=note))))
        canon = None if type_note else _canon(target)
        values[f.name] = _unique_nan(row_number) if canon == _NAN else canon
    for number in range(len(fields) + 1, len(cells) + 1):
        found.append((EXTRA_GROUP * 10**7 + number * 16, ("extra-cell", None, _msg(
            ferrors.ExtraCellError, cell=cells[number - 1], rowNumber=row_number, fieldName="", fieldNumber=number,
            note=""))))
    for f in fields[len(cells):]:
        found.append((MISSING_GROUP * 10**7 + f.number * 16, ("missing-cell", f.name, _msg(
            ferrors.MissingCellError, cell="", rowNumber=row_number, fieldName=f.name, fieldNumber=f.number,
            note=""))))
    if blank == len(fields):
        found = [(0, ("blank-row", None, _msg(ferrors.BlankRowError, rowNumber=row_number, note="")))]
    for key, item in found:
        errs.add(np.array([row_number]), key, [item])
    if tracker.active:
        tracker.add_row(row_number, {f.name: values[f.name] for f in fields if f.keyed})


def _collect(errs: _Errors, counts: Counter[str], listed: list[tuple[int, int, ValidationError]],
             limit: int | None) -> None:
    if not errs.rows:
        return
    rows = np.concatenate(errs.rows)
    keys = np.concatenate(errs.keys)
    items = [it for chunk in errs.items for it in chunk]
    counts.update(code for code, _, _ in items)
    room = len(rows) if limit is None else max(0, limit - len(listed))
    if room:
        order = np.lexsort((keys, rows))[:room]
        for i in order.tolist():
            code, name, message = items[i]
            listed.append((int(rows[i]), int(keys[i]),
                           ValidationError(code=code, row=int(rows[i]), field=name, message=message())))


def _const(message: str) -> Callable[[], str]:
    return lambda: message


def _msg(cls: Any, **values: Any) -> Callable[[], str]:
    return lambda: cls.template.format(**values)
