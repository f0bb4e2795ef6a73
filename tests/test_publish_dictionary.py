"""publish attaches each dataset's data dictionary to its portal dataset and keeps it current
(the local portal over HTTP, the real sodapy client)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.conftest import run_cli
from tests.publish_helpers import make_program, portal_env


def publish(root, portal, *args):
    return run_cli(["--root", str(root), "publish", *args], env=portal_env(portal))


def view_of(portal, portal_id):
    return portal.client().get_metadata(portal_id)


def dictionary_attachment(portal, view):
    atts = [a for a in view["metadata"].get("attachments") or [] if a.get("name") == "Data dictionary"]
    assert len(atts) == 1, atts
    got = requests.get(f"{portal.url}/api/views/{view['id']}/files/{atts[0]['assetId']}", timeout=30)
    assert got.status_code == 200
    return atts[0], got.content.decode()


@pytest.mark.slow
def test_dictionary_is_attached_and_kept_current(tmp_path, own_portal):
    root = make_program(tmp_path / "p", {"water-main-breaks": {"n": 6}}, portal_domain=own_portal.domain)
    r = publish(root, own_portal, "apply", "--yes", "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    pid = r.json()["data"]["datasets"][0]["portal_id"]
    view = view_of(own_portal, pid)
    att, text = dictionary_attachment(own_portal, view)
    assert att["filename"] == "water-main-breaks-data-dictionary.md"
    assert text.startswith("# Data dictionary: Water Main Breaks water-main-breaks")
    assert "| break_id (row identifier) |" in text and "Repair cost in dollars." in text
    # nothing changed: nothing to do
    plan = publish(root, own_portal, "plan", "--json").json()["data"]["datasets"][0]
    assert plan["action"] == "noop", plan
    # a data-only change is not a dictionary change
    with open(root / "data" / "water-main-breaks.csv", "a", encoding="utf-8") as fh:
        fh.write('99,2024-01-10,2024-03-10T01:15:00,5.00,false,"-94.5, 39.1",new\n')
    plan = publish(root, own_portal, "plan", "--json").json()["data"]["datasets"][0]
    assert plan["action"] == "update" and plan["metadata_changes"] == []
    # a schema description change is: the plan names it, apply replaces the attachment
    schema_path = root / "schemas" / "water-main-breaks.schema.json"
    schema = json.loads(schema_path.read_text())
    schema["fields"][3]["description"] = "Repair cost in US dollars, tax included."
    schema_path.write_text(json.dumps(schema))
    plan = publish(root, own_portal, "plan", "--json").json()["data"]["datasets"][0]
    assert {c["field"] for c in plan["metadata_changes"]} == {"dictionary", "columns"}  # column description too
    assert publish(root, own_portal, "apply", "--yes").exit_code == 0
    att2, text2 = dictionary_attachment(own_portal, view_of(own_portal, pid))
    assert att2["assetId"] != att["assetId"] and "tax included" in text2
    assert publish(root, own_portal, "plan", "--json").json()["data"]["datasets"][0]["action"] == "noop"


def test_local_portal_assets_need_credentials_and_round_trip(own_portal):
    files = {"file": ("d.md", b"# hello\n", "text/markdown")}
    anon = requests.post(f"{own_portal.url}/api/assets", files=files, timeout=30)
    assert anon.status_code == 403
    ok = requests.post(f"{own_portal.url}/api/assets", files=files, timeout=30,
                       auth=(own_portal.username, own_portal.password))
    assert ok.status_code == 200 and ok.json()["nameForOutput"] == "d.md"
    got = requests.get(f"{own_portal.url}/api/assets/{ok.json()['id']}", timeout=30,
                       auth=(own_portal.username, own_portal.password))
    assert got.content == b"# hello\n"
    assert requests.get(f"{own_portal.url}/api/assets", timeout=30).status_code == 405
