"""``kcdata goals``: KCStat goal coverage by the inventory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kcdata.cli.app import App, json_option, pass_app

if TYPE_CHECKING:
    from kcdata.policy.goals import GoalsReport


@click.command("goals")
@json_option
@pass_app
def command(app: App, as_json: bool) -> None:
    """Show, per KCStat goal, the datasets linked, published and still unpublished (with score and band).

    Goals are the `goals:` list of kcdata.yaml; datasets link to them with `kcstat_goals`.
    Exit 1 when a goal has no published dataset behind it, or a dataset names a goal id that
    does not exist (both are findings the goals team must act on); 3 on malformed settings.

    \b
    Examples:
      kcdata goals
      kcdata goals --json
    """
    from kcdata.errors import KcdataError
    from kcdata.policy.goals import goals_report, load_goals
    from kcdata.policy.inputs import load_scores

    program = app.complete_program()
    goals = load_goals(program.settings)
    inventory = program.inventory
    try:
        _method, scores = load_scores(program=program)
    except KcdataError as exc:  # goal coverage stays useful without scores
        app.warn(f"scores unavailable: {exc.message}")
        scores = None
    report = goals_report(inventory=inventory, goals=goals, scores=scores)
    app.finish(data=report_json(report), render=lambda: render(app, report),
               exit_code=1 if report.has_findings else 0)


def report_json(report: GoalsReport) -> dict[str, Any]:
    from kcdata.jsonable import to_jsonable

    data = to_jsonable(report)
    assert isinstance(data, dict)
    for goal, cov in zip(data["goals"], report.goals, strict=True):
        goal["has_published"] = cov.has_published
    data["ok"] = not report.has_findings
    return data


def render(app: App, report: GoalsReport) -> None:
    from rich.table import Table

    table = Table(title=f"KCStat goals ({len(report.goals)})")
    for col in ("goal", "linked", "published", "unpublished (rank, score, band)"):
        table.add_column(col)
    for g in report.goals:
        unpublished = ", ".join(
            f"{d.id} (#{d.rank}, {d.score:g}, {d.band})" if d.rank is not None and d.score is not None
            else f"{d.id} ({'excluded: ' + ', '.join(d.excluded_by) if d.excluded_by else d.status})"
            for d in g.unpublished) or "-"
        published = ", ".join(d.id for d in g.published) or "NONE"
        table.add_row(f"{g.name} [{g.id}]", str(g.linked), published, unpublished,
                      style=None if g.has_published else "bold red")
    app.out.print(table)
    if report.without_published:
        app.out.print(f"Goals with no published data: {', '.join(report.without_published)}", style="bold red")
    for ref in report.unknown_refs:
        where = f"{ref.file}:{ref.line} " if ref.file else ""
        hint = f" (did you mean '{ref.suggestion}'?)" if ref.suggestion else ""
        app.out.print(f"{where}{ref.dataset}: unknown KCStat goal '{ref.goal}'{hint}", style="red")
    if report.unlinked:
        app.out.print(f"{len(report.unlinked)} dataset(s) linked to no goal: {', '.join(report.unlinked)}",
                      style="dim")
    if not report.scored:
        app.out.print("(scores not available: unpublished datasets are listed without rank)", style="dim")
