"""``kcdata export``: the inventory in public formats (DCAT-US 1.1 data.json)."""

from __future__ import annotations

from pathlib import Path

import click

from kcdata.cli.app import App, json_option, pass_app


@click.group("export")
def command() -> None:
    """Export the inventory for the public and for federal/aggregator catalogs.

    \b
    Examples:
      kcdata export datajson -o site/data.json
    """


@command.command("datajson")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the catalog to FILE (atomically) instead of stdout.")
@json_option
@pass_app
def datajson_cmd(app: App, output: Path | None, as_json: bool) -> None:
    """Write the inventory as a DCAT-US 1.1 data.json catalog (non-federal profile).

    Public datasets get CSV and API distributions on the portal once published; non-public ones
    are listed with accessLevel and rights (why they cannot be released). The catalog is checked
    against the official schemas first: if it would not validate, nothing is written, the
    reasons are listed and the exit code is 1. Publisher and portal domain come from
    kcdata.yaml `program:`.

    \b
    Examples:
      kcdata export datajson > data.json
      kcdata export datajson -o public/data.json --json
    """
    import sys

    from kcdata.export.datajson import export_program, render_catalog
    from kcdata.fileio import atomic_write_text

    program = app.complete_program(entries=True)
    for p in program.problems:
        app.warn(str(p))
    result = export_program(program)
    datasets = result.catalog["dataset"]
    summary = {
        "valid": result.valid, "output": str(output) if output else None, "datasets": len(datasets),
        "public": sum(d["accessLevel"] == "public" for d in datasets),
        "non_public": sum(d["accessLevel"] != "public" for d in datasets),
        "with_distribution": sum("distribution" in d for d in datasets),
        "problems": [{"path": p.path, "dataset": p.dataset, "message": p.message} for p in result.problems],
    }
    if not result.valid:
        errors = [{"code": "invalid-catalog", **row} for row in summary["problems"]]  # type: ignore[dict-item]

        def render_problems() -> None:
            app.error(f"refusing to write a data.json that does not validate ({len(result.problems)} problem(s)):")
            for p in result.problems:
                app.err.print(f"  {p.dataset or '-'} {p.path}: {p.message}")

        app.finish(data=summary, errors=errors, render=render_problems, exit_code=1)
        return
    text = render_catalog(result.catalog)
    if output is not None:
        atomic_write_text(output, text)
    if as_json:
        if output is None:
            summary["catalog"] = result.catalog
        app.finish(data=summary)
        return
    if output is None:
        sys.stdout.write(text)
    else:
        app.info(f"wrote {output} ({len(datasets)} datasets, {summary['with_distribution']} with distributions)")
    app.finish(data=summary)
