"""The event-based positional loader reads exactly what PyYAML's safe loader reads."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kcdata.inventory.yamlpos import YamlProblem, load_located

keys = st.sampled_from(["id", "title", "yes", "on", "null", "2026-01-01", "1", "x y", "a:b"])
leaves = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                   st.dates(min_value=dt.date(1900, 1, 1)), st.text(max_size=12),
                   st.sampled_from(["yes", "No", "~", "0x1f", "0o17", "012", "1_000", "1e3", ".inf", "2026-13-45",
                                    "2026-01-01 10:00:00", "true", "null", "-", "@x", "#c", "'q'", "R/P1D"]))
docs = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                    st.dictionaries(keys, inner, max_size=4)), max_leaves=15)


@settings(max_examples=300, deadline=None)
@given(doc=docs, flow=st.sampled_from([None, True, False]))
def test_same_values_as_pyyaml(doc, flow):
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
    expected = yaml.safe_load(text)
    raw = text.encode()
    assert load_located(raw, path="x").value == expected
    assert load_located(raw, path="x", positions=False).value == expected
    assert load_located(raw, path="x", position_depth=2).value == expected


@pytest.mark.parametrize("text", ["a: 2026-13-45\n", "a: 2026-02-30\n"])
def test_impossible_dates_stay_text_for_lint(text):
    assert load_located(text.encode(), path="x").value == {"a": text[3:-1]}


def test_positions_of_values_and_keys():
    text = "department:\n  id: water\ndatasets:\n  - id: a\n    title: 'T'\n"
    doc = load_located(text.encode(), path="x")
    pos = doc.value_pos["datasets[0].title"]
    assert (pos.line, pos.col) == (5, 12) and text[pos.start:pos.end] == "'T'"
    assert doc.key_pos["datasets[0].title"].col == 5


@pytest.mark.parametrize(("text", "message"), [
    ("a: &x 1\nb: *x\n", "aliases"),
    ("<<: {a: 1}\n", "merge keys"),
    ("a: !!python/object:os.system x\n", "tag"),
    ("a: 1\n---\nb: 2\n", "more than one document"),
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("a: " + "[" * 200 + "]" * 200 + "\n", "nested"),
])
def test_refused_constructs(text, message):
    with pytest.raises(YamlProblem, match=message):
        load_located(text.encode(), path="x", positions=False)
    with pytest.raises(YamlProblem, match=message):
        load_located(text.encode(), path="x")
