"""Gathering scoring inputs from disk: cached validation results and a demand file.

Kept apart from the pure engine so ``score_inventory`` stays a function of its arguments.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.inventory.model import Dataset
from kcdata.score.engine import Demand


def last_validations(*, root: Path, datasets: Iterable[Dataset]) -> dict[str, Any]:
    """The last validation result of each dataset (``kcdata.validate.last_result``), or None.

    Scoring never runs validation itself: it is slow, and a ranking should be cheap to re-run.
    """
    try:
        from kcdata.validate import last_result
    except ImportError:  # validation not installed in this build: every dataset counts as not validated
        return {d.id: None for d in datasets}
    out: dict[str, Any] = {}
    for d in datasets:
        try:
            out[d.id] = last_result(root=root, dataset=d)
        except Exception:  # a corrupt cache entry must not stop the ranking
            out[d.id] = None
    return out


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
