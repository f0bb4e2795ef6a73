"""PII screening: each kind of personal value, header hints, sampling, and no false alarms on city data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kcdata.policy.pii import PiiKind, header_names_person, looks_like, sample_rows, screen_file, screen_rows


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.mark.parametrize(("value", "kind"), [
    ("123-45-6789", PiiKind.SSN), ("(816) 555-0142", PiiKind.PHONE), ("816-555-0142", PiiKind.PHONE),
    ("+1 816.555.0142", PiiKind.PHONE), ("jane.doe@example.org", PiiKind.EMAIL), ("Maria Lopez", PiiKind.PERSON_NAME),
    ("Smith, John A.", PiiKind.PERSON_NAME), ("James T. Kirk", PiiKind.PERSON_NAME),
])
def test_personal_values(value: str, kind: PiiKind) -> None:
    assert looks_like(value) is kind


@pytest.mark.parametrize("value", [
    "000-12-3456", "666-12-3456", "2026-01-15", "39.0997", "-94.5786", "1200 Main St", "Water Main Break",
    "Grand Boulevard", "KC Water", "64106", "A Pothole", "not-an-email@", "Swope Park", "", "12345",
    "Grace Church", "Mary Harris Park", "James Elementary School", "Linda Hall Library", "Joe Smith LLC",
])
def test_city_values_are_not_personal(value: str) -> None:
    assert looks_like(value) is None


@pytest.mark.parametrize(("header", "flag"), [
    ("owner_name", True), ("FirstName", True), ("last_name", True), ("Complainant Name", True), ("surname", True),
    ("street_name", False), ("business_name", False), ("park name", False), ("name", False), ("department", False),
])
def test_header_hints(header: str, flag: bool) -> None:
    assert header_names_person(header) is flag


@given(st.from_regex(r"\A(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\Z"))
def test_every_well_formed_ssn_is_flagged(ssn: str) -> None:
    assert looks_like(ssn) is PiiKind.SSN


@given(n=st.integers(0, 400), head=st.integers(0, 50), reservoir=st.integers(0, 50), seed=st.integers(0, 9))
def test_sample_is_head_plus_reservoir(n: int, head: int, reservoir: int, seed: int) -> None:
    rows = [[str(i)] for i in range(n)]
    sample, total = sample_rows(iter(rows), head=head, reservoir=reservoir, seed=seed)
    assert total == n
    assert len(sample) == min(n, head + reservoir)
    assert sample[: min(head, n)] == rows[: min(head, n)]
    rest = [r[0] for r in sample[min(head, n):]]
    assert len(set(rest)) == len(rest) and all(int(x) >= head for x in rest)


def test_screen_file_flags_each_kind_and_never_reports_values(tmp_path: Path) -> None:
    rows = [[f"R{i}", f"{100 + i}-45-6789", f"816-555-{1000 + i}", f"user{i}@example.org", "Linda Brown",
             "Swope Park", "39.1"] for i in range(50)]
    path = _write(tmp_path / "x.csv", ["id", "ssn", "phone", "email", "resident", "park", "lat"], rows)
    screen = screen_file(path)
    kinds = {c.column: c.kind for c in screen.columns}
    assert kinds == {"ssn": PiiKind.SSN, "phone": PiiKind.PHONE, "email": PiiKind.EMAIL,
                     "resident": PiiKind.PERSON_NAME}
    assert all(c.share == 1.0 and c.sampled == 50 for c in screen.columns)
    assert "example.org" not in repr(screen)


def test_share_threshold(tmp_path: Path) -> None:
    # 2 of 10 contact values are e-mails: below the default 30% share, above a 10% one.
    rows = [[f"R{i}", "a@example.org" if i < 2 else "front desk"] for i in range(10)]
    path = _write(tmp_path / "x.csv", ["id", "contact"], rows)
    assert screen_file(path).columns == ()
    assert [c.column for c in screen_file(path, min_share=0.1).columns] == ["contact"]


def test_header_hint_without_matching_values(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", ["id", "owner_name"], [["1", "ACME HOLDINGS LLC"], ["2", "KC LAND TRUST"]])
    (col,) = screen_file(path).columns
    assert col.kind is PiiKind.NAME_HEADER and col.matched == 0


def test_reservoir_finds_pii_past_the_head(tmp_path: Path) -> None:
    # The first 100 rows are clean; e-mails appear only later. Sampling must still see them.
    rows = [[str(i), "n/a" if i < 100 else f"u{i}@example.org"] for i in range(2000)]
    path = _write(tmp_path / "x.csv", ["id", "contact"], rows)
    screen = screen_file(path, head_rows=100, reservoir=200)
    assert screen.rows_read == 2000 and screen.rows_sampled == 300
    assert [c.kind for c in screen.columns] == [PiiKind.EMAIL]


def test_screen_rows_on_empty_input() -> None:
    assert screen_rows(["a"], iter([])).columns == ()


def test_reservoir_is_uniform() -> None:
    # 4 000 fixed seeds, one slot over 10 rows: every row should be chosen about 400 times.
    counts = [0] * 10
    for seed in range(4000):
        sample, total = sample_rows(iter([[str(i)] for i in range(10)]), head=0, reservoir=1, seed=seed)
        counts[int(sample[0][0])] += 1
        assert total == 10
    assert all(320 <= c <= 480 for c in counts), counts
