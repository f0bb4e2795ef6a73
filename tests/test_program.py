"""The shared core: ``Program`` (read once), ``Settings`` (kcdata.yaml:line:col, did-you-mean), the one
Table Schema reader, the one problem shape and the row delta the manifest decides on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transparency_helpers import good_dataset, make_program

from kcdata.errors import InputError
from kcdata.export.datajson import CatalogProblem
from kcdata.inventory.load import Problem as InventoryProblem
from kcdata.jsonable import to_jsonable
from kcdata.policy.model import Finding
from kcdata.policy.settings import load_policy_settings
from kcdata.problems import Problem, Severity
from kcdata.program import Program
from kcdata.publish.rows import manifest
from kcdata.publish.rows.rowset import RowDelta, RowHashes
from kcdata.publish.settings import publish_settings
from kcdata.settings import Settings
from kcdata.tableschema import read_table_schema
from kcdata.validate.model import InputProblem, ValidationError


def _settings(tmp_path: Path, text: str) -> Settings:
    (tmp_path / "kcdata.yaml").write_text(text, encoding="utf-8")
    return Settings.load(tmp_path)


def test_program_reads_each_part_once(tmp_path: Path) -> None:
    root = make_program(tmp_path / "p")
    program = Program(root)
    assert program.settings is program.settings
    assert program.inventory is program.inventory
    ds = program.dataset("water-main-breaks")
    schema = program.schema(ds)
    assert schema is program.schema(ds)
    assert schema.field_names[0] == "break_id" and schema.source == "schemas/water-main-breaks.schema.json"
    assert program.validation(ds) is None  # never validated: nothing cached, nothing run
    report = program.validate(ds)
    assert report is not None and report.id == ds.id
    again = Program(root).validation(ds)  # the cache, read by a new program
    assert again is not None and again.cached and (again.valid, again.rows) == (report.valid, report.rows)


def test_program_schema_errors_are_the_same_every_time(tmp_path: Path) -> None:
    root = make_program(tmp_path / "p", {"water": [good_dataset(schema="schemas/missing.schema.json")]})
    program = Program(root)
    ds = program.dataset("water-main-breaks")
    with pytest.raises(InputError) as first:
        program.schema(ds)
    with pytest.raises(InputError) as second:
        program.schema(ds)
    assert first.value is second.value and first.value.code == "missing-file"
    assert first.value.message == "schemas/missing.schema.json: schema file not found"


@pytest.mark.parametrize(("text", "code"), [
    ("{not json", "schema-error"), ("[1, 2]", "schema-error"), ('{"fields": 3}', "schema-error"),
])
def test_one_schema_reader_fails_one_way(tmp_path: Path, text: str, code: str) -> None:
    path = tmp_path / "x.schema.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_table_schema(path, source="schemas/x.schema.json")
    assert err.value.code == code and err.value.message.startswith("schemas/x.schema.json: ")


def test_settings_errors_name_line_col_and_suggest(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "program:\n  city: KC\npublish:\n  chunk_sise: 5\n  timeout: -1\n")
    with pytest.raises(InputError) as err:
        publish_settings(settings)
    assert err.value.message == "kcdata.yaml:4:3 publish.chunk_sise: unknown setting 'chunk_sise'"
    assert err.value.hint is not None and "did you mean 'chunk_size'?" in err.value.hint
    assert err.value.details == {"file": "kcdata.yaml", "line": 4, "column": 3, "keypath": "publish.chunk_sise"}
    settings = _settings(tmp_path, "policy:\n  min_goal_share: 2\n")
    with pytest.raises(InputError) as err:
        load_policy_settings(settings)
    assert err.value.message.startswith("kcdata.yaml:2:19 policy.min_goal_share: expected a number between")


def test_settings_without_a_file_have_no_positions() -> None:
    with pytest.raises(InputError) as err:
        publish_settings({"publish": {"timeout": "soon"}})
    assert err.value.message.startswith("kcdata.yaml publish.timeout: ")


def test_unknown_sections_get_a_did_you_mean(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "polcy:\n  citation: x\nsite: {}\n")
    (err,) = settings.unknown_sections()
    assert err.message == "kcdata.yaml:1:1 polcy: unknown section 'polcy'"
    assert err.hint is not None and err.hint.startswith("did you mean 'policy'?")


def test_every_data_problem_is_a_problem() -> None:
    problems: list[Problem] = [
        InventoryProblem(file="inventory/water.yaml", line=3, col=5, keypath="datasets[0].license",
                         code="bad-license", message="not open"),
        ValidationError(code="type-error", row=3, field="cost", message="not a number"),
        Finding(code="SUN-11", rule="SUN-11", severity=Severity.WARNING, subject="x", kind="dataset",
                message="no license", file="inventory/water.yaml", line=3),
        CatalogProblem(path="$.dataset[0]", dataset="x", message="missing title"),
    ]
    for p in problems:
        assert isinstance(p, Problem) and p.code and str(p).endswith(p.message)
        assert to_jsonable(p) == p.to_dict()
        json.dumps(p.to_dict())
    assert problems[0].location() == "inventory/water.yaml:3:5 datasets[0].license"
    assert problems[3].to_dict()["code"] == "invalid-catalog"
    # the documented validation error shape is kept exactly
    assert problems[1].to_dict() == {"code": "type-error", "row": 3, "field": "cost", "message": "not a number"}
    hint = InputProblem(code="missing-file", row=None, field=None, message="gone", hint="check the path")
    assert hint.to_dict()["hint"] == "check the path"


def test_the_manifest_decides_delta_or_full() -> None:
    rows = RowHashes.from_mapping({"1": 1, "2": 2, "3": 3})
    every = RowDelta(upsert_keys=None, refresh_manifest=True)
    some = RowDelta(upsert_keys=frozenset({"2"}), delete_keys=("4",), from_manifest=True, refresh_manifest=True)
    read_back = RowDelta(upsert_keys=frozenset({"2"}), from_manifest=False, refresh_manifest=True)
    assert not manifest.extends(every) and manifest.extends(some) and not manifest.extends(read_back)
    assert every.changed_rows(rows) is rows and every.upserts(len(rows)) == 3
    assert some.changed_rows(rows).as_dict() == {"2": 2} and some.upserts(len(rows)) == 1
