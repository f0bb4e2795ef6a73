"""The validation cache: ``<root>/.kcdata/validation/``, keyed by the data and schema file hashes.

Hashing a million-row file costs a read, so a small side index remembers each file's
(size, mtime_ns) → sha256; an unchanged file is not read again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kcdata.config import STATE_DIR
from kcdata.fileio import atomic_write_text
from kcdata.validate.model import TableReport, ValidationError

CACHE_VERSION = 1
log = logging.getLogger(__name__)


def cache_dir(root: Path) -> Path:
    return root / STATE_DIR / "validation"


def file_sha256(path: Path, *, root: Path | None = None) -> str:
    """sha256 of a file, remembered by (size, mtime) under the cache so unchanged files are not re-read."""
    st = path.stat()
    stamp = f"{st.st_size}:{st.st_mtime_ns}"
    index_path = cache_dir(root) / "hashes.json" if root is not None else None
    index: dict[str, Any] = {}
    if index_path is not None and index_path.is_file():
        try:
            index = json.loads(index_path.read_text())
        except ValueError:
            index = {}
        hit = index.get(str(path.resolve()))
        if isinstance(hit, dict) and hit.get("stamp") == stamp:
            return str(hit["sha256"])
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    if index_path is not None:
        index[str(path.resolve())] = {"stamp": stamp, "sha256": digest}
        try:
            index_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(index_path, json.dumps(index, indent=1, sort_keys=True))
        except OSError as exc:  # a cache that cannot be written is a warning, not a verdict
            _unwritable(index_path.parent, exc)
    return digest


_warned: set[str] = set()


def _unwritable(folder: Path, exc: OSError) -> None:
    if str(folder) in _warned:
        return
    _warned.add(str(folder))
    log.warning("validation cache not written (%s: %s); results are not remembered", folder, exc.strerror or exc)


def _key(data_sha: str, schema_sha: str, max_errors: int) -> str:
    return hashlib.sha256(f"{CACHE_VERSION}:{data_sha}:{schema_sha}:{max_errors}".encode()).hexdigest()[:32]


def load(root: Path, *, data_sha: str, schema_sha: str, max_errors: int | None = None) -> TableReport | None:
    """The stored report for these exact files (any max_errors when None), or None."""
    d = cache_dir(root)
    if max_errors is not None:
        candidates = [d / f"{_key(data_sha, schema_sha, max_errors)}.json"]
    else:
        latest = d / f"latest-{data_sha[:16]}-{schema_sha[:16]}.json"
        candidates = [latest]
    for path in candidates:
        if path.is_file():
            try:
                raw = json.loads(path.read_text())
                raw["errors"] = tuple(ValidationError(**e) for e in raw["errors"])
                raw["warnings"] = tuple(raw.get("warnings", ()))
                raw["cached"] = True
                return TableReport(**raw)
            except (ValueError, TypeError, KeyError):
                return None
    return None


def store(root: Path, report: TableReport, *, max_errors: int) -> None:
    d = cache_dir(root)
    raw = asdict(report)
    raw["error_counts"] = dict(report.error_counts)
    text = json.dumps(raw, sort_keys=True)
    try:
        d.mkdir(parents=True, exist_ok=True)
        atomic_write_text(d / f"{_key(report.data_sha256, report.schema_sha256, max_errors)}.json", text)
        atomic_write_text(d / f"latest-{report.data_sha256[:16]}-{report.schema_sha256[:16]}.json", text)
    except OSError as exc:  # a cache that cannot be written is a warning, not a verdict
        _unwritable(d, exc)
