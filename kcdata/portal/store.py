"""SQLite storage for the local portal: one ``views`` table of view JSON plus one rows table per dataset.

Each write batch runs in one ``BEGIN IMMEDIATE`` transaction, so a batch is applied whole or not at
all, also when the process is killed mid-batch (WAL journal). Writers are serialised by a lock;
readers use their own per-thread connections and see the last committed state.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kcdata.portal import budget
from kcdata.portal.fsperm import private_files
from kcdata.portal.soqlsql import Compiled, sql_column
from kcdata.portal.sqlfuncs import register_functions
from kcdata.portal.tables import (  # noqa: F401 - re-exported: the store's public names
    EARTH_RADIUS_M,
    DataDirBusyError,
    StoreError,
    UpsertReport,
    _py_case,
    distance_m,
    fields_of,
    now_iso,
    row_identifier_field,
    table_name,
)
from kcdata.portal.types import ValueProblem, encoder, parse_row_id
from kcdata.portal.upsert import _apply, _plan

DB_FILE = "portal.sqlite3"
_ID_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
_MAX_CURSORS = 64
# Writers never checkpoint below this many WAL pages (a safety net: the checkpointer thread does it),
# so a write request does not pay for copying its pages back into the database file.
_WRITER_CHECKPOINT_PAGES = 20_000


class Store:
    """The portal's data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = self.data_dir / DB_FILE
        private_files(self.path, self.data_dir / "portal.lock")
        # The view cache below is per process, so one data dir must have one server at a time.
        self._lock_file = open(self.data_dir / "portal.lock", "a+b")  # noqa: SIM115 - held for the Store's life
        self.stopping = threading.Event()  # set: every running statement is interrupted (budget.install)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.close()
            raise DataDirBusyError(f"another kcdata portal is already serving {self.data_dir}") from None
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._views: dict[str, dict[str, Any]] = {}
        self._pending_view: dict[str, Any] = {}
        self._version = 0  # bumped before and after every write (see _writing)
        self._cursors: dict[tuple[Any, ...], tuple[int, int, int]] = {}  # query -> (version, end offset, last _id)
        self._cursor_lock = threading.Lock()
        self._checkpointer: _Checkpointer | None = None
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS views (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        conn.execute("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        conn.execute("CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, filename TEXT NOT NULL, "
                     "mime TEXT NOT NULL, data BLOB NOT NULL)")
        for view_id, body in conn.execute("SELECT id, body FROM views"):
            self._views[view_id] = json.loads(body)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA case_sensitive_like=ON")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute(f"PRAGMA wal_autocheckpoint={_WRITER_CHECKPOINT_PAGES}")
            conn.create_function("py_upper", 1, _py_case(str.upper), deterministic=True)
            conn.create_function("py_lower", 1, _py_case(str.lower), deterministic=True)
            conn.create_function("py_distance_m", 4, distance_m, deterministic=True)
            register_functions(conn)
            budget.install(conn, self.stopping)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end) and free the data dir."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if not self._lock_file.closed:
            self._lock_file.close()

    # -- views -------------------------------------------------------------------------------------
    def view(self, view_id: str) -> dict[str, Any] | None:
        """The stored view (do not mutate; use :meth:`save_view`)."""
        return self._views.get(view_id)

    def views(self) -> list[dict[str, Any]]:
        """All views, oldest first."""
        return sorted(self._views.values(), key=lambda v: (v.get("createdAt", 0), v.get("tableId", 0), v["id"]))

    def _next_counter(self, conn: sqlite3.Connection, name: str, start: int) -> int:
        row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = (row[0] if row else start) + 1
        conn.execute("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = ?",
                     (name, value, value))
        return value

    def new_column_id(self, conn: sqlite3.Connection) -> int:
        return self._next_counter(conn, "column", 230641049)

    def create_view(self, build: Callable[[str, Callable[[], int]], dict[str, Any]]) -> dict[str, Any]:
        """Create a dataset: ``build(view_id, next_column_id)`` returns the view JSON."""
        with self._writing():
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                view_id = self._fresh_id()
                view = build(view_id, lambda: self.new_column_id(conn))
                view["tableId"] = view["oid"] = view["publicationGroup"] = self._next_counter(conn, "table", 5638964)
                cols = ", ".join(f"{sql_column(f)}" for f in fields_of(view))
                conn.execute(f"CREATE TABLE {table_name(view_id)} (_id INTEGER PRIMARY KEY AUTOINCREMENT, "
                             f"_created_at TEXT, _updated_at TEXT{', ' + cols if cols else ''})")
                key = row_identifier_field(view)
                if key:
                    self._index_row_identifier(conn, view_id, key)
                conn.execute("INSERT INTO views (id, body) VALUES (?, ?)", (view_id, json.dumps(view)))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._views[view_id] = view
            return view

    def _fresh_id(self) -> str:
        while True:
            raw = "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
            view_id = f"{raw[:4]}-{raw[4:]}"
            if view_id not in self._views:
                return view_id

    @staticmethod
    def _index_row_identifier(conn: sqlite3.Connection, view_id: str, key: str) -> None:
        index = '"u_' + view_id.replace("-", "_") + '"'
        conn.execute(f"DROP INDEX IF EXISTS {index}")
        try:
            conn.execute(f"CREATE UNIQUE INDEX {index} ON {table_name(view_id)} ({sql_column(key)})")
        except sqlite3.IntegrityError:
            raise StoreError(400, "soda.row.duplicate-row-identifier",
                             f"Column {key} has duplicate values and cannot be the row identifier") from None

    def update_view(self, view_id: str, change: Callable[[dict[str, Any], Callable[[], int]], dict[str, Any]]
                    ) -> dict[str, Any]:
        """Apply ``change(copy_of_view, next_column_id) -> new view`` atomically (adds new columns)."""
        with self._writing():
            old = self._views.get(view_id)
            if old is None:
                raise StoreError(404, "not_found", "Not found", {"id": view_id})
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                new = change(copy.deepcopy(old), lambda: self.new_column_id(conn))
                old_fields = fields_of(old)
                stored = {r[1] for r in conn.execute(f"PRAGMA table_info({table_name(view_id)})")}
                for name in fields_of(new):
                    if name in old_fields:
                        continue
                    if "f_" + name in stored:  # dropped earlier (DSMAPI replace), now back: empty again
                        conn.execute(f"UPDATE {table_name(view_id)} SET {sql_column(name)} = NULL")
                    else:
                        conn.execute(f"ALTER TABLE {table_name(view_id)} ADD COLUMN {sql_column(name)}")
                key = row_identifier_field(new)
                if key and key != row_identifier_field(old):
                    self._index_row_identifier(conn, view_id, key)
                conn.execute("UPDATE views SET body = ? WHERE id = ?", (json.dumps(new), view_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._views[view_id] = new
            return new

    def delete_view(self, view_id: str) -> bool:
        """Drop a dataset and its rows; False when it did not exist."""
        with self._writing():
            if view_id not in self._views:
                return False
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(f"DROP TABLE IF EXISTS {table_name(view_id)}")
                conn.execute("DELETE FROM views WHERE id = ?", (view_id,))
                blob_id = self._views[view_id].get("blobId")
                if blob_id:  # a file dataset's file goes with it (attachments may be shared: kept)
                    conn.execute("DELETE FROM blobs WHERE id = ?", (blob_id,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            del self._views[view_id]
            return True

    # -- file blobs (non-data datasets, attachments) ----------------------------------------------
    def put_blob(self, blob_id: str, *, filename: str, mime: str, data: bytes) -> None:
        """Store (or replace) one file."""
        with self._writing():
            self._conn().execute("INSERT INTO blobs (id, filename, mime, data) VALUES (?, ?, ?, ?) ON CONFLICT(id) "
                                 "DO UPDATE SET filename = excluded.filename, mime = excluded.mime, "
                                 "data = excluded.data", (blob_id, filename, mime, data))

    def delete_blob(self, blob_id: str) -> None:
        """Forget one file (a file dataset's previous content after a replace)."""
        with self._writing():
            self._conn().execute("DELETE FROM blobs WHERE id = ?", (blob_id,))

    def blob(self, blob_id: str) -> tuple[str, str, bytes] | None:
        """``(filename, mime, data)`` of a stored file."""
        row = self._conn().execute("SELECT filename, mime, data FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        return (str(row[0]), str(row[1]), bytes(row[2])) if row else None

    # -- rows ----------------------------------------------------------------------------------------
    def query(self, compiled: Compiled, view_id: str) -> list[tuple[Any, ...]]:
        """Run a compiled SoQL query (the SQL names the dataset's table)."""
        return self._conn().execute(compiled.sql, compiled.params).fetchall()

    def query_json(self, compiled: Compiled, *, offset: int = 0,
                   resume: Callable[[int], Compiled] | None = None) -> list[str]:
        """Run the JSON-text form of a compiled query: one finished JSON object per row.

        Paging (``get_all``) asks for the same query at growing offsets, and ``OFFSET n`` makes SQLite
        step over n rows each time. For a ``keyset`` query the store remembers where each page ended
        (its end offset and last ``_id``); when the next request starts exactly there and no write
        happened since, ``resume(last_id)`` gives the same query as ``_id > last_id`` without offset:
        the same rows, found through the primary key.
        """
        assert compiled.json_sql is not None
        conn = self._conn()
        version = self._version  # odd while a write is in progress (a seqlock: see _writing)
        key = (compiled.json_sql, tuple(compiled.params[:-2])) if compiled.keyset else None
        run = compiled
        if key is not None and resume is not None and offset and version % 2 == 0:
            with self._cursor_lock:
                hit = self._cursors.get(key)
            if hit is not None and hit[0] == version and hit[1] == offset:
                run = resume(hit[2])
        assert run.json_sql is not None
        rows = conn.execute(run.json_sql, run.params).fetchall()
        if self._version != version or version % 2:
            if run is not compiled:  # a write overlapped: the remembered position may be stale
                rows = conn.execute(compiled.json_sql, compiled.params).fetchall()
        elif key is not None and rows:
            with self._cursor_lock:
                self._cursors.pop(key, None)
                self._cursors[key] = (version, offset + len(rows), rows[-1][1])
                while len(self._cursors) > _MAX_CURSORS:
                    self._cursors.pop(next(iter(self._cursors)))
        return [row[0] for row in rows]

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the write lock; the version is odd for as long as rows may change (readers check it)."""
        with self._write_lock:
            self._version += 1
            try:
                yield
            finally:
                self._version += 1
                if self._checkpointer is None:
                    self._checkpointer = _Checkpointer(self.path, self.stopping)
                self._checkpointer.poke()

    def row_count(self, view_id: str) -> int:
        return int(self._conn().execute(f"SELECT COUNT(*) FROM {table_name(view_id)}").fetchone()[0])

    def find_row(self, view: dict[str, Any], row_id: str) -> int | None:
        """Internal id of the row whose row identifier (or ``:id``) is ``row_id``."""
        conn = self._conn()
        table = table_name(view["id"])
        key = row_identifier_field(view)
        if key:
            try:
                value = encoder(fields_of(view)[key])(row_id)
            except ValueProblem:
                value = None
            if value is not None:
                hit = conn.execute(f"SELECT _id FROM {table} WHERE {sql_column(key)} = ?", (value,)).fetchone()
                if hit:
                    return int(hit[0])
        internal = parse_row_id(row_id)
        if internal is not None and conn.execute(f"SELECT 1 FROM {table} WHERE _id = ?", (internal,)).fetchone():
            return internal
        return None

    def delete_row(self, view: dict[str, Any], row_id: str) -> int | None:
        """Delete one row by row identifier or ``:id``; its internal id, or None when missing."""
        with self._writing():
            if view["id"] not in self._views:
                raise StoreError(404, "dataset.missing", "Not found", {"id": view["id"]})
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                internal = self.find_row(view, row_id)
                if internal is not None:
                    conn.execute(f"DELETE FROM {table_name(view['id'])} WHERE _id = ?", (internal,))
                    self._touch(conn, view["id"])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            if internal is not None:
                self._views[view["id"]] = self._pending_view
            return internal

    def _touch(self, conn: sqlite3.Connection, view_id: str) -> None:
        view = copy.copy(self._views[view_id])
        view["rowsUpdatedAt"] = int(time.time())
        conn.execute("UPDATE views SET body = ? WHERE id = ?", (json.dumps(view), view_id))
        self._pending_view = view

    def write_rows(self, view: dict[str, Any], rows: Sequence[Any], *, replace: bool = False) -> UpsertReport:
        """Upsert (or replace with) ``rows``; structural problems raise :class:`StoreError` before any change."""
        plan = _plan(view, rows)
        with self._writing():
            if view["id"] not in self._views:  # deleted while this batch was being read
                raise StoreError(404, "dataset.missing", "Not found", {"id": view["id"]})
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                report = _apply(conn, view, plan, replace=replace)
                self._touch(conn, view["id"])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._views[view["id"]] = self._pending_view
            return report


class _Checkpointer:
    """Copies committed WAL pages back into the database file on its own thread.

    SQLite's automatic checkpoint runs inside the COMMIT of whichever write crosses the threshold; for
    scattered updates it is most of the write's cost (5,000 updated rows of a 1M-row table: ~70 ms
    of ~100 ms commit). Passive checkpoints block neither readers nor writers.
    """

    def __init__(self, path: Path, stop: threading.Event | None = None) -> None:
        self._path = path
        self._stop_event = stop or threading.Event()  # set: a running checkpoint is interrupted
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="kcdata-portal-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Something was committed: checkpoint soon (pokes during a checkpoint coalesce into one more)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=60)
        budget.install(conn, self._stop_event)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                with contextlib.suppress(sqlite3.Error):  # busy or locked: the next poke retries
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()
