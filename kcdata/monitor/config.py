"""What an inventory entry asks the monitor to watch: ``monitor: {date_field, group_by, append_only, ...}``.

```yaml
- id: 311-service-requests
  accrual_periodicity: R/P1D
  monitor:
    date_field: created_date      # content freshness: the newest value must be within the period
    group_by: year                # per-group counts: `year` (of date_field) or a column name
    append_only: true             # rows are only ever added: a count that stops growing is an alert
    shrink_threshold: 0.02        # alert when the count falls by more than 2% (default 0.05 = 5%)
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kcdata.errors import InputError
from kcdata.inventory.model import Dataset

DEFAULT_SHRINK = 0.05
KEYS = ("date_field", "group_by", "append_only", "shrink_threshold")
YEAR = "year"  # group_by: year groups by the year of date_field


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorConfig:
    date_field: str | None = None
    group_by: str | None = None
    append_only: bool = False
    shrink_threshold: float = DEFAULT_SHRINK


def monitor_config(ds: Dataset, *, default_shrink: float = DEFAULT_SHRINK) -> MonitorConfig:
    """The entry's ``monitor:`` mapping (absent: defaults), checked; a bad value is an :class:`InputError`."""
    raw = ds.monitor
    where = f"dataset '{ds.id}' monitor"
    if ds.source is not None:
        where = f"{ds.source.file}:{ds.source.line}: {where}"
    if raw is None:
        return MonitorConfig(shrink_threshold=default_shrink)
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: expected a mapping such as {{date_field: created_date}}, found {raw!r}")
    unknown = sorted(set(map(str, raw)) - set(KEYS))
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], KEYS, n=1)
        raise InputError(f"{where}: unknown key '{unknown[0]}'" + (f" — did you mean '{close[0]}'?" if close else ""),
                         hint=f"Known keys: {', '.join(KEYS)}.")

    def text(key: str) -> str | None:
        value: Any = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where}.{key}: expected a column name, found {value!r}")
        return value.strip()

    append_only = raw.get("append_only", False)
    if not isinstance(append_only, bool):
        raise InputError(f"{where}.append_only: expected true or false, found {append_only!r}")
    shrink = raw.get("shrink_threshold", default_shrink)
    if isinstance(shrink, bool) or not isinstance(shrink, int | float) or not 0 <= shrink < 1:
        raise InputError(f"{where}.shrink_threshold: expected a fraction from 0 to below 1 (0.05 = 5%), "
                         f"found {shrink!r}")
    config = MonitorConfig(date_field=text("date_field"), group_by=text("group_by"), append_only=append_only,
                           shrink_threshold=float(shrink))
    if config.group_by == YEAR and config.date_field is None:
        raise InputError(f"{where}.group_by: 'year' groups by the year of date_field, which is not set",
                         hint="Add date_field, or group by a column name.")
    return config
