"""The vectorised row hash: a function of each string's bytes alone (the manifest relies on it)."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kcdata.publish.rows.hashing import hash_strings


def _one(s: str) -> int:
    return int(hash_strings(pa.array([s], type=pa.string()))[0])


@given(st.lists(st.text(max_size=40), max_size=40), st.integers(0, 40), st.integers(0, 40))
def test_hash_depends_only_on_the_string(values: list[str], start: int, length: int) -> None:
    arr = pa.array(values, type=pa.string())
    whole = hash_strings(arr).tolist()
    assert whole == [_one(v) for v in values]  # neighbours, lengths of others and position do not matter
    part = arr.slice(min(start, len(values)), length)
    assert hash_strings(part).tolist() == whole[min(start, len(values)):min(start, len(values)) + length]
    chunked = pa.chunked_array([arr.slice(0, len(values) // 2), arr.slice(len(values) // 2)], type=pa.string())
    assert hash_strings(chunked).tolist() == whole
    assert hash_strings(arr.cast(pa.large_string())).tolist() == whole


@given(st.text(max_size=30), st.text(max_size=30))
def test_different_strings_hash_differently(a: str, b: str) -> None:
    if a != b:
        assert _one(a) != _one(b)


def test_no_collisions_on_similar_strings() -> None:
    # Trailing zero bytes, shared prefixes and word boundaries are the cases a padded hash gets wrong.
    values = ["", "\x00", "\x00\x00", "a", "a\x00", "abcdefgh", "abcdefgh\x00", "abcdefghi"]
    values += [f"row {i}\x1fname {i % 977}\x1f{i * 7 % 1000 / 100:.2f}" for i in range(20_000)]
    values += [hashlib.sha1(str(i).encode()).hexdigest() * (i % 5) for i in range(5_000)]
    values = list(dict.fromkeys(values))
    hashes = hash_strings(pa.array(values, type=pa.string()))
    assert len(set(hashes.tolist())) == len(values)


def test_known_values_are_stable() -> None:
    # Stored in manifests on the portal: a change here must bump hashing.VERSION.
    got = [_one(s) for s in ("", "a", "abcdefgh", "abcdefghi")]
    assert got == [15397730242686860875, 4762798922060510589, 11621255909485612025, 15288095038876702297]


def test_spans_hash_the_same_in_blocks_and_anywhere_in_a_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from kcdata.publish.rows import hashing

    values = [f"record {i}" * (i % 4) for i in range(50)]
    text = "".join(values).encode()
    starts = np.cumsum([0] + [len(v.encode()) for v in values[:-1]])
    lengths = np.array([len(v.encode()) for v in values])
    padded = np.zeros(len(text) + 8, dtype=np.uint8)
    padded[:len(text)] = np.frombuffer(text, dtype=np.uint8)
    want = [_one(v) for v in values]
    assert hashing.hash_spans(padded, starts, lengths).tolist() == want
    monkeypatch.setattr(hashing, "BLOCK", 7)  # many blocks, the last one short
    assert hashing.hash_spans(padded, starts, lengths).tolist() == want
    order = np.arange(len(values))[::-1]  # spans in any order
    assert hashing.hash_spans(padded, starts[order], lengths[order]).tolist() == want[::-1]
