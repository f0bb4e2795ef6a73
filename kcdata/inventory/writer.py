"""Byte-preserving edits of department files: append a dataset, update fields, append history.

Liaisons hand-edit these files, so kcdata never re-serialises one: it finds the place to edit with
the positional loader (:mod:`kcdata.inventory.yamlpos`), splices new text in, and leaves every other
byte alone (comments, key order, quoting, blank lines, line endings). Each edit runs under an
exclusive lock on a sidecar file, re-reads the file under that lock, re-parses the result to check
that it is valid YAML and that exactly the intended change happened, and writes atomically.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kcdata.config import INVENTORY_DIR, STATE_DIR
from kcdata.errors import InputError, NotFoundError
from kcdata.fileio import atomic_write_bytes, exclusive_lock
from kcdata.inventory.yamlpos import Located, YamlProblem, join_path, load_located
from kcdata.inventory.yamlrender import (
    _content_end,
    _dash_column,
    _flow,
    _header_lines,
    _is_scalar,
    _line_end,
    _new_file_text,
    _newline,
    _normalise,
    _plain,
    _render_item,
    _scalar,
    _Text,
)

LOCK_NAME = "inventory.lock"
HISTORY_KEYS = ("who", "when", "from", "to", "note")
DATE_FIELDS = frozenset({"last_reviewed", "target_release"})


class DuplicateIdError(InputError):
    """The dataset id is already used somewhere in the inventory (exit 3)."""

    code = "duplicate-id"


# -- locking -------------------------------------------------------------------------------------

@contextlib.contextmanager
def inventory_lock(root: Path) -> Iterator[None]:
    """Hold the inventory-wide exclusive lock (a sidecar file under ``.kcdata/``).

    One lock for the whole inventory, not per file, because the duplicate-id check of an append
    reads every file and must not race with an append to another file.
    """
    with exclusive_lock(Path(root) / STATE_DIR / LOCK_NAME):
        yield


# -- public API ----------------------------------------------------------------------------------

def append_dataset(*, root: Path, department_id: str, entry: Mapping[str, Any],
                   department: Mapping[str, Any] | None = None) -> Path:
    """Append ``entry`` at the end of ``inventory/<department_id>.yaml``'s ``datasets`` list.

    The file is created with a ``department:`` header (``department`` or a minimal one) when it
    does not exist. Every existing byte outside the new entry is preserved. Raises
    :class:`DuplicateIdError` when the id is used in any inventory file, :class:`InputError` when
    the file cannot be edited safely. Returns the path written.
    """
    root = Path(root)
    dataset_id = entry.get("id")
    if not isinstance(dataset_id, str) or not dataset_id:
        raise InputError("the new entry has no `id`", hint="Give the dataset a lowercase slug id.")
    path = root / INVENTORY_DIR / f"{department_id}.yaml"
    header = dict(department or {"id": department_id, "name": department_id})
    header.setdefault("id", department_id)
    with inventory_lock(root):
        where = _find_id(root, dataset_id)
        if where is not None:
            raise DuplicateIdError(f"dataset id '{dataset_id}' is already used in {where}",
                                   hint="Ids are unique city-wide and never reused: choose another id.")
        if path.exists():
            raw = path.read_bytes()
            new_raw = _append_to_text(raw, entry, relpath=_rel(path, root), header=header)
        else:
            new_raw = _new_file_text(header, entry).encode("utf-8")
            _check_new_file(new_raw, header, entry, relpath=_rel(path, root))
        atomic_write_bytes(path, new_raw)
    return path


def update_dataset(*, root: Path, dataset_id: str, set_fields: Mapping[str, Any] | None = None,
                   append_history: Mapping[str, Any] | None = None, unset_fields: tuple[str, ...] = ()) -> Path:
    """Set top-level keys of one dataset entry and/or append a record to its ``history``.

    ``set_fields`` values are scalars or small mappings/lists (written in flow style); a present
    key has just its value's bytes replaced, an absent key is added at the end of the entry.
    ``append_history`` is a record with keys ``who``, ``when`` (ISO 8601 UTC; now when omitted),
    ``from``, ``to``, ``note``. ``unset_fields``: top-level keys to remove (their lines go; absent keys
    are ignored). Every other byte of the file is unchanged. Returns the path written.
    """
    root = Path(root)
    set_fields = {k: _as_date(k, v) for k, v in (set_fields or {}).items()}
    if {"id", "history"} & (set(set_fields) | set(unset_fields)):
        raise InputError("update_dataset cannot set `id` or `history` directly",
                         hint="Ids never change; use append_history= for history records.")
    record = _history_record(append_history) if append_history is not None else None
    with inventory_lock(root):
        found = _locate(root, dataset_id)
        if found is None:
            raise NotFoundError(f"unknown dataset id '{dataset_id}'",
                                hint="run `kcdata inventory list` to see the dataset ids")
        path, index = found
        relpath = _rel(path, root)
        raw = path.read_bytes()
        text = _Text.decode(raw, relpath)
        doc = text.parse()
        expected = copy.deepcopy(doc.value)
        entry_expected = expected["datasets"][index]
        for key, value in set_fields.items():
            text.body = _set_key(text.body, text.parse(), index, key, value, relpath)
            entry_expected[key] = _normalise(value)
        for key in unset_fields:
            text.body = _remove_key(text.body, text.parse(), index, key, relpath)
            entry_expected.pop(key, None)
        if record is not None:
            text.body = _add_history(text.body, text.parse(), index, record, relpath)
            history = entry_expected.get("history") or []
            entry_expected["history"] = [*history, _normalise(record)]
        new_raw = text.encode()
        _verify(new_raw, expected, relpath)
        atomic_write_bytes(path, new_raw)
    return path


# -- append --------------------------------------------------------------------------------------

def _append_to_text(raw: bytes, entry: Mapping[str, Any], *, relpath: str,
                    header: Mapping[str, Any] | None = None) -> bytes:
    text = _Text.decode(raw, relpath)
    doc = text.parse()
    data = doc.value
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{relpath}: expected a mapping with `department:` and `datasets:` at the top",
                         hint="Fix the file (kcdata inventory lint) before adding to it.")
    nl = text.newline
    body = text.body
    datasets = data.get("datasets")
    if datasets and isinstance(datasets, list) and body[doc.value_pos["datasets"].start] != "[":
        last = len(datasets) - 1
        start = doc.value_pos[f"datasets[{last}]"].start
        try:
            dash_col = _dash_column(body, start)
        except ValueError:
            raise InputError(f"{relpath}: cannot find the list item of datasets[{last}]") from None
        if not isinstance(datasets[last], dict) or body[start] == "{":
            content_col = dash_col + 2
        else:
            content_col = doc.value_pos[f"datasets[{last}]"].col - 1
        at = _line_end(body, _content_end(body, doc, f"datasets[{last}]", datasets[last]) - 1)
        item = _render_item(entry, dash_col=dash_col, content_col=content_col)
        text.body = body[:at] + nl + nl.join(item) + body[at:]
    elif "datasets" in data and datasets in (None, []):
        key = doc.key_pos["datasets"]
        colon = body.index(":", key.end)
        if datasets == []:
            vpos = doc.value_pos["datasets"]
            body = body[:colon + 1] + body[vpos.end:]
        at = _line_end(body, colon)
        item = _render_item(entry, dash_col=2, content_col=4)
        text.body = body[:at] + nl + nl.join(item) + body[at:]
    elif "datasets" in data:
        raise InputError(f"{relpath}: `datasets` must be a block list (one `- id:` item per dataset) "
                         "for kcdata to append to it",
                         hint="Rewrite `datasets:` in block style, then retry.")
    else:
        sep = "" if not body or body.endswith("\n") else nl
        item = _render_item(entry, dash_col=2, content_col=4)
        lines = ["", "datasets:", *item]
        if "department" not in data and header is not None:  # an empty (or comments-only) file
            lines = _header_lines(header) + lines
            data = {"department": _normalise(header), **data}
        elif not body:
            lines = lines[1:]
        text.body = body + sep + nl.join(lines) + nl
    new_raw = text.encode()
    expected = dict(data)
    expected["datasets"] = [*(datasets or []), _normalise(entry)]
    _verify(new_raw, expected, relpath)
    return new_raw


def _check_new_file(raw: bytes, header: Mapping[str, Any], entry: Mapping[str, Any], *, relpath: str) -> None:
    _verify(raw, {"department": _normalise(header), "datasets": [_normalise(entry)]}, relpath)


def _verify(raw: bytes, expected: Any, relpath: str) -> None:
    """Refuse to write unless the new bytes parse to exactly the intended document."""
    try:
        got = load_located(raw.lstrip(b"\xef\xbb\xbf") if raw.startswith(b"\xef\xbb\xbf") else raw,
                           path=relpath).value
    except YamlProblem as exc:
        raise InputError(f"{relpath}: the edit would make the file invalid YAML ({exc.problem}); nothing written",
                         hint="Please report this; edit the file by hand meanwhile.") from exc
    if got != expected:
        raise InputError(f"{relpath}: the edit did not read back as intended; nothing written",
                         hint="Please report this; edit the file by hand meanwhile.")


# -- update --------------------------------------------------------------------------------------

def _entry_parts(body: str, doc: Located, index: int, relpath: str) -> tuple[str, dict[str, Any]]:
    keypath = f"datasets[{index}]"
    entry = doc.value["datasets"][index]
    if not isinstance(entry, dict) or body[doc.value_pos[keypath].start] == "{":
        raise InputError(f"{relpath} {keypath}: the entry must be a block mapping for kcdata to edit it",
                         hint="Write the entry with one `key: value` per line, then retry.")
    return keypath, entry


def _value_text(key: str, value: Any) -> str:
    """The text of a value to put after ``key:`` (always one line)."""
    value = _plain(value)
    if _is_scalar(value):
        return _scalar(value)
    flow = _flow(value)
    if flow is None:
        raise InputError(f"cannot write a value for `{key}` in one line",
                         hint="Pass a scalar or a small mapping/list of scalars.")
    return flow


def _set_key(body: str, doc: Located, index: int, key: str, value: Any, relpath: str) -> str:
    keypath, entry = _entry_parts(body, doc, index, relpath)
    new = _value_text(key, value)
    child = join_path(keypath, key)
    if key in entry:
        vpos = doc.value_pos[child]
        kpos = doc.key_pos[child]
        colon = body.index(":", kpos.end)
        old = entry[key]
        if vpos.end <= vpos.start or (old is None and vpos.start > _line_end(body, colon)):
            # an empty value (`key:` and nothing): put the value right after the colon
            return body[:colon + 1] + " " + new + body[colon + 1:]
        end = _content_end(body, doc, child, old)
        start = vpos.start
        if isinstance(old, dict | list) and old and body[start] not in "[{":
            start = colon + 1  # a block collection becomes a one-line flow value after the key
            new = " " + new
        return body[:start] + new + body[end:]
    col = doc.value_pos[keypath].col - 1
    at = _line_end(body, _content_end(body, doc, keypath, entry) - 1)
    return body[:at] + _newline(body) + " " * col + f"{_scalar(key)}: {new}" + body[at:]


def _remove_key(body: str, doc: Located, index: int, key: str, relpath: str) -> str:
    """``body`` without the line(s) of ``key`` in entry ``index`` (unchanged when the key is absent)."""
    keypath, entry = _entry_parts(body, doc, index, relpath)
    if key not in entry:
        return body
    child = join_path(keypath, key)
    kpos = doc.key_pos[child]
    line_start = body.rfind("\n", 0, kpos.start)
    if line_start < 0 or body[line_start + 1:kpos.start].strip():
        raise InputError(f"{relpath} {child}: `{key}` starts the entry's first line; it cannot be removed",
                         hint="edit the file by hand, or move another key first")
    end = _line_end(body, max(kpos.end, _content_end(body, doc, child, entry[key])) - 1)
    if line_start > 0 and body[line_start - 1] == "\r":
        line_start -= 1
    return body[:line_start] + body[end:]


def _add_history(body: str, doc: Located, index: int, record: Mapping[str, Any], relpath: str) -> str:
    keypath, entry = _entry_parts(body, doc, index, relpath)
    nl = _newline(body)
    note = record.get("note")
    multiline = isinstance(note, str) and "\n" in note
    flow = None if multiline else _flow(_plain(dict(record)))
    if flow is None and not multiline:
        raise InputError("the history record cannot be written")
    history = entry.get("history")

    def item(dash_col: int) -> str:
        """The record after ``- ``: flow style on one line, or a block mapping with the note as ``|-``."""
        return flow if flow is not None else _block_record(record, dash_col + 2, nl)

    child = join_path(keypath, "history")
    col = doc.value_pos[keypath].col - 1
    if "history" not in entry:
        at = _line_end(body, _content_end(body, doc, keypath, entry) - 1)
        return body[:at] + nl + " " * col + "history:" + nl + " " * (col + 2) + "- " + item(col + 2) + body[at:]
    if not isinstance(history, list | type(None)):
        raise InputError(f"{relpath} {child}: `history` must be a list to append to it")
    vpos = doc.value_pos[child]
    colon = body.index(":", doc.key_pos[child].end)
    if not history:
        if history == [] and vpos.end > vpos.start:
            body = body[:colon + 1] + body[vpos.end:]
        at = _line_end(body, colon)
        return body[:at] + nl + " " * (col + 2) + "- " + item(col + 2) + body[at:]
    if body[vpos.start] == "[":
        if flow is None:
            raise InputError(f"{relpath} {child}: a multi-line note cannot go into a one-line `history: [...]`",
                             hint="write `history:` as a block list (one `- {...}` per line), then retry")
        close = _content_end(body, doc, child, history) - 1  # the `]`
        return body[:close] + ", " + flow + body[close:]
    last = f"{child}[{len(history) - 1}]"
    dash_col = _dash_column(body, doc.value_pos[last].start)
    at = _line_end(body, _content_end(body, doc, child, history) - 1)
    return body[:at] + nl + " " * dash_col + "- " + item(dash_col) + body[at:]


def _block_record(record: Mapping[str, Any], col: int, nl: str) -> str:
    """A history record as a block mapping whose keys sit at column ``col``; a multi-line note is a
    literal block scalar (``note: |-``) so it reads in the file as it was typed."""
    pad = " " * col
    lines = []
    for key, value in record.items():
        if isinstance(value, str) and "\n" in value:
            lines.append(f"{pad}{key}: |-")
            text = value.replace("\r\n", "\n")
            lines.extend(f"{pad}  {ln}".rstrip() if ln.strip() else "" for ln in text.split("\n"))
        else:
            lines.append(f"{pad}{_scalar(key)}: {_scalar(_plain(value))}")
    return nl.join(lines)[col:]


def _as_date(key: str, value: Any) -> Any:
    """ISO date text for a date field is written as a YAML date (unquoted), like hand-written files."""
    if key in DATE_FIELDS and isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _history_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(raw) - set(HISTORY_KEYS)
    if unknown:
        raise InputError(f"unknown history key(s): {', '.join(sorted(unknown))}",
                         hint=f"A history record has the keys {', '.join(HISTORY_KEYS)}.")
    when = raw.get("when")
    if when is None:
        when = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    elif isinstance(when, dt.datetime):
        when = when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"who": raw.get("who"), "when": str(when), "from": _plain(raw.get("from")),
            "to": _plain(raw.get("to")), "note": raw.get("note")}


# -- finding entries -----------------------------------------------------------------------------

def _inventory_paths(root: Path) -> list[Path]:
    folder = Path(root) / INVENTORY_DIR
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def _ids_in(path: Path, root: Path) -> list[Any] | None:
    try:
        doc = load_located(path.read_bytes(), path=_rel(path, root), positions=False)
    except (OSError, YamlProblem):
        return None  # an unreadable file is lint's business; it cannot hold a usable id anyway
    data = doc.value
    if not isinstance(data, dict) or not isinstance(data.get("datasets"), list):
        return []
    return [e.get("id") if isinstance(e, dict) else None for e in data["datasets"]]


def _find_id(root: Path, dataset_id: str) -> str | None:
    for path in _inventory_paths(root):
        ids = _ids_in(path, root)
        if ids and dataset_id in ids:
            return f"{_rel(path, root)} datasets[{ids.index(dataset_id)}]"
    return None


def _locate(root: Path, dataset_id: str) -> tuple[Path, int] | None:
    for path in _inventory_paths(root):
        ids = _ids_in(path, root)
        if ids and dataset_id in ids:
            return path, ids.index(dataset_id)
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()
