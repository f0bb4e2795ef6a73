"""``kcdata inventory``: the city's dataset inventory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kcdata.cli import complete
from kcdata.cli.app import STATUSES, App, HintedChoice, json_option, not_one_of, pass_app
from kcdata.jsonable import to_jsonable


@click.group("inventory")
def command() -> None:
    """Keep and inspect the inventory of every dataset the city holds.

    \b
    Examples:
      kcdata inventory lint
      kcdata inventory list --status approved
      kcdata inventory show water-main-breaks
      kcdata inventory add --department water
      kcdata inventory export --format xlsx -o inventory.xlsx
    """


# -- list ----------------------------------------------------------------------------------------

@command.command("list")
@click.option("--department", "-d", multiple=True, shell_complete=complete.department_ids,
              help="Only this department id (repeatable).")
@click.option("--status", "-s", multiple=True, type=HintedChoice(STATUSES),
              help="Only this workflow status (repeatable).")
@click.option("--access-level", multiple=True, type=HintedChoice(["public", "restricted public", "non-public"]),
              help="Only this access level (repeatable).")
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
      kcdata inventory list --access-level non-public --csv > restricted.csv
    """
    result = app.complete_program().loaded
    known = [dep.id for dep in result.inventory.departments]
    for dep_id in department:
        if dep_id not in known:
            raise click.BadParameter(not_one_of(dep_id, known), param_hint="'--department' / '-d'")
    rows = [d for d in result.inventory.datasets
            if (not department or d.department in department)
            and (not status or d.status.value in status)
            and (not access_level or d.access_level.value in access_level)]
    data = {"datasets": [dataset_json(d) for d in rows], "count": len(rows)}

    def render() -> None:
        if as_csv:
            import csv

            w = csv.writer(sys.stdout, lineterminator="\n")
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


# -- show ----------------------------------------------------------------------------------------

@command.command("show")
@click.argument("dataset_id", shell_complete=complete.dataset_ids)
@json_option
@pass_app
def show_cmd(app: App, dataset_id: str, as_json: bool) -> None:
    """Show every field of one dataset, and its review history.

    DATASET_ID is the inventory id (or the portal's four-by-four id). An unknown id exits 3 with
    the closest ids as suggestions.

    \b
    Examples:
      kcdata inventory show water-main-breaks
      kcdata inventory show water-main-breaks --json
    """
    result = app.program.loaded
    by_portal = [d for d in result.inventory.datasets if d.portal_id == dataset_id]
    # a portal four-by-four works too; otherwise NotFoundError (exit 3) with did-you-mean
    d = by_portal[0] if by_portal else result.inventory.get(dataset_id)
    data = dataset_json(d)

    def render() -> None:
        from rich.table import Table

        table = Table(title=f"{d.id} ({d.department})", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for key, value in data.items():
            if key in ("history", "source"):
                continue
            table.add_row(key, _cell(value))
        app.out.print(table)
        if d.source is not None:
            app.out.print(f"defined in {d.source.file}:{d.source.line}")
        if d.history:
            hist = Table(title="history")
            for col in ("when", "who", "from", "to", "note"):
                hist.add_column(col)
            for h in d.history:
                hist.add_row(h.at, h.by, h.from_status or "", h.to_status, h.note or "")
            app.out.print(hist)
        else:
            app.out.print("history: none recorded")

    app.finish(data={"dataset": data, "datasets": [data]}, render=render)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# -- lint ----------------------------------------------------------------------------------------

@command.command("lint")
@json_option
@pass_app
def lint_cmd(app: App, as_json: bool) -> None:
    """Check every department file against the inventory format.

    Reports each problem as FILE:LINE:COL KEYPATH: MESSAGE, grouped by file. Exit 0 when clean,
    1 when there are errors (warnings alone exit 0), 3 when a file cannot be parsed (the other
    files are still checked and reported).

    \b
    Examples:
      kcdata inventory lint
      kcdata inventory lint --json
    """
    from kcdata.inventory.lint import lint_inventory, sorted_problems

    app.program  # noqa: B018  (reads kcdata.yaml: a mistake in it stops lint too, exit 3)
    report = lint_inventory(root=app.root)
    problems = sorted_problems(report.problems)
    exit_code = 3 if report.unparsable else 1 if report.errors else 0
    data = {
        "ok": report.ok and not report.unparsable,
        "files": report.files, "datasets": report.datasets,
        "errors": report.errors, "warnings": report.warnings,
        "unparsable": list(report.unparsable),
        "problems": [{**to_jsonable(p), "location": p.location()} for p in problems],
    }

    def render() -> None:
        from rich.text import Text

        current = None
        for p in problems:
            if p.file != current:
                current = p.file
                app.out.print(Text(p.file, style="bold underline"), soft_wrap=True)
            where = f"{p.line}:{p.col or 1}" if p.line is not None else "-"
            style = "red" if p.severity.value == "error" else "yellow"
            line = Text.assemble(f"  {where:>9}  ", (f"{p.severity.value:<7}", style),
                                 f" {p.keypath + ': ' if p.keypath else ''}{p.message}  [{p.code}]")
            app.out.print(line, soft_wrap=True)
        summary = (f"{report.errors} error(s), {report.warnings} warning(s) in {report.files} file(s), "
                   f"{report.datasets} dataset(s)")
        if report.unparsable:
            summary += f"; {len(report.unparsable)} file(s) could not be parsed"
        app.err.print(summary if problems else f"inventory OK: {summary}")

    app.finish(data=data, render=render, exit_code=exit_code)


# -- export --------------------------------------------------------------------------------------

@command.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), required=True, help="Output format.")
@click.option("--public", is_flag=True,
              help="The public listing: non-public and withheld datasets keep only title, department and "
                   "justification.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE (atomically) instead of stdout; required for xlsx.")
@pass_app
def export_cmd(app: App, fmt: str, public: bool, output: Path | None) -> None:
    """Export the inventory as CSV, Excel or JSON.

    \b
    Examples:
      kcdata inventory export --format csv > inventory.csv
      kcdata inventory export --format xlsx --public -o public-inventory.xlsx
      kcdata inventory export --format json --public
    """
    from kcdata.errors import InputError
    from kcdata.fileio import atomic_write_bytes
    from kcdata.inventory.export import export_rows, to_csv, to_json, to_xlsx

    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs -o FILE (a workbook is not written to a terminal)")
    result = app.complete_program().loaded
    for p in result.problems:
        app.warn(str(p))
    rows = export_rows(result.inventory, public=public)
    payload: bytes
    if fmt == "csv":
        payload = to_csv(rows, public=public).encode("utf-8")
    elif fmt == "json":
        payload = to_json(rows, public=public).encode("utf-8")
    else:
        payload = to_xlsx(rows, public=public)
    if output is None:
        sys.stdout.write(payload.decode("utf-8"))
        sys.stdout.flush()
        return
    try:
        atomic_write_bytes(output, payload)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}",
                         hint="Check the folder exists and is writable.") from exc
    app.info(f"wrote {len(rows)} datasets to {output}")


# -- add -----------------------------------------------------------------------------------------

@command.command("add")
@click.option("--department", "-d", "department", default=None, shell_complete=complete.department_ids,
              help="Department id (the file inventory/D.yaml).")
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Read the entry (a YAML mapping) from ENTRY.yaml; flags override its fields.")
@click.option("--yes", "-y", is_flag=True, help="No prompts and no confirmation (scripts).")
@click.option("--id", "id_", default=None, help="Dataset id (lowercase slug).")
@click.option("--title", default=None)
@click.option("--description", default=None)
@click.option("--contact-name", default=None)
@click.option("--contact-email", default=None)
@click.option("--access-level", type=click.Choice(["public", "restricted public", "non-public"]), default=None)
@click.option("--classification", type=click.Choice(["public", "sensitive", "protected"]), default=None)
@click.option("--contains-pii/--no-pii", default=None)
@click.option("--rights", default=None, help="Justification when access is restricted.")
@click.option("--keyword", "keywords", multiple=True, help="Keyword (repeatable).")
@click.option("--theme", default=None)
@click.option("--license", "license_", default=None)
@click.option("--accrual-periodicity", default=None)
@click.option("--source-system", default=None)
@click.option("--methodology", default=None)
@click.option("--data", default=None)
@click.option("--schema", default=None)
@click.option("--row-identifier", default=None)
@click.option("--goal", "goals", multiple=True, help="KCStat goal id (repeatable).")
@click.option("--value", type=click.Choice(["high", "medium", "low"]), default=None)
@click.option("--requests", type=click.IntRange(min=0), default=None)
@click.option("--status", type=click.Choice(["inventoried", "proposed"]), default=None,
              help="inventoried (default) or proposed; later states come only through `kcdata review`.")
@click.option("--target-release", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@json_option
@pass_app
def add_cmd(app: App, department: str | None, from_file: Path | None, yes: bool, as_json: bool,
            **flags: Any) -> None:
    """Add a dataset to a department's file (interactive on a terminal).

    On a terminal it asks for each field (defaults in brackets, choices listed, invalid answers
    asked again). With --yes, flags and/or --from-file it never prompts. The entry is validated
    before anything is written (exit 3 and nothing written when it is invalid or its id is taken);
    the department file keeps every existing byte.

    \b
    Examples:
      kcdata inventory add
      kcdata inventory add -d water --from-file entry.yaml --yes
      kcdata inventory add -d water --yes --id water-quality --title "Water Quality Tests" \\
          --description "Lab results" --contact-name "KC Water Lab" --access-level public
    """
    from kcdata.cli.add_prompts import collect_entry
    from kcdata.errors import InputError
    from kcdata.inventory.lint import lint_entry
    from kcdata.inventory.writer import append_dataset

    root = app.root
    interactive = sys.stdin.isatty() and not yes and not as_json
    entry, department, dep_header = collect_entry(app, root=root, department=department, from_file=from_file,
                                                  flags=flags, interactive=interactive)
    from kcdata.cli.inventory_edit import refuse_review_fields

    refuse_review_fields(entry, allow_status=("inventoried", "proposed"))
    problems = [p for p in lint_entry(entry, root=root, department_id=department)
                if p.severity.value == "error"]
    if problems:
        lines = "; ".join(f"{p.keypath}: {p.message}" for p in problems)
        raise InputError(f"the new entry is not valid, nothing written: {lines}",
                         hint="Fix the fields named above and run the command again.", code="invalid-entry",
                         details={"problems": [to_jsonable(p) for p in problems]})
    if interactive:
        import yaml

        app.err.print(yaml.safe_dump([entry], sort_keys=False, allow_unicode=True).rstrip())
        if not click.confirm(f"Add this dataset to inventory/{department}.yaml?", default=True, err=True):
            app.err.print("not added: nothing written")
            return
    path = append_dataset(root=root, department_id=department, entry=entry, department=dep_header)
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    data = {"dataset": to_jsonable(entry), "department": department, "file": rel}

    def render() -> None:
        app.out.print(f"added {entry['id']} to {rel}")

    app.finish(data=data, render=render)


def _register_import() -> None:
    from kcdata.cli.inventory_import import import_cmd

    command.add_command(import_cmd)


_register_import()

def _register_edit_commands() -> None:
    from kcdata.cli.inventory_edit import edit_cmd, set_cmd, unset_cmd

    for cmd in (set_cmd, unset_cmd, edit_cmd):
        command.add_command(cmd)


_register_edit_commands()
