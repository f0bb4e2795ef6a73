"""The release workflow as a pure state machine with named gates.

States are the inventory format's ``status`` values. Each action moves a dataset from one of
its allowed states to a target state; ``submit`` and ``approve`` are gated. Gates are plain
functions of the dataset and :class:`ReleaseFacts` (what was found on disk), so every rule here
can be tested without files. I/O lives in :mod:`kcdata.review.facts` and :mod:`kcdata.review.actions`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from kcdata.errors import InputError, RefusedError
from kcdata.inventory.model import RELEASE_FIELDS, AccessLevel, Classification, Dataset, Status


class Action(StrEnum):
    PROPOSE = "propose"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    WITHHOLD = "withhold"
    RETIRE = "retire"
    PUBLISH = "publish"  # done by `kcdata publish`, through mark_published


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    action: Action
    sources: frozenset[Status]
    target: Status
    note_required: bool = False
    note_meaning: str = "note"


TRANSITIONS: Mapping[Action, Transition] = {
    Action.PROPOSE: Transition(action=Action.PROPOSE, sources=frozenset({Status.INVENTORIED}), target=Status.PROPOSED),
    Action.SUBMIT: Transition(action=Action.SUBMIT, sources=frozenset({Status.PROPOSED}), target=Status.IN_REVIEW),
    Action.APPROVE: Transition(action=Action.APPROVE, sources=frozenset({Status.IN_REVIEW}), target=Status.APPROVED),
    Action.REJECT: Transition(action=Action.REJECT, sources=frozenset({Status.IN_REVIEW}), target=Status.PROPOSED,
                              note_required=True, note_meaning="the reason for rejecting"),
    Action.WITHHOLD: Transition(action=Action.WITHHOLD,
                                sources=frozenset({Status.INVENTORIED, Status.PROPOSED, Status.IN_REVIEW}),
                                target=Status.WITHHELD, note_required=True,
                                note_meaning="the written justification for withholding"),
    Action.RETIRE: Transition(action=Action.RETIRE, sources=frozenset({Status.PUBLISHED}), target=Status.RETIRED),
    # Re-publishing an update keeps the dataset published (and records the update in history).
    Action.PUBLISH: Transition(action=Action.PUBLISH, sources=frozenset({Status.APPROVED, Status.PUBLISHED}),
                               target=Status.PUBLISHED),
}

# Open licences (Sunlight #11): the inventory format's own licence pattern, so that the approve
# gate and `kcdata inventory lint` always agree on what counts as open.
_FALLBACK_LICENSE = (r"^https?://(www\.)?(creativecommons\.org/(publicdomain/zero/1\.0|licenses/by(-sa)?/[0-9.]+)"
                     r"|opendatacommons\.org/licenses/(pddl|by|odbl))")


@functools.lru_cache(maxsize=1)
def _license_pattern() -> re.Pattern[str]:
    schema_path = Path(__file__).resolve().parent.parent / "inventory" / "inventory.schema.json"
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        return re.compile(schema["$defs"]["dataset"]["properties"]["license"]["pattern"])
    except (OSError, KeyError, ValueError, re.error):
        return re.compile(_FALLBACK_LICENSE)


# What moves a dataset on when no review action does (the hint of a refused transition).
_NO_REVIEW_STEP = {
    Status.APPROVED: "It is waiting to be published: `kcdata publish apply DATASET_ID` moves it to published.",
    Status.WITHHELD: "A withheld dataset stays withheld; to reconsider it, change its status in the inventory "
                     "with the committee's decision in the history note.",
    Status.RETIRED: "A retired dataset keeps its id and stays retired.",
}


def allowed_actions(status: Status) -> tuple[str, ...]:
    """The actions a person may take from ``status`` (the publish step is kcdata publish's)."""
    return tuple(a.value for a, t in TRANSITIONS.items() if status in t.sources and a is not Action.PUBLISH)


@dataclass(frozen=True, slots=True, kw_only=True)
class GateCheck:
    """One named check of a gate. ``passed`` False refuses the action; ``message`` says what to fix."""

    name: str
    passed: bool
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseFacts:
    """What the approve gate needs to know from disk (gathered by :func:`kcdata.review.facts.gather`)."""

    validation_valid: bool | None = None  # None: never validated
    validation_current: bool = False  # the result is for the data file as it is now
    validation_errors: int = 0
    validation_note: str = ""
    schema_fields: tuple[str, ...] | None = None  # None: schema missing or unreadable
    schema_problem: str = ""
    row_id_unique: bool | None = None  # None: could not be checked
    row_id_problem: str = ""


def is_open_license(value: str | None) -> bool:
    """An open licence URL (CC0, CC-BY, CC-BY-SA, PDDL, ODC-By, ODbL), as the inventory format defines it."""
    return bool(value) and _license_pattern().search(value.strip()) is not None  # type: ignore[union-attr]


def privacy_reviewed(dataset: Dataset) -> tuple[bool, str]:
    """PII and classification reviewed: declared, and a note recorded when sensitive or PII."""
    from kcdata.score.engine import needs_privacy_review, privacy_review_note

    if dataset.contains_pii is None:
        return False, "contains_pii is not declared: set it to true or false after checking the columns"
    if needs_privacy_review(dataset) and privacy_review_note(dataset) is None:
        why = "classified sensitive" if dataset.classification is Classification.SENSITIVE else "contains PII"
        return False, (f"{why} but no privacy_review note: record the review with "
                       f"`kcdata review privacy {dataset.id} --by NAME --note TEXT`")
    return True, "classification and personal information reviewed"


def metadata_checks(dataset: Dataset) -> list[GateCheck]:
    """The submit gate: release eligibility and the release metadata required from in_review on."""
    out = []
    ineligible = []
    if dataset.access_level is AccessLevel.NON_PUBLIC:
        ineligible.append("access_level is non-public")
    if dataset.classification is Classification.PROTECTED:
        ineligible.append("classification is protected")
    out.append(GateCheck(name="release-eligible", passed=not ineligible,
                         message="; ".join(ineligible) + " — withhold it instead" if ineligible
                         else "public access, not protected"))
    missing = [f for f in RELEASE_FIELDS if getattr(dataset, f) in (None, "", ())]
    out.append(GateCheck(name="release-metadata", passed=not missing,
                         message=f"missing {', '.join(missing)}" if missing else "release metadata complete"))
    needs_rights = (dataset.access_level is not AccessLevel.PUBLIC
                    or dataset.classification is not Classification.PUBLIC)
    if needs_rights:
        out.append(GateCheck(name="rights", passed=bool(dataset.rights),
                             message="rights statement present" if dataset.rights else
                             "access or classification is not public: `rights` must explain the restriction"))
    return out


def approve_checks(dataset: Dataset, facts: ReleaseFacts) -> list[GateCheck]:
    """The approve gate: the submit gate plus licence, validation, privacy review, row identifier."""
    out = metadata_checks(dataset)
    out.append(GateCheck(name="open-license", passed=is_open_license(dataset.license),
                         message="open licence" if is_open_license(dataset.license) else
                         f"license {dataset.license!r} is not an open licence URL (CC0, PDDL, ODC-By, ODbL, "
                         "CC-BY, CC-BY-SA)" if dataset.license else "no license"))
    if facts.validation_valid is None:
        ok, msg = False, facts.validation_note or "never validated: run `kcdata validate " + dataset.id + "`"
    elif not facts.validation_current:
        ok, msg = False, "the last validation is for an older data file: run `kcdata validate " + dataset.id + "`"
    elif not facts.validation_valid:
        ok, msg = False, f"validation fails on the current data file ({facts.validation_errors} error(s))"
    else:
        ok, msg = True, "validation passes on the current data file"
    out.append(GateCheck(name="validation-passing", passed=ok, message=msg))
    ok, msg = privacy_reviewed(dataset)
    out.append(GateCheck(name="privacy-reviewed", passed=ok, message=msg))
    out.append(_row_identifier(dataset, facts))
    return out


def _row_identifier(dataset: Dataset, facts: ReleaseFacts) -> GateCheck:
    rid = dataset.row_identifier
    if not rid:
        return GateCheck(name="row-identifier", passed=False, message="no row_identifier declared")
    if facts.schema_fields is None:
        return GateCheck(name="row-identifier", passed=False,
                         message=facts.schema_problem or "schema missing: cannot confirm the row identifier")
    if rid not in facts.schema_fields:
        return GateCheck(name="row-identifier", passed=False,
                         message=f"row_identifier '{rid}' is not a field of the schema")
    if facts.row_id_unique is not True:
        return GateCheck(name="row-identifier", passed=False,
                         message=facts.row_id_problem or f"'{rid}' could not be checked for uniqueness")
    return GateCheck(name="row-identifier", passed=True, message=f"'{rid}' declared in the schema and unique")


def plan_transition(*, dataset: Dataset, action: Action | str, note: str | None,
                    facts: ReleaseFacts | None = None) -> tuple[Transition, tuple[GateCheck, ...]]:
    """Check that ``action`` is legal from the dataset's status and its gates pass.

    Returns the transition and the checks that ran. Raises :class:`RefusedError` (exit 5)
    listing the allowed actions (illegal transition) or every failing check (gate).
    """
    try:
        action = Action(action)
    except ValueError:
        raise InputError(f"unknown review action '{action}'",
                         hint=f"Use one of {', '.join(a.value for a in Action)}.") from None
    t = TRANSITIONS[action]
    if dataset.status not in t.sources:
        allowed = allowed_actions(dataset.status)
        raise RefusedError(
            f"{dataset.id}: cannot {action.value} a dataset that is {dataset.status.value} "
            f"({action.value} needs {' or '.join(sorted(s.value for s in t.sources))})",
            code="illegal-transition",
            hint=(f"From {dataset.status.value} you can: {', '.join(allowed)}." if allowed
                  else _NO_REVIEW_STEP.get(dataset.status, "No review step leads out of this status.")),
            details={"id": dataset.id, "status": dataset.status.value, "action": action.value,
                     "allowed": list(allowed)})
    if t.note_required and not (note and note.strip()):
        raise InputError(f"{dataset.id}: {action.value} needs --note with {t.note_meaning}",
                         code="note-required", hint=f"Add --note \"...\" giving {t.note_meaning}.")
    checks: list[GateCheck] = []
    if action is Action.SUBMIT:
        checks = metadata_checks(dataset)
    elif action is Action.APPROVE:
        checks = approve_checks(dataset, facts or ReleaseFacts())
    failing = [c for c in checks if not c.passed]
    if failing:
        raise RefusedError(
            f"{dataset.id}: {action.value} refused by {len(failing)} gate check(s):\n"
            + "\n".join(f"  ✗ {c.name}: {c.message}" for c in failing),
            code="gate-failed", hint="Fix the listed items, then run the command again.",
            details={"id": dataset.id, "action": action.value,
                     "checks": [{"name": c.name, "passed": c.passed, "message": c.message} for c in checks]})
    return t, tuple(checks)


def gate_status(*, dataset: Dataset, facts: ReleaseFacts | None = None) -> tuple[str | None, tuple[GateCheck, ...]]:
    """The next gated action for a dataset in the queue and its checks (without refusing)."""
    if dataset.status is Status.PROPOSED:
        return Action.SUBMIT.value, tuple(metadata_checks(dataset))
    if dataset.status is Status.IN_REVIEW:
        return Action.APPROVE.value, tuple(approve_checks(dataset, facts or ReleaseFacts()))
    return None, ()
