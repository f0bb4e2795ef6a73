"""Reads through sodapy: row encodings and SoQL results compared with real recorded Socrata responses."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from test_portal_sodapy import FIXTURES, fixture


def _raw_get(portal: Any, ds: str, **params: Any) -> requests.Response:
    response = requests.get(f"{portal.url}/resource/{ds}.json", params=params, timeout=30,
                            auth=(portal.username, portal.password))
    response.raise_for_status()
    return response


def _dataset(client: Any, columns: list[dict[str, Any]], rows: list[dict[str, Any]], **kw: Any) -> str:
    view = client.create("Fixture copy", columns=columns, **kw)
    report = client.upsert(view["id"], rows)
    assert report["Errors"] == 0, report
    return str(view["id"])


def test_all_types_row_reads_back_exactly_as_real_socrata_encodes_it(portal: Any) -> None:
    real_view = fixture("soda-demo_2asz-g9qq_views.json")
    real_row = fixture("soda-demo_2asz-g9qq_rows.json")[0]
    supported = [c for c in real_view["columns"] if c["dataTypeName"] not in ("photo", "document")
                 and not c["fieldName"].startswith(":")]
    columns = [{k: c[k] for k in ("fieldName", "name", "dataTypeName", "format")} for c in supported]
    row = {c["fieldName"]: real_row[c["fieldName"]] for c in supported if c["fieldName"] in real_row}
    client = portal.client()
    ds = _dataset(client, columns, [row])
    assert client.get(ds) == [row]
    assert list(client.get(ds)[0]) == list(row)  # key order = column order, as recorded
    types = json.loads(_raw_get(portal, ds).headers["X-SODA2-Types"])
    # X-SODA2-Types recorded for this dataset (fixtures README), minus photo/document/computed region
    assert types == ["text", "text", "number", "number", "number", "floating_timestamp", "fixed_timestamp",
                     "location", "url", "text", "boolean", "text", "number", "text", "text"]


@pytest.mark.parametrize(("name", "types"), [
    ("soda-demo_w8wm-g3qx_rows.json", {"text": "text", "checkbox": "checkbox"}),
    ("soda-demo_7caz-dk9s_rows.json", {"url_with_description": "url", "url_without_description": "url"}),
    ("chicago_zidz-sdfj_rows.json", {"district_name": "text", "designation_date": "date"}),
])
def test_recorded_rows_round_trip(portal: Any, name: str, types: dict[str, str]) -> None:
    rows = fixture(name)
    client = portal.client()
    ds = _dataset(client, [{"fieldName": f, "name": f, "dataTypeName": t} for f, t in types.items()], rows)
    assert client.get(ds) == rows


def test_nyc_rows_keep_decimal_text_and_milliseconds(portal: Any) -> None:
    rows = fixture("nyc_uczf-rk3c_resource_first50.json")
    columns = [{"fieldName": "countid", "dataTypeName": "number"}, {"fieldName": "id", "dataTypeName": "number"},
               {"fieldName": "date", "dataTypeName": "calendar_date"},
               {"fieldName": "counts", "dataTypeName": "number"}, {"fieldName": "status", "dataTypeName": "number"}]
    client = portal.client()
    ds = _dataset(client, columns, rows)
    assert client.get(ds) == rows
    response = _raw_get(portal, ds)
    assert json.loads(response.headers["X-SODA2-Fields"]) == ["countid", "id", "date", "counts", "status"]
    assert json.loads(response.headers["X-SODA2-Types"]) == ["number", "number", "floating_timestamp", "number",
                                                             "number"]


QUAKE_COLUMNS = [{"fieldName": f, "dataTypeName": t} for f, t in [
    ("source", "text"), ("earthquake_id", "text"), ("version", "text"), ("magnitude", "number"),
    ("depth", "number"), ("number_of_stations", "number"), ("region", "text"), ("location", "location")]]


@pytest.fixture(scope="module")
def quakes(portal: Any) -> str:
    """Rows consistent with the three recorded 4tka-6guv query responses (built from them)."""
    deep = fixture("soda-demo_4tka-6guv_query-where-depth-gt-635.json")[0]
    counts = {row["magnitude"]: int(row["count"]) for row in fixture("soda-demo_4tka-6guv_query-group-having.json")}
    counts.update({"2.5": 120, "3.1": 400, "0.5": 7})
    rows: list[dict[str, Any]] = []
    sources = ["ak", "ci", "nc", "us"]
    for magnitude, count in counts.items():
        for _ in range(count):
            n = len(rows)
            rows.append({"source": sources[n % 4], "earthquake_id": f"q{n:05d}", "version": str(n % 3),
                         "magnitude": magnitude, "depth": f"{(n * 7.31) % 635:.2f}",
                         "number_of_stations": None if n % 5 else n % 40, "region": f"Region {n % 17}"})
    rows.append(dict(deep))
    client = portal.client()
    return _dataset(client, QUAKE_COLUMNS, rows, row_identifier="earthquake_id")


def test_where_depth_matches_recording(portal: Any, quakes: str) -> None:
    client = portal.client()
    expected = fixture("soda-demo_4tka-6guv_query-where-depth-gt-635.json")
    got = client.get(quakes, select="*", where="depth > 635", limit=10000)
    assert got == expected and list(got[0]) == list(expected[0])
    fields = json.loads(_raw_get(portal, quakes, **{"$where": "depth > 635"}).headers["X-SODA2-Fields"])
    assert fields == [c["fieldName"] for c in QUAKE_COLUMNS]  # all selected fields, even null ones


def test_select_order_limit_matches_recording(portal: Any, quakes: str) -> None:
    client = portal.client()
    assert client.get(quakes, select="source", order="source", limit=10) == \
        fixture("soda-demo_4tka-6guv_query-select-order-limit10.json")


def test_group_having_matches_recording(portal: Any, quakes: str) -> None:
    client = portal.client()
    params = {"select": "magnitude, count(*) as count", "group": "magnitude", "order": "count", "limit": 10000,
              "$having": "count > 400"}
    assert client.get(quakes, **params) == fixture("soda-demo_4tka-6guv_query-group-having.json")
    response = _raw_get(portal, quakes, **{"$select": "magnitude, count(*) as count", "$group": "magnitude",
                                           "$having": "count > 400", "$order": "count"})
    assert json.loads(response.headers["X-SODA2-Types"]) == ["number", "number"]
    assert json.loads(response.headers["X-SODA2-Fields"]) == ["magnitude", "count"]


def test_aggregates_and_functions(portal: Any, quakes: str) -> None:
    client = portal.client()
    [row] = client.get(quakes, select="count(*), count(number_of_stations) as n, min(depth), max(magnitude), "
                                      "sum(magnitude) as s, avg(magnitude) as a")
    all_rows = list(client.get_all(quakes))
    assert row["count"] == str(len(all_rows))
    assert row["n"] == str(sum(1 for r in all_rows if "number_of_stations" in r))
    assert row["min_depth"] == min((r["depth"] for r in all_rows), key=float)
    assert row["max_magnitude"] == "4.7"
    total = sum(float(r["magnitude"]) for r in all_rows)
    assert float(row["s"]) == pytest.approx(total) and float(row["a"]) == pytest.approx(total / len(all_rows))
    got = client.get(quakes, select="upper(region) as r", where="starts_with(region, 'Region 1') AND "
                     "lower(source) IN ('ak', 'us') AND depth BETWEEN 10 AND 20", order="r DESC")
    expected = sorted((r["region"].upper() for r in all_rows if r["region"].startswith("Region 1")
                       and r["source"] in ("ak", "us") and 10 <= float(r["depth"]) <= 20), reverse=True)
    assert [g["r"] for g in got] == expected and expected
    nulls = client.get(quakes, where="number_of_stations IS NULL", select="count(*)")[0]["count"]
    assert int(nulls) == sum(1 for r in all_rows if "number_of_stations" not in r)
    like = client.get(quakes, where="region LIKE '%ion 3' AND NOT (source = 'ak' OR source = 'ci')",
                      select="earthquake_id")
    assert len(like) == sum(1 for r in all_rows if r["region"] == "Region 3" and r["source"] in ("nc", "us"))
    # simple column=value filters and $q
    assert {r["source"] for r in client.get(quakes, source="nc", limit=5)} == {"nc"}
    assert client.get(quakes, q="fiji ndoi") == [fixture("soda-demo_4tka-6guv_query-where-depth-gt-635.json")[0]]
    # full $query
    got = client.get(quakes, query="SELECT source, count(*) AS c GROUP BY source ORDER BY source LIMIT 2")
    assert [g["source"] for g in got] == ["ak", "ci"]


def test_get_all_over_2500_rows_with_and_without_limit(portal: Any) -> None:
    client = portal.client()
    view = client.create("Paging", columns=[{"fieldName": "n", "dataTypeName": "number"}], row_identifier="n")
    client.upsert(view["id"], [{"n": i} for i in range(2500)])
    assert len(client.get(view["id"])) == 1000  # default $limit is exactly 1000
    for kwargs in ({}, {"limit": 700}, {"limit": 1000}):
        rows = list(client.get_all(view["id"], **kwargs))
        assert [int(r["n"]) for r in rows] == list(range(2500)), kwargs


@pytest.mark.parametrize(("params", "code"), [
    ({"where": "nope = 1"}, "query.soql.no-such-column"),
    ({"select": "nope"}, "query.soql.no-such-column"),
    ({"order": "nope"}, "query.soql.no-such-column"),
    ({"nope": "1"}, "query.soql.no-such-column"),
    ({"where": "depth > "}, "query.soql.unexpected-eof"),
    ({"where": "depth >> 3"}, "query.soql.bad-parse"),
    ({"where": "region = 'open"}, "query.soql.unterminated-string"),
    ({"where": "frobnicate(depth)"}, "query.soql.no-such-function"),
    ({"where": "region > 3"}, "query.soql.type-mismatch"),
    ({"select": "region, count(*)"}, "query.soql.column-not-in-group-bys"),
    ({"limit": "-1"}, "query.soql.bad-parse"),
])
def test_bad_soql_is_400_with_a_code(portal: Any, quakes: str, params: dict[str, str], code: str) -> None:
    with pytest.raises(requests.HTTPError) as err:
        portal.client().get(quakes, **params)
    assert err.value.response.status_code == 400
    body = err.value.response.json()
    assert body["code"] == code and body["errorCode"] == code and body["error"] is True
    assert str(err.value).startswith("400 Client Error: Bad Request.\n\t")


def test_fixture_folder_is_present() -> None:
    assert (FIXTURES / "README.md").exists()


def test_json_fast_path_equals_the_python_encoding(portal: Any) -> None:
    from kcdata.portal import soql as soql_mod
    from kcdata.portal.resource import _rows_json
    from kcdata.portal.soqlsql import compile_query
    from kcdata.portal.store import fields_of, table_name

    real_view = fixture("soda-demo_2asz-g9qq_views.json")
    real_row = fixture("soda-demo_2asz-g9qq_rows.json")[0]
    columns = [{k: c[k] for k in ("fieldName", "name", "dataTypeName")} for c in real_view["columns"]
               if c["dataTypeName"] not in ("photo", "document") and not c["fieldName"].startswith(":")]
    rows = [{c["fieldName"]: real_row[c["fieldName"]] for c in columns}, {"plain_text_column": 'q"\\\n\u00e9'},
            {"checkbox_column": False, "number_column": "-0.5"}]
    client = portal.client()
    ds = _dataset(client, columns, rows)
    store = portal.server.store
    view = store.view(ds)
    compiled = compile_query(soql_mod.Query(), table=table_name(ds), fields=fields_of(view), system=True)
    assert compiled.json_sql is not None
    fast = [json.loads(text) for text in store.query_json(compiled)]
    assert fast == _rows_json(compiled, store.query(compiled, ds))
    assert [list(r) for r in fast] == [list(r) for r in _rows_json(compiled, store.query(compiled, ds))]
    assert fast[0][":id"].startswith("row-") and fast[2]["checkbox_column"] is False


def test_kansas_city_311_queries(portal: Any) -> None:
    """The SoQL public client code runs against data.kcmo.org's 311 dataset (contract §5)."""
    columns = [{"fieldName": f, "dataTypeName": t} for f, t in [
        ("reported_issue", "text"), ("current_status", "text"), ("issue_type", "text"),
        ("open_date_time", "calendar_date"), ("days_to_close", "number"), ("lat_long", "point")]]
    statuses = ["active", "Assigned", "closed", "Closed", "resolved", "new"]
    issues = ["Graffiti", "A Pothole", "Animal Services", "A Pothole", "Dangerous Buildings"]
    rows = [{"reported_issue": f"2025{i:06d}", "current_status": statuses[i % 6], "issue_type": issues[i % 5],
             "open_date_time": f"{2024 + i % 2}-0{1 + i % 9}-1{i % 10}T0{i % 10}:15:00", "days_to_close": i % 40,
             "lat_long": {"type": "Point", "coordinates": [-94.5786 + i / 1e4, 39.0997]}} for i in range(300)]
    client = portal.client()
    ds = _dataset(client, columns, rows, row_identifier="reported_issue")
    by_type = client.get(ds, select="issue_type, count(*) as count", group="issue_type", order="count DESC")
    assert by_type[0] == {"issue_type": "A Pothole", "count": "120"} and len(by_type) == 4
    done = client.get(ds, where="lower(current_status) in ('resolved','closed')", select="count(*)")
    assert done == [{"count": str(sum(1 for r in rows if r["current_status"].lower() in ("resolved", "closed")))}]
    recent = client.get(ds, where="open_date_time >= '2025-01-01T00:00:00'", select="count(*) as n")
    assert recent == [{"n": "150"}]
    monthly = client.get(ds, select="date_trunc_ym(open_date_time) as month, avg(days_to_close) as avg_days",
                         group="date_trunc_ym(open_date_time)", order="month", limit=3)
    assert monthly[0]["month"] == "2024-01-01T00:00:00.000" and float(monthly[0]["avg_days"]) >= 0
    newest = client.get(ds, select=":id, :updated_at, reported_issue", order=":id DESC", limit=1)
    assert newest[0]["reported_issue"] == "2025000299" and newest[0][":id"].startswith("row-")
    assert client.get(ds, where=f":id = '{newest[0][':id']}'", select="reported_issue") == \
        [{"reported_issue": "2025000299"}]
    assert len(client.get(ds, where=":updated_at > '2020-01-01'")) == 300


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    import math

    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def test_within_circle_and_within_box_as_kansas_city_clients_query_them(portal: Any) -> None:
    """`within_circle(lat_long, 39.0997, -94.5786, 1500)` is a real query of KC 311 client code
    (contract §5); within_box takes the north-west then the south-east corner."""
    columns = [{"fieldName": "case_id", "dataTypeName": "text"}, {"fieldName": "lat_long", "dataTypeName": "point"},
               {"fieldName": "loc", "dataTypeName": "location"}]
    rows: list[dict[str, Any]] = []
    for i in range(400):  # a grid ~4.5 km across around City Hall, and rows without a location
        lat, lon = 39.0797 + (i // 20) * 0.002, -94.6036 + (i % 20) * 0.0025
        rows.append({"case_id": f"c{i}", "lat_long": {"type": "Point", "coordinates": [lon, lat]},
                     "loc": {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"}})
    rows += [{"case_id": "no-location"}]
    client = portal.client()
    ds = _dataset(client, columns, rows, row_identifier="case_id")
    near = {r["case_id"] for r in rows if "lat_long" in r and _haversine_m(
        r["lat_long"]["coordinates"][1], r["lat_long"]["coordinates"][0], 39.0997, -94.5786) <= 1500}
    assert 20 < len(near) < 400
    for column in ("lat_long", "loc"):
        got = client.get(ds, where=f"within_circle({column}, 39.0997, -94.5786, 1500)", select="case_id",
                         limit=1000)
        assert {r["case_id"] for r in got} == near, column
    box = {r["case_id"] for r in rows if "lat_long" in r and 39.09 <= r["lat_long"]["coordinates"][1] <= 39.11
           and -94.59 <= r["lat_long"]["coordinates"][0] <= -94.57}
    got = client.get(ds, where="within_box(lat_long, 39.11, -94.59, 39.09, -94.57) AND case_id != 'c0'",
                     select="case_id", limit=1000)
    assert {r["case_id"] for r in got} == box - {"c0"} and box
    assert client.get(ds, where="NOT within_circle(lat_long, 39.0997, -94.5786, 1500)", select="count(*) as n") \
        == [{"n": str(400 - len(near))}]  # a row without a location is neither inside nor outside
    for bad in ("within_circle(case_id, 39.1, -94.5, 10)", "within_circle(lat_long, 39.1, -94.5)",
                "within_box(lat_long, 'north', -94.5, 39, -94)"):
        with pytest.raises(requests.exceptions.HTTPError) as err:
            client.get(ds, where=bad)
        assert err.value.response.status_code == 400, bad
