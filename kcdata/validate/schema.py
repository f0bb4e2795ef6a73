"""Loading and checking a Table Schema (and its optional CSV dialect) before any data is read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.tableschema import parse_table_schema
from kcdata.validate import geocheck

KNOWN_TYPES = frozenset({"any", "array", "boolean", "date", "datetime", "duration", "geojson", "geopoint",
                         "integer", "list", "number", "object", "string", "time", "year", "yearmonth"})
DIALECT_KEYS = ("delimiter", "quoteChar", "doubleQuote", "encoding")


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """How the CSV is written; defaults are RFC 4180 in UTF-8."""

    delimiter: str = ","
    quote_char: str = '"'
    double_quote: bool = True
    encoding: str | None = None  # None: UTF-8 for the fast engine, detection for frictionless


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedSchema:
    descriptor: dict[str, Any]  # the Table Schema without our ``dialect`` extension
    dialect: Dialect
    sha256: str
    source: str  # file path or "<mapping>", for messages


def _schema_error(message: str, *, hint: str) -> InputError:
    return InputError(message, hint=hint, code="schema-error")


def load_schema(schema: Path | Mapping[str, Any]) -> LoadedSchema:
    """Read and check a Table Schema; InputError (exit 3) when it is missing or not a valid schema."""
    if isinstance(schema, Mapping):
        raw = dict(schema)
        source = "<schema mapping>"
        sha = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    else:
        path = Path(schema)
        source = str(path)
        if not path.is_file():
            raise InputError(f"{path}: schema file not found", hint="check the path, or the dataset's `schema:` entry",
                             code="missing-file")
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        raw = _parse(path, data)
    descriptor = dict(raw)
    dialect_raw = descriptor.pop("dialect", None) or {}
    if not isinstance(dialect_raw, Mapping):
        raise _schema_error(f"{source}: dialect: expected a mapping", hint="e.g. dialect: {delimiter: ';'}")
    _check_dialect(dialect_raw, source)
    _check(descriptor, source)
    dialect = Dialect(delimiter=str(dialect_raw.get("delimiter", ",")),
                      quote_char=str(dialect_raw.get("quoteChar", '"')),
                      double_quote=bool(dialect_raw.get("doubleQuote", True)),
                      encoding=dialect_raw.get("encoding"))
    return LoadedSchema(descriptor=descriptor, dialect=dialect, sha256=sha, source=source)


# Dialect keys at their default value change nothing; any other value is refused by name (neither engine
# reads it: the header is row 1, no comments, no initial-space skipping).
DIALECT_DEFAULTS: dict[str, tuple[Any, ...]] = {
    "header": (True,), "headerRows": ([1],), "skipInitialSpace": (False,), "commentChar": (None, ""),
    "commentRows": ([],), "headerJoin": (" ",), "caseSensitiveHeader": (False, True), "lineTerminator":
    ("\r\n", "\n", "\r"), "escapeChar": (None, ""), "nullSequence": (None,), "csvddfVersion": (1.0, 1.2, "1.0", "1.2"),
    "$schema": (), "title": (), "description": (), "name": (), "profile": (),
}


def _check_dialect(dialect: Mapping[str, Any], source: str) -> None:
    for key, value in dialect.items():
        if key in DIALECT_KEYS:
            continue
        allowed = DIALECT_DEFAULTS.get(key)
        if allowed is None:
            raise _schema_error(f"{source}: dialect.{key}: unknown dialect key",
                                hint=f"kcdata reads these dialect keys: {', '.join(DIALECT_KEYS)}")
        if allowed and value not in allowed:
            raise _schema_error(f"{source}: dialect.{key} = {value!r} is not supported by kcdata validate "
                                "(the header is the first row, every other row is data)",
                                hint=f"remove dialect.{key}, or convert the file (e.g. drop comment lines, add a "
                                     "header row) so that the dialect's defaults apply")


def _parse(path: Path, data: bytes) -> dict[str, Any]:
    return parse_table_schema(data, path=path)  # the one Table Schema reader (kcdata.tableschema)


def _check(descriptor: dict[str, Any], source: str) -> None:
    fields = descriptor.get("fields")
    if not isinstance(fields, list) or not fields:
        raise _schema_error(f"{source}: fields: expected a non-empty list of fields",
                            hint="a Table Schema is {\"fields\": [{\"name\": ..., \"type\": ...}, ...]}")
    for i, f in enumerate(fields):
        if not isinstance(f, Mapping) or not isinstance(f.get("name"), str):
            raise _schema_error(f"{source}: fields[{i}]: every field needs a string `name`",
                                hint="add a name to the field")
        ftype = f.get("type", "string")
        if ftype not in KNOWN_TYPES:
            raise _schema_error(f"{source}: fields[{i}].type: unknown field type '{ftype}' (field '{f['name']}')",
                                hint=f"use one of: {', '.join(sorted(KNOWN_TYPES))}")
    _refuse_unsupported(descriptor, source)
    geocheck.check_schema(descriptor, source)  # kcdata's geometryType extension (frictionless ignores the key)
    from frictionless import Schema

    report = Schema.validate_descriptor(descriptor)
    if not report.valid:
        first = report.flatten(["note"])[:3]
        notes = "; ".join(str(n[0]) for n in first)
        raise _schema_error(f"{source}: not a valid Table Schema: {notes}",
                            hint="see https://specs.frictionlessdata.io/table-schema/")
    _check_constraint_values(descriptor, source)


def _refuse_unsupported(descriptor: dict[str, Any], source: str) -> None:
    """Table Schema v2 properties frictionless 5 would silently ignore: refused by name (the v2 spec: "report an
    error if an attempt is made to evaluate a value against an unsupported constraint")."""
    if descriptor.get("uniqueKeys"):
        raise _schema_error(f"{source}: uniqueKeys (Table Schema v2) is not supported: neither engine checks it",
                            hint="use constraints.unique on a field, or primaryKey, for the key that must be unique")
    for i, f in enumerate(descriptor["fields"]):
        cons = f.get("constraints")
        if isinstance(cons, Mapping) and "jsonSchema" in cons:
            raise _schema_error(f"{source}: fields[{i}].constraints.jsonSchema (Table Schema v2, field '{f['name']}') "
                                "is not supported: neither engine checks it",
                                hint="remove the jsonSchema constraint (the field's type is still checked)")


def _check_constraint_values(descriptor: dict[str, Any], source: str) -> None:
    """Bounds and patterns frictionless accepts in a descriptor but cannot use (it would crash on the data)."""
    import re

    from frictionless import Field, FrictionlessException

    from kcdata.validate import fpatch

    fpatch.apply()
    for i, f in enumerate(descriptor["fields"]):
        try:
            Field.from_descriptor(dict(f)).create_value_reader()("")
        except FrictionlessException as exc:  # e.g. format "wkt" without its optional dependency
            note = getattr(getattr(exc, "error", None), "note", None) or str(exc)
            raise _schema_error(f"{source}: fields[{i}] ('{f['name']}', {f.get('type', 'string')}/"
                                f"{f.get('format', 'default')}): cannot be read here: {note.strip()}",
                                hint="install the optional dependency frictionless names, or change the field's "
                                     "format") from None
        cons = f.get("constraints") or {}
        if not isinstance(cons, Mapping):
            continue
        where = f"{source}: fields[{i}].constraints"
        if "pattern" in cons:
            try:
                re.compile(f"^{cons['pattern']}$")  # as frictionless compiles it: "(?i)abc" is an error there
            except re.error as exc:
                raise _schema_error(f"{where}.pattern {cons['pattern']!r}: not a valid regular expression ({exc})",
                                    hint="fix the pattern (Python regular expression syntax; a flag such as "
                                         "(?i) is not allowed: the pattern is matched as ^pattern$)") from None
        bounds = [k for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if cons.get(k) is not None]
        if not bounds:
            continue
        read = Field.from_descriptor(dict(f)).create_value_reader()
        for key in bounds:
            if read(cons[key]) is None:
                raise _schema_error(f"{where}.{key}: {cons[key]!r} is not a valid {f.get('type', 'string')} "
                                    f"(field '{f['name']}')", hint="give the bound as a value of the field's type")


def frictionless_schema(loaded: LoadedSchema) -> Any:
    """The frictionless ``Schema`` object for a checked descriptor."""
    from frictionless import Schema

    from kcdata.validate import fpatch

    fpatch.apply()
    return Schema.from_descriptor(loaded.descriptor)


def missing_descriptions(descriptor: Mapping[str, Any]) -> tuple[str, ...]:
    """Sunlight guideline 13: every field should say what it means."""
    return tuple(f"field '{f['name']}' has no description (Sunlight guideline 13: document every field)"
                 for f in descriptor.get("fields", []) if not str(f.get("description") or "").strip())
