"""The row manifest kept *on the portal*, so any runner (a fresh CI machine) sends only the delta.

The manifest maps each row key to the source hash of the row as last published. It lives in a
private companion dataset (columns ``part`` number, ``data`` text); each ``data`` cell is one
base64-encoded part of up to :data:`PART_ROWS` keys and their 64-bit hashes, whose first byte
says what follows:

* ``I`` (a base part whose keys are all canonical integers, the common case): the row count,
  then the keys as zlib-compressed int64 differences (an id column in order compresses to
  almost nothing), then the hashes as raw little-endian ``uint64`` (random bytes: compressing
  them costs time and saves nothing);
* ``B`` (a base part with other keys) and ``D`` (a delta part: the rows just upserted, and the
  keys just deleted as rows with a null hash): a zlib-compressed Arrow IPC stream of
  ``{k: string, h: uint64}``.

Base parts come first, then delta parts in the order they were written. The public view
points at it from ``metadata.kcdata``::

    {"manifest_id": "abcd-2345", "fingerprint": "<mapping fingerprint>", "rows": 1000000,
     "digest": "<sha256 chain of the parts>", "parts": 10, "delta_rows": 0, "state": "clean" | "writing"}

``state`` is set to ``writing`` before any row of the public dataset changes and back to ``clean``
only after the new manifest is stored; a run killed in between leaves ``writing``, and the next
plan then reads the rows back from the portal instead of trusting the manifest. A manifest whose
fingerprint differs from the current column mapping, whose digest or row count does not match,
or that cannot be read is likewise ignored — the portal's rows are always the truth.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from kcdata.errors import PortalError
from kcdata.publish.client import INVENTORY_SECTION, PortalClient
from kcdata.publish.rows.rowset import RowDelta, RowHashes

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


def _chain(previous: str, blob: str) -> str:
    """The digest after one more part: a hash chain, so appending a part needs only the last digest."""
    return hashlib.sha256((previous + hashlib.sha256(blob.encode()).hexdigest()).encode()).hexdigest()


def _blob(kind: bytes, keys: Any, hashes: Any, deleted: Sequence[str] = ()) -> str:
    """One part: base64(zlib(kind byte + an Arrow IPC stream of ``{k: string, h: uint64}``)); a
    deleted key is a row with a null hash. Arrow IPC decodes without building Python objects."""
    import numpy as np
    import pyarrow as pa

    k = keys if isinstance(keys, pa.Array) else pa.array(list(keys), type=pa.string())
    h = pa.array(np.ascontiguousarray(hashes, dtype=np.uint64), type=pa.uint64())
    if deleted:
        k = pa.concat_arrays([k, pa.array(list(deleted), type=pa.string())])
        h = pa.concat_arrays([h, pa.nulls(len(deleted), type=pa.uint64())])
    batch = pa.record_batch([k, h], names=["k", "h"])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return base64.b64encode(zlib.compress(kind + sink.getvalue().to_pybytes(), 1)).decode()


def _int_keys(keys: Any) -> Any:
    """The keys as int64 when every one is a canonical integer (``str(int(k)) == k``), else None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        ints = pc.cast(keys, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if ints.null_count or not pc.all(pc.equal(pc.cast(ints, pa.string()), keys)).as_py():
        return None  # "007", "+7" or " 7" would not come back as written
    return ints.to_numpy()


_I_HEAD = 8  # "I" parts: uint32 row count, uint32 length of the compressed keys


def _int_blob(ints: Any, hashes: Any) -> str:
    import numpy as np

    deltas = np.diff(np.asarray(ints, dtype=np.int64), prepend=np.int64(0))
    zkeys = zlib.compress(deltas.astype("<i8").tobytes(), 1)
    head = np.array([len(deltas), len(zkeys)], dtype="<u4").tobytes()
    body = np.ascontiguousarray(hashes, dtype="<u8").tobytes()
    return base64.b64encode(b"I" + head + zkeys + body).decode()


def _int_part(raw: bytes) -> tuple[Any, Any]:
    """``(int64 keys, uint64 hashes)`` of an ``I`` part (``raw`` without its kind byte)."""
    import numpy as np

    if len(raw) < _I_HEAD:
        raise ValueError("damaged manifest part")
    n, zlen = (int(x) for x in np.frombuffer(raw, dtype="<u4", count=2))
    try:
        deltas = np.frombuffer(zlib.decompress(raw[_I_HEAD:_I_HEAD + zlen]), dtype="<i8")
    except zlib.error as exc:
        raise ValueError(f"damaged manifest part: {exc}") from exc
    if len(deltas) != n or len(raw) != _I_HEAD + zlen + 8 * n:
        raise ValueError("damaged manifest part")
    return np.cumsum(deltas), np.frombuffer(raw, dtype="<u8", count=n, offset=_I_HEAD + zlen)


def encode_parts(rows: RowHashes) -> tuple[list[dict[str, Any]], str]:
    """Base parts of a full manifest and its digest (see the module's docstring for the formats)."""
    out, digest = [], ""
    ints = _int_keys(rows.keys) if len(rows) else None
    for n, start in enumerate(range(0, max(len(rows), 1), PART_ROWS)):
        hashes = rows.hashes[start:start + PART_ROWS]
        if ints is not None:
            blob = _int_blob(ints[start:start + PART_ROWS], hashes)
        else:
            blob = _blob(b"B", rows.keys.slice(start, PART_ROWS), hashes)
        digest = _chain(digest, blob)
        out.append({"part": str(n), "data": blob})
    return out, digest


def decode_parts(parts: list[dict[str, Any]]) -> tuple[RowHashes, str]:
    """Base parts, then delta parts applied in order (parts in any order); ValueError when damaged."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    digest = ""
    keys: list[Any] = []
    hashes: list[Any] = []
    changes: dict[str, int | None] = {}
    for p in sorted(parts, key=lambda r: int(r.get("part", 0))):
        blob = str(p.get("data") or "")
        digest = _chain(digest, blob)
        try:
            raw = base64.b64decode(blob)
        except ValueError as exc:
            raise ValueError(f"damaged manifest part: {exc}") from exc
        kind = raw[:1]
        if kind == b"I":
            if changes:
                raise ValueError("a base part after a delta part")
            ints, h_np = _int_part(raw[1:])
            keys.append(ints)
            hashes.append(h_np)
            continue
        try:
            raw = zlib.decompress(raw)
            table = pa.ipc.open_stream(pa.py_buffer(raw[1:])).read_all()
        except (zlib.error, pa.ArrowInvalid) as exc:
            raise ValueError(f"damaged manifest part: {exc}") from exc
        kind = raw[:1]
        if table.column_names != ["k", "h"] or kind not in (b"B", b"D"):
            raise ValueError("damaged manifest part")
        k, h = table.column("k").combine_chunks(), table.column("h").combine_chunks()
        if kind == b"B":
            if changes or h.null_count:
                raise ValueError("a base part after a delta part, or with deletions")
            keys.append(k)
            hashes.append(h.to_numpy())
        else:
            changes.update(zip(k.to_pylist(), h.to_pylist(), strict=True))
    # Integer parts become key text in one cast (all parts of one manifest share a format).
    keys = [pc.cast(pa.array(k), pa.string()) if isinstance(k, np.ndarray) else k for k in keys]
    base_keys = pa.concat_arrays(keys) if keys else pa.array([], type=pa.string())
    base_hashes = np.concatenate(hashes).astype(np.uint64) if hashes else np.zeros(0, dtype=np.uint64)
    if not changes:
        return RowHashes(keys=base_keys, hashes=base_hashes), digest
    # Apply the deltas in place, so the keys keep the file's order (and the plan's cheap
    # "same keys in the same order" comparison keeps working): updates overwrite, deletes drop,
    # new keys go at the end.
    changed_keys = pa.array(list(changes), type=pa.string())
    values = pa.array(list(changes.values()), type=pa.uint64())
    # Probe the base keys against the (few) changed keys: a hash table of the changes, not of a
    # million base keys.
    at = pc.index_in(base_keys, value_set=changed_keys)
    base_at = np.flatnonzero(at.is_valid().to_numpy(zero_copy_only=False))
    change_at = at.drop_null().to_numpy().astype(np.int64)
    live = values.is_valid().to_numpy(zero_copy_only=False)
    value_arr = values.fill_null(0).to_numpy()
    base_hashes = base_hashes.copy()
    upd = live[change_at]
    base_hashes[base_at[upd]] = value_arr[change_at[upd]]
    keep = np.ones(len(base_keys), dtype=bool)
    keep[base_at[~upd]] = False
    found = np.zeros(len(changes), dtype=bool)
    found[change_at] = True
    new = np.flatnonzero(~found & live)
    out_keys = base_keys if keep.all() else base_keys.filter(pa.array(keep))
    out_hashes = base_hashes if keep.all() else base_hashes[keep]
    if len(new):
        out_keys = pa.concat_arrays([out_keys, changed_keys.take(pa.array(new))])
        out_hashes = np.concatenate([out_hashes, value_arr[new].astype(np.uint64)])
    return RowHashes(keys=out_keys, hashes=out_hashes), digest


def read(client: PortalClient, view: Mapping[str, Any], *, fingerprint: str) -> RowHashes | None:
    """The manifest's keys and hashes, or None when there is none we can trust."""
    parts = fetch(client, view, fingerprint=fingerprint)
    return None if parts is None else verify(view, parts)


def fetch(client: PortalClient, view: Mapping[str, Any], *, fingerprint: str) -> list[dict[str, Any]] | None:
    """The manifest's parts as stored (decode them with :func:`verify`), or None when the pointer
    is not one to trust or the parts cannot be read. Split from decoding so a caller can download
    in a background thread and decode where the CPU (and the GIL) is free."""
    rec = pointer(view)
    if rec.get("state") != "clean" or rec.get("fingerprint") != fingerprint or not rec.get("manifest_id"):
        return None
    try:
        return list(client.fetch_all_rows(str(rec["manifest_id"]), select=["part", "data"]))
    except PortalError:
        return None  # e.g. a PR plan without credentials cannot read the private manifest


def verify(view: Mapping[str, Any], parts: list[dict[str, Any]]) -> RowHashes | None:
    """The decoded parts when they match the pointer's digest, row and part counts, else None."""
    rec = pointer(view)
    try:
        rows, digest = decode_parts(parts)
    except ValueError:
        return None
    if digest != rec.get("digest") or len(rows) != rec.get("rows") or len(parts) != rec.get("parts"):
        return None
    return rows


def _companion(client: PortalClient, view: Mapping[str, Any], dataset_id: str) -> str:
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
    return str(manifest_id)


def write(client: PortalClient, view: Mapping[str, Any], *, dataset_id: str, hashes: RowHashes,
          fingerprint: str) -> dict[str, Any]:
    """Store a full manifest (creating the private companion on first use); returns the new
    pointer (state ``clean``) for the caller to save in the view's metadata."""
    manifest_id = _companion(client, view, dataset_id)
    rows, digest = encode_parts(hashes)
    # One part per request keeps every body small (~2 MB per 100,000 rows).
    for n, part in enumerate(rows):
        report = client.replace(manifest_id, [part]) if n == 0 else client.upsert(manifest_id, [part])
        if not report.ok:
            raise PortalError(f"{client.domain}: storing the row manifest {manifest_id} failed "
                              f"({report.errors} errors)")
    return {"manifest_id": manifest_id, "fingerprint": fingerprint, "rows": len(hashes), "digest": digest,
            "parts": len(rows), "delta_rows": 0, "state": "clean"}


def delta_part(view: Mapping[str, Any], *, changed: RowHashes, deleted: Sequence[str], total_rows: int,
               fingerprint: str) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """``(manifest id, part row, new pointer)`` of one delta part (the rows just upserted and the
    keys just deleted) extending the manifest ``view`` points at; None when a full manifest must be
    written instead (no extendable pointer, or the deltas grew past a fifth of the rows)."""
    rec = pointer(view)
    delta_rows = int(rec.get("delta_rows") or 0) + len(changed) + len(deleted)
    parts = rec.get("parts")
    if (not rec.get("manifest_id") or rec.get("fingerprint") != fingerprint or not isinstance(parts, int)
            or not rec.get("digest") or delta_rows > max(0.2 * total_rows, 1000) or parts >= 200):
        return None
    blob = _blob(b"D", changed.keys, changed.hashes, deleted)
    return str(rec["manifest_id"]), {"part": str(parts), "data": blob}, {
        "manifest_id": rec["manifest_id"], "fingerprint": fingerprint, "rows": total_rows,
        "digest": _chain(str(rec["digest"]), blob), "parts": parts + 1, "delta_rows": delta_rows, "state": "clean"}


def extends(delta: RowDelta) -> bool:
    """Whether storing ``delta`` appends a delta part (the plan read a trusted manifest and changes some
    rows) rather than rewriting the whole manifest."""
    return delta.from_manifest and not delta.every_row


def pending_part(view: Mapping[str, Any], *, delta: RowDelta, rows: RowHashes, fingerprint: str
                 ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """The delta part to store with the rows (see :func:`delta_part`), or None when the manifest is
    rewritten whole after the rows instead."""
    if not extends(delta):
        return None
    return delta_part(view, changed=delta.changed_rows(rows), deleted=delta.delete_keys, total_rows=len(rows),
                      fingerprint=fingerprint)


def store(client: PortalClient, view: Mapping[str, Any], *, dataset_id: str, delta: RowDelta, rows: RowHashes,
          fingerprint: str) -> dict[str, Any]:
    """Record the rows now on the portal: a delta part when :func:`extends`, else a full manifest;
    returns the new pointer."""
    if extends(delta):
        return write_delta(client, view, dataset_id=dataset_id, changed=delta.changed_rows(rows),
                           deleted=list(delta.delete_keys), total_rows=len(rows), fingerprint=fingerprint, full=rows)
    return write(client, view, dataset_id=dataset_id, hashes=rows, fingerprint=fingerprint)


def write_delta(client: PortalClient, view: Mapping[str, Any], *, dataset_id: str, changed: RowHashes,
                deleted: list[str], total_rows: int, fingerprint: str, full: RowHashes) -> dict[str, Any]:
    """Append one delta part (see :func:`delta_part`) instead of rewriting the whole manifest;
    falls back to :func:`write` when the pointer cannot be extended."""
    prepared = delta_part(view, changed=changed, deleted=deleted, total_rows=total_rows, fingerprint=fingerprint)
    if prepared is None:
        return write(client, view, dataset_id=dataset_id, hashes=full, fingerprint=fingerprint)
    manifest_id, part, new_pointer = prepared
    report = client.upsert(manifest_id, [part])
    if not report.ok:
        raise PortalError(f"{client.domain}: storing the row manifest delta failed ({report.errors} errors)")
    return new_pointer
