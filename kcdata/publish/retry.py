"""Retries with exponential backoff and full jitter for portal calls.

Retried: timeouts, connection errors (including connections dropped mid-response), HTTP 429 (the
``Retry-After`` header is honoured) and 5xx. Everything else (400, 401, 403, 404 …) fails at once:
repeating a request the portal rejected on its merits only hides the problem.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Retryable(Exception):
    """A transient failure; ``retry_after`` is the server's requested wait in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(slots=True, kw_only=True)
class RetryPolicy:
    """How often and how long to retry. ``sleep`` and ``rand`` are injectable for tests."""

    attempts: int = 6  # total tries, first one included
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    rand: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try number ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return cap * (0.5 + 0.5 * self.rand())  # jitter, but never less than half the backoff

    def call(self, fn: Callable[[], T], *, what: str,
             classify: Callable[[BaseException], Retryable | None]) -> tuple[T, int]:
        """Run ``fn`` until it succeeds; returns its result and the number of tries it took.

        ``classify`` turns an exception into a :class:`Retryable` (retry) or ``None`` (re-raise).
        After the last try the last exception is re-raised.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn(), attempt
            except Exception as exc:
                transient = classify(exc)
                if transient is None or attempt >= self.attempts:
                    raise
                wait = self.delay(attempt, transient.retry_after)
                log.warning("%s: %s; retry %d/%d in %.2fs", what, transient, attempt, self.attempts - 1, wait)
                self.sleep(wait)
