"""Applying a revision: its output schema becomes the dataset's columns (retype, rename and drop on a
replace), its rows are replaced, upserted or deleted by row id, and its metadata and permission are
merged into the view, all through the portal's store (so SODA reads them back)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kcdata.portal import views
from kcdata.portal.dsmapi.schemas import DATA_TYPES
from kcdata.portal.dsmapi.sources import output_rows
from kcdata.portal.dsmapi.state import DsmapiState
from kcdata.portal.http import HttpError
from kcdata.portal.tables import fields_of, now_iso, row_identifier_field

if TYPE_CHECKING:
    from kcdata.portal.store import Store

# Revision metadata keys that are not view properties
_NOT_VIEW = frozenset({"columns", "id", "privateMetadata"})


def _target(output: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    columns = sorted(output["output_columns"], key=lambda c: c["position"])
    specs = [{"fieldName": c["field_name"], "name": c["display_name"], "description": c.get("description") or "",
              "dataTypeName": DATA_TYPES[c["transform"]["output_soql_type"]]} for c in columns]
    primary = next((c["field_name"] for c in columns if c.get("is_primary_key")), None)
    return specs, primary


def _set_row_id(view: dict[str, Any], field: str | None) -> None:
    col = next((c for c in view["columns"] if c["fieldName"] == field), None) if field else None
    metadata = dict(view.get("metadata") or {})
    if col is None:
        view.pop("rowIdentifierColumnId", None)
        metadata["rowIdentifier"] = "0"
    else:
        view["rowIdentifierColumnId"] = col["id"]
        metadata["rowIdentifier"] = col["id"]
    view["metadata"] = metadata


def _replace_columns(specs: list[dict[str, Any]], primary: str | None
                     ) -> Callable[[dict[str, Any], Callable[[], int]], dict[str, Any]]:
    def change(view: dict[str, Any], next_id: Callable[[], int]) -> dict[str, Any]:
        old = {c["fieldName"]: c for c in view["columns"]}
        keep = row_identifier_field(view)
        columns = []
        for position, spec in enumerate(specs, start=1):
            col = old.get(spec["fieldName"])
            if col is None:
                col = views._column(spec, position, next_id)
            else:
                col.update(name=spec["name"], description=spec["description"], position=position,
                           dataTypeName=spec["dataTypeName"], renderTypeName=spec["dataTypeName"])
            columns.append(col)
        view["columns"] = columns
        _set_row_id(view, primary or (keep if keep in {s["fieldName"] for s in specs} else None))
        return view
    return change


def _add_columns(specs: list[dict[str, Any]], primary: str | None
                 ) -> Callable[[dict[str, Any], Callable[[], int]], dict[str, Any]]:
    def change(view: dict[str, Any], next_id: Callable[[], int]) -> dict[str, Any]:
        types = fields_of(view)
        for spec in specs:
            have = types.get(spec["fieldName"])
            if have is None:
                view["columns"].append(views._column(spec, len(view["columns"]) + 1, next_id))
            elif have != spec["dataTypeName"]:
                raise HttpError(400, "schema_mismatch", f"Column {spec['fieldName']} is {have} in the dataset "
                                f"and {spec['dataTypeName']} in the output schema; retype with a replace revision")
        if primary:
            _set_row_id(view, primary)
        return view
    return change


def _write(state: DsmapiState, store: Store, revision: dict[str, Any], output: dict[str, Any]) -> dict[str, Any]:
    fourfour, kind = revision["fourfour"], revision["action"]["type"]
    view = store.view(fourfour)
    assert view is not None
    specs, primary = _target(output)
    rows = output_rows(state, output)
    if kind == "replace" or not view["columns"]:
        if store.row_count(fourfour):
            store.write_rows(view, [], replace=True)
        view = store.update_view(fourfour, _replace_columns(specs, primary))
        return store.write_rows(view, rows, replace=True).as_json()
    view = store.update_view(fourfour, _add_columns(specs, primary))
    if kind == "update":
        return store.write_rows(view, rows).as_json()
    key = row_identifier_field(view)
    if key is None or (rows and key not in rows[0]):
        raise HttpError(400, "no_row_id", "A delete revision needs a row id column in the dataset and the upload")
    return store.write_rows(view, [{key: r[key], ":deleted": True} for r in rows]).as_json()


def _metadata(store: Store, revision: dict[str, Any]) -> None:
    payload = {k: v for k, v in revision["metadata"].items() if k not in _NOT_VIEW}
    permission = revision["action"].get("permission")

    def change(view: dict[str, Any], next_id: Callable[[], int]) -> dict[str, Any]:
        if payload:
            view = views.merge_view(view, payload, next_id)
        if permission:
            view = views.set_permission(view, "public.read" if permission == "public" else "private")
        if view.get("publicationStage") != "published":
            view = views.publish(view)
        return view
    store.update_view(revision["fourfour"], change)


def apply(state: DsmapiState, store: Store, revision: dict[str, Any]) -> dict[str, Any]:
    """Apply an open revision now; returns its (finished) job."""
    if store.view(revision["fourfour"]) is None:
        raise HttpError(404, "not_found", f"No dataset {revision['fourfour']}")
    osid = revision.get("output_schema_id")
    output = state.output_schemas.get(osid) if osid is not None else None
    started = now_iso()
    report = _write(state, store, revision, output) if output is not None else None
    _metadata(store, revision)
    finished = now_iso()
    revision["closed_at"] = finished
    job = {"id": state.next_id(), "fourfour": revision["fourfour"], "revision_seq": revision["revision_seq"],
           "status": "successful", "created_at": started, "finished_at": finished, "output_schema_id": osid,
           "log": [{"stage": "finished", "details": report or {}}], "notes": revision.get("notes")}
    revision["task_sets"].append(job)
    state.jobs[job["id"]] = job
    return job


def plan(state: DsmapiState, revision: dict[str, Any]) -> list[dict[str, Any]]:
    """What applying would do."""
    steps: list[dict[str, Any]] = []
    osid = revision.get("output_schema_id")
    if osid is not None and osid in state.output_schemas:
        steps.append({"type": revision["action"]["type"], "output_schema_id": osid,
                      "rows": state.output_schemas[osid]["total_rows"]})
    if revision["metadata"]:
        steps.append({"type": "update_metadata", "keys": sorted(revision["metadata"])})
    if revision["action"].get("permission"):
        steps.append({"type": "set_permission", "permission": revision["action"]["permission"]})
    return steps


__all__ = ["apply", "plan"]
