"""``kcdata inventory import --from-portal``: the local portal over HTTP, and recorded real catalog
responses replayed by a tiny HTTP server in this test (paged, as the Discovery API pages)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import FIXTURES

from kcdata.inventory.importmap import ImportMap
from kcdata.inventory.lint import lint_inventory
from kcdata.inventory.portal_import import portal_catalog
from kcdata.inventory.socrata_schema import TABLE_TYPES, table_type
from kcdata.publish.typemap import SOCRATA_TYPES
from tests.conftest import run_cli
from tests.publish_helpers import make_program, portal_env

SOCRATA = FIXTURES / "socrata"


# -- the type map is the inverse of publish's ---------------------------------------------------------

@pytest.mark.parametrize("frictionless_type", sorted(SOCRATA_TYPES))
def test_socrata_type_round_trip_from_table_schema(frictionless_type):
    socrata = SOCRATA_TYPES[frictionless_type]
    # a schema read back from the portal publishes to the same Socrata column type
    assert SOCRATA_TYPES[table_type(socrata)] == socrata


@pytest.mark.parametrize("socrata", sorted(set(SOCRATA_TYPES.values())))
def test_every_publish_type_reads_back(socrata):
    assert socrata in TABLE_TYPES
    assert SOCRATA_TYPES[TABLE_TYPES[socrata]] == socrata


def test_display_names_from_the_catalog_read_like_type_names():
    assert table_type("Calendar date") == table_type("calendar_date") == "datetime"
    assert table_type("Checkbox") == "boolean" and table_type("Number") == "number"
    assert table_type("something new") == "string"


# -- a replay server for recorded responses -------------------------------------------------------------

class Replay(BaseHTTPRequestHandler):
    routes: dict[str, Any] = {}
    catalog: list[dict[str, Any]] = []
    page_cap = 3
    fail_views = False
    requests: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        type(self).requests.append(self.path)
        if parts.path == "/api/catalog/v1":
            q = parse_qs(parts.query)
            limit = min(int(q.get("limit", ["100"])[0]), self.page_cap)  # servers cap a page
            offset = int(q.get("offset", ["0"])[0])
            body = {"results": self.catalog[offset:offset + limit], "resultSetSize": len(self.catalog),
                    "timings": {}, "warnings": []}
            return self._send(200, body)
        if self.fail_views and parts.path.startswith("/api/views/"):
            return self._send(500, {"error": True, "message": "internal error"})
        if parts.path in self.routes:
            return self._send(200, self.routes[parts.path])
        return self._send(404, {"error": True, "message": "not found"})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextlib.contextmanager
def replay(catalog: list[dict[str, Any]], routes: dict[str, Any] | None = None, *,
           fail_views: bool = False) -> Iterator[tuple[str, type[Replay]]]:
    handler = type("R", (Replay,), {"catalog": catalog, "routes": routes or {}, "fail_views": fail_views,
                                    "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def recorded(name: str) -> Any:
    return json.loads((SOCRATA / name).read_text(encoding="utf-8"))


def empty_program(root: Path) -> Path:
    (root / "inventory").mkdir(parents=True)
    return root


MAP_DEFAULTS = """\
defaults:
  license: https://creativecommons.org/publicdomain/zero/1.0/
  accrual_periodicity: irregular
  description: No description on the portal yet.
departments: {"Department of Transportation (DOT)": transportation}
"""


def test_recorded_nyc_catalog_is_read_page_by_page(tmp_path):
    catalog = recorded("nyc_catalog_v1_limit7.json")["results"]
    views = {"/api/views/uczf-rk3c.json": recorded("nyc_uczf-rk3c_views.json")}
    bike = {"resource": {"id": "uczf-rk3c", "name": "Bicycle Counts"}, "classification": {}, "metadata": {}}
    with replay([*catalog, bike], views) as (url, handler):
        result = portal_catalog(url=url, root=empty_program(tmp_path / "p"), mapping=ImportMap(), page_size=100)
    pages = [r for r in handler.requests if r.startswith("/api/catalog/v1")]
    assert len(pages) == 3 and "only=dataset" in pages[0] and "domains=127.0.0.1" in pages[0]
    assert "offset=3" in pages[1] and "offset=6" in pages[2]
    assert len(result.records) == 8
    # the view's columns, row identifier and custom fields
    bikes = {str(r.extra["portal_id"]): r for r in result.records}["uczf-rk3c"]
    assert bikes.extra["row_identifier"] == "countid" and bikes.extra["status"] == "published"
    assert bikes.cells["accrual_periodicity"].value == "R/P1D"
    assert bikes.cells["department"].value == "Department of Transportation (DOT)"
    schema = result.schemas["bicycle-counts"]
    assert [(f["name"], f["type"]) for f in schema["fields"]] == [
        ("countid", "number"), ("id", "number"), ("date", "datetime"), ("counts", "number"), ("status", "number")]
    assert schema["primaryKey"] == "countid"
    # a catalog-only entry (no view): the schema comes from the catalog's columns
    fhv = result.schemas["for-hire-vehicles-fhv-active"]
    assert fhv["fields"][0] == {"name": "dmv_license_plate_number", "type": "string",
                                "title": "DMV License Plate Number", "description": "DMV License Plate Number"}


def test_recorded_catalog_imports_what_it_can_and_refuses_the_rest_with_reasons(tmp_path):
    root = empty_program(tmp_path / "p")
    mapfile = tmp_path / "map.yaml"
    mapfile.write_text(MAP_DEFAULTS)
    catalog = recorded("socratadata_catalog_v1-086e69.json")["results"]
    views = {"/api/views/uczf-rk3c.json": recorded("nyc_uczf-rk3c_views.json")}
    bike = {"resource": {"id": "uczf-rk3c", "name": "Bicycle Counts"}, "classification": {}, "metadata": {}}
    with replay([*catalog, bike], views) as (url, _):
        r = run_cli(["--root", str(root), "inventory", "import", "--from-portal", url, "--map", str(mapfile),
                     "--json"])
    assert r.exit_code == 1, r.stdout + r.stderr  # catalog-only entries have no row identifier
    data = r.json()["data"]
    recs = {x["id"]: x for x in data["records"]}
    assert len(recs) == 11
    assert recs["bicycle-counts"]["action"] == "add" and recs["bicycle-counts"]["department"] == "transportation"
    kcata = recs["kcata-bus-stops"]
    assert kcata["action"] == "refused"
    assert {p["field"] for p in kcata["problems"]} == {"row_identifier"}
    assert data["schemas_written"] == ["schemas/bicycle-counts.schema.json"]
    assert lint_inventory(root=root).errors == 0
    text = (root / "inventory" / "transportation.yaml").read_text()
    assert "portal_id: uczf-rk3c" in text and "status: published" in text
    assert "name: Department of Transportation (DOT)" in text


def test_portal_500_exits_4_and_writes_nothing(tmp_path):
    root = empty_program(tmp_path / "p")
    catalog = recorded("nyc_catalog_v1_limit7.json")["results"]
    with replay(catalog, fail_views=True) as (url, _):
        r = run_cli(["--root", str(root), "inventory", "import", "--from-portal", url, "--json"])
    assert r.exit_code == 4 and "HTTP 500" in r.json()["errors"][0]["message"]
    assert list((root / "inventory").iterdir()) == []
    assert not (root / "schemas").exists()


def test_not_a_url_exits_3(tmp_path):
    root = empty_program(tmp_path / "p")
    r = run_cli(["--root", str(root), "inventory", "import", "--from-portal", "data.kcmo.org"])
    assert r.exit_code == 3


# -- the local portal: publish, then import into a new program ---------------------------------------------

@pytest.mark.slow
def test_local_portal_round_trip(tmp_path, own_portal):
    src = make_program(tmp_path / "src", {"water-main-breaks": {"n": 12}, "water-quality-tests": {"n": 5}},
                       portal_domain=own_portal.domain)
    env = portal_env(own_portal)
    r = run_cli(["--root", str(src), "publish", "apply", "--yes"], env=env)
    assert r.exit_code == 0, r.stdout + r.stderr
    dest = empty_program(tmp_path / "dest")
    (dest / "kcdata.yaml").write_text((src / "kcdata.yaml").read_text())
    dry = run_cli(["--root", str(dest), "inventory", "import", "--from-portal", own_portal.url, "--dry-run",
                   "--json"], env=env)
    assert dry.exit_code == 0, dry.stdout + dry.stderr
    assert list((dest / "inventory").iterdir()) == [] and not (dest / "schemas").exists()
    r = run_cli(["--root", str(dest), "inventory", "import", "--from-portal", own_portal.url, "--json"], env=env)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert r.json()["data"]["counts"]["add"] == 2
    from kcdata.inventory import load_inventory

    before = {d.id: d for d in load_inventory(src).inventory.datasets}
    after = {d.id: d for d in load_inventory(dest).inventory.datasets}
    assert set(after) == set(before)  # the inventory ids published in custom fields come back
    for ds_id, d in after.items():
        b = before[ds_id]
        assert (d.department, d.title, d.license, d.accrual_periodicity, d.keywords, d.theme) == \
               (b.department, b.title, b.license, b.accrual_periodicity, b.keywords, b.theme)
        assert d.status.value == "published" and d.portal_id and d.row_identifier == "break_id"
    # the schema read from the portal publishes back to the same column types
    from kcdata.publish.typemap import SOCRATA_TYPES as T

    orig = json.loads((src / "schemas" / "water-main-breaks.schema.json").read_text())
    back = json.loads((dest / "schemas" / "water-main-breaks.schema.json").read_text())
    assert [T[f["type"]] for f in back["fields"]] == [T[f["type"]] for f in orig["fields"]]
    assert [f["name"] for f in back["fields"]] == [f["name"] for f in orig["fields"]]
    assert lint_inventory(root=dest).errors == 0
    # a second import finds nothing new
    again = run_cli(["--root", str(dest), "inventory", "import", "--from-portal", own_portal.url, "--json"], env=env)
    assert again.exit_code == 0 and again.json()["data"]["counts"]["unchanged"] == 2


def test_catalog_500_exits_4(tmp_path):
    root = empty_program(tmp_path / "p")

    class Broken(Replay):
        def do_GET(self) -> None:
            self._send(500, {"error": True})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        r = run_cli(["--root", str(root), "inventory", "import", "--from-portal", url, "--dry-run", "--json"])
    finally:
        server.shutdown()
        server.server_close()
    assert r.exit_code == 4 and "/api/catalog/v1" in r.json()["errors"][0]["message"]
