"""`kcdata announce`: release detection, the Atom feed (checked against RFC 4287 rules) and drafts."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from site_program import NOW, write_program

from kcdata.config import load_settings
from kcdata.inventory import load_inventory
from kcdata.jsonable import to_jsonable
from kcdata.site import build_site
from kcdata.site.announce import DRAFT_LIMIT, ReleaseKind, announcements, atom_feed, compose_draft
from kcdata.site.settings import site_settings

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")


def atom_problems(data: bytes) -> list[str]:
    """The RFC 4287 structure rules a feed reader relies on (section numbers in the messages)."""
    problems: list[str] = []
    root = ET.fromstring(data)
    if root.tag != f"{A}feed":
        return [f"root element is {root.tag}, not atom:feed (4.1.1)"]

    def one(parent: ET.Element, name: str, where: str) -> ET.Element | None:
        found = parent.findall(f"{A}{name}")
        if len(found) != 1:
            problems.append(f"{where}: exactly one atom:{name} required, found {len(found)}")
            return None
        return found[0]

    def check_common(el: ET.Element, where: str) -> None:
        id_el = one(el, "id", where)
        if id_el is not None and not IRI.match(id_el.text or ""):
            problems.append(f"{where}: atom:id {id_el.text!r} is not an IRI (4.2.6)")
        title = one(el, "title", where)
        if title is not None and not (title.text or "").strip():
            problems.append(f"{where}: empty atom:title")
        upd = one(el, "updated", where)
        if upd is not None and not RFC3339.match(upd.text or ""):
            problems.append(f"{where}: atom:updated {upd.text!r} is not an RFC 3339 date-time (3.3)")
        alternates = [(lk.get("type"), lk.get("hreflang")) for lk in el.findall(f"{A}link")
                      if lk.get("rel", "alternate") == "alternate"]
        if len(alternates) != len(set(alternates)):
            problems.append(f"{where}: two alternate links with the same type and hreflang (4.1.1)")
        for lk in el.findall(f"{A}link"):
            if not lk.get("href"):
                problems.append(f"{where}: atom:link without href (4.2.7.1)")

    check_common(root, "feed")
    if not any(lk.get("rel") == "self" for lk in root.findall(f"{A}link")):
        problems.append("feed: no link rel=self (4.1.1 SHOULD)")
    feed_author = root.find(f"{A}author")
    entries = root.findall(f"{A}entry")
    for i, entry in enumerate(entries):
        where = f"entry[{i}]"
        check_common(entry, where)
        if feed_author is None and entry.find(f"{A}author") is None:
            problems.append(f"{where}: no atom:author here or on the feed (4.1.2)")
        has_alt = any(lk.get("rel", "alternate") == "alternate" for lk in entry.findall(f"{A}link"))
        if entry.find(f"{A}content") is None and not has_alt:
            problems.append(f"{where}: needs atom:content or a link rel=alternate (4.1.2)")
        if entry.find(f"{A}summary") is None:
            problems.append(f"{where}: no atom:summary")
    if feed_author is not None and feed_author.find(f"{A}name") is None:
        problems.append("feed: atom:author without atom:name (3.2.1)")
    ids = [e.findtext(f"{A}id") for e in entries]
    if len(ids) != len(set(ids)):
        problems.append("two entries share an atom:id")
    return problems


@pytest.fixture
def program(tmp_path: Path) -> Path:
    return write_program(tmp_path / "program")


def _announce(root: Path, since: dt.date):
    site = site_settings(load_settings(root))
    return announcements(inventory=load_inventory(root).inventory, settings=site, since=since), site


def test_since_filters_releases(program: Path) -> None:
    recent, _ = _announce(program, dt.date(2026, 11, 1))
    assert [(a.id, a.kind) for a in recent.announcements] == [("dataset-01", ReleaseKind.UPDATED)]
    year, _ = _announce(program, dt.date(2026, 1, 1))
    assert [(a.id, a.kind) for a in year.announcements] == [("dataset-01", ReleaseKind.NEW),
                                                            ("dataset-03", ReleaseKind.NEW)]
    assert year.announcements[0].at == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC), "latest event, newest first"
    none, _ = _announce(program, dt.date(2026, 11, 21))
    assert none.announcements == ()
    boundary, _ = _announce(program, dt.date(2026, 11, 20))
    assert [a.id for a in boundary.announcements] == ["dataset-01"], "--since is inclusive"


def test_feed_is_valid_atom(program: Path) -> None:
    result, site = _announce(program, dt.date(2026, 1, 1))
    feed = atom_feed(result=result, settings=site, now=NOW)
    assert feed.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert atom_problems(feed) == []
    root = ET.fromstring(feed)
    entries = root.findall(f"{A}entry")
    assert len(entries) == 2
    first = entries[0]
    assert first.findtext(f"{A}id", "").startswith("tag:data.kcmo.org,2026-11-20:")
    assert first.find(f"{A}link").get("href") == "https://data.kcmo.org/d/abcd-1234"
    assert first.findtext(f"{A}title") == "New: Water Main Breaks"
    assert root.findtext(f"{A}updated") == "2026-11-20T10:00:00Z"


def test_empty_feed_is_still_valid(program: Path) -> None:
    result, site = _announce(program, dt.date(2030, 1, 1))
    feed = atom_feed(result=result, settings=site, now=NOW)
    assert atom_problems(feed) == []
    assert ET.fromstring(feed).findtext(f"{A}updated") == "2026-11-27T12:00:00Z"


def test_hostile_titles_survive_the_feed(tmp_path: Path) -> None:
    root = write_program(tmp_path / "p")
    text = (root / "inventory/water.yaml").read_text(encoding="utf-8")
    (root / "inventory/water.yaml").write_text(
        text.replace("title: Water Main Breaks", "title: 'Breaks <![CDATA[ ]]> & </title><evil/>'"), encoding="utf-8")
    result, site = _announce(root, dt.date(2026, 1, 1))
    feed = atom_feed(result=result, settings=site, now=NOW)
    assert atom_problems(feed) == []
    titles = [e.findtext(f"{A}title") for e in ET.fromstring(feed).findall(f"{A}entry")]
    assert "New: Breaks <![CDATA[ ]]> & </title><evil/>" in titles


def test_drafts_fit_and_carry_link_and_hashtag(program: Path) -> None:
    result, site = _announce(program, dt.date(2026, 1, 1))
    assert result.announcements
    for a in result.announcements:
        assert len(a.draft) <= DRAFT_LIMIT
        assert a.portal_url in a.draft and a.draft.endswith(site.hashtag)
        assert a.title in a.draft


def test_skips_releases_without_a_portal_link(tmp_path: Path) -> None:
    root = write_program(tmp_path / "p")
    text = (root / "inventory/water.yaml").read_text(encoding="utf-8")
    (root / "inventory/water.yaml").write_text(text.replace("portal_id: wqts-0001", "portal_id: null"),
                                               encoding="utf-8")
    result, _ = _announce(root, dt.date(2026, 1, 1))
    assert [a.id for a in result.announcements] == ["dataset-01"]
    assert any(s.startswith("dataset-03:") and "portal_id" in s for s in result.skipped)


words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=200, deadline=None)
@given(title=words.filter(lambda s: s.strip()), description=words, department=st.text(max_size=80),
       kind=st.sampled_from(list(ReleaseKind)), portal_id=st.from_regex(r"[a-z0-9]{4}-[a-z0-9]{4}", fullmatch=True),
       hashtag=st.from_regex(r"#[A-Za-z0-9_]{1,40}", fullmatch=True))
def test_any_draft_fits_280_with_link_and_hashtag(title: str, description: str, department: str,
                                                   kind: ReleaseKind, portal_id: str, hashtag: str) -> None:
    url = f"https://data.kcmo.org/d/{portal_id}"
    draft = compose_draft(kind=kind, title=title, department=department, description=description, url=url,
                          hashtag=hashtag)
    assert len(draft) <= DRAFT_LIMIT
    assert draft.endswith(f"\n{url} {hashtag}")


def test_site_build_writes_the_feed(program: Path, tmp_path: Path) -> None:
    build_site(root=program, out_dir=tmp_path / "site", now=NOW)
    feed = (tmp_path / "site" / "feed.xml").read_bytes()
    assert atom_problems(feed) == []
    assert len(ET.fromstring(feed).findall(f"{A}entry")) == 2


# -- CLI --------------------------------------------------------------------------------------------

def test_cli_text_drafts(cli, program: Path) -> None:
    r = cli(["--root", str(program), "announce", "--since", "2026-01-01"])
    assert r.exit_code == 0, r.stderr
    assert "https://data.kcmo.org/d/abcd-1234 #OpenDataKC" in r.stdout
    assert "https://data.kcmo.org/d/wqts-0001 #OpenDataKC" in r.stdout


def test_cli_atom_format(cli, program: Path) -> None:
    r = cli(["--root", str(program), "announce", "--since", "2026-11-01", "--format", "atom"])
    assert r.exit_code == 0
    feed = r.stdout.encode("utf-8")
    assert atom_problems(feed) == []
    assert len(ET.fromstring(feed).findall(f"{A}entry")) == 1


def test_cli_json_equals_library_and_writes_files(cli, tmp_path: Path) -> None:
    root = write_program(tmp_path / "p", extra_settings={"site": {"hashtag": "#KCData"}})
    out = tmp_path / "announce"
    r = cli(["--root", str(root), "announce", "--since", "2026-01-01", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.stderr
    env = r.json()
    result, _ = _announce(root, dt.date(2026, 1, 1))
    expected = to_jsonable(result)
    assert {k: v for k, v in env["data"].items() if k != "written"} == expected
    assert all(d["draft"].endswith("#KCData") for d in env["data"]["announcements"])
    assert sorted(p.name for p in out.iterdir()) == ["drafts.json", "drafts.txt", "feed.xml"]
    assert atom_problems((out / "feed.xml").read_bytes()) == []


def test_cli_bad_date_is_usage_error(cli, program: Path) -> None:
    r = cli(["--root", str(program), "announce", "--since", "last tuesday"])
    assert r.exit_code == 2


def test_cli_bad_settings_exit_3(cli, tmp_path: Path) -> None:
    root = write_program(tmp_path / "p", extra_settings={"site": {"hashtag": "#"}})
    r = cli(["--root", str(root), "announce", "--json"])
    assert r.exit_code == 3 and r.json()["errors"][0]["code"] == "bad-input"


def test_base_url_makes_feed_links_absolute(cli, tmp_path: Path) -> None:
    root = write_program(tmp_path / "p", extra_settings={"site": {"base_url": "https://opendata.example.org/inventory"}})
    r = cli(["--root", str(root), "announce", "--since", "2026-01-01", "--format", "atom"])
    assert r.exit_code == 0
    feed = ET.fromstring(r.stdout.encode("utf-8"))
    links = {lk.get("rel"): lk.get("href") for lk in feed.findall(f"{A}link")}
    assert links == {"self": "https://opendata.example.org/inventory/feed.xml",
                     "alternate": "https://opendata.example.org/inventory/index.html"}
    plain = write_program(tmp_path / "q")
    r = cli(["--root", str(plain), "announce", "--since", "2026-01-01", "--format", "atom"])
    links = {lk.get("rel"): lk.get("href") for lk in ET.fromstring(r.stdout.encode()).findall(f"{A}link")}
    assert links == {"self": "feed.xml"}, "no catalog link next to a feed written outside the site"
