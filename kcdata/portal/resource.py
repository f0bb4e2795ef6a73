"""``/resource/{id}`` endpoints: SoQL reads (JSON, CSV, GeoJSON), single rows, upsert, replace, row delete."""

from __future__ import annotations

import csv
import email.utils
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kcdata.portal import soql
from kcdata.portal.http import HttpError, Reply, json_reply
from kcdata.portal.soql import SoqlError
from kcdata.portal.soqlsql import Compiled, compile_query
from kcdata.portal.store import fields_of, table_name
from kcdata.portal.types import csv_text, format_row_id

if TYPE_CHECKING:
    from kcdata.portal.server import PortalServer

ROWS_CT = "application/json;charset=utf-8"
_IGNORED = frozenset({"$$app_token", "$$exclude_system_fields", "$$version", "$$read_from_nbe"})


@dataclass(slots=True, kw_only=True)
class Context:
    """One request, as the handlers need it."""

    portal: PortalServer
    method: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    authed: bool

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")


def _http_error(status: int, code: str, message: str, data: dict[str, Any] | None = None) -> Exception:
    return HttpError(status, code, message, data)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (send null for a missing number)")


def parse_json(body: bytes) -> Any:
    """Strict JSON (NaN/Infinity refused); problems answer 400 ``req.body.malformed-json``."""
    try:
        return json.loads(body.decode("utf-8-sig"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _http_error(400, "req.body.malformed-json", f"Malformed JSON in the request body: {exc}") from None


def parse_csv(body: bytes, view: dict[str, Any]) -> list[dict[str, Any]]:
    """CSV upsert body: header of field names (or display names), optional ``:deleted``/``:id``."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _http_error(400, "req.body.malformed-csv", f"The CSV body is not UTF-8: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise _http_error(400, "req.body.malformed-csv", "The CSV body has no header row")
    by_name = {c["fieldName"]: c["fieldName"] for c in view["columns"]}
    for c in view["columns"]:
        by_name.setdefault(c.get("name", ""), c["fieldName"])
        by_name.setdefault(str(c.get("name", "")).lower(), c["fieldName"])
    names = []
    for raw in header:
        name = raw.strip()
        if name.startswith(":"):
            names.append(name)
        elif name in by_name or name.lower() in by_name:
            names.append(by_name.get(name) or by_name[name.lower()])
        else:
            raise _http_error(400, "soda.row.column-not-found",
                              f"The CSV header names column '{name}' which was not found on the dataset",
                              {"column": name})
    rows = []
    for record in reader:
        if not record:
            continue
        rows.append({name: (value if value != "" else None) for name, value in zip(names, record, strict=False)})
    return rows


def _query(ctx: Context, fields: dict[str, str]) -> tuple[soql.Query, list[tuple[str, str]], bool]:
    query = soql.Query()
    filters: list[tuple[str, str]] = []
    system = False
    for key, value in ctx.params:
        if key == "$select":
            query.select = soql.parse_select(value)
        elif key == "$where":
            query.where = soql.parse_expr(value)
        elif key == "$order":
            query.order = soql.parse_order(value)
        elif key == "$group":
            query.group = soql.parse_group(value)
        elif key == "$having":
            query.having = soql.parse_expr(value)
        elif key == "$limit":
            query.limit = soql.parse_count(value, "$limit")
        elif key == "$offset":
            query.offset = soql.parse_count(value, "$offset")
        elif key == "$q":
            query.search = value
        elif key == "$query":
            query = soql.parse_full(value)
        elif key == "$$exclude_system_fields":
            system = value.strip().lower() == "false"
        elif key in _IGNORED or key.startswith("$$"):
            continue
        elif key.startswith("$"):
            raise SoqlError("query.soql.bad-parse", f"Unrecognized query parameter {key}")
        else:
            if key not in fields and not key.startswith(":"):
                raise SoqlError("query.soql.no-such-column", f"No such column: {key}")
            filters.append((key, value))
    return query, filters, system


def _rows_json(compiled: Compiled, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    cols = list(enumerate(zip(compiled.names, compiled.decoders, strict=True)))
    out = []
    for row in rows:
        obj = {}
        for i, (name, dec) in cols:
            value = row[i]
            if value is not None:
                obj[name] = value if dec is None else dec(value)
        out.append(obj)
    return out


def _headers(view: dict[str, Any], compiled: Compiled) -> dict[str, str]:
    modified = email.utils.formatdate(view.get("rowsUpdatedAt", 0), usegmt=True)
    return {"X-SODA2-Fields": json.dumps(compiled.names), "X-SODA2-Types": json.dumps(compiled.types),
            "X-SODA2-Data-Out-Of-Date": "false", "Last-Modified": modified,
            "X-SODA2-Truth-Last-Modified": modified, "X-SODA2-Secondary-Last-Modified": modified}


def handle(ctx: Context, rest: list[str]) -> Reply:
    """Route ``/resource/{id}[.ext]`` and ``/resource/{id}/{rowid}.json``."""
    portal, method = ctx.portal, ctx.method
    name, _, ext = rest[0].partition(".")
    view = portal.visible_view(name, ctx, code="dataset.missing")
    fields = fields_of(view)
    if len(rest) == 2:
        row_id = rest[1].removesuffix(".json")
        if method == "GET":
            internal = portal.store.find_row(view, row_id)
            if internal is None:
                raise _http_error(404, "soda.row.not-found", f"Row {row_id} not found", {"id": row_id})
            query = soql.Query(where=soql.Binary("=", soql.Column(":id"),
                                                 soql.Literal(format_row_id(internal), "text")))
            compiled = compile_query(query, table=table_name(view["id"]), fields=fields)
            return json_reply(_rows_json(compiled, portal.store.query(compiled, view["id"]))[0])
        if method == "DELETE":
            internal = portal.store.delete_row(view, row_id)
            if internal is None:
                raise _http_error(404, "soda.row.not-found", f"Row {row_id} not found", {"id": row_id})
            return json_reply([{"typ": "delete", "id": format_row_id(internal)}])
        raise _http_error(405, "method-not-allowed", f"Method {method} is not allowed on a row")
    ext = ext or "json"
    if method == "GET":
        query, filters, system = _query(ctx, fields)
        compiled = compile_query(query, table=table_name(view["id"]), fields=fields, system=system, filters=filters)
        headers = _headers(view, compiled)
        if ext == "json" and compiled.json_sql is not None:
            texts = portal.store.query_json(compiled, offset=query.offset or 0, resume=lambda last_id: compile_query(
                query, table=table_name(view["id"]), fields=fields, system=system, filters=filters, after_id=last_id))
            return Reply(body=("[" + "\n,".join(texts) + "]\n").encode(), content_type=ROWS_CT, headers=headers)
        rows = portal.store.query(compiled, view["id"])
        if ext == "json":
            body = json.dumps(_rows_json(compiled, rows), ensure_ascii=False, separators=(",", ":")).encode()
            return Reply(body=body, content_type=ROWS_CT, headers=headers)
        if ext == "csv":
            return Reply(body=_csv(compiled, rows), content_type="text/csv; charset=UTF-8", headers=headers)
        if ext == "geojson":
            return Reply(body=_geojson(compiled, rows), content_type="application/vnd.geo+json;charset=utf-8",
                         headers=headers)
        raise _http_error(404, "not-found", f"Format .{ext} is not served by the local portal; use .json or .csv")
    if method in ("POST", "PUT"):
        if ext != "json":
            raise _http_error(404, "not-found", "Write to /resource/{id}.json")
        if ctx.header("Content-Type").lower().startswith("text/csv"):
            payload: Any = parse_csv(ctx.body, view)
        else:
            payload = parse_json(ctx.body)
            if isinstance(payload, dict):
                payload = [payload]
            if not isinstance(payload, list):
                raise _http_error(400, "soda.row.upsert-row-not-an-object",
                                  "The upsert body must be a JSON array of row objects")
        report = portal.store.write_rows(view, payload, replace=method == "PUT")
        return json_reply(report.as_json())
    raise _http_error(405, "method-not-allowed", f"Method {method} is not allowed on /resource")


def _csv(compiled: Compiled, rows: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(compiled.names)
    types = compiled.data_types
    for row in rows:
        writer.writerow([_cell(t, v) for t, v in zip(types, row, strict=False)])
    return out.getvalue().encode()


def _cell(data_type: str, value: Any) -> str:
    if data_type == "rowid" and value is not None:
        return format_row_id(value)
    if data_type == "boolean" and value is not None:
        return "true" if value else "false"
    return csv_text(data_type, value)


def _geojson(compiled: Compiled, rows: list[tuple[Any, ...]]) -> bytes:
    objects = _rows_json(compiled, rows)
    geo = next((n for n, t in zip(compiled.names, compiled.data_types, strict=True) if t == "point"), None)
    features = []
    for obj in objects:
        geometry = obj.pop(geo, None) if geo else None
        features.append({"type": "Feature", "geometry": geometry, "properties": obj})
    return json.dumps({"type": "FeatureCollection", "features": features, "crs": {
        "type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}).encode()
