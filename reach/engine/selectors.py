"""Label selector semantics, one object at a time or over many label sets at once.

Kubernetes: the requirements of a selector are ANDed; ``matchLabels`` ``{k: v}`` is
``k In (v)``; ``NotIn`` and ``DoesNotExist`` match objects that lack the key; the
empty selector matches every object.

Examples
--------
>>> from reach.model import LabelSelector, Labels, Requirement
>>> sel = LabelSelector(Labels({"app": "web"}), (Requirement("tier", "NotIn", ("db",)),))
>>> matches(sel, {"app": "web"}), matches(sel, {"app": "web", "tier": "db"})
(True, False)
>>> index = LabelIndex([{"app": "web"}, {"app": "db"}, {}])
>>> bin(index.select(LabelSelector(Labels({"app": "db"}))))
'0b10'
>>> bin(index.select(sel))
'0b1'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reach.model import LabelSelector, Requirement

__all__ = ["LabelIndex", "matches", "requirement_matches"]


def requirement_matches(req: Requirement, labels: Mapping[str, str]) -> bool:
    """Whether one ``matchExpressions`` requirement holds for ``labels``."""
    if req.operator == "In":
        return req.key in labels and labels[req.key] in req.values
    if req.operator == "NotIn":
        return req.key not in labels or labels[req.key] not in req.values
    if req.operator == "Exists":
        return req.key in labels
    return req.key not in labels  # DoesNotExist


def matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Whether ``selector`` selects an object carrying ``labels``."""
    for key, value in selector.match_labels.items():
        if labels.get(key) != value:
            return False
    return all(requirement_matches(req, labels) for req in selector.match_expressions)


class LabelIndex:
    """Evaluates selectors over a fixed sequence of label sets, as bitsets.

    Bit ``i`` of a result stands for ``label_sets[i]``. Each selector costs a few
    big-integer operations, whatever the number of label sets.
    """

    def __init__(self, label_sets: Sequence[Mapping[str, str]]) -> None:
        self.size = len(label_sets)
        self.everything = (1 << self.size) - 1
        self._by_pair: dict[tuple[str, str], int] = {}
        self._by_key: dict[str, int] = {}
        for i, labels in enumerate(label_sets):
            bit = 1 << i
            for key, value in labels.items():
                self._by_pair[(key, value)] = self._by_pair.get((key, value), 0) | bit
                self._by_key[key] = self._by_key.get(key, 0) | bit
        self._cache: dict[LabelSelector, int] = {}

    def _requirement(self, req: Requirement) -> int:
        if req.operator in ("In", "NotIn"):
            having = 0
            for value in req.values:
                having |= self._by_pair.get((req.key, value), 0)
            return having if req.operator == "In" else self.everything & ~having
        having = self._by_key.get(req.key, 0)
        return having if req.operator == "Exists" else self.everything & ~having

    def select(self, selector: LabelSelector) -> int:
        """The bitset of label sets that ``selector`` matches."""
        cached = self._cache.get(selector)
        if cached is not None:
            return cached
        result = self.everything
        for key, value in selector.match_labels.items():
            result &= self._by_pair.get((key, value), 0)
        for req in selector.match_expressions:
            if not result:
                break
            result &= self._requirement(req)
        self._cache[selector] = result
        return result
