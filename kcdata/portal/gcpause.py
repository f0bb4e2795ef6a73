"""Cyclic GC paused while requests are answered (see :class:`_GcPause`)."""

from __future__ import annotations

import gc
import threading


class _GcPause:
    """Cyclic GC off while any request is being answered.

    An upsert batch parses into tens of thousands of dicts and lists that all live until the request
    ends, the worst case for generational GC: it rescans them again and again (about a fifth of the
    CPU of a 10,000-row upsert) and finds nothing, since request data holds no cycles. Reference
    counting still frees everything; the collector runs as usual between requests.
    """

    # Requests that overlap without a break would keep the collector off for good; every this many
    # requests in such a stretch, collect once anyway (cycles from error tracebacks, say).
    COLLECT_EVERY = 500

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._was_enabled = False
        self._paused_requests = 0

    def __enter__(self) -> None:
        with self._lock:
            if self._active == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
                self._paused_requests = 0
            self._active += 1
            self._paused_requests += 1
            if self._paused_requests % self.COLLECT_EVERY == 0 and self._was_enabled:
                gc.collect()

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0 and self._was_enabled:
                gc.enable()
