"""kcdata.geometry: GeoJSON/WKT reading, checks and canonical writing; shapely (a dev dependency) is the
independent oracle for WKT reading on random geometries."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcdata import geometry as g

coord = st.floats(min_value=-179.9, max_value=179.9, allow_nan=False).map(lambda v: round(v, 6))
lat = st.floats(min_value=-89.9, max_value=89.9, allow_nan=False).map(lambda v: round(v, 6))
pos = st.tuples(coord, lat).map(list)
line = st.lists(pos, min_size=2, max_size=6)
ring = st.lists(pos, min_size=3, max_size=6).map(lambda ps: [*ps, ps[0]])
polygon = st.lists(ring, min_size=1, max_size=3)
GEOMS = st.one_of(
    pos.map(lambda c: {"type": "Point", "coordinates": c}),
    line.map(lambda c: {"type": "LineString", "coordinates": c}),
    polygon.map(lambda c: {"type": "Polygon", "coordinates": c}),
    st.lists(pos, min_size=1, max_size=4).map(lambda c: {"type": "MultiPoint", "coordinates": c}),
    st.lists(line, min_size=1, max_size=3).map(lambda c: {"type": "MultiLineString", "coordinates": c}),
    st.lists(polygon, min_size=1, max_size=3).map(lambda c: {"type": "MultiPolygon", "coordinates": c}),
)


@settings(max_examples=150, deadline=None)
@given(GEOMS)
def test_geojson_and_wkt_round_trip(geom):
    parsed = g.parse(json.dumps(geom))
    assert parsed == json.loads(json.dumps(geom), parse_int=float)
    assert g.parse(g.to_wkt(parsed)) == parsed
    assert list(g.problems(parsed, geom["type"])) == []
    assert g.canonical_json(g.parse(g.to_wkt(parsed))) == g.canonical_json(parsed)


@settings(max_examples=150, deadline=None)
@given(GEOMS)
def test_wkt_agrees_with_shapely(geom):
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import mapping, shape

    wkt = shape(geom).wkt  # shapely writes the WKT; kcdata reads it back to the same GeoJSON
    ours = g.parse(wkt)
    theirs = json.loads(json.dumps(mapping(shapely.from_wkt(wkt))))
    assert ours["type"] == theirs["type"]
    assert json.dumps(ours["coordinates"]) == json.dumps(json.loads(json.dumps(theirs["coordinates"]),
                                                                    parse_int=float))


@settings(max_examples=100, deadline=None)
@given(st.lists(pos, min_size=4, max_size=6))
def test_ring_closure(ring_coords):
    closed = ring_coords[0] == ring_coords[-1]
    found = [c for c, _ in g.problems({"type": "Polygon", "coordinates": [ring_coords]}, "Polygon")]
    assert ("type-error" in found) == (not closed)


@pytest.mark.parametrize("text, gtype", [
    ("POINT (1 2)", "Point"), ("point(1 2)", "Point"), ("SRID=4326;POINT (1 2)", "Point"),
    ("LINESTRING (0 0, 1 1)", "LineString"), ("LINESTRING Z (0 0 1, 1 1 1)", "LineString"),
    ("POLYGON ((0 0, 1 0, 1 1, 0 0))", "Polygon"),
    ("MULTIPOINT ((1 2), (3 4))", "MultiPoint"), ("MULTIPOINT (1 2, 3 4)", "MultiPoint"),
    ("MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))", "MultiLineString"),
    ("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))", "MultiPolygon"),
    ('{"type": "Point", "coordinates": [1, 2]}', "Point"),
    ('{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {}}', "Point"),
])
def test_parse(text, gtype):
    assert g.parse(text)["type"] == gtype


@pytest.mark.parametrize("text", [
    "", "hello", "POINT (1)", "POINT (1 2 3 4)", "POINT EMPTY", "POLYGON ((0 0, 1 0)", "POINT (1 2) extra",
    "GEOMETRYCOLLECTION (POINT (1 2))", "SRID=2263;POINT (1 2)", "LINESTRING (1 2, )", "POINT (1 nan)",
    '{"type": "Point"}', '{"type": "Point", "coordinates": [1]}', '{"type": "Circle", "coordinates": [1, 2]}',
    '{"type": "Point", "coordinates": ["1", "2"]}', '{"type": "Polygon", "coordinates": [[0, 0]]}', "{not json",
    '[1, 2]',
])
def test_malformed(text):
    with pytest.raises(g.GeometryError):
        g.parse(text)


def test_problems():
    poly = g.parse("POLYGON ((0 0, 1 0, 1 1, 0 0))")
    assert list(g.problems(poly, "Polygon")) == []
    assert [c for c, _ in g.problems(poly, "MultiPolygon")] == ["type-error"]
    assert [c for c, _ in g.problems(g.parse("POLYGON ((0 0, 1 0, 1 1, 0 1))"), "Polygon")] == ["type-error"]
    assert [c for c, _ in g.problems(g.parse("POLYGON ((0 0, 1 0, 0 0))"), "Polygon")] == ["type-error"]
    assert [c for c, _ in g.problems(g.parse("LINESTRING (0 0)"), "LineString")] == ["type-error"]
    far = g.parse("POINT (985000 200000)")  # New York State Plane feet
    assert [c for c, _ in g.problems(far, "Point")] == ["constraint-error"]
    assert [c for c, _ in g.problems(g.parse("POINT (10 91)"), None)] == ["constraint-error"]
    assert list(g.problems(g.parse("POINT (180 -90)"), None)) == []


def test_canonical_json_ignores_spelling():
    a = g.parse('{"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]], "type": "Polygon"}')
    b = g.parse("POLYGON ((0.0 0.0, 1 0, 1.000 1, 0 0))")
    assert g.canonical_json(a) == g.canonical_json(b)
    assert g.to_wkt(a) == "POLYGON ((0.0 0.0, 1.0 0.0, 1.0 1.0, 0.0 0.0))"
