"""Zipped ESRI shapefiles as GeoJSON FeatureCollections, read with pyshp (pure Python; no GDAL).

Optional: ``pip install 'kcdata[shapefile]'`` (pyshp). The archive must hold one ``.shp`` with its
``.shx`` and ``.dbf``; a ``.prj`` that declares a projected coordinate system is refused with the fix
(kcdata reads WGS84 longitude/latitude), as is one in another geographic system than WGS84.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from kcdata.errors import InputError

INSTALL_HINT = "install the optional dependency: pip install 'kcdata[shapefile]' (pyshp)"


def is_shapefile_zip(data: Path) -> bool:
    try:
        with zipfile.ZipFile(data) as zf:
            return any(n.lower().endswith(".shp") for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def read_zip(data: Path) -> dict[str, Any]:
    """The shapefile in the zip ``data`` as a GeoJSON FeatureCollection dict (features in file order)."""
    try:
        import shapefile
    except ImportError:
        raise InputError(f"{data}: reading a zipped shapefile needs pyshp", code="bad-input",
                         hint=INSTALL_HINT) from None
    with zipfile.ZipFile(data) as zf:
        shps = [n for n in zf.namelist() if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
        if len(shps) != 1:
            raise InputError(f"{data}: a zipped shapefile must hold exactly one .shp (found {len(shps)})",
                             code="bad-input", hint="zip one layer per dataset")
        stem = shps[0][:-4]
        members = {n.lower(): n for n in zf.namelist()}

        def part(ext: str) -> io.BytesIO | None:
            name = members.get((stem + ext).lower())
            return io.BytesIO(zf.read(name)) if name else None
        prj = part(".prj")
        _check_prj(data, prj.getvalue().decode("latin-1") if prj else "")
        shx, dbf = part(".shx"), part(".dbf")
        if shx is None or dbf is None:
            raise InputError(f"{data}: the shapefile {stem}.shp has no .shx or .dbf beside it", code="bad-input",
                             hint="zip the .shp, .shx, .dbf (and .prj) of the layer together")
        try:
            reader = shapefile.Reader(shp=part(".shp"), shx=shx, dbf=dbf)
            features = []
            for sr in reader.iterShapeRecords():
                geom = sr.shape.__geo_interface__ if sr.shape.shapeType != shapefile.NULL else None
                features.append({"type": "Feature", "geometry": geom, "properties": sr.record.as_dict()})
        except shapefile.ShapefileException as exc:
            raise InputError(f"{data}: not a readable shapefile ({exc})", code="bad-input",
                             hint="check the archive's .shp/.shx/.dbf are one layer") from None
    return {"type": "FeatureCollection", "features": features}


def _check_prj(data: Path, prj: str) -> None:
    text = prj.strip().upper()
    if text.startswith("PROJCS") or text.startswith("PROJCRS"):
        name = prj.split('"')[1] if '"' in prj else "a projected system"
        raise InputError(f"{data}: the shapefile's .prj declares the projected coordinate system {name}; kcdata reads "
                         "WGS84 longitude/latitude", code="bad-input",
                         hint="reproject the layer to EPSG:4326 (e.g. ogr2ogr -t_srs EPSG:4326 out.shp in.shp) "
                              "and zip it again")
    if text and "WGS" not in text.replace("_", "") and "4326" not in text:
        raise InputError(f"{data}: the shapefile's .prj declares a coordinate system other than WGS84",
                         code="bad-input", hint="reproject the layer to EPSG:4326 and zip it again")
