"""The transparency commands on the repository's sample Kansas City program (``sample_root``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from test_datajson import errors

from kcdata.inventory import load_inventory
from kcdata.policy import check_program

TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def sample(sample_root: Path) -> Path:
    if not (sample_root / "inventory").is_dir():
        pytest.skip("the sample program is not in this checkout")
    return sample_root


def test_policy_check_finds_the_documented_flaws(sample: Path, cli: Any) -> None:
    res = cli(["--root", str(sample), "policy", "check", "--json", "--today", TODAY.isoformat()])
    assert res.exit_code in (0, 1)
    data = res.json()["data"]
    assert data == json.loads(json.dumps(data))  # plain JSON all the way down
    inv = load_inventory(sample).inventory
    by_rule: dict[str, set[str]] = {}
    for f in data["findings"]:
        by_rule.setdefault(f["rule"], set()).add(f["subject"])
    # Computed here from the inventory, independently of the rule code.
    overdue = {d.id for d in inv.datasets if d.target_release and d.target_release < TODAY
               and d.status.value not in ("published", "withheld", "retired") and d.access_level.value == "public"
               and d.classification.value != "protected"}
    stale = {d.id for d in inv.datasets if d.status.value != "retired" and d.last_reviewed
             and (TODAY - d.last_reviewed).days > 365}
    assert overdue and overdue <= by_rule["SUN-27"]
    assert stale == by_rule["SUN-31"]
    non_public_without_rights = {d.id for d in inv.datasets if d.access_level.value != "public" and not d.rights}
    assert non_public_without_rights == by_rule.get("SUN-04", set()) - {"housing-community-development", "law"}
    sc = data["scorecard"]
    assert sc["datasets"] == len(inv.datasets) and sc["departments"] == len(inv.departments)


def test_sample_catalog_validates_against_the_official_schemas(sample: Path, cli: Any) -> None:
    res = cli(["--root", str(sample), "export", "datajson"])
    assert res.exit_code == 0, res.stderr
    catalog = json.loads(res.stdout)
    assert errors(catalog) == []
    inv = load_inventory(sample).inventory
    listed = {d["identifier"]: d for d in catalog["dataset"]}
    assert set(listed) == {d.id for d in inv.datasets if d.status.value != "retired"}
    for ds in inv.datasets:
        if ds.id in listed and ds.access_level.value != "public":
            assert listed[ds.id]["rights"] == ds.rights and "distribution" not in listed[ds.id]
        if ds.status.value == "published" and ds.access_level.value == "public":
            csv_url = listed[ds.id]["distribution"][0]["downloadURL"]
            assert csv_url.endswith(f"/{ds.portal_id}/rows.csv?accessType=DOWNLOAD")


def test_sample_goals_report(sample: Path, cli: Any) -> None:
    res = cli(["--root", str(sample), "goals", "--json"])
    assert res.exit_code in (0, 1)
    data = res.json()["data"]
    inv = load_inventory(sample).inventory
    for goal in data["goals"]:
        linked = {d.id for d in inv.datasets if goal["id"] in d.kcstat_goals and d.status.value != "retired"}
        assert goal["linked"] == len(linked)
        assert {d["id"] for d in goal["published"]} | {d["id"] for d in goal["unpublished"]} == linked
    assert res.exit_code == (1 if data["without_published"] or data["unknown_refs"] else 0)


def test_sample_json_equals_library(sample: Path, cli: Any) -> None:
    from kcdata.cli.cmd_policy import report_json

    res = cli(["--root", str(sample), "policy", "check", "--json", "--today", TODAY.isoformat()])
    assert res.json()["data"] == report_json(check_program(root=sample, today=TODAY))
