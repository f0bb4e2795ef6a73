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

from kcdata.errors import InputError
from kcdata.publish.retry import RetryPolicy


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


def publish_settings(settings: Mapping[str, Any]) -> PublishSettings:
    """Parse the ``publish`` section; a wrong type or value is an :class:`InputError` (exit 3)."""
    section = settings.get("publish") or {}
    program = settings.get("program") or {}
    where = "kcdata.yaml publish"
    if not isinstance(section, Mapping):
        raise InputError(f"{where}: expected a mapping", hint="See docs/publish.md for the publish settings.")
    retry = section.get("retry") or {}
    if not isinstance(retry, Mapping):
        raise InputError(f"{where}.retry: expected a mapping")

    def num(src: Mapping[str, Any], key: str, default: float, *, lo: float, hi: float, integer: bool = False,
            path: str = where) -> Any:
        value = src.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            raise InputError(f"{path}.{key}: expected a {'whole ' if integer else ''}number, got {value!r}")
        if not lo <= value <= hi:
            raise InputError(f"{path}.{key}: {value} is outside {lo}..{hi}")
        return value

    write_back = section.get("write_back", "auto")
    write_back = {True: "true", False: "false"}.get(write_back, write_back)
    if write_back not in ("auto", "true", "false"):
        raise InputError(f"{where}.write_back: expected auto, true or false, got {write_back!r}")
    domain = program.get("portal_domain") if isinstance(program, Mapping) else None
    return PublishSettings(
        chunk_size=num(section, "chunk_size", 10_000, lo=1, hi=1_000_000, integer=True),
        max_delete_share=float(num(section, "max_delete_share", 0.2, lo=0, hi=1)),
        timeout=float(num(section, "timeout", 30, lo=0.1, hi=3600)),
        parallel_uploads=num(section, "parallel_uploads", 2, lo=1, hi=8, integer=True),
        write_back=str(write_back),
        retry_attempts=num(retry, "attempts", 6, lo=1, hi=20, integer=True, path=where + ".retry"),
        retry_base_delay=float(num(retry, "base_delay", 0.5, lo=0, hi=60, path=where + ".retry")),
        retry_max_delay=float(num(retry, "max_delay", 30, lo=0, hi=600, path=where + ".retry")),
        portal_domain=str(domain).lower() if domain else None,
    )
