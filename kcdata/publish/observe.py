"""Gathering both sides of a plan: the desired state from the inventory (entry, schema, CSV) and
the remote state from the portal (view, manifest or rows). All I/O of planning lives here.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kcdata.errors import InputError, KcdataError
from kcdata.inventory.model import AccessLevel, Classification, Dataset, Status
from kcdata.publish.client import PortalClient, inventory_id_of
from kcdata.publish.metadata import desired_metadata
from kcdata.publish.phases import phase
from kcdata.publish.plan import Desired, Remote
from kcdata.publish.rows import manifest
from kcdata.publish.rows.rowset import RowHashes
from kcdata.publish.rows.scan import manifest_fingerprint, scan
from kcdata.publish.rows.valuehash import key_texts, row_hashes, value_hashes
from kcdata.publish.rows.valuehash import local_value_hashes as source_value_hashes
from kcdata.publish.typemap import TableMapping, table_mapping
from kcdata.review.machine import is_open_license

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from kcdata.program import Program

log = logging.getLogger(__name__)

CANDIDATE_STATUSES = frozenset({Status.APPROVED, Status.PUBLISHED})


def gate_refusals(dataset: Dataset, *, named: bool) -> list[str]:
    """Reasons the inventory entry alone forbids publishing."""
    out = []
    if dataset.status not in CANDIDATE_STATUSES:
        out.append(f"status is {dataset.status.value}, not approved" + ("" if named else " or published"))
    if dataset.status is Status.APPROVED and not any(
            str(getattr(h.to_status, "value", h.to_status)) == Status.APPROVED.value for h in dataset.history):
        out.append("status is approved but no approval is recorded in `history`: approve it with "
                   "`kcdata review approve`, which runs the gate and records who and when")
    if dataset.access_level is not AccessLevel.PUBLIC:
        out.append(f"access_level is {dataset.access_level.value}: only public datasets are published")
    if dataset.classification is not Classification.PUBLIC:
        out.append(f"classification is {dataset.classification.value}: only public data is published")
    if dataset.contains_pii:
        out.append("contains_pii is true")
    if not is_open_license(dataset.license):
        out.append(f"license {dataset.license!r} is not an open licence URL (CC0, PDDL, ODC-By, ODbL, CC-BY, "
                   "CC-BY-SA), as the approve gate requires" if dataset.license else "no open `license`")
    if not dataset.data:
        out.append("no `data` file")
    elif "://" in dataset.data:
        out.append("`data` is a URL; publish needs a local file")
    if not dataset.schema:
        out.append("no `schema`")
    return out


def validation_refusal(program: Program, dataset: Dataset) -> str | None:
    """The validation gate: None when the data passes its schema, else the reason."""
    try:
        report = program.validate(dataset)
    except KcdataError as exc:
        return f"validation could not run: {exc.message}"
    if report is None:
        return None
    # The error count decides: a report with zero errors passes even if its `valid` flag disagrees
    # (seen with the fast engine's zero-count entries); an unvalidatable file counts one error.
    if report.error_count > 0:
        return f"validation failed ({report.error_count} errors): run `kcdata validate {dataset.id}`"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Started:
    """The first, cheap half of the desired side: gate refusals, metadata and the column mapping."""

    dataset: Dataset
    refusals: list[str]
    metadata: Mapping[str, Any]
    mapping: TableMapping | None


def _start_desired(program: Program, dataset: Dataset, *, named: bool) -> _Started:
    refusals = gate_refusals(dataset, named=named)
    try:
        dept = program.inventory.department(dataset.department).name
    except KcdataError:
        dept = dataset.department
    meta = desired_metadata(dataset, department_name=dept)
    mapping = None
    if not refusals:
        try:
            schema = program.schema(dataset).descriptor
            mapping = table_mapping(schema, row_identifier=dataset.row_identifier, where=str(dataset.schema))
        except InputError as exc:
            refusals.append(exc.message)
    return _Started(dataset=dataset, refusals=refusals, metadata=meta, mapping=mapping)


def _finish_desired(program: Program, started: _Started, *, check_validation: bool) -> Desired:
    dataset, refusals, mapping = started.dataset, list(started.refusals), started.mapping
    sc = None
    if mapping is not None:
        try:
            with phase("validation gate", dataset=dataset.id):
                why = validation_refusal(program, dataset) if check_validation else None
            if why:
                refusals.append(why)
            else:
                with phase("read and hash CSV", dataset=dataset.id):
                    sc = scan(_table_path(program, dataset), mapping)
                if sc.duplicates:
                    refusals.append(f"duplicate row identifier values ({', '.join(sc.duplicates[:5])})")
                if sc.empty_keys:
                    refusals.append(f"{sc.empty_keys} rows have an empty row identifier")
        except InputError as exc:
            refusals.append(exc.message)
    meta = dict(started.metadata)
    try:
        dept = program.inventory.department(dataset.department).name
    except KcdataError:
        dept = dataset.department
    dictionary = _dictionary(program.root, dataset, dept) if mapping is not None else None
    if dictionary is not None:
        meta["dictionary"] = hashlib.sha256(dictionary).hexdigest()[:16]
    return Desired(id=dataset.id, title=dataset.title, metadata=meta, mapping=mapping,
                   rows=sc.rows if sc is not None else None, refusals=tuple(refusals), scan=sc,
                   dictionary=dictionary)


def _table_path(program: Program, dataset: Dataset) -> Path:
    """The CSV the rows are read from: the data file, or for a GeoJSON FeatureCollection the CSV of its
    features (as validation reads it; kept under ``.kcdata/features/`` by content, so a re-run reuses it)."""
    from kcdata.validate import geocheck

    path = (program.root / str(dataset.data)).resolve()
    if not geocheck.is_feature_collection(path) or not path.is_file():
        return path
    descriptor = program.schema(dataset).descriptor
    digest = hashlib.sha256(path.read_bytes() + repr(descriptor.get("fields")).encode()).hexdigest()[:24]
    table = program.root / ".kcdata" / "features" / f"{digest}.csv"
    if not table.is_file():
        table.parent.mkdir(parents=True, exist_ok=True)
        staging = table.with_suffix(f".{os.getpid()}.tmp")
        geocheck.features_to_csv(path, descriptor, staging)
        os.replace(staging, table)
    return table


def _dictionary(root: Path, dataset: Dataset, department_name: str) -> bytes | None:
    """The dataset's data dictionary as Markdown, attached to its portal dataset (None when it has none).

    The fields as the schema describes them, without example values and missing counts (so a data-only
    update is not a dictionary change; the site and `kcdata dictionary` show them) and without what
    the view itself carries (so a description edit is one metadata change, not two)."""
    from kcdata.dictionary import build_dictionary
    from kcdata.dictionary.render import to_markdown

    try:
        d = build_dictionary(root=root, dataset=dataset, department_name=department_name, with_data=False)
    except KcdataError:
        return None
    # what the view itself shows (description, contact, licence, frequency) stays on the view only
    return to_markdown(replace(d, description="", contact=None, license=None, accrual_periodicity=None)).encode()


def build_desired(program: Program, dataset: Dataset, *, named: bool, check_validation: bool = True) -> Desired:
    """Everything the portal should hold for ``dataset``; gate failures become refusals."""
    return _finish_desired(program, _start_desired(program, dataset, named=named), check_validation=check_validation)


def observe_dataset(program: Program, client: PortalClient, dataset: Dataset, *, named: bool,
                    production_domain: str | None, pool: Executor) -> tuple[Desired, Remote | None]:
    """Both sides of one dataset's plan. The portal reads that do not depend on the CSV (view,
    manifest, row count: :func:`prefetch`) run on ``pool`` while this thread validates and scans it."""
    started = _start_desired(program, dataset, named=named)
    pending = None
    if started.mapping is not None:
        pending = pool.submit(prefetch, client, dataset, started.mapping, production_domain=production_domain)
    desired = _finish_desired(program, started, check_validation=True)
    with phase("wait for the portal state", dataset=dataset.id):
        pre = pending.result() if pending is not None else None
    if desired.refusals:
        return desired, None
    return observe(client, desired, dataset, production_domain=production_domain, pre=pre, pool=pool)


def find_view(client: PortalClient, dataset: Dataset, *, production_domain: str | None
              ) -> tuple[Mapping[str, Any] | None, str, tuple[str, ...]]:
    """Identity: the recorded ``portal_id`` on the production portal, else the inventory id in the
    view's custom metadata. A recorded id missing on its portal is a refusal, never a re-create."""
    on_production = production_domain is not None and client.domain.lower() == production_domain
    if on_production and dataset.portal_id:
        view = client.get_view(dataset.portal_id)
        if view is None:
            return None, "recorded-id", (f"recorded portal_id {dataset.portal_id} does not exist on "
                                         f"{client.domain}; not re-creating it (fix or clear portal_id)",)
        owner = inventory_id_of(view)
        if owner is not None and owner != dataset.id:
            # A view published before kcdata (no inventory id yet) is adopted; someone else's is not.
            return view, "recorded-id", (f"recorded portal_id {dataset.portal_id} on {client.domain} belongs to "
                                         f"inventory dataset '{owner}'; fix portal_id",)
        return view, "recorded-id", ()
    found = client.find_by_inventory_id(dataset.id)
    return found, "inventory-id" if found else "none", ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Prefetch:
    """The portal reads a plan needs that do not depend on the CSV (done while it is scanned)."""

    view: Mapping[str, Any] | None
    identity: str
    refusals: tuple[str, ...]
    manifest: RowHashes | None = None
    count: int | None = None


def prefetch(client: PortalClient, dataset: Dataset, mapping: TableMapping, *,
             production_domain: str | None) -> Prefetch:
    with phase("portal state (view, manifest, count)", dataset=dataset.id, client=client):
        return _prefetch(client, dataset, mapping, production_domain=production_domain)


def _prefetch(client: PortalClient, dataset: Dataset, mapping: TableMapping, *,
              production_domain: str | None) -> Prefetch:
    view, identity, refusals = find_view(client, dataset, production_domain=production_domain)
    if refusals or view is None:
        return Prefetch(view=view, identity=identity, refusals=refusals)
    parts = manifest.fetch(client, view, fingerprint=manifest_fingerprint(mapping))
    # Decoded in this (background) thread too: measured at 1M rows, moving the decode to the main
    # thread after the CSV hash made the plan slower (0.46 s vs 0.34-0.36 s medians), not faster.
    with phase("decode manifest", dataset=dataset.id):
        rows = manifest.verify(view, parts) if parts is not None else None
    count = client.count_rows(str(view["id"])) if rows is not None else None
    return Prefetch(view=view, identity=identity, refusals=refusals, manifest=rows, count=count)


def observe(client: PortalClient, desired: Desired, dataset: Dataset, *, production_domain: str | None,
            pre: Prefetch | None = None, pool: Executor | None = None) -> tuple[Desired, Remote]:
    """The portal side of the plan. When no trustworthy manifest exists the rows are read back
    from the portal and both sides are compared by value hash (``desired`` gains them); the CSV side
    is hashed on ``pool`` (the plan's own, else a temporary one) while the portal's pages arrive."""
    if desired.mapping is None or desired.rows is None:
        return desired, Remote(view=None, identity="none")
    mapping = desired.mapping
    if pre is None:
        pre = prefetch(client, dataset, mapping, production_domain=production_domain)
    view, identity = pre.view, pre.identity
    if pre.refusals or view is None:
        return desired, Remote(view=view, identity=identity, refusals=pre.refusals)
    portal_id = str(view["id"])
    hashes, count = pre.manifest, pre.count
    if hashes is not None:
        if count == len(hashes):
            return desired, Remote(view=view, identity=identity, row_count=count, hashes=hashes,
                                   hash_kind="source", manifest_ok=True)
        log.info("%s: manifest holds %d rows, the portal %d: reading the rows", dataset.id, len(hashes), count)
    with phase("read rows back from the portal", dataset=dataset.id, client=client), contextlib.ExitStack() as stack:
        if pool is None:
            from concurrent.futures import ThreadPoolExecutor

            pool = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="kcdata-value-hash"))
        local = pool.submit(local_value_hashes, desired, mapping)
        theirs = portal_value_hashes(client, portal_id, view, mapping)
        ours = local.result()
    return replace(desired, value_hashes=ours), Remote(view=view, identity=identity, row_count=len(theirs),
                                                        hashes=theirs, hash_kind="value")


def _shared_columns(mapping: TableMapping, view: Mapping[str, Any]) -> list[Any]:
    have = {c.get("fieldName") for c in view.get("columns") or [] if isinstance(c, Mapping)}
    return [c for c in mapping.columns if c.field_name in have or c.field_name == mapping.row_identifier]


def portal_value_hashes(client: PortalClient, portal_id: str, view: Mapping[str, Any],
                        mapping: TableMapping, *, batch: int = 50_000) -> RowHashes:
    """Every portal row's value hash (:func:`source.value_hashes`), read page by page; columns the
    portal lacks count as null."""
    import itertools

    cols = _shared_columns(mapping, view)
    kcol = mapping.column(mapping.row_identifier)
    names = [c.field_name for c in mapping.columns]
    keys: list[Any] = []
    hashes: list[Any] = []
    rows = client.fetch_all_rows(portal_id, select=[c.field_name for c in cols])
    while got := list(itertools.islice(rows, batch)):
        page = [r for r in got if r.get(kcol.field_name) is not None]
        keys.append(key_texts(kcol, [r[kcol.field_name] for r in page]))
        hashes.append(value_hashes(mapping.columns, [[r.get(n) for r in page] for n in names]))
    return row_hashes(keys, hashes)


def local_value_hashes(desired: Desired, mapping: TableMapping) -> RowHashes:
    # All mapped columns: a column the portal lacks yet must count as a change where it has values.
    return source_value_hashes(desired.scan, mapping)
