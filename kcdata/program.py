"""One open-data program folder (``inventory/``, ``schemas/``, ``kcdata.yaml``) as the stages see it.

:class:`Program` loads each part lazily and once: the settings (:class:`~kcdata.settings.Settings`,
with positions for ``kcdata.yaml:line:col`` messages), the inventory, each dataset's Table Schema
(:meth:`Program.schema`, the one reader) and each dataset's last validation
(:meth:`Program.validation`). score, review, publish, policy, site and export take a ``Program``;
the CLI makes one per command (``Program(app.root)``).

The direction of imports is ``cli → stages → program → {settings, inventory, validate, tableschema}``:
nothing below imports this module.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from kcdata.errors import InputError
from kcdata.inventory.load import LoadResult, Problem, load_inventory
from kcdata.inventory.model import Dataset, Inventory, is_url
from kcdata.settings import Settings
from kcdata.tableschema import TableSchema, read_table_schema

if TYPE_CHECKING:
    from kcdata.validate.model import TableReport

log = logging.getLogger(__name__)


class Program:
    """A program folder; every part is read on first use and kept (call :meth:`reload` after writing)."""

    def __init__(self, root: Path | str, *, settings: Settings | None = None) -> None:
        self.root = Path(root)
        if settings is not None:
            self.__dict__["settings"] = settings
        self._schemas: dict[Path, TableSchema | InputError] = {}
        self._validations: dict[str, TableReport | None] = {}

    def __repr__(self) -> str:
        return f"Program({str(self.root)!r})"

    @classmethod
    def of(cls, program: Program | None = None, *, root: Path | str | None = None) -> Program:
        """``program`` itself, or a new one for ``root`` (library entry points accept either)."""
        if program is not None:
            return program
        if root is None:
            raise TypeError("pass program= or root=")
        return cls(root)

    # -- settings and inventory --------------------------------------------------------------------
    @cached_property
    def settings(self) -> Settings:
        """``kcdata.yaml`` (all defaults when the file is absent); exit 3 when it is broken."""
        return Settings.load(self.root)

    @cached_property
    def loaded(self) -> LoadResult:
        """The inventory as loaded, with its files and load problems."""
        return load_inventory(self.root)

    @property
    def inventory(self) -> Inventory:
        return self.loaded.inventory

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.loaded.problems

    def require_complete(self, *, entries: bool = False) -> None:
        """Exit 3 when an inventory file could not be read (``entries``: also when an entry was skipped),
        so a command never reports on, exports or publishes an inventory with datasets missing."""
        bad = [p for p in self.problems if entries or p.code in ("yaml-error", "not-a-mapping")
               or (p.code == "wrong-type" and p.keypath == "datasets")]
        if not bad:
            return
        files = sorted({p.file for p in bad})
        what = "has entries that cannot be read" if entries else "cannot be read"
        raise InputError(f"{', '.join(files)} {what}, so datasets would be missing: {bad[0]}"
                         + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""),
                         hint="fix them first; `kcdata inventory lint` lists every problem",
                         code="incomplete-inventory",
                         details={"problems": [str(p) for p in bad], "files": files})

    def dataset(self, dataset_id: str) -> Dataset:
        """The inventory entry (unknown ids: :class:`NotFoundError` with a did-you-mean)."""
        return self.inventory.get(dataset_id)

    def reload(self) -> None:
        """Forget the inventory, schemas and validations read so far (after a write)."""
        self.__dict__.pop("loaded", None)
        self._schemas.clear()
        self._validations.clear()

    # -- files of a dataset --------------------------------------------------------------------------
    def local_file(self, ref: str | None) -> Path | None:
        """The local file an inventory ``data``/``schema`` reference names (None for none or a URL)."""
        if not ref or is_url(ref):
            return None
        return self.root / ref

    def schema(self, dataset: Dataset) -> TableSchema:
        """The dataset's Table Schema, read once. :class:`InputError` (exit 3) when the entry has no
        schema, names a URL, or the file is missing or unreadable; the error is the same every time."""
        if not dataset.schema:
            raise InputError(f"dataset {dataset.id}: no `schema` in the inventory entry", code="missing-file",
                             hint="add `schema: schemas/<id>.schema.json` to its inventory entry")
        path = self.local_file(dataset.schema)
        if path is None:
            raise InputError(f"schema {dataset.schema} is a URL: keep the schema in schemas/ so it can be checked",
                             code="schema-error")
        key = path.resolve()
        if key not in self._schemas:
            try:
                self._schemas[key] = read_table_schema(path, source=dataset.schema)
            except InputError as exc:
                self._schemas[key] = exc
        found = self._schemas[key]
        if isinstance(found, InputError):
            raise found
        return found

    # -- validation ----------------------------------------------------------------------------------
    def validation(self, dataset: Dataset) -> TableReport | None:
        """The last validation of the dataset's *current* data and schema files (from the validation
        cache), or None when there is none. Never validates; a corrupt cache entry counts as none."""
        if dataset.id not in self._validations:
            from kcdata.validate import last_result

            try:
                report = last_result(root=self.root, dataset=dataset)
            except Exception as exc:  # a corrupt cache entry must not stop a ranking or a report
                log.info("%s: cannot read the last validation: %s", dataset.id, exc)
                report = None
            self._validations[dataset.id] = report
        return self._validations[dataset.id]

    def validate(self, dataset: Dataset) -> TableReport | None:
        """The last validation, else validate the dataset now (cached for next time); None when it has
        no local data and schema files to validate."""
        report = self.validation(dataset)
        if report is not None:
            return report
        data, schema = self.local_file(dataset.data), self.local_file(dataset.schema)
        if data is None or schema is None or not schema.is_file():
            return None
        from kcdata.validate import validate_datasets

        run = validate_datasets(inventory=self.inventory, ids=[dataset.id])
        report = next((r for r in run.datasets if r.id in (None, dataset.id)), None)
        self._validations[dataset.id] = report
        return report


__all__ = ["Program"]
