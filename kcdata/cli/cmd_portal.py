"""``kcdata portal``: run the local Socrata-compatible portal."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from kcdata.cli.app import App, pass_app
from kcdata.config import ENV_PORTAL_PASSWORD, ENV_PORTAL_USERNAME, STATE_DIR
from kcdata.errors import InputError


@click.group("portal")
def command() -> None:
    """Run a local Socrata-compatible portal to rehearse releases against.

    \b
    Examples:
      KCDATA_PORTAL_USERNAME=admin KCDATA_PORTAL_PASSWORD=secret kcdata portal serve --port 8080
    """


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@command.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0 picks a free one).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where datasets are stored [default: <root>/.kcdata/portal].")
@click.option("--username", default=None, help=f"User allowed to write [env {ENV_PORTAL_USERNAME}].")
@click.option("--password", default=None, help=f"That user's password [env {ENV_PORTAL_PASSWORD}].")
@click.option("--max-body-mb", default=64, show_default=True, type=click.IntRange(1, 4096),
              help="Largest request body accepted (bigger ones get 413).")
@click.option("--tls", is_flag=True, help="Serve HTTPS with a self-signed certificate kept in the data dir "
                                          "(its path and SHA-256 fingerprint are printed).")
@click.option("--certfile", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Your own certificate (PEM) for HTTPS; implies --tls.")
@click.option("--keyfile", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="The private key (PEM) of --certfile.")
@click.option("--max-connections", default=64, show_default=True, type=click.IntRange(1, 10_000),
              help="Connections served at once; beyond that idle ones are closed, then newcomers get 503.")
@click.option("--query-timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds of database work one read may take before it is answered 503.")
@pass_app
def serve(app: App, host: str, port: int, data_dir: Path | None, username: str | None, password: str | None,
          max_body_mb: int, tls: bool, certfile: Path | None, keyfile: Path | None, max_connections: int,
          query_timeout: float) -> None:
    """Serve the SODA 2.1 API that sodapy uses, storing data in SQLite; stop with Ctrl-C.

    Reads are open for public datasets; every write needs the username and password given here
    or in the environment. Data persists in --data-dir across restarts.

    \b
    Examples:
      export KCDATA_PORTAL_USERNAME=admin KCDATA_PORTAL_PASSWORD=change-me
      kcdata portal serve
      kcdata portal serve --port 0 --data-dir /tmp/portal
      kcdata portal serve --tls        # https://127.0.0.1:8080 with a self-signed certificate
    """
    from kcdata.portal import PortalServer
    from kcdata.portal.netserver import Limits
    from kcdata.portal.store import DataDirBusyError
    from kcdata.portal.tls import Certificate, TlsError, self_signed, server_context

    if password:
        app.warn(f"--password on the command line is visible to every user of this machine (ps, shell "
                 f"history); prefer the environment variable {ENV_PORTAL_PASSWORD}.")

    username = username or os.environ.get(ENV_PORTAL_USERNAME) or None
    password = password or os.environ.get(ENV_PORTAL_PASSWORD) or None
    if not username or not password:
        raise InputError("the portal refuses to start without write credentials",
                         hint=f"Set {ENV_PORTAL_USERNAME} and {ENV_PORTAL_PASSWORD} (or pass --username/--password).",
                         code="missing-credentials")
    if not _is_loopback(host):
        app.warn(f"binding {host}, which is NOT loopback: anyone who can reach this machine can read public "
                 "datasets and try passwords over plain HTTP. Use 127.0.0.1 unless you really mean it.")
    directory = data_dir or app.root / STATE_DIR / "portal"
    if (certfile is None) != (keyfile is None):
        raise InputError("--certfile and --keyfile go together", hint="Pass both, or --tls alone for a "
                         "self-signed certificate.", code="bad-tls-options")
    cert: Certificate | None = None
    try:
        if certfile is not None and keyfile is not None:
            cert = Certificate(certfile, keyfile, generated=False)
        elif tls:
            cert = self_signed(directory, host=host)
        context = server_context(cert) if cert is not None else None
    except TlsError as exc:
        raise InputError(str(exc), code="tls") from exc
    limits = Limits(max_connections=max_connections, query_timeout=query_timeout)
    try:
        server = PortalServer(data_dir=directory, host=host, port=port, username=username, password=password,
                              max_body_bytes=max_body_mb * 1024 * 1024, limits=limits, tls=context)
    except DataDirBusyError as exc:
        raise InputError(str(exc), hint="Stop the other portal, or pass a different --data-dir.") from exc
    except OSError as exc:
        hint = "Pick another --port (0 chooses a free one) or stop what is using it."
        if ":" in host and exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
            hint = "This machine has no IPv6 on that address; use --host 127.0.0.1."
        elif exc.errno == errno.EADDRNOTAVAIL:
            hint = "That address is not one of this machine's; use 127.0.0.1 (or ::1)."
        raise InputError(f"cannot serve on {host}:{port}: {exc.strerror or exc}", hint=hint) from exc

    def _stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:  # everything is said before the URL line, which tells a waiting caller the portal is up
        if cert is not None:
            made = "made" if cert.generated else "using"
            app.info(f"TLS certificate ({made}): {cert.certfile}\n  SHA-256 fingerprint {cert.fingerprint}\n"
                     f"  trust it with REQUESTS_CA_BUNDLE={cert.certfile} or NODE_EXTRA_CA_CERTS={cert.certfile}")
        app.info(f"kcdata portal serving {server.url} (data in {directory}); Ctrl-C stops it")
        click.echo(server.url)
        sys.stdout.flush()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            server.stop()
    app.info("kcdata portal stopped")
