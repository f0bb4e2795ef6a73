"""Settings resolution: command-line flag > environment variable > kcdata.yaml > default.

Portal credentials are read from environment variables only, never from files, and are never
printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError

ENV_ROOT = "KCDATA_ROOT"
ENV_PORTAL_URL = "KCDATA_PORTAL_URL"
ENV_PORTAL_USERNAME = "KCDATA_PORTAL_USERNAME"
ENV_PORTAL_PASSWORD = "KCDATA_PORTAL_PASSWORD"  # noqa: S105 - the variable's name, not a secret
ENV_APP_TOKEN = "KCDATA_APP_TOKEN"  # noqa: S105

SETTINGS_FILE = "kcdata.yaml"
INVENTORY_DIR = "inventory"
SCHEMAS_DIR = "schemas"
STATE_DIR = ".kcdata"  # local caches and logs (validation cache, publish log); git-ignored


def resolve_root(flag: str | os.PathLike[str] | None = None) -> Path:
    """The program folder (holding inventory/, schemas/, kcdata.yaml)."""
    value = flag or os.environ.get(ENV_ROOT) or os.getcwd()
    return Path(value).expanduser().resolve()


def load_settings(root: Path) -> dict[str, Any]:
    """Read ``kcdata.yaml`` under ``root`` safely; an absent file means all defaults."""
    import yaml

    path = Path(root) / SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid UTF-8 ({exc.reason})", hint="Save the file as UTF-8.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{where}: malformed YAML: {problem}",
                         hint="Fix the YAML syntax (indent with spaces, not tabs).") from exc
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InputError(f"{path}: expected a mapping of settings at the top level, found {type(data).__name__}")
    return dict(data)


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
