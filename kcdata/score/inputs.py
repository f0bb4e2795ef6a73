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


_DEMAND_HINT = "Pass a CSV with columns id,views,downloads (comma-separated, UTF-8) or a JSON object."


def _demand_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: not a regular file", hint=_DEMAND_HINT) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read demand file ({exc.strerror})", hint=_DEMAND_HINT) from exc
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(f"{path}: the demand file is UTF-16 text",
                         hint="save it as UTF-8 (in Excel: CSV UTF-8), then run again") from None
    if raw[:4] == b"PK\x03\x04":
        raise InputError(f"{path}: this is an Excel workbook (or another zip file), not a CSV",
                         hint="save it as CSV UTF-8 (comma delimited)") from None
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: not a text file (it holds binary data)", hint=_DEMAND_HINT) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start + 1})",
                         hint="save it as UTF-8 (in Excel: CSV UTF-8), then run again") from None


def load_demand(path: Path) -> dict[str, Demand]:
    """Portal usage per dataset from a CSV (``id,views,downloads``) or JSON (``{id: {views, downloads}}``)."""
    path = Path(path)
    text = _demand_text(path)
    rows: list[Mapping[str, Any]]
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from exc
        except ValueError as exc:  # e.g. a number of more than 4300 digits
            raise InputError(f"{path}: cannot read the JSON: {exc}", hint=_DEMAND_HINT) from None
        if not isinstance(data, Mapping):
            raise InputError(f"{path}: expected an object {{dataset id: {{views, downloads}}}}")
        rows = [{"id": k, **(v if isinstance(v, Mapping) else {})} for k, v in data.items()]
    else:
        reader = csv.DictReader(text.splitlines())
        columns = [c.strip() for c in (reader.fieldnames or [])]
        if "id" not in columns:
            found = ", ".join(repr(c) for c in columns) or "none (the file is empty)"
            hint = "the first line must name the columns id,views,downloads"
            if any(sep in (c or "") for c in columns for sep in ";\t|"):
                hint = "the file is not comma-separated: save it with commas (id,views,downloads)"
            raise InputError(f"{path}: no `id` column; columns found: {found}", hint=hint)
        rows = [{(k or "").strip(): v for k, v in row.items()} for row in reader]
    out: dict[str, Demand] = {}
    for i, row in enumerate(rows, start=2):
        ident = str(row.get("id") or "").strip()
        if not ident:
            raise InputError(f"{path}: row {i}: missing id", hint=_DEMAND_HINT)
        values: dict[str, int | None] = {}
        for key in ("views", "downloads"):
            raw = row.get(key)
            if raw in (None, ""):
                values[key] = None
                continue
            try:
                number = int(str(raw).strip())
            except (TypeError, ValueError):
                raise InputError(f"{path}: {ident}.{key}: '{raw}' is not a whole number") from None
            if number < 0:
                raise InputError(f"{path}: {ident}.{key}: must not be negative")
            values[key] = number
        out[ident] = Demand(views=values["views"], downloads=values["downloads"])
    return out


def unknown_demand_ids(demand: Mapping[str, Demand], inventory: Any) -> list[tuple[str, list[str]]]:
    """Demand rows whose id is not in the inventory, each with the closest ids (did-you-mean)."""
    import difflib

    ids = [d.id for d in inventory.datasets]
    known = set(ids)
    return [(i, difflib.get_close_matches(i, ids, n=2, cutoff=0.6)) for i in demand if i not in known]
