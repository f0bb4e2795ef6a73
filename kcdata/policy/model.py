"""Result types of the policy check: outcomes per subject, per-rule results, the program scorecard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kcdata import problems
from kcdata.inventory.load import Problem
from kcdata.inventory.model import Dataset, Inventory
from kcdata.problems import Severity

if TYPE_CHECKING:
    from kcdata.policy.settings import PolicySettings


class Scope(StrEnum):
    DATASET = "dataset"
    PROGRAM = "program"
    BOTH = "dataset+program"


class RuleStatus(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    WARN = "warn"  # failures of a rule set to warning: reported, never exit 1
    OFF = "off"  # switched off in kcdata.yaml, with a reason
    SKIPPED = "skipped"  # an input the rule needs is not available (e.g. scoring not installed)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One subject checked by one rule: a dataset, a department or the program as a whole."""

    subject: str
    kind: str  # "dataset" | "department" | "program"
    ok: bool
    message: str = ""
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding(problems.Problem):
    """A failed outcome, as reported: rule (also its ``code``), where, what."""

    rule: str
    subject: str
    kind: str
    file: str | None = None
    line: int | None = None

    def location(self) -> str:
        if self.file is None:
            return self.subject
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleResult:
    id: str
    guideline: int | None
    title: str
    rationale: str
    scope: Scope
    severity: Severity
    status: RuleStatus
    passed: int
    failed: int
    findings: tuple[Finding, ...] = ()
    reason: str | None = None  # why the rule is off/warning (settings) or skipped


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreInfo:
    """What the policy needs from a scored dataset (duck-typed from ``kcdata.score``)."""

    rank: int | None
    score: float | None
    band: str | None
    excluded_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationInfo:
    valid: bool
    error_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Criterion:
    """One What Works Cities inventory criterion."""

    name: str
    met: bool
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Scorecard:
    datasets: int
    departments: int
    departments_expected: int | None
    departments_missing: tuple[str, ...]
    release_eligible: int
    published: int
    published_share: float | None
    goal_linked_share: float | None
    non_public: int
    non_public_with_rights: int
    wwc_criteria: tuple[Criterion, ...]
    wwc_met: int
    wwc_certifiable: bool
    rules_pass: int = 0
    rules_fail: int = 0
    rules_warn: int = 0
    rules_off: int = 0
    rules_skipped: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyReport:
    checked_on: dt.date
    scorecard: Scorecard
    rules: tuple[RuleResult, ...]

    @property
    def failed(self) -> bool:
        return any(r.status is RuleStatus.FAIL for r in self.rules)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.rules for f in r.findings)


class Skip(Exception):
    """Raised by a check when an input it needs is unavailable; the rule is reported as skipped."""


@dataclass(frozen=True, kw_only=True)
class Context:
    """Everything a rule may look at. Built once per check by :func:`kcdata.policy.engine.run_policy`."""

    root: Path
    inventory: Inventory
    problems: tuple[Problem, ...]
    settings: PolicySettings
    program: Mapping[str, Any]
    goal_ids: frozenset[str]
    today: dt.date
    scores: Mapping[str, ScoreInfo] | None = None
    score_method: Any = None  # the loaded scoring method, or None when scoring is unavailable
    validation: Callable[[Dataset], ValidationInfo | None] | None = None  # last validation of a dataset
    portal_view: Callable[[Dataset], Mapping[str, Any] | None] | None = None  # ANONYMOUS view reads (SUN-10)
    cache: dict[str, Any] = field(default_factory=dict)

    def where(self, ds: Dataset) -> dict[str, Any]:
        """``file``/``line`` keyword arguments for an outcome about ``ds``."""
        if ds.source is None:
            return {"file": None, "line": None}
        return {"file": ds.source.file, "line": ds.source.line}
