"""Release announcements: which datasets were published or updated since a date, an Atom feed of
them, and ready-to-post social media drafts (one per dataset, at most 280 characters).

A *release event* is a history record whose ``to`` is ``published``: from another status it is a
new publication, from ``published`` a substantial update. Only datasets that are published now and
have a portal id are announced: an announcement without a link helps nobody.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kcdata.changelog import Change
from kcdata.inventory.model import Dataset, Inventory, Status
from kcdata.policy.periodicity import parse_instant
from kcdata.site.settings import SiteSettings

ATOM_NS = "http://www.w3.org/2005/Atom"
DRAFT_LIMIT = 280
_ELLIPSIS = "…"


class ReleaseKind(StrEnum):
    NEW = "new"
    UPDATED = "updated"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseEvent:
    """One history record that (re)published a dataset."""

    dataset_id: str
    at: dt.datetime  # timezone-aware (UTC when the file gave no zone)
    kind: ReleaseKind
    by: str
    note: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Announcement:
    """One dataset to announce: its latest release event in the window and the texts to post."""

    id: str
    title: str
    department: str
    kind: ReleaseKind
    at: dt.datetime
    portal_url: str
    summary: str
    entry_id: str  # the Atom entry id (a tag: URI)
    draft: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AnnounceResult:
    since: dt.date
    announcements: tuple[Announcement, ...]
    skipped: tuple[str, ...]  # why a released dataset was not announced (no portal id, retired...)


def parse_when(raw: str) -> dt.datetime | None:
    """A history timestamp (date or datetime, ISO 8601) as an aware datetime; None if unreadable."""
    return parse_instant(raw)


def release_events(datasets: Iterable[Dataset]) -> list[ReleaseEvent]:
    """Every publication and republication in the inventory's history, oldest first."""
    events: list[ReleaseEvent] = []
    for ds in datasets:
        for rec in ds.history:
            if rec.to_status != Status.PUBLISHED.value:
                continue
            when = parse_when(rec.at)
            if when is None:
                continue
            kind = ReleaseKind.UPDATED if rec.from_status == Status.PUBLISHED.value else ReleaseKind.NEW
            events.append(ReleaseEvent(dataset_id=ds.id, at=when, kind=kind, by=rec.by, note=rec.note))
    events.sort(key=lambda e: (e.at, e.dataset_id))
    return events


def first_publications(datasets: Iterable[Dataset]) -> dict[str, dt.date]:
    """The date each dataset was first published, per its history."""
    first: dict[str, dt.date] = {}
    for ev in release_events(datasets):
        first.setdefault(ev.dataset_id, ev.at.date())
    return first


def _clip(text: str, limit: int) -> str:
    """Shorten at a word boundary, with an ellipsis, to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return _ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + _ELLIPSIS


def compose_draft(*, kind: ReleaseKind, title: str, department: str, description: str, url: str,
                  hashtag: str, limit: int = DRAFT_LIMIT) -> str:
    """A post of at most ``limit`` characters (literal length) that always ends with the link and hashtag.

    The title and description are shortened as needed; the link and hashtag never are.
    """
    lead = "New open data" if kind is ReleaseKind.NEW else "Updated open data"
    tail = f"\n{url} {hashtag}"
    budget = max(limit - len(tail), 0)
    head = f"{lead} from {department}: " if department else f"{lead}: "
    if len(head) > budget // 3:
        head = f"{lead}: "
    title_part = _clip(title, max(budget - len(head) - 1, 1))
    body = f"{head}{title_part}."
    room = budget - len(body) - 1
    if room >= 20:
        body += " " + _clip(description, room)
    text = body[:budget] + tail
    return text


def tag_uri(*, authority: str, when: dt.date, specific: str) -> str:
    """An RFC 4151 tag URI, e.g. ``tag:data.kcmo.org,2026-11-20:dataset/water-main-breaks``."""
    return f"tag:{authority},{when.isoformat()}:{specific}"


def announcements(*, inventory: Inventory, settings: SiteSettings, since: dt.date,
                  department_names: Mapping[str, str] | None = None) -> AnnounceResult:
    """The datasets published or substantially updated on or after ``since``, newest first."""
    names = dict(department_names or {d.id: d.name for d in inventory.departments})
    by_id = {d.id: d for d in inventory.datasets}
    latest: dict[str, list[ReleaseEvent]] = {}
    for ev in release_events(inventory.datasets):
        if ev.at.date() >= since:
            latest.setdefault(ev.dataset_id, []).append(ev)
    out: list[Announcement] = []
    skipped: list[str] = []
    authority = settings.portal_domain or "kcdata.invalid"
    for ds_id, evs in latest.items():
        ds = by_id[ds_id]
        last = evs[-1]
        # A first publication inside the window is the news, even if an update followed it.
        kind = ReleaseKind.NEW if any(e.kind is ReleaseKind.NEW for e in evs) else ReleaseKind.UPDATED
        url = settings.portal_url(ds.portal_id)
        if ds.status is not Status.PUBLISHED:
            skipped.append(f"{ds_id}: released on {last.at.date()} but its status is now {ds.status.value}")
            continue
        if url is None:
            reason = "no portal_id" if not ds.portal_id else "no program.portal_domain in kcdata.yaml"
            skipped.append(f"{ds_id}: released on {last.at.date()} but has {reason}, so nothing to link to")
            continue
        department = names.get(ds.department, ds.department)
        summary = _clip(ds.description, 600)
        out.append(Announcement(
            id=ds_id, title=ds.title, department=department, kind=kind, at=last.at, portal_url=url,
            summary=summary,
            entry_id=tag_uri(authority=authority, when=last.at.date(), specific=f"dataset/{ds_id}/{kind.value}"),
            draft=compose_draft(kind=kind, title=ds.title, department=department, description=ds.description,
                                url=url, hashtag=settings.hashtag),
        ))
    out.sort(key=lambda a: (a.at, a.id), reverse=True)
    return AnnounceResult(since=since, announcements=tuple(out), skipped=tuple(skipped))


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_feed(*, result: AnnounceResult, settings: SiteSettings, now: dt.datetime,
              self_href: str = "feed.xml", site_href: str | None = "index.html",
              changes: Sequence[Change] = ()) -> bytes:
    """The announcements, and an entry per release that changed a dataset (``changes``, from the changelog),
    as an Atom 1.0 (RFC 4287) feed document, UTF-8 encoded.

    ``self_href``/``site_href`` are made absolute with ``site.base_url`` when it is set; Atom
    allows relative references (resolved against the feed's own address) otherwise. ``site_href=None``
    leaves out the link to the catalog (a feed written outside the site).
    """
    ET.register_namespace("", ATOM_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    base = settings.base_url or ""
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    authority = settings.portal_domain or "kcdata.invalid"
    # A feed id must never change: the tag date is a fixed constant, not the build date.
    el(feed, "id", f"tag:{authority},2014:kcdata/releases")
    el(feed, "title", f"{settings.city}: new and updated open data")
    el(feed, "subtitle", f"Datasets {settings.publisher} released on its open data portal.")
    updated = max([a.at for a in result.announcements] + [c.when for c in changes], default=now)
    el(feed, "updated", _iso(updated))
    el(feed, "link", rel="self", type="application/atom+xml", href=base + self_href)
    if site_href is not None:
        el(feed, "link", rel="alternate", type="text/html", href=base + site_href)
    author = el(feed, "author")
    el(author, "name", settings.publisher)
    if settings.publisher_email:
        el(author, "email", settings.publisher_email)
    el(feed, "generator", "kcdata")
    for a in result.announcements:
        entry = el(feed, "entry")
        el(entry, "id", a.entry_id)
        prefix = "New" if a.kind is ReleaseKind.NEW else "Updated"
        el(entry, "title", f"{prefix}: {a.title}")
        el(entry, "updated", _iso(a.at))
        el(entry, "link", rel="alternate", type="text/html", href=a.portal_url)
        el(entry, "category", term=a.kind.value)
        el(entry, "summary", f"{a.department}. {a.summary}", type="text")
    for c in changes:
        entry = el(feed, "entry")
        stamp = c.when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        el(entry, "id", tag_uri(authority=authority, when=c.when.date(),
                                specific=f"dataset/{c.dataset}/change/{stamp}"))
        el(entry, "title", f"Changed: {c.title or c.dataset}")
        el(entry, "updated", _iso(c.when))
        # Atom needs an alternate link on an entry without content: the portal page, else the changes page.
        url = settings.portal_url(c.portal_id) or base + "changes.html"
        el(entry, "link", rel="alternate", type="text/html", href=url)
        el(entry, "category", term="changed")
        el(entry, "summary", c.summary, type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def drafts_text(result: AnnounceResult) -> str:
    """The drafts as plain text, separated by a blank line and a rule, ready to copy."""
    blocks = [f"[{a.id}] ({len(a.draft)} characters)\n{a.draft}" for a in result.announcements]
    return ("\n\n---\n\n".join(blocks) + "\n") if blocks else ""
