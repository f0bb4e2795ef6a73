"""File ("blobby") datasets and attachment downloads: ``create_non_data_file``, ``replace_non_data_file``,
``download_attachments``."""

from __future__ import annotations

import email.parser
import email.policy
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from kcdata.portal import views

if TYPE_CHECKING:
    from kcdata.portal.http import Reply
    from kcdata.portal.resource import Context


def _error(status: int, code: str, message: str) -> Exception:
    from kcdata.portal.http import HttpError

    return HttpError(status, code, message)


def _first_file(ctx: Context) -> tuple[str, str, bytes]:
    content_type = ctx.header("Content-Type")
    if not content_type.lower().startswith("multipart/form-data"):
        raise _error(400, "req.content-type.unparsable", "Send the file as multipart/form-data")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + ctx.body)
    for part in message.iter_parts():
        filename = part.get_filename()
        if filename is not None:
            data = part.get_payload(decode=True)
            mime = part.get_content_type()
            return filename, mime, data if isinstance(data, bytes) else b""
    raise _error(400, "req.body.no-file", "The multipart body holds no file part")


def _blob_fields(blob_id: str, filename: str, mime: str, data: bytes) -> dict[str, Any]:
    return {"blobId": blob_id, "blobFilename": filename, "blobFileSize": len(data), "blobMimeType": mime}


def create(ctx: Context) -> Reply:
    """``POST /api/imports2/?method=blob``: a new file dataset (its view JSON)."""
    from kcdata.portal.http import json_reply

    filename, mime, data = _first_file(ctx)
    blob_id = str(uuid.uuid4())
    ctx.portal.store.put_blob(blob_id, filename=filename, mime=mime, data=data)
    name = dict(ctx.params).get("name") or filename

    def build(view_id: str, next_id: Any) -> dict[str, Any]:
        view = views.build_view({"name": name}, view_id, next_id, nbe=False)
        view.update(_blob_fields(blob_id, filename, mime, data), viewType="blobby", assetType="file",
                    displayType="blob")
        return view

    return json_reply(ctx.portal.store.create_view(build))


def upload_asset(ctx: Context) -> Reply:
    """``POST /api/assets``: store a file to attach to a dataset (its ``metadata.attachments`` then name
    the answer's ``id`` as ``assetId``); answers ``{"id", "nameForOutput"}``."""
    from kcdata.portal.http import json_reply

    filename, mime, data = _first_file(ctx)
    asset_id = str(uuid.uuid4())
    ctx.portal.store.put_blob(asset_id, filename=filename, mime=mime, data=data)
    return json_reply({"id": asset_id, "nameForOutput": filename})


def replace(ctx: Context, view_id: str) -> Reply:
    """``POST /api/views/{id}.txt?method=replaceBlob``: new file content; answers text/plain JSON."""
    from kcdata.portal.http import Reply

    old = ctx.portal.visible_view(view_id, ctx)
    if old.get("viewType") != "blobby":
        raise _error(400, "validation_error", "Only a file dataset's blob can be replaced")
    filename, mime, data = _first_file(ctx)
    blob_id = str(uuid.uuid4())
    ctx.portal.store.put_blob(blob_id, filename=filename, mime=mime, data=data)
    replaced: list[str] = []

    def change(view: dict[str, Any], _next: Any) -> dict[str, Any]:
        if view.get("blobId"):
            replaced.append(view["blobId"])
        view.update(_blob_fields(blob_id, filename, mime, data), viewLastModified=int(time.time()))
        return view

    try:
        view = ctx.portal.store.update_view(view_id, change)
    except BaseException:
        ctx.portal.store.delete_blob(blob_id)
        raise
    for previous in replaced:  # the old content is gone, as on Socrata: its id no longer answers
        if not _referenced(ctx, previous):
            ctx.portal.store.delete_blob(previous)
    return Reply(body=json.dumps(view).encode(), content_type="text/plain; charset=utf-8")


def _owners(ctx: Context, blob_id: str) -> list[dict[str, Any]]:
    """The datasets that hold ``blob_id`` as their file or list it as an attachment."""
    return [v for v in ctx.portal.store.views() if v.get("blobId") == blob_id
            or any(a.get("blobId") == blob_id or a.get("assetId") == blob_id
                   for a in (v.get("metadata") or {}).get("attachments") or [])]


def _referenced(ctx: Context, blob_id: str) -> bool:
    return bool(_owners(ctx, blob_id))


def download(ctx: Context, blob_id: str, view_id: str | None = None) -> Reply:
    """``GET /api/assets/{blobId}`` and ``/api/views/{id}/files/{assetId}``: the file, anonymously for
    public datasets (sodapy downloads without credentials)."""
    from kcdata.portal.http import Reply

    if view_id is not None:
        view = ctx.portal.visible_view(view_id, ctx)
        if view not in _owners(ctx, blob_id):  # a public view must not open another dataset's file
            raise _error(404, "not_found", "No such file")
    elif not ctx.authed:
        # readable anonymously only when a public dataset holds or attaches the file (a file no
        # dataset refers to any more, such as a replaced one, is nobody's to read)
        owners = _owners(ctx, blob_id)
        if not owners:
            raise _error(404, "not_found", "No such file")
        if not any(views.is_public(v) for v in owners):
            ctx.portal.visible_view(owners[0]["id"], ctx)
    found = ctx.portal.store.blob(blob_id)
    if found is None:
        raise _error(404, "not_found", "No such file")
    filename, _mime, data = found
    name = dict(ctx.params).get("filename") or filename
    safe = name.replace('"', "").replace("\r", "").replace("\n", "")
    return Reply(body=data, content_type="application/octet-stream",
                 headers={"Content-Disposition": f'attachment; filename="{safe.encode("ascii", "replace").decode()}"'})
