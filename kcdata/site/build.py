"""``build_site``: render the public catalog site into a folder, replaced atomically.

The site is built into a private temporary sibling of the output folder and swapped into place
only when complete, so the published folder is always either the old site or the new one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.changelog import by_dataset, read_changes
from kcdata.errors import FindingsError, InputError
from kcdata.fileio import replace_dir_atomically
from kcdata.inventory.model import Status
from kcdata.program import Program
from kcdata.site import charts, model
from kcdata.site.announce import announcements, atom_feed
from kcdata.site.settings import site_settings
from kcdata.site.sources import (
    Finding,
    PolicySummary,
    lint_problems,
    load_policy,
    load_priorities,
    load_validations,
    validation_statuses,
)

log = logging.getLogger(__name__)
MARKER = ".kcdata-site"  # marks a folder as a kcdata-built site, safe to replace
_PACKAGE = Path(__file__).parent


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteBuild:
    """What a build wrote and what it noticed."""

    out_dir: Path
    index: Path
    url: str  # file:// URL of index.html
    pages: tuple[str, ...]  # files written, relative to out_dir (posix)
    datasets: int
    problems: tuple[Finding, ...]  # inventory/policy problems, also shown on the program page
    warnings: tuple[str, ...]  # what the site could not show (missing stages, unsafe ids ...)
    with_priority: bool
    with_policy: bool
    validated: int
    feed_entries: int


def _check_out_dir(out_dir: Path, root: Path) -> None:
    """Refuse to replace a folder that holds the program or that kcdata did not build."""
    if out_dir == root or out_dir in root.parents:
        raise InputError(f"{out_dir}: the site cannot be built into the program folder or one of its parents",
                         hint="Choose a separate folder, e.g. `-o site` (the default).")
    if out_dir.exists():
        if not out_dir.is_dir():
            raise InputError(f"{out_dir}: exists and is not a folder", hint="Choose another output path.")
        if any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
            raise InputError(f"{out_dir}: not empty and not a site kcdata built; refusing to replace it",
                             hint="Choose an empty or new folder, or delete this one yourself.")


def _json_for_script(data: Any) -> str:
    # Inside <script>, "</script>" or "<!--" in a title would end the block: escape <, > and &.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_PACKAGE / "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env


def build_site(*, out_dir: Path, program: Program | None = None, root: Path | None = None, strict: bool = False,
               now: dt.datetime | None = None, on_progress: Callable[[str], None] | None = None) -> SiteBuild:
    """Build the static catalog site for the program at ``root`` into ``out_dir``.

    Inventory problems are listed on the program page; with ``strict`` they refuse the build
    (:class:`FindingsError`, exit 1). ``on_progress`` is called with each file written (relative path).
    """
    from markupsafe import Markup

    from kcdata.dictionary.render import site_fragment

    program = Program.of(program, root=Path(root).resolve() if root is not None else None)
    root = program.root.resolve()
    out_dir = Path(out_dir).resolve()
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    today = now.date()
    settings = program.settings
    site = site_settings(settings)
    goals = model.goals_from_settings(settings)
    problems = [Finding(source="inventory", where=p.location(), message=p.message, code=p.code,
                        severity=p.severity) for p in lint_problems(program)]
    errors = [p for p in problems if p.severity == "error"]
    if strict and errors:
        raise FindingsError(
            f"--strict: the inventory has {len(errors)} lint error(s); the site was not built",
            hint="Fix them (`kcdata inventory lint`) or build without --strict to show them on the program page.",
            code="inventory-problems",
            details={"problems": [{"where": p.where, "message": p.message, "code": p.code} for p in errors]})
    _check_out_dir(out_dir, root)

    inventory = program.inventory
    reports, warnings = load_validations(program)
    validations = validation_statuses(reports)
    priorities, pwarn = load_priorities(program, validations=reports)
    warnings += pwarn
    policy, polwarn = load_policy(program, today=today, validations=reports)
    warnings += polwarn
    views, vw = model.dataset_views(inventory=inventory, settings=site, goals=goals, priorities=priorities,
                                    validations=validations, today=today)
    warnings += vw
    if site.request_url is None:
        warnings.append("no request link: set site.request_url or program.publisher_email in kcdata.yaml")
    if site.portal_domain is None:
        warnings.append("no portal links: set program.portal_domain in kcdata.yaml")

    # The changelog of the portal residents use (program.portal_domain); every portal's when none is set.
    changes = read_changes(root, portal=site.portal_domain)
    changes_by_dataset = by_dataset(changes)
    feed = announcements(inventory=inventory, settings=site, since=dt.date.min)
    feed = type(feed)(since=feed.since, announcements=feed.announcements[: site.feed_entries], skipped=feed.skipped)
    env = _environment()
    common = {"site": site, "generated": now, "status_labels": model.STATUS_LABELS,
              "status_colors": model.STATUS_COLORS, "Status": Status}

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.building-", dir=out_dir.parent))
    written: list[str] = []

    def write(rel: str, content: str | bytes) -> None:
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        written.append(rel)
        if on_progress is not None:
            on_progress(rel)

    try:
        for asset in sorted((_PACKAGE / "static").iterdir()):
            if asset.is_file():
                write(f"assets/{asset.name}", asset.read_bytes())
        catalog = [v.catalog_entry() for v in views]
        facets = {
            "departments": sorted({(v.ds.department, v.department_name) for v in views}, key=lambda x: x[1].lower()),
            "statuses": [(s.value, model.STATUS_LABELS[s]) for s in model.STATUS_ORDER
                         if any(v.ds.status is s for v in views)],
            "themes": sorted({v.ds.theme for v in views if v.ds.theme}),
            "access_levels": sorted({v.ds.access_level.value for v in views}),
            # Goal ids that kcdata.yaml does not define still filter (lint reports them).
            "goals": [(g.id, g.name) for g in goals] + sorted(
                {(g.id, g.name) for v in views for g in v.goals} - {(g.id, g.name) for g in goals}),
        }
        write("index.html", env.get_template("index.html").render(
            **common, base="", page="catalog", views=views, facets=facets,
            catalog_json=Markup(_json_for_script(catalog))))  # noqa: S704 - escaped by _json_for_script
        tpl = env.get_template("dataset.html")
        for v in views:
            fragment = site_fragment(root=root, dataset=v.ds, department_name=v.department_name)
            write(v.href, tpl.render(**common, base="../", page="dataset", v=v,
                                     changes=changes_by_dataset.get(v.ds.id, []),
                                     dictionary=Markup(fragment) if fragment else None))  # noqa: S704 - escaped
        titles = {v.ds.id: (v.ds.title, v.href) for v in views}
        write("changes.html", env.get_template("changes.html").render(
            **common, base="", page="changes", changes=changes, titles=titles))
        write("program.html", _render_program(env, common, views, goals, problems, priorities is not None, today,
                                              policy))
        write("feed.xml", atom_feed(result=feed, settings=site, now=now,
                                    changes=[c for c in changes if c.action != "create"][: site.feed_entries]))
        write(MARKER, f"built by kcdata at {now.isoformat()}\n")
        replace_dir_atomically(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    index = out_dir / "index.html"
    return SiteBuild(out_dir=out_dir, index=index, url=index.as_uri(), pages=tuple(written), datasets=len(views),
                     problems=tuple(problems), warnings=tuple(warnings), with_priority=priorities is not None,
                     with_policy=policy is not None, validated=len(validations), feed_entries=len(feed.announcements))


def _render_program(env: Any, common: dict[str, Any], views: list[model.DatasetView], goals: tuple[model.Goal, ...],
                    problems: list[Finding], with_priority: bool, today: dt.date,
                    policy: PolicySummary | None) -> str:
    from markupsafe import Markup

    series = [charts.Series(key=s.value, label=model.STATUS_LABELS[s], color=model.STATUS_COLORS[s])
              for s in model.STATUS_ORDER]
    dep_rows = model.by_department_status(views)
    progress = model.sample_progress(model.release_progress(views, today))
    bands = model.priority_bands(views) if with_priority else []
    coverage = model.goal_coverage(views, goals)
    late = model.overdue(views)
    published = sum(1 for v in views if v.ds.status is Status.PUBLISHED)
    svg = {
        "departments": charts.stacked_bars(
            chart_id="chart-departments", title="Datasets by department and status",
            desc=f"{len(views)} datasets in {len(dep_rows)} departments; {published} published.",
            series=series, rows=dep_rows),
        "progress": charts.lines(
            chart_id="chart-progress", title="Release progress by month: datasets published so far and on the portal",
            desc=(f"By {today:%B %Y}, {progress.ever_published[-1] if progress.months else 0} datasets have been "
                  f"published; {progress.on_portal[-1] if progress.months else 0} are on the portal now "
                  "(retired ones are removed)."),
            labels=progress.months,
            series=[(charts.Series(key="ever", label="Published so far (cumulative)",
                                   color=model.STATUS_COLORS[Status.PUBLISHED]), progress.ever_published),
                    (charts.Series(key="live", label="On the portal at month end", color="#0b4f8a"),
                     progress.on_portal)]),
        "bands": charts.bars(
            chart_id="chart-bands", title="Unreleased datasets by release priority band",
            desc="; ".join(f"{label}: {n}" for label, n in bands),
            rows=[(label, n, "#0b66b2" if i < len(bands) - 2 else "#6b6b6b") for i, (label, n) in enumerate(bands)],
        ) if bands else "",
        "goals": charts.stacked_bars(
            chart_id="chart-goals", title="KCStat goal coverage: datasets linked to each goal",
            desc="; ".join(f"{name}: {n} datasets, {p} published" for name, n, p in coverage),
            series=[charts.Series(key="published", label="Published", color=model.STATUS_COLORS[Status.PUBLISHED]),
                    charts.Series(key="other", label="Not yet published", color="#8a8a8a")],
            rows=[(name, [p, n - p]) for name, n, p in coverage]),
        "overdue": charts.bars(
            chart_id="chart-overdue", title="Overdue releases: days past the agreed target date",
            desc=f"{len(late)} datasets are past their target release date.",
            rows=[(v.ds.title, v.overdue_days or 0, model.STATUS_COLORS[Status.WITHHELD]) for v in late[:15]],
        ) if late else "",
    }
    return str(env.get_template("program.html").render(
        **common, base="", page="program", views=views,
        dep_table=[(name, *counts, sum(counts)) for name, counts in dep_rows], progress=progress,
        progress_table=list(zip(progress.months, progress.ever_published, progress.on_portal, strict=True)),
        unrecorded=progress.unrecorded, bands=bands, progress_step=_step_words(progress.months),
        coverage=coverage, late=late, problems=problems,
        with_priority=with_priority, published=published, policy=policy,
        svg={k: Markup(v) for k, v in svg.items()}))  # noqa: S704 - charts escape every text they draw


def _step_words(months: tuple[str, ...]) -> str:
    if len(months) < 2:
        return ""
    (y0, m0), (y1, m1) = (map(int, months[0].split("-")), map(int, months[1].split("-")))
    gap = (y1 - y0) * 12 + m1 - m0
    return {1: "", 3: "quarterly", 12: "yearly"}.get(gap, "")


def default_out_dir(root: Path) -> Path:
    """Where ``kcdata site build`` writes without ``-o``: ``<root>/site``."""
    return Path(root) / "site"


__all__ = ["MARKER", "SiteBuild", "build_site", "default_out_dir"]
