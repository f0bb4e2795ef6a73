"""What waits for the governance committee: the review queue and the meeting agenda (Markdown)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.inventory.model import Dataset, Inventory, Status
from kcdata.review.machine import GateCheck, ReleaseFacts, gate_status

QUEUE_STATUSES = (Status.PROPOSED, Status.IN_REVIEW)
CLOSED_STATUSES = frozenset({Status.PUBLISHED, Status.RETIRED, Status.WITHHELD})


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueItem:
    id: str
    department: str
    title: str
    status: str
    waiting_since: str | None  # when it entered its status (last history record), ISO 8601
    score: float | None
    rank: int | None
    band: str | None
    override: Any  # the committee's band override (kcdata.score.Override) or None
    excluded_by: tuple[str, ...]
    next_action: str | None  # submit or approve
    ready: bool  # all checks of the next gate pass
    checks: tuple[GateCheck, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OverdueItem:
    id: str
    department: str
    title: str
    status: str
    target_release: dt.date
    days_overdue: int


def waiting_since(dataset: Dataset) -> str | None:
    """When the dataset's last transition happened (its last history record), else last_reviewed."""
    if dataset.history:
        return dataset.history[-1].at or None
    return dataset.last_reviewed.isoformat() if dataset.last_reviewed else None


def build_queue(*, inventory: Inventory, ranking: Sequence[Any],
                facts: Mapping[str, ReleaseFacts] | None = None) -> tuple[QueueItem, ...]:
    """Datasets waiting for the committee (proposed, in_review), oldest first; ties by id.

    A dataset with no recorded transition counts as the oldest: nobody knows how long it waited.
    """
    by_id = {s.id: s for s in ranking}
    facts = facts or {}
    items = []
    for d in inventory.datasets:
        if d.status not in QUEUE_STATUSES:
            continue
        s = by_id.get(d.id)
        action, checks = gate_status(dataset=d, facts=facts.get(d.id))
        items.append(QueueItem(id=d.id, department=d.department, title=d.title, status=d.status.value,
                               waiting_since=waiting_since(d), score=s.score if s else None,
                               rank=s.rank if s else None, band=s.band if s else None,
                               override=s.override if s else None,
                               excluded_by=tuple(s.excluded_by) if s else (), next_action=action,
                               ready=all(c.passed for c in checks), checks=checks))
    items.sort(key=lambda q: (q.waiting_since is not None, q.waiting_since or "", q.id))
    return tuple(items)


def overdue(*, inventory: Inventory, today: dt.date) -> tuple[OverdueItem, ...]:
    """Open datasets whose agreed ``target_release`` date has passed, most overdue first."""
    out = [OverdueItem(id=d.id, department=d.department, title=d.title, status=d.status.value,
                       target_release=d.target_release, days_overdue=(today - d.target_release).days)
           for d in inventory.datasets
           if d.target_release is not None and d.target_release < today and d.status not in CLOSED_STATUSES]
    out.sort(key=lambda o: (-o.days_overdue, o.id))
    return tuple(out)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def build_agenda(*, inventory: Inventory, ranking: Sequence[Any], queue: Sequence[QueueItem], method_version: str,
                 today: dt.date, top_per_department: int = 5, city: str = "") -> str:
    """The Markdown agenda for the next committee meeting."""
    lines = [f"# Open data governance committee — agenda {today.isoformat()}", ""]
    if city:
        lines += [f"{city}. ", ""]
    lines += [f"Priorities by scoring method `{_md(method_version)}` (kcdata.yaml `scoring:`).", ""]
    decide = [q for q in queue if q.status == Status.IN_REVIEW.value]
    submit = [q for q in queue if q.status == Status.PROPOSED.value]
    lines += ["## 1. For decision (in review)", ""]
    lines += _queue_table(decide) if decide else ["Nothing is waiting for a decision.", ""]
    lines += ["## 2. Proposed by liaisons (to be submitted)", ""]
    lines += _queue_table(submit) if submit else ["No proposals are waiting.", ""]
    lines += [f"## 3. Top candidates per department (top {top_per_department})", ""]
    ranked = [s for s in ranking if s.rank is not None and s.department_rank is not None
              and s.department_rank <= top_per_department]
    if not ranked:
        lines += ["No dataset is ranked for release.", ""]
    for dep in sorted({s.department for s in ranked}):
        lines += [f"### {_md(dep)}", "", "| rank | dataset | score | band | status |", "|---:|---|---:|---|---|"]
        for s in [r for r in ranked if r.department == dep]:
            band = s.band + (" (override)" if s.override is not None else "")
            lines.append(f"| {s.rank} | {_md(s.title)} (`{s.id}`) | {s.score:.1f} | {band} | {s.status} |")
        lines.append("")
    late = overdue(inventory=inventory, today=today)
    lines += ["## 4. Overdue target release dates", ""]
    if late:
        lines += ["| dataset | department | target | days late | status |", "|---|---|---|---:|---|"]
        lines += [f"| {_md(o.title)} (`{o.id}`) | {_md(o.department)} | {o.target_release.isoformat()} | "
                  f"{o.days_overdue} | {o.status} |" for o in late]
        lines.append("")
    else:
        lines += ["No target release date has passed.", ""]
    return "\n".join(lines)


def _queue_table(items: Sequence[QueueItem]) -> list[str]:
    out = ["| dataset | department | waiting since | score | band | gate |", "|---|---|---|---:|---|---|"]
    for q in items:
        failing = [c for c in q.checks if not c.passed]
        gate = f"ready to {q.next_action}" if not failing else \
            "; ".join(f"{c.name}: {_md(c.message)}" for c in failing)
        score = f"{q.score:.1f}" if q.score is not None else "—"
        band = q.band or ("excluded: " + ", ".join(q.excluded_by) if q.excluded_by else "—")
        if q.band and q.override is not None:
            band += " (override)"
        out.append(f"| {_md(q.title)} (`{q.id}`) | {_md(q.department)} | {q.waiting_since or 'unknown'} | "
                   f"{score} | {band} | {gate} |")
    return [*out, ""]


def write_agenda(path: Path, text: str) -> None:
    """Write the agenda atomically (a reader never sees half an agenda)."""
    from kcdata.fileio import atomic_write_text

    atomic_write_text(Path(path), text if text.endswith("\n") else text + "\n")
