"""``kcdata inventory import``: turn spreadsheet rows (or portal datasets) into inventory entries.

Planning is separate from writing: :func:`plan_import` decides, for each record, whether it is
added, updated (field by field, only with ``update=True``), unchanged or refused (with the row and
column of every problem); :func:`apply_import` writes the plan through the byte-preserving writer,
one entry at a time, so one bad row never stops the others. Every entry is checked with the same
rules as ``inventory lint`` before it is written, so what an import writes lints clean.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcdata.config import INVENTORY_DIR
from kcdata.errors import KcdataError
from kcdata.inventory.entry import slugify
from kcdata.inventory.export import COLUMNS
from kcdata.inventory.importmap import SLUG, Cell, ImportMap, Record, convert, is_empty, translate
from kcdata.inventory.load import inventory_files
from kcdata.inventory.yamlpos import YamlProblem, load_located

# Entry key order: the inventory format's order (contact replaces contact_name/contact_email).
ENTRY_ORDER = ("id", "title", "description", "keywords", "theme", "contact", "access_level", "classification",
               "contains_pii", "rights", "license", "accrual_periodicity", "source_system", "methodology", "data",
               "schema", "row_identifier", "kcstat_goals", "value", "requests", "status", "target_release",
               "portal_id", "last_reviewed")
MODEL_DEFAULTS = {"classification": "public"}
# Fields a portal import proposes for a new entry but never changes on an existing one: the city's
# own data path, schema (perhaps refined by hand) and review status win.
SOFT = frozenset({"data", "schema", "status"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportProblem:
    """Why a record (or one of its fields) was refused: where, which field, what to do."""

    code: str
    message: str
    row: int | None = None
    column: int | None = None
    header: str | None = None
    field: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What happens (or happened) to one record: ``add``, ``update``, ``unchanged`` or ``refused``."""

    label: str
    row: int | None
    id: str | None
    department: str | None
    action: str
    entry: dict[str, Any] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    problems: tuple[ImportProblem, ...] = ()
    department_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """The plan or its result; ``written`` is False for a dry run."""

    outcomes: tuple[Outcome, ...]
    written: bool
    ignored_columns: tuple[str, ...] = ()

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    def by_department(self) -> dict[str, dict[str, int]]:
        """Counts of each action per department id (``?`` when a row has none)."""
        out: dict[str, Counter[str]] = {}
        for o in self.outcomes:
            out.setdefault(o.department or "?", Counter())[o.action] += 1
        return {dep: {a: c[a] for a in ("add", "update", "unchanged", "refused")} for dep, c in sorted(out.items())}

    @property
    def ok(self) -> bool:
        return self.count("refused") == 0


# -- existing entries --------------------------------------------------------------------------------

def existing_entries(root: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every dataset id in the inventory -> (department id, raw entry). Unreadable files are skipped
    (``inventory lint`` reports them); their ids are then unknown here but the writer still refuses
    a duplicate."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    if not (Path(root) / INVENTORY_DIR).is_dir():
        return out  # a new program: the writer creates inventory/ with the first department file
    for path in inventory_files(root):
        try:
            data = load_located(path.read_bytes(), path=path.name, positions=False).value
        except (OSError, YamlProblem):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("datasets"), list):
            continue
        for e in data["datasets"]:
            if isinstance(e, dict) and isinstance(e.get("id"), str):
                out.setdefault(e["id"], (path.stem, e))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    return value


# -- planning --------------------------------------------------------------------------------------

def build_entry(record: Record, mapping: ImportMap) -> tuple[dict[str, Any], str | None, str | None,
                                                             list[ImportProblem], set[str]]:
    """The entry for one record, its department id and name, conversion problems, and the fields
    filled from the map's defaults (which never change an existing entry)."""
    problems: list[ImportProblem] = []
    values: dict[str, Any] = {}
    defaulted: set[str] = set()
    for name in COLUMNS:
        cell = record.cells.get(name)
        raw = cell.value if cell is not None else None
        if is_empty(raw) and name in mapping.defaults:
            raw, cell = mapping.defaults[name], Cell(value=mapping.defaults[name])
            defaulted.add("contact" if name.startswith("contact_") else name)
        if cell is None or is_empty(raw):
            continue
        if name in ("department", "department_name"):
            values[name] = str(raw).strip()
            continue
        try:
            values[name] = convert(name, translate(name, raw, mapping))
        except ValueError as exc:
            problems.append(_problem("bad-value", f"{name}: {exc}", cell, name))
    dep_text = values.pop("department", None)
    dep_name = values.pop("department_name", None)
    department = None
    if dep_text is not None:
        department = mapping.departments.get(dep_text) or (dep_text if SLUG.fullmatch(dep_text) else slugify(dep_text))
        if dep_name is None and not SLUG.fullmatch(dep_text):
            dep_name = dep_text
    elif "department" in record.extra:
        department = record.extra["department"]
    if not department:
        problems.append(_problem("missing-department", "no department: every dataset belongs to one",
                                 record.cells.get("department"), "department",
                                 row=record.row))
    contact = {k: values.pop(f"contact_{k}") for k in ("name", "email") if f"contact_{k}" in values}
    entry: dict[str, Any] = dict(values)
    if contact:
        entry["contact"] = contact
    for key, value in record.extra.items():
        if key != "department" and key not in entry:
            entry[key] = value
            if key in SOFT:
                defaulted.add(key)
    if "id" not in entry and entry.get("title"):
        entry["id"] = slugify(str(entry["title"]))
    ordered = {k: entry[k] for k in ENTRY_ORDER if k in entry}
    ordered.update({k: v for k, v in entry.items() if k not in ordered})
    return ordered, department, dep_name, problems, defaulted


def _problem(code: str, message: str, cell: Cell | None, name: str | None, *, row: int | None = None) -> ImportProblem:
    return ImportProblem(code=code, message=message, row=cell.row if cell and cell.row else row,
                         column=cell.column if cell else None, header=cell.header if cell else None, field=name)


def _lint_problems(entry: Mapping[str, Any], *, root: Path, department: str | None, record: Record,
                   settings: Mapping[str, Any] | None) -> list[ImportProblem]:
    from kcdata.inventory.lint import lint_entry

    out = []
    # duplicates are checked by plan_import (against the inventory read once, and within the file)
    for p in lint_entry(entry, root=root, department_id=department, settings=settings, check_duplicate=False):
        if p.severity.value != "error":
            continue
        top = p.keypath.split(".", 1)[0].split("[", 1)[0]
        name = {"contact": f"contact_{p.keypath.split('.', 1)[1]}" if "." in p.keypath else "contact_name"}.get(
            top, top)
        cell = record.cells.get(name)
        out.append(_problem(p.code, f"{p.keypath}: {p.message}", cell, name or None, row=record.row))
    return out


def plan_import(*, root: Path, records: Iterable[Record], mapping: ImportMap | None = None,
                update: bool = False, ignored_columns: tuple[str, ...] = (),
                pending: frozenset[str] = frozenset()) -> ImportReport:
    """Decide what each record does, without writing anything.

    ``pending``: files the caller writes before applying (a portal import's schemas), not yet there."""
    mapping = mapping or ImportMap()
    existing = existing_entries(root)
    settings = _settings(root)
    seen: dict[str, str] = {}
    outcomes = []
    for record in records:
        entry, department, dep_name, problems, defaulted = build_entry(record, mapping)
        dataset_id = entry.get("id")
        base: dict[str, Any] = {"label": record.label, "row": record.row, "id": dataset_id, "department": department,
                "entry": entry, "department_name": dep_name}
        if isinstance(dataset_id, str) and dataset_id in seen:
            problems.append(_problem("duplicate-id", f"id '{dataset_id}' is also on {seen[dataset_id]}",
                                     record.cells.get("id"), "id", row=record.row))
        elif isinstance(dataset_id, str):
            seen[dataset_id] = record.label
        if problems:
            outcomes.append(Outcome(**base, action="refused", problems=tuple(problems)))
            continue
        assert isinstance(dataset_id, str)
        if dataset_id not in existing:
            problems = [p for p in _lint_problems(entry, root=root, department=department, record=record,
                                                  settings=settings)
                        if not (p.code == "missing-file" and p.field == "schema" and entry.get("schema") in pending)]
            outcomes.append(Outcome(**base, action="refused" if problems else "add", problems=tuple(problems)))
            continue
        kept = {k: v for k, v in entry.items() if k not in defaulted}
        outcomes.append(_plan_update(base, kept, existing[dataset_id], root=root, record=record, update=update,
                                     settings=settings))
    return ImportReport(outcomes=tuple(outcomes), written=False, ignored_columns=ignored_columns)


def _settings(root: Path) -> Mapping[str, Any] | None:
    from kcdata.config import load_settings
    from kcdata.errors import InputError

    try:
        return load_settings(root)
    except InputError:
        return None  # lint_entry then reads (and reports) them itself


def _plan_update(base: dict[str, Any], entry: dict[str, Any], current: tuple[str, dict[str, Any]], *,
                 root: Path, record: Record, update: bool, settings: Mapping[str, Any] | None) -> Outcome:
    current_dep, raw = current
    new_dep = base["department"] if record.cells.get("department") is not None else None
    base = {**base, "department": current_dep}
    problems = []
    if new_dep is not None and new_dep != current_dep:
        problems.append(_problem("department-change",
                                 f"'{entry['id']}' is in department '{current_dep}', not '{new_dep}': "
                                 "import does not move datasets between department files",
                                 record.cells.get("department"), "department"))
    changes = []
    for key, value in entry.items():
        if key == "id":
            continue
        old = raw.get(key)
        if old is None and MODEL_DEFAULTS.get(key) == value:
            continue  # the export writes the model's default for a field the entry leaves out
        new = {**old, **value} if key == "contact" and isinstance(old, dict) else value
        if _plain(old) != _plain(new):
            changes.append(Change(field=key, old=_plain(old), new=_plain(new)))
    if problems:
        return Outcome(**base, action="refused", changes=tuple(changes), problems=tuple(problems))
    if not changes:
        return Outcome(**base, action="unchanged")
    if not update:
        names = ", ".join(c.field for c in changes)
        problems.append(_problem("exists", f"'{entry['id']}' is already in the inventory and differs in: {names} "
                                 "(run with --update to change those fields)", record.cells.get("id"), "id",
                                 row=record.row))
        return Outcome(**base, action="refused", changes=tuple(changes), problems=tuple(problems))
    merged = {**raw, **{c.field: entry[c.field] for c in changes}}
    if "contact" in merged and "contact" in entry and isinstance(raw.get("contact"), dict):
        merged["contact"] = {**raw["contact"], **entry["contact"]}
    problems = _lint_problems(merged, root=root, department=current_dep, record=record, settings=settings)
    return Outcome(**base, action="refused" if problems else "update", changes=tuple(changes),
                   problems=tuple(problems))


# -- writing ---------------------------------------------------------------------------------------

def apply_import(*, root: Path, plan: ImportReport,
                 on_progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Write every ``add`` and ``update`` of ``plan``; a record the writer refuses becomes ``refused``."""
    from kcdata.inventory.writer import append_dataset, update_dataset

    done = []
    total = len(plan.outcomes)
    for i, o in enumerate(plan.outcomes, start=1):
        try:
            if o.action == "add":
                assert o.department is not None
                header = {"id": o.department, "name": o.department_name or o.department}
                append_dataset(root=root, department_id=o.department, entry=o.entry, department=header)
            elif o.action == "update":
                assert o.id is not None
                update_dataset(root=root, dataset_id=o.id, set_fields={c.field: c.new for c in o.changes})
            done.append(o)
        except KcdataError as exc:
            problem = ImportProblem(code=exc.code, message=exc.message, row=o.row)
            done.append(Outcome(label=o.label, row=o.row, id=o.id, department=o.department, action="refused",
                                entry=o.entry, changes=o.changes, problems=(*o.problems, problem)))
        if on_progress is not None:
            on_progress(i, total)
    return ImportReport(outcomes=tuple(done), written=True, ignored_columns=plan.ignored_columns)


def write_pending(*, root: Path, report: ImportReport, pending: Mapping[str, Mapping[str, Any]],
                  cleanup: list[str] | None = None) -> list[str]:
    """Write the pending files (schemas) of the records to be added, before the entries are written.

    Called again with ``cleanup`` (what the first call wrote) after applying: the files of records
    the writer then refused are removed, so nothing is left that no entry points to."""
    import json

    from kcdata.fileio import atomic_write_text

    wanted = {o.entry.get("schema") for o in report.outcomes if o.action == "add"}
    if cleanup is not None:
        for rel in cleanup:
            if rel not in wanted:
                (Path(root) / rel).unlink(missing_ok=True)
        return [rel for rel in cleanup if rel in wanted]
    written = []
    for rel, doc in pending.items():
        if rel in wanted:
            atomic_write_text(Path(root) / rel, json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
            written.append(rel)
    return sorted(written)


def report_json(report: ImportReport) -> dict[str, Any]:
    """The ``--json`` data of ``inventory import`` (keys documented in docs/inventory.md)."""
    return {
        "written": report.written,
        "counts": {a: report.count(a) for a in ("add", "update", "unchanged", "refused")},
        "departments": report.by_department(),
        "ignored_columns": list(report.ignored_columns),
        "records": [{
            "label": o.label, "row": o.row, "id": o.id, "department": o.department, "action": o.action,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in o.changes],
            "problems": [{"code": p.code, "message": p.message, "row": p.row, "column": p.column,
                          "header": p.header, "field": p.field} for p in o.problems],
        } for o in report.outcomes],
    }
