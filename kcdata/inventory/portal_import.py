"""``kcdata inventory import --from-portal URL``: a city's Socrata catalog as inventory records.

The Discovery API (``/api/catalog/v1?domains=DOMAIN&only=dataset``, paged with ``limit``/``offset``
until ``resultSetSize`` results are read; a server may return fewer per page than asked) lists the
datasets; each one's view (``/api/views/{id}.json``) gives its columns, row identifier, custom
fields, licence and attribution. When a view cannot be read (404, or a federated catalog entry),
the catalog's own ``columns_*`` lists give the schema.

Each dataset becomes a :class:`~kcdata.inventory.importmap.Record` for the importer (so the same
mapping file, dry run, ``--update`` and lint checks apply) with ``status: published``, its
``portal_id``, a department (a custom field named by ``department_field``, else the attribution,
through the map's ``departments``), and a Table Schema written to ``schemas/<id>.schema.json``.
What kcdata itself published is recognised: its ``Inventory ID``, ``Department``, ``License`` and
``Update Frequency`` custom fields (kcdata.publish.metadata) come back as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from kcdata.config import INVENTORY_DIR
from kcdata.errors import InputError, PortalError
from kcdata.inventory.entry import slugify
from kcdata.inventory.importmap import Cell, ImportMap, Record
from kcdata.inventory.socrata_schema import schema_from_catalog, schema_from_view

PAGE_SIZE = 100
TIMEOUT = 30
SCHEMA_DIR = "schemas"
LICENSES = {  # Socrata licenseId / display name (lower case) -> licence URL
    "cc0_10": "https://creativecommons.org/publicdomain/zero/1.0/",
    "creative commons 1.0 universal": "https://creativecommons.org/publicdomain/zero/1.0/",
    "creative commons 1.0 universal (public domain dedication)": "https://creativecommons.org/publicdomain/zero/1.0/",
    "cc_40_by": "https://creativecommons.org/licenses/by/4.0/",
    "creative commons attribution 4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc_30_by": "https://creativecommons.org/licenses/by/3.0/",
    "creative commons attribution 3.0 unported": "https://creativecommons.org/licenses/by/3.0/",
    "cc_30_by_sa": "https://creativecommons.org/licenses/by-sa/3.0/",
    "pddl": "https://opendatacommons.org/licenses/pddl/",
    "open data commons pddl": "https://opendatacommons.org/licenses/pddl/",
    "odc_by": "https://opendatacommons.org/licenses/by/",
    "odbl": "https://opendatacommons.org/licenses/odbl/",
    "open data commons odbl": "https://opendatacommons.org/licenses/odbl/",
}
FREQUENCIES = {  # the portal's update-frequency labels -> ISO 8601 repeating durations
    "hourly": "R/PT1H", "daily": "R/P1D", "weekly": "R/P1W", "biweekly": "R/P2W", "monthly": "R/P1M",
    "quarterly": "R/P3M", "semiannually": "R/P6M", "annually": "R/P1Y", "yearly": "R/P1Y",
    "as needed": "irregular", "irregular": "irregular", "historical data": "irregular",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalCatalog:
    """The records to import and each dataset's Table Schema (by dataset id), not yet written."""

    records: tuple[Record, ...]
    schemas: dict[str, dict[str, Any]]


def _get(url: str, *, session: Any, allow_404: bool = False) -> Any:
    import requests

    try:
        resp = session.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise PortalError(f"cannot reach the portal at {url}: {type(exc).__name__}",
                          hint="Check the URL and the network, then run the command again.") from exc
    if allow_404 and resp.status_code in (403, 404):
        return None
    if resp.status_code >= 400:
        raise PortalError(f"the portal answered HTTP {resp.status_code} for {url}",
                          hint="Nothing was written. Try again later, or check the portal URL.")
    try:
        return resp.json()
    except ValueError as exc:
        raise PortalError(f"the portal's answer for {url} is not JSON",
                          hint="Is URL the portal's address (e.g. https://data.kcmo.org)?") from exc


def catalog_results(*, url: str, session: Any, page_size: int = PAGE_SIZE,
                    on_page: Callable[[int, int], None] | None = None) -> Iterator[dict[str, Any]]:
    """Every dataset result of the portal's Discovery API, page by page."""
    base = url.rstrip("/")
    domain = urlsplit(base).netloc
    offset = 0
    while True:
        query = urlencode({"domains": domain, "only": "dataset", "limit": page_size, "offset": offset})
        page = _get(f"{base}/api/catalog/v1?{query}", session=session)
        results = page.get("results") if isinstance(page, dict) else None
        if not isinstance(results, list):
            raise PortalError(f"{base}/api/catalog/v1 did not answer a catalog (no `results` list)")
        total = page.get("resultSetSize")
        total = total if isinstance(total, int) else offset + len(results)
        yield from (r for r in results if isinstance(r, dict))
        offset += len(results)
        if on_page is not None:
            on_page(min(offset, total), total)
        if not results or offset >= total:
            return


def portal_catalog(*, url: str, root: Path, mapping: ImportMap, department_field: str | None = None,
                   page_size: int = PAGE_SIZE, on_page: Callable[[int, int], None] | None = None) -> PortalCatalog:
    """Read the portal's catalog and views into records (see the module doc). Writes nothing."""
    import requests

    if not url.startswith(("http://", "https://")):
        raise InputError(f"not a portal URL: {url!r}", hint="Give the portal's address, e.g. https://data.kcmo.org")
    base = url.rstrip("/")
    known = _portal_ids(root)
    records, schemas, taken = [], {}, set(known.values())
    with requests.Session() as session:
        for result in catalog_results(url=base, session=session, page_size=page_size, on_page=on_page):
            res = result.get("resource") or {}
            four = res.get("id")
            if not isinstance(four, str):
                continue
            view = _get(f"{base}/api/views/{four}.json", session=session, allow_404=True)
            record, schema = _record(result, view if isinstance(view, dict) else None, base=base,
                                     department_field=department_field, known=known, taken=taken)
            taken.add(str(record.extra["id"]))
            records.append(record)
            schemas[str(record.extra["id"])] = schema
    return PortalCatalog(records=tuple(records), schemas=schemas)


def _record(result: Mapping[str, Any], view: Mapping[str, Any] | None, *, base: str,
            department_field: str | None, known: Mapping[str, str], taken: set[str]) -> tuple[Record, dict[str, Any]]:
    res = result.get("resource") or {}
    cls = result.get("classification") or {}
    four = str(res["id"])
    custom = _custom_fields(view, cls)
    if view is not None:
        schema, row_id = schema_from_view(view)
    else:
        schema, row_id = schema_from_catalog(res), None
    name = (view or {}).get("name") or res.get("name") or four
    dataset_id = custom.get("inventory id") or known.get(four) or slugify(str(name)) or four
    if dataset_id in taken and known.get(four) != dataset_id:
        dataset_id = f"{dataset_id}-{four}"  # two portal datasets with one name
    attribution = (view or {}).get("attribution") or res.get("attribution")
    department = (custom.get(department_field.lower()) if department_field else None) or custom.get("department") \
        or attribution
    licence = _licence(view, result, custom)
    frequency = custom.get("update frequency")
    owner = ((view or {}).get("owner") or result.get("owner") or {})
    cells = {
        "title": name, "description": (view or {}).get("description") or res.get("description"),
        "department": department,
        "keywords": list((view or {}).get("tags") or cls.get("domain_tags") or []) or None,
        "theme": (view or {}).get("category") or cls.get("domain_category"),
        "contact_name": attribution or owner.get("displayName") or owner.get("display_name"),
        "contact_email": custom.get("contact email") or res.get("contact_email"),
        "access_level": "public",
        "license": licence,
        "accrual_periodicity": FREQUENCIES.get(str(frequency).strip().lower(), frequency) if frequency else None,
    }
    extra = {"id": dataset_id, "data": f"{base}/resource/{four}.csv",
             "schema": f"{SCHEMA_DIR}/{dataset_id}.schema.json", "status": "published", "portal_id": four}
    if row_id:
        extra["row_identifier"] = row_id
    record = Record(label=f"{dataset_id} ({four})", row=None,
                    cells={k: Cell(value=v) for k, v in cells.items() if v not in (None, "", [])}, extra=extra)
    return record, schema


def _custom_fields(view: Mapping[str, Any] | None, cls: Mapping[str, Any]) -> dict[str, str]:
    """Custom metadata fields by lower-case field name (``Update Frequency``), from the view or the catalog."""
    out: dict[str, str] = {}
    for item in cls.get("domain_metadata") or []:
        if isinstance(item, Mapping) and isinstance(item.get("key"), str) and item.get("value") not in (None, ""):
            name = item["key"].split("_", 1)[-1].replace("-", " ").lower()
            out[name] = str(item["value"])
    meta = (view or {}).get("metadata")
    custom = meta.get("custom_fields") if isinstance(meta, Mapping) else None
    for fields in (custom or {}).values() if isinstance(custom, Mapping) else ():
        if isinstance(fields, Mapping):
            out.update({str(k).lower(): str(v) for k, v in fields.items() if v not in (None, "")})
    return out


def _licence(view: Mapping[str, Any] | None, result: Mapping[str, Any], custom: Mapping[str, str]) -> str | None:
    if custom.get("license", "").startswith("http"):
        return custom["license"]
    lic = (view or {}).get("license") if isinstance((view or {}).get("license"), Mapping) else {}
    for key in ((view or {}).get("licenseId"), (lic or {}).get("termsLink"), (lic or {}).get("name"),
                (result.get("metadata") or {}).get("license")):
        if isinstance(key, str) and key:
            if key.startswith("http"):
                return key
            if key.strip().lower() in LICENSES:
                return LICENSES[key.strip().lower()]
    return None  # "Public Domain", "See Terms of Use": not a licence URL kcdata can name


def _portal_ids(root: Path) -> dict[str, str]:
    """Portal four-by-four -> inventory id, for datasets already in the inventory."""
    from kcdata.inventory.importer import existing_entries

    if not (Path(root) / INVENTORY_DIR).is_dir():
        return {}
    return {e["portal_id"]: i for i, (_, e) in existing_entries(root).items() if isinstance(e.get("portal_id"), str)}


