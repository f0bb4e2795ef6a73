"""The portal metadata a dataset should have, from its inventory entry, and how to read it back.

Each logical field is compared on its own, so a plan can say exactly which one changed:

==================  ========================================================================
logical field       where it lives on the view
==================  ========================================================================
title               ``name``
description         ``description``
category            ``category`` (the entry's ``theme``)
tags                ``tags`` (the entry's ``keywords``)
license             ``metadata.custom_fields.Inventory.License`` (+ ``license.termsLink``)
attribution         ``attribution`` (the department's name)
update_frequency    ``metadata.custom_fields.Update."Update Frequency"``
inventory_id        ``metadata.custom_fields.Inventory."Inventory ID"`` (identity on the portal)
department          ``metadata.custom_fields.Inventory.Department``
contact_email       ``metadata.custom_fields.Inventory."Contact Email"``
dictionary          ``metadata.kcdata_dictionary.digest``: the data dictionary attached to the view
                    (``metadata.attachments``, name "Data dictionary"); changed -> uploaded again
==================  ========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kcdata.publish.client import DEPARTMENT_FIELD, INVENTORY_ID_FIELD, INVENTORY_SECTION

UPDATE_SECTION = "Update"
FREQUENCY_FIELD = "Update Frequency"

FREQUENCIES = {
    "R/PT1H": "Hourly", "R/P1D": "Daily", "R/P1W": "Weekly", "R/P2W": "Biweekly", "R/P1M": "Monthly",
    "R/P3M": "Quarterly", "R/P6M": "Semiannually", "R/P1Y": "Annually", "irregular": "As needed",
}

LICENSES = {  # license URL → Socrata licenseId and display name
    "https://creativecommons.org/publicdomain/zero/1.0/": ("CC0_10", "Creative Commons 1.0 Universal"),
    "https://creativecommons.org/licenses/by/4.0/": ("CC_40_BY", "Creative Commons Attribution 4.0"),
    "https://opendatacommons.org/licenses/pddl/": ("PDDL", "Open Data Commons PDDL"),
    "https://opendatacommons.org/licenses/odbl/": ("ODBL", "Open Data Commons ODbL"),
}

FIELDS = ("title", "description", "category", "tags", "license", "attribution", "update_frequency",
          "inventory_id", "department", "contact_email", "dictionary")
DICTIONARY_KEY = "kcdata_dictionary"
DICTIONARY_NAME = "Data dictionary"


def update_frequency(accrual_periodicity: str | None) -> str | None:
    """ISO 8601 repeating duration → the portal's update-frequency label."""
    if not accrual_periodicity:
        return None
    return FREQUENCIES.get(accrual_periodicity, accrual_periodicity)


def desired_metadata(dataset: Any, *, department_name: str | None) -> dict[str, Any]:
    """The logical metadata fields for an inventory :class:`~kcdata.inventory.model.Dataset`."""
    return {
        "title": dataset.title,
        "description": dataset.description,
        "category": dataset.theme,
        "tags": list(dataset.keywords),
        "license": dataset.license,
        "attribution": department_name,
        "update_frequency": update_frequency(dataset.accrual_periodicity),
        "inventory_id": dataset.id,
        "department": dataset.department,
        "contact_email": dataset.contact.email if dataset.contact else None,
    }


def _custom(view: Mapping[str, Any], section: str, field: str) -> Any:
    meta = view.get("metadata")
    custom = meta.get("custom_fields") if isinstance(meta, Mapping) else None
    sec = custom.get(section) if isinstance(custom, Mapping) else None
    return sec.get(field) if isinstance(sec, Mapping) else None


def current_metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    """The same logical fields as read from a portal view (missing → None)."""
    tags = view.get("tags")
    return {
        "title": view.get("name"),
        "description": view.get("description") or None,
        "category": view.get("category") or None,
        "tags": list(tags) if isinstance(tags, list) else [],
        "license": _custom(view, INVENTORY_SECTION, "License"),
        "attribution": view.get("attribution") or None,
        "update_frequency": _custom(view, UPDATE_SECTION, FREQUENCY_FIELD),
        "inventory_id": _custom(view, INVENTORY_SECTION, INVENTORY_ID_FIELD),
        "department": _custom(view, INVENTORY_SECTION, DEPARTMENT_FIELD),
        "contact_email": _custom(view, INVENTORY_SECTION, "Contact Email"),
        "dictionary": _dictionary_digest(view),
    }


def _dictionary_digest(view: Mapping[str, Any]) -> str | None:
    meta = view.get("metadata")
    found = meta.get(DICTIONARY_KEY) if isinstance(meta, Mapping) else None
    return found.get("digest") if isinstance(found, Mapping) else None


def view_fields(desired: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Top-level view fields and the ``metadata`` keys to merge, for create and update."""
    fields: dict[str, Any] = {
        "name": desired["title"],
        "description": desired["description"] or "",
        "category": desired["category"],
        "tags": desired["tags"],
        "attribution": desired["attribution"],
    }
    lic = desired.get("license")
    if lic:
        lid, lname = LICENSES.get(lic, (None, lic))
        fields["license"] = {"name": lname, "termsLink": lic}
        if lid:
            fields["licenseId"] = lid
    inventory = {INVENTORY_ID_FIELD: desired["inventory_id"], DEPARTMENT_FIELD: desired["department"],
                 "License": lic, "Contact Email": desired.get("contact_email")}
    metadata = {"custom_fields": {
        INVENTORY_SECTION: {k: v for k, v in inventory.items() if v is not None},
        UPDATE_SECTION: {FREQUENCY_FIELD: desired["update_frequency"]} if desired["update_frequency"] else {},
    }}
    return {k: v for k, v in fields.items() if v is not None}, metadata
