"""``kcdata inventory import``: bring a city's existing inventory in, from a spreadsheet or its portal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kcdata.cli.app import App, json_option, pass_app


@click.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from-portal", "portal_url", default=None, metavar="URL",
              help="Import the datasets of a Socrata portal (its catalog and each view's metadata) instead "
                   "of a spreadsheet, e.g. https://data.kcmo.org.")
@click.option("--map", "map_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Mapping file (YAML): columns, value translations, departments, defaults.")
@click.option("--dry-run", is_flag=True, help="Show what would be added, changed and refused; write nothing.")
@click.option("--update", is_flag=True,
              help="Update datasets already in the inventory (same id), field by field. Without it they "
                   "are refused when they differ.")
@click.option("--department-field", default=None, metavar="NAME",
              help="With --from-portal: the custom metadata field naming the department (default: the "
                   "dataset's attribution).")
@json_option
@pass_app
def import_cmd(app: App, file: Path | None, portal_url: str | None, map_file: Path | None, dry_run: bool,
               update: bool, department_field: str | None, as_json: bool) -> None:
    """Import datasets from a spreadsheet (CSV/XLSX) or a Socrata portal.

    FILE is what `inventory export --format csv|xlsx` writes, or a city's own workbook read
    through --map. Each row is checked with the lint rules before it is written (through the
    byte-preserving writer); a bad row is refused with its row and column and never stops the
    others. Exit 0 when every row is imported (or unchanged), 1 when some are refused, 3 for
    bad input (missing file, malformed spreadsheet or map), 4 when the portal fails.

    \b
    Examples:
      kcdata inventory import inventory.csv --dry-run
      kcdata inventory import city-inventory.xlsx --map map.yaml
      kcdata inventory import inventory.xlsx --update
      kcdata inventory import --from-portal https://data.kcmo.org --map map.yaml --dry-run
    """
    from kcdata.inventory.importer import apply_import, plan_import, report_json
    from kcdata.inventory.importmap import ImportMap, load_map, read_sheet

    if (file is None) == (portal_url is None):
        raise click.UsageError("give either FILE or --from-portal URL")
    mapping = load_map(map_file) if map_file is not None else ImportMap()
    root = app.root
    pending: dict[str, dict[str, Any]] = {}
    if file is not None:
        sheet = read_sheet(file, mapping)
        records, ignored = sheet.records, sheet.ignored_columns
        source = str(file)
    else:
        from kcdata.inventory.portal_import import portal_catalog

        assert portal_url is not None
        catalog = portal_catalog(url=portal_url, root=root, mapping=mapping, department_field=department_field,
                                 on_page=lambda n, total: app.info(f"catalog: {n} of {total} datasets read"))
        records, ignored, source = catalog.records, (), portal_url
        # a schema is written only for a new dataset whose schema file is not there yet
        pending = {f"schemas/{i}.schema.json": s for i, s in catalog.schemas.items()
                   if not (root / "schemas" / f"{i}.schema.json").exists()}
    for name in ignored:
        app.warn(f"column {name!r} is not an inventory field and is not imported (map it with --map)")
    report = plan_import(root=root, records=records, mapping=mapping, update=update, ignored_columns=ignored,
                         pending=frozenset(pending))
    schemas_written: list[str] = []
    if not dry_run:
        from kcdata.inventory.importer import write_pending

        schemas_written = write_pending(root=root, report=report, pending=pending)
        report = apply_import(root=root, plan=report)
        schemas_written = write_pending(root=root, report=report, pending=pending, cleanup=schemas_written)
    data: dict[str, Any] = {"source": source, "dry_run": dry_run, **report_json(report),
                            "schemas_written": schemas_written}
    exit_code = 0 if report.ok else 1

    def render() -> None:
        verb = {"add": "would add" if dry_run else "added", "update": "would update" if dry_run else "updated",
                "unchanged": "unchanged", "refused": "refused"}
        for o in report.outcomes:
            if o.action == "unchanged" and not app.verbose:
                continue
            where = f"{o.label}: " if o.label else ""
            app.out.print(f"{verb[o.action]:>12}  {where}{o.id or '(no id)'} [{o.department or '?'}]", soft_wrap=True)
            for c in o.changes:
                app.out.print(f"{'':>14}{c.field}: {_short(c.old)} -> {_short(c.new)}", soft_wrap=True)
            for p in o.problems:
                at = ", ".join(x for x in (f"row {p.row}" if p.row else "",
                                           f"column {p.column} ({p.header!r})" if p.column else "") if x)
                app.out.print(f"{'':>14}{at + ': ' if at else ''}{p.message} [{p.code}]", soft_wrap=True)
        for dep, counts in report.by_department().items():
            app.err.print(f"{dep}: " + ", ".join(f"{n} {verb[a]}" for a, n in counts.items() if n))
        total = ", ".join(f"{report.count(a)} {verb[a]}" for a in ("add", "update", "unchanged", "refused"))
        app.err.print(f"{'dry run, nothing written: ' if dry_run else ''}{total}")

    app.finish(data=data, render=render, exit_code=exit_code)


def _short(value: Any) -> str:
    text = "(empty)" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
