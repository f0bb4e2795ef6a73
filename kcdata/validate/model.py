"""Validation results: frozen dataclasses shared by both engines, the cache and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kcdata.problems import Problem


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationError(Problem):
    """One problem in the data, named exactly as frictionless names it.

    ``row`` is frictionless's ``rowNumber`` (header = 1, first data row = 2); ``field`` is the
    field name, or None for row-level errors (extra-cell, blank-row, primary-key).
    """

    row: int | None
    field: str | None

    def location(self) -> str:
        return " ".join(p for p in (f"row {self.row}" if self.row else "", f"field {self.field}" if self.field
                                    else "") if p)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape ``{code, row, field, message}`` (plus ``hint`` when there is one)."""
        out: dict[str, Any] = {"code": self.code, "row": self.row, "field": self.field, "message": self.message}
        if self.hint is not None:
            out["hint"] = self.hint
        return out


# Codes of a dataset that could not be validated at all (bad input, not findings in the data).
INPUT_CODES = ("missing-file", "schema-error", "bad-input")


@dataclass(frozen=True, slots=True, kw_only=True)
class InputProblem(ValidationError):
    """Why a dataset could not be validated (``code`` is one of INPUT_CODES), and what to do about it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TableReport:
    """The validation of one data file against one Table Schema."""

    id: str | None
    path: str
    valid: bool
    rows: int
    engine: str | None  # "fast" or "frictionless"; None when the file could not be validated
    error_count: int  # every error found, even past max_errors
    errors: tuple[ValidationError, ...]  # the first max_errors errors, in frictionless order
    error_counts: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    engine_reason: str | None = None  # why frictionless was used instead of the fast engine
    data_sha256: str = ""
    schema_sha256: str = ""
    seconds: float = 0.0
    cached: bool = False
    bad_input: bool = False  # not validated: errors[0] is an InputProblem (missing file, invalid schema, ...)


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationRun:
    """Reports for several datasets (``kcdata validate`` over the inventory)."""

    datasets: tuple[TableReport, ...]

    @property
    def valid(self) -> bool:
        return all(r.valid for r in self.datasets)

    @property
    def bad_input(self) -> bool:
        """Some dataset could not be validated at all (the CLI exits 3)."""
        return any(r.bad_input for r in self.datasets)
