"""``kcdata validate``: happy path, --json equals the library result, exit codes 0/1/3, --max-errors, cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kcdata.jsonable import to_jsonable

FIXTURES = Path(__file__).parent / "fixtures" / "validate"

INVENTORY = """\
department:
  id: public-works
  name: Public Works
datasets:
  - id: service-requests
    title: 311 Service Requests
    description: Calls to 311.
    contact: {name: 311 Call Center}
    access_level: public
    status: inventoried
    data: data/requests.csv
    schema: schemas/requests.schema.json
  - id: street-lights
    title: Street lights
    description: Every street light.
    contact: {name: Lighting}
    access_level: public
    status: inventoried
    data: data/lights.csv
    schema: schemas/lights.schema.json
  - id: no-files-yet
    title: Not ready
    description: No data yet.
    contact: {name: Nobody}
    access_level: public
    status: inventoried
"""
SCHEMA = {"fields": [{"name": "id", "type": "integer", "description": "Case id", "constraints": {"unique": True}},
                     {"name": "status", "type": "string", "description": "Status",
                      "constraints": {"enum": ["open", "closed"]}}],
          "primaryKey": ["id"]}


@pytest.fixture
def program(tmp_path: Path) -> Path:
    root = tmp_path / "program"
    for d in ("inventory", "data", "schemas"):
        (root / d).mkdir(parents=True)
    (root / "inventory" / "public-works.yaml").write_text(INVENTORY)
    (root / "data" / "requests.csv").write_text("id,status\n1,open\n2,closed\n")
    (root / "data" / "lights.csv").write_text("id,status\n1,open\n2,closed\n")
    for name in ("requests", "lights"):
        (root / "schemas" / f"{name}.schema.json").write_text(json.dumps(SCHEMA))
    return root


def test_all_valid_exits_0(cli, program: Path) -> None:
    res = cli(["--root", str(program), "validate"])
    assert res.exit_code == 0, res.stderr
    assert "service-requests: valid, 2 rows" in res.stdout
    assert "street-lights: valid" in res.stdout


def test_invalid_exits_1_with_table_and_counts(cli, program: Path) -> None:
    (program / "data" / "lights.csv").write_text("id,status\n1,open\n1,broken\nx,closed\n")
    res = cli(["--root", str(program), "validate", "street-lights"])
    assert res.exit_code == 1
    assert "street-lights: INVALID, 3 rows" in res.stdout
    assert "errors by code" in res.stdout and "constraint-error" in res.stdout and "type-error" in res.stdout


def test_json_equals_library_result(cli, program: Path) -> None:
    from kcdata.inventory import load_inventory
    from kcdata.validate import validate_datasets

    (program / "data" / "lights.csv").write_text("id,status\n1,open\n1,broken\n")
    res = cli(["--root", str(program), "validate", "--json", "--no-cache"])
    assert res.exit_code == 1
    env = res.json()
    assert env["command"] == "validate" and env["exit_code"] == 1
    run = validate_datasets(inventory=load_inventory(program).inventory, use_cache=False)
    expected = [to_jsonable(r) for r in run.datasets]
    got = env["data"]["datasets"]
    for g, e in zip(got, expected, strict=True):
        g.pop("seconds"), e.pop("seconds")
    assert got == expected
    lights = got[1]
    assert {"id", "path", "valid", "rows", "engine", "error_count", "errors"} <= lights.keys()
    assert lights["errors"][0] == {"code": "constraint-error", "row": 3, "field": "status",
                                   "message": lights["errors"][0]["message"]}


def test_adhoc_file_and_max_errors_limits_listing_not_counting(cli) -> None:
    data = FIXTURES / "many-errors-past-limit.csv"
    schema = FIXTURES / "many-errors-past-limit.schema.json"
    res = cli(["validate", str(data), "--schema", str(schema), "--max-errors", "5", "--json"])
    assert res.exit_code == 1
    report = res.json()["data"]["datasets"][0]
    assert report["error_count"] == 1100 and len(report["errors"]) == 5
    assert report["error_counts"] == {"type-error": 1100}
    res_all = cli(["validate", str(data), "--schema", str(schema), "--max-errors", "0", "--json"])
    assert len(res_all.json()["data"]["datasets"][0]["errors"]) == 1100


@pytest.mark.parametrize("make, needle", [
    (lambda d: None, "data file not found"),
    (lambda d: (d / "x.csv").write_bytes(b"\x00\x01\x02binary\x00" * 100), "binary"),
    (lambda d: (d / "x.csv").write_bytes(bytes(range(1, 256)) * 50), "binary"),
    (lambda d: (d / "x.csv").write_text("id;status\n1;open\n"), "wrong delimiter"),
])
def test_bad_input_exits_3_without_traceback(cli, tmp_path: Path, make, needle: str) -> None:
    make(tmp_path)
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    res = cli(["validate", str(tmp_path / "x.csv"), "--schema", str(schema)])
    assert res.exit_code == 3
    assert needle in res.stderr and "Traceback" not in res.stderr


def test_invalid_schema_and_unknown_type_exit_3(cli, tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    res = cli(["validate", str(data), "--schema", str(tmp_path / "nope.json")])
    assert res.exit_code == 3 and "schema file not found" in res.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert cli(["validate", str(data), "--schema", str(bad)]).exit_code == 3
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"fields": [{"name": "a", "type": "money"}]}))
    res = cli(["validate", str(data), "--schema", str(unknown), "--json"])
    assert res.exit_code == 3
    assert "unknown field type 'money'" in res.json()["errors"][0]["message"]


def test_single_line_file_exits_3_in_bounded_memory(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kcdata.validate import source

    monkeypatch.setattr(source, "HEADER_LIMIT", 1 << 20)  # the 64 MB limit, scaled down for the test
    data = tmp_path / "one-line.csv"
    data.write_bytes(b"a," * (1 << 20))
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    res = cli(["validate", str(data), "--schema", str(schema)])
    assert res.exit_code == 3 and "single-line" in res.stderr


def test_unknown_dataset_exits_3_with_suggestion(cli, program: Path) -> None:
    res = cli(["--root", str(program), "validate", "service-request"])
    assert res.exit_code == 3
    assert "did you mean" in res.stderr


def test_cache_reused_and_last_result(cli, program: Path) -> None:
    from kcdata.inventory import load_inventory
    from kcdata.validate import last_result

    inv = load_inventory(program).inventory
    ds = inv.get("street-lights")
    assert last_result(root=program, dataset=ds) is None
    first = cli(["--root", str(program), "validate", "street-lights", "--json"]).json()["data"]["datasets"][0]
    assert first["cached"] is False
    second = cli(["--root", str(program), "validate", "street-lights", "--json"]).json()["data"]["datasets"][0]
    assert second["cached"] is True and second["data_sha256"] == first["data_sha256"]
    cached = last_result(root=program, dataset=ds)
    assert cached is not None and cached.valid
    (program / "data" / "lights.csv").write_text("id,status\n1,open\n1,open\n")
    assert last_result(root=program, dataset=ds) is None  # data changed: the old result no longer applies
    third = cli(["--root", str(program), "validate", "street-lights", "--json"]).json()["data"]["datasets"][0]
    assert third["cached"] is False and third["valid"] is False


def test_frictionless_fallback_is_reported(cli, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "non-utf8-bytes.csv", tmp_path / "latin.csv")
    res = cli(["validate", str(tmp_path / "latin.csv"), "--schema", str(FIXTURES / "non-utf8-bytes.schema.json"),
               "--json"])
    report = res.json()["data"]["datasets"][0]
    assert report["engine"] == "frictionless" and "UTF-8" in report["engine_reason"]


def test_help_has_an_example(cli) -> None:
    res = cli(["validate", "--help"])
    assert res.exit_code == 0 and "kcdata validate" in res.stdout


@pytest.mark.parametrize("suffix", ["json", "xlsx"])
def test_json_and_excel_go_through_frictionless(tmp_path: Path, suffix: str) -> None:
    from kcdata.validate import validate_table
    from kcdata.validate.reference import validate_frictionless
    from kcdata.validate.schema import load_schema

    rows = [["id", "status"], [1, "open"], ["x", "broken"]]
    data = tmp_path / f"d.{suffix}"
    if suffix == "json":
        data.write_text(json.dumps(rows))
    else:
        import openpyxl

        wb = openpyxl.Workbook()
        for r in rows:
            wb.active.append(r)
        wb.save(data)
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    report = validate_table(data=data, schema=schema)
    assert report.engine == "frictionless" and "not a CSV" in (report.engine_reason or "")
    loaded = load_schema(schema)
    ref = validate_frictionless(data=data, schema=loaded, dialect=loaded.dialect, max_errors=0)
    assert report.rows == ref.rows == 2
    assert {(e.code, e.row, e.field) for e in report.errors} == {(e.code, e.row, e.field) for e in ref.errors}
    assert dict(report.error_counts) == ref.counts and {"type-error", "constraint-error"} <= ref.counts.keys()
