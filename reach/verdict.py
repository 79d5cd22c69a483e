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
>>> print(side)
ingress of destination ns/server: isolated by deny-all (<generated>)
  no rule of these policies allows this connection
>>> side.reason
'ingress of destination ns/server: isolated by deny-all (<generated>): no rule allows TCP 80'

Human text is ``str()`` for every result type (a verdict, a side, a Service
verdict); ``to_json()`` is the machine form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from reach.endpoints import Endpoint
from reach.engine.ports import PORT_PROTOCOLS, PortSet, canonical_protocol
from reach.engine.trace import Step, TraceContext, Walk, trace_side
from reach.model import CALICO_KINDS, NETWORKPOLICY_TIER, Direction, Pod, Policy, Rule

__all__ = ["BackendVerdict", "RuleMatch", "ServiceVerdict", "Side", "Verdict", "answers", "asked",
           "asked_text", "side_of"]


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
        question = asked(self.protocol, self.port)
        if question is None:
            return self.walk.steps
        return tuple(s for s in self.walk.steps if s.ports & question)

    @property
    def allowing(self) -> tuple[RuleMatch, ...]:
        """The rules that allow (part of) the question asked."""
        return tuple(RuleMatch(s.policy, s.rule, s.ports) for s in self.steps
                     if s.action == "Allow" and s.policy is not None and s.rule is not None)

    @property
    def tiered(self) -> bool:
        """Whether a policy of another tier than NetworkPolicy selects the pod."""
        return any(p.tier != NETWORKPOLICY_TIER for p in self.selecting)

    @property
    def what(self) -> str:
        """The question asked, as text: ``TCP 8080`` or ``any port``."""
        return asked_text(self.protocol, self.port)

    @property
    def denies(self) -> bool:
        """Whether this direction denies the question asked."""
        return not answers(self.ports, self.protocol, self.port)

    @property
    def _head(self) -> str:
        who = "source" if self.direction == "egress" else "destination"
        name = f"{self.pod.ref}" if self.pod else "outside the cluster"
        return f"{self.direction} of {who} {name}"

    @property
    def reason(self) -> str:
        """One line: why this direction denies the question (or allows it)."""
        head = self._head
        if self.pod is None or self.pod.host_network or not self.selecting:
            return str(self).splitlines()[0]
        deciding = [s for s in self.steps if s.denies]
        if not self.denies:
            return f"{head}: allows {self.what}"
        if not self.tiered or not deciding:
            return (f"{head}: isolated by {_names(self.selecting)}: no rule allows "
                    f"{self.what}")
        step = deciding[0]
        if step.action == "isolated":
            np_selecting = [p for p in self.selecting if p.tier == NETWORKPOLICY_TIER]
            return (f"{head}: [{step.tier}] isolated by {_names(np_selecting)}: no "
                    f"NetworkPolicy rule allows {self.what}")
        assert step.policy is not None and step.rule is not None
        return (f"{head}: [{step.tier}] Deny by {step.policy.ref} {step.rule.label} "
                f"({step.rule.location})")

    def __str__(self) -> str:
        head = self._head
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

    def __repr__(self) -> str:
        return f"<Side {self._head}: {self.ports}>"

    def _shown(self, ports: PortSet) -> PortSet:
        """A step's share, narrowed to the port asked about when one was."""
        question = asked(self.protocol, self.port)
        return ports if question is None else ports & question

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
                lines.append(f"  [{step.tier}] {step.action} {ports} by {_named(step.policy)} "
                             f"{step.rule.label} ({step.rule.location})")
        if np_selecting and not shown_isolation:
            lines.append(f"  [{NETWORKPOLICY_TIER}] isolated by {_names(np_selecting)} "
                         "(not reached: decided before)")
        word = f"allowed: {self.ports}" if self.ports else "denied"
        if asked(self.protocol, self.port) is not None:
            word = "allowed" if answers(self.ports, self.protocol, self.port) else "denied"
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
                canonical_protocol(protocol), port)


def _html(text: str, allowed: bool) -> str:
    import html

    colour = "#1a7f37" if allowed else "#cf222e"
    body = html.escape(text)
    return f'<pre style="border-left: 4px solid {colour}; padding-left: 8px">{body}</pre>'


def _indent(text: str, by: str = "  ") -> list[str]:
    return [by + line for line in text.splitlines()]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether ``src`` may open a connection to ``dst`` (on one port, or on any), and why.

    Truthy when allowed. ``ports`` is every port allowed between the two (an endpoint
    that stands for several pods, asked about itself: between two of its pods);
    ``itself``: one pod asked about itself, which it always reaches; ``caveats`` what
    reach could not analyse that may change the answer; ``notes``
    what the answer assumed about this question (the address an outside client is
    seen from, a Service of the same name...). ``str()`` says the verdict and the rules
    that decide it.
    """

    src: Endpoint
    dst: Endpoint
    protocol: str
    port: int | None
    ports: PortSet
    egress: Side
    ingress: Side
    caveats: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    port_name: str = ""
    itself: bool = False

    @property
    def allowed(self) -> bool:
        if self.itself:
            return True
        return answers(self.ports, self.protocol, self.port)

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def what(self) -> str:
        """The question asked: ``TCP 8080`` (``TCP 8080 (http)`` for a name) or ``any port``."""
        named = f" ({self.port_name})" if self.port_name else ""
        return asked_text(self.protocol, self.port) + named

    @property
    def answer(self) -> str:
        """``ALLOWED on TCP 8080``, ``ALLOWED on TCP 8080 (not on every port)``,
        ``ALLOWED on every port``, ``DENIED on ...``: one phrase that cannot be misread."""
        if asked(self.protocol, self.port) is not None:
            return f"{'ALLOWED' if self.allowed else 'DENIED'} on {self.what}"
        if self.itself or self.ports.is_all():
            return "ALLOWED on every port"
        if self.ports:
            return f"ALLOWED on {self.ports} (not on every port)"
        return "DENIED on every port"

    @property
    def reason(self) -> str:
        """One line: why the connection is denied (empty when it is allowed)."""
        if self.allowed:
            return ""
        sides = [side.reason for side in (self.egress, self.ingress) if side.denies]
        if not sides:
            # each side allows part of it, but not the same part
            return (f"egress allows {self.egress.ports}, ingress allows {self.ingress.ports}: "
                    "no port is allowed by both")
        return "; ".join(sides)

    def __str__(self) -> str:
        lines = [f"{self.src} -> {self.dst}: {self.answer}"]
        if self.itself:
            lines.append("a pod always reaches itself")
        else:
            lines.append(str(self.egress))
            lines.append(str(self.ingress))
            lines.append(f"allowed between them: {self.ports}")
        lines.extend(f"note: {n}" for n in self.notes)
        lines.extend(f"caveat: {c}" for c in self.caveats)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Verdict {self.src} -> {self.dst}: {self.answer}>"

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "src": self.src.to_json(),
            "dst": self.dst.to_json(),
            "protocol": self.protocol,
            "port": self.port,
            "ports": self.ports.to_dict(),
            "answer": self.answer,
            "egress": self.egress.to_json(),
            "ingress": self.ingress.to_json(),
            "notes": list(self.notes),
            "caveats": list(self.caveats),
        }

    def _repr_html_(self) -> str:
        return _html(str(self), self.allowed)


@dataclass(frozen=True, slots=True)
class BackendVerdict:
    """What a client gets from one service port through one backend.

    ``index`` is the service port's index, ``front`` what the client connects to (the
    service port; from outside, the node port or the load balancer's port), ``target``
    the port the backend receives it on (empty: the backend does not serve that port),
    ``verdict`` the client's verdict on the backend at ``target`` (None when not served).
    """

    backend: Endpoint
    index: int
    front: PortSet
    target: PortSet
    verdict: Verdict | None

    @property
    def allowed(self) -> bool:
        return self.verdict is not None and self.verdict.allowed

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def reason(self) -> str:
        if self.verdict is None:
            return f"{self.backend} serves no {self.front} (its targetPort does not resolve)"
        return self.verdict.reason

    def __str__(self) -> str:
        if self.verdict is None:
            return f"{self.front} -> {self.backend}: not served (unresolved targetPort)"
        word = "allowed" if self.allowed else "denied"
        return f"{self.front} -> {self.backend} {self.target}: {word}"

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend.to_json(),
            "front": str(self.front),
            "target": str(self.target),
            "allowed": self.allowed,
            "verdict": self.verdict.to_json() if self.verdict is not None else None,
        }


@dataclass(frozen=True, slots=True)
class ServiceVerdict:
    """Whether ``src`` may use ``service`` (on one service port, or any), per backend.

    kube-proxy rewrites a connection to a Service into a connection to one backend on
    the target port that service port resolves to there, and NetworkPolicy sees only
    that. So the answer is one :class:`Verdict` per backend and service port
    (``entries``). Truthy when *every* backend admits the client (``any_backend``:
    when at least one does); a Service without backends admits nobody.
    ``unreachable`` says why no entry was asked at all (a ClusterIP Service seen from
    outside); ``notes`` what the answer assumed.
    """

    src: Endpoint
    service: Endpoint
    protocol: str
    port: int | str | None
    entries: tuple[BackendVerdict, ...]
    any_backend: bool = False
    caveats: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    unreachable: str = ""

    @property
    def backends(self) -> tuple[Endpoint, ...]:
        """Every backend, in order."""
        return tuple(dict.fromkeys(e.backend for e in self.entries))

    @property
    def admitting(self) -> tuple[Endpoint, ...]:
        """The backends that admit the client (on some service port asked)."""
        return tuple(dict.fromkeys(e.backend for e in self.entries if e.allowed))

    @property
    def refusing(self) -> tuple[Endpoint, ...]:
        """The backends that admit the client on no service port asked."""
        admitting = set(self.admitting)
        return tuple(b for b in self.backends if b not in admitting)

    @property
    def allowed(self) -> bool:
        if not self.backends:
            return False
        if self.any_backend:
            return bool(self.admitting)
        return not self.refusing

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def ports(self) -> PortSet:
        """The front ports the client may use: through every backend (``any_backend``:
        through at least one)."""
        out = PortSet.none()
        backends = set(self.backends)
        for index in sorted({e.index for e in self.entries}):
            mine = [e for e in self.entries if e.index == index]
            through = {e.backend for e in mine if e.allowed}
            if through and (self.any_backend or through == backends):
                for entry in mine:
                    if entry.allowed:
                        out = out | entry.front
        return out

    @property
    def what(self) -> str:
        if self.port is None:
            return "any service port"
        fronts = PortSet.none()
        for entry in self.entries:
            fronts = fronts | entry.front
        if isinstance(self.port, str):
            return f"{fronts} ({self.port})" if fronts else self.port
        return str(fronts) if fronts else f"{self.protocol} {self.port}"

    @property
    def answer(self) -> str:
        """``ALLOWED on TCP 80 to every backend (3 of 3)``, ``DENIED: allowed to 2 of 3
        backends: a, b; denied to c by ...``, ``DENIED: no backend``."""
        word = "ALLOWED" if self.allowed else "DENIED"
        if self.unreachable:
            return f"DENIED: {self.unreachable}"
        backends, admitting = self.backends, self.admitting
        if not backends:
            return "DENIED: no backend"
        on = f"on {self.what}" if self.port is not None else (
            f"on {self.ports}" if self.allowed else "on every service port")
        n, k = len(backends), len(admitting)
        if k == n:
            return f"{word} {on} to every backend ({k} of {n})"
        if not k:
            return f"{word} {on}: denied by every backend ({n}): {self._refusals()}"
        allowed_to = ", ".join(b.name for b in admitting)
        return (f"{word} {on}: allowed to {k} of {n} backends: {allowed_to}; denied to "
                f"{self._refusals()}")

    def _refusals(self) -> str:
        parts = []
        for backend in self.refusing:
            entry = next(e for e in self.entries if e.backend == backend)
            parts.append(f"{backend.name} by {entry.reason}")
        return "; ".join(parts)

    def __str__(self) -> str:
        lines = [f"{self.src} -> {self.service}: {self.answer}"]
        if self.any_backend:
            lines.append("(--any-backend: allowed when at least one backend admits it)")
        for entry in self.entries:
            lines.append(f"  {entry}")
            if entry.verdict is not None:
                verdict = entry.verdict
                lines.extend(_indent(str(verdict.egress), "    "))
                lines.extend(_indent(str(verdict.ingress), "    "))
        lines.extend(f"note: {n}" for n in self.notes)
        lines.extend(f"caveat: {c}" for c in self.caveats)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ServiceVerdict {self.src} -> {self.service}: {self.answer.split(':')[0]}>"

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "src": self.src.to_json(),
            "dst": self.service.to_json(),
            "protocol": self.protocol,
            "port": self.port,
            "ports": self.ports.to_dict(),
            "answer": self.answer,
            "any_backend": self.any_backend,
            "backends": [e.to_json() for e in self.entries],
            "admitting": [b.to_json() for b in self.admitting],
            "refusing": [b.to_json() for b in self.refusing],
            "notes": list(self.notes),
            "caveats": list(self.caveats),
        }

    def _repr_html_(self) -> str:
        return _html(str(self), self.allowed)


def asked(protocol: str, port: int | None) -> PortSet | None:
    """The traffic a question is about; None for "any port" (no port, a protocol with
    ports). An ICMP port is a type (every code of it); a protocol without ports is
    asked about whole.

    >>> str(asked("TCP", 80)), asked("TCP", None), str(asked("ICMP", 8)), str(asked("VRRP", None))
    ('TCP 80', None, 'ICMP type 8', 'VRRP')
    """
    if port is None:
        return None if protocol in PORT_PROTOCOLS else PortSet.protocol(protocol)
    return PortSet.single(protocol, port)


def answers(ports: PortSet, protocol: str, port: int | None) -> bool:
    """Whether ``ports`` allow the question: all of one port or ICMP type, some of a
    protocol asked about without a port, anything for "any port"."""
    question = asked(protocol, port)
    if question is None:
        return bool(ports)
    if port is None:
        return bool(ports & question)
    return question <= ports


def asked_text(protocol: str, port: int | None) -> str:
    """``TCP 8080``, ``ICMP type 8``, ``VRRP`` or ``any port``."""
    question = asked(protocol, port)
    return "any port" if question is None else str(question)


def _named(policy: Policy) -> str:
    """A policy as a trace names it: with its order for Calico's kinds (``gnp/x (order 10)``)."""
    if policy.kind in CALICO_KINDS:
        order = "no order" if math.isinf(policy.priority) else f"order {policy.priority:g}"
        return f"{policy.ref} ({order})"
    return policy.ref
