"""``/api/publishing/v1/config``: named import configs (data action, parse options) that revisions
can be created from."""

from __future__ import annotations

from typing import Any

from kcdata.portal.dsmapi.sources import DEFAULT_PARSE_OPTIONS, wrap
from kcdata.portal.dsmapi.state import BASE, DsmapiState
from kcdata.portal.http import HttpError
from kcdata.portal.tables import now_iso


def _answer(config: dict[str, Any]) -> dict[str, Any]:
    base = f"{BASE}/config/{config['name']}"
    return wrap(config, {"show": base, "update": base, "delete": base,
                         "create_revision": base + "/revision/{fourfour}"})


def _fields(config: dict[str, Any], body: dict[str, Any]) -> None:
    if body.get("data_action") is not None:
        if body["data_action"] not in ("replace", "update", "delete"):
            raise HttpError(400, "invalid_config", "data_action must be replace, update or delete")
        config["data_action"] = body["data_action"]
    if isinstance(body.get("parse_options"), dict):
        config["parse_options"] = {**config["parse_options"], **body["parse_options"]}
    if isinstance(body.get("columns"), list):
        config["columns"] = body["columns"]


def handle(state: DsmapiState, method: str, rest: list[str], body: Any) -> Any:
    """``rest`` follows ``/config``; ``POST /config/{name}/revision/{fourfour}`` is routed by the caller."""
    body = body if isinstance(body, dict) else {}
    if not rest:
        if method == "GET":
            return [_answer(c) for c in state.configs.values()]
        if method == "POST":
            name = body.get("name")
            if not isinstance(name, str) or not name.strip() or "/" in name:
                raise HttpError(400, "invalid_config", "A config needs a name (no slashes)")
            if name in state.configs:
                raise HttpError(400, "invalid_config", f"A config named {name!r} exists")
            config: dict[str, Any] = {"name": name, "data_action": "update", "columns": None,
                                      "parse_options": dict(DEFAULT_PARSE_OPTIONS), "created_at": now_iso()}
            _fields(config, body)
            state.configs[name] = config
            return _answer(config)
        raise HttpError(405, "method-not-allowed", f"Method {method} is not allowed here")
    found = state.configs.get(rest[0])
    if found is None or len(rest) != 1:
        raise HttpError(404, "not_found", f"No config {rest[0]!r}")
    config = found
    if method == "GET":
        return _answer(config)
    if method in ("PATCH", "PUT"):
        _fields(config, body)
        return _answer(config)
    if method == "DELETE":
        del state.configs[rest[0]]
        return {}
    raise HttpError(405, "method-not-allowed", f"Method {method} is not allowed here")


__all__ = ["handle"]
