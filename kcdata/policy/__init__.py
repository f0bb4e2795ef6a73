"""Sunlight open-data policy rules, PII screening, KCStat goal coverage and freshness.

Library API (no click, no rich):
``check_program(root=...)`` / ``run_policy(...)`` → :class:`PolicyReport`;
``goals_report(...)``; ``check_freshness(...)``; ``screen_file(...)``.
"""

from __future__ import annotations

from kcdata.policy.engine import check_program, run_policy, select_rules
from kcdata.policy.model import Finding, PolicyReport, RuleResult, RuleStatus, Scorecard
from kcdata.policy.rules import RULE_IDS, RULES, Rule
from kcdata.policy.settings import PolicySettings, load_policy_settings
from kcdata.problems import Severity

__all__ = [
    "RULES", "RULE_IDS", "Finding", "PolicyReport", "PolicySettings", "Rule", "RuleResult", "RuleStatus",
    "Scorecard", "Severity", "check_program", "load_policy_settings", "run_policy", "select_rules",
]
