"""The inventory as a DCAT-US 1.1 ``data.json`` catalog (non-federal profile).

Sunlight guideline 4 asks for a public list of *all* holdings, so the catalog lists every dataset that is
not retired: public ones (with CSV and API distributions once they are on the portal) and non-public ones
with their ``accessLevel`` and the written justification as ``rights``. The catalog is validated against
the official schemas vendored in ``kcdata/export/dcat_us_1_1/`` before anything is written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from kcdata.inventory.model import AccessLevel, Dataset, Inventory, Status
from kcdata.problems import Problem

if TYPE_CHECKING:
    from kcdata.program import Program

CONFORMS_TO = "https://project-open-data.cio.gov/v1.1/schema"
CATALOG_CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
CATALOG_DESCRIBED_BY = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"
SCHEMA_BASE = "https://project-open-data.cio.gov/v1.1/schema/"
SCHEMA_PACKAGE = "kcdata.export"
SCHEMA_DIR = "dcat_us_1_1"
SCHEMA_FILES = (
    "catalog-non-federal.json", "catalog.json", "dataset-non-federal.json", "dataset.json",
    "distribution.json", "organization.json", "vcard-non-federal.json", "vcard.json",
)
# Retired datasets are gone from the portal; their tombstone lives in the inventory, not the catalog.
EXCLUDED_STATUSES = frozenset({Status.RETIRED})


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramInfo:
    """The ``program:`` settings the catalog needs."""

    publisher: str
    portal_domain: str | None = None
    publisher_email: str | None = None
    schema_base_url: str | None = None  # where schemas/ is browsable, for ``describedBy`` of unpublished items

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ProgramInfo:
        """Read ``program:`` from kcdata.yaml settings (defaults when absent)."""
        from kcdata.settings import program_settings

        program = program_settings(settings)
        return cls(publisher=program.publisher or program.city or "City open data program",
                   portal_domain=program.portal_domain.rstrip("/") if program.portal_domain else None,
                   publisher_email=program.publisher_email,
                   schema_base_url=program.schema_base_url.rstrip("/") if program.schema_base_url else None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogProblem(Problem):
    """Why the catalog would not validate: the JSON path in the catalog, the dataset and the message."""

    code: str = "invalid-catalog"
    path: str
    dataset: str | None

    def location(self) -> str:
        return f"{self.dataset or '-'} {self.path}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogResult:
    catalog: dict[str, Any]
    problems: tuple[CatalogProblem, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def portal_urls(domain: str, portal_id: str) -> dict[str, str]:
    """The Socrata URLs of a published dataset: landing page, bulk CSV, SODA API and metadata."""
    return {
        "landing": f"https://{domain}/d/{portal_id}",
        "csv": f"https://{domain}/api/views/{portal_id}/rows.csv?accessType=DOWNLOAD",
        "api": f"https://{domain}/resource/{portal_id}.json",
        "metadata": f"https://{domain}/api/views/{portal_id}.json",
    }


def _issued(ds: Dataset) -> str | None:
    """The date of the first transition to ``published`` (DCAT ``issued``: formal issuance)."""
    for rec in ds.history:
        if rec.to_status == Status.PUBLISHED.value:
            try:
                return dt.date.fromisoformat(rec.at[:10]).isoformat()
            except ValueError:
                return None
    return None


def _modified(ds: Dataset) -> str | None:
    dates: list[dt.date] = []
    for rec in ds.history:
        try:
            dates.append(dt.date.fromisoformat(rec.at[:10]))
        except ValueError:
            continue
    if ds.last_reviewed:
        dates.append(ds.last_reviewed)
    return max(dates).isoformat() if dates else None


def dataset_entry(ds: Dataset, *, program: ProgramInfo, department_name: str | None = None) -> dict[str, Any]:
    """One inventory entry as a DCAT-US 1.1 dataset object."""
    publisher: dict[str, Any] = {"@type": "org:Organization", "name": program.publisher}
    if department_name and department_name != program.publisher:
        publisher = {"@type": "org:Organization", "name": department_name, "subOrganizationOf": publisher}
    contact: dict[str, Any] = {"@type": "vcard:Contact", "fn": ds.contact.name}
    email = ds.contact.email or program.publisher_email
    if email:
        contact["hasEmail"] = email if email.startswith("mailto:") else f"mailto:{email}"
    entry: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": ds.id,
        "title": ds.title,
        "description": ds.description,
        "accessLevel": ds.access_level.value,
        "publisher": publisher,
        "contactPoint": contact,
    }
    if ds.keywords:
        entry["keyword"] = list(ds.keywords)
    if ds.theme:
        entry["theme"] = [ds.theme]
    if ds.license:
        entry["license"] = ds.license
    if ds.rights or ds.access_level is not AccessLevel.PUBLIC:
        # Sunlight 4: what cannot be released is listed with why; a missing reason is caught by policy SUN-04.
        entry["rights"] = ds.rights
    if ds.accrual_periodicity:
        entry["accrualPeriodicity"] = ds.accrual_periodicity
    modified = _modified(ds)
    if modified:
        entry["modified"] = modified
    issued = _issued(ds)
    if issued:
        entry["issued"] = issued
    published = ds.status is Status.PUBLISHED and ds.portal_id and program.portal_domain
    if published:
        assert ds.portal_id is not None and program.portal_domain is not None
        urls = portal_urls(program.portal_domain, ds.portal_id)
        entry["landingPage"] = urls["landing"]
        entry["describedBy"] = urls["metadata"]
        entry["describedByType"] = "application/json"
        if ds.access_level is AccessLevel.PUBLIC:
            entry["distribution"] = [
                {"@type": "dcat:Distribution", "title": f"{ds.title} (CSV)", "downloadURL": urls["csv"],
                 "mediaType": "text/csv", "format": "CSV"},
                {"@type": "dcat:Distribution", "title": f"{ds.title} (SODA API)", "accessURL": urls["api"],
                 "mediaType": "application/json", "format": "API",
                 "describedBy": "https://dev.socrata.com/docs/endpoints.html"},
            ]
    elif ds.schema and program.schema_base_url:
        entry["describedBy"] = f"{program.schema_base_url}/{ds.schema}"
    return entry


def build_catalog(*, inventory: Inventory, program: ProgramInfo) -> dict[str, Any]:
    """The whole inventory (minus retired items) as a ``data.json`` catalog object."""
    names = {dep.id: dep.name for dep in inventory.departments}
    datasets = [dataset_entry(ds, program=program, department_name=names.get(ds.department))
                for ds in sorted(inventory.datasets, key=lambda d: d.id) if ds.status not in EXCLUDED_STATUSES]
    return {
        "@context": CATALOG_CONTEXT,
        "@type": "dcat:Catalog",
        "conformsTo": CONFORMS_TO,
        "describedBy": CATALOG_DESCRIBED_BY,
        "dataset": datasets,
    }


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    folder = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_DIR)
    return {name: json.loads(folder.joinpath(name).read_text(encoding="utf-8")) for name in SCHEMA_FILES}


def validator(*, profile: str = "non-federal") -> Any:
    """A draft-04 validator for a whole catalog, resolving every ``$ref`` from the vendored copies."""
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    schemas = _schemas()
    pairs: list[tuple[str, Resource[Any]]] = []
    for name, contents in schemas.items():
        resource = Resource.from_contents(contents, default_specification=DRAFT4)
        pairs.append((name, resource))
        pairs.append((SCHEMA_BASE + name, resource))
        # catalog-non-federal.json reuses catalog.json's id; keying it by that id would shadow the federal one.
        if name != "catalog-non-federal.json":
            pairs.append((str(contents.get("id", "")).rstrip("#"), resource))
    registry: Registry[Any] = Registry().with_resources(pairs)
    root = schemas["catalog-non-federal.json" if profile == "non-federal" else "catalog.json"]
    return Draft4Validator(root, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def validate_catalog(catalog: Mapping[str, Any], *, profile: str = "non-federal") -> tuple[CatalogProblem, ...]:
    """Every schema violation in ``catalog``, located by JSON path and dataset identifier."""
    problems = []
    raw = catalog.get("dataset")
    datasets: list[Any] = raw if isinstance(raw, list) else []
    for err in sorted(validator(profile=profile).iter_errors(catalog), key=lambda e: list(map(str, e.path))):
        path = list(err.absolute_path)
        dataset_id = None
        if len(path) >= 2 and path[0] == "dataset" and isinstance(path[1], int) and path[1] < len(datasets):
            item = datasets[path[1]]
            dataset_id = item.get("identifier") if isinstance(item, Mapping) else None
        json_path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        problems.append(CatalogProblem(path=json_path, dataset=dataset_id, message=_message(err)))
    return tuple(problems)


def _message(err: Any) -> str:
    # anyOf failures say only "is not valid under any of the given schemas"; the best sub-error says why.
    if err.context:
        from jsonschema.exceptions import best_match

        return str(best_match(err.context).message)
    return str(err.message)


def export_catalog(*, inventory: Inventory, program: ProgramInfo) -> CatalogResult:
    """Build the catalog and validate it against the official non-federal schemas."""
    catalog = build_catalog(inventory=inventory, program=program)
    return CatalogResult(catalog=catalog, problems=validate_catalog(catalog))


def export_program(program: Program) -> CatalogResult:
    """The catalog of a program folder: its ``program:`` settings and inventory."""
    return export_catalog(inventory=program.inventory, program=ProgramInfo.from_settings(program.settings))


def render_catalog(catalog: Mapping[str, Any]) -> str:
    """The catalog as written to ``data.json``: stable key order from construction, 2-space indent."""
    return json.dumps(catalog, ensure_ascii=False, indent=2) + "\n"
