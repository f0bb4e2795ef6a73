"""``kcdata dictionary DATASET``: md / html / xlsx from the Table Schema and the inventory entry; the site page."""

from __future__ import annotations

import io

import pytest

from kcdata.cli.app import to_jsonable
from kcdata.dictionary import dictionary_for
from kcdata.dictionary.render import to_markdown
from tests.inventory_helpers import make_inventory


def run(cli, root, *args):
    return cli(["--root", str(root), *args])


@pytest.fixture
def program(tmp_path):
    root = make_inventory(tmp_path / "p")
    (root / "schemas" / "water-main-breaks.schema.json").write_text(
        '{"fields": [{"name": "break_id", "type": "integer", "description": "Work | order number",'
        ' "constraints": {"required": true, "unique": true}},'
        ' {"name": "address", "type": "string", "title": "Address",'
        ' "constraints": {"enum": ["1 Main St", "2 Oak St"]}}], "missingValues": ["", "NA"]}')
    (root / "data" / "samples" / "water-main-breaks.csv").write_text(
        "break_id,address\n1,1 Main St\n2,NA\n3,2 Oak St\n4,1 Main St\n")
    return root


def test_markdown_has_every_part(cli, program):
    r = run(cli, program, "dictionary", "water-main-breaks")
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert out.startswith("# Data dictionary: Water Main Breaks\n")
    assert "| Row identifier | break_id |" in out
    assert '| Missing values | "", "NA" (cells written so are empty) |' in out
    assert ("| break_id (row identifier) |  | integer | Work \\| order number | required; unique | 1; 2; 3 "
            "| 0 of 4 |") in out
    assert "| address | Address | string |  | one of: 1 Main St, 2 Oak St | 1 Main St; 2 Oak St | 1 of 4 |" in out
    assert "| Examples from | all 4 rows of the data |" in out


def test_json_equals_library(cli, program):
    r = run(cli, program, "dictionary", "water-main-breaks", "--json")
    assert r.exit_code == 0
    assert r.json()["data"]["dictionary"] == to_jsonable(dictionary_for(root=program, dataset_id="water-main-breaks"))


def test_html_and_xlsx_files(cli, program, tmp_path):
    out = tmp_path / "d.html"
    assert run(cli, program, "dictionary", "water-main-breaks", "--format", "html", "-o", str(out)).exit_code == 0
    page = out.read_text()
    assert page.startswith("<!doctype html>") and '<th scope="col">Constraints</th>' in page
    assert "Work | order number" in page
    book = tmp_path / "d.xlsx"
    assert run(cli, program, "dictionary", "water-main-breaks", "--format", "xlsx", "-o", str(book)).exit_code == 0
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(book.read_bytes()))
    rows = list(wb["fields"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Field", "Title", "Type") and rows[1][0] == "break_id (row identifier)"
    assert dict(r[:2] for r in wb["about"].iter_rows(values_only=True))["Row identifier"] == "break_id"


def test_examples_are_withheld_for_personal_data(cli, program):
    text = (program / "inventory" / "water.yaml").read_text().replace("contains_pii: false", "contains_pii: true", 1)
    (program / "inventory" / "water.yaml").write_text(text)
    d = dictionary_for(root=program, dataset_id="water-main-breaks")
    assert all(f.examples == () for f in d.fields)
    assert d.examples_note == "examples withheld: the dataset contains personal information"
    assert "1 Main St; 2 Oak St |" not in to_markdown(d)


def test_exit_codes(cli, program, tmp_path):
    assert run(cli, program, "dictionary", "no-such-dataset").exit_code == 3
    r = run(cli, program, "dictionary", "fire-incidents", "--json")  # no schema
    assert r.exit_code == 3 and r.json()["errors"][0]["code"] == "no-schema"
    assert run(cli, program, "dictionary", "water-main-breaks", "--format", "xlsx").exit_code == 2
    (program / "schemas" / "water-main-breaks.schema.json").write_text("{not json")
    assert run(cli, program, "dictionary", "water-main-breaks").exit_code == 3


def test_site_page_shows_the_dictionary(cli, program, tmp_path):
    out = tmp_path / "site"
    assert run(cli, program, "site", "build", "-o", str(out)).exit_code == 0
    page = (out / "datasets" / "water-main-breaks.html").read_text()
    assert '<h2 id="dictionary">Data dictionary</h2>' in page and "Work | order number" in page
    # a withheld dataset shows none
    assert "Data dictionary" not in (out / "datasets" / "water-customer-accounts.html").read_text()

