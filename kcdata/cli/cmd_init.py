"""``kcdata init``: scaffold a new program folder for another city."""

from __future__ import annotations

from pathlib import Path

import click

from kcdata.cli.app import App, json_option, pass_app


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--city", default="Your City", show_default=True, help="City name for kcdata.yaml and the README.")
@click.option("--force", is_flag=True, help="Write into a non-empty folder (same-name files are replaced).")
@json_option
@pass_app
def command(app: App, directory: Path, city: str, force: bool, as_json: bool) -> None:
    """Create a program folder: inventory/, schemas/, kcdata.yaml and a README.

    The example department file explains every inventory field in comments, and the new folder
    passes `kcdata inventory lint` as created. Refuses a non-empty folder (exit 3) unless --force.

    \b
    Examples:
      kcdata init ../springfield-open-data --city Springfield
      cd ../springfield-open-data && kcdata inventory lint
    """
    from kcdata.inventory.scaffold import scaffold_program

    written = scaffold_program(target=directory, force=force, city=city)
    root = directory.resolve()
    files = [p.resolve().relative_to(root).as_posix() for p in written]

    def render() -> None:
        app.out.print(f"created {root}")
        for f in files:
            app.out.print(f"  {f}")
        app.out.print(f"next: kcdata --root {directory} inventory lint")

    app.finish(data={"root": str(root), "files": files}, render=render)
