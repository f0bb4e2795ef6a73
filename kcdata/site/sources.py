"""Inputs from other stages: release priority (score), cached validation results (validate), lint
and policy findings (transparency), each read from the :class:`~kcdata.program.Program`.

When a stage fails (a broken scoring method, an unreadable cache entry), the site still builds and
says so in a warning. The site never validates data itself: only cached results are shown.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kcdata import problems
from kcdata.errors import KcdataError
from kcdata.inventory.load import Problem
from kcdata.inventory.model import Dataset

if TYPE_CHECKING:
    from kcdata.program import Program
    from kcdata.score.engine import CriterionScore, Override
    from kcdata.validate.model import TableReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Criterion:
    name: str
    sentence: str
    contribution: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Priority:
    """A dataset's release priority as the score stage computed it."""

    rank: int | None
    ranked_total: int
    score: float | None
    band: str | None
    summary: str | None = None  # the score stage's one-paragraph explanation
    excluded_by: tuple[str, ...] = ()  # gate reasons in words
    override: str | None = None
    method_version: str | None = None
    criteria: tuple[Criterion, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationStatus:
    valid: bool
    rows: int | None
    error_count: int
    error_counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding(problems.Problem):
    """A program-level problem shown on the program page (lint, load or policy)."""

    source: str  # "inventory" or "policy"
    where: str

    def location(self) -> str:
        return self.where


def lint_problems(program: Program) -> tuple[Problem, ...]:
    """The inventory's lint problems (``kcdata inventory lint``), sorted as lint prints them."""
    from kcdata.inventory.lint import lint_inventory, sorted_problems

    return tuple(sorted_problems(lint_inventory(root=program.root).problems))


def _criteria(breakdown: Sequence[CriterionScore]) -> tuple[Criterion, ...]:
    return tuple(Criterion(name=item.criterion, sentence=item.sentence, contribution=float(item.contribution))
                 for item in breakdown if item.sentence)


def _override_text(o: Override | None) -> str | None:
    if o is None:
        return None
    return f"the committee set band {o.band} on {o.when} ({o.by}): {o.why}"


def load_validations(program: Program) -> tuple[dict[str, TableReport], list[str]]:
    """The last cached validation report per dataset id (never runs a validation), and warnings."""
    out: dict[str, TableReport] = {}
    warnings: list[str] = []
    for ds in program.inventory.datasets:
        try:
            report = program.validation(ds)
        except (KcdataError, OSError, ValueError) as exc:
            warnings.append(f"{ds.id}: cached validation result unreadable: {exc}")
            continue
        if report is not None:
            out[ds.id] = report
    return out, warnings


def validation_statuses(reports: Mapping[str, TableReport]) -> dict[str, ValidationStatus]:
    """What the dataset pages show of each cached validation report."""
    out = {}
    for ds_id, report in reports.items():
        counts = report.error_counts or {}
        out[ds_id] = ValidationStatus(valid=bool(report.valid), rows=report.rows,
                                      error_count=int(report.error_count or 0),
                                      error_counts={str(k): int(v) for k, v in dict(counts).items()})
    return out


def load_priorities(program: Program, *, validations: Mapping[str, Any] | None = None
                    ) -> tuple[dict[str, Priority] | None, list[str]]:
    """Release priority per dataset id (the same ranking ``kcdata score`` prints), or None with a warning."""
    from kcdata import score

    inventory = program.inventory
    try:
        method = score.load_method(settings=program.settings)
        ranking = score.score_inventory(inventory=inventory, method=method,
                                        validations={d.id: (validations or {}).get(d.id)
                                                     for d in inventory.datasets})
    except KcdataError as exc:
        return None, [f"release priority not shown: {exc.message}"]
    reasons = score.GATE_REASONS
    total = sum(1 for s in ranking if s.rank is not None)
    out: dict[str, Priority] = {}
    for sd in ranking:
        try:
            summary = score.explain(ranking=ranking, dataset_id=sd.id).sentence
        except KcdataError:
            summary = None
        out[sd.id] = Priority(
            rank=sd.rank, ranked_total=total, score=float(sd.score) if sd.score is not None else None,
            band=sd.band, summary=summary,
            excluded_by=tuple(str(reasons.get(g, g)) for g in sd.excluded_by or ()),
            override=_override_text(sd.override), method_version=sd.method_version,
            criteria=_criteria(sd.breakdown),
        )
    return out, []


# Policy rules that read whole data files (PII sampling, row-key uniqueness): too slow for a site
# build on million-row files. `kcdata policy check` runs them.
SLOW_POLICY_RULES = frozenset({"SUN-07-PII", "SUN-15"})
FINDINGS_SHOWN = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRuleView:
    id: str
    guideline: int | None
    title: str
    status: str  # pass | fail | warn | off | skipped
    passed: int
    failed: int
    reason: str | None
    findings: tuple[tuple[str, str], ...]  # (where, message), the first FINDINGS_SHOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySummary:
    checked_on: str
    rules: tuple[PolicyRuleView, ...]
    published_share: float | None
    goal_linked_share: float | None
    wwc: tuple[tuple[str, bool, str], ...]  # What Works Cities inventory criteria: (name, met, detail)
    wwc_met: int
    not_run: tuple[str, ...]


def load_policy(program: Program, *, today: Any, validations: Mapping[str, Any]
                ) -> tuple[PolicySummary | None, list[str]]:
    """The Sunlight policy results (fast rules only) for the program page, or None with a warning.

    The site passes the cached validation reports it already loaded, so the policy sees exactly
    what the pages show.
    """
    from kcdata import policy
    from kcdata.policy.goals import load_goals
    from kcdata.policy.inputs import load_scores
    from kcdata.policy.model import ValidationInfo

    def validation(dataset: Dataset) -> ValidationInfo | None:
        report = validations.get(dataset.id)
        if report is None:
            return None
        return ValidationInfo(valid=bool(report.valid), error_count=int(report.error_count or 0))

    ids = [r.id for r in policy.RULES if r.id not in SLOW_POLICY_RULES]
    try:
        settings = program.settings
        method, scores = load_scores(program=program)
        report = policy.run_policy(
            root=program.root, inventory=program.inventory, settings=policy.load_policy_settings(settings),
            program=settings.get("program") or {}, goal_ids=[g.id for g in load_goals(settings)],
            problems=program.problems, today=today, scores=scores, score_method=method, validation=validation,
            rule_ids=ids)
    except KcdataError as exc:
        return None, [f"policy checks not shown: {exc.message}"]
    rules = tuple(PolicyRuleView(
        id=r.id, guideline=r.guideline, title=r.title, status=r.status.value,
        passed=r.passed, failed=r.failed, reason=r.reason,
        findings=tuple((f.location(), f.message) for f in r.findings[:FINDINGS_SHOWN])) for r in report.rules)
    card = report.scorecard
    return PolicySummary(
        checked_on=str(report.checked_on), rules=rules, published_share=card.published_share,
        goal_linked_share=card.goal_linked_share,
        wwc=tuple((c.name, bool(c.met), c.detail) for c in card.wwc_criteria), wwc_met=card.wwc_met,
        not_run=tuple(sorted(SLOW_POLICY_RULES & set(policy.RULE_IDS))),
    ), []
