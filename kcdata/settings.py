"""``kcdata.yaml``, read once, with the position of every value: the one helper every section parser uses.

:class:`Settings` is the top-level mapping (so a section parser reads it like a dict) plus
:meth:`Settings.fail`, which names ``kcdata.yaml:line:col keypath``, and :class:`Section`, the typed
getters of one section (numbers in a range, strings, string lists, known keys with did-you-mean).
Settings built from a plain mapping (:meth:`Settings.of`, used by tests and library callers) have no
positions; their messages name ``kcdata.yaml keypath``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError

SETTINGS_FILE = "kcdata.yaml"
# Every top-level section kcdata reads; anything else is a typo (did-you-mean) or a newer kcdata's key.
SECTIONS = ("program", "scoring", "policy", "goals", "publish", "site")


class Settings(Mapping[str, Any]):
    """The top-level mapping of ``kcdata.yaml`` and where each value and key sits in the file."""

    def __init__(self, raw: Mapping[str, Any] | None = None, *, value_pos: Mapping[str, Any] | None = None,
                 key_pos: Mapping[str, Any] | None = None, file: str = SETTINGS_FILE, exists: bool = True) -> None:
        self._raw = dict(raw or {})
        self._value_pos = value_pos or {}
        self._key_pos = key_pos or {}
        self.file = file
        self.exists = exists  # False: no kcdata.yaml, every section takes its defaults

    # -- Mapping -----------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"Settings({self._raw!r})"

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def of(cls, value: Mapping[str, Any] | Settings | None) -> Settings:
        """``value`` itself when it is already :class:`Settings`, else a position-less wrapper."""
        if isinstance(value, Settings):
            return value
        return cls(value or {})

    @classmethod
    def load(cls, root: Path) -> Settings:
        """Read ``root/kcdata.yaml`` safely; an absent file means all defaults (exit 3 on a broken one)."""
        from kcdata.inventory.yamlpos import YamlProblem, load_located

        path = Path(root) / SETTINGS_FILE
        if not path.exists():
            return cls({}, exists=False)
        try:
            doc = load_located(path.read_bytes(), path=str(path))
        except YamlProblem as exc:
            raise InputError(exc.message, hint=exc.hint or "Fix the YAML syntax (indent with spaces, not tabs).",
                             details=exc.details) from exc
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
        if doc.value is None:
            return cls({})
        if not isinstance(doc.value, Mapping):
            raise InputError(f"{path}: expected a mapping of settings at the top level, "
                             f"found {type(doc.value).__name__}")
        return cls(doc.value, value_pos=doc.value_pos, key_pos=doc.key_pos)

    # -- locating ----------------------------------------------------------------------------------
    def position(self, keypath: str, *, at_key: bool = False) -> Any:
        """The :class:`~kcdata.inventory.yamlpos.Pos` of ``keypath`` (its key with ``at_key``), or of the
        nearest parent that exists (a missing key points at its section)."""
        pos = (self._key_pos.get(keypath) if at_key else None) or self._value_pos.get(keypath)
        probe = keypath
        while pos is None and "." in probe:
            probe = probe.rsplit(".", 1)[0]
            pos = self._value_pos.get(probe)
        return pos

    def where(self, keypath: str, *, at_key: bool = False) -> str:
        """``kcdata.yaml:line:col`` of ``keypath`` (just ``kcdata.yaml`` when positions are unknown)."""
        pos = self.position(keypath, at_key=at_key)
        return f"{self.file}:{pos.line}:{pos.col}" if pos is not None else self.file

    def fail(self, keypath: str, message: str, *, hint: str | None = None, at_key: bool = False,
             code: str | None = None) -> InputError:
        """The error for a bad value at ``keypath``: ``kcdata.yaml:line:col keypath: message`` (exit 3)."""
        pos = self.position(keypath, at_key=at_key)
        where = f"{self.file}:{pos.line}:{pos.col}" if pos is not None else self.file
        return InputError(f"{where} {keypath}: {message}", hint=hint, code=code,
                          details={"file": self.file, "line": getattr(pos, "line", None),
                                   "column": getattr(pos, "col", None), "keypath": keypath})

    def unknown(self, keypath: str, name: str, known: Iterable[str], what: str = "key", *,
                hint: str | None = None, code: str | None = None) -> InputError:
        """``unknown <what> '<name>'`` at the key, with a did-you-mean when a known name is close; ``hint``
        replaces the list of known names that follows it."""
        names = [str(k) for k in known]
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        text = hint or f"Known: {', '.join(names)}."
        if close:
            text = f"did you mean '{close[0]}'? {text}"
        return self.fail(keypath, f"unknown {what} '{name}'", hint=text, at_key=True, code=code)

    def unknown_sections(self) -> list[InputError]:
        """One error per top-level key kcdata does not read (typos such as ``polcy:``)."""
        return [self.unknown(str(k), str(k), SECTIONS, "section") for k in self._raw if k not in SECTIONS]

    def section(self, name: str, *, default: Any = None, hint: str | None = None) -> Section:
        """The section ``name`` (absent or null: empty) for typed reading; a non-mapping is an error."""
        return Section(self, name, self._raw.get(name), default=default, hint=hint)


class Section:
    """A mapping in ``kcdata.yaml`` (a section, or a mapping inside one) with typed getters.

    Every getter raises the :meth:`Settings.fail` error for a wrong type or value, so each section
    parser states *what* it expects and this class says *where* it went wrong.
    """

    def __init__(self, settings: Settings, path: str, raw: Any, *, default: Any = None,
                 hint: str | None = None) -> None:
        self.settings = settings
        self.path = path
        if raw is None:
            raw = default if default is not None else {}
        if not isinstance(raw, Mapping):
            raise settings.fail(path, f"expected a mapping, found {type(raw).__name__}",
                                hint=hint or f"Write `{path.rsplit('.', 1)[-1]}:` followed by indented "
                                             "`key: value` lines.")
        self.raw: Mapping[str, Any] = raw

    def keypath(self, key: str) -> str:
        return f"{self.path}.{key}"

    def fail(self, key: str, message: str, *, hint: str | None = None, code: str | None = None) -> InputError:
        return self.settings.fail(self.keypath(key), message, hint=hint, code=code)

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.raw

    def check_keys(self, known: Iterable[str], *, what: str = "key", hint: str | None = None) -> None:
        """Refuse the first unknown key (at the key's position), suggesting the closest known one."""
        names = tuple(known)
        for key in self.raw:
            if key not in names:
                raise self.settings.unknown(self.keypath(str(key)), str(key), names, what, hint=hint)

    def mapping(self, key: str, *, hint: str | None = None) -> Section:
        """A nested mapping (absent: empty)."""
        return Section(self.settings, self.keypath(key), self.raw.get(key), hint=hint)

    def number(self, key: str, default: float, *, lo: float, hi: float | None = None, integer: bool = False,
               message: str | None = None) -> Any:
        """A number in ``lo..hi`` (whole with ``integer``); ``default`` when absent."""
        value = self.raw.get(key, default)
        bad_type = isinstance(value, bool) or not isinstance(value, int | float) or (
            integer and not isinstance(value, int))
        if bad_type or value < lo or (hi is not None and value > hi):
            bounds = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
            raise self.fail(key, message or f"expected a {'whole ' if integer else ''}number {bounds}, "
                                            f"found {value!r}")
        return value

    def string(self, key: str, *, nonempty: bool = False, hint: str | None = None) -> str | None:
        """An optional string (stripped and non-empty with ``nonempty``)."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or (nonempty and not value.strip()):
            raise self.fail(key, f"expected a {'non-empty ' if nonempty else ''}string, found {value!r}", hint=hint)
        return value.strip() if nonempty else value

    def str_list(self, key: str) -> tuple[str, ...] | None:
        """An optional list of strings."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "expected a list of strings")
        return tuple(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramSettings:
    """The ``program:`` section: who publishes, and where. Each stage applies its own defaults."""

    city: str | None = None
    publisher: str | None = None
    publisher_email: str | None = None
    portal_domain: str | None = None  # the production portal: recorded portal_ids belong to it
    schema_base_url: str | None = None  # where schemas/ is browsable (data.json ``describedBy``)
    inventory_url: str | None = None  # where residents see the whole inventory online


PROGRAM_KEYS = ("city", "publisher", "publisher_email", "portal_domain", "schema_base_url", "inventory_url")


def program_settings(settings: Mapping[str, Any]) -> ProgramSettings:
    """Parse ``program:`` (every key optional, each a string)."""
    section = Settings.of(settings).section(
        "program", hint="Write `program:` with keys publisher, portal_domain, publisher_email.")
    section.check_keys(PROGRAM_KEYS)
    values = {}
    for key in PROGRAM_KEYS:
        value = section.get(key)
        if value is not None and not isinstance(value, str | int | float):
            raise section.fail(key, f"expected a string, found {value!r}")
        values[key] = str(value).strip() if value is not None and str(value).strip() else None
    return ProgramSettings(**values)


__all__ = ["PROGRAM_KEYS", "SECTIONS", "SETTINGS_FILE", "ProgramSettings", "Section", "Settings", "program_settings"]
