"""``kcdata inventory``: the city's dataset inventory."""

from __future__ import annotations

import click

from kcdata.cli.app import App, json_option, pass_app, to_jsonable


@click.group("inventory")
def command() -> None:
    """Keep and inspect the inventory of every dataset the city holds.

    \b
    Examples:
      kcdata inventory list --status approved
      kcdata inventory show water-main-breaks
    """


@command.command("list")
@click.option("--department", "-d", multiple=True, help="Only this department id (repeatable).")
@click.option("--status", "-s", multiple=True, help="Only this workflow status (repeatable).")
@click.option("--access-level", multiple=True, help="Only this access level (repeatable).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@json_option
@pass_app
def list_cmd(app: App, department: tuple[str, ...], status: tuple[str, ...], access_level: tuple[str, ...],
             as_csv: bool, as_json: bool) -> None:
    """List datasets, with filters.

    \b
    Examples:
      kcdata inventory list
      kcdata inventory list --department water --status approved --json
    """
    from kcdata.inventory import load_inventory

    result = load_inventory(app.root)
    rows = [d for d in result.inventory.datasets
            if (not department or d.department in department)
            and (not status or d.status.value in status)
            and (not access_level or d.access_level.value in access_level)]
    data = {"datasets": [dataset_json(d) for d in rows], "count": len(rows)}

    def render() -> None:
        if as_csv:
            import csv
            import sys

            w = csv.writer(sys.stdout)
            w.writerow(["id", "department", "title", "status", "access_level", "classification"])
            for d in rows:
                w.writerow([d.id, d.department, d.title, d.status.value, d.access_level.value,
                            d.classification.value])
            return
        from rich.table import Table

        table = Table(title=f"{len(rows)} datasets")
        for col in ("id", "department", "title", "status", "access"):
            table.add_column(col)
        for d in rows:
            table.add_row(d.id, d.department, d.title, d.status.value, d.access_level.value)
        app.out.print(table)

    for p in result.problems:
        app.warn(str(p))
    app.finish(data=data, render=render)


def dataset_json(d: object) -> dict[str, object]:
    """A dataset as the inventory format's own field names plus ``department``."""
    out = to_jsonable(d)
    assert isinstance(out, dict)
    out.pop("extra", None)
    out.pop("source", None)
    extra = getattr(d, "extra", {})
    out.update(to_jsonable(extra))
    src = getattr(d, "source", None)
    if src is not None:
        out["source"] = {"file": src.file, "line": src.line}
    return out
