"""``kcdata inventory add`` driven through a real pseudo-terminal, as a liaison would type."""

from __future__ import annotations

import sys

import pexpect
import yaml

from kcdata.inventory.lint import lint_inventory
from tests.conftest import subprocess_env
from tests.inventory_helpers import make_inventory


def test_interactive_add_prompts_defaults_choices_and_reasks(tmp_path):
    root = make_inventory(tmp_path)
    before = (root / "inventory/water.yaml").read_bytes()
    child = pexpect.spawn(sys.executable, ["-m", "kcdata", "--root", str(root), "--no-color", "inventory", "add"],
                          env=subprocess_env(NO_COLOR="1", COLUMNS="200"), encoding="utf-8", timeout=20,
                          dimensions=(50, 200))
    try:
        child.expect("departments: fire, water")
        child.sendline("water")  # Department id
        child.expect("Title: ")
        child.sendline("Water Quality Tests")
        child.expect(r"Id \(lowercase slug, never reused\) \[water-quality-tests\]: ")
        child.sendline("")  # accept the default derived from the title
        child.expect("Description: ")
        child.sendline("Lab results for lead and copper.")
        child.expect(r"Contact name \(a role or team\) \[Water Open Data Liaison\]: ")
        child.sendline("")  # the department liaison is the default
        child.expect(r"Contact email \[water-data@example.org\]: ")
        child.sendline("")
        child.expect(r"Access level \(public, restricted public, non-public\) \[public\]: ")
        child.sendline("opne")
        child.expect("'opne' is not one of: public, restricted public, non-public")
        child.expect(r"Access level \(public, restricted public, non-public\) \[public\]: ")  # asked again
        child.sendline("public")
        child.expect(r"Classification \(public, sensitive, protected\) \[public\]: ")
        child.sendline("")
        child.expect(r"Status \(inventoried, proposed\) \[inventoried\]: ")  # later states: kcdata review
        child.sendline("")
        child.expect(r"Contains personal information\? \[no\]: ")
        child.sendline("")
        child.expect(r"Keywords \(comma-separated\): ")
        child.sendline("water, lab")
        child.expect(r"Theme \(portal category\) \[in use: Infrastructure\]: ")
        child.sendline("infrastructure")  # any case: the theme in use is written
        child.expect(r"License \(URL, or cc0, cc-by, .*\) \[https://creativecommons.org/publicdomain/zero/1.0/\]: ")
        child.sendline("CC-BY")  # a word form: its URL is written
        child.expect(r"Update frequency .*not known\): ")
        child.sendline("fortnightly")
        child.expect("not an ISO 8601 repeating duration")
        child.expect(r"Update frequency .*not known\): ")
        child.sendline("Weekly")  # a word form: R/P1W is written
        for label in ("Source system", "Methodology"):
            child.expect(label + ": ")
            child.sendline("")
        child.expect(r"Data file \(path or URL\): ")
        child.sendline("data/samples/no-such-file.csv")  # only the whole-entry check can see it is missing
        for label in ("Table Schema path", r"Row identifier \(schema field\)"):
            child.expect(label + ": ")
            child.sendline("")
        child.expect(r"KCStat goal ids \(comma-separated\) \[known: infrastructure-accessibility, public-safety\]: ")
        child.sendline("infrastructure")
        child.expect("did you mean 'infrastructure-accessibility'")
        child.expect("KCStat goal ids")
        child.sendline("infrastructure-accessibility")
        child.expect(r"Public value \(Enter: not judged yet\) \(high, medium, low\): ")
        child.sendline("High")
        child.expect(r"Requests in the last 12 months \(Enter: not known\): ")
        child.sendline("7")
        child.expect(r"Target release date \(YYYY-MM-DD\): ")
        child.sendline("2027-02-30")
        child.expect("is not a date")
        child.expect("Target release date")
        child.sendline("2027-01-15")
        child.expect("data: file not found: data/samples/no-such-file.csv")
        child.expect(r"Data file \(path or URL\) \[data/samples/no-such-file.csv\]: ")  # asked again
        child.sendline("data/samples/water-main-breaks.csv")
        child.expect(r"Add this dataset to inventory/water.yaml\? \[Y/n\]: ")
        child.sendline("y")
        child.expect("added water-quality-tests to inventory/water.yaml")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    after = (root / "inventory/water.yaml").read_bytes()
    assert after.startswith(before.rstrip(b"\n"))
    entry = yaml.safe_load(after)["datasets"][-1]
    assert entry["id"] == "water-quality-tests" and entry["contact"]["name"] == "Water Open Data Liaison"
    assert entry["accrual_periodicity"] == "R/P1W" and entry["kcstat_goals"] == ["infrastructure-accessibility"]
    assert entry["requests"] == 7 and str(entry["target_release"]) == "2027-01-15" and entry["value"] == "high"
    assert entry["theme"] == "Infrastructure" and entry["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert entry["data"] == "data/samples/water-main-breaks.csv"
    assert lint_inventory(root=root).problems == ()


def test_interactive_add_declined_writes_nothing(tmp_path):
    root = make_inventory(tmp_path)
    before = (root / "inventory/fire.yaml").read_bytes()
    child = pexpect.spawn(sys.executable, ["-m", "kcdata", "--root", str(root), "--no-color", "inventory", "add",
                                           "-d", "fire", "--title", "Hydrant Inspections", "--description", "d",
                                           "--contact-name", "Fire", "--access-level", "public",
                                           "--status", "inventoried"],
                          env=subprocess_env(NO_COLOR="1"), encoding="utf-8", timeout=20, dimensions=(50, 200))
    try:
        child.expect(r"\[hydrant-inspections\]: ")
        child.sendline("")
        for _ in range(16):  # accept every remaining default
            i = child.expect([r"\]: ", r": ", r"\[Y/n\]: "])
            if i == 2:
                break
            child.sendline("")
        child.expect(r"\[Y/n\]: ")
        child.sendline("n")
        child.expect("nothing written")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert (root / "inventory/fire.yaml").read_bytes() == before


def test_interactive_add_asks_rights_when_withheld(tmp_path):
    root = make_inventory(tmp_path)
    child = pexpect.spawn(sys.executable, ["-m", "kcdata", "--root", str(root), "--no-color", "inventory", "add",
                                           "-d", "fire", "--title", "Arson Investigations", "--description", "d",
                                           "--contact-name", "Fire", "--contact-email", "fire@example.org",
                                           "--access-level", "non-public", "--classification", "protected",
                                           "--no-pii", "--status", "inventoried"],
                          env=subprocess_env(NO_COLOR="1"), encoding="utf-8", timeout=20, dimensions=(50, 200))
    try:
        child.expect(r"\[arson-investigations\]: ")
        child.sendline("")
        child.expect(r"Justification for restricting it \(rights\): ")
        child.sendline("")  # required here: asked again
        child.expect("is required here")
        child.expect(r"Justification for restricting it \(rights\): ")
        child.sendline("Open criminal investigations are closed records (RSMo 610.100).")
        while child.expect([r"\[Y/n\]: ", r": "]) == 1:
            child.sendline("")
        child.sendline("y")
        child.expect("added arson-investigations")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert lint_inventory(root=root).problems == ()


def test_interactive_add_enter_means_not_known(tmp_path):
    """Enter at value, update frequency and requests writes nothing (not a default worth score points)."""
    root = make_inventory(tmp_path)
    child = pexpect.spawn(sys.executable, ["-m", "kcdata", "--root", str(root), "--no-color", "inventory", "add",
                                           "-d", "fire", "--title", "Hydrant Inspections", "--description", "d",
                                           "--contact-name", "Fire", "--access-level", "public"],
                          env=subprocess_env(NO_COLOR="1"), encoding="utf-8", timeout=20, dimensions=(50, 200))
    try:
        while child.expect([r"\[Y/n\]: ", r": "]) == 1:
            child.sendline("")
        child.sendline("y")
        child.expect("added hydrant-inspections")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    entry = yaml.safe_load((root / "inventory/fire.yaml").read_text())["datasets"][-1]
    assert entry["id"] == "hydrant-inspections"
    assert "value" not in entry and "requests" not in entry and "accrual_periodicity" not in entry


def test_interactive_add_new_department_asks_for_its_liaison(tmp_path):
    root = make_inventory(tmp_path)
    child = pexpect.spawn(sys.executable, ["-m", "kcdata", "--root", str(root), "--no-color", "inventory", "add",
                                           "-d", "parks", "--title", "Trees", "--description", "d",
                                           "--contact-name", "Parks", "--access-level", "public"],
                          env=subprocess_env(NO_COLOR="1"), encoding="utf-8", timeout=20, dimensions=(50, 200))
    try:
        child.expect(r"Department name \[Parks\]: ")
        child.sendline("Parks and Recreation")
        child.expect(r"Liaison name \(a person or role\): ")
        child.sendline("Parks Data Liaison")
        child.expect(r"Liaison email: ")
        child.sendline("not-an-email")
        child.expect("is not an email address")
        child.expect(r"Liaison email: ")
        child.sendline("parks-data@example.org")
        while child.expect([r"\[Y/n\]: ", r": "]) == 1:
            child.sendline("")
        child.sendline("y")
        child.expect("added trees")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    doc = yaml.safe_load((root / "inventory/parks.yaml").read_text())
    assert doc["department"]["liaison"] == {"name": "Parks Data Liaison", "email": "parks-data@example.org"}
