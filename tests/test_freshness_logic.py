"""Freshness logic over a ``fetch_view`` callable: periods, grace, statuses (the portal-free half)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transparency_helpers import good_dataset, make_program

from kcdata.errors import NotFoundError, PortalError
from kcdata.inventory import load_inventory
from kcdata.policy.freshness import FreshStatus, check_freshness
from kcdata.policy.periodicity import humanize, parse_duration, parse_periodicity

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("R/P1D", dt.timedelta(days=1)), ("R/P1W", dt.timedelta(weeks=1)), ("R/PT1H", dt.timedelta(hours=1)),
    ("R/P3.5D", dt.timedelta(days=3.5)), ("R/P1Y", dt.timedelta(days=365.2425)),
    ("R/P1M", dt.timedelta(days=365.2425 / 12)), ("R/P0.5M", dt.timedelta(days=365.2425 / 24)),
    ("R/P2W", dt.timedelta(weeks=2)), ("R/PT1S", dt.timedelta(seconds=1)), ("P1D", dt.timedelta(days=1)),
    ("R/P1DT12H", dt.timedelta(days=1.5)), ("irregular", None), ("Irregular", None),
])
def test_parse_periodicity(text: str, expected: dt.timedelta | None) -> None:
    assert parse_periodicity(text) == expected


@pytest.mark.parametrize("bad", ["daily", "R/", "P", "PT", "R/P1X", "R/PT", "1D", "R/P0D"])
def test_bad_periodicity(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_periodicity(bad)


@given(st.integers(1, 10_000), st.sampled_from([("D", 86400), ("W", 604800), ("H", 3600), ("S", 1)]))
def test_parse_duration_property(n: int, unit: tuple[str, int]) -> None:
    letter, seconds = unit
    text = f"PT{n}{letter}" if letter in "HS" else f"P{n}{letter}"
    assert parse_duration(text).total_seconds() == n * seconds


def test_humanize() -> None:
    assert humanize(dt.timedelta(days=3, hours=4, minutes=5)) == "3d 4h"
    assert humanize(dt.timedelta(hours=5, minutes=12)) == "5h 12m"
    assert humanize(dt.timedelta(seconds=40)) == "40s"


def _inventory(tmp_path: Path, datasets: list[dict[str, Any]]) -> Any:
    return load_inventory(make_program(tmp_path / "p", {"water": datasets})).inventory


DAILY = good_dataset(id="daily", portal_id="dddd-1111", accrual_periodicity="R/P1D")
WEEKLY = good_dataset(id="weekly", portal_id="wwww-2222", accrual_periodicity="R/P1W")
IRREGULAR = good_dataset(id="irregular", portal_id="iiii-3333", accrual_periodicity="irregular")
GONE = good_dataset(id="gone", portal_id="gggg-4444")
EMPTY = good_dataset(id="empty", portal_id="eeee-5555")
DRAFT = good_dataset(id="draft", status="approved", portal_id=None)


def _views(updated: dt.datetime) -> dict[str, dict[str, Any]]:
    ts = int(updated.timestamp())
    return {"dddd-1111": {"id": "dddd-1111", "rowsUpdatedAt": ts},
            "wwww-2222": {"id": "wwww-2222", "rowsUpdatedAt": ts},
            "iiii-3333": {"id": "iiii-3333", "rowsUpdatedAt": ts - 10**8}, "eeee-5555": {"id": "eeee-5555"}}


def test_statuses_and_lateness(tmp_path: Path) -> None:
    inv = _inventory(tmp_path, [DAILY, WEEKLY, IRREGULAR, GONE, EMPTY, DRAFT])
    views = _views(T0)
    now = T0 + dt.timedelta(days=3)  # daily is due at T0 + 1d + 6h (25% grace): 1d 18h late
    report = check_freshness(inventory=inv, fetch_view=by_portal_id(views), now=now, grace=0.25)
    by_id = {e.id: e for e in report.datasets}
    assert set(by_id) == {"daily", "weekly", "irregular", "gone", "empty"}  # unpublished draft not checked
    assert by_id["daily"].status is FreshStatus.OVERDUE
    assert by_id["daily"].due_at == T0 + dt.timedelta(days=1, hours=6)
    assert by_id["daily"].late_seconds == dt.timedelta(days=1, hours=18).total_seconds()
    assert by_id["daily"].late_by == "1d 18h"
    assert by_id["weekly"].status is FreshStatus.FRESH and by_id["weekly"].late_seconds is None
    assert by_id["irregular"].status is FreshStatus.IRREGULAR
    assert by_id["gone"].status is FreshStatus.MISSING
    assert by_id["empty"].status is FreshStatus.NEVER_UPDATED
    assert [e.id for e in report.overdue] == ["daily"]
    assert report.datasets[0].id == "daily"  # most urgent first
    assert report.has_findings


def test_fixed_grace_and_boundary(tmp_path: Path) -> None:
    inv = _inventory(tmp_path, [DAILY])
    views = _views(T0)
    due = T0 + dt.timedelta(days=1, hours=12)
    on_time = check_freshness(inventory=inv, fetch_view=by_portal_id(views), now=due, grace=dt.timedelta(hours=12))
    assert on_time.datasets[0].status is FreshStatus.FRESH and not on_time.has_findings
    late = check_freshness(inventory=inv, fetch_view=by_portal_id(views), now=due + dt.timedelta(seconds=1),
                           grace=dt.timedelta(hours=12))
    assert late.datasets[0].status is FreshStatus.OVERDUE and late.datasets[0].late_seconds == 1


@given(hours_after=st.floats(0, 24 * 30), grace=st.floats(0, 2))
def test_overdue_iff_past_period_plus_grace(hours_after: float, grace: float) -> None:
    from kcdata.inventory.model import AccessLevel, Contact, Dataset, Inventory, Status

    ds = Dataset(id="w", title="t", description="d", contact=Contact(name="c"), access_level=AccessLevel.PUBLIC,
                 status=Status.PUBLISHED, department="water", portal_id="wwww-2222", accrual_periodicity="R/P1W")
    inv = Inventory(root=Path("."), departments=(), datasets=(ds,))
    now = T0 + dt.timedelta(hours=hours_after)
    entry = check_freshness(inventory=inv, fetch_view=by_portal_id(_views(T0)), now=now, grace=grace).datasets[0]
    limit = dt.timedelta(weeks=1) * (1 + grace)
    assert (entry.status is FreshStatus.OVERDUE) is (now - T0 > limit)


def test_portal_error_propagates(tmp_path: Path) -> None:
    inv = _inventory(tmp_path, [DAILY])

    def unreachable(_dataset) -> None:
        raise PortalError("cannot reach http://127.0.0.1:9")

    with pytest.raises(PortalError):
        check_freshness(inventory=inv, fetch_view=unreachable, now=T0)


def test_only_some_datasets_and_unknown_id(tmp_path: Path) -> None:
    inv = _inventory(tmp_path, [DAILY, WEEKLY])
    report = check_freshness(inventory=inv, fetch_view=by_portal_id(_views(T0)), now=T0, only=["weekly"])
    assert [e.id for e in report.datasets] == ["weekly"]
    with pytest.raises(NotFoundError):
        check_freshness(inventory=inv, fetch_view=by_portal_id(_views(T0)), now=T0, only=["weekyl"])


def test_naive_now_is_utc(tmp_path: Path) -> None:
    inv = _inventory(tmp_path, [DAILY])
    report = check_freshness(inventory=inv, fetch_view=by_portal_id(_views(T0)), now=dt.datetime(2026, 11, 1, 13, 0))
    assert report.checked_at.tzinfo is not None and report.datasets[0].status is FreshStatus.FRESH


def test_cli_without_portal_url_exit_3(tmp_path: Path, cli: Any) -> None:
    root = make_program(tmp_path / "p", {"water": [DAILY]})
    res = cli(["--root", str(root), "freshness", "--json"], env={"KCDATA_PORTAL_URL": ""})
    assert res.exit_code == 3
    assert "KCDATA_PORTAL_URL" in res.json()["errors"][0]["message"]


def by_portal_id(views):
    """A ``fetch_view`` over recorded portal ids (the production portal's identity)."""
    return lambda ds: views.get(ds.portal_id)
