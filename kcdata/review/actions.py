"""Applying review transitions to the inventory through the byte-preserving writer."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.config import STATE_DIR
from kcdata.errors import InputError, RefusedError
from kcdata.fileio import exclusive_lock
from kcdata.inventory.model import Dataset, Status
from kcdata.review.machine import Action, GateCheck, plan_transition

LOCK_NAME = "review.lock"


@contextlib.contextmanager
def review_lock(root: Path) -> Iterator[None]:
    """Serialise review transitions: the status is checked and written under one lock.

    Without it two committee members approving at once could both pass the check and append two
    ``in_review → approved`` records. A separate sidecar from the inventory writer's own lock
    (which ``update_dataset`` takes inside), so the two never deadlock.
    """
    with exclusive_lock(Path(root) / STATE_DIR / LOCK_NAME):
        yield


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitionResult:
    """A transition that was written: the history record and the gate checks that passed."""

    id: str
    action: str
    from_status: str
    to_status: str
    by: str
    when: str
    note: str | None
    file: str  # department file written, relative to the root
    checks: tuple[GateCheck, ...]
    set_fields: dict[str, Any]


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)


def _load(root: Path, dataset_id: str) -> Dataset:
    from kcdata.errors import NotFoundError
    from kcdata.inventory import load_inventory

    result = load_inventory(root)
    try:
        return result.inventory.get(dataset_id)  # NotFoundError with did-you-mean
    except NotFoundError as exc:
        # The entry may exist in a file (or entry) that cannot be read: say so rather than "unknown".
        broken = [str(p) for p in result.problems if p.code in {"yaml-error", "invalid-entry"}]
        if broken:
            exc.hint = f"{exc.hint}; note: some entries could not be read: {'; '.join(broken[:3])}"
        raise


def transition(*, root: Path, dataset_id: str, action: Action | str, by: str, note: str | None = None,
               now: dt.datetime | None = None, run_validation: bool = True,
               extra_fields: dict[str, Any] | None = None) -> TransitionResult:
    """Move a dataset through the workflow: check legality and gates, then write status and history.

    Appends ``{who, when, from, to, note}`` to the entry's ``history`` and sets ``status`` and
    ``last_reviewed``. ``withhold`` also writes its note to ``rights`` when the entry has none.
    Nothing is written when the action is refused (:class:`RefusedError`, exit 5) or the input is
    bad (:class:`InputError`, exit 3).
    """
    from kcdata.inventory.writer import update_dataset

    if not by or not by.strip():
        raise InputError("--by is empty", hint="Name who takes this step (a person or the committee).")
    try:
        action = Action(action)
    except ValueError:
        raise InputError(f"unknown review action '{action}'",
                         hint=f"Use one of {', '.join(a.value for a in Action)}.") from None
    root = Path(root)
    with review_lock(root):
        dataset = _load(root, dataset_id)
        facts = None
        if action is Action.APPROVE and dataset.status is Status.IN_REVIEW:
            from kcdata.review.facts import gather

            facts = gather(root=root, dataset=dataset, run_validation=run_validation)
        t, checks = plan_transition(dataset=dataset, action=action, note=note, facts=facts)
        when = _now(now)
        fields: dict[str, Any] = {"status": t.target.value, "last_reviewed": when.date(), **(extra_fields or {})}
        if t.action is Action.WITHHOLD and not dataset.rights:
            fields["rights"] = (note or "").strip()
        clean_note = note.strip() if note and note.strip() else None
        record = {"who": by.strip(), "when": when, "from": dataset.status.value, "to": t.target.value,
                  "note": clean_note}
        path = update_dataset(root=root, dataset_id=dataset.id, set_fields=fields, append_history=record)
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(path)
    return TransitionResult(id=dataset.id, action=t.action.value, from_status=dataset.status.value,
                            to_status=t.target.value, by=by.strip(),
                            when=when.isoformat().replace("+00:00", "Z"), note=clean_note, file=rel,
                            checks=checks, set_fields=fields)


def mark_published(*, root: Path, dataset_id: str, portal_id: str, by: str, note: str | None = None,
                   now: dt.datetime | None = None) -> TransitionResult:
    """Record a publish: approved → published, or published → published for an update.

    For ``kcdata publish apply``: sets ``portal_id``, ``status`` and ``last_reviewed`` and appends
    history. Refused (exit 5, nothing written) from any other status.
    """
    if not portal_id or not portal_id.strip():
        raise InputError("mark_published needs the portal id (e.g. abcd-1234)")
    return transition(root=root, dataset_id=dataset_id, action=Action.PUBLISH, by=by,
                      note=note or f"published as {portal_id.strip()}", now=now,
                      extra_fields={"portal_id": portal_id.strip()})


def record_privacy_review(*, root: Path, dataset_id: str, by: str, note: str,
                          when: dt.date | None = None) -> Path:
    """Record the release review of a sensitive / PII dataset: ``privacy_review: {by, when, note}``.

    The note says what was checked and what will be redacted or aggregated. It lifts the
    ``needs-privacy-review`` scoring gate and satisfies the approve gate's ``privacy-reviewed`` check.
    """
    from kcdata.inventory.writer import update_dataset

    if not by.strip() or not note.strip():
        raise InputError("a privacy review needs --by and --note",
                         hint="Say who reviewed the columns and what will be redacted or aggregated.")
    dataset = _load(Path(root), dataset_id)
    if dataset.status in {Status.WITHHELD, Status.RETIRED}:
        raise RefusedError(f"{dataset_id} is {dataset.status.value}: a privacy review changes nothing",
                           code="illegal-transition")
    # An ISO string, not a YAML date: the inventory schema types nested `when` values as strings.
    record = {"by": by.strip(), "when": (when or dt.date.today()).isoformat(), "note": note.strip()}
    return update_dataset(root=Path(root), dataset_id=dataset_id, set_fields={"privacy_review": record})
