"""Byte-preserving edits of department files (kcdata.inventory.writer)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcdata.errors import InputError, NotFoundError
from kcdata.inventory.writer import DuplicateIdError, append_dataset, update_dataset
from kcdata.inventory.yamlpos import load_located
from tests.conftest import subprocess_env

WATER = """\
# KC Water inventory: kept by the Water liaison.
department:
  id: water   # equals the file name
  name: "KC Water"

datasets:
  - id: water-main-breaks        # stable city-wide id
    title: 'Water Main Breaks'
    description: >
      Every reported break in a city water main since 2015.

    contact: {name: KC Water, email: water-data@example.org}
    access_level: public
    status: approved
    portal_id:
    history: []   # appended by kcdata

  # a commented-out idea
"""

NEW = {"id": "water-quality", "title": "Water Quality Tests", "description": "Lab results: lead, copper",
       "keywords": ["water", "lab, tests"], "contact": {"name": "Lab", "email": "lab@example.org"},
       "access_level": "public", "status": "inventoried", "target_release": dt.date(2026, 12, 15)}


def make_root(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "inventory").mkdir()
    for name, text in files.items():
        (tmp_path / "inventory" / name).write_bytes(text.encode("utf-8"))
    return tmp_path


def split_insert(old: bytes, new: bytes) -> tuple[int, int]:
    """(prefix, suffix) lengths common to old and new."""
    p = 0
    while p < min(len(old), len(new)) and old[p] == new[p]:
        p += 1
    s = 0
    while s < min(len(old), len(new)) - p and old[-1 - s] == new[-1 - s]:
        s += 1
    return p, s


def test_append_preserves_every_existing_byte(tmp_path):
    root = make_root(tmp_path, {"water.yaml": WATER})
    old = (root / "inventory/water.yaml").read_bytes()
    path = append_dataset(root=root, department_id="water", entry=NEW)
    new = path.read_bytes()
    p, s = split_insert(old, new)
    assert p + s == len(old)  # the new bytes are one inserted block
    data = yaml.safe_load(new)
    assert [d["id"] for d in data["datasets"]] == ["water-main-breaks", "water-quality"]
    assert data["datasets"][1]["keywords"] == ["water", "lab, tests"]
    assert data["datasets"][1]["target_release"] == dt.date(2026, 12, 15)
    assert b"  - id: water-quality\n    title: Water Quality Tests\n" in new


def test_append_creates_missing_file_with_header(tmp_path):
    root = make_root(tmp_path, {})
    path = append_dataset(root=root, department_id="fire", entry=NEW,
                          department={"id": "fire", "name": "KC Fire"})
    assert path == root / "inventory/fire.yaml"
    data = yaml.safe_load(path.read_text())
    assert data["department"] == {"id": "fire", "name": "KC Fire"}
    assert data["datasets"][0]["id"] == "water-quality"


@pytest.mark.parametrize("datasets", ["datasets: []\n", "datasets:\n", ""])
def test_append_to_empty_or_absent_list(tmp_path, datasets):
    text = "department: {id: parks, name: Parks}  # header\n" + datasets
    root = make_root(tmp_path, {"parks.yaml": text})
    path = append_dataset(root=root, department_id="parks", entry=NEW)
    out = path.read_text()
    assert out.startswith("department: {id: parks, name: Parks}  # header\n")
    assert yaml.safe_load(out)["datasets"][0]["id"] == "water-quality"


def test_append_keeps_zero_indented_style_and_crlf(tmp_path):
    text = "department:\r\n  id: water\r\n  name: W\r\ndatasets:\r\n- id: a\r\n  title: A\r\n"
    root = make_root(tmp_path, {"water.yaml": text})
    out = append_dataset(root=root, department_id="water", entry={"id": "b", "title": "B"}).read_bytes()
    assert out == (text + "- id: b\r\n  title: B").encode() or out.startswith(text.encode())
    assert b"\r\n- id: b\r\n  title: B" in out
    assert [d["id"] for d in yaml.safe_load(out)["datasets"]] == ["a", "b"]


def test_duplicate_id_across_files_is_refused_and_nothing_written(tmp_path):
    root = make_root(tmp_path, {"water.yaml": WATER, "fire.yaml": "department: {id: fire, name: F}\ndatasets: []\n"})
    before = (root / "inventory/fire.yaml").read_bytes()
    with pytest.raises(DuplicateIdError, match=r"inventory/water.yaml datasets\[0\]"):
        append_dataset(root=root, department_id="fire", entry={**NEW, "id": "water-main-breaks"})
    assert (root / "inventory/fire.yaml").read_bytes() == before


def test_update_sets_scalars_mapping_and_history(tmp_path):
    root = make_root(tmp_path, {"water.yaml": WATER})
    old = (root / "inventory/water.yaml").read_text()
    update_dataset(root=root, dataset_id="water-main-breaks",
                   set_fields={"status": "published", "portal_id": "abcd-1234",
                               "priority_override": {"band": "P1", "by": "Committee", "when": "2026-11-02",
                                                     "why": "Council request"}},
                   append_history={"who": "Data Officer", "when": "2026-11-27T10:00:00Z", "from": "approved",
                                   "to": "published", "note": "first release"})
    new = (root / "inventory/water.yaml").read_text()
    entry = yaml.safe_load(new)["datasets"][0]
    assert entry["status"] == "published" and entry["portal_id"] == "abcd-1234"
    assert entry["priority_override"]["band"] == "P1"
    assert entry["history"] == [{"who": "Data Officer", "when": "2026-11-27T10:00:00Z", "from": "approved",
                                 "to": "published", "note": "first release"}]
    # untouched lines survive byte for byte, including comments and quoting
    for line in ("# KC Water inventory: kept by the Water liaison.", "  id: water   # equals the file name",
                 '  name: "KC Water"', "    title: 'Water Main Breaks'", "  # a commented-out idea",
                 "    history:   # appended by kcdata"):
        assert line in new
    assert new.count("\n") > old.count("\n")


def test_update_history_appends_to_block_and_flow_lists(tmp_path):
    text = ("department: {id: d, name: D}\ndatasets:\n  - id: a\n    status: proposed\n    history:\n"
            "      - {who: x, when: '2026-01-01T00:00:00Z', from: null, to: proposed, note: null}\n"
            "  - id: b\n    history: [{who: x, when: '2026-01-01T00:00:00Z', from: null, to: proposed}]\n"
            "    status: proposed\n")
    root = make_root(tmp_path, {"d.yaml": text})
    rec = {"who": "y", "from": "proposed", "to": "in_review"}
    update_dataset(root=root, dataset_id="a", set_fields={"status": "in_review"}, append_history=rec)
    update_dataset(root=root, dataset_id="b", set_fields={"status": "in_review"}, append_history=rec)
    data = yaml.safe_load((root / "inventory/d.yaml").read_text())
    for entry in data["datasets"]:
        assert [h["to"] for h in entry["history"]] == ["proposed", "in_review"]
        assert entry["status"] == "in_review"
        when = entry["history"][1]["when"]
        assert isinstance(when, str) and when.endswith("Z")
        dt.datetime.fromisoformat(when.replace("Z", "+00:00"))


def test_update_replaces_block_mapping_value(tmp_path):
    text = ("department: {id: d, name: D}\ndatasets:\n  - id: a\n    priority_override:\n      band: P3\n"
            "      by: x\n    # keep me\n    status: proposed\n")
    root = make_root(tmp_path, {"d.yaml": text})
    update_dataset(root=root, dataset_id="a", set_fields={"priority_override": {"band": "P1", "by": "y"}})
    new = (root / "inventory/d.yaml").read_text()
    assert "    # keep me\n    status: proposed\n" in new
    assert yaml.safe_load(new)["datasets"][0]["priority_override"] == {"band": "P1", "by": "y"}


def test_update_unknown_id(tmp_path):
    root = make_root(tmp_path, {"water.yaml": WATER})
    with pytest.raises(NotFoundError):
        update_dataset(root=root, dataset_id="nope", set_fields={"status": "proposed"})


def test_refuses_flow_style_entry(tmp_path):
    text = "department: {id: d, name: D}\ndatasets:\n  - {id: a, status: proposed}\n"
    root = make_root(tmp_path, {"d.yaml": text})
    with pytest.raises(InputError, match="block mapping"):
        update_dataset(root=root, dataset_id="a", set_fields={"status": "in_review"})
    assert (root / "inventory/d.yaml").read_text() == text


CHILD = """
import sys
from pathlib import Path
from kcdata.inventory.writer import append_dataset
root, tag = Path(sys.argv[1]), sys.argv[2]
for i in range(12):
    append_dataset(root=root, department_id="water",
                   entry={"id": f"{tag}-{i}", "title": f"T {i}", "description": "d",
                          "contact": {"name": "c"}, "access_level": "public", "status": "inventoried"})
"""


def test_two_concurrent_processes_lose_nothing(tmp_path):
    root = make_root(tmp_path, {"water.yaml": WATER})
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(root), tag], env=subprocess_env())
             for tag in ("p1", "p2")]
    for p in procs:
        assert p.wait(timeout=60) == 0
    ids = [d["id"] for d in yaml.safe_load((root / "inventory/water.yaml").read_text())["datasets"]]
    assert sorted(ids) == sorted(["water-main-breaks", *(f"{t}-{i}" for t in ("p1", "p2") for i in range(12))])
    out = (root / "inventory/water.yaml").read_text()
    head, _tail = WATER.split("\n\n  # a commented-out idea")
    assert out.startswith(head) and out.endswith("\n\n  # a commented-out idea\n")


# -- property: bytes outside the edited region are identical ------------------------------------

word = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}( [A-Za-z0-9]{1,6}){0,2}", fullmatch=True)


@st.composite
def department_files(draw):
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    dash = draw(st.sampled_from([0, 2]))
    lines = []
    if draw(st.booleans()):
        lines.append("# " + draw(word))
    lines += ["department:", "  id: dept", "  name: " + draw(word)]
    lines += [""] * draw(st.integers(0, 2))
    lines.append("datasets:" + draw(st.sampled_from(["", "  # the datasets"])))
    n = draw(st.integers(1, 4))
    for i in range(n):
        keys = draw(st.lists(st.sampled_from(["title", "description", "theme", "status", "portal_id", "source"]),
                             unique=True, max_size=5))
        lines.append(" " * dash + f"- id: ds-{i}" + draw(st.sampled_from(["", "   # id"])))
        for k in keys:
            quote = draw(st.sampled_from(["", "'", '"']))
            comment = draw(st.sampled_from(["", "  # note"]))
            lines.append(" " * (dash + 2) + f"{k}: {quote}{draw(word)}{quote}{comment}")
            if draw(st.integers(0, 5)) == 0:
                lines.append("")
        if draw(st.booleans()):
            lines.append(" " * draw(st.sampled_from([0, dash, dash + 2])) + "# " + draw(word))
    end = draw(st.sampled_from([nl, "", nl + nl]))
    return nl.join(lines) + end, n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=department_files(), title=word)
def test_property_append_only_inserts(tmp_path_factory, case, title):
    text, n = case
    root = make_root(tmp_path_factory.mktemp("p"), {"dept.yaml": text})
    old = text.encode()
    new = append_dataset(root=root, department_id="dept",
                         entry={"id": "new-one", "title": title, "status": "inventoried"}).read_bytes()
    p, s = split_insert(old, new)
    assert p + s >= len(old)
    data = load_located(new, path="x").value
    assert [d["id"] for d in data["datasets"]] == [*(f"ds-{i}" for i in range(n)), "new-one"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=department_files(), value=word, key=st.sampled_from(["status", "theme", "last_reviewed"]),
       data=st.data())
def test_property_update_changes_only_that_value(tmp_path_factory, case, value, key, data):
    text, n = case
    index = data.draw(st.integers(0, n - 1))
    root = make_root(tmp_path_factory.mktemp("p"), {"dept.yaml": text})
    old = text.encode()
    doc = load_located(old, path="x")
    keypath = f"datasets[{index}].{key}"
    new = update_dataset(root=root, dataset_id=f"ds-{index}", set_fields={key: value}).read_bytes()
    p, s = split_insert(old, new)
    if new == old:  # the value was already this
        pass
    elif keypath in doc.value_pos:  # replaced in place: the change lies within the old value's bytes
        pos = doc.value_pos[keypath]
        start = len(text[: pos.start].encode())
        end = len(text[: pos.end].encode())
        assert p >= start and len(old) - s <= end
    else:  # added: a pure insertion
        assert p + s >= len(old)
    got = load_located(new, path="x").value["datasets"][index][key]
    assert got == yaml.safe_load(yaml.safe_dump(value))


def test_update_date_text_is_written_as_a_yaml_date(tmp_path):
    root = make_root(tmp_path, {"water.yaml": WATER})
    update_dataset(root=root, dataset_id="water-main-breaks", set_fields={"last_reviewed": "2026-11-27"})
    text = (root / "inventory/water.yaml").read_text()
    assert "    last_reviewed: 2026-11-27\n" in text
    assert yaml.safe_load(text)["datasets"][0]["last_reviewed"] == dt.date(2026, 11, 27)


def test_update_refuses_id_and_history_keys(tmp_path):
    root = make_root(tmp_path, {"water.yaml": WATER})
    with pytest.raises(InputError):
        update_dataset(root=root, dataset_id="water-main-breaks", set_fields={"id": "other"})
    with pytest.raises(InputError, match="unknown history key"):
        update_dataset(root=root, dataset_id="water-main-breaks", append_history={"by": "x", "to": "published"})
    assert (root / "inventory/water.yaml").read_text() == WATER


def test_verification_refuses_a_change_that_reads_back_differently(tmp_path):
    # a `|+` block scalar keeps its trailing blank lines, so text spliced after it would change the value:
    # the writer must notice on re-parse and write nothing
    text = "department: {id: d, name: D}\ndatasets:\n  - id: a\n    description: |+\n      keep\n\n\n"
    root = make_root(tmp_path, {"d.yaml": text})
    with pytest.raises(InputError, match="nothing written"):
        update_dataset(root=root, dataset_id="a", set_fields={"status": "proposed"})
    assert (root / "inventory/d.yaml").read_text() == text


@pytest.mark.parametrize("text", ["", "# Parks: datasets to come\n"])
def test_append_to_empty_file_adds_the_department_header(tmp_path, text):
    root = make_root(tmp_path, {"parks.yaml": text})
    out = append_dataset(root=root, department_id="parks", entry={"id": "a", "title": "A"},
                         department={"id": "parks", "name": "Parks"}).read_text()
    assert out.startswith(text)
    data = yaml.safe_load(out)
    assert data["department"] == {"id": "parks", "name": "Parks"} and data["datasets"] == [{"id": "a", "title": "A"}]
