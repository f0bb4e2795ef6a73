"""One dataset's bad input (missing file, invalid schema, unreadable data) is reported in the run,
the other datasets are still validated, and the CLI exits 3 (the worst code wins: 3 over 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcdata.jsonable import to_jsonable
from tests.test_validate_cli import program  # noqa: F401  (the fixture: two datasets, both valid)

KEYS = {"id", "path", "valid", "rows", "engine", "error_count", "errors"}


def _run(cli, root: Path, *args: str):  # type: ignore[no-untyped-def]
    res = cli(["--root", str(root), "validate", "--json", *args])
    return res, res.json()


def _entry(env: dict, ds_id: str) -> dict:  # type: ignore[type-arg]
    return next(d for d in env["data"]["datasets"] if d["id"] == ds_id)


def test_missing_data_file_among_valid_ones(cli, program: Path) -> None:  # noqa: F811
    (program / "data" / "lights.csv").unlink()
    res, env = _run(cli, program)
    assert res.exit_code == 3 and env["exit_code"] == 3
    assert [d["id"] for d in env["data"]["datasets"]] == ["service-requests", "street-lights"]
    ok = _entry(env, "service-requests")
    assert ok["valid"] is True and ok["engine"] == "fast" and ok["bad_input"] is False
    bad = _entry(env, "street-lights")
    assert KEYS <= bad.keys()
    assert bad["valid"] is False and bad["bad_input"] is True and bad["engine"] is None and bad["rows"] == 0
    assert bad["path"] == "data/lights.csv" and bad["error_count"] == 1 and bad["error_counts"] == {"missing-file": 1}
    [problem] = bad["errors"]
    assert problem["code"] == "missing-file" and problem["row"] is None and problem["field"] is None
    assert "data file not found" in problem["message"] and problem["hint"]
    assert env["data"]["valid"] is False
    assert env["errors"] == [{"dataset": "street-lights", "code": "missing-file", "message": problem["message"],
                              "hint": problem["hint"]}]


@pytest.mark.parametrize("schema_text, needle", [
    (json.dumps({"fields": [{"name": "id", "type": "money"}]}), "unknown field type 'money'"),
    ("{not json", "not a readable schema"),
    (json.dumps({"fields": [{"name": "id", "type": "integer", "constraints": {"minimum": "x"}}]}),
     "constraints.minimum: 'x' is not a valid integer"),
])
def test_invalid_schema_among_valid_ones(cli, program: Path, schema_text: str, needle: str) -> None:  # noqa: F811
    (program / "schemas" / "requests.schema.json").write_text(schema_text)
    res, env = _run(cli, program)
    assert res.exit_code == 3
    bad = _entry(env, "service-requests")
    assert bad["bad_input"] is True and bad["engine"] is None
    assert bad["errors"][0]["code"] == "schema-error" and needle in bad["errors"][0]["message"]
    assert _entry(env, "street-lights")["valid"] is True  # still validated after the bad one


def test_missing_schema_file_is_missing_file(cli, program: Path) -> None:  # noqa: F811
    (program / "schemas" / "lights.schema.json").unlink()
    res, env = _run(cli, program)
    assert res.exit_code == 3
    problem = _entry(env, "street-lights")["errors"][0]
    assert problem["code"] == "missing-file" and "schema file not found" in problem["message"]


def test_unreadable_data_is_bad_input(cli, program: Path) -> None:  # noqa: F811
    (program / "data" / "lights.csv").write_bytes(b"\x00\x01binary\x00" * 100)
    res, env = _run(cli, program)
    assert res.exit_code == 3
    assert _entry(env, "street-lights")["errors"][0]["code"] == "bad-input"
    assert _entry(env, "service-requests")["valid"] is True


def test_explicit_dataset_without_files_is_bad_input(cli, program: Path) -> None:  # noqa: F811
    res, env = _run(cli, program, "no-files-yet", "street-lights")
    assert res.exit_code == 3
    assert _entry(env, "no-files-yet")["errors"][0]["code"] == "bad-input"
    assert _entry(env, "street-lights")["valid"] is True


def test_bad_input_wins_over_invalid_data(cli, program: Path) -> None:  # noqa: F811
    (program / "data" / "lights.csv").write_text("id,status\n1,open\n1,broken\n")
    assert cli(["--root", str(program), "validate"]).exit_code == 1
    (program / "data" / "requests.csv").unlink()
    res, env = _run(cli, program, "--no-cache")
    assert res.exit_code == 3 and env["exit_code"] == 3
    assert _entry(env, "street-lights")["error_counts"] == {"constraint-error": 1, "primary-key": 1,
                                                            "unique-error": 1}


def test_human_output_reports_and_continues(cli, program: Path) -> None:  # noqa: F811
    (program / "data" / "requests.csv").unlink()
    res = cli(["--root", str(program), "validate"])
    assert res.exit_code == 3 and "Traceback" not in res.stderr
    assert "service-requests: NOT VALIDATED (missing-file)" in res.stdout
    assert "street-lights: valid, 2 rows" in res.stdout
    assert "data file not found" in res.stderr and "data:" in res.stderr  # message and hint


def test_json_equals_library_result_and_nothing_cached(cli, program: Path) -> None:  # noqa: F811
    from kcdata.inventory import load_inventory
    from kcdata.validate import InputProblem, last_result, validate_datasets

    (program / "schemas" / "lights.schema.json").write_text("{}")
    res, env = _run(cli, program, "--no-cache")
    assert res.exit_code == 3
    inv = load_inventory(program).inventory
    run = validate_datasets(inventory=inv, use_cache=False)
    assert run.bad_input and not run.valid
    expected = [to_jsonable(r) for r in run.datasets]
    got = env["data"]["datasets"]
    for g, e in zip(got, expected, strict=True):
        g.pop("seconds"), e.pop("seconds")
    assert got == expected
    bad = run.datasets[1]
    assert isinstance(bad.errors[0], InputProblem) and bad.errors[0].code == "schema-error"
    assert last_result(root=program, dataset=inv.get("street-lights")) is None  # bad input is never cached
    assert last_result(root=program, dataset=inv.get("service-requests")) is not None


def test_adhoc_file_keeps_exit_3(cli, program: Path) -> None:  # noqa: F811
    res = cli(["validate", str(program / "data" / "nope.csv"), "--schema",
               str(program / "schemas" / "lights.schema.json"), "--json"])
    assert res.exit_code == 3
    assert res.json()["errors"][0]["code"] == "missing-file" and "data file not found" in res.stderr + res.stdout


def test_inventory_run_hashes_each_file_once(program: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import hashlib

    from kcdata.inventory import load_inventory
    from kcdata.validate import fast, validate_datasets

    flags: list[bool] = []
    real = fast.HashingFile

    def spy(path: Path, *, hashing: bool = True) -> object:
        flags.append(hashing)
        return real(path, hashing=hashing)

    monkeypatch.setattr(fast, "HashingFile", spy)
    (program / "data" / "lights.csv").write_text("id,status\n1,open\n")  # not the cached twin of requests.csv
    run = validate_datasets(inventory=load_inventory(program).inventory)
    assert flags == [False, False]  # the cache key's hash is reused, not computed again while reading
    for report in run.datasets:
        assert report.data_sha256 == hashlib.sha256((program / report.path).read_bytes()).hexdigest()
    flags.clear()
    validate_datasets(inventory=load_inventory(program).inventory, use_cache=False)
    assert flags == [True, True]
