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

from kcdata.errors import InputError

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


def _where(key: str) -> str:
    return f"kcdata.yaml {SECTION}.{key}"


def _opt_str(section: Mapping[str, Any], key: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{_where(key)}: expected a non-empty string, found {value!r}",
                         hint=f"Set `{key}:` to a text value or remove it to use the default.")
    return value.strip()


def site_settings(settings: Mapping[str, Any]) -> SiteSettings:
    """Resolve the ``site:`` section (and the program facts it needs) from loaded settings."""
    raw = settings.get(SECTION) or {}
    if not isinstance(raw, Mapping):
        raise InputError(f"kcdata.yaml {SECTION}: expected a mapping, found {type(raw).__name__}",
                         hint="Write the site settings as `site:` followed by indented `key: value` lines.")
    unknown = sorted(set(raw) - set(_KNOWN))
    if unknown:
        raise InputError(f"{_where(unknown[0])}: unknown key", hint=f"Known keys: {', '.join(_KNOWN)}.")
    program = settings.get("program") or {}
    if not isinstance(program, Mapping):
        program = {}
    city = str(program.get("city") or "the city")
    publisher = str(program.get("publisher") or city)
    email = program.get("publisher_email")
    email = str(email) if email else None
    domain = program.get("portal_domain")
    domain = str(domain).strip().strip("/") if domain else None

    request_url = _opt_str(raw, "request_url")
    if request_url is None and email:
        request_url = f"mailto:{email}?subject=" + quote("Dataset request: ") + "{id}"
    if request_url is not None and not request_url.lower().startswith(_ALLOWED_URL_SCHEMES):
        raise InputError(f"{_where('request_url')}: {request_url!r} is not a mailto: or http(s): URL",
                         hint="Use e.g. `mailto:opendata@example.org?subject={id}` or a form URL with `{id}`.")
    hashtag = _opt_str(raw, "hashtag") or DEFAULT_HASHTAG
    if not _HASHTAG_RE.match(hashtag):
        raise InputError(f"{_where('hashtag')}: {hashtag!r} is not a hashtag",
                         hint="Write one tag starting with '#', letters/digits/underscore only, e.g. #OpenDataKC.")
    base_url = _opt_str(raw, "base_url")
    if base_url is not None:
        if not base_url.lower().startswith(("https://", "http://")):
            raise InputError(f"{_where('base_url')}: {base_url!r} is not an http(s) URL",
                             hint="Give the absolute address where the site is hosted, or remove the key.")
        base_url = base_url.rstrip("/") + "/"
    feed_entries = raw.get("feed_entries", 50)
    if isinstance(feed_entries, bool) or not isinstance(feed_entries, int) or feed_entries < 1:
        raise InputError(f"{_where('feed_entries')}: expected a positive whole number, found {feed_entries!r}",
                         hint="Set how many recent releases the site's Atom feed lists, e.g. 50.")
    title = _opt_str(raw, "title") or f"{city}: open data inventory"
    return SiteSettings(title=title, request_url=request_url, hashtag=hashtag, base_url=base_url,
                        feed_entries=feed_entries, city=city, publisher=publisher, publisher_email=email,
                        portal_domain=domain)
