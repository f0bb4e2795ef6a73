"""A data dictionary as Markdown, HTML (a page or a fragment for the site) or an Excel workbook."""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

from kcdata.dictionary.model import DataDictionary, DictField

COLUMNS = ("Field", "Title", "Type", "Description", "Constraints", "Examples", "Missing")


def _about(d: DataDictionary) -> list[tuple[str, str]]:
    rows = [("Dataset", f"{d.title} ({d.dataset_id})"), ("Department", d.department_name)]
    if d.description:
        rows.append(("Description", d.description))
    for label, value in (("Contact", d.contact), ("License", d.license), ("Update frequency", d.accrual_periodicity),
                         ("Row identifier", d.row_identifier), ("Table Schema", d.schema_path)):
        if value:
            rows.append((label, value))
    rows.append(("Missing values", ", ".join(f'"{v}"' for v in d.missing_values) + " (cells written so are empty)"))
    if d.rows_read is not None:
        rows.append(("Examples from", f"{'all' if d.all_rows else 'the first'} {d.rows_read:,} rows of the data"))
    elif d.examples_note:
        rows.append(("Examples", d.examples_note))
    return rows


def _cells(d: DataDictionary, f: DictField) -> list[str]:
    name = f.name + (" (row identifier)" if f.row_identifier else "")
    kind = f.type + (f" ({f.format})" if f.format else "")
    missing = "" if f.missing is None else f"{f.missing:,} of {d.rows_read:,}"
    return [name, f.title or "", kind, f.description or "", "; ".join(f.constraints), "; ".join(f.examples), missing]


def to_markdown(d: DataDictionary) -> str:
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    lines = [f"# Data dictionary: {d.title}", "", "| | |", "|---|---|"]
    lines += [f"| {esc(k)} | {esc(v)} |" for k, v in _about(d)]
    lines += ["", "## Fields", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(esc(c) for c in _cells(d, f)) + " |" for f in d.fields]
    return "\n".join(lines) + "\n"


def to_html_fragment(d: DataDictionary) -> str:
    """The fields table (and the facts above it) as an HTML fragment, for the site's dataset page."""
    e = html.escape
    about = "".join(f"<tr><th scope=\"row\">{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _about(d)
                    if k not in ("Dataset", "Description"))
    head = "".join(f"<th scope=\"col\">{e(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in _cells(d, f)) + "</tr>" for f in d.fields)
    return (f'<table class="dictionary-about">{about}</table>\n'
            f'<table class="dictionary"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n')


def to_html(d: DataDictionary) -> str:
    """A standalone HTML page."""
    e = html.escape
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Data dictionary: {e(d.title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}"
            "table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;"
            "text-align:left;vertical-align:top}</style></head><body>\n"
            f"<h1>Data dictionary: {e(d.title)}</h1>\n<p>{e(d.description)}</p>\n"
            f"{to_html_fragment(d)}</body></html>\n")


def to_xlsx(d: DataDictionary) -> bytes:
    """A workbook: the fields on the first sheet (bold header, frozen, filters), the facts on the second."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "fields"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for f in d.fields:
        ws.append(_cells(d, f))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(d.fields) + 1}"
    for i, width in enumerate((24, 24, 12, 60, 40, 40, 14), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    about = wb.create_sheet("about")
    for k, v in _about(d):
        about.append([k, v])
        about.cell(row=about.max_row, column=1).font = Font(bold=True)
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(d: DataDictionary, fmt: str) -> bytes:
    if fmt == "md":
        return to_markdown(d).encode("utf-8")
    if fmt == "html":
        return to_html(d).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(d)
    raise ValueError(f"unknown dictionary format {fmt!r}")


def site_fragment(*, root: Path, dataset: Any, department_name: str | None) -> str | None:
    """The dictionary of ``dataset`` for its public site page, or None when it has none to show.

    Datasets the public listing redacts (non-public or withheld) show none; a schema that cannot be
    read shows none (``validate`` and ``inventory lint`` report it)."""
    from kcdata.dictionary.model import build_dictionary
    from kcdata.errors import KcdataError
    from kcdata.inventory.export import is_redacted

    if not dataset.schema or is_redacted(dataset):
        return None
    try:
        return to_html_fragment(build_dictionary(root=root, dataset=dataset, department_name=department_name))
    except KcdataError:
        return None
