"""Quoted and unquoted dates are alike (docs/inventory.md): lint accepts ``last_reviewed: "2026-09-04"``."""

from __future__ import annotations

import pytest

from kcdata.inventory import load_inventory
from kcdata.inventory.lint import lint_inventory
from tests.inventory_helpers import WATER, make_inventory


@pytest.mark.parametrize("quoted", ['"2026-12-15"', "'2026-12-15'"])
def test_quoted_target_release_lints_clean(tmp_path, quoted):
    text = WATER.replace("target_release: 2026-12-15", f"target_release: {quoted}", 1)
    assert text != WATER
    report = lint_inventory(root=make_inventory(tmp_path, {"water.yaml": text}))
    assert report.problems == ()


def test_quoted_last_reviewed_lints_clean_and_loads_as_a_date(tmp_path):
    text = WATER.replace("last_reviewed: 2026-11-02", 'last_reviewed: "2026-09-04"', 1)
    assert text != WATER
    root = make_inventory(tmp_path, {"water.yaml": text})
    report = lint_inventory(root=root)
    assert report.problems == (), [str(p) for p in report.problems]
    d = load_inventory(root).inventory.get("water-main-breaks")
    assert d.last_reviewed is not None and d.last_reviewed.isoformat() == "2026-09-04"


@pytest.mark.parametrize("bad", ['"2026-02-30"', '"2026-13-01"', '"26-09-04"', '"next week"'])
def test_quoted_impossible_date_is_still_bad_date(tmp_path, bad):
    text = WATER.replace("target_release: 2026-12-15", f"target_release: {bad}", 1)
    report = lint_inventory(root=make_inventory(tmp_path, {"water.yaml": text}))
    assert [p.code for p in report.problems] == ["bad-date"]
    assert report.problems[0].keypath == "datasets[0].target_release"
