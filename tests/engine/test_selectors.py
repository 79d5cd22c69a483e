"""Label selectors, one object at a time and as bitsets, against a few lines of set logic."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import selector_matches
from strategies import label_selectors, labels

from reach.engine.selectors import LabelIndex, matches, requirement_matches
from reach.model import Labels, LabelSelector, Requirement

SETTINGS = settings(max_examples=400, deadline=None)


@SETTINGS
@given(label_selectors(), labels())
def test_matches_agrees_with_oracle(selector: LabelSelector, pod_labels: Labels) -> None:
    assert matches(selector, pod_labels) == selector_matches(selector, pod_labels)


@SETTINGS
@given(st.lists(label_selectors(), min_size=1, max_size=4), st.lists(labels(), max_size=8))
def test_label_index_bits_agree_with_matches(selectors: list[LabelSelector],
                                             label_sets: list[Labels]) -> None:
    index = LabelIndex(label_sets)
    for selector in selectors * 2:  # the second round answers from the cache
        bits = index.select(selector)
        assert bits >> len(label_sets) == 0
        for i, pod_labels in enumerate(label_sets):
            assert bool(bits >> i & 1) == selector_matches(selector, pod_labels)


def test_empty_selector_matches_everything() -> None:
    """LabelSelector: "An empty label selector matches all objects.\""""
    assert matches(LabelSelector(), {}) and matches(LabelSelector(), {"a": "b"})
    assert LabelIndex([{}, {"a": "b"}]).select(LabelSelector()) == 0b11
    assert LabelIndex([]).select(LabelSelector()) == 0


def test_notin_matches_objects_without_the_key() -> None:
    """"selects all resources with key equal to tier and values other than frontend and
    backend, and all resources with no labels with the tier key.\""""
    req = Requirement("tier", "NotIn", ("frontend", "backend"))
    assert requirement_matches(req, {})
    assert requirement_matches(req, {"tier": "cache"})
    assert not requirement_matches(req, {"tier": "frontend"})
    index = LabelIndex([{}, {"tier": "cache"}, {"tier": "backend"}])
    assert index.select(LabelSelector(match_expressions=(req,))) == 0b011


def test_in_needs_the_key() -> None:
    req = Requirement("env", "In", ("prod", "qa"))
    assert requirement_matches(req, {"env": "qa"})
    assert not requirement_matches(req, {"env": "dev"}) and not requirement_matches(req, {})


def test_exists_and_does_not_exist_ignore_values() -> None:
    """"selects all resources including a label with key partition; no values are checked"."""
    exists, absent = Requirement("partition", "Exists"), Requirement("partition", "DoesNotExist")
    for value in ("", "a"):
        assert requirement_matches(exists, {"partition": value})
        assert not requirement_matches(absent, {"partition": value})
    assert not requirement_matches(exists, {}) and requirement_matches(absent, {})


def test_match_labels_and_expressions_are_anded() -> None:
    """"The result of matchLabels and matchExpressions are ANDed.\""""
    sel = LabelSelector(Labels({"app": "web"}), (Requirement("tier", "Exists"),))
    assert matches(sel, {"app": "web", "tier": "x"})
    assert not matches(sel, {"app": "web"}) and not matches(sel, {"tier": "x"})


def test_match_labels_value_must_be_equal_not_just_present() -> None:
    sel = LabelSelector(Labels({"app": "web"}))
    assert not matches(sel, {"app": "webx"}) and not matches(sel, {"App": "web"})
