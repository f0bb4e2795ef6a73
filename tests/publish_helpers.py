"""Helpers for the publish tests: a small self-contained program (inventory, schema, CSV)."""

from __future__ import annotations

import csv
import itertools
import json
import os
from pathlib import Path
from typing import Any

FIELDS = [
    {"name": "break_id", "type": "integer", "description": "Work order number of the break."},
    {"name": "reported", "type": "date", "description": "Day the break was reported."},
    {"name": "repaired_at", "type": "datetime"},
    {"name": "cost", "type": "number", "description": "Repair cost in dollars."},
    {"name": "emergency", "type": "boolean"},
    {"name": "location", "type": "geopoint"},
    {"name": "notes", "type": "string", "title": "Notes"},
]
_counter = itertools.count(1)


def unique_id(stem: str) -> str:
    return f"{stem}-{os.getpid()}-{next(_counter)}"


def rows(n: int, *, start: int = 1) -> list[list[str]]:
    out = []
    for i in range(start, start + n):
        out.append([str(i), f"2024-0{1 + i % 9}-{10 + i % 18}", f"2024-03-{10 + i % 18}T0{i % 10}:15:00",
                    f"{i * 12.5:.2f}", "true" if i % 3 == 0 else "false", f"-94.{5000 + i}, 39.{1000 + i}",
                    "" if i % 4 == 0 else f"main break #{i}, \"quoted\""])
    return out


def write_csv(path: Path, data: list[list[str]], header: list[str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header or [f["name"] for f in FIELDS])
        w.writerows(data)


def entry(ds_id: str, *, status: str = "approved", description: str = "Every reported water main break.",
          extra: str = "") -> str:
    return f"""  - id: {ds_id}
    title: Water Main Breaks {ds_id}
    description: {description}
    keywords: [water, infrastructure]
    theme: Infrastructure
    contact: {{name: KC Water Asset Management, email: water-data@example.org}}
    access_level: public
    classification: public
    contains_pii: false
    rights: null
    license: https://creativecommons.org/publicdomain/zero/1.0/
    accrual_periodicity: R/P1D
    source_system: Maximo
    data: data/{ds_id}.csv
    schema: schemas/{ds_id}.schema.json
    row_identifier: break_id
    value: high
    requests: 3
    status: {status}
    portal_id: null
    history: {_history(status)}
{extra}"""


def _history(status: str) -> str:
    """An approved entry carries its recorded approval (the publish gate checks it)."""
    if status != "approved":
        return "[]"
    return "[{who: Committee, when: '2026-10-20T12:00:00Z', from: in_review, to: approved, note: ok}]"


def make_program(root: Path, datasets: dict[str, dict[str, Any]], *, portal_domain: str = "data.kcmo.org",
                 publish: dict[str, Any] | None = None) -> Path:
    """``datasets``: id → {n: rows, status: ..., fields: [...]}; writes inventory, schemas, data, kcdata.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for ds_id, spec in datasets.items():
        fields = spec.get("fields", FIELDS)
        (root / "schemas").mkdir(exist_ok=True)
        (root / "schemas" / f"{ds_id}.schema.json").write_text(
            json.dumps({"fields": fields, "primaryKey": ["break_id"]}, indent=2), encoding="utf-8")
        write_csv(root / "data" / f"{ds_id}.csv", spec.get("rows", rows(spec.get("n", 25))),
                  [f["name"] for f in fields])
        entries.append(entry(ds_id, status=spec.get("status", "approved")))
    (root / "inventory").mkdir(exist_ok=True)
    (root / "inventory" / "water.yaml").write_text(
        "department:\n  id: water\n  name: KC Water\n  liaison: {name: Water Liaison, email: water@example.org}\n\n"
        "datasets:\n" + "".join(entries), encoding="utf-8")
    settings = {"program": {"city": "Kansas City, Missouri", "portal_domain": portal_domain},
                "publish": publish or {"chunk_size": 7, "retry": {"attempts": 8, "base_delay": 0.01,
                                                                   "max_delay": 0.05}}}
    (root / "kcdata.yaml").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return root


def portal_env(portal: Any, **over: str) -> dict[str, str]:
    env = {"KCDATA_PORTAL_URL": portal.url, "KCDATA_PORTAL_USERNAME": portal.username,
           "KCDATA_PORTAL_PASSWORD": portal.password, "KCDATA_APP_TOKEN": "", "CI": ""}
    env.update(over)
    return env
