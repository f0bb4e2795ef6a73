"""The one shape of a problem found *in* data: a stable kebab-case ``code``, a ``message``, where it is,
how bad it is (:class:`Severity`) and what to do (``hint``).

Inventory lint, validation, policy, site and export problems all derive from :class:`Problem`; each adds
the location fields its kind of input has (``file``/``line``/``col``/``keypath`` for YAML, ``row``/``field``
for a data file, a rule and subject for policy). Failures that stop a command are exceptions
(:mod:`kcdata.errors`); problems are data, returned in reports and serialised by :meth:`Problem.to_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """A problem in data. Subclasses add location fields and say where in :meth:`location`."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    hint: str | None = None  # what to do about it

    def location(self) -> str:
        """Where the problem is, as a person reads it (``inventory/water.yaml:23:5 datasets[2].license``)."""
        return ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (``--json`` output): every field, enums as their values."""
        from kcdata.jsonable import fields_of  # decimal & co. only when something is serialised

        return fields_of(self)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


__all__ = ["Problem", "Severity"]
