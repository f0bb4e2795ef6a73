"""Loading ``inventory/*.yaml`` into :class:`~kcdata.inventory.model.Inventory`.

A file that cannot be parsed is a problem naming that file; it never stops the other files
from loading. Entries whose required fields cannot be converted are left out of the model and
reported as problems (``kcdata inventory lint`` gives the full picture).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from kcdata import problems
from kcdata.config import INVENTORY_DIR
from kcdata.errors import InputError
from kcdata.inventory.model import (
    AccessLevel,
    Classification,
    Contact,
    Dataset,
    Department,
    HistoryRecord,
    Inventory,
    SourceRef,
    Status,
    Value,
)
from kcdata.inventory.yamlpos import Located, Pos, YamlProblem, load_located

KNOWN_FIELDS = frozenset(f for f in Dataset.__dataclass_fields__ if f not in {"department", "extra", "source"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem(problems.Problem):
    """A finding about the inventory (load or lint), located as ``file:line:col keypath``."""

    file: str
    line: int | None
    col: int | None
    keypath: str

    def location(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.col or 1}"
        return f"{where} {self.keypath}".rstrip()

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFile:
    """One department file as parsed: its bytes, located document, or the parse problem."""

    path: Path
    relpath: str
    raw: bytes
    doc: Located | None
    error: YamlProblem | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    inventory: Inventory
    files: tuple[ParsedFile, ...]
    problems: tuple[Problem, ...] = field(default=())

    @property
    def unparsable(self) -> tuple[ParsedFile, ...]:
        return tuple(f for f in self.files if f.error is not None)


def inventory_files(root: Path) -> list[Path]:
    folder = Path(root) / INVENTORY_DIR
    if not folder.is_dir():
        raise InputError(f"no inventory folder at {folder}",
                         hint="Run kcdata in your program folder, pass --root DIR, "
                              "or create one with `kcdata init DIR`.")
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def parse_file(path: Path, root: Path) -> ParsedFile:
    relpath = _rel(path, root)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return ParsedFile(path=path, relpath=relpath, raw=b"", doc=None,
                          error=YamlProblem(relpath, f"cannot read file: {exc.strerror}"))
    try:
        doc = load_located(raw, path=relpath, position_depth=2)  # entry lines only: lint has the detail
    except YamlProblem as exc:
        return ParsedFile(path=path, relpath=relpath, raw=raw, doc=None, error=exc)
    return ParsedFile(path=path, relpath=relpath, raw=raw, doc=doc)


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def load_inventory(root: Path) -> LoadResult:
    """Load every department file under ``root/inventory``."""
    root = Path(root).resolve()
    files = [parse_file(p, root) for p in inventory_files(root)]
    departments: list[Department] = []
    datasets: list[Dataset] = []
    problems: list[Problem] = []
    for pf in files:
        if pf.error is not None:
            e = pf.error
            problems.append(Problem(file=pf.relpath, line=e.line, col=e.col, keypath="", message=e.problem,
                                    code="yaml-error"))
            continue
        assert pf.doc is not None
        dep, entries, file_problems = convert_file(pf)
        problems.extend(file_problems)
        if dep is not None:
            departments.append(dep)
        datasets.extend(entries)
    inv = Inventory(root=root, departments=tuple(departments), datasets=tuple(datasets))
    return LoadResult(inventory=inv, files=tuple(files), problems=tuple(problems))


def convert_file(pf: ParsedFile) -> tuple[Department | None, list[Dataset], list[Problem]]:
    """Build the department and its datasets from one parsed file (lenient)."""
    assert pf.doc is not None
    doc = pf.doc
    problems: list[Problem] = []

    def problem(keypath: str, message: str, code: str) -> None:
        kp = keypath
        while kp not in doc.value_pos and kp:  # the nearest located ancestor (positions stop at entries)
            cut = max(kp.rfind("."), kp.rfind("["))
            kp = kp[:cut] if cut > 0 else ""
        p = doc.value_pos.get(kp) or Pos(1, 1, 0, 0)
        problems.append(Problem(file=pf.relpath, line=p.line, col=p.col, keypath=keypath, message=message, code=code))

    data = doc.value
    if data is None:
        problem("", "the file is empty: expected `department:` and `datasets:`", "empty-file")
        return None, [], problems
    if not isinstance(data, Mapping):
        problem("", f"expected a mapping with `department:` and `datasets:` at the top, found a {_kind(data)}",
                "not-a-mapping")
        return None, [], problems
    dep_raw = data.get("department")
    dep_id = Path(pf.relpath).stem
    department: Department | None = None
    if isinstance(dep_raw, Mapping) and isinstance(dep_raw.get("id"), str):
        dep_id = dep_raw["id"]
        liaison = _contact(dep_raw.get("liaison"))
        department = Department(id=dep_id, name=str(dep_raw.get("name") or dep_id), liaison=liaison,
                                path=pf.relpath)
    else:
        problem("department", "missing `department:` mapping with an `id`", "missing-department")
    entries = data.get("datasets") or []
    if not isinstance(entries, list):
        problem("datasets", f"`datasets` must be a list, found a {_kind(entries)}", "wrong-type")
        return department, [], problems
    out: list[Dataset] = []
    for i, entry in enumerate(entries):
        keypath = f"datasets[{i}]"
        if not isinstance(entry, Mapping):
            problem(keypath, f"each dataset must be a mapping, found a {_kind(entry)}", "wrong-type")
            continue
        pos = doc.value_pos.get(keypath) or Pos(1, 1, 0, 0)
        try:
            out.append(dataset_from_mapping(entry, department=dep_id,
                                            source=SourceRef(file=pf.relpath, line=pos.line, index=i)))
        except (KeyError, ValueError, TypeError) as exc:
            field_name = exc.args[0] if exc.args and isinstance(exc.args[0], str) and " " not in exc.args[0] else ""
            kp = f"{keypath}.{field_name}" if field_name else keypath
            problem(kp, f"entry skipped: {_explain(exc)}", "invalid-entry")
    return department, out, problems


def _kind(value: Any) -> str:
    names: dict[type, str] = {list: "list", str: "string", dict: "mapping"}
    return names.get(type(value), type(value).__name__)


def _explain(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"required field '{exc.args[0]}' is missing"
    return str(exc.args[1]) if len(exc.args) > 1 else str(exc)


def _contact(raw: Any) -> Contact | None:
    if isinstance(raw, Mapping) and raw.get("name"):
        email = raw.get("email")
        return Contact(name=str(raw["name"]), email=str(email) if email else None)
    return None


def _enum(cls: type[StrEnum], raw: Any, name: str) -> Any:
    try:
        return cls(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)  # type: ignore[attr-defined]
        raise ValueError(name, f"'{raw}' is not one of: {allowed}") from None


def _date(raw: Any, name: str) -> dt.date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise ValueError(name, f"'{raw}' is not a date (YYYY-MM-DD)") from None


def _str_tuple(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list):
        return tuple(str(x) for x in raw)
    raise ValueError("list", "expected a list of strings")


def _opt_str(raw: Any) -> str | None:
    return None if raw is None else str(raw)


def _history(raw: Any) -> tuple[HistoryRecord, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for rec in raw:
        if isinstance(rec, Mapping) and rec.get("to"):
            at = rec.get("when") or rec.get("at")
            out.append(HistoryRecord(by=str(rec.get("who") or rec.get("by") or ""),
                                     at=at.isoformat() if isinstance(at, dt.date) else str(at or ""),
                                     from_status=_opt_str(rec.get("from")), to_status=str(rec["to"]),
                                     note=_opt_str(rec.get("note"))))
    return tuple(out)


def dataset_from_mapping(entry: Mapping[str, Any], *, department: str, source: SourceRef | None = None) -> Dataset:
    """Convert one inventory entry; raises KeyError/ValueError naming the offending field."""
    for name in ("id", "title", "description", "contact", "access_level", "status"):
        if entry.get(name) in (None, ""):
            raise KeyError(name)
    contact = _contact(entry["contact"])
    if contact is None:
        raise ValueError("contact", "contact needs a `name`")
    requests = entry.get("requests")
    if requests is not None and (isinstance(requests, bool) or not isinstance(requests, int)):
        raise ValueError("requests", f"'{requests}' is not a whole number")
    pii = entry.get("contains_pii")
    if pii is not None and not isinstance(pii, bool):
        raise ValueError("contains_pii", f"'{pii}' is not true or false")
    return Dataset(
        id=str(entry["id"]),
        title=str(entry["title"]),
        description=str(entry["description"]),
        contact=contact,
        access_level=_enum(AccessLevel, entry["access_level"], "access_level"),
        status=_enum(Status, entry["status"], "status"),
        department=department,
        keywords=_str_tuple(entry.get("keywords")),
        theme=_opt_str(entry.get("theme")),
        classification=_enum(Classification, entry.get("classification") or "public", "classification"),
        contains_pii=pii,
        rights=_opt_str(entry.get("rights")),
        license=_opt_str(entry.get("license")),
        accrual_periodicity=_opt_str(entry.get("accrual_periodicity")),
        source_system=_opt_str(entry.get("source_system")),
        methodology=_opt_str(entry.get("methodology")),
        data=_opt_str(entry.get("data")),
        schema=_opt_str(entry.get("schema")),
        row_identifier=_opt_str(entry.get("row_identifier")),
        kcstat_goals=_str_tuple(entry.get("kcstat_goals")),
        value=_enum(Value, entry["value"], "value") if entry.get("value") else None,
        requests=requests,
        target_release=_date(entry.get("target_release"), "target_release"),
        portal_id=_opt_str(entry.get("portal_id")),
        last_reviewed=_date(entry.get("last_reviewed"), "last_reviewed"),
        history=_history(entry.get("history")),
        monitor=entry.get("monitor"),
        extra={k: v for k, v in entry.items() if k not in KNOWN_FIELDS},
        source=source,
    )
