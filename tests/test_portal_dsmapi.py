"""The local portal's Dataset Management API (``/api/publishing/v1``) driven by socrata-py 1.2.0,
unchanged, over HTTPS (``REQUESTS_CA_BUNDLE``), with the results read back through SODA by sodapy."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import PORTAL_PASSWORD, PORTAL_USERNAME, serving_tls

from kcdata.portal import PortalServer
from kcdata.portal.tls import Certificate

CASES = (b"Case ID,Amount,Opened,Is Open\n"
         b"A1,1.5,2024-01-02,true\n"
         b"A2,2,2024-02-03,false\n"
         b"A3,10,2024-03-04,true\n")


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PortalServer, Certificate]]:
    with serving_tls(tmp_path_factory.mktemp("dsmapi-portal")) as served:
        yield served


@pytest.fixture()
def clients(portal: tuple[PortalServer, Certificate], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """``(socrata-py Socrata, sodapy Socrata)`` against the HTTPS portal."""
    from socrata import Socrata as Publishing
    from socrata.authorization import Authorization
    from sodapy import Socrata

    server, cert = portal
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert.certfile))
    publishing = Publishing(Authorization(server.domain, PORTAL_USERNAME, PORTAL_PASSWORD))
    with Socrata(server.domain, "token", username=PORTAL_USERNAME, password=PORTAL_PASSWORD, timeout=30) as soda:
        yield publishing, soda


def _file(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def _create(publishing: Any, **metadata: Any) -> str:
    """A dataset from CASES with ``case_id`` as its row id; returns its id."""
    rev, output = publishing.create(**metadata).csv(_file(CASES, "cases.csv"))
    assert output.validate_row_id("case_id") and not output.validate_row_id("is_open")
    output = output.set_row_id("case_id")
    job = rev.apply(output_schema=output)
    job.wait_for_finish(sleeptime=0.05)
    assert job.attributes["status"] == "successful"
    assert rev.attributes["closed_at"]
    return str(rev.attributes["fourfour"])


def _upload(rev: Any, data: bytes, name: str = "rows.csv") -> Any:
    source = rev.create_upload(name).csv(_file(data, name))
    return source.get_latest_input_schema().get_latest_output_schema()


def _rows(soda: Any, fourfour: str) -> list[dict[str, Any]]:
    return list(soda.get(fourfour, order="case_id"))


def test_create_from_csv_guesses_types_and_reads_back_through_soda(clients: tuple[Any, Any]) -> None:
    publishing, soda = clients
    fourfour = _create(publishing, name="Cases", description="Open cases", category="Health",
                       tags=["cases", "health"])
    assert _rows(soda, fourfour) == [
        {"case_id": "A1", "amount": "1.5", "opened": "2024-01-02T00:00:00.000", "is_open": True},
        {"case_id": "A2", "amount": "2", "opened": "2024-02-03T00:00:00.000", "is_open": False},
        {"case_id": "A3", "amount": "10", "opened": "2024-03-04T00:00:00.000", "is_open": True}]
    meta = soda.get_metadata(fourfour)
    assert (meta["name"], meta["description"], meta["category"], meta["tags"]) == (
        "Cases", "Open cases", "Health", ["cases", "health"])
    assert [(c["fieldName"], c["name"], c["dataTypeName"]) for c in meta["columns"]] == [
        ("case_id", "Case ID", "text"), ("amount", "Amount", "number"), ("opened", "Opened", "calendar_date"),
        ("is_open", "Is Open", "checkbox")]
    assert meta["rowIdentifierColumnId"] == meta["columns"][0]["id"]
    assert meta["publicationStage"] == "published"
    view = publishing.views.lookup(fourfour)
    assert [r.attributes["revision_seq"] for r in view.revisions.list()] == [0]


def test_replace_revision_with_retype_rename_and_drop(clients: tuple[Any, Any]) -> None:
    publishing, soda = clients
    fourfour = _create(publishing, name="Retype me")
    rev = publishing.views.lookup(fourfour).revisions.create_replace_revision(metadata={"name": "Retyped"})
    output = _upload(rev, b"Case ID,Amount,Opened,Is Open\nB1,007,2025-05-06,yes\nB2,8,,no\n")
    assert rev.get_output_schema().attributes["id"] == output.attributes["id"]
    output = (output.change_column_transform("amount").to("to_text(`amount`)")
              .change_column_metadata("opened", "field_name").to("opened_on")
              .change_column_metadata("opened_on", "display_name").to("Opened on")
              .drop_column("is_open").run())
    assert [(c["field_name"], c["transform"]["output_soql_type"]) for c in output.attributes["output_columns"]] == [
        ("case_id", "text"), ("amount", "text"), ("opened_on", "floating_timestamp")]
    assert output.rows() == [{"case_id": {"ok": "B1"}, "amount": {"ok": "007"},
                              "opened_on": {"ok": "2025-05-06T00:00:00.000"}},
                             {"case_id": {"ok": "B2"}, "amount": {"ok": "8"}, "opened_on": {"ok": None}}]
    job = rev.apply(output_schema=output)
    assert job.wait_for_finish(sleeptime=0.05).attributes["status"] == "successful"
    assert _rows(soda, fourfour) == [{"case_id": "B1", "amount": "007", "opened_on": "2025-05-06T00:00:00.000"},
                                     {"case_id": "B2", "amount": "8"}]
    meta = soda.get_metadata(fourfour)
    assert meta["name"] == "Retyped"
    assert [(c["fieldName"], c["name"], c["dataTypeName"]) for c in meta["columns"]] == [
        ("case_id", "Case ID", "text"), ("amount", "Amount", "text"), ("opened_on", "Opened on", "calendar_date")]
    assert meta["rowIdentifierColumnId"] == meta["columns"][0]["id"]  # kept across the replace

    from socrata.http import UnexpectedResponseException
    revisions = publishing.views.lookup(fourfour).revisions
    retype = revisions.create_update_revision()
    with pytest.raises(UnexpectedResponseException) as refused:  # amount is text now; a number needs a replace
        retype.apply(output_schema=_upload(retype, b"Case ID,Amount\nB1,7\n"))
    assert refused.value.status == 400 and refused.value.body["code"] == "schema_mismatch"
    retype.discard()
    readd = revisions.create_update_revision()  # the dropped column comes back, empty but for the row sent
    readd.apply(output_schema=_upload(readd, b"Case ID,Is Open\nB1,true\n")).wait_for_finish(sleeptime=0.05)
    assert [r.get("is_open") for r in _rows(soda, fourfour)] == [True, None]


def test_update_revision_upserts_by_row_id_and_delete_revision_deletes(clients: tuple[Any, Any]) -> None:
    publishing, soda = clients
    fourfour = _create(publishing, name="Upserts")
    revisions = publishing.views.lookup(fourfour).revisions
    rev = revisions.create_update_revision()
    output = _upload(rev, b"Case ID,Amount,Opened,Is Open\nA2,20,2024-02-03,true\nA4,4,2024-04-05,false\n")
    rev.apply(output_schema=output).wait_for_finish(sleeptime=0.05)
    assert [(r["case_id"], r["amount"], r["is_open"]) for r in _rows(soda, fourfour)] == [
        ("A1", "1.5", True), ("A2", "20", True), ("A3", "10", True), ("A4", "4", False)]
    rev = revisions.create_delete_revision()
    rev.apply(output_schema=_upload(rev, b"Case ID\nA1\nA3\n")).wait_for_finish(sleeptime=0.05)
    assert [r["case_id"] for r in _rows(soda, fourfour)] == ["A2", "A4"]
    assert [r.attributes["action"]["type"] for r in revisions.list()] == ["update", "update", "delete"]


def test_metadata_only_revision_notes_and_discard(clients: tuple[Any, Any]) -> None:
    publishing, soda = clients
    fourfour = _create(publishing, name="Metadata")
    revisions = publishing.views.lookup(fourfour).revisions
    rev = revisions.create_replace_revision(metadata={"description": "Now described"}, permission="public")
    rev = rev.update({"metadata": {"category": "Finance", "metadata": {"custom_fields": {"Owner": {"Dept": "IT"}}}}})
    rev = rev.set_notes("Described the dataset")
    assert rev.attributes["notes"] == "Described the dataset"
    assert revisions.lookup(rev.attributes["revision_seq"]).attributes["notes"] == "Described the dataset"
    assert {step["type"] for step in rev.plan()} == {"update_metadata", "set_permission"}
    job = rev.apply()
    assert job.wait_for_finish(sleeptime=0.05).attributes["status"] == "successful"
    meta = soda.get_metadata(fourfour)
    assert (meta["name"], meta["description"], meta["category"]) == ("Metadata", "Now described", "Finance")
    assert meta["metadata"]["custom_fields"] == {"Owner": {"Dept": "IT"}}
    assert meta["metadata"]["rowIdentifier"] == meta["rowIdentifierColumnId"]
    assert any("public" in g.get("flags", []) for g in meta["grants"])
    assert len(_rows(soda, fourfour)) == 3  # rows untouched

    draft = revisions.create_update_revision(metadata={"name": "Never applied"})
    _upload(draft, b"Case ID,Amount,Opened,Is Open\nZ9,1,2024-01-01,true\n")
    closed = draft.discard()
    assert closed["resource"]["discarded_at"]
    again = revisions.lookup(draft.attributes["revision_seq"])
    assert again.attributes["closed_at"]
    from socrata.http import UnexpectedResponseException
    with pytest.raises(UnexpectedResponseException) as failed:
        again.apply()
    assert failed.value.status == 400
    assert soda.get_metadata(fourfour)["name"] == "Metadata"
    assert "Z9" not in {r["case_id"] for r in _rows(soda, fourfour)}


def test_revisionless_source_added_to_revision_and_configs(clients: tuple[Any, Any]) -> None:
    publishing, soda = clients
    fourfour = _create(publishing, name="Configured")
    config = publishing.configs.create("cases-update", "update")
    assert publishing.configs.lookup("cases-update").attributes["data_action"] == "update"
    assert [c.attributes["name"] for c in publishing.configs.list()] == ["cases-update"]
    view = publishing.views.lookup(fourfour)
    rev, job = publishing.using_config("cases-update", view).csv(
        _file(b"Case ID,Amount,Opened,Is Open\nA1,99,2024-01-02,true\n", "fix.csv"))
    assert job.wait_for_finish(sleeptime=0.05).attributes["status"] == "successful"
    assert _rows(soda, fourfour)[0]["amount"] == "99"
    rev = config.create_revision(fourfour)
    source = publishing.sources.create_upload("later.csv").add_to_revision(rev)
    source = source.csv(_file(b"Case ID,Amount,Opened,Is Open\nA5,5,2024-05-06,false\n", "later.csv"))
    assert source.attributes["revisions"] == [{"fourfour": fourfour, "revision_seq": rev.attributes["revision_seq"]}]
    rev.apply(output_schema=source.get_latest_input_schema().get_latest_output_schema())
    assert [r["case_id"] for r in _rows(soda, fourfour)] == ["A1", "A2", "A3", "A5"]
    config.delete()
    assert publishing.configs.list() == []


def test_publishing_api_needs_credentials_and_rejects_bad_transforms(portal: tuple[PortalServer, Certificate],
                                                                     clients: tuple[Any, Any]) -> None:
    server, cert = portal
    publishing, _soda = clients
    for method in ("GET", "POST"):
        answer = requests.request(method, server.url + "/api/publishing/v1/revision", json={}, timeout=10,
                                  verify=str(cert.certfile))
        assert answer.status_code == 403
    rev = publishing.new({"name": "Bad transform"})
    output = _upload(rev, CASES)
    from socrata.http import UnexpectedResponseException
    with pytest.raises(UnexpectedResponseException) as failed:
        output.change_column_transform("amount").to("to_frobnicate(`amount`)").run()
    assert failed.value.status == 400 and "to_frobnicate" in failed.value.body["message"]
    bad = output.change_column_transform("amount").to("to_number(`case_id`)").run()
    assert bad.attributes["error_count"] == 3


def test_malformed_publishing_requests_never_answer_5xx(portal: tuple[PortalServer, Certificate],
                                                         clients: tuple[Any, Any]) -> None:
    server, cert = portal
    publishing, _soda = clients
    rev = publishing.new({"name": "Malformed"})
    output = _upload(rev, CASES)
    ff, seq = rev.attributes["fourfour"], rev.attributes["revision_seq"]
    sid = output.parent.attributes["source_id"]
    isid = output.attributes["input_schema_id"]
    base = server.url + "/api/publishing/v1"
    junk: list[Any] = [None, [], "x", 7, {"action": "x"}, {"action": {"type": "merge"}}, {"metadata": []},
                       {"notes": 5}, {"output_schema_id": "nope"}, {"source_type": {"type": "url"}},
                       {"revision": {"fourfour": ff, "revision_seq": "two"}}, {"parse_options": {"header_count": "a"}},
                       {"output_columns": [1]}, {"output_columns": [{"field_name": "Bad Name", "transform": {}}]},
                       {"output_columns": [{"field_name": "a", "transform": "x", "position": "z"}]},
                       {"name": "", "data_action": "merge"}]
    paths = [("POST", "/revision"), ("POST", f"/revision/{ff}"), ("PUT", f"/revision/{ff}/{seq}"),
             ("PATCH", f"/revision/{ff}/{seq}"), ("GET", f"/revision/{ff}/99"), ("GET", f"/revision/{ff}/x"),
             ("POST", f"/revision/{ff}/{seq}/source"), ("POST", "/source"), ("PATCH", f"/source/{sid}"),
             ("POST", f"/source/{sid}"), ("POST", f"/source/{sid}/schema/{isid}"), ("GET", "/source/x"),
             ("GET", f"/source/{sid}/schema/{isid}/output/latest/rows?offset=-1&limit=z"),
             ("POST", "/config"), ("PATCH", "/config/none"), ("GET", "/job/x"), ("DELETE", "/revision"),
             ("GET", "/nothing"), ("POST", f"/source/{sid}/chunk/x/0"), ("POST", "/revision/no-such")]
    with requests.Session() as session:
        session.auth = (PORTAL_USERNAME, PORTAL_PASSWORD)
        session.verify = str(cert.certfile)
        for method, path in paths:
            for body in junk:
                answer = session.request(method, base + path, json=body, timeout=10)
                assert answer.status_code < 500, (method, path, body, answer.status_code, answer.text)
            answer = session.request(method, base + path, data=b"{not json", timeout=10)
            assert 400 <= answer.status_code < 500, (method, path, answer.text)


def test_points_from_wkt_and_lat_lon_text(clients: tuple[Any, Any]) -> None:
    publishing, soda = clients
    rev, output = publishing.create(name="Places").csv(_file(
        b'Place,Where\nUnion Station,POINT (-94.5859 39.0849)\nCity Hall,"(39.1003, -94.5786)"\nNowhere,\n',
        "places.csv"))
    assert [c["transform"]["transform_expr"] for c in output.attributes["output_columns"]] == ["`place`", "`where`"]
    output = output.change_column_transform("where").to("to_point(`where`)").run()
    assert output.attributes["error_count"] == 0
    rev.apply(output_schema=output).wait_for_finish(sleeptime=0.05)
    fourfour = rev.attributes["fourfour"]
    assert list(soda.get(fourfour, order="place")) == [
        {"place": "City Hall", "where": {"type": "Point", "coordinates": [-94.5786, 39.1003]}},
        {"place": "Nowhere"},
        {"place": "Union Station", "where": {"type": "Point", "coordinates": [-94.5859, 39.0849]}}]
    assert soda.get_metadata(fourfour)["columns"][1]["dataTypeName"] == "point"
