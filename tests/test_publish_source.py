"""Reading a CSV for publish: records located in the raw bytes must be exactly the rows Arrow's
CSV reader parses, or the scan must fall back to parsing the whole file. Any disagreement would
tie a row's hash to the wrong key, so a changed row could be missed."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcdata.errors import InputError
from kcdata.publish.rows.scan import iter_encoded_chunks, read_table, scan
from kcdata.publish.typemap import table_mapping

FIELDS = [{"name": "id", "type": "integer"}, {"name": "note", "type": "string"}, {"name": "n", "type": "number"}]
MAPPING = table_mapping({"fields": FIELDS, "primaryKey": ["id"]}, row_identifier=None, where="t")


def _csv(rows: list[list[str]], *, header: list[str] | None = None, quoting: int = csv.QUOTE_MINIMAL,
         end: str = "\n") -> bytes:
    out = io.StringIO()
    w = csv.writer(out, quoting=quoting, lineterminator=end)
    w.writerow(header or [f["name"] for f in FIELDS])
    w.writerows(rows)
    return out.getvalue().encode()


def _reference(path: Path) -> list[dict[str, str]]:
    """Every row as Arrow's reader parses the whole file, rows with an empty id left out."""
    return [r for r in read_table(path, MAPPING).to_pylist() if r["id"] != ""]


def _check(path: Path) -> object:
    """The scan agrees with the reference on keys, on every subset of rows and on whole tables."""
    sc = scan(path, MAPPING)
    ref = _reference(path)
    assert sc.rows.key_list() == [r["id"] for r in ref]
    assert sc.table().to_pylist() == ref
    n = len(ref)
    for positions in (np.arange(0, n, 3), np.arange(n)[::-1][:2][::-1], np.array([], dtype=np.int64)):
        assert sc.table(positions).to_pylist() == [ref[i] for i in positions]
    return sc


def test_plain_file_is_line_hashed_and_parses_only_the_rows_asked_for(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes(_csv([[str(i), f"note {i}", f"{i}.5"] for i in range(1, 50)]))
    sc = scan(p, MAPPING)
    assert sc.spans is not None and not sc._full  # nothing parsed in full yet
    assert sc.table(np.array([0, 9, 48])).to_pylist() == [
        {"id": "1", "note": "note 1", "n": "1.5"}, {"id": "10", "note": "note 10", "n": "10.5"},
        {"id": "49", "note": "note 49", "n": "49.5"}]
    assert not sc._full
    _check(p)
    cells = scan(p, MAPPING, locate_records=False)  # the benchmark's reference path
    assert cells.spans is None and cells.rows.key_list() == sc.rows.key_list()
    assert cells.table().to_pylist() == sc.table().to_pylist()


def test_line_ends_do_not_change_the_hashes(tmp_path: Path) -> None:
    rows = [[str(i), f"x{i}", "1"] for i in range(1, 20)]
    a, b, c = tmp_path / "lf.csv", tmp_path / "crlf.csv", tmp_path / "noend.csv"
    a.write_bytes(_csv(rows))
    b.write_bytes(_csv(rows, end="\r\n"))
    c.write_bytes(_csv(rows).rstrip(b"\n"))
    ha, hb, hc = (scan(p, MAPPING).rows.hashes.tolist() for p in (a, b, c))
    assert ha == hb == hc
    _check(b)


def test_a_changed_cell_changes_only_its_rows_hash(tmp_path: Path) -> None:
    rows = [[str(i), f"x{i}", "1"] for i in range(1, 20)]
    p = tmp_path / "d.csv"
    p.write_bytes(_csv(rows))
    before = scan(p, MAPPING).rows.hashes.tolist()
    rows[4][1] = "x5 changed"
    rows[10][2] = "2"
    p.write_bytes(_csv(rows))
    after = scan(p, MAPPING).rows.hashes.tolist()
    assert [i for i, (x, y) in enumerate(zip(before, after, strict=True)) if x != y] == [4, 10]


def test_quoted_values_with_line_breaks_stay_one_record(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes(_csv([["1", "two\nlines, and \"quotes\"", "1"], ["2", "", "2"], ["3", "\n\n", "3"],
                        ["4", '"', "4"]], quoting=csv.QUOTE_ALL))
    sc = _check(p)
    assert sc.spans is not None  # every quote is structural: the line scan is safe


@pytest.mark.parametrize("body, why", [
    (b'1,ab"c,1\n2,d,2\n', "a quote inside an unquoted value"),
    (b'1,"ab"c,1\n2,d,2\n', "text after a closing quote"),
    (b"1,a,1\r2,d,2\n3,e,3\n", "a bare CR (the reader ends a record there)"),
])
def test_records_that_cannot_be_located_safely_are_parsed_in_full(tmp_path: Path, body: bytes, why: str) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes(b"id,note,n\n" + body)
    try:
        ref = _reference(p)
    except InputError:
        pytest.skip(f"Arrow refuses this file too ({why})")
    sc = scan(p, MAPPING)
    assert sc.spans is None, why
    assert sc.rows.key_list() == [r["id"] for r in ref]


def test_extra_or_reordered_columns_hash_the_mapped_cells_only(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes(_csv([["1", "a", "1", "x"]], header=["id", "note", "n", "extra"]))
    sc = scan(p, MAPPING)
    assert sc.spans is None
    p.write_bytes(_csv([["1", "a", "1", "changed"]], header=["id", "note", "n", "extra"]))
    assert scan(p, MAPPING).rows.hashes.tolist() == sc.rows.hashes.tolist()
    p.write_bytes(_csv([["a", "1", "1"]], header=["note", "id", "n"]))
    assert scan(p, MAPPING).spans is None
    _check(p)


def test_blank_lines_bom_and_empty_keys(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes(b"\xef\xbb\xbfid,note,n\r\n1,a,1\r\n\r\n\n,no key,2\n3,c,3\n\n")
    sc = _check(p)
    assert sc.spans is not None and sc.empty_keys == 1 and sc.rows.key_list() == ["1", "3"]
    (keys, rows), = list(iter_encoded_chunks(sc, MAPPING, positions=np.array([1])))
    assert keys == ["3"] and rows == [{"id": "3", "note": "c", "n": "3"}]


def test_header_only_and_empty_files(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes(b"id,note,n\n")
    assert len(scan(p, MAPPING).rows) == 0
    p.write_bytes(b"id,note,n")
    sc = scan(p, MAPPING)
    assert len(sc.rows) == 0 and sc.table().num_rows == 0
    for empty in (b"", b"\n\n"):
        p.write_bytes(empty)
        with pytest.raises(InputError, match="empty"):
            scan(p, MAPPING)
    with pytest.raises(InputError, match="cannot read"):
        scan(tmp_path / "missing.csv", MAPPING)


_cell = st.text(st.sampled_from(list('ab ,"\n\r\u00e9')), max_size=6)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(notes=st.lists(st.tuples(_cell, _cell), max_size=12),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
       end=st.sampled_from(["\n", "\r\n"]), blank=st.booleans())
def test_scan_agrees_with_the_reader_on_any_file(tmp_path: Path, notes: list[tuple[str, str]], quoting: int,
                                                 end: str, blank: bool) -> None:
    rows = [[str(i + 1), a, b] for i, (a, b) in enumerate(notes)]
    data = _csv(rows, quoting=quoting, end=end)
    if blank:
        data = data.replace(end.encode(), (end + end).encode(), 2)
    p = tmp_path / "h.csv"
    p.write_bytes(data)
    try:
        _reference(p)
    except InputError:
        return  # not a file Arrow reads (the validator refuses it before publish)
    _check(p)


def test_spans_that_disagree_with_the_reader_are_caught(tmp_path: Path) -> None:
    from kcdata.publish.rows.scan import _spans_agree

    p = tmp_path / "d.csv"
    p.write_bytes(_csv([[str(i), f"n{i}", "1"] for i in range(1, 200)]))
    sc = scan(p, MAPPING)
    assert sc.spans is not None
    key_col = read_table(p, MAPPING, only=["id"]).column(0)
    args = (p, MAPPING, sc.text, sc.spans, sc.header, sc.quoted)
    assert _spans_agree(*args[:3], sc.spans, *args[4:], key_col)
    starts, ends = sc.spans
    shifted = (np.roll(starts, 1), np.roll(ends, 1))  # same count, every record one row off
    assert not _spans_agree(*args[:3], shifted, *args[4:], key_col)
    assert not _spans_agree(*args[:3], (starts[1:], ends[1:]), *args[4:], key_col)  # one row short


_number_text = st.one_of(
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{0,3})?", fullmatch=True),
    st.sampled_from(["0", "-0", "00", "-0.0", "1e3", "1E-2", "+5", " 7", "abc", "", "NaN", "1.", ".5"]))
_date_text = st.one_of(
    st.from_regex(r"20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9])T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{3})?Z?",
                  fullmatch=True),
    st.sampled_from(["2024-02-30T00:00:00.000", "not a date", "2024-01-02"]))


@settings(max_examples=200)
@given(st.lists(st.one_of(st.none(), _number_text, st.integers(-10**6, 10**6),
                          st.floats(allow_nan=False, allow_infinity=False, width=32)), max_size=20),
       st.lists(st.one_of(st.none(), _date_text), max_size=20))
def test_canonical_fast_path_equals_the_reference(numbers: list[object], dates: list[object]) -> None:
    from kcdata.publish.rows.valuehash import canonical_array, canonical_texts

    for data_type, cells in (("number", numbers), ("calendar_date", dates), ("text", dates)):
        assert canonical_array(data_type, cells).to_pylist() == canonical_texts(data_type, cells)
    strings = [c for c in numbers if c is None or isinstance(c, str)]  # all text: the vectorised path
    assert canonical_array("number", strings).to_pylist() == canonical_texts("number", strings)


def test_value_hashes_compare_values_not_spellings() -> None:
    from kcdata.publish.rows.valuehash import value_hashes
    from kcdata.publish.typemap import Column

    def col(name: str, data_type: str) -> Column:
        return Column(field_name=name, name=name, data_type=data_type, description="", source=name,
                      source_type="string", source_format="default", true_values=(), false_values=(),
                      missing_values=("",))

    cols = [col("n", "number"), col("d", "calendar_date"), col("b", "checkbox"), col("t", "text"),
            col("p", "point")]
    point = {"type": "Point", "coordinates": [-94.5, 39.1]}
    a = [["1.50", "-0", "7"], ["2024-01-02T03:04:05.000", None, "2024-01-02T00:00:00.000"],
         [True, False, None], ["x", "", None], [point, None, point]]
    b = [[1.5, "0", 7], ["2024-01-02T03:04:05", None, "2024-01-02T00:00:00.000Z"],
         ["true", "false", None], ["x", "", None], [{"type": "Point", "coordinates": [-94.5, 39.1]}, None, point]]
    assert value_hashes(cols, a).tolist() == value_hashes(cols, b).tolist()
    base = value_hashes(cols, a).tolist()
    for i, j, other in ((0, 0, "1.51"), (1, 1, "2024-01-02T00:00:00.000"), (2, 2, False), (3, 1, None),
                        (3, 2, ""), (4, 1, point)):
        changed = [list(c) for c in a]
        changed[i][j] = other
        got = value_hashes(cols, changed).tolist()
        assert got[j] != base[j] and [g for k, g in enumerate(got) if k != j] == \
            [g for k, g in enumerate(base) if k != j], (i, j, other)
    # Columns cannot trade places: the same cells under swapped columns hash differently.
    t1, t2 = col("t1", "text"), col("t2", "text")
    assert value_hashes([t1, t2], [["a"], ["b"]]).tolist() != value_hashes([t1, t2], [["b"], ["a"]]).tolist()


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64])
def test_quotes_and_line_ends_across_scan_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    from kcdata.publish.rows import records

    monkeypatch.setattr(records, "SCAN_BYTES", block)  # every value straddles some block boundary
    p = tmp_path / "d.csv"
    p.write_bytes(_csv([["1", 'a "quoted"\nline,\r\nand more', "1"], ["2", "", "2"], ["3", '""', "3"],
                        ["4", "plain", "4"]], quoting=csv.QUOTE_MINIMAL, end="\r\n"))
    sc = _check(p)
    assert sc.spans is not None
    p.write_bytes(b'id,note,n\n1,"open,1\n2,b,2\n')  # a quoted value never closed: not line-scanned,
    with pytest.raises(InputError, match="cannot parse"):  # and the reader refuses it
        scan(p, MAPPING)


def test_a_file_that_is_not_utf8_is_refused_at_plan_time_with_where(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes(b"id,note,n\n1,caf\xe9,1\n2,ok,2\n")  # Latin-1, in a column the plan does not parse
    with pytest.raises(InputError, match=r"not valid UTF-8 \(byte 15, line 2\)") as err:
        scan(p, MAPPING)
    assert "Save the file as UTF-8" in (err.value.hint or "")
    with pytest.raises(InputError):  # the cell path refuses it too (Arrow's own message)
        scan(p, MAPPING, locate_records=False)
