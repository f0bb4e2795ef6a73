"""Reading a CSV file for the fast engine: the header, a hashing byte source, a prefetching batch reader."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.validate.schema import Dialect

HEADER_LIMIT = 64 << 20  # a "header" longer than this is a single-line (or binary) file


class Fallback(Exception):
    """The fast engine cannot promise frictionless's answer for this file; the reason says why."""


def read_header(data: Path, dialect: Dialect) -> tuple[list[str], bytes]:
    """Labels of the first row, and the raw first bytes (for binary / delimiter diagnostics)."""
    with data.open("rb") as fh:
        buf = bytearray(fh.read(1 << 20))
        while b"\n" not in buf and b"\r" not in buf and len(buf) < HEADER_LIMIT:
            more = fh.read(1 << 20)
            if not more:
                break
            buf += more
        head = bytes(buf)
    sample = head[:65536]
    controls = sum(sample.count(bytes([c])) for c in (*range(0, 9), *range(14, 32)))
    if b"\x00" in sample or controls > len(sample) // 20:
        raise InputError(f"{data}: looks like a binary file, not CSV text (NUL or other control bytes)",
                         hint="validate the CSV export of this data, or check the dataset's `data:` path")
    if len(head) >= HEADER_LIMIT and b"\n" not in head and b"\r" not in head:
        raise InputError(f"{data}: no line break in the first {HEADER_LIMIT >> 20} MB: not a CSV table "
                         "(a single-line file?)", hint="check the file is a CSV export with one record per line")
    text_head = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    cut = max(text_head.rfind(b"\n"), text_head.rfind(b"\r"))
    try:
        text = text_head[:cut + 1 if cut >= 0 else len(text_head)].decode("utf-8")
    except UnicodeDecodeError:
        raise Fallback("the file is not valid UTF-8 (frictionless detects the encoding)") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter, quotechar=dialect.quote_char,
                        doublequote=dialect.double_quote)
    labels = next(reader, [])
    return labels, head


def guess_delimiter(head: bytes, declared: str) -> str | None:
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    counts = {d: line.count(d) for d in (",", ";", "\t", "|") if d != declared}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


class HashingFile(io.RawIOBase):
    """The data file as pyarrow reads it, hashed on the way: the sha256 costs no second read."""

    def __init__(self, path: Path, *, hashing: bool = True) -> None:
        import hashlib

        super().__init__()
        self._fh = path.open("rb", buffering=0)
        self._sha = hashlib.sha256() if hashing else None
        self._complete = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._fh.readinto(buffer)
        if n:
            if self._sha is not None:
                self._sha.update(memoryview(buffer)[:n])
        else:
            self._complete = True
        return n or 0

    def close(self) -> None:
        self._fh.close()
        super().close()

    def hexdigest(self) -> str | None:
        """The file's sha256 once pyarrow has read it to the end (and hashing is on), else None."""
        if self._sha is None:
            return None
        if not self._complete and not self._fh.read(1):
            self._complete = True  # pyarrow stopped exactly at the end
        return self._sha.hexdigest() if self._complete else None


class Prefetch:
    """Parses the next batches in a thread (pyarrow releases the GIL) while this one is checked."""

    def __init__(self, reader: Any, depth: int = 2) -> None:
        import queue
        import threading

        self._q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._reader = reader
        self._thread = threading.Thread(target=self._work, name="kcdata-csv-reader", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        import queue

        while not self._stop.is_set():
            try:
                item: tuple[str, Any] = ("batch", self._reader.read_next_batch())
            except StopIteration:
                item = ("end", None)
            except BaseException as exc:
                item = ("error", exc)
            while not self._stop.is_set():
                try:
                    self._q.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item[0] != "batch":
                return

    def next(self) -> Any:
        """The next record batch, or None at the end; re-raises the reader's exception."""
        kind, value = self._q.get()
        if kind == "error":
            raise value
        return value if kind == "batch" else None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
