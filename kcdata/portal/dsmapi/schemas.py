"""Input and output schemas: parsing an upload into input columns, guessing each column's type, and
evaluating output columns' transform expressions (``to_number``, ``to_text``, ``to_floating_timestamp``,
``to_boolean``, ``to_point`` over backquoted input field names)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from kcdata.portal.http import HttpError
from kcdata.portal.types import ValueProblem, canonical_number, encoder

# SoQL output type -> the views API dataTypeName of the column it becomes
DATA_TYPES = {"text": "text", "number": "number", "checkbox": "checkbox", "floating_timestamp": "calendar_date",
              "point": "point"}
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_CALL = re.compile(r"\s*([a-z_][a-z0-9_]*)\s*\((.*)\)\s*\Z", re.S)
_FIELD = re.compile(r"\s*`([^`]+)`\s*\Z|\s*([a-z_][a-z0-9_]*)\s*\Z")
_WKT_POINT = re.compile(r"\s*point\s*\(", re.I)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\Z")


def field_name(header: str, taken: set[str]) -> str:
    """A DSMAPI-style field name for a CSV header: lower case, non-alphanumerics as ``_``."""
    name = re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_") or "column"
    if name[0].isdigit():
        name = "_" + name
    base, n = name, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def parse_upload(data: bytes, parse_options: dict[str, Any]) -> tuple[list[str], list[list[str | None]]]:
    """Headers and rows of a CSV/TSV upload (empty cells become None)."""
    encoding = str(parse_options.get("encoding") or "utf-8")
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # a byte-order mark is not part of the first header
    try:
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise HttpError(400, "invalid_upload", f"The upload could not be decoded: {exc}") from None
    delimiter = str(parse_options.get("column_separator") or ",")[:1]
    quote = str(parse_options.get("quote_char") or '"')[:1]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quote)
    try:
        records = [r for r in reader if r]
    except csv.Error as exc:
        raise HttpError(400, "invalid_upload", f"The upload is not valid CSV: {exc}") from None
    try:
        header_count = max(0, min(int(parse_options.get("header_count", 1) or 0), 1))
    except (TypeError, ValueError):
        raise HttpError(400, "invalid_parse_options", "header_count must be an integer") from None
    headers = records[0] if header_count and records else [f"column_{i + 1}" for i in range(len(records[0]))] \
        if records else []
    body = records[header_count:] if header_count else records
    width = len(headers)
    rows = [[(c if c != "" else None) for c in (r + [""] * (width - len(r)))[:width]] for r in body]
    return headers, rows


def guess_type(values: Sequence[str | None]) -> str:
    """The SoQL type DSMAPI would guess for a column of text values."""
    present = [v.strip() for v in values if v is not None and v.strip()]
    if not present:
        return "text"
    if all(v.lower() in ("true", "false") for v in present):
        return "checkbox"
    if all(_is_number(v) for v in present):
        return "number"
    if all(_ISO_DATE.match(v) for v in present):
        return "floating_timestamp"
    if all(_WKT_POINT.match(v) for v in present):
        return "point"
    return "text"


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def default_expr(field: str, soql_type: str) -> str:
    return f"`{field}`" if soql_type == "text" else f"to_{soql_type}(`{field}`)".replace("to_checkbox", "to_boolean")


# -- transform expressions -------------------------------------------------------------------------
Evaluator = Callable[[Sequence[str | None]], Any]


def _to_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _to_number(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return canonical_number(value.strip() if isinstance(value, str) else value)


_floating = encoder("calendar_date")


def _to_floating(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _floating(value)


def _to_boolean(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if not text:
        return None
    raise ValueProblem(f"not a boolean: {value!r}")


_point = encoder("point")


def _to_point(value: Any) -> Any:
    """WKT ``POINT (lon lat)``, ``(lat, lon)`` or GeoJSON text -> a GeoJSON point."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return json.loads(_point(value))


FUNCTIONS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "to_text": (_to_text, "text"), "to_number": (_to_number, "number"),
    "to_floating_timestamp": (_to_floating, "floating_timestamp"), "to_boolean": (_to_boolean, "checkbox"),
    "to_point": (_to_point, "point"),
}


def compile_expr(expr: str, inputs: dict[str, int]) -> tuple[Evaluator, str, list[int]]:
    """``(evaluate(row) -> value, output soql type, input column positions used)``; 400 when unsupported."""
    field = _FIELD.match(expr)
    if field:
        name = field.group(1) or field.group(2)
        if name not in inputs:
            raise HttpError(400, "transform_failed", f"No input column `{name}` in {expr!r}")
        at = inputs[name]
        return (lambda row: row[at]), "text", [at]
    call = _CALL.match(expr)
    if not call or call.group(1) not in FUNCTIONS:
        raise HttpError(400, "transform_failed", f"Unsupported transform expression {expr!r} (the local portal "
                        f"knows {', '.join(sorted(FUNCTIONS))} over `input_field`)")
    func, soql_type = FUNCTIONS[call.group(1)]
    inner, _inner_type, used = compile_expr(call.group(2), inputs)
    return (lambda row: func(inner(row))), soql_type, used


def evaluate(columns: Sequence[tuple[str, Evaluator]], rows: Sequence[Sequence[str | None]]
             ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows as dicts by output field name; a value that fails its transform becomes null and is
    counted per field."""
    errors: dict[str, int] = {name: 0 for name, _ in columns}
    out: list[dict[str, Any]] = []
    for row in rows:
        record: dict[str, Any] = {}
        for name, fn in columns:
            try:
                record[name] = fn(row)
            except (ValueProblem, ValueError, TypeError):
                errors[name] += 1
                record[name] = None
        out.append(record)
    return out, errors


__all__ = ["DATA_TYPES", "FUNCTIONS", "compile_expr", "default_expr", "evaluate", "field_name", "guess_type",
           "parse_upload"]
