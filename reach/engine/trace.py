"""One direction of one connection, walked through the tiers rule by rule: the *why*.

The compiler answers *whether* for every class at once; this module answers *why*
for one connection, by walking the policies that select one end (the source for
egress, the destination for ingress) over port sets, in the evaluation order of
:mod:`reach.model.policy`. Every rule that takes part of the traffic is a
:class:`Step` with the ports it decided; so are the end of a tier that isolates the
pod (what no rule allowed is denied there) and the default (what no tier decided is
allowed). Tests check that the walk and the compiler always agree.

Examples
--------
>>> from reach.model import ADMIN_TIER, Labels, LabelSelector, Namespace, Peer, Pod, Policy, Rule
>>> web, db = Pod("shop", "web", Labels({"app": "web"})), Pod("shop", "db", Labels({"app": "db"}))
>>> everyone = Peer(namespace_selector=LabelSelector())
>>> deny = Policy("", "no-db", LabelSelector(Labels({"app": "db"})), ("Ingress",),
...               (Rule("ingress", 0, (everyone,), action="Deny"),), kind="ClusterNetworkPolicy",
...               tier=ADMIN_TIER, priority=5, namespace_selector=LabelSelector())
>>> ctx = TraceContext.of([deny], {"shop": Namespace("shop")})
>>> walk = trace_side(ctx, "ingress", db, web, None)
>>> [(str(s.tier), s.action, str(s.ports)) for s in walk.steps], bool(walk.allowed)
([('Admin', 'Deny', 'All Connections')], False)
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reach.engine.addresses import IPV4_ALL, AddressSet, address_key
from reach.engine.classes import peer_address_key, peer_addresses
from reach.engine.compiler import rule_ports
from reach.engine.entities import EntitySets, calico_labels, entity_sets, labelled_sets
from reach.engine.ports import PortSet
from reach.engine.selectors import matches
from reach.model import (
    Direction,
    Entity,
    Labels,
    LabelSelector,
    Namespace,
    NetworkSet,
    Node,
    Peer,
    Pod,
    Policy,
    Rule,
    ServiceAccount,
    Tier,
)
from reach.model.expressions import CalicoSelector

__all__ = ["Step", "TraceContext", "Walk", "resolve_on", "trace_side"]


@dataclass(frozen=True, slots=True)
class Step:
    """One decision of a walk: a rule, the end of an isolating tier, or the default.

    ``action`` is the rule's (``Allow``, ``Deny``, ``Pass``, ``Log``), ``isolated``
    (the end of a tier that selects the pod and ends in deny: what no rule of it
    allowed is denied) or ``default`` (no tier decided: allowed). ``ports`` is the
    part of the traffic this step decided.
    """

    action: str
    ports: PortSet
    tier: Tier | None = None
    policy: Policy | None = None
    rule: Rule | None = None

    @property
    def allows(self) -> bool:
        return self.action in ("Allow", "default")

    @property
    def denies(self) -> bool:
        return self.action in ("Deny", "isolated")


@dataclass(frozen=True, slots=True)
class Walk:
    """What one direction of one connection says, and the steps that say it.

    ``selecting``: the policies that select the pod for this direction, in
    evaluation order. ``isolated``: one of them belongs to a tier that ends in deny
    (NetworkPolicy isolation). ``ties``: pairs of policies of one tier and priority
    that both match this connection with different actions (the API leaves their
    order undefined; reach walks them by kind and name).
    """

    steps: tuple[Step, ...]
    allowed: PortSet
    selecting: tuple[Policy, ...]
    isolated: bool
    ties: tuple[tuple[Policy, Policy], ...] = ()


@dataclass(slots=True)
class TraceContext:
    """What a walk needs besides the two ends: the policies in evaluation order and more."""

    policies: tuple[Policy, ...]
    namespaces: Mapping[str, Namespace]
    nodes: Sequence[Node] = ()
    ipblock_pods: bool = True
    accounts: Mapping[tuple[str, str], ServiceAccount] = field(default_factory=dict)
    network_sets: Sequence[NetworkSet] = ()
    _addresses: dict[object, AddressSet] = field(default_factory=dict)
    _entities: dict[Entity, EntitySets] = field(default_factory=dict)
    _scoped: dict[str, tuple[Policy, ...]] = field(default_factory=dict)

    def scoped(self, namespace: str) -> tuple[Policy, ...]:
        """The policies that may select a pod of ``namespace``, in order: that namespace's
        and the cluster-scoped ones (the others never select it)."""
        if not self._scoped and self.policies:
            by_namespace: dict[str, list[tuple[int, Policy]]] = {}
            for k, policy in enumerate(self.policies):
                by_namespace.setdefault(policy.namespace, []).append((k, policy))
            everywhere = by_namespace.pop("", [])
            for name, own in by_namespace.items():
                self._scoped[name] = tuple(p for _, p in heapq.merge(
                    everywhere, own, key=lambda item: item[0]))
            self._scoped[""] = tuple(p for _, p in everywhere)
        found = self._scoped.get(namespace)
        return found if found is not None else self._scoped.get("", ())

    @staticmethod
    def of(policies: Iterable[Policy], namespaces: Mapping[str, Namespace],
           nodes: Sequence[Node] = (), ipblock_pods: bool = True, *,
           accounts: Iterable[ServiceAccount] = (),
           network_sets: Sequence[NetworkSet] = ()) -> TraceContext:
        return TraceContext(tuple(sorted(policies, key=lambda p: p.order)), namespaces,
                            nodes, ipblock_pods, {(a.namespace, a.name): a for a in accounts},
                            network_sets)

    def calico_labels(self, pod: Pod) -> Labels:
        """The labels Calico selectors see on ``pod``."""
        return calico_labels(pod, self.namespaces.get(pod.namespace),
                             self.accounts.get((pod.namespace, pod.service_account)))

    def entity(self, entity: Entity) -> EntitySets:
        found = self._entities.get(entity)
        if found is None:
            labelled = labelled_sets(self.network_sets, self.namespaces)
            found = self._entities[entity] = entity_sets(entity, labelled)
        return found

    def addresses(self, peer: Peer) -> AddressSet:
        key = peer_address_key(peer)
        found = self._addresses.get(key)
        if found is None:
            found = self._addresses[key] = peer_addresses(peer, self.nodes)
        return found


def resolve_on(pod: Pod | None) -> Callable[[str, str], PortSet] | None:
    """A named-port resolver for :func:`reach.engine.compiler.rule_ports` on ``pod``."""
    if pod is None:
        return None

    def resolve(name: str, protocol: str) -> PortSet:
        out = PortSet.none()
        for cp in pod.ports:
            if cp.name == name and (not protocol or cp.protocol == protocol):
                out = out | PortSet.single(cp.protocol, cp.port)
        return out

    return resolve


def _key(ip: str) -> int:
    try:
        return address_key(ip)
    except ValueError:
        return -1


def _selects_labels(ctx: TraceContext, selector: LabelSelector | CalicoSelector, pod: Pod) -> bool:
    if isinstance(selector, CalicoSelector):
        return selector.matches(ctx.calico_labels(pod))
    return matches(selector, pod.labels)


def selects(policy: Policy, pod: Pod, ctx: TraceContext) -> bool:
    """Whether ``policy``'s subject is ``pod`` (host-network pods are never subjects)."""
    if pod.host_network:
        return False
    if policy.namespace:
        if policy.namespace != pod.namespace:
            return False
    elif policy.namespace_selector is not None:
        ns = ctx.namespaces.get(pod.namespace)
        if not matches(policy.namespace_selector, ns.labels if ns else {}):
            return False
    return _selects_labels(ctx, policy.pod_selector, pod)


def _entity_matches(ctx: TraceContext, entity: Entity, other: Pod | None,
                    other_key: int | None) -> bool:
    sets = ctx.entity(entity)
    if other is None:
        return other_key is not None and other_key in sets.outside
    keys = [_key(ip) for ip in other.ips] if ctx.ipblock_pods else []

    def inside(block: AddressSet) -> bool:
        return any(key in block for key in keys)

    labelled = not other.host_network
    if entity.selector is not None and not (
            (labelled and entity.selector.matches(ctx.calico_labels(other)))
            or inside(sets.selected)):
        return False
    if entity.nets and not inside(sets.nets):
        return False
    if inside(sets.not_nets) or inside(sets.not_selected):
        return False
    return not (entity.not_selector is not None and labelled
                and entity.not_selector.matches(ctx.calico_labels(other)))


def peer_matches(
    ctx: TraceContext, peer: Peer, policy: Policy, other: Pod | None, other_key: int | None
) -> bool:
    """Whether ``peer`` (of ``policy``) is the other end: a pod, or an outside address."""
    if peer.entity is not None:
        return _entity_matches(ctx, peer.entity, other, other_key)
    if peer_address_key(peer) is not None:
        block = ctx.addresses(peer)
        if other is None:
            return other_key is not None and other_key in block
        return ctx.ipblock_pods and any(_key(ip) in block for ip in other.ips)
    if not peer.selects_pods or other is None or other.host_network:
        return False
    if peer.namespace_selector is None:
        if other.namespace != policy.namespace:
            return False
    else:
        ns = ctx.namespaces.get(other.namespace)
        if not matches(peer.namespace_selector, ns.labels if ns else {}):
            return False
    return peer.pod_selector is None or matches(peer.pod_selector, other.labels)


def rule_match(
    ctx: TraceContext, policy: Policy, rule: Rule, dst: Pod | None,
    other: Pod | None, other_key: int | None,
) -> PortSet:
    """The ports on which ``rule`` matches the connection with the other end (none if not)."""
    if rule.peers and not any(peer_matches(ctx, peer, policy, other, other_key)
                              for peer in rule.peers) and not _holds_any_ip(ctx, rule, other):
        return PortSet.none()
    return rule_ports(rule, resolve_on(dst))


def _holds_any_ip(ctx: TraceContext, rule: Rule, other: Pod | None) -> bool:
    """A pod of unknown IP is inside address peers that together hold all of IPv4."""
    if other is None or other.ips or not ctx.ipblock_pods:
        return False
    held = AddressSet.none()
    for peer in rule.peers:
        if peer_address_key(peer) is not None and peer.entity is None:
            held = held | ctx.addresses(peer)
    return held >= IPV4_ALL


def trace_side(
    ctx: TraceContext,
    direction: Direction,
    pod: Pod | None,
    other: Pod | None,
    other_key: int | None,
) -> Walk:
    """Walk ``direction`` of ``pod`` for a connection with ``other`` (or outside ``other_key``).

    ``pod`` None is an outside end: no policy applies there, everything is allowed.
    """
    everything = PortSet.all()
    if pod is None:
        return Walk((Step("default", everything),), everything, (), False)
    selecting = tuple(p for p in ctx.scoped(pod.namespace)
                      if p.applies(direction) and selects(p, pod, ctx))
    dst = pod if direction == "ingress" else other
    steps: list[Step] = []
    ties: list[tuple[Policy, Policy]] = []
    undecided, allowed = everything, PortSet.none()
    isolated = False
    for tier, members in _by_tier(selecting):
        passed = PortSet.none()
        unordered = tier.ends_in_deny and all(
            r.action == "Allow" for p in members for r in p.rules(direction))
        start = undecided
        for policy in members:
            for rule in policy.rules(direction):
                if rule.local is not None and not _entity_matches(ctx, rule.local, pod, None):
                    continue  # the rule is for other pods of the policy's
                matched = rule_match(ctx, policy, rule, dst, other, other_key)
                # An allow-only tier is a union: credit every rule with its share.
                hit = matched & (start if unordered else undecided)
                if not hit:
                    continue
                steps.append(Step(rule.action, hit, tier, policy, rule))
                if rule.action == "Log":
                    continue
                if not unordered:
                    ties.extend(_ties(ctx, members, policy, rule, hit, dst, other, other_key,
                                      direction))
                if rule.action == "Allow":
                    allowed = allowed | hit
                elif rule.action == "Pass":
                    passed = passed | hit
                undecided = undecided - hit
        if tier.ends_in_deny:
            isolated = True
            if undecided:
                steps.append(Step("isolated", undecided, tier))
            undecided = passed
        else:
            undecided = undecided | passed
    if undecided:
        steps.append(Step("default", undecided))
        allowed = allowed | undecided
    return Walk(tuple(steps), allowed, selecting, isolated, tuple(dict.fromkeys(ties)))


def _by_tier(policies: Sequence[Policy]) -> list[tuple[Tier, list[Policy]]]:
    out: list[tuple[Tier, list[Policy]]] = []
    for policy in policies:
        if not out or out[-1][0] != policy.tier:
            out.append((policy.tier, []))
        out[-1][1].append(policy)
    return out


def _ties(
    ctx: TraceContext, members: Sequence[Policy], policy: Policy, rule: Rule, hit: PortSet,
    dst: Pod | None, other: Pod | None, other_key: int | None, direction: Direction,
) -> list[tuple[Policy, Policy]]:
    """Policies of the same tier and priority whose rules would decide ``hit`` otherwise."""
    out = []
    for rival in members:
        if rival is policy or rival.priority != policy.priority:
            continue
        for other_rule in rival.rules(direction):
            if other_rule.action in (rule.action, "Log"):
                continue
            if rule_match(ctx, rival, other_rule, dst, other, other_key) & hit:
                out.append((policy, rival) if policy.order < rival.order else (rival, policy))
                break
    return out
