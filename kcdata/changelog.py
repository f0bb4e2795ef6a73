"""What changed in each published dataset, release by release: the changelog for data users.

Every ``kcdata publish apply`` appends a record to the publish log (``.kcdata/publish-log.jsonl``) with,
per dataset, the rows it added, changed and removed, the columns it added, retyped or removed and the
metadata fields it changed, with who ran it and from which commit. The changelog is that log read for
people: only datasets an apply actually changed, newest first. ``kcdata changes`` prints it; the public
site shows it on each dataset page, on a program-wide changes page and in its Atom feed.

In CI the log lives in the runner's ``.kcdata/`` and is kept as a build artifact (docs/publish.md, "CI");
restore it before ``kcdata site build`` to carry the changelog across runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcdata.publish import log as publog


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One dataset changed by one apply."""

    dataset: str
    title: str | None
    when: dt.datetime
    portal: str
    portal_id: str | None
    action: str  # create | update
    rows_added: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # added / retyped / removed
    metadata: tuple[str, ...] = ()
    who: str | None = None
    commit: str | None = None

    @property
    def summary(self) -> str:
        """One line for people: ``first release: 1,200 rows`` or ``+12 rows, 3 changed; column added: crew``."""
        if self.action == "create":
            parts = [f"first release: {self.rows_added:,} rows"]
        else:
            parts = [", ".join(p for p in (f"+{self.rows_added:,} rows" if self.rows_added else "",
                                            f"{self.rows_changed:,} changed" if self.rows_changed else "",
                                            f"{self.rows_removed:,} removed" if self.rows_removed else "") if p)]
        for kind in ("added", "retyped", "removed"):
            names = self.columns.get(kind) or ()
            if names:
                parts.append(f"column{'s' if len(names) > 1 else ''} {kind}: {', '.join(names)}")
        if self.metadata:
            parts.append(f"metadata: {', '.join(self.metadata)}")
        return "; ".join(p for p in parts if p) or "republished"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def changes_from_log(records: Iterable[Mapping[str, Any]]) -> list[Change]:
    """Changes in publish-log records, newest first (a dataset an apply left untouched is not a change)."""
    out = []
    for record in records:
        try:
            when = dt.datetime.fromisoformat(str(record.get("when")))
        except ValueError:
            continue
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        for ds in record.get("datasets") or []:
            if not isinstance(ds, Mapping) or ds.get("result") != "ok" or ds.get("action") not in ("create", "update"):
                continue
            rows: Mapping[str, Any] = _mapping(ds.get("rows"))
            columns: Mapping[str, Any] = _mapping(ds.get("columns"))
            metadata: list[Any] = list(ds.get("metadata") or []) if isinstance(ds.get("metadata"), list) else []
            change = Change(
                dataset=str(ds.get("id")), title=ds.get("title") if isinstance(ds.get("title"), str) else None,
                when=when, portal=str(record.get("portal") or ""),
                portal_id=ds.get("portal_id") if isinstance(ds.get("portal_id"), str) else None,
                action=str(ds["action"]), rows_added=_int(rows.get("create")), rows_changed=_int(rows.get("update")),
                rows_removed=_int(rows.get("delete")),
                columns={str(k): tuple(map(str, v)) for k, v in columns.items() if isinstance(v, list) and v},
                metadata=tuple(map(str, metadata)),
                who=record.get("who") if isinstance(record.get("who"), str) else None,
                commit=record.get("commit") if isinstance(record.get("commit"), str) else None)
            if change.action == "create" or change.rows_added or change.rows_changed or change.rows_removed \
                    or change.columns or change.metadata:
                out.append(change)
    # Newest first; within one second, later log lines first (the log is in apply order).
    return [c for _, c in sorted(enumerate(out), key=lambda ic: (ic[1].when, ic[0]), reverse=True)]


def read_changes(root: Path, *, dataset: str | None = None, since: dt.date | None = None,
                 portal: str | None = None) -> list[Change]:
    """The program's changelog from its publish log, newest first, optionally for one dataset, from a date,
    or for one portal (the site shows only the production portal's)."""
    return [c for c in changes_from_log(publog.read(root))
            if (dataset is None or c.dataset == dataset) and (since is None or c.when.date() >= since)
            and (portal is None or c.portal.lower() == portal.lower())]


def by_dataset(changes: Sequence[Change]) -> dict[str, list[Change]]:
    out: dict[str, list[Change]] = {}
    for c in changes:
        out.setdefault(c.dataset, []).append(c)
    return out
