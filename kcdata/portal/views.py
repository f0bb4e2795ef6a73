"""View ("dataset metadata") JSON: creation from a sodapy ``create()`` body, shallow merge, permissions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from kcdata.portal.store import StoreError
from kcdata.portal.types import SODA2_TYPES

FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
OWNER = {"id": "kcda-tapp", "displayName": "kcdata local portal", "screenName": "kcdata local portal",
         "type": "interactive"}
OWNER_RIGHTS = ["read", "write", "add", "delete", "grant", "add_column", "remove_column", "update_column",
                "update_view", "delete_view"]
PUBLIC_GRANT = {"inherited": False, "type": "viewer", "flags": ["public"]}
# Keys a client may not overwrite with PUT /api/views/{id}.json.
PROTECTED = frozenset({"id", "createdAt", "tableId", "oid", "publicationGroup", "rowsUpdatedAt", "owner",
                       "tableAuthor", "rights", "grants", "columns", "rowIdentifierColumnId", "viewLastModified",
                       "publicationStage", "publicationDate"})


def _bad(message: str, code: str = "validation_error") -> StoreError:
    return StoreError(400, code, message)


def _column(spec: Any, position: int, next_id: Callable[[], int]) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise _bad(f"columns[{position - 1}] must be an object")
    field_name = spec.get("fieldName")
    if not isinstance(field_name, str) or not FIELD_NAME.match(field_name):
        raise _bad(f"columns[{position - 1}].fieldName {field_name!r} must match ^[a-z_][a-z0-9_]*$")
    data_type = spec.get("dataTypeName", "text")
    if data_type not in SODA2_TYPES:
        raise _bad(f"columns[{position - 1}].dataTypeName {data_type!r} is not a supported type "
                   f"({', '.join(sorted(SODA2_TYPES))})", "soda.column.unknown-type")
    col_id = next_id()
    column: dict[str, Any] = {
        "id": col_id, "name": str(spec.get("name") or field_name), "dataTypeName": data_type,
        "description": str(spec.get("description") or ""), "fieldName": field_name, "position": position,
        "renderTypeName": data_type, "tableColumnId": col_id - 197878825, "format": spec.get("format") or {},
    }
    return column


def _resolve_row_identifier(value: Any, columns: list[dict[str, Any]]) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    for col in columns:
        if value == col["fieldName"] or str(value) == str(col["id"]):
            return int(col["id"])
    raise _bad(f"rowIdentifier {value!r} is not a column of this dataset")


def build_view(body: Any, view_id: str, next_id: Callable[[], int], *, nbe: bool) -> dict[str, Any]:
    """The new view for ``POST /api/views.json``."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad("A dataset needs a non-empty name")
    specs = body.get("columns") or []
    if not isinstance(specs, list):
        raise _bad("columns must be a list")
    columns = [_column(spec, i + 1, next_id) for i, spec in enumerate(specs)]
    seen: set[str] = set()
    for col in columns:
        if col["fieldName"] in seen:
            raise _bad(f"fieldName {col['fieldName']!r} appears twice")
        seen.add(col["fieldName"])
    raw_metadata = body.get("metadata")
    metadata: dict[str, Any] = dict(raw_metadata) if isinstance(raw_metadata, dict) else {}
    row_id = _resolve_row_identifier(metadata.get("rowIdentifier"), columns)
    now = int(time.time())
    view: dict[str, Any] = {
        "id": view_id, "name": name, "assetType": "dataset", "averageRating": 0, "createdAt": now,
        "description": "", "displayType": "table", "downloadCount": 0, "hideFromCatalog": False,
        "hideFromDataJson": False, "locked": False, "newBackend": nbe, "numberOfComments": 0, "oid": 0,
        "provenance": "official", "publicationAppendEnabled": False, "publicationGroup": 0,
        "publicationStage": "unpublished", "rowsUpdatedAt": now, "rowsUpdatedBy": OWNER["id"], "tableId": 0,
        "totalTimesRated": 0, "viewCount": 0, "viewLastModified": now, "viewType": "tabular",
    }
    for key, value in body.items():
        if key not in ("columns", "metadata") and key not in PROTECTED and value is not None:
            view[key] = value
    if row_id is not None:
        view["rowIdentifierColumnId"] = row_id
    metadata["rowIdentifier"] = row_id if row_id is not None else "0"
    view.update({"columns": columns, "metadata": metadata, "owner": dict(OWNER), "query": {},
                 "rights": list(OWNER_RIGHTS), "tableAuthor": dict(OWNER), "flags": ["default"]})
    return view


def merge_view(view: dict[str, Any], body: Any, next_id: Callable[[], int]) -> dict[str, Any]:
    """Shallow top-level merge for ``PUT /api/views/{id}.json`` (columns merged by id or fieldName)."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object")
    for key, value in body.items():
        if key in PROTECTED or key == "metadata":
            continue
        view[key] = value
    if "columns" in body:
        if not isinstance(body["columns"], list):
            raise _bad("columns must be a list")
        columns = view["columns"]
        for spec in body["columns"]:
            if not isinstance(spec, dict):
                raise _bad("each column must be an object")
            match = next((c for c in columns if ("id" in spec and c["id"] == spec["id"])
                          or c["fieldName"] == spec.get("fieldName")), None)
            if match is None:
                columns.append(_column(spec, len(columns) + 1, next_id))
                continue
            if "dataTypeName" in spec and spec["dataTypeName"] != match["dataTypeName"]:
                raise _bad(f"Changing the type of column {match['fieldName']} is not supported")
            for key in ("name", "description", "format", "width"):
                if key in spec:
                    match[key] = spec[key]
    if "metadata" in body:
        metadata = body["metadata"]
        if not isinstance(metadata, dict):
            raise _bad("metadata must be an object")
        metadata = dict(metadata)
        if "rowIdentifier" in metadata:
            row_id = _resolve_row_identifier(metadata["rowIdentifier"], view["columns"])
        else:
            row_id = view.get("rowIdentifierColumnId")
        if row_id is None:
            view.pop("rowIdentifierColumnId", None)
        else:
            view["rowIdentifierColumnId"] = row_id
        metadata["rowIdentifier"] = row_id if row_id is not None else "0"
        view["metadata"] = metadata
    view["viewLastModified"] = int(time.time())
    return view


def is_public(view: dict[str, Any]) -> bool:
    """Whether anonymous readers may see the dataset."""
    return any("public" in (g.get("flags") or []) for g in view.get("grants") or [])


def set_permission(view: dict[str, Any], value: str) -> dict[str, Any]:
    """``?method=setPermission&value=public.read|private``."""
    if value.startswith("public"):
        view["grants"] = [dict(PUBLIC_GRANT)]
    elif value == "private":
        view.pop("grants", None)
    else:
        raise _bad(f"Unknown permission {value!r}; use public.read or private")
    view["viewLastModified"] = int(time.time())
    return view


def publish(view: dict[str, Any]) -> dict[str, Any]:
    """``POST /api/views/{id}/publication.json``."""
    now = int(time.time())
    view["publicationStage"] = "published"
    view["publicationDate"] = now
    view["viewLastModified"] = now
    return view
