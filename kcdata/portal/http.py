"""The HTTP answer types every portal handler shares: :class:`HttpError`, :class:`Reply`, :func:`json_reply`.

They live apart from the server so handler modules (``resource``, ``blobs``) import them without
importing the server that imports those handlers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

JSON_CT = "application/json; charset=utf-8"


class HttpError(Exception):
    """An error answer: status, Socrata code, message (shown by sodapy), extra data."""

    def __init__(self, status: int, code: str, message: str, data: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.data, self.headers = data or {}, headers or {}


@dataclass(slots=True)
class Reply:
    """A successful answer."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = JSON_CT
    headers: dict[str, str] | None = None


def json_reply(value: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(body=json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), headers=headers)


__all__ = ["JSON_CT", "HttpError", "Reply", "json_reply"]
