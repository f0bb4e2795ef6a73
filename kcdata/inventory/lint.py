"""``kcdata inventory lint``: every rule of the inventory format, plus cross-file checks.

Speed matters (10,000 datasets in 50 files in under 2 s), so each file is parsed *without*
positions, every entry goes through a compiled yes/no schema check, ``jsonschema`` explains only the
entries that fail it, and positions are computed by re-parsing just the files that have findings.
Large inventories are linted by one worker process per CPU core, a file at a time.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcdata.config import INVENTORY_DIR, load_settings
from kcdata.errors import InputError
from kcdata.inventory.lintschema import (
    DATE_FIELDS,
    TRANSITIONS,
    _dates_as_text,
    _fast_dataset_check,
    _fast_department_check,
    _Finding,
    _jsonable,
    _kind,
    _known,
    _known_set,
    _schema_findings,
    _validator,
)
from kcdata.inventory.load import Problem, inventory_files
from kcdata.inventory.model import is_url
from kcdata.inventory.yamlpos import Located, Pos, YamlProblem, load_located
from kcdata.problems import Severity
from kcdata.tableschema import read_table_schema

PARALLEL_MIN_BYTES = 2_000_000  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True, slots=True, kw_only=True)
class LintReport:
    """Lint findings (``problems``) over ``files`` department files holding ``datasets`` entries."""

    problems: tuple[Problem, ...]
    files: int
    datasets: int
    unparsable: tuple[str, ...] = ()  # files that could not be parsed at all (exit 3)

    @property
    def errors(self) -> int:
        return sum(p.severity is Severity.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity is Severity.WARNING for p in self.problems)

    @property
    def ok(self) -> bool:
        return self.errors == 0


@dataclass(slots=True, kw_only=True)
class _FileResult:
    relpath: str
    problems: list[Problem] = field(default_factory=list)
    ids: list[tuple[str, int]] = field(default_factory=list)
    department: str | None = None
    datasets: int = 0
    unparsable: bool = False


# -- per entry -----------------------------------------------------------------------------------

@dataclass(slots=True)
class _Context:
    root: Path
    goals: tuple[str, ...] | None
    exists: dict[str, bool] = field(default_factory=dict)
    fields: dict[str, tuple[tuple[str, ...] | None, str | None]] = field(default_factory=dict)

    def path_exists(self, rel: str) -> bool:
        if rel not in self.exists:
            self.exists[rel] = (self.root / rel).is_file()
        return self.exists[rel]

    def schema_fields(self, rel: str) -> tuple[tuple[str, ...] | None, str | None]:
        if rel not in self.fields:
            self.fields[rel] = _read_schema_fields(self.root / rel)
        return self.fields[rel]


def _read_schema_fields(path: Path) -> tuple[tuple[str, ...] | None, str | None]:
    try:
        return read_table_schema(path).field_names, None
    except InputError as exc:
        return None, f"cannot read the Table Schema's fields ({exc.message})"


def _unknown_keys(value: Mapping[str, Any], part: str, prefix: str) -> list[_Finding]:
    if value.keys() <= _known_set(part):
        return []
    known = _known(part)
    out = []
    for key in value:
        if key in known:
            continue
        kp = f"{prefix}.{key}" if prefix else str(key)
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.75)
        if close:
            out.append(_Finding(keypath=kp, message=f"unknown key '{key}' — did you mean '{close[0]}'?",
                                code="unknown-key", at_key=True))
        else:
            out.append(_Finding(keypath=kp, message=f"unknown key '{key}' (not part of the inventory format; "
                                                    "fine as a local extension, otherwise check the spelling)",
                                code="unknown-key", severity=Severity.WARNING, at_key=True))
    return out


def check_entry(entry: Any, *, prefix: str, ctx: _Context) -> list[_Finding]:
    """Every single-entry rule: schema, unknown keys, dates, goals, history, files, row identifier."""
    if not isinstance(entry, dict):
        return [_Finding(keypath=prefix, message=f"each dataset must be a mapping, found {_kind(entry)}",
                         code="wrong-type")]
    out = _unknown_keys(entry, "dataset", prefix)
    for sub, part in (("contact", "contact"), ("priority_override", "priority_override")):
        if isinstance(entry.get(sub), dict):
            out += _unknown_keys(entry[sub], part, f"{prefix}.{sub}")
    history = entry.get("history")
    if isinstance(history, list):
        for i, rec in enumerate(history):
            if isinstance(rec, dict):
                out += _unknown_keys(rec, "history", f"{prefix}.history[{i}]")
    doc = _dates_as_text(entry)
    if not _fast_dataset_check()(doc):
        out += _schema_findings(_validator("dataset"), doc, prefix)
    for name in DATE_FIELDS:
        v = entry.get(name)
        # a valid quoted date ("2026-09-04") is the same as an unquoted one; only an impossible
        # calendar date of the right shape (2026-02-30, which YAML leaves as text) is a finding
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) and not _is_date(v):
            out.append(_Finding(keypath=f"{prefix}.{name}", message=f"'{v}' is not a valid calendar date",
                                code="bad-date"))
    goals = entry.get("kcstat_goals")
    if isinstance(goals, list) and goals:
        out += _check_goals(goals, prefix, ctx)
    if isinstance(history, list) and history and all(isinstance(r, dict) for r in history):
        out += _check_history(history, entry.get("status"), prefix)
    out += _check_files(entry, prefix, ctx)
    return out


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_goals(goals: list[Any], prefix: str, ctx: _Context) -> list[_Finding]:
    if ctx.goals is None:
        return [_Finding(keypath=f"{prefix}.kcstat_goals", code="unknown-goal", severity=Severity.WARNING,
                         message="kcdata.yaml defines no `goals:`, so these goal ids cannot be checked")]
    out = []
    for i, g in enumerate(goals):
        if isinstance(g, str) and g not in ctx.goals:
            close = difflib.get_close_matches(g, ctx.goals, n=1, cutoff=0.6)
            hint = f" — did you mean '{close[0]}'?" if close else f" (known: {', '.join(ctx.goals)})"
            out.append(_Finding(keypath=f"{prefix}.kcstat_goals[{i}]", code="unknown-goal",
                                message=f"'{g}' is not a goal in kcdata.yaml{hint}"))
    return out


def _check_history(history: list[dict[str, Any]], status: Any, prefix: str) -> list[_Finding]:
    out: list[_Finding] = []
    previous: str | None = None
    for i, rec in enumerate(history):
        src, dst = rec.get("from"), rec.get("to")
        kp = f"{prefix}.history[{i}]"
        if not isinstance(dst, str):
            return out  # the schema reports the missing `to`
        if i == 0:
            legal = (src, dst) in TRANSITIONS or (src is None and ("inventoried", dst) in TRANSITIONS)
        else:
            if src is not None and src != previous:
                out.append(_Finding(keypath=f"{kp}.from", code="bad-history",
                                    message=f"'from' is '{src}' but the previous record went to '{previous}'"))
            legal = (src if src is not None else previous, dst) in TRANSITIONS
        if not legal:
            allowed = sorted(b for a, b in TRANSITIONS if a == (src if src is not None else previous))
            out.append(_Finding(keypath=f"{kp}.to", code="bad-history",
                                message=f"illegal transition {src or previous or 'null'} → {dst}"
                                        + (f" (allowed: {', '.join(allowed)})" if allowed else "")))
        previous = dst
    if isinstance(status, str) and previous != status:
        out.append(_Finding(keypath=f"{prefix}.history[{len(history) - 1}].to", code="bad-history",
                            message=f"history ends at '{previous}' but status is '{status}'"))
    return out


def _check_files(entry: dict[str, Any], prefix: str, ctx: _Context) -> list[_Finding]:
    out = []
    for name in ("data", "schema"):
        v = entry.get(name)
        if isinstance(v, str) and v and not is_url(v) and not ctx.path_exists(v):
            out.append(_Finding(keypath=f"{prefix}.{name}", code="missing-file",
                                message=f"file not found: {v} (paths are relative to the program folder)"))
    schema, rid = entry.get("schema"), entry.get("row_identifier")
    if isinstance(schema, str) and schema and not is_url(schema) and ctx.path_exists(schema) \
            and isinstance(rid, str) and rid:
        fields, error = ctx.schema_fields(schema)
        if error:
            out.append(_Finding(keypath=f"{prefix}.schema", code="bad-schema", message=f"{schema}: {error}"))
        elif fields is not None and rid not in fields:
            close = difflib.get_close_matches(rid, fields, n=1, cutoff=0.6)
            hint = f" — did you mean '{close[0]}'?" if close else f" (fields: {', '.join(fields[:12])})"
            out.append(_Finding(keypath=f"{prefix}.row_identifier", code="row-identifier",
                                message=f"'{rid}' is not a field of {schema}{hint}"))
    return out


# -- per file ------------------------------------------------------------------------------------

def _lint_file(path: Path, ctx: _Context) -> _FileResult:
    relpath = _rel(path, ctx.root)
    res = _FileResult(relpath=relpath)
    try:
        raw = path.read_bytes()
        doc = load_located(raw, path=relpath, positions=False)
    except OSError as exc:
        res.unparsable = True
        res.problems.append(Problem(file=relpath, line=None, col=None, keypath="", code="unreadable",
                                    message=f"cannot read file: {exc.strerror}"))
        return res
    except YamlProblem as exc:
        res.unparsable = True
        message = exc.problem + (f" — {exc.hint}" if exc.hint else "")
        res.problems.append(Problem(file=relpath, line=exc.line, col=exc.col, keypath="", code="yaml-error",
                                    message=message))
        return res
    findings: list[_Finding] = []
    data = doc.value
    if data is None:
        findings.append(_Finding(keypath="", code="empty-file",
                                 message="the file is empty: expected `department:` and `datasets:`"))
    elif not isinstance(data, dict):
        findings.append(_Finding(keypath="", code="not-a-mapping",
                                 message=f"expected a mapping with `department:` and `datasets:` at the top, "
                                         f"found {_kind(data)}"))
    else:
        findings += _unknown_keys(data, "top", "")
        findings += _check_department(data, path.stem, res)
        entries = data.get("datasets")
        if "datasets" not in data:
            findings.append(_Finding(keypath="datasets", code="missing-field",
                                     message="missing `datasets:` (use `datasets: []` for none yet)"))
        elif entries is not None and not isinstance(entries, list):
            findings.append(_Finding(keypath="datasets", code="wrong-type",
                                     message=f"`datasets` must be a list, found {_kind(entries)}"))
        elif entries:
            res.datasets = len(entries)
            for i, entry in enumerate(entries):
                findings += check_entry(entry, prefix=f"datasets[{i}]", ctx=ctx)
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    res.ids.append((entry["id"], i))
    if findings:
        located = load_located(raw, path=relpath)  # parsed fine once: parses again, now with positions
        res.problems.extend(_locate(relpath, located, f) for f in findings)
    return res


def _check_department(data: dict[str, Any], stem: str, res: _FileResult) -> list[_Finding]:
    dep = data.get("department")
    if not isinstance(dep, dict):
        return [_Finding(keypath="department", code="missing-department",
                         message="missing `department:` mapping (id, name, liaison)")]
    out = _unknown_keys(dep, "department", "department")
    if not _fast_department_check()(dep):  # importing jsonschema costs ~0.15 s: only to explain failures
        out += _schema_findings(_validator("department"), _jsonable(dep), "department")
    if isinstance(dep.get("liaison"), dict):
        out += _unknown_keys(dep["liaison"], "contact", "department.liaison")
    dep_id = dep.get("id")
    if isinstance(dep_id, str):
        res.department = dep_id
        if dep_id != stem:
            out.append(_Finding(keypath="department.id", code="department-mismatch",
                                message=f"department id '{dep_id}' does not match the file name '{stem}.yaml'"))
    return out


def _locate(relpath: str, doc: Located, f: _Finding) -> Problem:
    pos = _position(doc, f.keypath, at_key=f.at_key)
    return Problem(file=relpath, line=pos.line if pos else None, col=pos.col if pos else None,
                   keypath=f.keypath, message=f.message, code=f.code, severity=f.severity)


def _position(doc: Located, keypath: str, *, at_key: bool = False) -> Pos | None:
    """The position of ``keypath``, or of its nearest located ancestor (e.g. for a missing field)."""
    kp = keypath
    while True:
        pos = (doc.key_pos.get(kp) or doc.value_pos.get(kp)) if at_key else \
            (doc.value_pos.get(kp) or doc.key_pos.get(kp))
        if pos is not None:
            return pos
        if not kp:
            return Pos(1, 1, 0, 0)
        cut = max(kp.rfind("."), kp.rfind("["))
        kp = kp[:cut] if cut > 0 else ""


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# -- the whole inventory -------------------------------------------------------------------------

def goal_ids(settings: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The KCStat goal ids from kcdata.yaml's ``goals:`` list (None when not configured)."""
    goals = settings.get("goals")
    if goals is None:
        return None
    if not isinstance(goals, list) or not all(isinstance(g, dict) and isinstance(g.get("id"), str) for g in goals):
        raise InputError("kcdata.yaml goals: expected a list of mappings, each with an `id`",
                         hint="Write goals as `- {id: public-safety, name: Public Safety}`.")
    return tuple(g["id"] for g in goals)


def lint_inventory(*, root: Path, jobs: int | None = None) -> LintReport:
    """Lint every department file under ``root/inventory``; unparsable files do not stop the others.

    ``jobs`` is the number of processes (default: one per core for large inventories, one for
    small ones); more than one only where forking is safe (Linux, no other threads running),
    otherwise everything runs in this process. Raises :class:`InputError` only when there is no
    inventory folder or ``kcdata.yaml`` is invalid.
    """
    root = Path(root).resolve()
    paths = inventory_files(root)
    goals = goal_ids(load_settings(root))
    sizes = {p: p.stat().st_size for p in paths} if jobs != 1 else {}
    if jobs is None:
        jobs = min(os.cpu_count() or 1, len(paths)) if sum(sizes.values()) >= PARALLEL_MIN_BYTES else 1
    # one context for the run: each data/schema path is checked and each Table Schema read once
    results = _lint_files(paths, _Context(root=root, goals=goals), jobs=jobs, sizes=sizes)
    problems = [p for r in results for p in r.problems]
    problems += _cross_file(results, root)
    return LintReport(problems=tuple(problems), files=len(paths), datasets=sum(r.datasets for r in results),
                      unparsable=tuple(r.relpath for r in results if r.unparsable))


def _can_fork() -> bool:
    import threading

    # forking a process that runs other threads can deadlock the child on a lock one of them held
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _lint_files(paths: list[Path], ctx: _Context, *, jobs: int, sizes: dict[Path, int]) -> list[_FileResult]:
    """Each file's result, in ``paths`` order: forked children lint shares of the files, this process one."""
    if jobs <= 1 or len(paths) <= 1 or not _can_fork():
        return [_lint_file(p, ctx) for p in paths]
    import pickle

    _fast_dataset_check()  # compiled once here, inherited by the children
    shares: list[list[Path]] = [[] for _ in range(min(jobs, len(paths)))]
    loads = [0] * len(shares)
    for p in sorted(paths, key=lambda p: -sizes.get(p, 0)):  # biggest first onto the lightest share
        i = loads.index(min(loads))
        shares[i].append(p)
        loads[i] += sizes.get(p, 0)
    children: list[tuple[int, int, list[Path]]] = []
    by_path: dict[Path, _FileResult] = {}
    open_fds: set[int] = set()
    try:
        for share in shares[1:]:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: lint its share, send the results, never return into the caller
                try:
                    os.close(read_fd)
                    with os.fdopen(write_fd, "wb") as fh:
                        fh.write(pickle.dumps([_lint_file(p, ctx) for p in share]))
                finally:
                    os._exit(0)
            os.close(write_fd)
            open_fds.add(read_fd)
            children.append((pid, read_fd, share))
        by_path.update((p, _lint_file(p, ctx)) for p in shares[0])
        for _pid, read_fd, share in children:
            open_fds.discard(read_fd)
            with os.fdopen(read_fd, "rb") as fh:
                data = fh.read()
            try:
                got = pickle.loads(data)  # noqa: S301 - written by our own forked child
            except Exception:  # the child died (killed, out of memory): lint its share here instead
                got = [_lint_file(p, ctx) for p in share]
            by_path.update(zip(share, got, strict=True))
    finally:
        for fd in open_fds:
            os.close(fd)  # on an error here: a child still writing gets EPIPE and exits
        for pid, _, _ in children:
            os.waitpid(pid, 0)
    return [by_path[p] for p in paths]


def _cross_file(results: Sequence[_FileResult], root: Path) -> list[Problem]:
    """Duplicate dataset ids and department ids across files."""
    first: dict[str, tuple[str, int]] = {}
    dups: list[tuple[str, str, int, str, int]] = []
    for r in results:
        for dataset_id, index in r.ids:
            if dataset_id in first:
                f, i = first[dataset_id]
                dups.append((dataset_id, r.relpath, index, f, i))
            else:
                first[dataset_id] = (r.relpath, index)
    out: list[Problem] = []
    docs: dict[str, Located] = {}
    for dataset_id, relpath, index, first_file, first_index in dups:
        if relpath not in docs:
            docs[relpath] = load_located((root / relpath).read_bytes(), path=relpath)
        kp = f"datasets[{index}].id"
        pos = _position(docs[relpath], kp)
        first_line = ""
        if first_file not in docs:
            docs[first_file] = load_located((root / first_file).read_bytes(), path=first_file)
        fpos = _position(docs[first_file], f"datasets[{first_index}].id")
        first_line = f":{fpos.line}" if fpos else ""
        out.append(Problem(file=relpath, line=pos.line if pos else None, col=pos.col if pos else None, keypath=kp,
                           code="duplicate-id",
                           message=f"duplicate id '{dataset_id}': already used at {first_file}{first_line} "
                                   f"datasets[{first_index}] (ids are unique city-wide)"))
    seen: dict[str, str] = {}
    for r in results:
        if r.department is not None:
            if r.department in seen:
                out.append(Problem(file=r.relpath, line=None, col=None, keypath="department.id",
                                   code="duplicate-department",
                                   message=f"department id '{r.department}' is also used by {seen[r.department]}"))
            seen.setdefault(r.department, r.relpath)
    return out


def lint_entry(entry: Mapping[str, Any], *, root: Path, department_id: str | None = None,
               settings: Mapping[str, Any] | None = None, check_duplicate: bool = True) -> tuple[Problem, ...]:
    """Check one new entry (for ``inventory add``): every per-entry rule plus a city-wide duplicate id.

    Keypaths are relative to the entry (``license``); ``file`` is ``<entry>``. A caller checking many
    entries (``inventory import``) passes ``settings`` read once and checks duplicates itself.
    """
    root = Path(root).resolve()
    try:
        goals = goal_ids(settings if settings is not None else load_settings(root))
    except InputError:
        goals = None
    ctx = _Context(root=root, goals=goals)
    findings = check_entry(dict(entry), prefix="", ctx=ctx)
    problems = [Problem(file="<entry>", line=None, col=None, keypath=f.keypath.lstrip("."), message=f.message,
                        code=f.code, severity=f.severity) for f in findings]
    dataset_id = entry.get("id")
    if check_duplicate and isinstance(dataset_id, str) and (root / INVENTORY_DIR).is_dir():
        where = _existing_id(root, dataset_id)
        if where:
            problems.append(Problem(file="<entry>", line=None, col=None, keypath="id", code="duplicate-id",
                                    message=f"id '{dataset_id}' is already used in {where}"))
    if department_id is not None and not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", department_id):
        problems.append(Problem(file="<entry>", line=None, col=None, keypath="department", code="bad-slug",
                                message=f"department '{department_id}' is not a lowercase slug"))
    return tuple(problems)


def _existing_id(root: Path, dataset_id: str) -> str | None:
    for path in inventory_files(root):
        try:
            data = load_located(path.read_bytes(), path=path.name, positions=False).value
        except (OSError, YamlProblem):
            continue
        if isinstance(data, dict) and isinstance(data.get("datasets"), list):
            for i, e in enumerate(data["datasets"]):
                if isinstance(e, dict) and e.get("id") == dataset_id:
                    return f"{_rel(path, root)} datasets[{i}]"
    return None


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in file order, then line order (unlocated first)."""
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.col or 0))


__all__ = ["LintReport", "check_entry", "goal_ids", "lint_entry", "lint_inventory", "sorted_problems"]
