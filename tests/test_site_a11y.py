"""Colour contrast of the site's palette (WCAG 2.1: 4.5:1 for text, 3:1 for graphics)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kcdata.site import model

CSS = (Path(model.__file__).parent / "static" / "site.css").read_text(encoding="utf-8")


def _lum(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_lum(a), _lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_status_badges_have_text_contrast() -> None:
    badges = dict(re.findall(r"\.status-([a-z_]+) \{ background: (#[0-9a-fA-F]{6}); \}", CSS))
    assert set(badges) == {s.value for s in model.STATUS_ORDER}
    for status, colour in badges.items():
        assert contrast(colour, "#ffffff") >= 4.5, status


def test_chart_colours_stand_out_from_the_page() -> None:
    for status, colour in model.STATUS_COLORS.items():
        assert contrast(colour, "#ffffff") >= 3.0, status


def test_text_colours_meet_aa() -> None:
    variables = dict(re.findall(r"--([a-z-]+): (#[0-9a-fA-F]{6})", CSS))
    for name in ("ink", "muted", "link", "ok", "bad", "brand"):
        assert contrast(variables[name], variables["bg"]) >= 4.5, name
    assert contrast(variables["ink"], variables["panel"]) >= 4.5
    assert contrast(variables["muted"], variables["panel"]) >= 4.5
    assert contrast(variables["brand-ink"], variables["brand"]) >= 4.5
