"""The site's page model: what each page shows, computed from the inventory and optional stage results.

Pure functions over loaded data; nothing here renders HTML or touches the file system.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kcdata.inventory.model import Dataset, HistoryRecord, Inventory, Status
from kcdata.site.announce import first_publications, parse_when
from kcdata.site.settings import SiteSettings
from kcdata.site.sources import Priority, ValidationStatus

STATUS_ORDER = tuple(Status)
STATUS_LABELS = {
    Status.INVENTORIED: "Inventoried", Status.PROPOSED: "Proposed", Status.IN_REVIEW: "In review",
    Status.APPROVED: "Approved", Status.PUBLISHED: "Published", Status.WITHHELD: "Withheld",
    Status.RETIRED: "Retired",
}
# Colour-blind-safe hues, each at least 3:1 against white (WCAG 1.4.11 for graphics).
STATUS_COLORS = {
    Status.INVENTORIED: "#6b6b6b", Status.PROPOSED: "#b35c00", Status.IN_REVIEW: "#7b3fa0",
    Status.APPROVED: "#0b66b2", Status.PUBLISHED: "#00784a", Status.WITHHELD: "#b3261e",
    Status.RETIRED: "#333333",
}
DONE_STATUSES = frozenset({Status.PUBLISHED, Status.WITHHELD, Status.RETIRED})
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,120}$")
_FREQUENCIES = {
    "R/PT1H": "Hourly", "R/P1D": "Daily", "R/P3.5D": "Twice a week", "R/P1W": "Weekly", "R/P2W": "Every two weeks",
    "R/P0.5M": "Twice a month", "R/P1M": "Monthly", "R/P2M": "Every two months", "R/P3M": "Quarterly",
    "R/P4M": "Three times a year", "R/P6M": "Twice a year", "R/P1Y": "Yearly", "R/P2Y": "Every two years",
    "R/P10Y": "Every ten years", "irregular": "Irregularly", "R/PT1S": "Continuously",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Goal:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetView:
    """Everything one dataset's page and catalog entry show."""

    ds: Dataset
    slug: str
    href: str  # relative to the site root
    department_name: str
    status_label: str
    goals: tuple[Goal, ...]
    portal_url: str | None
    request_url: str | None
    priority: Priority | None
    validation: ValidationStatus | None
    overdue_days: int | None
    first_published: dt.date | None
    frequency: str | None
    history: tuple[HistoryRecord, ...]

    def catalog_entry(self) -> dict[str, Any]:
        """The searchable fields embedded as JSON in the catalog page."""
        d = self.ds
        return {"id": d.id, "href": self.href, "title": d.title, "description": d.description,
                "keywords": list(d.keywords), "department": d.department, "department_name": self.department_name,
                "status": d.status.value, "theme": d.theme or "", "access_level": d.access_level.value,
                "goals": [g.id for g in self.goals]}


def goals_from_settings(settings: Mapping[str, Any]) -> tuple[Goal, ...]:
    """KCStat goals from ``kcdata.yaml`` ``goals:`` (leniently: malformed items are skipped)."""
    raw = settings.get("goals") or []
    out = []
    for g in raw if isinstance(raw, list) else []:
        if isinstance(g, Mapping) and g.get("id"):
            out.append(Goal(id=str(g["id"]), name=str(g.get("name") or g["id"]),
                            description=str(g.get("description") or "")))
    return tuple(out)


def safe_slug(dataset_id: str) -> str:
    """A file-name-safe slug: the id itself when it is a slug, else a readable slug plus a hash."""
    if _SLUG_RE.match(dataset_id):
        return dataset_id
    base = re.sub(r"[^a-z0-9]+", "-", dataset_id.lower()).strip("-")[:60] or "dataset"
    return f"{base}-{hashlib.sha256(dataset_id.encode()).hexdigest()[:8]}"


def frequency_label(value: str | None) -> str | None:
    if not value:
        return None
    return _FREQUENCIES.get(value, value)


def dataset_views(*, inventory: Inventory, settings: SiteSettings, goals: Sequence[Goal],
                  priorities: Mapping[str, Priority] | None, validations: Mapping[str, ValidationStatus],
                  today: dt.date) -> tuple[list[DatasetView], list[str]]:
    """One view per dataset, in department then title order, plus warnings (unsafe or duplicate ids)."""
    dep_names = {d.id: d.name for d in inventory.departments}
    goal_by_id = {g.id: g for g in goals}
    first = first_publications(inventory.datasets)
    warnings: list[str] = []
    used: set[str] = set()
    views = []
    ordered = sorted(inventory.datasets, key=lambda d: (dep_names.get(d.department, d.department).lower(),
                                                        d.title.lower(), d.id))
    for ds in ordered:
        slug = safe_slug(ds.id)
        if slug != ds.id:
            warnings.append(f"dataset id {ds.id!r} is not a slug: its page is datasets/{slug}.html")
        if slug in used:
            n = 2
            while f"{slug}-{n}" in used:
                n += 1
            warnings.append(f"dataset id {ds.id!r} appears more than once: the copy's page is "
                            f"datasets/{slug}-{n}.html")
            slug = f"{slug}-{n}"
        used.add(slug)
        overdue = None
        if ds.target_release and ds.status not in DONE_STATUSES and ds.target_release < today:
            overdue = (today - ds.target_release).days
        unpublished = ds.status not in (Status.PUBLISHED, Status.RETIRED)
        views.append(DatasetView(
            ds=ds, slug=slug, href=f"datasets/{slug}.html",
            department_name=dep_names.get(ds.department, ds.department),
            status_label=STATUS_LABELS[ds.status],
            goals=tuple(goal_by_id.get(g) or Goal(id=g, name=g) for g in ds.kcstat_goals),
            portal_url=settings.portal_url(ds.portal_id) if ds.status is Status.PUBLISHED else None,
            request_url=settings.request_link(dataset_id=ds.id, title=ds.title) if unpublished else None,
            priority=None if priorities is None else priorities.get(ds.id),
            validation=validations.get(ds.id),
            overdue_days=overdue,
            first_published=first.get(ds.id),
            frequency=frequency_label(ds.accrual_periodicity),
            history=ds.history,
        ))
    return views, warnings


# -- program statistics ------------------------------------------------------------------------------

def by_department_status(views: Sequence[DatasetView]) -> list[tuple[str, list[int]]]:
    """Rows of (department name, count per status in STATUS_ORDER), largest department first."""
    counts: dict[str, Counter[Status]] = {}
    for v in views:
        counts.setdefault(v.department_name, Counter())[v.ds.status] += 1
    rows = [(name, [c[s] for s in STATUS_ORDER]) for name, c in counts.items()]
    rows.sort(key=lambda r: (-sum(r[1]), r[0].lower()))
    return rows


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    out, cur = [], start.replace(day=1)
    while cur <= end:
        out.append(cur)
        cur = (cur.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """Release progress by month, replayed from the review history."""

    months: tuple[str, ...]  # "YYYY-MM"
    ever_published: tuple[int, ...]  # cumulative: datasets first published by the end of the month
    on_portal: tuple[int, ...]  # datasets whose status at the end of the month was published
    unrecorded: int  # published now but no publication in the history: counted from the start


def release_progress(views: Sequence[DatasetView], today: dt.date) -> Progress:
    """Cumulative first publications and datasets on the portal, month by month (retirements subtract)."""
    timelines: list[list[tuple[dt.date, str]]] = []
    unrecorded = 0
    starts: list[dt.date] = []
    for v in views:
        steps = sorted((stamp.date(), rec.to_status) for rec in v.history
                       if (stamp := parse_when(rec.at)) is not None)
        if v.ds.status is Status.PUBLISHED and not any(to == Status.PUBLISHED.value for _, to in steps):
            unrecorded += 1
            continue
        if any(to == Status.PUBLISHED.value for _, to in steps):
            timelines.append(steps)
            starts.append(next(d for d, to in steps if to == Status.PUBLISHED.value))
    if not starts:
        label = today.strftime("%Y-%m")
        return Progress(months=(label,) if unrecorded else (), ever_published=(unrecorded,) if unrecorded else (),
                        on_portal=(unrecorded,) if unrecorded else (), unrecorded=unrecorded)
    months, ever, live = [], [], []
    for month in _months(min(starts), max(today, max(starts))):
        end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        months.append(month.strftime("%Y-%m"))
        ever.append(unrecorded + sum(1 for s in starts if s < end))
        on = unrecorded
        for steps in timelines:
            state = None
            for day, to in steps:
                if day >= end:
                    break
                state = to
            on += state == Status.PUBLISHED.value
        live.append(on)
    return Progress(months=tuple(months), ever_published=tuple(ever), on_portal=tuple(live), unrecorded=unrecorded)


def sample_progress(p: Progress, *, max_points: int = 48) -> Progress:
    """Fewer points for a long history: quarterly, or yearly (always keeping the latest month)."""
    n = len(p.months)
    if n <= max_points:
        return p
    step = 3 if n <= 3 * max_points else 12
    keep = [i for i in range(n) if (n - 1 - i) % step == 0]
    return Progress(months=tuple(p.months[i] for i in keep), ever_published=tuple(p.ever_published[i] for i in keep),
                    on_portal=tuple(p.on_portal[i] for i in keep), unrecorded=p.unrecorded)


def priority_bands(views: Sequence[DatasetView]) -> list[tuple[str, int]]:
    """Unreleased datasets per priority band (P1..P3 always shown), then excluded by a gate, then unscored."""
    bands: Counter[str] = Counter({"P1": 0, "P2": 0, "P3": 0})
    excluded = unranked = 0
    for v in views:
        if v.ds.status in (Status.PUBLISHED, Status.RETIRED):
            continue
        p = v.priority
        if p is None or (p.band is None and not p.excluded_by):
            unranked += 1
        elif p.excluded_by:
            excluded += 1
        else:
            bands[str(p.band)] += 1
    rows = sorted(bands.items())
    rows.append(("Excluded by a gate", excluded))
    rows.append(("Not ranked", unranked))
    return rows


def goal_coverage(views: Sequence[DatasetView], goals: Sequence[Goal]) -> list[tuple[str, int, int]]:
    """Per goal: (name, datasets linked, of which published); last row: datasets linked to none."""
    rows = []
    for g in goals:
        linked = [v for v in views if any(x.id == g.id for x in v.goals)]
        rows.append((g.name, len(linked), sum(1 for v in linked if v.ds.status is Status.PUBLISHED)))
    none = [v for v in views if not v.goals]
    rows.append(("No KCStat goal", len(none), sum(1 for v in none if v.ds.status is Status.PUBLISHED)))
    return rows


def overdue(views: Sequence[DatasetView]) -> list[DatasetView]:
    """Unreleased datasets whose agreed target_release has passed, most overdue first."""
    return sorted((v for v in views if v.overdue_days), key=lambda v: (-(v.overdue_days or 0), v.ds.id))
