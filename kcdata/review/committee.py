"""The committee's view of a program folder: queue and agenda computed from the files on disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kcdata.inventory.model import Status
from kcdata.program import Program
from kcdata.review.agenda import QueueItem, build_agenda, build_queue
from kcdata.review.facts import gather
from kcdata.score.inputs import rank_program
from kcdata.settings import program_settings


def load_queue(*, program: Program | None = None, root: Path | None = None) -> tuple[QueueItem, ...]:
    """What waits for the committee, oldest first, with score and gate status.

    Uses cached validation results only (never runs validation), so it stays fast.
    """
    program = Program.of(program, root=root)
    _method, ranking = rank_program(program)
    facts = {d.id: gather(program=program, dataset=d, run_validation=False)
             for d in program.inventory.datasets if d.status is Status.IN_REVIEW}
    return build_queue(inventory=program.inventory, ranking=ranking, facts=facts)


def make_agenda(*, program: Program | None = None, root: Path | None = None, today: dt.date | None = None,
                top_per_department: int = 5) -> str:
    """The Markdown agenda for the next committee meeting."""
    program = Program.of(program, root=root)
    method, ranking = rank_program(program)
    queue = load_queue(program=program)
    city = program_settings(program.settings).city or ""
    return build_agenda(inventory=program.inventory, ranking=ranking, queue=queue, method_version=method.version,
                        today=today or dt.date.today(), top_per_department=top_per_department, city=city)
