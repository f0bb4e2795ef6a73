"""Atomic file writes: a temp file in the same folder, fsync, then rename.

A reader never sees a half-written file, and a failure leaves the old file untouched.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kcdata.errors import InputError


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically, keeping the file's permissions when it exists."""
    path = Path(path)
    with not_writable(path):
        _atomic_write(path, data, mode)


def _atomic_write(path: Path, data: bytes, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode(encoding))


def replace_dir_atomically(staging: Path, target: Path) -> None:
    """Swap a fully written ``staging`` folder into place at ``target``.

    The old folder is moved aside first and removed only after the new one is in place, so
    ``target`` is at every moment either the old complete tree or the new complete tree.
    """
    staging, target = Path(staging), Path(target)
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        if old.exists():
            os.replace(old, target)
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on the sidecar file ``path`` (created if missing).

    ``flock`` locks are released by the kernel when the process dies, so a killed command never
    leaves a stale lock behind.
    """
    path = Path(path)
    with not_writable(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def not_writable(path: Path) -> Iterator[None]:
    """Turn a failed write under ``path`` (permissions, a read-only disk, a file where a folder
    should be) into the exit-3 message "folder not writable: …" naming the folder."""
    try:
        yield
    except (PermissionError, NotADirectoryError, FileExistsError, IsADirectoryError) as exc:
        raise _unwritable(Path(path), exc) from None
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.ENOTDIR):
            raise _unwritable(Path(path), exc) from None
        raise


def _unwritable(path: Path, exc: OSError) -> InputError:
    folder = path.parent
    why = exc.strerror or type(exc).__name__
    if isinstance(exc, (NotADirectoryError, FileExistsError)) or exc.errno == errno.ENOTDIR:
        why = f"{exc.filename or folder} is a file, not a folder"
    return InputError(f"folder not writable: {folder} (cannot write {path.name}: {why})", code="not-writable",
                      hint="check the folder's permissions (or choose another output path)",
                      details={"path": str(path)})


def read_json_lines(path: Path) -> list[Any]:
    """Every JSON value of a JSON-lines file, in order (blank lines skipped; a missing file is none).

    A damaged line is an :class:`InputError` naming ``path:line``: the logs kcdata appends to (publish log,
    monitor history) are read by people's commands, which must say where to mend them."""
    import json

    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as exc:
            raise InputError(f"{path}:{n}: not a JSON line ({exc})", hint="Remove or fix the damaged line.") from exc
    return out
