"""``/resource/{id}`` endpoints: SoQL reads (JSON, CSV, GeoJSON), single rows, upsert, replace, row delete."""

from __future__ import annotations

import csv
import email.utils
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kcdata.portal import soql
from kcdata.portal.soql import SoqlError
from kcdata.portal.soqlsql import Compiled, compile_query
from kcdata.portal.store import fields_of, table_name
from kcdata.portal.types import GEO_TYPES, csv_text, format_row_id

if TYPE_CHECKING:
    from kcdata.portal.http import Reply
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
    from kcdata.portal.http import HttpError

    return HttpError(status, code, message, data)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (send null for a missing number)")


MAX_JSON_DEPTH = 32


def parse_json(body: bytes, *, nested: bool = False) -> Any:
    """Strict JSON (NaN/Infinity refused); problems answer 400 ``req.body.malformed-json``. With
    ``nested`` (view JSON, which is deep-copied and merged later), at most :data:`MAX_JSON_DEPTH`
    levels: a deeper metadata value once made every later change of the view fail. Row batches skip
    that walk (it would cost a tenth of an upsert); their values are checked per type anyway."""
    try:
        value = json.loads(body.decode("utf-8-sig"), parse_constant=_reject_constant)
    except RecursionError:
        value = None
        problem: str | None = "nested too deeply"
    except (ValueError, UnicodeDecodeError) as exc:
        problem = str(exc)
    else:
        problem = None if not nested or _depth_ok(value) else f"nested deeper than {MAX_JSON_DEPTH} levels"
    if problem is not None:
        raise _http_error(400, "req.body.malformed-json", f"Malformed JSON in the request body: {problem}")
    return value


def _depth_ok(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return False
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return True


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


_CLAUSE_PARAMS = frozenset({"$select", "$where", "$order", "$group", "$having", "$q"})


def _query(ctx: Context, fields: dict[str, str]) -> tuple[soql.Query, list[tuple[str, str]], bool]:
    query = soql.Query()
    filters: list[tuple[str, str]] = []
    system = False
    keys = [key for key, _v in ctx.params]
    if "$query" in keys:
        # $query is the whole query: a clause given beside it would be silently lost, so it is refused;
        # $limit/$offset may page it when it has no LIMIT/OFFSET of its own.
        clash = sorted(set(keys) & _CLAUSE_PARAMS)
        if clash or keys.count("$query") > 1:
            raise SoqlError("query.soql.conflicting-parameters",
                            f"$query cannot be combined with {', '.join(clash) or 'another $query'}; "
                            "put every clause in $query")
    for key in ("$select", "$where", "$order", "$group", "$having", "$limit", "$offset", "$q"):
        if keys.count(key) > 1:
            raise SoqlError("query.soql.conflicting-parameters", f"{key} is given more than once")
    paging = {}
    for key, value in ctx.params:
        if key == "$select":
            query.select = soql.parse_select(value)
            query.distinct = soql.is_distinct(query.select)
        elif key == "$where":
            query.where = soql.parse_expr(value)
        elif key == "$order":
            query.order = soql.parse_order(value)
        elif key == "$group":
            query.group = soql.parse_group(value)
        elif key == "$having":
            query.having = soql.parse_expr(value)
        elif key in ("$limit", "$offset"):
            paging[key] = soql.parse_count(value, key)
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
    for key, count in paging.items():
        name = key.removeprefix("$")
        if getattr(query, name) is not None:
            raise SoqlError("query.soql.conflicting-parameters", f"{key} given beside a $query with its own "
                                                                 f"{name.upper()}")
        setattr(query, name, count)
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
    from kcdata.portal.http import Reply, json_reply

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
        if method in ("POST", "PUT"):
            return _write_one(ctx, view, row_id)
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
        if ext == "xml":  # real Socrata's content type, which sodapy 2.2.0 refuses as it does Socrata's
            return Reply(body=_xml(compiled, rows), content_type="text/xml;charset=utf-8", headers=headers)
        raise _http_error(404, "not-found", f"Format .{ext} is not served by the local portal; use .json or .csv")
    if method == "DELETE":  # the legacy truncate soda-js sends (writes are authenticated before this)
        deleted = len(portal.store.query(compile_query(soql.Query(select=soql.parse_select(":id"), limit=2 ** 62),
                                                       table=table_name(view["id"]), fields=fields), view["id"]))
        report = portal.store.write_rows(view, [], replace=True)
        report.deleted = deleted
        return json_reply(report.as_json())
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


def _write_one(ctx: Context, view: dict[str, Any], row_id: str) -> Reply:
    """Legacy ``POST``/``PUT /resource/{id}/{rowid}`` (soda-js ``Producer.update``/``replace`` of one
    row): POST changes the fields sent, PUT replaces the row (fields not sent become null). Answers
    the row as stored."""
    from kcdata.portal.store import row_identifier_field

    payload = parse_json(ctx.body)
    if not isinstance(payload, dict):
        raise _http_error(400, "soda.row.upsert-row-not-an-object", "The row must be a JSON object")
    store = ctx.portal.store
    internal = store.find_row(view, row_id)
    key = row_identifier_field(view)
    if internal is None and key is None:
        raise _http_error(404, "soda.row.not-found", f"Row {row_id} not found", {"id": row_id})
    row: dict[str, Any] = {name: None for name in fields_of(view)} if ctx.method == "PUT" else {}
    row.update({k: v for k, v in payload.items() if not k.startswith(":")})
    if internal is None:
        row[key or ""] = row_id  # a new row under this identifier (key is set: checked above)
    else:
        if key is not None:
            row.pop(key, None)
        row[":id"] = format_row_id(internal)
    report = store.write_rows(view, [row])
    if report.errors:
        raise _http_error(400, "soda.row.invalid-value", "; ".join(report.problems) or "The row was not written")
    found = store.find_row(view, row_id)
    if found is None:
        raise _http_error(404, "soda.row.not-found", f"Row {row_id} not found", {"id": row_id})
    query = soql.Query(where=soql.Binary("=", soql.Column(":id"), soql.Literal(format_row_id(found), "text")))
    compiled = compile_query(query, table=table_name(view["id"]), fields=fields_of(view))
    from kcdata.portal.http import json_reply

    return json_reply(_rows_json(compiled, store.query(compiled, view["id"]))[0])


def _csv(compiled: Compiled, rows: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(compiled.names)
    types = compiled.data_types
    for row in rows:
        writer.writerow([_cell(t, v) for t, v in zip(types, row, strict=False)])
    return out.getvalue().encode()


def _xml(compiled: Compiled, rows: list[tuple[Any, ...]]) -> bytes:
    """SODA 2 XML: ``<response><row><row _id="row-…"><field>text</field>…</row>…</row></response>``
    (values as in CSV; null fields left out; element names are the output column names)."""
    from xml.sax.saxutils import escape, quoteattr

    out = ["<response><row>"]
    names = [n.lstrip(":") or "_" for n in compiled.names]
    for row in rows:
        out.append("<row>")
        for name, typ, value in zip(names, compiled.data_types, row, strict=False):
            if value is not None:
                tag = name if name.replace("_", "a").isalnum() and not name[0].isdigit() else "field"
                attr = "" if tag == name else f" name={quoteattr(name)}"
                out.append(f"<{tag}{attr}>{escape(_cell(typ, value))}</{tag}>")
        out.append("</row>")
    out.append("</row></response>")
    return "".join(out).encode()


def _cell(data_type: str, value: Any) -> str:
    if data_type == "rowid" and value is not None:
        return format_row_id(value)
    if data_type == "boolean" and value is not None:
        return "true" if value else "false"
    return csv_text(data_type, value)


def _geojson(compiled: Compiled, rows: list[tuple[Any, ...]]) -> bytes:
    objects = _rows_json(compiled, rows)
    geo = next((n for n, t in zip(compiled.names, compiled.data_types, strict=True) if t in GEO_TYPES), None)
    features = []
    for obj in objects:
        geometry = obj.pop(geo, None) if geo else None
        features.append({"type": "Feature", "geometry": geometry, "properties": obj})
    return json.dumps({"type": "FeatureCollection", "features": features, "crs": {
        "type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}).encode()
