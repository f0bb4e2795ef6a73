"""Builders for small program folders used by the score and review tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"


def entry(dataset_id: str, **fields: Any) -> dict[str, Any]:
    """A complete, release-ready public inventory entry; ``fields`` override (None removes a key)."""
    out: dict[str, Any] = {
        "id": dataset_id,
        "title": dataset_id.replace("-", " ").title(),
        "description": f"Test dataset {dataset_id}.",
        "keywords": ["test"],
        "theme": "Infrastructure",
        "contact": {"name": "Liaison", "email": "liaison@example.org"},
        "access_level": "public",
        "classification": "public",
        "contains_pii": False,
        "license": CC0,
        "accrual_periodicity": "R/P1D",
        "data": f"data/{dataset_id}.csv",
        "schema": f"schemas/{dataset_id}.schema.json",
        "row_identifier": "row_id",
        "kcstat_goals": ["infrastructure-accessibility"],
        "value": "high",
        "requests": 10,
        "status": "inventoried",
    }
    for key, value in fields.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def write_files(root: Path, dataset_id: str, *, rows: list[tuple[str, str]] | None = None,
                schema_fields: tuple[str, ...] = ("row_id", "name")) -> None:
    """Data CSV and Table Schema for ``dataset_id`` (rows of ``(row_id, name)``)."""
    rows = rows if rows is not None else [("1", "a"), ("2", "b"), ("3", "c")]
    (root / "data").mkdir(exist_ok=True)
    (root / "schemas").mkdir(exist_ok=True)
    lines = ["row_id,name", *(f"{a},{b}" for a, b in rows)]
    (root / "data" / f"{dataset_id}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fields = [{"name": n, "type": "integer" if n == "row_id" else "string"} for n in schema_fields]
    schema: dict[str, Any] = {"fields": fields}
    if "row_id" in schema_fields:
        schema["primaryKey"] = ["row_id"]
    (root / "schemas" / f"{dataset_id}.schema.json").write_text(json.dumps(schema, indent=2), encoding="utf-8")


def make_program(root: Path, departments: dict[str, list[dict[str, Any]]], *, settings: bool = True,
                 files: bool = True) -> Path:
    """Write ``inventory/<dep>.yaml`` files (and data/schema files for each entry)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "inventory").mkdir(exist_ok=True)
    for dep, entries in departments.items():
        doc = {"department": {"id": dep, "name": dep.title()}, "datasets": entries}
        (root / "inventory" / f"{dep}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        if files:
            for e in entries:
                write_files(root, e["id"])
    if settings:
        shutil.copy(REPO / "kcdata.yaml", root / "kcdata.yaml")
    return root
