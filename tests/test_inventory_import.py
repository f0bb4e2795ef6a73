"""``kcdata inventory import FILE``: round trip with export, mapping files, dry run, --update, bad input."""

from __future__ import annotations

import shutil

import pytest
from conftest import REPO

from kcdata.inventory.importer import plan_import, report_json
from kcdata.inventory.importmap import load_map, read_sheet
from kcdata.inventory.lint import lint_inventory
from tests.inventory_helpers import WATER, make_inventory

ADOPTION = REPO / "data" / "adoption"
SAMPLE = ADOPTION / "city-inventory.csv"
MAP = ADOPTION / "city-inventory-map.yaml"


def run(cli, root, *args):
    return cli(["--root", str(root), *args])


def snapshot(root):
    return {p.name: p.read_bytes() for p in sorted((root / "inventory").glob("*.yaml"))}


def fresh_like(src, dest):
    """A program with the same data, schemas and settings as ``src`` but no inventory yet."""
    dest.mkdir()
    for name in ("data", "schemas"):
        shutil.copytree(src / name, dest / name)
    if (src / "kcdata.yaml").exists():
        shutil.copy(src / "kcdata.yaml", dest / "kcdata.yaml")
    return dest


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_imports_back_to_an_identical_inventory(cli, tmp_path, fmt):
    root = make_inventory(tmp_path / "a")
    out = tmp_path / f"inventory.{fmt}"
    assert run(cli, root, "inventory", "export", "--format", fmt, "-o", str(out)).exit_code == 0
    # into the same inventory: every row is unchanged and nothing is written
    before = snapshot(root)
    r = run(cli, root, "inventory", "import", str(out), "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert r.json()["data"]["counts"] == {"add": 0, "update": 0, "unchanged": 3, "refused": 0}
    assert snapshot(root) == before
    # into a new program: the same inventory, export for export
    other = fresh_like(root, tmp_path / "b")
    r = run(cli, other, "inventory", "import", str(out))
    assert r.exit_code == 0, r.stdout + r.stderr
    first = run(cli, root, "inventory", "export", "--format", "csv").stdout
    again = run(cli, other, "inventory", "export", "--format", "csv").stdout
    assert again == first
    report = lint_inventory(root=other)
    assert report.errors == 0, [str(p) for p in report.problems]


@pytest.mark.slow
def test_whole_sample_program_round_trips(cli, sample_root, tmp_path):
    out = tmp_path / "inventory.xlsx"
    assert run(cli, sample_root, "inventory", "export", "--format", "xlsx", "-o", str(out)).exit_code == 0
    other = fresh_like(sample_root, tmp_path / "other")
    r = run(cli, other, "inventory", "import", str(out), "--json")
    assert r.exit_code == 0 and r.json()["data"]["counts"]["add"] == 101
    assert (run(cli, other, "inventory", "export", "--format", "csv").stdout
            == run(cli, sample_root, "inventory", "export", "--format", "csv").stdout)
    assert lint_inventory(root=other).errors == 0


def test_mapped_spreadsheet_dry_run_names_rows_and_columns(cli, sample_root):
    before = snapshot(sample_root)
    r = run(cli, sample_root, "inventory", "import", str(SAMPLE), "--map", str(MAP), "--dry-run", "--json")
    assert r.exit_code == 1
    data = r.json()["data"]
    assert snapshot(sample_root) == before and data["written"] is False
    assert data["counts"] == {"add": 3, "update": 0, "unchanged": 0, "refused": 2}
    by_id = {rec["id"]: rec for rec in data["records"]}
    bad = by_id["library-room-bookings"]["problems"][0]
    assert (bad["row"], bad["column"], bad["header"], bad["code"]) == (6, 7, "Update Freq", "bad-periodicity")
    exists = by_id["community-center-attendance"]
    assert exists["action"] == "refused" and exists["problems"][0]["code"] == "exists"
    assert {c["field"] for c in exists["changes"]} >= {"description", "accrual_periodicity"}
    assert data["departments"]["parks"] == {"add": 1, "update": 0, "unchanged": 0, "refused": 1}
    assert data["ignored_columns"] == ["Notes"]
    # human output: rows, columns, counts per department
    r = run(cli, sample_root, "inventory", "import", str(SAMPLE), "--map", str(MAP), "--dry-run")
    assert "row 6, column 7 ('Update Freq')" in r.stdout
    assert "parks: 1 would add, 1 refused" in " ".join(r.stderr.split())


def test_mapped_import_writes_translated_entries_that_lint_clean(cli, sample_root):
    r = run(cli, sample_root, "inventory", "import", str(SAMPLE), "--map", str(MAP), "--json")
    assert r.exit_code == 1  # one row refused; the others are written
    assert r.json()["data"]["counts"] == {"add": 3, "update": 0, "unchanged": 0, "refused": 2}
    from kcdata.inventory import load_inventory

    inv = load_inventory(sample_root).inventory
    d = inv.get("park-shelter-reservations")
    assert (d.department, d.accrual_periodicity, d.access_level.value) == ("parks", "R/P1W", "public")
    assert d.last_reviewed.isoformat() == "2026-09-04" and d.contains_pii is False
    assert d.keywords == ("parks", "shelters", "reservations")
    assert inv.get("fleet-fuel-purchases").access_level.value == "non-public"
    report = lint_inventory(root=sample_root)
    assert report.errors == 0, [str(p) for p in report.problems]


def test_update_changes_only_the_differing_fields_and_keeps_other_bytes(cli, sample_root):
    before = (sample_root / "inventory" / "parks.yaml").read_text()
    r = run(cli, sample_root, "inventory", "import", str(SAMPLE), "--map", str(MAP), "--update", "--json")
    rec = {x["id"]: x for x in r.json()["data"]["records"]}["community-center-attendance"]
    assert rec["action"] == "update"
    after = (sample_root / "inventory" / "parks.yaml").read_text()
    assert "description: Daily check-ins at each community center." in after
    assert "accrual_periodicity: R/P1D" in after
    # defaults in the map (status: inventoried) never change an existing entry
    assert "status" not in {c["field"] for c in rec["changes"]}
    # comments and untouched lines survive
    assert after.splitlines()[:12] == before.splitlines()[:12]
    assert lint_inventory(root=sample_root).errors == 0


def test_one_bad_row_never_stops_the_others(cli, tmp_path):
    root = make_inventory(tmp_path / "p")
    sheet = tmp_path / "new.csv"
    sheet.write_text("id,department,title,description,contact_name,access_level,status,requests\n"
                     "a-ok,water,A,Alpha,Team,public,inventoried,3\n"
                     "b-bad,water,B,Beta,Team,open,inventoried,3\n"
                     "c-bad,water,C,Gamma,Team,public,inventoried,many\n"
                     ",water,D Thing,Delta,Team,public,inventoried,\n"
                     "a-ok,fire,A again,Alpha,Team,public,inventoried,\n")
    r = run(cli, root, "inventory", "import", str(sheet), "--json")
    assert r.exit_code == 1
    recs = r.json()["data"]["records"]
    assert [x["action"] for x in recs] == ["add", "refused", "refused", "add", "refused"]
    assert recs[1]["problems"][0]["column"] == 6 and recs[1]["problems"][0]["code"] == "invalid-value"
    assert recs[2]["problems"][0]["column"] == 8 and recs[2]["problems"][0]["row"] == 4
    assert recs[3]["id"] == "d-thing"  # id derived from the title
    assert recs[4]["problems"][0]["code"] == "duplicate-id"
    assert lint_inventory(root=root).errors == 0


def test_json_equals_library_result(cli, sample_root):
    r = run(cli, sample_root, "inventory", "import", str(SAMPLE), "--map", str(MAP), "--dry-run", "--json")
    mapping = load_map(MAP)
    sheet = read_sheet(SAMPLE, mapping)
    lib = report_json(plan_import(root=sample_root, records=sheet.records, mapping=mapping,
                                  ignored_columns=sheet.ignored_columns))
    data = r.json()["data"]
    assert {k: v for k, v in data.items() if k not in ("source", "dry_run", "schemas_written")} == lib


@pytest.mark.parametrize(("name", "content", "needle"), [
    ("map.yaml", "columns: [unclosed", "not valid YAML"),
    ("map.yaml", "columns: {\"No Such Column\": title}\n", "not in the spreadsheet"),
    ("map.yaml", "columns: {\"Dept\": dept_name}\n", "unknown field"),
    ("map.yaml", "colums: {}\n", "unknown key"),
    ("map.yaml", "departments: {\"Public Works\": Public Works}\n", "not a department id"),
])
def test_bad_map_exits_3_and_writes_nothing(cli, sample_root, tmp_path, name, content, needle):
    bad = tmp_path / name
    bad.write_text(content)
    before = snapshot(sample_root)
    r = run(cli, sample_root, "inventory", "import", str(SAMPLE), "--map", str(bad))
    assert r.exit_code == 3 and needle in " ".join(r.stderr.split())
    assert snapshot(sample_root) == before


@pytest.mark.parametrize(("name", "content", "needle"), [
    ("missing.csv", None, "file not found"),
    ("bad.xlsx", b"PK\x03\x04 not really a workbook", "not a readable Excel workbook"),
    ("latin1.csv", "id,title\nx,Caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("quotes.csv", b'id,title\nx,"unclosed\n', "malformed CSV"),
    ("inventory.ods", b"whatever", "not a .csv or .xlsx"),
])
def test_bad_spreadsheet_exits_3(cli, tmp_path, name, content, needle):
    root = make_inventory(tmp_path / "p")
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    r = run(cli, root, "inventory", "import", str(path), "--json")
    assert r.exit_code == 3
    assert needle in r.json()["errors"][0]["message"]


def test_file_or_portal_is_a_usage_error(cli, tmp_path):
    root = make_inventory(tmp_path / "p")
    assert run(cli, root, "inventory", "import").exit_code == 2


def test_quoted_dates_written_by_hand_still_count_as_unchanged(cli, tmp_path):
    root = make_inventory(tmp_path / "p", {"water.yaml": WATER.replace("last_reviewed: 2026-11-02",
                                                                       "last_reviewed: '2026-11-02'")})
    out = tmp_path / "inv.csv"
    run(cli, root, "inventory", "export", "--format", "csv", "-o", str(out))
    r = run(cli, root, "inventory", "import", str(out), "--json")
    assert r.exit_code == 0 and r.json()["data"]["counts"]["unchanged"] == 3
