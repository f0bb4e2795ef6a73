"""What the policy rules read besides the inventory: Table Schemas, data files, scores, validation results.

Scores come from ``kcdata.score`` and validation results from ``Program.validation``; a dataset never
validated makes the rules that need it pass over it, never crash.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kcdata.errors import InputError
from kcdata.inventory.model import Dataset, Inventory, is_url
from kcdata.policy.model import ScoreInfo, ValidationInfo
from kcdata.program import Program
from kcdata.score.engine import ScoredDataset, score_inventory
from kcdata.score.inputs import last_validations
from kcdata.score.method import Method, load_method
from kcdata.tableschema import read_table_schema as read_schema_file

log = logging.getLogger(__name__)


def file_suffix(ref: str) -> str:
    """Lower-case suffix without the dot, for a path or a URL (``data/x.CSV`` → ``csv``)."""
    path = urlparse(ref).path if is_url(ref) else ref
    return Path(path).suffix.lower().lstrip(".")


def local_path(root: Path, ref: str | None) -> Path | None:
    """The local file an inventory ``data``/``schema`` reference points at, if it is local and exists."""
    if not ref or is_url(ref):
        return None
    path = (Path(root) / ref).resolve()
    return path if path.is_file() else None


def read_table_schema(root: Path, ref: str | None, cache: dict[str, Any]) -> Mapping[str, Any] | None:
    """A Frictionless Table Schema (JSON or YAML) as a mapping; ``None`` when absent or unreadable."""
    path = local_path(root, ref)
    if path is None:
        return None
    key = f"schema:{path}"
    if key not in cache:
        try:
            cache[key] = read_schema_file(path, source=ref).descriptor
        except InputError as exc:
            log.info("cannot read schema %s: %s", path, exc.message)
            cache[key] = None
    value = cache[key]
    return value if isinstance(value, Mapping) else None


def schema_fields(schema: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    fields = schema.get("fields") if schema else None
    return [f for f in fields if isinstance(f, Mapping)] if isinstance(fields, list) else []


def primary_key(schema: Mapping[str, Any] | None) -> list[str]:
    pk = schema.get("primaryKey") if schema else None
    if isinstance(pk, str):
        return [pk]
    if isinstance(pk, list):
        return [str(p) for p in pk]
    return []


def key_duplicates(path: Path, columns: list[str]) -> tuple[int, int, int] | None:
    """(rows, duplicate keys, empty keys) of ``columns`` in a CSV file; ``None`` if a column is missing."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader, None) or []
        try:
            idx = [header.index(c) for c in columns]
        except ValueError:
            return None
        seen: set[tuple[str, ...]] = set()
        rows = dups = empty = 0
        for row in reader:
            if not row:
                continue
            rows += 1
            key = tuple(row[i] if i < len(row) else "" for i in idx)
            if any(not k.strip() for k in key):
                empty += 1
                continue
            if key in seen:
                dups += 1
            else:
                seen.add(key)
    return rows, dups, empty


def _scored(sd: ScoredDataset) -> ScoreInfo:
    return ScoreInfo(rank=sd.rank, score=sd.score, band=None if sd.band is None else str(sd.band),
                     excluded_by=tuple(str(x) for x in sd.excluded_by or ()))


def load_scores(*, program: Program | None = None, root: Path | None = None,
                inventory: Inventory | None = None) -> tuple[Method, dict[str, ScoreInfo]]:
    """(method, scores by dataset id): the ranking ``kcdata score`` shows (cached validations included).

    Configuration errors of the scoring method propagate (exit 3). ``inventory`` replaces the program's
    own (the site passes the one it already loaded).
    """
    program = Program.of(program, root=root)
    inventory = program.inventory if inventory is None else inventory
    method = load_method(settings=program.settings)
    validations = last_validations(program=program, datasets=inventory.datasets)
    scored = score_inventory(inventory=inventory, method=method, validations=validations)
    return method, {str(s.id): _scored(s) for s in scored}


def validation_lookup(program: Program) -> Callable[[Dataset], ValidationInfo | None]:
    """A function giving the last validation result of a dataset (``Program.validation``)."""

    def lookup(dataset: Dataset) -> ValidationInfo | None:
        report = program.validation(dataset)
        if report is None:
            return None
        return ValidationInfo(valid=bool(report.valid), error_count=int(report.error_count or 0))

    return lookup


def data_path(root: Path, ds: Dataset) -> Path | None:
    return local_path(root, ds.data)
