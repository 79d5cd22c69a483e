"""A brute-force reference evaluator of policy semantics, one connection and one port at a time.

Written independently of reach's compiler and of its explanation walk: it imports
only the model dataclasses (and Calico's selector parser) and decides every question
by walking the policies for the single connection and the single (protocol, port)
asked about. Ports are plain integer comparisons, addresses stdlib :mod:`ipaddress`,
label selectors a few lines of set logic. Slow and obviously right is the point.

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
from dataclasses import dataclass
from typing import Any

from reach.model import Cluster, LabelSelector, Peer, Pod, Policy, PolicyPort, Rule
from reach.model.expressions import CalicoSelector
from reach.policies.calico_selector import parse_selector

__all__ = [
    "CalicoPod",
    "CalicoWorld",
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


# ---------------------------------------------------------------------------
# Calico, from the manifests
#
# A second evaluator, for Calico's policies, that does not even share reach's reading of
# them: it takes the manifests as plain dicts (what ``yaml.safe_load_all`` gives) and
# applies Calico's reference documentation to them directly. Only the selector
# language is reach's (``parse_selector`` and ``CalicoSelector.matches``); the labels
# selectors see are recomputed here. Per direction (egress at the source, ingress at
# the destination; both must allow):
#
# 1. "Tiers are sorted by their order - smallest number first" (no order: last; equal
#    orders by name); the default tier has order 1,000,000 and holds every Kubernetes
#    NetworkPolicy, as Calico NetworkPolicy ``knp.default.<name>`` at order 1000 whose
#    rules allow. Only tiers holding a policy that selects the pod take part: "if no
#    policies within a tier apply to endpoints, the tier is skipped".
# 2. In a tier, policies by order ("Calico applies the policy with the lowest value
#    first"; none: after every ordered one; equal orders by name), rules in written
#    order; "all match criteria must match". "Allow and Deny are immediate and final";
#    Pass goes to the next tier; "After a Log action, processing continues with the next
#    rule".
# 3. "If the Tier applies to the endpoint, but takes no action on the packet the packet
#    is dropped", unless its ``defaultAction`` is ``Pass``.
# 4. What no tier decides, or what the last tier passes, the namespace's profile allows.

CALICO_DEFAULT_TIER_ORDER = 1_000_000.0
KUBERNETES_POLICY_ORDER = 1000.0
_CALICO_API = ("projectcalico.org/v3", "crd.projectcalico.org/v1")
_PROTOCOL_NAMES = {6: "TCP", 17: "UDP", 132: "SCTP"}
_INF = float("inf")


@functools.lru_cache(maxsize=4096)
def _calico_selector(text: str) -> CalicoSelector:
    return parse_selector(text)


def _calico_select(text: str | None, labels: Mapping[str, str], *, global_: bool = False
                   ) -> bool:
    """A Calico selector over ``labels``; an absent selector is ``all()``."""
    return text is None or _calico_selector(text).matches(labels, global_=global_)


def _in_cidr(address: str, cidr: str) -> bool:
    return in_ip_block(address, cidr, ())


@dataclass(frozen=True)
class CalicoPod:
    """A pod as Calico sees it: one IP, its service account, its named container ports."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    ip: str
    service_account: str
    ports: tuple[tuple[str, str, int], ...] = ()  # (name, protocol, number)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class _NetSet:
    namespace: str  # "" for a GlobalNetworkSet
    labels: Mapping[str, str]
    nets: tuple[str, ...]


@dataclass(frozen=True)
class _CalicoPolicy:
    kind: str  # "NetworkPolicy" (Calico's), "GlobalNetworkPolicy" or "Kubernetes"
    namespace: str
    name: str
    spec: Mapping[str, Any]

    @property
    def tier(self) -> str:
        return "default" if self.kind == "Kubernetes" else str(self.spec.get("tier") or "default")

    @property
    def order(self) -> float:
        if self.kind == "Kubernetes":
            return KUBERNETES_POLICY_ORDER
        value = self.spec.get("order")
        return _INF if value is None else float(value)

    @property
    def sort_name(self) -> str:
        return f"knp.default.{self.name}" if self.kind == "Kubernetes" else self.name

    @property
    def types(self) -> tuple[str, ...]:
        if self.kind == "Kubernetes":
            given = self.spec.get("policyTypes")
            if given:
                return tuple(given)
            return ("Ingress", "Egress") if self.spec.get("egress") else ("Ingress",)
        given = self.spec.get("types")
        if given:
            return tuple(given)
        ingress, egress = bool(self.spec.get("ingress")), bool(self.spec.get("egress"))
        if egress and not ingress:
            return ("Egress",)
        return ("Ingress", "Egress") if egress else ("Ingress",)


CalicoEndpoint = CalicoPod | str


class CalicoWorld:
    """The facts of a cluster's manifests that Calico's evaluation reads.

    ``documents``: the manifests as dicts. Read: Namespaces, Pods (``status.podIP``,
    ``spec.serviceAccountName``, named container ports), ServiceAccounts, Calico
    NetworkPolicies, GlobalNetworkPolicies, Tiers, NetworkSets and GlobalNetworkSets
    (either API version), and Kubernetes NetworkPolicies.

    >>> pod = {"apiVersion": "v1", "kind": "Pod"}
    >>> world = CalicoWorld([
    ...     {**pod, "metadata": {"name": "a", "namespace": "ns"}, "status": {"podIP": "10.0.0.1"}},
    ...     {**pod, "metadata": {"name": "b", "namespace": "ns", "labels": {"app": "db"}},
    ...      "status": {"podIP": "10.0.0.2"}},
    ...     {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
    ...      "metadata": {"name": "db"}, "spec": {"selector": "app == 'db'", "ingress": [
    ...          {"action": "Allow", "protocol": "TCP", "destination": {"ports": [5432]}}]}}])
    >>> a, b = world.pods
    >>> sorted(world.allowed_probes(a, b, [("TCP", 5432), ("TCP", 80), ("UDP", 5432)]))
    [('TCP', 5432)]
    >>> len(world.allowed_probes(b, a, [("TCP", 80), ("UDP", 53)]))
    2
    """

    def __init__(self, documents: Iterable[Mapping[str, Any]]) -> None:
        self.namespaces: dict[str, dict[str, str]] = {}
        self.accounts: dict[tuple[str, str], dict[str, str]] = {}
        self.pods: list[CalicoPod] = []
        self.sets: list[_NetSet] = []
        self.tiers: dict[str, tuple[float, str]] = {"default": (CALICO_DEFAULT_TIER_ORDER, "Deny")}
        self.policies: list[_CalicoPolicy] = []
        for doc in documents:
            self._read(doc)

    def _read(self, doc: Mapping[str, Any]) -> None:
        kind, api = doc["kind"], doc["apiVersion"]
        meta = doc.get("metadata") or {}
        name, namespace = meta.get("name", ""), meta.get("namespace", "default")
        labels = dict(meta.get("labels") or {})
        spec = doc.get("spec") or {}
        if kind == "Namespace":
            self.namespaces[name] = {**labels, NAME_LABEL: name}
        elif kind == "ServiceAccount":
            self.accounts[(namespace, name)] = labels
        elif kind == "Pod":
            ports = tuple((p["name"], p.get("protocol", "TCP"), int(p["containerPort"]))
                          for c in spec.get("containers") or () for p in c.get("ports") or ()
                          if p.get("name"))
            self.pods.append(CalicoPod(namespace, name, labels, doc["status"]["podIP"],
                                       spec.get("serviceAccountName") or "default", ports))
        elif kind == "NetworkPolicy" and api == "networking.k8s.io/v1":
            self.policies.append(_CalicoPolicy("Kubernetes", namespace, name, spec))
        elif api in _CALICO_API and kind in ("NetworkPolicy", "GlobalNetworkPolicy"):
            scoped = kind == "NetworkPolicy"
            self.policies.append(_CalicoPolicy(kind, namespace if scoped else "", name, spec))
        elif api in _CALICO_API and kind == "Tier":
            order = spec.get("order")
            self.tiers[name] = (_INF if order is None else float(order),
                                spec.get("defaultAction") or "Deny")
        elif api in _CALICO_API and kind in ("NetworkSet", "GlobalNetworkSet"):
            self.sets.append(_NetSet(namespace if kind == "NetworkSet" else "", labels,
                                     tuple(spec.get("nets") or ())))
        else:  # pragma: no cover - the strategies write nothing else
            raise ValueError(f"the Calico oracle does not read {kind} ({api})")

    # -- the labels selectors see ------------------------------------------

    def namespace_labels(self, name: str) -> dict[str, str]:
        """What a ``namespaceSelector`` sees: the namespace's labels and its name."""
        return {**self.namespaces.get(name, {}), "projectcalico.org/name": name}

    def account_labels(self, pod: CalicoPod) -> dict[str, str]:
        """What a ``serviceAccountSelector`` sees: the account's labels and its name."""
        labels = self.accounts.get((pod.namespace, pod.service_account), {})
        return {**labels, "projectcalico.org/name": pod.service_account}

    def pod_labels(self, pod: CalicoPod) -> dict[str, str]:
        """What a selector sees on a pod's workload endpoint: its labels, the labels
        Calico adds, and the profile labels of its namespace and service account."""
        out = {f"pcns.{k}": v for k, v in self.namespace_labels(pod.namespace).items()}
        out.update({f"pcsa.{k}": v for k, v in self.account_labels(pod).items()})
        out.update(pod.labels)
        out["projectcalico.org/namespace"] = pod.namespace
        out["projectcalico.org/orchestrator"] = "k8s"
        out["projectcalico.org/serviceaccount"] = pod.service_account
        return out

    def set_labels(self, nset: _NetSet) -> dict[str, str]:
        """What a selector sees on a network set: a namespaced one is a resource of its
        namespace ("namespaceSelector: projectcalico.org/name == 'ns'" with "selector: X"
        "is equivalent to" "(X) && (projectcalico.org/namespace == 'ns')") and inherits
        its namespace's profile labels, as its pods do."""
        if not nset.namespace:
            return dict(nset.labels)
        out = {f"pcns.{k}": v for k, v in self.namespace_labels(nset.namespace).items()}
        out.update(nset.labels)
        out["projectcalico.org/namespace"] = nset.namespace
        return out

    # -- which policies apply -------------------------------------------------

    def selects(self, policy: _CalicoPolicy, pod: CalicoPod) -> bool:
        spec = policy.spec
        if policy.kind == "Kubernetes":
            wanted = (spec.get("podSelector") or {}).get("matchLabels") or {}
            return pod.namespace == policy.namespace and _sub(wanted, pod.labels)
        if policy.kind == "NetworkPolicy" and pod.namespace != policy.namespace:
            return False
        if policy.kind == "GlobalNetworkPolicy" and not _calico_select(
                spec.get("namespaceSelector"), self.namespace_labels(pod.namespace)):
            return False
        return (_calico_select(spec.get("selector"), self.pod_labels(pod))
                and _calico_select(spec.get("serviceAccountSelector"), self.account_labels(pod)))

    def tier_key(self, name: str) -> tuple[float, str]:
        return (self.tiers.get(name, (_INF, "Deny"))[0], name)

    # -- Calico rule entities -------------------------------------------------

    def _pod_in_scope(self, policy: _CalicoPolicy, entity: Mapping[str, Any],
                      pod: CalicoPod) -> bool:
        if "namespaceSelector" in entity:
            return _calico_select(entity["namespaceSelector"], self.namespace_labels(pod.namespace))
        return not policy.namespace or pod.namespace == policy.namespace

    def _set_in_scope(self, policy: _CalicoPolicy, entity: Mapping[str, Any],
                      nset: _NetSet) -> bool:
        if "namespaceSelector" in entity:  # "only ... in the selected namespaces"
            return bool(nset.namespace) and _calico_select(
                entity["namespaceSelector"], self.namespace_labels(nset.namespace))
        return not policy.namespace or nset.namespace == policy.namespace

    def _pod_chosen(self, policy: _CalicoPolicy, entity: Mapping[str, Any], key: str,
                    pod: CalicoPod) -> bool:
        if not self._pod_in_scope(policy, entity, pod):
            return False
        if not _calico_select(entity.get(key), self.pod_labels(pod)):
            return False
        accounts = entity.get("serviceAccounts") if key == "selector" else None
        if accounts is not None:
            names = accounts.get("names")
            if names is not None and pod.service_account not in names:
                return False
            if not _calico_select(accounts.get("selector"), self.account_labels(pod)):
                return False
        return True

    def _address_chosen(self, policy: _CalicoPolicy, entity: Mapping[str, Any], key: str,
                        address: str) -> bool:
        """Whether ``address`` is in a network set the entity's ``key`` selector picks."""
        if key == "selector" and "serviceAccounts" in entity:
            return False  # a network set runs under no service account
        return any(self._set_in_scope(policy, entity, nset)
                   and _calico_select(entity.get(key), self.set_labels(nset),
                                     global_=not nset.namespace)
                   and any(_in_cidr(address, cidr) for cidr in nset.nets)
                   for nset in self.sets)

    def _chosen(self, policy: _CalicoPolicy, entity: Mapping[str, Any], key: str,
                end: CalicoEndpoint) -> bool:
        """The IP set Calico builds for a selector: the matching pods' IPs and the CIDRs
        of the matching network sets."""
        address = end.ip if isinstance(end, CalicoPod) else end
        if isinstance(end, CalicoPod) and self._pod_chosen(policy, entity, key, end):
            return True
        return self._address_chosen(policy, entity, key, address)

    def entity_matches(self, policy: _CalicoPolicy, entity: Mapping[str, Any],
                       end: CalicoEndpoint) -> bool:
        """A rule's ``source`` or ``destination`` (ports aside) against one end."""
        address = end.ip if isinstance(end, CalicoPod) else end
        if "nets" in entity and not any(_in_cidr(address, c) for c in entity["nets"]):
            return False
        if any(_in_cidr(address, c) for c in entity.get("notNets") or ()):
            return False
        if any(k in entity for k in ("selector", "namespaceSelector", "serviceAccounts")) and (
                not self._chosen(policy, entity, "selector", end)):
            return False
        return not ("notSelector" in entity
                    and self._chosen(policy, entity, "notSelector", end))

    # -- Kubernetes NetworkPolicy peers ---------------------------------------

    def _k8s_peer(self, policy: _CalicoPolicy, peer: Mapping[str, Any],
                  end: CalicoEndpoint) -> bool:
        block = peer.get("ipBlock")
        address = end.ip if isinstance(end, CalicoPod) else end
        if block is not None:  # Calico's nets: pod IPs too
            return in_ip_block(address, block["cidr"], tuple(block.get("except") or ()))
        if not isinstance(end, CalicoPod):
            return False
        if "namespaceSelector" in peer:
            ns_labels = self.namespaces.get(end.namespace, {NAME_LABEL: end.namespace})
            if not _sub((peer["namespaceSelector"] or {}).get("matchLabels") or {}, ns_labels):
                return False
        elif end.namespace != policy.namespace:
            return False
        return _sub((peer.get("podSelector") or {}).get("matchLabels") or {}, end.labels)

    # -- one direction ----------------------------------------------------------

    def plan(self, pod: CalicoPod, other: CalicoEndpoint, direction: str) -> list[_Tier]:
        """The tiers that select ``pod`` for ``direction``, each with the rules (of its
        policies, in order) whose ends match this connection, with their actions."""
        kind = "Ingress" if direction == "ingress" else "Egress"
        applying = [p for p in self.policies if kind in p.types and self.selects(p, pod)]
        src, dst = (other, pod) if direction == "ingress" else (pod, other)
        out: list[_Tier] = []
        for tier in sorted({p.tier for p in applying}, key=self.tier_key):
            members = sorted((p for p in applying if p.tier == tier),
                             key=lambda p: (p.order, p.sort_name))
            rules: list[_Matched] = []
            for policy in members:
                for rule in policy.spec.get(direction) or ():
                    matched = self._ends_match(policy, rule, direction, src, dst)
                    if matched is not None:
                        rules.append(matched)
            out.append(_Tier(self.tiers.get(tier, (_INF, "Deny"))[1], rules))
        return out

    def _ends_match(self, policy: _CalicoPolicy, rule: Mapping[str, Any], direction: str,
                    src: CalicoEndpoint, dst: CalicoEndpoint) -> _Matched | None:
        """The rule, if both its ends match (ports and protocols are for later)."""
        if policy.kind == "Kubernetes":
            peers = rule.get("from" if direction == "ingress" else "to") or ()
            other = src if direction == "ingress" else dst
            if peers and not any(self._k8s_peer(policy, peer, other) for peer in peers):
                return None
            ports = tuple(("k8s", p) for p in rule.get("ports") or ())
            return _Matched("Allow", None, None, ports, (), dst)
        for side, end in (("source", src), ("destination", dst)):
            entity = rule.get(side)
            if entity and not self.entity_matches(policy, entity, end):
                return None
        if rule["action"] == "Log":
            return None  # processing continues with the next rule
        destination = rule.get("destination") or {}
        return _Matched(rule["action"], _protocol(rule.get("protocol")),
                        _protocol(rule.get("notProtocol")),
                        tuple(("calico", p) for p in destination.get("ports") or ()),
                        tuple(destination.get("notPorts") or ()), dst)

    def direction_allows(self, pod: CalicoPod, other: CalicoEndpoint, direction: str,
                         protocol: str, port: int) -> bool:
        return _walk(self.plan(pod, other, direction), protocol, port)

    def side_probes(self, pod: CalicoPod, other: CalicoEndpoint, direction: str,
                    probes: Iterable[Probe]) -> set[Probe]:
        """The probes ``pod``'s ``direction`` side allows for a connection with ``other``."""
        plan = self.plan(pod, other, direction)
        return {(proto, port) for proto, port in probes if _walk(plan, proto, port)}

    def allowed_probes(self, src: CalicoEndpoint, dst: CalicoEndpoint,
                       probes: Iterable[Probe]) -> set[Probe]:
        """The probes on which ``src`` may open a connection to ``dst`` (a pod always
        reaches itself)."""
        out = set(probes)
        if isinstance(src, CalicoPod) and src == dst:
            return out
        for pod, other, direction in ((src, dst, "egress"), (dst, src, "ingress")):
            if isinstance(pod, CalicoPod):
                plan = self.plan(pod, other, direction)
                out = {(proto, port) for proto, port in out if _walk(plan, proto, port)}
        return out


def _sub(wanted: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in wanted.items())


def _protocol(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, int):
        return _PROTOCOL_NAMES.get(value, str(value))
    return str(value)


@dataclass(frozen=True)
class _Matched:
    """A rule whose ends match a connection: what it still asks of protocol and port."""

    action: str
    protocol: str | None
    not_protocol: str | None
    ports: tuple[tuple[str, Any], ...]
    not_ports: tuple[Any, ...]
    dst: CalicoEndpoint

    def matches(self, protocol: str, port: int) -> bool:
        if self.protocol is not None and self.protocol != protocol:
            return False
        if self.not_protocol is not None and self.not_protocol == protocol:
            return False
        if any(_calico_port(item, self.dst, protocol, port) for item in self.not_ports):
            return False
        return not self.ports or any(
            _calico_port(item, self.dst, protocol, port) if dialect == "calico"
            else _k8s_port(item, self.dst, protocol, port) for dialect, item in self.ports)


@dataclass(frozen=True)
class _Tier:
    default_action: str
    rules: list[_Matched]


def _named(name: str, dst: CalicoEndpoint, protocol: str, port: int) -> bool:
    return isinstance(dst, CalicoPod) and any(
        n == name and p == protocol and number == port for n, p, number in dst.ports)


def _calico_port(item: Any, dst: CalicoEndpoint, protocol: str, port: int) -> bool:
    """One entry of ``ports``/``notPorts``: a number, ``'first:last'`` or a port name."""
    if isinstance(item, int):
        return item == port
    text = str(item)
    if ":" in text:
        first, last = text.split(":")
        return int(first) <= port <= int(last)
    if text.isdigit():
        return int(text) == port
    return _named(text, dst, protocol, port)


def _k8s_port(item: Mapping[str, Any], dst: CalicoEndpoint, protocol: str, port: int) -> bool:
    if item.get("protocol", "TCP") != protocol:
        return False
    number = item.get("port")
    if number is None:
        return True
    if isinstance(number, str):
        return _named(number, dst, protocol, port)
    return int(number) <= port <= int(item.get("endPort", number))


def _walk(plan: list[_Tier], protocol: str, port: int) -> bool:
    for tier in plan:
        decided = next((r.action for r in tier.rules if r.matches(protocol, port)), None)
        if decided == "Allow":
            return True
        if decided == "Deny":
            return False
        if decided is None and tier.default_action != "Pass":
            return False  # the tier applies to the endpoint but took no action
        # Pass, or a tier whose defaultAction is Pass: the next tier
    return True  # the profile allows
