"""``kcdata monitor``: read the portal (and the source files at hand), run every check, compare with history.

Portal reads go through the publish client (the one module that talks to sodapy) with the publisher's
identity rules (:func:`kcdata.publish.observe.find_view`). Per dataset: the view, ``count(*)``, and, as
configured, ``max(date_field)`` and per-group counts — a handful of small SoQL queries, never a row download.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from kcdata.errors import InputError, PortalError
from kcdata.inventory.model import Dataset, Inventory
from kcdata.monitor import checks
from kcdata.monitor.config import YEAR, MonitorConfig, monitor_config
from kcdata.monitor.model import Check, CheckName, DatasetMonitor, MonitorReport, Observation
from kcdata.policy.freshness import assess, published_datasets
from kcdata.publish.client import PortalClient
from kcdata.publish.typemap import EncodeError, TableMapping, encoder, field_name, table_mapping

NONE_GROUP = "(none)"
MAX_GROUPS = 50_000


def monitor_program(*, root: Path, inventory: Inventory, client: PortalClient, now: dt.datetime | None = None,
                    grace: float | dt.timedelta = 0.25, only: Iterable[str] | None = None,
                    last: Mapping[str, Observation] | None = None, production_domain: str | None = None,
                    on_dataset: Callable[[str], None] | None = None) -> MonitorReport:
    """Check every published dataset (or ``only`` these ids) on the portal ``client`` reads."""
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    last = last or {}
    results = []
    for ds in published_datasets(inventory, only):
        if on_dataset is not None:
            on_dataset(ds.id)
        results.append(monitor_dataset(root=root, ds=ds, client=client, now=now, grace=grace, last=last.get(ds.id),
                                       production_domain=production_domain))
    return MonitorReport(checked_at=now, portal=client.domain, datasets=tuple(results))


def monitor_dataset(*, root: Path, ds: Dataset, client: PortalClient, now: dt.datetime, grace: float | dt.timedelta,
                    last: Observation | None, production_domain: str | None) -> DatasetMonitor:
    from kcdata.publish.observe import find_view

    view, _identity, _problems = find_view(client, ds, production_domain=production_domain)
    freshness = checks.freshness_check(assess(ds, view, now=now, grace=grace))
    if view is None:
        return DatasetMonitor(id=ds.id, portal_id=ds.portal_id, checks=(freshness,), observed=Observation())
    portal_id = str(view.get("id") or ds.portal_id)
    found: list[Check] = [freshness]
    try:
        config = monitor_config(ds)
        mapping = _mapping(root, ds)
    except InputError as exc:
        found.append(checks.alert(CheckName.COUNT, "monitor-config", exc.message))
        return DatasetMonitor(id=ds.id, portal_id=portal_id, checks=tuple(found), observed=Observation())
    updated = view.get("rowsUpdatedAt")
    rows_updated_at = (dt.datetime.fromtimestamp(float(updated), tz=dt.UTC).isoformat(timespec="seconds")
                       if isinstance(updated, int | float) and not isinstance(updated, bool) else None)

    newest = None
    if config.date_field:
        newest, check = _content(client, portal_id, ds, config, mapping, now=now, grace=grace)
        found.append(check)
    count = client.count_rows(portal_id)
    source_table = _source(root, ds, mapping, config)
    source_count = source_table.num_rows if source_table is not None else None
    found.append(checks.count_check(portal=count, source=source_count, last=last, config=config,
                                    periodicity=ds.accrual_periodicity, now=now, grace=grace))
    groups = None
    if config.group_by:
        groups, check = _groups(client, portal_id, config, mapping, source_table, last)
        found.append(check)
    if mapping is not None:
        from kcdata.publish.plan import column_changes

        changes = column_changes(mapping, view)
        found.append(checks.schema_check(added=changes.added, removed=changes.removed, retyped=changes.retyped))
    else:
        found.append(checks.skipped(CheckName.SCHEMA, "no local Table Schema to compare with"))
    since = last.count_since if last is not None and last.count == count and last.count_since else \
        now.isoformat(timespec="seconds")
    observed = Observation(count=count, count_since=since, groups=groups, newest=newest,
                           rows_updated_at=rows_updated_at)
    return DatasetMonitor(id=ds.id, portal_id=portal_id, checks=tuple(found), observed=observed)


def _mapping(root: Path, ds: Dataset) -> TableMapping | None:
    if not ds.schema or "://" in ds.schema or not (root / ds.schema).is_file():
        return None
    from kcdata.tableschema import read_table_schema

    schema = read_table_schema(root / ds.schema, source=ds.schema)
    return table_mapping(schema.descriptor, row_identifier=ds.row_identifier, where=ds.schema)


def _portal_field(name: str, mapping: TableMapping | None, what: str) -> str:
    """The portal fieldName of a schema field named in ``monitor:`` (checked against the schema when known)."""
    if mapping is not None:
        for col in mapping.columns:
            if name in (col.source, col.field_name):
                return col.field_name
        import difflib

        close = difflib.get_close_matches(name, [c.source for c in mapping.columns], n=1)
        raise InputError(f"monitor.{what} '{name}' is not a field of the Table Schema"
                         + (f" — did you mean '{close[0]}'?" if close else ""))
    return field_name(name)


def _content(client: PortalClient, portal_id: str, ds: Dataset, config: MonitorConfig, mapping: TableMapping | None,
             *, now: dt.datetime, grace: float | dt.timedelta) -> tuple[str | None, Check]:
    assert config.date_field is not None
    try:
        column = _portal_field(config.date_field, mapping, "date_field")
        rows = client.query(portal_id, select=f"max({column}) AS newest")
    except (InputError, PortalError) as exc:
        if isinstance(exc, PortalError) and exc.code == "portal-unreachable":
            raise
        return None, checks.alert(CheckName.CONTENT, "query-failed", f"max({config.date_field}): {exc.message}")
    newest = rows[0].get("newest") if rows else None
    check = checks.content_check(newest=newest, date_field=config.date_field, periodicity=ds.accrual_periodicity,
                                 now=now, grace=grace)
    return (newest if isinstance(newest, str) else None), check


def _source(root: Path, ds: Dataset, mapping: TableMapping | None, config: MonitorConfig) -> Any:
    """The source file's rows (only the group column, or the row identifier), when the file is at hand."""
    if mapping is None or not ds.data or "://" in ds.data or not (root / ds.data).is_file():
        return None
    from kcdata.publish.rows.scan import read_table

    wanted = mapping.column(mapping.row_identifier).source
    if config.group_by:
        name = config.date_field if config.group_by == YEAR else config.group_by
        wanted = next((c.source for c in mapping.columns if name in (c.source, c.field_name)), wanted)
    return read_table(root / ds.data, mapping, only=[wanted])


def _group_key(value: Any, *, year: bool) -> str:
    if value is None or value == "":
        return NONE_GROUP
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text[:4] if year else text


def _groups(client: PortalClient, portal_id: str, config: MonitorConfig, mapping: TableMapping | None,
            source_table: Any, last: Observation | None) -> tuple[dict[str, int] | None, Check]:
    assert config.group_by is not None
    year = config.group_by == YEAR
    name = config.date_field if year else config.group_by
    assert name is not None  # monitor_config refuses group_by: year without date_field
    try:
        column = _portal_field(name, mapping, "date_field" if year else "group_by")
        expr = f"date_trunc_y({column})" if year else column
        rows = client.query(portal_id, select=f"{expr} AS g, count(*) AS n", group=expr, limit=MAX_GROUPS)
    except (InputError, PortalError) as exc:
        if isinstance(exc, PortalError) and exc.code == "portal-unreachable":
            raise
        return None, checks.alert(CheckName.GROUPS, "query-failed", f"counts by {config.group_by}: {exc.message}")
    portal: dict[str, int] = {}
    for row in rows:
        key = _group_key(row.get("g"), year=year)
        portal[key] = portal.get(key, 0) + int(float(row.get("n") or 0))
    source = _source_groups(source_table, mapping, config, year=year) if source_table is not None else None
    return portal, checks.group_check(portal=portal, source=source, last=last, config=config)


def _source_groups(table: Any, mapping: TableMapping | None, config: MonitorConfig, *, year: bool) -> dict[str, int]:
    """Group counts of the source column, each distinct cell encoded as the portal stores it."""
    import pyarrow.compute as pc

    assert mapping is not None
    name = table.column_names[0]
    col = next(c for c in mapping.columns if c.source == name)
    encode = encoder(col)
    out: dict[str, int] = {}
    for item in pc.value_counts(table.column(0)).to_pylist():
        cell, n = item["values"], int(item["counts"])
        try:
            value = encode(cell)
        except EncodeError:
            value = cell
        key = _group_key(value, year=year)
        out[key] = out.get(key, 0) + n
    return out
