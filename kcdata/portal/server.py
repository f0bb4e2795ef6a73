"""HTTP front of the local portal: routing, auth, body limits and fault injection.

Standard library only (``http.server.ThreadingHTTPServer``): HTTP/1.1 keep-alive, every response
carries a Content-Length, every error body is a JSON object with ``code`` and ``message``.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import socket
import sqlite3
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from kcdata.portal import blobs, budget, dsmapi, resource, views
from kcdata.portal.body import BodyError, read_chunked
from kcdata.portal.catalog import CatalogError, search
from kcdata.portal.cors import cross_origin, preflight_headers
from kcdata.portal.gcpause import _GcPause
from kcdata.portal.http import JSON_CT, HttpError, Reply, json_reply
from kcdata.portal.netserver import Limits, PortalHTTPServer
from kcdata.portal.soql import SoqlError
from kcdata.portal.store import Store, StoreError

log = logging.getLogger(__name__)
DEFAULT_MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultPlan:
    """Fail every ``every_nth`` matching request before it is applied (so a retry is safe).

    ``kind``: ``"500"`` answers a JSON 500, ``"429"`` a JSON 429 with ``Retry-After: 1``,
    ``"drop"`` closes the connection without any response. ``only_writes`` limits the plan to
    POST/PUT/DELETE requests.
    """

    every_nth: int
    kind: Literal["500", "429", "drop"]
    only_writes: bool = True

    def __post_init__(self) -> None:
        if self.every_nth < 1:
            raise ValueError("every_nth must be at least 1")
        if self.kind not in ("500", "429", "drop"):
            raise ValueError(f"unknown fault kind {self.kind!r}")


_GC_PAUSE = _GcPause()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kcdata-portal"
    portal: PortalServer  # set on the subclass made per server

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without NODELAY, Nagle + delayed ACK add ~40 ms.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        """Wait for the next request under the idle deadline, then read it under the header deadline."""
        watchdog, limits = self.server.watchdog, self.server.limits  # type: ignore[attr-defined]
        watchdog.arm(self.connection, limits.idle_timeout, "idle")
        try:
            waiting = self.rfile.peek(1)  # type: ignore[attr-defined]
        except (OSError, ValueError):
            waiting = b""
        if not waiting:
            self.close_connection = True
            return
        watchdog.arm(self.connection, limits.header_timeout, "headers")
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_HEAD(self) -> None:
        self._send_error(HttpError(405, "method-not-allowed", "HEAD is not supported; use GET"))

    def do_OPTIONS(self) -> None:
        """CORS preflight: reads only, without credentials (cross-origin requests are anonymous)."""
        try:
            self._read_body()
        except HttpError as exc:
            self._send_error(exc)
            return
        self._send(200, b"", None, preflight_headers(self.headers.get("Access-Control-Request-Headers", "")))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, unknown verb) as JSON objects too."""
        self.close_connection = True
        codes = {400: "bad-request", 414: "request-uri-too-long", 431: "headers-too-large", 501: "not-implemented"}
        self._send_error(HttpError(code, codes.get(code, "bad-request" if code < 500 else "internal-error"),
                                   message or explain or f"HTTP error {code}"))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            try:
                return read_chunked(self.rfile, self.portal.max_body_bytes)  # type: ignore[arg-type]
            except BodyError as exc:
                self.close_connection = True
                raise HttpError(exc.status, exc.code, exc.message) from None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise HttpError(400, "req.content-length.invalid", "Content-Length must be a non-negative integer")
        if length > self.portal.max_body_bytes:
            self.close_connection = True
            raise HttpError(413, "req.body.too-large",
                            f"Request body of {length} bytes exceeds the limit of {self.portal.max_body_bytes} bytes")
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        with _GC_PAUSE:
            self._answer(method)

    def _answer(self, method: str) -> None:
        watchdog, limits = self.server.watchdog, self.server.limits  # type: ignore[attr-defined]
        try:
            headers = dict(self.headers.items())
            try:  # credentials and the right to write are settled before any of the body is read
                authed = self.portal.precheck(method, self.path, headers)
            except HttpError:
                self.close_connection = True
                raise
            watchdog.arm(self.connection, limits.body_timeout, "body")
            body = self._read_body()
            watchdog.disarm(self.connection)
            if self.portal._fault_due(method):
                self._fault()
                return
            with budget.limit(limits.query_timeout if method == "GET" else None):
                reply = self.portal.dispatch(method, self.path, headers, body, authed=authed)
            self._send(reply.status, reply.body, reply.content_type, reply.headers)
        except HttpError as exc:
            self._send_error(exc)
        except (StoreError, SoqlError) as exc:
            status = getattr(exc, "status", 400)
            self._send_error(HttpError(status, exc.code, exc.message, getattr(exc, "data", None)))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except sqlite3.OperationalError as exc:
            if not budget.expired(exc):
                if not any(word in str(exc) for word in ("too many", "too large", "too big", "stack", "misuse")):
                    raise
                self._send_error(HttpError(400, "query.soql.too-complex", f"The query is too large: {exc}"))
                return
            self._send_error(HttpError(503, "query.execution.timeout", "The query ran past the portal's time budget "
                                       f"of {limits.query_timeout:g} s; narrow it ($where, $limit) and retry",
                                       headers={"Retry-After": "1"}))
        except Exception:
            log.exception("portal request failed: %s %s", method, self.path)
            self._send_error(HttpError(500, "internal-error", "The local portal failed on this request; "
                                                                "see the server log"))

    def _fault(self) -> None:
        plan = self.portal.faults
        if plan is None:  # cleared between the decision and here
            return
        if plan.kind == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if plan.kind == "429":
            self._send_error(HttpError(429, "too-many-requests", "Too many requests (injected fault); retry later",
                                       headers={"Retry-After": "1"}))
            return
        self._send_error(HttpError(500, "internal-error", "Injected server error (fault plan)"))

    def _send_error(self, exc: HttpError) -> None:
        body = {"error": True, "code": exc.code, "errorCode": exc.code, "message": exc.message, "data": exc.data}
        headers = {"X-Error-Code": exc.code, **exc.headers}
        self._send(exc.status, json.dumps(body).encode(), JSON_CT, headers)

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str] | None) -> None:
        self.server.watchdog.arm(self.connection, self.server.limits.write_timeout, "write")  # type: ignore[attr-defined]
        try:
            self.send_response(status)
            if content_type and body:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True


class PortalServer:
    """A Socrata-compatible portal over HTTP, storing its data under ``data_dir``.

    ``start()`` serves from a background thread; ``serve_forever()`` blocks (the CLI).
    Set ``faults`` to a :class:`FaultPlan` at runtime to make requests fail on purpose.
    """

    def __init__(self, *, data_dir: Path, host: str = "127.0.0.1", port: int = 0, username: str, password: str,
                 max_body_bytes: int = DEFAULT_MAX_BODY, limits: Limits | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        if not username or not password:
            raise ValueError("the portal needs a username and a password for writes")
        self.store = Store(Path(data_dir))
        self.dsmapi = dsmapi.DsmapiState()
        self.username, self._password = username, password
        self.max_body_bytes = max_body_bytes
        self._faults: FaultPlan | None = None
        self._fault_count = 0
        self._fault_lock = threading.Lock()
        self.limits = limits or Limits()
        self.scheme = "https" if tls is not None else "http"
        handler = type("PortalHandler", (_Handler,), {"portal": self})
        try:
            self.httpd = PortalHTTPServer((host.strip("[]"), port), handler, limits=self.limits, tls=tls)
        except OSError:
            self.store.close()
            raise
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self.httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def domain(self) -> str:
        """``host:port`` as sodapy wants it (``[::1]:port`` for IPv6)."""
        host = self.host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    def start(self) -> PortalServer:
        """Serve from a daemon thread; returns self."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="kcdata-portal", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` or KeyboardInterrupt."""
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving, close the socket and every connection, and release the data dir (well
        under 2 s, also with slow clients connected or a query running: it is interrupted)."""
        self.store.stopping.set()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=2)
            self._thread = None
        self._close()

    def _close(self) -> None:
        self.store.stopping.set()
        self.httpd.server_close()
        self.store.close()

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults and auth
    @property
    def faults(self) -> FaultPlan | None:
        """The active :class:`FaultPlan` (None: no faults). Setting it restarts the request count."""
        return self._faults

    @faults.setter
    def faults(self, plan: FaultPlan | None) -> None:
        with self._fault_lock:
            self._faults = plan
            self._fault_count = 0

    def _fault_due(self, method: str) -> bool:
        plan = self._faults
        if plan is None or (plan.only_writes and method not in ("POST", "PUT", "DELETE", "PATCH")):
            return False
        with self._fault_lock:
            self._fault_count += 1
            return self._fault_count % plan.every_nth == 0

    def precheck(self, method: str, target: str, headers: dict[str, str]) -> bool:
        """Whether the request is authenticated, settled from its headers alone (before the body is
        read): bad credentials raise 401, a write without credentials 403."""
        authed = self._auth(headers)
        if method in ("POST", "PUT", "DELETE", "PATCH") and not authed:
            first = unquote(urlsplit(target).path).strip("/").split("/")[0]
            if first in ("resource", "api"):
                raise HttpError(403, "permission_denied", "You must be logged in to access this resource")
        return authed

    def _auth(self, headers: dict[str, str]) -> bool:
        """True when valid credentials came, False when none; bad credentials raise 401. A cross-origin
        request (an ``Origin`` other than this portal's) is anonymous whatever it carries, as on real
        Socrata (https://dev.socrata.com/docs/cors-and-jsonp: "drops all authentication")."""
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not value or cross_origin(headers, self.scheme, self.domain):
            return False
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            ok_user = hmac.compare_digest(user.encode(), self.username.encode())
            ok_password = hmac.compare_digest(password.encode(), self._password.encode())
            if ok_user & ok_password:
                return True
        elif scheme.lower() == "oauth" and hmac.compare_digest(token.strip().encode(), self._password.encode()):
            return True
        raise HttpError(401, "authentication_failed", "Invalid username or password",
                        headers={"WWW-Authenticate": 'Basic realm="kcdata portal"'})

    # -- routing
    def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes,
                 authed: bool | None = None) -> Reply:
        """Answer one request (raises :class:`HttpError` for error answers)."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        try:
            params = parse_qsl(parts.query, keep_blank_values=True, max_num_fields=1000)
        except ValueError:
            raise HttpError(400, "req.query.too-many-params", "More than 1000 query parameters") from None
        if authed is None:
            authed = self._auth(headers)
        segments = [s for s in path.split("/") if s]
        write = method in ("POST", "PUT", "DELETE", "PATCH")
        if write and not authed and segments[:1] in (["resource"], ["api"]):
            raise HttpError(403, "permission_denied", "You must be logged in to access this resource")
        ctx = resource.Context(portal=self, method=method, params=params, headers=headers, body=body, authed=authed)
        if segments[:1] == ["resource"] and len(segments) in (2, 3):
            return resource.handle(ctx, segments[1:])
        if segments[:2] == ["api", "imports2"] and dict(params).get("method") == "blob":
            if method != "POST":
                raise _not_allowed(method)
            return blobs.create(ctx)
        if segments == ["api", "assets"]:
            if method != "POST":
                raise _not_allowed(method)
            return blobs.upload_asset(ctx)
        if segments[:2] == ["api", "assets"] and len(segments) == 3:
            if method != "GET":
                raise _not_allowed(method)
            return blobs.download(ctx, segments[2])
        if segments[:3] == ["api", "publishing", "v1"]:
            return dsmapi.handle(ctx, segments[3:])
        if segments[:2] == ["api", "views.json"] and len(segments) == 2:
            return self._views(ctx, [])
        if segments[:2] == ["api", "views"]:
            return self._views(ctx, segments[2:])
        if segments == ["api", "catalog", "v1"]:
            if method != "GET":
                raise _not_allowed(method)
            try:
                result = search(self.store.views(), _multi(params), domain=headers.get("Host", self.domain),
                                authenticated=authed)
            except CatalogError as exc:
                raise HttpError(400, "invalid_parameter", str(exc)) from None
            return Reply(body=json.dumps(result).encode(), content_type="application/json;charset=utf-8")
        raise HttpError(404, "not-found", f"No such endpoint: {method} {path}", {"path": path})

    def _views(self, ctx: resource.Context, rest: list[str]) -> Reply:
        method, store = ctx.method, self.store
        if not rest:
            if method != "POST":
                raise _not_allowed(method)
            return self._create(ctx)
        if len(rest) == 1 and rest[0].endswith(".txt") and dict(ctx.params).get("method") == "replaceBlob":
            if method != "POST":
                raise _not_allowed(method)
            return blobs.replace(ctx, rest[0].removesuffix(".txt"))
        view_id = rest[0].removesuffix(".json")
        if len(rest) == 3 and rest[1] == "files":
            if method != "GET":
                raise _not_allowed(method)
            return blobs.download(ctx, rest[2], view_id)
        if len(rest) == 2 and rest[1] == "publication.json":
            if method != "POST":
                raise _not_allowed(method)
            self.visible_view(view_id, ctx)
            return json_reply(store.update_view(view_id, lambda v, _n: views.publish(v)))
        if len(rest) != 1:
            raise HttpError(404, "not-found", "No such endpoint", {"path": "/api/views/" + "/".join(rest)})
        if method == "GET":
            return json_reply(self.visible_view(view_id, ctx))
        if method == "PUT":
            self.visible_view(view_id, ctx)
            args = dict(ctx.params)
            if args.get("method") == "setPermission":
                value = args.get("value", "private")
                store.update_view(view_id, lambda v, _n: views.set_permission(v, value))
                return Reply(body=b"", content_type=None)
            payload = resource.parse_json(ctx.body, nested=True)
            return json_reply(store.update_view(view_id, lambda v, n: views.merge_view(v, payload, n)))
        if method == "DELETE":
            self.visible_view(view_id, ctx)
            store.delete_view(view_id)
            return Reply(body=b"", content_type=None)
        raise _not_allowed(method)

    def _create(self, ctx: resource.Context) -> Reply:
        payload = resource.parse_json(ctx.body, nested=True)
        nbe = dict(ctx.params).get("nbe", "").lower() == "true"
        view = self.store.create_view(lambda vid, nxt: views.build_view(payload, vid, nxt, nbe=nbe))
        return json_reply(view)

    def visible_view(self, view_id: str, ctx: resource.Context, *, code: str = "not_found") -> dict[str, Any]:
        """The view, or 404; 403 for anonymous readers of a private dataset."""
        view = self.store.view(view_id)
        if view is None:
            raise HttpError(404, code, "Not found", {"id": view_id}, headers={"X-Error-Message": "Not found"})
        if not ctx.authed and not views.is_public(view):
            raise HttpError(403, "permission_denied", "You must be logged in to access this resource",
                            {"id": view_id})
        return view


def _multi(params: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in params:
        out.setdefault(key, []).append(value)
    return out


def _not_allowed(method: str) -> HttpError:
    return HttpError(405, "method-not-allowed", f"Method {method} is not allowed on this path")


__all__ = ["FaultPlan", "HttpError", "PortalServer", "Reply"]
