"""Rows as finished JSON text built inside SQLite (the bulk-read fast path of :mod:`kcdata.portal.soqlsql`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kcdata.portal.types import JSON_STORED

if TYPE_CHECKING:
    from kcdata.portal import soql
    from kcdata.portal.soqlc import C


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
