"""Timing of a publish's phases, reported through logging (``kcdata.publish.phases`` at DEBUG).

Each record carries ``kcdata_phase`` (name), ``dataset``, ``seconds`` and ``requests`` (HTTP
requests the client made meanwhile, when it counts them), so the benchmark and ``--debug`` runs can
show where a re-publish spends its time without the library printing anything.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)


@contextmanager
def phase(name: str, *, dataset: str, client: Any = None) -> Iterator[None]:
    """Time the ``with`` block as phase ``name`` of ``dataset``."""
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
