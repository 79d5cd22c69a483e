"""Reads shared by every kind: metadata, labels, protocols, port numbers, unknown fields."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode

from reach.documents._names import label_key_problem, label_value_problem, port_name_problem
from reach.documents._yaml import Mapping, Source, describe
from reach.model import PROTOCOLS, Labels, LabelSelector, Location, Requirement

__all__ = [
    "Meta",
    "check_fields",
    "close_match_hint",
    "read_labels",
    "read_meta",
    "read_port_name",
    "read_port_number",
    "read_protocol",
    "read_selector",
]

_STR = "tag:yaml.org,2002:str"
_SELECTOR = frozenset({"matchLabels", "matchExpressions"})
_REQUIREMENT = frozenset({"key", "operator", "values"})
_OPERATORS = ("DoesNotExist", "Exists", "In", "NotIn")
_REQUIREMENT_HINTS = {"value": "did you mean values? it takes a list"}
_OBJECT_META = frozenset({
    "annotations", "clusterName", "creationTimestamp", "deletionGracePeriodSeconds",
    "deletionTimestamp", "finalizers", "generateName", "generation", "labels",
    "managedFields", "name", "namespace", "ownerReferences", "resourceVersion", "selfLink",
    "uid",
})


@dataclass(frozen=True, slots=True)
class Meta:
    """What reach keeps of an object's ``metadata``."""

    name: str
    namespace: str
    labels: Labels
    location: Location
    node: Mapping


def close_match_hint(key: str, allowed: Iterable[str]) -> str:
    """``did you mean X?`` for a near miss, else the list of valid names."""
    names = sorted(allowed)
    for name in names:
        if name.lower() == key.lower():
            return f"did you mean {name}? field names are case-sensitive"
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]}?"
    return "valid fields: " + ", ".join(names)


def check_fields(
    src: Source,
    fields: Mapping,
    allowed: frozenset[str],
    context: str,
    hints: dict[str, str] | None = None,
) -> None:
    """Refuse the first key of ``fields`` that is not in ``allowed``."""
    for key, (key_node, _) in fields.items():
        if key not in allowed:
            hint = (hints or {}).get(key) or close_match_hint(key, allowed)
            src.fail(key_node, f'unknown field "{key}" in {context}', hint)


def read_meta(
    src: Source, fields: Mapping, root: Node, kind: str, *, strict: bool = False
) -> Meta:
    """Name, namespace (``default`` when absent) and labels of an object."""
    entry = fields.get("metadata")
    meta = src.mapping(entry[1], "metadata") if entry else None
    if meta is None:
        src.fail(root, f"{kind} has no metadata.name", "every object needs metadata.name")
    if strict:
        check_fields(src, meta, _OBJECT_META, "metadata", _META_HINTS)
    name_entry = meta.get("name")
    name = src.string(name_entry[1], "metadata.name") if name_entry else None
    if not name:
        src.fail(
            name_entry[1] if name_entry else entry[1] if entry else root,
            f"{kind} has no metadata.name",
            "every object needs metadata.name",
        )
    ns_entry = meta.get("namespace")
    namespace = (src.string(ns_entry[1], "metadata.namespace") if ns_entry else None) or "default"
    labels_entry = meta.get("labels")
    labels = read_labels(src, labels_entry[1], "metadata.labels") if labels_entry else Labels()
    return Meta(name, namespace, labels, src.location(root), meta)


_META_HINTS = {
    key: f"{key} belongs under spec, not metadata: check its indentation"
    for key in ("podSelector", "policyTypes", "ingress", "egress", "spec")
}


def read_labels(src: Source, node: Node, what: str, *, selector: bool = False) -> Labels:
    """A ``labels``/``matchLabels`` mapping, every key and value checked."""
    fields = src.mapping(node, what)
    if not fields:
        return Labels()
    out: dict[str, str] = {}
    for key, (key_node, value_node) in fields.items():
        if src.text_of(key_node) is None:
            src.fail(key_node, f"label key {key} must be a string, not {describe(key_node)}",
                     f'quote it: "{key}"')
        problem = label_key_problem(key)
        if problem:
            src.fail(key_node, f'invalid label key "{key}" in {what}: {problem}')
        value = src.text_of(value_node)
        if value is None:
            hint = None
            if type(value_node) is ScalarNode:
                hint = f'quote it: {key}: "{value_node.value}"'
            if type(value_node) is MappingNode and not selector:
                hint = "a label value is a single string; check the indentation"
            src.fail(
                value_node,
                f'label "{key}" in {what} must have a string value, not {describe(value_node)}',
                hint,
            )
        problem = label_value_problem(value)
        if problem:
            src.fail(value_node, f'invalid value "{value}" for label "{key}" in {what}: '
                     f"{problem}")
        out[key] = value
    return Labels(out)


def read_protocol(src: Source, node: Node, what: str = "protocol") -> str:
    """TCP, UDP or SCTP (case-sensitive, as the API server); TCP for null."""
    value = src.string(node, what)
    if value is None:
        return "TCP"
    if value not in PROTOCOLS:
        if value.upper() in PROTOCOLS:
            hint = f"did you mean {value.upper()}? protocols are case-sensitive"
        else:
            hint = "use TCP, UDP or SCTP"
        src.fail(node, f'unknown protocol "{value}"', hint)
    return value


def read_port_number(src: Source, node: Node, what: str) -> int | None:
    """An integer port in 1-65535; None for null."""
    port = src.integer(node, what)
    if port is not None and not 1 <= port <= 65535:
        src.fail(node, f"{what} {port} is out of range 1-65535")
    return port


def read_port_name(src: Source, node: Node, name: str, what: str) -> str:
    """A port name that must be a valid IANA_SVC_NAME."""
    problem = port_name_problem(name)
    if problem:
        hint = "write the number without quotes" if name.strip().isdigit() else (
            "a port name is 1-15 lowercase letters, digits and '-', with at least one letter")
        src.fail(node, f'invalid {what} "{name}": {problem}', hint)
    return name


def read_selector(
    src: Source, node: Node, what: str, hints: dict[str, str] | None = None
) -> LabelSelector | None:
    """A metav1.LabelSelector (``matchLabels``, ``matchExpressions``), every part checked.

    None for a null node; ``hints`` explain keys that belong elsewhere.
    """
    fields = src.mapping(node, what)
    if fields is None:
        return None
    hints = dict(hints or {})
    for key in fields:
        if key not in _SELECTOR and key not in hints and not label_key_problem(key):
            hints[key] = f"label keys go under matchLabels: `matchLabels: {{{key}: ...}}`"
    check_fields(src, fields, _SELECTOR, what, hints)
    labels_entry = fields.get("matchLabels")
    labels = read_labels(src, labels_entry[1], f"{what}.matchLabels", selector=True) if (
        labels_entry) else None
    expr_entry = fields.get("matchExpressions")
    items = (src.sequence(expr_entry[1], f"{what}.matchExpressions") if expr_entry else None)
    requirements = tuple(_requirement(src, item, what) for item in items or [])
    return LabelSelector(match_labels=labels, match_expressions=requirements) if labels else (
        LabelSelector(match_expressions=requirements))


def _requirement(src: Source, node: Node, what: str) -> Requirement:
    fields = src.mapping(node, f"a {what}.matchExpressions entry") or {}
    check_fields(src, fields, _REQUIREMENT, "matchExpressions entry", _REQUIREMENT_HINTS)
    key_entry = fields.get("key")
    key = src.string(key_entry[1], "key") if key_entry else None
    if not key:
        src.fail(key_entry[1] if key_entry else node, "a matchExpressions entry needs a key")
    assert key_entry is not None
    problem = label_key_problem(key)
    if problem:
        src.fail(key_entry[1], f'invalid label key "{key}" in matchExpressions: {problem}')
    op_entry = fields.get("operator")
    operator = src.string(op_entry[1], "operator") if op_entry else None
    if operator not in _OPERATORS:
        near = [op for op in _OPERATORS if operator and op.lower() == operator.lower()]
        valid = "valid operators: " + ", ".join(_OPERATORS)
        if operator is None:
            src.fail(op_entry[1] if op_entry else node,
                     "a matchExpressions entry needs an operator", valid)
        assert op_entry is not None
        src.fail(op_entry[1], f'unknown operator "{operator}" in matchExpressions',
                 f"did you mean {near[0]}? {valid}" if near else valid)
    values_entry = fields.get("values")
    value_items = (src.sequence(values_entry[1], "values") if values_entry else None) or []
    values: list[str] = []
    for item in value_items:
        value = src.string(item, "a matchExpressions value")
        if value is None:
            src.fail(item, "a matchExpressions value must be a string, not null",
                     'write "" for the empty value')
        problem = label_value_problem(value)
        if problem:
            src.fail(item, f'invalid label value "{value}" in matchExpressions: {problem}')
        values.append(value)
    if operator in ("In", "NotIn") and not values:
        src.fail(op_entry[1] if op_entry else node,
                 f"operator {operator} needs at least one value",
                 "add `values: [...]`, or use Exists to match any value")
    if operator in ("Exists", "DoesNotExist") and values:
        assert values_entry is not None
        src.fail(values_entry[0], f"operator {operator} takes no values",
                 "remove `values`, or use In / NotIn")
    return Requirement(key=key, operator=operator, values=tuple(values))  # type: ignore[arg-type]
