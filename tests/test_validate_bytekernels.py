"""The numpy byte-level kernels decide exactly what the RE2 expressions they replace decide, on whole
arrays and on slices (Arrow offsets); the numpy string hash is equal exactly for equal strings."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from kcdata.validate import bytekernels, kernels
from kcdata.validate.uniqueness import hash_strings

SETTINGS = settings(max_examples=150, deadline=None)


def _rx(col: pa.Array, rx: str) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.match_substring_regex(col, rx), False).to_numpy(zero_copy_only=False))


def _sliced(cells: list[str], cut: int) -> pa.Array:
    """The cells as a slice of a longer array, so offsets do not start at 0."""
    pad = ["x" * (cut % 7)] * cut
    return pa.array(pad + cells + pad, pa.string()).slice(cut, len(cells))


def _stamp(draw: st.DrawFn) -> str:
    two = st.integers(0, 39).map(lambda v: f"{v:02d}")
    base = (f"{draw(st.integers(0, 9999)):04d}-{draw(two)}-{draw(two)}"
            f"{draw(st.sampled_from(['T', ' ', 't', 'T']))}{draw(two)}:{draw(two)}:{draw(two)}")
    if draw(st.booleans()):
        return base
    if draw(st.booleans()):
        return base[:10]
    i = draw(st.integers(0, len(base) - 1))
    return draw(st.sampled_from([base[:i] + draw(st.sampled_from(list("0123456789-:TZ+.é a"))) + base[i + 1:],
                                 base + draw(st.sampled_from([".5", "Z", ".123456Z", "+02:00", "x", ""])),
                                 base[:i] + base[i + 1:]]))


stamps = st.lists(st.composite(lambda draw: _stamp(draw))() | st.just(""), max_size=60)


@SETTINGS
@given(cells=stamps, cut=st.integers(0, 9))
def test_datetime_kernel_equals_its_regexes(cells: list[str], cut: int) -> None:
    col = _sliced(cells, cut)
    got = kernels.kernel_for({"type": "datetime"})(col)  # type: ignore[misc]
    plain = _rx(col, kernels._DATETIME_RX)
    fraction = _rx(col, kernels._FRACTION_RX) & (np.array([len(c.encode()) for c in cells], dtype=int) > 19)
    assert got.tolist() == (plain | fraction).tolist()


@SETTINGS
@given(cells=stamps, cut=st.integers(0, 9))
def test_date_kernel_equals_its_regex(cells: list[str], cut: int) -> None:
    col = _sliced(cells, cut)
    got = kernels.kernel_for({"type": "date"})(col)  # type: ignore[misc]
    assert got.tolist() == _rx(col, kernels._DATE_RX).tolist()


def test_calendar_edges_exhaustively() -> None:
    """Every month and day 00-32 in a leap and a common year, every hour 00-25, minute and second 00-61."""
    days = [f"{y}-{m:02d}-{d:02d}" for y in ("2024", "2023", "0000", "0001", "9999") for m in range(14)
            for d in range(33)]
    clocks = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(26) for m in (0, 9, 10, 59, 60, 61) for s in (0, 59, 60)]
    stamps = [f"2024-02-28T{c}" for c in clocks] + [f"{d}T12:00:00" for d in days]
    mixed = [c for pair in zip(stamps, days, strict=False) for c in pair]  # many cells of the other width
    for cells, kind, rx in ((days, "date", kernels._DATE_RX), (stamps, "datetime", kernels._DATETIME_RX),
                            (mixed, "date", kernels._DATE_RX), (mixed, "datetime", kernels._DATETIME_RX)):
        col = _sliced(cells, 3)
        got = kernels.kernel_for({"type": kind})(col)  # type: ignore[misc]
        want = _rx(col, rx)
        assert want.any() and not want.all()
        assert got.tolist() == want.tolist()


@SETTINGS
@given(cells=st.lists(st.text(alphabet="0123456789-+_ ٣a.", max_size=21) | st.integers().map(str), max_size=60),
       cut=st.integers(0, 9))
def test_integer_text_equals_its_regex(cells: list[str], cut: int) -> None:
    col = _sliced(cells, cut)
    assert bytekernels.integer_text(col).tolist() == _rx(col, kernels._INT).tolist()


PATTERNS = ["KC[0-9]{8}", r"\d{5}", r"\d{3}-\d{4}", "[A-Z][a-z0-9_]{2}", r"AB\.C", r"\w{3}", "[a-c-]{2}x",
            "[0-9]{0}z", "abc"]


@SETTINGS
@given(pattern=st.sampled_from(PATTERNS), cut=st.integers(0, 9),
       cells=st.lists(st.text(alphabet="KC0123456789AZaz_-.é٣ \n", max_size=12), max_size=40))
def test_fixed_patterns_equal_re2_and_never_accept_what_python_rejects(pattern: str, cut: int,
                                                                       cells: list[str]) -> None:
    tables = bytekernels.compile_fixed(pattern)
    assert tables is not None
    samples = [*cells, *(c for c in ["KC12345678", "12345", "123-4567", "Ab_", "AB.C", "a_9", "a-x", "z", "abc"])]
    col = _sliced(samples, cut)
    got = bytekernels.match_fixed(col, tables)
    assert got.tolist() == _rx(col, f"^(?:{pattern})$").tolist()
    python = re.compile(f"^{pattern}$")  # frictionless's own check
    assert all(python.match(c) for c, ok in zip(samples, got.tolist(), strict=True) if ok)


def test_unsupported_patterns_are_left_to_re2() -> None:
    for pattern in ["a|b", "(ab)", "a+", "a?", "a*", "[^a]", r"\D", "a{1,3}", ".", "[a\\d]", "^a$", "é", "[aé]",
                    "[à-é]"]:
        assert bytekernels.compile_fixed(pattern) is None, pattern


@SETTINGS
@given(cells=st.lists(st.text(alphabet="ab\x00é€ ", max_size=25), max_size=80), cut=st.integers(0, 9))
def test_hash_is_equal_exactly_for_equal_strings(cells: list[str], cut: int) -> None:
    hashes = hash_strings(_sliced(cells, cut)).tolist()
    for c, h in zip(cells, hashes, strict=True):
        assert h == hash_strings(pa.array([c], pa.string()))[0]  # any array, any slice: the same hash
    by_value = dict(zip(cells, hashes, strict=True))
    assert len(set(by_value.values())) == len(by_value)


@SETTINGS
@given(bad=st.lists(st.integers(0, 999), max_size=12), junk=st.sampled_from(["north", "1e", "--1", "nan", "١"]))
def test_number_kernel_with_bad_cells_in_long_columns(bad: list[int], junk: str) -> None:
    cells = [f"{(i * 37) % 1000 / 7:.4f}" for i in range(1000)]
    for i in bad:
        cells[i] = junk
    ok = kernels.kernel_for({"type": "number"})(pa.array(cells, pa.string()))  # type: ignore[misc]
    for c, accepted in zip(cells, ok.tolist(), strict=True):
        if c != junk:
            assert accepted, c  # a bad cell elsewhere does not push clean ones to the slow path
        elif accepted:
            try:
                assert Decimal(c).is_finite()
            except InvalidOperation:
                raise AssertionError(c) from None
