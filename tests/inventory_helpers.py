"""Small, valid inventories built in tmp folders for the inventory tests."""

from __future__ import annotations

from pathlib import Path

GOALS = """\
goals:
  - {id: infrastructure-accessibility, name: Infrastructure & Accessibility}
  - {id: public-safety, name: Public Safety}
"""

WATER = """\
# KC Water inventory
department:
  id: water
  name: KC Water
  liaison: {name: Water Open Data Liaison, email: water-data@example.org}

datasets:
  - id: water-main-breaks        # stable city-wide id
    title: Water Main Breaks
    description: Every reported break in a city water main since 2015.
    keywords: [water, infrastructure]
    theme: Infrastructure
    contact: {name: KC Water Asset Management, email: water-data@example.org}
    access_level: public
    classification: public
    contains_pii: false
    rights: null
    license: https://creativecommons.org/publicdomain/zero/1.0/
    accrual_periodicity: R/P1D
    source_system: Maximo work orders
    methodology: Exported nightly.
    data: data/samples/water-main-breaks.csv
    schema: schemas/water-main-breaks.schema.json
    row_identifier: break_id
    kcstat_goals: [infrastructure-accessibility]
    value: high
    requests: 14
    status: approved
    target_release: 2026-12-15
    portal_id: null
    last_reviewed: 2026-11-02
    history:
      - {who: Liaison, when: '2026-10-01T12:00:00Z', from: inventoried, to: proposed, note: null}
      - {who: Officer, when: '2026-10-08T12:00:00Z', from: proposed, to: in_review, note: null}
      - {who: Committee, when: '2026-10-20T12:00:00Z', from: in_review, to: approved, note: ok}

  - id: water-customer-accounts
    title: Water Customer Accounts
    description: Billing accounts of every water customer.
    contact: {name: KC Water Billing}
    access_level: non-public
    classification: protected
    contains_pii: true
    rights: Customer account records are closed under RSMo 610.021.
    status: withheld
"""

FIRE = """\
department: {id: fire, name: KC Fire}
datasets:
  - id: fire-incidents
    title: Fire Incidents
    description: Fire and EMS incidents.
    contact: {name: KC Fire Data}
    access_level: public
    status: inventoried
"""

SCHEMA = '{"fields": [{"name": "break_id", "type": "integer"}, {"name": "address", "type": "string"}]}\n'


def make_inventory(root: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """A valid two-department program under ``root`` (plus any extra/replacement ``files``)."""
    (root / "inventory").mkdir(parents=True, exist_ok=True)
    (root / "schemas").mkdir(exist_ok=True)
    (root / "data" / "samples").mkdir(parents=True, exist_ok=True)
    (root / "schemas" / "water-main-breaks.schema.json").write_text(SCHEMA)
    (root / "data" / "samples" / "water-main-breaks.csv").write_text("break_id,address\n1,Main St\n")
    (root / "kcdata.yaml").write_text(GOALS)
    base: dict[str, str | bytes] = {"water.yaml": WATER, "fire.yaml": FIRE}
    base.update(files or {})
    for name, text in base.items():
        data = text.encode("utf-8") if isinstance(text, str) else text
        (root / "inventory" / name).write_bytes(data)
    return root
