"""Safe YAML loading that remembers where every value came from.

PyYAML's composer gives a node tree with marks; we build plain Python values from it with the
safe constructor and record, for each key path (``datasets[2].license``), the position of the
value and of its key. Aliases are refused: inventory files never need them, and refusing them
makes alias bombs ("billion laughs") impossible by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from kcdata.errors import InputError

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


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1, node.start_mark.index, node.end_mark.index)


def join_path(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


class _Builder:
    def __init__(self, path: str) -> None:
        self.path = path
        self.constructor = yaml.SafeLoader("")
        self.value_pos: dict[str, Pos] = {}
        self.key_pos: dict[str, Pos] = {}
        self.seen: set[int] = set()

    def build(self, node: yaml.Node, keypath: str) -> Any:
        if id(node) in self.seen:
            p = _pos(node)
            raise YamlProblem(self.path, "YAML aliases (*name) are not allowed in inventory files",
                              line=p.line, col=p.col, hint="Write the value out in full instead of using &anchors.")
        self.seen.add(id(node))
        self.value_pos[keypath] = _pos(node)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    p = _pos(key_node)
                    raise YamlProblem(self.path, "YAML merge keys (<<) are not allowed in inventory files",
                                      line=p.line, col=p.col)
                key = self.build(key_node, keypath + ".<key>")
                if not isinstance(key, str | int | float | bool) and key is not None:
                    p = _pos(key_node)
                    raise YamlProblem(self.path, "a mapping key must be a plain value", line=p.line, col=p.col)
                child = join_path(keypath, key)
                if key in out:
                    p = _pos(key_node)
                    raise YamlProblem(self.path, f"duplicate key '{key}'", line=p.line, col=p.col,
                                      hint="Each key may appear once per entry; remove one of them.")
                self.key_pos[child] = _pos(key_node)
                out[key] = self.build(value_node, child)
            self.value_pos.pop(keypath + ".<key>", None)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, join_path(keypath, i)) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            p = _pos(node)
            raise YamlProblem(self.path, f"cannot read value: {exc.problem}", line=p.line, col=p.col) from exc


def load_located(data: bytes, *, path: str) -> Located:
    """Parse one YAML document from raw bytes, with positions. Raises :class:`YamlProblem`."""
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblem(path, f"file is {len(data) / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit "
                                "for an inventory file",
                          hint="Is this the right file? Split a very large department into several files.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line=line, col=col,
                          hint="Save the file as UTF-8 in your editor.") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.composer.ComposerError as exc:
        mark = exc.problem_mark
        raise YamlProblem(path, f"malformed YAML: {exc.problem}", line=mark.line + 1 if mark else None,
                          col=mark.column + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        hint = "Fix the YAML syntax; indent with spaces."
        if "'\\t'" in problem or "\t" in text.splitlines()[mark.line] if mark else False:
            hint = "YAML does not allow tabs for indentation: replace them with spaces."
        raise YamlProblem(path, f"malformed YAML: {problem}", line=mark.line + 1 if mark else None,
                          col=mark.column + 1 if mark else None, hint=hint) from exc
    if node is None:
        return Located(None, {}, {})
    builder = _Builder(path)
    value = builder.build(node, "")
    return Located(value, builder.value_pos, builder.key_pos)
