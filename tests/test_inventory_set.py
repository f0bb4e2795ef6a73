"""``kcdata inventory set | unset | edit``: field changes through the byte-preserving writer."""

from __future__ import annotations

import sys

import pexpect
import pytest
import yaml

from kcdata.inventory.lint import lint_inventory
from tests.conftest import subprocess_env
from tests.inventory_helpers import make_inventory


def run(cli, root, *args):  # type: ignore[no-untyped-def]
    return cli(["--root", str(root), *args])


def entry_of(root, ds="water-main-breaks"):  # type: ignore[no-untyped-def]
    return next(d for d in yaml.safe_load((root / "inventory/water.yaml").read_text())["datasets"] if d["id"] == ds)


def test_set_changes_only_those_bytes(cli, tmp_path):  # type: ignore[no-untyped-def]
    root = make_inventory(tmp_path)
    before = (root / "inventory/water.yaml").read_text()
    r = run(cli, root, "inventory", "set", "water-main-breaks", "theme=Water", "accrual_periodicity=weekly",
            "license=CC-BY", "keywords=water, pipes", "contact.email=pipes@example.org", "requests=3", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["data"]["file"] == "inventory/water.yaml"
    after = (root / "inventory/water.yaml").read_text()
    e = entry_of(root)
    assert e["theme"] == "Water" and e["accrual_periodicity"] == "R/P1W" and e["requests"] == 3
    assert e["license"] == "https://creativecommons.org/licenses/by/4.0/" and e["keywords"] == ["water", "pipes"]
    assert e["contact"] == {"name": "KC Water Asset Management", "email": "pipes@example.org"}
    assert "# KC Water inventory" in after and "# stable city-wide id" in after  # comments kept
    changed = [a for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 6
    assert lint_inventory(root=root).problems == ()


def test_unset_removes_lines(cli, tmp_path):  # type: ignore[no-untyped-def]
    root = make_inventory(tmp_path)
    r = run(cli, root, "inventory", "unset", "water-main-breaks", "target_release", "methodology")
    assert r.exit_code == 0, r.stderr
    e = entry_of(root)
    assert "target_release" not in e and "methodology" not in e and e["source_system"] == "Maximo work orders"
    assert lint_inventory(root=root).problems == ()


@pytest.mark.parametrize("args, code, needle", [
    (["set", "water-main-breaks", "status=published"], 3, "kcdata review"),
    (["set", "water-main-breaks", "history=[]"], 3, "kcdata review"),
    (["unset", "water-main-breaks", "status"], 3, "kcdata review"),
    (["set", "water-main-breaks", "id=other"], 3, "ids never change"),
    (["set", "water-main-breaks", "licence=x"], 3, "did you mean 'license'"),
    (["set", "water-main-breaks", "license=https://example.org/mine"], 3, "license"),
    (["unset", "water-main-breaks", "title"], 3, "missing required field 'title'"),
    (["set", "water-main-breaks", "value=huge"], 2, "'huge' is not one of"),
    (["set", "water-main-breaks", "theme"], 2, "not key=value"),
    (["set", "water-main-breaks", "theme="], 2, "inventory unset"),
    (["set", "water-main-brakes", "theme=x"], 3, "did you mean"),
])
def test_refused_changes_write_nothing(cli, tmp_path, args, code, needle):  # type: ignore[no-untyped-def]
    root = make_inventory(tmp_path)
    before = (root / "inventory/water.yaml").read_bytes()
    r = run(cli, root, "inventory", *args)
    assert r.exit_code == code, r.stderr
    assert needle in " ".join(r.stderr.split())
    assert (root / "inventory/water.yaml").read_bytes() == before


def test_edit_needs_a_terminal(cli, tmp_path):  # type: ignore[no-untyped-def]
    root = make_inventory(tmp_path)
    r = run(cli, root, "inventory", "edit", "water-main-breaks")
    assert r.exit_code == 2 and "inventory set" in r.stderr


def test_edit_on_a_terminal(tmp_path):  # type: ignore[no-untyped-def]
    root = make_inventory(tmp_path)
    child = pexpect.spawn(sys.executable, ["-m", "kcdata", "--root", str(root), "--no-color", "inventory", "edit",
                                           "water-main-breaks"],
                          env=subprocess_env(NO_COLOR="1", COLUMNS="200"), encoding="utf-8", timeout=20,
                          dimensions=(50, 200))
    try:
        child.expect(r"Title \[Water Main Breaks\]: ")
        child.sendline("")  # kept
        answers = {r"Theme \(portal category\) \[Infrastructure\]: ": "Water",
                   r"Update frequency .* \[R/P1D\]: ": "weekly",
                   r"Public value .*\[high\]: ": "huge",
                   r"Methodology \[Exported nightly.\]: ": "-"}
        # a prompt starts a line with a capital letter (an error line starts with spaces)
        patterns = [*answers, r"written: inventory/water.yaml", r"(?<=\n)[A-Z][^\n]*: "]
        retried = False
        while True:
            i = child.expect(patterns)
            if i < len(answers):
                key = list(answers)[i]
                if answers[key] == "huge" and retried:
                    child.sendline("low")
                    continue
                retried = retried or answers[key] == "huge"
                child.sendline(answers[key])
            elif patterns[i] == r"written: inventory/water.yaml":
                break
            else:
                child.sendline("")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    e = entry_of(root)
    assert e["theme"] == "Water" and e["accrual_periodicity"] == "R/P1W" and e["value"] == "low"
    assert "methodology" not in e and e["title"] == "Water Main Breaks" and e["status"] == "approved"
    assert lint_inventory(root=root).problems == ()
