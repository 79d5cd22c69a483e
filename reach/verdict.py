"""Verdicts that explain themselves: per direction, who isolates, which rule allows.

The compiler answers *whether*; this module answers *why*, by walking the policies
that select the two ends of one connection. Each side (the source's egress, the
destination's ingress) is either not isolated (everything allowed), or isolated by
some policies, in which case the rules that match the other end and the port are
listed with their file and line.

Examples
--------
>>> from reach.model import Pod, Labels, Policy, LabelSelector, Namespace
>>> server = Pod("ns", "server", Labels({"app": "server"}))
>>> client = Pod("ns", "client", Labels({"app": "client"}))
>>> deny = Policy("ns", "deny-all", LabelSelector())
>>> ns = {"ns": Namespace("ns", Labels({"kubernetes.io/metadata.name": "ns"}))}
>>> side = explain_side("ingress", server, client, None, (deny,), ns, "TCP", 80, True)
>>> side.isolated, side.ports
(True, PortSet<No Connections>)
>>> [p.name for p in side.selecting]
['deny-all']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reach.endpoints import Endpoint
from reach.engine.addresses import AddressSet, address_key
from reach.engine.ports import PortSet
from reach.engine.selectors import matches
from reach.model import Direction, Namespace, Peer, Pod, Policy, Rule

__all__ = ["RuleMatch", "Side", "Verdict", "explain_side", "rule_ports_for"]


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that allows (part of) a connection, and the ports it allows there."""

    policy: Policy
    rule: Rule
    ports: PortSet

    def __str__(self) -> str:
        where = f"{self.rule.location}: " if self.rule.location.line else ""
        return (
            f"{where}{self.policy.ref} {self.rule.direction}[{self.rule.index}] allows {self.ports}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy.ref,
            "direction": self.rule.direction,
            "rule": self.rule.index,
            "ports": str(self.ports),
            "location": str(self.rule.location),
        }


@dataclass(frozen=True, slots=True)
class Side:
    """One direction's say on a connection.

    ``pod`` is None when this end is outside the cluster (no policy applies there).
    """

    direction: Direction
    pod: Pod | None
    isolated: bool
    selecting: tuple[Policy, ...]
    allowing: tuple[RuleMatch, ...]
    ports: PortSet

    def describe(self) -> str:
        who = "source" if self.direction == "egress" else "destination"
        name = f"{self.pod.ref}" if self.pod else "outside the cluster"
        if self.pod is None:
            return f"{self.direction} of {who} {name}: no policy applies, everything allowed"
        if self.pod.host_network:
            return (
                f"{self.direction} of {who} {name}: host-network pod, not selected by policies, "
                "everything allowed"
            )
        if not self.isolated:
            return (
                f"{self.direction} of {who} {name}: not isolated (no policy selects it for "
                f"{self.direction}), everything allowed"
            )
        names = ", ".join(f"{p.name} ({p.location})" for p in self.selecting)
        lines = [f"{self.direction} of {who} {name}: isolated by {names}"]
        if self.allowing:
            lines.extend(f"  allowed by {match}" for match in self.allowing)
        else:
            lines.append("  no rule of these policies allows this connection")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "pod": self.pod.ref if self.pod else None,
            "isolated": self.isolated,
            "selected_by": [p.ref for p in self.selecting],
            "allowed_by": [m.to_json() for m in self.allowing],
            "ports": str(self.ports),
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether ``src`` may open a connection to ``dst`` (on one port, or on any), and why.

    Truthy when allowed. ``ports`` is every port allowed between the two.
    """

    src: Endpoint
    dst: Endpoint
    protocol: str
    port: int | None
    ports: PortSet
    egress: Side
    ingress: Side

    @property
    def allowed(self) -> bool:
        if self.src == self.dst:
            return True
        if self.port is None:
            return bool(self.ports)
        return self.ports.allows(self.protocol, self.port)

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def what(self) -> str:
        return f"{self.protocol} {self.port}" if self.port is not None else "any port"

    def explain(self) -> str:
        """A few lines saying the verdict and the rules that decide it."""
        word = "ALLOWED" if self.allowed else "DENIED"
        lines = [f"{self.src} -> {self.dst} on {self.what}: {word}"]
        if self.src == self.dst:
            lines.append("a pod always reaches itself")
            return "\n".join(lines)
        lines.append(self.egress.describe())
        lines.append(self.ingress.describe())
        lines.append(f"allowed between them: {self.ports}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "src": self.src.to_json(),
            "dst": self.dst.to_json(),
            "protocol": self.protocol,
            "port": self.port,
            "ports": self.ports.to_dict(),
            "egress": self.egress.to_json(),
            "ingress": self.ingress.to_json(),
        }

    def _repr_html_(self) -> str:
        import html

        colour = "#1a7f37" if self.allowed else "#cf222e"
        body = html.escape(self.explain())
        return f'<pre style="border-left: 4px solid {colour}; padding-left: 8px">{body}</pre>'


def rule_ports_for(rule: Rule, dst: Pod | None) -> PortSet:
    """The ports a rule allows towards ``dst`` (named ports resolved on it; None = outside)."""
    if not rule.ports:
        return PortSet.all()
    named = {(cp.name, cp.protocol): cp.port for cp in dst.ports if cp.name} if dst else {}
    out = PortSet.none()
    for port in rule.ports:
        if port.port is None:
            out = out | PortSet.protocol(port.protocol)
        elif isinstance(port.port, str):
            number = named.get((port.port, port.protocol))
            if number is not None:
                out = out | PortSet.single(port.protocol, number)
        else:
            last = port.end_port if port.end_port is not None else port.port
            out = out | PortSet.range(port.protocol, port.port, last)
    return out


def _peer_matches(
    peer: Peer,
    policy: Policy,
    other: Pod | None,
    other_key: int | None,
    namespaces: Mapping[str, Namespace],
    ipblock_pods: bool,
) -> bool:
    if peer.ip_block is not None:
        block = AddressSet.cidr(peer.ip_block.cidr)
        for item in peer.ip_block.except_:
            block = block - AddressSet.cidr(item)
        if other is None:
            return other_key is not None and other_key in block
        if not ipblock_pods:
            return False
        return any(_key(ip) in block for ip in other.ips)
    if other is None or other.host_network:
        return False
    if peer.namespace_selector is None:
        if other.namespace != policy.namespace:
            return False
    else:
        ns = namespaces.get(other.namespace)
        ns_labels = ns.labels if ns else {}
        if not matches(peer.namespace_selector, ns_labels):
            return False
    return peer.pod_selector is None or matches(peer.pod_selector, other.labels)


def _key(ip: str) -> int:
    try:
        return address_key(ip)
    except ValueError:
        return -1


def explain_side(
    direction: Direction,
    pod: Pod | None,
    other: Pod | None,
    other_key: int | None,
    policies: Sequence[Policy],
    namespaces: Mapping[str, Namespace],
    protocol: str,
    port: int | None,
    ipblock_pods: bool,
) -> Side:
    """What ``direction`` of ``pod`` says about a connection with ``other``.

    ``other`` is the pod at the other end, or None with ``other_key`` its address
    when it is outside the cluster.
    """
    if pod is None or pod.host_network:
        return Side(direction, pod, False, (), (), PortSet.all())
    selecting = tuple(
        p
        for p in policies
        if p.namespace == pod.namespace
        and p.applies(direction)
        and matches(p.pod_selector, pod.labels)
    )
    if not selecting:
        return Side(direction, pod, False, (), (), PortSet.all())
    dst = pod if direction == "ingress" else other
    allowing: list[RuleMatch] = []
    total = PortSet.none()
    for policy in selecting:
        for rule in policy.rules(direction):
            if rule.peers and not any(
                _peer_matches(peer, policy, other, other_key, namespaces, ipblock_pods)
                for peer in rule.peers
            ):
                continue
            ports = rule_ports_for(rule, dst)
            total = total | ports
            if (port is None and ports) or (port is not None and ports.allows(protocol, port)):
                allowing.append(RuleMatch(policy, rule, ports))
    return Side(direction, pod, True, selecting, tuple(allowing), total)
