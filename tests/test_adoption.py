"""What another city reuses: `kcdata init`'s CI files, the pre-commit hooks, the GitHub Action, completion."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from kcdata import __version__
from kcdata.inventory.scaffold import ACTION, workflow_text


def _init(cli, target: Path, *args: str):
    r = cli(["init", str(target), *args, "--json"])
    assert r.exit_code == 0, r.stderr
    return r.json()["data"]["files"]


def test_init_writes_ci_workflow_precommit_and_gitignore(cli, tmp_path: Path) -> None:
    files = _init(cli, tmp_path / "p")
    assert {".github/workflows/kcdata.yml", ".gitignore", ".pre-commit-config.yaml"} <= set(files)
    ignored = (tmp_path / "p" / ".gitignore").read_text(encoding="utf-8").split()
    assert {"site/", "build/", ".kcdata/"} <= set(ignored)
    workflow = yaml.safe_load((tmp_path / "p" / ".github/workflows/kcdata.yml").read_text(encoding="utf-8"))
    uses = {step.get("uses") for job in workflow["jobs"].values() for step in job["steps"]}
    assert f"{ACTION}@v{__version__}" in uses
    lint_steps = [s for job in workflow["jobs"].values() for s in job["steps"]
                  if s.get("with", {}).get("command") == "inventory lint"]
    assert len(lint_steps) == 2, "lint runs on pull requests and again before publishing on merge"
    precommit = yaml.safe_load((tmp_path / "p" / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hook_ids = {h["id"] for h in precommit["repos"][0]["hooks"]}
    shipped = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert hook_ids == shipped and precommit["repos"][0]["rev"] == f"v{__version__}"


@pytest.mark.parametrize("name", ["kcdata", "kcdata-monitor"])
def test_repository_workflow_is_the_scaffold_template_on_the_local_action(name: str) -> None:
    """The repository's own CI runs exactly what `kcdata init` gives a city, through `uses: ./`."""
    own = (REPO / ".github" / "workflows" / f"{name}.yml").read_text(encoding="utf-8")
    assert own == workflow_text(action="./", name=name)


def test_init_writes_the_scheduled_monitor_workflow(cli, tmp_path: Path) -> None:
    files = _init(cli, tmp_path / "p")
    assert ".github/workflows/kcdata-monitor.yml" in files
    workflow = yaml.safe_load((tmp_path / "p" / ".github/workflows/kcdata-monitor.yml").read_text(encoding="utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    steps = workflow["jobs"]["monitor"]["steps"]
    run = next(s for s in steps if s.get("uses") == f"{ACTION}@v{__version__}")
    assert run["with"]["command"].startswith("monitor --notify github-issue")
    assert workflow["permissions"]["issues"] == "write"


@pytest.mark.parametrize("city", ["Kansas City: MO", "Lee's Summit #2", 'The "Big" Town', "Saint-Étienne"])
def test_init_city_names_stay_whole(cli, tmp_path: Path, city: str) -> None:
    _init(cli, tmp_path / "p", "--city", city)
    settings = yaml.safe_load((tmp_path / "p" / "kcdata.yaml").read_text(encoding="utf-8"))
    assert settings["program"]["city"] == city and settings["program"]["publisher"] == f"City of {city}"
    assert cli(["--root", str(tmp_path / "p"), "inventory", "lint"]).exit_code == 0


def test_init_refuses_an_empty_city(cli, tmp_path: Path) -> None:
    r = cli(["init", str(tmp_path / "p"), "--city", "  "])
    assert r.exit_code == 3 and "city name is empty" in r.stderr
    assert not (tmp_path / "p").exists()


def test_validate_changed_files_checks_only_the_datasets_they_touch(cli, tmp_path: Path) -> None:
    root = tmp_path / "p"
    _init(cli, root)
    data = root / "data" / "samples" / "pothole-repairs.csv"
    r = cli(["--root", str(root), "validate", "--changed-files", str(root / "README.md"), "--json"])
    assert r.exit_code == 0 and r.json()["data"]["datasets"] == []
    for touched in (data, root / "schemas" / "pothole-repairs.schema.json", root / "inventory" / "public-works.yaml"):
        r = cli(["--root", str(root), "validate", "--changed-files", str(touched), "--json", "--no-cache"])
        assert r.exit_code == 0, r.stdout
        assert [d["id"] for d in r.json()["data"]["datasets"]] == ["pothole-repairs"]
    data.write_text(data.read_text(encoding="utf-8") + "not-a-number,2026-10-05,,1 A St,open\n", encoding="utf-8")
    r = cli(["--root", str(root), "validate", "--changed-files", str(data), "--json"])
    assert r.exit_code == 1 and r.json()["data"]["datasets"][0]["errors"][0]["code"] == "type-error"


def _complete(root: Path, words: str) -> list[str]:
    env = {**os.environ, "_KCDATA_COMPLETE": "bash_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)), "KCDATA_ROOT": str(root)}
    out = subprocess.run([sys.executable, "-m", "kcdata"], env=env, capture_output=True, text=True, timeout=60,
                         check=True)
    return [line.split(",", 1)[1] for line in out.stdout.splitlines() if line]


def test_shell_completion_offers_dataset_ids_and_departments(cli, tmp_path: Path) -> None:
    root = tmp_path / "p"
    _init(cli, root)
    assert _complete(root, "kcdata score explain pot") == ["pothole-repairs"]
    assert _complete(root, "kcdata review approve ") == ["pothole-repairs"]
    assert _complete(root, "kcdata inventory list --department pub") == ["public-works"]
    assert _complete(root, "kcdata inventory list --status app") == ["approved"]
    assert "publish" in _complete(root, "kcdata pub")
    # A broken inventory completes nothing rather than failing in the user's shell.
    (root / "inventory" / "public-works.yaml").write_text("datasets: [unclosed", encoding="utf-8")
    assert _complete(root, "kcdata score explain ") == []


def test_action_runs_the_command_and_honours_ok_exit_codes(cli, tmp_path: Path) -> None:
    """The composite action's run step, executed by bash as the runner would (minus setup-python/install)."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    root = tmp_path / "p"
    _init(cli, root)
    step = next(s for s in yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"]
                if s.get("id") == "run")
    script = tmp_path / "run.sh"
    script.write_text(step["run"], encoding="utf-8")
    bindir = Path(sys.executable).parent

    def action(command: str, ok: str = "0") -> tuple[int, dict[str, str], Path]:
        gh_out = tmp_path / "gh_output"
        gh_out.write_text("", encoding="utf-8")
        output = tmp_path / "out.txt"
        env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
               "INPUT_COMMAND": command, "INPUT_ROOT": str(root), "INPUT_PORTAL_URL": "",
               "INPUT_OUTPUT": str(output), "INPUT_OK_EXIT_CODES": ok, "GITHUB_OUTPUT": str(gh_out)}
        proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=120,
                              check=False)
        pairs = dict(line.split("=", 1) for line in gh_out.read_text(encoding="utf-8").splitlines())
        return proc.returncode, pairs, output

    code, outputs, output = action("inventory list --json")
    assert code == 0 and outputs["exit-code"] == "0"
    assert json.loads(output.read_text(encoding="utf-8"))["data"]["datasets"][0]["id"] == "pothole-repairs"
    # Quoted arguments stay one argument; a finding (exit 1) fails the step unless allowed.
    (root / "data" / "samples" / "pothole-repairs.csv").write_text("request_id\nx\n", encoding="utf-8")
    code, outputs, _ = action("validate --max-errors '5'")
    assert code == 1 and outputs["exit-code"] == "1"
    code, outputs, _ = action("validate --max-errors '5'", ok="0 1")
    assert code == 0 and outputs["exit-code"] == "1"
