"""Property: rows built as JSON inside SQLite (``json_object`` for rows without nulls, concatenation
for rows with some) are byte-identical to each other and decode to the Python row encoding."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcdata.portal import soql, views
from kcdata.portal.resource import _rows_json
from kcdata.portal.soqlsql import SYSTEM_COLUMNS, C, _json_row_concat, compile_query, sql_column
from kcdata.portal.store import Store, fields_of, table_name

COLUMNS = [("t", "text"), ("n", "number"), ("b", "checkbox"), ("d", "calendar_date"), ("p", "point"),
           ("u", "url"), ("f", "date")]
VALUES = {
    "t": st.text(max_size=6),
    "n": st.integers(-10**6, 10**6) | st.floats(-1e9, 1e9),
    "b": st.booleans(),
    "d": st.sampled_from(["2024-01-02", "2025-12-31T23:59:59.999"]),
    "p": st.tuples(st.floats(-180, 180), st.floats(-90, 90)).map(
        lambda c: {"type": "Point", "coordinates": [c[0], c[1]]}),
    "u": st.text(max_size=4) | st.builds(lambda u, d: {"url": u, "description": d},
                                         st.text(max_size=4), st.text(max_size=4)),
    "f": st.just("2024-03-04T05:06:07Z"),
}
# Rows without nulls take the json_object path, rows with some take the concatenation path.
ROW = st.fixed_dictionaries(VALUES) | st.fixed_dictionaries({k: st.none() | v for k, v in VALUES.items()})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=6), system=st.booleans())
def test_json_rows_dense_and_sparse_agree(tmp_path: Path, rows: list[dict[str, Any]], system: bool) -> None:
    store = Store(Path(tempfile.mkdtemp(dir=tmp_path)))
    try:
        view = store.create_view(lambda vid, nxt: views.build_view(
            {"name": "j", "columns": [{"fieldName": f, "name": f, "dataTypeName": t} for f, t in COLUMNS]},
            vid, nxt, nbe=False))
        report = store.write_rows(view, rows)
        assert report.errors == 0
        compiled = compile_query(soql.Query(), table=table_name(view["id"]), fields=fields_of(view), system=system)
        assert compiled.json_sql is not None
        fast = store.query_json(compiled)
        head = compiled.json_sql[:compiled.json_sql.index(" FROM ")]
        items: list[tuple[str, C, Any]] = [(name, C(sql, [], typ), None)
                                           for name, sql, typ in _items(compiled, fields_of(view))]
        sparse_sql = f"SELECT {_json_row_concat(items)}" + compiled.json_sql[len(head):]
        sparse = [r[0] for r in store._conn().execute(sparse_sql, compiled.params)]
        assert fast == sparse
        python = _rows_json(compiled, store.query(compiled, view["id"]))
        assert [json.loads(text) for text in fast] == python
        assert [list(json.loads(text)) for text in fast] == [list(r) for r in python]
    finally:
        store.close()


def _items(compiled: Any, fields: dict[str, str]) -> list[tuple[str, str, str]]:
    system = SYSTEM_COLUMNS
    return [(name, *(system[name] if name in system else (sql_column(name), fields[name])))
            for name in compiled.names]
