"""Paging resumes after the last ``_id`` of the previous page only when that gives exactly the rows
``OFFSET`` gives: same query, the page right after, no write in between."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kcdata.portal import soql, views
from kcdata.portal.soqlsql import compile_query
from kcdata.portal.store import Store, fields_of, table_name


def _page(store: Store, view: dict[str, Any], where: str | None, limit: int, offset: int,
          resumed: list[int] | None) -> list[str]:
    table, fields = table_name(view["id"]), fields_of(view)

    def compiled(after: int | None = None) -> Any:
        query = soql.Query(where=soql.parse_expr(where) if where else None, limit=limit, offset=offset)
        return compile_query(query, table=table, fields=fields, after_id=after)

    def resume(last_id: int) -> Any:
        assert resumed is not None
        resumed.append(last_id)
        return compiled(last_id)

    return store.query_json(compiled(), offset=offset, resume=resume if resumed is not None else None)


def test_resumed_pages_equal_offset_pages_also_across_writes(tmp_path: Path) -> None:
    store = Store(tmp_path / "p")
    try:
        view = store.create_view(lambda vid, nxt: views.build_view(
            {"name": "p", "metadata": {"rowIdentifier": "k"},
             "columns": [{"fieldName": "k", "dataTypeName": "text"}, {"fieldName": "n", "dataTypeName": "number"}]},
            vid, nxt, nbe=False))
        store.write_rows(view, [{"k": f"K{i:03d}", "n": i % 5} for i in range(60)])
        gaps = [{"k": f"K{i:03d}", ":deleted": True} for i in range(0, 60, 7)]
        store.write_rows(store.view(view["id"]) or view, gaps)
        for where in (None, "n >= 2"):
            resumed: list[int] = []
            got, want = [], []
            for offset in range(0, 70, 9):
                if offset == 36:  # a write between two pages shifts the rows: the next page must not resume
                    early = "K002" if where else "K001"  # a row on an earlier page of this query
                    store.write_rows(store.view(view["id"]) or view, [{"k": early, ":deleted": True},
                                                                     {"k": "K999", "n": 3}])
                got.append(_page(store, store.view(view["id"]) or view, where, 9, offset, resumed))
                want.append(_page(store, store.view(view["id"]) or view, where, 9, offset, None))
            assert got == want
            assert 0 < len(resumed) < len(got) - 1  # resumed, except for the first page and after the write
            store.write_rows(store.view(view["id"]) or view, [{"k": "K999", ":deleted": True}])
        # a different offset than where the last page ended: plain OFFSET
        resumed = []
        first = _page(store, store.view(view["id"]) or view, None, 5, 0, resumed)
        skip = _page(store, store.view(view["id"]) or view, None, 5, 7, resumed)
        assert resumed == [] and first and skip == _page(store, store.view(view["id"]) or view, None, 5, 7, None)
    finally:
        store.close()


def test_only_id_ordered_ungrouped_queries_can_resume() -> None:
    fields = {"k": "text", "n": "number"}

    def keyset(**parts: Any) -> bool:
        return compile_query(soql.Query(**parts), table='"r_x"', fields=fields).keyset

    assert keyset() and keyset(order=soql.parse_order(":id")) and keyset(where=soql.parse_expr("n > 1"))
    assert not keyset(order=soql.parse_order(":id DESC")) and not keyset(order=soql.parse_order("k"))
    assert not keyset(select=soql.parse_select("count(*)")) and not keyset(group=soql.parse_group("k"),
                                                                           select=soql.parse_select("k"))

