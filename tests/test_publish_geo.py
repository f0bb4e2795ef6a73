"""Geometry columns (geojson + geometryType) through the type map, the local portal and a real publish."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kcdata.portal.types import CATALOG_TYPES, SODA2_TYPES, ValueProblem, csv_text, encoder
from kcdata.publish.typemap import EncodeError, canonical, column_encoder, table_mapping
from kcdata.publish.typemap import encoder as cell_encoder
from tests.conftest import run_cli
from tests.publish_helpers import make_program, portal_env, unique_id, write_csv

SOCRATA = {"Point": "point", "LineString": "line", "Polygon": "polygon", "MultiPoint": "multipoint",
           "MultiLineString": "multiline", "MultiPolygon": "multipolygon"}


def square(x: float, size: float = 0.01) -> str:
    return f"POLYGON (({x} 39, {x + size} 39, {x + size} 39.01, {x} 39.01, {x} 39))"


@pytest.mark.parametrize("gtype", list(SOCRATA))
def test_type_map(gtype: str) -> None:
    mapping = table_mapping({"fields": [{"name": "id", "type": "integer"},
                                        {"name": "the_geom", "type": "geojson", "geometryType": gtype}]},
                            row_identifier="id", where="t")
    col = mapping.column("the_geom")
    assert col.data_type == SOCRATA[gtype] and col.to_view_column()["dataTypeName"] == SOCRATA[gtype]
    assert SOCRATA[gtype] in SODA2_TYPES and SOCRATA[gtype] in CATALOG_TYPES


def test_plain_geojson_stays_text() -> None:
    mapping = table_mapping({"fields": [{"name": "id", "type": "integer"}, {"name": "g", "type": "geojson"}]},
                            row_identifier="id", where="t")
    assert mapping.column("g").data_type == "text"


def _polygon_column() -> Any:
    return table_mapping({"fields": [{"name": "id", "type": "integer"},
                                     {"name": "g", "type": "geojson", "geometryType": "Polygon"}]},
                         row_identifier="id", where="t").column("g")


def test_cells_are_sent_as_geojson_and_compared_canonically() -> None:
    col = _polygon_column()
    enc = cell_encoder(col)
    sent = enc("POLYGON ((0 0, 1 0, 1 1, 0 0))")
    assert sent == {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}
    assert enc('{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}') == sent
    assert enc("") is None
    assert column_encoder(col)(["POLYGON ((0 0, 1 0, 1 1, 0 0))", ""]) == [sent, None]
    with pytest.raises(EncodeError):
        enc("not a polygon")
    # the portal's answer (a GeoJSON object) and our text compare equal; a moved vertex does not
    returned = json.loads(encoder("polygon")(sent))
    assert canonical("polygon", returned) == canonical("polygon", sent)
    moved = enc("POLYGON ((0 0, 1 0, 1 1.5, 0 0))")
    assert canonical("polygon", moved) != canonical("polygon", sent)


def test_portal_geometry_types() -> None:
    poly = encoder("polygon")
    stored = poly("POLYGON ((0 0, 1 0, 1 1, 0 0))")
    assert stored == poly({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})
    assert stored == poly('{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}')
    assert csv_text("polygon", stored) == "POLYGON ((0.0 0.0, 1.0 0.0, 1.0 1.0, 0.0 0.0))"
    assert json.loads(encoder("line")("LINESTRING (0 0, 1 1)"))["type"] == "LineString"
    assert json.loads(encoder("multipoint")("MULTIPOINT (0 0, 1 1)"))["type"] == "MultiPoint"
    assert json.loads(encoder("multiline")("MULTILINESTRING ((0 0, 1 1))"))["type"] == "MultiLineString"
    assert json.loads(encoder("multipolygon")("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))"))["type"] == "MultiPolygon"
    for bad in ("POINT (1 2)", "nonsense", 5, {"type": "Polygon"}):
        with pytest.raises(ValueProblem):
            poly(bad)


FIELDS = [{"name": "break_id", "type": "integer", "description": "District number."},
          {"name": "boundary", "type": "geojson", "geometryType": "Polygon", "description": "Its boundary."},
          {"name": "route", "type": "geojson", "geometryType": "LineString", "description": "A route."},
          {"name": "name", "type": "string", "description": "Its name."}]


def _rows(n: int) -> list[list[str]]:
    return [[str(i), square(-94.6 + i * 0.02), f"LINESTRING (-94.{i} 39.1, -94.{i} 39.2)", f"District {i}"]
            for i in range(1, n + 1)]


def test_publish_polygons_and_lines(tmp_path: Path, portal: Any) -> None:
    ds = unique_id("districts")
    root = make_program(tmp_path / "prog", {ds: {"fields": FIELDS, "rows": _rows(6)}}, portal_domain=portal.domain)

    def publish(*args: str) -> Any:
        return run_cli(["--root", str(root), "publish", *args], env=portal_env(portal))

    res = publish("apply", ds, "--yes", "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    pid = res.json()["data"]["datasets"][0]["portal_id"]
    view = portal.client().get_metadata(pid)
    cols = {c["fieldName"]: c["dataTypeName"] for c in view["columns"]}
    assert cols["boundary"] == "polygon" and cols["route"] == "line"
    got = {r["break_id"]: r for r in portal.client().get_all(pid)}
    assert got["1"]["boundary"] == {"type": "Polygon", "coordinates": [
        [[-94.58, 39.0], [-94.57, 39.0], [-94.57, 39.01], [-94.58, 39.01], [-94.58, 39.0]]]}
    assert got["2"]["route"] == {"type": "LineString", "coordinates": [[-94.2, 39.1], [-94.2, 39.2]]}
    assert publish("plan", ds).exit_code == 0  # nothing changed

    # one polygon moved: one row update, from the manifest and from the portal's rows alike
    edited = _rows(6)
    edited[2][1] = square(-90.0)
    write_csv(root / "data" / f"{ds}.csv", edited, [f["name"] for f in FIELDS])
    item = publish("plan", ds, "--json").json()["data"]["datasets"][0]
    assert item["rows"] == {"create": 0, "update": 1, "delete": 0} and item["state_from"] == "manifest"
    from kcdata.publish.client import connect
    from kcdata.publish.rows.manifest import pointer

    client = connect(url=portal.url, username=portal.username, password=portal.password, app_token=None)
    client.update_metadata(pid, fields={}, metadata={"kcdata": {**pointer(client.get_view(pid)), "state": "writing"}})
    item = publish("plan", ds, "--json").json()["data"]["datasets"][0]
    assert item["state_from"] == "portal-rows"
    assert item["rows"] == {"create": 0, "update": 1, "delete": 0}
    assert publish("apply", ds, "--yes").exit_code == 0
    assert portal.client().get(pid, where="break_id = 3")[0]["boundary"]["coordinates"][0][0] == [-90.0, 39.0]
    assert publish("plan", ds).exit_code == 0

    # the portal serves them as GeoJSON features and as WKT in CSV
    import urllib.request

    with urllib.request.urlopen(f"{portal.url}/resource/{pid}.geojson?$order=break_id") as resp:
        fc = json.load(resp)
    assert fc["features"][0]["geometry"]["type"] == "Polygon"
    assert fc["features"][0]["properties"]["route"]["type"] == "LineString"
    with urllib.request.urlopen(f"{portal.url}/resource/{pid}.csv?$order=break_id") as resp:
        text = resp.read().decode()
    assert "POLYGON ((-94.58 39.0," in text and "LINESTRING (-94.1 39.1, -94.1 39.2)" in text


def test_publish_a_feature_collection(tmp_path: Path, portal: Any) -> None:
    ds = unique_id("parcels")
    root = make_program(tmp_path / "prog", {ds: {"fields": FIELDS, "rows": _rows(1)}}, portal_domain=portal.domain)
    from kcdata import geometry

    def collection(rows: list[list[str]]) -> str:
        return json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": geometry.parse(r[1]),
             "properties": {"break_id": int(r[0]), "route": r[2], "name": r[3]}} for r in rows]})

    (root / "data" / f"{ds}.csv").unlink()
    data = root / "data" / f"{ds}.geojson"
    data.write_text(collection(_rows(4)))
    inv = root / "inventory" / "water.yaml"
    inv.write_text(inv.read_text().replace(f"data/{ds}.csv", f"data/{ds}.geojson"))

    def publish(*args: str) -> Any:
        return run_cli(["--root", str(root), "publish", *args], env=portal_env(portal))

    val = run_cli(["--root", str(root), "validate", ds, "--json"])
    assert val.exit_code == 0, val.stdout
    res = publish("apply", ds, "--yes", "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    pid = res.json()["data"]["datasets"][0]["portal_id"]
    got = {r["break_id"]: r for r in portal.client().get_all(pid)}
    assert len(got) == 4 and got["4"]["boundary"]["type"] == "Polygon" and got["4"]["name"] == "District 4"
    assert publish("plan", ds).exit_code == 0
    edited = _rows(4)
    edited[1][1] = square(-91.0)
    data.write_text(collection(edited))
    item = publish("plan", ds, "--json").json()["data"]["datasets"][0]
    assert item["rows"] == {"create": 0, "update": 1, "delete": 0}
    # an invalid feature blocks the publish with the validation's row numbers (first feature = row 2)
    edited[2][1] = "POINT (-94 39)"
    data.write_text(collection(edited))
    val = run_cli(["--root", str(root), "validate", ds, "--json"])
    assert val.exit_code == 1
    errors = val.json()["data"]["datasets"][0]["errors"]
    assert [(e["code"], e["row"], e["field"]) for e in errors] == [("type-error", 4, "boundary")]
    assert publish("plan", ds).exit_code == 5
