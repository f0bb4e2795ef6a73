"""The ``publish:`` section of ``kcdata.yaml`` (every key optional; defaults here).

.. code-block:: yaml

    publish:
      chunk_size: 10000        # most rows per upsert request (smaller deltas are split across uploads)
      max_delete_share: 0.2    # refuse an update deleting more than this share of rows (unless --force)
      timeout: 30              # seconds per HTTP request
      parallel_uploads: 2      # chunks in flight at once (encode the next while one uploads)
      write_back: auto         # record status/portal_id in the inventory: auto (not when $CI is set) | true | false
      retry: {attempts: 6, base_delay: 0.5, max_delay: 30}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kcdata.publish.retry import RetryPolicy
from kcdata.settings import Settings, program_settings


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishSettings:
    chunk_size: int = 10_000
    max_delete_share: float = 0.2
    timeout: float = 30.0
    parallel_uploads: int = 2
    write_back: str = "auto"
    retry_attempts: int = 6
    retry_base_delay: float = 0.5
    retry_max_delay: float = 30.0
    portal_domain: str | None = None  # program.portal_domain: where recorded portal_ids live

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.retry_attempts, base_delay=self.retry_base_delay,
                           max_delay=self.retry_max_delay)

    def should_write_back(self, env: Mapping[str, str] | None = None) -> bool:
        """Local runs record status/portal_id in the inventory; CI (``$CI`` set) cannot commit back."""
        if self.write_back == "auto":
            env = os.environ if env is None else env
            return not env.get("CI")
        return self.write_back == "true"


KNOWN_KEYS = ("chunk_size", "max_delete_share", "timeout", "parallel_uploads", "write_back", "retry")


def publish_settings(settings: Mapping[str, Any]) -> PublishSettings:
    """Parse the ``publish`` section; a wrong type or value is an :class:`InputError` (exit 3) naming
    ``kcdata.yaml:line:col publish.<key>``."""
    top = Settings.of(settings)
    section = top.section("publish", hint="See docs/publish.md for the publish settings.")
    section.check_keys(KNOWN_KEYS, what="setting", hint=f"Known: {', '.join(KNOWN_KEYS)} (docs/publish.md).")
    retry = section.mapping("retry")
    retry.check_keys(("attempts", "base_delay", "max_delay"), what="setting")
    write_back = section.get("write_back", "auto")
    write_back = {True: "true", False: "false"}.get(write_back, write_back)
    if write_back not in ("auto", "true", "false"):
        raise section.fail("write_back", f"expected auto, true or false, got {write_back!r}")
    domain = program_settings(top).portal_domain
    return PublishSettings(
        chunk_size=section.number("chunk_size", 10_000, lo=1, hi=1_000_000, integer=True),
        max_delete_share=float(section.number("max_delete_share", 0.2, lo=0, hi=1)),
        timeout=float(section.number("timeout", 30, lo=0.1, hi=3600)),
        parallel_uploads=section.number("parallel_uploads", 2, lo=1, hi=8, integer=True),
        write_back=str(write_back),
        retry_attempts=retry.number("attempts", 6, lo=1, hi=20, integer=True),
        retry_base_delay=float(retry.number("base_delay", 0.5, lo=0, hi=60)),
        retry_max_delay=float(retry.number("max_delay", 30, lo=0, hi=600)),
        portal_domain=domain.lower() if domain else None,
    )
