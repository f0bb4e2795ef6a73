"""The CLI-wide bad-input corpus (issue 14): no input ends in an internal error (exit 70), and no input
gives a silently wrong result. Each case names the issue item it pins down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.inventory_helpers import make_inventory


def flat(text: str) -> str:
    return " ".join(text.split())


def run(cli, root: Path, *args: str, **kw):  # type: ignore[no-untyped-def]
    return cli(["--root", str(root), *args], **kw)


# -- 1, 2, 3: degenerate CSV files never crash validate; one bad dataset never stops the run ----------

DEGENERATE = {
    "header-no-newline": b"break_id,address",
    "single-word": b"word",
    "single-space": b" ",
    "bom-only": b"\xef\xbb\xbf",
    "one-newline": b"\n",
    "blank-lines": b"\n\n\n",
    "leading-empty-line": b"\nbreak_id,address\n1,Main St\n",
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_degenerate_csv_validates_like_frictionless(cli, tmp_path: Path, name: str) -> None:
    root = make_inventory(tmp_path)
    (root / "data/samples/water-main-breaks.csv").write_bytes(DEGENERATE[name])
    r = run(cli, root, "validate", "water-main-breaks", "--json")
    assert r.exit_code in (0, 1), r.stderr
    [report] = r.json()["data"]["datasets"]
    assert report["engine"] in ("fast", "frictionless")
    if name == "header-no-newline":  # a header only: 0 rows, valid (as frictionless says)
        assert report["valid"] is True and report["rows"] == 0


def test_degenerate_csv_does_not_stop_the_run(cli, tmp_path: Path) -> None:
    extra = yaml.safe_dump({"department": {"id": "parks", "name": "Parks"}, "datasets": [{
        "id": "trees", "title": "Trees", "description": "Trees planted.", "contact": {"name": "Parks"},
        "access_level": "public", "status": "inventoried", "data": "data/trees.csv",
        "schema": "schemas/water-main-breaks.schema.json"}]})
    root = make_inventory(tmp_path, {"parks.yaml": extra})
    (root / "data/trees.csv").write_bytes(b"\n\n\n")
    r = run(cli, root, "validate", "--json")
    assert r.exit_code in (1, 3), r.stderr
    ids = sorted(d["id"] for d in r.json()["data"]["datasets"])
    assert ids == ["trees", "water-main-breaks"]
    good = next(d for d in r.json()["data"]["datasets"] if d["id"] == "water-main-breaks")
    assert good["valid"] is True


@pytest.mark.parametrize("name", ["header-no-newline", "blank-lines", "leading-empty-line"])
def test_degenerate_csv_in_score_site_policy(cli, tmp_path: Path, name: str) -> None:
    root = make_inventory(tmp_path)
    (root / "data/samples/water-main-breaks.csv").write_bytes(DEGENERATE[name])
    for args in (["score"], ["site", "build", "-o", str(tmp_path / "site")], ["policy", "check"],
                 ["export", "datajson", "-o", str(tmp_path / "data.json")]):
        r = run(cli, root, *args)
        assert r.exit_code in (0, 1), (args, r.stderr)


@pytest.mark.parametrize("name", ["header-no-newline", "blank-lines", "leading-empty-line"])
def test_degenerate_csv_in_publish_plan(cli, tmp_path: Path, portal, name: str) -> None:  # type: ignore[no-untyped-def]
    from tests.publish_helpers import make_program, portal_env, unique_id

    ds = unique_id("degenerate")
    root = make_program(tmp_path / "p", {ds: {"n": 3}})
    (root / "data" / f"{ds}.csv").write_bytes(DEGENERATE[name])
    r = run(cli, root, "publish", "plan", "--json", env=portal_env(portal))
    assert r.exit_code in (0, 1, 5), r.stdout + r.stderr
    assert "internal-error" not in r.stdout


# -- 4, 5, 15: folders that cannot be written ------------------------------------------------------------

ADD = ["inventory", "add", "--department", "water", "--yes", "--id", "water-quality-tests",
       "--title", "Water Quality Tests", "--description", "Lab results.", "--contact-name", "KC Water Lab",
       "--contact-email", "lab@example.org", "--access-level", "public"]


def _state_dir_blocked(root: Path) -> None:
    """``.kcdata`` is a file: nothing can be written under it (works as root, unlike chmod)."""
    (root / ".kcdata").write_text("in the way\n")


@pytest.mark.parametrize("args", [
    ADD,
    ["review", "propose", "fire-incidents", "--by", "Fire liaison"],
    ["score", "override", "water-main-breaks", "--band", "P1", "--by", "Committee", "--why", "Council"],
])
def test_state_folder_not_writable_exit_3(cli, tmp_path: Path, args: list[str]) -> None:
    root = make_inventory(tmp_path)
    before = {p.name: p.read_bytes() for p in (root / "inventory").iterdir()}
    _state_dir_blocked(root)
    r = run(cli, root, *args)
    assert r.exit_code == 3, r.stderr
    assert "folder not writable" in flat(r.stderr) and ".kcdata" in r.stderr
    assert {p.name: p.read_bytes() for p in (root / "inventory").iterdir()} == before


def test_read_only_program_folder_exit_3(cli, tmp_path: Path) -> None:
    """As a non-root user, a chmod'ed folder; as root (permissions ignored) a file in the way."""
    import os

    root = make_inventory(tmp_path)
    if os.geteuid() == 0:
        _state_dir_blocked(root)
        r = run(cli, root, *ADD)
    else:
        for p in [root, *root.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
        try:
            r = run(cli, root, *ADD)
        finally:
            for p in [root, *root.rglob("*")]:
                p.chmod(p.stat().st_mode | 0o200)
    assert r.exit_code == 3 and "folder not writable" in flat(r.stderr)


@pytest.mark.parametrize("args", [
    ["review", "agenda", "-o"], ["export", "datajson", "-o"], ["announce", "-o"], ["site", "build", "-o"],
])
def test_output_into_impossible_place_exit_3(cli, tmp_path: Path, args: list[str]) -> None:
    root = make_inventory(tmp_path)
    target = str(root / "inventory" / "water.yaml" / "out")
    r = run(cli, root, *args, target)
    assert r.exit_code == 3, r.stderr
    assert "unexpected error" not in r.stderr and "water.yaml" in r.stderr
    r = run(cli, root, *args, target, "--json") if args[0] != "site" else r
    if args[0] != "site":
        assert r.json()["exit_code"] == 3 and r.json()["errors"]


def test_cache_not_writable_is_a_warning_not_a_verdict(cli, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    root = make_inventory(tmp_path)
    _state_dir_blocked(root)
    r = run(cli, root, "validate", "water-main-breaks", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["data"]["datasets"][0]["valid"] is True
    assert "cache not written" in r.stderr + caplog.text


# -- 6: a number too long to read --------------------------------------------------------------------------

def test_five_thousand_digit_integer(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    path = root / "inventory/water.yaml"
    path.write_text(path.read_text().replace("requests: 14", "requests: " + "9" * 5000))
    r = run(cli, root, "inventory", "lint", "--json")
    assert r.exit_code == 3
    problems = r.json()["data"]["problems"]
    assert any(p["file"] == "inventory/water.yaml" and (p["line"], p["col"]) == (27, 15)
               and "5000 digits" in p["message"] for p in problems), problems
    lint = run(cli, root, "inventory", "lint")
    assert "inventory/water.yaml" in lint.stdout + lint.stderr  # and the other file was linted too
    for args in (["inventory", "list"], ["score"], ["validate"], ["policy", "check"]):
        r = run(cli, root, *args)
        assert r.exit_code == 3, (args, r.stderr)
        assert "5000 digits" in flat(r.stderr) and "inventory/water.yaml" in r.stderr


# -- 7, 18, 29: the demand file ----------------------------------------------------------------------------

@pytest.mark.parametrize("content, needle", [
    ("id,views,downloads\nwater-main-breaks,1,2\n".encode("utf-16"), "UTF-16"),
    (bytes(range(256)) * 4, "not a text file"),
    (b"PK\x03\x04" + b"\x00" * 60, "Excel workbook"),
    (b"id,views\n\xff\xfe\xfa,1\n", "not UTF-8"),
    (b"id;views;downloads\nwater-main-breaks;1;2\n", "columns found: 'id;views;downloads'"),
])
def test_bad_demand_file_exit_3(cli, tmp_path: Path, content: bytes, needle: str) -> None:
    root = make_inventory(tmp_path)
    demand = tmp_path / "demand.csv"
    demand.write_bytes(content)
    r = run(cli, root, "score", "--demand", str(demand))
    assert r.exit_code == 3, r.stderr
    assert needle in flat(r.stderr)


def test_demand_json_with_a_huge_number_exit_3(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    demand = tmp_path / "demand.json"
    demand.write_text('{"water-main-breaks": {"views": ' + "9" * 5000 + "}}")
    r = run(cli, root, "score", "--demand", str(demand))
    assert r.exit_code == 3 and "unexpected error" not in r.stderr


def test_demand_unknown_id_warns_with_did_you_mean(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    demand = tmp_path / "demand.csv"
    demand.write_text("id,views,downloads\nwater-main-break,10,2\n")
    r = run(cli, root, "score", "--demand", str(demand))
    assert r.exit_code == 0
    assert "'water-main-break' is not in the inventory" in flat(r.stderr)
    assert "did you mean water-main-breaks" in flat(r.stderr)


# -- 8: add never writes a review state --------------------------------------------------------------------

def test_add_refuses_review_states(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    before = (root / "inventory/water.yaml").read_bytes()
    r = run(cli, root, *ADD, "--status", "approved")
    assert r.exit_code == 2
    entry = tmp_path / "entry.yaml"
    entry.write_text("status: approved\n")
    r = run(cli, root, *ADD, "--from-file", str(entry))
    assert r.exit_code == 3 and "kcdata review" in flat(r.stderr)
    entry.write_text("history: [{who: me, when: '2026-01-01T00:00:00Z', from: proposed, to: approved}]\n")
    r = run(cli, root, *ADD, "--from-file", str(entry))
    assert r.exit_code == 3 and "history" in r.stderr
    assert (root / "inventory/water.yaml").read_bytes() == before
    r = run(cli, root, *ADD, "--status", "proposed")
    assert r.exit_code == 0, r.stderr


# -- 9: the publish gate checks the open licence -----------------------------------------------------------

def test_publish_refuses_a_non_open_licence(cli, tmp_path: Path, portal) -> None:  # type: ignore[no-untyped-def]
    from tests.publish_helpers import make_program, portal_env, unique_id

    ds = unique_id("licence")
    root = make_program(tmp_path / "p", {ds: {"n": 3}})
    path = root / "inventory/water.yaml"
    path.write_text(path.read_text().replace("https://creativecommons.org/publicdomain/zero/1.0/",
                                             "https://example.org/all-rights-reserved"))
    r = run(cli, root, "publish", "apply", ds, "--yes", "--json", env=portal_env(portal))
    assert r.exit_code == 5, r.stdout + r.stderr
    assert "not an open licence" in r.stdout


def test_merge_workflow_lints_before_publishing() -> None:
    import yaml

    workflow = yaml.safe_load((Path(__file__).resolve().parent.parent / ".github/workflows/kcdata.yml").read_text())
    commands = [step.get("with", {}).get("command", "") for step in workflow["jobs"]["publish"]["steps"]]
    lint = commands.index("inventory lint")
    apply = next(i for i, c in enumerate(commands) if c.startswith("publish apply"))
    assert lint < apply


# -- 10, 11, 32: kcdata.yaml mistakes stop every command ---------------------------------------------------

EVERY = [["inventory", "list"], ["inventory", "lint"], ["validate"], ["score"], ["policy", "check"],
         ["export", "datajson"], ["site", "build"], ["review", "queue"], ["goals"], ["publish", "plan"]]


@pytest.mark.parametrize("args", EVERY)
def test_duplicate_section_exit_3_naming_both_lines(cli, tmp_path: Path, args: list[str]) -> None:
    root = make_inventory(tmp_path)
    with open(root / "kcdata.yaml", "a") as fh:
        fh.write("publish:\n  chunk_size: 10\npublish:\n  chunk_size: 20\n")
    r = run(cli, root, *args)
    assert r.exit_code == 3, r.stderr
    assert "duplicate key 'publish' (first at line 4)" in flat(r.stderr) and "kcdata.yaml:6:1" in r.stderr


@pytest.mark.parametrize("args", EVERY)
def test_misspelt_section_exit_3_did_you_mean(cli, tmp_path: Path, args: list[str]) -> None:
    root = make_inventory(tmp_path)
    with open(root / "kcdata.yaml", "a") as fh:
        fh.write("scorng:\n  version: x\n")
    r = run(cli, root, *args)
    assert r.exit_code == 3, r.stderr
    assert "unknown section 'scorng'" in flat(r.stderr) and "did you mean 'scoring'" in flat(r.stderr)


def test_unknown_key_in_a_section_exit_3_for_inventory_list(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    with open(root / "kcdata.yaml", "a") as fh:
        fh.write("publish:\n  chunk_sise: 10\n")
    r = run(cli, root, "inventory", "list")
    assert r.exit_code == 3 and "chunk_size" in flat(r.stderr)


def test_yaml_error_in_settings_does_not_say_inventory_files(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    with open(root / "kcdata.yaml", "a") as fh:
        fh.write("site: !!python/object:os.system {}\n")
    r = run(cli, root, "score")
    assert r.exit_code == 3 and "inventory files" not in r.stderr and "kcdata.yaml" in r.stderr


# -- 12: an unparsable department file never silently drops its datasets ----------------------------------

@pytest.mark.parametrize("args", [["export", "datajson", "-o", "data.json"], ["validate"], ["score"],
                                  ["inventory", "list"], ["policy", "check"], ["goals"], ["review", "queue"]])
def test_unparsable_department_file_exit_3(cli, tmp_path: Path, args: list[str]) -> None:
    root = make_inventory(tmp_path, {"fire.yaml": "department: {id: fire\ndatasets: [\n"})
    r = run(cli, root, *args, "--json")
    assert r.exit_code == 3, r.stdout + r.stderr
    env = r.json()
    assert env["exit_code"] == 3 and "inventory/fire.yaml" in env["errors"][0]["message"]
    assert not (root / "data.json").exists()


def test_site_shows_an_unparsable_file_and_strict_refuses(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path, {"fire.yaml": "department: {id: fire\ndatasets: [\n"})
    r = run(cli, root, "site", "build", "--strict")
    assert r.exit_code == 1 and "inventory/fire.yaml" in r.stderr


def test_export_refuses_a_partial_catalog_when_an_entry_is_skipped(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    path = root / "inventory/water.yaml"
    path.write_text(path.read_text().replace("requests: 14", "requests: many"))
    out = tmp_path / "data.json"
    r = run(cli, root, "export", "datajson", "-o", str(out))
    assert r.exit_code == 3 and not out.exists()
    assert "inventory/water.yaml" in r.stderr


def test_json_envelope_on_every_error_is_one_object(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path, {"fire.yaml": "department: {id: fire\n"})
    r = run(cli, root, "inventory", "list", "--json")
    assert r.exit_code == 3
    json.loads(r.stdout)


# -- 13: unknown filter values are usage errors with a did-you-mean ----------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["--status", "aproved"], "did you mean 'approved'"),
    (["--department", "wter"], "did you mean 'water'"),
    (["--department", "nope"], "'nope' is not one of fire, water"),
    (["--access-level", "publc"], "did you mean 'public'"),
])
def test_inventory_list_unknown_filter_exit_2(cli, tmp_path: Path, args: list[str], needle: str) -> None:
    root = make_inventory(tmp_path)
    r = run(cli, root, "inventory", "list", *args)
    assert r.exit_code == 2 and needle in flat(r.stderr)
    r = run(cli, root, "inventory", "list", *args, "--json")
    assert r.exit_code == 2 and r.json()["errors"][0]["code"] == "usage-error"


# -- 14: init quotes the city name --------------------------------------------------------------------------

@pytest.mark.parametrize("city", ["Kansas City: MO", "Lee's Summit #2", 'O\'Fallon "West" - [x]: {y}', "Zürich"])
def test_init_city_names_round_trip(cli, tmp_path: Path, city: str) -> None:
    target = tmp_path / "new"
    r = cli(["init", str(target), "--city", city])
    assert r.exit_code == 0, r.stderr
    program = yaml.safe_load((target / "kcdata.yaml").read_text())["program"]
    assert program["city"] == city and program["publisher"] == f"City of {city}"
    assert cli(["--root", str(target), "inventory", "lint"]).exit_code == 0


@pytest.mark.parametrize("city", ["", "   "])
def test_init_refuses_an_empty_city(cli, tmp_path: Path, city: str) -> None:
    r = cli(["init", str(tmp_path / "new"), "--city", city])
    assert r.exit_code == 3 and "city name is empty" in r.stderr
    assert not (tmp_path / "new" / "kcdata.yaml").exists()


# -- 16, 19: Ctrl-C during publish apply: a log line, one JSON envelope, exit 130 -------------------------

def test_ctrl_c_during_apply_is_logged(cli, tmp_path: Path, portal, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import kcdata.publish.run as run_mod
    from tests.publish_helpers import make_program, portal_env, unique_id

    ds = unique_id("ctrlc")
    root = make_program(tmp_path / "p", {ds: {"n": 3}})

    def interrupted(*_a, **_k):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "apply_plan", interrupted)
    r = run(cli, root, "publish", "apply", ds, "--yes", "--json", env=portal_env(portal))
    assert r.exit_code == 130
    env = json.loads(r.stdout)  # exactly one envelope
    assert env["exit_code"] == 130 and env["errors"][0]["code"] == "interrupted"
    [line] = (root / ".kcdata/publish-log.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["result"] == "interrupted" and record["datasets"][0]["id"] == ds


# -- 19: --json always prints one envelope ------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["validate", "--json", "--max-errors", "many"],
    ["validate", "--bogus-option", "--json"],
    ["score", "--json", "--status", "aproved"],
    ["inventory", "show", "--json"],
])
def test_usage_errors_print_one_envelope(cli, tmp_path: Path, args: list[str]) -> None:
    root = make_inventory(tmp_path)
    r = run(cli, root, *args)
    assert r.exit_code == 2
    env = json.loads(r.stdout)
    assert env["exit_code"] == 2 and env["errors"][0]["code"] == "usage-error"


def test_apply_without_yes_off_a_terminal_exit_2(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    r = run(cli, root, "publish", "apply", "--json")
    assert r.exit_code == 2
    assert "apply needs --yes when not on a terminal" in r.json()["errors"][0]["message"]


# -- 20: apply without credentials says which ones before any request ---------------------------------------

def test_apply_without_credentials_exit_3(cli, tmp_path: Path, portal) -> None:  # type: ignore[no-untyped-def]
    from tests.publish_helpers import make_program, portal_env, unique_id

    ds = unique_id("nocreds")
    root = make_program(tmp_path / "p", {ds: {"n": 3}})
    env = portal_env(portal, KCDATA_PORTAL_USERNAME="", KCDATA_PORTAL_PASSWORD="")
    r = run(cli, root, "publish", "apply", ds, "--yes", "--json", env=env)
    assert r.exit_code == 3
    message = r.json()["errors"][0]["message"]
    assert "KCDATA_PORTAL_USERNAME" in message and "KCDATA_PORTAL_PASSWORD" in message
    assert not (root / ".kcdata/publish-log.jsonl").exists()


def test_refused_apply_envelope_has_errors(cli, tmp_path: Path, portal) -> None:  # type: ignore[no-untyped-def]
    from tests.publish_helpers import make_program, portal_env, unique_id

    ds = unique_id("refused")
    root = make_program(tmp_path / "p", {ds: {"n": 3, "status": "proposed"}})
    r = run(cli, root, "publish", "apply", ds, "--yes", "--json", env=portal_env(portal))
    assert r.exit_code == 5
    errors = r.json()["errors"]
    assert errors and errors[0]["dataset"] == ds and "not approved" in errors[0]["message"]


# -- 21: multi-line review notes are block scalars ----------------------------------------------------------

def test_multi_line_review_note(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    note = "Proposed after the council hearing.\n\n  - residents asked twice\nSee minutes #12: p. 4"
    r = run(cli, root, "review", "propose", "fire-incidents", "--by", "Fire liaison", "--note", note)
    assert r.exit_code == 0, r.stderr
    text = (root / "inventory/fire.yaml").read_text()
    assert "note: |-" in text
    entry = yaml.safe_load(text)["datasets"][0]
    assert entry["history"][-1]["note"] == note and entry["status"] == "proposed"
    # appending to a block list that already holds a multi-line note
    r = run(cli, root, "review", "withhold", "fire-incidents", "--by", "Committee", "--note", "line 1\nline 2")
    assert r.exit_code == 0, r.stderr
    entry = yaml.safe_load((root / "inventory/fire.yaml").read_text())["datasets"][0]
    assert [h["note"] for h in entry["history"]] == [note, "line 1\nline 2"]
    assert run(cli, root, "inventory", "lint").exit_code == 0


# -- 22, 23, 24: data files that are not CSV text; bad dialect flags ----------------------------------------

def _schema(root: Path) -> str:
    return str(root / "schemas/water-main-breaks.schema.json")


def test_directory_and_device_are_not_regular_files(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    for target in (str(tmp_path), "/dev/null"):
        r = run(cli, root, "validate", target, "--schema", _schema(root))
        assert r.exit_code == 3 and "not a regular file" in r.stderr, r.stderr
    path = root / "inventory/water.yaml"
    path.write_text(path.read_text().replace("data: data/samples/water-main-breaks.csv", "data: data/samples"))
    r = run(cli, root, "validate", "--json")
    assert r.exit_code == 3 and "not a regular file" in r.json()["errors"][0]["message"]


def test_utf16_and_renamed_workbook_are_named(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    utf16 = tmp_path / "u16.csv"
    # With a BOM the encoding is certain: validated (by frictionless, as issue 15 decided), not refused.
    utf16.write_bytes("break_id,address\n1,Main St\n".encode("utf-16"))
    r = run(cli, root, "validate", str(utf16), "--schema", _schema(root))
    assert r.exit_code == 0, r.stderr
    r = run(cli, root, "validate", str(utf16), "--schema", _schema(root), "--encoding", "utf-16")
    assert r.exit_code == 0, r.stderr
    # Without one, the error names the encoding and the flag that reads it.
    utf16.write_bytes("break_id,address\n1,Main St\n".encode("utf-16-le"))
    r = run(cli, root, "validate", str(utf16), "--schema", _schema(root))
    assert r.exit_code == 3 and "UTF-16" in r.stderr and "--encoding utf-16" in flat(r.stderr)
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["break_id", "address"])
    xlsx = tmp_path / "renamed.csv"
    book.save(xlsx)
    r = run(cli, root, "validate", str(xlsx), "--schema", _schema(root))
    assert r.exit_code == 3 and "Excel workbook" in r.stderr and "CSV UTF-8" in flat(r.stderr)


@pytest.mark.parametrize("args, needle", [
    (["--encoding", "bogus"], "unknown encoding 'bogus'"),
    (["--delimiter", ";;"], "must be one character"),
    (["--quote-char", "''"], "must be one character"),
])
def test_bad_dialect_flags_are_usage_errors(cli, tmp_path: Path, args: list[str], needle: str) -> None:
    root = make_inventory(tmp_path)
    r = run(cli, root, "validate", "water-main-breaks", *args)
    assert r.exit_code == 2 and needle in flat(r.stderr)


def test_tab_delimiter_flag_is_accepted(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    (root / "data/samples/water-main-breaks.csv").write_text("break_id\taddress\n1\tMain St\n")
    r = run(cli, root, "validate", "water-main-breaks", "--delimiter", "\\t")
    assert r.exit_code == 0, r.stderr


# -- 25: a mangled portal URL is shown as given -------------------------------------------------------------

@pytest.mark.parametrize("url", ["htp:/data.kcmo.org", "data.kcmo.org", "http://127.0.0.1:99999", "http://[::1",
                                 "https://exa mple.org"])
def test_mangled_portal_url_shown_as_given(cli, tmp_path: Path, url: str) -> None:
    root = make_inventory(tmp_path)
    r = run(cli, root, "publish", "plan", env={"KCDATA_PORTAL_URL": url})
    assert r.exit_code == 3, r.stderr
    assert f"'{url}'" in r.stderr and "unexpected error" not in r.stderr


def test_portal_url_password_is_not_shown(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    r = run(cli, root, "publish", "plan", env={"KCDATA_PORTAL_URL": "https://me:s3cret@x.org:port"})
    assert r.exit_code == 3 and "s3cret" not in r.stderr


# -- 27, 28: finding the program folder -----------------------------------------------------------------------

def test_program_root_found_by_walking_up(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root = make_inventory(tmp_path / "program")
    monkeypatch.delenv("KCDATA_ROOT", raising=False)
    monkeypatch.chdir(root / "data" / "samples")
    r = cli(["inventory", "list", "--json"])
    assert r.exit_code == 0, r.stderr
    assert "water-main-breaks" in [d["id"] for d in r.json()["data"]["datasets"]]


def test_root_after_the_command_gets_a_hint(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    r = cli(["validate", "--root", str(root)])
    assert r.exit_code == 2 and "global option" in flat(r.stderr) and "kcdata --root DIR validate" in flat(r.stderr)


# -- 29: a huge department file's hint does not suggest a second file for one department --------------------

def test_huge_department_file_hint(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import kcdata.inventory.yamlpos as yamlpos

    monkeypatch.setattr(yamlpos, "MAX_FILE_BYTES", 2048)
    root = make_inventory(tmp_path)
    path = root / "inventory/water.yaml"
    path.write_text(path.read_text() + "# " + "x" * 4000 + "\n")
    r = run(cli, root, "inventory", "lint")
    assert r.exit_code == 3
    text = flat(r.stdout + r.stderr)
    assert "over the" in text and "Split" not in text and "several files" not in text


# -- 30: ids from accented titles -----------------------------------------------------------------------------

@pytest.mark.parametrize("title, slug", [("Árboles Plantados", "arboles-plantados"),
                                         ("Straße & Brücke", "strasse-and-brucke"),
                                         ("Café Inspections 2026", "cafe-inspections-2026")])
def test_ids_transliterate_accents(title: str, slug: str) -> None:
    from kcdata.inventory.entry import slugify

    assert slugify(title) == slug


# -- 31: history of an approved dataset names the publish step ----------------------------------------------

def test_history_of_approved_says_next_publish(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    r = run(cli, root, "review", "history", "water-main-breaks")
    assert r.exit_code == 0 and "next: publish" in flat(r.stdout)
    assert "kcdata publish apply water-main-breaks" in flat(r.stdout)
    assert run(cli, root, "review", "history", "water-main-breaks", "--json").json()["data"]["next"][0] == "publish"


# -- 32: -q silences warnings ---------------------------------------------------------------------------------

def test_quiet_silences_warnings(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    demand = tmp_path / "demand.csv"
    demand.write_text("id,views,downloads\nwater-main-break,10,2\n")
    assert "warning" in run(cli, root, "score", "--demand", str(demand)).stderr
    r = cli(["--root", str(root), "-q", "score", "--demand", str(demand)])
    assert r.exit_code == 0 and "warning" not in r.stderr


# -- 33: a long row is validated, as the docs now say ----------------------------------------------------------

def test_long_row_is_validated_like_frictionless(cli, tmp_path: Path) -> None:
    root = make_inventory(tmp_path)
    (root / "data/samples/water-main-breaks.csv").write_text("break_id,address\n1," + "x" * 3_000_000 + "\n2,y\n")
    fast = run(cli, root, "validate", "water-main-breaks", "--json", "--no-cache").json()["data"]["datasets"][0]
    ref = run(cli, root, "validate", "water-main-breaks", "--json", "--no-cache", "--engine", "frictionless")
    assert fast["valid"] is ref.json()["data"]["datasets"][0]["valid"] is True and fast["rows"] == 2


# -- 34: retiring a published dataset makes its portal view private, deleting nothing ----------------------

def test_retired_dataset_is_made_private_not_deleted(cli, tmp_path: Path, portal) -> None:  # type: ignore[no-untyped-def]
    from kcdata.publish.client import connect
    from tests.publish_helpers import make_program, portal_env, unique_id

    ds = unique_id("retire")
    root = make_program(tmp_path / "p", {ds: {"n": 5}}, portal_domain=portal.domain)
    env = portal_env(portal)
    r = run(cli, root, "publish", "apply", "--yes", "--json", env=env)
    assert r.exit_code == 0, r.stdout + r.stderr
    portal_id = r.json()["data"]["datasets"][0]["portal_id"]
    r = run(cli, root, "review", "retire", ds, "--by", "Committee", "--note", "replaced by a new dataset")
    assert r.exit_code == 0, r.stderr
    plan = run(cli, root, "publish", "plan", "--json", env=env)
    assert plan.exit_code == 1, plan.stdout  # a change is pending
    [p] = plan.json()["data"]["datasets"]
    assert p["id"] == ds and p["action"] == "make-private" and p["portal_id"] == portal_id
    assert p["metadata_changes"] == [{"field": "visibility", "old": "public", "new": "private"}]
    r = run(cli, root, "publish", "apply", "--yes", "--json", env=env)
    assert r.exit_code == 0, r.stdout
    assert r.json()["data"]["datasets"][0]["result"] == "ok"
    client = connect(url=portal.url, username=portal.username, password=portal.password, app_token=None)
    view = client.get_view(portal_id)
    assert view is not None and not any("public" in (g.get("flags") or []) for g in view.get("grants") or [])
    assert client.count_rows(portal_id) == 5  # nothing deleted
    entry = yaml.safe_load((root / "inventory/water.yaml").read_text())["datasets"][0]
    assert entry["status"] == "retired"  # not marked published again
    assert run(cli, root, "publish", "plan", "--json", env=env).json()["data"]["datasets"] == []  # done
    again = run(cli, root, "publish", "plan", ds, "--json", env=env).json()["data"]["datasets"][0]
    assert again["action"] == "noop" and "already private" in again["reason"]


def test_real_ctrl_c_mid_apply_is_logged(tmp_path: Path, portal) -> None:  # type: ignore[no-untyped-def]
    """SIGINT to a real `kcdata publish apply` while rows are uploading: exit 130 and one log line."""
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO, subprocess_env
    from tests.publish_helpers import make_program, portal_env, unique_id

    ds = unique_id("sigint")
    root = make_program(tmp_path / "p", {ds: {"n": 20000}}, portal_domain=portal.domain,
                        publish={"chunk_size": 50, "parallel_uploads": 1})
    proc = subprocess.Popen([sys.executable, "-m", "kcdata", "--root", str(root), "publish", "apply", "--yes"],
                            cwd=REPO, env=subprocess_env(**portal_env(portal)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    client = portal.client()
    deadline = time.monotonic() + 60
    from kcdata.publish.client import connect

    finder = connect(url=portal.url, username=portal.username, password=portal.password, app_token=None)
    while time.monotonic() < deadline and proc.poll() is None:
        view = finder.find_by_inventory_id(ds)
        if view and int(client.get(view["id"], select="count(*) AS n")[0]["n"]) >= 200:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = (root / ".kcdata/publish-log.jsonl").read_text().splitlines()
    assert [json.loads(line)["result"] for line in lines] == ["interrupted"]


def test_hand_approved_entry_without_history_is_refused(cli, tmp_path: Path, portal) -> None:  # type: ignore[no-untyped-def]
    """Item 8's other road: status hand-edited to approved, no recorded approval -> publish refuses it."""
    from tests.publish_helpers import make_program, portal_env, unique_id

    ds = unique_id("handapproved")
    root = make_program(tmp_path / "p", {ds: {"n": 3}})
    path = root / "inventory/water.yaml"
    text = path.read_text()
    path.write_text(text[:text.index("    history:")] + "    history: []\n")
    r = run(cli, root, "publish", "apply", ds, "--yes", "--json", env=portal_env(portal))
    assert r.exit_code == 5, r.stdout + r.stderr
    assert "no approval is recorded" in r.json()["errors"][0]["message"]
