"""``kcdata site``: the public catalog site."""

from __future__ import annotations

from pathlib import Path

import click

from kcdata.cli.app import App, json_option, pass_app


@click.group("site")
def command() -> None:
    """Build the public catalog site of the whole inventory.

    \b
    Examples:
      kcdata site build
      kcdata site build -o /srv/www/inventory --strict
    """


@command.command("build")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder to write the site into (replaced whole) [default: <root>/site].")
@click.option("--strict", is_flag=True, help="Refuse to build (exit 1) when the inventory has problems.")
@json_option
@pass_app
def build_cmd(app: App, out_dir: Path | None, strict: bool, as_json: bool) -> None:
    """Build the static site: catalog, one page per dataset, program charts, Atom feed.

    Every asset is local: open index.html from a file share or copy the folder to any static host.
    Inventory problems are shown on the program page; --strict refuses to build instead.

    \b
    Examples:
      kcdata site build
      kcdata site build -o public --json
    """
    from kcdata.errors import FindingsError
    from kcdata.jsonable import to_jsonable
    from kcdata.site import build_site, default_out_dir

    root = app.root
    target = out_dir if out_dir is not None else default_out_dir(root)
    refused: FindingsError | None = None
    try:
        result = build_site(program=app.program, out_dir=target, strict=strict)
    except FindingsError as exc:
        refused = exc
    if refused is not None:
        problems = refused.details.get("problems", [])

        def render_refusal() -> None:
            for p in problems:
                app.err.print(f"{p['where']}: {p['message']}")
            assert refused is not None
            app.error(refused.message, hint=refused.hint)

        app.finish(data={"built": False, "problems": problems}, errors=[refused.to_dict()],
                   render=render_refusal, exit_code=int(refused.exit_code))
        return
    for w in result.warnings:
        app.warn(w)

    def render() -> None:
        n = len(result.problems)
        # soft_wrap: a path or URL wrapped at the terminal width cannot be copied or clicked.
        app.out.print(f"Built {len(result.pages)} files for {result.datasets} datasets in {result.out_dir}",
                      soft_wrap=True)
        if n:
            app.out.print(f"{n} inventory problem{'s' if n != 1 else ''} listed on the program page "
                          "(kcdata inventory lint)", soft_wrap=True)
        app.out.print(f"Open: {result.url}", soft_wrap=True)

    app.finish(data=to_jsonable(result), render=render)
