"""Calico selectors: what each operator matches, how text parses, and every refusal with
its offset.

The quoted sentences are Calico's reference ("Selectors", in the NetworkPolicy and
GlobalNetworkPolicy resources). A random tree printed to text must parse back to a
selector that selects what the tree selects, and :meth:`CalicoSelector.matches` must
agree with a brute-force evaluator written here from the same sentences.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reach.errors import ReachError
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
from reach.policies.calico_selector import MAX_DEPTH, SelectorSyntaxError, parse_selector

SETTINGS = settings(max_examples=150, deadline=None)


def selected(text: str, *label_sets: dict[str, str], global_: bool = False) -> list[bool]:
    sel = parse_selector(text)
    return [sel.matches(labels, global_=global_) for labels in label_sets]


# -- the match operators --------------------------------------------------------------------


def test_equality_needs_the_key_with_that_value():
    """"k == 'v'": "Matches resources with the label 'k' and value 'v'.\""""
    assert selected("k == 'v'", {"k": "v"}, {"k": "w"}, {"k": "V"}, {}, {"kk": "v"}) == [
        True, False, False, False, False]


def test_inequality_also_matches_resources_without_the_key():
    """"k != 'v'": "Matches resources without label 'k' or with label 'k' and value not
    equal to v\""""
    assert selected("k != 'v'", {"k": "w"}, {}, {"other": "v"}, {"k": "v"}) == [
        True, True, True, False]


def test_has_ignores_the_value():
    """"has(k)": "Matches resources with label 'k', independent of value.\""""
    assert selected("has(k)", {"k": ""}, {"k": "anything"}, {}, {"K": "x"}) == [
        True, True, False, False]


def test_not_has_matches_resources_without_the_key():
    """"To match pods that do not have label k, combine this operator with ! to form
    !has(k)\""""
    assert selected("!has(k)", {}, {"j": "x"}, {"k": ""}) == [True, True, False]


def test_in_needs_the_key_and_a_value_in_the_set():
    """"k in { 'v1', 'v2' }": "Matches resources with label 'k' and value in the given set\""""
    assert selected("k in { 'v1', 'v2' }", {"k": "v2"}, {"k": "v3"}, {}) == [True, False, False]


def test_not_in_matches_resources_without_the_key():
    """"k not in { 'v1', 'v2' }": "Matches resources without label 'k' or with label 'k'
    and value not in the given set\""""
    assert selected("k not in { 'v1', 'v2' }", {}, {"k": "v3"}, {"k": "v1"}) == [
        True, True, False]


def test_an_empty_set_holds_no_value():
    assert selected("k in {}", {"k": ""}, {}) == [False, False]
    assert selected("k not in {}", {"k": ""}, {}) == [True, True]


@pytest.mark.parametrize(("text", "hits", "misses"), [
    ("k contains 's'", ["s", "xsx", "ss"], ["", "S", "x"]),
    ("k starts with 'pro'", ["pro", "prod"], ["pr", "xpro", "PROD"]),
    ("k ends with '-1'", ["-1", "eu-1"], ["-1x", "1", "-"]),
    ("k contains ''", ["", "x"], []),
])
def test_substring_operators_need_the_key(text: str, hits: list[str], misses: list[str]):
    """"Matches resources with label 'k' and value containing / starting with / ending with
    the substring 's'\""""
    sel = parse_selector(text)
    assert all(sel.matches({"k": value}) for value in hits)
    assert not any(sel.matches({"k": value}) for value in misses)
    assert not sel.matches({}) and not sel.matches({"j": hits[0]})


def test_all_matches_everything_and_not_all_nothing():
    """"all()": "Match all in-scope resources. To match no resources, combine this operator
    with ! to form !all().\""""
    assert selected("all()", {}, {"a": "b"}) == [True, True]
    assert selected("all()", {}, global_=True) == [True]
    assert selected("!all()", {}, {"a": "b"}) == [False, False]
    assert selected("!all()", {}, global_=True) == [False]


def test_global_matches_only_non_namespaced_resources():
    """"global()": "Match all non-namespaced resources. Useful in a namespaceSelector to
    select global resources such as global network sets.\""""
    assert selected("global()", {}, {"a": "b"}) == [False, False]
    assert selected("global()", {}, {"a": "b"}, global_=True) == [True, True]
    assert selected("!global()", {"a": "b"}) == [True]
    assert selected("global() && has(a)", {"a": "b"}, {}, global_=True) == [True, False]


@pytest.mark.parametrize("text", ["", " ", "\t \t"])
def test_an_empty_selector_is_all(text: str):
    """An empty selector is all() (Calico's parser: no tokens, an AllNode)."""
    sel = parse_selector(text)
    assert sel.tree == All() and sel.is_all and str(sel) == text
    assert sel.matches({}) and sel.matches({"a": "b"}, global_=True)


@pytest.mark.parametrize(("text", "is_all"), [
    ("all()", True), (" all( ) ", True), ("(all())", True),
    ("all() || has(a)", False), ("!all()", False), ("has(a)", False),
])
def test_is_all_means_exactly_all(text: str, is_all: bool):
    assert parse_selector(text).is_all is is_all


# -- precedence and grouping ----------------------------------------------------------------

A, B, C = Compare("a", "==", "x"), Compare("b", "==", "y"), Compare("c", "==", "z")


def test_and_binds_tighter_than_or():
    """"Operators have the following precedence: ... Conjunction with && ... Lowest:
    Disjunction with ||\""""
    sel = parse_selector("a == 'x' || b == 'y' && c == 'z'")
    assert sel.tree == Or((A, And((B, C))))
    assert selected("a == 'x' || b == 'y' && c == 'z'",
                    {"a": "x"}, {"b": "y"}, {"c": "z"}, {"b": "y", "c": "z"}) == [
        True, False, False, True]


def test_negation_binds_tighter_than_and():
    """"Negation with !" comes before "Conjunction with &&"."""
    assert parse_selector("!a == 'x' && b == 'y'").tree == And((Not(A), B))
    assert parse_selector("!(a == 'x' && b == 'y')").tree == Not(And((A, B)))
    assert parse_selector("! has(a) || has(b)").tree == Or((Not(Has("a")), Has("b")))


def test_parentheses_group():
    """"( <expression> )": "Matches if and only if <expression> matches. (Parentheses are
    used for grouping expressions.)\""""
    assert parse_selector("(a == 'x' || b == 'y') && c == 'z'").tree == And((Or((A, B)), C))
    assert parse_selector("((a == 'x'))").tree == A
    assert parse_selector("((a == 'x' || (b == 'y')) && !(c == 'z'))").tree == And(
        (Or((A, B)), Not(C)))


def test_chains_of_the_same_operator_are_one_node():
    assert parse_selector("has(a) && has(b) && has(c)").tree == And(
        (Has("a"), Has("b"), Has("c")))
    assert parse_selector("has(a) || has(b) || has(c)").tree == Or(
        (Has("a"), Has("b"), Has("c")))


def test_the_documented_precedence_example():
    """"! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}"
    "Would be bracketed like this: ((!(has(my-label)) || ((my-label starts with 'prod') &&
    (role in {'frontend','business'}))". It would match "Any resource that did not have
    label my-label" and "Any resource that both: Has a value for my-label that starts with
    prod, and, Has a role label with value either frontend, or business.\""""
    text = "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}"
    bracketed = ("((!(has(my-label))) || ((my-label starts with 'prod') && "
                 "(role in {'frontend','business'})))")
    assert parse_selector(text).tree == parse_selector(bracketed).tree
    assert selected(text, {}, {"role": "x"},
                    {"my-label": "prod-1", "role": "business"},
                    {"my-label": "prod-1", "role": "db"},
                    {"my-label": "dev", "role": "frontend"}) == [True, True, True, False, False]


def test_an_even_number_of_negations_cancels_out():
    """Calico's parser folds leading "!"s into one negation or none."""
    assert parse_selector("!!has(a)").tree == Has("a")
    assert parse_selector("! ! !has(a)").tree == Not(Has("a"))
    assert parse_selector("!(!has(a))").tree == Not(Not(Has("a")))


# -- lexical details ------------------------------------------------------------------------


def test_values_take_either_quote_and_keep_the_other():
    """Strings have no escapes: a value with one kind of quote is written in the other."""
    assert parse_selector('k == "v"').tree == Compare("k", "==", "v")
    assert parse_selector("""k == "it's" """).tree == Compare("k", "==", "it's")
    assert parse_selector("""k == 'say "hi"'""").tree == Compare("k", "==", 'say "hi"')
    assert parse_selector("""k in {'a', "b"}""").tree == InSet("k", ("a", "b"))


def test_values_are_kept_verbatim():
    assert parse_selector("k == ''").tree == Compare("k", "==", "")
    assert parse_selector("k == ' a  b '").tree == Compare("k", "==", " a  b ")
    assert parse_selector("k == 'a&&b || !c'").tree == Compare("k", "==", "a&&b || !c")
    assert parse_selector("k == 'été'").tree == Compare("k", "==", "été")


@pytest.mark.parametrize("text", [
    "a=='x'&&has(b)||c in{'z'}",
    "  a == 'x'  &&  has( b )  ||  c  in  { 'z' }  ",
    "\ta\t==\t'x'\t&&\thas(\tb\t)\t||\tc\tin\t{\t'z'\t}\t",
    "(a == 'x' && has(b)) || c in {'z',}",
])
def test_spaces_and_tabs_may_separate_any_tokens(text: str):
    assert parse_selector(text).tree == Or((And((A, Has("b"))), InSet("c", ("z",))))


@pytest.mark.parametrize(("text", "tree"), [
    ("k notin {'a'}", InSet("k", ("a",), negated=True)),
    ("k not \t in {'a'}", InSet("k", ("a",), negated=True)),
    ("k startswith 'a'", Compare("k", "starts with", "a")),
    ("k endswith 'a'", Compare("k", "ends with", "a")),
    ("k contains'a'", Compare("k", "contains", "a")),
])
def test_word_operators_are_read_as_calico_reads_them(text: str, tree: Expression):
    """Calico's tokenizer skips blanks between "not" and "in", "starts"/"ends" and "with"."""
    assert parse_selector(text).tree == tree


def test_label_keys_have_a_prefix_and_a_name():
    text = "example.com/team-name_1.x == 'a' && has(kubernetes.io/metadata.name)"
    assert parse_selector(text).tree == And((
        Compare("example.com/team-name_1.x", "==", "a"), Has("kubernetes.io/metadata.name")))


def test_function_names_are_label_keys_without_their_parenthesis():
    assert parse_selector("has == 'x'").tree == Compare("has", "==", "x")
    assert parse_selector("all in {'a'} && global != 'b'").tree == And(
        (InSet("all", ("a",)), Compare("global", "!=", "b")))
    assert parse_selector("not == 'x' || in == 'y'").tree == Or(
        (Compare("not", "==", "x"), Compare("in", "==", "y")))


def test_set_values_are_stored_sorted_without_repeats():
    assert parse_selector("k in {'b', 'a', 'b'}").tree == InSet("k", ("a", "b"))
    assert parse_selector("k in {'b', 'a'}").tree == parse_selector("k in {'a','b'}").tree


def test_str_gives_the_text_back_and_selectors_are_hashable():
    text = "  app == 'web'  "
    sel = parse_selector(text)
    assert str(sel) == text and sel.text == text
    assert {sel: 1}[parse_selector(text)] == 1
    assert sel == CalicoSelector(text, Compare("app", "==", "web"))


def test_keys_are_every_label_key_mentioned():
    sel = parse_selector("all() && (a == 'x' || !has(b)) && c not in {} && d ends with 'e'")
    assert sel.keys() == frozenset({"a", "b", "c", "d"})
    assert parse_selector("all() || global()").keys() == frozenset()


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "offset", "message"), [
    # tokens
    ("app = 'web'", 4, 'unexpected "=" (did you mean "=="?)'),
    ("has(a) & has(b)", 7, 'unexpected "&" (did you mean "&&"?)'),
    ("has(a) | has(b)", 7, 'unexpected "|" (did you mean "||"?)'),
    ("app == 'web", 7, "unterminated string"),
    ('app == "web', 7, "unterminated string"),
    ("app ~ 'web'", 4, 'unexpected character "~"'),
    ("tier == 'é' && ü == 'x'", 15, 'unexpected character "ü"'),
    ("has(a) \x00", 7, "unexpected character U+0000"),
    ("has(a)\n&& has(b)", 6,
     "unexpected line break (Calico separates tokens with spaces and tabs only)"),
    ("has(a)\n", 6, "unexpected line break at the end (Calico separates tokens with spaces and "
                    "tabs only; a YAML block scalar keeps its last line break unless written "
                    "|- or >-)"),
    ("has(a)\u00a0", 6,
     "unexpected whitespace U+00A0 (Calico separates tokens with spaces and tabs only)"),
    # match operators
    ("app == web", 7, "expected a quoted value after \"==\" (did you mean 'web'?)"),
    ("app !=", 6, 'expected a quoted value after "!="'),
    ("app == (", 7, 'expected a quoted value after "==" but found "("'),
    ("app contains", 12, 'expected a quoted value after "contains"'),
    ("app starts with x", 16, "expected a quoted value after \"starts with\" (did you mean 'x'?)"),
    ("app", 3, 'expected an operator after label key "app" (did you mean has(app)?)'),
    ("app web", 4, 'expected an operator after label key "app" but found "web" (one of ==, '
                   "!=, in, not in, contains, starts with or ends with)"),
    ("app && b", 4, 'expected an operator after label key "app" but found "&&" (one of ==, '
                    "!=, in, not in, contains, starts with or ends with)"),
    ("has (app)", 4, 'expected an operator after label key "has" but found "(" (write has( '
                     'with no space before "(")'),
    ("app not 'x'", 8, "expected \"in\" after \"not\" but found 'x'"),
    ("app starts 'x'", 11, "expected \"with\" after \"starts\" but found 'x'"),
    ("app ends", 8, 'expected "with" after "ends" but found the end of the selector'),
    # sets
    ("app in ('a')", 7, 'expected "{" after "in" but found "(" (a set is written '
                        "{'a', 'b'})"),
    ("app not in 'a'", 11, "expected \"{\" after \"not in\" but found 'a' (a set is written "
                           "{'a', 'b'})"),
    ("app in {'a' 'b'}", 12, "expected \",\" or \"}\" after a value in the set but found 'b'"),
    ("app in {a}", 8, "expected a quoted value or \"}\" in the set but found \"a\" (did you "
                      "mean 'a'?)"),
    ("app in {,}", 8, 'expected a quoted value or "}" in the set but found ","'),
    ("app in {'a',,}", 12, 'expected a quoted value or "}" in the set but found ","'),
    ("app in {'a'", 7, 'unclosed set (no "}")'),
    ("app in {'a', ", 7, 'unclosed set (no "}")'),
    # functions
    ("has()", 4, 'expected a label key inside has(...) but found ")"'),
    ("has('a')", 4, "expected a label key inside has(...) but found 'a'"),
    ("has(a b)", 6, 'expected ")" after has(a but found "b"'),
    ("has(a", 3, "unclosed parenthesis"),
    ("all(x)", 4, 'expected ")" after "all(" but found "x"'),
    ("!global(", 7, "unclosed parenthesis"),
    # expressions
    ("(a == 'x'", 0, "unclosed parenthesis"),
    ("has(x) && ((a == 'x') || b == 'y'", 10, "unclosed parenthesis"),
    ("(a == 'x' b == 'y')", 10, 'expected "&&", "||" or ")" but found "b"'),
    ("a == 'x')", 8, 'unexpected ")" (no parenthesis is open)'),
    ("a == 'x' b == 'y'", 9,
     'unexpected "b" after a complete expression (did you mean "&&" or "||"?)'),
    ("a == 'x' and b == 'y'", 9,
     'unexpected "and" after a complete expression (did you mean "&&" or "||"?)'),
    ("has(a) has(b)", 7,
     'unexpected "has(" after a complete expression (did you mean "&&" or "||"?)'),
    ("a == 'x' &&", 11, 'expected a selector expression after "&&"'),
    ("a == 'x' ||  ", 13, 'expected a selector expression after "||"'),
    ("!", 1, 'expected a selector expression after "!"'),
    ("(", 1, 'expected a selector expression after "("'),
    ("&& a == 'x'", 0, 'expected a label key, has(...), all(), global(), "!" or "(" but found '
                       '"&&"'),
    ("()", 1, 'expected a label key, has(...), all(), global(), "!" or "(" but found ")"'),
    ("'x' == a", 0, 'expected a label key, has(...), all(), global(), "!" or "(" but found '
                    "'x'"),
    ("a == 'x' && || b", 12, 'expected a label key, has(...), all(), global(), "!" or "(" '
                             'but found "||"'),
])
def test_refusals_say_what_is_wrong_and_where(text: str, offset: int, message: str):
    with pytest.raises(SelectorSyntaxError) as info:
        parse_selector(text)
    assert (info.value.offset, info.value.message) == (offset, message)
    assert str(info.value) == message


def test_a_syntax_error_is_a_reach_error_and_a_value_error():
    with pytest.raises(ReachError):
        parse_selector("a ==")
    with pytest.raises(ValueError, match="quoted value"):
        parse_selector("a ==")


def test_the_first_problem_in_the_text_is_the_one_reported():
    """Tokens are read as the parser needs them, so a later bad character does not hide an
    earlier mistake."""
    with pytest.raises(SelectorSyntaxError) as info:
        parse_selector("a b & c")
    assert info.value.offset == 2


def test_parentheses_nest_up_to_the_limit():
    deep = "(" * MAX_DEPTH + "!has(a) || b != 'x'" + ")" * MAX_DEPTH
    sel = parse_selector(deep)
    assert sel.matches({}) and not sel.matches({"a": "", "b": "x"})
    with pytest.raises(SelectorSyntaxError) as info:
        parse_selector("(" + deep + ")")
    assert (info.value.offset, info.value.message) == (
        MAX_DEPTH, f"parentheses nested more than {MAX_DEPTH} deep")


# -- properties -----------------------------------------------------------------------------

KEYS = ("app", "has")  # a key may be called like a function
VALUES = ("", "a", "ab", "ba", "a b", 'q"', "q'")  # each holds at most one kind of quote
LABEL_VALUES = ("", "a", "ab", "ba", "aba", "a b", "q'")  # prefixes that are not suffixes

keys = st.sampled_from(KEYS)
values = st.sampled_from(VALUES)
# Every label set over KEYS and LABEL_VALUES: each tree is judged on all of them.
EVERY_LABEL_SET = [
    {key: value for key, value in zip(KEYS, choice, strict=True) if value is not None}
    for choice in itertools.product((None, *LABEL_VALUES), repeat=len(KEYS))
]

leaves = st.one_of(
    st.just(All()), st.just(Global()), st.builds(Has, keys),
    st.builds(Compare, keys, st.sampled_from(COMPARE_OPS), values),
    st.builds(InSet, keys, st.frozensets(values, max_size=3).map(lambda vs: tuple(sorted(vs))),
              st.booleans()),
)
# Every leaf over KEYS and VALUES (sets of up to two values): random trees are too few
# to meet every operator with every value, so leaves are also checked one by one.
EVERY_LEAF: list[Expression] = [
    All(), Global(),
    *(Has(key) for key in KEYS),
    *(Compare(key, op, value) for key in KEYS for op in COMPARE_OPS for value in VALUES),
    *(InSet(key, tuple(sorted(chosen)), negated) for key in KEYS for negated in (False, True)
      for size in range(3) for chosen in itertools.combinations(VALUES, size)),
]
trees: st.SearchStrategy[Expression] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
        st.builds(Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
    ),
    max_leaves=10,
)


def quoted(value: str) -> str:
    return f'"{value}"' if "'" in value else f"'{value}'"


def tokens_of(node: Expression, *, bracket_all: bool, blank: str) -> list[str]:
    """Tokens of a text that parses to ``node``: every subexpression bracketed, or only
    where precedence needs it. Two-word operators carry ``blank`` inside."""
    def group(child: Expression, needed: bool) -> list[str]:
        inner = tokens_of(child, bracket_all=bracket_all, blank=blank)
        return ["(", *inner, ")"] if needed or bracket_all else inner

    match node:
        case All():
            return ["all(", ")"]
        case Global():
            return ["global(", ")"]
        case Has(key=key):
            return ["has(", key, ")"]
        case Compare(key=key, op=op, value=value):
            return [key, op.replace(" ", blank), quoted(value)]
        case InSet(key=key, values=set_values, negated=negated):
            items: list[str] = []
            for value in set_values:
                items += [quoted(value), ","]
            return [key, f"not{blank}in" if negated else "in", "{", *items[:-1], "}"]
        case Not(node=child):
            return ["!", *group(child, isinstance(child, And | Or))]
        case And(nodes=children):
            out: list[str] = []
            for child in children:
                out += ["&&", *group(child, isinstance(child, Or))]
            return out[1:]
        case Or(nodes=children):
            out = []
            for child in children:
                out += ["||", *group(child, False)]
            return out[1:]
    raise AssertionError(node)


KEY_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")


@st.composite
def printed(draw: st.DrawFn) -> tuple[Expression, str, bool]:
    """A tree, a text for it with random blanks between tokens, and whether every
    subexpression is bracketed (then the text parses to exactly the tree)."""
    tree = draw(trees)
    bracket_all = draw(st.booleans())
    parts = tokens_of(tree, bracket_all=bracket_all, blank=draw(st.sampled_from([" ", "\t", ""])))
    text = draw(st.sampled_from(["", " ", "\t"]))
    for before, part in zip(["", *parts], parts, strict=False):
        gap = draw(st.sampled_from(["", " ", "  ", "\t"]))
        if not gap and before and before[-1] in KEY_CHARS and part[0] in KEY_CHARS:
            gap = " "  # two words run together would be one label key
        text += (gap if before else "") + part
    return tree, text + draw(st.sampled_from(["", " "])), bracket_all


@pytest.mark.parametrize("blank", [" ", "\t", ""])
def test_every_leaf_prints_and_parses_back(blank: str):
    for leaf in EVERY_LEAF:
        assert parse_selector(" ".join(tokens_of(leaf, bracket_all=False, blank=blank))).tree \
            == leaf


@SETTINGS
@given(printed())
def test_a_printed_tree_parses_back_to_what_it_selects(case: tuple[Expression, str, bool]):
    tree, text, bracket_all = case
    sel = parse_selector(text)
    assert str(sel) == text
    if bracket_all:
        assert sel.tree == tree
    for labels, global_ in itertools.product(EVERY_LABEL_SET, (False, True)):
        assert sel.matches(labels, global_=global_) == tree.matches(labels, global_=global_)


def brute_force(node: Expression, labels: dict[str, str], global_: bool) -> bool:
    """The reference's sentences, read one by one, without the model's code."""
    if isinstance(node, All):
        return True
    if isinstance(node, Global):
        return global_
    if isinstance(node, Has):
        return node.key in labels
    if isinstance(node, Compare):
        if node.key not in labels:
            return node.op == "!="  # "without label 'k' or ..."
        actual, wanted = labels[node.key], node.value
        return {
            "==": actual == wanted,
            "!=": actual != wanted,
            "contains": any(actual[i:i + len(wanted)] == wanted
                            for i in range(len(actual) - len(wanted) + 1)),
            "starts with": actual[:len(wanted)] == wanted,
            "ends with": len(actual) >= len(wanted)
            and actual[len(actual) - len(wanted):] == wanted,
        }[node.op]
    if isinstance(node, InSet):
        inside = node.key in labels and any(labels[node.key] == v for v in node.values)
        return not inside if node.negated else inside
    if isinstance(node, Not):
        return not brute_force(node.node, labels, global_)
    if isinstance(node, And):
        return all(brute_force(child, labels, global_) for child in node.nodes)
    assert isinstance(node, Or)
    return any(brute_force(child, labels, global_) for child in node.nodes)


def test_every_leaf_matches_what_the_brute_force_evaluator_says():
    for leaf in EVERY_LEAF:
        for labels, global_ in itertools.product(EVERY_LABEL_SET, (False, True)):
            assert leaf.matches(labels, global_=global_) == brute_force(leaf, labels, global_), (
                leaf, labels, global_)


@SETTINGS
@given(trees)
def test_matches_agrees_with_a_brute_force_evaluator(tree: Expression):
    sel = CalicoSelector("<generated>", tree)
    for labels, global_ in itertools.product(EVERY_LABEL_SET, (False, True)):
        assert sel.matches(labels, global_=global_) == brute_force(tree, labels, global_)


SELECTOR_ALPHABET = st.sampled_from([
    *"ab (){}!=&|,'\"\t\n",
    "has(", "all()", "global()", " in ", " not in ", " contains ", "==", "!=", "&&", "||"])


@SETTINGS
@given(st.lists(SELECTOR_ALPHABET, max_size=20).map("".join))
def test_any_text_parses_or_is_refused_at_a_place_inside_it(text: str):
    try:
        sel = parse_selector(text)
    except SelectorSyntaxError as err:
        assert 0 <= err.offset <= len(text) and err.message
    else:
        assert str(sel) == text
