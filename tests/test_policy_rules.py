"""Each policy rule passes and fails on purpose-built inventories."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st
from transparency_helpers import GOOD_POLICY, SCHEMA, TODAY, good_dataset, make_program, scoring_section

from kcdata.config import load_settings
from kcdata.inventory import load_inventory
from kcdata.policy import RULES, RuleStatus, check_program, load_policy_settings, run_policy
from kcdata.policy.model import ScoreInfo, ValidationInfo

NO_LATLON = {"fields": [{"name": "break_id", "type": "string", "description": "id"}], "primaryKey": ["break_id"]}
UNDESCRIBED = {"fields": [{"name": "break_id", "type": "string"}, {"name": "reported", "type": "date"}],
               "primaryKey": ["break_id"]}
DUP_CSV = "break_id,reported,latitude,longitude\nWO-1,2026-01-02,39.1,-94.5\nWO-1,2026-01-03,39.2,-94.6\n"
EMAIL_CSV = "break_id,reported,latitude,longitude,reporter\n" + "".join(
    f"WO-{i},2026-01-02,39.1,-94.5,person{i}@example.org\n" for i in range(20))
OLD = [{"who": "liaison", "when": "2024-01-05", "from": "inventoried", "to": "proposed"}]
RETIRED_NOTE = [{"who": "odo", "when": "2026-01-05", "from": "published", "to": "retired",
                 "note": "Replaced by the 2026 dataset."}]
NON_PUBLIC = good_dataset(id="water-customer-accounts", access_level="non-public", classification="protected",
                          contains_pii=True, status="withheld", portal_id=None,
                          rights="Customer billing records are confidential under RSMo 610.021.")


def case(ds: dict[str, Any] | None = None, *, extra: list[dict[str, Any]] | None = None,
         policy: dict[str, Any] | None = None, files: dict[str, str] | None = None,
         program: dict[str, Any] | None = None, departments: dict[str, list[dict[str, Any]]] | None = None
         ) -> dict[str, Any]:
    deps = departments or {"water": [good_dataset(**(ds or {}))] + (extra or [])}
    return {"departments": deps, "policy": {**GOOD_POLICY, **(policy or {})}, "files": files, "program": program}


APPROVED = {"status": "approved", "portal_id": None, "target_release": "2027-01-15"}
# rule id: (pass case, fail case, expected failing subject)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "SUN-01": (case(), case({**APPROVED, "history": OLD}), "water-main-breaks"),
    "SUN-02": (case(), case(APPROVED), "water-main-breaks"),
    "SUN-03": (case(), case({"kcstat_goals": ["infrastructure-accesibility"]}), "water-main-breaks"),
    "SUN-04": (case(extra=[NON_PUBLIC]), case(policy={"departments": ["water", "fire"]}), "fire"),
    "SUN-06": (case({"source_system": "Vendor-hosted SaaS", "ownership": "City owns the data (contract 2024-17)."}),
               case({"source_system": "Vendor-hosted SaaS"}), "water-main-breaks"),
    "SUN-07": (case(extra=[NON_PUBLIC]), case({"contains_pii": None}), "water-main-breaks"),
    "SUN-07-PII": (case(), case(files={"data/water-main-breaks.csv": EMAIL_CSV}), "water-main-breaks"),
    "SUN-08": (case(), case({"data": "data/water-main-breaks.pdf"}), "water-main-breaks"),
    "SUN-09": (case({"keywords": ["gis", "water"]}),
               case({"keywords": ["gis", "water"]}, files={"schemas/water-main-breaks.schema.json":
                                                          __import__("json").dumps(NO_LATLON)}),
               "water-main-breaks"),
    "SUN-10": (case(), case({"access_level": "restricted public", "rights": "Terms of use apply."}),
               "water-main-breaks"),
    "SUN-11": (case(), case({"license": "https://example.org/all-rights-reserved"}), "water-main-breaks"),
    "SUN-12": (case(), case(policy={"citation": None}), "water-main-breaks"),
    "SUN-13": (case(), case(files={"schemas/water-main-breaks.schema.json": __import__("json").dumps(UNDESCRIBED)}),
               "water-main-breaks"),
    "SUN-14": (case(), case({"methodology": None}), "water-main-breaks"),
    "SUN-15": (case(), case(files={"data/water-main-breaks.csv": DUP_CSV}), "water-main-breaks"),
    "SUN-16": (case({"methodology": "A Python ETL script runs nightly.", "code_url": "https://github.com/kc/etl"}),
               case({"methodology": "A Python ETL script runs nightly."}), "water-main-breaks"),
    "SUN-18": (case(), case(program={"publisher": "City of Kansas City, Missouri"}), "water-main-breaks"),
    "SUN-19": (case(), case({"portal_id": None}), "water-main-breaks"),
    "SUN-20": (case(), case({"portal_id": None}), "water-main-breaks"),
    "SUN-22": (case(), case({"accrual_periodicity": "daily"}), "water-main-breaks"),
    "SUN-23": (case({"status": "retired", "history": RETIRED_NOTE}), case({"status": "retired"}),
               "water-main-breaks"),
    "SUN-26": (case({**APPROVED, "requests": 0}), case({**APPROVED, "requests": None}), "water-main-breaks"),
    "SUN-27": (case(APPROVED), case({**APPROVED, "target_release": "2026-10-01"}), "water-main-breaks"),
    "SUN-31": (case(), case({"last_reviewed": "2025-06-30"}), "water-main-breaks"),
    "WWC-INV": (case(), case(policy={"inventory_method": None, "inventory_url": None}), "program"),
}
# Rules that need inputs from other stages are tested with run_policy below.
NEEDS_INPUTS = {"SUN-05", "SUN-28"}


def test_every_rule_has_a_pass_and_a_fail_case() -> None:
    assert set(CASES) | NEEDS_INPUTS == {r.id for r in RULES}


def test_every_checkable_guideline_is_a_rule() -> None:
    text = (FIXTURES / "reference" / "governance.md").read_text(encoding="utf-8")
    rows = {int(m) for m in re.findall(r"^\| (\d+) \|", text, flags=re.MULTILINE)}
    assert len(rows) == 25  # 31 guidelines, 6 not checkable
    assert rows == {r.guideline for r in RULES if r.guideline is not None}
    for r in RULES:
        assert re.fullmatch(r"(SUN-\d\d(-[A-Z]+)?|WWC-INV)", r.id)
        assert r.rationale and "\n" not in r.rationale


def _run(tmp_path: Path, spec: dict[str, Any], rule_id: str) -> Any:
    root = make_program(tmp_path / "p", spec["departments"], policy=spec["policy"], files=spec["files"],
                        program=spec["program"])
    (result,) = check_program(root=root, rule_ids=[rule_id], today=TODAY).rules
    return result


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_passes(tmp_path: Path, rule_id: str) -> None:
    result = _run(tmp_path, CASES[rule_id][0], rule_id)
    assert result.status is RuleStatus.PASS, result.findings
    assert result.passed >= 1 and result.failed == 0


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fails(tmp_path: Path, rule_id: str) -> None:
    result = _run(tmp_path, CASES[rule_id][1], rule_id)
    expected = RuleStatus.FAIL if result.severity == "error" else RuleStatus.WARN
    assert result.status is expected
    assert result.failed >= 1
    assert CASES[rule_id][2] in {f.subject for f in result.findings}
    for f in result.findings:
        assert f.message
        if f.kind == "dataset":
            assert f.file == "inventory/water.yaml" and f.line


def test_unknown_goal_gets_a_suggestion(tmp_path: Path) -> None:
    result = _run(tmp_path, CASES["SUN-03"][1], "SUN-03")
    (finding,) = [f for f in result.findings if f.kind == "dataset"]
    assert "did you mean 'infrastructure-accessibility'" in finding.message


def test_non_public_without_rights_fails_sun04(tmp_path: Path) -> None:
    bad = {**NON_PUBLIC, "rights": None}
    result = _run(tmp_path, case(extra=[bad]), "SUN-04")
    assert [f.subject for f in result.findings] == ["water-customer-accounts"]


def test_duplicate_ids_fail_sun15_program_wide(tmp_path: Path) -> None:
    spec = case(departments={"water": [good_dataset()], "fire": [good_dataset()]},
                policy={"departments": ["water", "fire"]})
    result = _run(tmp_path, spec, "SUN-15")
    assert any(f.kind == "program" and "water-main-breaks" in f.message for f in result.findings)


def _inputs(tmp_path: Path, datasets: list[dict[str, Any]]) -> dict[str, Any]:
    root = make_program(tmp_path / "p", {"water": datasets}, policy=GOOD_POLICY)
    raw = load_settings(root)
    loaded = load_inventory(root)
    return {"root": root, "inventory": loaded.inventory, "settings": load_policy_settings(raw),
            "program": raw["program"], "goal_ids": [g["id"] for g in raw["goals"]], "today": TODAY}


def test_sun05_with_the_real_scoring_stage(tmp_path: Path) -> None:
    datasets = {"water": [good_dataset(**APPROVED)]}
    root = make_program(tmp_path / "a", datasets, policy=GOOD_POLICY)
    (r,) = check_program(root=root, rule_ids=["SUN-05"], today=TODAY).rules
    assert r.status is RuleStatus.PASS and r.passed == 2  # the versioned method + the ranked dataset
    root = make_program(tmp_path / "b", datasets, policy=GOOD_POLICY, extra_settings={"scoring": None})
    (r,) = check_program(root=root, rule_ids=["SUN-05"], today=TODAY).rules
    assert r.status is RuleStatus.FAIL and [f.subject for f in r.findings] == ["program"]


def test_sun05_unranked_dataset_and_skip(tmp_path: Path) -> None:
    from kcdata.score import load_method

    kw = _inputs(tmp_path, [good_dataset(**APPROVED)])
    method = load_method(root=kw["root"])
    missing = run_policy(**kw, scores={}, score_method=method, rule_ids=["SUN-05"]).rules[0]
    assert "water-main-breaks" in {f.subject for f in missing.findings}
    gated = {"water-main-breaks": ScoreInfo(rank=None, score=10.0, band=None, excluded_by=("privacy-review",))}
    r = run_policy(**kw, scores=gated, score_method=method, rule_ids=["SUN-05"]).rules[0]
    assert "water-main-breaks" not in {f.subject for f in r.findings}  # a gate explains the missing rank
    skipped = run_policy(**kw, rule_ids=["SUN-05"]).rules[0]
    assert skipped.status is RuleStatus.SKIPPED and "scoring" in (skipped.reason or "")


def test_sun26_demand_weight(tmp_path: Path) -> None:
    section = scoring_section()
    section["scoring"] = {**section["scoring"], "weights": {**section["scoring"]["weights"], "demand": 0}}
    root = make_program(tmp_path / "p", {"water": [good_dataset(**APPROVED, requests=2)]}, policy=GOOD_POLICY,
                        extra_settings=section)
    (r,) = check_program(root=root, rule_ids=["SUN-26"], today=TODAY).rules
    assert r.status is RuleStatus.WARN and [f.subject for f in r.findings] == ["program"]


def test_sun28_with_the_real_validation_stage(tmp_path: Path) -> None:
    from kcdata.validate import validate_datasets

    def validate() -> bool:
        return validate_datasets(inventory=load_inventory(root).inventory).datasets[0].valid

    root = make_program(tmp_path / "p", {"water": [good_dataset()]}, policy=GOOD_POLICY)
    (r,) = check_program(root=root, rule_ids=["SUN-28"], today=TODAY).rules
    assert r.status is RuleStatus.FAIL and "never validated" in r.findings[0].message
    assert validate()
    (r,) = check_program(root=root, rule_ids=["SUN-28"], today=TODAY).rules
    assert r.status is RuleStatus.PASS and r.passed == 1
    bad = "break_id,reported,latitude,longitude\nWO-1,not-a-date,39.1,-94.5\n"
    (root / "data" / "water-main-breaks.csv").write_text(bad, encoding="utf-8")
    assert not validate()
    (r,) = check_program(root=root, rule_ids=["SUN-28"], today=TODAY).rules
    assert r.status is RuleStatus.FAIL and "1 error" in r.findings[0].message


def test_sun28_library_lookup(tmp_path: Path) -> None:
    kw = _inputs(tmp_path, [good_dataset()])
    results = {"valid": ValidationInfo(valid=True, error_count=0),
               "invalid": ValidationInfo(valid=False, error_count=7)}
    for key, status in (("valid", RuleStatus.PASS), ("invalid", RuleStatus.FAIL)):
        r = run_policy(**kw, validation=lambda _ds, k=key: results[k], rule_ids=["SUN-28"]).rules[0]
        assert r.status is status
    assert run_policy(**kw, rule_ids=["SUN-28"]).rules[0].status is RuleStatus.SKIPPED


def test_scorecard_counts(tmp_path: Path) -> None:
    kw = _inputs(tmp_path, [good_dataset(), good_dataset(id="water-quality", **APPROVED), NON_PUBLIC])
    sc = run_policy(**kw).scorecard
    assert (sc.datasets, sc.release_eligible, sc.published) == (3, 2, 1)
    assert sc.published_share == pytest.approx(0.5)
    assert (sc.non_public, sc.non_public_with_rights) == (1, 1)
    assert sc.wwc_met == 4 and sc.wwc_certifiable
    assert sc.rules_pass + sc.rules_fail + sc.rules_warn + sc.rules_off + sc.rules_skipped == len(RULES)


@pytest.mark.parametrize(("with_file", "met"), [(9, True), (8, False)])  # "more than 80%" of 10
def test_wwc_department_coverage_threshold(tmp_path: Path, with_file: int, met: bool) -> None:
    listed = [f"dept{i}" for i in range(10)]
    deps = {d: [good_dataset(id=f"{d}-data")] for d in listed[:with_file]}
    root = make_program(tmp_path / "p", deps, policy={**GOOD_POLICY, "departments": listed})
    report = check_program(root=root, rule_ids=["SUN-04"], today=TODAY)
    cover = report.scorecard.wwc_criteria[2]
    assert cover.met is met
    assert cover.detail.startswith(f"{with_file} of 10 departments")
    assert report.scorecard.departments_missing == tuple(listed[with_file:])
    assert {f.subject for f in report.rules[0].findings} == set(listed[with_file:])


def test_sun01_age_uses_first_history_record(tmp_path: Path) -> None:
    young = [{"who": "l", "when": (TODAY - dt.timedelta(days=30)).isoformat(), "from": "inventoried",
              "to": "proposed"}]
    kw = _inputs(tmp_path, [good_dataset(), good_dataset(id="water-quality", **APPROVED, history=young)])
    r = run_policy(**kw, rule_ids=["SUN-01"]).rules[0]
    assert r.status is RuleStatus.PASS and r.passed == 2  # the young item and the program share (1 of 2)


def test_schema_yaml_is_read(tmp_path: Path) -> None:
    import yaml

    root = make_program(tmp_path / "p", {"water": [good_dataset(schema="schemas/w.schema.yaml")]},
                        policy=GOOD_POLICY, files={"schemas/w.schema.yaml": yaml.safe_dump(SCHEMA)})
    (r,) = check_program(root=root, rule_ids=["SUN-13"], today=TODAY).rules
    assert r.status is RuleStatus.PASS


@pytest.mark.parametrize(("url", "ok"), [
    ("https://opendatacommons.org/licenses/pddl/1-0/", True), ("http://opendatacommons.org/licenses/by/1.0", True),
    ("https://creativecommons.org/publicdomain/zero/1.0/legalcode", True),
    ("https://www.creativecommons.org/licenses/by/4.0/", True),
    ("https://creativecommons.org/licenses/by-nc/4.0/", False), ("Public Domain", False),
])
def test_sun11_licence_spellings(tmp_path: Path, url: str, ok: bool) -> None:
    result = _run(tmp_path, case({"license": url}), "SUN-11")
    assert (result.status is RuleStatus.PASS) is ok


def test_sun03_program_share(tmp_path: Path) -> None:
    unlinked = [good_dataset(id=f"w{i}", kcstat_goals=[]) for i in range(2)]
    result = _run(tmp_path, case(extra=unlinked, policy={"min_goal_share": 0.5}), "SUN-03")
    program = [f for f in result.findings if f.subject == "program"]
    assert program and "1 of 3 datasets" in program[0].message
    result = _run(tmp_path / "b", case(extra=unlinked, policy={"min_goal_share": 0.3}), "SUN-03")
    assert "program" not in {f.subject for f in result.findings}


_MUTATIONS: list[dict[str, Any]] = [
    {}, {"license": None}, {"contains_pii": None}, {"last_reviewed": "2024-01-01"}, {"status": "approved"},
    {"accrual_periodicity": "weekly"}, {"kcstat_goals": []}, {"methodology": None}, {"portal_id": None},
    {"status": "retired"}, {"access_level": "non-public", "rights": None}, {"requests": None, "status": "proposed"},
]


@settings(max_examples=40, deadline=None)
@given(mutations=st.lists(st.sampled_from(range(len(_MUTATIONS))), min_size=1, max_size=5),
       lowered=st.sets(st.sampled_from(sorted(r.id for r in RULES))),
       off=st.sets(st.sampled_from(sorted(r.id for r in RULES)), max_size=3))
def test_property_severity_and_switches(mutations: list[int], lowered: set[str], off: set[str]) -> None:
    from kcdata.inventory.load import dataset_from_mapping
    from kcdata.inventory.model import Inventory

    datasets = tuple(dataset_from_mapping(good_dataset(id=f"d{i}", **_MUTATIONS[m]), department="water")
                     for i, m in enumerate(mutations))
    rules = {rid: {"severity": "warning", "reason": "committee decision"} for rid in lowered}
    rules.update({rid: {"enabled": False, "reason": "committee decision"} for rid in off})
    settings_ = load_policy_settings({"policy": {**GOOD_POLICY, "rules": rules}})
    report = run_policy(root=Path("."), inventory=Inventory(root=Path("."), departments=(), datasets=datasets),
                        settings=settings_, program={"portal_domain": "data.kcmo.org"},
                        goal_ids=["infrastructure-accessibility"], today=TODAY)
    for r in report.rules:
        assert r.passed >= 0 and r.failed == len(r.findings)
        if r.id in off:
            assert r.status is RuleStatus.OFF and not r.findings and r.reason == "committee decision"
        elif r.findings:
            assert r.status is (RuleStatus.WARN if r.severity == "warning" else RuleStatus.FAIL)
            assert all(f.severity == r.severity for f in r.findings)
        if r.id in lowered and r.id not in off:
            assert r.status is not RuleStatus.FAIL
    assert report.failed == any(r.findings and r.severity == "error" and r.id not in off for r in report.rules)


def test_unreadable_department_file_fails_sun04_without_stopping_the_rest(tmp_path: Path) -> None:
    root = make_program(tmp_path / "p", {"water": [good_dataset()]}, policy=GOOD_POLICY)
    (root / "inventory" / "fire.yaml").write_text("department: {id: fire\ndatasets: [\n", encoding="utf-8")
    report = check_program(root=root, today=TODAY)
    sun04 = next(r for r in report.rules if r.id == "SUN-04")
    assert [f.subject for f in sun04.findings] == ["inventory/fire.yaml"]
    assert sun04.findings[0].line is not None
    assert next(r for r in report.rules if r.id == "SUN-11").passed == 1  # water was still checked
