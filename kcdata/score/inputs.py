"""Gathering scoring inputs from disk: cached validation results and a demand file.

Kept apart from the pure engine so ``score_inventory`` stays a function of its arguments.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kcdata.errors import InputError
from kcdata.inventory.model import Dataset
from kcdata.program import Program
from kcdata.score.engine import Demand, ScoredDataset, score_inventory
from kcdata.score.method import Method, load_method

if TYPE_CHECKING:
    from kcdata.validate.model import TableReport


def last_validations(*, datasets: Iterable[Dataset], root: Path | None = None,
                     program: Program | None = None) -> dict[str, TableReport | None]:
    """The last validation result of each dataset (``Program.validation``), or None.

    Scoring never runs validation itself: it is slow, and a ranking should be cheap to re-run.
    """
    program = Program.of(program, root=root)
    return {d.id: program.validation(d) for d in datasets}


def rank_program(program: Program, *, demand: Mapping[str, Demand] | None = None
                 ) -> tuple[Method, tuple[ScoredDataset, ...]]:
    """``(method, ranking)`` of the program: its method, inventory and cached validations (what
    ``kcdata score`` prints, the committee queue and the site show)."""
    method = load_method(settings=program.settings)
    inventory = program.inventory
    validations = last_validations(program=program, datasets=inventory.datasets)
    return method, score_inventory(inventory=inventory, method=method, validations=validations, demand=demand)


def load_demand(path: Path) -> dict[str, Demand]:
    """Portal usage per dataset from a CSV (``id,views,downloads``) or JSON (``{id: {views, downloads}}``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read demand file ({exc.strerror})",
                         hint="Pass a CSV with columns id,views,downloads or a JSON object.") from exc
    rows: list[Mapping[str, Any]]
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from exc
        if not isinstance(data, Mapping):
            raise InputError(f"{path}: expected an object {{dataset id: {{views, downloads}}}}")
        rows = [{"id": k, **(v if isinstance(v, Mapping) else {})} for k, v in data.items()]
    else:
        rows = list(csv.DictReader(text.splitlines()))
    out: dict[str, Demand] = {}
    for i, row in enumerate(rows, start=2):
        ident = str(row.get("id") or "").strip()
        if not ident:
            raise InputError(f"{path}: row {i}: missing id")
        values: dict[str, int | None] = {}
        for key in ("views", "downloads"):
            raw = row.get(key)
            if raw in (None, ""):
                values[key] = None
                continue
            try:
                number = int(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise InputError(f"{path}: {ident}.{key}: '{raw}' is not a whole number") from None
            if number < 0:
                raise InputError(f"{path}: {ident}.{key}: must not be negative")
            values[key] = number
        out[ident] = Demand(views=values["views"], downloads=values["downloads"])
    return out
