"""SoQL functions compiled to SQLite (for :class:`kcdata.portal.soqlsql.Compiler`).

Each function follows its page under https://dev.socrata.com/docs/functions/ (the tests name the
page they check). Numbers stay exact: aggregates and arithmetic run on decimals in
:mod:`kcdata.portal.sqlfuncs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kcdata.portal import soql
from kcdata.portal.soql import SoqlError
from kcdata.portal.soqlc import C, _dec
from kcdata.portal.soqlgeo import compile_geo
from kcdata.portal.types import NUMERIC

if TYPE_CHECKING:
    from kcdata.portal.soqlsql import Compiler

_DATE_TYPES = ("calendar_date", "date")
_TEXTUAL = ("text", "null")


def _c(sql: str, params: list[object], typ: str, *, numtext: bool = False, agg: bool = False) -> C:
    return C(sql, list(params), typ, numtext=numtext, agg=agg)


def _params(args: list[C]) -> list[object]:
    out: list[object] = []
    for a in args:
        out += a.params
    return out


def _arity(name: str, args: list[C], *counts: int) -> None:
    if len(args) not in counts:
        raise SoqlError("query.soql.no-such-function", f"No such function: {name}/{len(args)}")


def _text_arg(name: str, c: C) -> None:
    if c.type not in _TEXTUAL:
        raise SoqlError("query.soql.type-mismatch", f"{name} needs text, found {c.type}")


def compile_func(comp: Compiler, node: soql.Func) -> C:
    """Compile one function call (raises ``no-such-function`` / ``type-mismatch`` as Socrata does)."""
    name = node.name
    if name in ("count", "sum", "avg", "min", "max"):
        return _aggregate(comp, node)
    args = [comp.expr(a) for a in node.args]
    agg = any(a.agg for a in args)
    params = _params(args)
    if name in ("upper", "lower", "unaccent", "trim", "ltrim", "rtrim", "length"):
        _arity(name, args, 1)
        _text_arg(name, args[0])
        sql = args[0].sql
        if name == "length":
            return _c(f"length({sql})", params, "number", agg=agg)
        fn = {"upper": "py_upper", "lower": "py_lower", "unaccent": "py_unaccent"}.get(name, name)
        return _c(f"{fn}({sql})", params, "text", agg=agg)
    if name in ("starts_with", "contains", "caseless_eq", "caseless_ne", "caseless_contains",
                "caseless_starts_with"):
        _arity(name, args, 2)
        a, b = args
        if a.type not in _TEXTUAL or b.type not in _TEXTUAL:
            raise SoqlError("query.soql.type-mismatch", f"{name} needs two text arguments")
        x, y = (a.sql, b.sql) if not name.startswith("caseless") else (f"py_lower({a.sql})", f"py_lower({b.sql})")
        if name in ("contains", "caseless_contains"):
            return _c(f"(instr({x}, {y}) > 0)", params, "boolean", agg=agg)
        if name in ("caseless_eq", "caseless_ne"):
            return _c(f"({x} {'=' if name == 'caseless_eq' else '!='} {y})", params, "boolean", agg=agg)
        return _c(f"(substr({x}, 1, length({y})) = {y})", params + b.params, "boolean", agg=agg)
    if name in ("caseless_one_of", "caseless_not_one_of"):
        if len(args) < 2 or any(a.type not in _TEXTUAL for a in args):
            raise SoqlError("query.soql.type-mismatch", f"{name} needs text arguments")
        items = ", ".join(f"py_lower({a.sql})" for a in args[1:])
        neg = "NOT " if name == "caseless_not_one_of" else ""
        return _c(f"(py_lower({args[0].sql}) {neg}IN ({items}))", params, "boolean", agg=agg)
    if name.startswith("date_trunc_"):
        return _date_trunc(name, args, agg)
    if name.startswith("date_extract_"):
        return _date_extract(name, args, agg)
    if name in ("within_circle", "within_box", "within_polygon", "distance_in_meters"):
        return compile_geo(comp, name, args)
    if name in ("abs", "ln", "round", "ceiling", "floor"):
        _arity(name, args, 2 if name == "round" else 1)
        nums = [comp._numeric(a) for a in args]
        inner = ", ".join(_dec(n) for n in nums)
        fn = {"abs": "py_dabs", "ln": "py_ln", "round": "py_dround", "ceiling": "py_dceil", "floor": "py_dfloor"}[name]
        return _c(f"{fn}({inner})", _params(nums), "number", numtext=True, agg=agg)
    if name in ("coalesce", "least", "greatest"):
        return _variadic(comp, name, args, agg)
    if name == "case":
        return _case(comp, args, agg)
    raise SoqlError("query.soql.no-such-function", f"No such function: {name}/{len(args)}")


def _aggregate(comp: Compiler, node: soql.Func) -> C:
    name = node.name
    if node.star:
        if name != "count":
            raise SoqlError("query.soql.bad-parse", f"{name}(*) is not allowed")
        return _c("COUNT(*)", [], "number", agg=True)
    if len(node.args) != 1:
        raise SoqlError("query.soql.no-such-function", f"No such function: {name}/{len(node.args)}")
    arg = comp.expr(node.args[0])
    if arg.agg:
        raise SoqlError("query.soql.bad-parse", "Aggregates cannot be nested")
    distinct = "DISTINCT " if node.distinct else ""
    if name == "count":
        return _c(f"COUNT({distinct}{arg.sql})", arg.params, "number", agg=True)
    if name in ("sum", "avg"):
        arg = comp._numeric(arg)
    if arg.type in NUMERIC:
        return _c(f"py_d{name}({distinct}{_dec(arg)})", arg.params, "number", numtext=True, agg=True)
    return _c(f"{name.upper()}({distinct}{arg.sql})", arg.params, arg.type, agg=True)


def _date_trunc(name: str, args: list[C], agg: bool) -> C:
    """date_trunc_ymd/ym/y: a floating timestamp as is; a fixed one only with a time zone
    (https://dev.socrata.com/docs/functions/date_trunc_ymd: "fixed timestamps … need a time zone")."""
    keep, pad = {"date_trunc_ymd": (10, ""), "date_trunc_ym": (7, "-01"),
                 "date_trunc_y": (4, "-01-01")}.get(name, (0, ""))
    if not keep:
        raise SoqlError("query.soql.no-such-function", f"No such function: {name}/{len(args)}")
    _arity(name, args, 1, 2)
    a = args[0]
    if a.type not in _DATE_TYPES:
        raise SoqlError("query.soql.type-mismatch", f"{name} needs a date")
    sql, params = a.sql, list(a.params)
    if a.type == "date":
        if len(args) != 2 or args[1].type != "text":
            raise SoqlError("query.soql.type-mismatch", f"{name} of a fixed timestamp needs a time zone: "
                                                        f"{name}(column, 'America/Chicago')")
        sql, params = f"py_local_time({sql}, {args[1].sql})", params + args[1].params
    elif len(args) == 2:
        raise SoqlError("query.soql.type-mismatch", f"{name} of a floating timestamp takes no time zone")
    return _c(f"(substr({sql}, 1, {keep}) || '{pad}T00:00:00.000')", params, "calendar_date", agg=agg)


_EXTRACT = {"y": (1, 4), "m": (6, 2), "d": (9, 2), "hh": (12, 2), "mm": (15, 2), "ss": (18, 2)}


def _date_extract(name: str, args: list[C], agg: bool) -> C:
    part = name.removeprefix("date_extract_")
    if part not in (*_EXTRACT, "dow", "woy"):
        raise SoqlError("query.soql.no-such-function", f"No such function: {name}/{len(args)}")
    _arity(name, args, 1)
    a = args[0]
    if a.type != "calendar_date":
        raise SoqlError("query.soql.type-mismatch", f"{name} needs a floating timestamp, found {a.type}")
    if part == "dow":  # 0 = Sunday
        return _c(f"CAST(strftime('%w', substr({a.sql}, 1, 10)) AS INTEGER)", a.params, "number", agg=agg)
    if part == "woy":  # ISO 8601 week number
        return _c(f"py_iso_week({a.sql})", a.params, "number", agg=agg)
    start, length = _EXTRACT[part]
    return _c(f"CAST(substr({a.sql}, {start}, {length}) AS INTEGER)", a.params, "number", agg=agg)


def _common_type(name: str, values: list[C]) -> str:
    types = {v.type for v in values if v.type != "null"}
    if not types:
        return "null"
    if types <= NUMERIC:
        return "number"
    if types <= {"checkbox", "boolean"}:
        return "boolean" if "boolean" in types else "checkbox"
    if len(types) > 1:
        raise SoqlError("query.soql.type-mismatch",
                        f"{name}: arguments of different types ({', '.join(sorted(types))})")
    return types.pop()


def _variadic(comp: Compiler, name: str, args: list[C], agg: bool) -> C:
    if not args:
        raise SoqlError("query.soql.no-such-function", f"No such function: {name}/0")
    first = next((a for a in args if a.type != "null"), args[0])
    args = [comp._coerce(a, first.type) for a in args]
    typ = _common_type(name, args)
    if name == "coalesce":
        sql = args[0].sql if len(args) == 1 else f"COALESCE({', '.join(a.sql for a in args)})"
        return _c(sql, _params(args), typ, numtext=typ in NUMERIC, agg=agg)
    if typ in NUMERIC:
        return _c(f"py_d{name}({', '.join(_dec(a) for a in args)})", _params(args), "number", numtext=True,
                  agg=agg)
    return _c(f"py_{name}({', '.join(a.sql for a in args)})", _params(args), typ, agg=agg)


def _case(comp: Compiler, args: list[C], agg: bool) -> C:
    """``case(cond1, value1, cond2, value2, …)``: the value of the first true condition, else null
    (https://dev.socrata.com/docs/functions/case)."""
    if len(args) < 2 or len(args) % 2:
        raise SoqlError("query.soql.no-such-function", f"No such function: case/{len(args)}")
    conds, values = args[0::2], args[1::2]
    first = next((v for v in values if v.type != "null"), values[0])
    values = [comp._coerce(v, first.type) for v in values]
    typ = _common_type("case", values)
    parts, params = [], []
    for cond, value in zip(conds, values, strict=True):
        if cond.type == "checkbox" and cond.literal is None:
            cond = _c(f"({cond.sql} = 1)", cond.params, "boolean")
        if cond.type not in ("boolean", "checkbox"):
            raise SoqlError("query.soql.type-mismatch", f"case: a condition must be boolean, found {cond.type}")
        parts.append(f"WHEN {cond.sql} THEN {value.sql}")
        params += cond.params + value.params
    return _c(f"(CASE {' '.join(parts)} END)", params, typ, numtext=typ in NUMERIC, agg=agg)
