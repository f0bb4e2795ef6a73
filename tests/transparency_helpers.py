"""Purpose-built programs for the transparency tests (policy, data.json, goals, freshness).

``make_program`` writes a complete program folder (inventory/, schemas/, data/, kcdata.yaml) into a tmp
dir; ``good_dataset`` is an entry that passes every policy rule, so a test changes one thing to fail one.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

TODAY = dt.date(2026, 11, 27)

GOALS = [
    {"id": "public-safety", "name": "Public Safety", "description": "Safe city.", "metrics": ["Response times"]},
    {"id": "infrastructure-accessibility", "name": "Infrastructure & Accessibility", "description": "Streets.",
     "metrics": ["Potholes filled within 3 days"]},
]

SCHEMA = {
    "fields": [
        {"name": "break_id", "type": "string", "description": "Work-order number of the break."},
        {"name": "reported", "type": "date", "description": "Date the break was reported."},
        {"name": "latitude", "type": "number", "description": "Latitude (WGS84)."},
        {"name": "longitude", "type": "number", "description": "Longitude (WGS84)."},
    ],
    "primaryKey": ["break_id"],
}

CSV = "break_id,reported,latitude,longitude\nWO-1,2026-01-02,39.1,-94.5\nWO-2,2026-01-03,39.2,-94.6\n"


def good_dataset(**overrides: Any) -> dict[str, Any]:
    """A published, public dataset that satisfies every rule."""
    entry: dict[str, Any] = {
        "id": "water-main-breaks",
        "title": "Water Main Breaks",
        "description": "Every reported break in a city water main.",
        "keywords": ["water", "infrastructure"],
        "theme": "Infrastructure",
        "contact": {"name": "KC Water Asset Management", "email": "water-data@example.org"},
        "access_level": "public",
        "classification": "public",
        "contains_pii": False,
        "rights": None,
        "license": "https://creativecommons.org/publicdomain/zero/1.0/",
        "accrual_periodicity": "R/P1D",
        "source_system": "Maximo work orders",
        "methodology": "Exported from the work-order system; geocoded by GIS.",
        "data": "data/water-main-breaks.csv",
        "schema": "schemas/water-main-breaks.schema.json",
        "row_identifier": "break_id",
        "kcstat_goals": ["infrastructure-accessibility"],
        "value": "high",
        "requests": 3,
        "status": "published",
        "target_release": "2026-06-01",
        "portal_id": "abcd-1234",
        "last_reviewed": "2026-11-02",
        "history": [],
    }
    entry.update(overrides)
    for key in ("target_release", "last_reviewed"):  # real YAML dates, as liaisons write them
        if isinstance(entry.get(key), str):
            entry[key] = dt.date.fromisoformat(entry[key])
    return entry


def make_program(root: Path, departments: dict[str, list[dict[str, Any]]] | None = None, *,
                 policy: dict[str, Any] | None = None, goals: list[dict[str, Any]] | None = None,
                 files: dict[str, str] | None = None, program: dict[str, Any] | None = None,
                 extra_settings: dict[str, Any] | None = None) -> Path:
    """Write a program folder under ``root`` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    if departments is None:
        departments = {"water": [good_dataset()]}
    (root / "inventory").mkdir(exist_ok=True)
    for dep, datasets in departments.items():
        doc = {"department": {"id": dep, "name": dep.title(), "liaison": {"name": "Liaison", "email": "l@example.org"}},
               "datasets": copy.deepcopy(datasets)}
        (root / "inventory" / f"{dep}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    settings: dict[str, Any] = {
        "program": program or {"city": "Kansas City, Missouri", "publisher": "City of Kansas City, Missouri",
                               "publisher_email": "opendata@example.org", "portal_domain": "data.kcmo.org"},
        "goals": goals if goals is not None else GOALS,
    }
    if policy is not None:
        settings["policy"] = policy
    settings.update(scoring_section())
    settings.update(extra_settings or {})
    (root / "kcdata.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    all_files = {"schemas/water-main-breaks.schema.json": json.dumps(SCHEMA), "data/water-main-breaks.csv": CSV}
    all_files.update(files or {})
    for rel, text in all_files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def scoring_section() -> dict[str, Any]:
    """The repository's committee scoring method (a versioned ``scoring:`` section), if it has one."""
    from conftest import REPO

    raw = yaml.safe_load((REPO / "kcdata.yaml").read_text(encoding="utf-8")) or {}
    return {"scoring": raw["scoring"]} if "scoring" in raw else {}


def validate_all(root: Path) -> bool:
    """Run the validation stage over the program (so SUN-28 sees cached results)."""
    from kcdata.inventory import load_inventory
    from kcdata.validate import validate_datasets

    return validate_datasets(inventory=load_inventory(root).inventory).valid


def shared_dir() -> Path | None:
    """The team's optional ``shared/`` reference folder beside the checkout (or an ancestor), if there is one.

    Tests never need it: they read the vendored copies under ``tests/fixtures/``. A test may *also* compare
    those copies with the originals when this returns a folder.
    """
    from conftest import REPO

    for parent in REPO.parents:  # worktrees may live deeper than the main checkout
        if (parent / "shared" / "standards").is_dir():
            return parent / "shared"
    return None


GOOD_POLICY: dict[str, Any] = {
    "departments": ["water"],
    "inventory_method": "https://example.org/inventory-method",
    "inventory_url": "https://example.org/inventory",
    "citation": "City of Kansas City, Missouri: {title}",
}


def official_validator(catalog_file: str = "catalog-non-federal.json") -> Any:
    """Built from the vendored official copies in ``tests/fixtures/`` (not from the package's copy)."""
    from conftest import FIXTURES
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    dcat = FIXTURES / "dcat-us-1.1"
    pairs = []
    for path in sorted(dcat.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        res = Resource.from_contents(contents, default_specification=DRAFT4)
        pairs.append((path.name, res))
        if path.name != "catalog-non-federal.json":
            pairs.append((contents["id"].rstrip("#"), res))
    registry = Registry().with_resources(pairs)
    schema = json.loads((dcat / catalog_file).read_text(encoding="utf-8"))
    return Draft4Validator(schema, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def dcat_errors(catalog: dict[str, Any], catalog_file: str = "catalog-non-federal.json") -> list[str]:
    """Schema error messages of ``catalog`` under the OFFICIAL DCAT-US 1.1 schemas (vendored in tests/fixtures)."""
    return [e.message for e in official_validator(catalog_file).iter_errors(catalog)]
