"""The frictionless-py reference engine: the only module (with ``fast``) that imports frictionless.

Used for what the fast engine does not cover and as the oracle in the differential tests.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.validate.model import ValidationError
from kcdata.validate.schema import Dialect, LoadedSchema


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineResult:
    rows: int
    errors: tuple[ValidationError, ...]
    counts: dict[str, int]
    data_sha256: str | None = None  # when the engine hashed the bytes it read anyway


# Errors that mean "could not read this as a table": bad input (exit 3), not findings in the data.
FATAL = frozenset({"scheme-error", "format-error", "schema-error", "resource-error",
                   "dialect-error", "control-error", "field-error", "package-error"})


def error_from_frictionless(err: Any) -> ValidationError:
    """Map a frictionless error object onto ours (row: header = 1; '' field name -> None)."""
    row = getattr(err, "row_number", None)
    if row is None:
        rows = getattr(err, "row_numbers", None)
        row = rows[0] if rows else None
    field = getattr(err, "field_name", None) or getattr(err, "label", None) or None
    if err.type in ("extra-cell", "blank-row", "primary-key", "foreign-key"):
        field = None
    return ValidationError(code=err.type, row=row, field=field or None, message=err.message)


def make_resource(*, data: Path, schema: LoadedSchema, dialect: Dialect) -> Any:
    """A frictionless Resource with the dialect pinned, so frictionless does not sniff a different one."""
    from frictionless import Dialect as FDialect
    from frictionless import formats
    from frictionless.resources import TableResource

    from kcdata.validate.schema import frictionless_schema

    options: dict[str, Any] = {"schema": frictionless_schema(schema)}
    if data.suffix.lower() in (".csv", ".tsv", ".txt", ""):
        control = formats.CsvControl(delimiter=dialect.delimiter, quote_char=dialect.quote_char,
                                     double_quote=dialect.double_quote, skip_initial_space=False)
        # The header is row 1: frictionless would otherwise guess a later row when row widths vary.
        options["dialect"] = FDialect(header_rows=[1], controls=[control])
        options["format"] = "csv"
    if dialect.encoding:
        options["encoding"] = dialect.encoding
    profile = loaded_profile(schema)
    if profile:  # a v2 (or custom) Table Schema: the resource must not impose v1 on it
        options["schema_profile"] = profile
    # frictionless refuses absolute paths as "not safe"; a basepath plus a bare file name is allowed.
    # TableResource: a plain Resource would treat a .json data file as metadata, not as a table.
    return TableResource(path=data.name, basepath=str(data.resolve().parent), **options)


def loaded_profile(schema: LoadedSchema) -> str | None:
    """The Data Resource profile for the schema's ``$schema``: v2 unless it declares v1 (or nothing)."""
    declared = schema.descriptor.get("$schema")
    if not isinstance(declared, str) or not declared or "/profiles/1." in declared:
        return None
    if "specs.frictionlessdata.io" in declared:
        return None
    return "https://datapackage.org/profiles/2.0/dataresource.json"


def validate_frictionless(*, data: Path, schema: LoadedSchema, dialect: Dialect, max_errors: int) -> EngineResult:
    """Validate with frictionless itself, the error limit lifted (we count everything)."""
    from frictionless import validate

    resource = make_resource(data=data, schema=schema, dialect=dialect)
    report = validate(resource, limit_errors=0)
    counts: Counter[str] = Counter()
    listed: list[ValidationError] = []
    errors = list(report.errors)
    for task in report.tasks:
        errors.extend(task.errors)
    for err in errors:
        counts[err.type] += 1
        if max_errors <= 0 or len(listed) < max_errors:
            listed.append(error_from_frictionless(err))
    fatal = [e for e in errors if e.type in FATAL]
    if fatal:
        e = fatal[0]
        raise InputError(f"{data}: {e.message}", hint="check the file is a readable table in the declared format",
                         code="schema-error" if e.type == "schema-error" else "bad-input")
    rows = int(report.tasks[0].stats.get("rows") or 0) if report.tasks else 0
    return EngineResult(rows=rows, errors=tuple(listed), counts=dict(counts))
