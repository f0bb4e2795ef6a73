"""The row manifest kept *on the portal*, so any runner (a fresh CI machine) sends only the delta.

The manifest maps each row key to the source hash of the row as last published. It lives in a
private companion dataset (columns ``part`` number, ``data`` text; each ``data`` cell is a
zlib-compressed, base64-encoded JSON object of up to :data:`PART_ROWS` entries). The public view
points at it from ``metadata.kcdata``::

    {"manifest_id": "abcd-2345", "fingerprint": "<mapping fingerprint>", "rows": 1000000,
     "digest": "<sha256 of the parts>", "state": "clean" | "writing"}

``state`` is set to ``writing`` before any row of the public dataset changes and back to ``clean``
only after the new manifest is stored; a run killed in between leaves ``writing``, and the next
plan then reads the rows back from the portal instead of trusting the manifest. A manifest whose
fingerprint differs from the current column mapping, whose digest or row count does not match,
or that cannot be read is likewise ignored — the portal's rows are always the truth.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Mapping
from typing import Any

from kcdata.errors import PortalError
from kcdata.publish.client import INVENTORY_SECTION, PortalClient

PART_ROWS = 50_000
META_KEY = "kcdata"
MANIFEST_OF = "Manifest Of"
MANIFEST_COLUMNS = (
    {"fieldName": "part", "name": "part", "dataTypeName": "number", "description": "manifest part"},
    {"fieldName": "data", "name": "data", "dataTypeName": "text", "description": "zlib+base64 JSON"},
)


def pointer(view: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``metadata.kcdata`` record of a view (empty when none)."""
    meta = (view or {}).get("metadata")
    rec = meta.get(META_KEY) if isinstance(meta, Mapping) else None
    return dict(rec) if isinstance(rec, Mapping) else {}


def encode_parts(hashes: Mapping[str, str]) -> tuple[list[dict[str, Any]], str]:
    """Manifest rows and their digest."""
    items = list(hashes.items())
    rows, digest = [], hashlib.sha256()
    for n, start in enumerate(range(0, max(len(items), 1), PART_ROWS)):
        blob = base64.b64encode(zlib.compress(json.dumps(dict(items[start:start + PART_ROWS]),
                                                         separators=(",", ":")).encode(), 6)).decode()
        digest.update(blob.encode())
        rows.append({"part": str(n), "data": blob})
    return rows, digest.hexdigest()


def read(client: PortalClient, view: Mapping[str, Any], *, fingerprint: str) -> dict[str, str] | None:
    """The manifest's key → hash map, or None when there is none we can trust."""
    rec = pointer(view)
    if rec.get("state") != "clean" or rec.get("fingerprint") != fingerprint or not rec.get("manifest_id"):
        return None
    try:
        parts = sorted(client.fetch_all_rows(str(rec["manifest_id"]), select=["part", "data"]),
                       key=lambda r: int(r.get("part", 0)))
    except PortalError:
        return None  # e.g. a PR plan without credentials cannot read the private manifest
    digest, out = hashlib.sha256(), {}
    try:
        for p in parts:
            blob = str(p.get("data") or "")
            digest.update(blob.encode())
            out.update(json.loads(zlib.decompress(base64.b64decode(blob))))
    except (ValueError, zlib.error):
        return None
    if digest.hexdigest() != rec.get("digest") or len(out) != rec.get("rows"):
        return None
    return out


def write(client: PortalClient, view: Mapping[str, Any], *, dataset_id: str, hashes: Mapping[str, str],
          fingerprint: str) -> dict[str, Any]:
    """Store the manifest (creating the private companion on first use); returns the new pointer
    (state ``clean``) for the caller to save in the view's metadata."""
    rec = pointer(view)
    manifest_id = rec.get("manifest_id")
    if manifest_id and client.get_view(str(manifest_id)) is None:
        manifest_id = None
    if not manifest_id:  # first publish, or a run killed before the pointer was saved
        found = client.find_by_custom_field(INVENTORY_SECTION, MANIFEST_OF, dataset_id)
        manifest_id = found["id"] if found else None
    if not manifest_id:
        created = client.create_view(
            name=f"kcdata manifest: {dataset_id}", columns=MANIFEST_COLUMNS, row_identifier="part",
            fields={"description": f"Row manifest kept by kcdata publish for {view.get('id')}; not a dataset.",
                    "hideFromCatalog": True,
                    "metadata": {"custom_fields": {INVENTORY_SECTION: {MANIFEST_OF: dataset_id}}}},
            find_existing=lambda: client.find_by_custom_field(INVENTORY_SECTION, MANIFEST_OF, dataset_id))
        manifest_id = created["id"]
    rows, digest = encode_parts(hashes)
    # One part per request keeps every body small (~1 MB per 50,000 rows).
    for n, part in enumerate(rows):
        report = client.replace(str(manifest_id), [part]) if n == 0 else client.upsert(str(manifest_id), [part])
        if not report.ok:
            raise PortalError(f"{client.domain}: storing the row manifest {manifest_id} failed "
                              f"({report.errors} errors)")
    return {"manifest_id": manifest_id, "fingerprint": fingerprint, "rows": len(hashes), "digest": digest,
            "state": "clean"}
