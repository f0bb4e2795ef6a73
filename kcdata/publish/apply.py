"""Executing a :class:`~kcdata.publish.plan.DatasetPlan` — exactly what it says, nothing more.

Order of writes, chosen so that a run killed at any point and re-run finishes the job with no row
lost or duplicated:

* create: create the view (columns, row identifier, metadata with the inventory id and
  ``kcdata.state: writing``) → publish → public → upsert rows in chunks → store the manifest and
  set ``state: clean``. The view is findable by its inventory id from the first write on, so a
  re-run finds it instead of creating a second copy, and ``writing`` makes the re-run read the rows
  back instead of trusting a manifest.
* update: metadata (with ``state: writing`` when rows change) → upserts / ``:deleted`` rows in
  chunks (or a replace when asked) → publish/public if needed → manifest and ``state: clean``.

Upserts are keyed by the row identifier, so repeating a chunk (a retry, or a re-run) is harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kcdata.errors import KcdataError, PortalError
from kcdata.publish.client import PortalClient, UpsertReport
from kcdata.publish.metadata import view_fields
from kcdata.publish.phases import phase
from kcdata.publish.plan import Action, DatasetPlan, Desired, RowCounts
from kcdata.publish.rows import manifest
from kcdata.publish.rows.scan import SourceScan, iter_encoded_chunks, manifest_fingerprint
from kcdata.publish.settings import PublishSettings
from kcdata.publish.typemap import TableMapping

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (dataset id, rows sent, rows to send)


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetResult:
    """What happened to one dataset in an apply."""

    id: str
    action: Action
    portal_id: str | None
    rows: RowCounts
    result: str  # ok | noop | refused | failed
    reason: str | None = None
    duration_s: float = 0.0
    write_requests: int = 0
    recorded: bool = False  # status/portal_id written to the inventory


class _Uploader:
    """Sends chunks with up to ``parallel`` requests in flight, so encoding the next chunk overlaps
    the portal's work on the previous one. Any chunk with ``Errors > 0`` fails the dataset."""

    def __init__(self, client: PortalClient, portal_id: str, *, parallel: int, total: int, dataset_id: str,
                 on_progress: Progress | None) -> None:
        self.client, self.portal_id, self.parallel = client, portal_id, parallel
        self.total, self.sent, self.dataset_id, self.on_progress = total, 0, dataset_id, on_progress
        self.pending: list[tuple[Future[UpsertReport], int, bool, str]] = []
        self.pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="kcdata-upload")
        self.tolerated_errors = 0

    def submit(self, rows: list[dict[str, Any]], *, deletes: bool = False, target: str | None = None) -> None:
        """Upsert ``rows`` into the dataset (or into ``target``, e.g. its manifest: not counted as sent)."""
        while len(self.pending) >= self.parallel:
            self._collect(self.pending.pop(0))
        where = target or self.portal_id
        self.pending.append((self.pool.submit(self.client.upsert, where, rows), len(rows), deletes, where))

    def _collect(self, item: tuple[Future[UpsertReport], int, bool, str]) -> None:
        fut, n, deletes, where = item
        report = fut.result()
        if not report.ok:
            if deletes and report.attempts > 1 and report.errors <= n:
                # A retried delete whose first try had landed reports "already missing" rows as
                # errors; the final row count check decides whether anything is really wrong.
                self.tolerated_errors += report.errors
            else:
                raise PortalError(f"{self.client.domain}: the portal rejected {report.errors} of {n} rows "
                                  f"sent to {where}", code="upsert-errors",
                                  hint="Run `kcdata validate` on the dataset; re-running apply is safe.")
        if where != self.portal_id:
            return
        self.sent += n
        if self.on_progress:
            self.on_progress(self.dataset_id, self.sent, self.total)

    def finish(self) -> None:
        try:
            while self.pending:
                self._collect(self.pending.pop(0))
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _row_chunks(scanned: SourceScan, mapping: TableMapping, plan: DatasetPlan, size: int
                ) -> Iterator[list[dict[str, Any]]]:
    delta = plan.delta
    for _keys, rows in iter_encoded_chunks(scanned, mapping, keys=delta.upsert_keys, chunk_size=size,
                                           positions=delta.upsert_positions if not delta.every_row else None):
        yield rows


def _send_rows(client: PortalClient, plan: DatasetPlan, portal_id: str, *, scanned: SourceScan,
               mapping: TableMapping, settings: PublishSettings, on_progress: Progress | None,
               fresh: bool, also: tuple[str, dict[str, Any]] | None = None) -> int:
    """Upserts (or replace) and deletes of the plan, and ``also`` = ``(dataset, row)``, one more
    upsert sent alongside (the manifest delta part). Returns the tolerated delete errors."""
    upserts = plan.delta.upserts(scanned.row_count)
    total = upserts + len(plan.delta.delete_keys)
    up = _Uploader(client, portal_id, parallel=settings.parallel_uploads, total=total, dataset_id=plan.id,
                   on_progress=on_progress)
    try:
        # chunk_size is the upper bound; a delta that would fit in fewer requests than there are
        # parallel uploads is split evenly, so the requests overlap instead of queueing.
        size = min(settings.chunk_size, max(1_000, -(-upserts // settings.parallel_uploads)))
        chunks = _row_chunks(scanned, mapping, plan, size)
        if plan.replace and not fresh:
            first = next(chunks, [])
            up.finish()  # nothing may be in flight while the dataset is truncated
            report = client.replace(portal_id, first)
            if not report.ok:
                raise PortalError(f"{client.domain}: replace of {portal_id} reported {report.errors} errors")
            up = _Uploader(client, portal_id, parallel=settings.parallel_uploads, total=total,
                           dataset_id=plan.id, on_progress=on_progress)
            up.sent = len(first)
        for chunk in chunks:
            up.submit(chunk)
        if not plan.replace:
            key = mapping.row_identifier
            keys = list(plan.delta.delete_keys)
            for start in range(0, len(keys), settings.chunk_size):
                up.submit([{key: k, ":deleted": True} for k in keys[start:start + settings.chunk_size]],
                          deletes=True)
        if also is not None:
            up.submit([also[1]], target=also[0])
    finally:
        up.finish()
    return up.tolerated_errors


def apply_plan(client: PortalClient, plan: DatasetPlan, desired: Desired, *, settings: PublishSettings,
               on_progress: Progress | None = None) -> DatasetResult:
    """Execute one dataset's plan. Failures are returned as ``result="failed"``, not raised,
    so the other datasets still go ahead."""
    started, writes0 = time.monotonic(), client.write_requests
    portal_id = plan.portal_id

    def done(result: str, reason: str | None = None) -> DatasetResult:
        return DatasetResult(id=plan.id, action=plan.action, portal_id=portal_id, rows=plan.rows, result=result,
                             reason=reason, duration_s=round(time.monotonic() - started, 3),
                             write_requests=client.write_requests - writes0)

    if plan.action is Action.REFUSED:
        return done("refused", plan.reason)
    if plan.action is Action.NOOP and not plan.delta.refresh_manifest:
        return done("noop")
    if plan.action is Action.MAKE_PRIVATE:  # a retired dataset: nothing is deleted
        assert portal_id is not None
        try:
            with phase("make private", dataset=plan.id, client=client):
                client.set_permission(portal_id, public=False)
        except KcdataError as exc:
            return done("failed", exc.message)
        return done("ok", plan.reason)
    mapping = desired.mapping
    assert mapping is not None
    fields, metadata = view_fields(desired.metadata)

    def timed(name: str) -> Any:
        return phase(name, dataset=plan.id, client=client)

    try:
        ptr: dict[str, Any] | None = None  # the manifest pointer, once its rows are stored
        if plan.action is Action.CREATE:
            with timed("create view"):
                view = _create(client, plan, mapping, fields, metadata)
                portal_id = str(view["id"])
                client.publish_view(portal_id)
                client.set_permission(portal_id, public=True)
            with timed("upload rows"):
                _send_rows(client, plan, portal_id, scanned=desired.scan, mapping=mapping, settings=settings,
                           on_progress=on_progress, fresh=True)
        else:
            assert portal_id is not None
            view = plan.view or client.get_view(portal_id) or {}
            latest: Mapping[str, Any] | None = None
            rows_change = bool(plan.rows.total or plan.replace)
            changed_fields = {c.field for c in plan.metadata_changes}
            if changed_fields - {"publication", "visibility"} or rows_change or plan.columns.drift:
                with timed("metadata"):
                    md = dict(metadata)
                    if rows_change:
                        md[manifest.META_KEY] = {**manifest.pointer(view), "state": "writing"}
                    update = dict(fields)
                    if plan.columns.described or plan.columns.added:
                        update["columns"] = _column_edits(mapping, view)
                    latest = client.update_metadata(portal_id, fields=update, metadata=md) or None
                missing = [c for c in plan.columns.added
                           if c not in {x.get("fieldName") for x in (latest or view).get("columns") or []}]
                if missing:
                    raise PortalError(f"{client.domain}: the portal did not add column(s) {', '.join(missing)} "
                                      f"to {portal_id}", code="schema-change-unsupported",
                                      hint="Add the column on the portal by hand, then re-run apply.")
            if rows_change:
                also = None
                if plan.delta.refresh_manifest and latest:
                    # The manifest delta part goes up with the rows; the pointer (still "writing")
                    # only names it after the row count is checked, so a failure leaves it unused.
                    with timed("manifest delta"):
                        prepared = manifest.pending_part(latest, delta=plan.delta, rows=desired.scan.rows,
                                                          fingerprint=manifest_fingerprint(mapping))
                    if prepared is not None:
                        also, ptr = (prepared[0], prepared[1]), prepared[2]
                with timed("upload rows"):
                    tolerated = _send_rows(client, plan, portal_id, scanned=desired.scan, mapping=mapping,
                                           settings=settings, on_progress=on_progress, fresh=False, also=also)
                if tolerated:
                    log.info("%s: %d delete errors after retries, checked by row count", plan.id, tolerated)
            if "publication" in changed_fields:
                client.publish_view(portal_id)
                latest = None
            if "visibility" in changed_fields:
                client.set_permission(portal_id, public=True)
                latest = None
        if plan.delta.refresh_manifest:
            if plan.rows.total or plan.replace or plan.action is Action.CREATE:
                with timed("verify row count"):
                    count = client.count_rows(portal_id)
                if count != desired.scan.row_count:
                    raise PortalError(f"{client.domain}: {portal_id} holds {count} rows after the upload, the "
                                      f"source {desired.scan.row_count}", code="row-count-mismatch",
                                      hint="Re-run `kcdata publish apply`; it reads the rows back and fixes them.")
            with timed("manifest"):
                own = latest if plan.action is Action.UPDATE and latest and _carries_metadata(latest) else None
                if ptr is None:
                    current = own or client.get_view(portal_id) or {"id": portal_id}
                    ptr = manifest.store(client, current, dataset_id=plan.id, delta=plan.delta,
                                         rows=desired.scan.rows, fingerprint=manifest_fingerprint(mapping))
                # Our own metadata update's answer is the view's metadata now (rows do not touch it),
                # so the pointer is merged into it without reading the view again.
                client.update_metadata(portal_id, fields={}, metadata={manifest.META_KEY: ptr}, current=own)
        if desired.dictionary is not None and (plan.action is Action.CREATE or any(
                c.field == "dictionary" for c in plan.metadata_changes)):
            with timed("data dictionary"):
                _attach_dictionary(client, portal_id, desired)
    except KcdataError as exc:
        return done("failed", exc.message)
    return done("noop" if plan.action is Action.NOOP else "ok")


def _carries_metadata(view: Mapping[str, Any]) -> bool:
    """Whether an update's answer holds the whole ``metadata`` (with our pointer), so it can be the
    base of the next read-modify-write; a portal answering with less is read again instead."""
    meta = view.get("metadata")
    return isinstance(meta, Mapping) and isinstance(meta.get(manifest.META_KEY), Mapping)


def _create(client: PortalClient, plan: DatasetPlan, mapping: TableMapping, fields: Mapping[str, Any],
            metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    md = {**metadata, manifest.META_KEY: {"state": "writing"}}
    payload = {**fields, "metadata": md}
    payload.pop("name", None)
    columns = [c.to_view_column() for c in mapping.columns]
    return client.create_view(name=str(fields.get("name") or plan.title), columns=columns,
                              row_identifier=mapping.row_identifier, fields=payload,
                              find_existing=lambda: client.find_by_inventory_id(plan.id))


def _column_edits(mapping: TableMapping, view: Mapping[str, Any]) -> list[dict[str, Any]]:
    have = {c.get("fieldName"): c for c in view.get("columns") or [] if isinstance(c, Mapping)}
    out = []
    for c in mapping.columns:
        cur = have.get(c.field_name)
        item: dict[str, Any] = {"fieldName": c.field_name, "name": c.name, "description": c.description}
        if cur is not None and cur.get("id") is not None:
            item["id"] = cur["id"]
        else:
            item["dataTypeName"] = c.data_type
        out.append(item)
    return out


def _attach_dictionary(client: PortalClient, portal_id: str, desired: Desired) -> None:
    """Upload the data dictionary and make it the view's "Data dictionary" attachment (replacing the
    previous one, keeping other attachments); its digest in the metadata says it is current."""
    from kcdata.publish.metadata import DICTIONARY_KEY, DICTIONARY_NAME

    assert desired.dictionary is not None
    filename = f"{desired.id}-data-dictionary.md"
    asset = client.upload_attachment(filename=filename, data=desired.dictionary, mime="text/markdown")
    view = client.get_view(portal_id) or {}
    attachments = [a for a in (view.get("metadata") or {}).get("attachments") or []
                   if not (isinstance(a, Mapping) and a.get("name") == DICTIONARY_NAME)]
    attachments.append({"assetId": asset, "filename": filename, "name": DICTIONARY_NAME})
    client.update_metadata(portal_id, fields={}, current=view, metadata={
        "attachments": attachments, DICTIONARY_KEY: {"digest": desired.metadata.get("dictionary")}})
