"""A brute-force reference evaluator of NetworkPolicy semantics, one connection at a time.

Written independently of reach's compiler: it imports only the model dataclasses and
decides every question by walking the policies for the single connection asked
about. Ports are plain integer comparisons, addresses stdlib :mod:`ipaddress`,
label selectors a few lines of set logic. Slow and obviously right is the point.

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

from reach.model import Cluster, LabelSelector, Peer, Pod, Policy, PolicyPort

__all__ = [
    "allowed",
    "allowed_probes",
    "direction_allows",
    "in_ip_block",
    "isolated",
    "selector_matches",
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


def _peer_matches(peer: Peer, policy: Policy, other: Endpoint, cluster: Cluster,
                  ipblock_pods: bool) -> bool:
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
    if pp.protocol.upper() != protocol.upper():
        return False
    if pp.port is None:
        return True
    if isinstance(pp.port, str):
        if isinstance(dst, str):
            return False  # a named port means nothing outside the cluster
        return any(cp.name == pp.port and cp.protocol.upper() == protocol.upper()
                   and cp.port == port for cp in dst.ports)
    last = pp.end_port if pp.end_port is not None else pp.port
    return pp.port <= port <= last


def applying(cluster: Cluster, pod: Pod, direction: str) -> list[Policy]:
    """The policies that select ``pod`` and isolate it for ``direction``."""
    kind = "Ingress" if direction == "ingress" else "Egress"
    if pod.host_network:
        return []
    return [p for p in cluster.policies
            if p.namespace == pod.namespace and kind in p.policy_types
            and selector_matches(p.pod_selector, pod.labels)]


def isolated(cluster: Cluster, pod: Pod, direction: str) -> bool:
    return bool(applying(cluster, pod, direction))


Probe = tuple[str, int]


def _side_allows(cluster: Cluster, pod: Pod, other: Endpoint, direction: str,
                 probes: Iterable[Probe], ipblock_pods: bool) -> set[Probe]:
    """The probes ``pod``'s ``direction`` side allows for a connection with ``other``."""
    probes = set(probes)
    policies = applying(cluster, pod, direction)
    if not policies:
        return probes
    dst = pod if direction == "ingress" else other
    matching = [
        rule
        for policy in policies
        for rule in (policy.ingress if direction == "ingress" else policy.egress)
        if not rule.peers
        or any(_peer_matches(peer, policy, other, cluster, ipblock_pods) for peer in rule.peers)
    ]
    return {
        (protocol, port)
        for protocol, port in probes
        if any(not rule.ports or any(_port_matches(pp, dst, protocol, port) for pp in rule.ports)
               for rule in matching)
    }


def direction_allows(cluster: Cluster, pod: Pod, other: Endpoint, direction: str,
                     protocol: str, port: int, ipblock_pods: bool = True) -> bool:
    """Whether ``pod``'s ``direction`` side allows the connection with ``other``."""
    return bool(_side_allows(cluster, pod, other, direction, [(protocol, port)], ipblock_pods))


def allowed_probes(cluster: Cluster, src: Endpoint, dst: Endpoint, probes: Iterable[Probe],
                   ipblock_pods: bool = True) -> set[Probe]:
    """The ``(protocol, port)`` probes on which ``src`` may open a connection to ``dst``."""
    out = set(probes)
    if isinstance(src, Pod) and isinstance(dst, Pod) and src == dst:
        return out  # a pod cannot block access to itself
    if isinstance(src, Pod):
        out &= _side_allows(cluster, src, dst, "egress", out, ipblock_pods)
    if isinstance(dst, Pod):
        out &= _side_allows(cluster, dst, src, "ingress", out, ipblock_pods)
    return out


def allowed(cluster: Cluster, src: Endpoint, dst: Endpoint, protocol: str, port: int,
            ipblock_pods: bool = True) -> bool:
    """Whether ``src`` may open a ``protocol``/``port`` connection to ``dst``."""
    return bool(allowed_probes(cluster, src, dst, [(protocol, port)], ipblock_pods))
