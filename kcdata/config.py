"""Settings resolution: command-line flag > environment variable > kcdata.yaml > default.

Portal credentials are read from environment variables only, never from files, and are never
printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kcdata.settings import Settings

ENV_ROOT = "KCDATA_ROOT"
ENV_PORTAL_URL = "KCDATA_PORTAL_URL"
ENV_PORTAL_USERNAME = "KCDATA_PORTAL_USERNAME"
ENV_PORTAL_PASSWORD = "KCDATA_PORTAL_PASSWORD"  # noqa: S105 - the variable's name, not a secret
ENV_APP_TOKEN = "KCDATA_APP_TOKEN"  # noqa: S105

INVENTORY_DIR = "inventory"
STATE_DIR = ".kcdata"  # local caches and logs (validation cache, publish log); git-ignored


def resolve_root(flag: str | os.PathLike[str] | None = None) -> Path:
    """The program folder (holding inventory/, schemas/, kcdata.yaml): ``--root``, else ``$KCDATA_ROOT``,
    else the nearest folder at or above the current one that holds ``kcdata.yaml`` or ``inventory/``
    (as git finds its repository), else the current folder."""
    value = flag or os.environ.get(ENV_ROOT)
    if value:
        return Path(value).expanduser().resolve()
    here = Path(os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "kcdata.yaml").is_file() or (folder / INVENTORY_DIR).is_dir():
            return folder
    return here


def load_settings(root: Path) -> Settings:
    """Read ``kcdata.yaml`` under ``root`` (with positions, for ``kcdata.yaml:line:col`` messages); an
    absent file means all defaults. Prefer ``Program(root).settings``, which reads it once."""
    return Settings.load(root)


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalCredentials:
    """Where and as whom to talk to the portal. ``repr`` never shows the secrets."""

    url: str | None
    username: str | None
    password: str | None
    app_token: str | None

    def __repr__(self) -> str:
        return (f"PortalCredentials(url={self.url!r}, username={'***' if self.username else None}, "
                f"password={'***' if self.password else None}, app_token={'***' if self.app_token else None})")

    __str__ = __repr__


def portal_credentials(env: Mapping[str, str] | None = None) -> PortalCredentials:
    """Portal connection from ``KCDATA_PORTAL_*`` environment variables."""
    env = os.environ if env is None else env
    return PortalCredentials(
        url=env.get(ENV_PORTAL_URL) or None,
        username=env.get(ENV_PORTAL_USERNAME) or None,
        password=env.get(ENV_PORTAL_PASSWORD) or None,
        app_token=env.get(ENV_APP_TOKEN) or None,
    )
