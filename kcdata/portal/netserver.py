"""The portal's socket layer: a bounded pool of connection threads, deadlines, IPv6 and TLS.

``http.server.ThreadingHTTPServer`` starts one thread per connection, without limit, and never times
out a client that stops half-way through its headers. Here:

* at most ``max_connections`` connections are served at once; beyond that an idle keep-alive
  connection is closed to make room, and when none is idle the newcomer gets a ``503`` and is closed;
* a :class:`Watchdog` thread enforces deadlines per connection phase (waiting for the next request
  on a keep-alive connection, reading a request's headers, reading its body, writing the answer) by
  shutting the socket down, which wakes the blocked handler thread with an error;
* :meth:`PortalHTTPServer.close_all` shuts every open connection down, so a stop takes well under
  the 2 s budget even with slow clients connected;
* an address with a ``:`` binds IPv6 (``--host ::1``), and with an :class:`ssl.SSLContext` every
  connection is wrapped in TLS on its own thread (the handshake is under the header deadline).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)
_BUSY_REPLY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
               b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s")
_BUSY_BODY = (b'{"error":true,"code":"server.busy","errorCode":"server.busy",'
              b'"message":"The local portal is serving too many connections; retry shortly","data":{}}')


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Connection limits and deadlines, in seconds."""

    max_connections: int = 64
    idle_timeout: float = 15.0  # between requests on a keep-alive connection
    header_timeout: float = 10.0  # from the first byte of a request (or the TLS hello) to the end of its headers
    body_timeout: float = 60.0  # reading one request body
    write_timeout: float = 60.0  # writing one answer
    query_timeout: float = 10.0  # SQLite work of one read request (see kcdata.portal.budget)


class Watchdog:
    """One thread that shuts down sockets whose current phase ran past its deadline."""

    def __init__(self, tick: float = 0.1) -> None:
        self._lock = threading.Lock()
        self._deadlines: dict[socket.socket, tuple[float, str]] = {}
        self._tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kcdata-portal-watchdog", daemon=True)
        self._thread.start()

    def arm(self, sock: socket.socket, seconds: float, phase: str) -> None:
        with self._lock:
            self._deadlines[sock] = (time.monotonic() + seconds, phase)

    def disarm(self, sock: socket.socket) -> None:
        """No deadline (the request is being answered: its SQLite work has its own budget)."""
        with self._lock:
            self._deadlines[sock] = (float("inf"), "busy")

    def forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._deadlines.pop(sock, None)

    def idle(self) -> list[socket.socket]:
        """Connections waiting for their next request, oldest deadline first."""
        with self._lock:
            waiting = [(d, s) for s, (d, phase) in self._deadlines.items() if phase == "idle"]
        return [s for _d, s in sorted(waiting, key=lambda pair: pair[0])]

    def sockets(self) -> list[socket.socket]:
        with self._lock:
            return list(self._deadlines)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            now = time.monotonic()
            with self._lock:
                late = [s for s, (deadline, _phase) in self._deadlines.items() if deadline <= now]
                for sock in late:
                    self._deadlines[sock] = (float("inf"), "closing")
            for sock in late:
                kill(sock)


def kill(sock: socket.socket) -> None:
    """Shut a connection down so that a thread blocked on it wakes up (never raises)."""
    with contextlib.suppress(OSError, ValueError):
        sock.shutdown(socket.SHUT_RDWR)


class PortalHTTPServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` with bounded connections, deadlines, IPv6 and optional TLS."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: Any, *, limits: Limits,
                 tls: ssl.SSLContext | None = None) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.limits = limits
        self.tls = tls
        self.watchdog = Watchdog()
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._closing = False
        try:
            super().__init__(address, handler)
        except BaseException:
            self.watchdog.stop()
            raise

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            with contextlib.suppress(OSError, AttributeError):
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()

    def process_request(self, request: Any, client_address: Any) -> None:
        if self._closing:
            self.shutdown_request(request)
            return
        if not self._slots.acquire(blocking=False):
            idle = self.watchdog.idle()[:1]
            for sock in idle:  # make room: drop the longest-idle keep-alive connection
                kill(sock)
            # (the accept loop waits only when a slot is about to be freed, so a flood cannot stall it)
            if not (idle and self._slots.acquire(timeout=0.25)):
                self._refuse(request)
                return
        try:
            super().process_request(request, client_address)  # starts the connection's thread
        except BaseException:
            self._slots.release()
            raise

    def _refuse(self, request: socket.socket) -> None:
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(_BUSY_REPLY % (len(_BUSY_BODY), _BUSY_BODY))
        self.shutdown_request(request)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        raw = request
        try:
            self.watchdog.arm(request, self.limits.header_timeout, "handshake")
            if self.tls is not None:
                try:
                    request.settimeout(self.limits.header_timeout)
                    request = self.tls.wrap_socket(request, server_side=True)
                except (OSError, ValueError):
                    self.watchdog.forget(request)
                    self.shutdown_request(request)
                    return
                finally:
                    self.watchdog.forget(raw)
                request.settimeout(None)
            super().process_request_thread(request, client_address)
        finally:
            self.watchdog.forget(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed outside a request (reset, shut down by a deadline): not news."""
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_all(self) -> None:
        """Refuse new connections and shut every open one down (their threads end promptly)."""
        self._closing = True
        for sock in self.watchdog.sockets():
            kill(sock)

    def server_close(self) -> None:
        self.close_all()
        super().server_close()
        self.watchdog.stop()
