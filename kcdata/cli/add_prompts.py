"""Collecting a new entry for ``kcdata inventory add``: from ENTRY.yaml, flags and terminal prompts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from kcdata.cli.app import App
from kcdata.errors import InputError

FORMAT_ORDER = ("id", "title", "description", "keywords", "theme", "contact", "access_level", "classification",
                "contains_pii", "rights", "license", "accrual_periodicity", "source_system", "methodology", "data",
                "schema", "row_identifier", "kcstat_goals", "value", "requests", "status", "target_release",
                "portal_id", "last_reviewed")
FLAG_FIELDS = {"id_": "id", "title": "title", "description": "description", "contact_name": "contact.name",
               "contact_email": "contact.email", "access_level": "access_level",
               "classification": "classification", "contains_pii": "contains_pii", "rights": "rights",
               "keywords": "keywords", "theme": "theme", "license_": "license",
               "accrual_periodicity": "accrual_periodicity", "source_system": "source_system",
               "methodology": "methodology", "data": "data", "schema": "schema",
               "row_identifier": "row_identifier", "goals": "kcstat_goals", "value": "value",
               "requests": "requests", "status": "status", "target_release": "target_release"}


def _read_entry_file(path: Path) -> dict[str, Any]:
    from kcdata.inventory.yamlpos import load_located

    doc = load_located(path.read_bytes(), path=str(path))  # YamlProblem is an InputError (exit 3)
    value = doc.value
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        raise InputError(f"{path}: expected one dataset entry (a mapping of fields)",
                         hint="Write the entry as `id: ...`, `title: ...` lines, as in a department file.")
    return dict(value)


def _departments(root: Path, themes: set[str] | None = None) -> dict[str, Mapping[str, Any]]:
    """Department headers by file stem; ``themes`` collects the themes the inventory already uses."""
    from kcdata.inventory.load import inventory_files
    from kcdata.inventory.yamlpos import YamlProblem, load_located

    out: dict[str, Mapping[str, Any]] = {}
    for path in inventory_files(root):
        try:
            data = load_located(path.read_bytes(), path=path.name, positions=False).value
        except (OSError, YamlProblem):
            continue
        dep = data.get("department") if isinstance(data, dict) else None
        out[path.stem] = dep if isinstance(dep, dict) else {}
        entries = data.get("datasets") if isinstance(data, dict) else None
        if themes is not None and isinstance(entries, list):
            themes.update(str(e["theme"]) for e in entries if isinstance(e, dict) and e.get("theme"))
    return out


def _ask(app: App, label: str, *, default: Any = None, check: Any) -> Any:
    """Prompt until ``check(text)`` accepts the answer; returns its value."""
    shown = "" if default is None else ("yes" if default is True else "no" if default is False else str(default))
    while True:
        text = click.prompt(label, default=shown, show_default=bool(shown), err=True)
        try:
            return check(text)
        except ValueError as exc:
            app.err.print(f"  {exc.args[0]}", style="red")


def collect_entry(app: App, *, root: Path, department: str | None, from_file: Path | None, flags: Mapping[str, Any],
                  interactive: bool) -> tuple[dict[str, Any], str, dict[str, Any] | None]:
    """The entry to add, its department id, and a department header when the file is new."""
    from kcdata.inventory.entry import FIELDS, field_problem, get_field, parse_value, set_field, slugify
    from kcdata.inventory.lint import _existing_id, goal_ids

    entry: dict[str, Any] = _read_entry_file(from_file) if from_file else {}
    if department is None and isinstance(entry.get("department"), str):
        department = entry.pop("department")
    for flag, name in FLAG_FIELDS.items():
        value = flags.get(flag)
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, dt.datetime):
            value = value.date()
        set_field(entry, name, value)
    try:
        from kcdata.config import load_settings

        goals = goal_ids(load_settings(root))
    except InputError:
        goals = None
    themes: set[str] = set()
    deps = _departments(root, themes)
    if department is None:
        if not interactive:
            raise InputError("--department is required", hint="Pass --department D (the file inventory/D.yaml).")
        app.err.print(f"departments: {', '.join(sorted(deps)) or '(none yet)'}")

        def check_dep(text: str) -> str:
            import re

            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", text.strip()):
                raise ValueError("a department id is a lowercase slug, e.g. water or public-works")
            return text.strip()

        department = _ask(app, "Department id", check=check_dep)
    assert department is not None
    header: dict[str, Any] | None = None
    if department not in deps:
        header = {"id": department, "name": department.replace("-", " ").title()}
        if interactive:
            app.err.print(f"inventory/{department}.yaml is new: it will be created")
            header["name"] = _ask(app, "Department name", default=header["name"],
                                  check=lambda t: t.strip() or _raise("the name is required"))
            header["liaison"] = _ask_liaison(app)
    liaison = deps.get(department, {}).get("liaison") if department in deps else None
    if not interactive:
        entry.setdefault("status", "inventoried")
        return _ordered(entry), department, header

    for spec in FIELDS:
        if get_field(entry, spec.name) is not None or not spec.ask(entry):
            continue
        default = spec.default
        if spec.name == "id" and entry.get("title"):
            default = slugify(str(entry["title"]))
        if spec.name in ("contact.name", "contact.email") and isinstance(liaison, dict):
            default = liaison.get(spec.name.split(".")[1]) or default
        label = spec.label + (f" ({', '.join(spec.choices)})" if spec.choices else "")
        if spec.name == "kcstat_goals" and goals:
            label += f" [known: {', '.join(goals)}]"
        if spec.name == "theme" and themes:
            label += f" [in use: {', '.join(sorted(themes))}]"

        def check(text: str, spec: Any = spec) -> Any:
            value = parse_value(spec, text)
            if spec.name == "theme" and isinstance(value, str):
                value = next((t for t in themes if t.lower() == value.lower()), value)
            problem = field_problem(spec.name, value, entry=entry, goals=goals)
            if problem:
                raise ValueError(problem)
            if spec.name == "id" and value:
                where = _existing_id(root, value)
                if where:
                    raise ValueError(f"id '{value}' is already used in {where}: choose another")
            return value

        set_field(entry, spec.name, _ask(app, label, default=default, check=check))
    _fix_remaining(app, entry, root=root, department=department, goals=goals)
    return _ordered(entry), department, header


def _fix_remaining(app: App, entry: dict[str, Any], *, root: Path, department: str,
                   goals: tuple[str, ...] | None) -> None:
    """Ask again for fields that only the whole-entry check rejects (e.g. a data path that does not
    exist), so a liaison never loses the answers already typed."""
    from kcdata.inventory.entry import get_field, parse_value, set_field, spec_for
    from kcdata.inventory.lint import lint_entry

    for _ in range(5):
        problems = [p for p in lint_entry(entry, root=root, department_id=department) if p.severity.value == "error"]
        fixable = [(p, spec) for p in problems if (spec := spec_for(p.keypath)) is not None]
        if not fixable:
            return
        for problem, spec in fixable:
            app.err.print(f"  {problem.keypath}: {problem.message}", style="red")
            set_field(entry, spec.name, _ask(app, spec.label, default=get_field(entry, spec.name),
                                             check=lambda text, spec=spec: parse_value(spec, text)))


def _ask_liaison(app: App) -> dict[str, str]:
    """The new department's open-data liaison (the ordinance names one per department)."""
    import re

    def check_email(text: str) -> str:
        if text.strip() and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text.strip()):
            raise ValueError(f"'{text.strip()}' is not an email address")
        return text.strip()

    app.err.print("every department names an open-data liaison")
    name = _ask(app, "Liaison name (a person or role)", check=lambda t: t.strip() or _raise("the name is required"))
    email = _ask(app, "Liaison email", check=check_email)
    return {"name": name, "email": email} if email else {"name": name}


def _raise(message: str) -> Any:
    raise ValueError(message)


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    """Fields in the format page's order (extension fields last), empty contact removed."""
    if entry.get("contact") == {}:
        entry.pop("contact")
    out = {k: entry[k] for k in FORMAT_ORDER if k in entry}
    out.update({k: v for k, v in entry.items() if k not in out})
    return out
