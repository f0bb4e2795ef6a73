"""``kcdata review``: the release review workflow of the governance committee."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kcdata.cli import complete
from kcdata.cli.app import App, json_option, pass_app
from kcdata.jsonable import to_jsonable


@click.group("review")
def command() -> None:
    """Move datasets through review: propose, submit, approve, reject, withhold, retire.

    \b
    inventoried -> proposed -> in_review -> approved -> published -> retired
    (withhold from inventoried, proposed or in_review; reject sends in_review back to proposed)

    \b
    Examples:
      kcdata review propose water-main-breaks --by "Water liaison"
      kcdata review submit water-main-breaks --by "Water liaison"
      kcdata review approve water-main-breaks --by "Governance Committee" --note "Meeting 2026-12-01"
      kcdata review queue
      kcdata review agenda -o agenda.md
    """


_HELP = {
    "propose": ("Propose a dataset for release (inventoried -> proposed). Not gated: propose early.",
                'kcdata review propose water-main-breaks --by "Water liaison"'),
    "submit": ("Submit a proposal to the committee (proposed -> in_review).\n\n"
               "Gate: release-eligible, release-metadata (license, keywords, theme, accrual_periodicity, data, "
               "schema, row_identifier) and rights when access or classification is not public.",
               'kcdata review submit water-main-breaks --by "Water liaison"'),
    "approve": ("Approve a dataset for publishing (in_review -> approved).\n\n"
                "Gate: the submit checks plus open-license, validation-passing (on the current data file; "
                "runs validation when the cached result is stale), privacy-reviewed and row-identifier "
                "(declared in the schema, unique in the data).",
                'kcdata review approve water-main-breaks --by "Governance Committee"'),
    "reject": ("Send a dataset back to its liaison (in_review -> proposed). --note is required.",
               'kcdata review reject water-main-breaks --by "Governance Committee" --note "Add a schema"'),
    "withhold": ("Withhold a dataset from release (inventoried/proposed/in_review -> withheld).\n\n"
                 "--note is the written justification; it is also written to `rights` when that is empty.",
                 'kcdata review withhold water-customers --by "Law" --note "Customer account data (RSMo 610.021)"'),
    "retire": ("Retire a published dataset (published -> retired). Its id is kept and never reused.",
               'kcdata review retire old-permits --by "Governance Committee" --note "Replaced by permits-2"'),
}


def _transition_command(action: str) -> click.Command:
    text, example = _HELP[action]

    @click.argument("dataset_id", shell_complete=complete.dataset_ids)
    @click.option("--by", "by", required=True, help="Who takes this step (person or body).")
    @click.option("--note", help="Why (required for reject and withhold).")
    @json_option
    @pass_app
    def run(app: App, dataset_id: str, by: str, note: str | None, as_json: bool) -> None:
        from kcdata.review import transition

        result = transition(root=app.root, dataset_id=dataset_id, action=action, by=by, note=note)

        def render() -> None:
            app.out.print(f"{result.id}: {result.from_status} -> {result.to_status} by {result.by} "
                          f"({result.file})")
            for c in result.checks:
                app.out.print(f"  ✓ {c.name}: {c.message}")

        app.finish(data=to_jsonable(result), render=render)

    return click.command(action, help=f"{text}\n\n\b\nExample:\n  {example}\n")(run)


for _action in _HELP:
    command.add_command(_transition_command(_action))


@command.command("privacy")
@click.argument("dataset_id", shell_complete=complete.dataset_ids)
@click.option("--by", "by", required=True, help="Who reviewed classification and personal information.")
@click.option("--note", required=True, help="What was checked and what will be redacted or aggregated.")
@json_option
@pass_app
def privacy_cmd(app: App, dataset_id: str, by: str, note: str, as_json: bool) -> None:
    """Record the release review of a sensitive or PII dataset (`privacy_review` in the inventory).

    Lifts the needs-privacy-review scoring gate and satisfies approve's privacy-reviewed check.

    \b
    Example:
      kcdata review privacy 311-requests --by "Law" --note "Caller names and phones dropped; addresses to block"
    """
    from kcdata.review import record_privacy_review

    path = record_privacy_review(root=app.root, dataset_id=dataset_id, by=by, note=note)
    data = {"id": dataset_id, "privacy_review": {"by": by, "note": note}, "file": path.name}
    app.finish(data=data, render=lambda: app.out.print(f"{dataset_id}: privacy review recorded ({path.name})"))


@command.command("queue")
@json_option
@pass_app
def queue_cmd(app: App, as_json: bool) -> None:
    """What waits for the committee (proposed, in_review), oldest first, with score and gate status.

    \b
    Examples:
      kcdata review queue
      kcdata review queue --json
    """
    from kcdata.review import load_queue

    app.complete_program()
    items = load_queue(root=app.root)
    data = {"datasets": to_jsonable(items), "count": len(items)}

    def render() -> None:
        from rich.table import Table

        table = Table(title=f"{len(items)} waiting for the committee (oldest first)")
        for col in ("id", "department", "status", "waiting since", "score", "band", "next", "gate"):
            table.add_column(col)
        for q in items:
            failing = [c.name for c in q.checks if not c.passed]
            gate = "ready" if not failing else "blocked: " + ", ".join(failing)
            table.add_row(q.id, q.department, q.status, q.waiting_since or "unknown",
                          f"{q.score:.1f}" if q.score is not None else "—",
                          (q.band or ("excluded" if q.excluded_by else "—")) + ("*" if q.override else ""),
                          q.next_action or "", gate)
        app.out.print(table)
        if any(q.override for q in items):
            app.out.print("* band set by a committee override (kcdata score explain ID)")

    app.finish(data=data, render=render)


@command.command("agenda")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Markdown agenda to this file (atomically) instead of stdout.")
@click.option("--top-per-department", default=5, show_default=True, type=click.IntRange(min=1),
              help="Top candidates listed per department.")
@json_option
@pass_app
def agenda_cmd(app: App, output: Path | None, top_per_department: int, as_json: bool) -> None:
    """The Markdown agenda for the next committee meeting: queue, top candidates, overdue dates.

    \b
    Examples:
      kcdata review agenda
      kcdata review agenda -o meetings/2026-12-01.md
    """
    from kcdata.review import make_agenda, write_agenda

    app.complete_program()
    text = make_agenda(root=app.root, top_per_department=top_per_department)
    if output is not None:
        write_agenda(output, text)
        app.info(f"agenda written to {output}")
    data: dict[str, Any] = {"markdown": text, "file": str(output) if output else None}

    def render() -> None:
        if output is None:
            import sys

            sys.stdout.write(text if text.endswith("\n") else text + "\n")

    app.finish(data=data, render=render)


@command.command("history")
@click.argument("dataset_id", shell_complete=complete.dataset_ids)
@json_option
@pass_app
def history_cmd(app: App, dataset_id: str, as_json: bool) -> None:
    """A dataset's review history: who moved it, when, from and to which status, and why.

    \b
    Example:
      kcdata review history water-main-breaks
    """
    from kcdata.review import allowed_actions

    d = app.program.loaded.inventory.get(dataset_id)
    records = [{"who": h.by, "when": h.at, "from": h.from_status, "to": h.to_status, "note": h.note}
               for h in d.history]
    allowed = list(allowed_actions(d.status))
    # an approved dataset moves on by being published (kcdata publish apply), as approve says
    steps = (["publish"] if d.status.value == "approved" else []) + allowed
    data = {"id": d.id, "status": d.status.value, "allowed": allowed, "next": steps, "history": records}

    def render() -> None:
        from rich.table import Table

        table = Table(title=f"{d.id} — now {d.status.value}; next: {', '.join(steps) or 'nothing'}")
        for col in ("when", "who", "from", "to", "note"):
            table.add_column(col)
        for r in records:
            table.add_row(*(str(r[k] or "") for k in ("when", "who", "from", "to", "note")))
        if "publish" in steps:
            table.caption = f"publish it with: kcdata publish apply {d.id}"
        app.out.print(table)

    app.finish(data=data, render=render)
