"""Owner-only files in the portal's data dir.

The SQLite database holds every private dataset, so it is created ``0600`` (and an existing one is
tightened to it); SQLite gives its ``-wal`` and ``-shm`` files the database file's mode.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_SIDECARS = ("-wal", "-shm", "-journal")


def private_files(db_path: Path, *others: Path) -> None:
    """Create ``db_path`` (and ``others``) as owner-only files if missing; make existing ones 0600."""
    for path in (db_path, *others):
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
    for path in (db_path, *others, *(db_path.with_name(db_path.name + s) for s in _SIDECARS)):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, 0o600)
