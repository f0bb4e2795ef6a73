"""Freshness: is each published dataset updated as often as it promises (Sunlight 22)?

The portal's view JSON carries ``rowsUpdatedAt`` (epoch seconds). A dataset is overdue when
``now > rowsUpdatedAt + period + grace``, where the period comes from ``accrual_periodicity``
(``irregular`` is never overdue) and the grace is a fraction of the period or a fixed duration.

The check is pure over a ``fetch_view`` callable (portal id → view dict, or ``None`` when the portal has
no such view), so it runs the same against the local portal, data.kcmo.org, or recorded views. A
``fetch_view`` that cannot reach the portal raises :class:`~kcdata.errors.PortalError` (exit 4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kcdata.inventory.model import Dataset, Inventory, Status
from kcdata.policy.periodicity import humanize, parse_periodicity

FetchView = Callable[[Dataset], Mapping[str, Any] | None]


class FreshStatus(StrEnum):
    FRESH = "fresh"
    OVERDUE = "overdue"
    IRREGULAR = "irregular"  # declared irregular: never overdue
    NO_PERIODICITY = "no-periodicity"  # accrual_periodicity missing or unparsable: cannot judge
    NEVER_UPDATED = "never-updated"  # the view has no rowsUpdatedAt: no data was ever loaded
    MISSING = "missing"  # the inventory names a portal id the portal does not have


# Statuses that make ``kcdata freshness`` exit 1.
FINDING_STATUSES = frozenset({FreshStatus.OVERDUE, FreshStatus.MISSING, FreshStatus.NEVER_UPDATED})


@dataclass(frozen=True, slots=True, kw_only=True)
class FreshnessEntry:
    id: str
    portal_id: str
    status: FreshStatus
    accrual_periodicity: str | None
    period_seconds: float | None
    rows_updated_at: dt.datetime | None
    due_at: dt.datetime | None
    late_seconds: float | None  # > 0 only when overdue
    late_by: str | None  # human reading of late_seconds ("3d 4h")
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FreshnessReport:
    checked_at: dt.datetime
    grace: str  # "25% of the period" or "P2D"
    datasets: tuple[FreshnessEntry, ...]

    @property
    def overdue(self) -> tuple[FreshnessEntry, ...]:
        return tuple(e for e in self.datasets if e.status is FreshStatus.OVERDUE)

    @property
    def has_findings(self) -> bool:
        return any(e.status in FINDING_STATUSES for e in self.datasets)


def grace_for(period: dt.timedelta, grace: float | dt.timedelta) -> dt.timedelta:
    """The allowance after a period ends: ``grace`` × period, or a fixed duration."""
    return grace if isinstance(grace, dt.timedelta) else period * float(grace)


def describe_grace(grace: float | dt.timedelta) -> str:
    if isinstance(grace, dt.timedelta):
        return f"{humanize(grace)} after each period"
    return f"{float(grace):.0%} of the period"


def _utc(ts: Any) -> dt.datetime | None:
    if isinstance(ts, bool) or ts in (None, ""):
        return None
    try:
        return dt.datetime.fromtimestamp(float(ts), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def assess(ds: Dataset, view: Mapping[str, Any] | None, *, now: dt.datetime,
           grace: float | dt.timedelta) -> FreshnessEntry:
    """Freshness of one published dataset given its portal view (``None``: not on the portal)."""
    assert ds.portal_id is not None
    portal_id = str(view.get("id") or ds.portal_id) if view is not None else ds.portal_id
    base: dict[str, Any] = {"id": ds.id, "portal_id": portal_id, "accrual_periodicity": ds.accrual_periodicity}
    if view is None:
        return FreshnessEntry(**base, status=FreshStatus.MISSING, period_seconds=None, rows_updated_at=None,
                              due_at=None, late_seconds=None, late_by=None,
                              message=f"portal has no view {ds.portal_id}: removed, or the portal_id is wrong")
    updated = _utc(view.get("rowsUpdatedAt"))
    try:
        period = parse_periodicity(ds.accrual_periodicity) if ds.accrual_periodicity else None
    except ValueError:
        return FreshnessEntry(**base, status=FreshStatus.NO_PERIODICITY, period_seconds=None,
                              rows_updated_at=updated, due_at=None, late_seconds=None, late_by=None,
                              message=f"accrual_periodicity {ds.accrual_periodicity!r} is not a repeating duration")
    if not ds.accrual_periodicity:
        return FreshnessEntry(**base, status=FreshStatus.NO_PERIODICITY, period_seconds=None,
                              rows_updated_at=updated, due_at=None, late_seconds=None, late_by=None,
                              message="accrual_periodicity is not set")
    if period is None:
        return FreshnessEntry(**base, status=FreshStatus.IRREGULAR, period_seconds=None, rows_updated_at=updated,
                              due_at=None, late_seconds=None, late_by=None, message="updated irregularly")
    if updated is None:
        return FreshnessEntry(**base, status=FreshStatus.NEVER_UPDATED, period_seconds=period.total_seconds(),
                              rows_updated_at=None, due_at=None, late_seconds=None, late_by=None,
                              message="the portal view has no rowsUpdatedAt: no rows were ever loaded")
    due = updated + period + grace_for(period, grace)
    late = (now - due).total_seconds()
    if late > 0:
        return FreshnessEntry(**base, status=FreshStatus.OVERDUE, period_seconds=period.total_seconds(),
                              rows_updated_at=updated, due_at=due, late_seconds=late,
                              late_by=humanize(dt.timedelta(seconds=late)),
                              message=f"last updated {updated:%Y-%m-%d %H:%M} UTC; due {due:%Y-%m-%d %H:%M} UTC; "
                                      f"{humanize(dt.timedelta(seconds=late))} late")
    return FreshnessEntry(**base, status=FreshStatus.FRESH, period_seconds=period.total_seconds(),
                          rows_updated_at=updated, due_at=due, late_seconds=None, late_by=None,
                          message=f"next update due by {due:%Y-%m-%d %H:%M} UTC")


def published_datasets(inventory: Inventory, only: Iterable[str] | None = None) -> list[Dataset]:
    """Datasets the freshness check covers: status published with a portal id (optionally only some ids)."""
    wanted = set(only) if only else None
    out = [d for d in inventory.datasets if d.status is Status.PUBLISHED and d.portal_id]
    if wanted is not None:
        for missing in wanted - {d.id for d in inventory.datasets}:
            inventory.get(missing)  # raises NotFoundError with a did-you-mean
        out = [d for d in out if d.id in wanted]
    return sorted(out, key=lambda d: d.id)


def check_freshness(*, inventory: Inventory, fetch_view: FetchView, now: dt.datetime | None = None,
                    grace: float | dt.timedelta = 0.25, only: Iterable[str] | None = None) -> FreshnessReport:
    """Compare every published dataset's ``rowsUpdatedAt`` with its declared update frequency.

    ``now`` (timezone-aware; naive is taken as UTC) defaults to the current time; tests pass a time in the
    future instead of faking the portal.
    """
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    entries = [assess(ds, fetch_view(ds), now=now, grace=grace)
               for ds in published_datasets(inventory, only)]
    order = {FreshStatus.OVERDUE: 0, FreshStatus.MISSING: 1, FreshStatus.NEVER_UPDATED: 2}
    entries.sort(key=lambda e: (order.get(e.status, 9), -(e.late_seconds or 0), e.id))
    return FreshnessReport(checked_at=now, grace=describe_grace(grace), datasets=tuple(entries))


@contextmanager
def portal_views(*, url: str | None, username: str | None = None, password: str | None = None,
                 app_token: str | None = None, timeout: float = 30.0, attempts: int = 3,
                 production_domain: str | None = None) -> Iterator[FetchView]:
    """A ``fetch_view`` reading a dataset's view through the publish client (the one sodapy module).

    Identity is the publisher's: on the production portal (``production_domain``, from
    ``program.portal_domain``) the recorded ``portal_id``; on any other portal (a local or staging one)
    the view carrying the dataset's inventory id in its metadata.

    ``attempts`` bounds the client's retries of timeouts, connection errors and 5xx, so an unreachable
    portal fails with :class:`~kcdata.errors.PortalError` in seconds, not minutes.
    """
    from kcdata.errors import InputError
    from kcdata.publish.client import connect
    from kcdata.publish.observe import find_view
    from kcdata.publish.retry import RetryPolicy

    if not url:
        raise InputError("no portal URL: set KCDATA_PORTAL_URL (e.g. https://data.kcmo.org or http://127.0.0.1:8080)",
                         hint="Credentials are optional for public reads (KCDATA_PORTAL_USERNAME/PASSWORD).")
    client = connect(url=url, username=username, password=password, app_token=app_token, timeout=timeout,
                     retry=RetryPolicy(attempts=max(1, attempts)))
    try:
        def fetch(dataset: Dataset) -> Mapping[str, Any] | None:
            view, _identity, _problems = find_view(client, dataset, production_domain=production_domain)
            return view if isinstance(view, Mapping) else None

        yield fetch
    finally:
        client.close()
