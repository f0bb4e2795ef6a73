"""``make demo`` end to end: the embedded program, a local portal over HTTP, every step as expected."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline_and_leaves_the_repo_untouched(tmp_path, capsys):
    import kcdata.demo as demo

    before = {p: p.read_bytes() for p in (REPO / "inventory").glob("*.yaml")}
    assert demo.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\b(\d+) of \1 steps ended as expected", out) and "unexpected:" not in out
    # day one in another city: the office's spreadsheet was imported through its mapping file
    imported = {d.id: d for d in _inventory(tmp_path / "program")}
    assert imported["park-shelter-reservations"].accrual_periodicity == "R/P1W"
    assert "library-room-bookings" not in imported  # refused on purpose (data/adoption/README.md)
    assert (tmp_path / "building-permits.schema.yaml").exists()
    # The committed inventory is never changed; the copy is.
    assert {p: p.read_bytes() for p in (REPO / "inventory").glob("*.yaml")} == before
    program = tmp_path / "program"
    # The demo's portal is a staging portal: the inventory's statuses are the production portal's.
    assert {d.id: d.status.value for d in _inventory(program)}["water-main-breaks"] == "approved"
    # The public outputs exist and say what happened.
    assert (tmp_path / "site" / "index.html").exists()
    catalog = json.loads((tmp_path / "data.json").read_text())
    assert any(d["identifier"].endswith("water-main-breaks") or d.get("title") == "Water Main Breaks"
               for d in catalog["dataset"])
    log = [json.loads(line) for line in (program / ".kcdata" / "publish-log.jsonl").read_text().splitlines()]
    # Two publishes: the first creates every approved dataset; the second sends only the liaison's
    # revision and restores the rows the planted faulty load deleted.
    assert len(log) == 2 and all(entry["result"] == "ok" for entry in log)
    second = {d["id"]: d for d in log[1]["datasets"] if d["action"] != "noop"}
    assert second[demo.EDITED]["rows"] == {"create": 0, "update": 0, "delete": 3}
    assert "description" in second[demo.EDITED]["metadata"]
    assert second[demo.WATCHED]["rows"]["create"] == demo.PLANTED_LOSS
    # The monitor caught the stale date column first, then the planted shrinkage.
    history = [json.loads(line) for line in
               (program / ".kcdata" / "monitor-history.jsonl").read_text().splitlines()]
    assert [h["datasets"][demo.WATCHED]["alerts"] for h in history] == [
        ["stale-content"], ["stale-content", "shrinkage", "group-mismatch"]]
    runs = {d["id"]: d for d in log[0]["datasets"]}
    # Every approved dataset (all clean) was created on the local portal with all its rows.
    approved = [d for d in _inventory(program) if d.status.value == "approved"]
    assert len(approved) >= 3
    for d in approved:
        assert runs[d.id]["action"] == "create" and runs[d.id]["result"] == "ok"
        assert runs[d.id]["rows"]["create"] > 0


def _inventory(root):
    from kcdata.inventory import load_inventory

    return load_inventory(root).inventory.datasets
