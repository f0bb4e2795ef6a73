"""Table Schema validation: a fast streaming engine with frictionless-py as the reference.

Public API: :func:`validate_table`, :func:`validate_datasets`, :func:`last_result` and the
result dataclasses. Only this package imports frictionless.
"""

from __future__ import annotations

from kcdata.validate.api import last_result, validate_datasets, validate_table
from kcdata.validate.model import INPUT_CODES, InputProblem, TableReport, ValidationError, ValidationRun

__all__ = ["INPUT_CODES", "InputProblem", "TableReport", "ValidationError", "ValidationRun", "last_result",
           "validate_datasets", "validate_table"]
