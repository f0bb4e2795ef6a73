"""``kcdata changes``: what each publish changed in each dataset — the changelog for data users."""

from __future__ import annotations

import click

from kcdata.cli import complete
from kcdata.cli.app import App, json_option, pass_app


@click.command("changes")
@click.argument("dataset_id", required=False, shell_complete=complete.dataset_ids)
@click.option("--since", metavar="YYYY-MM-DD", help="Only changes on or after this date.")
@click.option("--portal", metavar="DOMAIN", help="Only changes published to this portal (e.g. data.kcmo.org).")
@json_option
@pass_app
def command(app: App, dataset_id: str | None, since: str | None, portal: str | None, as_json: bool) -> None:
    """Show what each publish changed: rows added, changed and removed, columns, metadata, who and commit.

    Read from the publish log (.kcdata/publish-log.jsonl) that every `kcdata publish apply` appends to;
    newest first. The public site shows the same changelog on each dataset page.

    \b
    Examples:
      kcdata changes
      kcdata changes water-main-breaks --since 2026-11-01
      kcdata changes --json
    """
    import datetime as dt

    from kcdata.changelog import read_changes
    from kcdata.jsonable import to_jsonable

    start = None
    if since is not None:
        try:
            start = dt.date.fromisoformat(since)
        except ValueError:
            raise click.BadParameter(f"'{since}' is not a date (YYYY-MM-DD)", param_hint="--since") from None
    if dataset_id is not None:
        app.program.inventory.get(dataset_id)  # unknown id: did-you-mean, exit 3
    changes = read_changes(app.root, dataset=dataset_id, since=start, portal=portal)
    data = {"changes": [{**to_jsonable(c), "summary": c.summary} for c in changes]}

    def render() -> None:
        from rich.table import Table

        if not changes:
            app.info("no changes recorded" + (f" for {dataset_id}" if dataset_id else "")
                     + (f" since {since}" if since else "") + ": they appear after `kcdata publish apply`")
            return
        table = Table(title="What changed" + (f" in {dataset_id}" if dataset_id else ""))
        for col in ("when (UTC)", "dataset", "portal", "change", "by", "commit"):
            table.add_column(col)
        for c in changes:
            table.add_row(f"{c.when:%Y-%m-%d %H:%M}", c.dataset, f"{c.portal}/{c.portal_id or '-'}", c.summary,
                          c.who or "-", (c.commit or "-")[:10])
        app.out.print(table)

    app.finish(data=data, render=render)
