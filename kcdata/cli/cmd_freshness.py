"""``kcdata freshness``: published datasets that are overdue for an update."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kcdata.cli.app import App, json_option, pass_app

if TYPE_CHECKING:
    from kcdata.policy.freshness import FreshnessReport


@click.command("freshness")
@click.argument("dataset_ids", nargs=-1, metavar="[DATASET_ID ...]")
@click.option("--grace", default=None, metavar="FRACTION|DURATION",
              help="Allowance after each period: a fraction of the period (0.25) or an ISO 8601 duration "
                   "(P2D) [default: policy.freshness_grace in kcdata.yaml, else 0.25].")
@click.option("--timeout", default=30.0, show_default=True, type=float, help="Portal timeout in seconds.")
@json_option
@pass_app
def command(app: App, dataset_ids: tuple[str, ...], grace: str | None, timeout: float, as_json: bool) -> None:
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
    from kcdata.config import load_settings, portal_credentials
    from kcdata.inventory import load_inventory
    from kcdata.policy.freshness import check_freshness, portal_fetcher
    from kcdata.policy.settings import load_policy_settings, parse_grace

    settings = load_policy_settings(load_settings(app.root))
    allowance = settings.freshness_grace if grace is None else parse_grace(_number_or_text(grace))
    inventory = load_inventory(app.root).inventory
    creds = portal_credentials()
    fetch = portal_fetcher(url=creds.url, username=creds.username, password=creds.password,
                           app_token=creds.app_token, timeout=timeout)
    report = check_freshness(inventory=inventory, fetch_view=fetch, grace=allowance, only=dataset_ids or None)
    app.finish(data=report_json(report), render=lambda: render(app, report),
               exit_code=1 if report.has_findings else 0)


def _number_or_text(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value


def report_json(report: FreshnessReport) -> dict[str, Any]:
    from kcdata.cli.app import to_jsonable

    data = to_jsonable(report)
    assert isinstance(data, dict)
    data["overdue"] = [e.id for e in report.overdue]
    data["ok"] = not report.has_findings
    return data


_STYLE = {"overdue": "bold red", "missing": "bold red", "never-updated": "red", "fresh": "green"}


def render(app: App, report: FreshnessReport) -> None:
    from rich.table import Table

    n = len(report.overdue)
    table = Table(title=f"Freshness at {report.checked_at:%Y-%m-%d %H:%M} UTC (grace: {report.grace}) — "
                        f"{n} overdue of {len(report.datasets)} published")
    for col in ("dataset", "portal id", "status", "period", "last update (UTC)", "late by", "note"):
        table.add_column(col)
    for e in report.datasets:
        table.add_row(e.id, e.portal_id, e.status.value, e.accrual_periodicity or "-",
                      f"{e.rows_updated_at:%Y-%m-%d %H:%M}" if e.rows_updated_at else "-", e.late_by or "",
                      e.message, style=_STYLE.get(e.status.value))
    app.out.print(table)
