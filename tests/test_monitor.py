"""``kcdata monitor`` against the local portal over real HTTP: datasets published by ``kcdata publish apply``,
then damaged on the portal with the real sodapy client (rows deleted), checked as of a later time.

Nothing of the portal is faked: "stale" and "stalled" are judged with ``--at`` in the future.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from publish_helpers import make_program, portal_env, write_csv

from kcdata.monitor import checks
from kcdata.monitor.config import MonitorConfig
from kcdata.monitor.model import CheckStatus, Observation

FIELDS = [{"name": "break_id", "type": "integer"}, {"name": "reported", "type": "date"},
          {"name": "district", "type": "string"}]
TODAY = dt.date.today()
MONITOR = "    monitor: {date_field: reported, group_by: year, append_only: true}\n"


def _rows(n: int) -> list[list[str]]:
    """``n`` rows reported over the last ``n`` days (so content is fresh today), across two or three years."""
    return [[str(i), (TODAY - dt.timedelta(days=i * 20)).isoformat(), f"d{i % 3}"] for i in range(n)]


def _program(tmp_path: Path, portal: Any, *, monitor: str = MONITOR, n: int = 40) -> Path:
    root = make_program(tmp_path / "p", {"breaks": {"rows": _rows(n), "fields": FIELDS}}, portal_domain=portal.domain)
    inv = root / "inventory" / "water.yaml"
    inv.write_text(inv.read_text(encoding="utf-8").replace("    row_identifier: break_id\n",
                                                           "    row_identifier: break_id\n" + monitor),
                   encoding="utf-8")
    res = run_cli(["--root", str(root), "publish", "apply", "--yes", "--json"], env=portal_env(portal))
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "status: published" in inv.read_text(encoding="utf-8")
    return root


def _monitor(root: Path, portal: Any, *args: str) -> Any:
    return run_cli(["--root", str(root), "monitor", "--json", *args], env=portal_env(portal))


def _checks(envelope: dict[str, Any], ds: str = "breaks") -> dict[str, dict[str, Any]]:
    (entry,) = [d for d in envelope["data"]["datasets"] if d["id"] == ds]
    return {c["name"]: c for c in entry["checks"]}


def _portal_id(root: Path) -> str:
    from kcdata.inventory import load_inventory

    pid = load_inventory(root).inventory.get("breaks").portal_id
    assert pid
    return pid


def _delete(portal: Any, portal_id: str, ids: list[int]) -> None:
    client = portal.client()
    report = client.upsert(portal_id, [{"break_id": str(i), ":deleted": True} for i in ids])
    client.close()
    assert report.get("Errors", 0) == 0


def test_a_fresh_publish_passes_every_check_and_is_recorded(tmp_path: Path, own_portal: Any) -> None:
    root = _program(tmp_path, own_portal)
    res = _monitor(root, own_portal)
    assert res.exit_code == 0, res.stdout
    found = _checks(res.json())
    assert {n: c["status"] for n, c in found.items()} == {
        "freshness": "ok", "content": "ok", "count": "ok", "groups": "ok", "schema": "ok"}
    assert found["count"]["details"] == {"portal": 40, "source": 40, "last": None}
    years = found["groups"]["details"]["portal"]
    assert sum(years.values()) == 40 and years == found["groups"]["details"]["source"]
    history = (root / ".kcdata" / "monitor-history.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(history) == 1 and json.loads(history[0])["datasets"]["breaks"]["count"] == 40


def test_planted_shrinkage_is_caught_against_source_last_run_and_per_year(tmp_path: Path, own_portal: Any) -> None:
    root = _program(tmp_path, own_portal)
    assert _monitor(root, own_portal).exit_code == 0  # the baseline the next run compares with
    oldest_year = min((TODAY - dt.timedelta(days=i * 20)).year for i in range(40))
    gone = [i for i in range(40) if (TODAY - dt.timedelta(days=i * 20)).year == oldest_year]
    _delete(own_portal, _portal_id(root), gone)
    res = _monitor(root, own_portal)
    assert res.exit_code == 1
    found = _checks(res.json())
    assert found["count"]["code"] == "shrinkage"
    assert set(found["count"]["details"]["codes"]) == {"shrinkage", "count-mismatch"}
    assert found["groups"]["status"] == "alert" and str(oldest_year) in found["groups"]["message"]
    alerts = {(a["dataset"], a["code"]) for a in res.json()["data"]["alerts"]}
    assert ("breaks", "shrinkage") in alerts
    trend = run_cli(["--root", str(root), "monitor", "breaks", "--history", "--json"], env=portal_env(own_portal))
    (runs,) = trend.json()["data"]["datasets"]
    assert [r["count"] for r in runs["runs"]] == [40, 40 - len(gone)]


def test_stale_content_and_stalled_append_only_dataset(tmp_path: Path, own_portal: Any) -> None:
    root = _program(tmp_path, own_portal)
    assert _monitor(root, own_portal).exit_code == 0
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=5)).isoformat()
    res = _monitor(root, own_portal, "--at", later)
    assert res.exit_code == 1
    found = _checks(res.json())
    assert found["content"]["code"] == "stale-content"
    assert found["freshness"]["code"] == "overdue"
    assert "stalled" in found["count"]["details"]["codes"]


def test_schema_drift_when_the_schema_gains_a_column(tmp_path: Path, own_portal: Any) -> None:
    root = _program(tmp_path, own_portal, monitor="")
    schema = root / "schemas" / "breaks.schema.json"
    desc = json.loads(schema.read_text(encoding="utf-8"))
    desc["fields"].append({"name": "crew", "type": "string"})
    schema.write_text(json.dumps(desc), encoding="utf-8")
    write_csv(root / "data" / "breaks.csv", [[*r, "c1"] for r in _rows(40)], [f["name"] for f in desc["fields"]])
    res = _monitor(root, own_portal)
    assert res.exit_code == 1
    found = _checks(res.json())
    assert found["schema"]["code"] == "schema-drift" and "crew" in found["schema"]["message"]
    assert "content" not in found and "groups" not in found


def test_bad_monitor_config_is_reported_for_that_dataset(tmp_path: Path, own_portal: Any) -> None:
    root = _program(tmp_path, own_portal, monitor="    monitor: {date_feild: reported}\n")
    res = _monitor(root, own_portal)
    assert res.exit_code == 1
    alert = next(a for a in res.json()["data"]["alerts"] if a["code"] == "monitor-config")
    assert "did you mean 'date_field'" in alert["message"]


def test_unknown_column_in_monitor_config_names_the_schema_fields(tmp_path: Path, own_portal: Any) -> None:
    root = _program(tmp_path, own_portal, monitor="    monitor: {date_field: reportd}\n")
    res = _monitor(root, own_portal)
    found = _checks(res.json())
    assert found["content"]["code"] == "query-failed" and "did you mean 'reported'" in found["content"]["message"]


def test_usage_and_input_errors(tmp_path: Path, own_portal: Any) -> None:
    root = _program(tmp_path, own_portal, monitor="")
    res = run_cli(["--root", str(root), "monitor", "--json", "--notify", "carrier-pigeon"], env=portal_env(own_portal))
    assert res.exit_code == 3 and "not a known target" in res.json()["errors"][0]["message"]
    res = run_cli(["--root", str(root), "monitor", "nope", "--json"], env=portal_env(own_portal))
    assert res.exit_code == 3
    res = run_cli(["--root", str(root), "monitor", "--json"], env=portal_env(own_portal, KCDATA_PORTAL_URL=""))
    assert res.exit_code == 3 and "KCDATA_PORTAL_URL" in res.json()["errors"][0]["message"]
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = run_cli(["--root", str(root), "monitor", "--json", "--attempts", "1"],
                  env=portal_env(own_portal, KCDATA_PORTAL_URL=f"http://127.0.0.1:{port}"))
    assert res.exit_code == 4


# -- the rules on plain values -----------------------------------------------------------------------

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def test_content_check_rules() -> None:
    def status(newest: Any, periodicity: str | None = "R/P1D") -> tuple[str, str | None]:
        c = checks.content_check(newest=newest, date_field="d", periodicity=periodicity, now=NOW, grace=0.25)
        return c.status.value, c.code

    assert status("2026-12-01T00:00:00.000") == ("ok", None)
    assert status("2026-11-29T00:00:00.000") == ("alert", "stale-content")
    assert status("2026-11-30T08:00:00") == ("ok", None)  # due a day and a quarter later: 12-01T14:00
    assert status("2026-11-30") == ("alert", "stale-content")  # due 12-01T06:00, before NOW
    assert status(None) == ("alert", "no-content")
    assert status("2020-01-01", "irregular") == ("skipped", None)
    assert status("2020-01-01", None) == ("skipped", None)


@pytest.mark.parametrize(("portal", "source", "last", "codes"), [
    (100, 100, 100, []),
    (94, None, 100, ["shrinkage"]),
    (96, None, 100, []),  # within the 5% threshold
    (96, 100, 100, ["count-mismatch"]),
    (90, 100, 100, ["shrinkage", "count-mismatch"]),
    (120, None, 100, []),
])
def test_count_check_rules(portal: int, source: int | None, last: int | None, codes: list[str]) -> None:
    seen = Observation(count=last, count_since=NOW.isoformat()) if last is not None else None
    c = checks.count_check(portal=portal, source=source, last=seen, config=MonitorConfig(), periodicity="R/P1D",
                           now=NOW, grace=0.25)
    assert (c.status is CheckStatus.ALERT) == bool(codes)
    assert c.details.get("codes", []) == codes


def test_append_only_stall_needs_a_full_period_without_growth() -> None:
    config = MonitorConfig(append_only=True)
    since = (NOW - dt.timedelta(hours=20)).isoformat()
    c = checks.count_check(portal=5, source=None, last=Observation(count=5, count_since=since), config=config,
                           periodicity="R/P1D", now=NOW, grace=0.25)
    assert c.status is CheckStatus.OK
    since = (NOW - dt.timedelta(days=2)).isoformat()
    c = checks.count_check(portal=5, source=None, last=Observation(count=5, count_since=since), config=config,
                           periodicity="R/P1D", now=NOW, grace=0.25)
    assert c.code == "stalled"


def test_group_check_rules() -> None:
    config = MonitorConfig(group_by="year", date_field="d")
    last = Observation(groups={"2024": 10, "2025": 10})
    assert checks.group_check(portal={"2024": 10, "2025": 11}, source=None, last=last, config=config).status \
        is CheckStatus.OK
    c = checks.group_check(portal={"2025": 10}, source=None, last=last, config=config)
    assert c.code == "group-shrinkage" and "2024: 0, down from 10" in c.message
    c = checks.group_check(portal={"2024": 10}, source={"2024": 12}, last=None, config=config)
    assert c.code == "group-mismatch"
