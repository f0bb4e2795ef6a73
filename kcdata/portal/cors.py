"""Cross-origin requests, as real Socrata treats them.

Socrata "automatically drops all authentication and authorization on requests that come in via CORS
and JSONP", so those can only read public datasets (https://dev.socrata.com/docs/cors-and-jsonp).
The portal does the same: a request whose ``Origin`` is not the portal itself is anonymous, whatever
credentials it carries (a browser page elsewhere cannot write with a user's stored password), and a
preflight (``OPTIONS``) is answered for reads, without credentials.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"^[A-Za-z0-9-]+$")
# Headers a cross-origin reader may send (anything else is not needed to read public data).
_ALLOWED_HEADERS = ("accept", "content-type", "x-app-token", "x-socrata-host")


def cross_origin(headers: dict[str, str], scheme: str, domain: str) -> bool:
    """True when the request names an ``Origin`` other than this portal's own."""
    origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    if origin is None:
        return False
    host = next((v for k, v in headers.items() if k.lower() == "host"), domain)
    return origin.strip().rstrip("/").lower() not in {f"{scheme}://{host}".lower(), f"{scheme}://{domain}".lower()}


def preflight_headers(requested: str) -> dict[str, str]:
    """The answer to a CORS preflight: any origin may read; credentials are never honoured."""
    wanted = [h.strip().lower() for h in requested.split(",") if h.strip()]
    allowed = [h for h in wanted if _TOKEN.match(h) and h in _ALLOWED_HEADERS]
    return {"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": ", ".join(allowed or _ALLOWED_HEADERS),
            "Access-Control-Max-Age": "86400", "Allow": "GET, POST, PUT, DELETE, PATCH, OPTIONS"}
