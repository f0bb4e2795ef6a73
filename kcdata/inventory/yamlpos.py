"""Safe YAML loading that remembers where every value came from.

Values are built straight from the parser's events (libyaml when available), with PyYAML's safe
resolution rules, and for each key path (``datasets[2].license``) the position of the value and
of its key is recorded (all of them, none, or down to a depth). Aliases are refused: inventory
files never need them, and refusing them makes alias bombs ("billion laughs") impossible by
construction. Merge keys, custom tags and multi-document files are refused too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from kcdata.errors import InputError

# libyaml when PyYAML was built with it (10x faster); marks count characters in both parsers.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_FILE_BYTES = 10 * 1024 * 1024  # a department file is a few hundred KB; 10 MB is a clear mistake


@dataclass(frozen=True, slots=True)
class Pos:
    """A place in a file: 1-based line and column, plus 0-based character offsets of the node."""

    line: int
    col: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Located:
    """A parsed document with the positions of its values (``value_pos``) and keys (``key_pos``)."""

    value: Any
    value_pos: dict[str, Pos]
    key_pos: dict[str, Pos]


class YamlProblem(InputError):
    """A file that cannot be parsed; ``line``/``col`` locate the problem when known."""

    code = "yaml-error"

    def __init__(self, path: str, message: str, *, line: int | None = None, col: int | None = None,
                 hint: str | None = None) -> None:
        where = path if line is None else f"{path}:{line}:{col or 1}"
        super().__init__(f"{where}: {message}", hint=hint,
                         details={"file": path, "line": line, "column": col})
        self.path, self.line, self.col, self.problem = path, line, col, message


def _pos(node: Any) -> Pos:
    start, end = node.start_mark, node.end_mark
    return Pos(start.line + 1, start.column + 1, start.index, end.index)


def join_path(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_SCALAR_TAGS = frozenset({_STR, _NULL, _BOOL, _INT, _FLOAT, _TIMESTAMP})
_COLLECTION_TAGS = frozenset({None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_TRUE = frozenset({"yes", "true", "on"})
_RESOLVERS: dict[Any, list[tuple[str, Any]]] = yaml.SafeLoader.yaml_implicit_resolvers
_ScalarEvent, _MappingStart, _MappingEnd = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.MappingEndEvent
_SequenceStart, _SequenceEnd = yaml.SequenceStartEvent, yaml.SequenceEndEvent
MAX_INT_DIGITS = 4000  # Python refuses to parse more than 4300 digits
MAX_DEPTH = 64  # inventory files nest 4 levels deep; this only stops pathological input


def _resolve_plain(text: str) -> str:
    """The implicit tag of a plain scalar, exactly as PyYAML's SafeLoader resolves it."""
    for tag, regexp in _RESOLVERS.get(text[0] if text else "", []):
        if regexp.match(text):
            return tag
    return _STR


class _Builder:
    """Plain values straight from the parser's events; positions too when ``positions`` is set.

    Building from events (not PyYAML's composed node tree) and converting the common scalar
    tags inline is several times faster on a 10,000-dataset inventory. An alias is refused the
    moment it appears, so alias bombs ("billion laughs") never expand.
    """

    def __init__(self, path: str, *, positions: bool = True, position_depth: int | None = None) -> None:
        self.path = path
        self.positions = positions
        self.position_depth = position_depth
        self.constructor = yaml.SafeLoader("")
        self.value_pos: dict[str, Pos] = {}
        self.key_pos: dict[str, Pos] = {}
        self.next_event: Callable[[], Any] = lambda: None
        self.cache: dict[str, Any] = {}
        self.what = "kcdata.yaml" if path.endswith("kcdata.yaml") else "inventory files"

    def fail(self, event: Any, message: str, hint: str | None = None) -> YamlProblem:
        mark = event.start_mark
        return YamlProblem(self.path, message, line=mark.line + 1, col=mark.column + 1, hint=hint)

    def scalar(self, event: Any) -> Any:
        text, tag = event.value, event.tag
        if tag is None or tag == "!":
            tag = _resolve_plain(text) if event.implicit[0] else _STR
        elif tag not in _SCALAR_TAGS:
            raise self.fail(event, f"the YAML tag {tag} is not allowed in {self.what}",
                            hint="Remove the !tag; write plain values.")
        if tag == _STR:
            return text
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return text.lower() in _TRUE
        if tag == _INT and len(text.lstrip("+-")) > MAX_INT_DIGITS:
            raise self.fail(event, f"a number of {len(text.lstrip('+-'))} digits is too long to read",
                            hint="write a realistic count (or quote it to keep it as text)")
        if tag == _INT and text.isdigit() and (text == "0" or text[0] != "0"):
            return int(text)
        if tag == _TIMESTAMP and len(text) == 10:
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                return text  # looks like a date but is not one (2026-13-45): lint reports a bad date
        node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError):
            if tag == _TIMESTAMP:
                return text
            raise self.fail(event, f"cannot read value '{text}'") from None
        except yaml.constructor.ConstructorError as exc:
            raise self.fail(event, f"cannot read value: {exc.problem}") from exc

    def build(self, event: Any, keypath: str, depth: int = 0) -> Any:
        if isinstance(event, yaml.AliasEvent):
            raise self.fail(event, f"YAML aliases (*name) are not allowed in {self.what}",
                            hint="Write the value out in full instead of using &anchors.")
        if depth > MAX_DEPTH:
            raise self.fail(event, f"values are nested more than {MAX_DEPTH} levels deep")
        if isinstance(event, yaml.ScalarEvent):
            if self.positions:
                self.value_pos[keypath] = _pos(event)
            return self.scalar(event)
        if self.position_depth is not None and depth >= self.position_depth:
            if self.positions:
                self.value_pos[keypath] = _pos(event)  # where it starts; its end is not needed here
            return self.build_fast(event, depth)
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent) and event.tag not in _COLLECTION_TAGS:
            raise self.fail(event, f"the YAML tag {event.tag} is not allowed in {self.what}")
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            while not isinstance(item := self.next_event(), yaml.SequenceEndEvent):
                items.append(self.build(item, f"{keypath}[{len(items)}]", depth + 1))
            self._close(keypath, event, item)
            return items
        if isinstance(event, yaml.MappingStartEvent):
            out: dict[Any, Any] = {}
            while not isinstance(key_event := self.next_event(), yaml.MappingEndEvent):
                self.check_key(key_event)
                key = self.scalar(key_event)
                child = join_path(keypath, key)
                if key in out:
                    first = self.key_pos.get(child)
                    also = f" (first at line {first.line})" if first is not None else ""
                    raise self.fail(key_event, f"duplicate key '{key}'{also}",
                                    hint="Each key may appear once per entry; remove one of them "
                                         "(YAML would silently keep only the last).")
                if self.positions:
                    self.key_pos[child] = _pos(key_event)
                out[key] = self.build(self.next_event(), child, depth + 1)
            self._close(keypath, event, key_event)
            return out
        raise self.fail(event, f"unexpected YAML {type(event).__name__}")

    def check_key(self, key_event: Any) -> None:
        if isinstance(key_event, yaml.AliasEvent):
            raise self.fail(key_event, f"YAML aliases (*name) are not allowed in {self.what}",
                            hint="Write the value out in full instead of using &anchors.")
        if not isinstance(key_event, yaml.ScalarEvent):
            raise self.fail(key_event, "a mapping key must be a plain value")
        if key_event.value == "<<" and key_event.implicit[0]:
            raise self.fail(key_event, f"YAML merge keys (<<) are not allowed in {self.what}")

    def build_fast(self, event: Any, depth: int = 0) -> Any:
        """``build`` without positions or keypaths: the hot path of lint on large inventories."""
        cls = type(event)
        if cls is _ScalarEvent:
            return self.plain(event)
        if depth > MAX_DEPTH:
            raise self.fail(event, f"values are nested more than {MAX_DEPTH} levels deep")
        if cls is _MappingStart and event.tag in _COLLECTION_TAGS:
            out: dict[Any, Any] = {}
            next_event = self.next_event
            while (key_event := next_event()).__class__ is not _MappingEnd:
                if key_event.__class__ is not _ScalarEvent or (key_event.value == "<<" and key_event.implicit[0]):
                    self.check_key(key_event)
                key = self.plain(key_event)
                if key in out:
                    raise self.fail(key_event, f"duplicate key '{key}'",
                                    hint="Each key may appear once per entry; remove one of them "
                                         "(YAML would silently keep only the last).")
                value_event = next_event()
                out[key] = self.plain(value_event) if value_event.__class__ is _ScalarEvent else \
                    self.build_fast(value_event, depth + 1)
            return out
        if cls is _SequenceStart and event.tag in _COLLECTION_TAGS:
            items: list[Any] = []
            next_event = self.next_event
            while (item := next_event()).__class__ is not _SequenceEnd:
                items.append(self.plain(item) if item.__class__ is _ScalarEvent else self.build_fast(item, depth + 1))
            return items
        return self.build(event, "")  # aliases, tags: the slow path raises the worded error

    def plain(self, event: Any) -> Any:
        """A scalar's value, memoised for the short plain texts that repeat (keys, enums, booleans)."""
        if event.tag is None and event.implicit[0] and len(event.value) <= 40:
            text = event.value
            try:
                return self.cache[text]
            except KeyError:
                value = self.scalar(event)
                if isinstance(value, str | bool | int | float | dt.date) or value is None:
                    self.cache[text] = value
                return value
        return self.scalar(event)

    def _close(self, keypath: str, start: Any, end: Any) -> None:
        if self.positions:
            m = start.start_mark
            self.value_pos[keypath] = Pos(m.line + 1, m.column + 1, m.index, end.end_mark.index)


def _document(next_event: Callable[[], Any], builder: _Builder) -> Any:
    """The single document of a stream (None when the stream holds no document)."""
    builder.next_event = next_event
    next_event()  # StreamStart
    event = next_event()
    if isinstance(event, yaml.StreamEndEvent):
        return None
    first = next_event()
    value = builder.build(first, "") if builder.positions else builder.build_fast(first)
    next_event()  # DocumentEnd
    event = next_event()
    if not isinstance(event, yaml.StreamEndEvent):
        raise builder.fail(event, "malformed YAML: the file holds more than one document (---)",
                           hint="Keep one document per department file.")
    return value


def load_located(data: bytes, *, path: str, positions: bool = True, position_depth: int | None = None) -> Located:
    """Parse one YAML document from raw bytes, with positions. Raises :class:`YamlProblem`.

    ``positions=False`` skips recording positions (``value_pos``/``key_pos`` stay empty): lint
    parses everything that way and re-parses only the files it has something to say about.
    ``position_depth=2`` records positions down to ``datasets[i]`` only (the entries' lines),
    which keeps loading a 10,000-dataset inventory fast and small.
    """
    if len(data) > MAX_FILE_BYTES:
        line = data.count(b"\n", 0, MAX_FILE_BYTES) + 1
        col = MAX_FILE_BYTES - (data.rfind(b"\n", 0, MAX_FILE_BYTES) + 1) + 1
        raise YamlProblem(path, f"file is {len(data) / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit "
                                "for an inventory file (reached here)", line=line, col=col,
                          hint="Is this the right file? A department's inventory file lists its datasets' "
                               "metadata (a few hundred KB at most): check that no data was pasted into it.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line=line, col=col,
                          hint="Save the file as UTF-8 in your editor.") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    builder = _Builder(path, positions=positions, position_depth=position_depth)
    try:
        loader = _LOADER(text)
        try:
            value = _document(loader.get_event, builder)
        finally:
            loader.dispose()
    except RecursionError:
        raise YamlProblem(path, "values are nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        hint = "Fix the YAML syntax; indent with spaces."
        lines = text.splitlines()
        if "'\\t'" in problem or (mark is not None and mark.line < len(lines) and "\t" in lines[mark.line]):
            hint = "YAML does not allow tabs for indentation: replace them with spaces."
        raise YamlProblem(path, f"malformed YAML: {problem}", line=mark.line + 1 if mark else None,
                          col=mark.column + 1 if mark else None, hint=hint) from exc
    return Located(value, builder.value_pos, builder.key_pos)
