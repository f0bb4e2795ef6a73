"""A compiled SoQL expression (:class:`C`) and the helpers every part of the compiler shares
(:mod:`kcdata.portal.soqlsql` and its function modules ``soqlfuncs``, ``soqlgeo``, ``soqlcast``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kcdata.portal import soql
from kcdata.portal.types import NUMERIC


@dataclass(slots=True)
class C:
    """A compiled expression."""

    sql: str
    params: list[Any]
    type: str  # a dataTypeName, or "boolean", "rowid", "null"
    numtext: bool = False  # the SQL value is canonical decimal text, not a SQLite number
    agg: bool = False
    literal: soql.Literal | None = None


def _num(c: C) -> str:
    return f"CAST({c.sql} AS NUMERIC)" if c.numtext else c.sql


def _is_number(c: C) -> bool:
    return c.type in NUMERIC


def _dec(c: C) -> str:
    """An operand of the exact-decimal SQL functions (they take decimal text and SQLite numbers alike)."""
    return c.sql


def _exact_compare(op: str, left: C, right: C) -> C:
    """``left op right`` on numbers, exactly: compared as floats first (monotone, so a strict float
    order is the decimal order too); only float ties ask :func:`kcdata.portal.sqlfuncs.dcmp`."""
    a, b = f"CAST({left.sql} AS REAL)", f"CAST({right.sql} AS REAL)"
    p = left.params + right.params
    if op in ("=", "!="):
        sql = f"(py_dcmp({left.sql}, {right.sql}) {'=' if op == '=' else '!='} 0)"
        return C(sql, p, "boolean", agg=left.agg or right.agg)
    strict = "<" if op in ("<", "<=") else ">"
    sql = f"({a} {strict} {b} OR ({a} = {b} AND py_dcmp({left.sql}, {right.sql}) {op} 0))"
    return C(sql, p + p + p, "boolean", agg=left.agg or right.agg)
