"""KCStat goal coverage: which citywide goals have published data behind them.

Goals live in ``kcdata.yaml`` ``goals:`` (id, name, description, metrics). Datasets link to them with
``kcstat_goals``. A goal with no published dataset is a finding: KCStat cannot show residents the data
behind that priority. A link to a goal id that does not exist is a finding too.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kcdata.inventory.model import Inventory, Status
from kcdata.policy.model import ScoreInfo
from kcdata.settings import Section, Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Goal:
    id: str
    name: str
    description: str = ""
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkedDataset:
    id: str
    title: str
    department: str
    status: str
    portal_id: str | None = None
    score: float | None = None
    rank: int | None = None
    band: str | None = None
    excluded_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GoalCoverage:
    id: str
    name: str
    description: str
    metrics: tuple[str, ...]
    linked: int
    published: tuple[LinkedDataset, ...]
    unpublished: tuple[LinkedDataset, ...]  # in rank order when scores are known

    @property
    def has_published(self) -> bool:
        return bool(self.published)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownGoalRef:
    dataset: str
    goal: str
    file: str | None
    line: int | None
    suggestion: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GoalsReport:
    goals: tuple[GoalCoverage, ...]
    without_published: tuple[str, ...]
    unknown_refs: tuple[UnknownGoalRef, ...]
    unlinked: tuple[str, ...]  # active datasets linked to no goal
    scored: bool  # whether unpublished datasets carry scores

    @property
    def has_findings(self) -> bool:
        return bool(self.without_published or self.unknown_refs)


def load_goals(settings: Mapping[str, Any]) -> tuple[Goal, ...]:
    """The ``goals:`` list of kcdata.yaml; malformed entries are :class:`InputError` (exit 3) naming
    ``kcdata.yaml:line:col goals[i]``."""
    top = Settings.of(settings)
    raw = top.get("goals")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise top.fail("goals", "expected a list of {id, name, description, metrics}")
    goals: list[Goal] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"goals[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or not item["id"].strip():
            raise top.fail(where, "each goal needs an `id` (a slug) and a `name`",
                           hint="e.g. - {id: public-safety, name: Public Safety}")
        Section(top, where, item).check_keys(("id", "name", "description", "metrics"))
        gid = item["id"].strip()
        if gid in seen:
            raise top.fail(f"{where}.id", f"goal id '{gid}' is used twice", hint="Goal ids must be unique.")
        seen.add(gid)
        metrics = item.get("metrics") or []
        if not isinstance(metrics, list):
            raise top.fail(f"{where}.metrics", "expected a list of metric names")
        goals.append(Goal(id=gid, name=str(item.get("name") or gid), description=str(item.get("description") or ""),
                          metrics=tuple(str(m) for m in metrics)))
    return tuple(goals)


def goals_report(*, inventory: Inventory, goals: Sequence[Goal],
                 scores: Mapping[str, ScoreInfo] | None = None) -> GoalsReport:
    """Per goal: datasets linked, published, and unpublished with their score/band (when scores are given)."""
    ids = {g.id for g in goals}
    live = [d for d in inventory.datasets if d.status is not Status.RETIRED]
    coverage: list[GoalCoverage] = []
    for goal in goals:
        linked = [d for d in live if goal.id in d.kcstat_goals]
        published: list[LinkedDataset] = []
        unpublished: list[LinkedDataset] = []
        for d in linked:
            info = (scores or {}).get(d.id)
            item = LinkedDataset(id=d.id, title=d.title, department=d.department, status=d.status.value,
                                 portal_id=d.portal_id, score=info.score if info else None,
                                 rank=info.rank if info else None, band=info.band if info else None,
                                 excluded_by=info.excluded_by if info else ())
            (published if d.status is Status.PUBLISHED else unpublished).append(item)
        unpublished.sort(key=lambda x: (x.rank is None, x.rank or 0, x.id))
        coverage.append(GoalCoverage(id=goal.id, name=goal.name, description=goal.description, metrics=goal.metrics,
                                     linked=len(linked), published=tuple(sorted(published, key=lambda x: x.id)),
                                     unpublished=tuple(unpublished)))
    unknown: list[UnknownGoalRef] = []
    for d in live:
        for g in d.kcstat_goals:
            if g not in ids:
                close = difflib.get_close_matches(g, sorted(ids), n=1)
                unknown.append(UnknownGoalRef(dataset=d.id, goal=g, file=d.source.file if d.source else None,
                                              line=d.source.line if d.source else None,
                                              suggestion=close[0] if close else None))
    return GoalsReport(goals=tuple(coverage), without_published=tuple(c.id for c in coverage if not c.has_published),
                       unknown_refs=tuple(unknown), unlinked=tuple(sorted(d.id for d in live if not d.kcstat_goals)),
                       scored=scores is not None)
