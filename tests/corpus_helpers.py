"""The validation corpus (tests/fixtures/validate/corpus/): materialise its cases and ask both answers."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kcdata.errors import InputError

CORPUS = Path(__file__).parent / "fixtures" / "validate" / "corpus"


@dataclass(frozen=True)
class Case:
    id: str
    data: Path | None  # a vendored file, or None: written from ``rows`` / ``text``
    schema: Path | None
    inline_schema: dict[str, Any] | None = None
    rows: list[list[str]] | None = None
    text: str | None = None  # raw file content (hand-made edge cases), bytes as latin-1 escapes
    suffix: str = ".csv"

    def materialise(self, tmp: Path) -> tuple[Path, Path]:
        if self.data is not None and self.schema is not None:
            return self.data, self.schema
        tmp.mkdir(parents=True, exist_ok=True)
        data = tmp / f"data{self.suffix}"
        if self.rows is not None:
            with data.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows(self.rows)
        else:
            data.write_bytes((self.text or "").encode("latin-1"))
        schema = self.schema or tmp / "schema.json"
        if self.inline_schema is not None:
            schema.write_text(json.dumps(self.inline_schema), encoding="utf-8")
        return data, schema


def cases() -> list[Case]:
    found: list[Case] = []
    for schema in sorted((CORPUS / "files").glob("*.schema.json")):
        stem = schema.name[: -len(".schema.json")]
        base = stem.split("--", 1)[0]  # X--variant.schema.json describes the data file X.<suffix>
        data = next((p for p in sorted(schema.parent.glob(f"{base}.*")) if not p.name.endswith(".schema.json")), None)
        if data is not None:
            found.append(Case(id=f"file:{stem}", data=data, schema=schema))
    for name in ("cells.json", "edges.json"):
        path = CORPUS / name
        if path.is_file():
            for item in json.loads(path.read_text(encoding="utf-8")):
                found.append(Case(id=f"{path.stem}:{item['id']}", data=None, schema=None,
                                  inline_schema=item["schema"], rows=item.get("rows"), text=item.get("text"),
                                  suffix=item.get("suffix", ".csv")))
    return found


Answer = tuple[Any, ...]


def answer(data: Path, schema: Path, *, engine: str, failures: list[str] | None = None) -> Answer:
    """What one engine says: ("exit3", code) for input it cannot validate, else the rows and error triples.

    ``failures`` collects the reason when ``auto`` fell back because the fast engine failed (a bug).
    """
    from kcdata.validate import validate_table

    try:
        report = validate_table(data=data, schema=schema, engine=engine, max_errors=0)
    except InputError as exc:
        return ("exit3", exc.code)
    if failures is not None and (report.engine_reason or "").startswith("the fast engine failed"):
        failures.append(str(report.engine_reason))
    return (report.rows, sorted((e.code, e.row or 0, e.field or "") for e in report.errors))


def oracle(data: Path, schema: Path) -> Answer:
    """frictionless's own answer with the pinned dialect (through kcdata's reference adapter)."""
    return answer(data, schema, engine="frictionless")


# Cases where kcdata deliberately answers differently from frictionless: frictionless validates bytes it has
# misread (UTF-16 without a byte-order mark read as another encoding; a compressed file named .csv read as
# text; a header evidently written with another delimiter), kcdata refuses them (exit 3) and names the fix.
# They count as disagreements in the figure.
REFUSED = {
    "edges:utf16-le-no-bom": "UTF-16",
    "edges:gzip-named-csv": "gzip",
    "edges:zip-named-csv": "zip",
    "edges:semicolon-undeclared": "delimiter",  # a header evidently ;-separated: exit 3 "wrong delimiter?"
    "edges:label-semicolon-in-one-column": "delimiter",
}


def agreement() -> tuple[int, list[tuple[str, Answer, Answer]]]:
    """Every case through both answers: (number of cases, the ones that differ)."""
    import tempfile

    differ = []
    all_cases = cases()
    with tempfile.TemporaryDirectory() as tmp:
        for n, case in enumerate(all_cases):
            data, schema = case.materialise(Path(tmp) / str(n))
            expected, got = oracle(data, schema), answer(data, schema, engine="auto")
            if expected != got:
                differ.append((case.id, expected, got))
    return len(all_cases), differ


if __name__ == "__main__":  # python tests/corpus_helpers.py: the agreement figure
    import logging
    import warnings

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    total, differ = agreement()
    for case_id, expected, got in differ:
        print(f"differs: {case_id}: frictionless {expected} / kcdata {got}")
    print(f"{total - len(differ)}/{total} cases agree ({100 * (total - len(differ)) / total:.2f}%)")
