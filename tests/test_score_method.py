from __future__ import annotations

from pathlib import Path

import pytest

from kcdata.errors import InputError
from kcdata.score import CRITERIA, DEFAULT_METHOD, load_method

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
program:
  city: Test
scoring:
  version: "t-1"
  weights:
    value: 30
    demand: 20
    alignment: 15
    readiness: 15
    quality: 10
    effort: 10
  bands: {P1: 70, P2: 40}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "kcdata.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_no_settings_file_means_defaults(tmp_path):
    assert load_method(root=tmp_path) == DEFAULT_METHOD


def test_repo_method_matches_code_defaults_except_version():
    m = load_method(root=REPO)
    assert m.source == "kcdata.yaml"
    assert dict(m.weights) == dict(DEFAULT_METHOD.weights)
    assert dict(m.bands) == dict(DEFAULT_METHOD.bands)
    assert {k: dict(v) for k, v in m.params.items()} == {k: dict(v) for k, v in DEFAULT_METHOD.params.items()}
    assert m.version != DEFAULT_METHOD.version
    assert "public-safety" in m.goals


def test_good_method_loads(tmp_path):
    m = load_method(root=write(tmp_path, GOOD))
    assert m.version == "t-1" and m.bands == {"P1": 70, "P2": 40}
    assert set(m.weights) == set(CRITERIA)


def _error(tmp_path: Path, text: str) -> InputError:
    with pytest.raises(InputError) as info:
        load_method(root=write(tmp_path, text))
    return info.value


def test_negative_weight_names_file_line_col_keypath(tmp_path):
    err = _error(tmp_path, GOOD.replace("demand: 20", "demand: -5"))
    assert err.message.startswith("kcdata.yaml:7:13 scoring.weights.demand:")
    assert "≥ 0" in err.message and err.exit_code == 3


def test_missing_weight(tmp_path):
    err = _error(tmp_path, GOOD.replace("    quality: 10\n", ""))
    assert "scoring.weights.quality" in err.message and "missing weight" in err.message
    assert err.message.startswith("kcdata.yaml:6:")  # points at the weights mapping


def test_non_numeric_weight(tmp_path):
    err = _error(tmp_path, GOOD.replace("value: 30", "value: lots"))
    assert "scoring.weights.value" in err.message and "'lots'" in err.message


def test_unknown_criterion_suggests(tmp_path):
    err = _error(tmp_path, GOOD.replace("demand: 20", "demand: 20\n    demnd: 3"))
    assert "scoring.weights.demnd" in err.message and "unknown criterion" in err.message
    assert err.hint and "did you mean 'demand'" in err.hint


def test_all_zero_weights(tmp_path):
    text = GOOD
    for c, w in (("value", 30), ("demand", 20), ("alignment", 15), ("readiness", 15), ("quality", 10),
                 ("effort", 10)):
        text = text.replace(f"{c}: {w}", f"{c}: 0")
    assert "all weights are 0" in _error(tmp_path, text).message


@pytest.mark.parametrize("bands, needle", [
    ("{P1: 40, P2: 70}", "scoring.bands.P1"),
    ("{P1: 170, P2: 40}", "scoring.bands.P1"),
    ("{P1: 70}", "scoring.bands.P2"),
    ("{P1: 70, P2: 40, P4: 1}", "scoring.bands.P4"),
])
def test_bad_thresholds(tmp_path, bands, needle):
    err = _error(tmp_path, GOOD.replace("{P1: 70, P2: 40}", bands))
    assert needle in err.message


def test_missing_version(tmp_path):
    err = _error(tmp_path, GOOD.replace('  version: "t-1"\n', ""))
    assert "scoring.version" in err.message


def test_unknown_parameter_and_section(tmp_path):
    err = _error(tmp_path, GOOD + "  demand: {request_for_full_points: 5}\n")
    assert "scoring.demand.request_for_full_points" in err.message
    assert "requests_for_full_points" in (err.hint or "")
    err = _error(tmp_path, GOOD + "  wieghts: {}\n")
    assert "scoring.wieghts" in err.message


def test_invalid_method_is_exit_3_in_cli(cli, tmp_path):
    from review_program import entry, make_program

    root = make_program(tmp_path / "p", {"water": [entry("a")]})
    (root / "kcdata.yaml").write_text(GOOD.replace("demand: 20", "demand: -5"), encoding="utf-8")
    r = cli(["--root", str(root), "score", "--json"])
    assert r.exit_code == 3
    err = r.json()["errors"][0]
    assert err["code"] == "invalid-scoring-method" and err["keypath"] == "scoring.weights.demand"
    assert (err["line"], err["column"]) == (7, 13)
    r = cli(["--root", str(root), "score"])
    assert r.exit_code == 3 and "kcdata.yaml:7:13 scoring.weights.demand" in r.stderr
