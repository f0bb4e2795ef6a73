"""The review workflow end to end on real files: transitions, refusals, queue, agenda, history."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from review_program import entry, make_program, write_files

from kcdata.jsonable import to_jsonable
from kcdata.review import load_queue, make_agenda, mark_published, transition


@pytest.fixture
def root(tmp_path):
    return make_program(tmp_path / "p", {
        "water": [entry("water-main-breaks", status="inventoried", target_release="2026-01-15"),
                  entry("water-customers", status="proposed", classification="sensitive", contains_pii=True,
                        rights="customer accounts"),
                  entry("lead-lines", status="in_review", license=None)],
        "fire": [entry("fire-incidents", status="in_review"), entry("fire-old", status="published",
                                                                      portal_id="abcd-1234")],
    })


def doc(root, dep="water"):
    return yaml.safe_load((root / "inventory" / f"{dep}.yaml").read_text(encoding="utf-8"))


def entry_of(root, dataset_id, dep="water"):
    return next(d for d in doc(root, dep)["datasets"] if d["id"] == dataset_id)


def run(cli, root, *args):
    return cli(["--root", str(root), "review", *args])


def test_full_happy_path_writes_status_and_history(cli, root):
    for action, expected in (("propose", "proposed"), ("submit", "in_review"), ("approve", "approved")):
        r = run(cli, root, action, "water-main-breaks", "--by", "Water liaison", "--note", f"{action} it")
        assert r.exit_code == 0, r.stderr
        assert entry_of(root, "water-main-breaks")["status"] == expected
    e = entry_of(root, "water-main-breaks")
    assert [(h["from"], h["to"]) for h in e["history"]] == [("inventoried", "proposed"), ("proposed", "in_review"),
                                                          ("in_review", "approved")]
    assert all(h["who"] == "Water liaison" and h["when"] for h in e["history"])
    assert e["history"][-1]["note"] == "approve it"
    assert e["last_reviewed"] == dt.datetime.now(dt.UTC).date()
    res = mark_published(root=root, dataset_id="water-main-breaks", portal_id="wmbr-0001", by="kcdata publish")
    assert res.to_status == "published" and entry_of(root, "water-main-breaks")["portal_id"] == "wmbr-0001"
    again = mark_published(root=root, dataset_id="water-main-breaks", portal_id="wmbr-0001", by="kcdata publish")
    assert (again.from_status, again.to_status) == ("published", "published")
    r = run(cli, root, "retire", "water-main-breaks", "--by", "Committee", "--note", "replaced")
    assert r.exit_code == 0 and entry_of(root, "water-main-breaks")["status"] == "retired"


def test_transition_json_equals_library_result(cli, root):
    r = run(cli, root, "propose", "water-main-breaks", "--by", "Liaison", "--json")
    env = r.json()
    assert env["exit_code"] == 0 and env["command"] == "review propose"
    when = entry_of(root, "water-main-breaks")["history"][-1]["when"]
    assert env["data"]["when"] == when
    now = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    other = make_program(root.parent / "q", {"water": [entry("water-main-breaks")]})
    lib = transition(root=other, dataset_id="water-main-breaks", action="propose", by="Liaison", now=now)
    expected = to_jsonable(lib)
    expected["set_fields"]["last_reviewed"] = env["data"]["set_fields"]["last_reviewed"]
    assert env["data"] == expected


def test_illegal_transition_exit_5_lists_allowed_and_writes_nothing(cli, root):
    before = (root / "inventory" / "water.yaml").read_bytes()
    r = run(cli, root, "approve", "water-main-breaks", "--by", "X")
    assert r.exit_code == 5
    assert "cannot approve a dataset that is inventoried" in r.stderr and "propose, withhold" in r.stderr
    r = run(cli, root, "retire", "water-main-breaks", "--by", "X", "--json")
    err = r.json()["errors"][0]
    assert r.exit_code == 5 and err["code"] == "illegal-transition" and err["allowed"] == ["propose", "withhold"]
    assert (root / "inventory" / "water.yaml").read_bytes() == before


def test_submit_gate_refusal(cli, root):
    run(cli, root, "propose", "water-main-breaks", "--by", "X")
    (root / "inventory" / "water.yaml").write_text(
        (root / "inventory" / "water.yaml").read_text().replace("  theme: Infrastructure\n", "", 1))
    before = (root / "inventory" / "water.yaml").read_bytes()
    r = run(cli, root, "submit", "water-main-breaks", "--by", "X", "--json")
    assert r.exit_code == 5
    err = r.json()["errors"][0]
    assert err["code"] == "gate-failed"
    assert [c["name"] for c in err["checks"] if not c["passed"]] == ["release-metadata"]
    assert (root / "inventory" / "water.yaml").read_bytes() == before


def test_approve_gate_lists_all_failures(cli, root):
    write_files(root, "lead-lines", rows=[("1", "a"), ("1", "b"), ("x", "c")])  # duplicate id, bad integer
    before = (root / "inventory" / "water.yaml").read_bytes()
    r = run(cli, root, "approve", "lead-lines", "--by", "Committee")
    assert r.exit_code == 5
    for name in ("release-metadata", "open-license", "validation-passing", "row-identifier"):
        assert f"✗ {name}" in r.stderr
    assert "privacy-reviewed" not in r.stderr
    assert (root / "inventory" / "water.yaml").read_bytes() == before


def test_approve_runs_validation_and_passes(cli, root):
    r = run(cli, root, "approve", "fire-incidents", "--by", "Committee", "--json")
    assert r.exit_code == 0, r.stdout
    checks = {c["name"]: c["passed"] for c in r.json()["data"]["checks"]}
    assert checks["validation-passing"] and checks["row-identifier"] and checks["privacy-reviewed"]
    assert entry_of(root, "fire-incidents", "fire")["status"] == "approved"


def test_privacy_review_unblocks_sensitive_dataset(cli, root):
    r = run(cli, root, "submit", "water-customers", "--by", "X")
    assert r.exit_code == 0
    r = run(cli, root, "approve", "water-customers", "--by", "X")
    assert r.exit_code == 5 and "privacy-reviewed" in r.stderr
    score = cli(["--root", str(root), "score", "--json"]).json()["data"]["datasets"]
    assert next(d for d in score if d["id"] == "water-customers")["excluded_by"] == ["needs-privacy-review"]
    r = run(cli, root, "privacy", "water-customers", "--by", "Law", "--note", "account numbers dropped")
    assert r.exit_code == 0
    assert entry_of(root, "water-customers")["privacy_review"]["note"] == "account numbers dropped"
    assert run(cli, root, "approve", "water-customers", "--by", "X").exit_code == 0
    score = cli(["--root", str(root), "score", "--json"]).json()["data"]["datasets"]
    assert next(d for d in score if d["id"] == "water-customers")["rank"] is not None


def test_reject_and_withhold_need_notes(cli, root):
    r = run(cli, root, "reject", "lead-lines", "--by", "Committee")
    assert r.exit_code == 3 and "--note" in r.stderr
    r = run(cli, root, "reject", "lead-lines", "--by", "Committee", "--note", "Add a licence")
    assert r.exit_code == 0 and entry_of(root, "lead-lines")["status"] == "proposed"
    r = run(cli, root, "withhold", "water-main-breaks", "--by", "Law", "--note", "Critical infrastructure")
    assert r.exit_code == 0
    e = entry_of(root, "water-main-breaks")
    assert e["status"] == "withheld" and e["rights"] == "Critical infrastructure"
    r = run(cli, root, "withhold", "water-customers", "--by", "Law", "--note", "other reason")
    assert entry_of(root, "water-customers")["rights"] == "customer accounts"  # an existing rights is kept


def test_unknown_id_and_missing_by(cli, root):
    r = run(cli, root, "propose", "water-main-brakes", "--by", "X")
    assert r.exit_code == 3 and "did you mean 'water-main-breaks'" in r.stderr
    r = run(cli, root, "propose", "water-main-breaks")
    assert r.exit_code == 2
    r = run(cli, root, "history", "nope", "--json")
    assert r.exit_code == 3 and r.json()["errors"][0]["code"] == "not-found"


def test_queue_oldest_first_with_gates(cli, root):
    transition(root=root, dataset_id="fire-incidents", action="reject", by="C", note="again",
               now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    transition(root=root, dataset_id="water-main-breaks", action="propose", by="L",
               now=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    r = run(cli, root, "queue", "--json")
    data = r.json()["data"]
    assert data["datasets"] == to_jsonable(list(load_queue(root=root)))
    ids = [q["id"] for q in data["datasets"]]
    # never-transitioned entries first (by id), then by time of their last transition
    assert ids == ["lead-lines", "water-customers", "fire-incidents", "water-main-breaks"]
    lead = data["datasets"][0]
    assert lead["next_action"] == "approve" and lead["ready"] is False
    assert next(q for q in data["datasets"] if q["id"] == "fire-incidents")["next_action"] == "submit"
    assert "blocked" in cli(["--root", str(root), "review", "queue"], env={"COLUMNS": "250"}).stdout


def test_agenda(cli, root, tmp_path):
    out = tmp_path / "agenda.md"
    r = run(cli, root, "agenda", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert text == make_agenda(root=root)
    assert "## 1. For decision (in review)" in text and "`lead-lines`" in text
    assert "## 3. Top candidates per department" in text and "### fire" in text
    overdue = text.split("## 4.")[1]
    assert "water-main-breaks" in overdue and "2026-01-15" in overdue
    r = run(cli, root, "agenda", "--json")
    assert r.json()["data"]["markdown"] == make_agenda(root=root)


def test_history(cli, root):
    run(cli, root, "propose", "water-main-breaks", "--by", "Liaison", "--note", "residents ask")
    r = run(cli, root, "history", "water-main-breaks", "--json")
    data = r.json()["data"]
    assert data["status"] == "proposed" and data["allowed"] == ["submit", "withhold"]
    assert data["history"][0]["who"] == "Liaison" and data["history"][0]["note"] == "residents ask"
    assert data["history"] == [{k: h[k] for k in ("who", "when", "from", "to", "note")}
                               for h in entry_of(root, "water-main-breaks")["history"]]
    assert "residents ask" in cli(["--root", str(root), "review", "history", "water-main-breaks"],
                                  env={"COLUMNS": "200"}).stdout
