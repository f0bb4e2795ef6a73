"""Reading a chunked request body within bounds (``Transfer-Encoding: chunked``)."""

from __future__ import annotations

from typing import BinaryIO

_MAX_TRAILERS = 64


class BodyError(Exception):
    """A body that cannot be read: HTTP status, Socrata-style code, message (the connection is closed)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def read_chunked(rfile: BinaryIO, limit: int) -> bytes:
    """The de-chunked body; a malformed size line is a 400, more than ``limit`` bytes a 413."""
    chunks: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(1024)
        try:
            size = int(line.split(b";")[0].strip() or b"0", 16)
        except ValueError:
            size = -1
        if size < 0 or not line.endswith(b"\n"):
            raise BodyError(400, "req.body.bad-chunk", "Malformed chunked body: bad chunk size line")
        if size == 0:
            for _ in range(_MAX_TRAILERS):
                if rfile.readline(8192) in (b"\r\n", b"\n", b""):
                    return b"".join(chunks)
            raise BodyError(400, "req.body.bad-chunk", "Malformed chunked body: too many trailer lines")
        total += size
        if total > limit:
            raise BodyError(413, "req.body.too-large", f"Request body exceeds the limit of {limit} bytes")
        chunks.append(rfile.read(size))
        rfile.readline(8)
