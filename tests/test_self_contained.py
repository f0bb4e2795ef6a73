"""The test suite needs nothing outside the repository: no absolute paths, no required ``shared/`` folder.

A city that clones kcdata gets a green ``make test`` on its first command; CI proves it by running the
suite from a clone in a temporary folder (``.ci/run``). These checks keep a test from quietly growing a
dependency on this machine's layout again.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO

TESTS = REPO / "tests"
SOURCES = sorted(p for p in TESTS.rglob("*.py") if FIXTURES not in p.parents)
# A string literal naming a place on some machine's disk (POSIX roots or a Windows drive).
# /dev/... is the operating system's, not a machine layout (tests pass /dev/null as a bad data file).
ABSOLUTE = re.compile(r"^(?:/(?:work|home|root|tmp|opt|usr|etc|var|srv|mnt|Users|private)(?:/|$)|[A-Za-z]:[\\/])")
# Only this helper may look for the team's shared/ folder, and it must return None when it is absent.
SHARED_LOOKUP = {"transparency_helpers.py"}
# A path-like string (no spaces: not a message) with a ``shared`` component: "shared", "../shared/x", "a/shared".
SHARED_PATH = re.compile(r"^[^\s]*(?:^|[/\\])shared(?:[/\\]|$)[^\s]*$")


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    # An f-string is judged whole, its values standing as "{}" (f"/work/{x}" is a path; f"shared{i}" is not).
    pieces = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, str(text)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in pieces:
            found.append((node.lineno, node.value))
    return found


def _docstring_lines(path: Path) -> set[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            doc = node.body[0] if node.body else None
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
                lines.add(doc.lineno)
    return lines


def test_the_test_tree_is_scanned() -> None:
    assert len(SOURCES) > 40
    assert Path(__file__).resolve() in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(TESTS)))
def test_no_absolute_paths(path: Path) -> None:
    hits = [f"{path.name}:{line}: {value!r}" for line, value in _string_constants(path)
            if ABSOLUTE.match(value) and path.name != Path(__file__).name]
    assert not hits, "tests must not name places on this machine; use tmp_path or tests/fixtures/:\n" + "\n".join(hits)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(TESTS)))
def test_shared_folder_is_never_required(path: Path) -> None:
    """Naming shared/ is allowed only in the optional lookup; callers of it must handle its absence."""
    if path.name == Path(__file__).name:
        return
    docs = _docstring_lines(path)
    mentions = [(line, value) for line, value in _string_constants(path)
                if line not in docs and (SHARED_PATH.search(value) or "KCDATA_SHARED" in value)]
    if path.name not in SHARED_LOOKUP:
        assert not mentions, f"{path.name} looks for shared/ itself: call transparency_helpers.shared_dir() " \
                             f"and skip when it returns None: {mentions}"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name != "shared_dir"):
        calls = [c for c in ast.walk(func) if isinstance(c, ast.Call)
                 and getattr(c.func, "id", getattr(c.func, "attr", None)) == "shared_dir"]
        if not calls:
            continue
        body = ast.unparse(func)
        assert "is None" in body or "pytest.skip" in body, \
            f"{path.name}:{func.lineno} {func.name}() uses shared_dir() without handling a clone that has none"


def test_module_level_code_does_not_need_shared() -> None:
    """No test module resolves shared/ at import time (that fails collection of the whole file)."""
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign | ast.AnnAssign) and "shared_dir(" in ast.unparse(stmt):
                pytest.fail(f"{path.name}:{stmt.lineno}: module-level shared_dir() call")


def test_vendored_fixture_folders_say_where_they_come_from() -> None:
    for folder in ("socrata", "dcat-us-1.1"):
        readme = FIXTURES / folder / "README.md"
        assert readme.is_file(), f"{folder}/ needs a provenance README"
        assert "commit" in readme.read_text(encoding="utf-8").lower()
    index = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for child in FIXTURES.iterdir():
        if child.is_dir():
            assert f"`{child.name}/" in index, f"tests/fixtures/README.md does not describe {child.name}/"
