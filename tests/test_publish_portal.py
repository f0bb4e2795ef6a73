"""kcdata publish against the local portal over real HTTP with the real sodapy 2.2.0 (no mocks)."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kcdata.portal.server import FaultPlan
from tests.conftest import REPO, run_cli, subprocess_env
from tests.publish_helpers import FIELDS, make_program, portal_env, rows, unique_id, write_csv


def publish(root: Path, portal: Any, *args: str, **env: str) -> Any:
    return run_cli(["--root", str(root), "publish", *args], env=portal_env(portal, **env))


def view_for(portal: Any, ds_id: str) -> dict[str, Any] | None:
    from kcdata.publish.client import connect

    client = connect(url=portal.url, username=portal.username, password=portal.password, app_token=None)
    return client.find_by_inventory_id(ds_id)


def portal_rows(portal: Any, portal_id: str) -> list[dict[str, Any]]:
    return list(portal.client().get_all(portal_id, order="break_id"))


def expected_rows(path: Path) -> list[dict[str, Any]]:
    """The source CSV as the portal should return it (numbers as text, nulls omitted)."""
    from decimal import Decimal

    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            row: dict[str, Any] = {"break_id": r["break_id"], "reported": r["reported"] + "T00:00:00.000",
                                   "repaired_at": r["repaired_at"] + ".000",
                                   "cost": format(Decimal(r["cost"]).normalize(), "f"),
                                   "emergency": r["emergency"] == "true"}
            lon, lat = (float(v) for v in r["location"].split(","))
            row["location"] = {"type": "Point", "coordinates": [lon, lat]}
            if r["notes"]:
                row["notes"] = r["notes"]
            out.append(row)
    return sorted(out, key=lambda x: int(x["break_id"]))


def assert_portal_equals_source(portal: Any, portal_id: str, csv_path: Path) -> None:
    got = portal_rows(portal, portal_id)
    want = expected_rows(csv_path)
    assert len(got) == len(want)
    norm = [{k: (format(__import__("decimal").Decimal(v).normalize(), "f") if k == "cost" else v)
             for k, v in r.items()} for r in got]
    norm.sort(key=lambda x: int(x["break_id"]))
    assert norm == want


@pytest.fixture
def program(tmp_path: Path, portal: Any) -> tuple[Path, str]:
    ds = unique_id("wmb")
    return make_program(tmp_path / "prog", {ds: {"n": 25}}, portal_domain=portal.domain), ds


def test_end_to_end_publish_then_plan_is_empty(program: tuple[Path, str], portal: Any) -> None:
    root, ds = program
    plan = publish(root, portal, "plan", ds, "--json")
    assert plan.exit_code == 1, plan.stderr  # changes pending
    item = plan.json()["data"]["datasets"][0]
    assert item["action"] == "create" and item["rows"] == {"create": 25, "update": 0, "delete": 0}
    assert {c["field"] for c in item["metadata_changes"]} >= {"title", "description", "inventory_id", "license"}

    res = publish(root, portal, "apply", ds, "--yes", "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    out = res.json()["data"]["datasets"][0]
    assert out["result"] == "ok" and out["recorded"] is True
    pid = out["portal_id"]
    view = portal.client().get_metadata(pid)
    assert view["publicationStage"] == "published"
    assert view["name"] == f"Water Main Breaks {ds}" and view["category"] == "Infrastructure"
    assert view["metadata"]["custom_fields"]["Inventory"]["Inventory ID"] == ds
    cols = {c["fieldName"]: c for c in view["columns"]}
    assert cols["break_id"]["dataTypeName"] == "number" and cols["location"]["dataTypeName"] == "point"
    assert cols["emergency"]["dataTypeName"] == "checkbox" and cols["reported"]["dataTypeName"] == "calendar_date"
    assert cols["cost"]["description"] == "Repair cost in dollars." and cols["notes"]["name"] == "Notes"
    assert_portal_equals_source(portal, pid, root / "data" / f"{ds}.csv")
    # anonymous read works: the dataset is public
    assert len(list(portal.client(auth=False).get_all(pid))) == 25

    again = publish(root, portal, "plan", ds, "--json")
    assert again.exit_code == 0, again.stdout
    assert again.json()["data"]["datasets"][0]["action"] == "noop"
    text = (root / "inventory" / "water.yaml").read_text()
    assert "status: published" in text and f"portal_id: {pid}" in text
    # a second apply never creates a second copy
    assert publish(root, portal, "apply", ds, "--yes").exit_code == 0
    copies = [r["resource"]["id"] for r in portal.client().datasets()
              if {"key": "Inventory_Inventory-ID", "value": ds} in r["classification"]["domain_metadata"]]
    assert copies == [pid]

    log = publish(root, portal, "log", "--json").json()["data"]
    assert log["count"] == 2
    rec = log["runs"][0]
    assert rec["result"] == "ok" and rec["datasets"][0]["id"] == ds and rec["datasets"][0]["rows"]["create"] == 25
    assert {"when", "who", "commit", "portal", "duration_s"} <= set(rec)
    assert log["runs"][1]["result"] == "noop" and log["runs"][1]["datasets"][0]["write_requests"] == 0


def test_plan_shows_exactly_the_edit(program: tuple[Path, str], portal: Any) -> None:
    root, ds = program
    assert publish(root, portal, "apply", ds, "--yes").exit_code == 0
    data = root / "data" / f"{ds}.csv"
    base = rows(25)

    edited = [r[:] for r in base]
    edited[4][6] = "edited note"
    write_csv(data, edited)
    item = publish(root, portal, "plan", ds, "--json").json()["data"]["datasets"][0]
    assert item["action"] == "update"
    assert item["rows"] == {"create": 0, "update": 1, "delete": 0} and item["metadata_changes"] == []
    assert item["state_from"] == "manifest"

    write_csv(data, base)
    yaml_path = root / "inventory" / "water.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("Every reported water main break.", "A new description."))
    item = publish(root, portal, "plan", ds, "--json").json()["data"]["datasets"][0]
    assert item["rows"] == {"create": 0, "update": 0, "delete": 0}
    assert [(c["field"], c["new"]) for c in item["metadata_changes"]] == [("description", "A new description.")]
    assert publish(root, portal, "apply", ds, "--yes").exit_code == 0
    assert publish(root, portal, "plan", ds).exit_code == 0

    # add a column: schema drift is refused unless allowed
    schema_path = root / "schemas" / f"{ds}.schema.json"
    fields = [*FIELDS, {"name": "crew", "type": "string", "description": "Repair crew."}]
    schema_path.write_text(json.dumps({"fields": fields, "primaryKey": ["break_id"]}))
    write_csv(data, [[*r, "" if i else "crew 7"] for i, r in enumerate(base)], [f["name"] for f in fields])
    res = publish(root, portal, "plan", ds, "--json")
    assert res.exit_code == 5
    item = res.json()["data"]["datasets"][0]
    assert item["action"] == "refused" and "schema drift" in item["reason"]
    assert item["columns"]["added"] == ["crew"] and item["columns"]["removed"] == []
    assert item["rows"] == {"create": 0, "update": 1, "delete": 0}  # only the row with a crew value
    res = publish(root, portal, "apply", ds, "--yes", "--allow-schema-change", "--json")
    assert res.exit_code == 0, res.stdout
    pid = res.json()["data"]["datasets"][0]["portal_id"]
    got = {r["break_id"]: r for r in portal_rows(portal, pid)}
    assert got["1"]["crew"] == "crew 7" and "crew" not in got["2"]
    assert publish(root, portal, "plan", ds).exit_code == 0


def test_multiline_quoted_values_are_diffed_and_sent_exactly(program: tuple[Path, str], portal: Any) -> None:
    """The plan hashes CSV records in place: a record spanning lines (a quoted value with a line
    break, CRLF line ends from csv.writer) must stay one record, and only it is sent."""
    root, ds = program
    data = root / "data" / f"{ds}.csv"
    base = rows(25)
    base[2][6] = 'line one\nline two, "quoted"'
    write_csv(data, base)
    assert publish(root, portal, "apply", ds, "--yes").exit_code == 0
    assert publish(root, portal, "plan", ds).exit_code == 0
    edited = [r[:] for r in base]
    edited[2][6] = 'line one\r\nline 2, "quoted"'
    edited[9][6] = "a\nb"
    write_csv(data, edited)
    item = publish(root, portal, "plan", ds, "--json").json()["data"]["datasets"][0]
    assert item["rows"] == {"create": 0, "update": 2, "delete": 0} and item["state_from"] == "manifest"
    res = publish(root, portal, "apply", ds, "--yes", "--json")
    assert res.exit_code == 0, res.stdout
    got = {r["break_id"]: r for r in portal_rows(portal, res.json()["data"]["datasets"][0]["portal_id"])}
    assert got["3"]["notes"] == 'line one\r\nline 2, "quoted"' and got["10"]["notes"] == "a\nb"
    assert publish(root, portal, "plan", ds).exit_code == 0


def test_deletes_and_the_delete_guard(program: tuple[Path, str], portal: Any) -> None:
    root, ds = program
    assert publish(root, portal, "apply", ds, "--yes").exit_code == 0
    data = root / "data" / f"{ds}.csv"
    write_csv(data, rows(24))  # one row vanished
    item = publish(root, portal, "plan", ds, "--json").json()["data"]["datasets"][0]
    assert item["rows"] == {"create": 0, "update": 0, "delete": 1}
    assert publish(root, portal, "apply", ds, "--yes").exit_code == 0
    # the manifest on the portal got a delta part, and the next plan trusts it
    ptr = portal.client().get_metadata(item["portal_id"])["metadata"]["kcdata"]
    assert (ptr["state"], ptr["parts"], ptr["delta_rows"], ptr["rows"]) == ("clean", 2, 1, 24)
    again = publish(root, portal, "plan", ds, "--json").json()["data"]["datasets"][0]
    assert (again["action"], again["state_from"]) == ("noop", "manifest")
    write_csv(data, rows(10))  # 14 of 24 would go: refused
    res = publish(root, portal, "apply", ds, "--yes", "--json")
    assert res.exit_code == 5
    assert "would delete 14 of 24" in res.json()["data"]["datasets"][0]["reason"]
    res = publish(root, portal, "apply", ds, "--yes", "--force", "--json")
    assert res.exit_code == 0
    assert_portal_equals_source(portal, res.json()["data"]["datasets"][0]["portal_id"], data)


@pytest.mark.parametrize(("kind", "only_writes"), [("500", True), ("429", True), ("drop", True), ("drop", False)])
def test_faults_are_retried_and_the_result_is_exact(tmp_path: Path, own_portal: Any, kind: str, only_writes: bool,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    portal = own_portal  # a fresh catalog: the request sequence, so the faults' alignment, is fixed
    ds = unique_id(f"fault{kind}")
    root = make_program(tmp_path / "prog", {ds: {"n": 60}}, portal_domain=portal.domain)
    # Reads too: every 4th request (a period of 3 would line up with the 3-request create-and-look
    # loop and starve it — a periodic-fault artefact noted in docs/publish.md).
    portal.server.faults = FaultPlan(every_nth=3 if only_writes else 4, kind=kind, only_writes=only_writes)
    try:
        res = publish(root, portal, "apply", ds, "--yes", "--json")
        data = root / "data" / f"{ds}.csv"
        write_csv(data, [r if i % 10 else [*r[:6], "changed"] for i, r in enumerate(rows(55))])
        res2 = publish(root, portal, "apply", ds, "--yes", "--force", "--json")
    finally:
        portal.server.faults = None
    assert res.exit_code == 0, res.stdout + res.stderr
    assert res2.exit_code == 0, res2.stdout + res2.stderr
    assert caplog.text.count("retry 1/") >= 5  # the faults really happened
    pid = res2.json()["data"]["datasets"][0]["portal_id"]
    assert_portal_equals_source(portal, pid, data)
    assert publish(root, portal, "plan", ds).exit_code == 0


@pytest.mark.slow
def test_kill_mid_apply_then_rerun_finishes(tmp_path: Path, portal: Any) -> None:
    ds = unique_id("kill")
    # Many small chunks, so the kill lands mid-way however fast the portal is.
    total = 20000
    root = make_program(tmp_path / "prog", {ds: {"n": total}}, portal_domain=portal.domain,
                        publish={"chunk_size": 50, "parallel_uploads": 1})
    proc = subprocess.Popen([sys.executable, "-m", "kcdata", "--root", str(root), "publish", "apply", "--yes"],
                            cwd=REPO, env=subprocess_env(**portal_env(portal)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    client = portal.client()
    deadline, count, pid = time.monotonic() + 60, 0, None
    while time.monotonic() < deadline and proc.poll() is None:
        if pid is None:
            view = view_for(portal, ds)
            pid = view["id"] if view else None
        if pid is not None:
            count = int(client.get(pid, select="count(*) AS n")[0]["n"])
            if count >= 200:
                break
        time.sleep(0.02)
    proc.kill()
    proc.communicate()
    assert pid is not None and 0 < count < total, f"not killed mid-way (rows {count})"
    plan = publish(root, portal, "plan", ds, "--json").json()["data"]["datasets"][0]
    assert plan["action"] == "update" and plan["state_from"] == "portal-rows"  # manifest marked writing
    assert plan["portal_id"] == pid and plan["rows"]["delete"] == 0 and plan["rows"]["create"] > 0
    res = publish(root, portal, "apply", ds, "--yes", "--json")
    assert res.exit_code == 0, res.stdout
    assert res.json()["data"]["datasets"][0]["portal_id"] == pid
    keys = [r["break_id"] for r in client.get_all(pid, select="break_id")]
    assert len(keys) == total and len(set(keys)) == total
    assert_portal_equals_source(portal, pid, root / "data" / f"{ds}.csv")
    assert publish(root, portal, "plan", ds).exit_code == 0


def test_refused_publish_writes_nothing_while_others_proceed(tmp_path: Path, portal: Any) -> None:
    good, proposed, invalid = unique_id("good"), unique_id("proposed"), unique_id("invalid")
    root = make_program(tmp_path / "prog", {good: {"n": 5}, proposed: {"n": 5, "status": "proposed"},
                                            invalid: {"n": 5}}, portal_domain=portal.domain)
    bad = rows(5)
    bad[2][3] = "not-a-number"
    write_csv(root / "data" / f"{invalid}.csv", bad)
    before = (root / "inventory" / "water.yaml").read_bytes()
    catalog_before = sorted((r["resource"]["id"], r["resource"]["updatedAt"]) for r in portal.client().datasets())

    res = publish(root, portal, "apply", proposed, invalid, "--yes", "--json")
    assert res.exit_code == 5
    assert sorted((r["resource"]["id"], r["resource"]["updatedAt"])
                  for r in portal.client().datasets()) == catalog_before  # the portal is unchanged
    reasons = {d["id"]: d["reason"] for d in res.json()["data"]["datasets"]}
    assert "not approved" in reasons[proposed] and "validation failed" in reasons[invalid]
    assert (root / "inventory" / "water.yaml").read_bytes() == before
    assert view_for(portal, proposed) is None and view_for(portal, invalid) is None

    res = publish(root, portal, "apply", good, proposed, invalid, "--yes", "--json")
    assert res.exit_code == 5  # partly refused
    results = {d["id"]: d["result"] for d in res.json()["data"]["datasets"]}
    assert results == {good: "ok", proposed: "refused", invalid: "refused"}
    assert view_for(portal, good) is not None and view_for(portal, invalid) is None
    # without ids only approved/published datasets are candidates: the proposed one is not listed
    listed = {d["id"] for d in publish(root, portal, "plan", "--json").json()["data"]["datasets"]}
    assert listed == {good, invalid}


def test_recorded_portal_id_missing_is_reported_not_recreated(program: tuple[Path, str], portal: Any) -> None:
    root, ds = program
    yaml_path = root / "inventory" / "water.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("portal_id: null", "portal_id: zzzz-9999"))
    res = publish(root, portal, "apply", ds, "--yes", "--json")
    assert res.exit_code == 5
    assert "zzzz-9999 does not exist" in res.json()["data"]["datasets"][0]["reason"]
    assert view_for(portal, ds) is None
    # a recorded id that belongs to another inventory dataset is refused too
    other = unique_id("other")
    other_root = make_program(root.parent / "other", {other: {"n": 3}}, portal_domain=portal.domain)
    other_id = publish(other_root, portal, "apply", other, "--yes", "--json").json()["data"]["datasets"][0]["portal_id"]
    yaml_path.write_text(yaml_path.read_text().replace("portal_id: zzzz-9999", f"portal_id: {other_id}"))
    res = publish(root, portal, "plan", ds, "--json")
    assert res.exit_code == 5
    assert f"belongs to inventory dataset '{other}'" in res.json()["data"]["datasets"][0]["reason"]
    yaml_path.write_text(yaml_path.read_text().replace(f"portal_id: {other_id}", "portal_id: zzzz-9999"))
    # against a portal that is not the production one, identity comes from the inventory id
    yaml_path2 = root / "kcdata.yaml"
    yaml_path2.write_text(yaml_path2.read_text().replace(portal.domain, "data.kcmo.org"))
    res = publish(root, portal, "apply", ds, "--yes", "--json")
    assert res.exit_code == 0
    out = res.json()["data"]["datasets"][0]
    assert out["action"] == "create" and out["recorded"] is False  # staging ids are not recorded
    assert "portal_id: zzzz-9999" in yaml_path.read_text()


def test_credentials_never_printed(program: tuple[Path, str], portal: Any, caplog: pytest.LogCaptureFixture
                                   ) -> None:
    root, ds = program
    caplog.set_level(logging.DEBUG)
    secret = "wrong-" + portal.password + "-zq81"
    bad = run_cli(["--root", str(root), "-vv", "publish", "apply", ds, "--yes"],
                  env=portal_env(portal, KCDATA_PORTAL_PASSWORD=secret, KCDATA_APP_TOKEN="tok-secret-77"))
    assert bad.exit_code == 4, bad.stderr
    good = run_cli(["--root", str(root), "-vv", "publish", "apply", ds, "--yes", "--json"],
                   env=portal_env(portal, KCDATA_APP_TOKEN="tok-secret-77"))
    assert good.exit_code == 0
    log_text = (root / ".kcdata" / "publish-log.jsonl").read_text()
    everything = bad.stdout + bad.stderr + good.stdout + good.stderr + caplog.text + log_text
    for s in (secret, portal.password, "tok-secret-77"):
        assert s not in everything


def test_exit_codes_for_bad_input_and_unreachable_portal(program: tuple[Path, str], portal: Any) -> None:
    root, _ds = program
    res = run_cli(["--root", str(root), "publish", "plan", "--json"], env=portal_env(portal, KCDATA_PORTAL_URL=""))
    assert res.exit_code == 3 and res.json()["errors"][0]["message"] == "KCDATA_PORTAL_URL is not set"
    res = publish(root, portal, "plan", "no-such-dataset")
    assert res.exit_code == 3 and "unknown dataset id" in res.stderr
    res = publish(root, portal, "plan", KCDATA_PORTAL_URL="http://example.org")
    assert res.exit_code == 3 and "plain http" in res.stderr
    settings = root / "kcdata.yaml"
    good_settings = settings.read_text()
    settings.write_text(good_settings.replace('"chunk_size": 7', '"chunk_size": "lots"'))
    assert publish(root, portal, "plan").exit_code == 3
    settings.write_text(good_settings)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    res = publish(root, portal, "apply", "--yes", "--json", KCDATA_PORTAL_URL=f"http://127.0.0.1:{free_port}")
    assert res.exit_code == 4 and res.json()["errors"][0]["code"] == "portal-unreachable"
    assert not (root / ".kcdata" / "publish-log.jsonl").exists()


def test_confirmation_markdown_and_json_equals_library(program: tuple[Path, str], portal: Any) -> None:
    root, ds = program
    env = portal_env(portal)
    declined = run_cli(["--root", str(root), "publish", "apply", ds], input="n\n", env=env, tty=True)
    assert declined.exit_code == 130 and view_for(portal, ds) is None
    md = publish(root, portal, "plan", "--markdown")
    assert md.exit_code == 1 and f"| `{ds}` | **create** |" in md.stdout
    # --json equals the library result
    import os

    from kcdata.cli.cmd_publish import plan_json
    from kcdata.publish.run import connect_from_env, load_publish_settings, make_plan

    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        settings = load_publish_settings(root)
        lib = make_plan(root=root, client=connect_from_env(settings), ids=[ds], settings=settings)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    cli_json = publish(root, portal, "plan", ds, "--json").json()["data"]["datasets"]
    assert cli_json == [json.loads(json.dumps(plan_json(p))) for p in lib.datasets]
    accepted = run_cli(["--root", str(root), "publish", "apply", ds], input="y\n", env=env, tty=True)
    assert accepted.exit_code == 0 and view_for(portal, ds) is not None


def test_changed_since_limits_to_changed_datasets(tmp_path: Path, portal: Any) -> None:
    a, b = unique_id("chga"), unique_id("chgb")
    root = make_program(tmp_path / "prog", {a: {"n": 5}, b: {"n": 5}}, portal_domain=portal.domain)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=root, check=True)
    res = publish(root, portal, "plan", "--changed-since", "HEAD", "--json")
    assert res.exit_code == 0 and res.json()["data"]["datasets"] == []
    write_csv(root / "data" / f"{b}.csv", rows(6))
    res = publish(root, portal, "plan", "--changed-since", "HEAD", "--json")
    ids = [d["id"] for d in res.json()["data"]["datasets"]]
    assert ids == [b]
    yaml_path = root / "inventory" / "water.yaml"
    yaml_path.write_text(yaml_path.read_text().replace(f"Water Main Breaks {a}", f"Water Main Breaks {a} (KC)"))
    ids = sorted(d["id"] for d in publish(root, portal, "plan", "--changed-since", "HEAD", "--json")
                 .json()["data"]["datasets"])
    assert ids == sorted([a, b])
    assert publish(root, portal, "plan", "--changed-since", "no-such-ref").exit_code == 3


@pytest.mark.slow
def test_publish_the_sample_program(sample_root: Path, portal: Any) -> None:
    """The repository's sample inventory: every approved dataset with clean data is published."""
    import yaml

    from kcdata.inventory import load_inventory

    inv = load_inventory(sample_root).inventory
    approved = [d for d in inv.datasets if d.status.value == "approved"]
    if not approved:
        pytest.skip("the sample inventory has no approved datasets yet")
    settings = yaml.safe_load((sample_root / "kcdata.yaml").read_text())
    settings.setdefault("program", {})["portal_domain"] = portal.domain
    (sample_root / "kcdata.yaml").write_text(yaml.safe_dump(settings))
    res = publish(sample_root, portal, "apply", *[d.id for d in approved], "--yes", "--json")
    assert res.exit_code in (0, 5), res.stdout + res.stderr
    results = res.json()["data"]["datasets"]
    published = [r for r in results if r["result"] == "ok"]
    assert published, results
    for r in published:
        ds = inv.get(r["id"])
        with open(sample_root / str(ds.data), newline="", encoding="utf-8-sig") as fh:
            n = sum(1 for _ in csv.DictReader(fh))
        assert int(portal.client().get(r["portal_id"], select="count(*) AS n")[0]["n"]) == n
        assert f"portal_id: {r['portal_id']}" in (sample_root / ds.source.file).read_text()  # type: ignore[union-attr]
    # Against a portal that is not the production one (the staging case), identity comes from the
    # inventory id: the published datasets (with production ids) are created, the ones just
    # published are found again and unchanged.
    settings["program"]["portal_domain"] = "data.kcmo.org"
    (sample_root / "kcdata.yaml").write_text(yaml.safe_dump(settings))
    everything = publish(sample_root, portal, "apply", "--yes", "--json")
    assert everything.exit_code == 0, everything.stdout
    results = everything.json()["data"]["datasets"]
    assert {r["id"]: r["action"] for r in results if r["id"] in {p["id"] for p in published}} == \
        {p["id"]: "noop" for p in published}
    assert len(results) > len(published)
    published = results
    inv = load_inventory(sample_root).inventory
    # Read every published dataset back and compare values (not the manifest): the type map and
    # value encoding round-trip through the portal for every column of the sample data.
    from kcdata.program import Program
    from kcdata.publish.client import connect
    from kcdata.publish.observe import build_desired, local_value_hashes, portal_value_hashes
    from kcdata.publish.rows.rowset import diff

    client = connect(url=portal.url, username=portal.username, password=portal.password, app_token=None)
    for r in published:
        ds = inv.get(r["id"])
        desired = build_desired(Program(sample_root), ds, named=True, check_validation=False)
        assert desired.mapping is not None
        view = client.get_view(r["portal_id"])
        assert view is not None
        d = diff(local_value_hashes(desired, desired.mapping),
                 portal_value_hashes(client, r["portal_id"], view, desired.mapping))
        assert (d.create, d.update, d.delete) == ([], [], []), (r["id"], d.update[:3])
    again = publish(sample_root, portal, "plan", "--json")
    assert again.exit_code == 0, again.stdout
    assert {d["action"] for d in again.json()["data"]["datasets"]} == {"noop"}


def test_usage_error_and_log_rendering(program: tuple[Path, str], portal: Any) -> None:
    root, ds = program
    assert publish(root, portal, "plan", "--no-such-option").exit_code == 2
    assert publish(root, portal, "apply", ds, "--yes").exit_code == 0
    shown = publish(root, portal, "log")
    assert shown.exit_code == 0 and ds in shown.stdout and "ok" in shown.stdout


def test_replace_only_when_asked(program: tuple[Path, str], portal: Any) -> None:
    root, ds = program
    res = publish(root, portal, "apply", ds, "--yes", "--json")
    pid = res.json()["data"]["datasets"][0]["portal_id"]
    data = root / "data" / f"{ds}.csv"
    edited = rows(25)
    edited[0][6] = "replaced"
    write_csv(data, edited)
    item = publish(root, portal, "plan", ds, "--replace", "--json").json()["data"]["datasets"][0]
    assert item["replace"] is True and item["rows"] == {"create": 0, "update": 1, "delete": 0}
    res = publish(root, portal, "apply", ds, "--yes", "--replace", "--json")
    assert res.exit_code == 0, res.stdout
    assert_portal_equals_source(portal, pid, data)
    assert publish(root, portal, "plan", ds).exit_code == 0


def test_a_plan_lists_the_catalog_once_and_a_write_makes_it_list_again(tmp_path: Path, own_portal: Any) -> None:
    from kcdata.publish.client import connect
    from kcdata.publish.run import load_publish_settings, make_plan

    portal = own_portal
    ids = [unique_id("cat") for _ in range(3)]
    root = make_program(tmp_path / "prog", {ds: {"n": 5} for ds in ids}, portal_domain=portal.domain)
    assert publish(root, portal, "apply", ids[0], "--yes").exit_code == 0  # one exists, two are new
    client = connect(url=portal.url, username=portal.username, password=portal.password, app_token=None)
    listings: list[dict[str, Any]] = []
    real = client._soda.datasets  # type: ignore[attr-defined]

    def counting(**kw: Any) -> Any:
        listings.append(kw)
        return real(**kw)

    client._soda.datasets = counting  # type: ignore[attr-defined]
    plan = make_plan(root=root, client=client, settings=load_publish_settings(root))
    assert {p.id: p.action.value for p in plan.datasets} == {ids[0]: "noop", ids[1]: "create", ids[2]: "create"}
    assert sum(1 for kw in listings if "q" not in kw) == 1  # two misses, one full listing
    # After any write the listing is taken again: a view created meanwhile is found.
    assert client.find_by_inventory_id(ids[1]) is None
    created = client.create_view(name="made meanwhile", columns=[{"fieldName": "x", "name": "x",
                                                                  "dataTypeName": "text"}], row_identifier="x",
                                 fields={"metadata": {"custom_fields": {"Inventory": {"Inventory ID": ids[1]}}}})
    found = client.find_by_inventory_id(ids[1])
    assert found is not None and found["id"] == created["id"]
    client.close()
