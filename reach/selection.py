"""What to show: kubectl's ``-n/--namespace`` and ``-l/--selector``, over any answer.

The analysis always uses the whole input (a connection into the namespace may be
decided by a policy elsewhere); a :class:`Selection` only narrows what is shown: the
connections with an end among the selected pods, the pods of ``isolated``, the
targets of ``exposure``, the endpoints of a diagram.

Label selectors are written as kubectl reads them: ``app=web``, ``app==web``,
``tier!=db`` (also matches pods without the key), ``env in (prod,staging)``,
``env notin (dev)``, ``canary`` (has the key), ``!canary`` (has not), joined by commas.

Examples
--------
>>> str(parse_selector("app=web,tier notin (db),!canary"))
'app=web,tier notin (db),!canary'
>>> parse_selector("app=")
LabelSelector(match_labels=Labels({'app': ''}), match_expressions=())
>>> parse_selector("env in prod")
Traceback (most recent call last):
...
reach.errors.InvalidQuery: cannot read selector "env in prod": "in" takes a list in \
parentheses, e.g. env in (prod,staging)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from reach.endpoints import Endpoint
from reach.engine.selectors import matches
from reach.errors import InvalidQuery
from reach.model import Labels, LabelSelector, Requirement
from reach.network import Connection, Network

__all__ = ["Selection", "parse_selector"]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\((.*)\)\s*$")
_EQUAL = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*([-A-Za-z0-9_.]*)\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


def _split(text: str) -> list[str]:
    """Comma-separated requirements; commas inside parentheses belong to a set."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def parse_selector(text: str) -> LabelSelector:
    """A kubectl label selector (``-l``) as a :class:`~reach.model.LabelSelector`.

    Raises :class:`~reach.errors.InvalidQuery` saying what cannot be read.
    """
    labels: dict[str, str] = {}
    expressions: list[Requirement] = []
    for part in _split(text):
        if not part.strip():
            raise InvalidQuery(f'cannot read selector "{text}": an empty requirement')
        found = _SET.match(part)
        if found:
            key, op, values = found.group(1), found.group(3), found.group(4)
            items = tuple(v.strip() for v in values.split(",") if v.strip())
            if not items:
                raise InvalidQuery(f'cannot read selector "{text}": "{op}" needs values')
            expressions.append(Requirement(key, "In" if op == "in" else "NotIn", items))
            continue
        found = _EQUAL.match(part)
        if found:
            key, op, value = found.group(1), found.group(3), found.group(4)
            if op == "!=":
                expressions.append(Requirement(key, "NotIn", (value,)))
            elif key in labels and labels[key] != value:
                raise InvalidQuery(f'cannot read selector "{text}": {key} asked equal to two '
                                   "values")
            else:
                labels[key] = value
            continue
        found = _EXISTS.match(part)
        if found:
            not_, key = found.group(1), found.group(2)
            expressions.append(Requirement(key, "DoesNotExist" if not_ else "Exists"))
            continue
        if re.search(r"\s(in|notin)\s", f" {part} "):
            op = "notin" if "notin" in part else "in"
            raise InvalidQuery(f'cannot read selector "{text}": "{op}" takes a list in '
                               "parentheses, e.g. env in (prod,staging)")
        raise InvalidQuery(f'cannot read selector "{text}" at "{part.strip()}": expected '
                           "key=value, key!=value, key in (a,b), key notin (a,b), key or !key")
    return LabelSelector(Labels(labels), tuple(expressions))


@dataclass(frozen=True, slots=True)
class Selection:
    """The pods a user narrowed the output to: a namespace and/or a label selector.

    An empty selection (no namespace, no selector) selects everything.
    """

    namespace: str | None = None
    selector: LabelSelector | None = None

    @staticmethod
    def of(namespace: str | None, selector: str | None) -> Selection:
        return Selection(namespace or None, parse_selector(selector) if selector else None)

    def __bool__(self) -> bool:
        return self.namespace is not None or self.selector is not None

    def selects(self, namespace: str, labels: Labels) -> bool:
        """Whether a pod of ``namespace`` with ``labels`` is selected."""
        if self.namespace is not None and namespace != self.namespace:
            return False
        return self.selector is None or matches(self.selector, labels)

    def pods(self, net: Network) -> frozenset[int]:
        """The indices of the selected pods of ``net``."""
        return frozenset(i for i, p in enumerate(net.pods) if self.selects(p.namespace, p.labels))

    def endpoints(self, net: Network, candidates: Iterable[Endpoint]) -> frozenset[Endpoint]:
        """Which ``candidates`` stand for a selected pod (outside ends never do).

        A namespace stands for its pods; a Service for its backends (or, with no
        selector given, every Service of the namespace).
        """
        if not self:
            return frozenset(candidates)
        chosen = self.pods(net)
        out = set()
        for ep in candidates:
            if ep.kind in ("External", "Internet") or (ep.kind == "IngressController"
                                                        and not ep.namespace):
                continue
            if ep.kind == "Service" and self.selector is None:
                if ep.namespace == self.namespace:
                    out.add(ep)
                continue
            try:
                found = net.resolve(ep)
            except Exception:  # an endpoint the network cannot name: not selected
                continue
            pods = set(found.pods)
            if found.service is not None:
                pods = {b.pod for b in found.service.backends if b.pod is not None}
            if pods & chosen:
                out.add(ep)
        return frozenset(out)

    def connections(self, net: Network, conns: Iterable[Connection]) -> list[Connection]:
        """The connections with at least one end selected."""
        conns = list(conns)
        if not self:
            return conns
        wanted = self.endpoints(net, {e for c in conns for e in (c.src, c.dst)})
        return [c for c in conns if c.src in wanted or c.dst in wanted]
