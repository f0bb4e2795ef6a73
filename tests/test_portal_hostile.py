"""The local portal against hostile input (issue 16): every case here once took the server down, ate
its memory or answered 500. All traffic goes to 127.0.0.1 only, bounded in count and time."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import PORTAL_PASSWORD, PORTAL_USERNAME, REPO, PortalHandle, subprocess_env

from kcdata.portal import PortalServer
from kcdata.portal.netserver import Limits

AUTH = b"Authorization: Basic " + base64.b64encode(f"{PORTAL_USERNAME}:{PORTAL_PASSWORD}".encode()) + b"\r\n"


def raw(domain: str, request: bytes, *, timeout: float = 10) -> tuple[int, bytes, bytes]:
    """Send raw bytes; (status, head, body) of the answer (status 0 when the server closed without one)."""
    host, _, port = domain.rpartition(":")
    data = b""
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        while True:
            if b"\r\n\r\n" in data:
                head, body = data.split(b"\r\n\r\n", 1)
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), None)
                if length is not None and len(body) >= length:
                    return int(head.split(b" ")[1]), head, body[:length]
            try:
                chunk = sock.recv(65536)
            except ConnectionError:
                chunk = b""
            if not chunk:
                if b"\r\n\r\n" in data:
                    head, body = data.split(b"\r\n\r\n", 1)
                    return int(head.split(b" ")[1]), head, body
                return 0, b"", data
            data += chunk


@pytest.fixture(scope="module")
def dataset(portal: Any) -> str:
    client = portal.client()
    view = client.create("Hostile input", row_identifier="k",
                         columns=[{"fieldName": "k", "name": "K", "dataTypeName": "text"},
                                  {"fieldName": "num", "name": "Num", "dataTypeName": "number"},
                                  {"fieldName": "t", "name": "T", "dataTypeName": "text"}])
    client.upsert(view["id"], [{"k": str(i), "num": str(i), "t": f"row {i}"} for i in range(20)])
    client.set_permission(view["id"], "public")
    return str(view["id"])


def get(portal: Any, dataset: str, **params: str) -> requests.Response:
    return requests.get(f"{portal.url}/resource/{dataset}.json", params=params, timeout=30)


def test_huge_number_literals_are_refused_with_400(portal: Any, dataset: str) -> None:
    in_list = ",".join(["1e999999"] * 200)
    for where in (f"num in ({in_list})", "num < 1e1000", "num = 1e99999999999", "num > -1e-1001",
                  "num = " + "9" * 1001):
        r = get(portal, dataset, **{"$where": where})
        assert r.status_code == 400, (where[:40], r.status_code)
        assert "out of range" in r.json()["message"]
    assert get(portal, dataset, **{"$where": "num < 1e999"}).status_code == 200  # the bound itself is fine


def test_huge_numbers_in_an_upsert_are_row_errors_not_megabytes(portal: Any, dataset: str) -> None:
    client = portal.client()
    before = portal.server.store.path.stat().st_size
    report = client.upsert(dataset, [{"k": f"big{i}", "num": "1e999999"} for i in range(20)])
    assert report["Errors"] == 20 and report["Rows Created"] == 0
    report = client.upsert(dataset, [{"k": "bigint", "num": 10 ** 1200}])  # a JSON integer of 1201 digits
    assert report["Errors"] == 1
    report = client.upsert(dataset, [{"k": "arabic", "num": "٣"}, {"k": "super", "num": "²"}])  # not numbers
    assert report["Errors"] == 2 and report["Rows Created"] == 0
    assert portal.server.store.path.stat().st_size - before < 1_000_000


@pytest.mark.parametrize("params", [
    {"$limit": str(2 ** 64)}, {"$offset": str(2 ** 63)}, {"$limit": "9" * 40}, {"$limit": "²"}, {"$limit": "٣"},
    {"$offset": "-1"}, {"$where": "num = ٣"}, {"$where": "num = ²"}, {"$where": "(" * 300 + "num = 1" + ")" * 300},
    {"$where": "NOT " * 200 + "num = 1"}, {"$where": "-" * 300 + "num = 1"}, {"$where": "num" + " + 1" * 400 + " > 0"},
    {"$select": "upper(" * 100 + "t" + ")" * 100}, {"$where": "/* unterminated"}, {"$where": "t = \"bad \\q\""},
    {"$order": "num NULLS SIDEWAYS"}, {"$query": "SELECT k LIMIT 1 WHERE num > 1"},
    {"$query": "SELECT k WHERE num > 1 WHERE num < 3"}, {"$query": "SELECT k", "$where": "num > 1"},
    {"$select": ",".join(["k"] * 3000)}, {"$where": "x" * 40_000},
])
def test_malformed_queries_are_400_not_500(portal: Any, dataset: str, params: dict[str, str]) -> None:
    r = get(portal, dataset, **params)
    assert r.status_code == 400, r.text[:200]
    assert r.json()["error"] is True and isinstance(r.json()["message"], str)


def test_long_boolean_chains_and_searches_are_answered(portal: Any, dataset: str) -> None:
    r = get(portal, dataset, **{"$where": " AND ".join(["num >= 0"] * 500)})
    assert r.status_code == 200 and len(r.json()) == 20
    r = get(portal, dataset, **{"$where": " OR ".join(f"k = '{i}'" for i in range(500))})
    assert r.status_code == 200 and len(r.json()) == 20
    r = get(portal, dataset, **{"$q": " ".join(["row"] * 600)})  # once: SQLite's expression depth -> 500
    assert r.status_code == 200 and len(r.json()) == 20
    r = get(portal, dataset, **{"$q": " ".join(f"w{i}" for i in range(500))})  # 500 different words
    assert r.status_code == 400 and r.json()["code"] == "query.soql.too-complex"


def test_bad_chunked_size_line_is_400(portal: Any, dataset: str) -> None:
    for size_line in (b"zz\r\n", b"-5\r\n", b"1" * 2000 + b"\r\n"):
        status, _head, body = raw(portal.domain, f"POST /resource/{dataset}.json HTTP/1.1\r\nHost: h\r\n".encode()
                                  + AUTH + b"Transfer-Encoding: chunked\r\n\r\n" + size_line + b"[]\r\n0\r\n\r\n")
        assert status == 400 and json.loads(body)["code"] == "req.body.bad-chunk"


def test_anonymous_writes_are_refused_before_the_body_is_read(portal: Any, dataset: str) -> None:
    start = time.monotonic()
    # 64 MB announced, not one byte sent: the 403 comes at once and the connection is closed
    status, head, body = raw(portal.domain, f"POST /resource/{dataset}.json HTTP/1.1\r\nHost: h\r\n"
                                            f"Content-Length: {64 * 1024 * 1024}\r\n\r\n".encode(), timeout=5)
    assert status == 403 and json.loads(body)["code"] == "permission_denied" and b"Connection: close" in head
    assert time.monotonic() - start < 3
    status, _head, _body = raw(portal.domain, f"POST /resource/{dataset}.json HTTP/1.1\r\nHost: h\r\n"
                                              "Authorization: Basic bm9wZTpub3Bl\r\n"
                                              f"Content-Length: {64 * 1024 * 1024}\r\n\r\n".encode(), timeout=5)
    assert status == 401


def test_cross_origin_requests_are_anonymous_and_preflights_answered(portal: Any, dataset: str) -> None:
    url = f"{portal.url}/resource/{dataset}.json"
    evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    r = requests.post(url, data='[{"k": "x1"}]', headers=evil, auth=(portal.username, portal.password), timeout=10)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    r = requests.get(url, headers=evil, timeout=10)  # reading public data cross-origin is what CORS is for
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    own = {"Origin": portal.url, "Content-Type": "application/json"}
    r = requests.post(url, data='[{"k": "x1"}]', headers=own, auth=(portal.username, portal.password), timeout=10)
    assert r.status_code == 200 and r.json()["Rows Created"] == 1
    r = requests.options(url, headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "X-App-Token, Authorization"}, timeout=10)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    methods = r.headers["Access-Control-Allow-Methods"]
    assert "GET" in methods and "POST" not in methods
    assert r.headers["Access-Control-Allow-Headers"] == "x-app-token"  # never Authorization
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_replaced_and_deleted_files_are_not_readable(portal: Any) -> None:
    import io

    client = portal.client()
    view = client.create_non_data_file({"name": "secret"}, {"file": ("a.txt", io.BytesIO(b"first secret"))})
    first = view["blobId"]
    assert requests.get(f"{portal.url}/api/assets/{first}", timeout=10).status_code == 403  # private
    replaced = client.replace_non_data_file(view["id"], {}, {"file": ("a.txt", io.BytesIO(b"second"))})
    second = replaced["blobId"]
    for auth in (None, (portal.username, portal.password)):
        assert requests.get(f"{portal.url}/api/assets/{first}", auth=auth, timeout=10).status_code == 404
    assert requests.get(f"{portal.url}/api/assets/{second}", auth=(portal.username, portal.password),
                        timeout=10).content == b"second"
    client.delete(view["id"])
    for auth in (None, (portal.username, portal.password)):
        assert requests.get(f"{portal.url}/api/assets/{second}", auth=auth, timeout=10).status_code == 404


def test_a_public_view_does_not_open_another_datasets_file(portal: Any, dataset: str) -> None:
    import io

    client = portal.client()
    private = client.create_non_data_file({"name": "private file"}, {"file": ("p.txt", io.BytesIO(b"mine"))})
    r = requests.get(f"{portal.url}/api/views/{dataset}/files/{private['blobId']}", timeout=10)
    assert r.status_code == 404


def test_sqlite_files_are_owner_only(tmp_path: Path) -> None:
    server = PortalServer(data_dir=tmp_path / "p", username="u", password="p").start()
    try:
        server.store.create_view(lambda vid, _n: {"id": vid, "name": "x", "columns": []})
    finally:
        server.stop()
    names = [p.name for p in (tmp_path / "p").iterdir() if p.is_file()]
    assert "portal.sqlite3" in names
    for path in (tmp_path / "p").iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE((tmp_path / "p").stat().st_mode) & 0o077 == 0


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    db = tmp_path / "p" / "portal.sqlite3"
    db.touch()
    os.chmod(db, 0o644)
    PortalServer(data_dir=tmp_path / "p", username="u", password="p").stop()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def _serving(tmp_path: Path, **limits: Any) -> PortalServer:
    return PortalServer(data_dir=tmp_path, username=PORTAL_USERNAME, password=PORTAL_PASSWORD,
                        limits=Limits(**limits)).start()


def test_slow_and_idle_connections_are_cut_and_bounded(tmp_path: Path) -> None:
    server = _serving(tmp_path, max_connections=8, header_timeout=1.0, idle_timeout=1.0)
    socks: list[socket.socket] = []
    try:
        threads_before = threading.active_count()
        for _ in range(40):  # unfinished headers, far more than the pool
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"GET /api/catalog/v1 HTTP/1.1\r\nHost: h\r\nX-Slow: ")
            socks.append(sock)
        time.sleep(0.3)
        assert threading.active_count() - threads_before <= 8 + 1
        busy = [s for s in socks if _answer(s) == b"503"]
        assert busy  # beyond the pool, newcomers are told to come back
        time.sleep(1.6)
        assert all(_answer(s) in (b"closed", b"503") for s in socks)  # the header deadline cut the rest
        assert requests.get(server.url + "/api/catalog/v1", timeout=10).status_code == 200
        # idle keep-alive connections make room for a newcomer instead of locking it out
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(8)]
        socks += idle
        time.sleep(0.2)
        assert requests.get(server.url + "/api/catalog/v1", timeout=10).status_code == 200
    finally:
        for s in socks:
            s.close()
        server.stop()


def _answer(sock: socket.socket) -> bytes:
    """b"503" when the server answered busy, b"closed" when it closed the connection, b"open" otherwise."""
    sock.settimeout(0.05)
    try:
        data = sock.recv(4096)
    except TimeoutError:
        return b"open"
    except ConnectionError:
        return b"closed"
    if not data:
        return b"closed"
    return data.split(b" ")[1] if data.startswith(b"HTTP/") else b"other"


def test_a_query_past_its_budget_is_answered_503_and_the_server_lives_on(tmp_path: Path) -> None:
    server = _serving(tmp_path, query_timeout=0.3)
    handle = PortalHandle(url=server.url, domain=server.domain, username=PORTAL_USERNAME, password=PORTAL_PASSWORD,
                          server=server)
    try:
        client = handle.client()
        view = client.create("Budget", columns=[{"fieldName": "t", "name": "T", "dataTypeName": "text"}])
        words = [f"w{i:04d}" for i in range(200)]
        text = " ".join(words)
        client.upsert(view["id"], [{"t": text}] * 8000)
        start = time.monotonic()
        r = requests.get(f"{server.url}/resource/{view['id']}.json",
                         params={"$q": " ".join(words), "$select": "count(*)"},
                         auth=(PORTAL_USERNAME, PORTAL_PASSWORD), timeout=30)
        took = time.monotonic() - start
        assert r.status_code == 503 and r.json()["code"] == "query.execution.timeout", r.text[:200]
        assert took < 3, took
        assert client.get(view["id"], limit=1) == [{"t": text}]
    finally:
        server.stop()


def test_stop_is_prompt_with_slow_clients_connected(tmp_path: Path) -> None:
    server = _serving(tmp_path)
    socks = []
    for _ in range(30):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n")
        socks.append(sock)
    time.sleep(0.2)
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 2
    for s in socks:
        s.close()


def _serve_process(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = subprocess_env(**(env or {"KCDATA_PORTAL_USERNAME": PORTAL_USERNAME,
                                            "KCDATA_PORTAL_PASSWORD": PORTAL_PASSWORD}))
    return subprocess.Popen([sys.executable, "-m", "kcdata", "portal", "serve", "--port", "0", "--data-dir",
                             str(tmp_path / "data"), *extra], cwd=REPO, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_sigterm_stops_the_process_within_two_seconds(tmp_path: Path) -> None:
    proc = _serve_process(tmp_path)
    socks = []
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        port = int(url.rsplit(":", 1)[1])
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"POST /resource/x.json HTTP/1.1\r\nHost: h\r\n")  # never finished
            socks.append(sock)
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(10)]
        socks += idle
        time.sleep(0.3)
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert time.monotonic() - start < 2.0
        assert proc.returncode == 0
    finally:
        for s in socks:
            s.close()
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_password_on_the_command_line_warns(tmp_path: Path) -> None:
    proc = _serve_process(tmp_path, "--username", "u", "--password", "visible-in-ps", env={})
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("http://127.0.0.1:")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert "visible to every user" in err and "KCDATA_PORTAL_PASSWORD" in err


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_ipv6_loopback_host(tmp_path: Path) -> None:
    server = PortalServer(data_dir=tmp_path, host="::1", username="u", password="p").start()
    try:
        assert server.url.startswith("http://[::1]:")
        assert requests.get(server.url + "/api/catalog/v1", timeout=10).json()["resultSetSize"] == 0
    finally:
        server.stop()


def test_preflight_with_a_bad_body_is_a_clean_error(portal: Any) -> None:
    status, _head, body = raw(portal.domain, b"OPTIONS /api/catalog/v1 HTTP/1.1\r\nHost: h\r\n"
                                             b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")
    assert status == 400 and json.loads(body)["code"] == "req.body.bad-chunk"


def test_deep_json_and_odd_catalog_numbers_are_400(portal: Any, dataset: str) -> None:
    auth = (portal.username, portal.password)
    for body in (b"[" * 100_000, b'{"a":' * 50_000, b'{"name": "x", "metadata": {"a": ' + b"[" * 200 + b"]" * 200
                 + b"}}"):
        r = requests.post(f"{portal.url}/api/views.json", data=body, auth=auth, timeout=10)
        assert r.status_code == 400 and r.json()["code"] == "req.body.malformed-json", r.text[:200]
    r = requests.post(f"{portal.url}/resource/{dataset}.json", data=b"[" * 100_000, auth=auth, timeout=10)
    assert r.status_code == 400
    for params in ({"limit": "²"}, {"offset": "٣"}, {"limit": "9" * 30}, {"limit": "-1"}):
        r = requests.get(f"{portal.url}/api/catalog/v1", params=params, timeout=10)
        assert r.status_code == 400 and r.json()["code"] == "invalid_parameter"
