from __future__ import annotations

from dataclasses import dataclass

import pytest
from review_program import entry

from kcdata.errors import NotFoundError
from kcdata.inventory.load import dataset_from_mapping
from kcdata.score import DEFAULT_METHOD, Demand, explain, score_dataset, score_inventory


@dataclass(frozen=True)
class Report:
    valid: bool
    error_count: int = 0
    rows: int | None = None


def ds(dataset_id: str, department: str = "water", **fields):
    return dataset_from_mapping(entry(dataset_id, **fields), department=department)


def test_breakdown_adds_up_to_score():
    s = score_dataset(dataset=ds("a"), method=DEFAULT_METHOD, validation=Report(valid=True, rows=10))
    assert [b.criterion for b in s.breakdown] == ["value", "demand", "alignment", "readiness", "quality", "effort"]
    assert abs(sum(b.contribution for b in s.breakdown) - s.score) < 0.1
    assert 0 <= s.score <= 100
    by = {b.criterion: b for b in s.breakdown}
    assert by["value"].points == 100 and by["value"].input == "high"
    assert by["demand"].points == 50  # 10 of 20 requests
    assert by["alignment"].points == 60
    assert by["readiness"].points == 100 and by["quality"].points == 100
    assert "10 requests" in by["demand"].sentence


def test_quality_uses_error_rate():
    bad = score_dataset(dataset=ds("a"), method=DEFAULT_METHOD, validation=Report(valid=False, error_count=1, rows=100))
    q = {b.criterion: b for b in bad.breakdown}["quality"]
    assert q.points == 80.0  # 1% of rows with errors, zero points at 5%
    never = score_dataset(dataset=ds("a"), method=DEFAULT_METHOD)
    assert {b.criterion: b for b in never.breakdown}["quality"].points == 50


def test_portal_demand_counts_when_stronger():
    base = score_dataset(dataset=ds("a", requests=0), method=DEFAULT_METHOD)
    more = score_dataset(dataset=ds("a", requests=0), method=DEFAULT_METHOD, demand=Demand(views=5000))
    assert {b.criterion: b.points for b in more.breakdown}["demand"] == 100
    assert more.score > base.score


@pytest.mark.parametrize("fields, gate", [
    ({"classification": "protected", "rights": "x"}, "protected"),
    ({"access_level": "non-public", "rights": "x"}, "non-public"),
    ({"classification": "sensitive", "rights": "x"}, "needs-privacy-review"),
    ({"contains_pii": True}, "needs-privacy-review"),
    ({"status": "published"}, "already-published"),
    ({"status": "withheld", "rights": "x"}, "withheld"),
    ({"status": "retired"}, "retired"),
])
def test_gates_exclude(fields, gate):
    ranking = score_inventory(inventory=[ds("a", **fields), ds("b")], method=DEFAULT_METHOD)
    a = next(s for s in ranking if s.id == "a")
    assert a.rank is None and a.band is None and gate in a.excluded_by
    assert ranking[0].id == "b" and ranking[0].rank == 1 and ranking[-1].id == "a"


def test_privacy_review_note_lifts_the_gate():
    reviewed = ds("a", contains_pii=True, privacy_review={"by": "Law", "when": "2026-11-01", "note": "names dropped"})
    s = score_dataset(dataset=reviewed, method=DEFAULT_METHOD)
    assert s.excluded_by == () and s.band is not None
    empty = ds("a", contains_pii=True, privacy_review={"by": "Law", "note": " "})
    assert score_dataset(dataset=empty, method=DEFAULT_METHOD).excluded_by == ("needs-privacy-review",)


def test_ties_broken_by_id_and_department_rank():
    ranking = score_inventory(inventory=[ds("c"), ds("a"), ds("b", department="fire")], method=DEFAULT_METHOD)
    assert [s.id for s in ranking] == ["a", "b", "c"]
    assert [s.rank for s in ranking] == [1, 2, 3]
    assert [s.department_rank for s in ranking] == [1, 1, 2]


def test_override_sets_band_and_moves_rank_but_not_past_gates():
    override = {"band": "P1", "by": "Committee", "when": "2026-11-20", "why": "Council request"}
    low = ds("low", value="low", requests=0, kcstat_goals=[])
    ranking = score_inventory(inventory=[ds("a", value="medium"), ds("low", value="low", requests=0, kcstat_goals=[],
                                                                      priority_override=override)],
                              method=DEFAULT_METHOD)
    top = ranking[0]
    assert top.id == "low" and top.band == "P1" and top.computed_band != "P1"
    assert top.override is not None and top.override.by == "Committee"
    plain = score_dataset(dataset=low, method=DEFAULT_METHOD)
    assert top.score == plain.score  # the override changes the band, never the score
    gated = score_dataset(dataset=ds("p", classification="protected", rights="x", priority_override=override),
                          method=DEFAULT_METHOD)
    assert gated.band is None and gated.override is not None


def test_explain_sentence_and_unknown_id():
    ranking = score_inventory(inventory=[ds("water-main-breaks"), ds("b", value="low")], method=DEFAULT_METHOD)
    ex = explain(ranking=ranking, dataset_id="water-main-breaks")
    assert ex.rank == 1 and ex.ranked_total == 2
    assert f"ranks 1 of 2 with {ex.score:g}/100, band {ex.band}" in ex.sentence
    assert "public value judged high" in ex.sentence and DEFAULT_METHOD.version in ex.sentence
    with pytest.raises(NotFoundError) as info:
        explain(ranking=ranking, dataset_id="water-main-break")
    assert "water-main-breaks" in (info.value.hint or "")


def test_explain_gated_and_override():
    override = {"band": "P2", "by": "Committee", "when": "2026-11-20", "why": "Budget"}
    ranking = score_inventory(inventory=[ds("p", classification="protected", rights="x", priority_override=override)],
                              method=DEFAULT_METHOD)
    ex = explain(ranking=ranking, dataset_id="p")
    assert "not ranked for release" in ex.sentence and "protected" in ex.sentence
    assert "a gate always wins" in ex.sentence and ex.gates[0]["gate"] == "protected"


def test_unknown_goal_not_counted():
    from kcdata.score import Method

    m = Method(version="x", weights=DEFAULT_METHOD.weights, params=DEFAULT_METHOD.params, bands=DEFAULT_METHOD.bands,
               goals=("public-safety",))
    s = score_dataset(dataset=ds("a", kcstat_goals=["public-safety", "made-up"]), method=m)
    al = {b.criterion: b for b in s.breakdown}["alignment"]
    assert al.points == 60 and "made-up" in al.reason
