"""``kcdata score``: release priorities by the governance committee's method."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kcdata.cli import complete
from kcdata.cli.app import STATUSES, App, HintedChoice, json_option, pass_app
from kcdata.jsonable import to_jsonable


def compute_ranking(root: Path, demand_file: Path | None = None,
                    warn: Any = None) -> tuple[Any, Any, Any]:
    """Load inventory, method, cached validations and demand; return ``(load_result, method, ranking)``.

    ``warn(message)`` is told of demand rows naming ids the inventory does not have."""
    from kcdata.program import Program
    from kcdata.score.inputs import load_demand, rank_program, unknown_demand_ids

    program = Program(root)
    demand = load_demand(demand_file) if demand_file else None
    if demand and warn is not None:
        for ident, close in unknown_demand_ids(demand, program.inventory):
            maybe = f" (did you mean {' or '.join(close)}?)" if close else ""
            warn(f"{demand_file}: id '{ident}' is not in the inventory; its row is ignored{maybe}")
    method, ranking = rank_program(program, demand=demand)
    return program.loaded, method, ranking


def method_json(method: Any) -> dict[str, Any]:
    return {"version": method.version, "source": method.source, "weights": dict(method.weights),
            "bands": dict(method.bands)}


def _demand_option(func: Any) -> Any:
    return click.option("--demand", "demand_file", type=click.Path(dir_okay=False, path_type=Path),
                        help="Portal usage per dataset: CSV (id,views,downloads) or JSON.")(func)


@click.group("score", invoke_without_command=True)
@click.option("--department", "-d", multiple=True, shell_complete=complete.department_ids,
              help="Only this department id (repeatable).")
@click.option("--status", "-s", multiple=True, help="Only this workflow status (repeatable).",
              type=HintedChoice(STATUSES))
@click.option("--top", type=click.IntRange(min=1), help="Only the N highest-ranked datasets.")
@click.option("--top-per-department", type=click.IntRange(min=1),
              help="Only each department's N highest-ranked datasets (GovEx: top five per agency).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@_demand_option
@json_option
@pass_app
@click.pass_context
def command(ctx: click.Context, app: App, department: tuple[str, ...], status: tuple[str, ...], top: int | None,
            top_per_department: int | None, as_csv: bool, demand_file: Path | None, as_json: bool) -> None:
    """Rank datasets for release by the committee's scoring method (kcdata.yaml `scoring:`).

    Datasets kept out by a gate (protected, non-public, awaiting privacy review, already
    published, withheld, retired) are listed last, unranked. Ties are broken by id.

    \b
    Examples:
      kcdata score
      kcdata score --top 10 --department water
      kcdata score --top-per-department 5 --json
      kcdata score explain water-main-breaks
      kcdata score override water-main-breaks --band P1 --by "Governance Committee" --why "Council request"
    """
    if ctx.invoked_subcommand is not None:
        return
    app.complete_program()
    result, method, ranking = compute_ranking(app.root, demand_file, warn=app.warn)
    if department:
        for dep in department:
            result.inventory.department(dep)  # unknown department: did-you-mean, exit 3
    rows = [s for s in ranking if (not department or s.department in department)
            and (not status or s.status in status)]
    if top_per_department:
        rows = [s for s in rows if s.rank is not None and s.department_rank <= top_per_department]
    if top:
        rows = [s for s in rows if s.rank is not None][:top]
    data = {"method": method_json(method), "datasets": to_jsonable(rows), "count": len(rows)}
    for p in result.problems:
        app.warn(str(p))

    def render() -> None:
        if as_csv:
            import csv
            import sys

            w = csv.writer(sys.stdout)
            w.writerow(["rank", "id", "department", "score", "band", "status", "override", "excluded_by"])
            for s in rows:
                w.writerow([s.rank or "", s.id, s.department, f"{s.score:g}", s.band or "", s.status,
                            s.override.band if s.override else "", ";".join(s.excluded_by)])
            return
        from rich.table import Table

        table = Table(title=f"Release priorities — method {method.version} ({method.source})")
        for col, justify in (("rank", "right"), ("id", "left"), ("department", "left"), ("score", "right"),
                             ("band", "left"), ("status", "left"), ("note", "left")):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        for s in rows:
            note = ""
            if s.override is not None:
                note = f"override {s.override.band} by {s.override.by} (computed {s.computed_band or '—'})"
            if s.excluded_by:
                note = "excluded: " + ", ".join(s.excluded_by)
            table.add_row(str(s.rank) if s.rank else "—", s.id, s.department, f"{s.score:.1f}", s.band or "—",
                          s.status, note)
        app.out.print(table)

    app.finish(data=data, render=render)


@command.command("explain")
@click.argument("dataset_id", shell_complete=complete.dataset_ids)
@_demand_option
@json_option
@pass_app
def explain_cmd(app: App, dataset_id: str, demand_file: Path | None, as_json: bool) -> None:
    """Explain a dataset's score: each criterion's input, points and weight, gates and any override.

    \b
    Examples:
      kcdata score explain water-main-breaks
      kcdata score explain water-main-breaks --json
    """
    from kcdata.score import explain

    _result, method, ranking = compute_ranking(app.root, demand_file, warn=app.warn)
    ex = explain(ranking=ranking, dataset_id=dataset_id)
    data = {"method": method_json(method), "explanation": to_jsonable(ex)}

    def render() -> None:
        from rich.table import Table

        app.out.print(ex.sentence)
        app.out.print("")
        table = Table(title=f"{ex.id}: {ex.score:g}/100 — method {method.version}")
        for col in ("criterion", "points", "weight", "adds", "because"):
            table.add_column(col, justify="right" if col in {"points", "weight", "adds"} else "left")
        for b in ex.breakdown:
            table.add_row(b.criterion, f"{b.points:g}", f"{b.weight:g}", f"{b.contribution:g}",
                          b.reason)
        app.out.print(table)
        for g in ex.gates:
            app.out.print(f"gate {g['gate']}: {g['reason']}")
        if ex.override is not None:
            o = ex.override
            app.out.print(f"override: band {o.band} set by {o.by} on {o.when} — {o.why}")

    app.finish(data=data, render=render)


@command.command("override")
@click.argument("dataset_id", shell_complete=complete.dataset_ids)
@click.option("--band", type=click.Choice(["P1", "P2", "P3"]), help="The band the committee decided.")
@click.option("--by", "by", help="Who decided (person or body).")
@click.option("--why", help="Why the committee overrides the computed band.")
@click.option("--clear", is_flag=True, help="Remove the override instead.")
@json_option
@pass_app
def override_cmd(app: App, dataset_id: str, band: str | None, by: str | None, why: str | None, clear: bool,
                 as_json: bool) -> None:
    """Record the committee's band for a dataset (who, when, why), shown in every ranking.

    \b
    Examples:
      kcdata score override water-main-breaks --band P1 --by "Governance Committee" --why "Council request"
      kcdata score override water-main-breaks --clear
    """
    from kcdata.errors import InputError
    from kcdata.score import clear_override, set_override

    app.program.dataset(dataset_id)  # unknown id: did-you-mean, exit 3
    if clear:
        path = clear_override(root=app.root, dataset_id=dataset_id)
    else:
        if not (band and by and why):
            raise InputError("an override needs --band, --by and --why",
                             hint="The committee's decision is recorded with who and why.")
        path = set_override(root=app.root, dataset_id=dataset_id, band=band, by=by, why=why)
    _result, _method, ranking = compute_ranking(app.root)
    scored = next(s for s in ranking if s.id == dataset_id)
    data = {"dataset": to_jsonable(scored), "file": path.relative_to(app.root).as_posix()
            if path.is_relative_to(app.root) else str(path)}

    def render() -> None:
        if clear:
            app.out.print(f"{dataset_id}: override removed; band {scored.band or '—'} ({path.name})")
        else:
            app.out.print(f"{dataset_id}: band {band} recorded by {by} ({path.name}); "
                          f"computed band {scored.computed_band or '—'}, rank {scored.rank or '—'}")

    app.finish(data=data, render=render)
