"""Calico's label-selector expressions, parsed: a small tree of immutable nodes.

Calico selects with expressions over labels rather than with Kubernetes' lists of
requirements. The match operators are ``k == 'v'``, ``k != 'v'``, ``has(k)``,
``k in {'v1', 'v2'}``, ``k not in {...}``, ``k contains 's'``, ``k starts with 's'``,
``k ends with 's'``, ``all()`` and ``global()``; they combine with ``!``, ``&&``,
``||`` and parentheses. ``k != 'v'`` and ``k not in {...}`` also match objects that
lack ``k``; every other operator on a key needs the key. An empty selector is
``all()``.

Each node is a frozen, slotted dataclass, hashable, so a tree can be a cache key.
The base class is :class:`Expression` (``reach.model.Node`` is a cluster's node).
:class:`CalicoSelector` pairs a tree with the text it was parsed from; the parser is
:func:`reach.policies.calico_selector.parse_selector`.

Examples
--------
>>> tree = And((Compare("app", "==", "web"), Not(Has("canary"))))
>>> tree.matches({"app": "web"}), tree.matches({"app": "web", "canary": ""})
(True, False)
>>> InSet("tier", ("db",), negated=True).matches({})
True
>>> sorted(Or((Has("a"), Not(Compare("b", "contains", "x")))).keys())
['a', 'b']
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "COMPARE_OPS",
    "All",
    "And",
    "CalicoSelector",
    "Compare",
    "CompareOp",
    "Expression",
    "Global",
    "Has",
    "InSet",
    "Not",
    "Or",
]

CompareOp = Literal["==", "!=", "contains", "starts with", "ends with"]

_TESTS: dict[str, Callable[[str, str], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "contains": operator.contains,
    "starts with": str.startswith,
    "ends with": str.endswith,
}

#: The operators of :class:`Compare`, in the order Calico's reference lists them.
COMPARE_OPS: tuple[CompareOp, ...] = ("==", "!=", "contains", "starts with", "ends with")


class Expression(ABC):
    """A node of a parsed Calico selector."""

    __slots__ = ()

    @abstractmethod
    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        """Whether an object with ``labels`` is selected.

        ``global_``: the object is not namespaced (a host endpoint, a global network
        set, the global scope of a ``namespaceSelector``); only such objects match
        ``global()``.
        """

    def keys(self) -> frozenset[str]:
        """The label keys the expression mentions."""
        return frozenset()


@dataclass(frozen=True, slots=True)
class All(Expression):
    """``all()``: every object in scope.

    >>> All().matches({}), Not(All()).matches({"a": "b"})
    (True, False)
    """

    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Global(Expression):
    """``global()``: the objects that are not namespaced.

    >>> Global().matches({}), Global().matches({}, global_=True)
    (False, True)
    """

    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        return global_


@dataclass(frozen=True, slots=True)
class Has(Expression):
    """``has(key)``: the object carries ``key``, whatever its value.

    >>> Has("app").matches({"app": ""}), Has("app").matches({"App": "x"})
    (True, False)
    """

    key: str

    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        return self.key in labels

    def keys(self) -> frozenset[str]:
        return frozenset((self.key,))


@dataclass(frozen=True, slots=True)
class Compare(Expression):
    """``key OP 'value'``; only ``!=`` also matches objects without ``key``.

    >>> Compare("app", "!=", "web").matches({}), Compare("app", "==", "web").matches({})
    (True, False)
    >>> Compare("app", "starts with", "we").matches({"app": "web"})
    True
    """

    key: str
    op: CompareOp
    value: str

    def accepts(self, actual: str) -> bool:
        """Whether a label value ``actual`` of ``key`` satisfies the comparison.

        >>> Compare("zone", "ends with", "-1").accepts("eu-1")
        True
        """
        return _TESTS[self.op](actual, self.value)

    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        actual = labels.get(self.key)
        if actual is None:
            return self.op == "!="
        return self.accepts(actual)

    def keys(self) -> frozenset[str]:
        return frozenset((self.key,))


@dataclass(frozen=True, slots=True)
class InSet(Expression):
    """``key in {...}``, or with ``negated`` ``key not in {...}`` (which also matches
    objects without ``key``). The parser stores ``values`` sorted, without repeats.

    >>> InSet("env", ("dev", "qa")).matches({"env": "qa"}), InSet("env", ()).matches({"env": ""})
    (True, False)
    >>> InSet("env", ("prod",), negated=True).matches({})
    True
    """

    key: str
    values: tuple[str, ...]
    negated: bool = False

    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        actual = labels.get(self.key)
        if actual is None:
            return self.negated
        return (actual in self.values) != self.negated

    def keys(self) -> frozenset[str]:
        return frozenset((self.key,))


@dataclass(frozen=True, slots=True)
class Not(Expression):
    """``!node``.

    >>> Not(Has("app")).matches({}), Not(Has("app")).matches({"app": "x"})
    (True, False)
    """

    node: Expression

    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        return not self.node.matches(labels, global_=global_)

    def keys(self) -> frozenset[str]:
        return self.node.keys()


@dataclass(frozen=True, slots=True)
class And(Expression):
    """``a && b && ...``: every node matches (no nodes: always).

    >>> And((Has("a"), Has("b"))).matches({"a": "1"}), And(()).matches({})
    (False, True)
    """

    nodes: tuple[Expression, ...]

    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        return all(node.matches(labels, global_=global_) for node in self.nodes)

    def keys(self) -> frozenset[str]:
        return _keys_of(self.nodes)


@dataclass(frozen=True, slots=True)
class Or(Expression):
    """``a || b || ...``: some node matches (no nodes: never).

    >>> Or((Has("a"), Has("b"))).matches({"b": "1"}), Or(()).matches({})
    (True, False)
    """

    nodes: tuple[Expression, ...]

    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        return any(node.matches(labels, global_=global_) for node in self.nodes)

    def keys(self) -> frozenset[str]:
        return _keys_of(self.nodes)


def _keys_of(nodes: tuple[Expression, ...]) -> frozenset[str]:
    none: frozenset[str] = frozenset()
    return none.union(*(node.keys() for node in nodes))


@dataclass(frozen=True, slots=True)
class CalicoSelector:
    """A Calico selector: the text as written and the tree it was parsed into.

    ``str()`` gives the text back, so messages quote the user's own selector.

    Examples
    --------
    >>> sel = CalicoSelector("role != 'db'", Compare("role", "!=", "db"))
    >>> str(sel), sel.matches({}), sel.matches({"role": "db"}), sel.is_all
    ("role != 'db'", True, False, False)
    >>> CalicoSelector("", All()).is_all, sorted(sel.keys())
    (True, ['role'])
    """

    text: str
    tree: Expression

    def matches(self, labels: Mapping[str, str], *, global_: bool = False) -> bool:
        """Whether an object with ``labels`` is selected; ``global_``: it is not
        namespaced (only such objects match ``global()``)."""
        return self.tree.matches(labels, global_=global_)

    @property
    def is_all(self) -> bool:
        """Whether the selector is exactly ``all()`` (or empty, which means ``all()``),
        not merely equivalent to it."""
        return isinstance(self.tree, All)

    @property
    def is_empty(self) -> bool:
        """:attr:`is_all`, under the name Kubernetes label selectors use for it."""
        return self.is_all

    def keys(self) -> frozenset[str]:
        """The label keys the selector mentions."""
        return self.tree.keys()

    def __str__(self) -> str:
        return self.text
