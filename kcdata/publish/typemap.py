"""Frictionless Table Schema → Socrata columns, and CSV cells → Socrata JSON values.

The portal never guesses a column type: every column comes from the dataset's Frictionless schema
through :data:`SOCRATA_TYPES`. The map, and why each entry is what it is:

=================  =================  ===============================================================
Frictionless       Socrata            note
=================  =================  ===============================================================
string             text               formats email/uri/uuid stay text (Socrata ``url`` needs objects)
integer            number             sent as a decimal string (no float rounding of big ids)
number             number             sent as canonical decimal text (``Decimal``, no exponent)
boolean            checkbox           ``trueValues``/``falseValues`` of the field are honoured
date               calendar_date      floating timestamp ``YYYY-MM-DDT00:00:00.000``
datetime           calendar_date      floating timestamp; an offset is dropped (wall-clock time kept)
time               text               Socrata has no time-of-day type
year               number
yearmonth          text               ``YYYY-MM``
geopoint           point              GeoJSON ``{"type": "Point", "coordinates": [lon, lat]}``
duration           text               ISO 8601 duration text
object, array      text               the JSON text as written
geojson            text               without ``geometryType``: the JSON text as written
geojson +          point, line,       with kcdata's ``geometryType`` (Point, LineString, Polygon,
  geometryType     polygon, ...       MultiPoint, MultiLineString, MultiPolygon): ``point``, ``line``,
                                      ``polygon``, ``multipoint``, ``multiline``, ``multipolygon``; the
                                      cell (GeoJSON or WKT) is sent as a GeoJSON geometry and compared in
                                      one canonical form (:func:`kcdata.geometry.canonical_json`)
any                text
=================  =================  ===============================================================

Field names on the portal must match ``^[a-z_][a-z0-9_]*$``: a Frictionless field name is
lower-cased and every other character becomes ``_`` (:func:`field_name`); two fields that collide
are an input error. The field's ``title`` (or its name) is the column's display name, its
``description`` the column description.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kcdata import geometry
from kcdata.errors import InputError

SOCRATA_TYPES: Mapping[str, str] = {
    "string": "text",
    "integer": "number",
    "number": "number",
    "boolean": "checkbox",
    "date": "calendar_date",
    "datetime": "calendar_date",
    "time": "text",
    "year": "number",
    "yearmonth": "text",
    "geopoint": "point",
    "duration": "text",
    "object": "text",
    "array": "text",
    "geojson": "text",
    "any": "text",
}

GEOMETRY_DATA_TYPES = frozenset({"line", "polygon", "multipoint", "multiline", "multipolygon"})
FIELD_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
DEFAULT_TRUE = ("true", "True", "TRUE", "1")
DEFAULT_FALSE = ("false", "False", "FALSE", "0")


class EncodeError(ValueError):
    """A cell that cannot be encoded for its column (the message names the value and type)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One portal column derived from one schema field."""

    field_name: str  # portal fieldName
    name: str  # display name
    data_type: str  # Socrata dataTypeName
    description: str
    source: str  # Frictionless field name (the CSV header)
    source_type: str  # Frictionless type
    source_format: str = "default"
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    missing_values: tuple[str, ...] = ("",)

    def to_view_column(self) -> dict[str, Any]:
        """The column as sent to ``POST /api/views.json``."""
        return {"fieldName": self.field_name, "name": self.name, "dataTypeName": self.data_type,
                "description": self.description}


@dataclass(frozen=True, slots=True, kw_only=True)
class TableMapping:
    """All columns of a dataset plus the portal row identifier (a portal fieldName)."""

    columns: tuple[Column, ...]
    row_identifier: str

    def column(self, field_name: str) -> Column:
        for c in self.columns:
            if c.field_name == field_name:
                return c
        raise KeyError(field_name)

    def fingerprint(self) -> str:
        """A digest of everything that decides how a CSV row becomes portal values."""
        blob = json.dumps([[c.field_name, c.data_type, c.source, c.source_type, c.source_format,
                            c.true_values, c.false_values, c.missing_values] for c in self.columns]
                          + [self.row_identifier], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def field_name(name: str) -> str:
    """A Frictionless field name as a portal fieldName (``^[a-z_][a-z0-9_]*$``)."""
    out = re.sub(r"[^a-z0-9_]", "_", name.strip().lower())
    out = re.sub(r"_+", "_", out) if out.strip("_") else out
    if not out or not (out[0].isalpha() or out[0] == "_"):
        out = "_" + out
    return out


def table_mapping(schema: Mapping[str, Any], *, row_identifier: str | None, where: str) -> TableMapping:
    """Columns and row identifier from a Frictionless Table Schema descriptor.

    ``row_identifier`` (the inventory's field) wins over the schema's single-field ``primaryKey``;
    a composite key without ``row_identifier`` is an input error, because a portal row identifier is
    one column.
    """
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        raise InputError(f"{where}: the schema has no fields", hint="Add a `fields` list to the schema.")
    missing = tuple(str(v) for v in schema.get("missingValues", [""]))
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for i, f in enumerate(fields):
        if not isinstance(f, Mapping) or not isinstance(f.get("name"), str):
            raise InputError(f"{where}: fields[{i}] has no name")
        ftype = str(f.get("type", "string"))
        if ftype not in SOCRATA_TYPES:
            raise InputError(f"{where}: fields[{i}] ({f['name']}): unknown Frictionless type '{ftype}'",
                             hint=f"Use one of: {', '.join(SOCRATA_TYPES)}.")
        fname = field_name(f["name"])
        if fname in seen:
            raise InputError(f"{where}: fields '{seen[fname]}' and '{f['name']}' both become portal field "
                             f"'{fname}'", hint="Rename one of the fields.")
        seen[fname] = f["name"]
        gtype = f.get("geometryType") if ftype == "geojson" else None
        columns.append(Column(
            field_name=fname, name=str(f.get("title") or f["name"]),
            data_type=geometry.SOCRATA_GEOMETRY.get(str(gtype), "text") if gtype else SOCRATA_TYPES[ftype],
            description=str(f.get("description") or ""), source=f["name"], source_type=ftype,
            source_format=str(gtype or f.get("format", "default")),
            true_values=tuple(str(v) for v in f.get("trueValues", DEFAULT_TRUE)),
            false_values=tuple(str(v) for v in f.get("falseValues", DEFAULT_FALSE)),
            missing_values=tuple(str(v) for v in f.get("missingValues", missing)),
        ))
    key = row_identifier
    if key is None:
        pk = schema.get("primaryKey")
        if isinstance(pk, str):
            key = pk
        elif isinstance(pk, list) and len(pk) == 1:
            key = str(pk[0])
        elif isinstance(pk, list) and pk:
            raise InputError(f"{where}: composite primaryKey {pk} cannot be a portal row identifier",
                             hint="Set `row_identifier` in the inventory entry to a single unique column.")
        else:
            raise InputError(f"{where}: no row identifier", hint="Set `row_identifier` in the inventory entry "
                             "or a single-field `primaryKey` in the schema.")
    by_source = {c.source: c.field_name for c in columns}
    by_field = {c.field_name for c in columns}
    if key in by_source:
        key = by_source[key]
    elif key not in by_field:
        raise InputError(f"{where}: row identifier '{key}' is not a field of the schema",
                         hint="Name an existing field in `row_identifier`.")
    return TableMapping(columns=tuple(columns), row_identifier=key)


# -- value encoding: CSV cell text -> the JSON value sent to the portal ---------------------------

_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _number(cell: str) -> str:
    text = cell.strip()
    if _PLAIN_NUMBER.fullmatch(text):  # the common case, without Decimal's cost
        neg = text[0] == "-"
        ip, _, fp = (text[1:] if neg else text).partition(".")
        ip, fp = ip.lstrip("0") or "0", fp.rstrip("0")
        out = ip + "." + fp if fp else ip
        return "-" + out if neg and out != "0" else out
    try:
        d = Decimal(cell.strip())
    except InvalidOperation as exc:
        raise EncodeError(f"'{cell}' is not a number") from exc
    if not d.is_finite():
        raise EncodeError(f"'{cell}' is not a finite number")  # NaN/inf would be invalid JSON
    return canonical_decimal(d)


def canonical_decimal(d: Decimal) -> str:
    """Decimal text without exponent or trailing zeros (``1.50`` → ``1.5``, ``-0`` → ``0``)."""
    if d.is_zero():
        return "0"
    text = format(d.normalize(), "f")
    return text


def _integer(cell: str) -> str:
    if cell.isascii() and cell.isdigit() and (cell[0] != "0" or len(cell) == 1):
        return cell  # already canonical
    text = cell.strip()
    try:
        return str(int(text))
    except ValueError as exc:
        raise EncodeError(f"'{cell}' is not an integer") from exc


def _timestamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def _date(cell: str) -> str:
    try:
        if len(cell) == 10:
            dt.date.fromisoformat(cell)  # checks the date; the text is already the right form
            return cell + "T00:00:00.000"
        return _timestamp(dt.datetime.combine(dt.date.fromisoformat(cell.strip()), dt.time()))
    except ValueError as exc:
        raise EncodeError(f"'{cell}' is not an ISO date (YYYY-MM-DD)") from exc


def _datetime(cell: str) -> str:
    text = cell.strip()
    if text.endswith("Z"):
        text = text[:-1]
    try:
        if len(text) == 19 and text[10] in "T ":
            dt.datetime.fromisoformat(text)
            return text[:10] + "T" + text[11:] + ".000"
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise EncodeError(f"'{cell}' is not an ISO datetime") from exc
    return _timestamp(value.replace(tzinfo=None))


def _strptime_format(fmt: str) -> str | None:
    """The strptime pattern of a Frictionless date/datetime ``format`` (None: ISO 8601)."""
    if fmt in ("default", ""):
        return None
    if fmt == "any":
        return "any"
    return fmt[4:] if fmt.startswith("fmt:") else fmt


def _dated(cell: str, fmt: str, *, date_only: bool) -> str:
    text = cell.strip()
    if fmt == "any":
        try:
            return _date(text) if date_only else _datetime(text)
        except EncodeError:
            for pattern in ("%m/%d/%Y", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%Y/%m/%d"):
                try:
                    return _timestamp(dt.datetime.strptime(text, pattern))
                except ValueError:
                    continue
            raise
    try:
        value = dt.datetime.strptime(text, fmt)
    except ValueError as exc:
        raise EncodeError(f"'{cell}' does not match the format {fmt}") from exc
    return _timestamp(value.replace(tzinfo=None))


def _geopoint(cell: str, fmt: str) -> dict[str, Any]:
    text = cell.strip()
    try:
        if fmt == "array":
            lon, lat = (float(v) for v in json.loads(text))
        elif fmt == "object":
            obj = json.loads(text)
            lon, lat = float(obj["lon"]), float(obj["lat"])
        else:
            lon_s, lat_s = text.split(",")
            lon, lat = float(lon_s), float(lat_s)
    except (ValueError, KeyError, TypeError) as exc:
        raise EncodeError(f"'{cell}' is not a geopoint ({fmt})") from exc
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise EncodeError(f"'{cell}' is out of range for a geopoint")
    return {"type": "Point", "coordinates": [lon, lat]}


def _geometry(cell: str) -> dict[str, Any]:
    try:
        geom = geometry.parse(cell)
    except geometry.GeometryError as exc:
        raise EncodeError(f"'{cell[:60]}' is not a geometry: {exc}") from exc
    return {"type": geom["type"], "coordinates": geom["coordinates"]}


def encoder(col: Column) -> Callable[[str], Any]:
    """A function turning one CSV cell of ``col`` into its Socrata JSON value (None = null)."""
    missing = frozenset(col.missing_values)
    t = col.source_type
    inner: Callable[[str], Any]
    if t == "integer" or t == "year":
        inner = _integer
    elif t == "number":
        inner = _number
    elif t == "boolean":
        trues, falses = frozenset(col.true_values), frozenset(col.false_values)

        def inner(cell: str) -> Any:
            if cell in trues:
                return True
            if cell in falses:
                return False
            raise EncodeError(f"'{cell}' is not a boolean")
    elif t in ("date", "datetime") and (pattern := _strptime_format(col.source_format)) is not None:
        date_only = t == "date"

        def inner(cell: str) -> Any:
            return _dated(cell, pattern, date_only=date_only)
    elif t == "date":
        inner = _date
    elif t == "datetime":
        inner = _datetime
    elif t == "geopoint":
        fmt = col.source_format

        def inner(cell: str) -> Any:
            return _geopoint(cell, fmt)
    elif t == "geojson" and col.data_type != "text":
        inner = _geometry
    else:
        def inner(cell: str) -> Any:
            return cell

    def encode(cell: str) -> Any:
        if cell in missing:
            return None
        return inner(cell)

    return encode


def column_encoder(col: Column) -> Callable[[list[str]], list[Any]]:
    """Encode a whole column of cells at once (the upload's hot path).

    Cells already in the form the portal stores (plain integers and decimals, ISO dates and
    datetimes) pass through with a cheap shape test instead of a parse; anything else goes through
    the full :func:`encoder`, which raises :class:`EncodeError` on bad values.
    """
    missing = frozenset(col.missing_values)
    enc = encoder(col)
    t = col.source_type
    if col.data_type == "text":
        return lambda cells: [None if c in missing else c for c in cells]
    if t == "boolean":
        table: dict[str, Any] = {**dict.fromkeys(col.true_values, True), **dict.fromkeys(col.false_values, False),
                                 **dict.fromkeys(missing)}
        return lambda cells: [table[c] if c in table else enc(c) for c in cells]
    if t in ("integer", "year"):
        return lambda cells: [None if c in missing else c if c.isdigit() and c.isascii() else enc(c) for c in cells]
    if t == "number":
        plain = _PLAIN_NUMBER.fullmatch
        return lambda cells: [None if c in missing else c if plain(c) else enc(c) for c in cells]
    if t in ("date", "datetime") and _strptime_format(col.source_format) is not None:
        return lambda cells: [enc(c) for c in cells]
    if t == "date":
        return lambda cells: [None if c in missing else c + "T00:00:00.000" if len(c) == 10 and c[4] == "-"
                              and c[7] == "-" and c[:4].isdigit() else enc(c) for c in cells]
    if t == "datetime":
        return lambda cells: [None if c in missing else c + ".000" if len(c) == 19 and c[10] == "T" and c[4] == "-"
                              and c[13] == ":" else enc(c) for c in cells]
    return lambda cells: [enc(c) for c in cells]


# -- comparison: a portal value and our encoded value in one canonical form -----------------------

def canonical(data_type: str, value: Any) -> Any:
    """The comparable form of a portal (or encoded) value, so equal data compares equal."""
    if value is None:
        return None
    if data_type == "number":
        try:
            return canonical_decimal(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    if data_type == "checkbox":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if data_type == "calendar_date":
        text = str(value)
        try:
            return _timestamp(dt.datetime.fromisoformat(text.rstrip("Z")))
        except ValueError:
            return text
    if data_type == "point":
        if isinstance(value, Mapping) and isinstance(value.get("coordinates"), Sequence):
            return tuple(round(float(c), 9) for c in value["coordinates"])
        return str(value)
    if data_type in GEOMETRY_DATA_TYPES:
        try:
            return geometry.canonical_json(geometry.parse(dict(value) if isinstance(value, Mapping) else value))
        except geometry.GeometryError:
            return str(value)
    return str(value) if not isinstance(value, str) else value
