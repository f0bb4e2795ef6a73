"""The one reader of Frictionless Table Schema files (JSON or YAML).

Every stage reads a dataset's schema through :func:`read_table_schema` (usually via
``Program.schema(dataset)``, which caches it): validation checks it in depth, publish maps its types,
review and lint read its field names, policy its primary key. A schema that cannot be read fails the
same way everywhere: :class:`~kcdata.errors.InputError` with code ``missing-file`` or ``schema-error``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError

READ_HINT = "a Table Schema is a JSON (or YAML) object with a `fields` list"


@dataclass(frozen=True, slots=True, kw_only=True)
class TableSchema:
    """A Table Schema as read from its file (``descriptor`` still holds our ``dialect`` extension)."""

    descriptor: dict[str, Any]
    path: Path
    source: str  # how messages name it: the inventory's reference (schemas/x.schema.json) or the path

    @property
    def fields(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(f for f in self.descriptor.get("fields") or () if isinstance(f, Mapping))

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(str(f.get("name")) for f in self.fields)

    @property
    def primary_key(self) -> list[str]:
        pk = self.descriptor.get("primaryKey")
        if isinstance(pk, str):
            return [pk]
        return [str(p) for p in pk] if isinstance(pk, list) else []


def schema_error(message: str, *, hint: str = READ_HINT) -> InputError:
    return InputError(message, hint=hint, code="schema-error")


def parse_table_schema(data: bytes, *, path: Path, source: str | None = None) -> dict[str, Any]:
    """Parse a schema file's bytes (YAML by suffix, else JSON) into its descriptor; it must be an object
    with a ``fields`` list."""
    source = source or str(path)
    try:
        text = data.decode("utf-8-sig")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            obj = yaml.safe_load(text)
        else:
            obj = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise schema_error(f"{source}: not a readable schema ({exc})") from None
    except Exception as exc:  # yaml.YAMLError, kept broad so yaml stays a lazy import
        raise schema_error(f"{source}: not a readable schema ({exc})") from None
    if not isinstance(obj, dict):
        raise schema_error(f"{source}: a Table Schema must be an object", hint="expected {\"fields\": [...]}")
    if not isinstance(obj.get("fields"), list):
        raise schema_error(f"{source}: fields: expected a non-empty list of fields",
                           hint="a Table Schema is {\"fields\": [{\"name\": ..., \"type\": ...}, ...]}")
    return obj


def read_table_schema(path: Path, *, source: str | None = None) -> TableSchema:
    """Read the schema file at ``path``; :class:`InputError` (exit 3) when missing or unreadable."""
    path = Path(path)
    source = source or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{source}: schema file not found", hint="check the path, or the dataset's `schema:` entry",
                         code="missing-file") from None
    except IsADirectoryError:
        raise InputError(f"{source}: schema file not found (it is a folder)",
                         hint="check the path, or the dataset's `schema:` entry", code="missing-file") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot read the schema ({exc.strerror})", code="bad-input") from None
    descriptor = parse_table_schema(data, path=path, source=source)
    return TableSchema(descriptor=descriptor, path=path, source=source)


__all__ = ["READ_HINT", "TableSchema", "parse_table_schema", "read_table_schema", "schema_error"]
