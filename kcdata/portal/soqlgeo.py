"""SoQL's geospatial functions on point and location columns.

``within_circle`` (https://dev.socrata.com/docs/functions/within_circle), ``within_box``
(…/within_box), ``within_polygon`` (…/within_polygon: a WKT ``MULTIPOLYGON`` or ``POLYGON``) and
``distance_in_meters`` (…/distance_in_meters). Distances are haversine on a sphere of the Earth's
mean radius (6,371,008.8 m); rows without a location match none of the ``within_*`` functions.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import TYPE_CHECKING

from kcdata.portal.soql import SoqlError
from kcdata.portal.soqlc import C
from kcdata.portal.types import ValueProblem, encoder

if TYPE_CHECKING:
    from kcdata.portal.soqlsql import Compiler


def _c(sql: str, params: list[object], typ: str) -> C:
    return C(sql, list(params), typ)


def _lat_lon(loc: C) -> tuple[C, C]:
    if loc.type == "point":
        return (_c(f"json_extract({loc.sql}, '$.coordinates[1]')", loc.params, "number"),
                _c(f"json_extract({loc.sql}, '$.coordinates[0]')", loc.params, "number"))
    return (_c(f"CAST(json_extract({loc.sql}, '$.latitude') AS REAL)", loc.params, "number"),
            _c(f"CAST(json_extract({loc.sql}, '$.longitude') AS REAL)", loc.params, "number"))


def _location(name: str, comp: Compiler, c: C) -> C:
    if c.literal is not None and c.literal.kind == "text":
        try:
            return _c("?", [encoder("point")(c.literal.value)], "point")
        except ValueProblem as exc:
            raise SoqlError("query.soql.type-mismatch", f"{name}: {exc}") from None
    if c.type not in ("point", "location"):
        raise SoqlError("query.soql.type-mismatch", f"{name} needs a point or location, found {c.type}")
    return c


def compile_geo(comp: Compiler, name: str, args: list[C]) -> C:
    want = {"within_circle": 4, "within_box": 5, "within_polygon": 2, "distance_in_meters": 2}[name]
    if len(args) != want:
        raise SoqlError("query.soql.no-such-function", f"No such function: {name}/{len(args)}")
    loc = _location(name, comp, args[0])
    lat, lon = _lat_lon(loc)
    agg = any(a.agg for a in args)
    if name == "distance_in_meters":
        other = _location(name, comp, args[1])
        lat2, lon2 = _lat_lon(other)
        sql = f"py_distance_m({lat.sql}, {lon.sql}, {lat2.sql}, {lon2.sql})"
        return _c(sql, [*lat.params, *lon.params, *lat2.params, *lon2.params], "number")
    if name == "within_polygon":
        shape = args[1]
        if shape.literal is None or shape.literal.kind != "text":
            raise SoqlError("query.soql.type-mismatch", "within_polygon needs a WKT MULTIPOLYGON literal")
        try:
            polygons(str(shape.literal.value))
        except ValueError as exc:
            raise SoqlError("query.soql.type-mismatch", f"within_polygon: {exc}") from None
        sql = f"(py_in_polygon({lon.sql}, {lat.sql}, ?) = 1)"
        return _c(sql, [*lon.params, *lat.params, shape.literal.value], "boolean")
    nums = [comp._numeric(a) for a in args[1:]]

    def real(c: C) -> C:
        return _c(f"CAST({c.sql} AS REAL)", c.params, "number")

    if name == "within_box":
        nw_lat, nw_lon, se_lat, se_lon = (real(n) for n in nums)
        sql = (f"({lat.sql} <= {nw_lat.sql} AND {lat.sql} >= {se_lat.sql} AND {lon.sql} >= {nw_lon.sql}"
               f" AND {lon.sql} <= {se_lon.sql})")
        params = [*lat.params, *nw_lat.params, *lat.params, *se_lat.params, *lon.params, *nw_lon.params,
                  *lon.params, *se_lon.params]
        out = _c(sql, params, "boolean")
        out.agg = agg
        return out
    c_lat, c_lon, radius = (real(n) for n in nums)
    # ~111,194.9 m per degree of latitude on that sphere: a row farther in latitude is outside (the
    # band divides by a little less, so rounding never drops a row the distance keeps).
    sql = (f"({lat.sql} BETWEEN {c_lat.sql} - {radius.sql} / 111194.0 AND {c_lat.sql} + {radius.sql} / 111194.0"
           f" AND py_distance_m({lat.sql}, {lon.sql}, {c_lat.sql}, {c_lon.sql}) <= {radius.sql})")
    params = [*lat.params, *c_lat.params, *radius.params, *c_lat.params, *radius.params,
              *lat.params, *lon.params, *c_lat.params, *c_lon.params, *radius.params]
    out = _c(sql, params, "boolean")
    out.agg = agg
    return out


_RING = re.compile(r"\(\s*([-+0-9.eE\s,]+?)\s*\)")
_SHAPE = re.compile(r"\s*(MULTIPOLYGON|POLYGON)\s*\(", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def polygons(wkt: str) -> tuple[tuple[tuple[float, float], ...], ...]:
    """The rings of a WKT (MULTI)POLYGON as (lon, lat) tuples; holes are rings too (even-odd rule)."""
    if not _SHAPE.match(wkt) or len(wkt) > 1_000_000:
        raise ValueError("expected a WKT MULTIPOLYGON or POLYGON")
    rings = []
    for m in _RING.finditer(wkt):
        points = []
        for pair in m.group(1).split(","):
            parts = pair.split()
            if len(parts) != 2:
                raise ValueError(f"bad coordinate pair {pair.strip()!r}")
            points.append((float(parts[0]), float(parts[1])))
        if len(points) < 4:
            raise ValueError("a polygon ring needs at least 4 points")
        rings.append(tuple(points))
    if not rings:
        raise ValueError("the polygon has no rings")
    return tuple(rings)


def in_polygon(lon: object, lat: object, wkt: object) -> int | None:
    """1 when (lon, lat) is inside the shape (even-odd rule over all rings), 0 outside, None without a point."""
    if lon is None or lat is None or not isinstance(wkt, str):
        return None
    x, y = float(lon), float(lat)  # type: ignore[arg-type]
    inside = False
    for ring in polygons(wkt):
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
    return int(inside)
