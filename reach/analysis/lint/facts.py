"""What every lint rule reads: the compiled classes, selectors over them, rule rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from reach.engine.addresses import POD_ADDRESSES, AddressSet, address_key
from reach.engine.classes import unknown_ip_classes
from reach.engine.compiler import rule_ports
from reach.engine.portsets import PortSetTable, bits_to_bool
from reach.engine.selectors import LabelIndex
from reach.engine.trace import resolve_on
from reach.model import (
    CALICO_KINDS,
    NETWORKPOLICY_TIER,
    Direction,
    IPBlock,
    Labels,
    LabelSelector,
    Namespace,
    Peer,
    Pod,
    Policy,
    Rule,
)
from reach.network import Network

DIRECTIONS: tuple[Direction, ...] = ("ingress", "egress")


SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


# Where a pod IP is expected when a kube-dns pod of the input has none.
PRIVATE = POD_ADDRESSES | AddressSet.cidr("100.64.0.0/10")


IntArray = npt.NDArray[np.int64]


BoolArray = npt.NDArray[np.bool_]


def rule_name(policy: Policy, rule: Rule) -> str:
    return f"{policy.ref} {rule.direction}[{rule.index}]"


def short_list(items: Iterable[str], limit: int = 5) -> str:
    values = list(dict.fromkeys(items))
    if len(values) <= limit:
        return ", ".join(values)
    return ", ".join(values[:limit]) + f" and {len(values) - limit} more"


def block_set(block: IPBlock) -> AddressSet:
    out = AddressSet.cidr(block.cidr)
    for item in block.except_:
        out = out - AddressSet.cidr(item)
    return out


def pod_keys(pod: Pod) -> list[int]:
    out = []
    for ip in pod.ips:
        try:
            out.append(address_key(ip))
        except ValueError:
            continue
    return out


@dataclass(slots=True)
class Facts:
    """Pod classes, the selectors evaluated over them, and the outside atoms."""

    net: Network
    reps: list[Pod]
    n: int
    atoms: tuple[tuple[int, int], ...]
    namespaces: dict[str, Namespace]
    ns_index: LabelIndex
    ns_names: list[str]
    policy_index: dict[int, int]
    table: PortSetTable = field(default_factory=PortSetTable)
    #: What one family computed that another reuses in the same run (tier walks).
    memo: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def of(net: Network) -> Facts:
        c = net.compiled
        reps = [c.pods[members[0]] for members in c.class_pods]
        namespaces = dict(c.namespaces)
        for pod in c.pods:
            if pod.namespace not in namespaces:
                namespaces[pod.namespace] = net.cluster.namespace(pod.namespace)
        ns_names = sorted(namespaces)
        return Facts(
            net=net,
            reps=reps,
            n=len(reps),
            atoms=c.externals,
            namespaces=namespaces,
            ns_index=LabelIndex([namespaces[name].labels for name in ns_names]),
            ns_names=ns_names,
            # policies by identity: hashing model objects in inner loops is slow
            policy_index={id(p): i for i, p in enumerate(net.cluster.policies)},
        )

    @property
    def cols(self) -> int:
        return self.n + len(self.atoms)

    def selects(self, policy: Policy) -> int:
        """Classes a policy selects (bitset), as the compiler found them."""
        return self.net.compiled.policy_classes(self.policy_index[id(policy)])

    def namespaces_matching(self, selector: LabelSelector) -> list[str]:
        bits = self.ns_index.select(selector)
        return [name for i, name in enumerate(self.ns_names) if bits >> i & 1]

    def peer_classes(self, peer: Peer, namespace: str) -> int:
        """Classes (bitset) a peer of a policy in ``namespace`` matches, as compiled."""
        return self.net.compiled.peer_classes(peer, namespace)

    def peer_externals(self, peer: Peer) -> BoolArray:
        return self.net.compiled.peer_externals(peer)

    def rule_applies(self, policy: Policy, rule: Rule, selected: int) -> bool:
        """Whether a rule is for the selected class ``selected``: a Calico rule's criteria
        on its own end (``Rule.local``) may leave out some of the policy's pods."""
        if rule.local is None:
            return True
        return bool(self.peer_classes(Peer(entity=rule.local), policy.namespace) >> selected & 1)

    def rule_mask(self, rule: Rule, namespace: str) -> BoolArray:
        """Columns (classes, then outside atoms) a rule's peers cover."""
        if not rule.peers:
            return np.ones(self.cols, dtype=np.bool_)
        compiled = self.net.compiled
        classes = unknown_ip_classes(compiled.addresses, compiled.unknown_ip, rule.peers)
        externals = np.zeros(len(self.atoms), dtype=np.bool_)
        for peer in rule.peers:
            classes |= self.peer_classes(peer, namespace)
            externals |= self.peer_externals(peer)
        return np.concatenate([bits_to_bool(classes, self.n), externals])

    def rule_row(self, policy: Policy, rule: Rule, selected: int) -> IntArray:
        """Port-set ids a rule allows, per column, for the selected class ``selected``.

        Ingress: the columns are sources, named ports resolve on ``selected``.
        Egress: the columns are destinations, named ports resolve on each of them.
        A rule that is not for ``selected`` (:meth:`rule_applies`) allows nothing there.
        """
        if not self.rule_applies(policy, rule, selected):
            return np.zeros(self.cols, dtype=np.int64)
        mask = self.rule_mask(rule, policy.namespace)
        named = any(isinstance(p.port, str) for p in rule.ports + rule.not_ports)
        if rule.direction == "ingress" or not named:
            dst = self.reps[selected] if rule.direction == "ingress" else None
            ident = self.table.intern(rule_ports(rule, resolve_on(dst)))
            return np.where(mask, ident, 0).astype(np.int64)
        ids = np.zeros(self.cols, dtype=np.int64)
        for k in range(self.n):
            if mask[k]:
                ids[k] = self.table.intern(rule_ports(rule, resolve_on(self.reps[k])))
        ids[self.n:] = np.where(mask[self.n:], self.table.intern(rule_ports(rule, None)), 0)
        return ids

    def join(self, a: IntArray, b: IntArray) -> IntArray:
        return self.table.join_arrays(a, b)

    def meet(self, a: IntArray, b: IntArray) -> IntArray:
        return self.table.meet_arrays(a, b)


def covered(small: IntArray, big: IntArray, facts: Facts) -> bool:
    """Whether, column by column, ``small`` allows nothing ``big`` does not."""
    return bool(np.array_equal(facts.meet(small, big), small))


def isolating(policy: Policy) -> bool:
    """A Kubernetes NetworkPolicy: its rules allow, and it isolates what it selects.

    Calico policies of the default tier share the NetworkPolicy tier but may deny or
    pass, in order: they are walked with the other tiers, not unioned.
    """
    return policy.tier == NETWORKPOLICY_TIER and policy.kind not in CALICO_KINDS


def calico(policy: Policy) -> bool:
    """A Calico NetworkPolicy or GlobalNetworkPolicy."""
    return policy.kind in CALICO_KINDS


def union(facts: Facts, rows: Sequence[IntArray]) -> IntArray:
    out = np.zeros(facts.cols, dtype=np.int64)
    for row in rows:
        out = facts.join(out, row)
    return out


def labels_cover(selector: Labels, pod: Pod) -> bool:
    return all(pod.labels.get(k) == v for k, v in selector.items())
