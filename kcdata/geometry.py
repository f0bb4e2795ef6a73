"""Geometry values: GeoJSON geometry and WKT text, read, checked and written in one canonical form.

Shared by validation (``kcdata.validate.geocheck``), publish (the type map) and the local portal
(its line/polygon column types). Pure Python: no GDAL, no shapely.

A geometry is held as a GeoJSON geometry ``dict`` (``{"type": ..., "coordinates": ...}``) with float
coordinates. :func:`parse` reads GeoJSON text (a geometry object, or a Feature whose geometry is
used) or WKT (``POINT (1 2)``, ``MULTIPOLYGON (((...)))``, an optional ``SRID=4326;`` prefix and
``Z`` coordinates); :func:`problems` checks a geometry against a declared ``geometryType``, WGS84
coordinate ranges and ring closure.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

GEOMETRY_TYPES = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")
# GeoJSON geometry type -> Socrata dataTypeName
SOCRATA_GEOMETRY = {"Point": "point", "LineString": "line", "Polygon": "polygon", "MultiPoint": "multipoint",
                    "MultiLineString": "multiline", "MultiPolygon": "multipolygon"}
_WKT_NAMES = {t.upper(): t for t in GEOMETRY_TYPES}
_DEPTH = {"Point": 0, "LineString": 1, "MultiPoint": 1, "Polygon": 2, "MultiLineString": 2, "MultiPolygon": 3}


class GeometryError(ValueError):
    """Text that is not a well-formed geometry (the message says why)."""


# -- reading ------------------------------------------------------------------------------------

def parse(value: Any) -> dict[str, Any]:
    """A GeoJSON geometry dict from GeoJSON text/dict or WKT text; :class:`GeometryError` if malformed."""
    if isinstance(value, dict):
        return _from_geojson(value)
    if not isinstance(value, str):
        raise GeometryError(f"expected GeoJSON or WKT text, got {type(value).__name__}")
    text = value.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise GeometryError(f"not valid JSON ({exc})") from None
        return _from_geojson(obj)
    return _from_wkt(text)


def _from_geojson(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise GeometryError("a GeoJSON geometry is an object")
    if obj.get("type") == "Feature":
        obj = obj.get("geometry")
        if not isinstance(obj, dict):
            raise GeometryError("the Feature has no geometry")
    gtype = obj.get("type")
    if gtype not in _DEPTH:
        raise GeometryError(f"not a GeoJSON geometry type: {gtype!r} (expected one of {', '.join(GEOMETRY_TYPES)})")
    if "coordinates" not in obj:
        raise GeometryError(f"{gtype} without coordinates")
    return {"type": gtype, "coordinates": _coords(obj["coordinates"], _DEPTH[gtype], gtype)}


def _coords(raw: Any, depth: int, gtype: str) -> Any:
    if depth == 0:
        if (not isinstance(raw, list) or len(raw) not in (2, 3)
                or not all(type(c) in (int, float) for c in raw)):
            raise GeometryError(f"{gtype}: a position is [longitude, latitude] (two or three numbers), got "
                                f"{json.dumps(raw)[:60]}")
        pos = [float(c) for c in raw]
        if not all(math.isfinite(c) for c in pos):
            raise GeometryError(f"{gtype}: a coordinate is not a finite number")
        return pos
    if not isinstance(raw, list):
        raise GeometryError(f"{gtype}: coordinates nested too shallowly")
    return [_coords(r, depth - 1, gtype) for r in raw]


_TOKEN = re.compile(r"\s*(?:([A-Za-z]+)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|([(),]))")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise GeometryError(f"not GeoJSON or WKT: unexpected {text[pos:pos + 20].strip()!r}")
        out.append(m.group(1).upper() if m.group(1) else m.group(2) or m.group(3))
        pos = m.end()
    return out


def _from_wkt(text: str) -> dict[str, Any]:
    if text[:5].upper() == "SRID=":
        srid, _, text = text.partition(";")
        if srid[5:].strip() != "4326":
            raise GeometryError(f"{srid}: only WGS84 (SRID=4326) coordinates are accepted")
    toks = _tokens(text)
    if not toks or toks[0] not in _WKT_NAMES:
        raise GeometryError("not GeoJSON or WKT text" if not toks or toks[0] in "(),"
                            else f"not a supported WKT geometry: {toks[0]}")
    gtype = _WKT_NAMES[toks[0]]
    i = 1
    if i < len(toks) and toks[i] in ("Z", "M", "ZM"):
        i += 1
    if i < len(toks) and toks[i] == "EMPTY":
        raise GeometryError(f"{gtype} EMPTY: an empty geometry (leave the cell empty instead)")
    reader = _Wkt(toks, i, gtype)
    coords = reader.read(_DEPTH[gtype] + (1 if gtype == "Point" else 0), multipoint=gtype == "MultiPoint")
    if gtype == "Point":
        coords = coords[0]
    if reader.pos != len(toks):
        raise GeometryError(f"WKT {gtype}: unexpected {toks[reader.pos]!r} after the geometry")
    return {"type": gtype, "coordinates": coords}


class _Wkt:
    def __init__(self, toks: list[str], pos: int, gtype: str) -> None:
        self.toks, self.pos, self.gtype = toks, pos, gtype

    def take(self, want: str | None = None) -> str:
        if self.pos >= len(self.toks):
            raise GeometryError(f"WKT {self.gtype}: ends too early")
        tok = self.toks[self.pos]
        if want is not None and tok != want:
            raise GeometryError(f"WKT {self.gtype}: expected {want!r}, got {tok!r}")
        self.pos += 1
        return tok

    def position(self) -> list[float]:
        nums = []
        while self.pos < len(self.toks) and self.toks[self.pos] not in "(),":
            tok = self.take()
            try:
                nums.append(float(tok))
            except ValueError:
                raise GeometryError(f"WKT {self.gtype}: {tok!r} is not a number") from None
        if len(nums) not in (2, 3):
            raise GeometryError(f"WKT {self.gtype}: a position is two or three numbers, got {len(nums)}")
        if not all(math.isfinite(c) for c in nums):
            raise GeometryError(f"WKT {self.gtype}: a coordinate is not a finite number")
        return nums

    def read(self, depth: int, *, multipoint: bool = False) -> list[Any]:
        """``depth`` levels of parenthesised, comma-separated lists; depth 1 is a list of positions."""
        self.take("(")
        items: list[Any] = []
        while True:
            if depth == 1:
                if multipoint and self.toks[self.pos:self.pos + 1] == ["("]:  # MULTIPOINT ((1 2), (3 4))
                    self.take("(")
                    items.append(self.position())
                    self.take(")")
                else:
                    items.append(self.position())
            else:
                items.append(self.read(depth - 1))
            if self.take() == ")":
                return items
            if self.toks[self.pos - 1] != ",":
                raise GeometryError(f"WKT {self.gtype}: expected ',' or ')'")


# -- checking -----------------------------------------------------------------------------------

def problems(geom: dict[str, Any], declared: str | None) -> Iterator[tuple[str, str]]:
    """``(code, note)`` for each problem: ``type-error`` (another geometry type, a ring not closed or too
    short, a line of one position) or ``constraint-error`` (a coordinate outside WGS84's ranges)."""
    gtype = geom["type"]
    if declared and gtype != declared:
        yield "type-error", f"a {gtype}, but the field is declared geometryType {declared}"
        return
    shape = _shape_problem(gtype, geom["coordinates"])
    if shape:
        yield "type-error", shape
        return
    for lon, lat, *_ in positions(geom):
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            yield ("constraint-error", f"coordinate [{lon!r}, {lat!r}] is outside WGS84 (longitude -180..180, "
                   "latitude -90..90): a projected coordinate system? reproject the data to EPSG:4326")
            return


def _shape_problem(gtype: str, coords: Any) -> str | None:
    if gtype.startswith("Multi") and not coords:
        return f"an empty {gtype}"
    if gtype in ("LineString", "MultiLineString"):
        for line in [coords] if gtype == "LineString" else coords:
            if len(line) < 2:
                return "a line needs at least two positions"
    if gtype in ("Polygon", "MultiPolygon"):
        for poly in [coords] if gtype == "Polygon" else coords:
            if not poly:
                return "a polygon needs at least one ring"
            for ring in poly:
                if len(ring) < 4:
                    return "a polygon ring needs at least four positions"
                if ring[0][:2] != ring[-1][:2]:
                    return (f"a polygon ring is not closed: it starts at {ring[0][:2]} and ends at {ring[-1][:2]} "
                            "(the first and last positions must be equal)")
    return None


def positions(geom: dict[str, Any]) -> Iterator[list[float]]:
    """Every position of a geometry."""
    depth = _DEPTH[geom["type"]]

    def walk(c: Any, d: int) -> Iterator[list[float]]:
        if d == 0:
            yield c
        else:
            for item in c:
                yield from walk(item, d - 1)
    return walk(geom["coordinates"], depth)


# -- writing ------------------------------------------------------------------------------------

def canonical_json(geom: dict[str, Any]) -> str:
    """Compact GeoJSON text with float coordinates: equal geometries give equal text (for hashing)."""
    return json.dumps({"type": geom["type"], "coordinates": geom["coordinates"]}, separators=(",", ":"))


def to_wkt(geom: dict[str, Any]) -> str:
    """WKT text of a geometry (as Socrata's CSV output writes it)."""
    gtype = geom["type"]

    def pos(p: list[float]) -> str:
        return " ".join(repr(c) for c in p)

    def nest(c: Any, d: int) -> str:
        if d == 1:
            return "(" + ", ".join(pos(p) for p in c) + ")"
        return "(" + ", ".join(nest(x, d - 1) for x in c) + ")"
    if gtype == "Point":
        return f"POINT ({pos(geom['coordinates'])})"
    return f"{gtype.upper()} {nest(geom['coordinates'], _DEPTH[gtype])}"


__all__ = ["GEOMETRY_TYPES", "SOCRATA_GEOMETRY", "GeometryError", "canonical_json", "parse", "positions",
           "problems", "to_wkt"]
