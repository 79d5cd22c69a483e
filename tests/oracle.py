"""A brute-force reference evaluator of policy semantics, one connection and one port at a time.

Written independently of reach's compiler and of its explanation walk: it imports
only the model dataclasses and decides every question by walking the policies for
the single connection and the single (protocol, port) asked about. Ports are plain
integer comparisons, addresses stdlib :mod:`ipaddress`, label selectors a few lines
of set logic. Slow and obviously right is the point.

The tiers, as the admin policy API (kubernetes-sigs/network-policy-api) and
Kubernetes define them, per direction (egress at the source, ingress at the
destination; both must allow):

1. tiers in ascending order (Admin, NetworkPolicy, Baseline); in each, the policies
   selecting the pod by ascending priority (ties by kind, then name), rules in
   written order: the first rule whose peer and port match decides. Allow allows,
   Deny denies, Pass leaves the tier, Log goes on.
2. A tier that ends in deny (NetworkPolicy) and selects the pod denies what no rule
   of it allowed.
3. What no tier decides is allowed.

An *endpoint* is a :class:`~reach.model.Pod` of the cluster or an IP address (a
``str``) outside it; no policy applies at an address's end.

Examples
--------
>>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy
>>> a, b = Pod("ns", "a", Labels({"app": "a"})), Pod("ns", "b", Labels({"app": "b"}))
>>> deny_b = Policy("ns", "deny-b", LabelSelector(Labels({"app": "b"})))
>>> cluster = Cluster(pods=(a, b), policies=(deny_b,))
>>> allowed(cluster, a, b, "TCP", 80), allowed(cluster, b, a, "TCP", 80)
(False, True)
>>> allowed(cluster, b, b, "TCP", 80)  # a pod always reaches itself
True
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping

from reach.model import Cluster, LabelSelector, Peer, Pod, Policy, PolicyPort, Rule

__all__ = [
    "allowed",
    "allowed_probes",
    "direction_allows",
    "in_ip_block",
    "isolated",
    "selector_matches",
    "selects",
]

Endpoint = Pod | str
NAME_LABEL = "kubernetes.io/metadata.name"


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Whether every requirement of ``selector`` holds for ``labels`` (empty: always)."""
    for key, value in selector.match_labels.items():
        if key not in labels or labels[key] != value:
            return False
    for req in selector.match_expressions:
        has = req.key in labels
        if req.operator == "In":
            ok = has and labels[req.key] in req.values
        elif req.operator == "NotIn":
            ok = not has or labels[req.key] not in req.values
        elif req.operator == "Exists":
            ok = has
        elif req.operator == "DoesNotExist":
            ok = not has
        else:  # pragma: no cover - the model allows only the four operators
            raise ValueError(req.operator)
        if not ok:
            return False
    return True


def namespace_labels(cluster: Cluster, name: str) -> Mapping[str, str]:
    """A namespace's labels; an undeclared namespace carries only its name label."""
    for ns in cluster.namespaces:
        if ns.name == name:
            return ns.labels
    return {NAME_LABEL: name}


@functools.lru_cache(maxsize=65536)
def in_ip_block(address: str, cidr: str, excepts: tuple[str, ...]) -> bool:
    """Whether ``address`` lies in ``cidr`` and in none of ``excepts`` (families never mix).

    Memoised: parsing addresses is by far the oracle's biggest cost.
    """
    ip = ipaddress.ip_address(address)

    def inside(text: str) -> bool:
        net = ipaddress.ip_network(text, strict=False)
        return net.version == ip.version and ip in net

    return inside(cidr) and not any(inside(e) for e in excepts)


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def _peer_matches(peer: Peer, policy: Policy, other: Endpoint, cluster: Cluster,
                  ipblock_pods: bool) -> bool:
    if peer.node_selector is not None:
        node_ips = [ip for node in cluster.nodes
                    if selector_matches(peer.node_selector, node.labels) for ip in node.addresses]
        if isinstance(other, str):
            return any(_same_address(other, ip) for ip in node_ips)
        return ipblock_pods and any(_same_address(mine, ip) for mine in other.ips
                                    for ip in node_ips)
    if peer.domain_names or peer.unknown:
        return False  # names and unknown fields match no address
    if peer.ip_block is not None:
        block = peer.ip_block
        if isinstance(other, str):
            return in_ip_block(other, block.cidr, block.except_)
        if not ipblock_pods:
            return False
        return any(_valid_ip(ip) and in_ip_block(ip, block.cidr, block.except_)
                   for ip in other.ips)
    if isinstance(other, str) or other.host_network:
        return False  # selectors match pods only, and never host-network pods
    if peer.namespace_selector is None:
        if other.namespace != policy.namespace:
            return False
    elif not selector_matches(peer.namespace_selector,
                              namespace_labels(cluster, other.namespace)):
        return False
    return peer.pod_selector is None or selector_matches(peer.pod_selector, other.labels)


@functools.lru_cache(maxsize=4096)
def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _port_matches(pp: PolicyPort, dst: Endpoint, protocol: str, port: int) -> bool:
    if isinstance(pp.port, str):
        if isinstance(dst, str):
            return False  # a named port means nothing outside the cluster
        # a named port without a protocol (the admin APIs') names a port of any protocol
        return any(cp.name == pp.port and cp.protocol.upper() == protocol.upper()
                   and (not pp.protocol or pp.protocol.upper() == protocol.upper())
                   and cp.port == port for cp in dst.ports)
    if pp.protocol.upper() != protocol.upper():
        return False
    if pp.port is None:
        return True
    last = pp.end_port if pp.end_port is not None else pp.port
    return pp.port <= port <= last


def selects(cluster: Cluster, policy: Policy, pod: Pod) -> bool:
    """Whether ``policy``'s subject is ``pod``; host-network pods are never subjects."""
    if pod.host_network:
        return False
    if policy.namespace:
        if policy.namespace != pod.namespace:
            return False
    elif policy.namespace_selector is not None and not selector_matches(
            policy.namespace_selector, namespace_labels(cluster, pod.namespace)):
        return False
    return selector_matches(policy.pod_selector, pod.labels)


def applying(cluster: Cluster, pod: Pod, direction: str) -> list[Policy]:
    """The policies that select ``pod`` and take part in ``direction``."""
    kind = "Ingress" if direction == "ingress" else "Egress"
    return [p for p in cluster.policies if kind in p.policy_types and selects(cluster, p, pod)]


def isolated(cluster: Cluster, pod: Pod, direction: str) -> bool:
    """Selected for ``direction`` by a policy of a tier that ends in deny (NetworkPolicy)."""
    return any(p.tier.ends_in_deny for p in applying(cluster, pod, direction))


Probe = tuple[str, int]


Plan = list[tuple[bool, list[Rule]]]
"""The tiers that select a pod, in order: (ends in deny, the rules whose peer matches)."""


def _ipv4_held(blocks: Iterable[tuple[str, tuple[str, ...]]]) -> bool:
    """Whether the union of the blocks (cidr minus excepts) holds every IPv4 address."""
    spans: list[tuple[int, int]] = []
    for cidr, excepts in blocks:
        net = ipaddress.ip_network(cidr, strict=False)
        if net.version != 4:
            continue
        pieces = [(int(net.network_address), int(net.broadcast_address))]
        for text in excepts:
            hole = ipaddress.ip_network(text, strict=False)
            lo, hi = int(hole.network_address), int(hole.broadcast_address)
            pieces = [part for a, b in pieces
                      for part in ((a, min(b, lo - 1)), (max(a, hi + 1), b)) if part[0] <= part[1]]
        spans.extend(pieces)
    reached = 0
    for lo, hi in sorted(spans):
        if lo > reached:
            return False
        reached = max(reached, hi + 1)
    return reached > 0xFFFFFFFF


def _unknown_ip_inside(cluster: Cluster, rule: Rule, other: Endpoint,
                       ipblock_pods: bool) -> bool:
    """A pod whose IP the input does not give still has an IPv4 address: inside 0.0.0.0/0."""
    if isinstance(other, str) or other.ips or not ipblock_pods:
        return False
    blocks = [(peer.ip_block.cidr, peer.ip_block.except_) for peer in rule.peers
              if peer.ip_block is not None]
    for peer in rule.peers:
        if peer.node_selector is not None:
            blocks += [(f"{ip}/{32 if ':' not in ip else 128}", ()) for node in cluster.nodes
                       if selector_matches(peer.node_selector, node.labels)
                       for ip in node.addresses]
    return _ipv4_held(blocks)


def _plan(cluster: Cluster, pod: Pod, other: Endpoint, direction: str,
          ipblock_pods: bool) -> Plan:
    policies = applying(cluster, pod, direction)
    plan: Plan = []
    for tier in sorted({p.tier for p in policies}, key=lambda tier: tier.order):
        members = sorted((p for p in policies if p.tier == tier),
                         key=lambda p: (p.priority, p.kind, p.namespace, p.name))
        matching = [
            rule
            for policy in members
            for rule in (policy.ingress if direction == "ingress" else policy.egress)
            if rule.action != "Log" and (not rule.peers or any(
                _peer_matches(peer, policy, other, cluster, ipblock_pods) for peer in rule.peers)
                or _unknown_ip_inside(cluster, rule, other, ipblock_pods))
        ]
        plan.append((tier.ends_in_deny, matching))
    return plan


def _decide(plan: Plan, dst: Endpoint, protocol: str, port: int) -> bool:
    for ends_in_deny, rules in plan:
        decided = next((rule.action for rule in rules if not rule.ports or any(
            _port_matches(pp, dst, protocol, port) for pp in rule.ports)), None)
        if decided == "Allow":
            return True
        if decided == "Deny":
            return False
        if decided is None and ends_in_deny:
            return False
        # Pass, or nothing decided in a tier that does not end in deny: the next tier
    return True


def direction_allows(cluster: Cluster, pod: Pod, other: Endpoint, direction: str,
                     protocol: str, port: int, ipblock_pods: bool = True) -> bool:
    """Whether ``pod``'s ``direction`` side allows the connection with ``other``."""
    dst = pod if direction == "ingress" else other
    return _decide(_plan(cluster, pod, other, direction, ipblock_pods), dst, protocol, port)


def _side_allows(cluster: Cluster, pod: Pod, other: Endpoint, direction: str,
                 probes: Iterable[Probe], ipblock_pods: bool) -> set[Probe]:
    """The probes ``pod``'s ``direction`` side allows for a connection with ``other``."""
    plan = _plan(cluster, pod, other, direction, ipblock_pods)
    dst = pod if direction == "ingress" else other
    return {(protocol, port) for protocol, port in probes if _decide(plan, dst, protocol, port)}


def allowed_probes(cluster: Cluster, src: Endpoint, dst: Endpoint, probes: Iterable[Probe],
                   ipblock_pods: bool = True, hairpin: bool = False) -> set[Probe]:
    """The ``(protocol, port)`` probes on which ``src`` may open a connection to ``dst``.

    ``hairpin``: through a Service that sends a pod back to itself, where policies apply
    as to any client (a pod reaching its own IP always gets through)."""
    out = set(probes)
    if isinstance(src, Pod) and isinstance(dst, Pod) and src == dst and not hairpin:
        return out  # a pod cannot block access to itself
    if isinstance(src, Pod):
        out &= _side_allows(cluster, src, dst, "egress", out, ipblock_pods)
    if isinstance(dst, Pod):
        out &= _side_allows(cluster, dst, src, "ingress", out, ipblock_pods)
    return out


def allowed(cluster: Cluster, src: Endpoint, dst: Endpoint, protocol: str, port: int,
            ipblock_pods: bool = True, hairpin: bool = False) -> bool:
    """Whether ``src`` may open a ``protocol``/``port`` connection to ``dst``."""
    return bool(allowed_probes(cluster, src, dst, [(protocol, port)], ipblock_pods, hairpin))
