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

Calico selectors (:mod:`reach.model.expressions`) are evaluated over the same index:

>>> from reach.model.expressions import CalicoSelector, Compare
>>> bin(index.select_expression(CalicoSelector("app != 'web'", Compare("app", "!=", "web"))))
'0b110'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reach.model import LabelSelector, Requirement
from reach.model.expressions import (
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


def matches(selector: LabelSelector | CalicoSelector, labels: Mapping[str, str]) -> bool:
    """Whether ``selector`` selects an object carrying ``labels`` (a Calico selector sees
    only these labels here, not the ones Calico adds: see :mod:`reach.engine.entities`)."""
    if isinstance(selector, CalicoSelector):
        return selector.matches(labels)
    for key, value in selector.match_labels.items():
        if labels.get(key) != value:
            return False
    return all(requirement_matches(req, labels) for req in selector.match_expressions)


class LabelIndex:
    """Evaluates selectors over a fixed sequence of label sets, as bitsets.

    Bit ``i`` of a result stands for ``label_sets[i]``. Each selector costs a few
    big-integer operations, whatever the number of label sets (a Calico ``contains``,
    ``starts with`` or ``ends with`` one more per value its key takes).
    """

    def __init__(self, label_sets: Sequence[Mapping[str, str]]) -> None:
        self.size = len(label_sets)
        self.everything = (1 << self.size) - 1
        self._by_pair: dict[tuple[str, str], int] = {}
        self._by_key: dict[str, int] = {}
        self._values: dict[str, list[str]] = {}  # the values each key takes, each once
        for i, labels in enumerate(label_sets):
            bit = 1 << i
            for key, value in labels.items():
                having = self._by_pair.get((key, value))
                if having is None:
                    having = 0
                    self._values.setdefault(key, []).append(value)
                self._by_pair[(key, value)] = having | bit
                self._by_key[key] = self._by_key.get(key, 0) | bit
        self._cache: dict[LabelSelector, int] = {}
        self._expression_cache: dict[tuple[CalicoSelector, bool], int] = {}

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

    def select_expression(self, selector: CalicoSelector, *, global_: bool = False) -> int:
        """The bitset of label sets that a Calico selector matches.

        Parameters
        ----------
        selector
            A parsed Calico selector.
        global_
            The label sets are those of non-namespaced objects, which ``global()``
            matches (it matches nothing otherwise).

        Returns
        -------
        int
            Bit ``i`` set when ``selector.matches(label_sets[i], global_=global_)``.

        Examples
        --------
        >>> from reach.model.expressions import CalicoSelector, Global, Has, Or
        >>> index = LabelIndex([{"app": "web"}, {}])
        >>> sel = CalicoSelector("has(app) || global()", Or((Has("app"), Global())))
        >>> bin(index.select_expression(sel)), bin(index.select_expression(sel, global_=True))
        ('0b1', '0b11')
        """
        cached = self._expression_cache.get((selector, global_))
        if cached is None:
            cached = self._expression(selector.tree, global_)
            self._expression_cache[(selector, global_)] = cached
        return cached

    def _expression(self, node: Expression, global_: bool) -> int:
        match node:
            case All():
                return self.everything
            case Global():
                return self.everything if global_ else 0
            case Has(key=key):
                return self._by_key.get(key, 0)
            case Compare():
                return self._compare(node)
            case InSet(key=key, values=values, negated=negated):
                having = 0
                for value in values:
                    having |= self._by_pair.get((key, value), 0)
                return self.everything & ~having if negated else having
            case Not(node=inner):
                return self.everything & ~self._expression(inner, global_)
            case And(nodes=nodes):
                result = self.everything
                for part in nodes:
                    if not result:
                        break
                    result &= self._expression(part, global_)
                return result
            case Or(nodes=nodes):
                result = 0
                for part in nodes:
                    if result == self.everything:
                        break
                    result |= self._expression(part, global_)
                return result
        raise TypeError(f"not a Calico selector expression: {node!r}")

    def _compare(self, node: Compare) -> int:
        if node.op == "==":
            return self._by_pair.get((node.key, node.value), 0)
        if node.op == "!=":
            return self.everything & ~self._by_pair.get((node.key, node.value), 0)
        having = 0
        for value in self._values.get(node.key, ()):
            if node.accepts(value):
                having |= self._by_pair[(node.key, value)]
        return having
