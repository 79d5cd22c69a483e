"""Calico's policies, tiers and network sets, validated and read.

Kinds of ``projectcalico.org/v3`` (what ``calicoctl`` and the Calico API server
serve) and ``crd.projectcalico.org/v1`` (how the datastore stores them, as ``kubectl
get`` prints them without the API server): ``NetworkPolicy`` (read as kind
``CalicoNetworkPolicy``, beside Kubernetes' own), ``GlobalNetworkPolicy``, ``Tier``,
``NetworkSet`` and ``GlobalNetworkSet``; and the staged kinds,
``StagedNetworkPolicy``, ``StagedGlobalNetworkPolicy`` and
``StagedKubernetesNetworkPolicy`` (:func:`read_staged_policy`): previews of a change
that the cluster does not enforce, read into :attr:`reach.model.Cluster.staged` and
never into its policies (:func:`reach.with_staged` enforces them).

Semantics, as Calico's reference documents them:

* A policy belongs to a tier (``spec.tier``, default ``default``); tiers run by
  ``order`` (lower first, no order last) and the ``default`` tier, which also holds
  every Kubernetes NetworkPolicy (at order 1000), has order 1,000,000. Policies of a
  tier run by ``order`` (lower first; none: after every ordered one), ties broken by
  kind and name. A tier that selects a pod but whose rules decide nothing denies,
  unless its ``defaultAction`` is ``Pass``.
* Rules run in order: ``Allow`` and ``Deny`` are final, ``Pass`` goes on to the next
  tier, ``Log`` changes nothing.
* ``types`` defaults to Ingress, plus Egress when there are egress rules (Egress
  alone when there are only egress rules).
* Selectors are Calico expressions (:mod:`reach.policies.calico_selector`) over a
  pod's labels and the labels Calico adds (see :mod:`reach.engine.entities`);
  ``namespaceSelector`` and ``serviceAccountSelector`` are rewritten onto the
  ``pcns.`` and ``pcsa.`` labels. A rule entity's criteria are all ANDed; ``nets`` and
  network sets match pod IPs too.

Connections carry every IP protocol: ``protocol`` (a name or a number 1-255),
``notProtocol``, ``icmp`` and ``notICMP`` (type and code) are matched exactly.
Criteria no static analysis can decide (HTTP matches, source ports, Services as
entities, ``domains``) are read conservatively with a caveat: an ``Allow`` rule
holding one matches nothing, a ``Deny`` or ``Pass`` rule is read without it.

Examples
--------
>>> from reach.loader import read_cluster
>>> cluster = read_cluster("-", stdin_text='''
... apiVersion: projectcalico.org/v3
... kind: GlobalNetworkPolicy
... metadata: {name: deny-db}
... spec:
...   order: 10
...   selector: app == 'db'
...   ingress:
...   - action: Deny
...     source: {selector: app != 'web'}
... ''')
>>> p = cluster.policies[0]
>>> p.ref, str(p.tier), p.priority, p.policy_types, [str(r.peers[0]) for r in p.ingress]
('gnp/deny-db', 'NetworkPolicy', 10.0, ('Ingress',), ["selector [app != 'web']"])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reach.documents._fields import Meta, check_fields
from reach.documents._yaml import Mapping, Source, is_null
from reach.engine.addresses import parse_cidr
from reach.engine.ports import ICMP_PROTOCOLS, PORT_PROTOCOLS, canonical_protocol
from reach.errors import ManifestError
from reach.model import (
    ADMIN_TIER,
    BASELINE_TIER,
    CALICO_KINDS,
    NETWORKPOLICY_ORDER,
    NETWORKPOLICY_TIER,
    Diagnostic,
    Direction,
    Entity,
    Labels,
    NetworkSet,
    Peer,
    Policy,
    PolicyPort,
    Rule,
    Tier,
)
from reach.model.cluster import StagedPolicy
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
from reach.policies.calico_selector import SelectorSyntaxError, parse_selector
from reach.policies.networkpolicy import read_policy

__all__ = [
    "CALICO_VERSIONS",
    "STAGED_CODE",
    "STAGED_KINDS",
    "CalicoTier",
    "read_calico_policy",
    "read_network_set",
    "read_staged_policy",
    "read_tier",
    "settle_tiers",
    "staged_target",
    "without_copies",
]

#: The API versions Calico kinds are read at.
CALICO_VERSIONS = frozenset({"projectcalico.org/v3", "crd.projectcalico.org/v1"})

_TOP = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_SPEC = frozenset({
    "order", "tier", "selector", "serviceAccountSelector", "types", "ingress", "egress",
    "doNotTrack", "preDNAT", "applyOnForward", "performanceHints"})
_GLOBAL_SPEC = _SPEC | {"namespaceSelector"}
_RULE = frozenset({"action", "protocol", "notProtocol", "icmp", "notICMP", "ipVersion",
                   "source", "destination", "http", "metadata"})
_ENTITY = frozenset({"nets", "notNets", "selector", "notSelector", "namespaceSelector",
                     "ports", "notPorts", "serviceAccounts", "services", "domains"})
_ACTIONS = ("Allow", "Deny", "Log", "Pass")
_CALICO_PROTOCOLS = ("TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite")
_STR = "tag:yaml.org,2002:str"
_NS = "projectcalico.org/namespace"
_SA = "projectcalico.org/serviceaccount"
_DEFAULT_TIER_ORDER = NETWORKPOLICY_TIER.order
#: Calico's tiers for the admin policy API, and reach's tiers of the same place.
_KNOWN_TIERS = {"default": NETWORKPOLICY_TIER, "adminnetworkpolicy": ADMIN_TIER,
                "baselineadminnetworkpolicy": BASELINE_TIER}


@dataclass(frozen=True, slots=True)
class CalicoTier:
    """A Calico Tier: its order (None: after every ordered tier) and default action."""

    name: str
    order: float | None
    default_action: str = "Deny"
    location: object = None


def _pending_tier(name: str) -> Tier:
    """A placeholder until :func:`settle_tiers` knows the Tier objects."""
    return _KNOWN_TIERS.get(name) or Tier(name, math.nan, ends_in_deny=True)


# ---------------------------------------------------------------------------
# selectors


def _selector(src: Source, node: Node, what: str) -> CalicoSelector:
    text = src.string(node, what)
    try:
        return parse_selector(text or "")
    except SelectorSyntaxError as err:
        line, column = src.place(node)
        raise ManifestError(f"invalid selector in {what}: {err}", path=src.path,
                            line=line,
                            column=column + _source_offset(src, node, err.offset),
                            hint="Calico selectors look like app == 'web' && has(tier)"
                            ) from None


def _source_offset(src: Source, node: Node, offset: int) -> int:
    """Where character ``offset`` of a one-line scalar's value is written, from the
    scalar's start: after the opening quote, and counting escapes (``''`` in single
    quotes, ``\\x`` in double quotes) as written."""
    style = node.style if isinstance(node, ScalarNode) else None
    if style not in ("'", '"'):
        return offset
    line, column = src.place(node)
    lines = src.text.split("\n")
    if line > len(lines):
        return offset + 1
    text = lines[line - 1]
    start = column - 1
    i = start + 1
    for _ in range(offset):
        if i >= len(text):
            break
        escaped = (style == "'" and text.startswith("''", i)) or (
            style == '"' and text[i] == "\\")
        i += 2 if escaped else 1
    return i - start


def _prefixed(tree: Expression, prefix: str, *, namespaces: bool) -> Expression:
    """``tree`` over the labels an endpoint inherits from its namespace or service account."""
    if isinstance(tree, All):
        return Has(_NS) if namespaces else All()
    if isinstance(tree, Has):
        return Has(prefix + tree.key)
    if isinstance(tree, Compare):
        return Compare(prefix + tree.key, tree.op, tree.value)
    if isinstance(tree, InSet):
        return InSet(prefix + tree.key, tree.values, tree.negated)
    if isinstance(tree, Not):
        return Not(_prefixed(tree.node, prefix, namespaces=namespaces))
    if isinstance(tree, And):
        return And(tuple(_prefixed(n, prefix, namespaces=namespaces) for n in tree.nodes))
    if isinstance(tree, Or):
        return Or(tuple(_prefixed(n, prefix, namespaces=namespaces) for n in tree.nodes))
    if isinstance(tree, Global):
        return Not(Has(_NS))  # the objects of no namespace
    return tree


def _namespace_scope(selector: CalicoSelector) -> CalicoSelector:
    """A rule's namespaceSelector as a selector of endpoints and network sets: over the
    namespace labels they inherit, for namespaced objects only; ``global()`` selects the
    objects of no namespace."""
    tree = _prefixed(selector.tree, "pcns.", namespaces=True)
    if not _mentions_global(selector.tree):
        tree = And((Has(_NS), tree))
    return CalicoSelector(f"namespaceSelector {selector}", tree)


def _mentions_global(tree: Expression) -> bool:
    if isinstance(tree, Global):
        return True
    if isinstance(tree, Not):
        return _mentions_global(tree.node)
    if isinstance(tree, And | Or):
        return any(_mentions_global(n) for n in tree.nodes)
    return False


def _in_namespace(namespace: str) -> CalicoSelector:
    return CalicoSelector(f"namespace {namespace}", Compare(_NS, "==", namespace))


def _both(*parts: CalicoSelector | None) -> CalicoSelector | None:
    chosen = [p for p in parts if p is not None and not p.is_all]
    if not chosen:
        found = [p for p in parts if p is not None]
        return found[0] if found else None
    if len(chosen) == 1:
        return chosen[0]
    return CalicoSelector(" && ".join(f"({p})" for p in chosen),
                          And(tuple(p.tree for p in chosen)))


def _accounts(src: Source, node: Node, what: str) -> CalicoSelector | None:
    fields = src.mapping(node, what)
    if not fields:
        return None
    check_fields(src, fields, frozenset({"names", "selector"}), what)
    parts: list[CalicoSelector] = []
    names_entry = fields.get("names")
    if names_entry is not None:
        names = tuple(sorted({src.string(n, f"{what}.names") or ""
                              for n in src.sequence(names_entry[1], f"{what}.names") or []}))
        parts.append(CalicoSelector(f"serviceAccounts {', '.join(names)}", InSet(_SA, names)))
    sel_entry = fields.get("selector")
    if sel_entry is not None:
        parts.append(_account_selector(_selector(src, sel_entry[1], f"{what}.selector")))
    return _both(*parts)


def _account_selector(selector: CalicoSelector) -> CalicoSelector:
    """A selector of service accounts as a selector of the endpoints running under them
    (network sets run under none)."""
    return CalicoSelector(f"serviceAccountSelector {selector}",
                          And((Has(_SA), _prefixed(selector.tree, "pcsa.", namespaces=False))))


# ---------------------------------------------------------------------------
# the policy


def read_calico_policy(
    src: Source, fields: Mapping, meta: Meta, root: Node, notes: list[Diagnostic]
) -> Policy:
    """Build the :class:`Policy` of a Calico NetworkPolicy or GlobalNetworkPolicy."""
    kind = str(fields["kind"][1].value)
    return _read_policy(src, fields, meta, notes, kind, kind)


def _read_policy(src: Source, fields: Mapping, meta: Meta, notes: list[Diagnostic],
                 kind: str, written: str) -> Policy:
    """The policy of ``kind`` (``NetworkPolicy`` or ``GlobalNetworkPolicy``), written as
    kind ``written`` (itself, or the staged kind whose spec is ``kind``'s)."""
    scoped = kind == "NetworkPolicy"
    check_fields(src, fields, _TOP, written)
    spec_entry = fields.get("spec")
    spec = (src.mapping(spec_entry[1], "spec") if spec_entry else None) or {}
    check_fields(src, spec, _SPEC if scoped else _GLOBAL_SPEC, f"Calico {written} spec",
                 {"namespaceSelector": f"a namespaced {written} applies in its own "
                  f"namespace; use a {written.replace('Network', 'GlobalNetwork')} to "
                  "select namespaces"})
    name = meta.name
    ref = f"{meta.namespace}/{name}" if scoped else f"gnp/{name}"
    for flag in ("doNotTrack", "preDNAT", "applyOnForward"):
        entry = spec.get(flag)
        if entry is not None and src.boolean(entry[1], flag):
            notes.append(Diagnostic(
                "warning",
                f"{ref} sets {flag}: it applies to host endpoints and forwarded traffic, "
                "which reach does not model; read as an ordinary policy of the pods it selects",
                src.location(entry[0]), code="assumption"))
    order = _order(src, spec)
    tier_entry = spec.get("tier")
    tier_name = (src.string(tier_entry[1], "tier") if tier_entry else None) or "default"
    selector = _optional_selector(src, spec, "selector") or parse_selector("")
    account = spec.get("serviceAccountSelector")
    account_sel = (_account_selector(_selector(src, account[1], "serviceAccountSelector"))
                   if account is not None else None)
    if scoped:
        subject = _both(selector, account_sel) or selector
    else:
        ns_sel = _optional_selector(src, spec, "namespaceSelector")
        subject = _both(_namespace_scope(ns_sel) if ns_sel is not None else None, selector,
                        account_sel) or selector
    namespace = meta.namespace if scoped else ""
    rules: dict[Direction, tuple[Rule, ...]] = {}
    for direction in ("ingress", "egress"):
        rules[direction] = _rules(src, spec.get(direction), direction, namespace, ref, notes)
    types = _types(src, spec, bool(spec.get("ingress")), bool(spec.get("egress")))
    return Policy(
        namespace=namespace,
        name=name,
        pod_selector=subject,
        policy_types=types,
        ingress=rules["ingress"] if "Ingress" in types else (),
        egress=rules["egress"] if "Egress" in types else (),
        location=meta.location,
        kind="CalicoNetworkPolicy" if scoped else "GlobalNetworkPolicy",
        tier=_pending_tier(tier_name),
        priority=order,
    )


def _optional_selector(src: Source, spec: Mapping, key: str) -> CalicoSelector | None:
    entry = spec.get(key)
    if entry is None or is_null(entry[1]):
        return None
    return _selector(src, entry[1], key)


def _order(src: Source, spec: Mapping) -> float:
    entry = spec.get("order")
    if entry is None or is_null(entry[1]):
        return math.inf
    node = entry[1]
    try:
        value = float(str(node.value))
    except (TypeError, ValueError):
        src.fail(node, f"order must be a number, not {node.value!r}")
    if math.isnan(value):
        src.fail(node, "order must be a number")
    return value


def _types(src: Source, spec: Mapping, ingress: bool, egress: bool) -> tuple[str, ...]:
    entry = spec.get("types")
    if entry is None or is_null(entry[1]):
        if egress and not ingress:
            return ("Egress",)
        return ("Ingress", "Egress") if egress else ("Ingress",)
    out = []
    for item in src.sequence(entry[1], "types") or []:
        value = src.string(item, "types")
        if value not in ("Ingress", "Egress"):
            src.fail(item, f'unknown policy type "{value}"', "use Ingress or Egress")
        out.append(value)
    return tuple(t for t in ("Ingress", "Egress") if t in out)


def _rules(src: Source, entry: tuple[Node, Node] | None, direction: Direction, namespace: str,
           ref: str, notes: list[Diagnostic]) -> tuple[Rule, ...]:
    if entry is None or is_null(entry[1]):
        return ()
    out = []
    for index, node in enumerate(src.sequence(entry[1], direction) or []):
        rule = _rule(src, node, direction, index, namespace, ref, notes)
        if rule is not None:
            out.append(rule)
    return tuple(out)


@dataclass(slots=True)
class _Match:
    """What a rule matches besides its peer, as reach can tell it."""

    ports: tuple[PolicyPort, ...] = ()
    not_ports: tuple[PolicyPort, ...] = ()
    undecidable: tuple[str, ...] = ()


def _rule(src: Source, node: Node, direction: Direction, index: int, namespace: str, ref: str,
          notes: list[Diagnostic]) -> Rule | None:
    fields = src.mapping(node, f"{direction} rule") or {}
    check_fields(src, fields, _RULE, f"Calico {direction} rule")
    where = src.location(node)
    label = f"{ref} {direction}[{index}]"
    action_entry = fields.get("action")
    if action_entry is None:
        src.fail(node, f"{label} has no action", "use Allow, Deny, Log or Pass")
    action = src.string(action_entry[1], "action")
    if action not in _ACTIONS:
        near = [a for a in _ACTIONS if a.lower() == (action or "").lower()]
        src.fail(action_entry[1], f'unknown action "{action}"',
                 f"did you mean {near[0]}? actions are case-sensitive" if near
                 else "use Allow, Deny, Log or Pass")
    protocol = _protocol(src, fields.get("protocol"))
    not_protocol = _protocol(src, fields.get("notProtocol"))
    match = _Match()
    if protocol:
        match.ports = (PolicyPort(protocol),)
    if not_protocol:
        match.not_ports = (PolicyPort(not_protocol),)
    for key in ("icmp", "notICMP"):
        entry = fields.get(key)
        if entry is None or is_null(entry[1]):
            continue
        if protocol not in ICMP_PROTOCOLS:
            src.fail(entry[0], f"{key} needs the rule's protocol to be ICMP or ICMPv6",
                     "add `protocol: ICMP` to the rule")
        icmp = _icmp(src, entry[1], protocol, key)
        if key == "icmp":
            match.ports = (icmp,)
        else:
            match.not_ports = (*match.not_ports, icmp)
    ip_version = fields.get("ipVersion")
    family = src.integer(ip_version[1], "ipVersion") if ip_version else None
    if family not in (None, 4, 6):
        assert ip_version is not None
        src.fail(ip_version[1], f"ipVersion must be 4 or 6, not {family}")
    if fields.get("http") is not None:
        match.undecidable += ("an HTTP match",)
    peers: dict[str, Entity | None] = {}
    other_side = "source" if direction == "ingress" else "destination"
    for side in ("source", "destination"):
        side_entry = fields.get(side)
        peers[side] = _entity(src, side_entry[1] if side_entry else None, side, protocol,
                              namespace, match, family if side == other_side else None)
    mine = peers["destination" if direction == "ingress" else "source"]
    if match.undecidable:
        what = ", ".join(dict.fromkeys(match.undecidable))
        if action == "Allow":
            notes.append(Diagnostic(
                "warning", f"{label} needs {what}, which reach cannot decide statically: "
                "read as matching nothing (the cluster may allow more)", where,
                code="unresolvable"))
            return None
        notes.append(Diagnostic(
            "warning", f"{label} needs {what}, which reach cannot decide statically: "
            f"read as if it matched without it (the cluster may {action.lower()} less)",
            where, code="unresolvable"))
    other = peers[other_side]
    rule_peers: tuple[Peer, ...] = ()
    if other is not None and other != Entity():
        rule_peers = (Peer(entity=other, location=where),)
    local = mine if mine is not None and mine != Entity() else None
    return Rule(direction, index, rule_peers, match.ports, where, action,  # type: ignore[arg-type]
                not_ports=match.not_ports, local=local)


def _protocol(src: Source, entry: tuple[Node, Node] | None) -> str:
    """The protocol as reach names it (``TCP``, ``ICMP``, ``112`` -> ``VRRP``, ``253``), or
    ``""`` when absent. Calico accepts TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite and 1-255."""
    if entry is None or is_null(entry[1]):
        return ""
    node = entry[1]
    value = str(node.value)
    if not value.isdigit() and value.lower() not in {p.lower() for p in _CALICO_PROTOCOLS}:
        src.fail(node, f'unknown protocol "{value}"',
                 "use TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or a number 1-255")
    try:
        return canonical_protocol(value)
    except ValueError as err:
        src.fail(node, str(err))


def _icmp(src: Source, node: Node, protocol: str, what: str) -> PolicyPort:
    """An ``icmp``/``notICMP`` match: a type (0-254) and maybe a code (0-255)."""
    fields = src.mapping(node, what) or {}
    check_fields(src, fields, frozenset({"type", "code"}), what)
    type_entry, code_entry = fields.get("type"), fields.get("code")
    icmp_type = src.integer(type_entry[1], f"{what}.type") if type_entry else None
    code = src.integer(code_entry[1], f"{what}.code") if code_entry else None
    if icmp_type is None:
        if code is not None:
            assert code_entry is not None
            src.fail(code_entry[0], f"{what}.code needs a type")
        return PolicyPort(protocol, location=src.location(node))
    if not 0 <= icmp_type <= 254:
        assert type_entry is not None
        src.fail(type_entry[1], f"{what}.type {icmp_type} is out of range 0-254")
    if code is not None and not 0 <= code <= 255:
        assert code_entry is not None
        src.fail(code_entry[1], f"{what}.code {code} is out of range 0-255")
    return PolicyPort(protocol, icmp_type, None, src.location(node), code)


def _entity(src: Source, node: Node | None, side: str, protocol: str, namespace: str,
            match: _Match, family: int | None) -> Entity | None:
    """A rule's source or destination; None when the rule does not give it."""
    fields = (src.mapping(node, side) if node is not None else None) or {}
    check_fields(src, fields, _ENTITY, f"rule {side}",
                 {"notNamespaceSelector": "Calico has no notNamespaceSelector; negate "
                  "inside namespaceSelector with !"})
    nets = _nets(src, fields.get("nets"), f"{side}.nets")
    not_nets = _nets(src, fields.get("notNets"), f"{side}.notNets")
    if family is not None:
        every = "0.0.0.0/0" if family == 4 else "::/0"
        nets = tuple(n for n in nets if (":" in n) == (family == 6)) if nets else (every,)
        if not nets:
            nets = ("255.255.255.255/32",) if family == 4 else ("::/128",)  # matches nothing real
    sel = _optional_selector(src, fields, "selector")
    not_sel = _optional_selector(src, fields, "notSelector")
    ns_entry = fields.get("namespaceSelector")
    ns_sel = (_selector(src, ns_entry[1], f"{side}.namespaceSelector")
              if ns_entry is not None and not is_null(ns_entry[1]) else None)
    accounts_entry = fields.get("serviceAccounts")
    accounts = _accounts(src, accounts_entry[1], f"{side}.serviceAccounts") if (
        accounts_entry is not None) else None
    scope: CalicoSelector | None
    if ns_sel is not None:
        scope = _namespace_scope(ns_sel)
    elif namespace:
        scope = _in_namespace(namespace)
    else:
        scope = None
    endpoint = None
    if sel is not None or ns_sel is not None or accounts is not None:
        endpoint = _both(scope, sel, accounts)
        if endpoint is None:
            endpoint = parse_selector("")
    excluded = _both(scope, not_sel) if not_sel is not None else None
    if not_sel is not None and excluded is None:
        excluded = not_sel
    if fields.get("services") is not None:
        match.undecidable += ("a Service as " + side,)
    if fields.get("domains") is not None:
        match.undecidable += (f"domains in the {side}",)
    if side == "source":
        for key in ("ports", "notPorts"):
            if fields.get(key) is not None:
                match.undecidable += ("source ports",)
    else:
        _ports(src, fields, protocol, match)
    if not fields and family is None:
        return None
    return Entity(endpoint, excluded, nets, not_nets)


def _nets(src: Source, entry: tuple[Node, Node] | None, what: str) -> tuple[str, ...]:
    if entry is None or is_null(entry[1]):
        return ()
    out = []
    for item in src.sequence(entry[1], what) or []:
        text = src.string(item, what) or ""
        cidr = text if "/" in text else f"{text}/{128 if ':' in text else 32}"
        try:
            parse_cidr(cidr, strict=False)
        except ValueError as err:
            src.fail(item, f'invalid CIDR "{text}" in {what}: {err}')
        out.append(cidr)
    return tuple(out)


def _ports(src: Source, fields: Mapping, protocol: str, match: _Match) -> None:
    for key in ("ports", "notPorts"):
        entry = fields.get(key)
        if entry is None or is_null(entry[1]):
            continue
        if protocol not in PORT_PROTOCOLS:
            src.fail(entry[0], f"destination.{key} needs the rule's protocol to be TCP, UDP, "
                     "SCTP or UDPLite", "add `protocol: TCP` to the rule")
        ports = tuple(_port(src, item, protocol, key)
                      for item in src.sequence(entry[1], key) or [])
        if key == "ports":
            match.ports = ports
        else:
            match.not_ports = match.not_ports + ports
            if not match.ports:
                match.ports = (PolicyPort(protocol),)


def _port(src: Source, node: Node, protocol: str, what: str) -> PolicyPort:
    value = str(node.value) if isinstance(node, ScalarNode) else ""
    where = src.location(node)
    if value.isdigit():
        return PolicyPort(protocol, _number(src, node, int(value), what), None, where)
    if ":" in value:
        first, _, last = value.partition(":")
        if first.isdigit() and last.isdigit():
            lo, hi = _number(src, node, int(first), what), _number(src, node, int(last), what)
            if lo > hi:
                src.fail(node, f"port range {value} starts after it ends")
            return PolicyPort(protocol, lo, hi, where)
        src.fail(node, f'invalid port range "{value}"', "write it as 'start:end', e.g. '8000:9000'")
    if not value or not isinstance(node, ScalarNode):
        src.fail(node, f"invalid port in {what}", "a number, 'start:end' or a port name")
    return PolicyPort(protocol, value, None, where)


def _number(src: Source, node: Node, port: int, what: str) -> int:
    if not 0 <= port <= 65535:
        src.fail(node, f"port {port} in {what} is out of range 0-65535")
    return max(port, 1)


# ---------------------------------------------------------------------------
# tiers and network sets


def read_tier(src: Source, fields: Mapping, meta: Meta) -> CalicoTier:
    """A Calico Tier: its name, order and default action."""
    spec_entry = fields.get("spec")
    spec = (src.mapping(spec_entry[1], "spec") if spec_entry else None) or {}
    check_fields(src, spec, frozenset({"order", "defaultAction"}), "Calico Tier spec")
    order_entry = spec.get("order")
    order = None if order_entry is None or is_null(order_entry[1]) else _order(src, spec)
    action_entry = spec.get("defaultAction")
    action = (src.string(action_entry[1], "defaultAction") if action_entry else None) or "Deny"
    if action not in ("Deny", "Pass"):
        assert action_entry is not None
        src.fail(action_entry[1], f'unknown defaultAction "{action}"', "use Deny or Pass")
    return CalicoTier(meta.name, order, action, meta.location)


def read_network_set(src: Source, fields: Mapping, meta: Meta, kind: str) -> NetworkSet:
    """A NetworkSet (namespaced) or GlobalNetworkSet: labels and CIDRs."""
    spec_entry = fields.get("spec")
    spec = (src.mapping(spec_entry[1], "spec") if spec_entry else None) or {}
    check_fields(src, spec, frozenset({"nets", "allowedEgressDomains"}), f"{kind} spec")
    nets = _nets(src, spec.get("nets"), "nets")
    namespace = meta.namespace if kind == "NetworkSet" else ""
    return NetworkSet(namespace, meta.name, meta.labels or Labels(), nets, meta.location)


def settle_tiers(policies: list[Policy], tiers: list[CalicoTier],
                 notes: list[Diagnostic]) -> list[Policy]:
    """Give each Calico policy its tier's order and default action, now that every Tier
    object is read; a tier the input does not define is a warning (read as ordered last,
    ending in deny)."""
    known = {t.name: t for t in tiers}
    out = []
    missing: dict[str, Policy] = {}
    for policy in policies:
        if not math.isnan(policy.tier.order):
            out.append(policy)
            continue
        name = policy.tier.name
        tier = known.get(name)
        if tier is None:
            missing.setdefault(name, policy)
            order: float = math.inf
            ends_in_deny = True
        else:
            order = tier.order if tier.order is not None else math.inf
            ends_in_deny = tier.default_action != "Pass"
        out.append(_with_tier(policy, Tier(name, order, ends_in_deny)))
    for name, policy in missing.items():
        notes.append(Diagnostic(
            "warning", f"{policy.ref} is in tier {name!r}, which the input does not define: "
            "read as ordered after every other tier, denying what it does not decide",
            policy.location, code="assumption"))
    return out


def _with_tier(policy: Policy, tier: Tier) -> Policy:
    return replace(policy, tier=tier)



#: The prefixes of the copies Calico's API server lists of the policies it converts:
#: ``knp.default.NAME`` for a Kubernetes NetworkPolicy, ``kanp.adminnetworkpolicy.NAME``
#: and ``kbanp.baselineadminnetworkpolicy.NAME`` for the admin policies.
_COPIES = {"CalicoNetworkPolicy": (("knp.default.", "NetworkPolicy"),),
           "GlobalNetworkPolicy": (("kanp.adminnetworkpolicy.", "AdminNetworkPolicy"),
                                   ("kbanp.baselineadminnetworkpolicy.",
                                    "BaselineAdminNetworkPolicy"))}


def without_copies(policies: list[Policy], notes: list[Diagnostic]) -> list[Policy]:
    """Drop Calico's copies of policies whose original the input also holds.

    A dump through Calico's API server lists every Kubernetes NetworkPolicy again as a
    Calico NetworkPolicy ``knp.default.NAME`` (and admin policies as ``kanp.`` and
    ``kbanp.`` global ones): the original is read, the copy noted and dropped.
    """
    originals = {(p.kind, p.namespace, p.name) for p in policies}
    out = []
    for policy in policies:
        for prefix, kind in _COPIES.get(policy.kind, ()):
            name = policy.name.removeprefix(prefix)
            if name != policy.name and (kind, policy.namespace, name) in originals:
                notes.append(Diagnostic(
                    "info", f"{policy.ref} is Calico's copy of {kind} {name}: the original "
                    "is read, the copy left out", policy.location, code="calico-copy"))
                break
        else:
            out.append(policy)
    return out


# ---------------------------------------------------------------------------
# staged policies

#: Calico's staged kinds, each with the kind of the policy it stages (as reach names
#: it: a Calico NetworkPolicy is ``CalicoNetworkPolicy``).
STAGED_KINDS: dict[str, str] = {
    "StagedNetworkPolicy": "CalicoNetworkPolicy",
    "StagedGlobalNetworkPolicy": "GlobalNetworkPolicy",
    "StagedKubernetesNetworkPolicy": "NetworkPolicy",
}

#: The code of the loader's warning that staged policies were read but are not enforced.
STAGED_CODE = "staged"

_STAGED_ACTIONS = ("Set", "Delete")
#: What a Delete may set besides stagedAction: its tier, and the types Calico's API
#: server clears on a Delete.
_DELETE_KEEPS = {"StagedNetworkPolicy": frozenset({"stagedAction", "tier", "types"}),
                 "StagedGlobalNetworkPolicy": frozenset({"stagedAction", "tier", "types"}),
                 "StagedKubernetesNetworkPolicy": frozenset({"stagedAction"})}
_K8S_SPEC = frozenset({"podSelector", "policyTypes", "ingress", "egress"})
#: reach's tiers back to the Calico tiers they stand for.
_CALICO_TIER_NAMES = {tier.name: name for name, tier in _KNOWN_TIERS.items()}


def read_staged_policy(src: Source, fields: Mapping, meta: Meta, root: Node) -> StagedPolicy:
    """A StagedNetworkPolicy, StagedGlobalNetworkPolicy or StagedKubernetesNetworkPolicy.

    The spec is that of the kind staged (a Calico NetworkPolicy's, a
    GlobalNetworkPolicy's, a Kubernetes NetworkPolicy's), validated alike, plus
    ``stagedAction``: ``Set`` (the default) or ``Delete``. As Calico's API server, a
    Delete may set nothing else but the tier. The warnings reading gives are kept in
    the result's ``notes``: they hold only once it is enforced.

    Examples
    --------
    >>> from reach.loader import read_cluster
    >>> cluster = read_cluster("-", stdin_text='''
    ... apiVersion: projectcalico.org/v3
    ... kind: StagedGlobalNetworkPolicy
    ... metadata: {name: deny-db}
    ... spec:
    ...   stagedAction: Delete
    ... ''')
    >>> cluster.policies, [str(s) for s in cluster.staged]
    ((), ['StagedGlobalNetworkPolicy deny-db (Delete)'])
    """
    kind = str(fields["kind"][1].value)
    check_fields(src, fields, _TOP, kind)
    spec_entry = fields.get("spec")
    spec = (src.mapping(spec_entry[1], f"{kind} spec") if spec_entry else None) or {}
    action_entry = spec.get("stagedAction")
    action = "Set"
    if action_entry is not None and not is_null(action_entry[1]):
        action = src.string(action_entry[1], "stagedAction") or ""
        if action not in _STAGED_ACTIONS:
            near = [a for a in _STAGED_ACTIONS if a.lower() == action.lower()]
            src.fail(action_entry[1], f'unknown stagedAction "{action}"',
                     f"did you mean {near[0]}? stagedAction is case-sensitive" if near
                     else "use Set or Delete")
    notes: list[Diagnostic] = []
    if action == "Delete":
        policy = _deleted(src, spec, meta, kind)
    else:
        staged = dict(fields)
        if spec_entry is not None and type(spec_entry[1]) is MappingNode:
            node = spec_entry[1]
            staged["spec"] = (spec_entry[0], MappingNode(
                node.tag, [(k, v) for k, v in node.value if k.value != "stagedAction"],
                node.start_mark, node.end_mark, node.flow_style))
        if kind == "StagedKubernetesNetworkPolicy":
            policy = read_policy(src, staged, meta, root, notes)
        else:
            policy = _read_policy(src, staged, meta, notes,
                                  STAGED_KINDS[kind].removeprefix("Calico"), kind)
    return StagedPolicy(policy, "Delete" if action == "Delete" else "Set", kind, tuple(notes))


def _deleted(src: Source, spec: Mapping, meta: Meta, kind: str) -> Policy:
    """The policy a Delete names: its kind, namespace, tier and name, nothing to enforce."""
    target = STAGED_KINDS[kind]
    known = (_K8S_SPEC if target == "NetworkPolicy" else
             _SPEC if target == "CalicoNetworkPolicy" else _GLOBAL_SPEC)
    check_fields(src, spec, known | {"stagedAction"}, f"{kind} spec")
    for key, (key_node, value) in spec.items():
        if key not in _DELETE_KEEPS[kind] and not _empty(value):
            src.fail(key_node, f"{kind} {meta.name} sets spec.{key}, but its stagedAction is "
                     "Delete", "a Delete stages removing the policy: Calico refuses any "
                     "other spec field" + (" but tier" if target != "NetworkPolicy" else ""))
    namespace = "" if target == "GlobalNetworkPolicy" else meta.namespace
    if target == "NetworkPolicy":
        return Policy(namespace, meta.name, policy_types=(), location=meta.location,
                      priority=NETWORKPOLICY_ORDER)
    tier_entry = spec.get("tier")
    tier_name = (src.string(tier_entry[1], "tier") if tier_entry else None) or "default"
    return Policy(namespace, meta.name, parse_selector(""), policy_types=(),
                  location=meta.location, kind=target, tier=_pending_tier(tier_name),
                  priority=math.inf)


def _empty(node: Node) -> bool:
    """Whether a value is Go's zero value as Calico compares it: null, {}, [] or ""."""
    if type(node) in (MappingNode, SequenceNode):
        return not node.value
    return is_null(node) or (type(node) is ScalarNode and node.tag == _STR and not node.value)


def staged_target(policy: Policy) -> tuple[str, str, str, str]:
    """What a staged policy of ``policy``'s kind, tier, namespace and name stages:
    ``(kind, namespace, tier, name)``.

    A Kubernetes NetworkPolicy is its namespace and name. Calico names a policy of tier
    ``T`` ``T.NAME`` in its datastore, whether its manifest writes the prefix or not
    (``default.`` for the default tier): ``security.allow-dns`` and ``allow-dns`` in
    tier ``security`` are one policy, ``allow-dns`` of the default tier another.

    Examples
    --------
    >>> p = Policy("shop", "default.allow-dns", kind="CalicoNetworkPolicy")
    >>> staged_target(p) == staged_target(replace(p, name="allow-dns"))
    True
    """
    if policy.kind not in CALICO_KINDS:
        return (policy.kind, policy.namespace, "", policy.name)
    tier = _CALICO_TIER_NAMES.get(policy.tier.name, policy.tier.name)
    return (policy.kind, policy.namespace, tier, policy.name.removeprefix(f"{tier}."))
