"""The ``site:`` section of ``kcdata.yaml`` (public catalog site and release announcements).

Every key is optional; defaults live here so the section (and the file) may be absent::

    site:
      title: OpenData KC — the city's data inventory
      request_url: "mailto:opendata@example.org?subject=Dataset%20request%3A%20{id}"
      hashtag: "#OpenDataKC"
      base_url: https://opendata.example.org/inventory/   # where the site is hosted (feed links)
      feed_entries: 50
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kcdata.settings import Settings, program_settings

SECTION = "site"
DEFAULT_HASHTAG = "#OpenDataKC"
_HASHTAG_RE = re.compile(r"^#\w{1,60}$")
_ALLOWED_URL_SCHEMES = ("mailto:", "https://", "http://")
_KNOWN = ("title", "request_url", "hashtag", "base_url", "feed_entries")


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSettings:
    """Resolved site settings plus the program facts the site shows."""

    title: str
    request_url: str | None  # template with {id} and {title}; None: no request link
    hashtag: str
    base_url: str | None  # absolute URL of the hosted site, ending in "/"; None: relative links only
    feed_entries: int
    city: str
    publisher: str
    publisher_email: str | None
    portal_domain: str | None

    def portal_url(self, portal_id: str | None) -> str | None:
        """The public landing page of a published dataset, ``https://<domain>/d/<portal_id>``."""
        if not portal_id or not self.portal_domain:
            return None
        return f"https://{self.portal_domain}/d/{quote(portal_id, safe='')}"

    def request_link(self, *, dataset_id: str, title: str) -> str | None:
        """The "request this dataset" link with the dataset id filled in (URL-encoded)."""
        if not self.request_url:
            return None
        return self.request_url.replace("{id}", quote(dataset_id, safe="")).replace(
            "{title}", quote(title, safe=""))


def site_settings(settings: Mapping[str, Any]) -> SiteSettings:
    """Resolve the ``site:`` section (and the program facts it needs) from loaded settings; a bad value
    is an :class:`InputError` (exit 3) naming ``kcdata.yaml:line:col site.<key>``."""
    top = Settings.of(settings)
    raw = top.section(SECTION, hint="Write the site settings as `site:` followed by indented `key: value` lines.")
    raw.check_keys(_KNOWN)

    def text(key: str) -> str | None:
        return raw.string(key, nonempty=True,
                          hint=f"Set `{key}:` to a text value or remove it to use the default.")

    program = program_settings(top)
    city = program.city or "the city"
    publisher = program.publisher or city
    email = program.publisher_email
    domain = program.portal_domain.strip("/") if program.portal_domain else None

    request_url = text("request_url")
    if request_url is None and email:
        request_url = f"mailto:{email}?subject=" + quote("Dataset request: ") + "{id}"
    if request_url is not None and not request_url.lower().startswith(_ALLOWED_URL_SCHEMES):
        raise raw.fail("request_url", f"{request_url!r} is not a mailto: or http(s): URL",
                         hint="Use e.g. `mailto:opendata@example.org?subject={id}` or a form URL with `{id}`.")
    hashtag = text("hashtag") or DEFAULT_HASHTAG
    if not _HASHTAG_RE.match(hashtag):
        raise raw.fail("hashtag", f"{hashtag!r} is not a hashtag",
                         hint="Write one tag starting with '#', letters/digits/underscore only, e.g. #OpenDataKC.")
    base_url = text("base_url")
    if base_url is not None:
        if not base_url.lower().startswith(("https://", "http://")):
            raise raw.fail("base_url", f"{base_url!r} is not an http(s) URL",
                             hint="Give the absolute address where the site is hosted, or remove the key.")
        base_url = base_url.rstrip("/") + "/"
    feed_entries = raw.get("feed_entries", 50)
    if isinstance(feed_entries, bool) or not isinstance(feed_entries, int) or feed_entries < 1:
        raise raw.fail("feed_entries", f"expected a positive whole number, found {feed_entries!r}",
                         hint="Set how many recent releases the site's Atom feed lists, e.g. 50.")
    title = text("title") or f"{city}: open data inventory"
    return SiteSettings(title=title, request_url=request_url, hashtag=hashtag, base_url=base_url,
                        feed_entries=feed_entries, city=city, publisher=publisher, publisher_email=email,
                        portal_domain=domain)
