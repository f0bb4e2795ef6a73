"""Rules for keeping the program going: demand, timelines, quality, yearly review, What Works Cities."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from kcdata.inventory.model import Status
from kcdata.policy.model import Context, Outcome, Scope, Skip
from kcdata.policy.registry import (
    active,
    outcome,
    program_outcome,
    rule,
    unpublished_eligible,
)
from kcdata.problems import Severity


@rule("SUN-26", 26, "Public perspectives", "Demand (requests) is recorded and weighs in the release score.",
      scope=Scope.BOTH, severity=Severity.WARNING)
def _sun26(ctx: Context) -> Iterator[Outcome]:
    weights = getattr(ctx.score_method, "weights", None)
    if isinstance(weights, Mapping):
        yield program_outcome(float(weights.get("demand") or 0) > 0, "the scoring method gives public demand no weight")
    for ds in ctx.inventory.datasets:
        if unpublished_eligible(ds):
            yield outcome(ctx, ds, ds.requests is not None, "requests (public demand) not recorded")


@rule("SUN-27", 27, "Ambitious timelines", "Release-eligible items have an agreed target date that has not passed.")
def _sun27(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if not unpublished_eligible(ds):
            continue
        if ds.target_release is None:
            yield outcome(ctx, ds, False, "no target_release date")
        else:
            late = (ctx.today - ds.target_release).days
            yield outcome(ctx, ds, late <= 0, f"target_release {ds.target_release} passed {late} days ago")


@rule("SUN-28", 28, "Data quality", "Data passes validation against its schema before it is published.")
def _sun28(ctx: Context) -> Iterator[Outcome]:
    if ctx.validation is None:
        raise Skip("validation results are not available (kcdata.validate)")
    for ds in ctx.inventory.datasets:
        if ds.status in (Status.APPROVED, Status.PUBLISHED) and ds.data and ds.schema:
            result = ctx.validation(ds)
            if result is None:
                yield outcome(ctx, ds, False, f"never validated: run `kcdata validate {ds.id}`")
            else:
                yield outcome(ctx, ds, result.valid, f"last validation failed with {result.error_count} error(s)")


@rule("SUN-31", 31, "Future review", "Every item is reviewed at least once a year (last_reviewed).")
def _sun31(ctx: Context) -> Iterator[Outcome]:
    limit = ctx.settings.review_max_days
    for ds in ctx.inventory.datasets:
        if not active(ds):
            continue
        if ds.last_reviewed is None:
            yield outcome(ctx, ds, False, "never reviewed (last_reviewed)")
        else:
            age = (ctx.today - ds.last_reviewed).days
            yield outcome(ctx, ds, age <= limit, f"last reviewed {ds.last_reviewed}, {age} days ago (limit {limit})")


@rule("WWC-INV", None, "What Works Cities inventory",
      "The inventory meets 3 of 4: documented method, updated in 12 months, >80% of departments, online.",
      scope=Scope.PROGRAM)
def _wwc(ctx: Context) -> Iterator[Outcome]:
    from kcdata.policy.scorecard import wwc_criteria

    criteria = wwc_criteria(ctx)
    met = sum(c.met for c in criteria)
    missing = "; ".join(f"{c.name}: {c.detail}" for c in criteria if not c.met)
    yield program_outcome(met >= 3, f"{met} of 4 criteria met (needs 3). Not met: {missing}")
