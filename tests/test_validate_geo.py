"""Geometry fields (geojson + geometryType) in CSV files and GeoJSON FeatureCollection data files:
both engines give one answer, with frictionless's row/field error shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcdata.errors import InputError
from kcdata.validate import validate_table

ENGINES = ("fast", "frictionless")


def schema(gtype: str = "Polygon", **extra: object) -> dict:
    return {"fields": [{"name": "id", "type": "integer"},
                       {"name": "geom", "type": "geojson", "geometryType": gtype, **extra},
                       {"name": "n", "type": "integer", "constraints": {"maximum": 10}}],
            "primaryKey": "id"}


def answer(data: Path, sch: dict, **kw: object) -> set[tuple]:
    reports = [validate_table(data=data, schema=sch, engine=e, **kw) for e in ENGINES]  # type: ignore[arg-type]
    got = [[(x.code, x.row, x.field) for x in r.errors] for r in reports]
    assert got[0] == got[1], "the two engines disagree"
    assert reports[0].error_counts == reports[1].error_counts
    assert reports[0].rows == reports[1].rows
    return {(x.code, x.row, x.field) for x in reports[0].errors}


CSV = '''id,geom,n
1,"POLYGON ((0 0, 1 0, 1 1, 0 0))",1
2,"POINT (1 2)",x
3,"{""type"":""Polygon"",""coordinates"":[[[0,0],[1,0],[1,1],[0,1]]]}",3
4,"POLYGON ((985000 200000, 985100 200000, 985100 200100, 985000 200000))",4
5,,50
6,garbage,6
7,"{""type"":""Polygon"",""coordinates"":[[[0,0],[1,0],[1,1],[0,0]]]}",7
'''


def test_csv_geometry_cells(tmp_path: Path) -> None:
    data = tmp_path / "parcels.csv"
    data.write_text(CSV)
    assert answer(data, schema()) == {
        ("type-error", 3, "geom"), ("type-error", 3, "n"),  # a Point in a Polygon field; then the row's other error
        ("type-error", 4, "geom"),  # ring not closed
        ("constraint-error", 5, "geom"),  # projected coordinates
        ("constraint-error", 6, "n"),  # an empty geometry is a missing value; the other field still checked
        ("type-error", 7, "geom"),  # not GeoJSON or WKT
    }
    report = validate_table(data=data, schema=schema())
    assert [(e.row, e.field) for e in report.errors] == [(3, "geom"), (3, "n"), (4, "geom"), (5, "geom"), (6, "n"),
                                                         (7, "geom")]  # frictionless order: row, then field
    assert "geojson/Polygon" in report.errors[0].message and "a Point" in report.errors[0].message
    assert "WGS84" in report.errors[3].message
    assert report.error_counts == {"type-error": 4, "constraint-error": 2}
    assert report.rows == 7


def test_required_and_max_errors(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text(CSV)
    req = schema(constraints={"required": True})
    assert ("constraint-error", 6, "geom") in answer(data, req)
    short = validate_table(data=data, schema=schema(), max_errors=2)
    assert [(e.row, e.field) for e in short.errors] == [(3, "geom"), (3, "n")]
    assert short.error_count == 6


def test_valid_file_every_type(tmp_path: Path) -> None:
    cells = {"Point": "POINT (-94.58 39.1)", "LineString": "LINESTRING (-94.58 39.1, -94.57 39.2)",
             "MultiPoint": "MULTIPOINT ((-94.58 39.1), (-94.57 39.2))",
             "MultiLineString": "MULTILINESTRING ((-94.58 39.1, -94.57 39.2))",
             "Polygon": '{"type": "Polygon", "coordinates": [[[-94, 39], [-94.5, 39], [-94.5, 39.5], [-94, 39]]]}',
             "MultiPolygon": "MULTIPOLYGON (((-94 39, -94.5 39, -94.5 39.5, -94 39)))"}
    for gtype, cell in cells.items():
        data = tmp_path / f"{gtype}.csv"
        data.write_text("id,geom,n\n" + f'1,"{cell.replace(chr(34), chr(34) * 2)}",1\n')
        assert answer(data, schema(gtype)) == set(), gtype
        other = "Point" if gtype != "Point" else "Polygon"
        assert answer(data, schema(other)) == {("type-error", 2, "geom")}


def test_geojson_without_geometry_type_is_frictionless(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text('id,geom\n1,"{""type"":""Point"",""coordinates"":[1,2]}"\n2,POINT (1 2)\n')
    sch = {"fields": [{"name": "id", "type": "integer"}, {"name": "geom", "type": "geojson"}]}
    assert answer(data, sch) == {("type-error", 3, "geom")}  # plain geojson: frictionless's own check, no WKT


@pytest.mark.parametrize("field, words", [
    ({"name": "g", "type": "geojson", "geometryType": "Circle"}, "unknown geometry type"),
    ({"name": "g", "type": "string", "geometryType": "Point"}, "only a field of type geojson"),
])
def test_schema_errors_in_both_engines(tmp_path: Path, field: dict, words: str) -> None:
    data = tmp_path / "a.csv"
    data.write_text("g\nPOINT (1 2)\n")
    for engine in ENGINES:
        with pytest.raises(InputError) as exc:
            validate_table(data=data, schema={"fields": [field]}, engine=engine)
        assert exc.value.code == "schema-error" and words in exc.value.message


def feature(geom: object, **props: object) -> dict:
    return {"type": "Feature", "geometry": geom, "properties": props}


SQUARE = {"type": "Polygon", "coordinates": [[[-94, 39], [-94.5, 39], [-94.5, 39.5], [-94, 39]]]}


def test_feature_collection(tmp_path: Path) -> None:
    data = tmp_path / "districts.geojson"
    open_ring = {"type": "Polygon", "coordinates": [[[-94, 39], [-94.5, 39], [-94.5, 39.5], [-94, 39.5]]]}
    data.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(SQUARE, id=1, n=1),
        feature({"type": "Point", "coordinates": [-94, 39]}, id=2, n=2),
        feature(open_ring, id=3, n=30),
        feature(SQUARE, id=3, n=None),
        feature(None, id="x", n=5),
    ]}))
    assert answer(data, schema()) == {("type-error", 3, "geom"), ("type-error", 4, "geom"),
                                      ("constraint-error", 4, "n"), ("primary-key", 5, None),
                                      ("type-error", 6, "id"), ("primary-key", 6, None)}  # a null key, as frictionless
    report = validate_table(data=data, schema=schema())
    assert report.path == data.as_posix() and report.rows == 5
    import hashlib
    assert report.data_sha256 == hashlib.sha256(data.read_bytes()).hexdigest()


def test_feature_collection_valid_and_extra_property(tmp_path: Path) -> None:
    data = tmp_path / "d.geojson"
    data.write_text(json.dumps({"type": "FeatureCollection", "features": [feature(SQUARE, id=1, n=1)]}))
    assert answer(data, schema()) == set()
    data.write_text(json.dumps({"type": "FeatureCollection", "features": [feature(SQUARE, id=1, n=1, ward="A")]}))
    assert ("extra-label", 1, "ward") in answer(data, schema())


@pytest.mark.parametrize("content, words", [
    ('{"type": "Point", "coordinates": [1, 2]}', "not a GeoJSON FeatureCollection"),
    ("{oops", "not readable GeoJSON"),
    ('{"type": "FeatureCollection", "features": [1]}', "features[0] is not a GeoJSON Feature"),
    ('{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:2263"}}, "features": []}',
     "EPSG:2263"),
])
def test_feature_collection_bad_input(tmp_path: Path, content: str, words: str) -> None:
    data = tmp_path / "d.geojson"
    data.write_text(content)
    with pytest.raises(InputError) as exc:
        validate_table(data=data, schema=schema())
    assert exc.value.code == "bad-input" and words in exc.value.message


def test_geometry_fields_need_csv_or_geojson(tmp_path: Path) -> None:
    data = tmp_path / "a.xlsx"
    data.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="CSV and GeoJSON"):
        validate_table(data=data, schema=schema())


def _shapefile_zip(path: Path, polys: list[list[list[list[float]]]], *, prj: str | None = None) -> Path:
    shapefile = pytest.importorskip("shapefile")  # pyshp: kcdata's optional `shapefile` extra
    import io
    import zipfile

    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    w = shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON)
    w.field("id", "N", decimal=0)
    w.field("n", "N", decimal=0)
    for i, rings in enumerate(polys, start=1):
        w.poly(rings)
        w.record(i, i)
    w.close()
    with zipfile.ZipFile(path, "w") as zf:
        for ext, buf in (("shp", shp), ("shx", shx), ("dbf", dbf)):
            zf.writestr(f"layer.{ext}", buf.getvalue())
        if prj is not None:
            zf.writestr("layer.prj", prj)
    return path


WGS84_PRJ = 'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137,298.257223563]]]'


def test_zipped_shapefile(tmp_path: Path) -> None:
    ring = [[-94.0, 39.0], [-94.0, 39.5], [-94.5, 39.5], [-94.0, 39.0]]  # clockwise: an exterior ring
    far = [[985000.0, 200000.0], [985000.0, 200100.0], [985100.0, 200100.0], [985000.0, 200000.0]]
    data = _shapefile_zip(tmp_path / "districts.zip", [[ring], [far], [ring]], prj=WGS84_PRJ)
    assert answer(data, schema()) == {("constraint-error", 3, "geom")}  # the second feature is row 3
    assert answer(data, schema("MultiPolygon")) == {("type-error", r, "geom") for r in (2, 3, 4)}
    report = validate_table(data=data, schema=schema())
    assert report.rows == 3 and report.path == data.as_posix()


def test_zipped_shapefile_in_a_projected_crs_is_refused(tmp_path: Path) -> None:
    ring = [[-94.0, 39.0], [-94.0, 39.5], [-94.5, 39.5], [-94.0, 39.0]]
    data = _shapefile_zip(tmp_path / "d.zip", [[ring]], prj='PROJCS["NAD_1983_StatePlane_Missouri_West",GEOGCS[...]]')
    with pytest.raises(InputError) as exc:
        validate_table(data=data, schema=schema())
    assert exc.value.code == "bad-input" and "NAD_1983_StatePlane_Missouri_West" in exc.value.message
    assert "EPSG:4326" in (exc.value.hint or "")
