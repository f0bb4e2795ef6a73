"""``kcdata policy check`` / ``policy rules``: happy path, --json equals the library, settings, exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from transparency_helpers import GOOD_POLICY, TODAY, good_dataset, make_program, validate_all

from kcdata.cli.cmd_policy import report_json
from kcdata.errors import InputError
from kcdata.policy import RULES, check_program, load_policy_settings

TODAY_ARGS = ["--today", TODAY.isoformat()]


def _root(tmp_path: Path, policy: dict[str, Any] | None = None, **ds: Any) -> Path:
    root = make_program(tmp_path / "p", {"water": [good_dataset(**ds)]}, policy={**GOOD_POLICY, **(policy or {})})
    validate_all(root)
    return root


def test_happy_path_exit_0_with_scorecard(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path)
    res = cli(["--root", str(root), "policy", "check", *TODAY_ARGS])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "Open data program scorecard" in res.stdout
    assert "What Works Cities" in res.stdout and "4/4 criteria" in res.stdout
    assert "SUN-07-PII" in res.stdout


def test_json_equals_library(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, license="https://example.org/closed")
    res = cli(["--root", str(root), "policy", "check", "--json", *TODAY_ARGS])
    assert res.exit_code == 1
    env = res.json()
    assert env["command"] == "policy check" and env["exit_code"] == 1
    assert env["data"] == report_json(check_program(root=root, today=TODAY))
    assert env["data"]["ok"] is False
    assert [f["rule"] for f in env["data"]["findings"]] == ["SUN-11"]
    sun11 = next(r for r in env["data"]["rules"] if r["id"] == "SUN-11")
    assert (sun11["status"], sun11["passed"], sun11["failed"]) == ("fail", 0, 1)
    assert sun11["findings"][0]["file"] == "inventory/water.yaml"


def test_failures_exit_1_and_are_listed(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, last_reviewed="2024-01-01")
    res = cli(["--root", str(root), "policy", "check", *TODAY_ARGS])
    assert res.exit_code == 1
    assert "SUN-31" in res.stdout and "water-main-breaks" in res.stdout and "Findings (1)" in res.stdout


def test_warning_does_not_fail(tmp_path: Path, cli: Any) -> None:
    policy = {"rules": {"SUN-31": {"severity": "warning", "reason": "Annual review cycle moved to March."}}}
    root = _root(tmp_path, policy, last_reviewed="2024-01-01")
    res = cli(["--root", str(root), "policy", "check", "--json", *TODAY_ARGS])
    assert res.exit_code == 0
    sun31 = next(r for r in res.json()["data"]["rules"] if r["id"] == "SUN-31")
    assert sun31["status"] == "warn" and sun31["severity"] == "warning"
    assert sun31["reason"] == "Annual review cycle moved to March."


def test_rule_switched_off_with_reason(tmp_path: Path, cli: Any) -> None:
    policy = {"rules": {"SUN-31": {"enabled": False, "reason": "Reviews tracked in the ERP for now."}}}
    root = _root(tmp_path, policy, last_reviewed="2024-01-01")
    res = cli(["--root", str(root), "policy", "check", "--json", *TODAY_ARGS])
    assert res.exit_code == 0
    sun31 = next(r for r in res.json()["data"]["rules"] if r["id"] == "SUN-31")
    assert (sun31["status"], sun31["failed"]) == ("off", 0)
    rules = cli(["--root", str(root), "policy", "rules", "--json"]).json()["data"]["rules"]
    assert len(rules) == len(RULES)
    assert next(r for r in rules if r["id"] == "SUN-31")["enabled"] is False


def test_single_rule(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, last_reviewed="2024-01-01")
    res = cli(["--root", str(root), "policy", "check", "--rule", "sun-11", "--json", *TODAY_ARGS])
    assert res.exit_code == 0
    assert [r["id"] for r in res.json()["data"]["rules"]] == ["SUN-11"]


@pytest.mark.parametrize(("policy", "fragment"), [
    ({"rules": {"SUN-31": {"enabled": False}}}, "policy.rules.SUN-31.reason"),
    ({"rules": {"SUN-31": {"severity": "warning", "reason": "  "}}}, "reason is required"),
    ({"rules": {"SUN-99": {"enabled": False, "reason": "x"}}}, "unknown rule 'SUN-99'"),
    ({"rules": {"SUN-31": {"severity": "loud", "reason": "x"}}}, "severity"),
    ({"min_published_share": 2}, "min_published_share"),
    ({"freshness_grace": "soon"}, "freshness_grace"),
    ({"pii": {"min_share": -1}}, "min_share"),
    ({"rulez": {}}, "did you mean 'rules'"),
])
def test_bad_settings_exit_3(tmp_path: Path, cli: Any, policy: dict[str, Any], fragment: str) -> None:
    root = _root(tmp_path, policy)
    res = cli(["--root", str(root), "policy", "check", "--json"])
    assert res.exit_code == 3
    assert fragment in res.json()["errors"][0]["message"] + res.json()["errors"][0].get("hint", "")


def test_unknown_rule_flag_exit_3(tmp_path: Path, cli: Any) -> None:
    res = cli(["--root", str(_root(tmp_path)), "policy", "check", "--rule", "SUN-17"])
    assert res.exit_code == 3
    assert "unknown rule 'SUN-17'" in res.stderr


def test_settings_defaults_and_repo_section() -> None:
    from conftest import REPO

    from kcdata.config import load_settings

    defaults = load_policy_settings({})
    assert defaults.freshness_grace == 0.25 and defaults.overrides == {}
    repo = load_policy_settings(load_settings(REPO))
    assert all(o.reason for o in repo.overrides.values())
    with pytest.raises(InputError):
        load_policy_settings({"policy": ["not", "a", "mapping"]})


def test_missing_inventory_exit_3(tmp_path: Path, cli: Any) -> None:
    res = cli(["--root", str(tmp_path), "policy", "check"])
    assert res.exit_code == 3


def test_docs_name_every_rule_and_command() -> None:
    from conftest import REPO

    text = (REPO / "docs" / "transparency.md").read_text(encoding="utf-8")
    for r in RULES:
        assert f"`{r.id}`" in text, r.id
    for cmd in ("kcdata policy check", "kcdata export datajson", "kcdata goals", "kcdata freshness"):
        assert cmd in text


@pytest.mark.parametrize("args", [["policy", "check"], ["policy", "rules"], ["export", "datajson"], ["goals"],
                                  ["freshness"]])
def test_help_has_an_example(cli: Any, args: list[str]) -> None:
    res = cli([*args, "--help"])
    assert res.exit_code == 0 and "kcdata " in res.stdout and "--json" in res.stdout


@pytest.mark.parametrize("args", [["policy", "check", "--bogus"], ["export", "datajson", "--bogus"],
                                  ["goals", "--bogus"], ["freshness", "--attempts", "0"]])
def test_usage_errors_exit_2(cli: Any, args: list[str]) -> None:
    assert cli(args).exit_code == 2


def test_commands_import_no_heavy_libraries() -> None:
    import subprocess
    import sys

    from conftest import subprocess_env

    code = ("import sys, kcdata.cli.cmd_policy, kcdata.cli.cmd_export, kcdata.cli.cmd_goals, "
            "kcdata.cli.cmd_freshness; heavy = {'rich', 'jsonschema', 'sodapy', 'pandas', 'pyarrow', 'yaml'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
