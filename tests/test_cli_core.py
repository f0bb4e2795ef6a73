from __future__ import annotations

import json
import subprocess
import sys

from kcdata import __version__


def test_version(cli):
    r = cli(["--version"])
    assert r.exit_code == 0
    assert __version__ in r.stdout


def test_help_lists_commands(cli):
    r = cli(["--help"])
    assert r.exit_code == 0
    assert "inventory" in r.stdout


def test_unknown_command_is_usage_error(cli):
    r = cli(["no-such-command"])
    assert r.exit_code == 2
    assert "No such command" in r.stderr


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "kcdata", "--version"], capture_output=True, text=True, check=True)
    assert __version__ in out.stdout


def test_missing_inventory_folder_is_exit_3_with_json(cli, tmp_path):
    r = cli(["--root", str(tmp_path), "inventory", "list", "--json"])
    assert r.exit_code == 3
    env = json.loads(r.stdout)
    assert env["kcdata"] == 1 and env["exit_code"] == 3
    assert env["command"] == "inventory list"
    assert env["errors"][0]["code"] == "bad-input"
