"""Canonical sets of integers as sorted, disjoint, non-adjacent closed intervals.

The one set algebra behind port sets (:mod:`reach.engine.ports`) and address sets
(:mod:`reach.engine.addresses`): union, intersection and difference are linear merges.

Examples
--------
>>> a = IntervalSet.of((1, 10), (20, 30))
>>> b = IntervalSet.of((5, 25))
>>> (a & b).intervals
((5, 10), (20, 25))
>>> (a | b).intervals
((1, 30),)
>>> (a - b).intervals
((1, 4), (26, 30))
>>> IntervalSet.of((1, 3), (4, 6)).intervals   # adjacent intervals merge
((1, 6),)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

__all__ = ["IntervalSet"]


class IntervalSet:
    """An immutable, hashable set of integers held as canonical closed intervals."""

    __slots__ = ("_hash", "_starts", "intervals")

    intervals: tuple[tuple[int, int], ...]

    def __init__(self, intervals: tuple[tuple[int, int], ...] = ()) -> None:
        # Callers outside this module use ``of``; this trusts canonical input.
        self.intervals = intervals
        self._starts: list[int] | None = None
        self._hash: int | None = None

    @classmethod
    def of(cls, *intervals: tuple[int, int]) -> IntervalSet:
        """Canonicalise any intervals (unsorted, overlapping, adjacent; empty ones dropped)."""
        return cls(_canonical(intervals))

    @classmethod
    def from_iterable(cls, intervals: Iterable[tuple[int, int]]) -> IntervalSet:
        return cls(_canonical(intervals))

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntervalSet) and self.intervals == other.intervals

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.intervals)
        return self._hash

    def __repr__(self) -> str:
        return f"IntervalSet.of{self.intervals!r}"

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.intervals)

    def __len__(self) -> int:
        return len(self.intervals)

    def size(self) -> int:
        """How many integers the set holds."""
        return sum(hi - lo + 1 for lo, hi in self.intervals)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        if self._starts is None:
            self._starts = [lo for lo, _ in self.intervals]
        i = bisect.bisect_right(self._starts, value) - 1
        return i >= 0 and value <= self.intervals[i][1]

    def __or__(self, other: IntervalSet) -> IntervalSet:
        if not other.intervals:
            return self
        if not self.intervals:
            return other
        return IntervalSet(_canonical(self.intervals + other.intervals))

    def __and__(self, other: IntervalSet) -> IntervalSet:
        out: list[tuple[int, int]] = []
        a, b = self.intervals, other.intervals
        i = j = 0
        while i < len(a) and j < len(b):
            lo = max(a[i][0], b[j][0])
            hi = min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(tuple(out))

    def __sub__(self, other: IntervalSet) -> IntervalSet:
        out: list[tuple[int, int]] = []
        b = other.intervals
        j = 0
        for lo, hi in self.intervals:
            while j < len(b) and b[j][1] < lo:
                j += 1
            k = j
            cur = lo
            while k < len(b) and b[k][0] <= hi:
                if b[k][0] > cur:
                    out.append((cur, b[k][0] - 1))
                cur = max(cur, b[k][1] + 1)
                k += 1
            if cur <= hi:
                out.append((cur, hi))
        return IntervalSet(tuple(out))

    def issubset(self, other: IntervalSet) -> bool:
        return not (self - other)

    def isdisjoint(self, other: IntervalSet) -> bool:
        return not (self & other)

    def boundaries(self) -> set[int]:
        """Every ``lo`` and ``hi + 1``: the points where membership changes."""
        out: set[int] = set()
        for lo, hi in self.intervals:
            out.add(lo)
            out.add(hi + 1)
        return out


def _canonical(intervals: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    items = sorted((lo, hi) for lo, hi in intervals if lo <= hi)
    out: list[tuple[int, int]] = []
    for lo, hi in items:
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)
