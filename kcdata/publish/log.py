"""The publish log: one JSON line per apply in ``<root>/.kcdata/publish-log.jsonl``.

Each record: ``when`` (ISO 8601 UTC), ``who`` (``$GITHUB_ACTOR`` in CI, else ``$USER``), ``ci``
(bool), ``commit`` (git HEAD of the root, or null), ``portal`` (domain), ``duration_s``, ``result``
(ok | refused | failed | partial | noop) and ``datasets[]`` of ``{id, action, portal_id, rows,
result, reason, duration_s, write_requests}``. No credential is ever part of a record.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kcdata.config import STATE_DIR
from kcdata.fileio import read_json_lines

LOG_NAME = "publish-log.jsonl"


def log_path(root: Path) -> Path:
    return Path(root) / STATE_DIR / LOG_NAME


def who(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTOR"):
        return f"{env['GITHUB_ACTOR']} (ci)"
    try:
        import getpass

        return env.get("USER") or getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10,
                             check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def append(root: Path, record: Mapping[str, Any]) -> Path:
    """Append one record (a single ``write`` of one line, so concurrent appends do not interleave)."""
    path = log_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
    return path


def make_record(*, root: Path, portal: str, started: dt.datetime, duration_s: float, result: str,
                datasets: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"when": started.isoformat(timespec="seconds"), "who": who(), "ci": bool(os.environ.get("CI")),
            "commit": git_commit(root), "portal": portal, "duration_s": round(duration_s, 3), "result": result,
            "datasets": list(datasets)}


def read(root: Path) -> list[dict[str, Any]]:
    """All records, oldest first. A corrupt line is an :class:`InputError` naming it."""
    return read_json_lines(log_path(root))
