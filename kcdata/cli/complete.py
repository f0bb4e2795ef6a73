"""Shell completion of the program's own names: dataset ids, department ids, workflow statuses.

Enabled as click does it (README, "Shell completion"): ``eval "$(_KCDATA_COMPLETE=bash_source kcdata)"``.
Completion reads the inventory of the program folder the command line names (``--root``, else
``KCDATA_ROOT``, else the current folder). It must never fail or print: a broken inventory completes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.shell_completion import CompletionItem

STATUSES = ("inventoried", "proposed", "in_review", "approved", "published", "withheld", "retired")


def _root(ctx: click.Context) -> Path:
    root = ctx.find_root().params.get("root")
    return Path(root or os.environ.get("KCDATA_ROOT") or ".")


def _inventory(ctx: click.Context) -> object | None:
    try:
        from kcdata.inventory import load_inventory

        return load_inventory(_root(ctx)).inventory
    except Exception:  # completion is best effort: a broken or missing inventory completes nothing
        return None


def dataset_ids(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Dataset ids of the inventory that start with what was typed, with their titles as help."""
    inventory = _inventory(ctx)
    datasets = getattr(inventory, "datasets", ())
    return [CompletionItem(ds.id, help=ds.title) for ds in datasets if ds.id.startswith(incomplete)]


def dataset_ids_or_files(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Dataset ids, or a file path once what was typed looks like one (``kcdata validate FILE --schema S``)."""
    if "/" in incomplete or incomplete.startswith(".") or Path(incomplete).suffix:
        return [CompletionItem(incomplete, type="file")]
    return dataset_ids(ctx, param, incomplete) or [CompletionItem(incomplete, type="file")]


def department_ids(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Department ids (the inventory file names) with the departments' names as help."""
    inventory = _inventory(ctx)
    departments = getattr(inventory, "departments", ())
    return [CompletionItem(dep.id, help=dep.name) for dep in departments if dep.id.startswith(incomplete)]


def statuses(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The review workflow's statuses."""
    return [CompletionItem(s) for s in STATUSES if s.startswith(incomplete)]
