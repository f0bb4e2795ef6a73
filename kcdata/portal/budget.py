"""A time budget for the SQLite work of one request (SQLite's progress handler).

A read request runs inside :func:`limit`; every per-thread connection has :func:`install`'s progress
handler, which SQLite calls every few thousand virtual-machine steps: once the thread's deadline has
passed (or its server is stopping) it answers non-zero and SQLite abandons the statement with
``sqlite3.OperationalError: interrupted``, which the server answers as a 503 ``query.execution.timeout``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator

_local = threading.local()
# SQLite virtual-machine instructions between checks (tens of microseconds of plain work; a row that
# calls a Python function costs more, so the check must not be much rarer than this).
_STEPS = 2_000


def install(conn: sqlite3.Connection, stop: threading.Event) -> None:
    """Give ``conn`` the budget check (per-thread connections: the deadline is the thread's); once
    ``stop`` is set (the server is stopping) every statement is interrupted at its next check."""

    def expired() -> int:
        if stop.is_set():
            return 1
        deadline = getattr(_local, "deadline", None)
        return 1 if deadline is not None and time.monotonic() > deadline else 0

    conn.set_progress_handler(expired, _STEPS)


@contextlib.contextmanager
def limit(seconds: float | None) -> Iterator[None]:
    """Run the block with a deadline ``seconds`` from now on this thread's SQLite work (None: none)."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = None if seconds is None else time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


def expired(exc: BaseException) -> bool:
    """True when ``exc`` is SQLite abandoning a statement because its budget ran out."""
    return isinstance(exc, sqlite3.OperationalError) and "interrupted" in str(exc)
