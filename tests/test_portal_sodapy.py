"""The local portal driven by the real sodapy 2.2.0 client over HTTP: every ``Socrata`` method."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import FIXTURES as ALL_FIXTURES

# Real recorded Socrata responses (provenance in tests/fixtures/socrata/README.md).
FIXTURES = ALL_FIXTURES / "socrata"

COLUMNS = [
    {"fieldName": "earthquake_id", "name": "Earthquake ID", "dataTypeName": "text"},
    {"fieldName": "region", "name": "Region", "dataTypeName": "text"},
    {"fieldName": "magnitude", "name": "Magnitude", "dataTypeName": "number"},
    {"fieldName": "depth", "name": "Depth", "dataTypeName": "number"},
    {"fieldName": "datetime", "name": "Datetime", "dataTypeName": "calendar_date"},
]


def raw_http(domain: str, request: bytes) -> tuple[bytes, bytes]:
    """Send raw bytes; return (status line + headers, body) once Content-Length bytes (or EOF) arrived."""
    import socket

    host, port = domain.split(":")
    data = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        while True:
            if b"\r\n\r\n" in data:
                head, body = data.split(b"\r\n\r\n", 1)
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), None)
                if length is not None and len(body) >= length:
                    return head, body[:length]
            chunk = sock.recv(65536)
            if not chunk:  # closed: whatever arrived (an HTTP/0.9 answer has no head)
                head, _, body = data.partition(b"\r\n\r\n")
                return (head, body) if body or data.startswith(b"HTTP/") else (b"", data)
            data += chunk


def new_dataset(client: Any, *, name: str = "Earthquakes", public: bool = True, columns: list[dict] | None = None,
                row_identifier: str | None = "earthquake_id", **extra: Any) -> str:
    view = client.create(name, columns=columns or COLUMNS, row_identifier=row_identifier, **extra)
    if public:
        client.publish(view["id"])
        client.set_permission(view["id"], "public")
    return str(view["id"])


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_create_returns_the_recorded_view_shape(portal: Any) -> None:
    client = portal.client()
    view = client.create("Foo Bar", description="test dataset", row_identifier="bar",
                         columns=[{"fieldName": "foo", "name": "Foo", "dataTypeName": "text"},
                                  {"fieldName": "bar", "name": "Bar", "dataTypeName": "number"}])
    recorded = fixture("sodapy_create-view-response_2frc-hyvj.json")
    assert set(recorded) <= set(view), set(recorded) - set(view)
    assert view["publicationStage"] == "unpublished"
    import re

    assert re.fullmatch(r"[2-9a-km-np-z]{4}-[2-9a-km-np-z]{4}", view["id"])
    bar = next(c for c in view["columns"] if c["fieldName"] == "bar")
    assert set(recorded["columns"][1]) <= set(bar)
    assert view["rowIdentifierColumnId"] == bar["id"] == view["metadata"]["rowIdentifier"]
    assert isinstance(view["metadata"]["rowIdentifier"], int)
    assert view["description"] == "test dataset"


def test_get_metadata_has_the_real_view_keys(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    view = client.get_metadata(ds)
    real = fixture("nyc_uczf-rk3c_views.json")
    core = {"id", "name", "assetType", "createdAt", "description", "displayType", "newBackend", "publicationStage",
            "publicationDate", "rowsUpdatedAt", "viewLastModified", "viewType", "columns", "grants", "metadata",
            "owner", "rights", "rowIdentifierColumnId", "tableId", "flags"}
    assert core <= set(real)
    assert core <= set(view), core - set(view)
    for key in ("id", "name", "dataTypeName", "fieldName", "position", "renderTypeName", "tableColumnId", "format"):
        assert key in real["columns"][0] and key in view["columns"][0]
    assert view["grants"] == real["grants"]


def test_update_metadata_merges_shallowly_and_keeps_custom_metadata(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client, description="old", tags=["a"])
    view = client.get_metadata(ds)
    metadata = dict(view["metadata"], custom_fields={"kcdata": {"inventory_id": "water-main-breaks"}})
    updated = client.update_metadata(ds, {"description": "new", "metadata": metadata,
                                          "columns": [{"fieldName": "region", "description": "Where"}]})
    assert updated["description"] == "new"
    assert updated["tags"] == ["a"]  # untouched keys stay
    assert updated["metadata"]["custom_fields"]["kcdata"]["inventory_id"] == "water-main-breaks"
    assert updated["metadata"]["rowIdentifier"] == view["metadata"]["rowIdentifier"]
    assert next(c for c in updated["columns"] if c["fieldName"] == "region")["description"] == "Where"
    assert client.get_metadata(ds) == updated


def test_rows_updated_at_moves_on_every_row_write(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    before = client.get_metadata(ds)["rowsUpdatedAt"]
    assert isinstance(before, int)
    import time

    time.sleep(1.05)
    client.upsert(ds, [{"earthquake_id": "x1"}])
    assert client.get_metadata(ds)["rowsUpdatedAt"] > before


def test_publish_and_permissions(portal: Any) -> None:
    client, anon = portal.client(), portal.client(auth=False)
    ds = new_dataset(client, public=False)
    client.upsert(ds, [{"earthquake_id": "p1"}])
    with pytest.raises(requests.HTTPError) as err:
        anon.get(ds)
    assert str(err.value) == "403 Client Error: Forbidden.\n\tYou must be logged in to access this resource"
    body = err.value.response.json()
    recorded = fixture("sodapy_403-response.json")
    assert set(recorded) <= set(body) and body["message"] == recorded["message"] and body["error"] is True
    assert body["code"] == "permission_denied"
    with pytest.raises(requests.HTTPError, match="403"):
        anon.get_metadata(ds)
    published = client.publish(ds)
    assert published["publicationStage"] == "published" and isinstance(published["publicationDate"], int)
    response = client.set_permission(ds, "public")
    assert isinstance(response, requests.Response) and response.status_code == 200 and response.text == ""
    assert anon.get(ds) == [{"earthquake_id": "p1"}]
    client.set_permission(ds, "private")
    with pytest.raises(requests.HTTPError, match="403"):
        anon.get(ds)


def test_anonymous_write_is_403_and_bad_password_is_401(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    with pytest.raises(requests.HTTPError) as err:
        portal.client(auth=False).upsert(ds, [{"earthquake_id": "a"}])
    assert err.value.response.status_code == 403
    assert "You must be logged in" in str(err.value)
    from sodapy import Socrata

    wrong = Socrata(portal.domain, None, username=portal.username, password="wrong",
                    session_adapter={"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()})
    with pytest.raises(requests.HTTPError) as err:
        wrong.upsert(ds, [{"earthquake_id": "a"}])
    assert err.value.response.status_code == 401
    assert client.get(ds) == []


def test_upsert_is_idempotent_like_the_devsite_example(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    client.upsert(ds, [{"earthquake_id": "ak11243041", "region": "old"}, {"earthquake_id": "ak11246151"}])
    example = [
        {"earthquake_id": "ak11243041", "region": "Andreanof Islands, Aleutian Islands, Alaska", "magnitude": 1.8},
        {"earthquake_id": "ak11246151", ":deleted": True},
        {"earthquake_id": "ak11246918", "region": "22km NW of Nenana, Alaska", "magnitude": "1.1"},
    ]
    first = client.upsert(ds, example)
    assert first == {"Errors": 0, "Rows Deleted": 1, "Rows Updated": 1, "By SID": 0, "Rows Created": 1,
                     "By RowIdentifier": 2}
    second = client.upsert(ds, example)
    assert second["Rows Updated"] == 2 and second["Errors"] == 1
    assert second["Rows Created"] == 0 and second["Rows Deleted"] == 0
    assert set(second) == set(fixture("sodapy_upsert-report.json"))
    rows = client.get(ds, order="earthquake_id")
    assert [r["earthquake_id"] for r in rows] == ["ak11243041", "ak11246918"]
    assert rows[0]["magnitude"] == "1.8"


def test_csv_upsert_with_deleted_column(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    client.upsert(ds, [{"earthquake_id": "c1"}, {"earthquake_id": "c2"}, {"earthquake_id": "c3"}])
    body = io.BytesIO(b"Earthquake ID,region,magnitude,Datetime,:deleted\nc1,North,2.50,,false\nc2,,,,true\n"
                      b"c9,\"South, far\",1,03/26/2014 10:38:01 PM,false\n")
    report = client.upsert(ds, body)
    assert report["Rows Updated"] == 1 and report["Rows Deleted"] == 1 and report["Rows Created"] == 1
    assert report["Errors"] == 0
    rows = {r["earthquake_id"]: r for r in client.get(ds)}
    assert set(rows) == {"c1", "c3", "c9"}
    assert rows["c1"] == {"earthquake_id": "c1", "region": "North", "magnitude": "2.5"}
    assert rows["c9"]["region"] == "South, far" and rows["c9"]["datetime"] == "2014-03-26T22:38:01.000"


def test_replace_truncates_and_reports_created(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    client.upsert(ds, [{"earthquake_id": f"r{i}"} for i in range(5)])
    report = client.replace(ds, [{"earthquake_id": "n1"}, {"earthquake_id": "n2"}])
    assert report == fixture("sodapy_replace-report.json")
    assert [r["earthquake_id"] for r in client.get(ds)] == ["n1", "n2"]


def test_nan_payload_is_400_and_nothing_is_applied(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    client.upsert(ds, [{"earthquake_id": "keep", "depth": 1}])
    with pytest.raises(requests.HTTPError) as err:
        client.upsert(ds, [{"earthquake_id": "n1", "depth": 2}, {"earthquake_id": "n2", "depth": float("nan")}])
    assert err.value.response.status_code == 400
    body = err.value.response.json()
    assert body["error"] is True and body["code"] == "req.body.malformed-json" and "NaN" in body["message"]
    assert client.get(ds) == [{"earthquake_id": "keep", "depth": "1"}]


def test_structural_problems_apply_nothing_but_row_problems_count_as_errors(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    with pytest.raises(requests.HTTPError) as err:
        client.upsert(ds, [{"earthquake_id": "u1"}, {"earthquake_id": "u2", "nope": 1}])
    assert err.value.response.json()["code"] == "soda.row.column-not-found"
    with pytest.raises(requests.HTTPError) as err:
        client.upsert(ds, [{"earthquake_id": "u1"}, [1, 2]])
    assert err.value.response.json()["code"] == "soda.row.upsert-row-not-an-object"
    assert client.get(ds) == []
    report = client.upsert(ds, [{"earthquake_id": "u1", "depth": "deep"}, {"region": "no id"},
                                {"earthquake_id": "u3", "depth": "3.0"}])
    assert report["Errors"] == 2 and report["Rows Created"] == 1
    assert client.get(ds) == [{"earthquake_id": "u3", "depth": "3"}]


def test_single_row_get_and_delete(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    client.upsert(ds, [{"earthquake_id": "s1", "region": "A"}, {"earthquake_id": "s2", "region": "B"}])
    assert client.get(f"{ds}/s2") == {"earthquake_id": "s2", "region": "B"}
    deleted = client.delete(ds, row_id="s2")
    assert deleted[0]["typ"] == "delete" and deleted[0]["id"].startswith("row-")
    with pytest.raises(requests.HTTPError, match="404"):
        client.get(f"{ds}/s2")
    with pytest.raises(requests.HTTPError, match="404"):
        client.delete(ds, row_id="s2")
    # rows of a dataset without a row identifier are addressed by :id
    plain = new_dataset(client, row_identifier=None)
    client.upsert(plain, [{"region": "x"}, {"region": "y"}])
    rows = client.get(plain, exclude_system_fields=False)
    assert [r["region"] for r in rows] == ["x", "y"]
    sid = rows[0][":id"]
    report = client.upsert(plain, [{":id": sid, "region": "x2"}])
    assert report["By SID"] == 1 and report["Rows Updated"] == 1
    assert client.get(f"{plain}/{sid}") == {"region": "x2"}


def test_delete_dataset(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    response = client.delete(ds)
    assert isinstance(response, requests.Response) and response.status_code == 200
    with pytest.raises(requests.HTTPError) as err:
        client.get_metadata(ds)
    assert err.value.response.json()["code"] == "not_found"
    assert err.value.response.headers["X-Error-Code"] == "not_found"
    with pytest.raises(requests.HTTPError) as err:
        client.get(ds)
    assert str(err.value) == "404 Client Error: Not Found"
    assert err.value.response.json() == {"error": True, "code": "dataset.missing", "errorCode": "dataset.missing",
                                         "message": "Not found", "data": {"id": ds}}


def test_get_csv_and_soda2_headers(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    client.upsert(ds, [{"earthquake_id": "h1", "magnitude": 1.5, "region": 'say "hi"'}])
    rows = client.get(ds, content_type="csv")
    assert rows == [["earthquake_id", "region", "magnitude", "depth", "datetime"], ["h1", 'say "hi"', "1.5", "", ""]]
    response = requests.get(f"{portal.url}/resource/{ds}.json", timeout=10)
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.headers["X-SODA2-Fields"]) == ["earthquake_id", "region", "magnitude", "depth",
                                                              "datetime"]
    assert json.loads(response.headers["X-SODA2-Types"]) == ["text", "text", "number", "number",
                                                             "floating_timestamp"]
    raw = requests.get(f"{portal.url}/resource/{ds}.csv", timeout=10).text
    assert raw.startswith('"earthquake_id","region"')


def test_errors_are_json_objects_and_unknown_paths_404_wrong_verbs_405(portal: Any) -> None:
    r = requests.get(f"{portal.url}/nope", timeout=10)
    assert r.status_code == 404 and r.json()["code"] == "not-found" and r.json()["error"] is True
    r = requests.delete(f"{portal.url}/api/catalog/v1", timeout=10,
                        auth=(portal.username, portal.password))
    assert r.status_code == 405 and r.json()["code"] == "method-not-allowed"


def test_body_over_the_limit_is_413_and_applies_nothing(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    old = portal.server.max_body_bytes
    portal.server.max_body_bytes = 1000
    try:
        with pytest.raises(requests.HTTPError) as err:
            client.upsert(ds, [{"earthquake_id": f"b{i}", "region": "x" * 50} for i in range(100)])
        assert err.value.response.status_code == 413
        assert err.value.response.json()["code"] == "req.body.too-large"
        assert client.upsert(ds, [{"earthquake_id": "small"}])["Rows Created"] == 1  # under the limit: fine
    finally:
        portal.server.max_body_bytes = old
    assert client.get(ds) == [{"earthquake_id": "small"}]


def test_non_data_files_and_attachments(portal: Any, tmp_path: Any) -> None:
    client = portal.client()
    created = client.create_non_data_file({"name": "Transit feed"},
                                          {"file": ("gtfs.zip", io.BytesIO(b"PK\x03\x04zip"))})
    recorded = fixture("sodapy_create-blob-response_9hh8-5vbg.json")
    assert {"blobId", "blobFilename", "blobFileSize", "blobMimeType", "viewType", "id", "name"} <= set(recorded)
    assert created["viewType"] == "blobby" and created["blobFilename"] == "gtfs.zip"
    assert created["blobFileSize"] == 7 and created["name"] == "Transit feed"
    replaced = client.replace_non_data_file(created["id"], {}, {"file": ("gtfs.zip", io.BytesIO(b"new bytes"))})
    assert replaced["blobFileSize"] == 9 and replaced["blobId"] != created["blobId"]
    # a tabular dataset whose metadata lists the file as an attachment (by assetId and by legacy blobId)
    ds = new_dataset(client)
    view = client.get_metadata(ds)
    attachments = [{"filename": "dictionary.zip", "assetId": replaced["blobId"], "name": "Data dictionary"},
                   {"filename": "old.zip", "assetId": "", "blobId": replaced["blobId"], "name": "Old"}]
    client.update_metadata(ds, {"metadata": dict(view["metadata"], attachments=attachments)})
    paths = client.download_attachments(ds, download_dir=str(tmp_path))
    assert [Path(p).name for p in paths] == ["dictionary.zip", "old.zip"]
    assert all(Path(p).read_bytes() == b"new bytes" for p in paths)
    # no attachments: nothing downloaded
    assert client.download_attachments(new_dataset(client), download_dir=str(tmp_path)) == []
    client.close()


def test_private_files_are_not_served_anonymously(portal: Any) -> None:
    client = portal.client()
    created = client.create_non_data_file({}, {"file": ("secret.csv", io.BytesIO(b"a,b\n"))})
    url = f"{portal.url}/api/assets/{created['blobId']}?download=true"
    assert requests.get(url, timeout=10).status_code == 403
    authed = requests.get(url, timeout=10, auth=(portal.username, portal.password))
    assert authed.status_code == 200 and authed.content == b"a,b\n"
    assert authed.headers["Content-Type"] == "application/octet-stream"
    assert 'filename="secret.csv"' in authed.headers["Content-Disposition"]
    client.set_permission(created["id"], "public")
    assert requests.get(url, timeout=10).content == b"a,b\n"


def test_a_key_repeated_within_one_batch_is_applied_in_order(portal: Any) -> None:
    client = portal.client()
    ds = new_dataset(client)
    report = client.upsert(ds, [{"earthquake_id": "d", "region": "one"}, {"earthquake_id": "d", "depth": 5},
                                {"earthquake_id": "e"}, {"earthquake_id": "e", ":deleted": True},
                                {"earthquake_id": "e", "region": "back"}, {"earthquake_id": "d", "region": None}])
    assert (report["Rows Created"], report["Rows Updated"], report["Rows Deleted"]) == (3, 2, 1)
    assert client.get(ds, order="earthquake_id") == [{"earthquake_id": "d", "depth": "5"},
                                                     {"earthquake_id": "e", "region": "back"}]


def test_odd_requests_get_clean_errors(portal: Any) -> None:
    client = portal.client()
    empty = client.create("No columns yet")["id"]
    assert client.get(empty) == [] and client.get(empty, content_type="csv") == [[]]  # an empty header row
    # (credentials are checked before the body is read, so an anonymous write is a 403 whatever its length)
    auth = b"Authorization: Basic " + base64.b64encode(f"{portal.username}:{portal.password}".encode()) + b"\r\n"
    for request in (b"POST /resource/x.json HTTP/1.1\r\nHost: h\r\n" + auth + b"Content-Length: -5\r\n\r\n",
                    b"POST /resource/x.json HTTP/1.1\r\nHost: h\r\n" + auth + b"Content-Length: abc\r\n\r\n"):
        head, body = raw_http(portal.domain, request)
        assert head.startswith(b"HTTP/1.1 400") and json.loads(body)["code"] == "req.content-length.invalid"
    r = requests.get(f"{portal.url}/resource/{empty}.json", params={"$where": "'%"}, timeout=10,
                     auth=(portal.username, portal.password))
    assert r.status_code == 400 and r.json()["code"].startswith("query.soql.")


def test_protocol_errors_are_json_too(portal: Any) -> None:
    head, body = raw_http(portal.domain, b"BREW /coffee HTTP/1.1\r\nHost: h\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 501") and b"Content-Type: application/json" in head
    assert json.loads(body)["code"] == "not-implemented"
    head, body = raw_http(portal.domain, b"HEAD /api/catalog/v1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405") and b"Content-Type: application/json" in head and body == b""
    head, body = raw_http(portal.domain, b"GARBAGE\r\n\r\n")  # HTTP/0.9-style: the answer is a bare body
    assert json.loads(head + body)["code"] == "bad-request"
