"""Reading an inventory spreadsheet (CSV or XLSX) and the mapping file that translates a city's own layout.

The spreadsheet form of the inventory is exactly what ``kcdata inventory export --format csv|xlsx``
writes (its column names are the field names). A city's own workbook, with other column names and
its own words for values, is read through a mapping file::

    columns: {"Dataset Name": title, "Dept": department, "Update Freq": accrual_periodicity}
    values:                       # keyed by target field
      accrual_periodicity: {Weekly: R/P1W, Monthly: R/P1M}
      access_level: {"Yes": public, "No": non-public}
    departments: {"Public Works": public-works}   # spreadsheet value -> department id
    defaults: {license: https://creativecommons.org/publicdomain/zero/1.0/}   # for empty cells

Row numbers are the spreadsheet's own (the header is row 1); column numbers count from 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.inventory.export import COLUMNS

FIELDS = frozenset(COLUMNS)
MAP_KEYS = ("columns", "values", "departments", "defaults")
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportMap:
    """Column names -> fields, value translations per field, department names -> ids, defaults."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cell:
    """One value read for a field, and where it came from (for messages)."""

    value: Any
    row: int | None = None
    column: int | None = None
    header: str | None = None

    def where(self) -> str:
        if self.row is None:
            return ""
        col = f", column {self.column} ({self.header!r})" if self.column is not None else ""
        return f"row {self.row}{col}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One dataset to import: its cells by target field, and a label (a row number or portal id)."""

    label: str
    row: int | None
    cells: dict[str, Cell]
    extra: dict[str, Any] = field(default_factory=dict)  # ready-made entry values (e.g. from the portal)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sheet:
    """The records read from a spreadsheet, and the columns that were not imported."""

    records: tuple[Record, ...]
    ignored_columns: tuple[str, ...]


def load_map(path: Path) -> ImportMap:
    """Read and check a mapping file; a malformed one raises :class:`InputError` (exit 3)."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"mapping file not found: {path}", hint="Check the path given to --map.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read mapping file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})",
                         hint="Fix the mapping file; its shape is in docs/inventory.md (Import).") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"{path}: the mapping file must be a mapping with keys {', '.join(MAP_KEYS)}")
    unknown = set(raw) - set(MAP_KEYS)
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}",
                         hint=f"A mapping file has the keys {', '.join(MAP_KEYS)}.")
    parts: dict[str, dict[str, Any]] = {}
    for key in MAP_KEYS:
        part = raw.get(key) or {}
        if not isinstance(part, dict):
            raise InputError(f"{path}: `{key}` must be a mapping")
        parts[key] = {str(k): v for k, v in part.items()}
    for col, target in parts["columns"].items():
        if target not in FIELDS:
            raise InputError(f"{path}: columns.{col!r} maps to unknown field {target!r}",
                             hint=f"Target fields are the export's column names: {', '.join(COLUMNS)}.")
    for key in ("values", "defaults"):
        for name, value in parts[key].items():
            if name not in FIELDS:
                raise InputError(f"{path}: {key}.{name} is not a field",
                                 hint=f"Fields are the export's column names: {', '.join(COLUMNS)}.")
            if key == "values" and not isinstance(value, dict):
                raise InputError(f"{path}: values.{name} must map spreadsheet values to field values")
    for name, dep in parts["departments"].items():
        if not isinstance(dep, str) or not SLUG.fullmatch(dep):
            raise InputError(f"{path}: departments.{name!r} -> {dep!r} is not a department id (a lowercase slug)")
    return ImportMap(columns={k: str(v) for k, v in parts["columns"].items()},
                     values={k: {str(a): b for a, b in v.items()} for k, v in parts["values"].items()},
                     departments={k: str(v) for k, v in parts["departments"].items()},
                     defaults=parts["defaults"])


def read_sheet(path: Path, mapping: ImportMap | None = None) -> Sheet:
    """The records of a CSV or XLSX inventory; bad input raises :class:`InputError` (exit 3)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"file not found: {path}", hint="Give the path of a .csv or .xlsx inventory.")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        table = _read_csv(path)
    else:
        raise InputError(f"{path}: not a .csv or .xlsx file", hint="Save the spreadsheet as CSV or Excel (.xlsx).")
    if not table:
        raise InputError(f"{path}: the spreadsheet is empty (no header row)")
    return _records(path, table[0], table[1:], mapping or ImportMap())


def _read_csv(path: Path) -> list[list[Any]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})",
                         hint="Save the spreadsheet as 'CSV UTF-8'.") from exc
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)]
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV ({exc})", hint="Check quoting in the file.") from exc


def _read_xlsx(path: Path) -> list[list[Any]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable Excel workbook ({type(exc).__name__})",
                         hint="Open it in a spreadsheet program and save it as .xlsx.") from exc
    try:
        ws = wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _records(path: Path, header: list[Any], rows: list[list[Any]], mapping: ImportMap) -> Sheet:
    names = ["" if h is None else str(h).strip() for h in header]
    missing = [c for c in mapping.columns if c not in names]
    if missing:
        raise InputError(f"{path}: the mapping names column(s) not in the spreadsheet: "
                         f"{', '.join(repr(c) for c in missing)}",
                         hint=f"The header row has: {', '.join(repr(n) for n in names if n)}.")
    targets: dict[int, str] = {}
    ignored = []
    for i, name in enumerate(names):
        target = mapping.columns.get(name) or (name if name in FIELDS else None)
        if target is None:
            if name:
                ignored.append(name)
        elif target in targets.values():
            raise InputError(f"{path}: two columns map to the field {target!r}")
        else:
            targets[i] = target
    records = []
    for n, row in enumerate(rows, start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue  # blank rows are layout, not data
        cells = {}
        for i, target in targets.items():
            value = row[i] if i < len(row) else None
            cells[target] = Cell(value=value, row=n, column=i + 1, header=names[i])
        records.append(Record(label=f"row {n}", row=n, cells=cells))
    return Sheet(records=tuple(records), ignored_columns=tuple(ignored))


# -- value conversion ------------------------------------------------------------------------------

BOOL_FIELDS = frozenset({"contains_pii"})
INT_FIELDS = frozenset({"requests"})
DATE_FIELDS = frozenset({"target_release", "last_reviewed"})
LIST_FIELDS = frozenset({"keywords", "kcstat_goals"})
TRUE = frozenset({"true", "yes", "y", "1", "x"})
FALSE = frozenset({"false", "no", "n", "0", ""})


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def translate(name: str, value: Any, mapping: ImportMap) -> Any:
    """The mapping's translation of a spreadsheet value (exact, then case-insensitive), else the value."""
    table = mapping.values.get(name)
    if not table or value is None:
        return value
    key = str(value).strip()
    if key in table:
        return table[key]
    low = {k.lower(): v for k, v in table.items()}
    return low.get(key.lower(), value)


def convert(name: str, value: Any) -> Any:
    """A cell's value as the field's type; raises ValueError with a message for the user."""
    if isinstance(value, str):
        value = value.strip()
    if name in BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        low = str(value).lower()
        if low in TRUE or low in FALSE:
            return low in TRUE
        raise ValueError(f"'{value}' is not yes/no (true/false)")
    if name in INT_FIELDS:
        if isinstance(value, bool):
            raise ValueError(f"'{value}' is not a whole number")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
        raise ValueError(f"'{value}' is not a whole number")
    if name in DATE_FIELDS:
        return _date(value)
    if name in LIST_FIELDS:
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        text = str(value)
        sep = ";" if ";" in text else ","
        return [part.strip() for part in text.split(sep) if part.strip()]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, str) else str(value)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)  # US spreadsheets: month/day/year
    if m:
        try:
            return dt.date(int(m[3]), int(m[1]), int(m[2]))
        except ValueError:
            pass
    raise ValueError(f"'{text}' is not a date (YYYY-MM-DD or M/D/YYYY)")
