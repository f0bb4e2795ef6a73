"""The row manifest kept *on the portal*, so any runner (a fresh CI machine) sends only the delta.

The manifest maps each row key to the source hash of the row as last published. It lives in a
private companion dataset (columns ``part`` number, ``data`` text; each ``data`` cell is a
zlib-compressed, base64-encoded list of up to :data:`PART_ROWS` keys and their 64-bit hashes). The public view
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
from kcdata.publish.rowset import RowHashes

PART_ROWS = 100_000
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


def encode_parts(rows: RowHashes) -> tuple[list[dict[str, Any]], str]:
    """Manifest rows and their digest. A part's ``data`` is base64(zlib(JSON key list + NUL +
    little-endian uint64 hashes))."""
    import numpy as np

    keys = rows.key_list()
    hashes = rows.hashes.astype("<u8", copy=False)
    out, digest = [], hashlib.sha256()
    for n, start in enumerate(range(0, max(len(keys), 1), PART_ROWS)):
        chunk = json.dumps(keys[start:start + PART_ROWS], separators=(",", ":")).encode()
        raw = chunk + b"\x00" + np.ascontiguousarray(hashes[start:start + PART_ROWS]).tobytes()
        blob = base64.b64encode(zlib.compress(raw, 1)).decode()
        digest.update(blob.encode())
        out.append({"part": str(n), "data": blob})
    return out, digest.hexdigest()


def decode_parts(parts: list[dict[str, Any]]) -> tuple[RowHashes, str]:
    """The inverse of :func:`encode_parts` (parts in any order); raises ValueError when damaged."""
    import numpy as np
    import pyarrow as pa

    digest, keys, hashes = hashlib.sha256(), [], []
    for p in sorted(parts, key=lambda r: int(r.get("part", 0))):
        blob = str(p.get("data") or "")
        digest.update(blob.encode())
        try:
            raw = zlib.decompress(base64.b64decode(blob))
        except zlib.error as exc:
            raise ValueError(str(exc)) from exc
        head, _, tail = raw.partition(b"\x00")
        ks = json.loads(head)
        hs = np.frombuffer(tail, dtype="<u8").astype(np.uint64)
        if len(ks) != len(hs):
            raise ValueError("manifest part with mismatched keys and hashes")
        keys.extend(ks)
        hashes.append(hs)
    arr = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    return RowHashes(keys=pa.array(keys, type=pa.string()), hashes=arr), digest.hexdigest()


def read(client: PortalClient, view: Mapping[str, Any], *, fingerprint: str) -> RowHashes | None:
    """The manifest's keys and hashes, or None when there is none we can trust."""
    rec = pointer(view)
    if rec.get("state") != "clean" or rec.get("fingerprint") != fingerprint or not rec.get("manifest_id"):
        return None
    try:
        parts = list(client.fetch_all_rows(str(rec["manifest_id"]), select=["part", "data"]))
        rows, digest = decode_parts(parts)
    except PortalError:
        return None  # e.g. a PR plan without credentials cannot read the private manifest
    except ValueError:
        return None
    if digest != rec.get("digest") or len(rows) != rec.get("rows"):
        return None
    return rows


def write(client: PortalClient, view: Mapping[str, Any], *, dataset_id: str, hashes: RowHashes,
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
    # One part per request keeps every body small (~2 MB per 100,000 rows).
    for n, part in enumerate(rows):
        report = client.replace(str(manifest_id), [part]) if n == 0 else client.upsert(str(manifest_id), [part])
        if not report.ok:
            raise PortalError(f"{client.domain}: storing the row manifest {manifest_id} failed "
                              f"({report.errors} errors)")
    return {"manifest_id": manifest_id, "fingerprint": fingerprint, "rows": len(hashes), "digest": digest,
            "state": "clean"}
