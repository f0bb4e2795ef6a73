"""Geometry fields (``type: geojson`` with kcdata's ``geometryType``) and GeoJSON FeatureCollection data.

A field ``{"type": "geojson", "geometryType": "Polygon"}`` holds one geometry per cell, as GeoJSON
geometry text or WKT. Frictionless knows neither WKT nor ``geometryType``, so both engines see such a
field as a ``string`` (keeping its ``required`` constraint) and this module checks its cells once, for
both engines, with :mod:`kcdata.geometry`; its errors are merged into the engine's in frictionless
order (row, then field position). Codes: ``type-error`` for a cell that is not a well-formed geometry,
is another geometry type than declared, or has an unclosed or too short ring; ``constraint-error`` for
a coordinate outside WGS84's ranges.

A FeatureCollection data file is turned into a CSV (one row per feature, the first feature is row 2;
the geometry field holds the feature's geometry, the other fields its properties) which both engines
validate as any other CSV.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kcdata import geometry
from kcdata.errors import InputError
from kcdata.validate import shapes
from kcdata.validate.model import ValidationError

if TYPE_CHECKING:
    from kcdata.validate.reference import EngineResult
    from kcdata.validate.schema import Dialect

GEOJSON_SUFFIXES = (".geojson",)


@dataclasses.dataclass(frozen=True, slots=True)
class GeoField:
    position: int  # 0-based position in the row
    name: str
    geometry_type: str | None
    missing: frozenset[str]


def check_schema(descriptor: Mapping[str, Any], source: str) -> None:
    """``geometryType`` must name a GeoJSON geometry type, on a ``geojson`` field only."""
    for i, f in enumerate(descriptor.get("fields") or ()):
        if not isinstance(f, Mapping) or "geometryType" not in f:
            continue
        gt = f["geometryType"]
        if f.get("type") != "geojson":
            raise InputError(f"{source}: fields[{i}].geometryType: only a field of type geojson declares a geometry "
                             f"type (field '{f.get('name')}' is {f.get('type', 'string')})",
                             hint="set \"type\": \"geojson\", or remove geometryType", code="schema-error")
        if gt not in geometry.GEOMETRY_TYPES:
            raise InputError(f"{source}: fields[{i}].geometryType: unknown geometry type {gt!r} "
                             f"(field '{f.get('name')}')", hint=f"use one of: {', '.join(geometry.GEOMETRY_TYPES)}",
                             code="schema-error")


def geo_fields(descriptor: Mapping[str, Any]) -> tuple[GeoField, ...]:
    """The fields kcdata checks as geometries: ``geojson`` fields with a ``geometryType``."""
    missing = descriptor.get("missingValues", [""])
    return tuple(GeoField(i, str(f["name"]), str(f["geometryType"]),
                          frozenset(str(v) for v in f.get("missingValues", missing)))
                 for i, f in enumerate(descriptor.get("fields") or ())
                 if isinstance(f, Mapping) and f.get("type") == "geojson" and f.get("geometryType"))


def engine_descriptor(descriptor: Mapping[str, Any]) -> dict[str, Any]:
    """The descriptor the engines validate: geometry fields as ``string`` with only ``required`` kept."""
    fields = []
    for f in descriptor["fields"]:
        if isinstance(f, Mapping) and f.get("type") == "geojson" and f.get("geometryType"):
            out = {k: v for k, v in f.items() if k not in ("type", "format", "geometryType", "constraints")}
            out["type"] = "string"
            cons = f.get("constraints")
            if isinstance(cons, Mapping) and "required" in cons:
                out["constraints"] = {"required": cons["required"]}
            f = out
        fields.append(f)
    return {**descriptor, "fields": fields}


def check_cells(rows: Iterator[list[str]], fields: tuple[GeoField, ...]) -> list[ValidationError]:
    """Geometry errors of data rows (the first row yielded is row 2)."""
    errors: list[ValidationError] = []
    for number, row in enumerate(rows, start=2):
        for gf in fields:
            if gf.position >= len(row):
                continue  # a missing cell: the engine reports it
            cell = row[gf.position]
            if cell in gf.missing:
                continue
            for code, note in cell_problems(cell, gf.geometry_type):
                errors.append(_error(code, note, cell, number, gf))
    return errors


def cell_problems(cell: str, declared: str | None) -> list[tuple[str, str]]:
    try:
        geom = geometry.parse(cell)
    except geometry.GeometryError as exc:
        return [("type-error", f"not a well-formed geometry: {exc}")]
    return list(geometry.problems(geom, declared))


def _error(code: str, note: str, cell: str, row: int, gf: GeoField) -> ValidationError:
    shown = cell if len(cell) <= 80 else cell[:77] + "..."
    where = f'in row "{row}" and field "{gf.name}" at position "{gf.position + 1}"'
    if code == "type-error":
        message = f'Type error in the cell "{shown}" {where}: type is "geojson/{gf.geometry_type}": {note}'
    else:
        message = (f'The cell "{shown}" in row at position "{row}" and field "{gf.name}" at position '
                   f'"{gf.position + 1}" does not conform to a constraint: {note}')
    return ValidationError(code=code, row=row, field=gf.name, message=message)


def csv_rows(data: Path, dialect: Dialect) -> Iterator[list[str]]:
    """The data rows of a CSV as frictionless numbers them (records, blank lines included)."""
    with data.open("rb") as raw:
        bom16 = raw.read(2) in (b"\xff\xfe", b"\xfe\xff")
    encoding = dialect.encoding or ("utf-16" if bom16 else "utf-8-sig")
    with data.open(encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=dialect.delimiter, quotechar=dialect.quote_char,
                            doublequote=dialect.double_quote)
        next(reader, None)
        yield from reader


def merge(result: EngineResult, extra: list[ValidationError], descriptor: Mapping[str, Any],
          max_errors: int) -> EngineResult:
    """The engine's errors and the geometry errors in frictionless order, counted and cut at ``max_errors``."""
    if not extra:
        return result
    position = {str(f.get("name")): i for i, f in enumerate(descriptor["fields"]) if isinstance(f, Mapping)}
    big = len(position) + 1

    def key(e: ValidationError) -> tuple[int, int]:
        return (e.row or 0, position.get(e.field, big) if e.field else big)

    merged = sorted([*result.errors, *extra], key=key)  # stable: the engine's own order is kept
    truncated = sum(result.counts.values()) > len(result.errors)
    if truncated and result.errors:
        last = key(result.errors[-1])
        merged = [e for e in merged if key(e) <= last]
    if max_errors:
        merged = merged[:max_errors]
    counts = dict(result.counts)
    for e in extra:
        counts[e.code] = counts.get(e.code, 0) + 1
    return dataclasses.replace(result, errors=tuple(merged), counts=counts)


# -- GeoJSON FeatureCollection data files -------------------------------------------------------

def is_feature_collection(data: Path) -> bool:
    """A GeoJSON FeatureCollection (``.geojson``) or a zipped shapefile (a ``.zip`` holding a ``.shp``)."""
    if data.suffix.lower() in GEOJSON_SUFFIXES:
        return True
    return data.suffix.lower() == ".zip" and data.is_file() and shapes.is_shapefile_zip(data)


def features_to_csv(data: Path, descriptor: Mapping[str, Any], out: Path) -> int:
    """Write the features of a FeatureCollection (or zipped shapefile) as CSV rows at ``out``; the number
    of features.

    The header is the schema's field names (then any property not in the schema, which the engines
    report as an extra label); the geometry field (the first ``geojson`` field) holds the feature's
    geometry as GeoJSON text, the other fields its properties (null and absent: an empty cell)."""
    obj = shapes.read_zip(data) if data.suffix.lower() == ".zip" else _read_geojson(data)
    names = [str(f.get("name")) for f in descriptor["fields"] if isinstance(f, Mapping)]
    geo_name = next((str(f["name"]) for f in descriptor["fields"]
                     if isinstance(f, Mapping) and f.get("type") == "geojson"), None)
    if geo_name is None:
        raise InputError(f"{data}: the schema has no geojson field to hold the features' geometries",
                         code="schema-error", hint='add a field {"name": "geometry", "type": "geojson", '
                                                   '"geometryType": "Polygon"}')
    extra: list[str] = []
    for i, feat in enumerate(obj["features"]):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise InputError(f"{data}: features[{i}] is not a GeoJSON Feature", code="bad-input",
                             hint='each feature is {"type": "Feature", "geometry": ..., "properties": {...}}')
        props = feat.get("properties")
        for k in props if isinstance(props, dict) else ():
            if k not in names and k not in extra and k != geo_name:
                extra.append(k)
    header = names + extra
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for feat in obj["features"]:
            props = feat.get("properties") if isinstance(feat.get("properties"), dict) else {}
            writer.writerow([_cell(feat.get("geometry")) if name == geo_name else _cell(props.get(name))
                             for name in header])
    return len(obj["features"])


def _read_geojson(data: Path) -> dict[str, Any]:
    try:
        obj = json.loads(data.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{data}: not readable GeoJSON ({exc})", code="bad-input",
                         hint="a GeoJSON data file is a FeatureCollection in UTF-8 JSON") from None
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection" or not isinstance(obj.get("features"), list):
        raise InputError(f"{data}: not a GeoJSON FeatureCollection", code="bad-input",
                         hint='expected {"type": "FeatureCollection", "features": [...]}')
    _refuse_crs(data, obj)
    return obj


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    if hasattr(value, "isoformat"):  # a shapefile's date attribute
        return str(value.isoformat())
    return json.dumps(value, separators=(",", ":"))


def _refuse_crs(data: Path, obj: Mapping[str, Any]) -> None:
    crs = obj.get("crs")
    name = str(((crs or {}).get("properties") or {}).get("name") or "") if isinstance(crs, dict) else ""
    if name and not name.upper().endswith(("CRS84", "4326")):
        raise InputError(f"{data}: the FeatureCollection declares the coordinate system {name}; kcdata reads "
                         "WGS84 longitude/latitude (RFC 7946)", code="bad-input",
                         hint="reproject the file to EPSG:4326 (e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson)")


__all__ = ["GeoField", "check_cells", "check_schema", "csv_rows", "engine_descriptor", "features_to_csv",
           "geo_fields", "is_feature_collection", "merge"]
