"""Verdicts that explain themselves: per direction, the tiers, the policies, the deciding rules.

The compiler answers *whether*; this module says *why*, from the walk of
:mod:`reach.engine.trace` over the policies that select each end of one connection.
Each side (the source's egress, the destination's ingress) is not isolated
(everything allowed), isolated by NetworkPolicies (the rules that allow the
connection are listed with their file and line), or decided through the tiers (each
rule of an admin or baseline policy that took part of the traffic, in order).

Examples
--------
>>> from reach.engine.trace import TraceContext
>>> from reach.model import Pod, Labels, Policy, LabelSelector, Namespace
>>> server = Pod("ns", "server", Labels({"app": "server"}))
>>> client = Pod("ns", "client", Labels({"app": "client"}))
>>> deny = Policy("ns", "deny-all", LabelSelector())
>>> ns = {"ns": Namespace("ns", Labels({"kubernetes.io/metadata.name": "ns"}))}
>>> side = side_of(TraceContext.of([deny], ns), "ingress", server, client, None, "TCP", 80)
>>> side.isolated, side.ports
(True, PortSet<No Connections>)
>>> [p.name for p in side.selecting]
['deny-all']
>>> print(side.describe())
ingress of destination ns/server: isolated by deny-all (<generated>)
  no rule of these policies allows this connection
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.engine.trace import Step, TraceContext, Walk, trace_side
from reach.model import NETWORKPOLICY_TIER, Direction, Pod, Policy, Rule

__all__ = ["RuleMatch", "Side", "Verdict", "side_of"]


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that allows (part of) a connection, and the ports it allows there."""

    policy: Policy
    rule: Rule
    ports: PortSet

    def __str__(self) -> str:
        where = f"{self.rule.location}: " if self.rule.location.line else ""
        return f"{where}{self.policy.ref} {self.rule.label} allows {self.ports}"

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy.ref,
            "direction": self.rule.direction,
            "rule": self.rule.index,
            "ports": str(self.ports),
            "location": str(self.rule.location),
        }


def _step_json(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tier": str(step.tier) if step.tier else "default",
        "action": step.action,
        "ports": step.ports.to_json(),
    }
    if step.policy is not None:
        out["policy"] = step.policy.ref
        out["kind"] = step.policy.kind
    if step.rule is not None:
        out["rule"] = step.rule.index
        if step.rule.name:
            out["rule_name"] = step.rule.name
        out["location"] = str(step.rule.location)
    return out


@dataclass(frozen=True, slots=True)
class Side:
    """One direction's say on a connection, from its walk through the tiers.

    ``pod`` is None when this end is outside the cluster (no policy applies there).
    ``protocol``/``port`` is the question asked (``port`` None: any port); the
    explanation shows the steps that decide it.
    """

    direction: Direction
    pod: Pod | None
    walk: Walk
    protocol: str = "TCP"
    port: int | None = None

    @property
    def isolated(self) -> bool:
        """Selected by a NetworkPolicy for this direction (isolated in Kubernetes' sense)."""
        return self.walk.isolated

    @property
    def selecting(self) -> tuple[Policy, ...]:
        """Every policy that selects the pod for this direction, in evaluation order."""
        return self.walk.selecting

    @property
    def ports(self) -> PortSet:
        """Every port this direction allows for the connection."""
        return self.walk.allowed

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps that decide the question asked (all of them for "any port")."""
        if self.port is None:
            return self.walk.steps
        return tuple(s for s in self.walk.steps if s.ports.allows(self.protocol, self.port))

    @property
    def allowing(self) -> tuple[RuleMatch, ...]:
        """The rules that allow (part of) the question asked."""
        return tuple(RuleMatch(s.policy, s.rule, s.ports) for s in self.steps
                     if s.action == "Allow" and s.policy is not None and s.rule is not None)

    @property
    def tiered(self) -> bool:
        """Whether a policy of another tier than NetworkPolicy selects the pod."""
        return any(p.tier != NETWORKPOLICY_TIER for p in self.selecting)

    def describe(self) -> str:
        who = "source" if self.direction == "egress" else "destination"
        name = f"{self.pod.ref}" if self.pod else "outside the cluster"
        head = f"{self.direction} of {who} {name}"
        if self.pod is None:
            return f"{head}: no policy applies, everything allowed"
        if self.pod.host_network:
            return f"{head}: host-network pod, not selected by policies, everything allowed"
        if not self.selecting:
            return (f"{head}: not isolated (no policy selects it for {self.direction}), "
                    "everything allowed")
        if not self.tiered:
            lines = [f"{head}: isolated by {_names(self.selecting)}"]
            if self.allowing:
                lines.extend(f"  allowed by {match}" for match in self.allowing)
            else:
                lines.append("  no rule of these policies allows this connection")
            return "\n".join(lines)
        return "\n".join([f"{head}: decided through the tiers", *self._tier_lines()])

    def _shown(self, ports: PortSet) -> PortSet:
        """A step's share, narrowed to the port asked about when one was."""
        if self.port is None:
            return ports
        return ports & PortSet.single(self.protocol, self.port)

    def _tier_lines(self) -> list[str]:
        lines: list[str] = []
        np_selecting = [p for p in self.selecting if p.tier == NETWORKPOLICY_TIER]
        shown_isolation = False
        for step in self.steps:
            if step.tier == NETWORKPOLICY_TIER and not shown_isolation:
                lines.append(f"  [{step.tier}] isolated by {_names(np_selecting)}")
                shown_isolation = True
            ports = self._shown(step.ports)
            if step.action == "isolated":
                lines.append(f"  [{step.tier}] Deny {ports}: no NetworkPolicy rule allows it")
            elif step.action == "default":
                lines.append(f"  [default] Allow {ports}: no tier decided, allowed by default")
            elif step.policy is not None and step.rule is not None:
                lines.append(f"  [{step.tier}] {step.action} {ports} by {step.policy.ref} "
                             f"{step.rule.label} ({step.rule.location})")
        if np_selecting and not shown_isolation:
            lines.append(f"  [{NETWORKPOLICY_TIER}] isolated by {_names(np_selecting)} "
                         "(not reached: decided before)")
        word = f"allowed: {self.ports}" if self.ports else "denied"
        if self.port is not None:
            word = "allowed" if self.ports.allows(self.protocol, self.port) else "denied"
        lines.append(f"  => {word}")
        for first, second in self.walk.ties:
            lines.append(
                f"  note: {first.ref} and {second.ref} are both {first.tier} policies of "
                f"priority {first.priority:g} that match this connection with different "
                f"actions; the API leaves their order undefined, reach applies {first.ref} first")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "pod": self.pod.ref if self.pod else None,
            "isolated": self.isolated,
            "selected_by": [p.ref for p in self.selecting],
            "allowed_by": [m.to_json() for m in self.allowing],
            "ports": str(self.ports),
            "steps": [_step_json(s) for s in self.steps],
            "ties": [[a.ref, b.ref] for a, b in self.walk.ties],
        }


def _names(policies: tuple[Policy, ...] | list[Policy]) -> str:
    return ", ".join(
        f"{p.name if p.namespace else p.ref} ({p.location})" for p in policies)


def side_of(
    ctx: TraceContext,
    direction: Direction,
    pod: Pod | None,
    other: Pod | None,
    other_key: int | None,
    protocol: str = "TCP",
    port: int | None = None,
) -> Side:
    """What ``direction`` of ``pod`` says about a connection with ``other``.

    ``other`` is the pod at the other end, or None with ``other_key`` its address
    when it is outside the cluster; ``pod`` None is an outside end.
    """
    return Side(direction, pod, trace_side(ctx, direction, pod, other, other_key),
                protocol.upper(), port)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether ``src`` may open a connection to ``dst`` (on one port, or on any), and why.

    Truthy when allowed. ``ports`` is every port allowed between the two;
    ``caveats`` what reach could not analyse that may change the answer.
    """

    src: Endpoint
    dst: Endpoint
    protocol: str
    port: int | None
    ports: PortSet
    egress: Side
    ingress: Side
    caveats: tuple[str, ...] = ()

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
        else:
            lines.append(self.egress.describe())
            lines.append(self.ingress.describe())
            lines.append(f"allowed between them: {self.ports}")
        lines.extend(f"caveat: {c}" for c in self.caveats)
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
            "caveats": list(self.caveats),
        }

    def _repr_html_(self) -> str:
        import html

        colour = "#1a7f37" if self.allowed else "#cf222e"
        body = html.escape(self.explain())
        return f'<pre style="border-left: 4px solid {colour}; padding-left: 8px">{body}</pre>'
