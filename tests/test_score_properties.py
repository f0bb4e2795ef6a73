"""Property tests of the scoring rules the committee relies on."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from review_program import entry

from kcdata.inventory.load import dataset_from_mapping
from kcdata.score import CRITERIA, DEFAULT_METHOD, Method, combine, score_dataset, score_inventory
from kcdata.score.engine import GATE_NON_PUBLIC, GATE_PRIVACY, GATE_PROTECTED

GOALS = ["public-safety", "infrastructure-accessibility", "finance-governance"]


@dataclass(frozen=True)
class Report:
    valid: bool
    error_count: int = 0
    rows: int | None = None


reports = st.one_of(st.none(), st.builds(lambda v, e, r: Report(valid=v, error_count=0 if v else e, rows=r),
                                         st.booleans(), st.integers(0, 500),
                                         st.one_of(st.none(), st.integers(1, 1000))))


@st.composite
def datasets(draw, dataset_id=None):
    fields = {
        "value": draw(st.sampled_from(["high", "medium", "low", None])),
        "requests": draw(st.one_of(st.none(), st.integers(0, 200))),
        "kcstat_goals": draw(st.lists(st.sampled_from(GOALS), unique=True, max_size=3)),
        "data": draw(st.sampled_from(["data/x.csv", None])),
        "schema": draw(st.sampled_from(["schemas/x.json", None])),
        "license": draw(st.sampled_from(["https://creativecommons.org/publicdomain/zero/1.0/", None])),
        "accrual_periodicity": draw(st.sampled_from(["R/P1D", "irregular", None])),
        "classification": draw(st.sampled_from(["public", "sensitive", "protected"])),
        "access_level": draw(st.sampled_from(["public", "restricted public", "non-public"])),
        "contains_pii": draw(st.sampled_from([True, False, None])),
        "status": draw(st.sampled_from(["inventoried", "proposed", "in_review", "approved"])),
        "rights": "justification",
    }
    if draw(st.booleans()):
        fields["privacy_review"] = {"by": "Law", "when": "2026-11-01", "note": "reviewed"}
    if draw(st.booleans()):
        fields["priority_override"] = {"band": draw(st.sampled_from(["P1", "P2", "P3"])), "by": "C",
                                       "when": "2026-11-01", "why": "w"}
    ident = dataset_id or draw(st.from_regex(r"[a-z]{1,8}", fullmatch=True))
    return dataset_from_mapping(entry(ident, **fields), department=draw(st.sampled_from(["water", "fire"])))


weights = st.fixed_dictionaries({c: st.integers(0, 50) for c in CRITERIA}).filter(lambda w: any(w.values()))


def method_with(w):
    return Method(version="p", weights=w, params=DEFAULT_METHOD.params, bands=DEFAULT_METHOD.bands, goals=tuple(GOALS))


@settings(max_examples=150, deadline=None)
@given(datasets(), reports, weights)
def test_score_within_bounds(d, report, w):
    s = score_dataset(dataset=d, method=method_with(w), validation=report)
    assert 0 <= s.score <= 100
    assert all(0 <= b.points <= 100 for b in s.breakdown)
    assert s.band in (None, "P1", "P2", "P3")


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({c: st.fractions(0, 100) for c in CRITERIA}), st.sampled_from(CRITERIA),
       st.fractions(0, 100), weights)
def test_raising_a_criterion_never_lowers_the_score(points, criterion, new, w):
    m = method_with(w)
    raised = dict(points, **{criterion: max(points[criterion], new)})
    assert combine(raised, m) >= combine(points, m)


@settings(max_examples=150, deadline=None)
@given(datasets(), reports, weights, st.integers(0, 100), st.sampled_from(GOALS))
def test_more_demand_value_goals_readiness_never_lower_the_score(d, report, w, extra, goal):
    from dataclasses import replace

    from kcdata.inventory.model import Value

    m = method_with(w)
    before = score_dataset(dataset=d, method=m, validation=report).score
    better = [replace(d, requests=(d.requests or 0) + extra),
              replace(d, value=Value.HIGH),
              replace(d, kcstat_goals=tuple(dict.fromkeys([*d.kcstat_goals, goal]))),
              replace(d, data=d.data or "data/x.csv")]
    for b in better:
        assert score_dataset(dataset=b, method=m, validation=report).score >= before
    if report is not None and not report.valid:
        assert score_dataset(dataset=d, method=m, validation=Report(valid=True, rows=report.rows)).score >= before


@settings(max_examples=80, deadline=None)
@given(st.lists(datasets(), min_size=1, max_size=8, unique_by=lambda d: d.id), weights, st.integers(1, 1000),
       st.fractions(Fraction(1, 100), 100))
def test_scaling_weights_keeps_the_ranking(ds, w, k, f):
    base = score_inventory(inventory=ds, method=method_with(w))
    for scaled_w in ({c: v * k for c, v in w.items()}, {c: v * f for c, v in w.items()}):
        scaled = score_inventory(inventory=ds, method=method_with(scaled_w))
        assert [(s.id, s.rank, s.band, s.score) for s in scaled] == [(s.id, s.rank, s.band, s.score) for s in base]


@settings(max_examples=150, deadline=None)
@given(datasets(), reports, weights)
def test_gates_always_win(d, report, w):
    s = score_inventory(inventory=[d], method=method_with(w), validations={d.id: report})[0]
    protected = d.classification.value == "protected"
    non_public = d.access_level.value == "non-public"
    unreviewed = (d.classification.value == "sensitive" or d.contains_pii is True) and "privacy_review" not in d.extra
    if protected or non_public or unreviewed:
        assert s.rank is None and s.band is None and s.excluded_by
        assert (GATE_PROTECTED in s.excluded_by) == protected
        assert (GATE_NON_PUBLIC in s.excluded_by) == non_public
        if unreviewed and not (protected or non_public):
            assert GATE_PRIVACY in s.excluded_by
    else:
        assert s.rank == 1 and s.band is not None and s.excluded_by == ()
