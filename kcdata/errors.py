"""The error hierarchy and the exit-code table.

Problems found *in* data (invalid rows, lint findings) are data, returned in reports.
Failures that stop a command are exceptions derived from :class:`KcdataError`; each carries
its exit code and is translated to the user in exactly one place (``kcdata.cli.main``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Documented exit codes (README and architecture page)."""

    OK = 0
    FINDINGS = 1  # ran fine and found problems (invalid data, lint/policy findings, stale datasets)
    USAGE = 2  # click's own usage errors
    BAD_INPUT = 3  # unreadable/malformed YAML, missing file, invalid schema or settings
    PORTAL = 4  # portal or network error
    REFUSED = 5  # publish/review refused by a gate, or partly failed
    INTERRUPTED = 130


class KcdataError(Exception):
    """Root of every error kcdata raises on purpose.

    ``code`` is a stable kebab-case identifier used in ``--json`` output; ``hint`` tells the
    user what to do next.
    """

    exit_code: ExitCode = ExitCode.BAD_INPUT
    code: str = "kcdata-error"

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        out.update(self.details)
        return out


class InputError(KcdataError):
    """Bad input or configuration: a missing file, malformed YAML, an invalid schema (exit 3)."""

    exit_code = ExitCode.BAD_INPUT
    code = "bad-input"


class NotFoundError(InputError):
    """A named thing (dataset id, department, file) does not exist (exit 3)."""

    code = "not-found"


class PortalError(KcdataError):
    """The portal could not be reached or answered with an error (exit 4)."""

    exit_code = ExitCode.PORTAL
    code = "portal-error"


class RefusedError(KcdataError):
    """A gate refused the action, or a publish partly failed (exit 5)."""

    exit_code = ExitCode.REFUSED
    code = "refused"


class FindingsError(KcdataError):
    """The command ran and found problems it must report with exit 1."""

    exit_code = ExitCode.FINDINGS
    code = "findings"
