"""The workflow state machine and its gates, without files."""

from __future__ import annotations

import itertools

import pytest
from review_program import entry

from kcdata.errors import InputError, RefusedError
from kcdata.inventory.load import dataset_from_mapping
from kcdata.inventory.model import Status
from kcdata.review import Action, ReleaseFacts, allowed_actions, plan_transition

GOOD_FACTS = ReleaseFacts(validation_valid=True, validation_current=True, schema_fields=("row_id", "name"),
                          row_id_unique=True)
LEGAL = {
    ("propose", "inventoried"): "proposed",
    ("submit", "proposed"): "in_review",
    ("approve", "in_review"): "approved",
    ("reject", "in_review"): "proposed",
    ("withhold", "inventoried"): "withheld",
    ("withhold", "proposed"): "withheld",
    ("withhold", "in_review"): "withheld",
    ("retire", "published"): "retired",
    ("publish", "approved"): "published",
    ("publish", "published"): "published",
}


def ds(**fields):
    return dataset_from_mapping(entry("a", **fields), department="water")


ALL_PAIRS = list(itertools.product([a.value for a in Action], [s.value for s in Status]))


@pytest.mark.parametrize("action, status", ALL_PAIRS)
def test_every_action_from_every_state(action, status):
    d = ds(status=status)
    key = (action, status)
    if key in LEGAL:
        t, _checks = plan_transition(dataset=d, action=action, note="because", facts=GOOD_FACTS)
        assert t.target.value == LEGAL[key]
    else:
        with pytest.raises(RefusedError) as info:
            plan_transition(dataset=d, action=action, note="because", facts=GOOD_FACTS)
        err = info.value
        assert err.exit_code == 5 and err.code == "illegal-transition"
        assert err.details["allowed"] == list(allowed_actions(Status(status)))
        for allowed in err.details["allowed"]:
            assert (allowed, status) in LEGAL


def test_allowed_actions_table():
    assert allowed_actions(Status.INVENTORIED) == ("propose", "withhold")
    assert allowed_actions(Status.IN_REVIEW) == ("approve", "reject", "withhold")
    assert allowed_actions(Status.RETIRED) == ()
    assert allowed_actions(Status.APPROVED) == ()  # publishing is kcdata publish's step


@pytest.mark.parametrize("action, status", [("reject", "in_review"), ("withhold", "proposed")])
def test_note_required(action, status):
    with pytest.raises(InputError) as info:
        plan_transition(dataset=ds(status=status), action=action, note="  ")
    assert info.value.code == "note-required" and info.value.exit_code == 3


def test_propose_is_not_gated():
    bare = dataset_from_mapping({"id": "x", "title": "X", "description": "d", "contact": {"name": "n"},
                                 "access_level": "public", "status": "inventoried"}, department="water")
    t, checks = plan_transition(dataset=bare, action="propose", note=None)
    assert t.target is Status.PROPOSED and checks == ()


def failing(d, action, facts=None):
    with pytest.raises(RefusedError) as info:
        plan_transition(dataset=d, action=action, note=None, facts=facts)
    assert info.value.code == "gate-failed" and info.value.exit_code == 5
    return {c["name"] for c in info.value.details["checks"] if not c["passed"]}


def test_submit_gate_lists_all_missing_metadata():
    d = ds(status="proposed", license=None, theme=None, row_identifier=None)
    assert failing(d, "submit") == {"release-metadata"}
    with pytest.raises(RefusedError) as info:
        plan_transition(dataset=d, action="submit", note=None)
    assert "missing license, theme, row_identifier" in info.value.message


def test_submit_gate_refuses_protected_and_wants_rights():
    d = ds(status="proposed", classification="protected")
    assert failing(d, "submit") == {"release-eligible", "rights"}


def test_approve_gate_lists_every_failing_check():
    d = ds(status="in_review", license="https://example.org/all-rights-reserved", contains_pii=True)
    facts = ReleaseFacts(validation_valid=False, validation_current=True, validation_errors=3,
                         schema_fields=("name",), row_id_unique=True)
    assert failing(d, "approve", facts) == {"open-license", "validation-passing", "privacy-reviewed", "row-identifier"}


def test_approve_gate_details():
    d = ds(status="in_review")
    assert failing(d, "approve", ReleaseFacts()) == {"validation-passing", "row-identifier"}
    stale = ReleaseFacts(validation_valid=True, validation_current=False, schema_fields=("row_id",), row_id_unique=True)
    assert failing(d, "approve", stale) == {"validation-passing"}
    dup = ReleaseFacts(validation_valid=True, validation_current=True, schema_fields=("row_id",), row_id_unique=False,
                       row_id_problem="'row_id' value '2' repeats (row 4)")
    assert failing(d, "approve", dup) == {"row-identifier"}
    undeclared = ds(status="in_review", contains_pii=None)
    assert failing(undeclared, "approve", GOOD_FACTS) == {"privacy-reviewed"}
    reviewed = ds(status="in_review", classification="sensitive", rights="r",
                  privacy_review={"by": "Law", "note": "addresses generalised to block"})
    t, checks = plan_transition(dataset=reviewed, action="approve", note=None, facts=GOOD_FACTS)
    assert t.target is Status.APPROVED and all(c.passed for c in checks)
    assert {c.name for c in checks} >= {"open-license", "validation-passing", "privacy-reviewed", "row-identifier",
                                        "release-metadata", "release-eligible"}


def test_unknown_action():
    with pytest.raises(InputError):
        plan_transition(dataset=ds(), action="publishh", note=None)
