"""``--changed-since GIT_REF``: which datasets changed since a commit.

A dataset counts as changed when its data file or schema file appears in
``git diff --name-only REF`` (committed, staged and working-tree changes), or when its inventory
entry differs between the department file at REF and now (an entry-level comparison, so editing
one dataset of a department does not mark its neighbours), or when it did not exist at REF.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.inventory.model import Inventory


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"cannot run git in {root}: {exc}", hint="Install git, or leave out --changed-since.") from exc
    if out.returncode != 0:
        raise InputError(f"git {' '.join(args)}: {out.stderr.strip() or 'failed'}",
                         hint="Check the GIT_REF (e.g. origin/main, HEAD~1) and fetch enough history "
                              "(actions/checkout with fetch-depth: 0).")
    return out.stdout


def changed_dataset_ids(*, root: Path, inventory: Inventory, ref: str) -> set[str]:
    """Ids of datasets whose entry, schema or data changed since ``ref``."""
    import yaml

    top = Path(_git(root, "rev-parse", "--show-toplevel").strip()).resolve()
    _git(root, "rev-parse", "--verify", f"{ref}^{{commit}}")
    changed_files = {(top / p).resolve() for p in _git(root, "diff", "--name-only", ref, "--", ".").splitlines()}
    changed_files |= {(top / p).resolve() for p in
                      _git(root, "ls-files", "--others", "--exclude-standard").splitlines()}
    old_entries: dict[str, Mapping[str, Any]] = {}
    for dep in inventory.departments:
        path = (root / dep.path).resolve()
        rel = path.relative_to(top).as_posix() if path.is_relative_to(top) else None
        if rel is None:
            continue
        shown = subprocess.run(["git", "show", f"{ref}:{rel}"], cwd=root, capture_output=True, text=True,
                               timeout=60, check=False)
        if shown.returncode != 0:
            continue  # the file is new since REF: every entry in it is new
        try:
            doc = yaml.safe_load(shown.stdout) or {}
        except yaml.YAMLError:
            continue
        for entry in doc.get("datasets") or [] if isinstance(doc, Mapping) else []:
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                old_entries[entry["id"]] = entry
    now_docs: dict[str, Mapping[str, Any]] = {}
    for dep in inventory.departments:
        try:
            doc = yaml.safe_load((root / dep.path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for entry in doc.get("datasets") or [] if isinstance(doc, Mapping) else []:
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                now_docs[entry["id"]] = entry
    out = set()
    for ds in inventory.datasets:
        files = [(root / f).resolve() for f in (ds.data, ds.schema) if f and "://" not in f]
        if any(f in changed_files for f in files) or old_entries.get(ds.id) != now_docs.get(ds.id):
            out.add(ds.id)
    return out
