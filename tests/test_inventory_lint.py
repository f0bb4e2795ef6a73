"""Inventory lint: every rule, positions, bad input (each its own test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcdata.inventory.lint import lint_entry, lint_inventory
from kcdata.inventory.lintschema import _fast_dataset_check, _validator, inventory_schema
from tests.conftest import subprocess_env
from tests.inventory_helpers import FIRE, WATER, make_inventory


def codes(report):
    return sorted(p.code for p in report.problems)


def only(report, code):
    found = [p for p in report.problems if p.code == code]
    assert found, f"no {code} in {[str(p) for p in report.problems]}"
    return found[0]


def test_valid_inventory_is_clean(tmp_path):
    report = lint_inventory(root=make_inventory(tmp_path))
    assert report.problems == ()
    assert (report.files, report.datasets) == (2, 3)


def test_schema_is_valid_draft_2020_12():
    import jsonschema

    schema = inventory_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def lint_water(tmp_path, old, new):
    assert old in WATER
    return lint_inventory(root=make_inventory(tmp_path, {"water.yaml": WATER.replace(old, new, 1)}))


def test_unknown_key_did_you_mean_with_position(tmp_path):
    report = lint_water(tmp_path, "    license: https", "    licence: https")
    p = only(report, "unknown-key")
    assert str(p) == ("inventory/water.yaml:18:5 datasets[0].licence: unknown key 'licence' — did you mean "
                      "'license'?")
    assert p.severity == "error"


def test_unknown_extension_key_is_a_warning(tmp_path):
    report = lint_water(tmp_path, "    value: high", "    value: high\n    budget_code: A-17")
    p = only(report, "unknown-key")
    assert p.severity == "warning" and report.errors == 0


def test_wrong_enum_lists_allowed_values(tmp_path):
    report = lint_water(tmp_path, "access_level: public", "access_level: open")
    p = only(report, "invalid-value")
    assert p.keypath == "datasets[0].access_level" and (p.line, p.col) == (14, 19)
    assert "'open' is not one of: public, restricted public, non-public" in p.message


@pytest.mark.parametrize(("old", "new", "code", "keypath"), [
    ("license: https://creativecommons.org/publicdomain/zero/1.0/", "license: https://example.org/my-license",
     "bad-license", "datasets[0].license"),
    ("accrual_periodicity: R/P1D", "accrual_periodicity: daily", "bad-periodicity", "datasets[0].accrual_periodicity"),
    ("target_release: 2026-12-15", "target_release: 2026-02-30", "bad-date", "datasets[0].target_release"),
    ("target_release: 2026-12-15", "target_release: next spring", "bad-date", "datasets[0].target_release"),
    ("email: water-data@example.org}\n    access", "email: water-data}\n    access", "bad-email",
     "datasets[0].contact.email"),
    ("  - id: water-main-breaks", "  - id: Water_Main_Breaks", "bad-slug", "datasets[0].id"),
    ("kcstat_goals: [infrastructure-accessibility]", "kcstat_goals: [infrastructure]", "unknown-goal",
     "datasets[0].kcstat_goals[0]"),
    ("row_identifier: break_id", "row_identifier: brake_id", "row-identifier", "datasets[0].row_identifier"),
    ("data: data/samples/water-main-breaks.csv", "data: data/samples/nope.csv", "missing-file", "datasets[0].data"),
    ("schema: schemas/water-main-breaks.schema.json", "schema: schemas/nope.json", "missing-file",
     "datasets[0].schema"),
    ("    theme: Infrastructure\n", "", "missing-field", "datasets[0].theme"),
    ("    rights: Customer account records are closed under RSMo 610.021.\n", "", "missing-field",
     "datasets[1].rights"),
    ("requests: 14", "requests: lots", "wrong-type", "datasets[0].requests"),
    ("from: proposed, to: in_review", "from: proposed, to: published", "bad-history", "datasets[0].history[1].to"),
    ("to: approved, note: ok", "to: proposed, note: ok", "bad-history", "datasets[0].history[2].to"),
])
def test_rule(tmp_path, old, new, code, keypath):
    report = lint_water(tmp_path, old, new)
    p = only(report, code)
    assert p.keypath == keypath, str(p)
    assert p.file == "inventory/water.yaml" and p.line is not None


def test_data_url_is_not_checked_on_disk(tmp_path):
    report = lint_water(tmp_path, "data: data/samples/water-main-breaks.csv", "data: https://example.org/x.csv")
    assert report.problems == ()


def test_history_must_end_at_current_status(tmp_path):
    report = lint_water(tmp_path, "    status: approved", "    status: published")
    msgs = [p.message for p in report.problems if p.code == "bad-history"]
    assert msgs == ["history ends at 'approved' but status is 'published'"]


def test_department_id_must_match_file_name(tmp_path):
    report = lint_inventory(root=make_inventory(tmp_path, {"fire.yaml": FIRE.replace("id: fire,", "id: fires,")}))
    assert only(report, "department-mismatch").keypath == "department.id"


def test_release_fields_not_required_before_review(tmp_path):
    report = lint_inventory(root=make_inventory(tmp_path))
    assert not [p for p in report.problems if p.keypath.startswith("datasets[0]") and "fire" in p.file]


# -- bad input, each its own test -----------------------------------------------------------------

def test_bad_malformed_yaml(tmp_path):
    report = lint_inventory(root=make_inventory(tmp_path, {"bad.yaml": "department: {id: bad\ndatasets: [\n"}))
    assert report.unparsable == ("inventory/bad.yaml",)
    p = only(report, "yaml-error")
    assert p.file == "inventory/bad.yaml" and p.line is not None and "malformed YAML" in p.message
    assert report.datasets == 3  # the other files were still checked


def test_bad_tab_indented_file(tmp_path):
    report = lint_inventory(root=make_inventory(tmp_path, {"tabs.yaml": "department:\n\tid: tabs\n"}))
    p = only(report, "yaml-error")
    assert (p.file, p.line) == ("inventory/tabs.yaml", 2) and "tab" in p.message.lower()


def test_bad_file_is_a_list(tmp_path):
    report = lint_inventory(root=make_inventory(tmp_path, {"list.yaml": "- id: a\n- id: b\n"}))
    p = only(report, "not-a-mapping")
    assert str(p).startswith("inventory/list.yaml:1:1") and "found a list" in p.message
    assert report.unparsable == ()


def test_bad_duplicate_id_across_files(tmp_path):
    report = lint_inventory(root=make_inventory(tmp_path, {"fire.yaml": FIRE.replace("fire-incidents",
                                                                                     "water-main-breaks")}))
    p = only(report, "duplicate-id")
    assert p.file == "inventory/water.yaml" or p.file == "inventory/fire.yaml"
    assert p.line is not None and "already used at inventory/" in p.message


def test_bad_alias_bomb(tmp_path):
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghi":
        bomb += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    report = lint_inventory(root=make_inventory(tmp_path, {"bomb.yaml": bomb}))
    p = only(report, "yaml-error")
    assert p.file == "inventory/bomb.yaml" and p.line == 2 and "aliases" in p.message


def test_bad_50_mb_file(tmp_path):
    big = b"department: {id: big, name: Big}\ndatasets: []\n" + b"# padding padding padding\n" * 2_000_000
    assert len(big) > 50_000_000
    report = lint_inventory(root=make_inventory(tmp_path, {"big.yaml": big}))
    p = only(report, "yaml-error")
    assert p.file == "inventory/big.yaml" and "MB" in p.message


def test_bad_invalid_utf8(tmp_path):
    report = lint_inventory(root=make_inventory(tmp_path, {"latin.yaml": b"department:\n  name: Caf\xe9\n"}))
    p = only(report, "yaml-error")
    assert (p.file, p.line, p.col) == ("inventory/latin.yaml", 2, 12) and "UTF-8" in p.message


def test_bad_empty_file(tmp_path):
    report = lint_inventory(root=make_inventory(tmp_path, {"empty.yaml": ""}))
    p = only(report, "empty-file")
    assert str(p).startswith("inventory/empty.yaml:1:1")


def test_lint_entry_for_add(tmp_path):
    root = make_inventory(tmp_path)
    problems = lint_entry({"id": "water-main-breaks", "title": "T", "access_level": "open"}, root=root)
    got = {(p.keypath, p.code) for p in problems}
    assert {("id", "duplicate-id"), ("access_level", "invalid-value"), ("description", "missing-field"),
            ("contact", "missing-field"), ("status", "missing-field")} <= got


# -- the compiled checker agrees with jsonschema ---------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 50), st.sampled_from([
    "public", "non-public", "restricted public", "sensitive", "protected", "inventoried", "in_review", "approved",
    "published", "withheld", "high", "low", "x", "", "water-main-breaks", "Bad Id", "R/P1D", "R/PT1H", "irregular",
    "daily", "https://creativecommons.org/licenses/by/4.0/", "https://opendatacommons.org/licenses/odbl/1.0/",
    "http://example.org/l", "2026-12-15", "abcd-1234", "a@example.org", "P1", "proposed"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["name", "email", "who", "when", "from", "to", "note", "band", "by", "why"]),
                    inner, max_size=4)), max_leaves=6)
entries = st.dictionaries(st.sampled_from(sorted(inventory_schema()["$defs"]["dataset"]["properties"])), values,
                          max_size=14)


@settings(max_examples=400, deadline=None)
@given(entry=entries)
def test_fast_checker_agrees_with_jsonschema(entry):
    assert _fast_dataset_check()(entry) == _validator("dataset").is_valid(entry), json.dumps(entry)


@settings(max_examples=100, deadline=None)
@given(base=st.fixed_dictionaries({
    "id": st.just("a-b"), "title": st.just("T"), "description": st.just("D"), "contact": st.just({"name": "c"}),
    "access_level": st.sampled_from(["public", "non-public"]), "status": st.sampled_from(
        ["inventoried", "in_review", "withheld", "published"])}), extra=entries)
def test_fast_checker_agrees_on_near_valid_entries(base, extra):
    entry = {**extra, **base}
    assert _fast_dataset_check()(entry) == _validator("dataset").is_valid(entry), json.dumps(entry)


departments = st.dictionaries(st.sampled_from(["id", "name", "liaison", "x"]), st.one_of(values, st.fixed_dictionaries(
    {"name": scalars}, optional={"email": scalars})), max_size=4)


@settings(max_examples=200, deadline=None)
@given(dep=departments)
def test_fast_department_checker_agrees_with_jsonschema(dep):
    from kcdata.inventory.lintschema import _fast_department_check

    assert _fast_department_check()(dep) == _validator("department").is_valid(dep), json.dumps(dep)


def test_dates_as_text_matches_full_conversion():
    import datetime as dt

    from kcdata.inventory.lintschema import _dates_as_text, _jsonable

    when = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    entries = [
        {"id": "a", "target_release": dt.date(2026, 12, 15), "history": [{"to": "proposed", "when": when}]},
        {"id": "b", "history": [{"to": "proposed", "when": "2026-01-01"}], "keywords": ["x"]},
        {"id": "c", "history": [{"to": "proposed", "note": [{"deep": dt.date(2026, 1, 2)}]}]},
        {"id": "d", "priority_override": {"band": "high", "when": dt.date(2026, 1, 3)}, "history": []},
    ]
    for entry in entries:
        assert _dates_as_text(entry) == _jsonable(entry)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="lint forks only on Linux")
def test_forked_lint_equals_single_process(tmp_path):
    import threading

    bad = WATER.replace("license:", "licence:").replace("access_level: public", "access_level: publik")
    dup = FIRE.replace("id: fire", "id: fire2", 1)
    root = make_inventory(tmp_path, {"water2.yaml": bad, "fire2.yaml": dup, "broken.yaml": "a: [\n",
                                     "list.yaml": "- 1\n"})
    single = lint_inventory(root=root, jobs=1)
    assert {"unknown-key", "invalid-value", "duplicate-id", "yaml-error", "not-a-mapping"} <= set(codes(single))
    # Forking needs a process with no other thread; the test session may have some (the portal
    # fixture's server), so the forking half runs in a fresh interpreter.
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from kcdata.inventory.lint import lint_inventory\n"
        "root = Path(sys.argv[1])\n"
        "single = lint_inventory(root=root, jobs=1)\n"
        "forks = []\n"
        "os.register_at_fork(before=lambda: forks.append(1))\n"
        "same = lint_inventory(root=root, jobs=3) == single\n"
        "print(len(forks), same)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True, check=True,
                         env=subprocess_env())
    assert out.stdout.split() == ["2", "True"]  # two children, the parent lints the third share
    forks: list[int] = []
    os.register_at_fork(before=lambda: forks.append(1))  # cannot be unregistered: harmless afterwards
    # with another thread running it must not fork (deadlock risk), and gives the same report
    forks.clear()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert lint_inventory(root=root, jobs=3) == single
    finally:
        stop.set()
        other.join()
    assert forks == []
