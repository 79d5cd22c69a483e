"""Label selectors, one object at a time and as bitsets, against a few lines of set logic;
Calico selectors as bitsets, against their own ``matches``."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import selector_matches
from strategies import label_selectors, labels

from reach.engine.selectors import LabelIndex, matches, requirement_matches
from reach.model import Labels, LabelSelector, Requirement
from reach.model.expressions import (
    COMPARE_OPS,
    All,
    And,
    CalicoSelector,
    Compare,
    Expression,
    Global,
    Has,
    InSet,
    Not,
    Or,
)
from reach.policies.calico_selector import parse_selector

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


# -- Calico selectors -----------------------------------------------------------------------

ZONES = [{"zone": "eu-1"}, {"zone": "us-1"}, {"zone": "eu-2"}, {}]


def bits(text: str, label_sets: list[dict[str, str]], *, global_: bool = False) -> int:
    return LabelIndex(label_sets).select_expression(parse_selector(text), global_=global_)


def test_calico_equality_needs_the_key_inequality_does_not() -> None:
    """"k != 'v'": "Matches resources without label 'k' or with label 'k' and value not
    equal to v\""""
    assert bits("zone == 'eu-1'", ZONES) == 0b0001
    assert bits("zone != 'eu-1'", ZONES) == 0b1110
    assert bits("zone == 'mars'", ZONES) == 0 and bits("zone != 'mars'", ZONES) == 0b1111


def test_calico_sets_and_has() -> None:
    """"k not in { 'v1', 'v2' }": "Matches resources without label 'k' or with label 'k'
    and value not in the given set\""""
    assert bits("zone in {'eu-1', 'eu-2', 'mars'}", ZONES) == 0b0101
    assert bits("zone not in {'eu-1', 'eu-2'}", ZONES) == 0b1010
    assert bits("zone in {}", ZONES) == 0 and bits("zone not in {}", ZONES) == 0b1111
    assert bits("has(zone)", ZONES) == 0b0111 and bits("!has(zone)", ZONES) == 0b1000


def test_calico_substring_operators_read_every_value_of_the_key() -> None:
    assert bits("zone starts with 'eu'", ZONES) == 0b0101
    assert bits("zone ends with '-1'", ZONES) == 0b0011
    assert bits("zone contains 'u'", ZONES) == 0b0111
    assert bits("zone contains ''", ZONES) == 0b0111  # the key must be there
    assert bits("zone contains 'x'", ZONES) == 0 and bits("other contains ''", ZONES) == 0


def test_calico_all_and_global() -> None:
    """"all()": "Match all in-scope resources ... !all()" matches none; "global()": "Match
    all non-namespaced resources.\""""
    assert bits("all()", ZONES) == 0b1111 and bits("", ZONES) == 0b1111
    assert bits("!all()", ZONES) == 0
    assert bits("global()", ZONES) == 0 and bits("global()", ZONES, global_=True) == 0b1111
    assert bits("all()", []) == 0 and bits("!has(a)", []) == 0


def test_calico_results_are_cached_per_selector_and_scope() -> None:
    index = LabelIndex(ZONES)
    sel = parse_selector("global() || zone == 'eu-2'")
    assert index.select_expression(sel) == 0b0100
    assert index.select_expression(sel, global_=True) == 0b1111
    assert index.select_expression(sel) == 0b0100
    assert index.select(LabelSelector(Labels({"zone": "eu-2"}))) == 0b0100


CALICO_KEYS = ("app", "zone")
CALICO_VALUES = ("", "a", "ab", "ba")
# Every label set over the keys, with values whose prefixes are not all suffixes.
CALICO_LABEL_SETS = [
    {key: value for key, value in zip(CALICO_KEYS, choice, strict=True) if value is not None}
    for choice in itertools.product((None, *CALICO_VALUES, "aba"), repeat=len(CALICO_KEYS))
]
calico_leaves = st.one_of(
    st.just(All()), st.just(Global()), st.builds(Has, st.sampled_from(CALICO_KEYS)),
    st.builds(Compare, st.sampled_from(CALICO_KEYS), st.sampled_from(COMPARE_OPS),
              st.sampled_from(CALICO_VALUES)),
    st.builds(InSet, st.sampled_from(CALICO_KEYS),
              st.lists(st.sampled_from(CALICO_VALUES), max_size=3, unique=True).map(tuple),
              st.booleans()),
)
CALICO_LEAVES: list[Expression] = [
    All(), Global(),
    *(Has(key) for key in CALICO_KEYS),
    *(Compare(key, op, value) for key in CALICO_KEYS for op in COMPARE_OPS
      for value in CALICO_VALUES),
    *(InSet(key, chosen, negated) for key in CALICO_KEYS for negated in (False, True)
      for size in range(3) for chosen in itertools.combinations(CALICO_VALUES, size)),
]
calico_trees: st.SearchStrategy[Expression] = st.recursive(
    calico_leaves,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(And, st.lists(inner, min_size=1, max_size=3).map(tuple)),
        st.builds(Or, st.lists(inner, min_size=1, max_size=3).map(tuple)),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(calico_trees, min_size=1, max_size=3),
       st.one_of(st.just(CALICO_LABEL_SETS),
                 st.lists(st.sampled_from(CALICO_LABEL_SETS), max_size=10)),
       st.booleans())
def test_select_expression_bits_agree_with_matches(trees: list[Expression],
                                                   label_sets: list[dict[str, str]],
                                                   global_: bool) -> None:
    index = LabelIndex(label_sets)
    for tree in trees * 2:  # the second round answers from the cache
        selector = CalicoSelector(repr(tree), tree)
        found = index.select_expression(selector, global_=global_)
        assert found >> len(label_sets) == 0
        for i, object_labels in enumerate(label_sets):
            assert bool(found >> i & 1) == selector.matches(object_labels, global_=global_)


def test_every_leaf_selects_the_label_sets_it_matches() -> None:
    index = LabelIndex(CALICO_LABEL_SETS)
    for leaf, global_ in itertools.product(CALICO_LEAVES, (False, True)):
        found = index.select_expression(CalicoSelector(repr(leaf), leaf), global_=global_)
        assert found == sum(1 << i for i, labels in enumerate(CALICO_LABEL_SETS)
                            if leaf.matches(labels, global_=global_)), (leaf, global_)
