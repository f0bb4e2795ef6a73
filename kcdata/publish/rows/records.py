"""Locating a CSV's records in its raw bytes, exactly where Arrow's CSV reader will split them, so
each row's record can be hashed in place (:func:`kcdata.publish.rows.scan.scan`) and only the rows
that changed are ever parsed.

Everything here works on the file's bytes as a ``uint8`` numpy array followed by 8 zero bytes
(:func:`read_padded`), in cache-sized blocks. When the records cannot be located with certainty
the functions say so (None / False) and the caller parses the whole file instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.publish.typemap import TableMapping


def read_padded(path: Path) -> tuple[Any, bool]:
    """The file's bytes followed by 8 zero bytes (``uint8``), and whether it holds a double quote."""
    import numpy as np

    try:
        with open(path, "rb", buffering=0) as fh:
            size = os.fstat(fh.fileno()).st_size
            text = np.empty(size + 8, dtype=np.uint8)
            text[size:] = 0
            got = fh.readinto(text[:size].data) if size else 0
            quoted = _fd_has_quote(fh.fileno())
    except OSError as exc:
        raise InputError(f"{path}: cannot read the data file ({exc.strerror})",
                         hint="Check the dataset's `data` path in the inventory.") from exc
    if got != size:
        raise InputError(f"{path}: the data file changed while it was read", hint="Run the command again.")
    return text, quoted


def has_quote(path: Path) -> bool:
    """Whether the file holds a double quote anywhere (Arrow's reader can then split it into
    blocks at line breaks and parse them in parallel only when it does not)."""
    with open(path, "rb") as fh:
        return _fd_has_quote(fh.fileno())


def _fd_has_quote(fileno: int) -> bool:
    """memchr over a memory map of the open file: milliseconds; an empty or unmappable file
    counts as quoted (the careful answer)."""
    import mmap

    try:
        with mmap.mmap(fileno, 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(b'"') >= 0
    except (ValueError, OSError):
        return True


def gather_records(text: Any, spans: tuple[Any, Any], header: bytes, at: Any) -> Any:
    """A CSV — ``header``, then the records ``at`` (indexes into ``spans``), one per line — as an
    Arrow buffer, gathered with numpy rather than a Python loop over rows."""
    import numpy as np
    import pyarrow as pa

    starts, ends = spans[0][at], spans[1][at]
    lens = ends - starts + 1  # each record and its "\n"
    head = len(header) + 1
    out = np.empty(head + int(lens.sum()), dtype=np.uint8)
    out[:head - 1] = np.frombuffer(header, dtype=np.uint8)
    out[head - 1] = 10
    if len(at):
        first = np.cumsum(lens) - lens + head  # where each record goes in ``out``
        out[head:] = text[np.repeat(starts - first, lens) + np.arange(head, len(out))]
        out[first + lens - 1] = 10
    return pa.py_buffer(out)


def utf8_error_at(text: Any, size: int) -> int | None:
    """None when ``text[:size]`` is valid UTF-8, else the offset of the first bad byte. Arrow
    checks the whole file in a few milliseconds; Python finds the offset only when it is bad."""
    import numpy as np
    import pyarrow as pa

    whole = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([0, size], dtype=np.int64)),
                                             pa.py_buffer(text[:size]))
    try:
        whole.validate(full=True)
        return None
    except pa.ArrowInvalid:
        try:
            text[:size].tobytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            return int(exc.start)
        return None


def as_buffer(text: Any, size: int) -> Any:
    import pyarrow as pa

    return pa.py_buffer(text[:size])


def header_record(text: Any, size: int) -> tuple[bytes, int]:
    """The first line (without its line end) and where the next one starts. Header names with a
    line break in them are not supported by the line scan (:func:`header_is` then fails)."""
    import numpy as np

    first = np.flatnonzero(text[:min(size, 1 << 20)] == 10)
    end = int(first[0]) if len(first) else size
    line = text[:end].tobytes()
    return line.removesuffix(b"\r"), min(end + 1, size)


def header_is(header: bytes, mapping: TableMapping) -> bool:
    """Whether the header row names exactly the mapped source columns, in mapping order."""
    import csv

    try:
        names = next(csv.reader([header.decode("utf-8-sig")]), [])
    except (UnicodeDecodeError, csv.Error):
        return False
    return names == [c.source for c in mapping.columns]


def record_spans(text: Any, size: int, start: int, quoted: bool) -> tuple[Any, Any] | None:
    """``(starts, ends)`` of every non-empty record after ``start``, or None when the records
    cannot be located exactly as Arrow's CSV reader will split them.

    A record ends at a line feed outside quotes (a CR before it is left out). With quotes in the
    file, a line feed is inside a value when an odd number of quotes precede it; that holds only
    when every quote is structural (opens a value at its start, closes it at its end, or is one
    of a doubled pair), which is checked, like the absence of a bare CR (another line end to the
    reader). The caller also checks that the reader finds as many records."""
    import numpy as np

    found = find_record_ends(text, start, size, quoted)
    if found is None:
        return None
    nl, crs = found
    before_nl = text[nl - 1] == 13  # a CR ending the line (left out of the record)
    starts = np.empty(len(nl) + 1, dtype=np.int64)
    starts[0] = start
    starts[1:] = nl + 1
    ends = np.empty(len(nl) + 1, dtype=np.int64)
    ends[:-1] = nl - before_nl if crs else nl
    ends[-1] = size  # never after a CR: a CR at the very end would be a bare one
    keep = ends > starts
    if not keep.all():
        starts, ends = starts[keep], ends[keep]
    return starts, ends


SCAN_BYTES = 1 << 20


def find_record_ends(text: Any, start: int, size: int, quoted: bool) -> tuple[Any, int] | None:
    """Positions of the LFs that end a record (outside quoted values) in ``text[start:size]`` and
    the number of CRs, or None when a CR is not part of a CRLF, a quote is not structural (see
    :func:`quotes_structural`) or a quoted value is left open.

    One pass of cache-sized blocks (whole-array compares would stream 40 MB temporaries through
    memory for a 1M-row file); the quote count carried from block to block gives each LF its
    parity, so quote positions never exist for the whole file at once."""
    import numpy as np

    nls, crs, crlfs, quotes = [np.zeros(0, dtype=np.int64)], 0, 0, 0
    hit = np.empty(min(SCAN_BYTES, max(size - start, 0)), dtype=bool)
    for at in range(start, size, SCAN_BYTES):
        block = text[at:min(at + SCAN_BYTES, size)]
        m = hit[:len(block)]
        np.equal(block, 10, out=m)
        nl = np.flatnonzero(m) + at
        np.equal(block, 13, out=m)
        crs += int(np.count_nonzero(m))
        if crs:  # (a CR at the end of the last block pairs with an LF at the start of this one)
            crlfs += int(np.count_nonzero(text[nl - 1] == 13))
        if quoted:
            np.equal(block, 34, out=m)
            q = np.flatnonzero(m) + at
            if len(q):
                if not quotes_structural(text, q, size, first=quotes):
                    return None
                nl = nl[((np.searchsorted(q, nl) + quotes) & 1) == 0]
                quotes += len(q)
            elif quotes & 1:
                nl = nl[:0]  # the whole block is inside one quoted value
        nls.append(nl)
    if crs != crlfs or quotes & 1:
        return None  # a bare CR (the reader would end a record there), or an unterminated quote
    return np.concatenate(nls), crs


def quotes_structural(text: Any, q: Any, size: int, *, first: int = 0) -> bool:
    """Whether the quotes at ``q`` (numbered from ``first`` in the file) are all structural: one
    at an even place opens a value (after a delimiter or a line end) or follows another quote
    directly (the second of a doubled pair); one at an odd place closes a value (before a
    delimiter, a line end or the end of the file) or is followed directly by another quote."""
    import numpy as np

    before = text[q - 1]  # q >= 1: the header comes first
    after = text[q + 1]  # the 8 zero bytes after the file keep this in bounds
    opens = ((np.arange(len(q)) + first) & 1) == 0
    ok_open = (before == 44) | (before == 10) | (before == 13) | (before == 34)
    ok_close = (after == 44) | (after == 10) | (after == 13) | (after == 34) | (q + 1 >= size)
    return bool(np.where(opens, ok_open, ok_close).all())
