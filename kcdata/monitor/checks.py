"""The monitor's checks of one published dataset, pure over what the portal and the source file said.

Each check turns observations into a :class:`~kcdata.monitor.model.Check`; the portal and file reads
happen in :mod:`kcdata.monitor.run`, so every rule here is tested on plain values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kcdata.monitor.config import MonitorConfig
from kcdata.monitor.model import Check, CheckName, CheckStatus, Observation
from kcdata.policy.freshness import FreshnessEntry, FreshStatus, grace_for
from kcdata.policy.periodicity import humanize, parse_instant, parse_periodicity

ALERTING_FRESHNESS = {FreshStatus.OVERDUE: "overdue", FreshStatus.MISSING: "missing",
                      FreshStatus.NEVER_UPDATED: "never-updated"}


def ok(name: CheckName, message: str, **details: Any) -> Check:
    return Check(name=name, status=CheckStatus.OK, message=message, details=details)


def skipped(name: CheckName, message: str) -> Check:
    return Check(name=name, status=CheckStatus.SKIPPED, message=message)


def alert(name: CheckName, code: str, message: str, **details: Any) -> Check:
    return Check(name=name, status=CheckStatus.ALERT, code=code, message=message, details=details)


def freshness_check(entry: FreshnessEntry) -> Check:
    """The portal's ``rowsUpdatedAt`` against the update frequency (``kcdata freshness``'s rule)."""
    if entry.status in ALERTING_FRESHNESS:
        return alert(CheckName.FRESHNESS, ALERTING_FRESHNESS[entry.status], entry.message)
    if entry.status is FreshStatus.NO_PERIODICITY:
        return skipped(CheckName.FRESHNESS, entry.message)
    return ok(CheckName.FRESHNESS, entry.message)


def content_check(*, newest: Any, date_field: str, periodicity: str | None, now: dt.datetime,
                  grace: float | dt.timedelta) -> Check:
    """The newest value of the declared date column, against the update frequency.

    A dataset can be re-loaded daily (fresh ``rowsUpdatedAt``) with content that stopped moving weeks ago.
    """
    try:
        period = parse_periodicity(periodicity) if periodicity else None
    except ValueError:
        return skipped(CheckName.CONTENT, f"accrual_periodicity {periodicity!r} is not a repeating duration")
    if not periodicity:
        return skipped(CheckName.CONTENT, "accrual_periodicity is not set")
    if period is None:
        return skipped(CheckName.CONTENT, "updated irregularly: content age is not judged")
    when = parse_instant(newest)
    if when is None:
        return alert(CheckName.CONTENT, "no-content", f"{date_field} has no date value on the portal"
                     + (f" (newest: {newest!r})" if newest not in (None, "") else ""), date_field=date_field)
    due = when + period + grace_for(period, grace)
    late = (now - due).total_seconds()
    details = {"date_field": date_field, "newest": when.isoformat(), "due": due.isoformat()}
    if late > 0:
        return alert(CheckName.CONTENT, "stale-content",
                     f"newest {date_field} is {when:%Y-%m-%d %H:%M}; content due by {due:%Y-%m-%d %H:%M} UTC "
                     f"({humanize(dt.timedelta(seconds=late))} late)", **details)
    return ok(CheckName.CONTENT, f"newest {date_field} is {when:%Y-%m-%d %H:%M}", **details)


def count_check(*, portal: int, source: int | None, last: Observation | None, config: MonitorConfig,
                periodicity: str | None, now: dt.datetime, grace: float | dt.timedelta) -> Check:
    """Portal rows against the local source file (when at hand) and against the last recorded count.

    Every problem found is named; the code is the most telling one (shrinkage, then a mismatch with the
    source file, then an append-only dataset that stopped growing), all codes in ``details.codes``.
    """
    details: dict[str, Any] = {"portal": portal, "source": source,
                               "last": last.count if last is not None else None}
    problems: list[tuple[str, str]] = []
    if last is not None and last.count is not None and portal < last.count * (1 - config.shrink_threshold):
        drop = (last.count - portal) / last.count if last.count else 0.0
        problems.append(("shrinkage", f"{portal:,} rows, down {drop:.1%} from {last.count:,} at the last check "
                                      f"(threshold {config.shrink_threshold:.0%})"))
    if source is not None and source != portal:
        problems.append(("count-mismatch", f"the portal has {portal:,} rows, the source file {source:,} "
                                           f"({portal - source:+,})"))
    if config.append_only and last is not None and last.count is not None and portal <= last.count \
            and last.count_since:
        stalled = _stalled(last.count_since, periodicity, now=now, grace=grace)
        if stalled is not None:
            problems.append(("stalled", f"append-only, but no growth past {last.count:,} rows since "
                                        f"{last.count_since[:16]} ({stalled})"))
    if problems:
        details["codes"] = [code for code, _ in problems]
        return alert(CheckName.COUNT, problems[0][0], "; ".join(text for _, text in problems), **details)
    if last is None and source is None:
        return ok(CheckName.COUNT, f"{portal:,} rows (first check: recorded for the next one)", **details)
    against = " and ".join(x for x, on in (("the source file", source is not None),
                                           ("the last check", last is not None and last.count is not None)) if on)
    return ok(CheckName.COUNT, f"{portal:,} rows, consistent with {against}", **details)


def _stalled(since: str, periodicity: str | None, *, now: dt.datetime, grace: float | dt.timedelta) -> str | None:
    try:
        period = parse_periodicity(periodicity) if periodicity else None
    except ValueError:
        return None
    start = parse_instant(since)
    if period is None or start is None:
        return None
    allowed = period + grace_for(period, grace)
    return humanize(now - start) if now - start > allowed else None


def group_check(*, portal: Mapping[str, int], source: Mapping[str, int] | None, last: Observation | None,
                config: MonitorConfig) -> Check:
    """Per-group counts (``group_by``): a group that shrank or vanished, or disagrees with the source file.

    Missing data often hides in one slice (a year that failed to load) while the total still looks plausible.
    """
    problems: list[str] = []
    code = None
    if source is not None:
        differ = sorted(g for g in set(portal) | set(source) if portal.get(g, 0) != source.get(g, 0))
        if differ:
            code = "group-mismatch"
            problems += [f"{g}: portal {portal.get(g, 0):,}, source {source.get(g, 0):,}" for g in differ[:10]]
    if last is not None and last.groups is not None:
        for g, before in sorted(last.groups.items()):
            now_count = portal.get(g, 0)
            if before and now_count < before * (1 - config.shrink_threshold):
                code = code or "group-shrinkage"
                problems.append(f"{g}: {now_count:,}, down from {before:,}")
    details = {"portal": dict(portal), "source": dict(source) if source is not None else None}
    if problems:
        more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
        return alert(CheckName.GROUPS, code or "group-shrinkage",
                     f"by {config.group_by}: " + "; ".join(problems[:10]) + more, **details)
    return ok(CheckName.GROUPS, f"{len(portal)} groups by {config.group_by}, none shrank", **details)


def schema_check(*, added: tuple[str, ...], removed: tuple[str, ...], retyped: tuple[str, ...]) -> Check:
    """Portal columns against the Table Schema: a column added, dropped or retyped outside kcdata."""
    parts = [f"{label}: {', '.join(names)}" for label, names in
             (("missing on the portal", added), ("not in the schema", removed), ("retyped", retyped)) if names]
    if parts:
        return alert(CheckName.SCHEMA, "schema-drift", "; ".join(parts), missing=list(added), extra=list(removed),
                     retyped=list(retyped))
    return ok(CheckName.SCHEMA, "portal columns match the Table Schema")
