"""Property test (issue 16): arbitrary query strings and bodies at every endpoint of the local portal.

Never a 500, never an answer later than the query budget allows, and the server answers a normal
request afterwards. One server of its own on 127.0.0.1; the number of requests is bounded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import PORTAL_PASSWORD, PORTAL_USERNAME, PortalHandle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcdata.portal import PortalServer
from kcdata.portal.netserver import Limits

BUDGET = 1.0  # the server's query budget in this test (seconds)


@pytest.fixture(scope="module")
def fuzz_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PortalHandle, str, str]]:
    server = PortalServer(data_dir=tmp_path_factory.mktemp("fuzz"), username=PORTAL_USERNAME,
                          password=PORTAL_PASSWORD, limits=Limits(query_timeout=BUDGET)).start()
    handle = PortalHandle(url=server.url, domain=server.domain, username=PORTAL_USERNAME, password=PORTAL_PASSWORD,
                          server=server)
    client = handle.client()
    view = client.create("Fuzz", row_identifier="k", columns=[
        {"fieldName": "k", "name": "K", "dataTypeName": "text"},
        {"fieldName": "n", "name": "N", "dataTypeName": "number"},
        {"fieldName": "d", "name": "D", "dataTypeName": "calendar_date"},
        {"fieldName": "f", "name": "F", "dataTypeName": "date"},
        {"fieldName": "b", "name": "B", "dataTypeName": "checkbox"},
        {"fieldName": "p", "name": "P", "dataTypeName": "point"},
        {"fieldName": "u", "name": "U", "dataTypeName": "url"}])
    client.upsert(view["id"], [{"k": f"k{i}", "n": i / 7, "d": f"2024-01-{i % 28 + 1:02d}", "b": i % 2 == 0,
                                "f": "2024-01-01T00:00:00Z", "p": {"type": "Point", "coordinates": [-94.5, 39.1]},
                                "u": "https://example.com"} for i in range(50)])
    client.set_permission(view["id"], "public")
    import io

    blob = client.create_non_data_file({"name": "f"}, {"file": ("f.txt", io.BytesIO(b"file"))})
    try:
        yield handle, view["id"], blob["id"]
    finally:
        server.stop()


PARAM_KEYS = ["$select", "$where", "$order", "$group", "$having", "$limit", "$offset", "$q", "$query",
              "$$exclude_system_fields", "k", "n", "method", "value", "ids", "limit", "offset", "order", "q",
              "categories", "only", "public", "nbe", "filename", "$bogus"]
SOQL_BITS = ["k", "n", "d", "f", "b", "p", "u", ":id", ":version", "*", "count(*)", "sum(n)", "avg(n)", "(", ")",
             ",", "'x'", '"y"', "1e999999", "1e-5", "0.1", "²", "٣", "=", "<", "AND", "OR", "NOT", "IS NULL",
             "::text", "::number", "^", "--", "/*", "*/", "case(", "coalesce(", "within_polygon(", "date_trunc_ym(",
             "distinct", "NULLS FIRST", "SELECT", "WHERE", "LIMIT", "ORDER BY", "GROUP BY", "%", "||", "`k`"]

soql_text = st.one_of(st.text(max_size=60), st.sampled_from(SOQL_BITS),
                      st.lists(st.sampled_from(SOQL_BITS), max_size=12).map(" ".join))
params = st.lists(st.tuples(st.one_of(st.sampled_from(PARAM_KEYS), st.text(max_size=10)), soql_text), max_size=5)
bodies = st.one_of(st.binary(max_size=300), st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),
                   st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                                | st.text(max_size=20) | st.sampled_from(["1e999999", "NaN", "²"]),
                                lambda inner: st.lists(inner, max_size=4)
                                | st.dictionaries(st.sampled_from(["k", "n", "d", "b", "p", "u", ":id", ":deleted",
                                                                   "name", "columns", "x"]), inner, max_size=4),
                                max_leaves=12).map(lambda v: json.dumps(v).encode()))


def _paths(view: str, blob_view: str) -> list[str]:
    return [f"/resource/{view}.json", f"/resource/{view}.csv", f"/resource/{view}.geojson", f"/resource/{view}.xml",
            f"/resource/{view}/k1.json", f"/resource/{view}/row-2222~2222~2222.json", f"/resource/{view}",
            "/resource/nope-nope.json", "/api/views.json", f"/api/views/{view}.json", f"/api/views/{view}",
            f"/api/views/{view}/publication.json", f"/api/views/{blob_view}.txt", f"/api/views/{view}/files/x",
            "/api/catalog/v1", "/api/imports2/", "/api/assets/x", "/", "/resource/", "/api/views/%00.json"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data(), query=params, body=bodies, authed=st.booleans(),
       method=st.sampled_from(["GET", "GET", "GET", "POST", "PUT", "PATCH", "OPTIONS", "DELETE"]),
       content_type=st.sampled_from([None, "text/csv", "application/json", "multipart/form-data; boundary=x",
                                     "text/plain"]))
def test_no_request_is_a_500_or_a_hang(fuzz_portal: tuple[PortalHandle, str, str], data: Any,
                                       query: list[tuple[str, str]], body: bytes, authed: bool, method: str,
                                       content_type: str | None) -> None:
    handle, view, blob_view = fuzz_portal
    path = data.draw(st.sampled_from(_paths(view, blob_view)))
    if method == "DELETE" and path.startswith("/api/views/"):
        authed = False  # keep the dataset for the next examples (an anonymous delete is a 403)
    headers = {"Content-Type": content_type} if content_type else {}
    start = time.monotonic()
    r = requests.request(method, handle.url + path, params=query, data=body if method != "GET" else None,
                         headers=headers, auth=(PORTAL_USERNAME, PORTAL_PASSWORD) if authed else None, timeout=30)
    took = time.monotonic() - start
    assert r.status_code != 500 and r.status_code < 600, (method, path, query, r.text[:300])
    assert took < BUDGET + 5, (method, path, query, took)
    if r.status_code >= 400 and r.content:
        assert isinstance(r.json(), dict) and isinstance(r.json()["message"], str)


def test_the_portal_still_answers_after_the_fuzzing(fuzz_portal: tuple[PortalHandle, str, str]) -> None:
    handle, view, _blob = fuzz_portal
    auth = (PORTAL_USERNAME, PORTAL_PASSWORD)  # the fuzzing may have made the dataset private again
    r = requests.get(f"{handle.url}/api/catalog/v1", auth=auth, timeout=10)
    assert r.status_code == 200 and r.json()["resultSetSize"] >= 1
    r = requests.get(f"{handle.url}/resource/{view}.json", params={"$limit": "1"}, auth=auth, timeout=10)
    assert r.status_code == 200


def test_fuzz_fixture_paths_exist(tmp_path: Path) -> None:
    assert len(_paths("a", "b")) == len(set(_paths("a", "b")))


# -- the same idea in-process, many more examples: parse + compile + run never fails unexpectedly -------
SOQL_ATOMS = [*SOQL_BITS, "n + 1", "n * n", "k || 'x'", "sum(n)", "min(d)", "max(k)", "count(distinct k)",
                          "least(n, 1)", "greatest(k, 'a')", "round(n, 1)", "abs(n)", "ln(n)", "length(k)",
                          "upper(k)", "unaccent(k)", "caseless_eq(k, 'A')", "date_extract_woy(d)",
                          "date_trunc_ymd(f, 'UTC')", "distance_in_meters(p, 'POINT (1 2)')", "n::text",
                          "'5'::number", "case(b, 1, true, 2)", "coalesce(n, 0)", "n between 1 and 2",
                          "k in ('a', 'b')", "k like 'a%'", "within_circle(p, 39, -94, 100)", ":version",
                          "AS", "x", "DESC", "ASC", "NULLS", "LAST", "IN", "BETWEEN", "LIKE", "IS", "NULL",
                          "true", "false", "1", "-1", "2.5", "+", "-", "/", "%"]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(clauses=st.lists(st.tuples(st.sampled_from(["$select", "$where", "$order", "$group", "$having", "$q",
                                                   "$query", "$limit", "$offset"]),
                                  st.lists(st.sampled_from(SOQL_ATOMS), max_size=10).map(" ".join)),
                        max_size=4))
def test_any_token_soup_compiles_runs_or_is_a_soql_error(soup_store: Any, clauses: list[tuple[str, str]]) -> None:
    from kcdata.portal import resource
    from kcdata.portal.soql import SoqlError
    from kcdata.portal.soqlsql import compile_query
    from kcdata.portal.store import StoreError, fields_of, table_name

    store = soup_store
    view = store.views()[0]
    ctx = resource.Context(portal=None, method="GET", params=clauses, headers={}, body=b"",  # type: ignore[arg-type]
                           authed=True)
    fields = fields_of(view)
    try:
        query, filters, system = resource._query(ctx, fields)
        compiled = compile_query(query, table=table_name(view["id"]), fields=fields, system=system, filters=filters)
        store.query(compiled, view["id"])
    except (SoqlError, StoreError):
        pass


@pytest.fixture(scope="module")
def soup_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from kcdata.portal import views
    from kcdata.portal.store import Store

    store = Store(tmp_path_factory.mktemp("soup"))
    columns = [{"fieldName": n, "name": n, "dataTypeName": t} for n, t in
               (("k", "text"), ("n", "number"), ("d", "calendar_date"), ("f", "date"), ("b", "checkbox"),
                ("p", "point"), ("u", "url"))]
    view = store.create_view(lambda vid, nxt: views.build_view({"name": "soup", "columns": columns}, vid, nxt,
                                                               nbe=False))
    store.write_rows(view, [{"k": "a", "n": "1.5", "d": "2024-01-02", "f": "2024-01-01T00:00:00Z", "b": True,
                             "p": "POINT (-94 39)", "u": "https://x"}, {"k": "B"}, {}])
    try:
        yield store
    finally:
        store.close()
