"""Rules for guidelines 1–7: what is released, in what order, and what must be safeguarded."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterator

from kcdata.inventory.model import AccessLevel, Classification, Dataset, Status
from kcdata.policy import inputs
from kcdata.policy.model import Context, Outcome, Scope, Skip
from kcdata.policy.registry import (
    CLOSED,
    active,
    outcome,
    program_outcome,
    release_eligible,
    rule,
    unpublished_eligible,
)
from kcdata.problems import Severity


def first_seen(ds: Dataset) -> dt.date | None:
    """When the item entered the inventory: its first history record, or an ``inventoried`` date field."""
    for key in ("inventoried", "date_added", "created"):
        raw = ds.extra.get(key)
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw[:10])
            except ValueError:
                pass
    for rec in ds.history:
        try:
            return dt.date.fromisoformat(rec.at[:10])
        except ValueError:
            continue
    return None


@rule("SUN-01", 1, "Proactively release", "Release-eligible data goes online without waiting to be asked.",
      scope=Scope.BOTH)
def _sun01(ctx: Context) -> Iterator[Outcome]:
    eligible = [d for d in ctx.inventory.datasets if release_eligible(d)]
    limit = ctx.settings.unpublished_max_days
    for ds in eligible:
        if ds.status is Status.PUBLISHED:
            continue
        since = first_seen(ds)
        if since is not None:
            age = (ctx.today - since).days
            yield outcome(ctx, ds, age <= limit, f"release-eligible but unpublished for {age} days (limit {limit})")
    if eligible:
        published = sum(d.status is Status.PUBLISHED for d in eligible)
        share = published / len(eligible)
        yield program_outcome(share >= ctx.settings.min_published_share,
                              f"{published} of {len(eligible)} release-eligible datasets published ({share:.0%}; "
                              f"target {ctx.settings.min_published_share:.0%})")


@rule("SUN-02", 2, "Build on public-records requests", "Data people already ask for should be released first.")
def _sun02(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if release_eligible(ds) and (ds.requests or 0) > 0:
            yield outcome(ctx, ds, ds.status is Status.PUBLISHED,
                          f"{ds.requests} public request(s) in the last 12 months, still unpublished ({ds.status})")


@rule("SUN-03", 3, "Community values and goals", "Datasets should inform a KCStat citywide goal.",
      scope=Scope.BOTH, severity=Severity.WARNING)
def _sun03(ctx: Context) -> Iterator[Outcome]:
    live = [ds for ds in ctx.inventory.datasets if active(ds)]
    if live:
        linked = sum(1 for ds in live if any(g in ctx.goal_ids for g in ds.kcstat_goals))
        share = linked / len(live)
        yield program_outcome(share >= ctx.settings.min_goal_share,
                              f"{linked} of {len(live)} datasets linked to a KCStat goal ({share:.0%}; "
                              f"target {ctx.settings.min_goal_share:.0%})")
    for ds in live:
        unknown = [g for g in ds.kcstat_goals if g not in ctx.goal_ids]
        if unknown:
            hints = []
            for g in unknown:
                close = difflib.get_close_matches(g, sorted(ctx.goal_ids), n=1)
                hints.append(f"'{g}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
            yield outcome(ctx, ds, False, f"unknown KCStat goal id {', '.join(hints)}")
        elif not ds.kcstat_goals:
            yield outcome(ctx, ds, False, "not linked to any KCStat goal (kcstat_goals)")
        else:
            yield outcome(ctx, ds, True)


@rule("SUN-04", 4, "Comprehensive public list",
      "Every department keeps an inventory, and items that cannot be released say why.", scope=Scope.BOTH)
def _sun04(ctx: Context) -> Iterator[Outcome]:
    have = {d.id for d in ctx.inventory.departments}
    for dep in ctx.settings.departments or ():
        yield Outcome(subject=dep, kind="department", ok=dep in have,
                      message=f"department '{dep}' has no inventory file (inventory/{dep}.yaml)")
    for p in ctx.problems:
        if p.code in ("yaml-error", "empty-file", "not-a-mapping", "missing-department"):
            yield Outcome(subject=p.file, kind="department", ok=False, file=p.file, line=p.line,
                          message=f"inventory file cannot be listed publicly: {p.message}")
    for ds in ctx.inventory.datasets:
        if ds.access_level is not AccessLevel.PUBLIC or ds.classification is not Classification.PUBLIC \
                or ds.status is Status.WITHHELD:
            yield outcome(ctx, ds, bool(ds.rights and ds.rights.strip()),
                          f"{ds.access_level}/{ds.classification}/{ds.status} without a written justification (rights)")


@rule("SUN-05", 5, "Prioritised release",
      "Every unpublished release-eligible item has a score and rank from a versioned method.", scope=Scope.BOTH)
def _sun05(ctx: Context) -> Iterator[Outcome]:
    if ctx.score_method is None or ctx.scores is None:
        raise Skip("scoring is not available (kcdata.score); cannot check ranks")
    method = ctx.score_method
    versioned = getattr(method, "source", "kcdata.yaml") != "defaults" and bool(getattr(method, "version", None))
    yield program_outcome(versioned, "no `scoring:` method with a version in kcdata.yaml: the ranking uses "
                                     "built-in defaults the committee has not adopted")
    for ds in ctx.inventory.datasets:
        if not unpublished_eligible(ds):
            continue
        info = ctx.scores.get(ds.id)
        ranked = info is not None and (info.rank is not None or bool(info.excluded_by))
        yield outcome(ctx, ds, ranked, "unpublished release-eligible item has no score/rank")


_VENDOR = re.compile(r"\b(vendor|contractor|third[- ]party|saas|hosted by)\b", re.IGNORECASE)
OWNERSHIP_KEYS = ("ownership", "data_ownership", "vendor_agreement")


@rule("SUN-06", 6, "Contractors' data", "Vendor-held data needs a note on who owns it and under what licence.")
def _sun06(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        vendor = bool(ds.extra.get("vendor")) or bool(ds.source_system and _VENDOR.search(ds.source_system))
        if vendor and active(ds):
            noted = any(str(ds.extra.get(k) or "").strip() for k in OWNERSHIP_KEYS)
            yield outcome(ctx, ds, noted, "vendor-held data without an ownership/licence note "
                                          f"({' or '.join(OWNERSHIP_KEYS)})")


@rule("SUN-07", 7, "Safeguard sensitive information",
      "Every item declares whether it holds PII, and PII is never classified public.")
def _sun07(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if not active(ds):
            continue
        if ds.contains_pii is None:
            yield outcome(ctx, ds, False, "contains_pii is not set (true or false)")
        elif ds.contains_pii and ds.classification is Classification.PUBLIC:
            yield outcome(ctx, ds, False, "contains_pii is true but classification is public")
        else:
            yield outcome(ctx, ds, True)


@rule("SUN-07-PII", 7, "PII screening of data files",
      "Data files released as public must not hold SSNs, phone numbers, e-mail addresses or names.")
def _sun07_pii(ctx: Context) -> Iterator[Outcome]:
    from kcdata.policy.pii import SCREENABLE_SUFFIXES, screen_file

    cfg = ctx.settings.pii
    for ds in ctx.inventory.datasets:
        if ds.contains_pii or ds.access_level is not AccessLevel.PUBLIC or ds.status in CLOSED:
            continue
        path = inputs.data_path(ctx.root, ds)
        if path is None or path.suffix.lower() not in SCREENABLE_SUFFIXES:
            continue
        try:
            screen = screen_file(path, head_rows=cfg.head_rows, reservoir=cfg.reservoir,
                                 min_share=cfg.min_share, seed=cfg.seed)
        except OSError as exc:
            yield outcome(ctx, ds, False, f"cannot read {ds.data} for screening: {exc.strerror}")
            continue
        if not screen.columns:
            yield outcome(ctx, ds, True)
        for col in screen.columns:
            detail = "header names a person" if col.kind == "name-header" else \
                f"{col.matched}/{col.sampled} sampled values look like {col.kind}"
            yield outcome(ctx, ds, False, f"{ds.data} column '{col.column}': {detail}; "
                                          "remove it or mark the dataset contains_pii")
