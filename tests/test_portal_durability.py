"""`kcdata portal serve` as a real process: restarts, SIGKILL mid-batch, concurrent writers, CLI exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import PORTAL_PASSWORD, PORTAL_USERNAME, REPO, PortalHandle, subprocess_env

from kcdata.cli.cmd_portal import _is_loopback

COLUMNS = [{"fieldName": "k", "dataTypeName": "text"}, {"fieldName": "v", "dataTypeName": "number"},
           {"fieldName": "t", "dataTypeName": "text"}]


class ServerProcess:
    """``python -m kcdata portal serve`` in a subprocess on a free port."""

    def __init__(self, data_dir: Path) -> None:
        env = subprocess_env(KCDATA_PORTAL_USERNAME=PORTAL_USERNAME, KCDATA_PORTAL_PASSWORD=PORTAL_PASSWORD)
        self.proc = subprocess.Popen([sys.executable, "-m", "kcdata", "portal", "serve", "--port", "0",
                                      "--data-dir", str(data_dir)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), self.url
        self.handle = PortalHandle(url=self.url, domain=self.url.removeprefix("http://"), username=PORTAL_USERNAME,
                                   password=PORTAL_PASSWORD, server=None)

    def client(self) -> Any:
        return self.handle.client(timeout=120)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)

    def terminate(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        _out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err


@pytest.fixture
def processes() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        if server.proc.poll() is None:
            server.kill()


def _rows(prefix: str, n: int) -> list[dict[str, Any]]:
    return [{"k": f"{prefix}{i:06d}", "v": i, "t": "x" * 40} for i in range(n)]


@pytest.mark.slow
def test_restart_keeps_data_and_sigterm_stops_cleanly(tmp_path: Path, processes: list[ServerProcess]) -> None:
    first = ServerProcess(tmp_path)
    processes.append(first)
    client = first.client()
    view = client.create("Kept", columns=COLUMNS, row_identifier="k", description="persist me")
    client.update_metadata(view["id"], {"metadata": {"rowIdentifier": "k", "custom_fields": {"kcdata": {"id": "x"}}}})
    client.upsert(view["id"], _rows("a", 10))
    code, err = first.terminate()
    assert code == 0 and "stopped" in err
    second = ServerProcess(tmp_path)
    processes.append(second)
    client = second.client()
    meta = client.get_metadata(view["id"])
    assert meta["description"] == "persist me" and meta["metadata"]["custom_fields"] == {"kcdata": {"id": "x"}}
    assert len(client.get(view["id"])) == 10
    assert client.upsert(view["id"], _rows("a", 10))["Rows Updated"] == 10


@pytest.mark.slow
def test_sigkill_mid_batch_applies_the_batch_whole_or_not_at_all(tmp_path: Path,
                                                                 processes: list[ServerProcess]) -> None:
    server = ServerProcess(tmp_path)
    processes.append(server)
    client = server.client()
    ds = client.create("Crash", columns=COLUMNS, row_identifier="k")["id"]
    client.upsert(ds, _rows("base", 1000))
    big = 60_000
    t0 = time.perf_counter()
    client.upsert(ds, _rows("warm", big))  # how long one big batch takes on this machine now
    full = time.perf_counter() - t0
    expected_total = 1000 + big
    outcomes = []
    for attempt, fraction in enumerate((0.5, 0.75, 0.9)):
        result: dict[str, Any] = {}

        def push(prefix: str = f"kill{attempt}", out: dict[str, Any] = result) -> None:
            try:
                out["report"] = server.client().upsert(ds, _rows(prefix, big))
            except requests.RequestException as exc:
                out["error"] = exc

        thread = threading.Thread(target=push)
        thread.start()
        time.sleep(full * fraction)
        server.kill()
        thread.join(timeout=60)
        server = ServerProcess(tmp_path)
        processes.append(server)
        count = int(server.client().get(ds, select="count(*)")[0]["count"])
        assert count in (expected_total, expected_total + big), (fraction, count)  # never a partial batch
        if "report" in result:
            assert count == expected_total + big
        outcomes.append("applied" if count > expected_total else "rolled back")
        expected_total = count
    # at least one kill must land before the commit, or this test proves nothing
    assert "rolled back" in outcomes, outcomes


def test_two_clients_upserting_at_once_lose_no_row(portal: Any) -> None:
    client = portal.client()
    ds = client.create("Concurrent", columns=COLUMNS, row_identifier="k")["id"]
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        own = portal.client()
        try:
            for batch in range(10):
                rows = [{"k": f"{name}{batch}-{i}", "v": i} for i in range(300)]
                rows += [{"k": f"shared{batch}-{i}", "t": name} for i in range(50)]
                report = own.upsert(ds, rows)
                assert report["Errors"] == 0 and report["Rows Created"] + report["Rows Updated"] == len(rows)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    keys = {r["k"] for r in client.get_all(ds, limit=5000)}
    assert len(keys) == 2 * 10 * 300 + 10 * 50


def test_serve_refuses_without_credentials(cli: Any, tmp_path: Path) -> None:
    env = {"KCDATA_PORTAL_USERNAME": "", "KCDATA_PORTAL_PASSWORD": ""}
    result = cli(["portal", "serve", "--port", "0", "--data-dir", str(tmp_path)], env=env)
    assert result.exit_code == 3
    assert "without write credentials" in result.stderr and "KCDATA_PORTAL_PASSWORD" in result.stderr


def test_serve_on_a_busy_port_is_exit_3(cli: Any, portal: Any, tmp_path: Path) -> None:
    port = portal.domain.rsplit(":", 1)[1]
    result = cli(["portal", "serve", "--port", port, "--data-dir", str(tmp_path), "--username", "u",
                  "--password", "p"])
    assert result.exit_code == 3 and "another --port" in result.stderr


def test_loopback_detection() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("localhost") and _is_loopback("::1")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.5") and not _is_loopback("example.org")


def test_default_data_dir_is_under_the_program_root(tmp_path: Path, processes: list[ServerProcess]) -> None:
    env = subprocess_env(KCDATA_PORTAL_USERNAME="u", KCDATA_PORTAL_PASSWORD="p")
    proc = subprocess.Popen([sys.executable, "-m", "kcdata", "--root", str(tmp_path), "portal", "serve",
                             "--port", "0"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("http://127.0.0.1:")
        assert (tmp_path / ".kcdata" / "portal" / "portal.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode in (0, 130)
    assert os.path.exists(tmp_path / ".kcdata" / "portal")


def test_serve_usage_error_is_exit_2(cli: Any) -> None:
    result = cli(["portal", "serve", "--port", "99999"])
    assert result.exit_code == 2


def test_one_server_per_data_dir(cli: Any, tmp_path: Path) -> None:
    from kcdata.portal import PortalServer

    server = PortalServer(data_dir=tmp_path, username="u", password="p").start()
    try:
        result = cli(["portal", "serve", "--port", "0", "--data-dir", str(tmp_path), "--username", "u",
                      "--password", "p"])
        assert result.exit_code == 3 and "already serving" in result.stderr
    finally:
        server.stop()
    PortalServer(data_dir=tmp_path, username="u", password="p").stop()  # free again after stop()
