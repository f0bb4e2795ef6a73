"""The rule registry: every Sunlight guideline a tool can check, as a named rule.

Rule ids carry the guideline number from the governance table (``SUN-04`` is guideline 4).
``SUN-07-PII`` is the data-file half of guideline 7 (screening values, not metadata), kept separate so
the committee can set it to warning independently; ``WWC-INV`` is What Works Cities' inventory test.
The rules live in three modules by theme; importing them registers them, and ``RULES`` is kept in
guideline order.
"""

from __future__ import annotations

from kcdata.policy import rules_publication, rules_release, rules_upkeep  # noqa: F401 - registers the rules
from kcdata.policy.registry import RULES, Rule, active, release_eligible, releasing, unpublished_eligible

RULES.sort(key=lambda r: (r.guideline if r.guideline is not None else 1000, r.id))
RULE_IDS = frozenset(r.id for r in RULES)


def get_rule(rule_id: str) -> Rule:
    """The rule with this id (case-insensitive); :class:`KeyError` if there is none."""
    for r in RULES:
        if r.id == rule_id.upper():
            return r
    raise KeyError(rule_id)


__all__ = ["RULES", "RULE_IDS", "Rule", "active", "get_rule", "release_eligible", "releasing", "unpublished_eligible"]
