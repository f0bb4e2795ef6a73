"""``kcdata freshness`` against the local portal over real HTTP (sodapy via the publish client).

Views are created and loaded with real upserts, so ``rowsUpdatedAt`` is set by the portal itself;
"old" data is judged by checking as of a time in the future (``now=`` / ``--at``), never by faking
the portal.
"""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from typing import Any

import pytest
from transparency_helpers import good_dataset, make_program

from kcdata.cli.cmd_freshness import report_json
from kcdata.errors import PortalError
from kcdata.inventory import load_inventory
from kcdata.policy.freshness import FreshStatus, check_freshness, portal_views

COLUMNS = [{"fieldName": "break_id", "name": "Break ID", "dataTypeName": "text"},
           {"fieldName": "reported", "name": "Reported", "dataTypeName": "calendar_date"}]


def _published_view(portal: Any, name: str) -> tuple[str, int]:
    client = portal.client()
    view = client.create(name, description="freshness test", row_identifier="break_id", columns=COLUMNS)
    client.publish(view["id"])
    client.set_permission(view["id"], "public")
    report = client.upsert(view["id"], [{"break_id": "WO-1", "reported": "2026-01-02T00:00:00.000"}])
    assert report.get("Errors", 0) == 0
    updated = client.get_metadata(view["id"])["rowsUpdatedAt"]
    client.close()
    return view["id"], int(updated)


@pytest.fixture
def program(tmp_path: Path, portal: Any) -> dict[str, Any]:
    daily_id, daily_ts = _published_view(portal, "Daily Breaks")
    weekly_id, _ = _published_view(portal, "Weekly Breaks")
    irregular_id, _ = _published_view(portal, "Irregular Breaks")
    datasets = [good_dataset(id="daily-breaks", portal_id=daily_id, accrual_periodicity="R/P1D"),
                good_dataset(id="weekly-breaks", portal_id=weekly_id, accrual_periodicity="R/P1W"),
                good_dataset(id="irregular-breaks", portal_id=irregular_id, accrual_periodicity="irregular")]
    # The local portal plays the production portal here, so the recorded portal ids are its own.
    production = {"city": "Kansas City, Missouri", "publisher": "City of Kansas City, Missouri",
                  "publisher_email": "opendata@example.org", "portal_domain": portal.domain}
    root = make_program(tmp_path / "p", {"water": datasets}, policy={"freshness_grace": 0.25}, program=production)
    env = {"KCDATA_PORTAL_URL": portal.url, "KCDATA_PORTAL_USERNAME": "", "KCDATA_PORTAL_PASSWORD": ""}
    return {"root": root, "updated": dt.datetime.fromtimestamp(daily_ts, tz=dt.UTC), "env": env,
            "url": portal.url, "domain": portal.domain}


def test_fresh_right_after_an_upsert(program: dict[str, Any], cli: Any) -> None:
    res = cli(["--root", str(program["root"]), "freshness"], env=program["env"])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "0 overdue of 3 published" in res.stdout


def test_overdue_when_checked_in_the_future(program: dict[str, Any]) -> None:
    inv = load_inventory(program["root"]).inventory
    later = program["updated"] + dt.timedelta(days=3)
    with portal_views(url=program["url"], production_domain=program["domain"]) as fetch:  # anonymous public read
        report = check_freshness(inventory=inv, fetch_view=fetch, now=later, grace=0.25)
    by_id = {e.id: e for e in report.datasets}
    assert by_id["daily-breaks"].status is FreshStatus.OVERDUE
    assert by_id["daily-breaks"].rows_updated_at == program["updated"]
    assert by_id["daily-breaks"].late_seconds == pytest.approx(dt.timedelta(days=1, hours=18).total_seconds())
    assert by_id["weekly-breaks"].status is FreshStatus.FRESH
    assert by_id["irregular-breaks"].status is FreshStatus.IRREGULAR


def test_json_equals_library_and_exit_1(program: dict[str, Any], cli: Any) -> None:
    at = (program["updated"] + dt.timedelta(days=10)).isoformat()
    res = cli(["--root", str(program["root"]), "freshness", "--json", "--at", at], env=program["env"])
    assert res.exit_code == 1
    env = res.json()
    inv = load_inventory(program["root"]).inventory
    with portal_views(url=program["url"], production_domain=program["domain"]) as fetch:
        expected = check_freshness(inventory=inv, fetch_view=fetch, now=dt.datetime.fromisoformat(at), grace=0.25)
    assert env["data"] == report_json(expected)
    assert env["data"]["overdue"] == ["daily-breaks", "weekly-breaks"]  # the latest first: 8d vs 1d 6h
    assert env["data"]["datasets"][1]["late_by"] == "1d 6h"
    assert env["data"]["datasets"][0]["late_by"].startswith("8d")


def test_fixed_grace_flag(program: dict[str, Any], cli: Any) -> None:
    at = (program["updated"] + dt.timedelta(days=2, hours=12)).isoformat()
    args = ["--root", str(program["root"]), "freshness", "daily-breaks", "--at", at, "--json"]
    assert cli([*args, "--grace", "P2D"], env=program["env"]).exit_code == 0
    res = cli([*args, "--grace", "PT1H"], env=program["env"])
    assert res.exit_code == 1 and res.json()["data"]["overdue"] == ["daily-breaks"]


def test_removed_view_is_a_finding(program: dict[str, Any], portal: Any, cli: Any) -> None:
    inv = load_inventory(program["root"]).inventory
    client = portal.client()
    client.delete(inv.get("weekly-breaks").portal_id)
    client.close()
    res = cli(["--root", str(program["root"]), "freshness", "--json"], env=program["env"])
    assert res.exit_code == 1
    statuses = {d["id"]: d["status"] for d in res.json()["data"]["datasets"]}
    assert statuses == {"daily-breaks": "fresh", "weekly-breaks": "missing", "irregular-breaks": "irregular"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_portal_exit_4(tmp_path: Path, cli: Any) -> None:
    root = make_program(tmp_path / "p", {"water": [good_dataset()]})
    env = {"KCDATA_PORTAL_URL": f"http://127.0.0.1:{_closed_port()}"}
    res = cli(["--root", str(root), "freshness", "--attempts", "1", "--json"], env=env)
    assert res.exit_code == 4
    assert res.json()["errors"][0]["code"].startswith("portal-")
    human = cli(["--root", str(root), "freshness", "--attempts", "1"], env=env)
    assert human.exit_code == 4 and "error:" in human.stderr and "Traceback" not in human.stderr
    with pytest.raises(PortalError), portal_views(url=env["KCDATA_PORTAL_URL"], attempts=1) as fetch:
        fetch(load_inventory(root).inventory.datasets[0])


def test_bad_at_is_usage_error(program: dict[str, Any], cli: Any) -> None:
    res = cli(["--root", str(program["root"]), "freshness", "--at", "yesterday"], env=program["env"])
    assert res.exit_code == 2


def test_policy_sun10_reads_views_anonymously(program: dict[str, Any], portal: Any, cli: Any) -> None:
    root = program["root"]
    inv = load_inventory(root).inventory
    args = ["--root", str(root), "policy", "check", "--rule", "SUN-10", "--portal", "--json"]
    env = {**program["env"], "KCDATA_PORTAL_USERNAME": portal.username, "KCDATA_PORTAL_PASSWORD": portal.password}
    ok = cli(args, env=env)  # credentials in the environment are deliberately not used
    assert ok.exit_code == 0, ok.stdout
    assert ok.json()["data"]["rules"][0]["passed"] == 3
    client = portal.client()
    client.set_permission(inv.get("weekly-breaks").portal_id, "private")
    client.delete(inv.get("irregular-breaks").portal_id)
    client.close()
    res = cli(args, env=env)
    assert res.exit_code == 1
    messages = {f["subject"]: f["message"] for f in res.json()["data"]["findings"]}
    assert set(messages) == {"weekly-breaks", "irregular-breaks"}
    assert "needs a login (HTTP 403)" in messages["weekly-breaks"]
    assert "has no view" in messages["irregular-breaks"]
    # without --portal the rule looks at the inventory only
    assert cli([*args[:-2], "--json"], env=env).exit_code == 0


def test_policy_portal_unreachable_exit_4(tmp_path: Path, cli: Any) -> None:
    root = make_program(tmp_path / "p", {"water": [good_dataset()]})
    env = {"KCDATA_PORTAL_URL": f"http://127.0.0.1:{_closed_port()}"}
    res = cli(["--root", str(root), "policy", "check", "--rule", "SUN-10", "--portal"], env=env)
    assert res.exit_code == 4 and "cannot reach" in res.stderr
