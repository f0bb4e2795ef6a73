"""Alerts out of ``kcdata monitor``: a webhook, an e-mail digest, or one GitHub issue per dataset.

Targets are given as ``--notify`` values; every secret comes from the environment and is never printed:

- ``webhook`` / ``webhook:URL``: a JSON POST of the whole report, retried on 5xx, 429 and network errors.
  Without a URL, ``KCDATA_WEBHOOK_URL`` (preferred: chat webhooks are secret URLs).
- ``smtp://[user@]host[:port]?from=A&to=B,C[&starttls=1]`` (``smtps://`` for TLS): one digest e-mail of
  all alerts; the password in ``KCDATA_SMTP_PASSWORD``.
- ``github-issue`` / ``github-issue:OWNER/REPO``: opens or updates one issue per alerting dataset (label
  ``kcdata-monitor``), comments and closes it when the dataset recovers; ``GITHUB_TOKEN``, and
  ``GITHUB_REPOSITORY`` / ``GITHUB_API_URL`` as GitHub Actions sets them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from kcdata.errors import InputError
from kcdata.monitor.model import MonitorReport

ENV_WEBHOOK = "KCDATA_WEBHOOK_URL"
ENV_SMTP_PASSWORD = "KCDATA_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a secret
ENV_GITHUB_TOKEN = "GITHUB_TOKEN"  # noqa: S105
ISSUE_LABEL = "kcdata-monitor"
ISSUE_TITLE = "kcdata monitor: {id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    target: str  # the target as safe to show (no secret URL path, no password)
    ok: bool
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    kind: str  # webhook | smtp | github-issue
    shown: str
    send: Callable[[MonitorReport, Mapping[str, Any]], str]


def parse_target(text: str, *, env: Mapping[str, str] | None = None) -> Target:
    """A ``--notify`` value as a :class:`Target`; a malformed one is an :class:`InputError` (exit 3)."""
    env = os.environ if env is None else env
    value = text.strip()
    if value == "webhook" or value.startswith("webhook:"):
        url = value[len("webhook:"):] if value.startswith("webhook:") else env.get(ENV_WEBHOOK, "")
        if not url:
            raise InputError(f"--notify webhook needs a URL: set {ENV_WEBHOOK} (preferred: webhook URLs are secret) "
                             "or write webhook:https://…")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InputError(f"--notify webhook: '{parsed.scheme}://{parsed.hostname or ''}…' is not an http(s) URL")
        shown = f"webhook {parsed.scheme}://{parsed.hostname}{':' + str(parsed.port) if parsed.port else ''}/…"
        return Target(kind="webhook", shown=shown, send=lambda report, payload: _webhook(url, payload))
    if value.startswith(("smtp://", "smtps://")):
        spec = _smtp_spec(value, env)
        return Target(kind="smtp", shown=f"smtp {spec['host']}:{spec['port']} to {', '.join(spec['to'])}",
                      send=lambda report, payload: _smtp(spec, report))
    if value == "github-issue" or value.startswith("github-issue:"):
        repo = value.split(":", 1)[1] if ":" in value else env.get("GITHUB_REPOSITORY", "")
        token = env.get(ENV_GITHUB_TOKEN, "")
        if not repo or repo.count("/") != 1:
            raise InputError("--notify github-issue needs the repository: github-issue:OWNER/REPO or GITHUB_REPOSITORY")
        if not token:
            raise InputError(f"--notify github-issue needs a token in {ENV_GITHUB_TOKEN} (issues: write)")
        api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
        return Target(kind="github-issue", shown=f"github-issue {repo}",
                      send=lambda report, payload: _github(api, repo, token, report))
    raise InputError(f"--notify '{value.split(':', 1)[0]}' is not a known target",
                     hint="Use webhook[:URL], smtp://host?from=…&to=…, or github-issue[:OWNER/REPO].")


def notify(report: MonitorReport, payload: Mapping[str, Any], targets: Sequence[Target]) -> list[Delivery]:
    """Send to every target; one failing target never stops the others."""
    out = []
    for target in targets:
        if target.kind != "github-issue" and not report.has_alerts:
            out.append(Delivery(target=target.shown, ok=True, message="no alerts: nothing sent"))
            continue
        try:
            out.append(Delivery(target=target.shown, ok=True, message=target.send(report, payload)))
        except NotifyError as exc:
            out.append(Delivery(target=target.shown, ok=False, message=str(exc)))
    return out


class NotifyError(Exception):
    """A target that could not be reached or refused the message (the text carries no secret)."""


def digest(report: MonitorReport) -> str:
    """The alerts as plain text, one line each, grouped by dataset (the e-mail body and issue text)."""
    lines = [f"kcdata monitor of {report.portal} at {report.checked_at:%Y-%m-%d %H:%M} UTC: "
             f"{len(report.alerts)} alert(s) on {sum(1 for d in report.datasets if d.alerts)} of "
             f"{len(report.datasets)} published dataset(s).", ""]
    for d in report.datasets:
        if not d.alerts:
            continue
        lines.append(f"{d.id} ({d.portal_id or 'not on the portal'}):")
        lines += [f"  - [{c.code}] {c.name}: {c.message}" for c in d.alerts]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _retrying(what: str, call: Callable[[], Any], *, attempts: int = 3, base_delay: float = 0.5) -> Any:
    import requests

    last = ""
    for attempt in range(1, attempts + 1):
        try:
            response = call()
        except requests.RequestException as exc:
            last = f"cannot reach it ({type(exc).__name__})"
        else:
            if response.status_code < 400:
                return response
            last = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break
        if attempt < attempts:
            time.sleep(base_delay * 2 ** (attempt - 1))
    raise NotifyError(f"{what}: {last}")


def _webhook(url: str, payload: Mapping[str, Any]) -> str:
    import requests

    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    _retrying("webhook", partial(requests.post, url, data=body, timeout=15,
                                 headers={"Content-Type": "application/json"}))
    return "report posted"


def _smtp_spec(value: str, env: Mapping[str, str]) -> dict[str, Any]:
    parsed = urlparse(value)
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    to = [a.strip() for a in query.get("to", "").split(",") if a.strip()]
    sender = query.get("from", "").strip()
    if not parsed.hostname or not to or not sender:
        raise InputError("--notify smtp needs a host, from= and to=: smtp://mail.example.org:587?"
                         "from=opendata@example.org&to=oncall@example.org&starttls=1")
    user = unquote(parsed.username) if parsed.username else None
    if parsed.password:
        raise InputError(f"--notify smtp: put the password in {ENV_SMTP_PASSWORD}, not in the URL")
    if user and not env.get(ENV_SMTP_PASSWORD):
        raise InputError(f"--notify smtp names the user '{user}': set {ENV_SMTP_PASSWORD}")
    return {"host": parsed.hostname, "port": parsed.port or (465 if parsed.scheme == "smtps" else 25),
            "ssl": parsed.scheme == "smtps", "starttls": query.get("starttls", "") in ("1", "true", "yes"),
            "user": user, "password": env.get(ENV_SMTP_PASSWORD), "from": sender, "to": to}


def _smtp(spec: Mapping[str, Any], report: MonitorReport) -> str:
    import smtplib
    import ssl
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = (f"kcdata monitor: {len(report.alerts)} alert(s) on "
                          f"{sum(1 for d in report.datasets if d.alerts)} dataset(s) ({report.portal})")
    message["From"], message["To"] = spec["from"], ", ".join(spec["to"])
    message.set_content(digest(report))
    last: Exception | None = None
    for attempt in range(3):
        try:
            cls = smtplib.SMTP_SSL if spec["ssl"] else smtplib.SMTP
            with cls(spec["host"], spec["port"], timeout=20) as server:
                if spec["starttls"]:
                    server.starttls(context=ssl.create_default_context())
                if spec["user"]:
                    server.login(spec["user"], spec["password"])
                server.send_message(message)
            return f"digest sent to {len(spec['to'])} recipient(s)"
        except (OSError, smtplib.SMTPException) as exc:
            last = exc
            if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPRecipientsRefused):
                break
            time.sleep(0.5 * 2 ** attempt)
    raise NotifyError(f"smtp {spec['host']}:{spec['port']}: {type(last).__name__}")


def _github(api: str, repo: str, token: str, report: MonitorReport) -> str:
    import requests

    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                            "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "kcdata-monitor"})
    base = f"{api}/repos/{repo}/issues"
    open_issues: dict[str, Mapping[str, Any]] = {}
    page = 1
    while True:
        query: dict[str, str | int] = {"state": "open", "labels": ISSUE_LABEL, "per_page": 100, "page": page}
        listed = _retrying("github list issues", partial(session.get, base, params=query, timeout=20))
        items = listed.json()
        if not isinstance(items, list):
            raise NotifyError("github list issues: unexpected answer")
        for item in items:
            if isinstance(item, Mapping) and "pull_request" not in item:
                open_issues[str(item.get("title"))] = item
        if len(items) < 100:
            break
        page += 1
    opened = updated = closed = 0
    when = f"{report.checked_at:%Y-%m-%d %H:%M} UTC"
    for d in report.datasets:
        title = ISSUE_TITLE.format(id=d.id)
        existing = open_issues.get(title)
        if d.alerts:
            body = (f"Published dataset **{d.id}** (`{d.portal_id or 'not on the portal'}`) on {report.portal} "
                    f"has {len(d.alerts)} alert(s) as of {when}:\n\n"
                    + "\n".join(f"- **{c.code}** ({c.name}): {c.message}" for c in d.alerts)
                    + "\n\nThis issue is kept up to date by `kcdata monitor --notify github-issue` and closed "
                      "when the dataset recovers.\n")
            if existing is None:
                _retrying("github open issue", partial(
                    session.post, base, json={"title": title, "body": body, "labels": [ISSUE_LABEL]}, timeout=20))
                opened += 1
            else:
                number = existing["number"]
                _retrying("github update issue", partial(session.patch, f"{base}/{number}", json={"body": body},
                                                         timeout=20))
                note = f"Still alerting as of {when}: " + ", ".join(str(c.code) for c in d.alerts)
                _retrying("github comment", partial(session.post, f"{base}/{number}/comments", json={"body": note},
                                                    timeout=20))
                updated += 1
        elif existing is not None:
            number = existing["number"]
            _retrying("github comment", partial(session.post, f"{base}/{number}/comments",
                                                json={"body": f"Recovered: every check passes as of {when}."},
                                                timeout=20))
            _retrying("github close issue", partial(session.patch, f"{base}/{number}",
                                                    json={"state": "closed", "state_reason": "completed"},
                                                    timeout=20))
            closed += 1
    return f"{opened} opened, {updated} updated, {closed} closed"
