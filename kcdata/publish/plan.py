"""The plan: a pure diff between what a dataset should be (:class:`Desired`) and what the portal
holds (:class:`Remote`). No I/O here — :mod:`kcdata.publish.observe` gathers both sides and
:mod:`kcdata.publish.apply` executes exactly the :class:`DatasetPlan` computed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kcdata.jsonable import fields_of
from kcdata.publish.metadata import FIELDS, current_metadata
from kcdata.publish.rows.rowset import RowDelta, RowHashes, diff
from kcdata.publish.typemap import TableMapping


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    NOOP = "noop"
    REFUSED = "refused"
    MAKE_PRIVATE = "make-private"  # a retired dataset: the portal view stops being public; nothing is deleted


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanOptions:
    allow_schema_change: bool = False
    force: bool = False
    replace: bool = False
    max_delete_share: float = 0.2


@dataclass(frozen=True, slots=True, kw_only=True)
class Desired:
    """What the portal should hold for one dataset, from the inventory, schema and CSV."""

    id: str
    title: str
    metadata: Mapping[str, Any]
    mapping: TableMapping | None
    rows: RowHashes | None  # key → source hash of every CSV row
    value_hashes: RowHashes | None = None  # computed only when the portal has no usable manifest
    refusals: tuple[str, ...] = ()
    scan: Any = None  # the SourceScan the rows are uploaded from (apply only)
    dictionary: bytes | None = None  # the data dictionary (Markdown) to attach; its digest is metadata


@dataclass(frozen=True, slots=True, kw_only=True)
class Remote:
    """What the portal holds for one dataset (``view`` None: nothing found)."""

    view: Mapping[str, Any] | None
    identity: str  # how the view was found: recorded-id | inventory-id | none
    row_count: int = 0
    hashes: RowHashes | None = None  # key → hash of the rows on the portal
    hash_kind: str | None = None  # "source" (manifest) | "value" (read back from the rows)
    manifest_ok: bool = False  # a clean manifest matching the current mapping exists
    refusals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RowCounts:
    create: int = 0
    update: int = 0
    delete: int = 0

    @property
    def total(self) -> int:
        return self.create + self.update + self.delete


@dataclass(frozen=True, slots=True, kw_only=True)
class MetadataChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnChanges:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    retyped: tuple[str, ...] = ()  # "field: old → new"
    described: tuple[str, ...] = ()  # name or description changed (not schema drift)

    @property
    def drift(self) -> bool:
        return bool(self.added or self.removed or self.retyped)


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetPlan:
    """One dataset's planned action. ``delta`` (the rows to send) and ``view`` (the portal view as
    planned against) are what :mod:`kcdata.publish.apply` executes; they are not part of the JSON."""

    id: str
    title: str
    action: Action
    portal_id: str | None
    rows: RowCounts
    metadata_changes: tuple[MetadataChange, ...]
    columns: ColumnChanges
    reason: str | None
    identity: str
    replace: bool = False
    source_rows: int = 0
    portal_rows: int = 0
    state_from: str | None = None  # manifest | portal-rows | None (new dataset)
    delta: RowDelta = field(default_factory=RowDelta, repr=False)
    view: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: everything but ``delta`` and ``view`` (a million keys, a whole view)."""
        out = fields_of(self)
        out.pop("delta", None)
        out.pop("view", None)
        return out


def column_changes(mapping: TableMapping, view: Mapping[str, Any]) -> ColumnChanges:
    """Compare the schema's columns with the view's (system columns ``:x`` ignored)."""
    cols = {c.get("fieldName"): c for c in view.get("columns") or [] if isinstance(c, Mapping)
            and isinstance(c.get("fieldName"), str) and not c["fieldName"].startswith(":")}
    want = {c.field_name: c for c in mapping.columns}
    added = tuple(n for n in want if n not in cols)
    removed = tuple(str(n) for n in cols if n not in want)
    retyped, described = [], []
    for n, c in want.items():
        have = cols.get(n)
        if have is None:
            continue
        if have.get("dataTypeName") != c.data_type:
            retyped.append(f"{n}: {have.get('dataTypeName')} → {c.data_type}")
        if (have.get("name") or "") != c.name or (have.get("description") or "") != c.description:
            described.append(n)
    rid = _row_identifier_field(view)
    if rid is not None and rid != mapping.row_identifier:
        retyped.append(f"row identifier: {rid} → {mapping.row_identifier}")
    return ColumnChanges(added=added, removed=removed, retyped=tuple(retyped), described=tuple(described))


def _row_identifier_field(view: Mapping[str, Any]) -> str | None:
    meta = view.get("metadata") or {}
    rid = meta.get("rowIdentifier") if isinstance(meta, Mapping) else None
    if rid in (None, "", "0", 0):
        return None
    for c in view.get("columns") or []:
        if isinstance(c, Mapping) and (str(c.get("id")) == str(rid) or c.get("fieldName") == rid):
            return str(c.get("fieldName"))
    return str(rid)


def metadata_changes(desired: Mapping[str, Any], view: Mapping[str, Any] | None) -> tuple[MetadataChange, ...]:
    """Field-by-field differences (every field is a change for a new dataset)."""
    have = current_metadata(view) if view is not None else dict.fromkeys(FIELDS)
    out = []
    for f in FIELDS:
        new, old = desired.get(f), have.get(f)
        if _norm(new) != _norm(old):
            out.append(MetadataChange(field=f, old=old, new=new))
    if view is not None:
        if view.get("publicationStage") not in (None, "published"):
            out.append(MetadataChange(field="publication", old=view.get("publicationStage"), new="published"))
        if not _is_public(view):
            out.append(MetadataChange(field="visibility", old="private", new="public"))
    return tuple(out)


def _norm(value: Any) -> Any:
    if value in (None, "", []):
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return value


def _is_public(view: Mapping[str, Any]) -> bool:
    return any(isinstance(g, Mapping) and "public" in (g.get("flags") or []) for g in view.get("grants") or [])


def _refused(desired: Desired, remote: Remote | None, reason: str, **kw: Any) -> DatasetPlan:
    view = remote.view if remote else None
    return DatasetPlan(id=desired.id, title=desired.title, action=Action.REFUSED,
                       portal_id=str(view["id"]) if view else None, rows=kw.pop("rows", RowCounts()),
                       metadata_changes=kw.pop("metadata_changes", ()), columns=kw.pop("columns", ColumnChanges()),
                       reason=reason, identity=remote.identity if remote else "none",
                       source_rows=len(desired.rows or ()), portal_rows=remote.row_count if remote else 0,
                       **kw)


def compute_plan(*, desired: Desired, remote: Remote | None, options: PlanOptions = PlanOptions()) -> DatasetPlan:
    """Decide create / update / noop / refused for one dataset, with exact counts and changes."""
    refusals = desired.refusals + (remote.refusals if remote else ())
    if refusals or remote is None or desired.mapping is None or desired.rows is None:
        return _refused(desired, remote, "; ".join(refusals) or "the portal state is unknown")
    mapping = desired.mapping
    local = desired.rows
    meta = metadata_changes(desired.metadata, remote.view)
    if remote.view is None:
        return DatasetPlan(id=desired.id, title=desired.title, action=Action.CREATE, portal_id=None,
                           rows=RowCounts(create=len(local)), metadata_changes=meta,
                           columns=ColumnChanges(added=tuple(c.field_name for c in mapping.columns)),
                           reason=None, identity=remote.identity, source_rows=len(local),
                           delta=RowDelta(upsert_keys=None, refresh_manifest=True))
    portal_id = str(remote.view["id"])
    cols = column_changes(mapping, remote.view)
    ours = desired.value_hashes if remote.hash_kind == "value" else local
    theirs = remote.hashes if remote.hashes is not None else RowHashes.empty()
    if ours is None:
        return _refused(desired, remote, "internal: value hashes were not computed")
    d = diff(ours, theirs)
    creates, updates, deletes = d.create, d.update, tuple(d.delete)
    counts = RowCounts(create=len(creates), update=len(updates), delete=len(deletes))
    state_from = "manifest" if remote.hash_kind == "source" else "portal-rows"
    if cols.drift and not options.allow_schema_change:
        return _refused(desired, remote, "schema drift (" + "; ".join(
            [f"added {', '.join(cols.added)}"] * bool(cols.added)
            + [f"removed {', '.join(cols.removed)}"] * bool(cols.removed) + list(cols.retyped))
            + "): re-run with --allow-schema-change", rows=counts, metadata_changes=meta, columns=cols,
            state_from=state_from)
    if cols.removed or cols.retyped:
        # Even when allowed: the producer API can add columns but not drop or retype them.
        return _refused(desired, remote, "the portal cannot drop or retype columns through this API ("
                        + "; ".join([f"removed {', '.join(cols.removed)}"] * bool(cols.removed) + list(cols.retyped))
                        + "): change them in the portal, or publish as a new dataset", rows=counts,
                        metadata_changes=meta, columns=cols, state_from=state_from)
    base = remote.row_count or len(theirs)
    if deletes and not options.force and len(deletes) > options.max_delete_share * max(base, 1):
        share = len(deletes) / max(base, 1)
        return _refused(desired, remote, f"would delete {len(deletes)} of {base} rows ({share:.0%}), more than "
                        f"the {options.max_delete_share:.0%} allowed: re-run with --force if intended",
                        rows=counts, metadata_changes=meta, columns=cols, state_from=state_from)
    if cols.described:
        meta = (*meta, MetadataChange(field="columns", old=None, new=list(cols.described)))
    changed = bool(counts.total or meta or cols.drift or options.replace)
    return DatasetPlan(id=desired.id, title=desired.title, action=Action.UPDATE if changed else Action.NOOP,
                       portal_id=portal_id, rows=counts, metadata_changes=meta, columns=cols, reason=None,
                       identity=remote.identity, replace=options.replace, source_rows=len(local),
                       portal_rows=base, state_from=state_from,
                       view=remote.view,
                       delta=RowDelta(upsert_keys=None if options.replace else frozenset(creates + updates),
                                      upsert_positions=None if options.replace else d.upsert_positions(),
                                      delete_keys=deletes, from_manifest=state_from == "manifest",
                                      refresh_manifest=bool(counts.total or options.replace)
                                      or not remote.manifest_ok))


def retire_plan(*, dataset_id: str, title: str, view: Mapping[str, Any] | None, identity: str,
                refusals: tuple[str, ...] = ()) -> DatasetPlan:
    """The plan for a retired dataset: make its public portal view private (no rows or view deleted)."""
    base: dict[str, Any] = {"id": dataset_id, "title": title, "rows": RowCounts(), "columns": ColumnChanges(),
                            "identity": identity, "view": view}
    if refusals:
        return DatasetPlan(action=Action.REFUSED, portal_id=str(view["id"]) if view else None, metadata_changes=(),
                           reason="; ".join(refusals), **base)
    if view is None:
        return DatasetPlan(action=Action.NOOP, portal_id=None, metadata_changes=(),
                           reason="retired; not on this portal", **base)
    if not _is_public(view):
        return DatasetPlan(action=Action.NOOP, portal_id=str(view["id"]), metadata_changes=(),
                           reason="retired; the portal view is already private", **base)
    return DatasetPlan(action=Action.MAKE_PRIVATE, portal_id=str(view["id"]),
                       metadata_changes=(MetadataChange(field="visibility", old="public", new="private"),),
                       reason="retired: the portal view becomes private (rows and view are kept)", **base)
