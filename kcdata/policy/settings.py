"""The ``policy:`` section of ``kcdata.yaml``: rule switches (each with a reason) and thresholds.

Defaults live here so the section is optional. Turning a rule off or down to a warning without a
written reason is a configuration error (exit 3): the committee must be able to see why a guideline
of the ordinance is not enforced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kcdata.problems import Severity
from kcdata.settings import Section, Settings

DEFAULT_OPEN_FORMATS = ("csv", "tsv", "json", "geojson", "jsonl", "ndjson", "xml", "parquet", "kml", "gpkg",
                        "shp", "zip", "txt")
DEFAULT_OPEN_LICENSES = (
    "https://creativecommons.org/publicdomain/zero/1.0/",
    # opendatacommons.org spells versions "1-0" in its current URLs and "1.0" in older ones: accept both.
    "https://opendatacommons.org/licenses/pddl/",
    "https://opendatacommons.org/licenses/pddl/1-0/",
    "https://opendatacommons.org/licenses/pddl/1.0/",
    "https://opendatacommons.org/licenses/by/",
    "https://opendatacommons.org/licenses/by/1-0/",
    "https://opendatacommons.org/licenses/by/1.0/",
    "https://opendatacommons.org/licenses/odbl/",
    "https://opendatacommons.org/licenses/odbl/1-0/",
    "https://opendatacommons.org/licenses/odbl/1.0/",
    "https://creativecommons.org/licenses/by/4.0/",
    "https://creativecommons.org/licenses/by-sa/4.0/",
    "https://creativecommons.org/licenses/by/3.0/",
    "https://creativecommons.org/licenses/by-sa/3.0/",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleOverride:
    """A committee decision about one rule: off, or a changed severity, and why."""

    enabled: bool = True
    severity: Severity | None = None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PiiSettings:
    head_rows: int = 500  # always screen the first rows: headers of bad exports are often at the top
    reservoir: int = 1000  # plus a uniform sample of the rest (reservoir sampling), so big files stay fast
    min_share: float = 0.3  # a column is flagged when this share of its sampled non-empty values looks personal
    seed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySettings:
    """Everything ``kcdata policy check``, ``goals`` and ``freshness`` read from settings."""

    overrides: Mapping[str, RuleOverride] = field(default_factory=dict)
    departments: tuple[str, ...] | None = None  # the city's department ids, to find missing inventory files
    min_published_share: float = 0.5  # SUN-01: share of release-eligible datasets that are on the portal
    unpublished_max_days: int = 365  # SUN-01: how long a release-eligible item may sit unpublished
    review_max_days: int = 365  # SUN-31 and the What Works Cities "updated in 12 months" criterion
    min_goal_share: float = 0.5  # SUN-03: share of datasets linked to a KCStat goal
    open_formats: tuple[str, ...] = DEFAULT_OPEN_FORMATS
    open_licenses: tuple[str, ...] = DEFAULT_OPEN_LICENSES
    citation: str | None = None  # program-wide recommended citation template (SUN-12)
    inventory_method: str | None = None  # URL or path documenting how the inventory is kept (WWC)
    inventory_url: str | None = None  # where residents see the whole inventory online (WWC)
    freshness_grace: float | dt.timedelta = 0.25  # fraction of the period, or an ISO 8601 duration
    pii: PiiSettings = field(default_factory=PiiSettings)


def parse_grace(value: Any, section: Section | None = None) -> float | dt.timedelta:
    """``freshness_grace``: a non-negative fraction of the period, or an ISO 8601 duration string."""
    section = section or Section(Settings(), "policy", {})
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        from kcdata.policy.periodicity import parse_duration

        try:
            return parse_duration(value)
        except ValueError as exc:
            hint = "Use a fraction of the period (0.25) or an ISO 8601 duration (P2D, PT12H)."
            raise section.fail("freshness_grace", str(exc), hint=hint) from None
    raise section.fail("freshness_grace",
                       f"expected a fraction (0.25) or an ISO 8601 duration (P2D), found {value!r}")


def _overrides(section: Section, known: frozenset[str]) -> dict[str, RuleOverride]:
    rules = section.mapping("rules", hint="Write `rules:` as a mapping of rule id to {enabled|severity, reason}.")
    out: dict[str, RuleOverride] = {}
    for rule_id in rules.raw:
        if rule_id not in known:
            raise section.settings.unknown(rules.keypath(str(rule_id)), str(rule_id), sorted(known), "rule",
                                           hint="`kcdata policy rules` lists the rule ids.")
        spec = rules.mapping(str(rule_id), hint="Write a mapping such as {enabled: false, reason: ...}.")
        spec.check_keys(("enabled", "severity", "reason"), hint="Allowed: enabled, severity, reason.")
        reason = spec.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise spec.fail("reason", "a reason is required when a rule is switched off or changed",
                            hint="Add `reason: <why the committee decided this>` so the decision is on record.")
        enabled = spec.get("enabled", True)
        if not isinstance(enabled, bool):
            raise spec.fail("enabled", f"expected true or false, found {enabled!r}")
        severity = spec.get("severity")
        if severity is not None and severity not in (s.value for s in Severity):
            raise spec.fail("severity", f"expected 'error' or 'warning', found {severity!r}")
        out[str(rule_id)] = RuleOverride(enabled=enabled, severity=Severity(severity) if severity else None,
                                         reason=reason.strip())
    return out


def _pii(section: Section) -> PiiSettings:
    raw = section.mapping("pii", hint="Write `pii:` as a mapping with head_rows, reservoir, min_share, seed.")
    d = PiiSettings()
    return PiiSettings(head_rows=int(raw.number("head_rows", d.head_rows, lo=0)),
                       reservoir=int(raw.number("reservoir", d.reservoir, lo=0)),
                       min_share=float(raw.number("min_share", d.min_share, lo=0.0, hi=1.0)),
                       seed=int(raw.number("seed", d.seed, lo=0)))


KNOWN_KEYS = ("rules", "departments", "min_published_share", "unpublished_max_days", "review_max_days",
              "min_goal_share", "open_formats", "open_licenses", "citation", "inventory_method",
              "inventory_url", "freshness_grace", "pii")


def load_policy_settings(settings: Mapping[str, Any]) -> PolicySettings:
    """Parse ``policy:`` from kcdata.yaml settings; anything invalid is :class:`InputError` (exit 3)
    naming ``kcdata.yaml:line:col policy.<key>``."""
    from kcdata.policy.rules import RULE_IDS

    raw = Settings.of(settings).section("policy", hint="See docs/transparency.md for the keys.")
    raw.check_keys(KNOWN_KEYS, what="setting")
    d = PolicySettings()
    formats = raw.str_list("open_formats")
    licenses = raw.str_list("open_licenses")
    return PolicySettings(
        overrides=_overrides(raw, RULE_IDS),
        departments=raw.str_list("departments"),
        min_published_share=float(raw.number("min_published_share", d.min_published_share, lo=0.0, hi=1.0)),
        unpublished_max_days=int(raw.number("unpublished_max_days", d.unpublished_max_days, lo=0)),
        review_max_days=int(raw.number("review_max_days", d.review_max_days, lo=1)),
        min_goal_share=float(raw.number("min_goal_share", d.min_goal_share, lo=0.0, hi=1.0)),
        open_formats=tuple(f.lower().lstrip(".") for f in formats) if formats is not None else d.open_formats,
        open_licenses=licenses if licenses is not None else d.open_licenses,
        citation=raw.string("citation"),
        inventory_method=raw.string("inventory_method"),
        inventory_url=raw.string("inventory_url"),
        freshness_grace=parse_grace(raw.get("freshness_grace", d.freshness_grace), raw),
        pii=_pii(raw),
    )
