"""kcdata as a city installs it: a wheel built from the source tree, in a fresh venv, used outside the repository.

Also the packaging metadata a city (and its security review) relies on: the licence file inside the wheel,
a PEP 639 licence expression, ``py.typed`` for the typed library API, and ``kcdata --version`` naming the
libraries a bug report needs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import REPO

# Not part of a source distribution's build: local environments, caches and generated output.
_ANYWHERE = shutil.ignore_patterns(".venv", ".git", "*.egg-info", ".*_cache", ".hypothesis", ".kcdata", "__pycache__",
                                   ".data")
_TOP_LEVEL = {"build", "dist", "site"}  # only at the top: the package itself has kcdata/site


def IGNORE(directory: str, names: list[str]) -> set[str]:
    ignored = set(_ANYWHERE(directory, names))
    if Path(directory).resolve() == REPO.resolve():
        ignored |= _TOP_LEVEL & set(names)
    return ignored


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: int = 600) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert out.returncode in (0, 1), f"{args} exited {out.returncode}:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


def test_pyproject_metadata_for_adopters() -> None:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["license"] == "MIT" and meta["license-files"] == ["LICENSE"]
    assert "MIT License" in (REPO / "LICENSE").read_text(encoding="utf-8")
    assert {"Homepage", "Repository", "Issues", "Changelog", "Documentation"} <= set(meta["urls"])
    assert "Typing :: Typed" in meta["classifiers"] and meta["keywords"]
    assert (REPO / "kcdata" / "py.typed").is_file()
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in changelog and f"## [{meta['version']}]" in changelog


def test_version_names_the_libraries_for_bug_reports(cli) -> None:
    out = cli(["--version"]).stdout
    first, *rest = out.splitlines()
    assert first.startswith("kcdata ")
    names = {line.split()[0] for line in rest}
    assert {"Python", "frictionless", "sodapy", "pyarrow"} <= names


def test_pre_commit_hooks_and_action_are_well_formed() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert set(hooks) == {"kcdata-inventory-lint", "kcdata-validate"}
    assert hooks["kcdata-validate"]["entry"] == "kcdata validate --changed-files"
    assert hooks["kcdata-validate"]["pass_filenames"] is True
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    assert {"command", "root", "portal-url"} <= set(action["inputs"])
    # Secrets never travel as inputs: only through the environment.
    assert not any("password" in name or "token" in name for name in action["inputs"])


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_runs_outside_the_repository(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=IGNORE)
    dist = tmp_path / "dist"
    # sdist first, then the wheel from it: proves the sdist carries everything the wheel needs.
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(src)], cwd=tmp_path)
    (wheel,) = dist.glob("kcdata-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "kcdata/py.typed" in names and "kcdata/inventory/templates/workflow-kcdata.yaml" in names
    assert "License-Expression: MIT" in metadata

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          str(wheel)], cwd=tmp_path, timeout=900)
    kcdata = str(venv / "bin" / "kcdata")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCDATA_")}
    env["PYTHONPATH"] = ""  # nothing from the source tree: only the installed wheel
    version = _run([kcdata, "--version"], cwd=work, env=env).stdout
    assert "frictionless" in version and "sodapy" in version
    _run([kcdata, "init", "springfield", "--city", "Springfield, IL"], cwd=work, env=env)
    program = work / "springfield"
    assert ".kcdata/" in (program / ".gitignore").read_text(encoding="utf-8")
    lint = _run([kcdata, "--root", "springfield", "inventory", "lint", "--json"], cwd=work, env=env)
    assert json.loads(lint.stdout)["exit_code"] == 0
    check = _run([kcdata, "--root", "springfield", "validate", "--json"], cwd=work, env=env)
    report = json.loads(check.stdout)
    assert report["exit_code"] == 0 and report["data"]["valid"] and len(report["data"]["datasets"]) == 1
    # The installed package is the wheel's, not the source tree's.
    where = _run([str(venv / "bin" / "python"), "-c", "import kcdata; print(kcdata.__file__)"], cwd=work, env=env)
    assert str(venv) in where.stdout
