"""The scoring method: criteria, weights, per-criterion parameters and band thresholds.

The governance committee owns the method. It lives in ``kcdata.yaml`` under ``scoring:`` so the
committee edits weights without touching code; :data:`DEFAULT_METHOD` spells out the same
defaults for programs without that section. Every mistake in the section is an
:class:`~kcdata.errors.InputError` (exit 3) naming ``kcdata.yaml:line:col scoring.<keypath>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from kcdata.errors import InputError
from kcdata.settings import SETTINGS_FILE, Settings

# The order is the order of every table and explanation.
CRITERIA = ("value", "demand", "alignment", "readiness", "quality", "effort")
BANDS = ("P1", "P2", "P3")

DEFAULT_WEIGHTS: dict[str, float] = {
    "value": 30, "demand": 20, "alignment": 15, "readiness": 15, "quality": 10, "effort": 10,
}
# Per-criterion parameters: every key and its default. Unknown keys are refused (typos would
# otherwise silently fall back to a default the committee did not choose).
DEFAULT_PARAMS: dict[str, dict[str, float]] = {
    "value": {"high": 100, "medium": 60, "low": 25, "unset": 0},
    "demand": {"requests_for_full_points": 20, "views_for_full_points": 5000, "downloads_for_full_points": 500},
    "alignment": {"points_per_goal": 60},
    "readiness": {"data_file": 25, "schema": 25, "validation_passing": 30, "update_schedule": 20},
    "quality": {"not_validated": 50, "error_rate_for_zero_points": 0.05},
    "effort": {"sensitive": 30, "contains_pii": 30, "missing_release_field": 10},
}
DEFAULT_BANDS: dict[str, float] = {"P1": 70, "P2": 45}
DEFAULT_VERSION = "kcdata-default-1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Method:
    """A complete, validated scoring method."""

    version: str
    weights: Mapping[str, float]
    params: Mapping[str, Mapping[str, float]]
    bands: Mapping[str, float]  # P1 and P2 lower bounds; below P2 is P3
    source: str = "defaults"  # where it came from: "defaults" or "kcdata.yaml"
    goals: tuple[str, ...] = field(default=())  # known KCStat goal ids (empty: accept any)
    # Exact (Fraction) copies, converted once: scoring thousands of datasets reuses them.
    _weights: dict[str, Fraction] = field(init=False, repr=False, compare=False)
    _params: dict[str, dict[str, Fraction]] = field(init=False, repr=False, compare=False)
    _total: Fraction = field(init=False, repr=False, compare=False)
    _bands: tuple[Fraction, Fraction] = field(init=False, repr=False, compare=False)
    _memo: dict[Any, Any] = field(init=False, repr=False, compare=False)  # engine's per-method cache

    def __post_init__(self) -> None:
        weights = {c: Fraction(w) for c, w in self.weights.items()}
        object.__setattr__(self, "_weights", weights)
        object.__setattr__(self, "_params", {c: {k: Fraction(v) for k, v in p.items()} for c, p in self.params.items()})
        object.__setattr__(self, "_total", sum(weights.values(), Fraction(0)))
        object.__setattr__(self, "_bands", (Fraction(self.bands["P1"]), Fraction(self.bands["P2"])))
        object.__setattr__(self, "_memo", {})

    def weight(self, criterion: str) -> Fraction:
        return self._weights[criterion]

    def memo(self) -> dict[Any, Any]:
        """A cache of exact intermediate values for the engine (bounded: cleared when it grows large)."""
        if len(self._memo) > 50_000:
            self._memo.clear()
        return self._memo

    @property
    def total_weight(self) -> Fraction:
        return self._total

    def param(self, criterion: str, name: str) -> Fraction:
        return self._params[criterion][name]

    def band_for(self, score: Fraction | float) -> str:
        if score >= self._bands[0]:
            return "P1"
        if score >= self._bands[1]:
            return "P2"
        return "P3"


DEFAULT_METHOD = Method(version=DEFAULT_VERSION, weights=dict(DEFAULT_WEIGHTS),
                        params={k: dict(v) for k, v in DEFAULT_PARAMS.items()}, bands=dict(DEFAULT_BANDS))


def load_method(*, root: Path | None = None, settings: Settings | None = None) -> Method:
    """The method in ``kcdata.yaml`` (section ``scoring:``), or the defaults when absent.

    ``settings``: the already loaded settings (``Program.settings``); else ``root/kcdata.yaml`` is read.
    Raises :class:`InputError` (exit 3) naming the file, line, column and key path of the
    first problem: a negative, missing or non-numeric weight, an unknown criterion or
    parameter, bands out of order or out of 0–100, a missing ``version``.
    """
    if settings is None:
        if root is None:
            raise TypeError("load_method needs root or settings")
        settings = Settings.load(root)
    if not settings.exists:
        return DEFAULT_METHOD
    goals = _goal_ids(settings.get("goals"))
    raw = settings.get("scoring")
    if raw is None:
        return Method(version=DEFAULT_VERSION, weights=dict(DEFAULT_WEIGHTS),
                      params={k: dict(v) for k, v in DEFAULT_PARAMS.items()}, bands=dict(DEFAULT_BANDS),
                      goals=goals)
    return _parse(raw, _Where(settings), goals=goals)


def _goal_ids(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(str(g["id"]) for g in raw if isinstance(g, Mapping) and g.get("id"))


class _Where:
    """Errors of the scoring section: :meth:`Settings.fail` with this section's code and default hint."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def fail(self, keypath: str, message: str, *, hint: str | None = None, at_key: bool = False) -> InputError:
        return self.settings.fail(keypath, message, at_key=at_key, code="invalid-scoring-method",
                                  hint=hint or "Fix the scoring section of kcdata.yaml (see docs/score.md).")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN / infinity
        return None
    return value


def _unknown(where: _Where, keypath: str, name: str, known: tuple[str, ...] | list[str], what: str) -> InputError:
    return where.settings.unknown(keypath, name, known, what, code="invalid-scoring-method")


def parse_method(raw: Any, *, positions: Mapping[str, Any] | None = None,
                 key_positions: Mapping[str, Any] | None = None, goals: tuple[str, ...] = ()) -> Method:
    """Validate a ``scoring:`` mapping (as parsed from YAML) into a :class:`Method`."""
    where = _Where(Settings({"scoring": raw}, value_pos=positions, key_pos=key_positions))
    return _parse(raw, where, goals=goals)


def _parse(raw: Any, where: _Where, *, goals: tuple[str, ...]) -> Method:
    if not isinstance(raw, Mapping):
        raise where.fail("scoring", "expected a mapping with version, weights, bands and criterion settings")
    allowed = ("version", "weights", "bands", *CRITERIA)
    for key in raw:
        if key not in allowed:
            raise _unknown(where, f"scoring.{key}", str(key), allowed, "setting")
    version = raw.get("version")
    if version is None or str(version).strip() == "":
        raise where.fail("scoring.version", "missing `version`",
                         hint="Add `version:` to the scoring section and change it whenever the committee "
                              "changes the method, so every ranking says which method produced it.")
    weights = _weights(raw.get("weights"), where)
    bands = _bands(raw.get("bands"), where)
    params: dict[str, dict[str, float]] = {}
    for criterion in CRITERIA:
        params[criterion] = _params(criterion, raw.get(criterion), where)
    return Method(version=str(version), weights=weights, params=params, bands=bands, source=SETTINGS_FILE,
                  goals=goals)


def _weights(raw: Any, where: _Where) -> dict[str, float]:
    if raw is None:
        return dict(DEFAULT_WEIGHTS)
    if not isinstance(raw, Mapping):
        raise where.fail("scoring.weights", "expected a mapping of criterion: weight")
    for key in raw:
        if key not in CRITERIA:
            raise _unknown(where, f"scoring.weights.{key}", str(key), CRITERIA, "criterion")
    out: dict[str, float] = {}
    for criterion in CRITERIA:
        keypath = f"scoring.weights.{criterion}"
        if criterion not in raw:
            raise where.fail(keypath, f"missing weight for '{criterion}'",
                             hint=f"Give every criterion a weight ({', '.join(CRITERIA)}); "
                                  "use 0 to leave one out on purpose.")
        value = _number(raw[criterion])
        if value is None or value < 0:
            raise where.fail(keypath, f"weight must be a number ≥ 0, found {raw[criterion]!r}",
                             hint="Weights are relative importances: any non-negative numbers (0 leaves "
                                  "the criterion out).")
        out[criterion] = value
    if not any(out.values()):
        raise where.fail("scoring.weights", "all weights are 0: nothing to rank by",
                         hint="Give at least one criterion a positive weight.")
    return out


def _bands(raw: Any, where: _Where) -> dict[str, float]:
    if raw is None:
        return dict(DEFAULT_BANDS)
    if not isinstance(raw, Mapping):
        raise where.fail("scoring.bands", "expected a mapping with P1 and P2 thresholds")
    for key in raw:
        if key not in ("P1", "P2"):
            raise _unknown(where, f"scoring.bands.{key}", str(key), ("P1", "P2"), "band threshold")
    out: dict[str, float] = {}
    for band in ("P1", "P2"):
        keypath = f"scoring.bands.{band}"
        if band not in raw:
            raise where.fail(keypath, f"missing threshold for {band}",
                             hint="Give P1 and P2 the lowest score (0–100) that earns the band; the rest is P3.")
        value = _number(raw[band])
        if value is None or not 0 <= value <= 100:
            raise where.fail(keypath, f"threshold must be a number from 0 to 100, found {raw[band]!r}")
        out[band] = value
    if out["P1"] <= out["P2"]:
        raise where.fail("scoring.bands.P1", f"P1 threshold ({out['P1']}) must be above P2 ({out['P2']})")
    return out


def _params(criterion: str, raw: Any, where: _Where) -> dict[str, float]:
    defaults = DEFAULT_PARAMS[criterion]
    out = dict(defaults)
    if raw is None:
        return out
    if not isinstance(raw, Mapping):
        raise where.fail(f"scoring.{criterion}", "expected a mapping of settings")
    for key, value in raw.items():
        keypath = f"scoring.{criterion}.{key}"
        if key not in defaults:
            raise _unknown(where, keypath, str(key), tuple(defaults), f"{criterion} setting")
        number = _number(value)
        if number is None or number < 0:
            raise where.fail(keypath, f"must be a number ≥ 0, found {value!r}")
        out[str(key)] = number
    _check_params(criterion, out, where)
    return out


def _check_params(criterion: str, params: dict[str, float], where: _Where) -> None:
    positive = {"demand": tuple(DEFAULT_PARAMS["demand"]), "alignment": ("points_per_goal",),
                "quality": ("error_rate_for_zero_points",)}
    for name in positive.get(criterion, ()):
        if params[name] <= 0:
            raise where.fail(f"scoring.{criterion}.{name}", "must be greater than 0")
    if criterion == "value":
        for name, value in params.items():
            if value > 100:
                raise where.fail(f"scoring.value.{name}", f"points are 0–100, found {value}")
    if criterion == "quality" and params["not_validated"] > 100:
        raise where.fail("scoring.quality.not_validated", "points are 0–100")
    if criterion == "readiness" and not any(params.values()):
        raise where.fail("scoring.readiness", "all readiness items are 0")
