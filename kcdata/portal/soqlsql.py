"""Compile a parsed SoQL :class:`~kcdata.portal.soql.Query` into parameterised SQLite SQL.

Identifiers are resolved against the dataset's fieldNames (plus the system fields and the
query's own aliases); every user-supplied value becomes a ``?`` parameter. Number columns hold
canonical decimal text, so equality compares text (index-friendly) and ordering/arithmetic casts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kcdata.portal import soql
from kcdata.portal.soql import SoqlError
from kcdata.portal.types import (
    JSON_STORED,
    NUMERIC,
    SODA2_TYPES,
    ValueProblem,
    canonical_number,
    encoder,
    format_row_id,
    json_decoder,
    parse_row_id,
)

SYSTEM_COLUMNS = {":id": ("_id", "rowid"), ":created_at": ("_created_at", "date"),
                  ":updated_at": ("_updated_at", "date")}
AGGREGATES = frozenset({"count", "sum", "avg", "min", "max"})
DEFAULT_LIMIT = 1000


def sql_column(field_name: str) -> str:
    """The SQLite column holding ``field_name`` (fieldNames are validated at dataset creation)."""
    return '"f_' + field_name.replace('"', '""') + '"'


@dataclass(slots=True)
class C:
    """A compiled expression."""

    sql: str
    params: list[Any]
    type: str  # a dataTypeName, or "boolean", "rowid", "null"
    numtext: bool = False  # the SQL value is canonical decimal text, not a SQLite number
    agg: bool = False
    literal: soql.Literal | None = None


@dataclass(slots=True, kw_only=True)
class Compiled:
    """SQL ready to run plus how to present each output column."""

    sql: str
    params: list[Any]
    names: list[str]
    types: list[str]  # X-SODA2-Types names
    decoders: list[Callable[[Any], Any] | None]
    data_types: list[str] = field(default_factory=list)  # internal type per output column
    # The same query producing each row as finished JSON text (SQLite's C JSON quoting), when every
    # output is a plain column: the bulk-read fast path. Nulls are left out, as Socrata does.
    json_sql: str | None = None
    # Rows come in ``_id`` order only (no $order, no grouping): a page can resume after the last
    # ``_id`` of the previous one. ``json_sql`` then also returns ``_id`` as its second column.
    keyset: bool = False


def _num(c: C) -> str:
    return f"CAST({c.sql} AS NUMERIC)" if c.numtext else c.sql


def _is_number(c: C) -> bool:
    return c.type in NUMERIC


class Compiler:
    """Turns AST nodes into :class:`C` for one dataset."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        self.aliases: dict[str, C] = {}

    # -- identifiers
    def column(self, name: str) -> C:
        if name in self.aliases:
            alias = self.aliases[name]
            return C(alias.sql, list(alias.params), alias.type, alias.numtext, alias.agg)
        if name in SYSTEM_COLUMNS:
            sql, typ = SYSTEM_COLUMNS[name]
            return C(sql, [], typ)
        key = name if name in self.fields else name.lower()
        if key not in self.fields:
            raise SoqlError("query.soql.no-such-column", f"No such column: {name}")
        typ = self.fields[key]
        return C(sql_column(key), [], typ, numtext=typ in NUMERIC)

    # -- expressions
    def expr(self, node: soql.Expr) -> C:
        if isinstance(node, soql.Column):
            return self.column(node.name)
        if isinstance(node, soql.Literal):
            return self._literal(node)
        if isinstance(node, soql.Func):
            return self._func(node)
        if isinstance(node, soql.Binary):
            return self._binary(node)
        if isinstance(node, soql.Not):
            inner = self._boolean(node.expr)
            return C(f"(NOT {inner.sql})", inner.params, "boolean", agg=inner.agg)
        if isinstance(node, soql.Neg):
            inner = self._numeric(self.expr(node.expr))
            return C(f"(-{_num(inner)})", inner.params, "number", agg=inner.agg)
        if isinstance(node, soql.IsNull):
            inner = self.expr(node.expr)
            return C(f"({inner.sql} IS {'NOT ' if node.negated else ''}NULL)", inner.params, "boolean",
                     agg=inner.agg)
        if isinstance(node, soql.In):
            return self._in(node)
        if isinstance(node, soql.Between):
            return self._between(node)
        if isinstance(node, soql.Like):
            left, pattern = self.expr(node.expr), self.expr(node.pattern)
            if left.type not in ("text", "null") or pattern.type not in ("text", "null"):
                raise SoqlError("query.soql.type-mismatch", "LIKE needs text on both sides")
            neg = "NOT " if node.negated else ""
            return C(f"({left.sql} {neg}LIKE {pattern.sql})", left.params + pattern.params, "boolean",
                     agg=left.agg)
        raise SoqlError("query.soql.bad-parse", f"Unsupported expression {node!r}")

    def _literal(self, node: soql.Literal) -> C:
        if node.kind == "number":
            return C("?", [canonical_number(node.value)], "number", numtext=True, literal=node)
        if node.kind == "boolean":
            return C("?", [int(bool(node.value))], "checkbox", literal=node)
        if node.kind == "null":
            return C("NULL", [], "null", literal=node)
        return C("?", [node.value], "text", literal=node)

    def _coerce(self, c: C, target: str) -> C:
        """Give a text literal the type of what it is compared with ('635', '2025-01-01')."""
        lit = c.literal
        if lit is None or lit.kind != "text" or target in ("text", "null", "boolean"):
            return c
        value = lit.value
        try:
            if target == "rowid":
                row = parse_row_id(str(value))
                if row is None:
                    raise ValueProblem(f"not a row id: {value!r}")
                return C("?", [row], "rowid")
            converted = encoder(target)(value)
        except ValueProblem as exc:
            raise SoqlError("query.soql.type-mismatch", f"Cannot compare {target} with {value!r}: {exc}") from None
        return C("?", [converted], target, numtext=target in NUMERIC)

    def _pair(self, left: C, right: C) -> tuple[C, C]:
        left, right = self._coerce(left, right.type), self._coerce(right, left.type)
        lt, rt = left.type, right.type
        if "null" in (lt, rt) or lt == rt or (lt in NUMERIC and rt in NUMERIC):
            return left, right
        if {lt, rt} <= {"checkbox", "boolean"} or {lt, rt} <= {"calendar_date", "date"}:
            return left, right
        raise SoqlError("query.soql.type-mismatch", f"Type mismatch: cannot compare {lt} with {rt}")

    def _numeric(self, c: C) -> C:
        c = self._coerce(c, "number")
        if not _is_number(c) and c.type != "null":
            raise SoqlError("query.soql.type-mismatch", f"Expected a number, found {c.type}")
        return c

    def _boolean(self, node: soql.Expr) -> C:
        c = self.expr(node)
        if c.type == "checkbox" and c.literal is None:
            return C(f"({c.sql} = 1)", c.params, "boolean", agg=c.agg)
        if c.type not in ("boolean", "checkbox", "null"):
            raise SoqlError("query.soql.type-mismatch", f"Expected a boolean expression, found {c.type}")
        return c

    def _binary(self, node: soql.Binary) -> C:
        op = node.op
        if op in ("AND", "OR"):
            left, right = self._boolean(node.left), self._boolean(node.right)
            return C(f"({left.sql} {op} {right.sql})", left.params + right.params, "boolean",
                     agg=left.agg or right.agg)
        left, right = self.expr(node.left), self.expr(node.right)
        agg = left.agg or right.agg
        if op == "||":
            return C(f"({left.sql} || {right.sql})", left.params + right.params, "text", agg=agg)
        if op in ("+", "-", "*", "/", "%"):
            left, right = self._numeric(left), self._numeric(right)
            expr = f"({_num(left)} {op} {_num(right)})"
            if op == "/":
                expr = f"(CAST({_num(left)} AS REAL) / {_num(right)})"
            return C(expr, left.params + right.params, "number", agg=agg)
        left, right = self._pair(left, right)
        sql_op = "!=" if op == "!=" else op
        if _is_number(left) and _is_number(right) and not (op in ("=", "!=") and left.numtext and right.numtext):
            return C(f"({_num(left)} {sql_op} {_num(right)})", left.params + right.params, "boolean", agg=agg)
        return C(f"({left.sql} {sql_op} {right.sql})", left.params + right.params, "boolean", agg=agg)

    def _in(self, node: soql.In) -> C:
        left = self.expr(node.expr)
        items = [self._pair(left, self.expr(item))[1] for item in node.items]
        as_text = not _is_number(left) or (left.numtext and all(i.numtext for i in items))
        lhs = left.sql if as_text else _num(left)
        parts = [i.sql if as_text else _num(i) for i in items]
        params = list(left.params)
        for item in items:
            params += item.params
        neg = "NOT " if node.negated else ""
        return C(f"({lhs} {neg}IN ({', '.join(parts)}))", params, "boolean", agg=left.agg)

    def _between(self, node: soql.Between) -> C:
        left = self.expr(node.expr)
        low, high = self._pair(left, self.expr(node.low))[1], self._pair(left, self.expr(node.high))[1]
        fix = _num if _is_number(left) else (lambda c: c.sql)
        neg = "NOT " if node.negated else ""
        return C(f"({fix(left)} {neg}BETWEEN {fix(low)} AND {fix(high)})", left.params + low.params + high.params,
                 "boolean", agg=left.agg)

    def _func(self, node: soql.Func) -> C:
        name = node.name
        if name in AGGREGATES:
            if node.star:
                if name != "count":
                    raise SoqlError("query.soql.bad-parse", f"{name}(*) is not allowed")
                return C("COUNT(*)", [], "number", agg=True)
            if len(node.args) != 1:
                raise SoqlError("query.soql.no-such-function", f"{name} takes one argument")
            arg = self.expr(node.args[0])
            if arg.agg:
                raise SoqlError("query.soql.bad-parse", "Aggregates cannot be nested")
            if name == "count":
                return C(f"COUNT({arg.sql})", arg.params, "number", agg=True)
            if name in ("sum", "avg"):
                arg = self._numeric(arg)
                return C(f"{name.upper()}({_num(arg)})", arg.params, "number", agg=True)
            if _is_number(arg):
                return C(f"{name.upper()}({_num(arg)})", arg.params, arg.type, agg=True)
            return C(f"{name.upper()}({arg.sql})", arg.params, arg.type, agg=True)
        args = [self.expr(a) for a in node.args]
        if name in ("upper", "lower") and len(args) == 1:
            return C(f"py_{name}({args[0].sql})", args[0].params, "text", agg=args[0].agg)
        if name in ("starts_with", "contains") and len(args) == 2:
            a, b = args
            if a.type != "text" or b.type != "text":
                raise SoqlError("query.soql.type-mismatch", f"{name} needs two text arguments")
            if name == "contains":
                return C(f"(instr({a.sql}, {b.sql}) > 0)", a.params + b.params, "boolean", agg=a.agg)
            return C(f"(substr({a.sql}, 1, length({b.sql})) = {b.sql})", a.params + b.params + b.params,
                     "boolean", agg=a.agg)
        if name in ("date_trunc_ymd", "date_trunc_ym", "date_trunc_y") and len(args) == 1:
            a = args[0]
            if a.type not in ("calendar_date", "date"):
                raise SoqlError("query.soql.type-mismatch", f"{name} needs a date")
            keep, pad = {"date_trunc_ymd": (10, ""), "date_trunc_ym": (7, "-01"),
                         "date_trunc_y": (4, "-01-01")}[name]
            return C(f"(substr({a.sql}, 1, {keep}) || '{pad}T00:00:00.000')", a.params, "calendar_date", agg=a.agg)
        if name in ("within_circle", "within_box"):
            return self._within(name, args)
        raise SoqlError("query.soql.no-such-function", f"No such function: {name}/{len(args)}")

    def _within(self, name: str, args: list[C]) -> C:
        """``within_circle(location, lat, lon, radius_m)`` and ``within_box(location, nw_lat, nw_lon,
        se_lat, se_lon)`` on a point or location column. The circle is a haversine distance on a
        sphere of the Earth's mean radius (the portal's ``py_distance_m``), after a cheap latitude
        band in SQL; rows without a location never match."""
        want = {"within_circle": 4, "within_box": 5}[name]
        if len(args) != want:
            raise SoqlError("query.soql.no-such-function", f"No such function: {name}/{len(args)}")
        loc, nums = args[0], [self._numeric(a) for a in args[1:]]
        if loc.type not in ("point", "location"):
            raise SoqlError("query.soql.type-mismatch", f"{name} needs a point or location column, found {loc.type}")
        if loc.type == "point":
            lat = C(f"json_extract({loc.sql}, '$.coordinates[1]')", loc.params, "number")
            lon = C(f"json_extract({loc.sql}, '$.coordinates[0]')", loc.params, "number")
        else:  # location: canonical decimal text
            lat = C(f"CAST(json_extract({loc.sql}, '$.latitude') AS REAL)", loc.params, "number")
            lon = C(f"CAST(json_extract({loc.sql}, '$.longitude') AS REAL)", loc.params, "number")

        def real(c: C) -> C:
            return C(f"CAST({_num(c)} AS REAL)", c.params, "number")

        if name == "within_box":
            nw_lat, nw_lon, se_lat, se_lon = (real(n) for n in nums)
            sql = (f"({lat.sql} <= {nw_lat.sql} AND {lat.sql} >= {se_lat.sql} AND {lon.sql} >= {nw_lon.sql}"
                   f" AND {lon.sql} <= {se_lon.sql})")
            params = [*lat.params, *nw_lat.params, *lat.params, *se_lat.params, *lon.params, *nw_lon.params,
                      *lon.params, *se_lon.params]
            return C(sql, params, "boolean", agg=loc.agg)
        c_lat, c_lon, radius = (real(n) for n in nums)
        # ~111,194.9 m per degree of latitude on that sphere: a row farther in latitude is outside (the
        # band divides by a little less, so rounding never drops a row the distance keeps).
        sql = (f"({lat.sql} BETWEEN {c_lat.sql} - {radius.sql} / 111194.0 AND {c_lat.sql} + {radius.sql} / 111194.0"
               f" AND py_distance_m({lat.sql}, {lon.sql}, {c_lat.sql}, {c_lon.sql}) <= {radius.sql})")
        params = [*lat.params, *c_lat.params, *radius.params, *c_lat.params, *radius.params,
                  *lat.params, *lon.params, *c_lat.params, *c_lon.params, *radius.params]
        return C(sql, params, "boolean", agg=loc.agg)


def _output_name(node: soql.Expr) -> str:
    if isinstance(node, soql.Column):
        return node.name
    if isinstance(node, soql.Func):
        if node.star:
            return node.name
        parts = [node.name] + [_output_name(a) for a in node.args]
        return "_".join(p.lstrip(":") for p in parts)
    return "expr"


def _decoder(typ: str) -> Callable[[Any], Any] | None:
    if typ == "rowid":
        return format_row_id
    if typ == "boolean":
        return bool
    return json_decoder(typ)


def _soda2(typ: str) -> str:
    if typ == "rowid":
        return "meta_data"
    return SODA2_TYPES.get(typ, "boolean" if typ == "boolean" else "text")


def compile_query(query: soql.Query, *, table: str, fields: Mapping[str, str], system: bool = False,
                  filters: Sequence[tuple[str, str]] = (), after_id: int | None = None) -> Compiled:
    """Compile ``query`` over ``table`` whose user columns are ``fields`` (fieldName -> dataTypeName).

    ``after_id``: only rows with a larger internal id, and no offset (the caller knows the rows up to
    that id are exactly the first ``query.offset`` ones). Ignored unless the result is ``keyset``.
    """
    comp = Compiler(fields)
    items: list[tuple[str, C, soql.Expr | None]] = []
    select = query.select or [soql.SelectItem(expr=None, star="*")]
    if system and not query.select:
        select = [soql.SelectItem(expr=None, star=":*"), *select]
    for item in select:
        if item.star == ":*":
            for name in SYSTEM_COLUMNS:
                items.append((name, comp.column(name), soql.Column(name)))
        elif item.star == "*":
            for name in fields:
                items.append((name, comp.column(name), soql.Column(name)))
        else:
            assert item.expr is not None
            compiled = comp.expr(item.expr)
            name = item.alias or _output_name(item.expr)
            items.append((name, compiled, item.expr))
    for name, compiled, _node in items:
        if name not in fields and name not in SYSTEM_COLUMNS:
            comp.aliases.setdefault(name, compiled)

    params: list[Any] = []
    select_sql = []
    for _name, c, _node in items:
        select_sql.append(c.sql)
        params += c.params
    head = f"SELECT {', '.join(select_sql) or 'NULL'} FROM {table}"  # a dataset may have no columns yet
    select_params = len(params)
    sql = head

    conditions: list[C] = []
    if query.where is not None:
        where = comp._boolean(query.where)
        if where.agg:
            raise SoqlError("query.soql.aggregate-in-ungrouped-context", "Aggregates are not allowed in $where")
        conditions.append(where)
    for name, value in filters:
        conditions.append(comp._boolean(soql.Binary("=", soql.Column(name), soql.Literal(value, "text"))))
    if query.search:
        conditions.append(_search(comp, fields, query.search))
    by_id = not query.order or query.order == [soql.OrderItem(soql.Column(":id"))]  # $order=:id is the default
    keyset = by_id and not query.group and not any(c.agg for _n, c, _e in items)
    offset = query.offset or 0
    if after_id is not None and keyset:
        conditions.append(C("_id > ?", [after_id], "boolean"))
        offset = 0
    if conditions:
        sql += " WHERE " + " AND ".join(c.sql for c in conditions)
        for c in conditions:
            params += c.params

    grouped = bool(query.group) or any(c.agg for _n, c, _e in items)
    group_cs = [comp.expr(g) for g in query.group]
    if grouped:
        for name, c, node in items:
            if not c.agg and node not in query.group and c.sql not in [g.sql for g in group_cs]:
                raise SoqlError("query.soql.column-not-in-group-bys",
                                f"Column {name} must appear in $group or be used in an aggregate")
    if group_cs:
        sql += " GROUP BY " + ", ".join(g.sql for g in group_cs)
        for g in group_cs:
            params += g.params
    if query.having is not None:
        if not grouped:
            raise SoqlError("query.soql.bad-parse", "$having needs $group or an aggregate")
        having = comp._boolean(query.having)
        sql += " HAVING " + having.sql
        params += having.params

    order_parts: list[str] = []
    for order in query.order:
        c = comp.expr(order.expr)
        direction = "DESC NULLS FIRST" if order.descending else "ASC NULLS LAST"
        order_parts.append(f"{_num(c) if _is_number(c) else c.sql} {direction}")
        params += c.params
    if not grouped:
        order_parts.append("_id")
    elif not query.order and group_cs:
        order_parts += [f"{_num(g) if _is_number(g) else g.sql}" for g in group_cs]
        for g in group_cs:
            params += g.params
    if order_parts:
        sql += " ORDER BY " + ", ".join(order_parts)
    sql += " LIMIT ? OFFSET ?"
    params += [DEFAULT_LIMIT if query.limit is None else query.limit, offset]

    json_sql = None
    if select_params == 0 and all(isinstance(node, soql.Column) and name not in comp.aliases
                                  for name, _c, node in items):
        json_sql = f"SELECT {_json_row(items)}{', _id' if keyset else ''} FROM {table}" + sql[len(head):]
    return Compiled(keyset=keyset, sql=sql, params=params, names=[n for n, _c, _e in items],
                    types=[_soda2(c.type) for _n, c, _e in items],
                    decoders=[_decoder(c.type) for _n, c, _e in items],
                    data_types=[c.type for _n, c, _e in items], json_sql=json_sql)


_ROW_ID_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"


def _row_id_sql(column: str) -> str:
    """SQL text rendering an integer id exactly like :func:`kcdata.portal.types.format_row_id`."""
    chars = [f"substr('{_ROW_ID_ALPHABET}', (({column} >> {5 * k}) & 31) + 1, 1)" for k in range(11, -1, -1)]
    groups = [" || ".join(chars[i:i + 4]) for i in (0, 4, 8)]
    return "'row-' || " + " || '~' || ".join(groups)


# SQLite's default SQLITE_MAX_FUNCTION_ARG is 127: json_object takes a key and a value per column.
_JSON_OBJECT_MAX_COLUMNS = 60


def _json_row(items: Sequence[tuple[str, C, soql.Expr | None]]) -> str:
    """One finished JSON object per row; null columns are left out.

    A row without nulls (the common case) is built by ``json_object`` in one pass; a row with some
    nulls is concatenated piece by piece, skipping them.
    """
    sparse = _json_row_concat(items)
    if not items or len(items) > _JSON_OBJECT_MAX_COLUMNS:
        return sparse
    args, nullable = [], []
    for name, c, _node in items:
        key = "'" + name.replace("'", "''") + "'"
        if c.type == "checkbox":
            value = f"json(CASE {c.sql} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"
        elif c.type in JSON_STORED:
            value = f"json({c.sql})"  # stored compact by our encoders; json() marks it as JSON, not text
        elif c.type == "rowid":
            value = _row_id_sql(c.sql)
        else:
            value = c.sql
        args.append(f"{key}, {value}")
        if c.type != "rowid":
            nullable.append(f"{c.sql} IS NOT NULL")
    dense = f"json_object({', '.join(args)})"
    if not nullable:
        return dense
    return f"CASE WHEN {' AND '.join(nullable)} THEN {dense} ELSE {sparse} END"


def _json_row_concat(items: Sequence[tuple[str, C, soql.Expr | None]]) -> str:
    parts = []
    for name, c, _node in items:
        key = json.dumps(name)  # field names are [a-z0-9_] or system names; dumps keeps any alias safe
        if c.type == "checkbox":
            part = f"CASE {c.sql} WHEN 1 THEN ',{key}:true' WHEN 0 THEN ',{key}:false' END"
        elif c.type in JSON_STORED:
            part = f"',{key}:' || {c.sql}"
        elif c.type == "rowid":
            part = f"',{key}:\"' || {_row_id_sql(c.sql)} || '\"'"
        else:
            part = f"CASE WHEN {c.sql} IS NOT NULL THEN ',{key}:' || json_quote({c.sql}) END"  # json_quote(NULL)='null'
        parts.append(f"COALESCE({part}, '')")
    return "'{' || substr(" + " || ".join(parts) + ", 2) || '}'" if parts else "'{}'"


def _search(comp: Compiler, fields: Mapping[str, str], text: str) -> C:
    terms = [t for t in text.lower().split() if t]
    text_cols = [sql_column(f) for f, t in fields.items() if t in ("text", "url", "email", "phone", "html")]
    if not terms or not text_cols:
        return C("1", [], "boolean")
    parts, params = [], []
    for term in terms:
        parts.append("(" + " OR ".join(f"instr(py_lower({col}), ?) > 0" for col in text_cols) + ")")
        params += [term] * len(text_cols)
    return C("(" + " AND ".join(parts) + ")", params, "boolean")
