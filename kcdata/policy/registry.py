"""The ``@rule`` decorator that registers a check, and the predicates saying which datasets a rule looks at.

Each check yields one :class:`Outcome` per subject it applies to; subjects it does not apply to are
simply not mentioned, so pass counts mean "checked and fine".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kcdata.inventory.model import AccessLevel, Dataset, Status
from kcdata.policy.model import Context, Outcome, Scope
from kcdata.problems import Severity

Check = Callable[[Context], Iterable[Outcome]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    guideline: int | None
    title: str
    rationale: str
    scope: Scope
    severity: Severity
    check: Check


RULES: list[Rule] = []


def rule(rule_id: str, guideline: int | None, title: str, rationale: str, *, scope: Scope = Scope.DATASET,
         severity: Severity = Severity.ERROR) -> Callable[[Check], Check]:
    def register(func: Check) -> Check:
        RULES.append(Rule(id=rule_id, guideline=guideline, title=title, rationale=rationale, scope=scope,
                          severity=severity, check=func))
        return func

    return register


# -- which datasets a rule looks at -------------------------------------------------------------------
CLOSED = frozenset({Status.WITHHELD, Status.RETIRED})


def release_eligible(ds: Dataset) -> bool:
    """Public access, not protected, not withheld or retired: the city means to release it."""
    return ds.is_public_eligible and ds.status not in CLOSED


def unpublished_eligible(ds: Dataset) -> bool:
    return release_eligible(ds) and ds.status is not Status.PUBLISHED


def releasing(ds: Dataset) -> bool:
    """Public datasets with the committee or on the portal (status in_review and later)."""
    return ds.access_level is AccessLevel.PUBLIC and ds.status in (Status.IN_REVIEW, Status.APPROVED,
                                                                   Status.PUBLISHED)


def active(ds: Dataset) -> bool:
    return ds.status is not Status.RETIRED


def outcome(ctx: Context, ds: Dataset, ok: bool, message: str = "") -> Outcome:
    return Outcome(subject=ds.id, kind="dataset", ok=ok, message=message, **ctx.where(ds))


def program_outcome(ok: bool, message: str) -> Outcome:
    return Outcome(subject="program", kind="program", ok=ok, message=message)
