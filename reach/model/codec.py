"""The model as plain data: a :class:`Cluster` to JSON-ready lists and back, checked.

A cache must be data only: reading it must never run code nor build anything but the
model's own types. So the encoding is directed by the dataclasses' field types, and
decoding accepts exactly those shapes, or raises :class:`CodecError`.

Every object is interned into a table of its type (by value, or for objects that are
one of a kind such as pods and rules by identity), stored column by column
(one list per field); a field holding another object holds its row number. Tables
are decoded in dependency order (locations and labels before pods, peers before
rules), a column at a time. Calico's selector trees, the one recursive type, are
written inline as nested lists.

Examples
--------
>>> from reach.model import Cluster, Labels, Pod
>>> cluster = Cluster(pods=(Pod("ns", "a", Labels({"app": "web"})),))
>>> data = encode_cluster(cluster)
>>> decode_cluster(data).cluster == cluster
True
>>> data["tables"]["Pod"]["name"]
['a']
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from operator import attrgetter
from typing import Any

from reach.model import base, cluster, expressions, policy
from reach.model.base import Labels
from reach.model.cluster import Cluster
from reach.model.expressions import Expression

__all__ = ["FORMAT", "CodecError", "Decoded", "Encoder", "decode_cluster", "encode_cluster"]

FORMAT = 1
"""The version of the encoding; a change of any model type's fields changes it too
(:func:`schema_digest`)."""

_TABLED: tuple[type, ...] = (
    base.Location, base.Diagnostic,
    policy.Tier, policy.Requirement, policy.LabelSelector, policy.IPBlock,
    expressions.CalicoSelector, policy.Entity, policy.Peer, policy.PolicyPort, policy.Rule,
    policy.Policy,
    cluster.Namespace, cluster.ContainerPort, cluster.Pod, cluster.ServiceAccount,
    cluster.NetworkSet, cluster.Workload, cluster.Node, cluster.ServicePort, cluster.Service,
    cluster.EndpointAddress, cluster.Endpoints, cluster.IngressBackend, cluster.Ingress,
    cluster.StagedPolicy, cluster.Cluster,
)
_TREE: tuple[type, ...] = (
    expressions.All, expressions.Global, expressions.Has, expressions.Compare,
    expressions.InSet, expressions.Not, expressions.And, expressions.Or,
)
_BY_IDENTITY: frozenset[type] = frozenset({
    base.Location, base.Diagnostic, policy.Peer, policy.Rule, policy.Policy, cluster.Namespace,
    cluster.Pod, cluster.ServiceAccount, cluster.NetworkSet, cluster.Workload, cluster.Node,
    cluster.Service, cluster.Endpoints, cluster.Ingress, cluster.StagedPolicy, cluster.Cluster,
})
"""Types interned by identity: objects that are one of a kind (or whose hash walks a whole
tree); the others (selectors, ports, tiers...) are written once per distinct value."""
_NONE = type(None)
_SCALARS = (str, int, float, bool, _NONE)


class CodecError(ValueError):
    """Data that is not an encoding of the model (corrupt, or written by another format)."""


# ---------------------------------------------------------------------------
# the schema: one field kind per dataclass field, from its type


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    """How a field is written.

    ``kind``: ``scalar`` (a JSON scalar of ``allowed`` types), ``scalars`` (a tuple
    of them, as a list), ``frozenset`` (of strings, as a sorted list), ``ref`` (the
    row of an object of ``target``; None allowed when ``optional``), ``refs`` (a
    tuple of those), ``labels`` (a row of the labels table), ``tree`` (a selector
    tree, inline).
    """

    name: str
    kind: str
    allowed: frozenset[type] = frozenset()
    target: type | None = None
    optional: bool = False


def _members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _scalar_types(annotation: Any) -> frozenset[type] | None:
    out: set[type] = set()
    for member in _members(annotation):
        if typing.get_origin(member) is typing.Literal:
            out.update(type(v) for v in typing.get_args(member))
        elif member in _SCALARS:
            out.add(member)
            if member is float:
                out.add(int)  # a float field written as a whole number
        else:
            return None
    return frozenset(out)


def _field(name: str, annotation: Any) -> _Field:
    scalars = _scalar_types(annotation)
    if scalars is not None:
        return _Field(name, "scalar", scalars)
    members = _members(annotation)
    optional = _NONE in members
    inner = tuple(m for m in members if m is not _NONE)
    if len(inner) == 1:
        (only,) = inner
        origin = typing.get_origin(only)
        if only is Labels:
            return _Field(name, "labels", optional=optional)
        if only is Expression:
            return _Field(name, "tree", optional=optional)
        if only in _TABLED:
            return _Field(name, "ref", target=only, optional=optional)
        if origin is frozenset and typing.get_args(only) == (str,):
            return _Field(name, "frozenset", frozenset({str}))
        if origin is tuple:
            args = typing.get_args(only)
            if len(args) == 2 and args[1] is Ellipsis:
                element = _scalar_types(args[0])
                if element is not None:
                    return _Field(name, "scalars", element)
                if args[0] in _TABLED:
                    return _Field(name, "refs", target=args[0])
                if args[0] is Expression:
                    return _Field(name, "trees")
    if len(inner) > 1 and all(m in _TABLED for m in inner):
        return _Field(name, "union", target=None, optional=optional,
                      allowed=frozenset(inner))
    raise TypeError(f"the model codec cannot write field {name}: {annotation!r}")


@cache
def _schema(cls: type) -> tuple[_Field, ...]:
    scope = vars(base) | vars(policy) | vars(cluster) | vars(expressions)
    hints = typing.get_type_hints(cls, scope)
    return tuple(_field(f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _dependencies(cls: type) -> set[type]:
    out: set[type] = set()
    for f in _schema(cls):
        if f.target is not None:
            out.add(f.target)
        out.update(t for t in f.allowed if t in _TABLED)
    return out


@cache
def _order() -> tuple[type, ...]:
    """Tabled types, each after every type its fields refer to."""
    done: list[type] = []
    visiting: set[type] = set()

    def visit(cls: type) -> None:
        if cls in done:
            return
        if cls in visiting:
            raise TypeError(f"the model codec needs {cls.__name__} to be written inline")
        visiting.add(cls)
        for dep in sorted(_dependencies(cls), key=_TABLED.index):
            visit(dep)
        visiting.discard(cls)
        done.append(cls)

    for cls in _TABLED:
        visit(cls)
    return tuple(done)


def schema_digest() -> str:
    """Every written type with its fields and their kinds: what an encoding depends on."""
    parts = [f"{FORMAT}"]
    for cls in (*_order(), *_TREE):
        fields = ",".join(f"{f.name}:{f.kind}" for f in _schema(cls))
        parts.append(f"{cls.__name__}({fields})")
    return ";".join(parts)


# ---------------------------------------------------------------------------
# encoding


class Encoder:
    """Interns model objects into per-type column tables; :meth:`ref` gives an object's
    row, for data stored beside the model (the compiled form's peers)."""

    def __init__(self) -> None:
        self._rows: dict[type, dict[Any, int]] = {cls: {} for cls in _TABLED}
        self._held: list[Any] = []  # what is interned by id stays alive while it is written
        self._columns: dict[type, list[list[Any]]] = {
            cls: [[] for _ in _schema(cls)] for cls in _TABLED}
        # per type: its fields read at once, and how each is written (None: as it is)
        self._plans: dict[type, tuple[Callable[[Any], Any], list[Any]]] = {
            cls: (attrgetter(*(f.name for f in _schema(cls))),
                  [self._writer(f) for f in _schema(cls)]) for cls in _TABLED}
        self._labels: dict[Labels, int] = {}
        self._label_rows: list[list[str]] = []

    def ref(self, obj: Any) -> int:
        cls: type = type(obj)
        rows = self._rows[cls]
        key = id(obj) if cls in _BY_IDENTITY else obj
        found = rows.get(key)
        if found is None:
            if key is not obj:
                self._held.append(obj)
            read, writers = self._plans[cls]
            values = read(obj)
            for column, write, value in zip(self._columns[cls], writers,
                                            values if len(writers) > 1 else (values,),
                                            strict=True):
                column.append(value if write is None or value is None else write(value))
            found = rows[key] = len(rows)
        return found

    def labels(self, labels: Labels) -> int:
        found = self._labels.get(labels)
        if found is None:
            found = self._labels[labels] = len(self._label_rows)
            self._label_rows.append([part for item in labels.items() for part in item])
        return found

    def _writer(self, f: _Field) -> Callable[[Any], Any] | None:
        """How a (not None) value of field ``f`` is written; None: as it is."""
        kind = f.kind
        if kind == "scalar":
            return None
        if kind == "scalars":
            return list
        if kind == "frozenset":
            return sorted
        if kind == "ref":
            return self.ref
        if kind == "refs":
            return lambda value: [self.ref(v) for v in value]
        if kind == "union":
            return lambda value: [type(value).__name__, self.ref(value)]
        if kind == "labels":
            return self.labels
        if kind == "tree":
            return _tree
        return lambda value: [_tree(v) for v in value]  # trees

    def data(self, root: Cluster) -> dict[str, Any]:
        """The tables, with ``root`` (the cluster) their last object."""
        index = self.ref(root)
        tables: dict[str, Any] = {
            cls.__name__: {f.name: column
                           for f, column in zip(_schema(cls), self._columns[cls], strict=True)}
            for cls in _TABLED}
        tables["Labels"] = self._label_rows
        return {"format": FORMAT, "schema": schema_digest(), "tables": tables, "root": index}


def _tree(node: Expression) -> list[Any]:
    cls = type(node)
    if cls not in _TREE:
        raise TypeError(f"the model codec cannot write a {cls.__name__}")
    out: list[Any] = [cls.__name__]
    for f in _schema(cls):
        value = getattr(node, f.name)
        if f.kind == "tree":
            value = _tree(value)
        elif f.kind == "trees":
            value = [_tree(v) for v in value]
        elif f.kind in ("scalars", "frozenset"):
            value = sorted(value) if f.kind == "frozenset" else list(value)
        out.append(value)
    return out


def encode_cluster(root: Cluster, encoder: Encoder | None = None) -> dict[str, Any]:
    """``root`` as JSON-ready data (lists, strings, numbers, None)."""
    return (encoder or Encoder()).data(root)


# ---------------------------------------------------------------------------
# decoding


@dataclasses.dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded cluster, with every table's objects for data stored beside it."""

    cluster: Cluster
    tables: dict[type, list[Any]]

    def table(self, cls: type) -> list[Any]:
        return self.tables[cls]


def _fail(what: str) -> typing.NoReturn:
    raise CodecError(f"not an encoded reach model: {what}")


def _check_types(values: Iterable[Any], allowed: frozenset[type], what: str) -> None:
    if not set(map(type, values)) <= allowed:
        _fail(f"{what} holds a value of another type")


def _indices(values: list[Any], size: int, optional: bool, what: str) -> None:
    _check_types(values, frozenset({int, _NONE}) if optional else frozenset({int}), what)
    present = [v for v in values if v is not None] if optional else values
    if present and (min(present) < 0 or max(present) >= size):
        _fail(f"{what} refers to a row that does not exist")


def _lists(values: list[Any], what: str) -> None:
    _check_types(values, frozenset({list}), what)


def _column(f: _Field, values: list[Any], tables: dict[type, list[Any]],
            labels: list[Labels], what: str) -> list[Any]:
    kind = f.kind
    if kind == "scalar":
        _check_types(values, f.allowed, what)
        return values
    if kind in ("scalars", "frozenset"):
        _lists(values, what)
        _check_types((x for v in values for x in v), f.allowed, what)
        make: Callable[[Iterable[Any]], Any] = tuple if kind == "scalars" else frozenset
        return [make(v) for v in values]
    if kind == "labels":
        _indices(values, len(labels), f.optional, what)
        return [None if v is None else labels[v] for v in values]
    if kind in ("ref", "refs"):
        assert f.target is not None
        rows = tables[f.target]
        if kind == "ref":
            _indices(values, len(rows), f.optional, what)
            return [None if v is None else rows[v] for v in values]
        _lists(values, what)
        _indices([x for v in values for x in v], len(rows), False, what)
        return [tuple([rows[x] for x in v]) for v in values]
    if kind == "union":
        by_name = {t.__name__: tables[t] for t in f.allowed}
        out: list[Any] = []
        for v in values:
            if v is None and f.optional:
                out.append(None)
                continue
            if type(v) is not list or len(v) != 2 or v[0] not in by_name:
                _fail(f"{what} holds a value of another type")
            rows = by_name[v[0]]
            if type(v[1]) is not int or not 0 <= v[1] < len(rows):
                _fail(f"{what} refers to a row that does not exist")
            out.append(rows[v[1]])
        return out
    if kind == "tree":
        return [None if v is None and f.optional else _untree(v, what) for v in values]
    _lists(values, what)
    return [tuple(_untree(x, what) for x in v) for v in values]  # trees


_TREE_BY_NAME = {cls.__name__: cls for cls in _TREE}


def _untree(value: Any, what: str) -> Expression:
    if type(value) is not list or not value or value[0] not in _TREE_BY_NAME:
        _fail(f"{what} holds something that is not a selector tree")
    cls = _TREE_BY_NAME[value[0]]
    fields = _schema(cls)
    if len(value) != len(fields) + 1:
        _fail(f"{what} holds a {cls.__name__} of {len(value) - 1} fields")
    args: list[Any] = []
    for f, raw in zip(fields, value[1:], strict=True):
        if f.kind == "tree":
            args.append(_untree(raw, what))
        elif f.kind == "trees":
            _lists([raw], what)
            args.append(tuple(_untree(x, what) for x in raw))
        else:
            (arg,) = _column(f, [raw], {}, [], what)
            args.append(arg)
    node: Expression = cls(*args)
    return node


def _labels(rows: Any) -> list[Labels]:
    if type(rows) is not list:
        _fail("the labels table is not a list")
    _lists(rows, "the labels table")
    _check_types((x for row in rows for x in row), frozenset({str}), "the labels table")
    if any(len(row) % 2 for row in rows):
        _fail("a labels row has a key without a value")
    return [Labels(dict(zip(row[::2], row[1::2], strict=True))) for row in rows]


def decode_cluster(data: Any) -> Decoded:
    """The cluster (and every table) that :func:`encode_cluster` wrote, checked: any
    other shape raises :class:`CodecError`."""
    if type(data) is not dict or data.get("format") != FORMAT:
        _fail("unknown format")
    if data.get("schema") != schema_digest():
        _fail("written for other model types")
    raw = data.get("tables")
    if type(raw) is not dict:
        _fail("no tables")
    labels = _labels(raw.get("Labels"))
    tables: dict[type, list[Any]] = {}
    for cls in _order():
        tables[cls] = _table(cls, raw.get(cls.__name__), tables, labels)
    roots = tables[Cluster]
    index = data.get("root")
    if type(index) is not int or not 0 <= index < len(roots):
        _fail("no cluster")
    return Decoded(roots[index], tables)


def _table(cls: type, raw: Any, tables: dict[type, list[Any]],
           labels: list[Labels]) -> list[Any]:
    fields = _schema(cls)
    name = cls.__name__
    if type(raw) is not dict or set(raw) != {f.name for f in fields}:
        _fail(f"table {name} has other fields")
    columns: list[Sequence[Any]] = []
    size = None
    for f in fields:
        values = raw[f.name]
        if type(values) is not list or (size is not None and len(values) != size):
            _fail(f"column {name}.{f.name} is not one value per row")
        size = len(values)
        columns.append(_column(f, values, tables, labels, f"column {name}.{f.name}"))
    try:
        return [cls(*args) for args in zip(*columns, strict=True)]
    except (TypeError, ValueError) as exc:
        _fail(f"a {name} cannot be built: {exc}")
