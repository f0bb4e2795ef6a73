"""The city's dataset inventory: models, loading with source positions, writing, lint."""

from __future__ import annotations

from kcdata.inventory.load import LoadResult, Problem, load_inventory
from kcdata.inventory.model import (
    AccessLevel,
    Classification,
    Contact,
    Dataset,
    Department,
    HistoryRecord,
    Inventory,
    Status,
    Value,
)
from kcdata.problems import Severity

__all__ = [
    "AccessLevel", "Classification", "Contact", "Dataset", "Department", "HistoryRecord", "Inventory",
    "LoadResult", "Problem", "Severity", "Status", "Value", "load_inventory",
]
