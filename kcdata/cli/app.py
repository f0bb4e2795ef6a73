"""The one application object passed to every command (``@pass_app``), and output helpers.

Results go to stdout; progress, info, warnings and errors go to stderr. ``--json`` prints
exactly one envelope object on stdout, also on failure.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kcdata.jsonable import to_jsonable

if TYPE_CHECKING:
    from rich.console import Console

    from kcdata.program import Program

ENVELOPE_VERSION = 1
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    """Global options and the consoles. Created once per invocation by ``kcdata.cli.main``."""

    root_flag: Path | None = None
    quiet: bool = False
    verbose: int = 0
    debug: bool = False
    color: bool = True
    json_mode: bool = False
    command: str = ""
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)
    _program: Program | None = field(default=None, repr=False)

    def configure(self, *, root: Path | None, quiet: bool, verbose: int, debug: bool, color: bool) -> None:
        self.root_flag, self.quiet, self.verbose, self.debug, self.color = root, quiet, verbose, debug, color
        import logging

        level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else \
            logging.ERROR if quiet else logging.WARNING
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)

    @property
    def root(self) -> Path:
        from kcdata.config import resolve_root

        return resolve_root(self.root_flag)

    @property
    def program(self) -> Program:
        """The program folder at :attr:`root`, loaded lazily and once for this invocation."""
        if self._program is None:
            from kcdata.program import Program

            program = Program(self.root)
            check_settings(program)
            self._program = program
        return self._program

    def complete_program(self, *, entries: bool = False) -> Program:
        """:attr:`program`, refusing (exit 3) when an inventory file could not be read: a report, export
        or publish must never silently leave out a department's datasets."""
        program = self.program
        program.require_complete(entries=entries)
        return program

    # -- consoles (rich is imported only when something is rendered) --------------------------
    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            # Redirected to a file or a CI log, 80 columns would fold every table into a tall
            # ribbon; a wide fixed width keeps rows on one line (COLUMNS still wins).
            wide = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
            self._out = Console(markup=False, highlight=False, no_color=not self.color,
                                soft_wrap=False, emoji=False, width=wide)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, markup=False, highlight=False, no_color=not self.color, soft_wrap=True,
                                emoji=False)
        return self._err

    def info(self, message: str) -> None:
        if not self.quiet:
            self.err.print(message, style="dim")

    def warn(self, message: str) -> None:
        if not self.quiet:  # -q: only results and errors
            self.err.print(f"warning: {message}", style="yellow")

    def error(self, message: str, *, hint: str | None = None) -> None:
        self.err.print(f"error: {message}", style="bold red")
        if hint:
            self.err.print(f"  {hint}")

    # -- results ---------------------------------------------------------------------------------
    def emit_json(self, *, data: Any, errors: Sequence[Any] = (), exit_code: int = 0) -> None:
        envelope = {
            "kcdata": ENVELOPE_VERSION,
            "command": self.command,
            "exit_code": int(exit_code),
            "data": to_jsonable(data),
            "errors": to_jsonable(list(errors)),
        }
        sys.stdout.write(json.dumps(envelope, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()

    def finish(self, *, data: Any, render: Callable[[], None] | None = None, errors: Sequence[Any] = (),
               exit_code: int = 0) -> None:
        """Print the result (JSON envelope or the human rendering) and exit with ``exit_code``."""
        if self.json_mode:
            self.emit_json(data=data, errors=errors, exit_code=exit_code)
        elif render is not None:
            render()
        if exit_code:
            raise SystemExit(int(exit_code))


pass_app = click.make_pass_decorator(App)

STATUSES = ("inventoried", "proposed", "in_review", "approved", "published", "withheld", "retired")


class HintedChoice(click.Choice):  # type: ignore[type-arg]
    """A choice whose usage error (exit 2) says which choice was probably meant."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(not_one_of(str(value), [str(c) for c in self.choices]), param, ctx)


def not_one_of(value: str, known: Sequence[str]) -> str:
    """``'x' is not one of …`` with a did-you-mean when a known value is close."""
    import difflib

    close = difflib.get_close_matches(value.lower(), list(known), n=1, cutoff=0.6)
    maybe = f" — did you mean '{close[0]}'?" if close else ""
    return f"{value!r} is not one of {', '.join(known)}{maybe}"


def json_option(func: F) -> F:
    """Add ``--json`` to a command: one JSON envelope on stdout instead of the human output."""

    def _callback(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        app = ctx.find_object(App)
        if app is not None:
            parts = ctx.command_path.split(" ")[1:]
            app.command = " ".join(parts)
            if value:
                app.json_mode = True
        return value

    return click.option("--json", "as_json", is_flag=True, is_eager=True, callback=_callback,
                        help="Print one JSON object on stdout (the documented envelope).")(func)


def check_settings(program: Program) -> None:
    """Read every section of ``kcdata.yaml`` now, so a mistake in it (a duplicate or unknown section, an
    unknown key, a wrong value) stops every command with exit 3, not only the command that reads it."""
    from kcdata.policy.goals import load_goals
    from kcdata.policy.settings import load_policy_settings
    from kcdata.publish.settings import publish_settings
    from kcdata.score.method import load_method
    from kcdata.settings import program_settings
    from kcdata.site.settings import site_settings

    settings = program.settings
    if not settings.exists:
        return
    unknown = settings.unknown_sections()
    if unknown:
        raise unknown[0]
    program_settings(settings)
    load_method(settings=settings)
    load_policy_settings(settings)
    load_goals(settings)
    publish_settings(settings)
    site_settings(settings)
