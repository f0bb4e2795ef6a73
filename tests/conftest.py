"""Shared test fixtures.

``cli`` runs the real click app in-process (CliRunner, exceptions not caught) through
``kcdata.cli.main`` semantics: it returns exit code, stdout and stderr separately.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
# Everything a test reads is vendored here (with provenance READMEs); a clone needs nothing beside it.
FIXTURES = REPO / "tests" / "fixtures"

# Property tests check behaviour, never speed: hypothesis's per-example deadline (200 ms) turns a busy
# 2-core CI machine into flaky failures ("Unreliable test timings"), so it is off for the whole suite, and
# so is the too-slow health check (data generation slows down with the machine, not with our code).
settings.register_profile("kcdata", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kcdata")

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class _TtyInput(io.StringIO):
    """Typed answers on stdin that say they come from a terminal (for confirmation prompts)."""

    def isatty(self) -> bool:
        return True


def run_cli(args: list[str], *, input: str | None = None, env: dict[str, str] | None = None,
            tty: bool = False) -> Result:
    """Run ``kcdata ARGS`` in-process exactly as the entry point does (errors translated by main).
    ``tty``: stdin claims to be a terminal (``input`` is what the user types)."""
    from kcdata.cli import main

    code = 0

    out, err = io.StringIO(), io.StringIO()
    old_env = {}
    for k, v in (env or {}).items():
        old_env[k] = os.environ.get(k)
        os.environ[k] = v
    old_stdin = sys.stdin
    sys.stdin = (_TtyInput if tty else io.StringIO)(input or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin = old_stdin
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Result(exit_code=code, stdout=out.getvalue(), stderr=err.getvalue())


@pytest.fixture
def cli() -> Callable[..., Result]:
    return run_cli


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    """A writable copy of the repository's embedded Kansas City program (inventory, schemas, data)."""
    dest = tmp_path / "program"
    dest.mkdir()
    for name in ("inventory", "schemas", "data"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, dest / name)
    if (REPO / "kcdata.yaml").exists():
        shutil.copy(REPO / "kcdata.yaml", dest / "kcdata.yaml")
    return dest


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for running ``python -m kcdata`` in a subprocess against *this* checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


# --- local portal (kcdata portal serve) -------------------------------------------------------------
PORTAL_USERNAME = "kcdata-test"
PORTAL_PASSWORD = "portal-test-password"


@dataclass
class PortalHandle:
    """A running local portal: its address, write credentials and the server (for ``faults``)."""

    url: str
    domain: str
    username: str
    password: str
    server: Any

    def client(self, *, auth: bool = True, app_token: str | None = "test-app-token", timeout: int = 30) -> Any:
        """A sodapy 2.2.0 client for this portal (plain HTTP via ``session_adapter``)."""
        import requests
        from sodapy import Socrata

        creds = {"username": self.username, "password": self.password} if auth else {}
        return Socrata(self.domain, app_token, session_adapter={"prefix": "http://",
                                                               "adapter": requests.adapters.HTTPAdapter()},
                       timeout=timeout, **creds)

    @contextlib.contextmanager
    def faulty(self, plan: Any) -> Any:
        """``with portal.faulty(FaultPlan(every_nth=2, kind="500")):`` — faults only inside the block."""
        self.server.faults = plan
        try:
            yield self.server
        finally:
            self.server.faults = None


@contextlib.contextmanager
def _serving(data_dir: Path) -> Iterator[PortalHandle]:
    """A local portal on a free loopback port over ``data_dir``, stopped afterwards."""
    from kcdata.portal import PortalServer

    server = PortalServer(data_dir=data_dir, username=PORTAL_USERNAME, password=PORTAL_PASSWORD).start()
    try:
        yield PortalHandle(url=server.url, domain=server.domain, username=PORTAL_USERNAME,
                           password=PORTAL_PASSWORD, server=server)
    finally:
        server.faults = None
        server.stop()


@contextlib.contextmanager
def serving_tls(data_dir: Path) -> Iterator[tuple[Any, Any]]:
    """``(PortalServer, Certificate)``: a local portal over HTTPS with a self-signed certificate kept in
    ``data_dir``, stopped afterwards (clients trust it through ``REQUESTS_CA_BUNDLE``/``NODE_EXTRA_CA_CERTS``)."""
    from kcdata.portal import PortalServer
    from kcdata.portal.tls import self_signed, server_context

    cert = self_signed(data_dir)
    server = PortalServer(data_dir=data_dir, username=PORTAL_USERNAME, password=PORTAL_PASSWORD,
                          tls=server_context(cert)).start()
    try:
        yield server, cert
    finally:
        server.stop()


@pytest.fixture
def own_portal(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A portal of this test's own, with an empty catalog: for tests whose exact request sequence
    matters (a periodic fault plan must not line up differently because other tests published
    more datasets to the shared portal, making catalog listings longer)."""
    with _serving(tmp_path_factory.mktemp("own-portal")) as handle:
        yield handle


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One local portal per test session on a free loopback port, in a temporary data dir."""
    with _serving(tmp_path_factory.mktemp("portal")) as handle:
        yield handle
