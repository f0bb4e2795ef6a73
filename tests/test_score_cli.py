from __future__ import annotations

import csv
import io

import pytest
import yaml
from review_program import entry, make_program

from kcdata.inventory import load_inventory
from kcdata.jsonable import to_jsonable
from kcdata.score import explain, load_method, score_inventory


@pytest.fixture
def root(tmp_path):
    return make_program(tmp_path / "p", {
        "water": [entry("water-main-breaks", requests=14), entry("lead-lines", value="low", requests=2),
                  entry("water-customers", classification="sensitive", contains_pii=True, rights="accounts")],
        "fire": [entry("fire-incidents", value="medium", requests=30), entry("fire-inspections", value="low")],
        "police": [entry("informants", access_level="non-public", classification="protected", rights="secret")],
    })


def library(root):
    inv = load_inventory(root).inventory
    return score_inventory(inventory=inv, method=load_method(root=root))


def test_table_happy_path(cli, root):
    r = cli(["--root", str(root), "score"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.stderr
    for ident in ("water-main-breaks", "fire-incidents", "informants"):
        assert ident in r.stdout
    assert "excluded: protected" in r.stdout


def test_json_equals_library_result(cli, root):
    r = cli(["--root", str(root), "score", "--json"])
    env = r.json()
    assert env["exit_code"] == 0 and env["command"] == "score"
    assert env["data"]["datasets"] == to_jsonable(list(library(root)))
    ranks = [d["rank"] for d in env["data"]["datasets"]]
    assert ranks[:4] == [1, 2, 3, 4] and ranks[4:] == [None, None]
    gated = {d["id"]: d for d in env["data"]["datasets"] if d["rank"] is None}
    assert gated["informants"]["band"] is None and "protected" in gated["informants"]["excluded_by"]
    assert gated["water-customers"]["excluded_by"] == ["needs-privacy-review"]
    first = env["data"]["datasets"][0]
    assert {"id", "rank", "score", "band", "status", "breakdown"} <= set(first)
    assert {"input", "points", "weight", "contribution", "sentence"} <= set(first["breakdown"][0])
    assert env["data"]["method"]["version"] == load_method(root=root).version


def test_filters_top_and_top_per_department(cli, root):
    r = cli(["--root", str(root), "score", "--json", "--department", "water"])
    assert {d["department"] for d in r.json()["data"]["datasets"]} == {"water"}
    r = cli(["--root", str(root), "score", "--json", "--top", "2"])
    assert [d["rank"] for d in r.json()["data"]["datasets"]] == [1, 2]
    r = cli(["--root", str(root), "score", "--json", "--top-per-department", "1"])
    data = r.json()["data"]["datasets"]
    assert sorted(d["department"] for d in data) == ["fire", "water"]
    assert all(d["department_rank"] == 1 for d in data)
    r = cli(["--root", str(root), "score", "--json", "--status", "proposed"])
    assert r.json()["data"]["datasets"] == []


def test_unknown_department_is_exit_3(cli, root):
    r = cli(["--root", str(root), "score", "--department", "watr"])
    assert r.exit_code == 3 and "did you mean 'water'" in r.stderr


def test_csv(cli, root):
    r = cli(["--root", str(root), "score", "--csv"])
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["id"] for row in rows] == [s.id for s in library(root)]
    assert rows[0]["rank"] == "1" and rows[-1]["rank"] == ""


def test_explain(cli, root):
    r = cli(["--root", str(root), "score", "explain", "water-main-breaks"])
    assert r.exit_code == 0
    assert "ranks" in r.stdout and "demand" in r.stdout
    r = cli(["--root", str(root), "score", "explain", "water-main-breaks", "--json"])
    expected = explain(ranking=library(root), dataset_id="water-main-breaks")
    assert r.json()["data"]["explanation"] == to_jsonable(expected)


def test_explain_unknown_id_is_exit_3_with_suggestion(cli, root):
    r = cli(["--root", str(root), "score", "explain", "water-main-brakes"])
    assert r.exit_code == 3 and "did you mean 'water-main-breaks'" in r.stderr
    r = cli(["--root", str(root), "score", "explain", "nope", "--json"])
    assert r.json()["errors"][0]["code"] == "not-found"


def test_override_recorded_and_shown_everywhere(cli, root):
    before = (root / "inventory" / "water.yaml").read_bytes()
    r = cli(["--root", str(root), "score", "override", "lead-lines", "--band", "P1", "--by", "Governance Committee",
             "--why", "Council resolution 2026-14"])
    assert r.exit_code == 0, r.stderr
    after = (root / "inventory" / "water.yaml").read_bytes()
    assert after.startswith(before[: before.index(b"- id: lead-lines")])  # earlier bytes untouched
    rec = next(d for d in yaml.safe_load(after)["datasets"] if d["id"] == "lead-lines")["priority_override"]
    assert rec["band"] == "P1" and rec["by"] == "Governance Committee" and rec["why"].startswith("Council")
    env = cli(["--root", str(root), "score", "--json"]).json()
    lead = next(d for d in env["data"]["datasets"] if d["id"] == "lead-lines")
    assert lead["band"] == "P1" and lead["override"]["by"] == "Governance Committee"
    wide = {"COLUMNS": "300"}
    assert "override P1" in cli(["--root", str(root), "score"], env=wide).stdout
    assert "The committee set band P1" in cli(["--root", str(root), "score", "explain", "lead-lines"], env=wide).stdout
    assert "P1" in cli(["--root", str(root), "score", "--csv"]).stdout.split("lead-lines")[1].splitlines()[0]
    r = cli(["--root", str(root), "score", "override", "lead-lines", "--clear"])
    assert r.exit_code == 0
    assert next(d for d in cli(["--root", str(root), "score", "--json"]).json()["data"]["datasets"]
                if d["id"] == "lead-lines")["override"] is None


def test_override_bad_input_is_exit_3_or_2(cli, root):
    r = cli(["--root", str(root), "score", "override", "lead-lines", "--band", "P1", "--by", "X"])
    assert r.exit_code == 3 and "--why" in r.stderr
    r = cli(["--root", str(root), "score", "override", "lead-line", "--band", "P1", "--by", "X", "--why", "y"])
    assert r.exit_code == 3 and "lead-lines" in r.stderr
    r = cli(["--root", str(root), "score", "override", "lead-lines", "--band", "P7"])
    assert r.exit_code == 2


def test_demand_file(cli, root, tmp_path):
    (tmp_path / "demand.csv").write_text("id,views,downloads\nfire-inspections,0,500\n", encoding="utf-8")
    env = cli(["--root", str(root), "score", "--json", "--demand", str(tmp_path / "demand.csv")]).json()
    fi = next(d for d in env["data"]["datasets"] if d["id"] == "fire-inspections")
    assert next(b for b in fi["breakdown"] if b["criterion"] == "demand")["points"] == 100
    (tmp_path / "bad.csv").write_text("id,views\nx,many\n", encoding="utf-8")
    r = cli(["--root", str(root), "score", "--demand", str(tmp_path / "bad.csv")])
    assert r.exit_code == 3 and "not a whole number" in r.stderr


def test_bad_status_is_usage_error(cli, root):
    r = cli(["--root", str(root), "score", "--status", "publishd", "--json"])
    assert r.exit_code == 2 and r.json()["errors"][0]["code"] == "usage-error"
