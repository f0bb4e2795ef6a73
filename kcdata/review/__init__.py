"""The release review workflow: states, transitions, gates and history.

``transition`` moves a dataset (propose/submit/approve/reject/withhold/retire) through the
byte-preserving inventory writer; ``mark_published`` is the publish step's entry point;
``load_queue`` and ``make_agenda`` give the committee its view.
"""

from __future__ import annotations

from kcdata.review.actions import TransitionResult, mark_published, record_privacy_review, transition
from kcdata.review.agenda import OverdueItem, QueueItem, build_agenda, build_queue, overdue, write_agenda
from kcdata.review.committee import load_queue, make_agenda
from kcdata.review.machine import (
    TRANSITIONS,
    Action,
    GateCheck,
    ReleaseFacts,
    allowed_actions,
    approve_checks,
    gate_status,
    is_open_license,
    metadata_checks,
    plan_transition,
)

__all__ = [
    "TRANSITIONS", "Action", "GateCheck", "OverdueItem", "QueueItem", "ReleaseFacts", "TransitionResult",
    "allowed_actions", "approve_checks", "build_agenda", "build_queue", "gate_status", "is_open_license",
    "load_queue", "make_agenda", "mark_published", "metadata_checks", "overdue", "plan_transition",
    "record_privacy_review", "transition", "write_agenda",
]
