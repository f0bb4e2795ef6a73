"""Text and rendering helpers of the inventory writer: locating an entry's text, rendering YAML the way
people write it (moved whole from ``writer.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from kcdata.errors import InputError
from kcdata.inventory.yamlpos import Located, join_path, load_located

_WIDE = 1 << 30  # never let PyYAML fold a line


# -- text handling -------------------------------------------------------------------------------

@dataclass
class _Text:
    """A file's text with the BOM split off (yamlpos offsets are relative to the body)."""

    bom: str
    body: str
    relpath: str

    @classmethod
    def decode(cls, raw: bytes, relpath: str) -> _Text:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{relpath}: not valid UTF-8", hint="Save the file as UTF-8 first.") from exc
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        return cls(bom=bom, body=text[len(bom):], relpath=relpath)

    def parse(self) -> Located:
        return load_located(self.body.encode("utf-8"), path=self.relpath)

    def encode(self) -> bytes:
        return (self.bom + self.body).encode("utf-8")

    @property
    def newline(self) -> str:
        return _newline(self.body)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _line_start(text: str, i: int) -> int:
    return text.rfind("\n", 0, i) + 1


def _line_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    if j < 0:
        return len(text)
    return j - 1 if j > 0 and text[j - 1] == "\r" else j


def _content_end(text: str, doc: Located, keypath: str, value: Any) -> int:
    """Offset just past the last meaningful character of a value.

    PyYAML's block collections end at the *next* token (after trailing comments and blank
    lines), so their end is taken from their last child instead.
    """
    pos = doc.value_pos[keypath]
    if isinstance(value, dict | list) and value and text[pos.start] not in "[{":
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return max(_content_end(text, doc, join_path(keypath, k), v) for k, v in items)
    end = pos.end
    while end > pos.start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _dash_column(text: str, start: int) -> int:
    """Column of the ``-`` that introduces the block sequence item starting at ``start``."""
    j = start - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    if j < 0 or text[j] != "-":
        raise ValueError("not a block sequence item")
    return j - _line_start(text, j)


# -- rendering -----------------------------------------------------------------------------------

def _scalar(value: Any) -> str:
    if isinstance(value, str) and (not value or any(c in value for c in "\n\r\t")):
        return _json_string(value)
    out = yaml.safe_dump(value, default_flow_style=True, width=_WIDE, allow_unicode=True)
    if out.endswith("\n...\n"):
        out = out[:-5]
    out = out.rstrip("\n")
    if "\n" in out:
        return _json_string(str(value))
    return out


def _json_string(value: str) -> str:
    import json

    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def _flow(value: Any) -> str | None:
    """One-line flow style for a small list/mapping of scalars, or None when that is not possible."""
    if not value:
        return "[]" if isinstance(value, list) else "{}"
    out = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=_WIDE,
                         allow_unicode=True).rstrip("\n")
    return None if "\n" in out else out


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | dt.date)


def _render_pair(key: str, value: Any) -> list[str]:
    """Lines (indent 0) for ``key: value``; small collections in flow style, like the sample files."""
    k = _scalar(key)
    if _is_scalar(value):
        return [f"{k}: {_scalar(value)}"]
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        lines = [f"{k}:"]
        for item in value:
            flow = _flow(dict(item)) if all(_is_scalar(v) for v in item.values()) else None
            if flow is not None:
                lines.append(f"  - {flow}")
            else:
                lines.extend("  " + ln for ln in _block([dict(item)]))
        return lines
    if isinstance(value, list | dict) and all(_is_scalar(v) for v in (value if isinstance(value, list)
                                                                         else value.values())):
        flow = _flow(value)
        if flow is not None:
            return [f"{k}: {flow}"]
    return [f"{k}:", *("  " + ln for ln in _block(value))]


def _block(value: Any) -> list[str]:
    out = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, width=_WIDE, allow_unicode=True)
    return out.rstrip("\n").split("\n")


def _render_item(entry: Mapping[str, Any], *, dash_col: int, content_col: int) -> list[str]:
    lines: list[str] = []
    for key, value in entry.items():
        lines.extend(_render_pair(str(key), _plain(value)))
    if not lines:
        raise InputError("the new entry is empty")
    first = " " * dash_col + "-" + " " * max(1, content_col - dash_col - 1) + lines[0]
    return [first, *(" " * content_col + ln for ln in lines[1:])]


def _plain(value: Any) -> Any:
    """Mappings/tuples from callers as plain dicts/lists so PyYAML's safe dumper accepts them."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):  # enums
        return value.value
    return value


def _normalise(value: Any) -> Any:
    """What ``value`` reads back as after rendering (the expected parse for verification)."""
    return yaml.safe_load(yaml.safe_dump(_plain(value), allow_unicode=True))


def _header_lines(header: Mapping[str, Any]) -> list[str]:
    lines = ["department:"]
    for key, value in header.items():
        lines.extend("  " + ln for ln in _render_pair(str(key), _plain(value)))
    return lines


def _new_file_text(header: Mapping[str, Any], entry: Mapping[str, Any]) -> str:
    lines = [*_header_lines(header), "", "datasets:", *_render_item(entry, dash_col=2, content_col=4)]
    return "\n".join(lines) + "\n"
