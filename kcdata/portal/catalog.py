"""Discovery API (``GET /api/catalog/v1``) over the stored views, with an exact ``resultSetSize``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from kcdata.portal.types import CATALOG_TYPES
from kcdata.portal.views import is_public

DEFAULT_LIMIT = 100


class CatalogError(ValueError):
    """A bad catalog parameter (HTTP 400)."""


def _iso(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float):
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "dataset"


def entry(view: dict[str, Any], domain: str, scheme: str = "http") -> dict[str, Any]:
    """One catalog result in the Discovery API shape."""
    columns = view.get("columns", [])
    metadata = view.get("metadata") or {}
    custom = metadata.get("custom_fields") or {}
    domain_metadata = [{"key": f"{section}_{name}".replace(" ", "-"), "value": value}
                       for section, fields in custom.items() if isinstance(fields, dict)
                       for name, value in fields.items()]
    category = view.get("category")
    return {
        "resource": {
            "name": view.get("name"), "id": view["id"], "resource_name": None, "parent_fxf": [],
            "description": view.get("description") or "", "attribution": view.get("attribution"),
            "attribution_link": view.get("attributionLink"), "contact_email": None, "type": "dataset",
            "updatedAt": _iso(max(view.get("viewLastModified", 0), view.get("rowsUpdatedAt", 0))),
            "createdAt": _iso(view.get("createdAt")), "metadata_updated_at": _iso(view.get("viewLastModified")),
            "data_updated_at": _iso(view.get("rowsUpdatedAt")),
            "page_views": {"page_views_last_week": 0, "page_views_last_month": 0, "page_views_total": 0,
                           "page_views_last_week_log": 0, "page_views_last_month_log": 0,
                           "page_views_total_log": 0},
            "columns_name": [c.get("name") for c in columns],
            "columns_field_name": [c.get("fieldName") for c in columns],
            "columns_datatype": [CATALOG_TYPES.get(c.get("dataTypeName", "text"), "Text") for c in columns],
            "columns_description": [c.get("description") or "" for c in columns],
            "columns_format": [c.get("format") or {} for c in columns],
            "download_count": view.get("downloadCount", 0), "provenance": view.get("provenance", "official"),
            "lens_view_type": "tabular", "lens_display_type": "table", "locked": bool(view.get("locked")),
            "blob_mime_type": None, "hide_from_data_json": bool(view.get("hideFromDataJson")),
            "publication_date": _iso(view.get("publicationDate")),
        },
        "classification": {
            "categories": [], "tags": [], "domain_category": category,
            "domain_tags": list(view.get("tags") or []), "domain_metadata": domain_metadata,
        },
        "metadata": {"domain": domain, "license": (view.get("license") or {}).get("name")},
        "permalink": f"{scheme}://{domain}/d/{view['id']}",
        "link": f"{scheme}://{domain}/{_slug(category or 'dataset')}/{_slug(str(view.get('name', '')))}/{view['id']}",
        "owner": {"id": (view.get("owner") or {}).get("id"), "user_type": "interactive",
                  "display_name": (view.get("owner") or {}).get("displayName")},
        "creator": {"id": (view.get("owner") or {}).get("id"), "user_type": "interactive",
                    "display_name": (view.get("owner") or {}).get("displayName")},
    }


def _flag(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def _int(params: dict[str, list[str]], name: str, default: int) -> int:
    values = params.get(name)
    if not values:
        return default
    text = values[-1].strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # "²".isdigit() is True; int() refuses it
        raise CatalogError(f"{name} must be a non-negative integer below 10^18, got {values[-1][:40]!r}")
    return int(text)


def search(views: Sequence[dict[str, Any]], params: dict[str, list[str]], *, domain: str,
           authenticated: bool) -> dict[str, Any]:
    """Filter, order and page ``views`` as the Discovery API does."""
    limit = _int(params, "limit", DEFAULT_LIMIT)
    offset = _int(params, "offset", 0)
    hits = [v for v in views if v.get("assetType", "dataset") == "dataset"]
    if not authenticated:
        hits = [v for v in hits if is_public(v) and v.get("publicationStage") == "published"]
    if ids := params.get("ids"):
        hits = [v for v in hits if v["id"] in ids]
    if categories := params.get("categories"):
        wanted = {c.lower() for c in categories}
        hits = [v for v in hits if str(v.get("category") or "").lower() in wanted]
    if tags := params.get("tags"):
        wanted = {t.lower() for t in tags}
        hits = [v for v in hits if wanted & {str(t).lower() for t in v.get("tags") or []}]
    if (only := params.get("only")) and not {o.lower().rstrip("s") for o in only} & {"dataset"}:
        hits = []
    for name in ("public", "published"):
        if values := params.get(name):
            want = _flag(values[-1])
            test = is_public if name == "public" else (lambda v: v.get("publicationStage") == "published")
            hits = [v for v in hits if bool(test(v)) == want]
    if q := params.get("q"):
        terms = re.findall(r"\w+", q[-1].lower())
        hits = [v for v in hits if set(terms) <= set(re.findall(r"\w+", f"{v.get('name', '')} "
                f"{v.get('description', '')} {' '.join(map(str, v.get('tags') or []))}".lower()))]
    if order := params.get("order"):
        parts = order[-1].split()
        key_name = parts[0] if parts else "relevance"
        descending = len(parts) > 1 and parts[1].upper() == "DESC"
        keys = {"name": lambda v: str(v.get("name", "")).lower(), "createdAt": lambda v: v.get("createdAt", 0),
                "updatedAt": lambda v: max(v.get("viewLastModified", 0), v.get("rowsUpdatedAt", 0)),
                "relevance": lambda v: v.get("createdAt", 0)}
        if key_name not in keys:
            raise CatalogError(f"Cannot order by {key_name!r}; use name, createdAt, updatedAt or relevance")
        hits = sorted(hits, key=lambda v: (keys[key_name](v), v["id"]), reverse=descending)
    page = hits[offset:offset + limit]
    return {"results": [entry(v, domain) for v in page], "resultSetSize": len(hits),
            "timings": {"serviceMillis": 0, "searchMillis": [0, 0]}, "warnings": []}
