"""Gathering what the approve gate needs from disk: validation on the current file, schema, row ids."""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.inventory.model import Dataset
from kcdata.program import Program
from kcdata.review.machine import ReleaseFacts

log = logging.getLogger(__name__)


def read_schema(program: Program, dataset: Dataset) -> tuple[dict[str, Any] | None, str]:
    """The dataset's Table Schema as a dict, or ``(None, problem)`` (the gate reports the problem)."""
    if not dataset.schema:
        return None, "no schema declared"
    try:
        return program.schema(dataset).descriptor, ""
    except InputError as exc:
        return None, exc.message


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


def _validation(program: Program, dataset: Dataset, run_validation: bool) -> dict[str, Any]:
    # Program.validation only returns a result for the data and schema files exactly as they are now.
    report = program.validate(dataset) if run_validation else program.validation(dataset)
    if report is None:
        return {"validation_note": f"no validation of the current data file: run `kcdata validate {dataset.id}`"}
    return {"validation_valid": bool(report.valid), "validation_current": True,
            "validation_errors": int(report.error_count or 0)}


def gather(*, dataset: Dataset, program: Program | None = None, root: Path | None = None,
           run_validation: bool = True) -> ReleaseFacts:
    """Everything the approve gate checks on disk for ``dataset``.

    ``run_validation`` False only reads the cached result (the queue must stay fast).
    """
    program = Program.of(program, root=root)
    data_path = program.local_file(dataset.data)
    values: dict[str, Any] = {}
    if dataset.data and data_path is None:
        values["validation_note"] = f"data {dataset.data} is a URL: download it and validate the file"
    elif data_path is not None and not data_path.is_file():
        values["validation_note"] = f"data file {dataset.data} not found"
    elif data_path is not None:
        values.update(_validation(program, dataset, run_validation))
    schema, problem = read_schema(program, dataset)
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
