"""``kcdata --help`` stays fast: no heavy library is imported to print it (asserted on modules, not time)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import subprocess_env

HEAVY = {"pandas", "pyarrow", "frictionless", "rich", "sodapy", "openpyxl", "jsonschema", "numpy", "jinja2"}


def imported_modules(*args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "kcdata", *args], capture_output=True,
                          text=True, env=subprocess_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "kcdata.cli" in names  # the measurement itself works
    return names


def test_help_imports_no_heavy_module():
    tops = {name.split(".")[0] for name in imported_modules("--help")}
    assert not tops & HEAVY, sorted(tops & HEAVY)


def test_inventory_help_imports_no_heavy_module():
    tops = {name.split(".")[0] for name in imported_modules("inventory", "--help")}
    assert not tops & HEAVY, sorted(tops & HEAVY)
