"""A dataset's data dictionary: field, type, description, constraints, examples, missing values, row id.

Built from the Table Schema and the inventory entry; example values and missing-value counts come
from the first rows of the data file when it is a local file (``SAMPLE_ROWS``). Examples are left out
when the dataset is not public, contains personal information or is classified above public: a
dictionary is published, and must not leak what the data itself may not.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError

SAMPLE_ROWS = 10_000
EXAMPLES = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class DictField:
    name: str
    title: str | None
    type: str
    format: str | None
    description: str | None
    constraints: tuple[str, ...]
    examples: tuple[str, ...]
    missing: int | None  # missing cells in the rows read; None when the data was not read
    row_identifier: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DataDictionary:
    dataset_id: str
    title: str
    description: str
    department: str
    department_name: str
    contact: str | None
    license: str | None
    accrual_periodicity: str | None
    row_identifier: str | None
    primary_key: tuple[str, ...]
    schema_path: str | None
    missing_values: tuple[str, ...]
    fields: tuple[DictField, ...]
    rows_read: int | None  # rows the examples and missing counts come from
    all_rows: bool  # True when rows_read is the whole file
    examples_note: str | None  # why there are no examples, when there are none


def dictionary_for(*, root: Path, dataset_id: str) -> DataDictionary:
    """The dictionary of an inventory dataset (NotFoundError / InputError, exit 3, when it has none)."""
    from kcdata.inventory import load_inventory

    inventory = load_inventory(root).inventory
    dataset = inventory.get(dataset_id)
    names = {d.id: d.name for d in inventory.departments}
    return build_dictionary(root=root, dataset=dataset, department_name=names.get(dataset.department))


def build_dictionary(*, root: Path, dataset: Any, department_name: str | None = None,
                     sample_rows: int = SAMPLE_ROWS, with_data: bool = True) -> DataDictionary:
    """The dictionary of ``dataset`` (an inventory :class:`~kcdata.inventory.model.Dataset`).

    ``with_data=False`` leaves out what the data file says (examples, missing counts)."""
    from kcdata.validate.schema import load_schema

    if not dataset.schema:
        raise InputError(f"dataset '{dataset.id}' has no Table Schema, so it has no data dictionary",
                         hint="Add `schema:` to its entry (`kcdata schema infer DATA` drafts one).",
                         code="no-schema")
    if dataset.schema.startswith(("http://", "https://")):
        raise InputError(f"dataset '{dataset.id}': its schema is a URL; kcdata reads local schemas only",
                         code="no-schema")
    loaded = load_schema(Path(root) / dataset.schema)
    desc = loaded.descriptor
    pk = desc.get("primaryKey") or ()
    primary_key = (pk,) if isinstance(pk, str) else tuple(pk)
    row_id = dataset.row_identifier or (primary_key[0] if len(primary_key) == 1 else None)
    missing_values = tuple(str(v) for v in desc.get("missingValues", [""]))
    fields_raw = [f for f in desc.get("fields", []) if isinstance(f, dict)]
    note = _why_no_examples(dataset) if with_data else None
    sample = None
    if note is None and with_data:
        sample = _sample(Path(root), dataset.data, [str(f.get("name")) for f in fields_raw], missing_values,
                         sample_rows, dialect=loaded.dialect)
        if sample is None:
            note = "no local data file to take examples from"
    fields = []
    for i, f in enumerate(fields_raw):
        name = str(f.get("name"))
        fields.append(DictField(
            name=name, title=f.get("title"), type=str(f.get("type", "string")),
            format=f.get("format") if f.get("format") not in (None, "default") else None,
            description=f.get("description"), constraints=_constraints(f.get("constraints") or {}),
            examples=tuple(sample[1][i]) if sample else (), missing=sample[2][i] if sample else None,
            row_identifier=name == row_id))
    return DataDictionary(
        dataset_id=dataset.id, title=dataset.title, description=dataset.description, department=dataset.department,
        department_name=department_name or dataset.department,
        contact=_contact(dataset.contact), license=dataset.license, accrual_periodicity=dataset.accrual_periodicity,
        row_identifier=row_id, primary_key=primary_key, schema_path=dataset.schema, missing_values=missing_values,
        fields=tuple(fields), rows_read=sample[0] if sample else None, all_rows=bool(sample and sample[3]),
        examples_note=note)


def _contact(contact: Any) -> str | None:
    if contact is None:
        return None
    return f"{contact.name} <{contact.email}>" if contact.email else contact.name


def _why_no_examples(dataset: Any) -> str | None:
    if dataset.access_level.value != "public":
        return "examples withheld: the dataset is not public"
    if dataset.contains_pii:
        return "examples withheld: the dataset contains personal information"
    if dataset.classification.value != "public":
        return "examples withheld: the dataset is classified " + dataset.classification.value
    return None


def _sample(root: Path, data: str | None, names: list[str], missing_values: tuple[str, ...], limit: int, *,
            dialect: Any) -> tuple[int, list[list[str]], list[int], bool] | None:
    """(rows read, examples per field, missing cells per field, whole file read) from a local CSV."""
    if not data or data.startswith(("http://", "https://")) or not data.lower().endswith((".csv", ".tsv", ".txt")):
        return None
    path = root / data
    if not path.is_file():
        return None
    examples: list[list[str]] = [[] for _ in names]
    missing = [0] * len(names)
    rows = 0
    complete = True
    missing_set = set(missing_values)
    try:
        with open(path, encoding=dialect.encoding or "utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=dialect.delimiter, quotechar=dialect.quote_char)
            header = next(reader, None) or []
            index = {h: i for i, h in enumerate(header)}
            cols = [index.get(n) for n in names]
            for row in reader:
                if rows >= limit:
                    complete = False
                    break
                if not any(row):
                    continue
                rows += 1
                for j, c in enumerate(cols):
                    cell = row[c] if c is not None and c < len(row) else ""
                    if cell in missing_set:
                        missing[j] += 1
                    elif len(examples[j]) < EXAMPLES and cell not in examples[j]:
                        examples[j].append(cell if len(cell) <= 80 else cell[:77] + "...")
    except (OSError, UnicodeDecodeError, csv.Error, LookupError):
        return None  # the dictionary does not need the data; validate reports a broken file
    return rows, examples, missing, complete


def _constraints(c: dict[str, Any]) -> tuple[str, ...]:
    out = []
    if c.get("required"):
        out.append("required")
    if c.get("unique"):
        out.append("unique")
    if "enum" in c:
        out.append("one of: " + ", ".join(str(v) for v in c["enum"]))
    if "pattern" in c:
        out.append(f"matches {c['pattern']}")
    for key, text in (("minimum", "at least"), ("maximum", "at most"), ("minLength", "at least {} characters"),
                      ("maxLength", "at most {} characters")):
        if key in c:
            out.append(text.format(c[key]) if "{}" in text else f"{text} {c[key]}")
    return tuple(out)
