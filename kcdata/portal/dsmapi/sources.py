"""``/api/publishing/v1/source``: sources, their upload (initiate, chunks, commit), input schemas and
output schemas (``POST …/schema/{isid}`` builds one from output columns and transforms)."""

from __future__ import annotations

import json
from typing import Any

from kcdata.portal import views
from kcdata.portal.dsmapi import schemas
from kcdata.portal.dsmapi.state import (
    DsmapiState,
    InputSchema,
    Source,
    as_int,
    input_schema_links,
    output_schema_links,
    source_links,
)
from kcdata.portal.http import HttpError
from kcdata.portal.tables import now_iso

CHUNK_SIZE = 4 * 1024 * 1024
DEFAULT_PARSE_OPTIONS = {"header_count": 1, "column_header": 1, "encoding": "utf-8", "column_separator": ",",
                         "quote_char": '"', "parse_source": True, "trim_whitespace": True,
                         "remove_empty_rows": True}


def wrap(resource: Any, links: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource, "links": links}


def new_source(state: DsmapiState, source_type: Any, parse_options: Any,
               revision: tuple[str, int] | None) -> Source:
    if not isinstance(source_type, dict) or not isinstance(source_type.get("type"), str):
        raise HttpError(400, "invalid_source", "source_type must be an object with a type")
    if source_type["type"] != "upload":
        raise HttpError(400, "invalid_source", f"Source type {source_type['type']!r} is not supported by the "
                        "local portal (only upload)")
    options = dict(DEFAULT_PARSE_OPTIONS)
    if isinstance(parse_options, dict):
        options.update(parse_options)
    sid = state.next_id()
    attrs = {"id": sid, "source_type": dict(source_type), "parse_options": options, "schemas": [],
             "created_at": now_iso(), "finished_at": None, "failed_at": None, "content_type": None,
             "filesize": None, "blob": None, "created_by": {"user_id": "kcda-tapp", "display_name": "kcdata"}}
    source = Source(id=sid, attrs=attrs, revision=revision)
    state.sources[sid] = source
    return source


def source_json(state: DsmapiState, source: Source) -> dict[str, Any]:
    attrs = dict(source.attrs)
    attrs["schemas"] = [input_schema_json(state, s) for s in state.input_schemas.values()
                        if s.source_id == source.id]
    if source.revision is not None:
        attrs["revisions"] = [{"fourfour": source.revision[0], "revision_seq": source.revision[1]}]
    return attrs


def input_schema_json(state: DsmapiState, schema: InputSchema) -> dict[str, Any]:
    attrs = dict(schema.attrs)
    attrs["output_schemas"] = [o for o in state.output_schemas.values() if o["input_schema_id"] == schema.id]
    return attrs


def _source(state: DsmapiState, raw: str) -> Source:
    source = state.sources.get(int(raw)) if raw.isdigit() else None
    if source is None:
        raise HttpError(404, "not_found", f"No source {raw}")
    return source


def _input_schema(state: DsmapiState, source: Source, raw: str) -> InputSchema:
    schema = state.input_schemas.get(int(raw)) if raw.isdigit() else None
    if schema is None or schema.source_id != source.id:
        raise HttpError(404, "not_found", f"No input schema {raw} on source {source.id}")
    return schema


def handle(state: DsmapiState, method: str, rest: list[str], body: Any, raw: bytes,
           params: dict[str, str]) -> Any:
    """``rest`` follows ``/source/``; returns the JSON answer."""
    if not rest:
        if method != "POST":
            raise HttpError(405, "method-not-allowed", f"Method {method} is not allowed here")
        body = body if isinstance(body, dict) else {}
        source = new_source(state, body.get("source_type"), body.get("parse_options"), None)
        return wrap(source_json(state, source), source_links(source.id))
    source = _source(state, rest[0])
    tail = rest[1:]
    if not tail:
        if method == "GET":
            return wrap(source_json(state, source), source_links(source.id))
        if method == "PATCH":  # add_to_revision
            rev = (body or {}).get("revision") if isinstance(body, dict) else None
            if not isinstance(rev, dict):
                raise HttpError(400, "invalid_body", "PATCH a source with {revision: {fourfour, revision_seq}}")
            source.revision = (str(rev.get("fourfour")), as_int(rev.get("revision_seq") or 0, "revision_seq"))
            return wrap(source_json(state, source), source_links(source.id))
        if method == "POST":  # update (parse options)
            if isinstance(body, dict) and isinstance(body.get("parse_options"), dict):
                source.attrs["parse_options"] = {**source.attrs["parse_options"], **body["parse_options"]}
                if source.data is not None:
                    _build_input_schema(state, source)
            return wrap(source_json(state, source), source_links(source.id))
        raise HttpError(405, "method-not-allowed", f"Method {method} is not allowed here")
    if tail == ["initiate"] and method == "POST":
        source.chunks.clear()
        content_type = body.get("content_type") if isinstance(body, dict) else None
        source.attrs["content_type"] = content_type
        return {"preferred_chunk_size": CHUNK_SIZE, "preferred_upload_parallelism": 2}
    if tail[:1] == ["chunk"] and len(tail) == 3 and method == "POST":
        if not tail[1].isdigit():
            raise HttpError(400, "invalid_chunk", "The chunk sequence number must be an integer")
        source.chunks[int(tail[1])] = raw
        return {}
    if tail[:1] == ["commit"] and len(tail) in (1, 3) and method == "POST":
        return _commit(state, source)
    if tail[:1] == ["schema"] and len(tail) >= 2:
        return _schema(state, source, method, tail[1:], body, params)
    raise HttpError(404, "not-found", f"No such endpoint: {method} source/{'/'.join(rest)}")


def _commit(state: DsmapiState, source: Source) -> Any:
    seqs = sorted(source.chunks)
    if seqs != list(range(len(seqs))):
        raise HttpError(400, "upload_incomplete", f"Chunks {seqs} are not 0..n-1")
    source.data = b"".join(source.chunks[s] for s in seqs)
    source.chunks.clear()
    source.attrs["filesize"] = len(source.data)
    _build_input_schema(state, source)
    return wrap(source_json(state, source), source_links(source.id))


def _build_input_schema(state: DsmapiState, source: Source) -> None:
    assert source.data is not None
    try:
        headers, rows = schemas.parse_upload(source.data, source.attrs["parse_options"])
    except HttpError:
        source.attrs["failed_at"] = now_iso()
        raise
    if not headers:
        source.attrs["failed_at"] = now_iso()
        raise HttpError(400, "invalid_upload", "The upload has no columns")
    taken: set[str] = set()
    isid = state.next_id()
    columns: list[dict[str, Any]] = []
    for position, header in enumerate(headers):
        values = [r[position] for r in rows]
        columns.append({"id": state.next_id(), "field_name": schemas.field_name(header, taken),
                        "display_name": header, "position": position, "input_schema_id": isid,
                        "soql_type": "text", "guesses": {schemas.guess_type(values): 1}})
    attrs = {"id": isid, "source_id": source.id, "input_columns": columns, "total_rows": len(rows),
             "num_row_errors": 0, "created_at": now_iso()}
    state.input_schemas[isid] = InputSchema(id=isid, source_id=source.id, attrs=attrs, rows=rows)
    output = [{"field_name": c["field_name"], "display_name": c["display_name"], "description": "",
               "position": c["position"] + 1, "is_primary_key": False,
               "transform": {"transform_expr": schemas.default_expr(c["field_name"], next(iter(c["guesses"])))}}
              for c in columns]
    build_output_schema(state, state.input_schemas[isid], output, [])
    source.attrs["finished_at"] = now_iso()


def build_output_schema(state: DsmapiState, schema: InputSchema, columns: Any, sort_bys: Any) -> dict[str, Any]:
    """A new output schema of ``schema`` (all transforms evaluated now)."""
    if not isinstance(columns, list) or not columns:
        raise HttpError(400, "invalid_output_schema", "output_columns must be a non-empty list")
    inputs = {c["field_name"]: c["position"] for c in schema.attrs["input_columns"]}
    by_id = {c["id"]: c for c in schema.attrs["input_columns"]}
    out_columns, evaluators, seen = [], [], set()
    now = now_iso()
    if not all(isinstance(c, dict) and isinstance(c.get("field_name"), str)
               and isinstance(c.get("transform") or {}, dict) for c in columns):
        raise HttpError(400, "invalid_output_schema", "each output column needs a field_name and a transform object")
    order = [c.get("position") if isinstance(c.get("position"), int | float) else 0 for c in columns]
    ranked = [c for _, _, c in sorted(zip(order, range(len(columns)), columns, strict=True), key=lambda t: t[:2])]
    for position, spec in enumerate(ranked, start=1):
        name = spec["field_name"]
        if not views.FIELD_NAME.match(name):
            raise HttpError(400, "invalid_output_schema", f"field_name {name!r} must match ^[a-z_][a-z0-9_]*$")
        if name in seen:
            raise HttpError(400, "invalid_output_schema", f"field_name {name!r} appears twice")
        seen.add(name)
        transform = spec.get("transform") or {}
        expr = str(transform.get("transform_expr") or "")
        fn, soql_type, used = schemas.compile_expr(expr, inputs)
        evaluators.append((name, fn))
        out_columns.append({
            "id": state.next_id(), "field_name": name, "display_name": spec.get("display_name") or name,
            "description": spec.get("description") or "", "position": position,
            "is_primary_key": bool(spec.get("is_primary_key")), "flags": spec.get("flags") or [],
            "format": spec.get("format") or {}, "transform": {
                "id": state.next_id(), "transform_expr": expr, "output_soql_type": soql_type,
                "transform_input_columns": [{"input_column_id": c["id"]} for c in by_id.values()
                                            if c["position"] in used],
                "completed_at": now, "finished_at": now, "failed_at": None, "error_count": 0}})
    _rows, errors = schemas.evaluate(evaluators, schema.rows)
    for col in out_columns:
        col["transform"]["error_count"] = errors[col["field_name"]]
    osid = state.next_id()
    output = {"id": osid, "input_schema_id": schema.id, "output_columns": out_columns,
              "sort_bys": sort_bys if isinstance(sort_bys, list) else [], "error_count": sum(errors.values()),
              "completed_at": now, "finished_at": now, "created_at": now, "total_rows": len(schema.rows)}
    state.output_schemas[osid] = output
    source = state.sources[schema.source_id]
    if source.revision is not None:
        for rev in state.revisions.get(source.revision[0], []):
            if rev["revision_seq"] == source.revision[1] and rev["closed_at"] is None:
                rev["output_schema_id"] = osid
    return output


def output_rows(state: DsmapiState, output: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows an output schema produces, by field name."""
    schema = state.input_schemas[output["input_schema_id"]]
    inputs = {c["field_name"]: c["position"] for c in schema.attrs["input_columns"]}
    evaluators = [(c["field_name"], schemas.compile_expr(c["transform"]["transform_expr"], inputs)[0])
                  for c in output["output_columns"]]
    return schemas.evaluate(evaluators, schema.rows)[0]


def _schema(state: DsmapiState, source: Source, method: str, tail: list[str], body: Any,
            params: dict[str, str]) -> Any:
    schema = _input_schema(state, source, tail[0])
    if len(tail) == 1:
        if method == "GET":
            return wrap(input_schema_json(state, schema), input_schema_links(source.id, schema.id))
        if method == "POST":  # transform
            body = body if isinstance(body, dict) else {}
            output = build_output_schema(state, schema, body.get("output_columns"), body.get("sort_bys"))
            return wrap(output, output_schema_links(source.id, schema.id, output["id"]))
        raise HttpError(405, "method-not-allowed", f"Method {method} is not allowed here")
    if tail[1] != "output" or len(tail) < 3 or method != "GET":
        raise HttpError(404, "not-found", "No such schema endpoint")
    mine = [o for o in state.output_schemas.values() if o["input_schema_id"] == schema.id]
    if tail[2] == "latest":
        if not mine:
            raise HttpError(404, "not_found", "No output schema yet")
        output = max(mine, key=lambda o: o["id"])
    else:
        found = next((o for o in mine if str(o["id"]) == tail[2]), None)
        if found is None:
            raise HttpError(404, "not_found", f"No output schema {tail[2]}")
        output = found
    if len(tail) == 3:
        return wrap(output, output_schema_links(source.id, schema.id, output["id"]))
    if tail[3] in ("rows", "errors"):
        offset, limit = as_int(params.get("offset") or 0, "offset"), as_int(params.get("limit") or 500, "limit")
        rows = output_rows(state, output)[offset:offset + limit]
        fields = [c["field_name"] for c in sorted(output["output_columns"], key=lambda c: c["position"])]
        if tail[3] == "errors":
            rows = []
        return [{"output_columns": output["output_columns"]}] + [{"row": [{"ok": r[f]} for f in fields]} for r in rows]
    if tail[3] == "validate_row_id" and len(tail) == 5:
        column = next((c for c in output["output_columns"] if str(c["transform"]["id"]) == tail[4]), None)
        if column is None:
            raise HttpError(404, "not_found", f"No transform {tail[4]} in output schema {output['id']}")
        values = [r[column["field_name"]] for r in output_rows(state, output)]
        keys = [json.dumps(v, sort_keys=True) for v in values]
        return {"valid": None not in values and len(set(keys)) == len(keys)}
    raise HttpError(404, "not-found", "No such output schema endpoint")


__all__ = ["build_output_schema", "handle", "new_source", "output_rows", "source_json", "wrap"]
