"""The corpus (tests/fixtures/validate/corpus/, see its README): kcdata against frictionless, case by case.

frictionless-py's own test data, every text value of its field-type test parametrisations, and hand-made
edge cases. Each expectation is frictionless's answer computed here (through kcdata's reference adapter,
the dialect pinned), never a stored one. No case may crash either engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Result, run_cli
from tests.corpus_helpers import CORPUS, REFUSED, Case, answer, cases, oracle

CASES = cases()


def test_corpus_is_large_and_mostly_agreed() -> None:
    ids = {c.id for c in CASES}
    assert len(CASES) >= 500
    assert set(REFUSED) <= ids
    assert len(REFUSED) / len(CASES) <= 0.01  # the >= 99% agreement target
    assert (CORPUS / "README.md").is_file()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_kcdata_answers_as_frictionless(case: Case, tmp_path: Path) -> None:
    data, schema = case.materialise(tmp_path)
    got = answer(data, schema, engine="auto", failures=(failures := []))
    assert not failures, f"the fast engine failed and frictionless answered instead: {failures}"
    if case.id in REFUSED:
        assert got == ("exit3", "bad-input")
        return
    assert got == oracle(data, schema)


EDGES = [c for c in CASES if c.id.startswith("edges:")]


@pytest.mark.parametrize("case", EDGES, ids=[c.id for c in EDGES])
def test_cli_never_crashes(case: Case, tmp_path: Path) -> None:
    data, schema = case.materialise(tmp_path)
    res: Result = run_cli(["validate", str(data), "--schema", str(schema), "--json"])
    assert res.exit_code in (0, 1, 3), res.stderr
    envelope = json.loads(res.stdout)
    assert envelope["exit_code"] == res.exit_code
    if res.exit_code == 3:
        assert envelope["errors"] and all(e["message"] and e["hint"] for e in envelope["errors"])


@pytest.mark.parametrize("case_id", sorted(REFUSED))
def test_refusals_name_the_fix(case_id: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == case_id)
    data, schema = case.materialise(tmp_path)
    res = run_cli(["validate", str(data), "--schema", str(schema), "--json"])
    error = res.json()["errors"][0]
    assert res.exit_code == 3 and REFUSED[case_id].lower() in error["message"].lower()
    assert any(word in error["hint"] for word in ("--encoding", "decompress", "--delimiter"))
