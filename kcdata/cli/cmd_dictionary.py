"""``kcdata dictionary``: a dataset's data dictionary."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kcdata.cli import complete
from kcdata.cli.app import App, json_option, pass_app, to_jsonable


@click.command("dictionary")
@click.argument("dataset_id", shell_complete=complete.dataset_ids)
@click.option("--format", "fmt", type=click.Choice(["md", "xlsx", "html"]), default="md", show_default=True,
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE (atomically) instead of stdout; required for xlsx.")
@json_option
@pass_app
def command(app: App, dataset_id: str, fmt: str, output: Path | None, as_json: bool) -> None:
    """Write a dataset's data dictionary from its Table Schema and inventory entry.

    One row per field: name (and whether it is the row identifier), title, type, description,
    constraints, example values and missing cells (from the first rows of a local data file;
    examples are left out for datasets that are not public, contain personal information or are
    classified above public). Exit 0; 3 for an unknown dataset, one without a schema, or an
    unreadable schema.

    \b
    Examples:
      kcdata dictionary water-main-breaks
      kcdata dictionary water-main-breaks --format html -o water-main-breaks.html
      kcdata dictionary water-main-breaks --format xlsx -o water-main-breaks-dictionary.xlsx
    """
    from kcdata.dictionary import dictionary_for
    from kcdata.dictionary.render import render
    from kcdata.errors import InputError
    from kcdata.fileio import atomic_write_bytes

    if fmt == "xlsx" and output is None and not as_json:
        raise click.UsageError("--format xlsx needs -o FILE (a workbook is not written to a terminal)")
    d = dictionary_for(root=app.root, dataset_id=dataset_id)
    payload = render(d, fmt)
    if output is not None:
        try:
            atomic_write_bytes(output, payload)
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror}",
                             hint="Check the folder exists and is writable.") from exc

    def render_out() -> None:
        if output is None:
            sys.stdout.write(payload.decode("utf-8"))
            sys.stdout.flush()
        else:
            app.info(f"wrote the data dictionary of {dataset_id} ({len(d.fields)} fields) to {output}")

    app.finish(data={"dictionary": to_jsonable(d), "output": output.as_posix() if output else None},
               render=render_out)
