"""Score and review against a copy of the embedded Kansas City sample program."""

from __future__ import annotations

import pytest
import yaml

from kcdata.inventory import load_inventory
from kcdata.jsonable import to_jsonable
from kcdata.score import load_method, score_inventory
from kcdata.score.inputs import last_validations


@pytest.fixture
def program(sample_root):
    if not (sample_root / "inventory").is_dir():
        pytest.skip("the sample program is not in this checkout")
    return sample_root


def test_sample_ranking_gates_and_json(cli, program):
    env = cli(["--root", str(program), "score", "--json"]).json()
    assert env["exit_code"] == 0
    inv = load_inventory(program).inventory
    expected = score_inventory(inventory=inv, method=load_method(root=program),
                               validations=last_validations(root=program, datasets=inv.datasets))
    assert env["data"]["datasets"] == to_jsonable(list(expected))
    by_id = {d.id: d for d in inv.datasets}
    for row in env["data"]["datasets"]:
        d = by_id[row["id"]]
        if d.classification.value == "protected" or d.access_level.value == "non-public":
            assert row["rank"] is None and row["band"] is None
    ranked = [r for r in env["data"]["datasets"] if r["rank"] is not None]
    assert {r["band"] for r in ranked} == {"P1", "P2", "P3"}  # the default bands split the sample
    assert ranked == sorted(ranked, key=lambda r: (r["band"], -r["score"], r["id"]))


def test_sample_review_run(cli, program):
    inv = load_inventory(program).inventory
    in_review = [d.id for d in inv.datasets if d.status.value == "in_review"]
    approved, refused = [], []
    for ident in in_review:
        r = cli(["--root", str(program), "review", "approve", ident, "--by", "Governance Committee", "--json"])
        assert r.exit_code in (0, 5), r.stdout
        (approved if r.exit_code == 0 else refused).append(ident)
        if r.exit_code == 5:
            failing = [c["name"] for c in r.json()["errors"][0]["checks"] if not c["passed"]]
            assert failing
    assert approved and refused  # the sample has both kinds
    after = {d.id: d for d in load_inventory(program).inventory.datasets}
    for ident in approved:
        assert after[ident].status.value == "approved"
        assert after[ident].history[-1].from_status == "in_review" and after[ident].history[-1].by
    for ident in refused:
        assert after[ident].status.value == "in_review"
        assert after[ident].history == next(d for d in inv.datasets if d.id == ident).history
    inventoried = next(d for d in inv.datasets if d.status.value == "inventoried" and d.is_public_eligible)
    r = cli(["--root", str(program), "review", "propose", inventoried.id, "--by", "Liaison", "--note", "residents ask"])
    assert r.exit_code == 0
    queue = cli(["--root", str(program), "review", "queue", "--json"]).json()["data"]["datasets"]
    assert queue[-1]["id"] == inventoried.id  # just proposed: the newest in the queue
    assert not any(q["id"] in approved for q in queue)
    agenda = cli(["--root", str(program), "review", "agenda"]).stdout
    assert inventoried.id in agenda and "## 4. Overdue target release dates" in agenda
    for path in (program / "inventory").glob("*.yaml"):
        yaml.safe_load(path.read_text(encoding="utf-8"))  # every file still parses
    sensitive = next(d for d in inv.datasets if d.contains_pii and d.status.value == "inventoried")
    assert cli(["--root", str(program), "review", "privacy", sensitive.id, "--by", "Law", "--note", "names dropped"]
               ).exit_code == 0
    assert cli(["--root", str(program), "score", "override", inventoried.id, "--band", "P1", "--by", "Committee",
                "--why", "Council priority"]).exit_code == 0
    queue = cli(["--root", str(program), "review", "queue", "--json"]).json()["data"]["datasets"]
    mine = next(q for q in queue if q["id"] == inventoried.id)
    assert mine["band"] == "P1" and mine["override"]["by"] == "Committee"
    assert "(override)" in cli(["--root", str(program), "review", "agenda"]).stdout
    # everything kcdata wrote (history, privacy_review, priority_override) passes the inventory's own lint
    lint = cli(["--root", str(program), "inventory", "lint", "--json"])
    assert lint.exit_code == 0, lint.stdout
