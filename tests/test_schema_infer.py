"""``kcdata schema infer``: the inferred schema validates the file it came from, and its constraints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REPO
from hypothesis import given
from hypothesis import strategies as st

from kcdata.validate.api import validate_table
from kcdata.validate.infer import infer_schema, to_yaml

SAMPLES = sorted((REPO / "data" / "samples").glob("*.csv"))
VALIDATE = sorted((FIXTURES / "validate").glob("*.csv"))
# Files whose structure is broken on purpose (blank or ragged rows, bad headers): no schema makes them
# valid, but the inferred one must add no type, constraint or key errors of its own.
STRUCTURAL = frozenset({"blank-row", "extra-cell", "missing-cell", "blank-label", "duplicate-label", "extra-label",
                        "missing-label"})
CLEAN = ["building-permits.csv", "bom.csv", "dates-times.csv", "geopoint-formats.csv", "boolean-values.csv",
         "constraints-all.csv", "non-utf8-bytes.csv", "number-chars.csv", "embedded-newlines.csv"]


def _check(path: Path) -> None:
    inferred = infer_schema(data=path)
    report = validate_table(data=path, schema=inferred.schema, engine="auto", max_errors=0)
    assert {e.code for e in report.errors} <= STRUCTURAL, (path.name, report.errors[:3])
    if path.name in CLEAN:
        assert report.valid, (path.name, report.errors[:3])


@pytest.mark.parametrize("path", [p for p in VALIDATE + SAMPLES if p.name in CLEAN], ids=lambda p: p.name)
def test_inferred_schema_validates_its_own_file(path):
    _check(path)


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in VALIDATE + SAMPLES if p.name not in ("empty-file.csv",)],
                         ids=lambda p: p.name)
def test_every_sample_and_fixture_passes_its_inferred_schema(path):
    _check(path)


def test_constraints_from_the_data(tmp_path):
    rows = ["id,code,kind,amount,opened,note"]
    for i in range(40):
        rows.append(f"{i + 1},KC-{1000 + i},{['pothole', 'sidewalk', 'curb'][i % 3]},{i * 2.5},"
                    f"2026-01-{i % 28 + 1:02d},{'' if i % 4 else 'x' + str(i)}")
    data = tmp_path / "t.csv"
    data.write_text("\n".join(rows) + "\n")
    inferred = infer_schema(data=data)
    fields = {f["name"]: f for f in inferred.schema["fields"]}
    assert fields["id"]["type"] == "integer"
    assert fields["id"]["constraints"] == {"required": True, "unique": True, "minimum": 1, "maximum": 40}
    assert inferred.schema["primaryKey"] == "id"
    assert fields["code"]["constraints"]["pattern"] == "[A-Z]{2}-[0-9]{4}"
    assert fields["kind"]["constraints"]["enum"] == ["curb", "pothole", "sidewalk"]
    assert fields["amount"]["constraints"]["minimum"] == 0 and fields["amount"]["constraints"]["maximum"] == 97.5
    assert fields["opened"]["constraints"]["minimum"] == "2026-01-01"
    assert "required" not in fields["note"].get("constraints", {})
    assert any("enum" in n for n in inferred.notes["kind"])
    text = to_yaml(inferred, source="t.csv")
    assert "# review: enum: 3 distinct values" in text
    assert yaml.safe_load(text) == inferred.schema  # the comments are comments


def test_a_late_value_widens_the_sampled_type(tmp_path):
    data = tmp_path / "late.csv"
    data.write_text("n,m\n" + "".join(f"{i},{i}\n" for i in range(1500)) + "1.5,abc\n")
    inferred = infer_schema(data=data)
    types = {f["name"]: f["type"] for f in inferred.schema["fields"]}
    assert types == {"n": "number", "m": "string"}
    assert validate_table(data=data, schema=inferred.schema).valid


def test_sample_bounds_the_rows_read(tmp_path):
    data = tmp_path / "big.csv"
    data.write_text("n\n" + "".join(f"{i}\n" for i in range(5000)))
    inferred = infer_schema(data=data, sample=100)
    assert inferred.rows == 100 and inferred.sampled
    assert any("--sample" in n for n in inferred.notes[""])


def test_cli_yaml_file_validates_with_kcdata_validate(cli, tmp_path):
    src = REPO / "data" / "samples" / "building-permits.csv"
    out = tmp_path / "permits.schema.yaml"
    r = cli(["schema", "infer", str(src), "-o", str(out)])
    assert r.exit_code == 0 and out.read_text().startswith("# Table Schema inferred")
    assert cli(["validate", str(src), "--schema", str(out)]).exit_code == 0


def test_cli_json_equals_library(cli, tmp_path):
    src = REPO / "data" / "samples" / "building-permits.csv"
    r = cli(["schema", "infer", str(src), "--json", "--sample", "200"])
    assert r.exit_code == 0
    data = r.json()["data"]
    lib = infer_schema(data=src, sample=200)
    assert data["schema"] == json.loads(json.dumps(lib.schema)) and data["rows"] == 200 and data["sampled"]
    out = tmp_path / "s.json"
    assert cli(["schema", "infer", str(src), "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == json.loads(json.dumps(infer_schema(data=src).schema))


@pytest.mark.parametrize(("content", "needle"), [
    (None, "data file not found"),
    (b"", "no header row"),
    (b"PK\x03\x04broken", "cannot read it as a table"),
])
def test_bad_input_exits_3(cli, tmp_path, content, needle):
    path = tmp_path / ("x.xlsx" if content and content.startswith(b"PK") else "x.csv")
    if content is not None:
        path.write_bytes(content)
    r = cli(["schema", "infer", str(path), "--json"])
    assert r.exit_code == 3, r.stdout + r.stderr
    assert needle in r.json()["errors"][0]["message"]


@given(st.lists(st.text(alphabet="AZaz09-_ ./()+", min_size=1, max_size=12), min_size=1, max_size=5))
def test_a_shape_pattern_matches_every_value_it_came_from(values):
    import re

    from kcdata.validate.infer import _shape

    for v in values:
        assert re.fullmatch(_shape(v), v)
