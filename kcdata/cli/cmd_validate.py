"""``kcdata validate``: check data files against their Frictionless Table Schemas."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kcdata.cli import complete
from kcdata.cli.app import App, json_option, pass_app


@click.command("validate")
@click.argument("targets", nargs=-1, shell_complete=complete.dataset_ids_or_files)
@click.option("--schema", "schema_path", type=click.Path(path_type=Path), help="Table Schema for an ad-hoc FILE.")
@click.option("--max-errors", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Errors listed per dataset (0 = all). Counting is never limited.")
@click.option("--engine", type=click.Choice(["auto", "fast", "frictionless"]), default="auto", show_default=True,
              help="auto: fast engine, frictionless where the fast one cannot promise the same answer.")
@click.option("--no-cache", is_flag=True, help="Re-validate even when data and schema are unchanged.")
@click.option("--delimiter", callback=lambda c, p, v: _one_char(v, "delimiter"),
              help="CSV delimiter, one character (\\t for tab; overrides the schema's dialect).")
@click.option("--encoding", callback=lambda c, p, v: _encoding(v),
              help="File encoding, e.g. utf-8, utf-16, cp1252 (overrides the schema's dialect).")
@click.option("--quote-char", callback=lambda c, p, v: _one_char(v, "quote character"),
              help="CSV quote character (overrides the schema's dialect).")
@click.option("--changed-files", is_flag=True,
              help="TARGETS are changed files (as pre-commit passes them): validate the datasets whose data "
                   "file, schema or department file is among them.")
@json_option
@pass_app
def command(app: App, targets: tuple[str, ...], schema_path: Path | None, max_errors: int, engine: str,
            no_cache: bool, delimiter: str | None, encoding: str | None, quote_char: str | None,
            changed_files: bool, as_json: bool) -> None:
    """Validate data files against their Table Schemas (Frictionless semantics, fast engine).

    With dataset ids (or none: every inventory dataset with data and schema) the inventory's files
    are checked and the result cached under .kcdata/validation/; with FILE --schema SCHEMA an ad-hoc
    file is. A dataset that cannot be validated (missing file, invalid schema) is reported and the
    others are still checked. Exit 1 when anything is invalid, 3 when any input could not be read.

    \b
    Examples:
      kcdata validate
      kcdata validate 311-service-requests --max-errors 20
      kcdata validate data/samples/calls.csv --schema schemas/calls.schema.json --json
      kcdata validate --changed-files inventory/water.yaml data/samples/water-mains.csv
    """
    from kcdata.validate import ValidationRun, validate_datasets, validate_table

    dialect = {k: v for k, v in (("delimiter", delimiter.replace("\\t", "\t") if delimiter else None),
                                 ("encoding", encoding), ("quoteChar", quote_char)) if v}
    progress = _Progress(app)
    try:
        adhoc = not changed_files and (schema_path is not None or (len(targets) == 1 and Path(targets[0]).is_file()))
        if adhoc:
            if schema_path is None or len(targets) != 1:
                from kcdata.errors import InputError

                raise InputError("an ad-hoc file needs exactly one FILE and --schema SCHEMA",
                                 hint="kcdata validate FILE --schema SCHEMA")
            report = validate_table(data=Path(targets[0]), schema=schema_path, max_errors=max_errors, engine=engine,
                                    on_progress=lambda r, b: progress.update(targets[0], r, b), dialect=dialect)
            run = ValidationRun(datasets=(report,))
        else:
            inventory = (app.program if targets else app.complete_program()).inventory
            ids: list[str] | None = list(targets) or None
            if changed_files:
                from kcdata.inventory.touched import datasets_touched

                ids = list(datasets_touched(inventory=inventory, files=targets))
                if not ids:
                    app.finish(data={"valid": True, "datasets": []},
                               render=lambda: app.info("no dataset uses the changed files: nothing to validate"))
                    return
            run = validate_datasets(inventory=inventory, ids=ids, max_errors=max_errors,
                                    use_cache=not no_cache and not dialect, engine=engine,
                                    on_progress=progress.update, dialect=dialect)
    finally:
        progress.close()
    data = {"valid": run.valid, "datasets": [_report_json(r) for r in run.datasets]}
    # One dataset's bad input does not stop the others; it decides the exit code (3 over 1).
    problems = [{"dataset": r.id, "code": e.code, "message": e.message, "hint": getattr(e, "hint", None)}
                for r in run.datasets if r.bad_input for e in r.errors]
    exit_code = 3 if run.bad_input else 0 if run.valid else 1
    app.finish(data=data, render=lambda: _render(app, run), errors=problems, exit_code=exit_code)


def _one_char(value: str | None, what: str) -> str | None:
    """A usage error (exit 2) unless ``value`` is one character (``\\t`` is a tab)."""
    if value is None:
        return None
    if len(value.replace("\\t", "\t")) != 1:
        raise click.BadParameter(f"{value!r}: the {what} must be one character (e.g. ';' or \\t for tab)")
    return value


def _encoding(value: str | None) -> str | None:
    import codecs

    if value is None:
        return None
    try:
        codecs.lookup(value)
    except LookupError:
        raise click.BadParameter(f"unknown encoding {value!r} (e.g. utf-8, utf-16, cp1252, latin-1)") from None
    return value


def _report_json(report: Any) -> dict[str, Any]:
    from kcdata.jsonable import to_jsonable

    out = to_jsonable(report)
    assert isinstance(out, dict)
    return out


def _render(app: App, run: Any) -> None:
    from rich.table import Table

    if not run.datasets:
        app.info("no datasets to validate: none in the inventory has both `data` and `schema`")

    for r in run.datasets:
        name = r.id or r.path
        if r.bad_input:
            app.out.print(f"{name}: NOT VALIDATED ({r.errors[0].code})", style="bold red")
            for e in r.errors:
                app.error(f"{name}: {e.message}", hint=getattr(e, "hint", None))
            continue
        state = "valid" if r.valid else "INVALID"
        extra = f" (engine: {r.engine}" + (f", {r.engine_reason}" if r.engine_reason else "") + ")"
        app.out.print(f"{name}: {state}, {r.rows} rows, {r.error_count} errors, {r.seconds:.2f}s"
                      f"{' (cached)' if r.cached else ''}{extra}", style="green" if r.valid else "bold red")
        for w in r.warnings:
            app.warn(f"{name}: {w}")
        if r.error_counts:
            counts = Table(title="errors by code")
            counts.add_column("code")
            counts.add_column("count", justify="right")
            for code, n in r.error_counts.items():
                counts.add_row(code, str(n))
            app.out.print(counts)
        if r.errors:
            shown = f"first {len(r.errors)} of {r.error_count}" if len(r.errors) < r.error_count else "all"
            table = Table(title=f"errors ({shown})")
            for col in ("row", "field", "code", "message"):
                table.add_column(col)
            for e in r.errors:
                table.add_row("" if e.row is None else str(e.row), e.field or "", e.code, e.message)
            app.out.print(table)


class _Progress:
    """A rich progress bar (rows/s) on stderr, only for a terminal and only after the first second."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.bar: Any = None
        self.task: Any = None
        self.started: float | None = None
        self.enabled = sys.stderr.isatty() and not app.quiet

    def update(self, name: str, rows: int, _bytes: int) -> None:
        if not self.enabled:
            return
        import time

        now = time.monotonic()
        if self.started is None:
            self.started = now
        if self.bar is None and now - self.started > 1.0:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                TextColumn("{task.completed:,} rows"), TextColumn("{task.fields[rate]}"),
                                TimeElapsedColumn(), console=self.app.err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(name, total=None, rate="")
        if self.bar is not None and self.started is not None:
            rate = rows / max(now - self.started, 1e-6)
            self.bar.update(self.task, completed=rows, description=name, rate=f"{rate:,.0f} rows/s")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
