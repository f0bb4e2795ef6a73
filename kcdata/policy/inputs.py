"""What the policy rules read besides the inventory: Table Schemas, data files, scores, validation results.

Scores and validation results come from other stages (``kcdata.score``, ``kcdata.validate``); they are
optional inputs, so a missing stage makes the rules that need it *skipped*, never a crash.
"""

from __future__ import annotations

import csv
import importlib
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from kcdata.inventory.model import Dataset, Inventory
from kcdata.policy.model import ScoreInfo, ValidationInfo

log = logging.getLogger(__name__)


def is_url(ref: str) -> bool:
    return urlparse(ref).scheme in ("http", "https", "ftp", "s3")


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
            text = path.read_text(encoding="utf-8")
            value = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
            cache[key] = value if isinstance(value, Mapping) else None
        except (OSError, ValueError, yaml.YAMLError) as exc:
            log.info("cannot read schema %s: %s", path, exc)
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


def _scored(obj: Any) -> ScoreInfo:
    def get(name: str) -> Any:
        return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

    excluded = get("excluded_by") or ()
    return ScoreInfo(rank=get("rank"), score=get("score"), band=None if get("band") is None else str(get("band")),
                     excluded_by=tuple(str(x) for x in excluded))


def load_scores(*, root: Path, inventory: Inventory) -> tuple[Any, dict[str, ScoreInfo] | None]:
    """(method, scores by dataset id) from ``kcdata.score``, or ``(None, None)`` when scoring is unavailable.

    Configuration errors of the scoring stage propagate (exit 3): a broken method is not "unavailable".
    """
    try:
        score = importlib.import_module("kcdata.score")
    except ImportError:
        return None, None
    load_method = getattr(score, "load_method", None)
    score_inventory = getattr(score, "score_inventory", None)
    if load_method is None or score_inventory is None:
        return None, None
    method = load_method(root=root)
    scored = score_inventory(inventory=inventory, method=method)
    return method, {str(_get_id(s)): _scored(s) for s in scored}


def _get_id(obj: Any) -> Any:
    return obj.get("id") if isinstance(obj, Mapping) else obj.id


def validation_lookup(*, root: Path) -> Callable[[Dataset], ValidationInfo | None] | None:
    """A function giving the last validation result of a dataset, or ``None`` if validation is unavailable."""
    try:
        validate = importlib.import_module("kcdata.validate")
    except ImportError:
        return None
    last_result = getattr(validate, "last_result", None)
    if last_result is None:
        return None

    def lookup(dataset: Dataset) -> ValidationInfo | None:
        report = last_result(root=root, dataset=dataset)
        if report is None:
            return None
        get = report.get if isinstance(report, Mapping) else lambda k: getattr(report, k, None)
        return ValidationInfo(valid=bool(get("valid")), error_count=int(get("error_count") or 0))

    return lookup


def data_path(root: Path, ds: Dataset) -> Path | None:
    return local_path(root, ds.data)
