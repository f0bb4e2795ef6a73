"""Inventory export: the full internal inventory, or the public listing, as rows for CSV/XLSX/JSON.

The public listing keeps every dataset visible (residents see what the city holds), but a dataset
that is not to be released (``access_level: non-public`` or ``status: withheld``) keeps only its
title, department and the written justification.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from kcdata.inventory.model import AccessLevel, Dataset, Inventory, Status

COLUMNS = ("id", "department", "department_name", "title", "description", "keywords", "theme", "contact_name",
           "contact_email", "access_level", "classification", "contains_pii", "rights", "license",
           "accrual_periodicity", "source_system", "methodology", "data", "schema", "row_identifier",
           "kcstat_goals", "value", "requests", "status", "target_release", "portal_id", "last_reviewed")
PUBLIC_COLUMNS = ("id", "department", "department_name", "title", "description", "keywords", "theme",
                  "contact_name", "contact_email", "access_level", "license", "accrual_periodicity", "status",
                  "target_release", "portal_id", "justification")


def is_redacted(d: Dataset) -> bool:
    """True when the public listing shows only title, department and justification."""
    return d.access_level is AccessLevel.NON_PUBLIC or d.status is Status.WITHHELD


def export_rows(inventory: Inventory, *, public: bool = False) -> list[dict[str, Any]]:
    """One flat row per dataset (lists joined with "; "), in inventory order."""
    names = {dep.id: dep.name for dep in inventory.departments}
    rows = []
    for d in inventory.datasets:
        full: dict[str, Any] = {
            "id": d.id, "department": d.department, "department_name": names.get(d.department, d.department),
            "title": d.title, "description": d.description, "keywords": "; ".join(d.keywords),
            "theme": d.theme, "contact_name": d.contact.name, "contact_email": d.contact.email,
            "access_level": d.access_level.value, "classification": d.classification.value,
            "contains_pii": d.contains_pii, "rights": d.rights, "license": d.license,
            "accrual_periodicity": d.accrual_periodicity, "source_system": d.source_system,
            "methodology": d.methodology, "data": d.data, "schema": d.schema, "row_identifier": d.row_identifier,
            "kcstat_goals": "; ".join(d.kcstat_goals), "value": d.value.value if d.value else None,
            "requests": d.requests, "status": d.status.value,
            "target_release": d.target_release.isoformat() if d.target_release else None,
            "portal_id": d.portal_id, "last_reviewed": d.last_reviewed.isoformat() if d.last_reviewed else None,
        }
        if not public:
            rows.append(full)
        elif is_redacted(d):
            rows.append({"title": d.title, "department": d.department, "justification": d.rights})
        else:
            row = {k: full.get(k) for k in PUBLIC_COLUMNS if k != "justification"}
            row["justification"] = None
            rows.append(row)
    return rows


def columns(public: bool) -> Sequence[str]:
    return PUBLIC_COLUMNS if public else COLUMNS


def to_csv(rows: list[dict[str, Any]], *, public: bool = False) -> str:
    """CSV text with a header row; missing values are empty cells."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns(public)), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def to_json(rows: list[dict[str, Any]], *, public: bool = False) -> str:
    return json.dumps({"public": public, "count": len(rows), "datasets": rows}, ensure_ascii=False, indent=2) + "\n"


def to_xlsx(rows: list[dict[str, Any]], *, public: bool = False) -> bytes:
    """An Excel workbook: bold header row, frozen below the header, filters on every column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    cols = list(columns(public))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "public inventory" if public else "inventory"
    ws.append(cols)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row.get(c) for c in cols])
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(rows) + 1}"
    for i, c in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(10, len(c) + 2))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
