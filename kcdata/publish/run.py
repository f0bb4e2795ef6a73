"""Plan and apply for a whole program: selecting datasets, planning each, applying, recording.

This is the library entry point the CLI (and CI) use::

    client = connect_from_env(settings)
    plan = make_plan(root=root, client=client, ids=[], changed_since=None, options=PlanOptions())
    result = apply_plan_set(root=root, client=client, plan=plan, settings=settings)
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcdata.config import portal_credentials
from kcdata.errors import InputError, KcdataError, NotFoundError
from kcdata.inventory.model import Dataset, Inventory, Status
from kcdata.jsonable import to_jsonable
from kcdata.program import Program
from kcdata.publish import log as publog
from kcdata.publish.apply import DatasetResult, Progress, apply_plan
from kcdata.publish.client import PortalClient, connect
from kcdata.publish.observe import CANDIDATE_STATUSES, find_view, observe_dataset
from kcdata.publish.phases import phase
from kcdata.publish.plan import Action, DatasetPlan, Desired, PlanOptions, compute_plan, retire_plan
from kcdata.publish.settings import PublishSettings, publish_settings
from kcdata.review.actions import mark_published

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishPlan:
    """Plans for every selected dataset, against one portal."""

    portal: str
    datasets: tuple[DatasetPlan, ...]
    options: PlanOptions
    _desired: dict[str, Desired] = field(default_factory=dict, repr=False)
    _entries: dict[str, Dataset] = field(default_factory=dict, repr=False)

    @property
    def changes(self) -> bool:
        return any(p.action in (Action.CREATE, Action.UPDATE, Action.MAKE_PRIVATE) for p in self.datasets)

    @property
    def refused(self) -> bool:
        return any(p.action is Action.REFUSED for p in self.datasets)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyResult:
    portal: str
    datasets: tuple[DatasetResult, ...]
    duration_s: float
    result: str  # ok | noop | refused | failed | partial
    log_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.result in ("ok", "noop")


def load_publish_settings(root: Path | None = None, *, program: Program | None = None) -> PublishSettings:
    """The ``publish:`` settings of the program (``program.portal_domain`` included)."""
    return publish_settings(Program.of(program, root=root).settings)


def connect_from_env(settings: PublishSettings, *, write: bool = False) -> PortalClient:
    """A client for ``KCDATA_PORTAL_URL`` with the ``KCDATA_PORTAL_*`` credentials (env only).

    ``write``: the client will write, so a missing username or password is an InputError (exit 3)
    naming the variables, before any request is made."""
    creds = portal_credentials()
    if not creds.url:
        raise InputError("KCDATA_PORTAL_URL is not set",
                         hint="export KCDATA_PORTAL_URL=https://data.kcmo.org (and the USERNAME/PASSWORD variables)")
    missing = [name for name, value in (("KCDATA_PORTAL_USERNAME", creds.username),
                                        ("KCDATA_PORTAL_PASSWORD", creds.password)) if not value]
    if write and missing:
        raise InputError(f"publishing needs portal credentials: {' and '.join(missing)} not set",
                         hint="export them (in CI: repository secrets); nothing was sent to the portal",
                         code="missing-credentials")
    return connect(url=creds.url, username=creds.username, password=creds.password, app_token=creds.app_token,
                   timeout=settings.timeout, retry=settings.retry_policy())


def select(inventory: Inventory, *, ids: list[str] | tuple[str, ...], changed: set[str] | None
           ) -> list[tuple[Dataset, bool]]:
    """``(dataset, named)`` pairs: the named ids (unknown → NotFoundError), else every approved or
    published dataset; ``changed`` (from ``--changed-since``) narrows either list."""
    if ids:
        picked = [(inventory.get(i), True) for i in dict.fromkeys(ids)]
    else:
        # a retired dataset that was published is selected too: its portal view is made private
        picked = [(d, False) for d in inventory.datasets if d.status in CANDIDATE_STATUSES
                  or (d.status is Status.RETIRED and _was_published(d))]
    if changed is not None:
        picked = [(d, n) for d, n in picked if d.id in changed]
    return picked


def _was_published(dataset: Dataset) -> bool:
    """A recorded portal id, or a history step out of ``published`` (CI runs do not record ids)."""
    return bool(dataset.portal_id) or any(str(getattr(h.from_status, "value", h.from_status)) == "published"
                                          for h in dataset.history)


def make_plan(*, client: PortalClient, program: Program | None = None, root: Path | None = None,
              ids: list[str] | tuple[str, ...] = (), changed_since: str | None = None,
              options: PlanOptions | None = None, settings: PublishSettings | None = None) -> PublishPlan:
    """Plan every selected dataset. Reads the inventory and the portal; writes nothing."""
    program = Program.of(program, root=root)
    settings = settings or load_publish_settings(program=program)
    options = options or PlanOptions(max_delete_share=settings.max_delete_share)
    with phase("load inventory", dataset="*"):
        inventory = program.inventory
    changed = None
    if changed_since:
        from kcdata.publish.changes import changed_dataset_ids

        changed = changed_dataset_ids(root=program.root, inventory=inventory, ref=changed_since)
    plans, desired_by_id, entries = [], {}, {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kcdata-plan") as pool:
        for ds, named in select(inventory, ids=ids, changed=changed):
            if ds.status is Status.RETIRED:
                with phase("retired: portal view", dataset=ds.id):
                    view, identity, refusals = find_view(client, ds, production_domain=settings.portal_domain)
                retired = retire_plan(dataset_id=ds.id, title=ds.title, view=view, identity=identity,
                                      refusals=refusals)
                if retired.action is Action.NOOP and not named:
                    continue  # already private, or not on this portal: nothing to say on every run
                plans.append(retired)
                desired_by_id[ds.id] = Desired(id=ds.id, title=ds.title, metadata={}, mapping=None, rows=None)
                entries[ds.id] = ds
                continue
            desired, remote = observe_dataset(program, client, ds, named=named,
                                              production_domain=settings.portal_domain, pool=pool)
            with phase("diff", dataset=ds.id):
                plan = compute_plan(desired=desired, remote=remote, options=options)
            plans.append(plan)
            desired_by_id[ds.id], entries[ds.id] = desired, ds
    return PublishPlan(portal=client.domain, datasets=tuple(plans), options=options, _desired=desired_by_id,
                       _entries=entries)


def apply_plan_set(*, client: PortalClient, plan: PublishPlan, program: Program | None = None,
                   root: Path | None = None, settings: PublishSettings | None = None,
                   on_progress: Progress | None = None, write_back: bool | None = None) -> ApplyResult:
    """Execute every dataset plan, record the outcome in the inventory (production portal, local
    runs) and append one record to the publish log."""
    program = Program.of(program, root=root)
    settings = settings or load_publish_settings(program=program)
    started_at, t0 = dt.datetime.now(dt.UTC), time.monotonic()
    write_back = settings.should_write_back() if write_back is None else write_back
    results: list[DatasetResult] = []
    current = None
    try:
        for p in plan.datasets:
            current = p.id
            entry = plan._entries[p.id]
            res = apply_plan(client, p, plan._desired[p.id], settings=settings, on_progress=on_progress)
            if res.result in ("ok", "noop") and write_back and res.portal_id and entry.status is not Status.RETIRED:
                res = _record(program.root, client, entry, res, settings)
            results.append(res)
            current = None
    except BaseException as exc:  # Ctrl-C or a crash mid-apply: the log still says what happened
        _log_stopped(program.root, client.domain, started_at, time.monotonic() - t0, results, current, exc)
        raise
    outcome = _overall([r.result for r in results])
    duration = time.monotonic() - t0
    with phase("publish log", dataset="*"):
        datasets = [{**to_jsonable(r), **_what_changed(p, r)} for p, r in zip(plan.datasets, results, strict=True)]
        record = publog.make_record(root=program.root, portal=client.domain, started=started_at,
                                    duration_s=duration, result=outcome, datasets=datasets)
        path = publog.append(program.root, record)
    if any(r.recorded for r in results):
        program.reload()  # the inventory changed on disk
    return ApplyResult(portal=client.domain, datasets=tuple(results), duration_s=round(duration, 3),
                       result=outcome, log_path=str(path))


def _what_changed(plan: DatasetPlan, result: DatasetResult) -> dict[str, Any]:
    """For the data users' changelog: the columns and metadata fields an applied plan changed."""
    if result.result != "ok" or plan.action == "noop":
        return {}
    if plan.action == "create":  # every column and field is new: the changelog says "first release"
        return {"title": plan.title}
    columns = {k: list(v) for k, v in (("added", plan.columns.added), ("removed", plan.columns.removed),
                                       ("retyped", plan.columns.retyped)) if v}
    return {"columns": columns, "metadata": [m.field for m in plan.metadata_changes], "title": plan.title}


def _log_stopped(root: Path, domain: str, started: dt.datetime, duration: float, results: list[DatasetResult],
                 current: str | None, exc: BaseException) -> None:
    """One publish-log line for an apply that did not finish (``interrupted`` on Ctrl-C, else ``failed``)."""
    interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
    outcome = "interrupted" if interrupted else "failed"
    datasets = [to_jsonable(r) for r in results]
    if current is not None:
        why = "interrupted (Ctrl-C) while applying" if interrupted else f"stopped by {type(exc).__name__}: {exc}"
        datasets.append({"id": current, "result": outcome, "reason": why})
    try:
        record = publog.make_record(root=root, portal=domain, started=started, duration_s=duration,
                                    result=outcome, datasets=datasets)
        publog.append(root, record)
    except (OSError, KcdataError) as err:  # never hide the interruption behind a logging failure
        log.warning("the publish log could not record the %s apply: %s", outcome, err)


def _overall(results: list[str]) -> str:
    if not results or all(r == "noop" for r in results):
        return "noop"
    if all(r in ("ok", "noop") for r in results):
        return "ok"
    if all(r in ("refused", "failed") for r in results):
        return "failed" if "failed" in results else "refused"
    return "partial"


def _record(root: Path, client: PortalClient, entry: Dataset, res: DatasetResult,
            settings: PublishSettings) -> DatasetResult:
    """status → published and portal_id recorded — only for the production portal, whose ids the
    inventory's ``portal_id`` means (program.portal_domain)."""
    from dataclasses import replace

    if settings.portal_domain is None or client.domain.lower() != settings.portal_domain:
        return res
    if entry.status is Status.PUBLISHED and entry.portal_id == res.portal_id:
        return res
    try:
        _mark_published(root, entry, str(res.portal_id), client.domain)
    except KcdataError as exc:
        log.warning("%s: published, but recording it in the inventory failed: %s", entry.id, exc.message)
        return replace(res, reason=f"published; inventory not updated: {exc.message}")
    return replace(res, recorded=True)


def _mark_published(root: Path, entry: Dataset, portal_id: str, domain: str) -> None:
    mark_published(root=root, dataset_id=entry.id, portal_id=portal_id, by=publog.who(),
                   note=f"published to {domain} as {portal_id} by kcdata publish apply")


__all__ = ["ApplyResult", "NotFoundError", "PublishPlan", "apply_plan_set", "connect_from_env", "make_plan"]
