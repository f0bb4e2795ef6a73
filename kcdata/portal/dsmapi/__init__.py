"""The Dataset Management API (``/api/publishing/v1``) subset that socrata-py 1.2.0 uses: revisions,
sources and their chunked upload, input/output schemas with transforms, apply and its job, configs.
Every request needs credentials, as on Socrata."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kcdata.portal.dsmapi import configs, revisions, sources
from kcdata.portal.dsmapi.state import DsmapiState
from kcdata.portal.http import HttpError, Reply, json_reply
from kcdata.portal.resource import parse_json

if TYPE_CHECKING:
    from kcdata.portal.resource import Context


def _body(ctx: Context) -> Any:
    if not ctx.body.strip() or "octet-stream" in ctx.header("Content-Type"):
        return None
    return parse_json(ctx.body, nested=True)


def handle(ctx: Context, rest: list[str]) -> Reply:
    """Answer ``/api/publishing/v1/{rest}``."""
    if not ctx.authed:
        raise HttpError(403, "permission_denied", "You must be logged in to use the publishing API")
    portal = ctx.portal
    state: DsmapiState = portal.dsmapi
    method = ctx.method
    params = dict(ctx.params)
    with state.lock:
        if not rest:
            raise HttpError(404, "not-found", "No such endpoint: /api/publishing/v1")
        head, tail = rest[0], rest[1:]
        if head == "revision":
            result = revisions.handle(state, portal.store, method, tail, _body(ctx))
        elif head == "source":
            chunk = len(tail) >= 2 and tail[1] == "chunk"
            result = sources.handle(state, method, tail, None if chunk else _body(ctx), ctx.body, params)
        elif head == "config" and len(tail) == 3 and tail[1] == "revision" and method == "POST":
            result = revisions.answer(revisions.create(state, portal.store, tail[2], {"config": tail[0]}))
        elif head == "config":
            result = configs.handle(state, method, tail, _body(ctx))
        elif head == "job" and len(tail) == 1 and method == "GET":
            result = revisions.job(state, tail[0])
        else:
            raise HttpError(404, "not-found", f"No such endpoint: {method} /api/publishing/v1/{'/'.join(rest)}")
    return json_reply(result)


__all__ = ["DsmapiState", "handle"]
