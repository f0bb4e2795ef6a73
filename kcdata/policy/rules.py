"""The rule registry: every Sunlight guideline a tool can check, as a named rule.

Rule ids carry the guideline number from the governance table (``SUN-04`` is guideline 4).
``SUN-07-PII`` is the data-file half of guideline 7 (screening values, not metadata), kept separate so
the committee can set it to warning independently; ``WWC-INV`` is What Works Cities' inventory test.
Each check yields one :class:`Outcome` per subject it applies to; subjects it does not apply to are
simply not mentioned, so pass counts mean "checked and fine".
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from kcdata.inventory.model import AccessLevel, Classification, Dataset, Status
from kcdata.policy import inputs
from kcdata.policy.model import Context, Outcome, Scope, Skip
from kcdata.policy.periodicity import is_valid_periodicity
from kcdata.policy.settings import Severity

Check = Callable[[Context], Iterable[Outcome]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    guideline: int | None
    title: str
    rationale: str
    scope: Scope
    severity: Severity
    check: Check


RULES: list[Rule] = []


def rule(rule_id: str, guideline: int | None, title: str, rationale: str, *, scope: Scope = Scope.DATASET,
         severity: Severity = Severity.ERROR) -> Callable[[Check], Check]:
    def register(func: Check) -> Check:
        RULES.append(Rule(id=rule_id, guideline=guideline, title=title, rationale=rationale, scope=scope,
                          severity=severity, check=func))
        return func

    return register


# -- which datasets a rule looks at -------------------------------------------------------------------
CLOSED = frozenset({Status.WITHHELD, Status.RETIRED})


def release_eligible(ds: Dataset) -> bool:
    """Public access, not protected, not withheld or retired: the city means to release it."""
    return ds.is_public_eligible and ds.status not in CLOSED


def unpublished_eligible(ds: Dataset) -> bool:
    return release_eligible(ds) and ds.status is not Status.PUBLISHED


def releasing(ds: Dataset) -> bool:
    """Public datasets with the committee or on the portal (status in_review and later)."""
    return ds.access_level is AccessLevel.PUBLIC and ds.status in (Status.IN_REVIEW, Status.APPROVED,
                                                                   Status.PUBLISHED)


def active(ds: Dataset) -> bool:
    return ds.status is not Status.RETIRED


def _ok(ctx: Context, ds: Dataset, ok: bool, message: str = "") -> Outcome:
    return Outcome(subject=ds.id, kind="dataset", ok=ok, message=message, **ctx.where(ds))


def _program(ok: bool, message: str) -> Outcome:
    return Outcome(subject="program", kind="program", ok=ok, message=message)


def _since(ds: Dataset) -> dt.date | None:
    """When the item entered the inventory: its first history record, or an ``inventoried`` date field."""
    for key in ("inventoried", "date_added", "created"):
        raw = ds.extra.get(key)
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw[:10])
            except ValueError:
                pass
    for rec in ds.history:
        try:
            return dt.date.fromisoformat(rec.at[:10])
        except ValueError:
            continue
    return None


# -- the rules ------------------------------------------------------------------------------------------
@rule("SUN-01", 1, "Proactively release", "Release-eligible data goes online without waiting to be asked.",
      scope=Scope.BOTH)
def _sun01(ctx: Context) -> Iterator[Outcome]:
    eligible = [d for d in ctx.inventory.datasets if release_eligible(d)]
    limit = ctx.settings.unpublished_max_days
    for ds in eligible:
        if ds.status is Status.PUBLISHED:
            continue
        since = _since(ds)
        if since is not None:
            age = (ctx.today - since).days
            yield _ok(ctx, ds, age <= limit, f"release-eligible but unpublished for {age} days (limit {limit})")
    if eligible:
        published = sum(d.status is Status.PUBLISHED for d in eligible)
        share = published / len(eligible)
        yield _program(share >= ctx.settings.min_published_share,
                       f"{published} of {len(eligible)} release-eligible datasets published ({share:.0%}; "
                       f"target {ctx.settings.min_published_share:.0%})")


@rule("SUN-02", 2, "Build on public-records requests", "Data people already ask for should be released first.")
def _sun02(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if release_eligible(ds) and (ds.requests or 0) > 0:
            yield _ok(ctx, ds, ds.status is Status.PUBLISHED,
                      f"{ds.requests} public request(s) in the last 12 months, still unpublished ({ds.status})")


@rule("SUN-03", 3, "Community values and goals", "Datasets should inform a KCStat citywide goal.",
      severity=Severity.WARNING)
def _sun03(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if not active(ds):
            continue
        unknown = [g for g in ds.kcstat_goals if g not in ctx.goal_ids]
        if unknown:
            hints = []
            for g in unknown:
                close = difflib.get_close_matches(g, sorted(ctx.goal_ids), n=1)
                hints.append(f"'{g}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
            yield _ok(ctx, ds, False, f"unknown KCStat goal id {', '.join(hints)}")
        elif not ds.kcstat_goals:
            yield _ok(ctx, ds, False, "not linked to any KCStat goal (kcstat_goals)")
        else:
            yield _ok(ctx, ds, True)


@rule("SUN-04", 4, "Comprehensive public list",
      "Every department keeps an inventory, and items that cannot be released say why.", scope=Scope.BOTH)
def _sun04(ctx: Context) -> Iterator[Outcome]:
    have = {d.id for d in ctx.inventory.departments}
    for dep in ctx.settings.departments or ():
        yield Outcome(subject=dep, kind="department", ok=dep in have,
                      message=f"department '{dep}' has no inventory file (inventory/{dep}.yaml)")
    for p in ctx.problems:
        if p.code in ("yaml-error", "empty-file", "not-a-mapping", "missing-department"):
            yield Outcome(subject=p.file, kind="department", ok=False, file=p.file, line=p.line,
                          message=f"inventory file cannot be listed publicly: {p.message}")
    for ds in ctx.inventory.datasets:
        if ds.access_level is not AccessLevel.PUBLIC or ds.classification is not Classification.PUBLIC \
                or ds.status is Status.WITHHELD:
            yield _ok(ctx, ds, bool(ds.rights and ds.rights.strip()),
                      f"{ds.access_level}/{ds.classification}/{ds.status} without a written justification (rights)")


@rule("SUN-05", 5, "Prioritised release",
      "Every unpublished release-eligible item has a score and rank from a versioned method.", scope=Scope.BOTH)
def _sun05(ctx: Context) -> Iterator[Outcome]:
    if ctx.score_method is None or ctx.scores is None:
        raise Skip("scoring is not available (kcdata.score); cannot check ranks")
    method = ctx.score_method
    versioned = getattr(method, "source", "kcdata.yaml") != "defaults" and bool(getattr(method, "version", None))
    yield _program(versioned, "no `scoring:` method with a version in kcdata.yaml: the ranking uses built-in "
                              "defaults the committee has not adopted")
    for ds in ctx.inventory.datasets:
        if not unpublished_eligible(ds):
            continue
        info = ctx.scores.get(ds.id)
        ranked = info is not None and (info.rank is not None or bool(info.excluded_by))
        yield _ok(ctx, ds, ranked, "unpublished release-eligible item has no score/rank")


_VENDOR = re.compile(r"\b(vendor|contractor|third[- ]party|saas|hosted by)\b", re.IGNORECASE)
OWNERSHIP_KEYS = ("ownership", "data_ownership", "vendor_agreement")


@rule("SUN-06", 6, "Contractors' data", "Vendor-held data needs a note on who owns it and under what licence.")
def _sun06(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        vendor = bool(ds.extra.get("vendor")) or bool(ds.source_system and _VENDOR.search(ds.source_system))
        if vendor and active(ds):
            noted = any(str(ds.extra.get(k) or "").strip() for k in OWNERSHIP_KEYS)
            yield _ok(ctx, ds, noted, "vendor-held data without an ownership/licence note "
                                      f"({' or '.join(OWNERSHIP_KEYS)})")


@rule("SUN-07", 7, "Safeguard sensitive information",
      "Every item declares whether it holds PII, and PII is never classified public.")
def _sun07(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if not active(ds):
            continue
        if ds.contains_pii is None:
            yield _ok(ctx, ds, False, "contains_pii is not set (true or false)")
        elif ds.contains_pii and ds.classification is Classification.PUBLIC:
            yield _ok(ctx, ds, False, "contains_pii is true but classification is public")
        else:
            yield _ok(ctx, ds, True)


@rule("SUN-07-PII", 7, "PII screening of data files",
      "Data files released as public must not hold SSNs, phone numbers, e-mail addresses or names.")
def _sun07_pii(ctx: Context) -> Iterator[Outcome]:
    from kcdata.policy.pii import SCREENABLE_SUFFIXES, screen_file

    cfg = ctx.settings.pii
    for ds in ctx.inventory.datasets:
        if ds.contains_pii or ds.access_level is not AccessLevel.PUBLIC or ds.status in CLOSED:
            continue
        path = inputs.data_path(ctx.root, ds)
        if path is None or path.suffix.lower() not in SCREENABLE_SUFFIXES:
            continue
        try:
            screen = screen_file(path, head_rows=cfg.head_rows, reservoir=cfg.reservoir,
                                 min_share=cfg.min_share, seed=cfg.seed)
        except OSError as exc:
            yield _ok(ctx, ds, False, f"cannot read {ds.data} for screening: {exc.strerror}")
            continue
        if not screen.columns:
            yield _ok(ctx, ds, True)
        for col in screen.columns:
            detail = "header names a person" if col.kind == "name-header" else \
                f"{col.matched}/{col.sampled} sampled values look like {col.kind}"
            yield _ok(ctx, ds, False, f"{ds.data} column '{col.column}': {detail}; "
                                      "remove it or mark the dataset contains_pii")


@rule("SUN-08", 8, "Open, machine-readable formats", "Data files are in an open format (CSV, JSON, GeoJSON…).")
def _sun08(ctx: Context) -> Iterator[Outcome]:
    allowed = set(ctx.settings.open_formats)
    for ds in ctx.inventory.datasets:
        if ds.data and active(ds):
            fmt = str(ds.extra.get("format") or inputs.file_suffix(ds.data)).lower()
            yield _ok(ctx, ds, fmt in allowed, f"data format '{fmt or '?'}' is not an open machine-readable "
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
            yield _ok(ctx, ds, True)
            continue
        fields = inputs.schema_fields(inputs.read_table_schema(ctx.root, ds.schema, ctx.cache))
        geo = any(str(f.get("type")) in ("geopoint", "geojson") or str(f.get("name", "")).lower() in _GEO_FIELDS
                  for f in fields)
        yield _ok(ctx, ds, geo, "geospatial dataset without coordinates (geopoint/geojson field, latitude/"
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
            yield _ok(ctx, ds, not problems, "; ".join(problems))


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
            yield _ok(ctx, ds, False, "no license")
        else:
            yield _ok(ctx, ds, _norm_license(ds.license) in allowed, f"'{ds.license}' is not an open licence URL")


@rule("SUN-12", 12, "Recommended citation", "Users know how to cite the data (dataset or program citation).",
      severity=Severity.WARNING)
def _sun12(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if releasing(ds):
            cited = bool(ctx.settings.citation or ds.extra.get("citation") or ds.extra.get("attribution"))
            yield _ok(ctx, ds, cited, "no citation/attribution (dataset `citation` or policy.citation)")


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
        yield _ok(ctx, ds, not missing, "missing " + "; ".join(missing))


@rule("SUN-14", 14, "Data creation processes", "How the data is made (methodology, source system) is published.")
def _sun14(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if releasing(ds):
            missing = [n for n, v in (("methodology", ds.methodology), ("source_system", ds.source_system)) if not v]
            yield _ok(ctx, ds, not missing, f"missing {', '.join(missing)}")


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@rule("SUN-15", 15, "Unique identifiers",
      "Stable unique dataset ids, and a declared row key that is unique in the data.", scope=Scope.BOTH)
def _sun15(ctx: Context) -> Iterator[Outcome]:
    counts = Counter(d.id for d in ctx.inventory.datasets)
    dup = sorted(i for i, n in counts.items() if n > 1)
    bad = sorted(i for i in counts if not _SLUG.match(i))
    yield _program(not dup and not bad, "; ".join(filter(None, [
        f"dataset ids used more than once: {', '.join(dup)}" if dup else "",
        f"ids that are not lowercase slugs: {', '.join(bad)}" if bad else ""])))
    for ds in ctx.inventory.datasets:
        if not releasing(ds) or not ds.schema:
            continue
        schema = inputs.read_table_schema(ctx.root, ds.schema, ctx.cache)
        key = inputs.primary_key(schema) or ([ds.row_identifier] if ds.row_identifier else [])
        if not key:
            yield _ok(ctx, ds, False, "no primaryKey in the schema and no row_identifier")
            continue
        names = {str(f.get("name")) for f in inputs.schema_fields(schema)}
        if schema is not None and not set(key) <= names:
            yield _ok(ctx, ds, False, f"row key {key} is not a field of {ds.schema}")
            continue
        path = inputs.data_path(ctx.root, ds)
        if path is None or inputs.file_suffix(str(path)) != "csv":
            yield _ok(ctx, ds, True)
            continue
        counted = inputs.key_duplicates(path, key)
        if counted is None:
            yield _ok(ctx, ds, False, f"row key {key} is not a column of {ds.data}")
            continue
        _rows, dups, empty = counted
        yield _ok(ctx, ds, not dups and not empty,
                  f"row key {key} in {ds.data}: {dups} duplicate and {empty} empty value(s)")


_CODE = re.compile(r"\b(script|scripts|etl|pipeline|python|sql|code|automated|cron)\b", re.IGNORECASE)
CODE_KEYS = ("code_url", "code_repository", "etl_repository")


@rule("SUN-16", 16, "Publish code", "Data produced by code links to that code.")
def _sun16(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        by_code = bool(ds.extra.get("produced_by_code")) or bool(ds.methodology and _CODE.search(ds.methodology))
        if by_code and releasing(ds):
            linked = any(str(ds.extra.get(k) or "").strip() for k in CODE_KEYS)
            yield _ok(ctx, ds, linked, f"produced by code but no {' / '.join(CODE_KEYS)} link")


@rule("SUN-18", 18, "Central location", "Every published item has a landing page on the city portal.")
def _sun18(ctx: Context) -> Iterator[Outcome]:
    domain = (ctx.program or {}).get("portal_domain")
    for ds in ctx.inventory.datasets:
        if ds.status is Status.PUBLISHED:
            yield _ok(ctx, ds, bool(ds.portal_id and domain),
                      "no landing page: " + ("program.portal_domain is not set" if not domain else "no portal_id"))


@rule("SUN-19", 19, "Bulk data", "Published data can be downloaded whole (portal CSV export or a file URL).")
def _sun19(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if ds.status is Status.PUBLISHED:
            bulk = bool(ds.portal_id) or bool(ds.data and inputs.is_url(ds.data)) or bool(ds.extra.get("download_url"))
            yield _ok(ctx, ds, bulk, "no bulk download (portal_id, a data URL or download_url)")


@rule("SUN-20", 20, "Public APIs", "Tabular published data has an API endpoint.")
def _sun20(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        tabular = bool(ds.schema) or (bool(ds.data) and inputs.file_suffix(ds.data or "") in ("csv", "tsv"))
        if ds.status is Status.PUBLISHED and tabular:
            yield _ok(ctx, ds, bool(ds.portal_id or ds.extra.get("api_url")),
                      "tabular data without an API endpoint (portal_id or api_url)")


@rule("SUN-22", 22, "Ongoing publication", "Each release declares how often it is updated (accrual_periodicity).")
def _sun22(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if releasing(ds):
            ok = is_valid_periodicity(ds.accrual_periodicity)
            yield _ok(ctx, ds, ok, f"accrual_periodicity {ds.accrual_periodicity!r} is not 'irregular' or an "
                                   "ISO 8601 repeating duration (R/P1D)" if ds.accrual_periodicity else
                      "accrual_periodicity is not set")


@rule("SUN-23", 23, "Permanent access", "Removed data keeps a tombstone: its entry, and why and when it went.")
def _sun23(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if ds.status is Status.RETIRED:
            noted = bool(ds.extra.get("retired_reason")) or any(
                r.to_status == Status.RETIRED.value and (r.note or "").strip() for r in ds.history)
            yield _ok(ctx, ds, noted, "retired without a note on why (a history note or retired_reason)")
        elif ds.portal_id and ds.status is not Status.PUBLISHED:
            yield _ok(ctx, ds, False, f"portal_id {ds.portal_id} recorded but status is {ds.status}: "
                                      "removed from the portal without retiring?")


@rule("SUN-26", 26, "Public perspectives", "Demand (requests) is recorded and weighs in the release score.",
      scope=Scope.BOTH, severity=Severity.WARNING)
def _sun26(ctx: Context) -> Iterator[Outcome]:
    weights = getattr(ctx.score_method, "weights", None)
    if isinstance(weights, Mapping):
        yield _program(float(weights.get("demand") or 0) > 0, "the scoring method gives public demand no weight")
    for ds in ctx.inventory.datasets:
        if unpublished_eligible(ds):
            yield _ok(ctx, ds, ds.requests is not None, "requests (public demand) not recorded")


@rule("SUN-27", 27, "Ambitious timelines", "Release-eligible items have an agreed target date that has not passed.")
def _sun27(ctx: Context) -> Iterator[Outcome]:
    for ds in ctx.inventory.datasets:
        if not unpublished_eligible(ds):
            continue
        if ds.target_release is None:
            yield _ok(ctx, ds, False, "no target_release date")
        else:
            late = (ctx.today - ds.target_release).days
            yield _ok(ctx, ds, late <= 0, f"target_release {ds.target_release} passed {late} days ago")


@rule("SUN-28", 28, "Data quality", "Data passes validation against its schema before it is published.")
def _sun28(ctx: Context) -> Iterator[Outcome]:
    if ctx.validation is None:
        raise Skip("validation results are not available (kcdata.validate)")
    for ds in ctx.inventory.datasets:
        if ds.status in (Status.APPROVED, Status.PUBLISHED) and ds.data and ds.schema:
            result = ctx.validation(ds)
            if result is None:
                yield _ok(ctx, ds, False, f"never validated: run `kcdata validate {ds.id}`")
            else:
                yield _ok(ctx, ds, result.valid, f"last validation failed with {result.error_count} error(s)")


@rule("SUN-31", 31, "Future review", "Every item is reviewed at least once a year (last_reviewed).")
def _sun31(ctx: Context) -> Iterator[Outcome]:
    limit = ctx.settings.review_max_days
    for ds in ctx.inventory.datasets:
        if not active(ds):
            continue
        if ds.last_reviewed is None:
            yield _ok(ctx, ds, False, "never reviewed (last_reviewed)")
        else:
            age = (ctx.today - ds.last_reviewed).days
            yield _ok(ctx, ds, age <= limit, f"last reviewed {ds.last_reviewed}, {age} days ago (limit {limit})")


@rule("WWC-INV", None, "What Works Cities inventory",
      "The inventory meets 3 of 4: documented method, updated in 12 months, >80% of departments, online.",
      scope=Scope.PROGRAM)
def _wwc(ctx: Context) -> Iterator[Outcome]:
    from kcdata.policy.scorecard import wwc_criteria

    criteria = wwc_criteria(ctx)
    met = sum(c.met for c in criteria)
    missing = "; ".join(f"{c.name}: {c.detail}" for c in criteria if not c.met)
    yield _program(met >= 3, f"{met} of 4 criteria met (needs 3). Not met: {missing}")


RULE_IDS = frozenset(r.id for r in RULES)


def get_rule(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id.upper():
            return r
    raise KeyError(rule_id)
