"""Policy lint: legal manifests that do not do what their authors think.

Every rule looks at the analysed network (the manifests and their compiled
classes) and yields :class:`Finding` objects with a severity, a stable code, the
place the problem was written and a hint saying how to fix it. The rules are exact
where they can be: "shadowed" and "redundant" are decided with the same sets the
compiler uses (pod classes that no selector can tell apart, outside address atoms
that every ipBlock holds wholly or not at all), never by comparing YAML text.

=========================== ======== =================================================
code                        severity what it says
=========================== ======== =================================================
``cidr-host-bits``          error    a CIDR with host bits set (``10.0.0.1/8``)
``plugin-no-enforcement``   error    policies present, but the network plugin seen in
                                     the input (flannel alone) does not enforce them
                                     (kindnet: warning, it enforces from kind v0.24)
``policy-selects-nothing``  warning  a policy whose podSelector matches no pod
``peer-matches-nothing``    warning  a from/to peer whose selectors match no pod
``named-port-undefined``    warning  a named port no destination pod declares
``port-not-declared``       warning  a port no selected pod declares as containerPort
``rule-shadowed``           warning  a rule that allows nothing the others do not
``rule-allows-nothing``     warning  a rule that allows nothing at all
``policy-redundant``        warning  a policy whose removal changes nothing
``dns-blocked``             warning  egress isolation that blocks DNS to kube-dns
``ipblock-matches-pods``    warning  an ipBlock that tells pods apart by their IPs
``no-default-deny``         info     a namespace without a default-deny policy
``pod-unprotected``         info     a workload no policy isolates in a direction
``plugin-unknown``          info     policies present, network plugin not in input
=========================== ======== =================================================

Examples
--------
>>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy
>>> from reach.network import Network
>>> typo = Policy("shop", "deny-db", LabelSelector(Labels({"app": "dbb"})))
>>> net = Network(Cluster(pods=(Pod("shop", "db", Labels({"app": "db"})),), policies=(typo,)))
>>> [f.code for f in lint(net) if f.severity != "info"]
['policy-selects-nothing']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from reach.engine.addresses import AddressSet, address_key, parse_cidr
from reach.engine.compiler import rule_ports
from reach.engine.portsets import PortSetTable, bits_to_bool, iter_bits
from reach.engine.selectors import LabelIndex, matches
from reach.engine.trace import TraceContext, resolve_on, trace_side
from reach.model import (
    NAMESPACE_NAME_LABEL,
    NETWORKPOLICY_TIER,
    ContainerPort,
    Direction,
    IPBlock,
    Labels,
    LabelSelector,
    Location,
    Namespace,
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Rule,
)
from reach.network import Network

__all__ = [
    "LINT_FORMATS",
    "RULES",
    "SEVERITIES",
    "Finding",
    "findings_json",
    "format_findings",
    "lint",
]

Severity = Literal["error", "warning", "info"]
DIRECTIONS: tuple[Direction, ...] = ("ingress", "egress")
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")
LINT_FORMATS: tuple[str, ...] = ("txt", "json")
_RANK = {"error": 0, "warning": 1, "info": 2}

RULES: dict[str, tuple[Severity, str]] = {
    "cidr-host-bits": ("error", "a CIDR with host bits set"),
    "plugin-no-enforcement": ("error", "the network plugin does not enforce NetworkPolicy"),
    "policy-selects-nothing": ("warning", "a policy whose podSelector matches no pod"),
    "peer-matches-nothing": ("warning", "a from/to peer whose selectors match no pod"),
    "named-port-undefined": ("warning", "a named port that no destination pod declares"),
    "port-not-declared": ("warning", "a port that no selected pod declares"),
    "rule-shadowed": ("warning", "a rule that allows nothing the other rules do not"),
    "rule-allows-nothing": ("warning", "a rule that allows nothing at all"),
    "policy-redundant": ("warning", "a policy whose removal changes nothing"),
    "dns-blocked": ("warning", "egress isolation that blocks DNS to kube-dns"),
    "ipblock-matches-pods": ("warning", "an ipBlock that tells pods apart by their IPs"),
    "no-default-deny": ("info", "a namespace without a default-deny policy"),
    "pod-unprotected": ("info", "a workload that no policy isolates in a direction"),
    "plugin-unknown": ("info", "the network plugin cannot be seen in the input"),
}

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})

# Network plugins, recognised by the names and label values of their pods
# and daemonsets. Order matters only for the wording of messages.
ENFORCING_PLUGINS: tuple[str, ...] = (
    "calico",
    "cilium",
    "weave-net",
    "antrea",
    "kube-router",
    "canal",
    "kube-ovn",
    "ovnkube",
    "azure-npm",
    "aws-network-policy-agent",
    "openshift-sdn",
    "anetd",
)
NON_ENFORCING_PLUGINS: tuple[str, ...] = ("flannel", "kindnet")

# Where a pod IP is expected when a kube-dns pod of the input has none.
_PRIVATE = (
    AddressSet.cidr("10.0.0.0/8")
    | AddressSet.cidr("172.16.0.0/12")
    | AddressSet.cidr("192.168.0.0/16")
    | AddressSet.cidr("100.64.0.0/10")
    | AddressSet.cidr("fc00::/7")
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding.

    Examples
    --------
    >>> f = Finding("warning", "rule-shadowed", "shop/web ingress[1] is shadowed",
    ...             Location("p.yaml", 12, 3), "remove it")
    >>> print(f)
    p.yaml:12:3: warning [rule-shadowed] shop/web ingress[1] is shadowed
        hint: remove it
    """

    severity: Severity
    code: str
    message: str
    location: Location | None = None
    hint: str = ""
    subject: str = ""

    def __str__(self) -> str:
        loc = self.location
        where = f"{loc}: " if loc and loc.path != "<generated>" else ""
        text = f"{where}{self.severity} [{self.code}] {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "location": str(loc) if loc and loc.path != "<generated>" else None,
            "path": loc.path if loc and loc.path != "<generated>" else None,
            "line": loc.line if loc and loc.line else None,
            "hint": self.hint,
            "subject": self.subject,
        }


# ---------------------------------------------------------------------------
# the facts every rule needs, over the compiled classes


def _rule_name(policy: Policy, rule: Rule) -> str:
    return f"{policy.ref} {rule.direction}[{rule.index}]"


def _short_list(items: Iterable[str], limit: int = 5) -> str:
    values = list(dict.fromkeys(items))
    if len(values) <= limit:
        return ", ".join(values)
    return ", ".join(values[:limit]) + f" and {len(values) - limit} more"


def _block_set(block: IPBlock) -> AddressSet:
    out = AddressSet.cidr(block.cidr)
    for item in block.except_:
        out = out - AddressSet.cidr(item)
    return out


def _pod_keys(pod: Pod) -> list[int]:
    out = []
    for ip in pod.ips:
        try:
            out.append(address_key(ip))
        except ValueError:
            continue
    return out


@dataclass(slots=True)
class _Facts:
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

    @staticmethod
    def of(net: Network) -> _Facts:
        c = net.compiled
        reps = [c.pods[members[0]] for members in c.class_pods]
        namespaces = dict(c.namespaces)
        for pod in c.pods:
            if pod.namespace not in namespaces:
                namespaces[pod.namespace] = net.cluster.namespace(pod.namespace)
        ns_names = sorted(namespaces)
        return _Facts(
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

    def rule_mask(self, rule: Rule, namespace: str) -> BoolArray:
        """Columns (classes, then outside atoms) a rule's peers cover."""
        if not rule.peers:
            return np.ones(self.cols, dtype=np.bool_)
        classes = 0
        externals = np.zeros(len(self.atoms), dtype=np.bool_)
        for peer in rule.peers:
            classes |= self.peer_classes(peer, namespace)
            externals |= self.peer_externals(peer)
        return np.concatenate([bits_to_bool(classes, self.n), externals])

    def rule_row(self, policy: Policy, rule: Rule, selected: int) -> IntArray:
        """Port-set ids a rule allows, per column, for the selected class ``selected``.

        Ingress: the columns are sources, named ports resolve on ``selected``.
        Egress: the columns are destinations, named ports resolve on each of them.
        """
        mask = self.rule_mask(rule, policy.namespace)
        named = any(isinstance(p.port, str) for p in rule.ports)
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


def _covered(small: IntArray, big: IntArray, facts: _Facts) -> bool:
    """Whether, column by column, ``small`` allows nothing ``big`` does not."""
    return bool(np.array_equal(facts.meet(small, big), small))


# ---------------------------------------------------------------------------
# rules


Rule_ = Callable[[_Facts], Iterator[Finding]]


def _policy_findings(facts: _Facts) -> Iterator[Finding]:
    """policy-selects-nothing, with a hint when the pods live elsewhere."""
    cluster = facts.net.cluster
    for policy in cluster.policies:
        if facts.selects(policy):
            continue
        elsewhere = sorted(
            {
                pod.namespace
                for pod in cluster.pods
                if pod.namespace != policy.namespace
                and not pod.host_network
                and matches(policy.pod_selector, pod.labels)
            }
        )
        if elsewhere:
            hint = (
                f"pods with these labels live in namespace {', '.join(elsewhere)}; a policy "
                f"only selects pods of its own namespace ({policy.namespace})"
            )
        else:
            hint = (
                f"no pod of namespace {policy.namespace} carries labels "
                f"[{policy.pod_selector}]; check the labels of the pods you meant"
            )
        yield Finding(
            "warning",
            "policy-selects-nothing",
            f"{policy.ref} selects no pod (podSelector [{policy.pod_selector}]): it has no "
            "effect",
            policy.location,
            hint,
            policy.ref,
        )


def _peer_findings(facts: _Facts) -> Iterator[Finding]:
    """peer-matches-nothing, with hints for the two common mistakes."""
    cluster = facts.net.cluster
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            for i, peer in enumerate(rule.peers):
                if not peer.selects_pods or facts.peer_classes(peer, policy.namespace):
                    continue
                hint = _peer_hint(facts, policy, peer)
                yield Finding(
                    "warning",
                    "peer-matches-nothing",
                    f"{_rule_name(policy, rule)} "
                    f"{'from' if rule.direction == 'ingress' else 'to'}[{i}] ({peer}) "
                    "matches no pod",
                    peer.location if peer.location.line else rule.location,
                    hint,
                    _rule_name(policy, rule),
                )


def _peer_hint(facts: _Facts, policy: Policy, peer: Peer) -> str:
    if peer.namespace_selector is not None:
        names = facts.namespaces_matching(peer.namespace_selector)
        if not names:
            return (
                f"no namespace carries labels [{peer.namespace_selector}]; every namespace "
                f"has the label {NAMESPACE_NAME_LABEL}: NAME"
            )
        host = " (host-network pods never match selectors)" if any(
            p.host_network and p.namespace in names for p in facts.net.cluster.pods) else ""
        if peer.pod_selector is None:
            return f"the namespaces it selects ({_short_list(names)}) have no pods{host}"
        return (
            f"the namespaces it selects ({_short_list(names)}) have no pod with labels "
            f"[{peer.pod_selector}]{host}"
        )
    assert peer.pod_selector is not None
    elsewhere = sorted(
        {
            pod.namespace
            for pod in facts.net.cluster.pods
            if pod.namespace != policy.namespace and matches(peer.pod_selector, pod.labels)
        }
    )
    if elsewhere:
        return (
            f"a podSelector alone selects pods of the policy's namespace ({policy.namespace}); "
            f"the pods with these labels live in {', '.join(elsewhere)}: add a "
            "namespaceSelector in the same peer item"
        )
    return f"no pod of namespace {policy.namespace} carries labels [{peer.pod_selector}]"


def _destination_classes(facts: _Facts, policy: Policy, rule: Rule) -> int:
    """Classes a rule's ports are about: the selected pods (ingress) or the peers (egress)."""
    if rule.direction == "ingress":
        return facts.selects(policy)
    if not rule.peers:
        return (1 << facts.n) - 1
    out = 0
    for peer in rule.peers:
        out |= facts.peer_classes(peer, policy.namespace)
    return out


def _named_port_findings(facts: _Facts) -> Iterator[Finding]:
    for policy in facts.net.cluster.policies:
        for rule in policy.ingress + policy.egress:
            targets = _destination_classes(facts, policy, rule)
            if not targets:
                continue  # reported as a policy or peer matching nothing
            pods = [facts.reps[k] for k in iter_bits(targets)]
            for port in rule.ports:
                if not isinstance(port.port, str):
                    continue
                if any(_declares(pod, port.port, port.protocol) for pod in pods):
                    continue
                other_proto = sorted(
                    {cp.protocol for pod in pods for cp in pod.ports if cp.name == port.port}
                )
                whose = "selected" if rule.direction == "ingress" else "destination"
                if other_proto:
                    hint = (
                        f'the port "{port.port}" is declared with protocol '
                        f"{', '.join(other_proto)}: set protocol to match"
                    )
                else:
                    declared = sorted(
                        {cp.name for pod in pods for cp in pod.ports if cp.name}
                    )
                    hint = (
                        f"the {whose} pods name their ports {', '.join(declared)}"
                        if declared
                        else f"the {whose} pods declare no named container port"
                    )
                yield Finding(
                    "warning",
                    "named-port-undefined",
                    f"{_rule_name(policy, rule)}: no {whose} pod declares a "
                    f'{port.protocol + " " if port.protocol else ""}container port named '
                    f'"{port.port}", so this port allows nothing',
                    port.location if port.location.line else rule.location,
                    hint,
                    _rule_name(policy, rule),
                )


def _declares(pod: Pod, name: str, protocol: str) -> bool:
    """Whether ``pod`` has a container port of that name (and protocol; "" is any)."""
    return any(cp.name == name and (not protocol or cp.protocol == protocol)
               for cp in pod.ports)


def _port_findings(facts: _Facts) -> Iterator[Finding]:
    """port-not-declared: numeric ports that no declaring destination pod has."""
    cluster = facts.net.cluster
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            if rule.direction == "egress" and (
                not rule.peers or any(p.ip_block is not None for p in rule.peers)
            ):
                continue  # the destination may be outside the cluster
            targets = _destination_classes(facts, policy, rule)
            pods = [facts.reps[k] for k in iter_bits(targets)]
            declaring = [pod for pod in pods if pod.ports]
            if not declaring:
                continue  # containerPort is optional: nothing to compare with
            for port in rule.ports:
                if port.port is None or isinstance(port.port, str):
                    continue
                last = port.end_port if port.end_port is not None else port.port
                if any(
                    cp.protocol == port.protocol and port.port <= cp.port <= last
                    for pod in declaring
                    for cp in pod.ports
                ):
                    continue
                yield Finding(
                    "warning",
                    "port-not-declared",
                    f"{_rule_name(policy, rule)}: {port} matches no container port of the "
                    f"{'selected' if rule.direction == 'ingress' else 'destination'} pods "
                    f"({_short_list(_declared(declaring))})",
                    port.location if port.location.line else rule.location,
                    _service_port_hint(facts, declaring, port),
                    _rule_name(policy, rule),
                )


def _declared(pods: Sequence[Pod]) -> list[str]:
    return sorted({f"{cp.protocol} {cp.port}" for pod in pods for cp in pod.ports})


def _service_port_hint(facts: _Facts, pods: Sequence[Pod], port: PolicyPort) -> str:
    assert isinstance(port.port, int)
    last = port.end_port if port.end_port is not None else port.port
    for svc in facts.net.cluster.services:
        if svc.selector is None:
            continue
        backs = [
            p for p in pods if p.namespace == svc.namespace and _labels_cover(svc.selector, p)
        ]
        if not backs:
            continue
        for sp in svc.ports:
            if sp.protocol != port.protocol or not port.port <= sp.port <= last:
                continue
            target = sp.target_port
            numbers = sorted(
                {cp.port for p in backs for cp in p.ports
                 if cp.name == target and cp.protocol == sp.protocol}
            ) if isinstance(target, str) else [target]
            if numbers == [sp.port]:
                continue
            shown = ",".join(str(n) for n in numbers) or "?"
            if isinstance(target, str):
                use = f"{shown} (or the named port {target})"
                target_text = f"{target} ({shown})"
            else:
                use = target_text = shown
            return (
                f"{sp.port} is a port of Service {svc.ref}, which forwards to targetPort "
                f"{target_text}; policies see the pod's port: use {use}"
            )
    return "use a port the pods listen on (policies see the pod's port, not a Service's)"


def _labels_cover(selector: Labels, pod: Pod) -> bool:
    return all(pod.labels.get(k) == v for k, v in selector.items())


def _isolating(policy: Policy) -> bool:
    """A policy of the NetworkPolicy tier: its rules allow, and it isolates what it selects."""
    return policy.tier is NETWORKPOLICY_TIER


def _by_direction(facts: _Facts, direction: Direction) -> tuple[list[Policy], list[int]]:
    policies = [p for p in facts.net.cluster.policies if p.applies(direction) and _isolating(p)]
    return policies, [facts.selects(p) for p in policies]


@dataclass(slots=True)
class _Profile:
    """Classes selected by the same policies for one direction: one evaluation for all.

    Policies are named by their position in ``cluster.policies`` and rules by their
    position in the policy's rules of that direction (hashing model objects in inner
    loops is slow). ``rows[(p, r)]`` is what the rule allows there, column by column.
    """

    direction: Direction
    chosen: tuple[int, ...]
    rows: dict[tuple[int, int], IntArray]


def _profiles(facts: _Facts) -> list[_Profile]:
    cluster = facts.net.cluster
    out: list[_Profile] = []
    for direction in DIRECTIONS:
        indices = [i for i, p in enumerate(cluster.policies)
                   if p.applies(direction) and _isolating(p)]
        selected = [facts.selects(cluster.policies[i]) for i in indices]
        groups: dict[tuple[tuple[int, ...], tuple[ContainerPort, ...]], int] = {}
        for k in range(facts.n):
            chosen = tuple(indices[j] for j, bits in enumerate(selected) if bits >> k & 1)
            if chosen:
                # ingress ports resolve named ports on the selected pod itself
                named = facts.reps[k].ports if direction == "ingress" else ()
                groups.setdefault((chosen, named), k)
        for (chosen, _named), k in groups.items():
            rows = {
                (pi, ri): facts.rule_row(cluster.policies[pi], rule, k)
                for pi in chosen
                for ri, rule in enumerate(cluster.policies[pi].rules(direction))
            }
            out.append(_Profile(direction, chosen, rows))
    return out


def _shadow_findings(facts: _Facts) -> Iterator[Finding]:
    """policy-redundant, rule-shadowed and rule-allows-nothing, exactly.

    For each profile (classes selected by the same policies), a rule's row is
    compared with the union of the rows of every other rule of every policy
    selecting those classes for the same direction. A rule is shadowed when it is
    covered in every profile it applies to.

    A policy with an empty podSelector is only compared with other such policies of
    its namespace: it also applies to pods that do not exist yet. A default-deny
    (podSelector {} and no rules) is never reported: it is the explicit baseline,
    kept on purpose even when other namespace-wide policies isolate the same way.

    Two identical rules cover each other; reporting both would invite deleting both.
    So the decision is greedy, last written first: a policy or rule found redundant
    is taken out before the next is judged, and everything reported can be deleted
    together without changing any allowed connection.
    """
    profiles = _profiles(facts)
    policies = facts.net.cluster.policies
    wide = [p.pod_selector.is_empty for p in policies]
    gone_policies: set[int] = set()
    gone_rules: set[tuple[str, int, int]] = set()
    findings: list[Finding] = []
    by_policy: dict[int, list[_Profile]] = {}
    for profile in profiles:
        for pi in profile.chosen:
            by_policy.setdefault(pi, []).append(profile)

    def name(direction: Direction, key: tuple[int, int]) -> str:
        policy = policies[key[0]]
        return _rule_name(policy, policy.rules(direction)[key[1]])

    def live(direction: Direction, key: tuple[int, int]) -> bool:
        return key[0] not in gone_policies and (direction, *key) not in gone_rules

    def comparable(judged: int, other: int) -> bool:
        # A policy with podSelector {} also guards pods that do not exist yet: only
        # another such policy can stand in for it.
        return wide[other] or not wide[judged]

    for pi in reversed(range(len(policies))):
        policy = policies[pi]
        mine_profiles = by_policy.get(pi, [])
        if not mine_profiles or _is_default_deny(policy):
            continue  # selects nothing (reported on its own), or the explicit baseline
        cover: set[str] = set()
        redundant = True
        for profile in mine_profiles:
            d = profile.direction
            others = {
                p for p in profile.chosen
                if p != pi and p not in gone_policies and comparable(pi, p)
            }
            if not others:
                redundant = False  # the only policy isolating these pods this way
                break
            mine = _union(facts, [r for k, r in profile.rows.items() if k[0] == pi])
            theirs = {k: r for k, r in profile.rows.items() if k[0] in others and live(d, k)}
            if not _covered(mine, _union(facts, list(theirs.values())), facts):
                redundant = False
                break
            if not mine.any():
                cover.update(policies[p].ref for p in others)
            cover.update(name(d, k) for k, r in theirs.items() if facts.meet(mine, r).any())
        if not redundant:
            continue
        gone_policies.add(pi)
        findings.append(
            Finding(
                "warning",
                "policy-redundant",
                f"{policy.ref} is redundant: the pods it selects are isolated by other "
                "policies too, and everything it allows is already allowed by "
                f"{_short_list(sorted(cover)) or 'them'}",
                policy.location,
                "delete it, or fix what it was meant to do: policies are additive, a policy "
                "can only add allowed connections, never take away what another allows",
                policy.ref,
            )
        )

    for pi in reversed(range(len(policies))):
        policy = policies[pi]
        if pi in gone_policies:
            continue
        for direction in DIRECTIONS[::-1]:
            rules = policy.rules(direction)
            for ri in reversed(range(len(rules))):
                rule = rules[ri]
                key = (pi, ri)
                mine_profiles = [
                    p for p in by_policy.get(pi, []) if p.direction == direction
                ]
                if not mine_profiles:
                    continue
                nonempty = False
                covered = True
                shadowers: set[str] = set()
                for profile in mine_profiles:
                    row = profile.rows[key]
                    nonempty = nonempty or bool(row.any())
                    rest = {
                        k: r
                        for k, r in profile.rows.items()
                        if k != key and live(profile.direction, k) and comparable(pi, k[0])
                    }
                    if not _covered(row, _union(facts, list(rest.values())), facts):
                        covered = False
                        break
                    shadowers.update(
                        name(profile.direction, k)
                        for k, r in rest.items()
                        if facts.meet(row, r).any()
                    )
                if not covered:
                    continue
                gone_rules.add((direction, pi, ri))
                if not nonempty:
                    findings.append(
                        Finding(
                            "warning",
                            "rule-allows-nothing",
                            f"{_rule_name(policy, rule)} allows nothing (its peers or ports "
                            "match nothing)",
                            rule.location,
                            "fix its peers or ports, or remove it",
                            _rule_name(policy, rule),
                        )
                    )
                else:
                    findings.append(
                        Finding(
                            "warning",
                            "rule-shadowed",
                            f"{_rule_name(policy, rule)} is shadowed: everything it allows is "
                            f"already allowed by {_short_list(sorted(shadowers))}",
                            rule.location,
                            "remove it, or correct it if it was meant to allow something else",
                            _rule_name(policy, rule),
                        )
                    )
    yield from findings


def _is_default_deny(policy: Policy) -> bool:
    """podSelector {} and no rule: every pod of the namespace isolated, nothing allowed."""
    return policy.pod_selector.is_empty and not policy.ingress and not policy.egress


def _union(facts: _Facts, rows: Sequence[IntArray]) -> IntArray:
    out = np.zeros(facts.cols, dtype=np.int64)
    for row in rows:
        out = facts.join(out, row)
    return out


def _iter_ip_blocks(
    facts: _Facts,
) -> Iterator[tuple[Policy, Rule, Peer, IPBlock]]:
    for policy in facts.net.cluster.policies:
        for rule in policy.ingress + policy.egress:
            for peer in rule.peers:
                if peer.ip_block is not None:
                    yield policy, rule, peer, peer.ip_block


def _block_location(peer: Peer, block: IPBlock, rule: Rule) -> Location:
    for loc in (block.location, peer.location, rule.location):
        if loc.line:
            return loc
    return block.location


def _cidr_findings(facts: _Facts) -> Iterator[Finding]:
    for policy, rule, peer, block in _iter_ip_blocks(facts):
        for text in (block.cidr, *block.except_):
            try:
                parse_cidr(text, strict=True)
            except ValueError as exc:
                if "host bits" not in str(exc):
                    continue
                network = str(exc).rsplit("the network is ", 1)[-1].rstrip(")")
                yield Finding(
                    "error",
                    "cidr-host-bits",
                    f'{_rule_name(policy, rule)}: CIDR "{text}" has host bits set; it '
                    f"means {network}",
                    _block_location(peer, block, rule),
                    f"write {network} if that is what you mean; to match one address "
                    "use a /32 (IPv4) or /128 (IPv6)",
                    _rule_name(policy, rule),
                )


def _ipblock_pod_findings(facts: _Facts) -> Iterator[Finding]:
    """ipblock-matches-pods: an ipBlock that tells pods apart by their (ephemeral) IPs."""
    pods = [p for p in facts.net.pods if not p.host_network and p.ips]
    keyed = [(p, _pod_keys(p)) for p in pods]
    keyed = [(p, keys) for p, keys in keyed if keys]
    if not keyed:
        return
    all_keys = {k for _, keys in keyed for k in keys}
    seen: set[tuple[str, str, IPBlock]] = set()
    for policy, rule, peer, block in _iter_ip_blocks(facts):
        mark = (policy.ref, _rule_name(policy, rule), block)
        if mark in seen:
            continue
        seen.add(mark)
        addresses = _block_set(block)
        singles = {_single_address(text) for text in (block.cidr, *block.except_)}
        if not singles & all_keys and (
            all(k in addresses for k in all_keys) or not any(k in addresses for k in all_keys)
        ):
            continue  # names no pod IP, and holds all pods or none: not telling pods apart
        inside = [p for p, keys in keyed if any(k in addresses for k in keys)]
        inside_refs = {p.ref for p in inside}
        outside = [p for p, _ in keyed if p.ref not in inside_refs]
        exact = [p for p, keys in keyed if singles & set(keys)]
        parts = []
        if exact:
            parts.append(f"it names the IP of {_short_list(p.ref for p in exact)}")
        if inside and outside:
            parts.append(
                f"it matches {_short_list(p.ref for p in inside)} but not "
                f"{_short_list(p.ref for p in outside)}"
            )
        if not parts:
            continue
        semantics = (
            "with ipBlocks applied to pod IPs (as Calico does)"
            if facts.net.options.ipblock_pods
            else "on plugins that apply ipBlocks to pod IPs (such as Calico)"
        )
        yield Finding(
            "warning",
            "ipblock-matches-pods",
            f"{_rule_name(policy, rule)}: ipBlock {block} matches pods by IP "
            f"{semantics}: {'; '.join(parts)}. Pod IPs change when pods restart",
            _block_location(peer, block, rule),
            "select pods by labels (podSelector/namespaceSelector); keep ipBlocks for "
            "addresses outside the cluster",
            _rule_name(policy, rule),
        )


def _single_address(text: str) -> int | None:
    try:
        lo, hi = parse_cidr(text, strict=False)
    except ValueError:
        return None
    return lo if lo == hi else None


def _namespace_findings(facts: _Facts) -> Iterator[Finding]:
    """no-default-deny, per namespace with pods (system namespaces left out)."""
    cluster = facts.net.cluster
    with_pods = sorted({p.namespace for p in cluster.pods} - SYSTEM_NAMESPACES)
    for name in with_pods:
        policies = [p for p in cluster.policies if p.namespace == name]
        missing = [
            d
            for d in DIRECTIONS
            if not any(p.pod_selector.is_empty and p.applies(d) for p in policies)
        ]
        if not missing:
            continue
        ns = facts.namespaces.get(name)
        location = ns.location if ns is not None and not ns.implicit else None
        types = ", ".join(d.capitalize() for d in missing)
        if not policies:
            message = (
                f"namespace {name} has no NetworkPolicy: every pod accepts and opens any "
                "connection"
            )
        else:
            message = (
                f"namespace {name} has no default-deny for {' and '.join(missing)}: pods "
                "that no policy selects (including future ones) are open"
            )
        yield Finding(
            "info",
            "no-default-deny",
            message,
            location,
            f"add a policy with podSelector: {{}} and policyTypes: [{types}] and no rules, "
            "then allow what is needed",
            name,
        )


def _unprotected_findings(facts: _Facts) -> Iterator[Finding]:
    """pod-unprotected, per workload, where its namespace isolates some pod that way."""
    c = facts.net.compiled
    cluster = facts.net.cluster
    isolating: dict[str, set[str]] = {}
    for direction in DIRECTIONS:
        policies, selected = _by_direction(facts, direction)
        for policy, bits in zip(policies, selected, strict=True):
            if bits:
                isolating.setdefault(policy.namespace, set()).add(direction)
    done: set[tuple[str, str, str]] = set()
    for i, pod in enumerate(cluster.pods):
        if pod.namespace in SYSTEM_NAMESPACES:
            continue
        key = (pod.namespace, pod.workload_kind, pod.workload_name)
        if key in done:
            continue
        k = int(c.pod_class[i])
        open_ = [
            d
            for d, flags in (("ingress", c.ingress_isolated), ("egress", c.egress_isolated))
            if d in isolating.get(pod.namespace, set()) and not bool(flags[k])
        ]
        if not open_:
            continue
        done.add(key)
        what = f"{pod.namespace}/{pod.workload_name}[{pod.workload_kind}]"
        if pod.host_network:
            message = f"{what} uses the host network: no policy can select it"
        else:
            message = (
                f"{what} is not isolated for {' and '.join(open_)}, while other pods of "
                f"namespace {pod.namespace} are: it "
                + " and ".join(
                    "accepts any connection" if d == "ingress" else "may connect anywhere"
                    for d in open_
                )
            )
        yield Finding(
            "info",
            "pod-unprotected",
            message,
            pod.location if pod.location.line else None,
            "select it from a policy (or add a default-deny) if it should be protected",
            what,
        )


def _plugin_findings(facts: _Facts) -> Iterator[Finding]:
    cluster = facts.net.cluster
    if not cluster.policies:
        return
    seen: dict[str, Location] = {}
    for pod in cluster.pods:
        words = [pod.name, pod.owner_name, *pod.labels.values()]
        for word in words:
            low = word.lower()
            for plugin in ENFORCING_PLUGINS + NON_ENFORCING_PLUGINS:
                if plugin in low and plugin not in seen:
                    seen[plugin] = pod.location
    for workload in cluster.workloads:
        low = workload.name.lower()
        for plugin in ENFORCING_PLUGINS + NON_ENFORCING_PLUGINS:
            if plugin in low and plugin not in seen:
                seen[plugin] = workload.location
    enforcing = [p for p in ENFORCING_PLUGINS if p in seen]
    if enforcing:
        return
    count = len(cluster.policies)
    if "flannel" in seen:
        yield Finding(
            "error",
            "plugin-no-enforcement",
            f"the network plugin is flannel alone, which does not enforce NetworkPolicy: "
            f"the {count} policies are accepted without error and do nothing",
            seen["flannel"],
            "install a plugin that enforces policies (Calico, Cilium, ...; canal = "
            "flannel + Calico policy)",
            "flannel",
        )
    elif "kindnet" in seen:
        yield Finding(
            "warning",
            "plugin-no-enforcement",
            f"the network plugin is kindnet, which enforced no NetworkPolicy before kind "
            f"v0.24: the {count} policies may do nothing",
            seen["kindnet"],
            "use kind v0.24 or later, or install Calico or Cilium in the kind cluster",
            "kindnet",
        )
    else:
        yield Finding(
            "info",
            "plugin-unknown",
            "the network plugin is not in the input (no calico, cilium, flannel, ... pods): "
            "policies only work if it enforces them",
            None,
            "add the kube-system pods or daemonsets to the input to have it checked",
            "",
        )


# ---------------------------------------------------------------------------
# DNS


@dataclass(frozen=True, slots=True)
class _DnsTarget:
    pod: Pod
    index: int | None  # None: a stand-in, the input has no kube-dns pod
    ports: dict[str, tuple[int, ...]]  # protocol -> ports the pod listens on for DNS


def _dns_targets(facts: _Facts) -> list[_DnsTarget]:
    cluster = facts.net.cluster
    service = next(
        (s for s in cluster.services if s.namespace == "kube-system" and s.name == "kube-dns"),
        None,
    )
    indices: list[int] = []
    if service is not None and service.selector:
        indices = [
            i
            for i, pod in enumerate(cluster.pods)
            if pod.namespace == "kube-system" and _labels_cover(service.selector, pod)
        ]
    if not indices:
        indices = [
            i for i, pod in enumerate(cluster.pods) if pod.labels.get("k8s-app") == "kube-dns"
        ]
    stand_in = Pod(
        "kube-system",
        "kube-dns",
        Labels({"k8s-app": "kube-dns"}),
        ports=(ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp")),
    )
    out: list[_DnsTarget] = []
    choices: list[int | None] = list(indices) if indices else [None]
    for index in choices:
        pod = cluster.pods[index] if index is not None else stand_in
        ports: dict[str, tuple[int, ...]] = {}
        for proto in ("UDP", "TCP"):
            found: list[int] = []
            if service is not None:
                for sp in service.ports:
                    if sp.protocol != proto or sp.port != 53:
                        continue
                    target = sp.target_port
                    if isinstance(target, str):
                        number = next(
                            (cp.port for cp in pod.ports if cp.name == target
                             and cp.protocol == proto),
                            None,
                        )
                        if number is not None:
                            found.append(number)
                    else:
                        found.append(target)
            ports[proto] = tuple(found) if found else (53,)
        out.append(_DnsTarget(pod, index, ports))
    return out


def _dns_findings(facts: _Facts) -> Iterator[Finding]:
    net = facts.net
    c = net.compiled
    if not c.egress_isolated.any():
        return
    targets = _dns_targets(facts)
    dns_indices = {t.index for t in targets if t.index is not None}
    egress_policies, selected = _by_direction(facts, "egress")
    namespaces = dict(facts.namespaces)
    namespaces.setdefault("kube-system", net.cluster.namespace("kube-system"))
    groups: dict[tuple[int, ...], list[tuple[int, list[str]]]] = {}
    for k in range(facts.n):
        if not bool(c.egress_isolated[k]):
            continue
        members = c.class_pods[k]
        if any(i in dns_indices for i in members) or facts.reps[k].host_network:
            continue
        blocked = [
            proto
            for proto in ("UDP", "TCP")
            if not any(_dns_allowed(facts, k, t, proto, namespaces) for t in targets)
        ]
        if blocked:
            chosen = tuple(pi for pi, bits in enumerate(selected) if bits >> k & 1)
            groups.setdefault(chosen, []).append((k, blocked))
    for chosen, items in groups.items():
        pods = [facts.reps[k] for k, _ in items]
        names = _short_list(
            f"{p.namespace}/{p.workload_name}" for k, _ in items for p in (facts.reps[k],)
        )
        protos = sorted({proto for _, blocked in items for proto in blocked}, reverse=True)
        target = targets[0]
        port_text = " and ".join(
            f"{proto} {','.join(str(p) for p in target.ports[proto])}" for proto in protos
        )
        nothing = all(_egress_closed(c.allow, k) for k, _ in items)
        policies = [egress_policies[pi] for pi in chosen]
        where = "kube-dns"
        if target.index is None:
            where += " (not in the input; assumed in kube-system, labelled k8s-app=kube-dns)"
        ports_yaml = ", ".join(
            f"{{protocol: {proto}, port: {p}}}" for proto in ("UDP", "TCP")
            for p in target.ports[proto]
        )
        yield Finding(
            "info" if nothing else "warning",
            "dns-blocked",
            f"egress of {names} (isolated by {_short_list(p.ref for p in policies)}) "
            f"blocks DNS to {where} on {port_text}"
            + (": their egress is closed entirely" if nothing else ""),
            policies[0].location,
            "allow egress to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
            "kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}] with ports: "
            f"[{ports_yaml}] (policies see the DNS pods' targetPort)",
            ", ".join(p.ref for p in pods[:1]),
        )


def _egress_closed(allow: npt.NDArray[np.int32], k: int) -> bool:
    """Whether class ``k`` may open no connection at all (but within its own class)."""
    row = allow[k, :].copy()
    row[k] = 0
    return not bool(row.any())


def _dns_allowed(
    facts: _Facts, k: int, target: _DnsTarget, proto: str, namespaces: dict[str, Namespace]
) -> bool:
    net = facts.net
    c = net.compiled
    for port in target.ports[proto]:
        if target.index is not None:
            if c.pod_ports(c.class_pods[k][0], target.index).allows(proto, port):
                return True
        else:
            ctx = TraceContext.of(net.cluster.policies, namespaces, net.cluster.nodes,
                                  net.options.ipblock_pods)
            walk = trace_side(ctx, "egress", facts.reps[k], target.pod, None)
            if walk.allowed.allows(proto, port):
                return True
        if not _pod_keys(target.pod) and net.options.ipblock_pods and _ipblock_may_allow(
            facts, k, target.pod, proto, port
        ):
            return True
    return False


def _ipblock_may_allow(facts: _Facts, k: int, dns: Pod, proto: str, port: int) -> bool:
    """Whether an ipBlock rule covering private ranges allows DNS (the pod's IP is unknown)."""
    pod = facts.reps[k]
    for policy in facts.net.cluster.policies:
        if policy.namespace != pod.namespace or not policy.applies("egress"):
            continue  # (cluster-scoped policies have no namespace)
        if not matches(policy.pod_selector, pod.labels):
            continue
        for rule in policy.egress:
            if not any(
                peer.ip_block is not None and bool(_block_set(peer.ip_block) & _PRIVATE)
                for peer in rule.peers
            ):
                continue
            if rule_ports(rule, resolve_on(dns)).allows(proto, port):
                return True
    return False


# ---------------------------------------------------------------------------
# the whole


_RULES: tuple[Rule_, ...] = (
    _cidr_findings,
    _plugin_findings,
    _policy_findings,
    _peer_findings,
    _named_port_findings,
    _port_findings,
    _shadow_findings,
    _dns_findings,
    _ipblock_pod_findings,
    _namespace_findings,
    _unprotected_findings,
)


def _sort_key(f: Finding) -> tuple[int, str, int, int, str, str]:
    loc = f.location
    return (
        _RANK[f.severity],
        loc.path if loc else "~",
        loc.line if loc else 0,
        loc.column if loc else 0,
        f.code,
        f.message,
    )


def lint(net: Network, *, severity: Severity = "info") -> list[Finding]:
    """Check a network's policies for mistakes; findings sorted errors first.

    Parameters
    ----------
    net
        The analysed network.
    severity
        The lowest severity to return (``"info"``, ``"warning"`` or ``"error"``).

    Returns
    -------
    list of Finding
        Sorted by severity (errors first), then file and line.

    Examples
    --------
    >>> from reach.model import (Cluster, IPBlock, Labels, LabelSelector, Peer, Pod,
    ...                          Policy, Rule)
    >>> out = Policy("ns", "out", LabelSelector(), ("Egress",), egress=(
    ...     Rule("egress", 0, peers=(Peer(ip_block=IPBlock("10.0.0.1/8")),)),))
    >>> net = Network(Cluster(pods=(Pod("ns", "a"),), policies=(out,)))
    >>> [f.code for f in lint(net, severity="error")]
    ['cidr-host-bits']
    """
    if severity not in _RANK:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    facts = _Facts.of(net)
    limit = _RANK[severity]
    found = [f for rule in _RULES for f in rule(facts)]
    # a rule that allows nothing because a peer or a named port matches nothing is
    # already explained by that finding
    explained = {f.subject for f in found if f.code in _EXPLAIN_EMPTY_RULES}
    found = [
        f
        for f in found
        if _RANK[f.severity] <= limit
        and not (f.code == "rule-allows-nothing" and f.subject in explained)
    ]
    return sorted(found, key=_sort_key)


_EXPLAIN_EMPTY_RULES = ("peer-matches-nothing", "named-port-undefined")


def findings_json(findings: Sequence[Finding]) -> dict[str, Any]:
    """The JSON document of a list of findings: the findings and a count per severity."""
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    return {"findings": [f.to_json() for f in findings], "counts": counts}


def format_findings(findings: Sequence[Finding], fmt: str = "txt") -> str:
    """Findings as ``txt`` (one block each, then a count) or ``json``.

    Examples
    --------
    >>> print(format_findings([]))
    no findings
    """
    if fmt == "json":
        return json.dumps(findings_json(findings), indent=2)
    if fmt != "txt":
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(LINT_FORMATS)}")
    if not findings:
        return "no findings"
    totals = [
        f"{n} {s}{'s' if n != 1 else ''}"
        for s in ("error", "warning", "info")
        if (n := sum(1 for f in findings if f.severity == s))
    ]
    return "\n".join([*(str(f) for f in findings), ", ".join(totals)])
