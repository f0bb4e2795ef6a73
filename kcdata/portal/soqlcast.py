"""SoQL ``::`` casts (``value::text``, ``'12.5'::number``, ``'2024-01-01'::floating_timestamp`` …).

A literal is converted while compiling, so a literal that does not fit answers 400 as Socrata does;
a column's values are converted per row (a value that does not fit becomes null).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kcdata.portal import soql
from kcdata.portal.rowjson import _row_id_sql
from kcdata.portal.soql import SoqlError
from kcdata.portal.soqlc import C
from kcdata.portal.types import NUMERIC, ValueProblem, encoder

if TYPE_CHECKING:
    from kcdata.portal.soqlsql import Compiler

_TARGETS = {"text": "text", "number": "number", "double": "number", "floating_timestamp": "calendar_date",
            "fixed_timestamp": "date", "boolean": "checkbox", "point": "point"}


def compile_cast(comp: Compiler, node: soql.Cast) -> C:
    target = _TARGETS.get(node.type)
    if target is None:
        raise SoqlError("query.soql.no-such-function", f"No such cast: ::{node.type}")
    inner = comp.expr(node.expr)
    src = inner.type
    if inner.literal is not None and inner.literal.kind in ("text", "number"):
        try:
            value = encoder(target)(inner.literal.value)
        except ValueProblem as exc:
            raise SoqlError("query.soql.type-mismatch", f"Cannot cast {inner.literal.value!r} to "
                                                        f"{node.type}: {exc}") from None
        return C("?", [value], target, numtext=target in NUMERIC)
    if src == "null" or src == target or (src in NUMERIC and target == "number"):
        return C(inner.sql, inner.params, target if src != "null" else "null", numtext=inner.numtext,
                 agg=inner.agg)
    sql: str | None = None
    if target == "text":
        if src in ("calendar_date", "date", "version", "point", "url", "location") or inner.numtext:
            sql = inner.sql
        elif src in NUMERIC:
            sql = f"py_dadd({inner.sql}, 0)"
        elif src in ("checkbox", "boolean"):
            sql = f"(CASE {inner.sql} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"
        elif src == "rowid":
            sql = _row_id_sql(inner.sql)
    elif target == "number" and src in ("text", "checkbox", "boolean"):
        sql = f"py_to_number({inner.sql})"
    elif target == "calendar_date":
        if src == "date":
            sql = f"substr({inner.sql}, 1, 23)"
        elif src == "text":
            sql = f"py_to_floating({inner.sql})"
    elif target == "date" and src == "calendar_date":
        sql = f"({inner.sql} || 'Z')"
    elif target == "checkbox" and src in ("boolean", "text"):
        sql = inner.sql if src == "boolean" else f"py_to_checkbox({inner.sql})"
    if sql is None:
        raise SoqlError("query.soql.type-mismatch", f"Cannot cast {src} to {node.type}")
    return C(sql, inner.params, target, numtext=target in NUMERIC, agg=inner.agg)
