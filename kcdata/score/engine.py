"""Scoring datasets for release: pure functions over inventory entries and a :class:`Method`.

Each criterion maps inventory fields to 0–100 points; the score is the weighted mean of the
points (0–100). Arithmetic is exact (``Fraction``) so that scaling every weight by the same
factor gives exactly the same scores and ranking. Risk is a gate, not a weight: a gated
dataset is never ranked, whatever its points, weights or override.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from kcdata.inventory.model import RELEASE_FIELDS, AccessLevel, Classification, Dataset, Inventory, Status
from kcdata.score.method import BANDS, CRITERIA, Method

# Gate codes (stable, kebab-case: they appear in --json as ``excluded_by``).
GATE_PROTECTED = "protected"
GATE_NON_PUBLIC = "non-public"
GATE_PRIVACY = "needs-privacy-review"
GATE_PUBLISHED = "already-published"
GATE_WITHHELD = "withheld"
GATE_RETIRED = "retired"
GATE_REASONS = {
    GATE_PROTECTED: "classification is protected: never ranked for release",
    GATE_NON_PUBLIC: "access level is non-public: not eligible for release",
    GATE_PRIVACY: "sensitive or contains personal information, and no privacy_review note is recorded",
    GATE_PUBLISHED: "already published",
    GATE_WITHHELD: "withheld from release by decision (see rights)",
    GATE_RETIRED: "retired from the portal",
}
PRIVACY_FIELD = "privacy_review"
_HUNDRED = Fraction(100)
OVERRIDE_FIELD = "priority_override"


class ValidationLike(Protocol):
    """What scoring needs from a validation result (``kcdata.validate.TableReport``)."""

    @property
    def valid(self) -> bool: ...

    @property
    def error_count(self) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Demand:
    """Portal usage for one dataset, when known (views and downloads in the last 12 months)."""

    views: int | None = None
    downloads: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CriterionScore:
    criterion: str
    input: Any  # the inventory/validation facts the points came from
    points: float  # 0–100
    weight: float  # the method's weight for this criterion
    contribution: float  # points × weight ÷ total weight: what it adds to the 0–100 score
    reason: str  # the facts in words, e.g. "14 requests in the last 12 months"
    sentence: str  # reason plus the arithmetic


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """A committee decision setting a dataset's band (``priority_override`` in the inventory)."""

    band: str
    by: str
    when: str
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoredDataset:
    id: str
    department: str
    title: str
    status: str
    score: float  # 0–100, one decimal
    rank: int | None  # citywide, 1 = release first; None when excluded by a gate
    band: str | None  # effective band (override wins over computed); None when excluded
    computed_band: str | None
    department_rank: int | None
    breakdown: tuple[CriterionScore, ...]
    excluded_by: tuple[str, ...]
    override: Override | None
    method_version: str
    _exact: Fraction = field(default=Fraction(0), repr=False, compare=False)


def privacy_review_note(dataset: Dataset) -> str | None:
    """The recorded release review of a sensitive/PII dataset, or None.

    ``privacy_review`` may be a non-empty string or a mapping with a non-empty ``note``
    (``{by, when, note}``, written by ``kcdata review privacy``).
    """
    raw = dataset.extra.get(PRIVACY_FIELD)
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    if isinstance(raw, Mapping):
        note = raw.get("note")
        if isinstance(note, str) and note.strip():
            return note.strip()
    return None


def needs_privacy_review(dataset: Dataset) -> bool:
    return dataset.classification is Classification.SENSITIVE or dataset.contains_pii is True


def gates(dataset: Dataset) -> tuple[str, ...]:
    """The gates that keep ``dataset`` out of the ranking (empty: it is ranked)."""
    out: list[str] = []
    if dataset.classification is Classification.PROTECTED:
        out.append(GATE_PROTECTED)
    if dataset.access_level is AccessLevel.NON_PUBLIC:
        out.append(GATE_NON_PUBLIC)
    if needs_privacy_review(dataset) and privacy_review_note(dataset) is None and not out:
        out.append(GATE_PRIVACY)
    status_gate = {Status.PUBLISHED: GATE_PUBLISHED, Status.WITHHELD: GATE_WITHHELD, Status.RETIRED: GATE_RETIRED}
    if dataset.status in status_gate:
        out.append(status_gate[dataset.status])
    return tuple(out)


def read_override(dataset: Dataset) -> Override | None:
    """The committee's band override recorded on the entry, if well formed."""
    raw = dataset.extra.get(OVERRIDE_FIELD)
    if not isinstance(raw, Mapping) or raw.get("band") not in BANDS:
        return None
    when = raw.get("when")
    return Override(band=str(raw["band"]), by=str(raw.get("by") or ""),
                    when=when.isoformat() if isinstance(when, dt.date) else str(when or ""),
                    why=str(raw.get("why") or ""))


def _demand(value: Demand | Mapping[str, Any] | None) -> Demand | None:
    if value is None or isinstance(value, Demand):
        return value
    return Demand(views=value.get("views"), downloads=value.get("downloads"))


# -- criteria: each returns (input, points 0–100 as Fraction, sentence without the points) ---------

def _value(ds: Dataset, m: Method) -> tuple[Any, Fraction, str]:
    key = ds.value.value if ds.value is not None else "unset"
    pts = m.param("value", key)
    text = f"public value judged {key} by the liaison" if ds.value else "public value not yet judged"
    return key, pts, text


def _ratio(count: int | None, full: Fraction) -> Fraction:
    if not count or count <= 0:
        return Fraction(0)
    return min(Fraction(1), Fraction(count) / full)


def _demand_points(ds: Dataset, m: Method, demand: Demand | None) -> tuple[Any, Fraction, str]:
    requests = ds.requests or 0
    views = demand.views if demand else None
    downloads = demand.downloads if demand else None
    # The strongest signal counts: demand is shown by requests OR by portal use, not their sum.
    memo = m.memo()
    key = ("demand", requests, views, downloads)
    pts = memo.get(key)
    if pts is None:
        pts = memo[key] = 100 * max(_ratio(requests, m.param("demand", "requests_for_full_points")),
                                    _ratio(views, m.param("demand", "views_for_full_points")),
                                    _ratio(downloads, m.param("demand", "downloads_for_full_points")))
    parts = [f"{requests} request{'s' if requests != 1 else ''} in the last 12 months"
             if ds.requests is not None else "requests not counted"]
    if views is not None:
        parts.append(f"{views:,} portal views")
    if downloads is not None:
        parts.append(f"{downloads:,} downloads")
    return {"requests": ds.requests, "views": views, "downloads": downloads}, pts, ", ".join(parts)


def _alignment(ds: Dataset, m: Method) -> tuple[Any, Fraction, str]:
    goals = [g for g in ds.kcstat_goals if not m.goals or g in m.goals]
    unknown = [g for g in ds.kcstat_goals if g not in goals]
    pts = min(_HUNDRED, len(goals) * m.param("alignment", "points_per_goal"))
    text = f"informs {len(goals)} KCStat goal{'s' if len(goals) != 1 else ''}"
    if goals:
        text += f" ({', '.join(goals)})"
    if unknown:
        text += f"; not counted, unknown goal id: {', '.join(unknown)}"
    return list(ds.kcstat_goals), pts, text


def _readiness(ds: Dataset, m: Method, validation: ValidationLike | None) -> tuple[Any, Fraction, str]:
    schedule = ds.accrual_periodicity
    passing = validation is not None and bool(validation.valid)
    # 0, 1/2 (irregular) or 1: a declared repeating schedule suggests an automated feed.
    sched = 0 if not schedule else 1 if schedule != "irregular" else 2
    key = ("readiness", bool(ds.data), bool(ds.schema), passing, sched)
    memo = m.memo()
    pts = memo.get(key)
    if pts is None:
        share = {0: Fraction(0), 1: Fraction(1), 2: Fraction(1, 2)}[sched]
        checks = {"data_file": Fraction(int(bool(ds.data))), "schema": Fraction(int(bool(ds.schema))),
                  "validation_passing": Fraction(int(passing)), "update_schedule": share}
        total = sum((m.param("readiness", k) for k in checks), Fraction(0))
        earned = sum((checks[k] * m.param("readiness", k) for k in checks), Fraction(0))
        pts = memo[key] = 100 * earned / total
    missing = []
    if not ds.data:
        missing.append("no data file")
    if not ds.schema:
        missing.append("no schema")
    if validation is None:
        missing.append("not validated")
    elif not validation.valid:
        missing.append("validation failing")
    if not schedule:
        missing.append("no update schedule")
    elif schedule == "irregular":
        missing.append("irregular updates")
    present = [name for name, ok in (("data file", ds.data), ("schema", ds.schema),
                                     ("passing validation", validation is not None and validation.valid),
                                     ("update schedule", schedule and schedule != "irregular")) if ok]
    if not missing:
        text = "ready: data file, schema, passing validation, update schedule"
    elif present:
        text = f"has {', '.join(present)}; {', '.join(missing)}"
    else:
        text = ", ".join(missing)
    facts = {"data": ds.data is not None, "schema": ds.schema is not None,
             "validation_passing": None if validation is None else bool(validation.valid),
             "accrual_periodicity": schedule}
    return facts, pts, text


def _quality(m: Method, validation: ValidationLike | None) -> tuple[Any, Fraction, str]:
    if validation is None:
        return None, m.param("quality", "not_validated"), "never validated"
    errors = int(validation.error_count or 0)
    rows = getattr(validation, "rows", None)
    if errors == 0:
        return {"errors": 0, "rows": rows}, Fraction(100), "last validation found no errors"
    # Without a row count any error is treated as the worst rate.
    rate = Fraction(errors, rows) if isinstance(rows, int) and rows > 0 else Fraction(1)
    limit = m.param("quality", "error_rate_for_zero_points")
    pts = 100 * (1 - min(Fraction(1), rate / limit))
    rows_text = f" in {rows:,} rows ({float(rate):.2%})" if isinstance(rows, int) and rows > 0 else ""
    return {"errors": errors, "rows": rows}, pts, f"last validation found {errors:,} error(s){rows_text}"


def _effort(ds: Dataset, m: Method) -> tuple[Any, Fraction, str]:
    p = m.params["effort"]
    off = Fraction(0)
    parts = []
    if ds.classification is Classification.SENSITIVE:
        off += m.param("effort", "sensitive")
        parts.append(f"sensitive classification needs review (−{p['sensitive']:g})")
    if ds.contains_pii:
        off += m.param("effort", "contains_pii")
        parts.append(f"personal information to redact (−{p['contains_pii']:g})")
    missing = [f for f in RELEASE_FIELDS if getattr(ds, f) in (None, (), "")]
    if missing:
        off += len(missing) * m.param("effort", "missing_release_field")
        parts.append(f"{len(missing)} release field(s) missing: {', '.join(missing)} "
                     f"(−{len(missing) * p['missing_release_field']:g})")
    pts = max(Fraction(0), 100 - off)
    text = "little extra work to release" if not parts else "; ".join(parts)
    return {"classification": ds.classification.value, "contains_pii": ds.contains_pii,
            "missing_fields": missing}, pts, text


def criterion_points(*, dataset: Dataset, method: Method, validation: ValidationLike | None = None,
                     demand: Demand | Mapping[str, Any] | None = None) -> dict[str, tuple[Any, Fraction, str]]:
    """Per criterion: ``(input, points 0–100, sentence)`` for one dataset."""
    return {
        "value": _value(dataset, method),
        "demand": _demand_points(dataset, method, _demand(demand)),
        "alignment": _alignment(dataset, method),
        "readiness": _readiness(dataset, method, validation),
        "quality": _quality(method, validation),
        "effort": _effort(dataset, method),
    }


def combine(points: Mapping[str, Fraction], method: Method) -> Fraction:
    """The 0–100 score: the weight-weighted mean of the criteria's points."""
    total = method.total_weight
    return sum((Fraction(points[c]) * method.weight(c) for c in CRITERIA), Fraction(0)) / total


def _r1(x: Fraction) -> float:
    return round(float(x), 1)


def score_dataset(*, dataset: Dataset, method: Method, validation: ValidationLike | None = None,
                  demand: Demand | Mapping[str, Any] | None = None) -> ScoredDataset:
    """Score one dataset (unranked: ``rank`` is filled in by :func:`score_inventory`)."""
    facts = criterion_points(dataset=dataset, method=method, validation=validation, demand=demand)
    total = method.total_weight
    ftotal = float(total)
    breakdown = []
    weighted = Fraction(0)
    memo = method.memo()
    for c in CRITERIA:
        inp, pts, text = facts[c]
        product = memo.get((c, pts))
        if product is None:  # points repeat across datasets: multiply each distinct value once
            product = memo[(c, pts)] = pts * method.weight(c)
        weighted += product
        points, weight, contribution = _r1(pts), float(method.weights[c]), round(float(product) / ftotal, 1)
        breakdown.append(CriterionScore(criterion=c, input=inp, points=points, weight=weight,
                                        contribution=contribution, reason=text,
                                        sentence=f"{text}: {points:g} points × weight {weight:g} → {contribution:g}"))
    exact = weighted / total  # exact: equal to combine(points, method)
    excluded = gates(dataset)
    override = read_override(dataset)
    computed = None if excluded else method.band_for(exact)
    band = None if excluded else (override.band if override else computed)
    return ScoredDataset(id=dataset.id, department=dataset.department, title=dataset.title,
                         status=dataset.status.value, score=_r1(exact), rank=None, band=band,
                         computed_band=computed, department_rank=None, breakdown=tuple(breakdown),
                         excluded_by=excluded, override=override, method_version=method.version, _exact=exact)


def rank_key(s: ScoredDataset) -> tuple[int, Fraction, str]:
    """Ranked order: effective band (so an override moves a dataset), then score, then id."""
    return (BANDS.index(s.band) if s.band else len(BANDS), -s._exact, s.id)


def score_inventory(*, inventory: Inventory | Iterable[Dataset], method: Method,
                    validations: Mapping[str, ValidationLike | None] | None = None,
                    demand: Mapping[str, Demand | Mapping[str, Any]] | None = None) -> tuple[ScoredDataset, ...]:
    """Score and rank every dataset: ranked ones first (rank 1 = release first), then excluded ones.

    Deterministic: equal scores are ordered by id.
    """
    datasets = inventory.datasets if isinstance(inventory, Inventory) else tuple(inventory)
    validations = validations or {}
    demand = demand or {}
    scored = [score_dataset(dataset=d, method=method, validation=validations.get(d.id), demand=demand.get(d.id))
              for d in datasets]
    ranked = sorted((s for s in scored if not s.excluded_by), key=rank_key)
    excluded = sorted((s for s in scored if s.excluded_by), key=lambda s: (-s._exact, s.id))
    per_department: dict[str, int] = {}
    out: list[ScoredDataset] = []
    from dataclasses import replace

    for i, s in enumerate(ranked, start=1):
        per_department[s.department] = per_department.get(s.department, 0) + 1
        out.append(replace(s, rank=i, department_rank=per_department[s.department]))
    out.extend(excluded)
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """Why a dataset ranks where it does, in words a liaison can repeat in the committee meeting."""

    id: str
    title: str
    rank: int | None
    ranked_total: int
    score: float
    band: str | None
    status: str
    method_version: str
    breakdown: tuple[CriterionScore, ...]
    gates: tuple[dict[str, str], ...]
    override: Override | None
    sentence: str


def explain(*, ranking: Sequence[ScoredDataset], dataset_id: str) -> Explanation:
    """Explain one dataset's place in ``ranking`` (from :func:`score_inventory`).

    Raises :class:`~kcdata.errors.NotFoundError` with a did-you-mean for an unknown id.
    """
    import difflib

    from kcdata.errors import NotFoundError

    found = next((s for s in ranking if s.id == dataset_id), None)
    if found is None:
        close = difflib.get_close_matches(dataset_id, [s.id for s in ranking], n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else \
            "run `kcdata score` to see the dataset ids"
        raise NotFoundError(f"unknown dataset id '{dataset_id}'", hint=hint)
    s = found
    total = sum(1 for r in ranking if r.rank is not None)
    gate_list = tuple({"gate": g, "reason": GATE_REASONS[g]} for g in s.excluded_by)
    if s.excluded_by:
        head = (f"{s.title} ({s.id}) is not ranked for release: "
                + "; ".join(GATE_REASONS[g] for g in s.excluded_by)
                + f". Its criteria would give {s.score:g}/100 under scoring method {s.method_version}.")
    else:
        top = sorted(s.breakdown, key=lambda b: (-b.contribution, CRITERIA.index(b.criterion)))[:3]
        reasons = "; ".join(f"{b.criterion}: {b.reason} (+{b.contribution:g})" for b in top)
        head = (f"{s.title} ({s.id}) ranks {s.rank} of {total} with {s.score:g}/100, band {s.band}, "
                f"under scoring method {s.method_version}. Biggest factors — {reasons}.")
        weak = [b for b in s.breakdown if b.points < 50 and b.weight > 0]
        if weak:
            head += " Held back by " + "; ".join(f"{b.criterion} ({b.reason})" for b in weak) + "."
    if s.override is not None:
        o = s.override
        applied = "" if not s.excluded_by else " (not applied: a gate always wins)"
        head += (f" The committee set band {o.band} (computed {s.computed_band or '—'}) on {o.when}, "
                 f"by {o.by}: {o.why}{applied}.")
    return Explanation(id=s.id, title=s.title, rank=s.rank, ranked_total=total, score=s.score, band=s.band,
                       status=s.status, method_version=s.method_version, breakdown=s.breakdown, gates=gate_list,
                       override=s.override, sentence=head)
