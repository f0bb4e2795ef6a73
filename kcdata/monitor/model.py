"""The monitor's results: one :class:`Check` per aspect of a published dataset, alerts among them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CheckStatus(StrEnum):
    OK = "ok"
    ALERT = "alert"
    SKIPPED = "skipped"  # nothing to compare with (no frequency declared, no local file, first run)


class CheckName(StrEnum):
    FRESHNESS = "freshness"  # rowsUpdatedAt against the update frequency
    CONTENT = "content"  # the newest value of monitor.date_field against the update frequency
    COUNT = "count"  # portal rows against the source file and the last recorded count
    GROUPS = "groups"  # per-group counts (monitor.group_by), the same comparisons
    SCHEMA = "schema"  # portal columns against the Table Schema


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    name: CheckName
    status: CheckStatus
    message: str
    code: str | None = None  # an alert's stable code: overdue, stale-content, shrinkage, count-mismatch, ...
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """What the monitor saw of one dataset, recorded in the history for the next run to compare with."""

    count: int | None = None
    count_since: str | None = None  # when the count first had this value (ISO 8601): a stall shows here
    groups: Mapping[str, int] | None = None
    newest: str | None = None  # newest value of the date field, as the portal gave it
    rows_updated_at: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetMonitor:
    id: str
    portal_id: str | None
    checks: tuple[Check, ...]
    observed: Observation

    @property
    def alerts(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status is CheckStatus.ALERT)


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorReport:
    checked_at: dt.datetime
    portal: str
    datasets: tuple[DatasetMonitor, ...]

    @property
    def alerts(self) -> tuple[tuple[str, Check], ...]:
        return tuple((d.id, c) for d in self.datasets for c in d.alerts)

    @property
    def has_alerts(self) -> bool:
        return any(d.alerts for d in self.datasets)
