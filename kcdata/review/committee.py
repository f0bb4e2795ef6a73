"""The committee's view of a program folder: queue and agenda computed from the files on disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kcdata.inventory.model import Status
from kcdata.review.agenda import QueueItem, build_agenda, build_queue


def _ranking(root: Path) -> tuple[Any, Any, Any]:
    from kcdata.inventory import load_inventory
    from kcdata.score import load_method, score_inventory
    from kcdata.score.inputs import last_validations

    method = load_method(root=root)
    result = load_inventory(root)
    validations = last_validations(root=root, datasets=result.inventory.datasets)
    return result, method, score_inventory(inventory=result.inventory, method=method, validations=validations)


def load_queue(*, root: Path) -> tuple[QueueItem, ...]:
    """What waits for the committee, oldest first, with score and gate status.

    Uses cached validation results only (never runs validation), so it stays fast.
    """
    from kcdata.review.facts import gather

    result, _method, ranking = _ranking(Path(root))
    facts = {d.id: gather(root=Path(root), dataset=d, run_validation=False)
             for d in result.inventory.datasets if d.status is Status.IN_REVIEW}
    return build_queue(inventory=result.inventory, ranking=ranking, facts=facts)


def make_agenda(*, root: Path, today: dt.date | None = None, top_per_department: int = 5) -> str:
    """The Markdown agenda for the next committee meeting."""
    from kcdata.config import load_settings

    root = Path(root)
    result, method, ranking = _ranking(root)
    queue = load_queue(root=root)
    city = str((load_settings(root).get("program") or {}).get("city") or "")
    return build_agenda(inventory=result.inventory, ranking=ranking, queue=queue, method_version=method.version,
                        today=today or dt.date.today(), top_per_department=top_per_department, city=city)
