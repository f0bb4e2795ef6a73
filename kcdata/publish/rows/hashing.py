"""A 64-bit hash of every string in an Arrow string array, computed with numpy on the array's own
buffers — no Python object per row (pandas' ``hash_array`` needs a ``str`` per row, which costs
more than the hashing itself) and numpy releases the GIL, so it overlaps the manifest download.

The function is an xxHash64-style single-lane hash: every 8-byte little-endian word of the string
goes through ``acc = rotl(acc + w * P2, 31) * P1`` (the last word zero-padded), the length seeds
the accumulator and xxHash's avalanche finishes it. The result depends only on the string's bytes
(not on its neighbours or the array's chunking), so it is stable across runs and machines — it
is stored in the manifest on the portal. Change :data:`VERSION` if the function ever changes.
"""

from __future__ import annotations

from typing import Any

VERSION = "xh64-1"

_P1, _P2, _P3, _P5 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5


def hash_strings(array: Any) -> Any:
    """``uint64`` hashes of a pyarrow string (or binary) array; nulls hash like ""."""
    import numpy as np
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type):
        off_type: Any = np.int64
    elif pa.types.is_string(array.type) or pa.types.is_binary(array.type):
        off_type = np.int32
    else:
        raise TypeError(f"hash_strings needs a string array, not {array.type}")
    n = len(array)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    _, off_buf, data_buf = array.buffers()
    offsets = np.frombuffer(off_buf, dtype=off_type, count=n + 1,
                            offset=array.offset * np.dtype(off_type).itemsize).astype(np.int64)
    lo, hi = int(offsets[0]), int(offsets[-1])
    # Zero padding after the last byte, so an 8-byte read at any string start stays in bounds.
    padded = np.zeros(hi - lo + 8, dtype=np.uint8)
    if hi > lo:
        padded[:hi - lo] = np.frombuffer(data_buf, dtype=np.uint8, count=hi - lo, offset=lo)
    return hash_spans(padded, offsets[:-1] - lo, np.diff(offsets))


BLOCK = 1 << 16


def hash_spans(padded: Any, starts: Any, lengths: Any) -> Any:
    """``uint64`` hashes of the byte strings ``padded[starts[i]:starts[i] + lengths[i]]``.

    ``padded`` is a ``uint8`` array with at least 8 bytes after the last span (so an 8-byte read
    at any span start stays in bounds); spans may be anywhere in it, in any order.

    Spans are hashed in blocks of :data:`BLOCK`: each block's temporaries stay in the CPU cache
    and are reused, where whole-array passes would stream every temporary through memory."""
    import numpy as np

    n = len(starts)
    if n <= BLOCK:
        return _hash_block(padded, starts, lengths)
    out = np.empty(n, dtype=np.uint64)
    for at in range(0, n, BLOCK):
        out[at:at + BLOCK] = _hash_block(padded, starts[at:at + BLOCK], lengths[at:at + BLOCK])
    return out


def _hash_block(padded: Any, starts: Any, lengths: Any) -> Any:
    import numpy as np

    n = len(starts)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    p1, p2, p3, p5 = (np.uint64(x) for x in (_P1, _P2, _P3, _P5))
    masks = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [2**64 - 1], dtype=np.uint64)
    # Unaligned 8-byte reads at any offset (fancy indexing; np.take is ~100x slower on this view).
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    pos, rem = np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    acc = rem.astype(np.uint64) + (p5 + np.uint64(1))
    tmp = np.empty(n, dtype=np.uint64)

    def mix(acc: Any, w: Any, tmp: Any) -> None:  # acc = rotl(acc + w * P2, 31) * P1, in place
        np.multiply(w, p2, out=w)
        np.add(acc, w, out=acc)
        np.right_shift(acc, np.uint64(33), out=tmp)
        np.left_shift(acc, np.uint64(31), out=acc)
        np.bitwise_or(acc, tmp, out=acc)
        np.multiply(acc, p1, out=acc)

    # Words every string has in full need neither masks nor bookkeeping (the bulk of the work).
    for k in range(int(rem.min()) // 8):
        w = words[pos + 8 * k]
        mix(acc, w, tmp)
    done = int(rem.min()) // 8
    pos, rem = pos + 8 * done, rem - 8 * done
    out, idx = acc, None  # until the first string ends, acc is out itself
    live = rem > 0
    while True:
        if not live.all():
            if idx is None:
                idx = np.arange(n)
            else:
                out[idx[~live]] = acc[~live]
            idx, pos, rem = idx[live], pos[live], rem[live]
            acc, tmp = acc[live], tmp[:len(idx)]
            if len(idx) == 0:
                break
        w = words[pos]
        np.bitwise_and(w, masks[np.minimum(rem, 8)], out=w)
        mix(acc, w, tmp)
        pos, rem = pos + 8, rem - 8
        live = rem > 0
    out ^= out >> np.uint64(33)
    out *= p2
    out ^= out >> np.uint64(29)
    out *= p3
    out ^= out >> np.uint64(32)
    return out
