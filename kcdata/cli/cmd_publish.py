"""``kcdata publish``: plan and apply releases to the Socrata-compatible portal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from kcdata.cli import complete
from kcdata.cli.app import App, json_option, pass_app
from kcdata.errors import ExitCode
from kcdata.jsonable import to_jsonable

if TYPE_CHECKING:
    from kcdata.publish.apply import DatasetResult
    from kcdata.publish.plan import DatasetPlan
    from kcdata.publish.run import PublishPlan



@click.group("publish")
def command() -> None:
    """Plan and apply releases of approved datasets to the portal.

    The portal and credentials come from the environment only:
    KCDATA_PORTAL_URL, KCDATA_PORTAL_USERNAME, KCDATA_PORTAL_PASSWORD, KCDATA_APP_TOKEN.

    \b
    Examples:
      kcdata publish plan
      kcdata publish apply water-main-breaks --yes
      kcdata publish log
    """


def plan_json(p: DatasetPlan) -> dict[str, Any]:
    """One dataset plan as the documented ``data.datasets[]`` item."""
    out = to_jsonable(p)
    assert isinstance(out, dict)
    out["metadata_changes"] = [to_jsonable(c) for c in p.metadata_changes]
    return out


def _plan_data(plan: PublishPlan) -> dict[str, Any]:
    return {"portal": plan.portal, "changes": plan.changes, "refused": plan.refused,
            "datasets": [plan_json(p) for p in plan.datasets]}


def _rows_text(p: DatasetPlan) -> str:
    r = p.rows
    return f"+{r.create} ~{r.update} -{r.delete}" + (" (replace)" if p.replace else "")


def _changes_text(p: DatasetPlan) -> str:
    parts = [c.field for c in p.metadata_changes]
    cols = p.columns
    parts += [f"+col {c}" for c in cols.added] if p.action.value != "create" else []
    parts += [f"-col {c}" for c in cols.removed] + [f"col {c}" for c in cols.retyped]
    return ", ".join(parts)


def _render_plan(app: App, plan: PublishPlan, *, err: bool = False) -> None:
    from rich.table import Table

    table = Table(title=f"publish plan for {plan.portal}")
    for col in ("dataset", "action", "portal id", "rows", "metadata / columns", "reason"):
        table.add_column(col, overflow="fold")
    for p in plan.datasets:
        table.add_row(p.id, p.action.value, p.portal_id or "-", _rows_text(p), _changes_text(p) or "-",
                      p.reason or "")
    (app.err if err else app.out).print(table)


def plan_markdown(plan: PublishPlan) -> str:
    """The plan as a GitHub-flavoured Markdown table (PR comments, job summaries)."""
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"### kcdata publish plan ({plan.portal})", ""]
    if not plan.datasets:
        return "\n".join([*lines, "No datasets selected.", ""])
    lines += ["| dataset | action | portal id | rows (+create ~update -delete) | changes | reason |",
              "|---|---|---|---|---|---|"]
    for p in plan.datasets:
        lines.append(f"| `{p.id}` | **{p.action.value}** | {p.portal_id or '-'} | {_rows_text(p)} | "
                     f"{esc(_changes_text(p)) or '-'} | {esc(p.reason or '')} |")
    summary = "changes pending" if plan.changes else "nothing to change"
    if plan.refused:
        summary += "; some datasets refused"
    return "\n".join([*lines, "", f"_{summary}_", ""])


def _plan_exit(plan: PublishPlan) -> int:
    if plan.refused:
        return int(ExitCode.REFUSED)
    return int(ExitCode.FINDINGS) if plan.changes else int(ExitCode.OK)


def _options(app: App, *, allow_schema_change: bool = False, force: bool = False, replace: bool = False) -> Any:
    from kcdata.publish.plan import PlanOptions
    from kcdata.publish.run import load_publish_settings

    settings = load_publish_settings(program=app.complete_program())
    return settings, PlanOptions(allow_schema_change=allow_schema_change, force=force, replace=replace,
                                 max_delete_share=settings.max_delete_share)


def _build_plan(app: App, ids: tuple[str, ...], changed_since: str | None, settings: Any, options: Any,
                *, write: bool = False) -> Any:
    from kcdata.publish.run import connect_from_env, make_plan

    client = connect_from_env(settings, write=write)
    app.info(f"planning against {client.domain} ...")
    with _plan_status(app):
        plan = make_plan(program=app.program, client=client, ids=ids, changed_since=changed_since, options=options,
                         settings=settings)
    return client, plan


@contextlib.contextmanager
def _plan_status(app: App) -> Iterator[None]:
    """A spinner on stderr naming the dataset and phase being planned (a terminal only): reading a
    large CSV, or reading a dataset's rows back from the portal, can take seconds."""
    if app.quiet or app.json_mode or not sys.stderr.isatty():
        yield
        return
    from kcdata.publish.phases import watching

    with app.err.status("planning ...") as status, watching(
            lambda dataset, name: status.update(f"planning {dataset}: {name} ...") if dataset != "*" else None):
        yield


@command.command("plan")
@click.argument("ids", nargs=-1, metavar="[DATASET_ID ...]", shell_complete=complete.dataset_ids)
@click.option("--changed-since", metavar="GIT_REF", help="Only datasets whose entry, schema or data changed since "
              "this git ref (e.g. origin/main).")
@click.option("--allow-schema-change", is_flag=True, help="Allow adding columns (dropping or retyping columns is "
              "always refused: the portal API cannot do it).")
@click.option("--force", is_flag=True, help="Plan updates that delete more than publish.max_delete_share of rows.")
@click.option("--replace", is_flag=True, help="Plan a full replace of the rows instead of a delta.")
@click.option("--markdown", is_flag=True, help="Print the plan as a Markdown table (for pull requests).")
@json_option
@pass_app
def plan_cmd(app: App, ids: tuple[str, ...], changed_since: str | None, allow_schema_change: bool, force: bool,
             replace: bool, markdown: bool, as_json: bool) -> None:
    """Show what `publish apply` would change on the portal; writes nothing.

    Per dataset: create / update / noop / refused, metadata changes field by field, column
    changes and row counts. Without ids: every approved or published dataset.

    Exit codes: 0 nothing would change; 1 changes are pending; 5 a dataset is refused
    (reason shown); 3 bad input; 4 portal unreachable or failing.

    \b
    Examples:
      kcdata publish plan
      kcdata publish plan water-main-breaks --json
      kcdata publish plan --changed-since origin/main --markdown >> "$GITHUB_STEP_SUMMARY"
    """
    settings, options = _options(app, allow_schema_change=allow_schema_change, force=force, replace=replace)
    client, plan = _build_plan(app, ids, changed_since, settings, options)
    client.close()

    def render() -> None:
        if markdown:
            sys.stdout.write(plan_markdown(plan))
        else:
            _render_plan(app, plan)

    errors = [{"code": "publish-refused", "dataset": p.id, "message": p.reason or "refused"}
              for p in plan.datasets if p.action.value == "refused"]
    app.finish(data=_plan_data(plan), render=render, errors=errors, exit_code=_plan_exit(plan))


def _result_json(plan: DatasetPlan, res: DatasetResult) -> dict[str, Any]:
    out = plan_json(plan)
    out.update({"portal_id": res.portal_id, "result": res.result, "reason": res.reason or plan.reason,
                "duration_s": res.duration_s, "write_requests": res.write_requests, "recorded": res.recorded})
    return out


@command.command("apply")
@click.argument("ids", nargs=-1, metavar="[DATASET_ID ...]", shell_complete=complete.dataset_ids)
@click.option("--changed-since", metavar="GIT_REF", help="Only datasets whose entry, schema or data changed since "
              "this git ref (CI on merge: HEAD~1).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (CI).")
@click.option("--force", is_flag=True, help="Allow deleting more than publish.max_delete_share of a dataset's rows.")
@click.option("--allow-schema-change", is_flag=True, help="Allow adding columns (dropping or retyping columns is "
              "always refused: the portal API cannot do it).")
@click.option("--replace", is_flag=True, help="Replace all rows instead of sending the delta.")
@click.option("--no-write-back", is_flag=True, help="Do not record status/portal_id in the inventory "
              "(implied when $CI is set; see publish.write_back).")
@json_option
@pass_app
def apply_cmd(app: App, ids: tuple[str, ...], changed_since: str | None, yes: bool, force: bool,
              allow_schema_change: bool, replace: bool, no_write_back: bool, as_json: bool) -> None:
    """Publish: execute exactly the plan it prints (after confirmation unless --yes).

    Refused datasets (not approved, failing validation, schema drift, too many deletes) are
    skipped with the reason while the others go ahead. Every run appends to the publish log.

    Exit codes: 0 all published or unchanged; 5 a dataset was refused or failed (the others
    went ahead); 3 bad input; 4 portal unreachable before anything was written.

    \b
    Examples:
      kcdata publish apply water-main-breaks
      kcdata publish apply --changed-since HEAD~1 --yes --json
    """
    from kcdata.publish.run import apply_plan_set

    if not yes and not sys.stdin.isatty():
        raise click.UsageError("apply needs --yes when not on a terminal (nobody can confirm the plan)")
    settings, options = _options(app, allow_schema_change=allow_schema_change, force=force, replace=replace)
    client, plan = _build_plan(app, ids, changed_since, settings, options, write=True)
    try:
        if not as_json or not yes:
            _render_plan(app, plan, err=True)
        if plan.changes and not yes and not click.confirm(f"Apply these changes to {plan.portal}?",
                                                           default=False, err=True):
            app.info("nothing applied")
            app.finish(data={"portal": plan.portal, "applied": False,
                             "datasets": [plan_json(p) for p in plan.datasets]},
                       render=None, exit_code=int(ExitCode.INTERRUPTED))
        write_back = False if no_write_back else None
        with _progress(app) as on_progress:
            result = apply_plan_set(program=app.program, client=client, plan=plan, settings=settings,
                                    on_progress=on_progress, write_back=write_back)
    finally:
        client.close()
    by_id = {p.id: p for p in plan.datasets}
    data = {"portal": result.portal, "applied": True, "result": result.result, "duration_s": result.duration_s,
            "log": result.log_path, "datasets": [_result_json(by_id[r.id], r) for r in result.datasets]}

    def render() -> None:
        from rich.table import Table

        table = Table(title=f"publish apply to {result.portal}: {result.result}")
        for col in ("dataset", "action", "portal id", "rows", "result", "seconds", "reason"):
            table.add_column(col, overflow="fold")
        for r in result.datasets:
            table.add_row(r.id, r.action.value, r.portal_id or "-", _rows_text(by_id[r.id]), r.result,
                          f"{r.duration_s:.1f}", r.reason or "")
        app.out.print(table)

    errors = [{"code": f"publish-{r.result}", "dataset": r.id, "message": r.reason or by_id[r.id].reason or r.result}
              for r in result.datasets if r.result not in ("ok", "noop")]
    if not result.ok and not errors:
        errors = [{"code": f"publish-{result.result}", "message": f"publish apply ended {result.result}"}]
    app.finish(data=data, render=render, errors=errors, exit_code=0 if result.ok else int(ExitCode.REFUSED))


class _progress:
    """A rich progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Any:
        if self.app.quiet or self.app.json_mode or not sys.stderr.isatty():
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=self.app.err, transient=True)
        self.bar.start()

        def update(dataset_id: str, done: int, total: int) -> None:
            if dataset_id not in self.tasks:
                self.tasks[dataset_id] = self.bar.add_task(f"upload {dataset_id}", total=total)
            self.bar.update(self.tasks[dataset_id], completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@command.command("log")
@click.option("--limit", "-n", type=int, default=20, show_default=True, help="Show the last N runs (0: all).")
@json_option
@pass_app
def log_cmd(app: App, limit: int, as_json: bool) -> None:
    """Show the publish log (<root>/.kcdata/publish-log.jsonl): who published what, when.

    \b
    Examples:
      kcdata publish log
      kcdata publish log -n 5 --json
    """
    from kcdata.publish import log as publog

    records = publog.read(app.root)
    shown = records[-limit:] if limit else records

    def render() -> None:
        from rich.table import Table

        table = Table(title=f"publish log ({len(shown)} of {len(records)} runs)")
        for col in ("when", "who", "commit", "portal", "result", "datasets"):
            table.add_column(col, overflow="fold")
        for r in shown:
            ds = ", ".join(f"{d.get('id')}:{d.get('action')}/{d.get('result')}" for d in r.get("datasets", []))
            table.add_row(str(r.get("when")), str(r.get("who")), str(r.get("commit") or "-")[:10],
                          str(r.get("portal")), str(r.get("result")), ds)
        app.out.print(table)

    app.finish(data={"path": str(publog.log_path(app.root)), "runs": shown, "count": len(records)}, render=render)
