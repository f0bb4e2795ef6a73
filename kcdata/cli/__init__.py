"""The kcdata command line: a thin skin over the library.

Top-level commands live one per module, ``kcdata/cli/cmd_<name>.py``, each exposing
``command`` (a click command or group). They are discovered by file name and imported only
when needed, so ``kcdata --help`` stays fast; heavy libraries are imported inside command
bodies. Every error is translated to the user here, in :func:`main`, and nowhere else.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from kcdata import __version__
from kcdata.cli.app import App
from kcdata.errors import ExitCode, KcdataError

_CLI_DIR = Path(__file__).parent


class LazyGroup(click.Group):
    """Finds ``cmd_<name>.py`` modules next to this file and imports one only when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = {p.stem[4:].replace("_", "-") for p in _CLI_DIR.glob("cmd_*.py")}
        return sorted(names | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        module_name = "cmd_" + cmd_name.replace("-", "_")
        if not (_CLI_DIR / f"{module_name}.py").exists():
            return None
        module = importlib.import_module(f"kcdata.cli.{module_name}")
        cmd: click.Command = module.command
        return cmd


# The libraries whose versions decide kcdata's behaviour: quoted in every bug report.
VERSION_OF = ("frictionless", "sodapy", "pyarrow", "pandas", "click", "pyyaml", "requests")


def version_report() -> str:
    """``kcdata X`` and, one per line, Python and the libraries kcdata runs on (from package metadata, no imports)."""
    import platform
    from importlib import metadata

    lines = [f"kcdata {__version__}",
             f"Python {platform.python_version()} ({platform.python_implementation()}, {platform.system()} "
             f"{platform.machine()})"]
    for name in VERSION_OF:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name} not installed")
    return "\n".join(lines)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(version_report())
    ctx.exit()


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version of kcdata and of the libraries it runs on (for bug reports), and exit.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Program folder holding inventory/, schemas/ and kcdata.yaml "
                   "[env KCDATA_ROOT; default: current folder].")
@click.option("-q", "--quiet", is_flag=True, help="Only results and errors.")
@click.option("-v", "--verbose", count=True, help="More detail (repeat for debug logging).")
@click.option("--debug", is_flag=True, help="Show a full traceback on unexpected errors.")
@click.option("--no-color", is_flag=True, help="Plain output [env NO_COLOR].")
@click.pass_context
def cli(ctx: click.Context, root: Path | None, quiet: bool, verbose: int, debug: bool, no_color: bool) -> None:
    """kcdata runs a city's open-data release program end to end.

    \b
    inventory -> validate -> score -> review -> publish -> report

    \b
    Examples:
      kcdata inventory lint
      kcdata inventory list --status approved
      kcdata --root ~/kc-open-data validate --json
    """
    app: App = ctx.ensure_object(App)
    app.configure(root=root, quiet=quiet, verbose=verbose, debug=debug,
                  color=not no_color and "NO_COLOR" not in os.environ)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every failure into a message and an exit code."""
    app = App()
    try:
        cli.main(args=argv, prog_name="kcdata", obj=app, standalone_mode=False)
    except click.exceptions.Abort:
        _interrupted(app, "Aborted.")
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _global_option_hint(exc)
        if app.json_mode or "--json" in (sys.argv[1:] if argv is None else argv):
            app.emit_json(data={}, errors=[{"code": "usage-error", "message": exc.format_message()}],
                          exit_code=ExitCode.USAGE)
        else:
            exc.show()
        sys.exit(ExitCode.USAGE)
    except KcdataError as exc:
        _report_error(app, exc.to_dict(), exc.message, exc.hint, int(exc.exit_code))
    except KeyboardInterrupt:
        _interrupted(app, "Interrupted.")
    except BrokenPipeError:
        # `kcdata ... | head`: the reader went away; nothing useful left to say.
        sys.stderr.close()
        sys.exit(ExitCode.OK)
    except SystemExit:
        raise
    except OSError as exc:
        if app.debug or exc.errno not in _FS_ERRNOS:
            if app.debug:
                raise
            _internal(app, exc)
        where = exc.filename or "a file"
        message = f"cannot use {where}: {exc.strerror or exc}"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            message = f"folder not writable: {Path(str(where)).parent} ({exc.strerror})"
        elif exc.errno in (errno.ENOTDIR, errno.EEXIST):
            message = f"cannot write {where}: a file is in the way where a folder should be"
        _report_error(app, {"code": "not-writable" if "writable" in message else "bad-input", "message": message},
                      message, "check the path and its permissions", int(ExitCode.BAD_INPUT))
    except Exception as exc:  # the last line of defence: never show a traceback by default
        if app.debug:
            raise
        _internal(app, exc)
    else:
        sys.exit(ExitCode.OK)


_FS_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR, errno.EISDIR,
              errno.ENOENT, errno.EEXIST, errno.ENAMETOOLONG}


GLOBAL_OPTIONS = ("--root", "-q", "--quiet", "-v", "--verbose", "--debug", "--no-color")


def _global_option_hint(exc: click.ClickException) -> None:
    """``kcdata validate --root DIR``: say that global options go before the command."""
    name = getattr(exc, "option_name", None)
    if isinstance(exc, click.NoSuchOption) and name in GLOBAL_OPTIONS:
        exc.message = (f"{exc.message.rstrip('.')}: {name} is a global option, so it goes before the command "  # type: ignore[misc]
                       f"(e.g. kcdata {name}{' DIR' if name == '--root' else ''} validate)")


def _interrupted(app: App, message: str) -> None:
    click.echo(message, err=True)
    if app.json_mode:
        app.emit_json(data={}, errors=[{"code": "interrupted", "message": message}],
                      exit_code=ExitCode.INTERRUPTED)
    sys.exit(ExitCode.INTERRUPTED)


def _internal(app: App, exc: BaseException) -> None:
    message = f"unexpected error: {type(exc).__name__}: {exc}"
    _report_error(app, {"code": "internal-error", "message": message}, message,
                  "re-run with --debug for the traceback, and please report it", 70)


def _report_error(app: App, payload: dict[str, Any], message: str, hint: str | None, code: int) -> None:
    if app.json_mode:
        app.emit_json(data={}, errors=[payload], exit_code=code)
    else:
        app.error(message, hint=hint)
    sys.exit(code)
