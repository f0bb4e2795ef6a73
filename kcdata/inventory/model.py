"""The inventory's data model: frozen dataclasses and enums for closed sets.

Field names follow the inventory format contract (``shared/reference/inventory-format.md``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from kcdata.errors import NotFoundError

URL_SCHEMES = ("http", "https", "ftp", "s3")


def is_url(ref: str) -> bool:
    """Whether an inventory ``data``/``schema`` reference is a URL rather than a path under the root."""
    scheme, sep, _rest = ref.partition("://")
    return bool(sep) and scheme.lower() in URL_SCHEMES


class AccessLevel(StrEnum):
    PUBLIC = "public"
    RESTRICTED_PUBLIC = "restricted public"
    NON_PUBLIC = "non-public"


class Classification(StrEnum):
    PUBLIC = "public"
    SENSITIVE = "sensitive"
    PROTECTED = "protected"


class Status(StrEnum):
    INVENTORIED = "inventoried"
    PROPOSED = "proposed"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PUBLISHED = "published"
    WITHHELD = "withheld"
    RETIRED = "retired"


class Value(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# Statuses from which the release metadata is required (the format page: in_review and later).
RELEASE_FIELDS = ("license", "keywords", "theme", "accrual_periodicity", "data", "schema", "row_identifier")


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    name: str
    email: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryRecord:
    """One review transition, appended by kcdata."""

    by: str
    at: str  # ISO 8601 timestamp as written in the file
    from_status: str | None
    to_status: str
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRef:
    """Where an entry lives: the file (relative to the root) and the line of its ``- id:``."""

    file: str
    line: int
    index: int  # position of the entry in the file's ``datasets`` list


@dataclass(frozen=True, slots=True, kw_only=True)
class Dataset:
    id: str
    title: str
    description: str
    contact: Contact
    access_level: AccessLevel
    status: Status
    department: str
    keywords: tuple[str, ...] = ()
    theme: str | None = None
    classification: Classification = Classification.PUBLIC
    contains_pii: bool | None = None
    rights: str | None = None
    license: str | None = None
    accrual_periodicity: str | None = None
    source_system: str | None = None
    methodology: str | None = None
    data: str | None = None
    schema: str | None = None
    row_identifier: str | None = None
    kcstat_goals: tuple[str, ...] = ()
    value: Value | None = None
    requests: int | None = None
    target_release: dt.date | None = None
    portal_id: str | None = None
    last_reviewed: dt.date | None = None
    history: tuple[HistoryRecord, ...] = ()
    monitor: Mapping[str, Any] | None = None  # what `kcdata monitor` watches (checked by kcdata.monitor.config)
    extra: Mapping[str, Any] = field(default_factory=dict)  # optional fields beyond the contract
    source: SourceRef | None = None

    @property
    def is_public_eligible(self) -> bool:
        """Public access and not protected: a candidate for release."""
        return self.access_level is AccessLevel.PUBLIC and self.classification is not Classification.PROTECTED


@dataclass(frozen=True, slots=True, kw_only=True)
class Department:
    id: str
    name: str
    liaison: Contact | None
    path: str  # file, relative to the root


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """The whole city's inventory as loaded from ``inventory/*.yaml``."""

    root: Path
    departments: tuple[Department, ...]
    datasets: tuple[Dataset, ...]

    def get(self, dataset_id: str) -> Dataset:
        """The dataset with this id, or :class:`NotFoundError` with a did-you-mean suggestion."""
        for ds in self.datasets:
            if ds.id == dataset_id:
                return ds
        ids = [d.id for d in self.datasets]
        close = difflib.get_close_matches(dataset_id, ids, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else \
            "run `kcdata inventory list` to see the dataset ids"
        raise NotFoundError(f"unknown dataset id '{dataset_id}'", hint=hint)

    def department(self, department_id: str) -> Department:
        for dep in self.departments:
            if dep.id == department_id:
                return dep
        close = difflib.get_close_matches(department_id, [d.id for d in self.departments], n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else None
        raise NotFoundError(f"unknown department '{department_id}'", hint=hint)
