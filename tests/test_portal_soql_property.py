"""Property: any generated ``$where`` selects exactly the rows a Python evaluation of it selects.

The SoQL text is rendered from a generated expression tree, then tokenized, parsed, compiled to
SQLite and run on a real store; the oracle evaluates the same tree in Python with SQL's
three-valued logic (NULL comparisons are unknown, NOT unknown is unknown).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcdata.portal import soql, views
from kcdata.portal.soqlsql import compile_query
from kcdata.portal.store import Store, table_name

TEXTS = ["apple", "Apple", "banana", "cherry", "it's", "", "zeta", "a%b"]
NUMBERS = ["-3.5", "0", "1", "2.25", "10", "100", "7"]
DATES = ["2024-01-01T00:00:00.000", "2024-06-15T12:30:00.000", "2025-02-28T23:59:59.999"]


def _rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(40):
        rows.append({
            "n": None if i % 7 == 3 else NUMBERS[i % len(NUMBERS)],
            "t": None if i % 5 == 4 else TEXTS[i % len(TEXTS)],
            "b": None if i % 6 == 5 else bool(i % 2),
            "d": None if i % 9 == 8 else DATES[i % len(DATES)],
            "k": f"r{i:02d}",
        })
    return rows


ROWS = _rows()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, Any]]:
    s = Store(Path(tmp_path_factory.mktemp("soqlprop")))
    body = {"name": "prop", "metadata": {"rowIdentifier": "k"},
            "columns": [{"fieldName": "n", "dataTypeName": "number"}, {"fieldName": "t", "dataTypeName": "text"},
                        {"fieldName": "b", "dataTypeName": "checkbox"},
                        {"fieldName": "d", "dataTypeName": "calendar_date"},
                        {"fieldName": "k", "dataTypeName": "text"}]}
    view = s.create_view(lambda vid, nxt: views.build_view(body, vid, nxt, nbe=False))
    report = s.write_rows(view, ROWS)
    assert report.errors == 0
    return s, s.view(view["id"]) or {}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# An expression is (soql_text, evaluator(row) -> True | False | None).
def _cmp(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])


@st.composite
def number_pred(draw: st.DrawFn) -> tuple[str, Any]:
    value = draw(st.sampled_from([*NUMBERS, "5", "-1", "2.250"]))
    kind = draw(st.sampled_from(["cmp", "in", "between", "null"]))

    def num(r: dict[str, Any]) -> Decimal | None:
        return None if r["n"] is None else Decimal(r["n"])

    if kind == "cmp":
        op = draw(ops)
        quoted = draw(st.booleans())
        return f"n {op} {_quote(value) if quoted else value}", lambda r: _cmp(op, num(r), Decimal(value))
    if kind == "in":
        items = draw(st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3))
        neg = draw(st.booleans())

        def ev_in(r: dict[str, Any]) -> bool | None:
            if num(r) is None:
                return None
            hit = num(r) in {Decimal(i) for i in items}
            return not hit if neg else hit
        return f"n {'NOT ' if neg else ''}IN ({', '.join(items)})", ev_in
    if kind == "between":
        lo, hi = sorted(draw(st.lists(st.sampled_from(NUMBERS), min_size=2, max_size=2)), key=Decimal)
        return f"n BETWEEN {lo} AND {hi}", lambda r: None if num(r) is None else Decimal(lo) <= num(r) <= Decimal(hi)
    neg = draw(st.booleans())
    return f"n IS {'NOT ' if neg else ''}NULL", lambda r: (r["n"] is not None) if neg else (r["n"] is None)


@st.composite
def text_pred(draw: st.DrawFn) -> tuple[str, Any]:
    value = draw(st.sampled_from([*TEXTS, "b", "App"]))
    kind = draw(st.sampled_from(["cmp", "like", "starts", "upper", "null"]))
    if kind == "cmp":
        op = draw(ops)
        return f"t {op} {_quote(value)}", lambda r: _cmp(op, r["t"], value)
    if kind == "like":
        return f"t LIKE {_quote(value + '%')}", lambda r: None if r["t"] is None else r["t"].startswith(value)
    if kind == "starts":
        return (f"starts_with(t, {_quote(value)})",
                lambda r: None if r["t"] is None else r["t"].startswith(value))
    if kind == "upper":
        fn = draw(st.sampled_from(["upper", "lower"]))
        return (f"{fn}(t) = {_quote(getattr(value, fn)())}",
                lambda r: None if r["t"] is None else getattr(r["t"], fn)() == getattr(value, fn)())
    return "t IS NULL", lambda r: r["t"] is None


@st.composite
def other_pred(draw: st.DrawFn) -> tuple[str, Any]:
    if draw(st.booleans()):
        flag = draw(st.booleans())
        return f"b = {'true' if flag else 'false'}", lambda r: None if r["b"] is None else r["b"] == flag
    value = draw(st.sampled_from(["2024-01-01", "2024-06-15T12:30:00", "2025-01-01T00:00:00.000"]))
    op = draw(ops)
    canonical = {"2024-01-01": "2024-01-01T00:00:00.000", "2024-06-15T12:30:00": "2024-06-15T12:30:00.000"}
    return f"d {op} {_quote(value)}", lambda r: _cmp(op, r["d"], canonical.get(value, value))


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


expressions = st.recursive(
    st.one_of(number_pred(), text_pred(), other_pred()),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: (f"({p[0][0]}) AND ({p[1][0]})",
                                               lambda r, p=p: _and(p[0][1](r), p[1][1](r)))),
        st.tuples(inner, inner).map(lambda p: (f"({p[0][0]}) OR ({p[1][0]})",
                                               lambda r, p=p: _or(p[0][1](r), p[1][1](r)))),
        inner.map(lambda e: (f"NOT ({e[0]})", lambda r, e=e: None if e[1](r) is None else not e[1](r))),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expressions)
def test_where_matches_python_evaluation(store: tuple[Store, dict[str, Any]], expr: tuple[str, Any]) -> None:
    s, view = store
    text, evaluate = expr
    query = soql.Query(select=soql.parse_select("k"), where=soql.parse_expr(text), limit=1000)
    fields = {c["fieldName"]: c["dataTypeName"] for c in view["columns"]}
    compiled = compile_query(query, table=table_name(view["id"]), fields=fields)
    got = [row[0] for row in s.query(compiled, view["id"])]
    expected = [r["k"] for r in ROWS if evaluate(r) is True]
    assert got == expected, text


@given(st.text(max_size=40))
def test_parser_never_crashes_unexpectedly(text: str) -> None:
    try:
        soql.parse_expr(text)
    except soql.SoqlError as exc:
        assert exc.code.startswith("query.soql.")
