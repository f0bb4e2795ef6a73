"""ISO 8601 durations and DCAT-US ``accrualPeriodicity`` values (``R/P1D``, ``R/P0.5M``, ``irregular``).

Months and years are calendar-free here on purpose: a freshness deadline needs a length, not a date
arithmetic that depends on when the period started, so a month is 1/12 of a mean Gregorian year.
"""

from __future__ import annotations

import datetime as dt
import re

IRREGULAR = "irregular"
_DAYS_PER_YEAR = 365.2425
_UNIT_SECONDS = {
    "Y": _DAYS_PER_YEAR * 86400, "M": _DAYS_PER_YEAR / 12 * 86400, "W": 7 * 86400, "D": 86400,
    "H": 3600, "TM": 60, "S": 1,
}
_NUM = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"^P(?!$)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$"
)


def parse_duration(text: str) -> dt.timedelta:
    """An ISO 8601 duration (``P1D``, ``PT12H``, ``P0.5M``, ``P1Y2M``) as a :class:`~datetime.timedelta`."""
    m = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if not m or not any(m.groups()):
        raise ValueError(f"'{text}' is not an ISO 8601 duration (e.g. P1D, P1M, PT6H)")
    seconds = 0.0
    for value, unit in zip(m.groups(), ("Y", "M", "W", "D", "H", "TM", "S"), strict=True):
        if value:
            seconds += float(value.replace(",", ".")) * _UNIT_SECONDS[unit]
    if seconds <= 0:
        raise ValueError(f"'{text}' is a zero-length duration")
    return dt.timedelta(seconds=seconds)


def parse_periodicity(text: str) -> dt.timedelta | None:
    """The period of an ``accrual_periodicity``: ``R/P1W`` → 7 days; ``irregular`` → ``None`` (never overdue).

    A bare duration (``P1D``) is accepted as well; anything else raises :class:`ValueError`.
    """
    value = text.strip()
    if value.lower() == IRREGULAR:
        return None
    if value.upper().startswith("R/"):
        value = value[2:]
    elif value.upper().startswith("R") and "/" in value:  # R5/P1D: a bounded repetition still has a period
        value = value.split("/", 1)[1]
    return parse_duration(value)


def is_valid_periodicity(text: str | None) -> bool:
    """True for ``irregular`` and any ``R/P…`` repeating duration."""
    if not text:
        return False
    try:
        parse_periodicity(text)
    except ValueError:
        return False
    return True


def humanize(delta: dt.timedelta) -> str:
    """A short reading of a duration for people: ``3d 4h``, ``5h 12m``, ``40s``."""
    total = int(abs(delta.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


def parse_instant(value: object) -> dt.datetime | None:
    """An ISO 8601 date or datetime (``2026-11-30``, ``2026-11-30T08:00:00.000``, ``…Z``) as an aware datetime
    (UTC when it names no zone); ``None`` for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = dt.datetime.combine(dt.date.fromisoformat(text[:10]), dt.time())
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
