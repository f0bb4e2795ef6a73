"""Running the rules: apply settings (off / warning, with reasons), collect results, build the scorecard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kcdata.errors import NotFoundError
from kcdata.inventory.load import Problem
from kcdata.inventory.model import Dataset, Inventory
from kcdata.policy.model import (
    Context,
    Finding,
    PolicyReport,
    RuleResult,
    RuleStatus,
    ScoreInfo,
    Skip,
    ValidationInfo,
)
from kcdata.policy.rules import RULES, Rule
from kcdata.policy.scorecard import build_scorecard
from kcdata.policy.settings import PolicySettings
from kcdata.problems import Severity
from kcdata.program import Program


def select_rules(rule_ids: Iterable[str] | None) -> list[Rule]:
    """The registered rules, or only the named ones (case-insensitive); unknown ids are NotFoundError."""
    if not rule_ids:
        return list(RULES)
    import difflib

    by_id = {r.id: r for r in RULES}
    chosen = []
    for raw in rule_ids:
        rid = raw.strip().upper()
        if rid not in by_id:
            close = difflib.get_close_matches(rid, sorted(by_id), n=2)
            raise NotFoundError(f"unknown rule '{raw}'", hint=f"did you mean {' or '.join(close)}?" if close
                                else "`kcdata policy rules` lists the rule ids")
        chosen.append(by_id[rid])
    return chosen


def run_rule(rule: Rule, ctx: Context) -> RuleResult:
    """One rule under the settings: off, skipped, or pass/fail/warn with its findings."""
    override = ctx.settings.overrides.get(rule.id)
    severity = override.severity if override and override.severity else rule.severity
    base: dict[str, Any] = {"id": rule.id, "guideline": rule.guideline, "title": rule.title,
                            "rationale": rule.rationale, "scope": rule.scope, "severity": severity}
    if override and not override.enabled:
        return RuleResult(**base, status=RuleStatus.OFF, passed=0, failed=0, reason=override.reason)
    try:
        outcomes = list(rule.check(ctx))
    except Skip as exc:
        return RuleResult(**base, status=RuleStatus.SKIPPED, passed=0, failed=0, reason=str(exc))
    findings = tuple(Finding(code=rule.id, rule=rule.id, severity=severity, subject=o.subject, kind=o.kind,
                             message=o.message, file=o.file, line=o.line) for o in outcomes if not o.ok)
    if not findings:
        status = RuleStatus.PASS
    else:
        status = RuleStatus.FAIL if severity is Severity.ERROR else RuleStatus.WARN
    return RuleResult(**base, status=status, passed=len(outcomes) - len(findings), failed=len(findings),
                      findings=findings, reason=override.reason if override else None)


def run_policy(*, root: Path, inventory: Inventory, settings: PolicySettings, program: Mapping[str, Any],
               goal_ids: Iterable[str], problems: Sequence[Problem] = (), today: dt.date | None = None,
               scores: Mapping[str, ScoreInfo] | None = None, score_method: Any = None,
               validation: Callable[[Dataset], ValidationInfo | None] | None = None,
               rule_ids: Iterable[str] | None = None,
               portal_view: Callable[[Dataset], Mapping[str, Any] | None] | None = None) -> PolicyReport:
    """Check the program against the Sunlight rules. Pure over its inputs (no writes; the network only
    through ``portal_view``, an anonymous view reader used by SUN-10 when given)."""
    ctx = Context(root=Path(root), inventory=inventory, problems=tuple(problems), settings=settings,
                  program=program, goal_ids=frozenset(goal_ids), today=today or dt.date.today(), scores=scores,
                  score_method=score_method, validation=validation, portal_view=portal_view)
    results = tuple(run_rule(r, ctx) for r in select_rules(rule_ids))
    return PolicyReport(checked_on=ctx.today, scorecard=build_scorecard(ctx, results), rules=results)


def check_program(*, program: Program | None = None, root: Path | None = None, rule_ids: Iterable[str] | None = None,
                  today: dt.date | None = None, use_scores: bool = True, use_validation: bool = True,
                  portal_view: Callable[[Dataset], Mapping[str, Any] | None] | None = None) -> PolicyReport:
    """Check the program (inventory, settings, scores, validation results) against the rules."""
    from kcdata.policy.goals import load_goals
    from kcdata.policy.inputs import load_scores, validation_lookup
    from kcdata.policy.settings import load_policy_settings

    program = Program.of(program, root=root)
    raw = program.settings
    settings = load_policy_settings(raw)
    goals = load_goals(raw)
    selected = select_rules(rule_ids)  # fail fast on a bad --rule before loading anything heavy
    loaded = program.loaded
    method, scores = load_scores(program=program) if use_scores else (None, None)
    validation = validation_lookup(program) if use_validation else None
    return run_policy(root=program.root, inventory=loaded.inventory, settings=settings,
                      program=raw.get("program") or {}, goal_ids=[g.id for g in goals], problems=loaded.problems,
                      today=today, scores=scores, score_method=method, validation=validation,
                      rule_ids=[r.id for r in selected], portal_view=portal_view)
