"""The JSON Schema half of inventory lint: the inventory schema, its validators and the findings they
explain (moved whole from ``lint.py``)."""

from __future__ import annotations

import datetime as dt
import difflib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from kcdata.problems import Severity

SCHEMA_PATH = Path(__file__).with_name("inventory.schema.json")
PARALLEL_MIN_BYTES = 2_000_000  # below this, starting worker processes costs more than it saves

# Legal review transitions (governance workflow). A first record may start from null.
TRANSITIONS: frozenset[tuple[str | None, str]] = frozenset({
    (None, "inventoried"), (None, "proposed"), (None, "withheld"),
    ("inventoried", "proposed"), ("proposed", "in_review"), ("in_review", "approved"),
    ("in_review", "proposed"), ("inventoried", "withheld"), ("proposed", "withheld"),
    ("in_review", "withheld"), ("approved", "published"), ("published", "published"),
    ("published", "retired"),
})
LICENSES = "CC0, PDDL, ODC-By, ODbL, CC-BY, CC-BY-SA (https://creativecommons.org/... or https://opendatacommons.org/...)"
PATTERN_MESSAGES = {
    "id": ("bad-slug", "is not a lowercase slug (letters, digits and single hyphens, e.g. water-main-breaks)"),
    "kcstat_goals": ("bad-slug", "is not a goal id (a lowercase slug)"),
    "email": ("bad-email", "is not an email address"),
    "license": ("bad-license", f"is not an open license URL: use one of {LICENSES}"),
    "accrual_periodicity": ("bad-periodicity",
                            "is not an ISO 8601 repeating duration (R/P1D, R/PT1H, R/P1W, R/P1M, R/P1Y) "
                            "or 'irregular'"),
    "target_release": ("bad-date", "is not a date (YYYY-MM-DD)"),
    "last_reviewed": ("bad-date", "is not a date (YYYY-MM-DD)"),
    "when": ("bad-timestamp", "is not an ISO 8601 timestamp (e.g. 2026-11-27T15:04:05Z)"),
    "portal_id": ("bad-portal-id", "is not a Socrata id (four-by-four, e.g. abcd-1234)"),
}
DATE_FIELDS = ("target_release", "last_reviewed")
RELEASE_WHY = "required from status in_review on"
RIGHTS_WHY = ("the written justification, required when access_level or classification is not public "
              "or status is withheld")


@dataclass(slots=True, kw_only=True)
class _Finding:
    keypath: str
    message: str
    code: str
    severity: Severity = Severity.ERROR
    at_key: bool = False  # locate at the key (unknown keys) rather than the value


# -- schema --------------------------------------------------------------------------------------

@cache
def inventory_schema() -> dict[str, Any]:
    """The inventory format as a JSON Schema (draft 2020-12), shipped with the package."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


@cache
def _fast_dataset_check() -> Any:
    from kcdata.inventory.fastschema import compile_schema

    schema = inventory_schema()
    return compile_schema(schema["$defs"]["dataset"], root=schema)


@cache
def _fast_department_check() -> Any:
    from kcdata.inventory.fastschema import compile_schema

    schema = inventory_schema()
    return compile_schema(schema["properties"]["department"], root=schema)


@cache
def _validator(part: str) -> Any:
    import jsonschema

    schema = inventory_schema()
    sub = schema["$defs"]["dataset"] if part == "dataset" else schema["properties"]["department"]
    return jsonschema.Draft202012Validator({**sub, "$defs": schema["$defs"]})


@cache
def _known(part: str) -> tuple[str, ...]:
    schema = inventory_schema()
    d = schema["$defs"]["dataset"]["properties"]
    known = {"dataset": d, "department": schema["properties"]["department"]["properties"],
             "contact": d["contact"]["properties"], "history": d["history"]["items"]["properties"],
             "priority_override": d["priority_override"]["properties"], "top": schema["properties"]}[part]
    return tuple(known)


@cache
def _known_set(part: str) -> frozenset[str]:
    return frozenset(_known(part))


def _jsonable(value: Any) -> Any:
    """Dates as ISO strings, as JSON Schema sees them (YAML turns 2026-12-15 into a date)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _dates_as_text(entry: dict[str, Any]) -> dict[str, Any]:
    """``_jsonable`` for an entry, cheaply: dates sit at the top level, in history and in overrides."""
    out = None
    date = dt.date
    for k, v in entry.items():
        if isinstance(v, date) or (k == "priority_override" and v) or (k == "history" and _has_date(v)):
            if out is None:
                out = dict(entry)
            out[k] = _jsonable(v)
    return entry if out is None else out


def _has_date(value: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    for v in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        if isinstance(v, dt.date | list | dict) and _has_date(v):
            return True
    return False


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {str: "text", int: "a number", float: "a number", list: "a list", dict: "a mapping"}.get(
        type(value), type(value).__name__)


def _schema_findings(validator: Any, value: Any, prefix: str) -> list[_Finding]:
    out: list[_Finding] = []
    seen: set[tuple[str, str]] = set()
    for err in validator.iter_errors(value):
        path = prefix
        for part in err.absolute_path:
            path = f"{path}[{part}]" if isinstance(part, int) else (f"{path}.{part}" if path else str(part))
        field_name = next((p for p in reversed(err.absolute_path) if isinstance(p, str)), "")
        via = [p for p in err.absolute_schema_path]
        why = RELEASE_WHY if ("allOf" in via and 0 in via) else RIGHTS_WHY if ("allOf" in via and 1 in via) else ""
        for f in _explain(err, path, field_name, why):
            if (f.keypath, f.code) not in seen:
                seen.add((f.keypath, f.code))
                out.append(f)
    return out


def _explain(err: Any, path: str, field_name: str, why: str) -> list[_Finding]:
    kind, inst = err.validator, err.instance
    if kind == "required":
        missing = [n for n in err.validator_value if isinstance(inst, dict) and n not in inst]
        suffix = f" ({why})" if why else ""
        return [_Finding(keypath=f"{path}.{n}" if path else n, message=f"missing required field '{n}'{suffix}",
                         code="missing-field") for n in missing]
    if kind == "not" or (kind in ("type", "minLength") and why and (inst is None or inst == "")):
        return [_Finding(keypath=path, message=f"'{field_name}' is empty but {why}", code="missing-field")]
    if kind == "enum":
        allowed = ", ".join("null" if o is None else str(o) for o in err.validator_value if o is not None)
        close = difflib.get_close_matches(str(inst), [str(o) for o in err.validator_value if o], n=1, cutoff=0.6)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        return [_Finding(keypath=path, message=f"'{inst}' is not one of: {allowed}{hint}", code="invalid-value")]
    if kind == "type":
        types = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        want = " or ".join(t for t in types if t != "null") or "null"
        return [_Finding(keypath=path, message=f"expected {want}, found {_kind(inst)} ({inst!r})",
                         code="wrong-type")]
    if kind == "pattern":
        code, text = PATTERN_MESSAGES.get(field_name, ("bad-value", f"does not match {err.validator_value}"))
        return [_Finding(keypath=path, message=f"'{inst}' {text}", code=code)]
    if kind == "minLength":
        return [_Finding(keypath=path, message=f"'{field_name}' is empty", code="empty-value")]
    if kind == "minItems":
        return [_Finding(keypath=path, message=f"'{field_name}' needs at least one item"
                         + (f" ({why})" if why else ""), code="missing-field")]
    if kind == "minimum":
        return [_Finding(keypath=path, message=f"'{field_name}' must be {err.validator_value} or more",
                         code="bad-value")]
    return [_Finding(keypath=path, message=err.message, code="bad-value")]
