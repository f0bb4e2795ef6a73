"""Socrata column types: how values are accepted on write, stored in SQLite and encoded on read.

Storage is plain SQLite values: numbers as canonical decimal text (no exponent, no trailing zeros),
timestamps as sortable ISO text with milliseconds, checkboxes as 0/1, and the structured types
(point, location, url, and the geometries line, multiline, polygon, multipolygon, multipoint) as
compact JSON text (GeoJSON for the geometries, in :func:`kcdata.geometry.canonical_json` form).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from kcdata import geometry

# dataTypeName (views API) -> name in X-SODA2-Types
SODA2_TYPES: dict[str, str] = {
    "text": "text", "number": "number", "money": "money", "percent": "number", "stars": "number",
    "checkbox": "boolean", "calendar_date": "floating_timestamp", "date": "fixed_timestamp",
    "point": "point", "location": "location", "url": "url", "email": "text", "phone": "text",
    "flag": "text", "html": "text", "drop_down_list": "text",
    "line": "line", "multiline": "multiline", "polygon": "polygon", "multipolygon": "multipolygon",
    "multipoint": "multipoint",
}
# dataTypeName -> catalog columns_datatype
CATALOG_TYPES: dict[str, str] = {
    "text": "Text", "number": "Number", "money": "Money", "percent": "Percent", "stars": "Number",
    "checkbox": "Checkbox", "calendar_date": "Calendar date", "date": "Date", "point": "Point",
    "location": "Location", "url": "Url", "email": "Email", "phone": "Phone", "flag": "Flag", "html": "Text",
    "drop_down_list": "Text", "line": "Line", "multiline": "MultiLine", "polygon": "Polygon",
    "multipolygon": "MultiPolygon", "multipoint": "MultiPoint",
}
NUMERIC = frozenset({"number", "money", "percent", "stars"})
# Socrata geometry dataTypeName -> GeoJSON geometry type (point has its own fast encoder below)
GEOMETRY_TYPES: dict[str, str] = {"line": "LineString", "multiline": "MultiLineString", "polygon": "Polygon",
                                  "multipolygon": "MultiPolygon", "multipoint": "MultiPoint"}
GEO_TYPES = frozenset({"point", *GEOMETRY_TYPES})  # the columns a .geojson output takes its geometry from
JSON_STORED = frozenset({"point", "location", "url", *GEOMETRY_TYPES})

# Numbers are bounded like real Socrata's (it answers 400 to literals it cannot hold): at most
# MAX_NUMBER_DIGITS digits before the decimal point and as many after it. Without a bound, one
# "1e999999" in a request became a million-digit string in memory and on disk.
MAX_NUMBER_DIGITS = 1000
_BIG = 10 ** MAX_NUMBER_DIGITS
_CANON_NUM = re.compile(r"-?(?:0|[1-9][0-9]{0,999})(?:\.[0-9]{0,999}[1-9])?\Z")
_FLOATING = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?\Z")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d\d)(?::(\d\d))? ?([AaPp][Mm])?)?\Z")
_WKT_POINT = re.compile(r"\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*\Z", re.IGNORECASE)
_LATLON = re.compile(r"\s*\(\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*\)\s*\Z")


class ValueProblem(ValueError):
    """A value that cannot be stored in its column (a per-row error in an upsert)."""


def canonical_number(value: Any) -> str:
    """Canonical decimal text for a JSON number or numeric string: no exponent, no trailing zeros."""
    kind = type(value)  # exact type checks: bool is not a number here, and this is the upsert hot path
    if kind is int:
        if -_BIG < value < _BIG:
            return str(value)
        raise ValueProblem(f"number out of range (more than {MAX_NUMBER_DIGITS} digits)")
    if kind is float:
        if value != value or value in (math.inf, -math.inf):
            raise ValueProblem(f"not a finite number: {value!r}")
        if value.is_integer() and -1e15 < value < 1e15:
            return str(int(value))
        text = repr(value)  # shortest round-trip form: already canonical unless it has an exponent
        return text if "e" not in text else _format_decimal(Decimal(text))
    if kind is str:
        text = value.strip()
        if _CANON_NUM.match(text):
            return text
        if not text.isascii() or len(text) > 4 * MAX_NUMBER_DIGITS:
            raise ValueProblem(f"not a number: {_short(value)}")  # Decimal() would take "٣" as 3
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueProblem(f"not a number: {_short(value)}") from None
        if not number.is_finite():
            raise ValueProblem(f"not a finite number: {value!r}")
        if number and number.adjusted() >= MAX_NUMBER_DIGITS:
            number = Decimal("Infinity")  # refused below; normalize() itself would overflow
        else:
            number = number.normalize(_EXACT) if number else Decimal(0)
        if not number.is_finite() or number.as_tuple().exponent < -MAX_NUMBER_DIGITS:  # type: ignore[operator]
            raise ValueProblem(f"number out of range (more than {MAX_NUMBER_DIGITS} digits before or after "
                               f"the decimal point): {_short(value)}")
        return format_decimal(number)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return canonical_number(int(value) if isinstance(value, int) else float(value))
    raise ValueProblem(f"expected a number, got {kind.__name__}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# Wide enough that normalize() never rounds a number the bound admits (the default context keeps 28 digits).
_EXACT = Context(prec=8 * MAX_NUMBER_DIGITS, Emax=999_999, Emin=-999_999)


def format_decimal(number: Decimal) -> str:
    """Canonical decimal text of a finite Decimal: no exponent, no trailing zeros (never rounded)."""
    text = format(number.normalize(_EXACT), "f")
    return "0" if text in ("-0", "") else text


_format_decimal = format_decimal


def number_from_sql(value: Any) -> str:
    """Render what SQLite returns for a number expression (text, int or float) as decimal text."""
    if isinstance(value, str):
        return value
    return canonical_number(value)


def _floating(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueProblem(f"expected a date/time string, got {type(value).__name__}")
    text = value.strip()
    try:
        stamp = dt.datetime.fromisoformat(text)  # C-speed parse and calendar validation
    except ValueError:
        stamp = None
    if stamp is not None and stamp.tzinfo is None:
        n = len(text)
        if n == 23 and text[10] == "T":
            return text
        if n == 19 and text[10] == "T":
            return text + ".000"
        if n == 10:
            return text + "T00:00:00.000"
        return (f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}T{stamp.hour:02d}:{stamp.minute:02d}:"
                f"{stamp.second:02d}.{stamp.microsecond // 1000:03d}")
    m = _FLOATING.match(text)
    if m:
        y, mo, d, h, mi, s, frac = m.groups()
        ms = (frac or "0")[:3].ljust(3, "0")
        _check_date(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), value)
        return f"{y}-{mo}-{d}T{h or '00'}:{mi or '00'}:{s or '00'}.{ms}"
    m = _US_DATE.match(text)
    if m:
        mo, d, y, h, mi, s, ampm = m.groups()
        hour = int(h or 0)
        if ampm:
            hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
        _check_date(int(y), int(mo), int(d), hour, int(mi or 0), int(s or 0), value)
        return f"{int(y):04d}-{int(mo):02d}-{int(d):02d}T{hour:02d}:{int(mi or 0):02d}:{int(s or 0):02d}.000"
    raise ValueProblem(f"not a date/time: {value!r}")


def _check_date(y: int, mo: int, d: int, h: int, mi: int, s: int, original: Any) -> None:
    try:
        dt.datetime(y, mo, d, h, mi, s)
    except ValueError:
        raise ValueProblem(f"not a valid date/time: {original!r}") from None


def _fixed(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueProblem(f"expected a date/time string, got {type(value).__name__}")
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        return _floating(value) + "Z"
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _checkbox(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return int(value.strip().lower() in ("true", "1", "yes"))
    if isinstance(value, int) and value in (0, 1):
        return value
    raise ValueProblem(f"expected true or false, got {value!r}")


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return canonical_number(value)
    raise ValueProblem(f"expected text, got {type(value).__name__}")


def _point(value: Any) -> str:
    if type(value) is dict and value.get("type") == "Point":  # the GeoJSON fast path
        coords = value.get("coordinates")
        if type(coords) is list and len(coords) == 2:
            lon, lat = coords
            if type(lon) is float and type(lat) is float and math.isfinite(lon) and math.isfinite(lat):
                return f'{{"type":"Point","coordinates":[{lon!r},{lat!r}]}}'
    if isinstance(value, str):
        m = _WKT_POINT.match(value)
        if m:
            coords = [float(m.group(1)), float(m.group(2))]
        elif (m2 := _LATLON.match(value)) is not None:
            coords = [float(m2.group(2)), float(m2.group(1))]
        else:
            try:
                return _point(json.loads(value))
            except (ValueError, ValueProblem):
                raise ValueProblem(f"not a point: {value!r}") from None
    elif isinstance(value, dict) and value.get("type") == "Point" and isinstance(value.get("coordinates"), list):
        raw = value["coordinates"]
        if len(raw) != 2 or not all(type(c) in (int, float) for c in raw):
            raise ValueProblem(f"not a point: {value!r}")
        coords = [float(raw[0]), float(raw[1])]
    else:
        raise ValueProblem(f"not a point: {value!r}")
    lon, lat = coords
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueProblem(f"not a point: {value!r}")
    # float repr is valid JSON for finite values; formatting by hand is several times faster than json.dumps
    return f'{{"type":"Point","coordinates":[{lon!r},{lat!r}]}}'


def _location(value: Any) -> str:
    if isinstance(value, str):
        m = _LATLON.match(value)
        if not m:
            raise ValueProblem(f"not a location: {value!r}")
        value = {"latitude": m.group(1), "longitude": m.group(2)}
    if not isinstance(value, dict):
        raise ValueProblem(f"not a location: {value!r}")
    out: dict[str, Any] = {}
    for key in ("latitude", "longitude"):
        if value.get(key) is not None:
            out[key] = canonical_number(value[key])
    if value.get("human_address") is not None:
        human = value["human_address"]
        out["human_address"] = human if isinstance(human, str) else json.dumps(human)
    return json.dumps(out, separators=(",", ":"))


def _url(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps({"url": value}, separators=(",", ":"))
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        out = {"url": value["url"]}
        if isinstance(value.get("description"), str):
            out["description"] = value["description"]
        return json.dumps(out, separators=(",", ":"))
    raise ValueProblem(f"not a url: {value!r}")


def _geometry_encoder(data_type: str) -> Callable[[Any], str]:
    want = GEOMETRY_TYPES[data_type]

    def encode(value: Any) -> str:
        """A GeoJSON geometry (object or text) or WKT text of the column's type, stored as canonical GeoJSON."""
        try:
            geom = geometry.parse(value)
        except geometry.GeometryError as exc:
            raise ValueProblem(f"not a {data_type}: {_short(value)} ({exc})") from None
        if geom["type"] != want:
            raise ValueProblem(f"not a {data_type}: a {geom['type']} (expected a GeoJSON {want})")
        return geometry.canonical_json(geom)
    return encode


ENCODERS: dict[str, Callable[[Any], Any]] = {
    "number": canonical_number, "money": canonical_number, "percent": canonical_number,
    "stars": canonical_number, "checkbox": _checkbox, "calendar_date": _floating, "date": _fixed,
    "point": _point, "location": _location, "url": _url,
    **{t: _geometry_encoder(t) for t in GEOMETRY_TYPES},
}


def encoder(data_type: str) -> Callable[[Any], Any]:
    """The write-side converter for ``data_type`` (raises :class:`ValueProblem`)."""
    return ENCODERS.get(data_type, _text)


def _json_decode(value: Any) -> Any:
    return json.loads(value)


def json_decoder(data_type: str) -> Callable[[Any], Any] | None:
    """Read-side converter from the stored value to the JSON row value (None: use as stored)."""
    if data_type in JSON_STORED:
        return _json_decode
    if data_type == "checkbox":
        return bool
    if data_type in NUMERIC:
        return number_from_sql
    return None


def csv_text(data_type: str, value: Any) -> str:
    """A stored value as CSV cell text (null is the empty string)."""
    if value is None:
        return ""
    if data_type == "checkbox":
        return "true" if value else "false"
    if data_type == "point":
        lon, lat = json.loads(value)["coordinates"]
        return f"POINT ({lon!r} {lat!r})"
    if data_type in GEOMETRY_TYPES:
        return geometry.to_wkt(json.loads(value))  # as Socrata's CSV output writes geometries
    if data_type == "url":
        return str(json.loads(value)["url"])
    if data_type == "location":
        loc = json.loads(value)
        return f"({loc.get('latitude', '')}, {loc.get('longitude', '')})"
    if data_type in NUMERIC:
        return number_from_sql(value)
    return str(value)


# Internal row ids are integers; Socrata shows them as "row-xxxx~xxxx~xxxx".
_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"


def format_row_id(n: int) -> str:
    """Render the internal integer row id the way Socrata shows ``:id``."""
    chars = []
    for _ in range(12):
        n, r = divmod(n, 32)
        chars.append(_ALPHABET[r])
    s = "".join(reversed(chars))
    return f"row-{s[0:4]}~{s[4:8]}~{s[8:12]}"


def parse_row_id(text: str) -> int | None:
    """Inverse of :func:`format_row_id`; None when ``text`` is not a row id."""
    if not isinstance(text, str) or not text.startswith("row-") or len(text) != 18:
        return None
    body = text[4:8] + text[9:13] + text[14:18]
    if text[8] != "~" or text[13] != "~":
        return None
    n = 0
    for ch in body:
        idx = _ALPHABET.find(ch)
        if idx < 0:
            return None
        n = n * 32 + idx
    return n
