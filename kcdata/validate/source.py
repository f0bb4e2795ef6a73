"""Reading a CSV file for the fast engine: the header, a hashing byte source, a prefetching batch reader."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.validate.schema import Dialect

HEADER_LIMIT = 64 << 20  # a "header" longer than this is a single-line (or binary) file


class Fallback(Exception):
    """The fast engine cannot promise frictionless's answer for this file; the reason says why."""


@dataclass(frozen=True, slots=True)
class HeaderRecord:
    """The first CSV record: its labels as frictionless reads them, where it ends, the file's first bytes."""

    labels: list[str]
    end: int  # bytes from the start of the file (BOM included) to the first data record
    head: bytes


def read_header(data: Path, dialect: Dialect) -> HeaderRecord:
    """Labels of the first CSV record (stripped, as frictionless strips them), and where it ends.

    The header is one CSV *record*: a quoted label may hold a line break. Files the fast engine must not
    read are told apart here: UTF-16 and compressed files (frictionless, or exit 3 naming the fix) and
    binary ones (exit 3).
    """
    with data.open("rb") as fh:
        buf = bytearray(fh.read(1 << 20))
        _refuse_unreadable(data, bytes(buf[:65536]))
        while len(buf) < HEADER_LIMIT:
            if (b"\n" in buf or b"\r" in buf) and _first_record(bytes(buf), dialect)[1] is not None:
                break  # else no line end yet, or a quoted line break: read on to the record's end
            more = fh.read(1 << 20)
            if not more:
                break
            buf += more
        head = bytes(buf)
    if len(head) >= HEADER_LIMIT and b"\n" not in head and b"\r" not in head:
        raise InputError(f"{data}: no line break in the first {HEADER_LIMIT >> 20} MB: not a CSV table "
                         "(a single-line file?)", hint="check the file is a CSV export with one record per line")
    labels, end = _first_record(head, dialect)
    if end is None:
        if len(head) >= HEADER_LIMIT:
            raise InputError(f"{data}: the first record is longer than {HEADER_LIMIT >> 20} MB (an unclosed quote?)",
                             hint="check the quoting of the header")
        end = len(head)  # the header is the whole file
    return HeaderRecord(labels=[label.strip() for label in labels], end=end, head=head)


def _first_record(head: bytes, dialect: Dialect) -> tuple[list[str], int | None]:
    """The first record's cells and its byte length (None when it may go on past these bytes)."""
    bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = head[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - bom - 4:
            raise Fallback("the file is not valid UTF-8 (frictionless detects the encoding)") from None
        text = head[bom:bom + exc.start].decode("utf-8")  # a character cut at the end of the sample
    sio = io.StringIO(text, newline="")
    reader = csv.reader(sio, delimiter=dialect.delimiter, quotechar=dialect.quote_char,
                        doublequote=dialect.double_quote, strict=False)
    try:
        cells = next(reader, [])
    except csv.Error:
        return [], None
    used = sio.tell()
    if used >= len(text) and not text.endswith(("\n", "\r")):
        return cells, None  # no line end seen: the record may go on
    return cells, bom + len(text[:used].encode("utf-8"))


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _refuse_unreadable(data: Path, sample: bytes) -> None:
    if sample.startswith(_UTF16_BOMS):
        raise Fallback("the file is UTF-16 (frictionless reads it, the fast engine reads UTF-8)")
    if sample.startswith(b"\x1f\x8b") or sample.startswith(b"PK\x03\x04"):
        kind = "gzip" if sample.startswith(b"\x1f\x8b") else "zip"
        ext = ".csv.gz" if kind == "gzip" else ".zip"
        raise InputError(f"{data}: the file is {kind}-compressed, not CSV text",
                         hint=f"decompress it first, or name it with a {ext} suffix (frictionless then reads it)")
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 4 and (odd.count(0) > len(odd) * 0.4 > even.count(0) or even.count(0) > len(even) * 0.4 >
                             odd.count(0)):
        order = "utf-16-le" if odd.count(0) > even.count(0) else "utf-16-be"
        raise InputError(f"{data}: the file looks like {order.upper()} text without a byte-order mark",
                         hint=f"pass --encoding {order} (or declare \"dialect\": {{\"encoding\": \"{order}\"}} "
                              "in the schema), or re-save it as UTF-8")
    controls = sum(sample.count(bytes([c])) for c in (*range(0, 9), *range(14, 32)))
    if b"\x00" in sample or (controls > len(sample) // 20 and len(sample) >= 256):  # a few in a tiny file: text
        raise InputError(f"{data}: looks like a binary file, not CSV text (NUL or other control bytes)",
                         hint="validate the CSV export of this data, or check the dataset's `data:` path")


def guess_delimiter(head: bytes, declared: str, names: list[str]) -> str | None:
    """The delimiter a one-column header was evidently written with, or None when it is not evident.

    Evident: splitting the header by it gives as many labels as the schema has fields, none blank, one of them
    a field's name (``id;name`` for fields ``id``, ``name``). A header that merely holds a tab or a semicolon
    (``\tid``, ``a;b;c``) is validated as it is, as frictionless would.
    """
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r")
    counts = {d: line.count(d) for d in (",", ";", "\t", "|") if d != declared}
    best = max(counts, key=lambda d: counts[d])
    if not counts[best]:
        return None
    parts = [part.strip().strip('"').strip() for part in line.split(best)]
    if len(parts) < 2 or not all(parts):
        return None
    return best if len(parts) == len(names) and set(parts) & set(names) else None


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

    def skip(self, n: int) -> None:
        """Start after the first ``n`` bytes (the header record), hashing them all the same."""
        head = self._fh.read(n)
        if self._sha is not None:
            self._sha.update(head)

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
