"""The monitor history: one JSON line per run in ``<root>/.kcdata/monitor-history.jsonl``.

Each record: ``when``, ``portal`` and ``datasets`` (id → what was observed and the alert codes). The next
run compares with the newest record for the same portal, so shrinkage and stalls show; ``kcdata monitor
history`` prints the trend. Appends are single writes of one line, so concurrent runs do not interleave.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kcdata.config import STATE_DIR
from kcdata.errors import InputError
from kcdata.fileio import read_json_lines
from kcdata.monitor.model import MonitorReport, Observation

HISTORY_NAME = "monitor-history.jsonl"


def history_path(root: Path) -> Path:
    return Path(root) / STATE_DIR / HISTORY_NAME


def record_of(report: MonitorReport) -> dict[str, Any]:
    datasets = {}
    for d in report.datasets:
        o = d.observed
        datasets[d.id] = {"portal_id": d.portal_id, "count": o.count, "count_since": o.count_since,
                          "groups": dict(o.groups) if o.groups is not None else None, "newest": o.newest,
                          "rows_updated_at": o.rows_updated_at, "alerts": [c.code for c in d.alerts]}
    return {"when": report.checked_at.isoformat(timespec="seconds"), "portal": report.portal, "datasets": datasets}


def append(root: Path, report: MonitorReport) -> Path:
    path = history_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record_of(report), ensure_ascii=False, sort_keys=True) + "\n")
    except OSError as exc:
        raise InputError(f"{path}: cannot record the monitor run ({exc.strerror})",
                         hint="Make the program's .kcdata/ folder writable, or pass --no-record.") from exc
    return path


def read(root: Path) -> list[dict[str, Any]]:
    """Every record, oldest first; a damaged line is an :class:`InputError` naming it."""
    return [dict(r) for r in read_json_lines(history_path(root))
            if isinstance(r, Mapping) and isinstance(r.get("datasets"), Mapping)]


def last_observations(root: Path, *, portal: str) -> dict[str, Observation]:
    """Per dataset, what the newest earlier run against ``portal`` observed."""
    out: dict[str, Observation] = {}
    for record in read(root):
        if record.get("portal") != portal:
            continue
        for ds_id, seen in record["datasets"].items():
            if not isinstance(seen, Mapping):
                continue
            groups = seen.get("groups")
            out[str(ds_id)] = Observation(
                count=seen.get("count") if isinstance(seen.get("count"), int) else None,
                count_since=seen.get("count_since") if isinstance(seen.get("count_since"), str) else None,
                groups={str(k): int(v) for k, v in groups.items() if isinstance(v, int)}
                if isinstance(groups, Mapping) else None,
                newest=seen.get("newest") if isinstance(seen.get("newest"), str) else None,
                rows_updated_at=seen.get("rows_updated_at") if isinstance(seen.get("rows_updated_at"), str) else None)
    return out


def trend(root: Path, dataset_id: str, *, portal: str | None = None, last: int = 20) -> list[dict[str, Any]]:
    """The dataset's observations run by run (newest last): when, count, newest date value, alerts."""
    rows = []
    for record in read(root):
        if portal is not None and record.get("portal") != portal:
            continue
        seen = record["datasets"].get(dataset_id)
        if isinstance(seen, Mapping):
            rows.append({"when": record.get("when"), "portal": record.get("portal"), "count": seen.get("count"),
                         "newest": seen.get("newest"), "groups": seen.get("groups"),
                         "alerts": list(seen.get("alerts") or [])})
    return rows[-last:] if last else rows
