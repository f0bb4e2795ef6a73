"""Pure parts of publish: type map, value encoding, plan diff, retry policy, settings, manifest codec."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kcdata.errors import InputError
from kcdata.publish import manifest
from kcdata.publish.client import clean_value
from kcdata.publish.metadata import view_fields
from kcdata.publish.plan import Action, Desired, PlanOptions, Remote, compute_plan
from kcdata.publish.retry import Retryable, RetryPolicy
from kcdata.publish.settings import publish_settings
from kcdata.publish.typemap import (
    FIELD_NAME_RE,
    SOCRATA_TYPES,
    EncodeError,
    canonical,
    encoder,
    field_name,
    table_mapping,
)

SCHEMA = {
    "fields": [
        {"name": "Break ID", "type": "integer", "description": "unique id"},
        {"name": "reported", "type": "date"},
        {"name": "repaired_at", "type": "datetime"},
        {"name": "cost", "type": "number"},
        {"name": "emergency", "type": "boolean", "trueValues": ["Y"], "falseValues": ["N"]},
        {"name": "location", "type": "geopoint"},
        {"name": "notes", "type": "string", "title": "Notes"},
    ],
    "primaryKey": ["Break ID"],
}


def test_type_map_is_explicit_and_complete() -> None:
    assert SOCRATA_TYPES["string"] == "text"
    assert SOCRATA_TYPES["integer"] == SOCRATA_TYPES["number"] == SOCRATA_TYPES["year"] == "number"
    assert SOCRATA_TYPES["boolean"] == "checkbox"
    assert SOCRATA_TYPES["date"] == SOCRATA_TYPES["datetime"] == "calendar_date"
    assert SOCRATA_TYPES["geopoint"] == "point"
    assert SOCRATA_TYPES["time"] == "text"


def test_table_mapping_columns_and_row_identifier() -> None:
    m = table_mapping(SCHEMA, row_identifier=None, where="s.json")
    assert [c.field_name for c in m.columns] == ["break_id", "reported", "repaired_at", "cost", "emergency",
                                                 "location", "notes"]
    assert m.row_identifier == "break_id"
    assert m.column("break_id").description == "unique id"
    assert m.column("notes").name == "Notes"
    assert m.column("location").data_type == "point"
    # the inventory's row_identifier wins over the schema's primary key
    assert table_mapping(SCHEMA, row_identifier="notes", where="s").row_identifier == "notes"


def test_table_mapping_errors() -> None:
    with pytest.raises(InputError, match="composite primaryKey"):
        table_mapping({"fields": [{"name": "a"}, {"name": "b"}], "primaryKey": ["a", "b"]}, row_identifier=None,
                      where="s")
    with pytest.raises(InputError, match="both become portal field"):
        table_mapping({"fields": [{"name": "A b"}, {"name": "a_b"}]}, row_identifier="a_b", where="s")
    with pytest.raises(InputError, match="not a field"):
        table_mapping({"fields": [{"name": "a"}]}, row_identifier="zz", where="s")
    with pytest.raises(InputError, match="unknown Frictionless type"):
        table_mapping({"fields": [{"name": "a", "type": "money"}]}, row_identifier="a", where="s")


@given(st.text(min_size=1, max_size=30))
def test_field_name_always_valid(name: str) -> None:
    assert FIELD_NAME_RE.match(field_name(name))


def test_encoding_of_each_type() -> None:
    m = table_mapping(SCHEMA, row_identifier=None, where="s")
    enc = {c.field_name: encoder(c) for c in m.columns}
    assert enc["break_id"]("0042") == "42"
    assert enc["cost"]("1.50") == "1.5" and enc["cost"]("1e3") == "1000" and enc["cost"]("-0.0") == "0"
    assert enc["reported"]("2024-02-29") == "2024-02-29T00:00:00.000"
    assert enc["repaired_at"]("2024-02-29T13:05:09.123456Z") == "2024-02-29T13:05:09.123"
    assert enc["emergency"]("Y") is True and enc["emergency"]("N") is False
    assert enc["location"]("-94.57, 39.1") == {"type": "Point", "coordinates": [-94.57, 39.1]}
    assert enc["notes"]("") is None and enc["cost"]("") is None
    for col, bad in (("cost", "NaN"), ("cost", "abc"), ("emergency", "true"), ("reported", "02/29/2024"),
                     ("location", "200, 1")):
        with pytest.raises(EncodeError):
            enc[col](bad)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**9, max_value=10**9))
def test_number_encoding_round_trips_through_portal_text(d: Decimal) -> None:
    m = table_mapping({"fields": [{"name": "x", "type": "number"}]}, row_identifier="x", where="s")
    sent = encoder(m.columns[0])(str(d))
    assert Decimal(sent) == d
    assert "e" not in sent.lower()
    # whatever decimal text the portal returns for the same number compares equal
    assert canonical("number", str(Decimal(sent).quantize(Decimal("0.0001")))) == canonical("number", sent)


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_datetime_canonical_matches_portal_form(value: dt.datetime) -> None:
    m = table_mapping({"fields": [{"name": "t", "type": "datetime"}]}, row_identifier="t", where="s")
    sent = encoder(m.columns[0])(value.isoformat())
    assert len(sent) == 23
    assert canonical("calendar_date", sent) == canonical("calendar_date", sent + "Z") == sent


def test_clean_value_replaces_nan_and_inf() -> None:
    assert clean_value({"a": float("nan"), "b": [float("inf"), 1.0], "c": "x"}) == {"a": None, "b": [None, 1.0],
                                                                                     "c": "x"}
    json.dumps(clean_value([{"x": float("-inf")}]), allow_nan=False)


def _desired(hashes: dict[str, str], **meta: object) -> Desired:
    m = table_mapping({"fields": [{"name": "id", "type": "integer"}, {"name": "v", "type": "string"}]},
                      row_identifier="id", where="s")
    base = {"title": "T", "description": "D", "category": "C", "tags": ["a"], "license": None,
            "attribution": "Dept", "update_frequency": "Daily", "inventory_id": "ds", "department": "dep",
            "contact_email": None}
    base.update(meta)
    return Desired(id="ds", title="T", metadata=base, mapping=m, source_hashes=hashes)


def _view(desired: Desired, **over: object) -> dict[str, object]:
    fields, md = view_fields(desired.metadata)
    view = {"id": "abcd-2345", **fields, "metadata": {**md, "rowIdentifier": 1},
            "columns": [{"id": 1, "fieldName": "id", "name": "id", "dataTypeName": "number", "description": ""},
                        {"id": 2, "fieldName": "v", "name": "v", "dataTypeName": "text", "description": ""}],
            "publicationStage": "published", "grants": [{"flags": ["public"]}]}
    view.update(over)
    return view


def test_plan_create_update_noop() -> None:
    d = _desired({"1": "a", "2": "b"})
    p = compute_plan(desired=d, remote=Remote(view=None, identity="none"))
    assert p.action is Action.CREATE and p.rows.create == 2 and p.portal_id is None
    same = Remote(view=_view(d), identity="inventory-id", row_count=2, hashes={"1": "a", "2": "b"},
                  hash_kind="source", manifest_ok=True)
    p = compute_plan(desired=d, remote=same)
    assert p.action is Action.NOOP and p.rows.total == 0 and p.metadata_changes == ()
    changed = Remote(view=_view(d), identity="inventory-id", row_count=2, hashes={"1": "a", "3": "c"},
                     hash_kind="source", manifest_ok=True)
    d2 = _desired({"1": "x", "2": "b"}, description="new")
    p = compute_plan(desired=d2, remote=changed, options=PlanOptions(max_delete_share=0.9))
    assert p.action is Action.UPDATE
    assert (p.rows.create, p.rows.update, p.rows.delete) == (1, 1, 1)
    assert [c.field for c in p.metadata_changes] == ["description"]
    assert p._upsert_keys == {"1", "2"} and p._delete_keys == ("3",)


def test_plan_refuses_mass_delete_unless_forced() -> None:
    d = _desired({"1": "a"})
    r = Remote(view=_view(d), identity="inventory-id", row_count=10,
               hashes={str(i): "a" for i in range(1, 11)}, hash_kind="source", manifest_ok=True)
    p = compute_plan(desired=d, remote=r)
    assert p.action is Action.REFUSED and "would delete 9 of 10" in (p.reason or "")
    assert compute_plan(desired=d, remote=r, options=PlanOptions(force=True)).action is Action.UPDATE


def test_plan_refuses_schema_drift_unless_allowed() -> None:
    d = _desired({"1": "a"})
    view = _view(d)
    view["columns"] = [view["columns"][0], {"id": 3, "fieldName": "w", "dataTypeName": "text"}]  # type: ignore[index]
    r = Remote(view=view, identity="inventory-id", row_count=1, hashes={"1": "a"}, hash_kind="source")
    p = compute_plan(desired=d, remote=r)
    assert p.action is Action.REFUSED and "schema drift" in (p.reason or "")
    assert p.columns.added == ("v",) and p.columns.removed == ("w",)
    ok = compute_plan(desired=d, remote=r, options=PlanOptions(allow_schema_change=True))
    assert ok.action is Action.UPDATE


def test_plan_passes_refusals_through() -> None:
    d = Desired(id="x", title="X", metadata={}, mapping=None, source_hashes={}, refusals=("status is proposed",))
    p = compute_plan(desired=d, remote=None)
    assert p.action is Action.REFUSED and p.reason == "status is proposed"


def test_retry_policy_backoff_and_retry_after() -> None:
    waits: list[float] = []
    pol = RetryPolicy(attempts=4, base_delay=1, max_delay=5, sleep=waits.append, rand=lambda: 1.0)
    calls = iter([Retryable("x"), Retryable("y", retry_after=2.5), None])

    def fn() -> str:
        exc = next(calls)
        if exc:
            raise exc
        return "done"

    assert pol.call(fn, what="t", classify=lambda e: e if isinstance(e, Retryable) else None) == ("done", 3)
    assert waits == [1.0, 2.5]
    assert pol.delay(10) == 5  # capped
    assert 0.5 <= RetryPolicy(base_delay=1, rand=lambda: 0.0).delay(1) <= 1
    with pytest.raises(ValueError):
        pol.call(lambda: (_ for _ in ()).throw(ValueError("no")), what="t", classify=lambda e: None)
    with pytest.raises(Retryable):
        RetryPolicy(attempts=2, sleep=waits.append).call(lambda: (_ for _ in ()).throw(Retryable("z")), what="t",
                                                          classify=lambda e: e)  # type: ignore[arg-type]


def test_settings_defaults_and_errors() -> None:
    s = publish_settings({})
    assert (s.chunk_size, s.max_delete_share, s.write_back) == (10_000, 0.2, "auto")
    assert s.should_write_back({}) and not s.should_write_back({"CI": "true"})
    s = publish_settings({"publish": {"chunk_size": 500, "retry": {"attempts": 2}},
                          "program": {"portal_domain": "Data.KCMO.org"}})
    assert s.chunk_size == 500 and s.retry_attempts == 2 and s.portal_domain == "data.kcmo.org"
    for bad in ({"chunk_size": "many"}, {"max_delete_share": 2}, {"write_back": "sometimes"}, [1]):
        with pytest.raises(InputError):
            publish_settings({"publish": bad})


def test_manifest_parts_round_trip() -> None:
    hashes = {str(i): f"{i:016x}" for i in range(manifest.PART_ROWS + 7)}
    rows, digest = manifest.encode_parts(hashes)
    assert len(rows) == 2 and len(digest) == 64
    decoded: dict[str, str] = {}
    import base64
    import zlib

    for r in rows:
        decoded.update(json.loads(zlib.decompress(base64.b64decode(r["data"]))))
    assert decoded == hashes
