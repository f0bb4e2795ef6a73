"""Recording the committee's band overrides in the inventory (``priority_override``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kcdata.errors import InputError
from kcdata.score.engine import OVERRIDE_FIELD
from kcdata.score.method import BANDS


def set_override(*, root: Path, dataset_id: str, band: str, by: str, why: str,
                 when: dt.date | None = None) -> Path:
    """Write ``priority_override: {band, by, when, why}`` on the entry; returns the file written.

    The write goes through the inventory's byte-preserving, atomic writer, so the rest of the
    department file is untouched. Unknown ids raise NotFoundError (did-you-mean).
    """
    from kcdata.inventory.writer import update_dataset

    if band not in BANDS:
        raise InputError(f"unknown band '{band}'", hint=f"Use one of {', '.join(BANDS)}.")
    if not by.strip():
        raise InputError("--by is empty", hint="Name the person or body deciding the override.")
    if not why.strip():
        raise InputError("--why is empty", hint="Say why the committee overrides the computed band.")
    record = {"band": band, "by": by.strip(), "when": when or dt.date.today(), "why": why.strip()}
    return update_dataset(root=root, dataset_id=dataset_id, set_fields={OVERRIDE_FIELD: record})


def clear_override(*, root: Path, dataset_id: str) -> Path:
    """Remove a recorded override (sets ``priority_override: null``)."""
    from kcdata.inventory.writer import update_dataset

    return update_dataset(root=root, dataset_id=dataset_id, set_fields={OVERRIDE_FIELD: None})
