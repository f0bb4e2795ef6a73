"""Rules for guidelines 8–23: formats, licences, metadata, identifiers and where data lives."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping

from kcdata.inventory.model import AccessLevel, Dataset, Status
from kcdata.policy import inputs
from kcdata.policy.model import Context, Outcome, Scope
from kcdata.policy.periodicity import is_valid_periodicity
from kcdata.policy.registry import (
    active,
    outcome,
    program_outcome,
    releasing,
    rule,
)
from kcdata.problems import Severity


@rule("SUN-08", 8, "Open, machine-readable formats", "Data files are in an open format (CSV, JSON, GeoJSON…).")
def _sun08(ctx: Context) -> Iterator[Outcome]:
    allowed = set(ctx.settings.open_formats)
    for ds in ctx.inventory.datasets:
        if ds.data and active(ds):
            fmt = str(ds.extra.get("format") or inputs.file_suffix(ds.data)).lower()
            yield outcome(ctx, ds, fmt in allowed, f"data format '{fmt or '?'}' is not an open machine-readable "
                                                   f"format ({', '.join(sorted(allowed))})")


_GEO_TERMS = frozenset({"gis", "geospatial", "map", "maps", "spatial", "geography", "location", "locations",
                        "parcels", "boundaries"})
_GEO_FIELDS = frozenset({"latitude", "longitude", "lat", "lon", "lng", "location", "geometry", "the_geom",
                         "lat_long", "point", "coordinates", "geom", "x_coordinate", "y_coordinate"})
_GEO_FORMATS = frozenset({"geojson", "kml", "kmz", "shp", "gpkg"})


@rule("SUN-09", 9, "Formats for varied uses", "Geospatial data carries coordinates or comes in a geo format.")
def _sun09(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        terms = {t.lower() for t in ds.keywords} | ({ds.theme.lower()} if ds.theme else set())
        if not active(ds) or not (ds.extra.get("geospatial") or terms & _GEO_TERMS) or not (ds.data or ds.schema):
            continue  # nothing to look at yet: an inventoried item without data or schema
        if ds.data and inputs.file_suffix(ds.data) in _GEO_FORMATS:
            yield outcome(ctx, ds, True)
            continue
        fields = inputs.schema_fields(inputs.read_table_schema(ctx.root, ds.schema, ctx.cache))
        geo = any(str(f.get("type")) in ("geopoint", "geojson") or str(f.get("name", "")).lower() in _GEO_FIELDS
                  for f in fields)
        yield outcome(ctx, ds, geo, "geospatial dataset without coordinates (geopoint/geojson field, latitude/"
                                    "longitude) or a geo format")


@rule("SUN-10", 10, "Remove access restrictions", "What is published is public: no login, a portal id.")
def _sun10(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if ds.status is Status.PUBLISHED:
            problems = []
            if ds.access_level is not AccessLevel.PUBLIC:
                problems.append(f"published with access_level '{ds.access_level}'")
            if not ds.portal_id:
                problems.append("published without a portal_id")
            elif ctx.portal_view is not None:
                problems.extend(_anonymous_access(ctx.portal_view, ds))
            yield outcome(ctx, ds, not problems, "; ".join(problems))


def _anonymous_access(fetch: Callable[[Dataset], Mapping[str, object] | None], ds: Dataset) -> list[str]:
    """What stops a resident without an account from reading this view (empty: nothing)."""
    from kcdata.errors import PortalError

    portal_id = ds.portal_id
    try:
        view = fetch(ds)
    except PortalError as exc:
        if exc.details.get("status") in (401, 403):
            return [f"portal view {portal_id} needs a login (HTTP {exc.details['status']})"]
        raise
    if view is None:
        return [f"portal has no view {portal_id}"]
    problems = []
    grants = view.get("grants")
    grant_list: list[object] = grants if isinstance(grants, list) else []
    if not any(isinstance(g, Mapping) and "public" in (g.get("flags") or []) for g in grant_list):
        problems.append(f"portal view {portal_id} is not shared publicly")
    if view.get("publicationStage") not in (None, "published"):
        problems.append(f"portal view {portal_id} is {view.get('publicationStage')}, not published")
    return problems


def _norm_license(url: str) -> str:
    u = url.strip().lower().replace("http://", "https://").replace("://www.", "://")
    u = re.sub(r"(legalcode(\.\w+)?|deed(\.\w+)?)$", "", u)
    return u.rstrip("/") + "/"


@rule("SUN-11", 11, "Explicitly license-free", "Public data carries an open licence (CC0, PDDL, ODC-By, CC-BY…).")
def _sun11(ctx: Context) -> Iterator[Outcome]:
    allowed = {_norm_license(u) for u in ctx.settings.open_licenses}
    for ds in ctx.inventory.datasets:
        if ds.access_level is not AccessLevel.PUBLIC or not active(ds) or not (ds.license or releasing(ds)):
            continue
        if not ds.license:
            yield outcome(ctx, ds, False, "no license")
        else:
            yield outcome(ctx, ds, _norm_license(ds.license) in allowed, f"'{ds.license}' is not an open licence URL")


@rule("SUN-12", 12, "Recommended citation", "Users know how to cite the data (dataset or program citation).",
      severity=Severity.WARNING)
def _sun12(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if releasing(ds):
            cited = bool(ctx.settings.citation or ds.extra.get("citation") or ds.extra.get("attribution"))
            yield outcome(ctx, ds, cited, "no citation/attribution (dataset `citation` or policy.citation)")


@rule("SUN-13", 13, "Publish metadata", "Catalog metadata is complete and every schema field is described.")
def _sun13(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if not releasing(ds):
            continue
        missing = [name for name, ok in (("contact.email", ds.contact.email), ("keywords", ds.keywords),
                                         ("theme", ds.theme), ("license", ds.license)) if not ok]
        schema = inputs.read_table_schema(ctx.root, ds.schema, ctx.cache)
        if ds.schema and schema is None:
            missing.append(f"readable schema ({ds.schema})")
        undescribed = [str(f.get("name")) for f in inputs.schema_fields(schema)
                       if not str(f.get("description") or "").strip()]
        if undescribed:
            missing.append("descriptions for fields " + ", ".join(undescribed[:5]) +
                           (f" and {len(undescribed) - 5} more" if len(undescribed) > 5 else ""))
        yield outcome(ctx, ds, not missing, "missing " + "; ".join(missing))


@rule("SUN-14", 14, "Data creation processes", "How the data is made (methodology, source system) is published.")
def _sun14(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if releasing(ds):
            missing = [n for n, v in (("methodology", ds.methodology), ("source_system", ds.source_system)) if not v]
            yield outcome(ctx, ds, not missing, f"missing {', '.join(missing)}")


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@rule("SUN-15", 15, "Unique identifiers",
      "Stable unique dataset ids, and a declared row key that is unique in the data.", scope=Scope.BOTH)
def _sun15(ctx: Context) -> Iterator[Outcome]:
    counts = Counter(d.id for d in ctx.inventory.datasets)
    dup = sorted(i for i, n in counts.items() if n > 1)
    bad = sorted(i for i in counts if not _SLUG.match(i))
    yield program_outcome(not dup and not bad, "; ".join(filter(None, [
        f"dataset ids used more than once: {', '.join(dup)}" if dup else "",
        f"ids that are not lowercase slugs: {', '.join(bad)}" if bad else ""])))
    for ds in ctx.inventory.datasets:
        if not releasing(ds) or not ds.schema:
            continue
        schema = inputs.read_table_schema(ctx.root, ds.schema, ctx.cache)
        key = inputs.primary_key(schema) or ([ds.row_identifier] if ds.row_identifier else [])
        if not key:
            yield outcome(ctx, ds, False, "no primaryKey in the schema and no row_identifier")
            continue
        names = {str(f.get("name")) for f in inputs.schema_fields(schema)}
        if schema is not None and not set(key) <= names:
            yield outcome(ctx, ds, False, f"row key {key} is not a field of {ds.schema}")
            continue
        path = inputs.data_path(ctx.root, ds)
        if path is None or inputs.file_suffix(str(path)) != "csv":
            yield outcome(ctx, ds, True)
            continue
        counted = inputs.key_duplicates(path, key)
        if counted is None:
            yield outcome(ctx, ds, False, f"row key {key} is not a column of {ds.data}")
            continue
        _rows, dups, empty = counted
        yield outcome(ctx, ds, not dups and not empty,
                      f"row key {key} in {ds.data}: {dups} duplicate and {empty} empty value(s)")


_CODE = re.compile(r"\b(script|scripts|etl|pipeline|python|sql|code|automated|cron)\b", re.IGNORECASE)
CODE_KEYS = ("code_url", "code_repository", "etl_repository")


@rule("SUN-16", 16, "Publish code", "Data produced by code links to that code.")
def _sun16(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        by_code = bool(ds.extra.get("produced_by_code")) or bool(ds.methodology and _CODE.search(ds.methodology))
        if by_code and releasing(ds):
            linked = any(str(ds.extra.get(k) or "").strip() for k in CODE_KEYS)
            yield outcome(ctx, ds, linked, f"produced by code but no {' / '.join(CODE_KEYS)} link")


@rule("SUN-18", 18, "Central location", "Every published item has a landing page on the city portal.")
def _sun18(ctx: Context) -> Iterator[Outcome]:
    domain = (ctx.program or {}).get("portal_domain")
    for ds in ctx.inventory.datasets:
        if ds.status is Status.PUBLISHED:
            yield outcome(ctx, ds, bool(ds.portal_id and domain),
                          "no landing page: " + ("program.portal_domain is not set" if not domain else "no portal_id"))


@rule("SUN-19", 19, "Bulk data", "Published data can be downloaded whole (portal CSV export or a file URL).")
def _sun19(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if ds.status is Status.PUBLISHED:
            bulk = bool(ds.portal_id) or bool(ds.data and inputs.is_url(ds.data)) or bool(ds.extra.get("download_url"))
            yield outcome(ctx, ds, bulk, "no bulk download (portal_id, a data URL or download_url)")


@rule("SUN-20", 20, "Public APIs", "Tabular published data has an API endpoint.")
def _sun20(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        tabular = bool(ds.schema) or (bool(ds.data) and inputs.file_suffix(ds.data or "") in ("csv", "tsv"))
        if ds.status is Status.PUBLISHED and tabular:
            yield outcome(ctx, ds, bool(ds.portal_id or ds.extra.get("api_url")),
                          "tabular data without an API endpoint (portal_id or api_url)")


@rule("SUN-22", 22, "Ongoing publication", "Each release declares how often it is updated (accrual_periodicity).")
def _sun22(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if releasing(ds):
            ok = is_valid_periodicity(ds.accrual_periodicity)
            yield outcome(ctx, ds, ok, f"accrual_periodicity {ds.accrual_periodicity!r} is not 'irregular' or an "
                                       "ISO 8601 repeating duration (R/P1D)" if ds.accrual_periodicity else
                          "accrual_periodicity is not set")


@rule("SUN-23", 23, "Permanent access", "Removed data keeps a tombstone: its entry, and why and when it went.")
def _sun23(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if ds.status is Status.RETIRED:
            noted = bool(ds.extra.get("retired_reason")) or any(
                r.to_status == Status.RETIRED.value and (r.note or "").strip() for r in ds.history)
            yield outcome(ctx, ds, noted, "retired without a note on why (a history note or retired_reason)")
        elif ds.portal_id and ds.status is not Status.PUBLISHED:
            yield outcome(ctx, ds, False, f"portal_id {ds.portal_id} recorded but status is {ds.status}: "
                                          "removed from the portal without retiring?")
