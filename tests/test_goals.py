"""``kcdata goals``: coverage per KCStat goal, unknown goal ids, exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from transparency_helpers import GOALS, good_dataset, make_program

from kcdata.cli.cmd_goals import report_json
from kcdata.config import load_settings
from kcdata.errors import InputError
from kcdata.inventory import load_inventory
from kcdata.policy.goals import goals_report, load_goals
from kcdata.policy.inputs import load_scores
from kcdata.policy.model import ScoreInfo

SAFETY = good_dataset(id="crime-reports", title="Crime Reports", kcstat_goals=["public-safety"], portal_id="crim-1234")
SAFETY_DRAFT = good_dataset(id="use-of-force", title="Use of Force", kcstat_goals=["public-safety"],
                            status="approved", portal_id=None)
TYPO = good_dataset(id="street-lights", title="Street Lights", kcstat_goals=["infrastucture-accessibility"],
                    status="proposed", portal_id=None)


def _root(tmp_path: Path, datasets: list[dict[str, Any]]) -> Path:
    return make_program(tmp_path / "p", {"city": datasets})


def test_report_per_goal(tmp_path: Path) -> None:
    root = _root(tmp_path, [good_dataset(), SAFETY_DRAFT, TYPO])
    report = goals_report(inventory=load_inventory(root).inventory, goals=load_goals(load_settings(root)),
                          scores={"use-of-force": ScoreInfo(rank=2, score=71.5, band="P1")})
    by_id = {g.id: g for g in report.goals}
    infra, safety = by_id["infrastructure-accessibility"], by_id["public-safety"]
    assert (infra.linked, [d.id for d in infra.published], infra.unpublished) == (1, ["water-main-breaks"], ())
    assert safety.linked == 1 and not safety.has_published
    (draft,) = safety.unpublished
    assert (draft.id, draft.rank, draft.score, draft.band, draft.status) == ("use-of-force", 2, 71.5, "P1", "approved")
    assert report.without_published == ("public-safety",)
    (ref,) = report.unknown_refs
    assert (ref.dataset, ref.goal, ref.suggestion) == ("street-lights", "infrastucture-accessibility",
                                                      "infrastructure-accessibility")
    assert ref.file == "inventory/city.yaml" and ref.line
    assert report.has_findings and report.scored


def test_happy_path_exit_0(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, [good_dataset(), SAFETY])
    res = cli(["--root", str(root), "goals"])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "Public Safety" in res.stdout and "crime-reports" in res.stdout


def test_json_equals_library(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, [good_dataset(), SAFETY_DRAFT, TYPO])
    res = cli(["--root", str(root), "goals", "--json"])
    assert res.exit_code == 1
    env = res.json()
    inventory = load_inventory(root).inventory
    _method, scores = load_scores(root=root, inventory=inventory)
    expected = report_json(goals_report(inventory=inventory, goals=load_goals(load_settings(root)), scores=scores))
    assert env["data"]["scored"] is True
    assert env["data"] == expected
    assert env["data"]["without_published"] == ["public-safety"]
    assert {g["id"]: g["has_published"] for g in env["data"]["goals"]} == {
        "public-safety": False, "infrastructure-accessibility": True}
    assert env["data"]["unknown_refs"][0]["goal"] == "infrastucture-accessibility"


def test_goal_without_published_data_exit_1(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, [good_dataset(), SAFETY_DRAFT])
    res = cli(["--root", str(root), "goals"])
    assert res.exit_code == 1
    assert "Goals with no published data: public-safety" in res.stdout


def test_unknown_goal_alone_exit_1(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, [good_dataset(), SAFETY, TYPO])
    res = cli(["--root", str(root), "goals"])
    assert res.exit_code == 1
    assert "did you mean 'infrastructure-accessibility'" in res.stdout


@pytest.mark.parametrize("goals", [
    [{"name": "No id"}], [GOALS[0], GOALS[0]], [{"id": "x", "metrics": "one"}],
])
def test_bad_goals_exit_3(tmp_path: Path, cli: Any, goals: list[dict[str, Any]]) -> None:
    root = make_program(tmp_path / "p", {"city": [good_dataset()]}, goals=goals)
    with pytest.raises(InputError):
        load_goals(load_settings(root))
    assert cli(["--root", str(root), "goals", "--json"]).exit_code == 3


def test_repo_goals_are_the_kcstat_areas() -> None:
    from conftest import REPO

    names = {g.name for g in load_goals(load_settings(REPO))}
    assert {"Finance & Governance", "Public Safety", "Housing & Healthy Communities"} <= names


def test_lint_and_goals_agree_on_unknown_goal_ids(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, [good_dataset(), SAFETY, TYPO])
    lint = cli(["--root", str(root), "inventory", "lint", "--json"])
    assert lint.exit_code == 1
    assert "infrastucture-accessibility" in lint.stdout and "unknown-goal" in lint.stdout
    goals = cli(["--root", str(root), "goals", "--json"]).json()["data"]
    assert [(r["dataset"], r["goal"]) for r in goals["unknown_refs"]] == [("street-lights",
                                                                           "infrastucture-accessibility")]


def test_purpose_built_program_is_lint_clean(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, [good_dataset(), SAFETY])
    res = cli(["--root", str(root), "inventory", "lint"])
    assert res.exit_code == 0, res.stdout
