"""Issue 15, item by item: the fast engine itself gives frictionless's answer (no fallback), and what
frictionless cannot answer is refused by name (exit 3) in both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcdata.errors import InputError
from kcdata.validate import validate_table
from tests.corpus_helpers import answer, cases, oracle

EDGES = {c.id.split(":", 1)[1]: c for c in cases() if c.id.startswith("edges:")}

# Cases the fast engine must decide itself (a fallback would hide a fast-engine bug behind frictionless).
FAST = [
    "label-spaces",
    "label-tab-nbsp",
    "label-duplicate-after-strip",
    "label-blank",
    "label-quoted-newline",
    "label-quoted-newline-match",
    "label-quoted-crlf",
    "header-only-no-newline",
    "header-only-newline",
    "single-word",
    "single-word-two-fields",
    "single-space",
    "bom-header",
    "pattern-W",
    "pattern-D",
    "pattern-S",
    "pattern-s",
    "pattern-not-az",
    "pattern-not-digit-class",
    "pattern-words",
    "pattern-code",
    "unique-time-offsets",
    "unique-datetime-offsets",
    "pk-datetime-offsets",
    "pk-composite-datetime",
    "unique-number",
    "unique-geopoint",
    "v2-exclusive-integer",
    "v2-exclusive-number",
    "v2-exclusive-date",
    "v2-list",
    "v2-list-unique",
    "unique-object",
    "unique-array",
    "pk-object",
    "pk-composite-array",
    "unique-geojson",
    "datetime-minimum-naive-vs-aware",
    "datetime-maximum-aware-vs-naive",
    "time-minimum-naive-vs-aware",
]


@pytest.mark.parametrize("name", FAST)
def test_fast_engine_answers_as_frictionless(name: str, tmp_path: Path) -> None:
    data, schema = EDGES[name].materialise(tmp_path)
    report = validate_table(data=data, schema=schema, engine="fast", max_errors=0)
    assert report.engine == "fast"
    assert answer(data, schema, engine="fast") == oracle(data, schema)


def test_json_values_and_instants_are_compared_as_values(tmp_path: Path) -> None:
    data, schema = EDGES["unique-object"].materialise(tmp_path)
    report = validate_table(data=data, schema=schema, engine="fast", max_errors=0)
    # {"a":1} = {"a":1.0} = {"a":1} (rows 2, 3, 7); key order does not matter (rows 4, 5); true is not 1 (row 6)
    assert [(e.code, e.row) for e in report.errors] == [("unique-error", 3), ("unique-error", 5), ("unique-error", 7)]
    data, schema = EDGES["unique-time-offsets"].materialise(tmp_path / "t")
    report = validate_table(data=data, schema=schema, engine="fast", max_errors=0)
    # 10:00Z = 11:00+01:00 = 09:00-01:00; a naive 10:00 is another value (and repeated at row 6)
    assert [e.row for e in report.errors] == [3, 5, 6]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("pattern-inline-flag", ["pattern", "(?i)"]),
        ("format-wkt", ["wkt", "frictionless[wkt]"]),
        ("v1-exclusive-refused", ["exclusiveMinimum", "v2"]),
        ("v1-missing-objects-refused", ["missing values in object form", "v2"]),
        ("spec-unique-keys", ["uniqueKeys"]),
        ("spec-json-schema", ["jsonSchema"]),
        ("dialect-header-false", ["dialect.header"]),
        ("dialect-skip-initial-space", ["dialect.skipInitialSpace"]),
        ("dialect-comment-char", ["dialect.commentChar"]),
        ("dialect-header-rows", ["dialect.headerRows"]),
    ],
)
@pytest.mark.parametrize("engine", ["fast", "frictionless", "auto"])
def test_refused_by_name_in_both_engines(name: str, words: list[str], engine: str, tmp_path: Path) -> None:
    data, schema = EDGES[name].materialise(tmp_path)
    with pytest.raises(InputError) as info:
        validate_table(data=data, schema=schema, engine=engine)
    assert info.value.code == "schema-error"
    assert all(w in info.value.message for w in words), info.value.message


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("utf16-le-no-bom", ["UTF-16-LE", "--encoding utf-16-le"]),
        ("gzip-named-csv", ["gzip", ".csv.gz"]),
        ("zip-named-csv", ["zip", ".zip"]),
    ],
)
def test_misread_files_are_named_with_the_fix(name: str, words: list[str], tmp_path: Path) -> None:
    data, schema = EDGES[name].materialise(tmp_path)
    with pytest.raises(InputError) as info:
        validate_table(data=data, schema=schema)
    text = f"{info.value.message} {info.value.hint}"
    assert info.value.code == "bad-input" and all(w in text for w in words), text


@pytest.mark.parametrize(
    "name",
    [
        "utf16-le-bom",
        "utf16-be-bom",
        "gzip-csv-gz",
        "zip-csv-zip",
        "starts-with-empty-line",
        "blank-lines-only",
        "bom-only",
    ],
)
def test_fallbacks_give_frictionless_answer(name: str, tmp_path: Path) -> None:
    data, schema = EDGES[name].materialise(tmp_path)
    report = validate_table(data=data, schema=schema, max_errors=0)
    assert report.engine == "frictionless" and report.engine_reason
    assert answer(data, schema, engine="auto") == oracle(data, schema)


def test_a_fast_engine_crash_falls_back_to_frictionless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kcdata.validate import fast

    def boom(**_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(fast, "validate_fast", boom)
    data, schema = EDGES["label-spaces"].materialise(tmp_path)
    report = validate_table(data=data, schema=schema)
    assert report.engine == "frictionless" and "a bug" in str(report.engine_reason)
    with pytest.raises(InputError, match="the fast engine cannot validate this file: RuntimeError: a bug"):
        validate_table(data=data, schema=schema, engine="fast")  # exit 3 with the cause, never a traceback


LABEL = st.sampled_from(["id", " id", "id ", "\tid", "id\u00a0", "name", " name ", '"name"', '" name"', '"na\nme"',
                         '"na,me"', "", " ", '""', "ID", "x"])
CELL_TEXT = st.sampled_from(["1", "a", "", " ", '"1"', '"a\nb"', "x y"])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.lists(LABEL, min_size=1, max_size=4), rows=st.lists(st.lists(CELL_TEXT, max_size=4), max_size=4),
       newline=st.sampled_from(["\n", "\r\n"]), final=st.booleans(), bom=st.booleans())
def test_random_headers_match_frictionless(tmp_path: Path, labels: list[str], rows: list[list[str]], newline: str,
                                           final: bool, bom: bool) -> None:
    """Header labels (stripped, quoted, with line breaks, blank, duplicated) and tiny files, fast engine only."""
    import json

    text = newline.join([",".join(labels), *(",".join(r) for r in rows)]) + (newline if final else "")
    data = tmp_path / "h.csv"
    data.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    schema = tmp_path / "h.schema.json"
    schema.write_text(json.dumps({"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]}))
    expected = oracle(data, schema)
    try:
        report = validate_table(data=data, schema=schema, engine="fast", max_errors=0)
    except InputError as exc:  # the fast engine hands some files to frictionless: then auto must agree
        assert "cannot validate" in exc.message
        assert answer(data, schema, engine="auto") == expected
        return
    assert (report.rows, sorted((e.code, e.row or 0, e.field or "") for e in report.errors)) == expected


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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=st.text(alphabet="ab1[]^.+*\\WDSwds-", min_size=1, max_size=7).filter(_compiles),
       cells=st.lists(st.text(alphabet="ab1 _é٣\u00a0\u2003\x1c-", min_size=1, max_size=3), min_size=1, max_size=6))
def test_unicode_classes_in_patterns_match_python_re(tmp_path: Path, pattern: str, cells: list[str]) -> None:
    """The fast path decides every pattern as Python's re does, on non-ASCII and control characters too."""
    import csv
    import json
    import re

    data = tmp_path / "p.csv"
    with data.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["v"], *([c] for c in cells)])
    schema = tmp_path / "p.schema.json"
    schema.write_text(json.dumps({"fields": [{"name": "v", "constraints": {"pattern": pattern}}]}))
    report = validate_table(data=data, schema=schema, engine="fast", max_errors=0)
    rx = re.compile(f"^{pattern}$")
    expected = {i + 2 for i, c in enumerate(cells) if c.strip() and not rx.match(c)}  # "" is a missing value
    expected |= {i + 2 for i, c in enumerate(cells) if c and not c.strip() and not rx.match(c)}
    assert {e.row for e in report.errors if e.code == "constraint-error"} == expected
