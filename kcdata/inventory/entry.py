"""Building one new inventory entry field by field (``kcdata inventory add``), without any I/O.

The field list drives both the interactive prompts and the command-line flags, and each answer is
checked against the inventory JSON Schema's rule for that field as soon as it is given.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kcdata.inventory.model import AccessLevel, Classification, Value

CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
# Word forms a liaison types, and what the inventory format stores for them.
PERIODICITY_WORDS = {"hourly": "R/PT1H", "daily": "R/P1D", "weekly": "R/P1W", "biweekly": "R/P2W",
                     "monthly": "R/P1M", "quarterly": "R/P3M", "semiannually": "R/P6M", "annually": "R/P1Y",
                     "annual": "R/P1Y", "yearly": "R/P1Y", "irregular": "irregular"}
LICENSE_WORDS = {"cc0": CC0, "cc-0": CC0, "public domain": CC0,
                 "cc-by": "https://creativecommons.org/licenses/by/4.0/",
                 "cc-by-sa": "https://creativecommons.org/licenses/by-sa/4.0/",
                 "pddl": "https://opendatacommons.org/licenses/pddl/1-0/",
                 "odc-by": "https://opendatacommons.org/licenses/by/1-0/",
                 "odbl": "https://opendatacommons.org/licenses/odbl/1-0/"}


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One entry field as asked for: how to parse the typed text and what to offer."""

    name: str
    label: str
    kind: str = "text"  # text | choice | bool | list | int | date
    choices: tuple[str, ...] = ()
    default: Any = None
    required: Callable[[Mapping[str, Any]], bool] = lambda entry: False
    ask: Callable[[Mapping[str, Any]], bool] = lambda entry: True


def _needs_rights(entry: Mapping[str, Any]) -> bool:
    return (entry.get("access_level", "public") != "public" or entry.get("classification", "public") != "public"
            or entry.get("status") == "withheld")


def _release(entry: Mapping[str, Any]) -> bool:
    return entry.get("status") in ("in_review", "approved", "published")


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(name="title", label="Title", required=lambda e: True),
    FieldSpec(name="id", label="Id (lowercase slug, never reused)", required=lambda e: True),
    FieldSpec(name="description", label="Description", required=lambda e: True),
    FieldSpec(name="contact.name", label="Contact name (a role or team)", required=lambda e: True),
    FieldSpec(name="contact.email", label="Contact email"),
    FieldSpec(name="access_level", label="Access level", kind="choice", choices=tuple(AccessLevel),
              default="public", required=lambda e: True),
    FieldSpec(name="classification", label="Classification", kind="choice", choices=tuple(Classification),
              default="public"),
    FieldSpec(name="status", label="Status", kind="choice", choices=("inventoried", "proposed"),
              default="inventoried", required=lambda e: True),
    FieldSpec(name="contains_pii", label="Contains personal information?", kind="bool", default=False),
    FieldSpec(name="rights", label="Justification for restricting it (rights)", required=_needs_rights,
              ask=_needs_rights),
    FieldSpec(name="keywords", label="Keywords (comma-separated)", kind="list", required=_release),
    FieldSpec(name="theme", label="Theme (portal category)", required=_release),
    FieldSpec(name="license", label="License (URL, or cc0, cc-by, cc-by-sa, pddl, odc-by, odbl)", default=CC0,
              required=_release),
    FieldSpec(name="accrual_periodicity", label="Update frequency (daily, weekly, monthly, quarterly, yearly, "
              "irregular or R/P1D ...; Enter: not known)", required=_release),
    FieldSpec(name="source_system", label="Source system"),
    FieldSpec(name="methodology", label="Methodology"),
    FieldSpec(name="data", label="Data file (path or URL)", required=_release),
    FieldSpec(name="schema", label="Table Schema path", required=_release),
    FieldSpec(name="row_identifier", label="Row identifier (schema field)", required=_release),
    FieldSpec(name="kcstat_goals", label="KCStat goal ids (comma-separated)", kind="list"),
    FieldSpec(name="value", label="Public value (Enter: not judged yet)", kind="choice", choices=tuple(Value)),
    FieldSpec(name="requests", label="Requests in the last 12 months (Enter: not known)", kind="int"),
    FieldSpec(name="target_release", label="Target release date (YYYY-MM-DD)", kind="date"),
)


def spec_for(keypath: str) -> FieldSpec | None:
    """The field to ask again for a problem at ``keypath`` (``kcstat_goals[0]`` -> ``kcstat_goals``)."""
    name = keypath.split("[", 1)[0]
    if name == "contact":
        name = "contact.name"
    return next((f for f in FIELDS if f.name == name), None)


def slugify(text: str) -> str:
    """A lowercase slug for a title: ``Water Main Breaks`` -> ``water-main-breaks``; letters with accents are
    transliterated (``Árboles Plantados`` -> ``arboles-plantados``), not dropped."""
    import unicodedata

    text = text.translate(_TRANSLIT)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


# letters NFKD does not decompose into a base letter
_TRANSLIT = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
                           "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D", "&": " and "})


def parse_value(spec: FieldSpec, text: str) -> Any:
    """Turn typed text into the field's value; raises ValueError with a message for the user."""
    text = text.strip()
    if text == "":
        return None
    if spec.kind == "choice":
        by_lower = {str(c).lower(): str(c) for c in spec.choices}
        if text.lower() not in by_lower:
            raise ValueError(f"'{text}' is not one of: {', '.join(spec.choices)}")
        return by_lower[text.lower()]
    if spec.name == "accrual_periodicity":
        return PERIODICITY_WORDS.get(text.lower(), text.upper() if text.upper().startswith("R/P") else text)
    if spec.name == "license":
        return LICENSE_WORDS.get(text.lower().replace("_", "-").replace(" 4.0", ""), text)
    if spec.kind == "bool":
        low = text.lower()
        if low in ("y", "yes", "true"):
            return True
        if low in ("n", "no", "false"):
            return False
        raise ValueError("answer yes or no")
    if spec.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    if spec.kind == "int":
        if not text.isdigit():
            raise ValueError(f"'{text}' is not a whole number")
        return int(text)
    if spec.kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a date (YYYY-MM-DD)") from None
    return text


def set_field(entry: dict[str, Any], name: str, value: Any) -> None:
    """Set ``name`` (``contact.name`` sets inside ``contact``); None removes it."""
    if "." in name:
        outer, inner = name.split(".", 1)
        sub = entry.setdefault(outer, {})
        if value is None:
            sub.pop(inner, None)
        else:
            sub[inner] = value
        return
    if value is None:
        entry.pop(name, None)
    else:
        entry[name] = value


def get_field(entry: Mapping[str, Any], name: str) -> Any:
    if "." in name:
        outer, inner = name.split(".", 1)
        sub = entry.get(outer)
        return sub.get(inner) if isinstance(sub, Mapping) else None
    return entry.get(name)


def field_problem(name: str, value: Any, *, entry: Mapping[str, Any], goals: tuple[str, ...] | None) -> str | None:
    """The problem with one answer (schema rule for the field, goal ids), or None when it is fine."""
    from kcdata.inventory.lint import _Context, check_entry

    spec = next(f for f in FIELDS if f.name == name)
    if value in (None, "", []):
        return f"{spec.label} is required here" if spec.required(entry) else None
    trial: dict[str, Any] = {}
    set_field(trial, name, value)
    top = name.split(".", 1)[0]
    from pathlib import Path

    findings = check_entry(trial, prefix="", ctx=_Context(root=Path("."), goals=goals))
    for f in findings:
        kp = f.keypath.lstrip(".")
        if (kp == top or kp.startswith((top + ".", top + "["))) and f.code not in ("missing-field", "missing-file"):
            return f.message
    return None
