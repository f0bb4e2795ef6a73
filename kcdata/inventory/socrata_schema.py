"""Socrata columns -> a Frictionless Table Schema: the inverse of the publish type map.

:data:`TABLE_TYPES` maps each Socrata ``dataTypeName`` (and the Discovery API's display names such
as ``Calendar date``) to the Table Schema type whose publish type (``SOCRATA_TYPES`` in
:mod:`kcdata.publish.typemap`) is that same Socrata type where one exists, so a schema read from a
portal publishes back to the same column types (tests/test_portal_import.py checks the round trip).
Legacy Socrata types with no Table Schema counterpart (``location``, ``url``, ``photo`` ...) read
as ``object``/``string``, the types publish sends as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

TABLE_TYPES: Mapping[str, str] = {
    "text": "string",
    "number": "number",        # integer and year publish as number too; number is the one that holds any
    "checkbox": "boolean",
    "calendar_date": "datetime",  # a floating timestamp: date and datetime both publish as calendar_date
    "point": "geopoint",
    # legacy and display-only Socrata types
    "floating_timestamp": "datetime", "fixed_timestamp": "datetime", "date": "datetime",
    "money": "number", "percent": "number", "double": "number", "stars": "number",
    "email": "string", "phone": "string", "html": "string", "flag": "string", "photo": "string",
    "document": "string", "blob": "string", "drop_down_list": "string",
    "location": "object", "url": "object",
    "multipoint": "geojson", "line": "geojson", "multiline": "geojson", "polygon": "geojson",
    "multipolygon": "geojson",
}


def table_type(socrata_type: str | None) -> str:
    """The Table Schema type for a Socrata type name (``Calendar date`` and ``calendar_date`` alike)."""
    key = str(socrata_type or "text").strip().lower().replace(" ", "_")
    return TABLE_TYPES.get(key, "string")


def schema_from_view(view: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A Table Schema from a view's ``columns`` and the row identifier's field name (or None)."""
    columns = [c for c in view.get("columns") or [] if isinstance(c, Mapping)]
    fields = _fields([(c.get("fieldName"), c.get("name"), c.get("dataTypeName"), c.get("description"))
                      for c in columns])
    row_id = None
    target = view.get("rowIdentifierColumnId")
    meta = view.get("metadata") if isinstance(view.get("metadata"), Mapping) else {}
    declared = meta.get("rowIdentifier") if isinstance(meta, Mapping) else None
    for c in columns:
        by_id = target is not None and c.get("id") == target
        by_meta = declared not in (None, "0", 0) and declared in (str(c.get("id")), c.get("id"), c.get("fieldName"))
        if by_id or by_meta:
            row_id = c.get("fieldName")
    return _schema(fields, row_id), row_id


def schema_from_catalog(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A Table Schema from a Discovery API result's ``columns_*`` lists (no row identifier there)."""
    names = resource.get("columns_field_name") or []
    titles = resource.get("columns_name") or []
    types = resource.get("columns_datatype") or []
    descriptions = resource.get("columns_description") or []

    def at(seq: Sequence[Any], i: int) -> Any:
        return seq[i] if i < len(seq) else None

    return _schema(_fields([(n, at(titles, i), at(types, i), at(descriptions, i)) for i, n in enumerate(names)]),
                   None)


def _fields(columns: list[tuple[Any, Any, Any, Any]]) -> list[dict[str, Any]]:
    fields = []
    for name, title, dtype, description in columns:
        if not isinstance(name, str) or not name or name.startswith(":"):
            continue  # system and computed-region columns are not in a download
        f: dict[str, Any] = {"name": name, "type": table_type(dtype)}
        if title and title != name:
            f["title"] = str(title)
        if description:
            f["description"] = str(description)
        fields.append(f)
    return fields


def _schema(fields: list[dict[str, Any]], row_id: str | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if row_id:
        schema["primaryKey"] = row_id
        for f in fields:
            if f["name"] == row_id:
                f["constraints"] = {"required": True, "unique": True}
    return schema
