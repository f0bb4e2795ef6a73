"""Gathering what the approve gate needs from disk: validation on the current file, schema, row ids."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

from kcdata.inventory.model import Dataset
from kcdata.review.machine import ReleaseFacts

log = logging.getLogger(__name__)


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def read_schema(root: Path, dataset: Dataset) -> tuple[dict[str, Any] | None, str]:
    """The dataset's Table Schema as a dict, or ``(None, problem)``."""
    if not dataset.schema:
        return None, "no schema declared"
    if _is_url(dataset.schema):
        return None, f"schema {dataset.schema} is a URL: keep the schema in schemas/ so it can be checked"
    path = Path(root) / dataset.schema
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None, f"schema file {dataset.schema} not found"
    try:
        if path.suffix.lower() in {".yaml", ".yml"}:
            import yaml

            schema = yaml.safe_load(text)
        else:
            schema = json.loads(text)
    except Exception as exc:  # any parse error is a gate failure, not a crash
        return None, f"schema file {dataset.schema} cannot be read: {exc}"
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        return None, f"schema file {dataset.schema} has no `fields` list"
    return schema, ""


def check_unique(path: Path, column: str) -> tuple[bool | None, str]:
    """Whether ``column`` of the CSV at ``path`` is present, non-blank and unique on every row."""
    seen: set[str] = set()
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or column not in header:
                return False, f"column '{column}' is not in the data file's header"
            i = header.index(column)
            for rowno, row in enumerate(reader, start=2):
                value = row[i].strip() if i < len(row) else ""
                if not value:
                    return False, f"'{column}' is blank on row {rowno}"
                if value in seen:
                    return False, f"'{column}' value {value!r} repeats (row {rowno})"
                seen.add(value)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return None, f"data file cannot be read to check '{column}': {exc}"
    return True, f"'{column}' unique over {len(seen):,} rows"


def _validation(root: Path, dataset: Dataset, run_validation: bool) -> dict[str, Any]:
    try:
        from kcdata.validate import last_result
    except ImportError:
        return {"validation_note": "validation is not available in this build"}
    # last_result only returns a result for the data and schema files exactly as they are now.
    report = last_result(root=root, dataset=dataset)
    if report is None and run_validation:
        report = _run_validation(root, dataset)
    if report is None:
        return {"validation_note": f"no validation of the current data file: run `kcdata validate {dataset.id}`"}
    return {"validation_valid": bool(report.valid), "validation_current": True,
            "validation_errors": int(report.error_count or 0)}


def _run_validation(root: Path, dataset: Dataset) -> Any:
    from kcdata.inventory import load_inventory
    from kcdata.validate import validate_datasets

    if not dataset.schema or not (root / dataset.schema).is_file():
        return None
    run = validate_datasets(inventory=load_inventory(root).inventory, ids=[dataset.id])
    return next((r for r in run.datasets if r.id in (None, dataset.id)), None)


def gather(*, root: Path, dataset: Dataset, run_validation: bool = True) -> ReleaseFacts:
    """Everything the approve gate checks on disk for ``dataset``.

    ``run_validation`` False only reads the cached result (the queue must stay fast).
    """
    root = Path(root)
    data_path = None if not dataset.data or _is_url(dataset.data) else root / dataset.data
    values: dict[str, Any] = {}
    if dataset.data and data_path is None:
        values["validation_note"] = f"data {dataset.data} is a URL: download it and validate the file"
    elif data_path is not None and not data_path.is_file():
        values["validation_note"] = f"data file {dataset.data} not found"
    elif data_path is not None:
        values.update(_validation(root, dataset, run_validation))
    schema, problem = read_schema(root, dataset)
    if schema is None:
        values["schema_problem"] = problem
    else:
        values["schema_fields"] = tuple(str(f.get("name")) for f in schema["fields"] if isinstance(f, dict))
    rid = dataset.row_identifier
    if rid and data_path is not None and data_path.is_file():
        if data_path.suffix.lower() in {".csv", ".tsv", ".txt"}:
            values["row_id_unique"], values["row_id_problem"] = check_unique(data_path, rid)
        elif schema is not None and schema.get("primaryKey") in (rid, [rid]) and values.get("validation_valid") \
                and values.get("validation_current"):
            # Not a CSV: validation enforces the primary key, so a passing run proves uniqueness.
            values["row_id_unique"], values["row_id_problem"] = True, ""
        else:
            values["row_id_problem"] = (f"declare primaryKey '{rid}' in the schema so validation checks "
                                        "uniqueness of this non-CSV file")
    elif rid:
        values["row_id_problem"] = "no local data file to check the row identifier against"
    return ReleaseFacts(**values)
