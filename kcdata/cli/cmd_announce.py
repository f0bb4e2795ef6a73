"""``kcdata announce``: release announcements (Atom feed and social media drafts)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from kcdata.cli.app import App, json_option, pass_app

DEFAULT_DAYS = 30


@click.command("announce")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help=f"Announce releases on or after this date (YYYY-MM-DD) [default: {DEFAULT_DAYS} days ago].")
@click.option("--format", "fmt", type=click.Choice(["text", "atom"]), default="text", show_default=True,
              help="Print the social media drafts (text) or the Atom feed (atom).")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write feed.xml, drafts.txt and drafts.json into this folder.")
@json_option
@pass_app
def command(app: App, since: dt.datetime | None, fmt: str, out_dir: Path | None, as_json: bool) -> None:
    """Announce datasets published or substantially updated since a date.

    A release is a history record to `published` (from another status: new; from `published`:
    updated). Writes an Atom 1.0 feed and one ready-to-post draft per dataset (at most 280
    characters, with the portal link and the hashtag from `site.hashtag` in kcdata.yaml).

    \b
    Examples:
      kcdata announce --since 2026-11-01
      kcdata announce --format atom > feed.xml
      kcdata announce --since 2026-11-01 -o out/announce --json
    """
    import sys

    from kcdata.fileio import atomic_write_bytes, atomic_write_text
    from kcdata.jsonable import to_jsonable
    from kcdata.site.announce import announcements, atom_feed, drafts_text
    from kcdata.site.settings import site_settings

    now = dt.datetime.now(dt.UTC)
    since_date = since.date() if since else now.date() - dt.timedelta(days=DEFAULT_DAYS)
    loaded = app.complete_program().loaded
    site = site_settings(app.program.settings)
    result = announcements(inventory=loaded.inventory, settings=site, since=since_date)
    # Outside the site there is no index.html next to the feed: link the catalog only when it is hosted.
    feed = atom_feed(result=result, settings=site, now=now, site_href="index.html" if site.base_url else None)
    text = drafts_text(result)
    for reason in result.skipped:
        app.warn(reason)
    written: list[str] = []
    if out_dir is not None:
        import json

        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out_dir / "feed.xml", feed)
        atomic_write_text(out_dir / "drafts.txt", text)
        atomic_write_text(out_dir / "drafts.json", json.dumps(to_jsonable(result.announcements), indent=2,
                                                               ensure_ascii=False) + "\n")
        written = [str(out_dir / n) for n in ("feed.xml", "drafts.txt", "drafts.json")]

    def render() -> None:
        if fmt == "atom":
            sys.stdout.write(feed.decode("utf-8"))
        elif result.announcements:
            sys.stdout.write(text)
        else:
            app.info(f"nothing published or updated since {since_date.isoformat()}")
        for path in written:
            app.info(f"wrote {path}")

    app.finish(data={**to_jsonable(result), "written": written}, render=render)
