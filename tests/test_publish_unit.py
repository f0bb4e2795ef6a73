"""Pure parts of publish: type map, value encoding, plan diff, retry policy, settings, manifest codec."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcdata.errors import InputError
from kcdata.publish.client import clean_value
from kcdata.publish.metadata import view_fields
from kcdata.publish.plan import Action, Desired, PlanOptions, Remote, compute_plan
from kcdata.publish.retry import Retryable, RetryPolicy
from kcdata.publish.rows import manifest
from kcdata.publish.rows.rowset import RowHashes, _join_diff, diff
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


def _rh(hashes: dict[str, int]) -> RowHashes:
    return RowHashes.from_mapping(hashes)


def _desired(hashes: dict[str, int], **meta: object) -> Desired:
    m = table_mapping({"fields": [{"name": "id", "type": "integer"}, {"name": "v", "type": "string"}]},
                      row_identifier="id", where="s")
    base = {"title": "T", "description": "D", "category": "C", "tags": ["a"], "license": None,
            "attribution": "Dept", "update_frequency": "Daily", "inventory_id": "ds", "department": "dep",
            "contact_email": None}
    base.update(meta)
    return Desired(id="ds", title="T", metadata=base, mapping=m, rows=_rh(hashes))


def _view(desired: Desired, **over: object) -> dict[str, object]:
    fields, md = view_fields(desired.metadata)
    view = {"id": "abcd-2345", **fields, "metadata": {**md, "rowIdentifier": 1},
            "columns": [{"id": 1, "fieldName": "id", "name": "id", "dataTypeName": "number", "description": ""},
                        {"id": 2, "fieldName": "v", "name": "v", "dataTypeName": "text", "description": ""}],
            "publicationStage": "published", "grants": [{"flags": ["public"]}]}
    view.update(over)
    return view


def test_plan_create_update_noop() -> None:
    d = _desired({"1": 1, "2": 2})
    p = compute_plan(desired=d, remote=Remote(view=None, identity="none"))
    assert p.action is Action.CREATE and p.rows.create == 2 and p.portal_id is None
    same = Remote(view=_view(d), identity="inventory-id", row_count=2, hashes=_rh({"2": 2, "1": 1}),
                  hash_kind="source", manifest_ok=True)
    p = compute_plan(desired=d, remote=same)
    assert p.action is Action.NOOP and p.rows.total == 0 and p.metadata_changes == ()
    changed = Remote(view=_view(d), identity="inventory-id", row_count=2, hashes=_rh({"1": 1, "3": 3}),
                     hash_kind="source", manifest_ok=True)
    d2 = _desired({"1": 9, "2": 2}, description="new")
    p = compute_plan(desired=d2, remote=changed, options=PlanOptions(max_delete_share=0.9))
    assert p.action is Action.UPDATE
    assert (p.rows.create, p.rows.update, p.rows.delete) == (1, 1, 1)
    assert [c.field for c in p.metadata_changes] == ["description"]
    assert p.delta.upsert_keys == {"1", "2"} and p.delta.delete_keys == ("3",)


def test_plan_refuses_mass_delete_unless_forced() -> None:
    d = _desired({"1": 1})
    r = Remote(view=_view(d), identity="inventory-id", row_count=10,
               hashes=_rh({str(i): 1 for i in range(1, 11)}), hash_kind="source", manifest_ok=True)
    p = compute_plan(desired=d, remote=r)
    assert p.action is Action.REFUSED and "would delete 9 of 10" in (p.reason or "")
    assert compute_plan(desired=d, remote=r, options=PlanOptions(force=True)).action is Action.UPDATE


def test_plan_refuses_schema_drift_unless_allowed() -> None:
    d = _desired({"1": 1})
    view = _view(d)
    view["columns"] = [view["columns"][0], {"id": 3, "fieldName": "w", "dataTypeName": "text"}]  # type: ignore[index]
    r = Remote(view=view, identity="inventory-id", row_count=1, hashes=_rh({"1": 1}), hash_kind="source")
    p = compute_plan(desired=d, remote=r)
    assert p.action is Action.REFUSED and "schema drift" in (p.reason or "")
    assert p.columns.added == ("v",) and p.columns.removed == ("w",)
    still = compute_plan(desired=d, remote=r, options=PlanOptions(allow_schema_change=True))
    assert still.action is Action.REFUSED and "cannot drop or retype" in (still.reason or "")
    only_added = Remote(view={**view, "columns": _view(d)["columns"][:1]}, identity="inventory-id",  # type: ignore[index]
                        row_count=1, hashes=_rh({"1": 1}), hash_kind="source")
    ok = compute_plan(desired=d, remote=only_added, options=PlanOptions(allow_schema_change=True))
    assert ok.action is Action.UPDATE and ok.columns.added == ("v",)


def test_plan_passes_refusals_through() -> None:
    d = Desired(id="x", title="X", metadata={}, mapping=None, rows=None, refusals=("status is proposed",))
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
    hashes = {f"k{i}": (i * 0x9E3779B97F4A7C15) % 2**64 for i in range(manifest.PART_ROWS + 7)}
    hashes["odd \x00 key \u00e9"] = 2**64 - 1
    rows, digest = manifest.encode_parts(_rh(hashes))
    assert len(rows) == 2 and len(digest) == 64
    back, digest2 = manifest.decode_parts(list(reversed(rows)))
    assert back.as_dict() == hashes and digest2 == digest
    with pytest.raises(ValueError):
        manifest.decode_parts([{"part": "0", "data": "bm90IHpsaWI="}])


def test_manifest_integer_keys_are_stored_compactly_and_round_trip() -> None:
    import base64

    # Canonical integers in any order, negatives and gaps included, over several parts.
    keys = [str(k) for k in [*range(1, manifest.PART_ROWS + 5), -3, 0, 10**15, 42_000_000]]
    hashes = {k: (i * 0x9E3779B97F4A7C15) % 2**64 for i, k in enumerate(keys)}
    rows, digest = manifest.encode_parts(_rh(hashes))
    assert [base64.b64decode(r["data"])[:1] for r in rows] == [b"I", b"I"]
    # An id column in order costs ~nothing beyond the 8 bytes of each hash.
    assert len(base64.b64decode(rows[0]["data"])) < 8 * manifest.PART_ROWS + 10_000
    back, digest2 = manifest.decode_parts(list(reversed(rows)))
    assert back.key_list() == keys and back.as_dict() == hashes and digest2 == digest
    # Deltas apply on top of integer base parts like on string ones.
    d1 = manifest._blob(b"D", ["5", "77777777777"], [1, 2], ["1"])
    got, _ = manifest.decode_parts([*rows, {"part": "2", "data": d1}])
    assert got.key_list() == [*keys[1:], "77777777777"] and got.as_dict()["5"] == 1


@pytest.mark.parametrize("odd", ["007", "+7", " 7", "7.0", "1e3", "99999999999999999999", ""])
def test_manifest_keys_that_are_not_canonical_integers_keep_their_text(odd: str) -> None:
    import base64

    hashes = {"1": 1, "2": 2, odd: 3}
    rows, _ = manifest.encode_parts(_rh(hashes))
    assert base64.b64decode(rows[0]["data"])[:1] != b"I"
    assert manifest.decode_parts(rows)[0].as_dict() == hashes


def test_damaged_integer_manifest_part_is_refused() -> None:
    import base64

    rows, _ = manifest.encode_parts(_rh({"1": 1, "2": 2}))
    raw = base64.b64decode(rows[0]["data"])
    for bad in (raw[:-1], raw[:5], raw[:9] + b"\x00" + raw[10:], raw + b"\x00"):
        with pytest.raises(ValueError):
            manifest.decode_parts([{"part": "0", "data": base64.b64encode(bad).decode()}])


# No deadline: on the shared machine the first example (cold caches) has taken over 1 s under load.
@settings(deadline=None)
@given(st.dictionaries(st.text(max_size=5), st.integers(0, 3), max_size=30),
       st.dictionaries(st.text(max_size=5), st.integers(0, 3), max_size=30))
def test_row_diff_matches_set_semantics(local: dict[str, int], remote: dict[str, int]) -> None:
    d = diff(_rh(local), _rh(remote))
    exact = _join_diff(_rh(local), _rh(remote))
    assert (sorted(d.create), sorted(d.update), sorted(d.delete)) == (sorted(exact.create), sorted(exact.update),
                                                                      sorted(exact.delete))
    assert set(d.create) == local.keys() - remote.keys()
    assert set(d.delete) == remote.keys() - local.keys()
    assert set(d.update) == {k for k in local.keys() & remote.keys() if local[k] != remote[k]}
    assert len(d.create) + len(d.update) + len(d.delete) == len(set(d.create) | set(d.update) | set(d.delete))


def test_source_scan_keys_hashes_and_chunks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kcdata.publish.rows.scan import iter_encoded_chunks, scan

    m = table_mapping(SCHEMA, row_identifier=None, where="s")
    p = tmp_path / "d.csv"
    p.write_bytes("\ufeffBreak ID,reported,repaired_at,cost,emergency,location,notes,extra\n"
                  "7,2024-01-02,2024-01-02T03:04:05,1.50,Y,\"-94.5, 39.1\",\"two\nlines\",x\n"
                  "8,2024-01-03,,2,N,\"-94.6, 39.2\",,y\n".encode())
    sc = scan(p, m)
    assert sc.rows.key_list() == ["7", "8"] and sc.duplicates == () and sc.empty_keys == 0
    (keys, rows_), = list(iter_encoded_chunks(sc, m))
    assert keys == ["7", "8"]
    assert rows_[0] == {"break_id": "7", "reported": "2024-01-02T00:00:00.000",
                        "repaired_at": "2024-01-02T03:04:05.000", "cost": "1.50", "emergency": True,
                        "location": {"type": "Point", "coordinates": [-94.5, 39.1]}, "notes": "two\nlines"}
    assert rows_[1]["repaired_at"] is None and rows_[1]["notes"] is None and rows_[1]["emergency"] is False
    # the extra CSV column is not part of the hash; a changed mapped cell is
    before = dict(zip(sc.rows.key_list(), sc.rows.hashes.tolist(), strict=True))
    p.write_bytes(p.read_bytes().replace(b",x\n", b",zzz\n").replace(b"N,", b"Y,"))
    after = dict(zip(*(lambda r: (r.key_list(), r.hashes.tolist()))(scan(p, m).rows), strict=True))
    assert before["7"] == after["7"] and before["8"] != after["8"]


def test_manifest_delta_parts_apply_in_order() -> None:
    base = {f"k{i}": i for i in range(10)}
    rows, digest = manifest.encode_parts(_rh(base))
    d1 = manifest._blob(b"D", ["k1", "new"], [111, 5], ["k2"])
    d2 = manifest._blob(b"D", ["k2"], [222], ["new"])
    parts = [*rows, {"part": "1", "data": d1}, {"part": "2", "data": d2}]
    got, dig = manifest.decode_parts(parts)
    want = {**base, "k1": 111, "k2": 222}
    assert got.as_dict() == want
    assert dig == manifest._chain(manifest._chain(digest, d1), d2)


def test_date_formats_are_honoured() -> None:
    m = table_mapping({"fields": [{"name": "d", "type": "date", "format": "%m/%d/%Y"},
                                  {"name": "t", "type": "datetime", "format": "fmt:%m/%d/%Y %H:%M"},
                                  {"name": "a", "type": "date", "format": "any"}],
                       "missingValues": ["", "NULL"]}, row_identifier="d", where="s")
    d, t, a = (encoder(c) for c in m.columns)
    assert d("06/14/2026") == "2026-06-14T00:00:00.000" and d("NULL") is None
    assert t("06/14/2026 13:05") == "2026-06-14T13:05:00.000"
    assert a("2026-06-14") == a("06/14/2026") == "2026-06-14T00:00:00.000"
    with pytest.raises(EncodeError):
        d("2026-06-14")
    from kcdata.publish.typemap import column_encoder

    assert column_encoder(m.columns[0])(["06/14/2026", "NULL"]) == ["2026-06-14T00:00:00.000", None]


def test_manifest_deltas_keep_the_file_order() -> None:
    base = {f"k{i}": i for i in range(6)}
    rows, _ = manifest.encode_parts(_rh(base))
    d1 = manifest._blob(b"D", ["k4", "k1"], [40, 10])  # updates only: no new or deleted keys
    got, _ = manifest.decode_parts([*rows, {"part": "1", "data": d1}])
    assert got.key_list() == list(base) and got.as_dict() == {**base, "k4": 40, "k1": 10}
    d2 = manifest._blob(b"D", ["k9"], [9], ["k0"])
    got, _ = manifest.decode_parts([*rows, {"part": "1", "data": d1}, {"part": "2", "data": d2}])
    assert got.key_list() == ["k1", "k2", "k3", "k4", "k5", "k9"]


def test_phase_watchers_hear_each_phase_start_from_any_thread() -> None:
    import threading

    from kcdata.publish.phases import phase, watching

    def background() -> None:
        with phase("portal state", dataset="a"):
            pass

    heard: list[tuple[str, str]] = []
    with watching(lambda ds, name: heard.append((ds, name))):
        with phase("read and hash CSV", dataset="a"):
            t = threading.Thread(target=background)
            t.start()
            t.join()
        with phase("diff", dataset="a"):
            pass
    with phase("after", dataset="a"):
        pass
    assert heard == [("a", "read and hash CSV"), ("a", "portal state"), ("a", "diff")]


def test_plan_spinner_names_the_dataset_and_phase_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys
    import time
    from types import SimpleNamespace

    from rich.console import Console

    from kcdata.cli.cmd_publish import _plan_status
    from kcdata.publish.phases import phase

    out = io.StringIO()
    app = SimpleNamespace(quiet=False, json_mode=False, err=Console(file=out, force_terminal=True, width=100))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with _plan_status(app), phase("read rows back from the portal", dataset="water-main-breaks"):  # type: ignore[arg-type]
        time.sleep(0.3)  # the spinner redraws ~12 times a second
    assert "planning water-main-breaks: read rows back from the portal" in out.getvalue()
    quiet = io.StringIO()
    app = SimpleNamespace(quiet=False, json_mode=True, err=Console(file=quiet, force_terminal=True))
    with _plan_status(app), phase("diff", dataset="x"):  # type: ignore[arg-type]
        time.sleep(0.2)
    assert quiet.getvalue() == ""  # --json: nothing on stderr
