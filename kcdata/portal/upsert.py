"""Planning and applying one upsert batch of the portal store (moved whole from ``store.py``)."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kcdata.portal.columns import encode_column
from kcdata.portal.soqlsql import sql_column
from kcdata.portal.tables import (
    _SYSTEM_KEYS,
    StoreError,
    UpsertReport,
    fields_of,
    now_iso,
    row_identifier_field,
    table_name,
)
from kcdata.portal.types import ValueProblem, encoder, parse_row_id


# -- upsert planning and application ------------------------------------------------------------------
@dataclass(slots=True)
class _Plan:
    ops: list[tuple[str, Any, tuple[str, ...], tuple[Any, ...]]]
    report: UpsertReport
    # The common batch (every row an upsert of the same columns, all valid): converted column-wise,
    # applied with one executemany. ``(names, stored columns, row identifier column or None)``.
    bulk: tuple[tuple[str, ...], list[list[Any]], list[Any] | None] | None = None


def _plan(view: dict[str, Any], rows: Sequence[Any]) -> _Plan:
    types = fields_of(view)
    encoders = {name: encoder(t) for name, t in types.items()}
    user = set(encoders)
    allowed = user | _SYSTEM_KEYS
    key = row_identifier_field(view)
    report = UpsertReport()
    ops: list[tuple[str, Any, tuple[str, ...], tuple[Any, ...]]] = []
    plain: list[bool] = []  # rows without system keys take the fast path below
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise StoreError(400, "soda.row.upsert-row-not-an-object",
                             f"Row {index} of the upsert is a {type(row).__name__}, not an object")
        if row.keys() <= user:
            plain.append(True)
            continue
        if not row.keys() <= allowed:
            name = next(n for n in row if n not in allowed)
            raise StoreError(400, "soda.row.column-not-found",
                             f"One or more rows expected column '{name}' which was not found on the dataset",
                             {"column": name})
        plain.append(False)
    if rows and all(plain):
        bulk = _columnar(types, key, rows)
        if bulk is not None:
            return _Plan(ops=[], report=report, bulk=bulk)
    by_names: dict[tuple[str, ...], tuple[list[Any], int]] = {}
    for index, row in enumerate(rows):
        names = tuple(row) if plain[index] else tuple(n for n in row if n not in _SYSTEM_KEYS)
        cached = by_names.get(names)
        if cached is None:
            cached = by_names[names] = ([encoders[n] for n in names], names.index(key) if key in names else -1)
        encs, key_at = cached
        try:
            if plain[index]:
                values = tuple([None if v is None else f(v) for f, v in zip(encs, row.values(), strict=True)])
            else:
                values = tuple([None if row[n] is None else f(row[n]) for f, n in zip(encs, names, strict=True)])
        except ValueProblem as exc:
            report.errors += 1
            report.problems.append(f"row {index}: {exc}")
            continue
        deleted = None if plain[index] else row.get(":deleted")
        is_delete = deleted is True or (isinstance(deleted, str) and deleted.strip().lower() == "true")
        key_value = values[key_at] if key_at >= 0 else None
        if key_value is not None:
            ops.append(("delete_key" if is_delete else "upsert_key", key_value, names, values))
            continue
        sid = None if plain[index] else row.get(":id")
        if sid is not None:
            internal = parse_row_id(str(sid))
            if internal is None:
                report.errors += 1
                report.problems.append(f"row {index}: bad :id {sid!r}")
                continue
            ops.append(("delete_sid" if is_delete else "update_sid", internal, names, values))
            continue
        if key or is_delete:
            report.errors += 1
            report.problems.append(f"row {index}: no row identifier")
            continue
        ops.append(("insert", None, names, values))
    return _Plan(ops=ops, report=report)


def _columnar(types: dict[str, str], key: str | None, rows: Sequence[dict[str, Any]]
              ) -> tuple[tuple[str, ...], list[list[Any]], list[Any] | None] | None:
    """Convert a batch of same-shaped rows column by column; None sends it down the per-row path."""
    names = tuple(rows[0])
    if not names or len({tuple(row) for row in rows}) != 1:
        return None
    try:
        transposed = zip(*map(dict.values, rows), strict=True)  # every row has exactly ``names``
        columns = [encode_column(types[n], col) for n, col in zip(names, transposed, strict=True)]
    except ValueProblem:
        return None  # the per-row path counts and reports the bad rows
    keys = None
    if key is not None:
        if key not in names:
            return None
        keys = columns[names.index(key)]
        if None in keys:
            return None
    return names, columns, keys


def _insert_sql(table: str, names: Sequence[str]) -> str:
    cols = "".join(", " + sql_column(n) for n in names)
    return f"INSERT INTO {table} (_created_at, _updated_at{cols}) VALUES (?, ?{', ?' * len(names)})"


def _upsert_sql(table: str, key_sql: str, names: Sequence[str]) -> str:
    # The key itself is not re-set: on conflict it already holds an equal value (stored values are
    # canonical, compared with BINARY collation), and setting it rewrites the unique index's pages
    # too (5,000 scattered updates of 1M rows: ~8,000 instead of ~5,000 pages written).
    sets = [f"{sql_column(n)} = excluded.{sql_column(n)}" for n in names if sql_column(n) != key_sql]
    return (f"{_insert_sql(table, names)} ON CONFLICT({key_sql}) DO UPDATE SET "
            f"{', '.join([*sets, '_updated_at = excluded._updated_at'])}")


def _apply_bulk(conn: sqlite3.Connection, table: str, key_sql: str, plan: _Plan) -> UpsertReport:
    """Same statements and counts as the per-row path, as one executemany."""
    assert plan.bulk is not None
    report = plan.report
    names, columns, keys = plan.bulk
    stamp = now_iso()
    params = list(zip(itertools.repeat(stamp), itertools.repeat(stamp), *columns))
    count = len(params)
    if keys is None:  # no row identifier: every row is new
        conn.executemany(_insert_sql(table, names), params)
        report.created += count
        return report
    # No probe for existing keys (for scattered updates it cost as much as ~40% of the upsert):
    # ``_id`` is AUTOINCREMENT, so the rows this statement created are exactly those above the
    # largest ``_id`` before it (we hold the write lock inside one transaction).
    before = conn.execute(f"SELECT max(_id) FROM {table}").fetchone()[0]
    if before is None and len(set(keys)) == count:  # empty table, distinct keys: nothing can conflict
        conn.executemany(_insert_sql(table, names), params)
        created = count
    else:
        conn.executemany(_upsert_sql(table, key_sql, names), params)
        created = int(conn.execute(f"SELECT count(*) FROM {table} WHERE _id > ?", (before or 0,)).fetchone()[0])
    report.created += created
    report.updated += count - created
    report.by_row_identifier += count - created
    return report


def _existing_keys(conn: sqlite3.Connection, table: str, column: str, keys: Iterable[Any]) -> set[Any]:
    wanted = list(dict.fromkeys(keys))
    found: set[Any] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in conn.execute(f"SELECT {column} FROM {table} WHERE {column} IN ({marks})", chunk))
    return found


def _apply(conn: sqlite3.Connection, view: dict[str, Any], plan: _Plan, *, replace: bool) -> UpsertReport:
    report = plan.report
    table = table_name(view["id"])
    key = row_identifier_field(view)
    key_sql = sql_column(key) if key else ""
    if replace:
        conn.execute(f"DELETE FROM {table}")
    if plan.bulk is not None:
        return _apply_bulk(conn, table, key_sql, plan)
    if replace:
        existing: set[Any] = set()
    elif key:
        existing = _existing_keys(conn, table, key_sql,
                                  (op[1] for op in plan.ops if op[0] in ("upsert_key", "delete_key")))
    else:
        existing = set()
    stamp = now_iso()
    pending_sql: str | None = None
    pending: list[tuple[Any, ...]] = []

    def flush() -> None:
        nonlocal pending_sql
        if pending_sql is not None and pending:
            conn.executemany(pending_sql, pending)
        pending.clear()
        pending_sql = None

    def queue(sql: str, params: tuple[Any, ...]) -> None:
        nonlocal pending_sql
        if sql != pending_sql:
            flush()
            pending_sql = sql
        pending.append(params)

    statements: dict[tuple[str, tuple[str, ...]], str] = {}
    for kind, ident, names, values in plan.ops:
        if kind == "upsert_key" and ident in existing:
            sql = statements.get((kind, names))
            if sql is None:
                cols = ", ".join(sql_column(n) for n in names)
                sets = ", ".join(f"{sql_column(n)} = excluded.{sql_column(n)}" for n in names)
                sql = (f"INSERT INTO {table} (_created_at, _updated_at, {cols}) VALUES (?, ?{', ?' * len(names)}) "
                       f"ON CONFLICT({key_sql}) DO UPDATE SET {sets}, _updated_at = excluded._updated_at")
                statements[(kind, names)] = sql
            queue(sql, (stamp, stamp, *values))
            report.updated += 1
            report.by_row_identifier += 1
        elif kind in ("insert", "upsert_key"):  # a new key: plain INSERT (we hold the write lock)
            if kind == "upsert_key":
                existing.add(ident)
            sql = statements.get(("insert", names))
            if sql is None:
                cols = ", ".join(sql_column(n) for n in names)
                sql = (f"INSERT INTO {table} (_created_at, _updated_at{', ' + cols if cols else ''}) "
                       f"VALUES (?, ?{', ?' * len(names)})")
                statements[("insert", names)] = sql
            queue(sql, (stamp, stamp, *values))
            report.created += 1
        elif kind == "delete_key":
            if ident in existing:
                queue(f"DELETE FROM {table} WHERE {key_sql} = ?", (ident,))
                existing.discard(ident)
                report.deleted += 1
                report.by_row_identifier += 1
            else:
                report.errors += 1
        else:
            flush()
            if kind == "delete_sid":
                cur = conn.execute(f"DELETE FROM {table} WHERE _id = ?", (ident,))
            else:
                sets = ", ".join(f"{sql_column(n)} = ?" for n in names)
                cur = conn.execute(f"UPDATE {table} SET {sets + ', ' if sets else ''}_updated_at = ? WHERE _id = ?",
                                   (*values, stamp, ident))
            if cur.rowcount == 0:
                report.errors += 1
            else:
                report.by_sid += 1
                if kind == "delete_sid":
                    report.deleted += 1
                else:
                    report.updated += 1
    flush()
    return report
