"""Release-priority scoring: the committee's method applied the same way to every dataset.

``load_method`` reads the versioned method from ``kcdata.yaml``; ``score_inventory`` ranks;
``explain`` says why; ``set_override`` records a committee band decision in the inventory.
"""

from __future__ import annotations

from kcdata.score.engine import (
    GATE_REASONS,
    CriterionScore,
    Demand,
    Explanation,
    Override,
    ScoredDataset,
    combine,
    criterion_points,
    explain,
    gates,
    needs_privacy_review,
    privacy_review_note,
    read_override,
    score_dataset,
    score_inventory,
)
from kcdata.score.method import CRITERIA, DEFAULT_METHOD, Method, load_method, parse_method
from kcdata.score.override import clear_override, set_override

__all__ = [
    "CRITERIA", "DEFAULT_METHOD", "GATE_REASONS", "CriterionScore", "Demand", "Explanation", "Method", "Override",
    "ScoredDataset", "clear_override", "combine", "criterion_points", "explain", "gates", "load_method",
    "needs_privacy_review", "parse_method", "privacy_review_note", "read_override", "score_dataset",
    "score_inventory", "set_override",
]
