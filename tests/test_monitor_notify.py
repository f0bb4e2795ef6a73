"""``kcdata monitor --notify``: a real local SMTP server (aiosmtpd), and a local HTTP server that records
the webhook's and the GitHub REST API's requests (and answers as GitHub does for the calls used).

Secrets come only from the environment; no output or request log may contain them.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kcdata.errors import InputError
from kcdata.monitor import CheckName, MonitorReport, notify, parse_target
from kcdata.monitor.checks import alert, ok
from kcdata.monitor.model import DatasetMonitor, Observation
from kcdata.monitor.notify import ISSUE_LABEL, digest

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def _report(*, alerting: bool = True) -> MonitorReport:
    checks = (alert(CheckName.COUNT, "shrinkage", "9,000 rows, down 10.0% from 10,000 at the last check"),) \
        if alerting else (ok(CheckName.COUNT, "10,000 rows"),)
    return MonitorReport(checked_at=NOW, portal="data.example.org", datasets=(
        DatasetMonitor(id="water-main-breaks", portal_id="abcd-1234", checks=checks, observed=Observation()),
        DatasetMonitor(id="potholes", portal_id="wxyz-9876", checks=(ok(CheckName.COUNT, "5 rows"),),
                       observed=Observation())))


class Recorder(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0  # answer this many requests with 503 first
        self.issues: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                     "body": json.loads(body) if body else None})
        if self.server.fail_next:
            self.server.fail_next -= 1
            return self._send(503, {"message": "try later"})
        path = self.path.split("?")[0]
        issues = self.server.issues
        if path.endswith("/issues") and self.command == "GET":
            return self._send(200, [i for i in issues if i["state"] == "open"])
        if path.endswith("/issues") and self.command == "POST":
            issue = {"number": len(issues) + 1, "state": "open", "comments": [], **(self._json(body))}
            issues.append(issue)
            return self._send(201, issue)
        parts = path.split("/")
        if "issues" in parts and parts[-1].isdigit() and self.command == "PATCH":
            issue = issues[int(parts[-1]) - 1]
            issue.update(self._json(body))
            return self._send(200, issue)
        if parts[-1] == "comments" and self.command == "POST":
            issues[int(parts[-2]) - 1]["comments"].append(self._json(body)["body"])
            return self._send(201, {"id": 1})
        return self._send(200, {"ok": True})

    @staticmethod
    def _json(body: bytes) -> dict[str, Any]:
        return json.loads(body) if body else {}

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = _handle


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhook_posts_the_report_and_retries_a_503(recorder: Recorder) -> None:
    recorder.fail_next = 1
    target = parse_target("webhook", env={"KCDATA_WEBHOOK_URL": f"{recorder.url}/hooks/SECRET-TOKEN"})
    assert "SECRET-TOKEN" not in target.shown
    (sent,) = notify(_report(), {"kcdata": 1, "alerts": 1}, [target])
    assert sent.ok and "SECRET-TOKEN" not in sent.message
    assert [r["method"] for r in recorder.requests] == ["POST", "POST"]
    assert recorder.requests[-1]["body"] == {"kcdata": 1, "alerts": 1}


def test_webhook_that_keeps_failing_is_a_failed_delivery_not_a_crash(recorder: Recorder) -> None:
    recorder.fail_next = 10
    (sent,) = notify(_report(), {}, [parse_target(f"webhook:{recorder.url}/x")])
    assert not sent.ok and "HTTP 503" in sent.message and len(recorder.requests) == 3


def test_nothing_is_sent_without_alerts(recorder: Recorder) -> None:
    (sent,) = notify(_report(alerting=False), {}, [parse_target(f"webhook:{recorder.url}/x")])
    assert sent.ok and recorder.requests == []


def test_smtp_digest_reaches_a_real_smtp_server() -> None:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free loopback port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        target = parse_target(f"smtp://127.0.0.1:{port}?from=opendata@example.org&to=oncall@example.org,"
                              "gis@example.org", env={})
        (sent,) = notify(_report(), {}, [target])
    finally:
        controller.stop()
    assert sent.ok, sent.message
    (envelope,) = received
    assert envelope.rcpt_tos == ["oncall@example.org", "gis@example.org"]
    text = envelope.content.decode()
    assert "Subject: kcdata monitor: 1 alert(s) on 1 dataset(s) (data.example.org)" in text
    assert "water-main-breaks" in text and "[shrinkage]" in text and "potholes" not in text


def test_smtp_target_refuses_a_password_in_the_url_and_needs_it_in_the_environment() -> None:
    with pytest.raises(InputError, match="KCDATA_SMTP_PASSWORD"):
        parse_target("smtp://alice:hunter2@mail.example.org?from=a@example.org&to=b@example.org", env={})
    with pytest.raises(InputError, match="KCDATA_SMTP_PASSWORD"):
        parse_target("smtp://alice@mail.example.org?from=a@example.org&to=b@example.org", env={})
    with pytest.raises(InputError, match="from= and to="):
        parse_target("smtp://mail.example.org", env={})


def test_github_issue_opened_updated_then_closed_on_recovery(recorder: Recorder) -> None:
    env = {"GITHUB_TOKEN": "ghs_secret", "GITHUB_REPOSITORY": "kcmo/open-data", "GITHUB_API_URL": recorder.url}
    target = parse_target("github-issue", env=env)
    (sent,) = notify(_report(), {}, [target])
    assert sent.ok and sent.message == "1 opened, 0 updated, 0 closed"
    (issue,) = recorder.issues
    assert issue["title"] == "kcdata monitor: water-main-breaks" and issue["labels"] == [ISSUE_LABEL]
    assert "shrinkage" in issue["body"]
    assert all(r["headers"]["Authorization"] == "Bearer ghs_secret" for r in recorder.requests)
    assert all(r["path"].startswith("/repos/kcmo/open-data/issues") for r in recorder.requests)
    (sent,) = notify(_report(), {}, [target])
    assert sent.message == "0 opened, 1 updated, 0 closed" and len(recorder.issues) == 1
    assert issue["comments"] and issue["comments"][0].startswith("Still alerting")
    (sent,) = notify(_report(alerting=False), {}, [target])
    assert sent.message == "0 opened, 0 updated, 1 closed"
    assert issue["state"] == "closed" and issue["comments"][-1].startswith("Recovered")


def test_github_target_needs_token_and_repository() -> None:
    with pytest.raises(InputError, match="GITHUB_TOKEN"):
        parse_target("github-issue:kcmo/open-data", env={})
    with pytest.raises(InputError, match="OWNER/REPO"):
        parse_target("github-issue", env={"GITHUB_TOKEN": "x"})


def test_digest_lists_only_alerting_datasets() -> None:
    text = digest(_report())
    assert "1 alert(s) on 1 of 2 published dataset(s)" in text
    assert "water-main-breaks (abcd-1234):" in text and "potholes" not in text


def test_cli_notify_failure_is_exit_4_with_the_error_in_json(tmp_path: Path, own_portal: Any, recorder: Recorder) \
        -> None:
    from conftest import run_cli
    from publish_helpers import portal_env
    from test_monitor import _delete, _monitor, _portal_id, _program

    root = _program(tmp_path, own_portal, monitor="")
    assert _monitor(root, own_portal).exit_code == 0
    _delete(own_portal, _portal_id(root), list(range(10)))
    recorder.fail_next = 10
    res = run_cli(["--root", str(root), "monitor", "--json", "--notify", "webhook"],
                  env=portal_env(own_portal, KCDATA_WEBHOOK_URL=f"{recorder.url}/hook/s3cr3t"))
    assert res.exit_code == 4
    envelope = res.json()
    assert envelope["errors"][0]["code"] == "notify-failed"
    assert "s3cr3t" not in res.stdout + res.stderr
    assert envelope["data"]["alerts"]
