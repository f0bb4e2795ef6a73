"""Optional inputs from other stages: release priority (score), cached validation results (validate)
and policy findings (transparency).

Each is looked up where present; when a stage is not installed or fails, the site still builds and
says so in a warning. The site never validates data itself: only cached results are shown.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcdata.errors import KcdataError
from kcdata.inventory.model import Inventory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Criterion:
    name: str
    sentence: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Priority:
    """A dataset's release priority as the score stage computed it."""

    rank: int | None
    score: float | None
    band: str | None
    excluded_by: tuple[str, ...] = ()
    override: str | None = None
    criteria: tuple[Criterion, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationStatus:
    valid: bool
    rows: int | None
    error_count: int
    error_counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A program-level problem shown on the program page (lint, load or policy)."""

    source: str  # "inventory" or "policy"
    where: str
    message: str
    code: str
    severity: str = "error"


def _optional_module(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        # Only "this stage is not there" is optional; a broken import inside it is a real bug.
        if exc.name and name.startswith(exc.name):
            return None
        raise


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = [f"{f.name}: {getattr(value, f.name)}" for f in dataclasses.fields(value)
                 if getattr(value, f.name) not in (None, "", ())]
        return "; ".join(parts)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, ""))
    return str(value)


def _criteria(breakdown: Any) -> tuple[Criterion, ...]:
    items: list[tuple[str, Any]]
    if isinstance(breakdown, Mapping):
        items = [(str(k), v) for k, v in breakdown.items()]
    else:
        items = [(str(getattr(b, "criterion", None) or getattr(b, "name", "") or ""), b) for b in breakdown or ()]
    out = []
    for name, item in items:
        sentence = item.get("sentence") if isinstance(item, Mapping) else getattr(item, "sentence", None)
        if sentence:
            out.append(Criterion(name=name, sentence=str(sentence)))
    return tuple(out)


def load_priorities(*, root: Path, inventory: Inventory) -> tuple[dict[str, Priority] | None, list[str]]:
    """Release priority per dataset id, or None (with a warning) when scoring is unavailable."""
    score = _optional_module("kcdata.score")
    if score is None or not hasattr(score, "score_inventory"):
        return None, ["release priority not shown: the score stage (kcdata.score) is not installed"]
    try:
        method = score.load_method(root=root)
        scored = score.score_inventory(inventory=inventory, method=method)
    except KcdataError as exc:
        return None, [f"release priority not shown: {exc.message}"]
    out: dict[str, Priority] = {}
    for sd in scored:
        raw_score = getattr(sd, "score", None)
        out[sd.id] = Priority(
            rank=getattr(sd, "rank", None),
            score=float(raw_score) if raw_score is not None else None,
            band=_text(getattr(sd, "band", None)),
            excluded_by=tuple(str(x) for x in getattr(sd, "excluded_by", ()) or ()),
            override=_text(getattr(sd, "override", None)),
            criteria=_criteria(getattr(sd, "breakdown", ())),
        )
    return out, []


def load_validations(*, root: Path, inventory: Inventory) -> tuple[dict[str, ValidationStatus], list[str]]:
    """The last cached validation result per dataset (never runs a validation)."""
    validate = _optional_module("kcdata.validate")
    if validate is None or not hasattr(validate, "last_result"):
        return {}, ["validation status not shown: the validate stage (kcdata.validate) is not installed"]
    out: dict[str, ValidationStatus] = {}
    warnings: list[str] = []
    for ds in inventory.datasets:
        try:
            report = validate.last_result(root=root, dataset=ds.id)
        except KcdataError as exc:
            warnings.append(f"{ds.id}: cached validation result unreadable: {exc.message}")
            continue
        if report is None:
            continue
        counts = getattr(report, "error_counts", None) or {}
        out[ds.id] = ValidationStatus(valid=bool(report.valid), rows=getattr(report, "rows", None),
                                      error_count=int(getattr(report, "error_count", 0) or 0),
                                      error_counts={str(k): int(v) for k, v in dict(counts).items()})
    return out, warnings
