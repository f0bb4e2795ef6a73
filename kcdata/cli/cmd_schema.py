"""``kcdata schema``: Table Schemas for a city's data files."""

from __future__ import annotations

from pathlib import Path

import click

from kcdata.cli.app import App, json_option, pass_app


@click.group("schema")
def command() -> None:
    """Write Table Schemas for data files.

    \b
    Examples:
      kcdata schema infer data/samples/building-permits.csv -o schemas/building-permits.schema.yaml
    """


@command.command("infer")
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to FILE (atomically): YAML with review comments, or JSON when FILE ends "
                   "in .json. Default: YAML on stdout.")
@click.option("--sample", type=click.IntRange(min=1), default=None, metavar="N",
              help="Read only the first N rows (bounds the work on big files; constraints then need review).")
@json_option
@pass_app
def infer_cmd(app: App, data: Path, output: Path | None, sample: int | None, as_json: bool) -> None:
    """Infer a Table Schema from a data file (CSV or XLSX).

    frictionless describes the file; kcdata then reads the rows to widen any type a later value does
    not fit, and adds constraints for review: required (no value missing), unique and a primaryKey
    suggestion, enum for low-cardinality text, pattern for fixed-shape codes, minimum/maximum for
    numbers and dates. The schema validates the file it came from (unless --sample left rows
    unread). Exit 0; 3 when the file is missing or cannot be read as a table.

    \b
    Examples:
      kcdata schema infer data/samples/building-permits.csv
      kcdata schema infer permits.csv -o schemas/permits.schema.yaml
      kcdata schema infer big.csv --sample 100000 -o big.schema.json
    """
    from kcdata.errors import InputError
    from kcdata.fileio import atomic_write_text
    from kcdata.validate.infer import infer_schema, to_json, to_yaml

    inferred = infer_schema(data=data, sample=sample, on_progress=lambda n: app.info(f"{n:,} rows read"))
    as_yaml = output is None or output.suffix.lower() != ".json"
    text = to_yaml(inferred, source=data.as_posix()) if as_yaml else to_json(inferred)
    if output is not None:
        try:
            atomic_write_text(output, text)
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror}",
                             hint="Check the folder exists and is writable.") from exc
    payload = {"data": data.as_posix(), "output": output.as_posix() if output else None, "rows": inferred.rows,
               "sampled": inferred.sampled, "schema": inferred.schema,
               "review": {k or "(schema)": v for k, v in inferred.notes.items() if v}}

    def render() -> None:
        if output is None:
            click.echo(text, nl=False)
        else:
            app.info(f"wrote {output}: {len(inferred.schema['fields'])} fields from {inferred.rows:,} rows; "
                     "review the `# review:` notes" if as_yaml else f"wrote {output}")

    app.finish(data=payload, render=render)
