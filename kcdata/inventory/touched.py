"""Which inventory datasets a set of changed files touches (pre-commit passes the files a commit changes)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kcdata.inventory.model import Inventory


def datasets_touched(*, inventory: Inventory, files: Iterable[Path | str]) -> tuple[str, ...]:
    """Ids, in inventory order, of datasets whose data file, Table Schema or department file is in ``files``.

    Relative paths are taken from the current folder (as pre-commit and git give them); files that belong to
    no dataset (a README, a script) touch nothing. URLs in the inventory are never local files.
    """
    changed = {Path(f).resolve() for f in files}
    departments = {dep.id for dep in inventory.departments if (inventory.root / dep.path).resolve() in changed}
    out = []
    for ds in inventory.datasets:
        own = [(inventory.root / f).resolve() for f in (ds.data, ds.schema) if f and "://" not in f]
        if ds.department in departments or any(f in changed for f in own):
            out.append(ds.id)
    return tuple(out)
