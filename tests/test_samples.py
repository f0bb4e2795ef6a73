"""The embedded Kansas City sample program: inventory, schemas and sample data stay consistent.

Frictionless is the oracle for the data files; the expected flaws are read from
``data/samples/README.md`` so the documentation and the files cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from kcdata.inventory.load import load_inventory
from kcdata.inventory.model import RELEASE_FIELDS, AccessLevel, Classification, Dataset, Status

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
TODAY = dt.date(2026, 11, 27)  # the sample program's "now": overdue and stale items are relative to it
DEPARTMENTS = {
    "water", "public-works", "police", "fire", "health", "neighborhoods", "parks", "planning", "finance",
    "general-services", "communications", "municipal-court", "aviation", "city-manager",
}
OPEN_LICENSES = {
    "https://creativecommons.org/publicdomain/zero/1.0/",
    "https://opendatacommons.org/licenses/pddl/1-0/",
    "https://opendatacommons.org/licenses/by/1-0/",
    "https://opendatacommons.org/licenses/odbl/1-0/",
    "https://creativecommons.org/licenses/by/4.0/",
    "https://creativecommons.org/licenses/by-sa/4.0/",
}
LEGAL = {
    ("inventoried", "proposed"), ("proposed", "in_review"), ("in_review", "approved"), ("approved", "published"),
    ("in_review", "proposed"), ("inventoried", "withheld"), ("proposed", "withheld"), ("in_review", "withheld"),
    ("published", "retired"),
}
PERIODICITY = re.compile(r"^(R/P(\d+[YMWD])+|R/PT\d+[HMS]|irregular)$")
FOUR_BY_FOUR = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}$")


@pytest.fixture(scope="module")
def datasets() -> tuple[Dataset, ...]:
    return load_inventory(REPO).inventory.datasets


def _schema(path: str) -> dict:
    return json.loads((REPO / path).read_text(encoding="utf-8"))


def _documented_flaws() -> dict[str, set[tuple[int, str | None, str]]]:
    """The table under '## Deliberate flaws' in data/samples/README.md: file -> {(row, field, code)}."""
    text = (SAMPLES / "README.md").read_text(encoding="utf-8")
    section = text.split("## Deliberate flaws", 1)[1]
    flaws: dict[str, set[tuple[int, str | None, str]]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].endswith(".csv"):
            name, row, field, code, _ = cells
            flaws.setdefault(name, set()).add((int(row), None if field == "-" else field, code))
    return flaws


# ----------------------------------------------------------------------------- the inventory


def test_inventory_loads_without_problems() -> None:
    result = load_inventory(REPO)
    assert [str(p) for p in result.problems] == []
    assert not result.unparsable
    assert {d.id for d in result.inventory.departments} >= DEPARTMENTS
    for dep in result.inventory.departments:
        assert dep.path == f"inventory/{dep.id}.yaml"
        assert dep.liaison is not None and dep.liaison.email and dep.liaison.email.endswith("@example.org")


def test_every_file_is_a_mapping_with_comments_and_no_unknown_keys() -> None:
    known = set(Dataset.__dataclass_fields__) - {"department", "extra", "source"}
    for path in sorted((REPO / "inventory").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), f"{path.name}: start with a comment saying what the file is"
        assert "\t" not in text
        doc = yaml.safe_load(text)
        assert set(doc) == {"department", "datasets"}
        for entry in doc["datasets"]:
            assert set(entry) <= known, f"{path.name} {entry['id']}: unknown keys {set(entry) - known}"


def test_counts_and_spread(datasets: tuple[Dataset, ...]) -> None:
    assert len(datasets) >= 90
    assert len({d.id for d in datasets}) == len(datasets)
    statuses = Counter(d.status for d in datasets)
    assert set(statuses) == set(Status), statuses
    per_department = Counter(d.department for d in datasets)
    assert set(per_department) >= DEPARTMENTS
    assert min(per_department.values()) >= 5
    assert {d.access_level for d in datasets} == set(AccessLevel)
    assert {d.classification for d in datasets} == set(Classification)
    assert any(d.contains_pii for d in datasets)
    assert {d.value.value for d in datasets if d.value} == {"high", "medium", "low"}
    assert sum(1 for d in datasets if d.kcstat_goals) >= 40


def test_ids_are_stable_slugs(datasets: tuple[Dataset, ...]) -> None:
    for d in datasets:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", d.id), d.id


def test_rights_wherever_not_fully_public(datasets: tuple[Dataset, ...]) -> None:
    for d in datasets:
        needs = (d.access_level is not AccessLevel.PUBLIC or d.classification is not Classification.PUBLIC
                 or d.status is Status.WITHHELD)
        if needs:
            assert d.rights and len(d.rights) > 40, f"{d.id}: needs a written justification in `rights`"
    non_public = [d for d in datasets if d.access_level is AccessLevel.NON_PUBLIC]
    assert non_public and all(re.search(r"RSMo|HIPAA|CJIS|CFR", d.rights or "") for d in non_public)


def test_release_metadata_from_in_review_on(datasets: tuple[Dataset, ...]) -> None:
    release = {Status.IN_REVIEW, Status.APPROVED, Status.PUBLISHED}
    checked = 0
    for d in datasets:
        if d.license:
            assert d.license in OPEN_LICENSES, f"{d.id}: {d.license}"
        if d.accrual_periodicity:
            assert PERIODICITY.match(d.accrual_periodicity), f"{d.id}: {d.accrual_periodicity}"
        if d.status in release and d.access_level is AccessLevel.PUBLIC:
            checked += 1
            for name in RELEASE_FIELDS:
                assert getattr(d, name), f"{d.id}: `{name}` is required from in_review on"
    assert checked >= 30


def test_data_and_schema_paths(datasets: tuple[Dataset, ...]) -> None:
    with_data = [d for d in datasets if d.data]
    assert len(with_data) >= 14
    for d in with_data:
        assert not re.match(r"^[a-z]+://", d.data or ""), f"{d.id}: local paths only"
        assert (REPO / (d.data or "")).is_file(), d.data
        assert d.schema == f"schemas/{d.id}.schema.json"
        assert (REPO / d.schema).is_file()
        schema = _schema(d.schema)
        assert d.row_identifier in [f["name"] for f in schema["fields"]]
        assert schema["primaryKey"] == [d.row_identifier]
    referenced = {d.schema for d in datasets if d.schema}
    on_disk = {f"schemas/{p.name}" for p in (REPO / "schemas").glob("*.schema.json")}
    assert referenced == on_disk, "every schema belongs to a dataset and every referenced schema exists"
    csvs = {f"data/samples/{p.name}" for p in SAMPLES.glob("*.csv")}
    assert csvs == {d.data for d in with_data}


def test_schemas_are_complete_table_schemas() -> None:
    from frictionless import Schema

    for path in sorted((REPO / "schemas").glob("*.schema.json")):
        descriptor = json.loads(path.read_text(encoding="utf-8"))
        schema = Schema.from_descriptor(descriptor)  # raises on an invalid descriptor
        assert schema.primary_key and "missingValues" in descriptor, path.name
        for field in descriptor["fields"]:
            assert field.get("description"), f"{path.name}: field {field['name']} has no description"
        key = next(f for f in descriptor["fields"] if f["name"] == schema.primary_key[0])
        assert key.get("constraints", {}).get("required") is True, path.name


def test_portal_ids_only_on_published(datasets: tuple[Dataset, ...]) -> None:
    for d in datasets:
        if d.status is Status.PUBLISHED:
            assert d.portal_id and FOUR_BY_FOUR.match(d.portal_id), d.id
        else:
            assert d.portal_id is None, d.id
    by_id = {d.id: d for d in datasets}
    assert by_id["311-call-center-reported-issues"].portal_id == "d4px-6rwg"
    assert "bd2s-bfst" not in {d.portal_id for d in datasets}  # KCATA's dataset, not the city's
    assert len({d.portal_id for d in datasets if d.portal_id}) == sum(1 for d in datasets if d.portal_id)


def test_history_follows_the_workflow(datasets: tuple[Dataset, ...]) -> None:
    for d in datasets:
        if d.status is Status.INVENTORIED:
            assert d.history == ()
            continue
        assert d.history, d.id
        assert d.history[0].from_status == "inventoried"
        previous = None
        for rec in d.history:
            assert (rec.from_status, rec.to_status) in LEGAL, f"{d.id}: {rec.from_status} -> {rec.to_status}"
            assert previous is None or rec.from_status == previous.to_status
            assert rec.by and rec.note
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rec.at), rec.at
            assert previous is None or rec.at > previous.at
            assert rec.at < TODAY.isoformat()
            previous = rec
        assert d.history[-1].to_status == d.status.value, d.id
    assert any(r.to_status == "proposed" and r.from_status == "in_review" for d in datasets for r in d.history)


def test_goals_exist_in_settings(datasets: tuple[Dataset, ...]) -> None:
    settings = yaml.safe_load((REPO / "kcdata.yaml").read_text(encoding="utf-8"))
    goals = {g["id"] for g in settings["goals"]}
    used = {g for d in datasets for g in d.kcstat_goals}
    assert used == goals


def test_timelines_and_reviews(datasets: tuple[Dataset, ...]) -> None:
    unpublished = [d for d in datasets if d.status in {Status.PROPOSED, Status.IN_REVIEW, Status.APPROVED}]
    assert all(d.target_release for d in unpublished)
    assert sum(1 for d in unpublished if d.target_release and d.target_release < TODAY) >= 3  # overdue
    assert all(d.last_reviewed and d.last_reviewed <= TODAY for d in datasets)
    stale = [d for d in datasets if d.last_reviewed and (TODAY - d.last_reviewed).days > 365]
    assert 3 <= len(stale) <= 15
    assert sum(1 for d in datasets if d.requests) >= 60


def test_contacts_are_roles_at_example_org(datasets: tuple[Dataset, ...]) -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in (REPO / "inventory").glob("*.yaml"))
    emails = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text))
    assert emails and all(e.endswith("@example.org") for e in emails)
    for d in datasets:
        assert d.contact.email and d.contact.email.endswith("@example.org")


# ----------------------------------------------------------------------------- the sample data


def _validate(dataset_id: str) -> tuple[bool, int, set[tuple[int, str | None, str]]]:
    from frictionless import Resource, Schema, validate

    schema = Schema.from_descriptor(_schema(f"schemas/{dataset_id}.schema.json"))
    # frictionless 5 refuses absolute paths as "not safe": name the file relative to a basepath
    report = validate(Resource(path=f"{dataset_id}.csv", basepath=str(SAMPLES), schema=schema))
    errors = {(row, field or None, code) for row, field, code in report.flatten(["rowNumber", "fieldName", "type"])}
    return report.valid, report.tasks[0].stats["rows"], errors


SAMPLE_IDS = sorted(p.stem for p in SAMPLES.glob("*.csv"))


@pytest.mark.parametrize("dataset_id", SAMPLE_IDS)
def test_sample_validates_as_documented(dataset_id: str) -> None:
    expected = _documented_flaws().get(f"{dataset_id}.csv", set())
    valid, rows, errors = _validate(dataset_id)
    assert 200 <= rows <= 600
    assert errors == expected
    assert valid is (not expected)


def test_flawed_and_clean_datasets(datasets: tuple[Dataset, ...]) -> None:
    flawed = {name.removesuffix(".csv") for name in _documented_flaws()}
    assert 3 <= len(flawed) <= 4
    by_id = {d.id: d for d in datasets}
    for dataset_id in flawed:
        assert by_id[dataset_id].status in {Status.IN_REVIEW, Status.PROPOSED}
    codes = {code for errs in _documented_flaws().values() for _, _, code in errs}
    assert {"type-error", "constraint-error", "primary-key", "extra-cell"} <= codes
    approved = [d for d in datasets if d.status is Status.APPROVED]
    assert len(approved) >= 4 and all(d.data and d.id not in flawed for d in approved)
    type_sets = [{f["type"] for f in _schema(d.schema or "")["fields"]} for d in approved]
    assert any({"date", "number", "boolean", "geopoint"} <= types for types in type_sets)


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SAMPLES / "generate.py"), "--out", str(tmp_path)], check=True,
                   timeout=120)
    produced = {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")}
    committed = {p.name: p.read_bytes() for p in SAMPLES.glob("*.csv")}
    assert produced.keys() == committed.keys()
    for name, content in committed.items():
        assert produced[name] == content, f"{name} differs from generate.py's output: regenerate it"


def test_docs_table_matches_the_inventory(datasets: tuple[Dataset, ...]) -> None:
    """docs/sample-program.md's per-department status table is the inventory's real count."""
    text = (REPO / "docs" / "sample-program.md").read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| department |"))
    statuses = [c.strip() for c in header.strip("|").split("|")][1:-1]
    documented: dict[tuple[str, str], int] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == len(statuses) + 2 and cells[0] in DEPARTMENTS:
            documented.update({(cells[0], s): int(n) for s, n in zip(statuses, cells[1:-1], strict=True)})
    actual = Counter((d.department, d.status.value) for d in datasets)
    assert documented == {(dep, s): actual.get((dep, s), 0) for dep in DEPARTMENTS for s in statuses}
