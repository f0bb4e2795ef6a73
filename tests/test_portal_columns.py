"""Property: the column-wise upsert conversion stores exactly what the per-cell encoders store.

Whole batches also go through a real store twice — once as a uniform batch (column-wise path) and
once with one row reshaped so the batch takes the per-row path — and must leave identical rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcdata.portal import views
from kcdata.portal.columns import encode_column
from kcdata.portal.store import Store, table_name
from kcdata.portal.types import ValueProblem, encoder

FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 3.0, 1e16, 1e-5, 2.5e-7, 0.1])
NUMBER_TEXT = st.from_regex(r"\A-?[0-9]{1,4}(\.[0-9]{0,3})?\Z") | st.sampled_from(
    [" 5", "1.50", "1e3", "-0", "00", "5\n6", "٣", "abc", "1.", ".5", "-0.0"])
VALUES = st.none() | st.booleans() | st.integers(-10**20, 10**20) | FLOATS | NUMBER_TEXT | st.text(max_size=8)
TYPES = ["text", "number", "money", "checkbox", "calendar_date", "point", "email"]


def _per_cell(data_type: str, values: list[Any]) -> list[Any] | type[ValueProblem]:
    f = encoder(data_type)
    try:
        return [None if v is None else f(v) for v in values]
    except ValueProblem:
        return ValueProblem


@settings(max_examples=300, deadline=None)
@given(data_type=st.sampled_from(TYPES), values=st.lists(VALUES, max_size=12))
def test_encode_column_equals_per_cell_encoding(data_type: str, values: list[Any]) -> None:
    expected = _per_cell(data_type, values)
    try:
        got: list[Any] | type[ValueProblem] = encode_column(data_type, values)
    except ValueProblem:
        got = ValueProblem
    assert got == expected
    if isinstance(got, list):
        assert [type(v) for v in got] == [type(v) for v in expected]  # "1" (text) is not 1 (int)


@settings(max_examples=300, deadline=None)
@given(data_type=st.sampled_from(["number", "checkbox", "text"]),
       values=st.lists(st.integers(-10**6, 10**6) | st.booleans() | st.none(), max_size=12))
def test_encode_column_on_ints_and_bools(data_type: str, values: list[Any]) -> None:
    expected = _per_cell(data_type, values)
    try:
        got: list[Any] | type[ValueProblem] = encode_column(data_type, values)
    except ValueProblem:
        got = ValueProblem
    assert got == expected


COLUMNS = [("k", "text"), ("n", "number"), ("b", "checkbox"), ("d", "calendar_date"), ("t", "text")]
ROW = st.fixed_dictionaries({
    "n": st.none() | st.integers(-999, 999) | st.floats(-1e6, 1e6) | NUMBER_TEXT,
    "b": st.none() | st.booleans(),
    "d": st.none() | st.sampled_from(["2024-01-02", "2024-01-02T03:04:05", "2024-02-30", "01/02/2024", "x"]),
    "t": st.none() | st.text(max_size=5),
})


def _stored(store: Store, view_id: str) -> list[tuple[Any, ...]]:
    cols = ", ".join(f"f_{name}" for name, _t in COLUMNS)
    return store._conn().execute(f"SELECT _id, {cols} FROM {table_name(view_id)} ORDER BY _id").fetchall()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=8), keys=st.lists(st.integers(0, 5), min_size=8, max_size=8))
def test_column_wise_batch_equals_per_row_batch(tmp_path: Path, rows: list[dict[str, Any]],
                                                keys: list[int]) -> None:
    batch = [{"k": f"K{keys[i]}", **row} for i, row in enumerate(rows)]
    reshaped = [dict(reversed(list(row.items()))) if i == 0 else row for i, row in enumerate(batch)]
    if len(batch) == 1:  # one row is always uniform: an explicit ``:deleted: false`` forces the per-row path
        reshaped = [{**batch[0], ":deleted": False}]
    results = []
    for n, payload in enumerate([batch, reshaped]):
        store = Store(Path(tempfile.mkdtemp(dir=tmp_path, prefix=f"s{n}-")))
        try:
            view = store.create_view(lambda vid, nxt: views.build_view(
                {"name": "p", "rowIdentifier": "k",
                 "columns": [{"fieldName": f, "name": f, "dataTypeName": t} for f, t in COLUMNS]}, vid, nxt,
                nbe=False))
            seed = store.write_rows(view, [{"k": "K1", "n": 1}, {"k": "K3", "t": "x"}])
            report = store.write_rows(store.view(view["id"]) or view, payload)
            results.append((seed.as_json(), report.as_json(), _stored(store, view["id"])))
        finally:
            store.close()
    assert results[0] == results[1]
