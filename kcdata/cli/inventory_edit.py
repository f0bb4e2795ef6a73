"""``kcdata inventory set | unset | edit``: change an entry's fields without hand-editing YAML.

Every change goes through the byte-preserving writer (comments, order and quoting stay), is checked
like ``inventory add`` before anything is written, and never touches ``status`` or ``history``:
those belong to ``kcdata review``, which records who, when and why.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import click

from kcdata.cli.app import App, json_option, pass_app
from kcdata.jsonable import to_jsonable

REVIEW_ONLY = ("status", "history")


def refuse_review_fields(entry: Mapping[str, Any], *, allow_status: tuple[str, ...] = ()) -> None:
    """``status`` (beyond ``allow_status``) and ``history`` belong to ``kcdata review``: exit 3."""
    from kcdata.errors import InputError

    if "history" in entry:
        raise InputError("`history` is written only by `kcdata review`, nothing written",
                         hint="remove `history` from the entry; review commands record each step",
                         code="invalid-entry")
    status = entry.get("status")
    if status is not None and (not allow_status or status not in allow_status):
        allowed = f" (a new entry is {' or '.join(allow_status)})" if allow_status else ""
        raise InputError(f"status `{status}` is set only by `kcdata review`{allowed}, nothing written",
                         hint="use `kcdata review propose|submit|approve …`, which records who, when and why",
                         code="invalid-entry")


def _current(app: App, dataset_id: str) -> tuple[dict[str, Any], str]:
    """The entry as written in its file (a plain mapping) and its department id."""
    from kcdata.inventory.load import parse_file

    ds = app.program.dataset(dataset_id)  # unknown id: did-you-mean, exit 3
    assert ds.source is not None
    pf = parse_file(app.root / ds.source.file, app.root)
    entries = pf.doc.value.get("datasets") if pf.doc is not None and isinstance(pf.doc.value, dict) else None
    entry = entries[ds.source.index] if isinstance(entries, list) else None
    if not isinstance(entry, dict) or entry.get("id") != dataset_id:
        from kcdata.errors import InputError

        raise InputError(f"{ds.source.file}: cannot find the entry '{dataset_id}'", hint="run kcdata inventory lint")
    return dict(entry), ds.department


def _parse_assignments(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs → field values, parsed as ``inventory add`` parses its answers."""
    from kcdata.inventory.entry import FIELDS, FieldSpec, parse_value

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.UsageError(f"'{pair}' is not key=value (e.g. theme=Infrastructure)")
        if key in REVIEW_ONLY or key == "id":
            _refuse_key(key)
        if not text.strip():
            raise click.UsageError(f"{key}= has no value: use `kcdata inventory unset ID {key}` to remove it")
        spec = next((f for f in FIELDS if f.name == key), None)
        if key == "kcstat_goals" or key == "keywords":
            spec = spec or FieldSpec(name=key, label=key, kind="list")
        try:
            out[key] = parse_value(spec, text) if spec is not None else _plain_value(key, text)
        except ValueError as exc:
            raise click.BadParameter(f"{key}: {exc.args[0]}", param_hint="KEY=VALUE") from None
    return out


def _plain_value(key: str, text: str) -> Any:
    """A value for a field without a prompt spec: ``true``/``false``, whole numbers, else text."""
    low = text.strip().lower()
    if key == "contains_pii" and low in ("true", "false", "yes", "no"):
        return low in ("true", "yes")
    if low in ("null", "~"):
        raise ValueError("use `kcdata inventory unset` to remove a field")
    return text.strip()


def _refuse_key(key: str) -> None:
    from kcdata.errors import InputError

    if key == "id":
        raise InputError("ids never change: `id` cannot be set or unset",
                         hint="add a new entry with the new id and withhold or retire the old one")
    raise InputError(f"`{key}` belongs to `kcdata review`, which records who, when and why; nothing written",
                     hint="use kcdata review propose|submit|approve|reject|withhold|retire")


def _apply(app: App, dataset_id: str, changes: Mapping[str, Any], removed: tuple[str, ...]) -> None:
    """Check the changed entry like ``inventory add`` does, then write it through the byte-preserving writer."""
    from kcdata.errors import InputError
    from kcdata.inventory.entry import set_field
    from kcdata.inventory.lint import lint_entry
    from kcdata.inventory.writer import update_dataset

    entry, department = _current(app, dataset_id)
    new = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in entry.items()}
    for key, value in changes.items():
        set_field(new, key, value)
    for key in removed:
        new.pop(key, None)

    def errors(e: Mapping[str, Any]) -> set[tuple[str, str]]:
        return {(p.keypath, p.message) for p in lint_entry(e, root=app.root, department_id=department)
                if p.severity.value == "error" and p.code != "duplicate-id"}

    fresh = errors(new) - errors(entry)  # problems this change would bring (old ones are lint's business)
    if fresh:
        lines = "; ".join(f"{kp}: {msg}" for kp, msg in sorted(fresh))
        raise InputError(f"{dataset_id}: the change is not valid, nothing written: {lines}",
                         hint="fix the values named above and run the command again", code="invalid-entry")
    top = {k.split(".", 1)[0] for k in changes}
    path = update_dataset(root=app.root, dataset_id=dataset_id, set_fields={k: new[k] for k in top},
                          unset_fields=tuple(k for k in removed if k in entry))
    rel = path.relative_to(app.root).as_posix() if path.is_relative_to(app.root) else str(path)
    data = {"dataset": dataset_id, "file": rel, "set": to_jsonable({k: new[k] for k in top}),
            "unset": [k for k in removed if k in entry]}

    def render() -> None:
        for k in sorted(top):
            app.out.print(f"{dataset_id}: {k} = {to_jsonable(new[k])}")
        for k in removed:
            app.out.print(f"{dataset_id}: {k} removed" if k in entry else f"{dataset_id}: {k} was not set")
        app.out.print(f"written: {rel}")

    app.finish(data=data, render=render)


@click.command("set")
@click.argument("dataset_id")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@json_option
@pass_app
def set_cmd(app: App, dataset_id: str, assignments: tuple[str, ...], as_json: bool) -> None:
    """Change fields of one dataset entry (checked like `inventory add`; comments and order kept).

    Values are read as the `add` prompts read them: lists comma-separated, word forms for the update
    frequency (weekly) and licence (cc-by), contact.name / contact.email inside `contact`. `status`
    and `history` are refused: they change only through `kcdata review`.

    \b
    Examples:
      kcdata inventory set water-main-breaks theme=Infrastructure accrual_periodicity=weekly
      kcdata inventory set water-main-breaks "keywords=water, pipes" contact.email=water@example.org
    """
    _apply(app, dataset_id, _parse_assignments(assignments), ())


@click.command("unset")
@click.argument("dataset_id")
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@json_option
@pass_app
def unset_cmd(app: App, dataset_id: str, keys: tuple[str, ...], as_json: bool) -> None:
    """Remove fields from one dataset entry (refused when the entry would no longer be valid).

    \b
    Examples:
      kcdata inventory unset water-main-breaks target_release
    """
    for key in keys:
        if key in REVIEW_ONLY or key == "id":
            _refuse_key(key)
        if "." in key:
            raise click.UsageError(f"'{key}': unset a whole field (e.g. contact), or set contact.name=...")
    _apply(app, dataset_id, {}, keys)


@click.command("edit")
@click.argument("dataset_id")
@pass_app
def edit_cmd(app: App, dataset_id: str) -> None:
    """Change a dataset entry field by field on a terminal (Enter keeps a value, '-' removes it).

    \b
    Examples:
      kcdata inventory edit water-main-breaks
    """
    from kcdata.inventory.entry import FIELDS, field_problem, get_field, parse_value

    if not sys.stdin.isatty():
        raise click.UsageError("edit asks field by field on a terminal; in scripts use "
                               "`kcdata inventory set ID key=value`")
    from kcdata.config import load_settings
    from kcdata.errors import InputError
    from kcdata.inventory.lint import goal_ids

    entry, _department = _current(app, dataset_id)
    try:
        goals = goal_ids(load_settings(app.root))
    except InputError:
        goals = None
    changes: dict[str, Any] = {}
    removed: list[str] = []
    app.err.print(f"editing {dataset_id}: Enter keeps the value shown, '-' removes it")
    for spec in FIELDS:
        if spec.name in ("id", "status") or (not spec.ask(entry) and get_field(entry, spec.name) is None):
            continue
        old = get_field(entry, spec.name)
        shown = "" if old is None else ", ".join(map(str, old)) if isinstance(old, list) else \
            ("yes" if old is True else "no" if old is False else str(old))
        label = spec.label + (f" ({', '.join(spec.choices)})" if spec.choices else "")
        while True:
            text = click.prompt(label, default=shown, show_default=bool(shown), err=True)
            if text.strip() == shown.strip():
                break  # kept as it is (lint judges values that were there before)
            if text.strip() == "-" and "." not in spec.name:
                if old is not None:
                    removed.append(spec.name)
                break
            try:
                value = parse_value(spec, text)
                problem = field_problem(spec.name, value, entry=entry, goals=goals) if value is not None else None
            except ValueError as exc:
                problem = exc.args[0]
            if problem:
                app.err.print(f"  {problem}", style="red")
                continue
            if value is not None and value != old:
                changes[spec.name] = value
            break
    if not changes and not removed:
        app.err.print("nothing changed: nothing written")
        return
    _apply(app, dataset_id, changes, tuple(removed))
