"""Parsing one CSV file on several cores, with every row still numbered as frictionless numbers it.

pyarrow numbers a malformed row (too few or too many cells) only when one thread parses the stream, so the
file is cut into segments that are parsed in parallel, each by one thread, and the numbers are offset by the
records of the segments before. A cut is only made after a line break that is certainly *between* records:
outside quotes. Quote parity tells where that is, provided every quote character is a field's opening or
closing quote or half of a doubled ``""``; each quote is checked for that (an opening quote follows a
delimiter or a line break, a closing one precedes a delimiter, a line break or the end). At the first quote
that is anything else (``a"b``, which CSV readers take literally), cutting stops and the rest of the file is
one segment read as a stream: the answer never depends on the cuts.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from kcdata.validate.source import Fallback

SEGMENT_BYTES = 8 << 20


@dataclass(slots=True)
class Parsed:
    """One segment: its record batches and its malformed rows (1-based record number in the segment, text)."""

    batches: list[Any]
    ragged: list[tuple[int, str]]


class _Tail:
    """The rest of the file from the last safe cut, read as one stream (by the consumer)."""

    def __init__(self, carry: bytes, source: Any) -> None:
        self.carry, self.source = carry, source


class _Chained(io.RawIOBase):
    """Some bytes already read, then the rest of a file object."""

    def __init__(self, head: bytes, rest: Any) -> None:
        super().__init__()
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # Fill the buffer whole (short only at the end): pyarrow takes each read as a block, and a block that
        # ended between the CR and LF of a quoted CRLF lost the LF.
        view = memoryview(buffer).cast("B")
        n = 0
        if len(self._head):
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
        while n < len(view):
            got = self._rest.readinto(view[n:])
            if not got:
                break
            n += got
        return n


def safe_cut(buf: np.ndarray, *, quote: int, delimiter: int) -> tuple[int, bool]:
    """Where to cut ``buf`` (which starts outside quotes, after a line break): the end of its last record
    that is certainly complete, or 0 for none; and whether cutting may go on (no unexpected quote seen)."""
    newlines = np.flatnonzero(buf == 10)
    if not len(newlines):
        return 0, True
    quotes = np.flatnonzero(buf == quote)
    if len(quotes):
        prev = np.where(quotes > 0, buf[np.maximum(quotes - 1, 0)], 10)
        nxt = np.where(quotes + 1 < len(buf), buf[np.minimum(quotes + 1, len(buf) - 1)], 10)
        opening = np.arange(len(quotes)) % 2 == 0
        after_pair = np.zeros(len(quotes), dtype=bool)  # the second quote of a doubled ""
        after_pair[1:] = (quotes[1:] == quotes[:-1] + 1) & ~opening[:-1]
        ok_open = (prev == delimiter) | (prev == 10) | (prev == 13) | after_pair
        ok_close = (nxt == quote) | (nxt == delimiter) | (nxt == 10) | (nxt == 13)
        # the last quote before the end of buf may be followed by bytes not read yet: judged with them
        bad = np.flatnonzero(np.where(opening, ~ok_open, ~ok_close) & (quotes + 1 < len(buf)))
        limit = int(quotes[bad[0]]) if len(bad) else len(buf)
        even = np.searchsorted(quotes, newlines) % 2 == 0  # outside quotes at this line break
        candidates = newlines[even & (newlines < limit)]
    else:
        limit, candidates = len(buf), newlines
    cut = int(candidates[-1]) + 1 if len(candidates) else 0
    return cut, limit == len(buf)


class Segments:
    """Record batches of a CSV stream (after its header), in file order, parsed on ``workers`` threads.

    ``next()`` returns the next batch or None at the end; before returning a batch it has added to ``ragged``
    every malformed row up to that batch's end, numbered ``records_before`` + its record number in the stream
    (the first = 1), exactly as a single-threaded pyarrow reader of the whole stream would number them.
    """

    def __init__(self, source: Any, *, open_reader: Callable[[Any, Callable[[Any], str]], Any],
                 quote: str, delimiter: str, workers: int, ragged: list[tuple[int, str]], records_before: int = 0,
                 segment_bytes: int = SEGMENT_BYTES) -> None:
        self._source, self._open = source, open_reader
        self._quote, self._delimiter = ord(quote), ord(delimiter)
        self._ragged = ragged
        self._segment = segment_bytes
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kcdata-csv")
        self._q: queue.Queue[Any] = queue.Queue(maxsize=workers + 1)
        self._stop = threading.Event()
        self._records = records_before  # records before the stream, and of the segments handed out so far
        self._batches: list[Any] = []
        self._tail: Any = None
        self._thread = threading.Thread(target=self._produce, name="kcdata-csv-cutter", daemon=True)
        self._thread.start()

    # -- producer: cut the stream into segments, parse each on the pool -------------------------------------
    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        carry = b""
        try:
            while not self._stop.is_set():
                chunk = self._source.read(self._segment)
                if not chunk:
                    if carry:
                        self._put(self._pool.submit(self._parse, carry))
                    break
                buf = carry + chunk
                cut, more = safe_cut(np.frombuffer(buf, dtype=np.uint8), quote=self._quote,
                                     delimiter=self._delimiter)
                if cut and not self._put(self._pool.submit(self._parse, buf[:cut])):
                    return
                carry = buf[cut:]
                if not more or len(carry) > 4 * self._segment:
                    # a quote CSV readers take literally (or a record longer than several segments): no more
                    # cuts, the rest is one stream
                    self._put(_Tail(carry, self._source))
                    return
            self._put(None)
        except BaseException as exc:
            self._put(exc)

    def _parse(self, data: bytes) -> Parsed:
        import pyarrow as pa

        ragged: list[tuple[int, str]] = []

        def on_invalid(row: Any) -> str:
            ragged.append((-1 if row.number is None else int(row.number), row.text))
            return "skip"

        reader = self._open(pa.BufferReader(data), on_invalid)
        return Parsed(batches=list(reader), ragged=ragged)

    # -- consumer ---------------------------------------------------------------------------------------------
    def next(self) -> Any:
        """The next record batch, or None at the end; re-raises the parser's exception."""
        while True:
            if self._batches:
                return self._batches.pop(0)
            if self._tail is not None:
                return self._tail.next()
            item = self._q.get()
            if item is None:
                return None
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, _Tail):
                self._start_tail(item)
                continue
            parsed: Parsed = item.result() if isinstance(item, Future) else item
            if any(number < 0 for number, _ in parsed.ragged):
                raise Fallback("pyarrow did not number a malformed row")
            base = self._records
            self._ragged.extend((base + number, text) for number, text in parsed.ragged)
            self._records += len(parsed.ragged) + sum(b.num_rows for b in parsed.batches)
            self._batches = parsed.batches

    def _start_tail(self, tail: _Tail) -> None:
        from kcdata.validate.source import Prefetch

        base = self._records

        def on_invalid(row: Any) -> str:
            self._ragged.append((-1 if row.number is None else base + int(row.number), row.text))
            return "skip"

        self._tail = Prefetch(self._open(_Chained(tail.carry, tail.source), on_invalid))

    @property
    def parallel(self) -> bool:
        """Whether the whole file was cut into segments (False once the rest is read as one stream)."""
        return self._tail is None

    def stop(self) -> None:
        self._stop.set()
        if self._tail is not None:
            self._tail.stop()
        while True:  # unblock the producer
            try:
                self._q.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)
