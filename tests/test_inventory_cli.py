"""``kcdata inventory list|show|lint|export|add`` and ``kcdata init`` through the real CLI."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import yaml

from kcdata.inventory.lint import lint_inventory, sorted_problems
from kcdata.jsonable import to_jsonable
from tests.inventory_helpers import WATER, make_inventory


def flat(text):
    """stderr with rich's line wrapping undone."""
    return " ".join(text.split())


def run(cli, root, *args):
    return cli(["--root", str(root), *args])


# -- list / show -----------------------------------------------------------------------------------

def test_list_table_and_filters(cli, tmp_path):
    root = make_inventory(tmp_path)
    r = run(cli, root, "inventory", "list")
    assert r.exit_code == 0 and "water-main-breaks" in r.stdout and "fire-incidents" in r.stdout
    r = run(cli, root, "inventory", "list", "--department", "water", "--access-level", "non-public", "--json")
    assert [d["id"] for d in r.json()["data"]["datasets"]] == ["water-customer-accounts"]
    r = run(cli, root, "inventory", "list", "--status", "approved", "--csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["id"] for row in rows] == ["water-main-breaks"]


def test_list_json_equals_library(cli, tmp_path):
    from kcdata.cli.cmd_inventory import dataset_json
    from kcdata.inventory import load_inventory

    root = make_inventory(tmp_path)
    r = run(cli, root, "inventory", "list", "--json")
    expected = [dataset_json(d) for d in load_inventory(root).inventory.datasets]
    assert r.json()["data"]["datasets"] == json.loads(json.dumps(expected))


def test_show_all_fields_and_history(cli, tmp_path):
    root = make_inventory(tmp_path)
    r = run(cli, root, "inventory", "show", "water-main-breaks")
    assert r.exit_code == 0
    for text in ("Maximo work orders", "R/P1D", "history", "Committee", "in_review"):
        assert text in r.stdout
    d = run(cli, root, "inventory", "show", "water-main-breaks", "--json").json()["data"]["dataset"]
    assert d["department"] == "water" and d["row_identifier"] == "break_id" and len(d["history"]) == 3


def test_show_unknown_id_did_you_mean_exit_3(cli, tmp_path):
    root = make_inventory(tmp_path)
    r = run(cli, root, "inventory", "show", "water-main-brakes")
    assert r.exit_code == 3 and "did you mean 'water-main-breaks'" in flat(r.stderr) and "Traceback" not in r.stderr
    assert run(cli, root, "inventory", "show", "nope", "--json").json()["errors"][0]["code"] == "not-found"


# -- lint ------------------------------------------------------------------------------------------

def test_lint_clean_exit_0(cli, tmp_path):
    r = run(cli, make_inventory(tmp_path), "inventory", "lint")
    assert r.exit_code == 0 and "inventory OK" in r.stderr


def test_lint_findings_exit_1_grouped_by_file(cli, tmp_path):
    root = make_inventory(tmp_path, {"water.yaml": WATER.replace("license:", "licence:")})
    r = run(cli, root, "inventory", "lint")
    assert r.exit_code == 1
    assert "inventory/water.yaml\n" in r.stdout
    assert "18:5  error   datasets[0].licence: unknown key 'licence' — did you mean 'license'?" in r.stdout


def test_lint_json_equals_library(cli, tmp_path):
    root = make_inventory(tmp_path, {"water.yaml": WATER.replace("value: high", "value: hihg")})
    env = run(cli, root, "inventory", "lint", "--json").json()
    report = lint_inventory(root=root)
    assert env["exit_code"] == 1 and env["command"] == "inventory lint"
    assert env["data"]["problems"] == [{**to_jsonable(p), "location": p.location()}
                                       for p in sorted_problems(report.problems)]
    assert env["data"]["errors"] == report.errors == 1


def test_lint_unparsable_exit_3_others_still_reported(cli, tmp_path):
    root = make_inventory(tmp_path, {"bad.yaml": "department: [\n",
                                     "water.yaml": WATER.replace("license:", "licence:")})
    r = run(cli, root, "inventory", "lint")
    assert r.exit_code == 3 and "Traceback" not in r.stderr + r.stdout
    assert "inventory/bad.yaml" in r.stdout and "licence" in r.stdout
    assert run(cli, root, "inventory", "lint", "--json").json()["data"]["unparsable"] == ["inventory/bad.yaml"]


def test_lint_no_inventory_folder_exit_3(cli, tmp_path):
    assert run(cli, tmp_path, "inventory", "lint").exit_code == 3


# -- export ----------------------------------------------------------------------------------------

def test_export_csv_full_and_public(cli, tmp_path):
    root = make_inventory(tmp_path)
    rows = list(csv.DictReader(io.StringIO(run(cli, root, "inventory", "export", "--format", "csv").stdout)))
    by_id = {row["id"]: row for row in rows}
    assert len(rows) == 3 and by_id["water-customer-accounts"]["rights"].startswith("Customer account")
    pub = list(csv.DictReader(io.StringIO(run(cli, root, "inventory", "export", "--format", "csv",
                                              "--public").stdout)))
    withheld = next(r for r in pub if r["title"] == "Water Customer Accounts")
    assert withheld["department"] == "water" and withheld["justification"].startswith("Customer account")
    assert withheld["id"] == "" and withheld["description"] == "" and withheld["contact_name"] == ""


def test_export_json_public_redacts(cli, tmp_path):
    root = make_inventory(tmp_path)
    out = tmp_path / "pub.json"
    r = run(cli, root, "inventory", "export", "--format", "json", "--public", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == ""
    data = json.loads(out.read_text())
    redacted = [d for d in data["datasets"] if "id" not in d]
    assert redacted == [{"title": "Water Customer Accounts", "department": "water",
                         "justification": "Customer account records are closed under RSMo 610.021."}]


def test_export_xlsx_header_freeze_filters(cli, tmp_path):
    from openpyxl import load_workbook

    root = make_inventory(tmp_path)
    out = tmp_path / "inv.xlsx"
    assert run(cli, root, "inventory", "export", "--format", "xlsx", "-o", str(out)).exit_code == 0
    ws = load_workbook(out).active
    assert ws["A1"].value == "id" and ws["A1"].font.bold
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert ws.max_row == 4


def test_export_xlsx_without_output_is_usage_error(cli, tmp_path):
    assert run(cli, make_inventory(tmp_path), "inventory", "export", "--format", "xlsx").exit_code == 2


# -- add (scripted) --------------------------------------------------------------------------------

ADD = ["inventory", "add", "--department", "water", "--yes", "--id", "water-quality-tests",
       "--title", "Water Quality Tests", "--description", "Lab results for lead and copper.",
       "--contact-name", "KC Water Lab", "--contact-email", "lab@example.org", "--access-level", "public",
       "--keyword", "water", "--keyword", "lab"]


def test_add_with_flags_appends_and_lints_clean(cli, tmp_path):
    root = make_inventory(tmp_path)
    before = (root / "inventory/water.yaml").read_bytes()
    r = run(cli, root, *ADD, "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert r.json()["data"]["file"] == "inventory/water.yaml"
    after = (root / "inventory/water.yaml").read_bytes()
    assert after.startswith(before.rstrip(b"\n"))
    entry = yaml.safe_load(after)["datasets"][-1]
    assert entry["id"] == "water-quality-tests" and entry["keywords"] == ["water", "lab"]
    assert entry["status"] == "inventoried"
    assert lint_inventory(root=root).problems == ()


def test_add_from_file_to_new_department(cli, tmp_path):
    root = make_inventory(tmp_path)
    entry_file = tmp_path / "entry.yaml"
    entry_file.write_text("id: park-shelters\ntitle: Park Shelters\ndescription: Reservable shelters.\n"
                          "contact: {name: Parks Data}\naccess_level: public\nstatus: inventoried\n")
    r = run(cli, root, "inventory", "add", "--department", "parks", "--from-file", str(entry_file), "--yes")
    assert r.exit_code == 0, r.stderr
    data = yaml.safe_load((root / "inventory/parks.yaml").read_text())
    assert data["department"]["id"] == "parks" and data["datasets"][0]["id"] == "park-shelters"
    assert lint_inventory(root=root).problems == ()


def test_add_invalid_entry_exit_3_nothing_written(cli, tmp_path):
    root = make_inventory(tmp_path)
    before = (root / "inventory/water.yaml").read_bytes()
    r = run(cli, root, *[a if a != "public" else "open-ish" for a in ADD])
    assert r.exit_code == 2  # click rejects the choice itself
    r = run(cli, root, *ADD[:-4], "--license", "https://example.org/proprietary", "--json")
    assert r.exit_code == 3
    err = r.json()["errors"][0]
    assert err["code"] == "invalid-entry" and err["problems"][0]["code"] == "bad-license"
    assert (root / "inventory/water.yaml").read_bytes() == before


def test_add_duplicate_id_exit_3_nothing_written(cli, tmp_path):
    root = make_inventory(tmp_path)
    before = {p.name: p.read_bytes() for p in (root / "inventory").iterdir()}
    r = run(cli, root, *[a if a != "water-quality-tests" else "fire-incidents" for a in ADD])
    assert r.exit_code == 3 and "already used in inventory/fire.yaml" in flat(r.stderr)
    assert {p.name: p.read_bytes() for p in (root / "inventory").iterdir()} == before


def test_add_from_file_that_is_not_a_mapping_exit_3(cli, tmp_path):
    root = make_inventory(tmp_path)
    bad = tmp_path / "entry.yaml"
    bad.write_text("just a string\n")
    r = run(cli, root, "inventory", "add", "-d", "water", "--from-file", str(bad), "--yes")
    assert r.exit_code == 3 and "expected one dataset entry" in flat(r.stderr)


def test_add_without_department_non_interactive_exit_3(cli, tmp_path):
    r = run(cli, make_inventory(tmp_path), "inventory", "add", "--yes", "--id", "x")
    assert r.exit_code == 3 and "--department is required" in flat(r.stderr)


# -- init ------------------------------------------------------------------------------------------

def test_init_scaffold_lints_clean(cli, tmp_path):
    target = tmp_path / "springfield"
    r = cli(["init", str(target), "--city", "Springfield", "--json"])
    assert r.exit_code == 0
    files = r.json()["data"]["files"]
    assert {"inventory/public-works.yaml", "kcdata.yaml", "README.md"} <= set(files)
    assert any(f.startswith("schemas/") for f in files)
    report = lint_inventory(root=target)
    assert report.problems == () and report.datasets == 1
    text = (target / "inventory/public-works.yaml").read_text()
    from kcdata.inventory.lintschema import inventory_schema

    for name in inventory_schema()["$defs"]["dataset"]["properties"]:
        if name not in {"priority_override", "privacy_review"}:  # written by kcdata score/review
            assert f"    {name}:" in text or f"  - {name}:" in text, name  # every field shown and explained
    settings = yaml.safe_load((target / "kcdata.yaml").read_text())
    assert settings["program"]["city"] == "Springfield" and settings["goals"][0]["id"]
    assert run(cli, target, "inventory", "lint").exit_code == 0


def test_init_refuses_non_empty_dir_unless_force(cli, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    r = cli(["init", str(tmp_path)])
    assert r.exit_code == 3 and "not empty" in flat(r.stderr)
    assert not (tmp_path / "inventory").exists()
    assert cli(["init", str(tmp_path), "--force"]).exit_code == 0
    assert (tmp_path / "keep.txt").read_text() == "mine" and (tmp_path / "inventory/public-works.yaml").exists()


def test_export_unwritable_output_exit_3(cli, tmp_path):
    root = make_inventory(tmp_path)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked").chmod(0o500)
    try:
        r = run(cli, root, "inventory", "export", "--format", "csv", "-o", str(tmp_path / "locked" / "x.csv"))
    finally:
        (tmp_path / "locked").chmod(0o700)
    import os

    if os.geteuid() == 0:  # root ignores permissions: use a path under a file instead
        r = run(cli, root, "inventory", "export", "--format", "csv", "-o",
                str(tmp_path / "inventory" / "water.yaml" / "x.csv"))
    assert r.exit_code == 3 and "cannot write" in flat(r.stderr)


def test_two_concurrent_add_commands_lose_nothing(tmp_path):
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    root = make_inventory(tmp_path)
    procs = [subprocess.Popen([sys.executable, "-m", "kcdata", "--root", str(root),
                               *[a if a != "water-quality-tests" else f"water-quality-{n}" for a in ADD]],
                              env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for n in range(2)]
    for p in procs:
        assert p.wait(timeout=60) == 0, p.stderr.read()
    ids = [d["id"] for d in yaml.safe_load((root / "inventory/water.yaml").read_text())["datasets"]]
    assert sorted(ids[2:]) == ["water-quality-0", "water-quality-1"]


BAD_FILES = {
    "malformed": ("department: {id: x\n", 3),
    "tabs": ("department:\n\tid: tabs\n", 3),
    "list": ("- id: a\n", 1),
    "unknown-key": (None, 1),
    "enum": (None, 1),
    "alias-bomb": ("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", 3),
    "big": (b"# pad\n" * 9_000_000, 3),
    "latin1": (b"department:\n  name: Caf\xe9\n", 3),
    "empty": ("", 1),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_input_through_the_cli(cli, tmp_path, case):
    text, code = BAD_FILES[case]
    if case == "unknown-key":
        files = {"water.yaml": WATER.replace("theme:", "theem:")}
    elif case == "enum":
        files = {"water.yaml": WATER.replace("status: approved", "status: aproved")}
    else:
        files = {f"{case}.yaml": text}
    root = make_inventory(tmp_path, files)
    r = run(cli, root, "inventory", "lint")
    assert r.exit_code == code
    assert "Traceback" not in r.stdout + r.stderr
    assert re.search(r"inventory/\S+\.yaml\n\s+\d+:\d+\s+error", r.stdout), r.stdout
    env = run(cli, root, "inventory", "lint", "--json").json()
    assert env["exit_code"] == code and env["data"]["problems"][0]["line"] is not None

def test_show_json_equals_library(cli, tmp_path):
    from kcdata.cli.cmd_inventory import dataset_json
    from kcdata.inventory import load_inventory

    root = make_inventory(tmp_path)
    expected = dataset_json(load_inventory(root).inventory.get("water-customer-accounts"))
    data = run(cli, root, "inventory", "show", "water-customer-accounts", "--json").json()["data"]
    assert data["dataset"] == json.loads(json.dumps(expected)) and data["datasets"] == [data["dataset"]]


def test_add_json_equals_written_entry(cli, tmp_path):
    root = make_inventory(tmp_path)
    r = run(cli, root, *ADD, "--json")
    written = yaml.safe_load((root / "inventory/water.yaml").read_text())["datasets"][-1]
    assert r.json()["data"]["dataset"] == json.loads(json.dumps(written, default=str))
