"""``kcdata freshness``: published datasets that are overdue for an update."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kcdata.cli import complete
from kcdata.cli.app import App, json_option, pass_app

if TYPE_CHECKING:
    from kcdata.policy.freshness import FreshnessReport


@click.command("freshness")
@click.argument("dataset_ids", nargs=-1, metavar="[DATASET_ID ...]", shell_complete=complete.dataset_ids)
@click.option("--grace", default=None, metavar="FRACTION|DURATION",
              help="Allowance after each period: a fraction of the period (0.25) or an ISO 8601 duration "
                   "(P2D) [default: policy.freshness_grace in kcdata.yaml, else 0.25].")
@click.option("--timeout", default=30.0, show_default=True, type=float, help="Portal timeout in seconds.")
@click.option("--attempts", default=3, show_default=True, type=click.IntRange(1, 10),
              help="Tries per portal request (timeouts, connection errors and 5xx are retried).")
@click.option("--at", "at", default=None, metavar="ISO8601",
              help="Judge freshness as of this time (e.g. 2026-12-01T06:00:00Z) instead of now.")
@json_option
@pass_app
def command(app: App, dataset_ids: tuple[str, ...], grace: str | None, timeout: float, attempts: int,
            at: str | None, as_json: bool) -> None:
    """Compare each published dataset's last portal update with its declared frequency.

    Reads rowsUpdatedAt from the portal named by KCDATA_PORTAL_URL (credentials from
    KCDATA_PORTAL_USERNAME / KCDATA_PORTAL_PASSWORD / KCDATA_APP_TOKEN, optional for public
    data). accrual_periodicity "irregular" is never overdue. Exit 1 when a dataset is overdue
    (or its portal view is missing or never loaded), 4 when the portal cannot be reached.

    \b
    Examples:
      KCDATA_PORTAL_URL=https://data.kcmo.org kcdata freshness
      kcdata freshness water-main-breaks --grace P1D --json
    """
    from kcdata.config import portal_credentials
    from kcdata.policy.freshness import check_freshness, portal_views
    from kcdata.policy.settings import load_policy_settings, parse_grace

    now = _when(at)
    program = app.complete_program()
    settings = load_policy_settings(program.settings)
    allowance = settings.freshness_grace if grace is None else parse_grace(_number_or_text(grace))
    inventory = program.inventory
    creds = portal_credentials()
    from kcdata.publish.run import load_publish_settings

    production = load_publish_settings(program=program).portal_domain
    with portal_views(url=creds.url, username=creds.username, password=creds.password, app_token=creds.app_token,
                      production_domain=production,
                      timeout=timeout, attempts=attempts) as fetch:
        report = check_freshness(inventory=inventory, fetch_view=fetch, grace=allowance, only=dataset_ids or None,
                                 now=now)
    app.finish(data=report_json(report), render=lambda: render(app, report),
               exit_code=1 if report.has_findings else 0)


def _when(value: str | None) -> Any:
    import datetime as dt

    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO 8601 time (e.g. 2026-12-01T06:00:00Z)",
                                 param_hint="--at") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _number_or_text(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value


def report_json(report: FreshnessReport) -> dict[str, Any]:
    from kcdata.jsonable import to_jsonable

    data = to_jsonable(report)
    assert isinstance(data, dict)
    data["overdue"] = [e.id for e in report.overdue]
    data["ok"] = not report.has_findings
    return data


_STYLE = {"overdue": "bold red", "missing": "bold red", "never-updated": "red", "fresh": "green"}


def render(app: App, report: FreshnessReport) -> None:
    from rich.table import Table

    n = len(report.overdue)
    table = Table(title=f"Freshness at {report.checked_at:%Y-%m-%d %H:%M} UTC")
    for col in ("dataset", "portal id", "status", "period", "last update (UTC)", "late by", "note"):
        table.add_column(col)
    for e in report.datasets:
        table.add_row(e.id, e.portal_id, e.status.value, e.accrual_periodicity or "-",
                      f"{e.rows_updated_at:%Y-%m-%d %H:%M}" if e.rows_updated_at else "-", e.late_by or "",
                      e.message, style=_STYLE.get(e.status.value))
    app.out.print(table)
    app.out.print(f"{n} overdue of {len(report.datasets)} published (grace: {report.grace})",
                  style="bold red" if n else "green")
