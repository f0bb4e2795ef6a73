"""The DSMAPI's schema helpers: header → field name, type guesses, transform expressions."""

from __future__ import annotations

import pytest

from kcdata.portal.dsmapi import schemas
from kcdata.portal.http import HttpError


def test_field_names_are_lower_snake_and_unique() -> None:
    taken: set[str] = set()
    assert [schemas.field_name(h, taken) for h in ("Case ID", "case id", "2024 Total", "  ", "Ünïcode!")] == [
        "case_id", "case_id_2", "_2024_total", "column", "n_code"]


@pytest.mark.parametrize(("values", "expected"), [
    (["1", "2.5", None, "-3e2"], "number"), (["true", "FALSE"], "checkbox"), (["2024-01-02", "2024-01-02T10:11"],
     "floating_timestamp"), (["A1", "2"], "text"), ([None, ""], "text"), (["NaN"], "text"),
    (["POINT (-94.58 39.1)", "point(1 2)"], "point")])
def test_type_guesses(values: list[str | None], expected: str) -> None:
    assert schemas.guess_type(values) == expected


def test_transform_expressions_nest_and_count_errors() -> None:
    inputs = {"amount": 0, "flag": 1}
    fn, soql_type, used = schemas.compile_expr("to_number(to_text(`amount`))", inputs)
    assert (soql_type, used, fn(["1.50", None])) == ("number", [0], "1.5")
    rows, errors = schemas.evaluate([("amount", fn), ("flag", schemas.compile_expr("to_boolean(flag)", inputs)[0])],
                                    [["x", "yes"], ["2", "maybe"], [None, None]])
    assert rows == [{"amount": None, "flag": True}, {"amount": "2", "flag": None}, {"amount": None, "flag": None}]
    assert errors == {"amount": 1, "flag": 1}
    for bad in ("to_location(`amount`)", "`missing`", "to_number(", "1 + 1"):
        with pytest.raises(HttpError) as exc:
            schemas.compile_expr(bad, inputs)
        assert exc.value.status == 400


def test_parse_upload_options() -> None:
    headers, rows = schemas.parse_upload(b"\xef\xbb\xbfa\tb\n1\t\n2\n", {"column_separator": "\t", "encoding": "UTF-8"})
    assert headers == ["a", "b"] and rows == [["1", None], ["2", None]]
    headers, rows = schemas.parse_upload(b"1,2\n", {"header_count": 0})
    assert headers == ["column_1", "column_2"] and rows == [["1", "2"]]
    with pytest.raises(HttpError):
        schemas.parse_upload(b"\xff\xfe", {"encoding": "utf-8"})
