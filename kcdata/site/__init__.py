"""The public face of the program: a static catalog site and release announcements.

Library only (no click, no rich): :func:`build_site` renders the site; :mod:`kcdata.site.announce`
finds recent releases and writes the Atom feed and social media drafts.
"""

from __future__ import annotations

from kcdata.site.build import MARKER, SiteBuild, build_site, default_out_dir

__all__ = ["MARKER", "SiteBuild", "build_site", "default_out_dir"]
