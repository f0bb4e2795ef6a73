"""``/api/publishing/v1/revision``: revisions (drafts until applied), their sources, plan, notes,
discard, and ``apply``, which writes into the portal's store (rows and metadata, read back by SODA)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kcdata.portal import views
from kcdata.portal.dsmapi import apply as applying
from kcdata.portal.dsmapi.sources import new_source, source_json, wrap
from kcdata.portal.dsmapi.state import BASE, DsmapiState, revision_links, source_links
from kcdata.portal.http import HttpError
from kcdata.portal.tables import now_iso

if TYPE_CHECKING:
    from kcdata.portal.store import Store

ACTIONS = ("replace", "update", "delete")


def _action(body: dict[str, Any], state: DsmapiState) -> dict[str, Any]:
    if "config" in body:
        config = state.configs.get(str(body["config"]))
        if config is None:
            raise HttpError(404, "not_found", f"No config {body['config']!r}")
        return {"type": config["data_action"] or "update", "permission": None}
    raw = body.get("action")
    action: dict[str, Any] = raw if isinstance(raw, dict) else {}
    kind = action.get("type") or "update"
    if kind not in ACTIONS:
        raise HttpError(400, "invalid_action", f"action.type must be one of {', '.join(ACTIONS)}")
    permission = action.get("permission")
    if permission not in (None, "public", "private"):
        raise HttpError(400, "invalid_action", "action.permission must be public or private")
    return {"type": kind, "permission": permission}


def create(state: DsmapiState, store: Store, fourfour: str | None, body: Any) -> dict[str, Any]:
    """A new open revision; without ``fourfour`` on a new (empty, private, unpublished) dataset."""
    body = body if isinstance(body, dict) else {}
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    action = _action(body, state)
    if fourfour is None:
        name = str(metadata.get("name") or "").strip() or "Untitled dataset"
        view = store.create_view(lambda vid, nxt: views.build_view({"name": name}, vid, nxt, nbe=True))
        fourfour = str(view["id"])
    elif store.view(fourfour) is None:
        raise HttpError(404, "not_found", f"No dataset {fourfour}")
    revs = state.revisions.setdefault(fourfour, [])
    seq = len(revs)
    revision = {"id": state.next_id(), "fourfour": fourfour, "revision_seq": seq, "action": action,
                "metadata": dict(metadata), "notes": None, "output_schema_id": None, "created_at": now_iso(),
                "closed_at": None, "discarded_at": None, "is_parent": False, "task_sets": [],
                "created_by": {"user_id": "kcda-tapp", "display_name": "kcdata"}, "permission": action["permission"]}
    revs.append(revision)
    return revision


def _find(state: DsmapiState, fourfour: str, raw_seq: str) -> dict[str, Any]:
    revs = state.revisions.get(fourfour, [])
    if not raw_seq.isdigit() or int(raw_seq) >= len(revs):
        raise HttpError(404, "not_found", f"No revision {raw_seq} of {fourfour}")
    return revs[int(raw_seq)]


def _open(revision: dict[str, Any]) -> None:
    if revision["closed_at"] is not None:
        raise HttpError(400, "revision_closed", f"Revision {revision['revision_seq']} of {revision['fourfour']} "
                        "is closed (applied or discarded)")


def answer(revision: dict[str, Any]) -> dict[str, Any]:
    return wrap(revision, revision_links(revision["fourfour"], revision["revision_seq"]))


def handle(state: DsmapiState, store: Store, method: str, rest: list[str], body: Any) -> Any:
    """``rest`` follows ``/revision``."""
    if not rest:
        if method != "POST":
            raise HttpError(405, "method-not-allowed", f"Method {method} is not allowed here")
        return answer(create(state, store, None, body))
    fourfour = rest[0]
    if len(rest) == 1:
        if method == "GET":
            return [answer(r) for r in state.revisions.get(fourfour, [])]
        if method == "POST":
            return answer(create(state, store, fourfour, body))
        raise HttpError(405, "method-not-allowed", f"Method {method} is not allowed here")
    revision = _find(state, fourfour, rest[1])
    tail = rest[2:]
    if not tail:
        if method == "GET":
            return answer(revision)
        if method in ("PUT", "PATCH"):
            _open(revision)
            _update(state, revision, body)
            return answer(revision)
        if method == "DELETE":
            _open(revision)
            revision["closed_at"] = revision["discarded_at"] = now_iso()
            return answer(revision)
        raise HttpError(405, "method-not-allowed", f"Method {method} is not allowed here")
    if tail == ["apply"] and method in ("PUT", "POST"):
        _open(revision)
        if isinstance(body, dict) and body.get("output_schema_id") is not None:
            _update(state, revision, {"output_schema_id": body["output_schema_id"]})
        job = applying.apply(state, store, revision)
        return wrap(job, {"show": f"{BASE}/job/{job['id']}"})
    if tail == ["plan"] and method == "GET":
        return {"resource": applying.plan(state, revision)}
    if tail == ["source"]:
        key = (revision["fourfour"], revision["revision_seq"])
        if method == "GET":
            return [wrap(source_json(state, s), source_links(s.id)) for s in state.sources.values()
                    if s.revision == key]
        if method == "POST":
            _open(revision)
            body = body if isinstance(body, dict) else {}
            source = new_source(state, body.get("source_type"), body.get("parse_options"), key)
            return wrap(source_json(state, source), source_links(source.id))
    raise HttpError(404, "not-found", f"No such endpoint: {method} revision/{'/'.join(rest)}")


def _update(state: DsmapiState, revision: dict[str, Any], body: Any) -> None:
    if not isinstance(body, dict):
        raise HttpError(400, "invalid_body", "The request body must be a JSON object")
    if "metadata" in body:
        if not isinstance(body["metadata"], dict):
            raise HttpError(400, "invalid_body", "metadata must be an object")
        revision["metadata"] = {**revision["metadata"], **body["metadata"]}
    if "notes" in body:
        if body["notes"] is not None and not isinstance(body["notes"], str):
            raise HttpError(400, "invalid_body", "notes must be text")
        revision["notes"] = body["notes"]
    if "output_schema_id" in body:
        osid = body["output_schema_id"]
        if osid is not None and osid not in state.output_schemas:
            raise HttpError(400, "invalid_body", f"No output schema {osid}")
        revision["output_schema_id"] = osid
    action = body.get("action")
    if isinstance(action, dict):
        revision["action"] = {**revision["action"], **_action({"action": {**revision["action"], **action}}, state)}
        revision["permission"] = revision["action"]["permission"]


def job(state: DsmapiState, raw: str) -> Any:
    found = state.jobs.get(int(raw)) if raw.isdigit() else None
    if found is None:
        raise HttpError(404, "not_found", f"No job {raw}")
    return wrap(found, {"show": f"{BASE}/job/{found['id']}"})


__all__ = ["answer", "create", "handle", "job"]
