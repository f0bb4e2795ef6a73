"""A small, varied program folder for the site tests (until and besides the sample inventory)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'

SETTINGS = {
    "program": {"city": "Kansas City, Missouri", "publisher": "City of Kansas City, Missouri",
                "publisher_email": "opendata@example.org", "portal_domain": "data.kcmo.org"},
    "goals": [
        {"id": "infrastructure-accessibility", "name": "Infrastructure & Accessibility"},
        {"id": "public-safety", "name": "Public Safety"},
        {"id": "finance-governance", "name": "Finance & Governance"},
    ],
}


def _ds(i: int, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": f"dataset-{i:02d}", "title": f"Dataset number {i}",
        "description": f"Records of thing {i} collected by the city.",
        "keywords": ["records", f"kw{i}"], "theme": "Infrastructure",
        "contact": {"name": "Data Team", "email": "data@example.org"},
        "access_level": "public", "classification": "public", "status": "inventoried",
        "license": "https://creativecommons.org/publicdomain/zero/1.0/", "accrual_periodicity": "R/P1M",
    }
    base.update(kw)
    return base


def write_program(root: Path, *, extra_settings: dict[str, Any] | None = None, broken: bool = False) -> Path:
    """Write inventory/*.yaml and kcdata.yaml under ``root``; ``broken`` adds a load problem."""
    (root / "inventory").mkdir(parents=True, exist_ok=True)
    water = {
        "department": {"id": "water", "name": "KC Water", "liaison": {"name": "Liaison", "email": "w@example.org"}},
        "datasets": [
            _ds(1, title="Water Main Breaks", keywords=["water", "pipes"], status="published", portal_id="abcd-1234",
                data="data/breaks.csv", schema="schemas/breaks.schema.json", row_identifier="id",
                kcstat_goals=["infrastructure-accessibility"],
                history=[
                    {"who": "ana", "when": dt.datetime(2026, 6, 2, 10, tzinfo=dt.UTC), "from": "approved",
                     "to": "published"},
                    {"who": "ana", "when": dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC), "from": "published",
                     "to": "published", "note": "added 2026 data"},
                ]),
            _ds(2, title="Hydrant Inspections", status="approved", target_release=dt.date(2026, 10, 1),
                data="data/hydrants.csv", schema="schemas/hydrants.schema.json", row_identifier="id",
                kcstat_goals=["public-safety"], requests=12, value="high",
                history=[{"who": "bo", "when": dt.date(2026, 9, 1), "from": "in_review", "to": "approved"}]),
            _ds(3, title="Water Quality Tests", status="published", portal_id="wqts-0001", theme="Health",
                data="data/quality.csv", schema="schemas/quality.schema.json", row_identifier="id",
                history=[{"who": "ana", "when": dt.date(2026, 3, 15), "from": "approved", "to": "published"}]),
        ],
    }
    police = {
        "department": {"id": "police", "name": "Police Department"},
        "datasets": [
            _ds(4, title="Use of Force Incidents", status="withheld", access_level="non-public",
                classification="protected", rights="Contains officer personnel records (RSMo 610.021).",
                theme="Public Safety", kcstat_goals=["public-safety"]),
            _ds(5, title="Crime Reports", description=HOSTILE, status="proposed", theme="Public Safety",
                target_release=dt.date(2026, 1, 15), keywords=["crime", "safety"]),
            _ds(6, title="Ünïcode Çafé Inspections", status="in_review", access_level="restricted public",
                data="data/cafes.csv", schema="schemas/cafes.schema.json", row_identifier="id",
                rights="Addresses of private homes are removed.", theme="Health"),
        ],
    }
    for name, doc in (("water", water), ("police", police)):
        (root / "inventory" / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    if broken:
        (root / "inventory" / "parks.yaml").write_text("department: {id: parks\ndatasets: [\n", encoding="utf-8")
    (root / "data").mkdir(exist_ok=True)
    (root / "schemas").mkdir(exist_ok=True)
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "when", "type": "date"}], "primaryKey": ["id"]}
    for name, rows in (("breaks", "1,2026-01-02\n2,not-a-date\n3,2026-01-05\n"),
                       ("quality", "1,2026-02-01\n2,2026-02-02\n"), ("hydrants", "7,2026-03-01\n"),
                       ("cafes", "1,2026-04-01\n2,2026-04-02\n3,2026-04-03\n")):
        (root / "data" / f"{name}.csv").write_text("id,when\n" + rows, encoding="utf-8")
        (root / "schemas" / f"{name}.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    settings = dict(SETTINGS)
    settings.update(extra_settings or {})
    (root / "kcdata.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return root


NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
