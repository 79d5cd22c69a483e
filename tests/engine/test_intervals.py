"""IntervalSet against Python sets of integers."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from reach.engine.intervals import IntervalSet

LO, HI = -3, 60
PROBES = range(LO - 2, HI + 3)

# Intervals on a small line, empty ones (lo > hi) included on purpose.
intervals = st.lists(st.tuples(st.integers(LO, HI), st.integers(LO, HI)), max_size=6)


def as_set(pairs: list[tuple[int, int]]) -> set[int]:
    return {x for lo, hi in pairs for x in range(lo, hi + 1)}


def members(s: IntervalSet) -> set[int]:
    return {x for x in PROBES if x in s}


def assert_canonical(s: IntervalSet) -> None:
    items = s.intervals
    assert all(lo <= hi for lo, hi in items)
    assert all(a_hi + 1 < b_lo for (_, a_hi), (b_lo, _) in itertools.pairwise(items))


SETTINGS = settings(max_examples=300, deadline=None)


@SETTINGS
@given(intervals)
def test_of_is_canonical_and_holds_exactly_the_union(pairs: list[tuple[int, int]]) -> None:
    s = IntervalSet.of(*pairs)
    assert_canonical(s)
    assert as_set(list(s.intervals)) == as_set(pairs)
    assert members(s) == as_set(pairs)
    assert s.size() == len(as_set(pairs))
    assert bool(s) == bool(as_set(pairs))
    assert IntervalSet.from_iterable(iter(pairs)) == s


@SETTINGS
@given(intervals, intervals)
def test_set_algebra_matches_python_sets(a: list[tuple[int, int]],
                                         b: list[tuple[int, int]]) -> None:
    x, y = IntervalSet.of(*a), IntervalSet.of(*b)
    sa, sb = as_set(a), as_set(b)
    for result, expected in ((x | y, sa | sb), (x & y, sa & sb), (x - y, sa - sb)):
        assert_canonical(result)
        assert as_set(list(result.intervals)) == expected
    assert x.issubset(y) == (sa <= sb)
    assert x.isdisjoint(y) == sa.isdisjoint(sb)
    assert (x == y) == (sa == sb)
    if sa == sb:
        assert hash(x) == hash(y)


@SETTINGS
@given(intervals)
def test_boundaries_are_where_membership_changes(pairs: list[tuple[int, int]]) -> None:
    s, expected = IntervalSet.of(*pairs), as_set(pairs)
    changes = {x for x in range(LO - 1, HI + 3) if (x in expected) != (x - 1 in expected)}
    assert s.boundaries() == changes


def test_adjacent_and_overlapping_intervals_merge() -> None:
    assert IntervalSet.of((5, 9), (1, 4), (3, 6), (11, 12)).intervals == ((1, 9), (11, 12))


def test_empty_intervals_are_dropped() -> None:
    assert IntervalSet.of((3, 2)).intervals == ()
    assert not IntervalSet.of((3, 2))
    assert IntervalSet() == IntervalSet.of()


def test_membership_only_for_integers() -> None:
    s = IntervalSet.of((1, 10))
    assert 1 in s and 10 in s and 0 not in s and 11 not in s
    assert "5" not in s and 5.0 not in s


def test_difference_splits_and_trims() -> None:
    s = IntervalSet.of((0, 100)) - IntervalSet.of((10, 20), (30, 30), (95, 200))
    assert s.intervals == ((0, 9), (21, 29), (31, 94))


def test_big_integers_are_fine() -> None:
    top = (1 << 129) - 1
    s = IntervalSet.of((1 << 128, top)) | IntervalSet.of((0, (1 << 32) - 1))
    assert (1 << 128) + 5 in s and (1 << 32) not in s
    assert s.size() == (1 << 128) + (1 << 32)
