"""The program scorecard: the few numbers the Open Data Officer reports, and What Works Cities' test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlparse

from kcdata.inventory.model import AccessLevel, Classification, Status
from kcdata.policy.model import Context, Criterion, RuleResult, RuleStatus, Scorecard
from kcdata.policy.registry import active, release_eligible

WWC_DEPARTMENT_SHARE = 0.8


def _latest_update(ctx: Context) -> dt.date | None:
    dates: list[dt.date] = []
    for ds in ctx.inventory.datasets:
        if ds.last_reviewed:
            dates.append(ds.last_reviewed)
        for rec in ds.history:
            try:
                dates.append(dt.date.fromisoformat(rec.at[:10]))
            except ValueError:
                continue
    return max(dates) if dates else None


def department_coverage(ctx: Context) -> tuple[int | None, tuple[str, ...]]:
    """(expected department count, the expected ones without an inventory file); ``None`` without a list."""
    expected = ctx.settings.departments
    if expected is None:
        return None, ()
    have = {d.id for d in ctx.inventory.departments}
    return len(expected), tuple(d for d in expected if d not in have)


def wwc_criteria(ctx: Context) -> tuple[Criterion, ...]:
    """What Works Cities counts an inventory that meets 3 of these 4."""
    method = ctx.settings.inventory_method
    if not method:
        documented = Criterion(name="documented method", met=False, detail="policy.inventory_method is not set")
    elif urlparse(method).scheme in ("http", "https"):
        documented = Criterion(name="documented method", met=True, detail=method)
    else:
        exists = (ctx.root / method.split("#", 1)[0]).is_file()
        documented = Criterion(name="documented method", met=exists,
                               detail=method if exists else f"{method} does not exist")

    latest = _latest_update(ctx)
    limit = ctx.settings.review_max_days
    fresh = latest is not None and (ctx.today - latest).days <= limit
    updated = Criterion(name="updated in the last 12 months", met=fresh,
                        detail=f"latest review/transition {latest}" if latest else "no review dates recorded")

    expected, missing = department_coverage(ctx)
    if expected is None:
        covers = Criterion(name="covers more than 80% of departments", met=False,
                           detail="no policy.departments list to compare against")
    else:
        share = (expected - len(missing)) / expected if expected else 0.0
        covers = Criterion(name="covers more than 80% of departments", met=share > WWC_DEPARTMENT_SHARE,
                           detail=f"{expected - len(missing)} of {expected} departments ({share:.0%})")

    url = ctx.settings.inventory_url or (ctx.program or {}).get("inventory_url")
    online = Criterion(name="published online", met=bool(url),
                       detail=str(url) if url else "policy.inventory_url is not set")
    return documented, updated, covers, online


def build_scorecard(ctx: Context, results: Sequence[RuleResult]) -> Scorecard:
    datasets = ctx.inventory.datasets
    eligible = [d for d in datasets if release_eligible(d)]
    published = sum(d.status is Status.PUBLISHED for d in eligible)
    live = [d for d in datasets if active(d)]
    linked = sum(1 for d in live if any(g in ctx.goal_ids for g in d.kcstat_goals))
    non_public = [d for d in live if d.access_level is not AccessLevel.PUBLIC
                  or d.classification is not Classification.PUBLIC]
    expected, missing = department_coverage(ctx)
    criteria = wwc_criteria(ctx)
    met = sum(c.met for c in criteria)

    def count(status: RuleStatus) -> int:
        return sum(r.status is status for r in results)

    return Scorecard(
        datasets=len(datasets), departments=len(ctx.inventory.departments), departments_expected=expected,
        departments_missing=missing, release_eligible=len(eligible), published=published,
        published_share=published / len(eligible) if eligible else None,
        goal_linked_share=linked / len(live) if live else None,
        non_public=len(non_public), non_public_with_rights=sum(bool(d.rights) for d in non_public),
        wwc_criteria=criteria, wwc_met=met, wwc_certifiable=met >= 3,
        rules_pass=count(RuleStatus.PASS), rules_fail=count(RuleStatus.FAIL), rules_warn=count(RuleStatus.WARN),
        rules_off=count(RuleStatus.OFF), rules_skipped=count(RuleStatus.SKIPPED),
    )
