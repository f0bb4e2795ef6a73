"""Differential tests: the fast engine against frictionless itself (the oracle), error by error.

Each expectation is frictionless's own answer computed here, never a hard-coded list.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcdata.validate import validate_table
from kcdata.validate.fast import Fallback, validate_fast
from kcdata.validate.reference import validate_frictionless
from kcdata.validate.schema import load_schema

FIXTURES = Path(__file__).parent / "fixtures" / "validate"
CASES = sorted(p.name[: -len(".csv")] for p in FIXTURES.glob("*.csv"))
# Files the fast engine hands to frictionless on purpose (the reason is reported as engine_reason).
FALLBACK = {"empty-file", "non-utf8-bytes"}


def triples(errors: object) -> set[tuple[str, int | None, str | None]]:
    return {(e.code, e.row, e.field) for e in errors}  # type: ignore[attr-defined]


def oracle(data: Path, schema_path: Path) -> tuple[int, set[tuple[str, int | None, str | None]], dict[str, int]]:
    loaded = load_schema(schema_path)
    result = validate_frictionless(data=data, schema=loaded, dialect=loaded.dialect, max_errors=0)
    return result.rows, triples(result.errors), result.counts


def test_corpus_covers_the_issue() -> None:
    assert len(CASES) >= 25
    assert {"bom", "crlf", "quoting", "embedded-newlines", "empty-file", "header-only", "non-utf8-bytes",
            "trailing-delimiter", "header-duplicate-label"} <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_fixture_matches_frictionless(case: str) -> None:
    data, schema_path = FIXTURES / f"{case}.csv", FIXTURES / f"{case}.schema.json"
    rows, expected, counts = oracle(data, schema_path)
    loaded = load_schema(schema_path)
    if case in FALLBACK:
        with pytest.raises(Fallback):
            validate_fast(data=data, schema=loaded, dialect=loaded.dialect, max_errors=0)
        report = validate_table(data=data, schema=schema_path, max_errors=0)
        assert report.engine == "frictionless" and report.engine_reason
    else:
        report = validate_table(data=data, schema=schema_path, max_errors=0, engine="fast")
        assert report.engine == "fast"
    assert triples(report.errors) == expected
    assert dict(report.error_counts) == counts
    assert report.rows == rows
    assert report.valid == (not expected)


def test_every_fixture_shows_an_error_or_is_meant_valid() -> None:
    clean = [c for c in CASES if not oracle(FIXTURES / f"{c}.csv", FIXTURES / f"{c}.schema.json")[1]]
    assert set(clean) <= {"header-only"}


def test_listing_is_limited_counting_is_not() -> None:
    data, schema = FIXTURES / "many-errors-past-limit.csv", FIXTURES / "many-errors-past-limit.schema.json"
    full = validate_table(data=data, schema=schema, max_errors=0)
    limited = validate_table(data=data, schema=schema, max_errors=1000)
    assert full.error_count == limited.error_count == 1100
    assert len(limited.errors) == 1000 and limited.errors == full.errors[:1000]
    # frictionless's own default stops at 1000 errors: the same first 1000
    from frictionless import validate

    from kcdata.validate.reference import make_resource

    loaded = load_schema(schema)
    capped = validate(make_resource(data=data, schema=loaded, dialect=loaded.dialect))
    assert [(e.type, e.row_number, e.field_name) for e in capped.tasks[0].errors] == \
        [(e.code, e.row, e.field) for e in limited.errors]


# -- hypothesis: random schemas, random valid and invalid cells -------------------------------------------------
CELLS = {
    "string": st.text(alphabet=string.ascii_letters + " -,\"\n", max_size=6),
    "integer": st.one_of(st.integers(-10**20, 10**20).map(str), st.sampled_from(["", "1_0", "x", "+3", " 7", "01"])),
    "number": st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
                        st.sampled_from(["", "1e3", "NaN", "1,5", ".5", "-0", "nan(1)", "inf", "1e400", "+.5", " 2"])),
    "boolean": st.sampled_from(["true", "false", "1", "0", "yes", "", "TRUE", "NA"]),
    "date": st.one_of(st.dates().map(str),
                      st.sampled_from(["2021-02-30", "2021-1-5", "", "x", "0000-01-01", "2024-02-29"])),
    "datetime": st.one_of(st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S")),
                          st.sampled_from(["2021-01-01T24:00:00", "2021-01-01T10:00:00Z", "", "2021-01-01",
                                          "2021-01-01T10:00:00.500", "2021-02-30T10:00:00.1", "2021-01-01 10:00:00",
                                          "0000-01-01T00:00:00", "2024-02-29T00:00:00", "2023-02-29T00:00:00"])),
    "year": st.sampled_from(["2021", "21", "", "abcd", "NA"]),
}
CONSTRAINTS = {
    "string": st.sampled_from([{}, {"required": True}, {"maxLength": 3}, {"pattern": "[a-z]+"}, {"enum": ["a", "B"]},
                               {"unique": True}]),
    "integer": st.sampled_from([{}, {"required": True}, {"minimum": 0}, {"maximum": 100}, {"unique": True}]),
    "number": st.sampled_from([{}, {"minimum": 0.5}, {"maximum": 10}]),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[str, object], list[list[str]]]:
    n = draw(st.integers(1, 4))
    types = draw(st.lists(st.sampled_from(sorted(CELLS)), min_size=n, max_size=n))
    fields = []
    for i, t in enumerate(types):
        f: dict[str, object] = {"name": f"f{i}", "type": t}
        cons = draw(CONSTRAINTS.get(t, st.just({})))
        if cons:
            f["constraints"] = cons
        fields.append(f)
    schema: dict[str, object] = {"fields": fields}
    missing = draw(st.sampled_from([None, ["", "NA"], ["NA"], []]))
    if missing is not None:
        schema["missingValues"] = missing
    if draw(st.booleans()):
        schema["primaryKey"] = ["f0"]
    rows = draw(st.lists(st.tuples(*[CELLS[t] for t in types]).map(list), max_size=8))
    # a few ragged rows
    rows = [r[: draw(st.integers(0, len(r)))] if draw(st.integers(0, 9)) == 0 else r for r in rows]
    return schema, rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_random_tables_match_frictionless(tmp_path: Path, table: tuple[dict[str, object], list[list[str]]]) -> None:
    import csv

    schema, rows = table
    data = tmp_path / "t.csv"
    with data.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([f["name"] for f in schema["fields"]])  # type: ignore[index]
        w.writerows(rows)
    schema_path = tmp_path / "t.schema.json"
    schema_path.write_text(json.dumps(schema))
    _, expected, counts = oracle(data, schema_path)
    report = validate_table(data=data, schema=schema_path, max_errors=0)
    assert triples(report.errors) == expected
    assert dict(report.error_counts) == counts


def test_many_batches_with_ragged_rows_match_frictionless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny blocks force hundreds of batches: ragged rows, duplicates and blank rows across batch edges."""
    import random

    from kcdata.validate import fast, uniqueness

    monkeypatch.setattr(fast, "BLOCK_SIZE", 1 << 10)
    monkeypatch.setattr(uniqueness, "BUCKET_HASHES", 200)  # 16 buckets for 3000 rows
    rnd = random.Random(3)
    lines = ["id,kind,when,n"]
    for i in range(3000):
        cells = [f"K{i}", rnd.choice(["a", "b", "c"]), f"2024-01-{1 + i % 28:02d}T10:00:00", str(i % 50)]
        roll = rnd.random()
        if roll < 0.02:
            cells = cells[:2]
        elif roll < 0.04:
            cells = [*cells, "x"]
        elif roll < 0.05:
            cells = ["", "", "", ""]
        elif roll < 0.07:
            cells[0] = f"K{max(0, i - rnd.randrange(1, 900))}"
        elif roll < 0.08:
            cells[2] = "2024-02-30T10:00:00"
        elif roll < 0.09:
            cells[3] = "1_0"
        lines.append(",".join(cells))
    data = tmp_path / "many.csv"
    data.write_text("\n".join(lines) + "\n")
    schema = tmp_path / "many.schema.json"
    schema.write_text(json.dumps({"fields": [
        {"name": "id", "type": "string", "constraints": {"unique": True, "required": True}},
        {"name": "kind", "type": "string", "constraints": {"enum": ["a", "b"]}},
        {"name": "when", "type": "datetime"},
        {"name": "n", "type": "integer", "constraints": {"maximum": 40}}], "primaryKey": ["id"]}))
    rows, expected, counts = oracle(data, schema)
    report = validate_table(data=data, schema=schema, max_errors=0, engine="fast")
    assert report.rows == rows
    assert dict(report.error_counts) == counts
    assert triples(report.errors) == expected
    limited = validate_table(data=data, schema=schema, max_errors=50, engine="fast")
    assert limited.errors == report.errors[:50]


@pytest.mark.parametrize("case", ["rows-missing-extra-blank", "unique-and-primary-key", "constraints-all",
                                  "missing-values", "composite-primary-key", "header-duplicate-label",
                                  "dates-times", "integer-variants", "header-missing-label", "header-extra-label",
                                  "crlf", "quoting", "string-formats", "number-chars"])
def test_error_order_matches_frictionless(case: str) -> None:
    """The first N listed errors are frictionless's first N: same order, not just the same set."""
    data, schema_path = FIXTURES / f"{case}.csv", FIXTURES / f"{case}.schema.json"
    loaded = load_schema(schema_path)
    ref = validate_frictionless(data=data, schema=loaded, dialect=loaded.dialect, max_errors=0)
    mine = validate_table(data=data, schema=schema_path, max_errors=0, engine="fast")
    assert [(e.code, e.row, e.field, e.message) for e in mine.errors] == \
        [(e.code, e.row, e.field, e.message) for e in ref.errors]


@pytest.mark.parametrize("case", ["quoting", "non-utf8-bytes", "rows-missing-extra-blank"])
def test_data_sha256_is_the_files(case: str) -> None:
    import hashlib

    data = FIXTURES / f"{case}.csv"
    report = validate_table(data=data, schema=FIXTURES / f"{case}.schema.json")
    assert report.data_sha256 == hashlib.sha256(data.read_bytes()).hexdigest()


def _compiles(pattern: str) -> bool:
    import re
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(f"^{pattern}$")
    except (re.error, OverflowError):
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(alphabet="ab1[]{},:()?*+|^$.\\d-", max_size=8).filter(_compiles),
       cells=st.lists(st.text(alphabet="ab1{},:[]-.\n", max_size=6), min_size=1, max_size=8))
def test_pattern_kernel_never_accepts_what_frictionless_rejects(pattern: str, cells: list[str]) -> None:
    """The soundness rule of every kernel, for RE2 against Python's re: accepted => frictionless accepts."""
    import pyarrow as pa
    from frictionless import Field

    from kcdata.validate.kernels import kernel_for

    descriptor = {"name": "s", "type": "string", "constraints": {"pattern": pattern}}
    kernel = kernel_for(descriptor)
    if kernel is None:
        return
    accepted = kernel(pa.array(cells, pa.string()))
    reader = Field.from_descriptor(descriptor).create_cell_reader()
    for cell, ok in zip(cells, accepted.tolist(), strict=True):
        if ok:
            assert not reader(cell)[1], (pattern, cell)


KERNEL_FIELDS = [
    {"name": "i", "type": "integer", "constraints": {"minimum": -5, "maximum": 300}},
    {"name": "n", "type": "number", "constraints": {"minimum": 0.5, "maximum": 1e6}},
    {"name": "n2", "type": "number"},
    {"name": "d", "type": "date"},
    {"name": "t", "type": "datetime"},
    {"name": "b", "type": "boolean", "trueValues": ["Y"], "falseValues": ["N", "0"]},
    {"name": "s", "type": "string", "constraints": {"enum": ["a", "B"], "maxLength": 1}},
]
NEAR_VALID = st.one_of(
    st.text(alphabet="0123456789-+.eE:TZ _ninfa", max_size=22),
    st.datetimes().map(lambda d: d.isoformat()),
    st.builds(lambda y, m, d, h, z: f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:00:00.5{z}", st.integers(0, 9999),
              st.integers(0, 13), st.integers(0, 32), st.integers(0, 25),
              st.sampled_from(["", "Z", "+02:00", "-23:59", "+24:00", "+2:00", "z", "+0200"])),
    st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32)),
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(cells=st.lists(NEAR_VALID, min_size=1, max_size=10))
def test_type_kernels_never_accept_what_frictionless_rejects(cells: list[str]) -> None:
    import pyarrow as pa
    from frictionless import Field

    from kcdata.validate.kernels import kernel_for

    for descriptor in KERNEL_FIELDS:
        kernel = kernel_for(descriptor)
        assert kernel is not None
        reader = Field.from_descriptor(descriptor).create_cell_reader()
        for cell, ok in zip(cells, kernel(pa.array(cells, pa.string())).tolist(), strict=True):
            if ok:
                value, notes = reader(cell)
                assert value is not None and not notes, (descriptor["name"], cell)
