"""``kcdata export datajson``: DCAT-US 1.1 catalogs checked against the OFFICIAL schemas (tests/fixtures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transparency_helpers import dcat_errors as errors
from transparency_helpers import good_dataset, make_program, shared_dir

from kcdata.export.datajson import SCHEMA_FILES, ProgramInfo, build_catalog, export_catalog
from kcdata.inventory import load_inventory
from kcdata.inventory.model import AccessLevel, Classification, Contact, Dataset, Inventory, Status

DCAT = FIXTURES / "dcat-us-1.1"
VENDORED = Path(__file__).resolve().parent.parent / "kcdata" / "export" / "dcat_us_1_1"
PROGRAM = ProgramInfo(publisher="City of Kansas City, Missouri", portal_domain="data.kcmo.org",
                      publisher_email="opendata@example.org")


def test_packaged_schemas_are_byte_identical_to_the_official_copies() -> None:
    official = sorted(p.name for p in DCAT.glob("*.json"))
    assert sorted(SCHEMA_FILES) == official
    for name in official:
        assert (VENDORED / name).read_bytes() == (DCAT / name).read_bytes(), name
    assert (VENDORED / "README.md").read_bytes() == (DCAT / "README.md").read_bytes()


def test_official_copies_match_shared_when_present() -> None:
    """Optional: where the team's shared/ folder sits beside the checkout, the test copies equal its originals."""
    shared = shared_dir()
    if shared is None:
        pytest.skip("no shared/ beside this checkout (a clone): the vendored copies are the reference")
    originals = shared / "standards" / "dcat-us-1.1"
    for path in originals.iterdir():
        assert (DCAT / path.name).read_bytes() == path.read_bytes(), path.name


def test_official_validator_matches_readme_example() -> None:
    ds = {"title": "T", "description": "D", "identifier": "x", "accessLevel": "public",
          "publisher": {"@type": "org:Organization", "name": "City of Kansas City, Missouri"},
          "contactPoint": {"@type": "vcard:Contact", "fn": "Open Data Office", "hasEmail": "mailto:o@example.org"}}
    catalog = {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": [ds]}
    assert errors(catalog) == []
    del ds["title"]
    assert errors(catalog) == ["'title' is a required property"]


def _program(tmp_path: Path, datasets: list[dict[str, Any]]) -> Path:
    return make_program(tmp_path / "p", {"water": datasets})


NON_PUBLIC = good_dataset(id="water-customer-accounts", title="Water Customer Accounts", access_level="non-public",
                          classification="protected", contains_pii=True, status="withheld", portal_id=None,
                          rights="Customer billing records are confidential under RSMo 610.021.")
UNPUBLISHED = good_dataset(id="water-quality-tests", title="Water Quality Tests", status="approved", portal_id=None)
RETIRED = good_dataset(id="water-old-meters", title="Old Meters", status="retired")


HISTORY = [{"who": "liaison", "when": "2025-03-01T10:00:00Z", "from": "approved", "to": "published",
            "note": "Published."},
           {"who": "odo", "when": "2025-09-01T10:00:00Z", "from": "published", "to": "published", "note": "Refresh."}]


def test_catalog_validates_and_is_filled_from_the_inventory(tmp_path: Path) -> None:
    root = _program(tmp_path, [good_dataset(history=HISTORY), NON_PUBLIC, UNPUBLISHED, RETIRED])
    result = export_catalog(inventory=load_inventory(root).inventory, program=PROGRAM)
    assert result.valid, result.problems
    catalog = result.catalog
    assert errors(catalog) == []
    assert catalog["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    by_id = {d["identifier"]: d for d in catalog["dataset"]}
    assert set(by_id) == {"water-main-breaks", "water-customer-accounts", "water-quality-tests"}  # retired left out
    pub = by_id["water-main-breaks"]
    assert pub["distribution"] == [
        {"@type": "dcat:Distribution", "title": "Water Main Breaks (CSV)",
         "downloadURL": "https://data.kcmo.org/api/views/abcd-1234/rows.csv?accessType=DOWNLOAD",
         "mediaType": "text/csv", "format": "CSV"},
        {"@type": "dcat:Distribution", "title": "Water Main Breaks (SODA API)",
         "accessURL": "https://data.kcmo.org/resource/abcd-1234.json", "mediaType": "application/json",
         "format": "API", "describedBy": "https://dev.socrata.com/docs/endpoints.html"},
    ]
    assert pub["landingPage"] == "https://data.kcmo.org/d/abcd-1234"
    assert pub["describedBy"] == "https://data.kcmo.org/api/views/abcd-1234.json"
    assert pub["accrualPeriodicity"] == "R/P1D" and pub["keyword"] == ["water", "infrastructure"]
    assert pub["theme"] == ["Infrastructure"] and pub["modified"] == "2026-11-02"  # last_reviewed is the latest
    assert pub["issued"] == "2025-03-01"  # the first transition to published
    assert pub["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert pub["contactPoint"] == {"@type": "vcard:Contact", "fn": "KC Water Asset Management",
                                   "hasEmail": "mailto:water-data@example.org"}
    assert pub["publisher"] == {"@type": "org:Organization", "name": "Water", "subOrganizationOf":
                                {"@type": "org:Organization", "name": "City of Kansas City, Missouri"}}
    closed = by_id["water-customer-accounts"]
    assert closed["accessLevel"] == "non-public" and "RSMo 610.021" in closed["rights"]
    assert "distribution" not in closed and "landingPage" not in closed
    assert "distribution" not in by_id["water-quality-tests"] and "issued" not in by_id["water-quality-tests"]


def test_catalog_fails_the_federal_profile_only_for_federal_fields(tmp_path: Path) -> None:
    catalog = build_catalog(inventory=load_inventory(_program(tmp_path, [good_dataset()])).inventory,
                            program=PROGRAM)
    assert errors(catalog, "catalog.json") == ["'bureauCode' is a required property",
                                               "'programCode' is a required property"]


def test_cli_stdout_is_the_catalog(tmp_path: Path, cli: Any) -> None:
    root = _program(tmp_path, [good_dataset(), NON_PUBLIC])
    res = cli(["--root", str(root), "export", "datajson"])
    assert res.exit_code == 0, res.stderr
    catalog = json.loads(res.stdout)
    assert catalog == build_catalog(inventory=load_inventory(root).inventory, program=PROGRAM)
    assert errors(catalog) == []


def test_cli_output_file_and_json(tmp_path: Path, cli: Any) -> None:
    root = _program(tmp_path, [good_dataset(), NON_PUBLIC])
    out = tmp_path / "site" / "data.json"
    res = cli(["--root", str(root), "export", "datajson", "-o", str(out), "--json"])
    assert res.exit_code == 0
    data = res.json()["data"]
    assert data == {"valid": True, "output": str(out), "datasets": 2, "public": 1, "non_public": 1,
                    "with_distribution": 1, "problems": []}
    assert json.loads(out.read_text(encoding="utf-8")) == build_catalog(
        inventory=load_inventory(root).inventory, program=PROGRAM)
    assert [p.name for p in out.parent.iterdir()] == ["data.json"]  # no temp files left behind


@pytest.mark.parametrize(("change", "message"), [
    ({"accrual_periodicity": "daily"}, "accrualPeriodicity"),
    ({"contact": {"name": "KC Water", "email": "water data at example"}}, "hasEmail"),
    ({"access_level": "non-public", "rights": "x" * 300}, "rights"),
])
def test_cli_refuses_a_catalog_that_would_not_validate(tmp_path: Path, cli: Any, change: dict[str, Any],
                                                       message: str) -> None:
    root = _program(tmp_path, [good_dataset(**change)])
    out = tmp_path / "data.json"
    out.write_text("previous\n", encoding="utf-8")
    res = cli(["--root", str(root), "export", "datajson", "-o", str(out), "--json"])
    assert res.exit_code == 1
    env = res.json()
    assert env["data"]["valid"] is False
    assert env["errors"][0]["code"] == "invalid-catalog" and env["errors"][0]["dataset"] == "water-main-breaks"
    assert message in env["errors"][0]["path"]
    assert out.read_text(encoding="utf-8") == "previous\n"  # untouched
    human = cli(["--root", str(root), "export", "datajson"])
    assert human.exit_code == 1 and human.stdout == "" and "refusing" in human.stderr


def test_cli_bad_settings_exit_3(tmp_path: Path, cli: Any) -> None:
    root = _program(tmp_path, [good_dataset()])
    (root / "kcdata.yaml").write_text("program: [1, 2\n", encoding="utf-8")
    assert cli(["--root", str(root), "export", "datajson"]).exit_code == 3


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40).filter(
    lambda s: s.strip() != "")


@st.composite
def datasets(draw: Any) -> Dataset:
    level = draw(st.sampled_from(list(AccessLevel)))
    status = draw(st.sampled_from([s for s in Status if s is not Status.RETIRED]))
    return Dataset(
        id=draw(st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}\Z")), title=draw(_text),
        description=draw(_text), department="water",
        contact=Contact(name=draw(_text), email=draw(st.sampled_from([None, "a.b@example.org", "x@kcmo.org"]))),
        access_level=level, status=status,
        classification=Classification.PUBLIC if level is AccessLevel.PUBLIC else Classification.SENSITIVE,
        rights=None if level is AccessLevel.PUBLIC else draw(st.text(min_size=1, max_size=255)),
        keywords=tuple(draw(st.lists(_text, max_size=3))), theme=draw(st.one_of(st.none(), _text)),
        accrual_periodicity=draw(st.sampled_from([None, "irregular", "R/P1D", "R/P0.5M", "R/PT1H", "R/P1Y"])),
        license=draw(st.sampled_from([None, "https://creativecommons.org/publicdomain/zero/1.0/"])),
        portal_id=draw(st.sampled_from([None, "abcd-1234", "x2y3-z4w5"])),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(datasets(), max_size=6, unique_by=lambda d: d.id))
def test_property_contract_conforming_inventories_always_export_valid(items: list[Dataset]) -> None:
    inv = Inventory(root=Path("."), departments=(), datasets=tuple(items))
    result = export_catalog(inventory=inv, program=PROGRAM)
    assert result.valid, result.problems
    assert errors(result.catalog) == []
    listed = {d["identifier"]: d for d in result.catalog["dataset"]}
    for ds in items:
        entry = listed[ds.id]
        assert entry["accessLevel"] == ds.access_level.value
        if ds.access_level is not AccessLevel.PUBLIC:
            assert entry["rights"] == ds.rights and "distribution" not in entry
