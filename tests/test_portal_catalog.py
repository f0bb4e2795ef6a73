"""Catalog (``datasets()``) with exact counts, and fault injection for the publisher's retry tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import PORTAL_PASSWORD, PORTAL_USERNAME, PortalHandle
from test_portal_sodapy import fixture, new_dataset

from kcdata.portal import FaultPlan, PortalServer

TOTAL = 150


@pytest.fixture(scope="module")
def catalog_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalHandle]:
    """A portal of its own holding exactly 150 datasets (the session portal's count varies)."""
    server = PortalServer(data_dir=tmp_path_factory.mktemp("catalog"), username=PORTAL_USERNAME,
                          password=PORTAL_PASSWORD).start()
    handle = PortalHandle(url=server.url, domain=server.domain, username=PORTAL_USERNAME,
                          password=PORTAL_PASSWORD, server=server)
    client = handle.client()
    for i in range(TOTAL):
        category = "Public Safety" if i % 3 == 0 else "Infrastructure"
        view = client.create(f"Dataset {i:03d}", description=f"number {i}", category=category,
                             tags=["kc", f"t{i % 5}"], columns=[{"fieldName": "a", "dataTypeName": "text"}])
        if i % 2 == 0:
            client.publish(view["id"])
            client.set_permission(view["id"], "public")
    try:
        yield handle
    finally:
        server.stop()


def test_datasets_without_limit_returns_every_dataset(catalog_portal: PortalHandle) -> None:
    results = catalog_portal.client().datasets()
    assert len(results) == TOTAL
    assert len({r["resource"]["id"] for r in results}) == TOTAL


@pytest.mark.parametrize("limit", [1, 99, 100, 149])
def test_datasets_with_limit_below_total(catalog_portal: PortalHandle, limit: int) -> None:
    assert len(catalog_portal.client().datasets(limit=limit)) == limit


@pytest.mark.parametrize("limit", [150, 151, 1000])
def test_datasets_with_limit_at_or_above_total(catalog_portal: PortalHandle, limit: int) -> None:
    assert len(catalog_portal.client().datasets(limit=limit)) == TOTAL


def test_result_set_size_is_exact_and_pages_cover_everything(catalog_portal: PortalHandle) -> None:
    seen = []
    offset = 0
    while True:
        page = requests.get(f"{catalog_portal.url}/api/catalog/v1", timeout=10,
                            params={"domains": catalog_portal.domain, "limit": 40, "offset": offset},
                            auth=(catalog_portal.username, catalog_portal.password)).json()
        assert page["resultSetSize"] == TOTAL
        if not page["results"]:
            break
        seen += [r["resource"]["id"] for r in page["results"]]
        offset += len(page["results"])
    assert len(seen) == len(set(seen)) == TOTAL


def test_anonymous_catalog_shows_only_public_datasets(catalog_portal: PortalHandle) -> None:
    anon = catalog_portal.client(auth=False)
    results = anon.datasets()
    assert len(results) == TOTAL // 2


def test_catalog_filters_and_entry_shape(catalog_portal: PortalHandle) -> None:
    client = catalog_portal.client()
    safety = client.datasets(categories=["Public Safety"])
    assert len(safety) == 50
    assert {r["classification"]["domain_category"] for r in safety} == {"Public Safety"}
    assert len(client.datasets(tags=["t1"])) == 30
    assert [r["resource"]["name"] for r in client.datasets(q="number 7")] == ["Dataset 007"]
    first = client.datasets(limit=3, order="name DESC")
    assert [r["resource"]["name"] for r in first] == ["Dataset 149", "Dataset 148", "Dataset 147"]
    some = [r["resource"]["id"] for r in first]
    assert {r["resource"]["id"] for r in client.datasets(ids=some)} == set(some)
    real = fixture("nyc_catalog_v1_limit7.json")["results"][0]
    mine = first[0]
    assert set(real) <= set(mine), set(real) - set(mine)
    assert set(real["resource"]) <= set(mine["resource"]), set(real["resource"]) - set(mine["resource"])
    assert set(real["classification"]) <= set(mine["classification"])
    assert mine["resource"]["columns_datatype"] == ["Text"]


# --- fault injection ---------------------------------------------------------------------------------
@pytest.fixture
def faulty(portal: Any) -> Iterator[Any]:
    yield portal
    portal.server.faults = None


def test_fault_500_fails_every_nth_write_and_applies_nothing(faulty: Any) -> None:
    client = faulty.client()
    ds = new_dataset(client)
    faulty.server.faults = FaultPlan(every_nth=2, kind="500")
    client.upsert(ds, [{"earthquake_id": "f1"}])
    with pytest.raises(requests.HTTPError) as err:
        client.upsert(ds, [{"earthquake_id": "f2"}])
    assert err.value.response.status_code == 500
    assert err.value.response.json()["code"] == "internal-error"
    assert "500 Server Error" in str(err.value)
    client.get(ds)  # reads are not counted with only_writes
    client.upsert(ds, [{"earthquake_id": "f3"}])
    faulty.server.faults = None
    assert [r["earthquake_id"] for r in client.get(ds)] == ["f1", "f3"]


def test_fault_429_carries_retry_after(faulty: Any) -> None:
    client = faulty.client()
    ds = new_dataset(client)
    faulty.server.faults = FaultPlan(every_nth=1, kind="429")
    with pytest.raises(requests.HTTPError) as err:
        client.upsert(ds, [{"earthquake_id": "r1"}])
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    assert err.value.response.json()["code"] == "too-many-requests"
    faulty.server.faults = None
    assert client.get(ds) == []


def test_fault_drop_closes_the_connection_without_a_response(faulty: Any) -> None:
    client = faulty.client()
    ds = new_dataset(client)
    faulty.server.faults = FaultPlan(every_nth=1, kind="drop", only_writes=False)
    with pytest.raises(requests.ConnectionError):
        client.upsert(ds, [{"earthquake_id": "d1"}])
    with pytest.raises(requests.ConnectionError):
        client.get(ds)
    faulty.server.faults = None
    assert client.get(ds) == []


def test_setting_a_plan_restarts_the_count_and_faulty_resets_it(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    portal.server.faults = FaultPlan(every_nth=3, kind="500")
    client.upsert(ds, [{"earthquake_id": "c1"}])  # request 1 of the first plan
    with portal.faulty(FaultPlan(every_nth=2, kind="429")):
        client.upsert(ds, [{"earthquake_id": "c2"}])  # request 1 of the new plan: passes
        with pytest.raises(requests.HTTPError, match="429"):
            client.upsert(ds, [{"earthquake_id": "c3"}])
    assert portal.server.faults is None
    assert [r["earthquake_id"] for r in client.get(ds)] == ["c1", "c2"]


def test_fault_plan_validates() -> None:
    with pytest.raises(ValueError):
        FaultPlan(every_nth=0, kind="500")
    with pytest.raises(ValueError):
        FaultPlan(every_nth=1, kind="teapot")  # type: ignore[arg-type]


def test_portal_server_needs_credentials(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PortalServer(data_dir=tmp_path, username="", password="x")
