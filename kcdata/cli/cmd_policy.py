"""``kcdata policy``: the Sunlight open-data policy checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kcdata.cli.app import App, json_option, pass_app

if TYPE_CHECKING:
    from kcdata.policy.model import PolicyReport


@click.group("policy")
def command() -> None:
    """Check the program against the Sunlight open-data guidelines of the ordinance.

    \b
    Examples:
      kcdata policy check
      kcdata policy check --rule SUN-07-PII --json
      kcdata policy rules
    """


@command.command("check")
@click.option("--rule", "rule_ids", multiple=True, metavar="ID",
              help="Only this rule (repeatable), e.g. SUN-04 or SUN-07-PII.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Check as of this date (YYYY-MM-DD) instead of today.")
@click.option("--portal", "use_portal", is_flag=True,
              help="Also check that published views can be read WITHOUT a login on the portal in "
                   "KCDATA_PORTAL_URL (SUN-10); credentials are deliberately not used.")
@json_option
@pass_app
def check_cmd(app: App, rule_ids: tuple[str, ...], today: Any, use_portal: bool, as_json: bool) -> None:
    """Run every policy rule and show a program scorecard, then per-rule results.

    Exit 1 when a rule with severity "error" fails; rules set to "warning" in kcdata.yaml
    (policy.rules, each with a reason) are reported but never fail the run.

    \b
    Examples:
      kcdata policy check
      kcdata policy check --rule SUN-11 --rule SUN-27 --json
      KCDATA_PORTAL_URL=https://data.kcmo.org kcdata policy check --portal
    """
    import contextlib

    from kcdata.policy import check_program

    with contextlib.ExitStack() as stack:
        portal_view = None
        if use_portal:
            from kcdata.config import portal_credentials
            from kcdata.policy.freshness import portal_views

            creds = portal_credentials()
            from kcdata.publish.run import load_publish_settings

            production = load_publish_settings(program=app.program).portal_domain
            portal_view = stack.enter_context(portal_views(url=creds.url, app_token=creds.app_token,
                                                           production_domain=production))
        report = check_program(program=app.complete_program(), rule_ids=rule_ids or None,
                               today=today.date() if today else None, portal_view=portal_view)
    app.finish(data=report_json(report), render=lambda: render(app, report), exit_code=1 if report.failed else 0)


def report_json(report: PolicyReport) -> dict[str, Any]:
    """The ``--json`` data: the library report plus ``ok`` and a flat ``findings`` list."""
    from kcdata.jsonable import to_jsonable

    data = to_jsonable(report)
    assert isinstance(data, dict)
    data["ok"] = not report.failed
    data["findings"] = to_jsonable(report.findings)
    return data


_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "off": "dim", "skipped": "dim"}


def render(app: App, report: PolicyReport) -> None:
    from rich.table import Table

    sc = report.scorecard
    card = Table(title=f"Open data program scorecard ({report.checked_on})", show_header=False, box=None,
                 padding=(0, 2))
    card.add_column(style="bold")
    card.add_column()
    share = f" ({sc.published_share:.0%})" if sc.published_share is not None else ""
    card.add_row("datasets", f"{sc.datasets} in {sc.departments} department files")
    if sc.departments_expected is not None:
        missing = f"; missing: {', '.join(sc.departments_missing)}" if sc.departments_missing else ""
        card.add_row("departments", f"{sc.departments_expected - len(sc.departments_missing)} of "
                                    f"{sc.departments_expected} have an inventory{missing}")
    card.add_row("published", f"{sc.published} of {sc.release_eligible} release-eligible{share}")
    if sc.goal_linked_share is not None:
        card.add_row("KCStat goals", f"{sc.goal_linked_share:.0%} of datasets linked to a goal")
    card.add_row("non-public", f"{sc.non_public} ({sc.non_public_with_rights} with a written justification)")
    wwc = ", ".join(f"{'yes' if c.met else 'no'}: {c.name}" for c in sc.wwc_criteria)
    card.add_row("What Works Cities", f"{sc.wwc_met}/4 criteria ({'meets' if sc.wwc_certifiable else 'below'} "
                                      f"the 3 of 4 bar) — {wwc}")
    card.add_row("rules", f"{sc.rules_pass} pass, {sc.rules_fail} fail, {sc.rules_warn} warn, "
                          f"{sc.rules_off} off, {sc.rules_skipped} skipped")
    app.out.print(card)

    table = Table(title="Rules")
    for col in ("rule", "guideline", "status", "pass", "fail", "failing (first 3)"):
        table.add_column(col, no_wrap=col in ("rule", "status"))
    for r in report.rules:
        subjects = list(dict.fromkeys(f.subject for f in r.findings))
        failing = ", ".join(subjects[:3]) + (f" +{len(subjects) - 3}" if len(subjects) > 3 else "")
        if r.reason and r.status in ("off", "skipped", "warn"):
            failing = f"{failing} ({r.reason})" if failing else r.reason
        table.add_row(r.id, r.title, r.status.value, str(r.passed), str(r.failed), failing,
                      style=_STYLE.get(r.status.value))
    app.out.print(table)

    findings = report.findings
    if findings:
        detail = Table(title=f"Findings ({len(findings)})")
        detail.add_column("rule", no_wrap=True)
        detail.add_column("subject", overflow="fold", ratio=2)
        detail.add_column("where", overflow="fold", ratio=2)
        detail.add_column("message", overflow="fold", ratio=4)
        for f in findings:
            detail.add_row(f.rule, f.subject, f.location() if f.file else "-", f.message,
                           style=None if f.severity == "error" else "yellow")
        app.out.print(detail)


@command.command("rules")
@json_option
@pass_app
def rules_cmd(app: App, as_json: bool) -> None:
    """List the rules: id, guideline, scope, severity (after kcdata.yaml settings) and rationale.

    \b
    Example:
      kcdata policy rules --json
    """
    from kcdata.policy import RULES, load_policy_settings

    settings = load_policy_settings(app.program.settings)
    rows = []
    for r in RULES:
        o = settings.overrides.get(r.id)
        rows.append({"id": r.id, "guideline": r.guideline, "title": r.title, "rationale": r.rationale,
                     "scope": r.scope.value, "default_severity": r.severity.value,
                     "severity": (o.severity or r.severity).value if o else r.severity.value,
                     "enabled": o.enabled if o else True, "reason": o.reason if o else None})

    def render_rules() -> None:
        from rich.table import Table

        table = Table(title=f"{len(rows)} policy rules")
        for col in ("id", "scope", "severity", "rationale"):
            table.add_column(col)
        for row in rows:
            sev = str(row["severity"]) if row["enabled"] else f"off ({row['reason']})"
            table.add_row(str(row["id"]), str(row["scope"]), sev, str(row["rationale"]))
        app.out.print(table)

    app.finish(data={"rules": rows}, render=render_rules)
