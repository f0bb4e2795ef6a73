"""The file cut into segments parsed on several threads gives exactly the single-stream answer.

Cuts are made only after a line break outside quotes; tiny segments force cuts everywhere (quoted line
breaks, doubled quotes, CRLF, ragged rows, stray quotes that stop the cutting).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcdata.validate import fast, validate_table
from kcdata.validate.segments import safe_cut
from tests.test_validate_diff import oracle, triples

SCHEMA = {"fields": [{"name": "id", "type": "string", "constraints": {"unique": True}},
                     {"name": "n", "type": "integer", "constraints": {"maximum": 50}},
                     {"name": "note", "type": "string", "constraints": {"maxLength": 6}}],
          "primaryKey": ["id"]}

CELL = st.sampled_from(["a", "", "7", "99", "x y", '"q"', '"a,b"', '"line\nbreak"', '"say ""hi"""', '""', '"\r\n"',
                        'a"b', "é", '"é,""\n"'])
ROW = st.lists(CELL, min_size=0, max_size=5).map(",".join)


def _run(data: Path, schema: Path, monkeypatch: pytest.MonkeyPatch, *, workers: int, segment: int) -> tuple:
    monkeypatch.setattr(fast, "PARSE_WORKERS", workers)
    monkeypatch.setattr(fast, "SEGMENT_BYTES", segment)
    monkeypatch.setattr(fast, "BLOCK_SIZE", 1 << 10)
    r = validate_table(data=data, schema=schema, engine="fast", max_errors=0)
    return r.rows, [(e.code, e.row, e.field, e.message) for e in r.errors], r.data_sha256


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=0, max_size=40), newline=st.sampled_from(["\n", "\r\n"]),
       segment=st.integers(1, 120))
def test_segments_give_the_single_stream_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[str],
                                                newline: str, segment: int) -> None:
    data = tmp_path / "t.csv"
    data.write_bytes(newline.join(["id,n,note", *rows, ""]).encode())
    schema = tmp_path / "t.schema.json"
    schema.write_text(json.dumps(SCHEMA))
    single = _run(data, schema, monkeypatch, workers=1, segment=1 << 20)
    assert _run(data, schema, monkeypatch, workers=3, segment=segment) == single
    assert single[2] == hashlib.sha256(data.read_bytes()).hexdigest()


def test_segments_on_many_rows_match_frictionless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    rnd = random.Random(7)
    lines = ["id,n,note"]
    for i in range(4000):
        cells = [f"K{i}", str(i % 60), rnd.choice(["ok", '"a,b"', '"two\nlines"', '"say ""x"""', "toolongnote"])]
        roll = rnd.random()
        if roll < 0.02:
            cells = cells[:1]
        elif roll < 0.04:
            cells = [*cells, "extra"]
        elif roll < 0.06:
            cells[0] = f"K{max(0, i - 10)}"
        lines.append(",".join(cells))
    data = tmp_path / "many.csv"
    data.write_text("\n".join(lines) + "\n")
    schema = tmp_path / "many.schema.json"
    schema.write_text(json.dumps(SCHEMA))
    monkeypatch.setattr(fast, "PARSE_WORKERS", 3)
    monkeypatch.setattr(fast, "SEGMENT_BYTES", 2000)
    rows, expected, counts = oracle(data, schema)
    report = validate_table(data=data, schema=schema, engine="fast", max_errors=0)
    assert (report.rows, triples(report.errors), dict(report.error_counts)) == (rows, expected, counts)


def _cut(text: bytes) -> tuple[int, bool]:
    return safe_cut(np.frombuffer(text, dtype=np.uint8), quote=ord('"'), delimiter=ord(","))


def test_a_cut_is_never_inside_quotes() -> None:
    assert _cut(b'a,"x\ny"\nb,c\nd') == (len(b'a,"x\ny"\nb,c\n'), True)
    assert _cut(b'a,"x\ny') == (len(b""), True)  # the only line break is quoted
    assert _cut(b'a,"say ""hi"""\nb') == (len(b'a,"say ""hi"""\n'), True)
    assert _cut(b'a,"x""\ny"\n') == (len(b'a,"x""\ny"\n'), True)  # "" inside quotes: still inside at the break


def test_a_literal_quote_stops_the_cutting() -> None:
    cut, more = _cut(b'a,b\nc,d"e\nf,g\n')
    assert (cut, more) == (len(b"a,b\n"), False)
    cut, more = _cut(b'a,"b"c\nd\n')  # text after a closing quote
    assert (cut, more) == (0, False)


def test_a_quoted_crlf_split_between_reads_of_the_tail_keeps_its_lf(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the property above: with tiny segments the rest is read as one stream through a wrapper whose
    first read ended between the CR and LF of a quoted CRLF; pyarrow then lost the LF of the value."""
    data, schema = tmp_path / "d.csv", tmp_path / "s.json"
    data.write_bytes(b'id,n,note\n99,"\r\n"\n')
    schema.write_text(json.dumps(SCHEMA), encoding="utf-8")
    single = _run(data, schema, monkeypatch, workers=1, segment=8 << 20)
    assert 'cell "\r\n"' in single[1][0][3]
    for segment in (1, 2, 3, 5):
        assert _run(data, schema, monkeypatch, workers=2, segment=segment) == single
