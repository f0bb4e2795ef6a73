"""Timing of a publish's phases, reported through logging (``kcdata.publish.phases`` at DEBUG).

Each record carries ``kcdata_phase`` (name), ``dataset``, ``seconds`` and ``requests`` (HTTP
requests the client made meanwhile, when it counts them), so the benchmark and ``--debug`` runs can
show where a re-publish spends its time without the library printing anything. A caller that
wants to show progress (the CLI's spinner) registers a callback with :func:`watching`: it is told
``(dataset, phase)`` as each phase starts, from whichever thread runs it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)
_watchers: list[Callable[[str, str], None]] = []


@contextmanager
def watching(callback: Callable[[str, str], None]) -> Iterator[None]:
    """Call ``callback(dataset, phase)`` as each phase starts, for the ``with`` block."""
    _watchers.append(callback)
    try:
        yield
    finally:
        _watchers.remove(callback)


@contextmanager
def phase(name: str, *, dataset: str, client: Any = None) -> Iterator[None]:
    """Time the ``with`` block as phase ``name`` of ``dataset``."""
    for watcher in list(_watchers):
        watcher(dataset, name)
    if not log.isEnabledFor(logging.DEBUG):
        yield
        return
    r0, t0 = getattr(client, "requests", None), time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - t0
        r1 = getattr(client, "requests", None)
        requests = r1 - r0 if isinstance(r0, int) and isinstance(r1, int) else None
        log.debug("%s: %s took %.3f s (%s requests)", dataset, name, seconds, requests,
                  extra={"kcdata_phase": name, "dataset": dataset, "seconds": seconds, "requests": requests})
