"""The changelog for data users: two real publishes to the local portal, then `kcdata changes`, the site's
"What changed" section and changes page, and the Atom feed's entry per release."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from conftest import run_cli
from publish_helpers import make_program, portal_env, rows, write_csv

from kcdata.changelog import Change, changes_from_log


def _publish(root: Path, portal: Any) -> None:
    res = run_cli(["--root", str(root), "publish", "apply", "--yes", "--json"], env=portal_env(portal))
    assert res.exit_code == 0, res.stdout + res.stderr


def test_two_publishes_make_a_changelog_on_the_cli_site_and_feed(tmp_path: Path, own_portal: Any) -> None:
    root = make_program(tmp_path / "p", {"breaks": {"n": 30}}, portal_domain=own_portal.domain)
    _publish(root, own_portal)
    data = rows(30)
    data[0][3] = "999.99"  # one row changed
    data[1][6] = "edited note"  # another
    del data[5]  # one removed
    write_csv(root / "data" / "breaks.csv", data + rows(4, start=31))  # four added
    inv = root / "inventory" / "water.yaml"
    inv.write_text(inv.read_text(encoding="utf-8").replace("Every reported water main break.",
                                                           "Every reported water main break, with repair cost."),
                   encoding="utf-8")
    _publish(root, own_portal)

    res = run_cli(["--root", str(root), "changes", "breaks", "--json"])
    assert res.exit_code == 0
    second, first = res.json()["data"]["changes"]
    assert first["action"] == "create" and first["rows_added"] == 30 and first["summary"] == "first release: 30 rows"
    assert (second["rows_added"], second["rows_changed"], second["rows_removed"]) == (4, 2, 1)
    assert "description" in second["metadata"]
    assert second["summary"].startswith("+4 rows, 2 changed, 1 removed; metadata: ")
    assert second["portal"] == own_portal.domain and second["portal_id"] == first["portal_id"]

    assert run_cli(["--root", str(root), "changes", "--since", "2999-01-01", "--json"]).json()["data"]["changes"] == []
    assert run_cli(["--root", str(root), "changes", "braeks"]).exit_code == 3
    assert run_cli(["--root", str(root), "changes", "--since", "yesterday"]).exit_code == 2

    out = tmp_path / "site"
    assert run_cli(["--root", str(root), "site", "build", "-o", str(out)]).exit_code in (0, 1)
    page = (out / "datasets" / "breaks.html").read_text(encoding="utf-8")
    assert 'id="changes">What changed' in page and "+4 rows, 2 changed, 1 removed" in page
    assert "first release: 30 rows" in page
    changes_page = (out / "changes.html").read_text(encoding="utf-8")
    assert 'href="datasets/breaks.html#changes"' in changes_page and "2 changes to published datasets" in changes_page
    feed = ET.fromstring((out / "feed.xml").read_bytes())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert titles.count("Changed: Water Main Breaks breaks") == 1
    entry = next(e for e in feed.findall("a:entry", ns) if e.findtext("a:title", namespaces=ns).startswith("Changed"))
    assert entry.find("a:link", ns).get("href")  # every entry links somewhere (RFC 4287 4.1.2)


def test_noop_refused_and_failed_applies_are_not_changes() -> None:
    when = "2026-12-01T10:00:00+00:00"
    records = [{"when": when, "portal": "p", "datasets": [
        {"id": "a", "action": "noop", "result": "noop", "rows": {"create": 0, "update": 0, "delete": 0}},
        {"id": "b", "action": "update", "result": "failed", "rows": {"create": 5, "update": 0, "delete": 0}},
        {"id": "c", "action": "refused", "result": "refused", "rows": {}},
        {"id": "d", "action": "update", "result": "ok", "rows": {"create": 0, "update": 0, "delete": 0},
         "columns": {}, "metadata": []},
        {"id": "e", "action": "update", "result": "ok", "rows": {"create": 0, "update": 0, "delete": 3}}]},
        {"when": "not a time", "datasets": [{"id": "f", "action": "create", "result": "ok"}]}]
    (only,) = changes_from_log(records)
    assert only.dataset == "e" and only.summary == "3 removed"


def test_summary_of_column_changes() -> None:
    c = Change(dataset="x", title=None, when=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), portal="p", portal_id=None,
               action="update", columns={"added": ("crew", "shift"), "retyped": ("cost: text → number",)})
    assert c.summary == "columns added: crew, shift; column retyped: cost: text → number"
