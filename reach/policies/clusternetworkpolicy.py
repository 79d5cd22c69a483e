"""The cluster-wide admin policies of kubernetes-sigs/network-policy-api, validated and read.

Three kinds, one dialect:

* ``ClusterNetworkPolicy`` (``policy.networking.k8s.io/v1alpha2``, release v0.2.0):
  ``spec.tier`` ``Admin`` or ``Baseline``, ``spec.priority`` 0-1000, actions
  ``Accept``, ``Deny``, ``Pass``, ports as ``protocols``;
* ``AdminNetworkPolicy`` (``v1alpha1``): the Admin tier, actions ``Allow``, ``Deny``,
  ``Pass``, ports as ``ports``;
* ``BaselineAdminNetworkPolicy`` (``v1alpha1``): the Baseline tier, a singleton named
  ``default``, actions ``Allow`` and ``Deny``.

Each becomes a cluster-scoped :class:`~reach.model.Policy` of
:data:`~reach.model.ADMIN_TIER` or :data:`~reach.model.BASELINE_TIER` (``Accept`` is
read as ``Allow``). The subject is ``namespaces`` (every pod of those namespaces) or
``pods`` (``namespaceSelector`` and ``podSelector``). Peers are ``namespaces`` and
``pods`` in both directions; egress also has ``networks`` (CIDRs, which match pod IPs
too), ``nodes`` (the addresses of the matching Nodes) and ``domainNames``, which no
static analysis can resolve (read as matching nothing, with a caveat). A peer with no
field reach knows (a newer API) fails closed as the API says: an ``Accept`` rule
holding it matches nothing, a ``Deny`` or ``Pass`` rule becomes "deny all".

Validation follows the CRDs (schema and CEL rules): one-of fields, enums, priority
and port ranges, list lengths (25 in v1alpha2, 100 for rules, peers and ports in
v1alpha1), range start below end, the BaselineAdminNetworkPolicy's name, named ports
beside address peers, CIDR syntax. Every error is a
:class:`~reach.errors.ManifestError` at the offending key or value.

Examples
--------
>>> from reach.loader import read_cluster
>>> cluster = read_cluster("-", stdin_text='''
... apiVersion: policy.networking.k8s.io/v1alpha2
... kind: ClusterNetworkPolicy
... metadata: {name: platform}
... spec:
...   tier: Admin
...   priority: 10
...   subject: {namespaces: {}}
...   egress:
...   - name: defer-dns
...     action: Pass
...     to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
...     protocols: [{udp: {destinationPort: {number: 53}}}]
... ''')
>>> [(p.ref, str(p.tier), p.priority, [(r.action, r.name) for r in p.egress])
...  for p in cluster.policies]
[('cnp/platform', 'Admin', 10, [('Pass', 'defer-dns')])]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yaml.nodes import Node

from reach.documents._fields import (
    Meta,
    check_fields,
    close_match_hint,
    read_port_name,
    read_protocol,
    read_selector,
)
from reach.documents._yaml import Mapping, Source, is_null
from reach.engine.addresses import parse_cidr
from reach.model import (
    ADMIN_TIER,
    BASELINE_TIER,
    Diagnostic,
    Direction,
    IPBlock,
    LabelSelector,
    Location,
    Peer,
    Policy,
    PolicyPort,
    Rule,
    Tier,
)
from reach.model.policy import SHORT_KINDS

__all__ = ["GROUP", "KINDS", "read_cluster_policy"]

GROUP = "policy.networking.k8s.io"

#: The kinds this dialect reads, and the version each is read at.
KINDS: dict[str, str] = {
    "ClusterNetworkPolicy": "v1alpha2",
    "AdminNetworkPolicy": "v1alpha1",
    "BaselineAdminNetworkPolicy": "v1alpha1",
}


@dataclass(frozen=True, slots=True)
class _Dialect:
    """What differs between the three kinds."""

    kind: str
    actions: tuple[str, ...]
    max_items: int  # rules per direction, peers per rule, ports per rule
    ports_field: str  # "ports" (v1alpha1) or "protocols" (v1alpha2)
    has_priority: bool
    egress_peers: frozenset[str]

    @property
    def v2(self) -> bool:
        return self.ports_field == "protocols"


_INGRESS_PEERS = frozenset({"namespaces", "pods"})
_DIALECTS = {
    "ClusterNetworkPolicy": _Dialect(
        "ClusterNetworkPolicy", ("Accept", "Deny", "Pass"), 25, "protocols", True,
        frozenset({"namespaces", "pods", "nodes", "networks", "domainNames"})),
    "AdminNetworkPolicy": _Dialect(
        "AdminNetworkPolicy", ("Allow", "Deny", "Pass"), 100, "ports", True,
        frozenset({"namespaces", "pods", "nodes", "networks", "domainNames"})),
    "BaselineAdminNetworkPolicy": _Dialect(
        "BaselineAdminNetworkPolicy", ("Allow", "Deny"), 100, "ports", False,
        frozenset({"namespaces", "pods", "nodes", "networks"})),
}
_TOP = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_NAMESPACED_POD = frozenset({"namespaceSelector", "podSelector"})
_MAX_NETWORKS = 25
_MAX_DOMAINS = 25
_MAX_RULE_NAME = 100
_MAX_CIDR = 43
_PRIORITY = (0, 1000)
# The CRD's pattern for a domain name: exact, or "*." and one or more labels.
_DOMAIN = re.compile(
    r"(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?\Z")


def read_cluster_policy(
    src: Source, fields: Mapping, meta: Meta, root: Node, notes: list[Diagnostic]
) -> Policy:
    """Build the :class:`Policy` of a ClusterNetworkPolicy, AdminNetworkPolicy or BANP."""
    kind_entry = fields["kind"]
    kind = str(kind_entry[1].value)
    dialect = _DIALECTS[kind]
    check_fields(src, fields, _TOP, kind, {"priority": "it belongs under spec",
                                           "subject": "it belongs under spec"})
    namespace_entry = meta.node.get("namespace")
    if namespace_entry is not None and not is_null(namespace_entry[1]):
        notes.append(Diagnostic(
            "warning", f"{kind} {meta.name} is cluster-scoped: metadata.namespace is ignored",
            src.location(namespace_entry[0])))
    if kind == "BaselineAdminNetworkPolicy" and meta.name != "default":
        name_node = meta.node["name"][1]
        src.fail(name_node, f'a BaselineAdminNetworkPolicy must be named "default", not '
                 f'"{meta.name}"', "it is a singleton: there is at most one, named default")
    spec_entry = fields.get("spec")
    spec = src.mapping(spec_entry[1], "spec") if spec_entry else None
    if spec is None:
        src.fail(spec_entry[1] if spec_entry else root, f"{kind} {meta.name} has no spec",
                 "spec needs a subject" + (" and a priority" if dialect.has_priority else ""))
    assert spec_entry is not None
    allowed = {"subject", "ingress", "egress"}
    if dialect.has_priority:
        allowed.add("priority")
    if dialect.v2:
        allowed.add("tier")
    check_fields(src, spec, frozenset(allowed), f"{kind} spec", _spec_hints(dialect))
    tier = _tier(src, spec, spec_entry[0], dialect)
    priority = _priority(src, spec, spec_entry[0], dialect)
    subject_entry = spec.get("subject")
    if subject_entry is None:
        src.fail(spec_entry[0], f"{kind} {meta.name} has no spec.subject",
                 "write `subject: {namespaces: {}}` to select every pod")
    namespace_selector, pod_selector = _subject(src, subject_entry[1], dialect, notes)
    rules = {direction: _rules(src, spec.get(direction), direction, dialect, meta, notes)
             for direction in ("ingress", "egress")}
    types = tuple(t for t, d in (("Ingress", "ingress"), ("Egress", "egress")) if rules[d])
    return Policy(
        namespace="",
        name=meta.name,
        pod_selector=pod_selector,
        policy_types=types,
        ingress=rules["ingress"],
        egress=rules["egress"],
        location=meta.location,
        namespace_selector=namespace_selector,
        kind=kind,
        tier=tier,
        priority=priority,
    )


def _a(kind: str) -> str:
    """``an AdminNetworkPolicy``, ``a ClusterNetworkPolicy``."""
    return f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind}"


def _spec_hints(dialect: _Dialect) -> dict[str, str]:
    peers = "a peer of a rule, under from/to"
    hints = {key: f"{key} belongs in {peers}" for key in
             ("namespaces", "pods", "networks", "nodes", "domainNames")}
    hints["podSelector"] = "write the subject as `subject: {pods: {namespaceSelector: ..., " \
        "podSelector: ...}}`"
    hints["rules"] = "rules are listed under `ingress` and `egress`"
    if not dialect.has_priority:
        hints["priority"] = ("a BaselineAdminNetworkPolicy has no priority: there is only one, "
                             "evaluated after NetworkPolicies")
    if not dialect.v2:
        hints["tier"] = (f"{_a(dialect.kind)} has no tier; the tier field is "
                         "ClusterNetworkPolicy's (policy.networking.k8s.io/v1alpha2)")
    return hints


def _tier(src: Source, spec: Mapping, spec_node: Node, dialect: _Dialect) -> Tier:
    if not dialect.v2:
        return ADMIN_TIER if dialect.kind == "AdminNetworkPolicy" else BASELINE_TIER
    entry = spec.get("tier")
    if entry is None:
        src.fail(spec_node, "a ClusterNetworkPolicy needs spec.tier", "tier: Admin or Baseline")
    value = src.string(entry[1], "spec.tier")
    if value == "Admin":
        return ADMIN_TIER
    if value == "Baseline":
        return BASELINE_TIER
    near = [t for t in ("Admin", "Baseline") if value and t.lower() == value.lower()]
    hint = f"did you mean {near[0]}? " if near else ""
    src.fail(entry[1], f'unknown tier "{value}"', f"{hint}valid tiers: Admin, Baseline")


def _priority(src: Source, spec: Mapping, spec_node: Node, dialect: _Dialect) -> int:
    if not dialect.has_priority:
        return 0
    entry = spec.get("priority")
    if entry is None:
        src.fail(spec_node, f"{_a(dialect.kind)} needs spec.priority",
                 "a number from 0 (evaluated first) to 1000")
    value = src.integer(entry[1], "spec.priority")
    if value is None:
        src.fail(entry[1], "spec.priority must be a number from 0 to 1000")
    low, high = _PRIORITY
    if not low <= value <= high:
        src.fail(entry[1], f"spec.priority {value} is out of range {low}-{high}",
                 "lower numbers are evaluated first")
    return value


def _one_field(src: Source, node: Node, fields: Mapping, allowed: frozenset[str],
               what: str, hints: dict[str, str] | None = None) -> tuple[str, Node]:
    """The one field set in a one-of mapping (``MinProperties=MaxProperties=1``)."""
    check_fields(src, fields, allowed, what, hints)
    present = [(key, entry) for key, entry in fields.items() if not is_null(entry[1])]
    if not present:
        src.fail(node, f"{what} needs exactly one of: {', '.join(sorted(allowed))}")
    if len(present) > 1:
        src.fail(present[1][1][0], f"{what} may set only one of {', '.join(sorted(allowed))}; "
                 f"it sets {present[0][0]} and {present[1][0]}",
                 "write two entries, one field each")
    key, (_, value) = present[0]
    return key, value


def _subject(src: Source, node: Node, dialect: _Dialect,
             notes: list[Diagnostic]) -> tuple[LabelSelector, LabelSelector]:
    fields = src.mapping(node, "spec.subject") or {}
    key, value = _one_field(src, node, fields, _INGRESS_PEERS, "spec.subject",
                            {"podSelector": "write `pods: {namespaceSelector: {}, podSelector: "
                             "...}`", "namespaceSelector": "did you mean namespaces?"})
    if key == "namespaces":
        return _selector(src, value, "subject.namespaces"), LabelSelector()
    return _namespaced_pod(src, value, "subject.pods", dialect, notes)


def _selector(src: Source, node: Node, what: str) -> LabelSelector:
    return read_selector(src, node, what) or LabelSelector()


def _namespaced_pod(src: Source, node: Node, what: str, dialect: _Dialect,
                    notes: list[Diagnostic]) -> tuple[LabelSelector, LabelSelector]:
    fields = src.mapping(node, what) or {}
    check_fields(src, fields, _NAMESPACED_POD, what,
                 {"namespaces": "inside pods, write namespaceSelector"})
    pods_entry = fields.get("podSelector")
    if pods_entry is None and dialect.v2:
        src.fail(node, f"{what} needs a podSelector", "write `podSelector: {}` for every pod")
    ns_entry = fields.get("namespaceSelector")
    for key, entry in (("namespaceSelector", ns_entry), ("podSelector", pods_entry)):
        if entry is None and not (dialect.v2 and key == "namespaceSelector"):
            every = "namespace" if key == "namespaceSelector" else "pod"
            notes.append(Diagnostic(
                "warning", f"{what} has no {key}, which {dialect.kind} requires; "
                f"read as every {every} ({key}: {{}})", src.location(node)))
    namespaces = _selector(src, ns_entry[1], f"{what}.namespaceSelector") if ns_entry else (
        LabelSelector())
    pods = _selector(src, pods_entry[1], f"{what}.podSelector") if pods_entry else (
        LabelSelector())
    return namespaces, pods


def _rules(src: Source, entry: tuple[Node, Node] | None, direction: Direction,
           dialect: _Dialect, meta: Meta, notes: list[Diagnostic]) -> tuple[Rule, ...]:
    if entry is None:
        return ()
    items = src.sequence(entry[1], f"spec.{direction}") or []
    if len(items) > dialect.max_items:
        src.fail(items[dialect.max_items], f"spec.{direction} has {len(items)} rules; "
                 f"{_a(dialect.kind)} allows at most {dialect.max_items}")
    return tuple(_rule(src, item, direction, index, dialect, meta, notes)
                 for index, item in enumerate(items))


def _rule_hints(direction: Direction, dialect: _Dialect) -> dict[str, str]:
    peers = "from" if direction == "ingress" else "to"
    other = "to" if direction == "ingress" else "from"
    hints = {other: f"{direction} rules use `{peers}`"}
    for key in ("namespaces", "pods", "networks", "nodes", "domainNames"):
        hints[key] = f"a peer is a list item under `{peers}`: write `{peers}: [{{{key}: ...}}]`"
    if dialect.v2:
        hints["ports"] = ("ClusterNetworkPolicy (v1alpha2) writes ports as `protocols`, e.g. "
                          "`protocols: [{tcp: {destinationPort: {number: 80}}}]`")
    else:
        hints["protocols"] = (f"{dialect.kind} (v1alpha1) writes ports as `ports`, e.g. "
                              "`ports: [{portNumber: {protocol: TCP, port: 80}}]`")
    return hints


def _rule(src: Source, node: Node, direction: Direction, index: int, dialect: _Dialect,
          meta: Meta, notes: list[Diagnostic]) -> Rule:
    fields = src.mapping(node, f"an {direction} rule") or {}
    peers_key = "from" if direction == "ingress" else "to"
    check_fields(src, fields, frozenset({"name", "action", peers_key, dialect.ports_field}),
                 f"{dialect.kind} {direction} rule", _rule_hints(direction, dialect))
    name_entry = fields.get("name")
    name = (src.string(name_entry[1], "rule name") if name_entry else None) or ""
    if len(name) > _MAX_RULE_NAME:
        assert name_entry is not None
        src.fail(name_entry[1], f"rule name is {len(name)} characters long; at most "
                 f"{_MAX_RULE_NAME} are allowed")
    action = _action(src, fields, node, dialect)
    peers_entry = fields.get(peers_key)
    if peers_entry is None:
        src.fail(node, f"an {direction} rule needs `{peers_key}`",
                 f"`{peers_key}: [{{namespaces: {{}}}}]` matches every pod")
    peer_items = src.sequence(peers_entry[1], peers_key) or []
    _count(src, peers_entry, peer_items, peers_key, dialect.max_items, dialect)
    label = f'rule "{name}"' if name else f"{direction}[{index}]"
    who = f"{SHORT_KINDS[dialect.kind]}/{meta.name} {label}"
    peers = tuple(peer for item in peer_items
                  for peer in _peer(src, item, direction, dialect, action, who, notes))
    ports_entry = fields.get(dialect.ports_field)
    ports: tuple[PolicyPort, ...] = ()
    if ports_entry is not None:
        port_items = src.sequence(ports_entry[1], dialect.ports_field) or []
        _count(src, ports_entry, port_items, dialect.ports_field, dialect.max_items, dialect)
        read = _protocol if dialect.v2 else _port
        ports = tuple(read(src, item) for item in port_items)
        if direction == "egress" and any(isinstance(p.port, str) for p in ports) and any(
                p.ip_block or p.node_selector or p.domain_names for p in peers):
            # The experimental channel's CRD refuses this (CEL); the standard one takes it.
            notes.append(Diagnostic(
                "warning", f"{who}: a named port never matches its networks, nodes or "
                "domainNames peers (addresses have no named ports; the experimental CRD "
                "refuses such a rule)", src.location(ports_entry[0])))
    location = src.location(node)
    if any(p.unknown for p in peers) and action != "Allow":
        # Fail closed, as the API says: a Deny or Pass rule becomes "deny all".
        return Rule(direction, index, (), (), location, "Deny", name)
    return Rule(direction, index, peers, ports, location, action, name)  # type: ignore[arg-type]


def _count(src: Source, entry: tuple[Node, Node], items: list[Node], what: str, most: int,
           dialect: _Dialect) -> None:
    if not items:
        src.fail(entry[1], f"{what} must list at least one entry",
                 f"leave `{what}` out instead" if what in ("ports", "protocols") else None)
    if len(items) > most:
        src.fail(items[most], f"{what} has {len(items)} entries; {_a(dialect.kind)} allows at "
                 f"most {most}")


def _action(src: Source, fields: Mapping, node: Node, dialect: _Dialect) -> str:
    entry = fields.get("action")
    valid = ", ".join(dialect.actions)
    if entry is None:
        src.fail(node, "a rule needs an action", f"valid actions: {valid}")
    value = src.string(entry[1], "action")
    if value in dialect.actions:
        return "Allow" if value == "Accept" else value
    hint = f"valid actions: {valid}"
    if value == "Allow" and dialect.v2:
        hint = f"ClusterNetworkPolicy (v1alpha2) renamed Allow to Accept; {hint}"
    elif value == "Accept" and not dialect.v2:
        hint = f"Accept is ClusterNetworkPolicy's (v1alpha2); {dialect.kind} uses Allow; {hint}"
    elif value == "Pass" and dialect.kind == "BaselineAdminNetworkPolicy":
        hint = f"a BaselineAdminNetworkPolicy cannot pass: it is the last tier; {hint}"
    else:
        near = [a for a in dialect.actions if value and a.lower() == value.lower()]
        if near:
            hint = f"did you mean {near[0]}? actions are case-sensitive; {hint}"
    src.fail(entry[1], f'unknown action "{value}" for {_a(dialect.kind)} rule', hint)


def _peer(src: Source, node: Node, direction: Direction, dialect: _Dialect, action: str,
          rule: str, notes: list[Diagnostic]) -> tuple[Peer, ...]:
    """A peer as the form's peers: one, or one per CIDR of ``networks``."""
    peers_key = "from" if direction == "ingress" else "to"
    fields = src.mapping(node, f"a {peers_key} peer") or {}
    known = _INGRESS_PEERS if direction == "ingress" else dialect.egress_peers
    location = src.location(node)
    present = {key: entry for key, entry in fields.items() if not is_null(entry[1])}
    for key, (key_node, _) in present.items():
        if key in known:
            continue
        if direction == "ingress" and key in ("networks", "nodes", "domainNames"):
            src.fail(key_node, f"{key} is an egress peer; ingress peers are namespaces or pods")
        if key == "domainNames" and dialect.kind == "BaselineAdminNetworkPolicy":
            src.fail(key_node, "a BaselineAdminNetworkPolicy has no domainNames peer",
                     "domainNames is AdminNetworkPolicy's and ClusterNetworkPolicy's")
        if len(present) > 1:
            src.fail(key_node, f'unknown field "{key}" in {dialect.kind} {direction} peer',
                     close_match_hint(key, known))
        # A field of a newer API: fail closed.
        effect = "matches nothing" if action == "Allow" else "denies everything"
        notes.append(Diagnostic(
            "warning",
            f'{rule}: peer field "{key}" is not one reach knows ({close_match_hint(key, known)}); '
            f"as the API says for an unknown peer, the rule fails closed and {effect}",
            src.location(key_node), code="fail-closed"))
        return (Peer(location=location, unknown=key),)
    key, value = _one_field(src, node, fields, known, f"{dialect.kind} {direction} peer")
    if key == "namespaces":
        return (Peer(namespace_selector=_selector(src, value, "namespaces"), location=location),)
    if key == "pods":
        namespaces, pods = _namespaced_pod(src, value, "pods", dialect, notes)
        return (Peer(pod_selector=pods, namespace_selector=namespaces, location=location),)
    if key == "nodes":
        return (Peer(node_selector=_selector(src, value, "nodes"), location=location),)
    if key == "networks":
        return _networks(src, value, location)
    return (_domains(src, value, action, rule, location, notes),)


def _listed(src: Source, node: Node, what: str, noun: str, most: int) -> list[Node]:
    """The items of a list the CRD bounds: at least one, at most ``most``."""
    items = src.sequence(node, what) or []
    if not items:
        src.fail(node, f"{what} must list at least one {noun}")
    if len(items) > most:
        src.fail(items[most], f"{what} lists {len(items)} {noun}s; at most {most} are allowed")
    return items


def _networks(src: Source, node: Node, location: Location) -> tuple[Peer, ...]:
    blocks = []
    for item in _listed(src, node, "networks", "CIDR", _MAX_NETWORKS):
        text = src.string(item, "a networks entry") or ""
        if len(text) > _MAX_CIDR or not text.isascii():
            src.fail(item, f'invalid CIDR "{text}"', "a networks entry is a CIDR such as "
                     "10.0.0.0/8 or fd00::/8")
        try:
            parse_cidr(text, strict=False)
        except ValueError as exc:
            src.fail(item, str(exc), "a networks entry is a CIDR such as 10.0.0.0/8 or fd00::/8")
        blocks.append(IPBlock(text, (), src.location(item)))
    # Several CIDRs: one address peer each (a rule's peers are alternatives anyway).
    return tuple(Peer(ip_block=block, location=location) for block in blocks)


def _domains(src: Source, node: Node, action: str, rule: str, location: Location,
             notes: list[Diagnostic]) -> Peer:
    names = []
    for item in _listed(src, node, "domainNames", "name", _MAX_DOMAINS):
        text = src.string(item, "a domainNames entry") or ""
        if not _DOMAIN.match(text):
            src.fail(item, f'invalid domain name "{text}"',
                     "an exact name (example.com) or a wildcard prefix (*.example.com)")
        names.append(text)
    where = "" if action == "Allow" else (
        "; domainNames is supported only in Accept/Allow rules, so this rule matches nothing")
    notes.append(Diagnostic(
        "warning",
        f"{rule}: domainNames ({', '.join(names)}) cannot be resolved without DNS; reach reads "
        f"them as matching no address{where}", location, code="unresolvable"))
    return Peer(domain_names=tuple(names), location=location)


def _port(src: Source, node: Node) -> PolicyPort:
    """A v1alpha1 ``ports`` entry: portNumber, portRange or namedPort."""
    fields = src.mapping(node, "a ports entry") or {}
    key, value = _one_field(src, node, fields,
                            frozenset({"portNumber", "portRange", "namedPort"}), "ports entry",
                            {"port": "write `portNumber: {protocol: TCP, port: 80}`",
                             "protocol": "the protocol goes inside portNumber or portRange"})
    location = src.location(node)
    if key == "namedPort":
        name = src.string(value, "namedPort") or ""
        read_port_name(src, value, name, "namedPort")
        return PolicyPort("", name, None, location)
    inner = src.mapping(value, key) or {}
    wanted = frozenset({"protocol", "port"} if key == "portNumber" else
                       {"protocol", "start", "end"})
    check_fields(src, inner, wanted, key)
    protocol_entry = inner.get("protocol")
    protocol = read_protocol(src, protocol_entry[1]) if protocol_entry else "TCP"
    if key == "portNumber":
        port = _number(src, inner, value, "port")
        return PolicyPort(protocol, port, None, location)
    start, end = _number(src, inner, value, "start"), _number(src, inner, value, "end")
    if start > end:
        src.fail(inner["end"][1], f"portRange end {end} is below start {start}",
                 "start must be less than end")
    return PolicyPort(protocol, start, end, location)


def _number(src: Source, fields: Mapping, node: Node, key: str) -> int:
    entry = fields.get(key)
    if entry is None:
        src.fail(node, f"{key} is required")
    value = src.integer(entry[1], key)
    if value is None or not 1 <= value <= 65535:
        src.fail(entry[1], f"{key} {value} is out of range 1-65535")
    return value


_PROTOCOL_FIELDS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}


def _protocol(src: Source, node: Node) -> PolicyPort:
    """A v1alpha2 ``protocols`` entry: tcp, udp, sctp or destinationNamedPort."""
    fields = src.mapping(node, "a protocols entry") or {}
    hints = {key.upper(): f"did you mean {key}? protocol fields are lowercase"
             for key in _PROTOCOL_FIELDS}
    hints["port"] = "write `tcp: {destinationPort: {number: 80}}`"
    hints["namedPort"] = "v1alpha2 names it destinationNamedPort"
    key, value = _one_field(src, node, fields,
                            frozenset({*_PROTOCOL_FIELDS, "destinationNamedPort"}),
                            "protocols entry", hints)
    location = src.location(node)
    if key == "destinationNamedPort":
        name = src.string(value, "destinationNamedPort") or ""
        read_port_name(src, value, name, "destinationNamedPort")
        return PolicyPort("", name, None, location)
    protocol = _PROTOCOL_FIELDS[key]
    inner = src.mapping(value, key) or {}
    check_fields(src, inner, frozenset({"destinationPort"}), key,
                 {"number": "write `destinationPort: {number: ...}`",
                  "range": "write `destinationPort: {range: {start: ..., end: ...}}`"})
    dest = inner.get("destinationPort")
    if dest is None:
        src.fail(value, f"{key} needs a destinationPort",
                 "for every port write `destinationPort: {range: {start: 1, end: 65535}}`")
    dest_fields = src.mapping(dest[1], "destinationPort") or {}
    which, body = _one_field(src, dest[1], dest_fields, frozenset({"number", "range"}),
                             "destinationPort")
    if which == "number":
        number = src.integer(body, "number")
        if number is None or not 1 <= number <= 65535:
            src.fail(body, f"number {number} is out of range 1-65535")
        return PolicyPort(protocol, number, None, location)
    span = src.mapping(body, "range") or {}
    check_fields(src, span, frozenset({"start", "end"}), "range")
    start, end = _number(src, span, body, "start"), _number(src, span, body, "end")
    if start >= end:
        src.fail(span["end"][1], f"range end {end} must be greater than start {start}",
                 "for a single port write `number`")
    return PolicyPort(protocol, start, end, location)
