"""``kcdata schema infer``: a Table Schema from a data file.

frictionless ``describe`` is the engine for dialect, encoding and a first guess at each field's
type (from a sample of rows). kcdata then reads the rows itself (all of them, or the first
``sample`` rows) to make the schema one the file passes and one worth reviewing:

- a type guessed from the first rows is widened (integer -> number -> string, date -> string ...) if
  a later value does not read as that type;
- ``required`` where no value is missing; ``unique`` (and a ``primaryKey`` suggestion) where every
  value is distinct; ``enum`` for low-cardinality text; ``pattern`` for fixed-shape codes;
  ``minimum``/``maximum`` for numbers and dates.

Every constraint is a guess from the data seen, so each carries a review note (written as a YAML
comment by :func:`to_yaml`). This module and ``reference``/``fast`` are the only ones that import
frictionless.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcdata.errors import InputError

ENUM_MAX = 12          # at most this many distinct values ...
ENUM_MIN_ROWS = 20     # ... seen over at least this many rows, and each value used at least twice on average
DISTINCT_CAP = 100_000  # beyond this many distinct values a column is tracked as "many" (memory bound)
WIDER = {"integer": "number", "number": "string", "boolean": "string", "date": "datetime",
         "datetime": "string", "time": "string", "year": "integer", "yearmonth": "string",
         "geopoint": "string", "duration": "string", "object": "string", "array": "string", "any": "string"}
ORDERED = frozenset({"integer", "number", "date", "datetime", "year"})
UNHASHABLE = frozenset({"geopoint", "geojson", "object", "array"})  # frictionless cannot check unique on these
KEY_HINT = re.compile(r"(^|_)(id|key|number|no|code)$", re.IGNORECASE)


@dataclass(slots=True)
class _Column:
    name: str
    type: str
    format: str
    missing: int = 0
    values: int = 0
    distinct: Counter[Any] = field(default_factory=Counter)
    many: bool = False
    shapes: set[str] = field(default_factory=set)
    low: Any = None
    high: Any = None
    examples: list[str] = field(default_factory=list)
    unordered: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Inferred:
    """The inferred Table Schema, a review note per field (and ``""`` for the schema), rows read."""

    schema: dict[str, Any]
    notes: dict[str, list[str]]
    rows: int
    sampled: bool
    examples: dict[str, list[str]]


def infer_schema(*, data: Path, sample: int | None = None,
                 on_progress: Callable[[int], None] | None = None) -> Inferred:
    """Describe ``data`` with frictionless, then refine each field from the rows (see the module doc)."""
    path = Path(data)
    if not path.is_file():
        raise InputError(f"data file not found: {path}", hint="Give the path of a CSV (or XLSX) file.")
    from frictionless import Detector, FrictionlessException
    from frictionless.resources import TableResource

    detector = Detector(sample_size=min(sample or 1000, 1000), field_missing_values=[""])
    try:
        resource = TableResource(path=path.name, basepath=str(path.parent.resolve()), detector=detector)
        resource.infer()
    except FrictionlessException as exc:
        raise InputError(f"{path}: cannot read it as a table ({exc.error.message})",
                         hint="Check the file is CSV or Excel with a header row.") from exc
    fields = resource.schema.fields
    if not fields:
        raise InputError(f"{path}: no header row, nothing to infer", hint="The first row must name the columns.")
    cols = [_Column(name=f.name, type=f.type, format=f.format or "default") for f in fields]
    readers = [_reader(c.type, c.format) for c in cols]
    rows = 0
    sampled = False
    try:
        with resource:
            stream = iter(resource.cell_stream)
            next(stream, None)  # the header
            for cells in stream:
                if sample is not None and rows >= sample:
                    sampled = True
                    break
                rows += 1
                for i, col in enumerate(cols):
                    cell = cells[i] if i < len(cells) else None
                    _observe(col, cell, readers, i)
                if on_progress is not None and rows % 50_000 == 0:
                    on_progress(rows)
    except FrictionlessException as exc:
        raise InputError(f"{path}: cannot read it as a table ({exc.error.message})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid {resource.encoding} text (byte {exc.start})") from exc
    result = _result(cols, rows=rows, sampled=sampled)
    dialect = {k: v for k, v in (resource.dialect.to_dict().get("csv") or {}).items()
               if k in ("delimiter", "quoteChar", "doubleQuote")}
    if resource.encoding and resource.encoding.lower().replace("-", "") not in ("utf8", "utf8sig"):
        dialect["encoding"] = resource.encoding
    if dialect:  # kcdata's schema extension: how to read the file (docs/validate.md)
        result.schema["dialect"] = dialect
    return result


def _reader(ftype: str, fmt: str) -> Callable[[Any], Any]:
    from frictionless import Field

    f = Field.from_descriptor({"name": "x", "type": ftype, "format": fmt})
    read = f.create_cell_reader()

    def parse(cell: Any) -> Any:
        value, notes = read(cell)
        if notes:
            raise ValueError(ftype)
        return value

    return parse


_NO = object()


def _read(reader: Callable[[Any], Any], cell: Any) -> Any:
    try:
        return reader(cell)
    except ValueError:
        return _NO


def _observe(col: _Column, cell: Any, readers: list[Callable[[Any], Any]], i: int) -> None:
    if cell is None or (isinstance(cell, str) and cell == ""):
        col.missing += 1
        return
    col.values += 1
    value = _read(readers[i], cell)
    if value is _NO:
        value = _widen(col, cell, readers, i)
    if len(col.examples) < 3 and str(cell) not in col.examples:
        col.examples.append(str(cell))
    if not col.many:
        col.distinct[cell] += 1
        if len(col.distinct) > DISTINCT_CAP:
            col.many, col.distinct = True, Counter()
    if col.type == "string" and len(col.shapes) <= 1:
        col.shapes.add(_shape(str(cell)))
    _extend(col, value)


def _extend(col: _Column, value: Any) -> None:
    if col.type in ORDERED and value is not None and not col.unordered:
        try:
            col.low = value if col.low is None or value < col.low else col.low
            col.high = value if col.high is None or value > col.high else col.high
        except TypeError:  # datetimes with and without a time zone: no range to suggest
            col.low = col.high = None
            col.unordered = True


def _widen(col: _Column, cell: Any, readers: list[Callable[[Any], Any]], i: int) -> Any:
    """A value that does not read as the sampled type: widen until every value seen so far reads.

    The values seen are the distinct cells kept for the column; past ``DISTINCT_CAP`` they are not
    kept, so the column becomes a string (which every value reads as)."""
    while True:
        col.type, col.format = ("string" if col.many else WIDER.get(col.type, "string")), "default"
        readers[i] = _reader(col.type, col.format)
        value = _read(readers[i], cell)
        seen = [_read(readers[i], c) for c in col.distinct]
        if value is not _NO and _NO not in seen:
            col.low = col.high = None
            for v in seen:
                _extend(col, v)
            if col.type == "string":
                col.shapes = {_shape(str(c)) for c in list(col.distinct)[:2]}
            return value


def _shape(text: str) -> str:
    """``BP-2024-001`` -> ``[A-Z]{2}-[0-9]{4}-[0-9]{3}``: character classes in runs."""
    classes: list[str] = []
    counts: list[int] = []
    for ch in text:
        cls = "[0-9]" if ch.isdigit() and ch.isascii() else "[A-Z]" if "A" <= ch <= "Z" else \
            "[a-z]" if "a" <= ch <= "z" else ("\\" + ch if ch in ".^$*+?()[]{}|\\" else ch)
        if classes and classes[-1] == cls:
            counts[-1] += 1
        else:
            classes.append(cls)
            counts.append(1)
    return "".join(c if n == 1 else f"{c}{{{n}}}" for c, n in zip(classes, counts, strict=True))


def _result(cols: list[_Column], *, rows: int, sampled: bool) -> Inferred:
    fields: list[dict[str, Any]] = []
    notes: dict[str, list[str]] = {"": []}
    seen = f"the first {rows:,} rows" if sampled else f"all {rows:,} rows"
    key: str | None = None
    for col in cols:
        f: dict[str, Any] = {"name": col.name, "type": col.type}
        if col.format != "default":
            f["format"] = col.format
        note: list[str] = []
        cons: dict[str, Any] = {}
        if rows and col.missing == 0:
            cons["required"] = True
            note.append(f"required: no value missing in {seen}")
        distinct = len(col.distinct)
        if col.type != "string" and not col.many:  # "1" and "01" are one integer
            read = _reader(col.type, col.format)
            distinct = len({_hashable(_read(read, c)) for c in col.distinct})
        unique = (col.type not in UNHASHABLE and not col.many and rows >= 2 and col.missing == 0
                  and distinct == col.values)
        if unique:
            cons["unique"] = True
            note.append(f"unique: {col.values:,} distinct values")
            if key is None or (KEY_HINT.search(col.name) and not KEY_HINT.search(key)):
                key = col.name  # the first unique column, or the first one named like a key
        if (col.type == "string" and not unique and not col.many and 0 < len(col.distinct) <= ENUM_MAX
                and col.values >= ENUM_MIN_ROWS and col.values >= 2 * len(col.distinct)):
            cons["enum"] = sorted(col.distinct)
            note.append(f"enum: {len(col.distinct)} distinct values in {seen}; add any value the data may gain")
        elif col.type == "string" and len(col.shapes) == 1 and col.values >= 5:
            (shape,) = col.shapes
            if "[" in shape and ("{" in shape or len(shape) > 5):
                cons["pattern"] = shape
                note.append(f"pattern: every value has the shape {shape}")
        if col.type in ORDERED and col.low is not None:
            cons["minimum"], cons["maximum"] = _bound(col.low), _bound(col.high)
            note.append(f"minimum/maximum: the range seen ({cons['minimum']} .. {cons['maximum']}); widen it "
                        "if later data may fall outside")
        if cons:
            f["constraints"] = cons
        fields.append(f)
        notes[col.name] = note
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if key is not None:
        schema["primaryKey"] = key
        notes[""].append(f"primaryKey: '{key}' is unique and never missing; confirm it identifies a row "
                         "(it is a candidate row_identifier for publishing)")
    if sampled:
        notes[""].append(f"inferred from {seen} only (--sample): check the constraints against the whole file")
    return Inferred(schema=schema, notes=notes, rows=rows, sampled=sampled,
                    examples={c.name: c.examples for c in cols})


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, list | dict) else value


def _bound(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def to_yaml(inferred: Inferred, *, source: str) -> str:
    """The schema as YAML, with each review note as a comment above its field."""
    import yaml

    def dump(value: Any) -> str:
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100).rstrip("\n")

    lines = [f"# Table Schema inferred by `kcdata schema infer` from {source}.",
             "# Every constraint below is a guess from the data seen: review each `# review:` note before use."]
    lines += [f"# review: {n}" for n in inferred.notes.get("", [])]
    lines.append("fields:")
    for f in inferred.schema["fields"]:
        for n in inferred.notes.get(f["name"], []):
            lines.append(f"  # review: {n}")
        body = dump([f]).splitlines()
        lines += ["  " + ln for ln in body]
    rest = {k: v for k, v in inferred.schema.items() if k != "fields"}
    lines += dump(rest).splitlines()
    return "\n".join(lines) + "\n"


def to_json(inferred: Inferred) -> str:
    return json.dumps(inferred.schema, ensure_ascii=False, indent=2) + "\n"
