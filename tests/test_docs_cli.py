"""The docs cannot drift from the commands: docs/cli.md is exactly what the click tree renders now."""

from __future__ import annotations

import click
from conftest import REPO

from kcdata.cli import cli
from kcdata.cli.reference import render, root_context, walk

PAGE = REPO / "docs" / "cli.md"


def _tree() -> list[tuple[click.Context, click.Command]]:
    return list(walk(cli, root_context()))


def test_cli_reference_is_fresh() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), \
        "docs/cli.md is stale: run `make docs` and commit the result"


def test_every_command_and_option_is_documented() -> None:
    text = PAGE.read_text(encoding="utf-8")
    tree = _tree()
    assert len(tree) > 30, "the walk must reach the subcommands of every group"
    for ctx, command in tree:
        assert f"## `{ctx.command_path}`" in text, ctx.command_path
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                for opt in param.opts:
                    assert opt in text, f"{ctx.command_path} {opt}"


def test_every_command_has_an_example_in_its_help() -> None:
    missing = [ctx.command_path for ctx, command in _tree()
               if not isinstance(command, click.Group) and "kcdata " not in (command.help or "")]
    assert not missing, f"commands whose --help has no example: {missing}"


def test_readme_links_the_reference() -> None:
    assert "docs/cli.md" in (REPO / "README.md").read_text(encoding="utf-8")
