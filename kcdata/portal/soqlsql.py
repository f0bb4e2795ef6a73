"""Compile a parsed SoQL :class:`~kcdata.portal.soql.Query` into parameterised SQLite SQL.

Identifiers are resolved against the dataset's fieldNames (plus the system fields and the
query's own aliases); every user-supplied value becomes a ``?`` parameter. Number columns hold
canonical decimal text, so equality compares text (index-friendly) and ordering/arithmetic casts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kcdata.portal import soql
from kcdata.portal.rowjson import _json_row, _json_row_concat  # noqa: F401 - tests use _json_row_concat
from kcdata.portal.soql import SoqlError
from kcdata.portal.soqlc import C, _dec, _exact_compare, _is_number, _num
from kcdata.portal.soqlcast import compile_cast
from kcdata.portal.soqlfuncs import compile_func
from kcdata.portal.types import (
    NUMERIC,
    SODA2_TYPES,
    ValueProblem,
    canonical_number,
    encoder,
    format_row_id,
    json_decoder,
    parse_row_id,
)

SYSTEM_COLUMNS = {":id": ("_id", "rowid"), ":version": ("py_row_version(_id, _updated_at)", "version"),
                  ":created_at": ("_created_at", "date"), ":updated_at": ("_updated_at", "date")}
AGGREGATES = frozenset({"count", "sum", "avg", "min", "max"})
DEFAULT_LIMIT = 1000


def sql_column(field_name: str) -> str:
    """The SQLite column holding ``field_name`` (fieldNames are validated at dataset creation)."""
    return '"f_' + field_name.replace('"', '""') + '"'


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
            return C(f"py_dneg({_dec(inner)})", inner.params, "number", numtext=True, agg=inner.agg)
        if isinstance(node, soql.Cast):
            return compile_cast(self, node)
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
            try:
                value = canonical_number(node.value)
            except ValueProblem as exc:
                raise SoqlError("query.soql.bad-parse", f"Number literal out of range: {exc}") from None
            return C("?", [value], "number", numtext=True, literal=node)
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
        pair = {lt, rt}
        if pair <= {"checkbox", "boolean"} or pair <= {"calendar_date", "date"} or pair <= {"version", "text"}:
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
        if op in ("+", "-", "*", "/", "%", "^"):
            left, right = self._numeric(left), self._numeric(right)
            fn = {"+": "py_dadd", "-": "py_dsub", "*": "py_dmul", "/": "py_ddiv", "%": "py_dmod", "^": "py_dpow"}[op]
            return C(f"{fn}({_dec(left)}, {_dec(right)})", left.params + right.params, "number", numtext=True,
                     agg=agg)
        left, right = self._pair(left, right)
        sql_op = "!=" if op == "!=" else op
        if _is_number(left) and _is_number(right) and not (op in ("=", "!=") and left.numtext and right.numtext):
            return _exact_compare(sql_op, left, right)
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
        if _is_number(left) and _is_number(low) and _is_number(high):
            lo, hi = _exact_compare(">=", left, low), _exact_compare("<=", left, high)
            sql = f"({lo.sql} AND {hi.sql})"
            return C(f"(NOT {sql})" if node.negated else sql, lo.params + hi.params, "boolean", agg=left.agg)
        fix = _num if _is_number(left) else (lambda c: c.sql)
        neg = "NOT " if node.negated else ""
        return C(f"({fix(left)} {neg}BETWEEN {fix(low)} AND {fix(high)})", left.params + low.params + high.params,
                 "boolean", agg=left.agg)

    def _func(self, node: soql.Func) -> C:
        return compile_func(self, node)


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
    if typ in ("rowid", "version"):
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
    select_kw = "SELECT DISTINCT" if query.distinct else "SELECT"
    head = f"{select_kw} {', '.join(select_sql) or 'NULL'} FROM {table}"  # a dataset may have no columns yet
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
    keyset = by_id and not query.group and not query.distinct and not any(c.agg for _n, c, _e in items)
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
    if any(g.agg for g in group_cs):
        raise SoqlError("query.soql.aggregate-in-ungrouped-context", "Aggregates are not allowed in $group")
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
        if c.agg and not grouped:
            raise SoqlError("query.soql.aggregate-in-ungrouped-context",
                            "An aggregate in $order needs $group or aggregates in $select")
        first = order.descending if order.nulls_first is None else order.nulls_first
        direction = f"{'DESC' if order.descending else 'ASC'} NULLS {'FIRST' if first else 'LAST'}"
        if _is_number(c):
            # floats order almost everything; equal floats fall back to the exact decimal collation
            order_parts.append(f"CAST({c.sql} AS REAL) {direction}, {c.sql} COLLATE py_decimal {direction}")
            params += c.params + c.params
        else:
            order_parts.append(f"{c.sql} {direction}")
            params += c.params
    if not grouped and not query.distinct:
        order_parts.append("_id")
    elif not query.order and group_cs:
        for g in group_cs:
            if _is_number(g):
                order_parts.append(f"CAST({g.sql} AS REAL), {g.sql} COLLATE py_decimal")
                params += g.params + g.params
            else:
                order_parts.append(g.sql)
                params += g.params
    if order_parts:
        sql += " ORDER BY " + ", ".join(order_parts)
    sql += " LIMIT ? OFFSET ?"
    params += [DEFAULT_LIMIT if query.limit is None else query.limit, offset]

    json_sql = None
    if select_params == 0 and all(isinstance(node, soql.Column) and name not in comp.aliases
                                  for name, _c, node in items):
        json_sql = f"{select_kw} {_json_row(items)}{', _id' if keyset else ''} FROM {table}" + sql[len(head):]
    return Compiled(keyset=keyset, sql=sql, params=params, names=[n for n, _c, _e in items],
                    types=[_soda2(c.type) for _n, c, _e in items],
                    decoders=[_decoder(c.type) for _n, c, _e in items],
                    data_types=[c.type for _n, c, _e in items], json_sql=json_sql)


MAX_SEARCH_TERMS = 200
_SEARCHED = {"text": "{}", "email": "{}", "phone": "{}", "html": "{}", "flag": "{}", "drop_down_list": "{}",
             "url": "json_extract({}, '$.url') || ' ' || ifnull(json_extract({}, '$.description'), '')",
             "location": "json_extract({}, '$.human_address')"}


def _search(comp: Compiler, fields: Mapping[str, str], text: str) -> C:
    """``$q``: every word of ``text`` occurs (case-insensitively) in some text-bearing column: text
    and its kin, a url's address and description, a location's human address. One function call per
    row over the row's text joined, whatever the number of words (hundreds of words once exceeded
    SQLite's expression depth)."""
    terms = list(dict.fromkeys(t for t in text.lower().split() if t))
    if len(terms) > MAX_SEARCH_TERMS:  # each term is a scan of every row's text
        raise SoqlError("query.soql.too-complex", f"$q has {len(terms)} different words; at most "
                                                  f"{MAX_SEARCH_TERMS} are searched")
    pieces = [_SEARCHED[t].format(*[sql_column(f)] * 2) for f, t in fields.items() if t in _SEARCHED]
    if not terms or not pieces:
        return C("1", [], "boolean")
    joined = " || char(31) || ".join(f"ifnull({p}, '')" for p in pieces)
    return C(f"(py_search(?, {joined}) = 1)", ["\x00".join(terms)], "boolean")
