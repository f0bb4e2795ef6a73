"""``kcdata monitor``: watch published datasets — freshness, content, row counts, schema drift — and alert."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kcdata.cli import complete
from kcdata.cli.app import App, json_option, pass_app

if TYPE_CHECKING:
    from kcdata.monitor import Delivery, MonitorReport


@click.command("monitor")
@click.argument("dataset_ids", nargs=-1, metavar="[DATASET_ID ...]", shell_complete=complete.dataset_ids)
@click.option("--notify", "targets", multiple=True, metavar="TARGET",
              help="Send alerts: webhook[:URL], smtp://HOST?from=A&to=B, github-issue[:OWNER/REPO] (repeatable; "
                   "secrets from KCDATA_WEBHOOK_URL, KCDATA_SMTP_PASSWORD, GITHUB_TOKEN).")
@click.option("--grace", default=None, metavar="FRACTION|DURATION",
              help="Allowance after each period: a fraction (0.25) or an ISO 8601 duration (P2D) "
                   "[default: policy.freshness_grace in kcdata.yaml, else 0.25].")
@click.option("--at", "at", default=None, metavar="ISO8601", help="Judge as of this time instead of now.")
@click.option("--no-record", is_flag=True, help="Do not append this run to the monitor history.")
@click.option("--history", "show_history", is_flag=True,
              help="Instead of checking, show the recorded runs: row count, newest date value, alerts.")
@click.option("-n", "last_runs", default=20, show_default=True, type=click.IntRange(min=0),
              help="With --history: runs to show per dataset (0 = all).")
@click.option("--timeout", default=30.0, show_default=True, type=float, help="Portal timeout in seconds.")
@click.option("--attempts", default=3, show_default=True, type=click.IntRange(1, 10),
              help="Tries per portal request (timeouts, connection errors and 5xx are retried).")
@json_option
@pass_app
def command(app: App, dataset_ids: tuple[str, ...], targets: tuple[str, ...], grace: str | None, at: str | None,
            no_record: bool, show_history: bool, last_runs: int, timeout: float, attempts: int, as_json: bool) -> None:
    """Check every published dataset on the portal and alert on what looks wrong.

    Per dataset: freshness (rowsUpdatedAt against accrual_periodicity); content freshness (the newest
    value of the entry's `monitor: {date_field: COLUMN}`); row counts against the local source file and
    the last run (shrinkage beyond `monitor.shrink_threshold`, an `append_only` dataset that stopped
    growing), also per group with `monitor.group_by` (`year` or a column); schema drift (portal columns
    against the Table Schema). Each run is recorded in .kcdata/monitor-history.jsonl (the trend:
    `--history`). Exit 1 on any alert, 3 on bad input, 4 when the portal or a notification target
    cannot be reached.

    \b
    Examples:
      KCDATA_PORTAL_URL=https://data.kcmo.org kcdata monitor
      kcdata monitor 311-service-requests --json
      kcdata monitor --notify github-issue --notify "smtp://mail.example.org?from=od@example.org&to=oncall@example.org"
      kcdata monitor 311-service-requests --history
    """
    if show_history:
        _history(app, dataset_ids, last_runs)
        return
    from kcdata.cli.cmd_freshness import _number_or_text, _when
    from kcdata.config import portal_credentials
    from kcdata.errors import InputError
    from kcdata.monitor import history, monitor_program, notify, parse_target
    from kcdata.policy.settings import load_policy_settings, parse_grace
    from kcdata.publish.client import connect
    from kcdata.publish.retry import RetryPolicy
    from kcdata.publish.run import load_publish_settings

    parsed = [parse_target(t) for t in targets]  # a bad target fails before any portal request
    now = _when(at)
    program = app.program
    settings = load_policy_settings(program.settings)
    allowance = settings.freshness_grace if grace is None else parse_grace(_number_or_text(grace))
    inventory = program.inventory
    creds = portal_credentials()
    if not creds.url:
        raise InputError("no portal URL: set KCDATA_PORTAL_URL (e.g. https://data.kcmo.org or http://127.0.0.1:8080)",
                         hint="Credentials are optional for public reads (KCDATA_PORTAL_USERNAME/PASSWORD).")
    client = connect(url=creds.url, username=creds.username, password=creds.password, app_token=creds.app_token,
                     timeout=timeout, retry=RetryPolicy(attempts=attempts))
    try:
        production = load_publish_settings(program=program).portal_domain
        report = monitor_program(root=app.root, inventory=inventory, client=client, now=now, grace=allowance,
                                 only=dataset_ids or None, production_domain=production,
                                 last=history.last_observations(app.root, portal=client.domain))
    finally:
        client.close()
    if not no_record:
        history.append(app.root, report)
    data = report_json(report)
    deliveries = notify(report, {"kcdata": 1, "kind": "monitor", **data}, parsed) if parsed else []
    data["notifications"] = [{"target": d.target, "ok": d.ok, "message": d.message} for d in deliveries]
    failed = [d for d in deliveries if not d.ok]
    errors = [{"code": "notify-failed", "message": f"{d.target}: {d.message}"} for d in failed]
    code = 4 if failed else 1 if report.has_alerts else 0
    app.finish(data=data, render=lambda: render(app, report, deliveries), errors=errors, exit_code=code)


def _history(app: App, dataset_ids: tuple[str, ...], last: int) -> None:
    from kcdata.monitor.history import trend

    inventory = app.program.inventory
    for ds_id in dataset_ids:
        inventory.get(ds_id)  # unknown id: did-you-mean, exit 3
    ids = list(dataset_ids) or [d.id for d in inventory.datasets if d.portal_id]
    runs = {ds_id: trend(app.root, ds_id, last=last) for ds_id in ids}

    def render_history() -> None:
        from rich.table import Table

        if not any(runs.values()):
            app.info("no monitor runs recorded yet: run `kcdata monitor`")
            return
        for ds_id, rows in runs.items():
            if not rows:
                continue
            table = Table(title=f"Monitor history of {ds_id}")
            for col in ("when (UTC)", "portal", "rows", "change", "newest", "alerts"):
                table.add_column(col)
            previous = None
            for r in rows:
                count = r["count"]
                change = f"{count - previous:+,}" if isinstance(count, int) and isinstance(previous, int) else ""
                table.add_row(str(r["when"])[:16], str(r["portal"]), f"{count:,}" if isinstance(count, int) else "-",
                              change, str(r["newest"] or "-")[:19], ", ".join(r["alerts"]) or "-",
                              style="red" if r["alerts"] else None)
                previous = count if isinstance(count, int) else previous
            app.out.print(table)

    app.finish(data={"datasets": [{"id": k, "runs": v} for k, v in runs.items()]}, render=render_history)


def report_json(report: MonitorReport) -> dict[str, Any]:
    from kcdata.jsonable import to_jsonable

    data = to_jsonable(report)
    assert isinstance(data, dict)
    data["alerts"] = [{"dataset": ds_id, "check": c.name.value, "code": c.code, "message": c.message}
                      for ds_id, c in report.alerts]
    data["ok"] = not report.has_alerts
    return data


_STYLE = {"alert": "bold red", "ok": "green", "skipped": "dim"}


def render(app: App, report: MonitorReport, deliveries: list[Delivery]) -> None:
    from rich.table import Table

    table = Table(title=f"Monitor of {report.portal} at {report.checked_at:%Y-%m-%d %H:%M} UTC")
    for col in ("dataset", "check", "status", "detail"):
        table.add_column(col)
    for d in report.datasets:
        for i, c in enumerate(d.checks):
            status = c.status.value + (f" ({c.code})" if c.code else "")
            table.add_row(d.id if i == 0 else "", c.name.value, status, c.message, style=_STYLE.get(c.status.value))
    app.out.print(table)
    n = len(report.alerts)
    app.out.print(f"{n} alert(s) on {sum(1 for d in report.datasets if d.alerts)} of {len(report.datasets)} "
                  "published dataset(s)", style="bold red" if n else "green")
    for sent in deliveries:
        (app.info if sent.ok else app.warn)(f"notify {sent.target}: {sent.message}")
