"""Equivalence classes of pods, the outside world cut into atoms, and the sets policies name.

Pods that no policy can tell apart (same answer to every subject and peer selector,
same address atom, same resolution of every named port) form one *class*. The
outside world is cut into *external atoms*: disjoint address ranges, each wholly
inside or outside every address set a policy names (ipBlocks, ``networks``, the
addresses of the Nodes a ``nodes`` peer selects). Every set the compiler asks about
is a bitset over classes (see :mod:`reach.engine.portsets`) or a boolean array over
atoms, computed once.

Examples
--------
>>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy
>>> pods = tuple(Pod("ns", f"web-{i}", Labels({"app": "web"})) for i in range(3))
>>> u = build_universe(Cluster(pods=pods + (Pod("ns", "db", Labels({"app": "db"})),),
...     policies=(Policy("ns", "db", LabelSelector(Labels({"app": "db"}))),)), CompileOptions())
>>> u.class_pods
[[0, 1, 2], [3]]
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from reach.engine.addresses import IPV4_ALL, IPV6_ALL, AddressSet, address_key
from reach.engine.entities import EntitySets, calico_labels, entity_sets, labelled_sets
from reach.engine.ports import PortSet
from reach.engine.portsets import (
    BoolArray,
    IntArray,
    bool_to_bits,
    iter_bits,
    select_bits,
    transpose_bits,
)
from reach.engine.selectors import LabelIndex, matches
from reach.model import (
    CALICO_KINDS,
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    Entity,
    Labels,
    LabelSelector,
    Namespace,
    Node,
    Peer,
    Pod,
    Policy,
)
from reach.model.expressions import CalicoSelector

__all__ = [
    "AddressKey",
    "CompileOptions",
    "NamedKey",
    "Universe",
    "atoms_inside",
    "build_universe",
    "named_port_keys",
    "peer_address_key",
    "peer_addresses",
    "resolve_named",
    "unknown_ip_classes",
]

AddressKey = Hashable
"""What decides the addresses of an address peer: its ipBlock, or its node selector."""

NamedKey = tuple[str, str]
"""A named port as rules name it: ``(name, protocol)``; protocol ``""`` is any protocol."""


@dataclass(frozen=True, slots=True)
class CompileOptions:
    """How to compile.

    ``ipblock_pods``: an address peer (ipBlock, ``networks``, ``nodes``) also matches
    the pods whose IP it contains, as Calico and the upstream e2e suite do (and as
    the admin policy API specifies for ``networks``). Switch off to match the
    np-guard analyzer, where such peers only ever match traffic from or to outside
    the cluster.

    ``host_network_pods``: host-network pods are selected by policies and matched by
    pod and namespace selectors like any other pod (as the np-guard analyzer does).
    Off by default: their traffic is the node's, which network plugins do not police
    with these policies.
    """

    ipblock_pods: bool = True
    host_network_pods: bool = False

    def prepare(self, cluster: Cluster) -> Cluster:
        """The cluster as these options read it (host-network pods made ordinary or not)."""
        if not self.host_network_pods or not any(p.host_network for p in cluster.pods):
            return cluster
        pods = tuple(replace(p, host_network=False) if p.host_network else p
                     for p in cluster.pods)
        return replace(cluster, pods=pods)


@dataclass(slots=True)
class Universe:
    """Pods grouped into classes, with the bitsets (over classes) of every selector.

    ``policy_bits[i]``: the classes ``cluster.policies[i]`` selects.
    ``peer_bits[(peer, namespace)]``: the classes a peer of a policy of that
    namespace (``""`` for cluster-scoped) matches. ``class_named[c]``: how each of
    :attr:`named_ports` resolves on class ``c``. ``unknown_ip``: the classes whose pods
    the input gives no IP (when address peers match pod IPs at all).
    """

    cluster: Cluster
    options: CompileOptions
    pods: tuple[Pod, ...]
    namespaces: dict[str, Namespace]
    named_ports: tuple[NamedKey, ...]
    ext_atoms: tuple[tuple[int, int], ...]
    addresses: dict[AddressKey, AddressSet]
    pod_class: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    class_pods: list[list[int]] = field(default_factory=list)
    class_named: list[tuple[PortSet, ...]] = field(default_factory=list)
    pod_index: LabelIndex | None = None
    ns_index: LabelIndex | None = None
    ns_names: list[str] = field(default_factory=list)
    ns_position: dict[str, int] = field(default_factory=dict)
    ns_members: list[int] = field(default_factory=list)
    selectable: int = 0
    class_atoms: list[tuple[int, ...]] = field(default_factory=list)
    unknown_ip: int = 0
    atom_owner: npt.NDArray[np.intp] | None = None
    atom_index: npt.NDArray[np.intp] | None = None
    atom_cache: dict[AddressKey, BoolArray] = field(default_factory=dict)
    policy_bits: list[int] = field(default_factory=list)
    peer_bits: dict[tuple[Peer, str], int] = field(default_factory=dict)
    entities: dict[Entity, EntitySets] = field(default_factory=dict)
    calico_index: LabelIndex | None = None
    ns_cache: dict[int, int] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.class_pods)

    def peer_externals(self, peer: Peer) -> BoolArray:
        """Which external atoms an address peer holds (none for any other peer)."""
        return atoms_inside(self.ext_atoms, self.atom_cache, self.addresses, peer)


# ---------------------------------------------------------------------------
# addresses


def peer_address_key(peer: Peer) -> AddressKey | None:
    """The key of the address set of an address peer; None for other peers.

    A Calico entity's key names the outside addresses it matches.
    """
    if peer.entity is not None:
        return ("entity", peer.entity)
    if peer.ip_block is not None:
        return ("ipBlock", peer.ip_block.cidr, peer.ip_block.except_)
    if peer.node_selector is not None:
        return ("nodes", peer.node_selector)
    return None


def _block_set(cidr: str, excepts: Sequence[str]) -> AddressSet:
    block = AddressSet.cidr(cidr)
    for item in excepts:
        block = block - AddressSet.cidr(item)
    return block


def _node_set(peer: Peer, nodes: Sequence[Node]) -> AddressSet:
    assert peer.node_selector is not None
    out = AddressSet.none()
    for node in nodes:
        if matches(peer.node_selector, node.labels):
            for ip in node.addresses:
                try:
                    key = address_key(ip)
                except ValueError:
                    continue
                out = out | AddressSet.span(key, key)
    return out


def peer_addresses(peer: Peer, nodes: Sequence[Node]) -> AddressSet:
    """The addresses an address peer names (empty for any other peer)."""
    if peer.ip_block is not None:
        return _block_set(peer.ip_block.cidr, peer.ip_block.except_)
    if peer.node_selector is not None:
        return _node_set(peer, nodes)
    return AddressSet.none()


def unknown_ip_classes(
    addresses: dict[AddressKey, AddressSet], unknown_ip: int, peers: Sequence[Peer]
) -> int:
    """The classes of unknown IP that a rule's address peers match whatever their IP is.

    Every pod has an IPv4 address, so when the address peers of one rule hold the whole
    IPv4 space together (``0.0.0.0/0``), they hold the pod's address too, known or not.
    A narrower block may or may not hold it: reach does not guess (lint says so).
    """
    if not unknown_ip:
        return 0
    held = AddressSet.none()
    for peer in peers:
        key = peer_address_key(peer)
        if key is not None and peer.entity is None:
            held = held | addresses[key]
    return unknown_ip if held >= IPV4_ALL else 0


def atoms_inside(
    atoms: Sequence[tuple[int, int]],
    cache: dict[AddressKey, BoolArray],
    addresses: dict[AddressKey, AddressSet],
    peer: Peer | AddressKey,
) -> BoolArray:
    """Which external atoms an address peer (or the set of a key) holds; atoms are wholly
    in or out."""
    key = peer_address_key(peer) if isinstance(peer, Peer) else peer
    if key is None:
        return np.zeros(len(atoms), dtype=np.bool_)
    found = cache.get(key)
    if found is None:
        block = addresses[key]
        found = np.array([lo in block for lo, _hi in atoms], dtype=np.bool_)
        cache[key] = found
    return found


def _external_atoms(blocks: Sequence[AddressSet]) -> tuple[tuple[int, int], ...]:
    universe = IPV4_ALL
    if any(block & IPV6_ALL for block in blocks):
        universe = universe | IPV6_ALL
    cuts: set[int] = set()
    for block in blocks:
        cuts |= block.intervals.boundaries()
    atoms: list[tuple[int, int]] = []
    for lo, hi in universe.ranges():
        points = sorted(c for c in cuts if lo < c <= hi)
        start = lo
        for point in points:
            atoms.append((start, point - 1))
            start = point
        atoms.append((start, hi))
    return tuple(atoms)


# ---------------------------------------------------------------------------
# named ports


def named_port_keys(policies: Sequence[Policy]) -> tuple[NamedKey, ...]:
    """Every named port the rules of ``policies`` use, sorted."""
    keys = {
        (port.port, port.protocol)
        for p in policies
        for rule in p.ingress + p.egress
        for port in rule.ports + rule.not_ports
        if isinstance(port.port, str)
    }
    return tuple(sorted(keys))


def resolve_named(pod: Pod, keys: Sequence[NamedKey]) -> tuple[PortSet, ...]:
    """How each named port resolves on ``pod``: its container ports of that name (and protocol)."""
    out = []
    for name, protocol in keys:
        ports = PortSet.none()
        for cp in pod.ports:
            if cp.name == name and (not protocol or cp.protocol == protocol):
                ports = ports | PortSet.single(cp.protocol, cp.port)
        out.append(ports)
    return tuple(out)


# ---------------------------------------------------------------------------
# building the universe


def _all_peers(policies: Sequence[Policy]) -> list[Peer]:
    """Every peer of every rule, and the criteria rules put on their own end as peers."""
    out: list[Peer] = []
    for p in policies:
        for rule in p.ingress + p.egress:
            out.extend(rule.peers)
            if rule.local is not None:
                out.append(Peer(entity=rule.local))
    return out


def known_namespaces(cluster: Cluster) -> dict[str, Namespace]:
    """The namespaces of ``cluster`` by name, with an implicit one (only its name label)
    for each that a pod or a policy uses and no manifest defines."""
    namespaces = {ns.name: ns for ns in cluster.namespaces}
    used = {pod.namespace for pod in cluster.pods} | {p.namespace for p in cluster.policies}
    for name in sorted(used - {""}):
        if name not in namespaces:
            namespaces[name] = Namespace(name, Labels({NAMESPACE_NAME_LABEL: name}), implicit=True)
    return namespaces


def address_sets(cluster: Cluster, namespaces: dict[str, Namespace]
                 ) -> tuple[dict[AddressKey, AddressSet], dict[Entity, EntitySets]]:
    """The address set of every address peer of the policies, by its key
    (:func:`peer_address_key`), and the sets of every Calico entity, whose keys are
    registered too so that atoms are cut by them."""
    addresses: dict[AddressKey, AddressSet] = {}
    peers = _all_peers(cluster.policies)
    for peer in peers:
        key = peer_address_key(peer)
        if key is not None and key not in addresses and peer.entity is None:
            addresses[key] = peer_addresses(peer, cluster.nodes)
    entities: dict[Entity, EntitySets] = {}
    found = {peer.entity for peer in peers if peer.entity is not None}
    if not found:
        return addresses, entities
    labelled = labelled_sets(cluster.network_sets, namespaces)
    for entity in sorted(found, key=str):
        sets = entities[entity] = entity_sets(entity, labelled)
        addresses[("entity", entity)] = sets.outside
        for part in ("selected", "not_selected", "not_nets"):
            addresses[("entity", entity, part)] = getattr(sets, part)
        if entity.nets:
            addresses[("entity", entity, "nets")] = sets.nets
    return addresses, entities


def external_atoms(addresses: dict[AddressKey, AddressSet]) -> tuple[tuple[int, int], ...]:
    """The address ranges outside the cluster that no address peer tells apart."""
    return _external_atoms(list(addresses.values()))


def build_universe(cluster: Cluster, options: CompileOptions) -> Universe:
    """Group the pods of ``cluster`` into classes and compute every selector's bitset."""
    namespaces = known_namespaces(cluster)
    addresses, entities = address_sets(cluster, namespaces)
    universe = Universe(
        cluster=cluster,
        options=options,
        pods=cluster.pods,
        namespaces=namespaces,
        named_ports=named_port_keys(cluster.policies),
        ext_atoms=external_atoms(addresses),
        addresses=addresses,
        entities=entities,
    )
    _group_pods(universe)
    _refine(universe)
    return universe


def _ip_signature(pod: Pod, atoms: Sequence[tuple[int, int]], starts: list[int]) -> tuple[int, ...]:
    out = []
    for ip in pod.ips:
        try:
            key = address_key(ip)
        except ValueError:
            continue
        i = bisect.bisect_right(starts, key) - 1
        if i >= 0 and key <= atoms[i][1]:  # an IPv6 IP is in no atom when all are IPv4
            out.append(i)
    return tuple(sorted(set(out)))


def _group_pods(u: Universe) -> None:
    """Groups: pods with equal namespace, labels, host network, address atom and named ports."""
    starts = [lo for lo, _ in u.ext_atoms]
    use_ips = u.options.ipblock_pods and bool(u.addresses)
    calico = any(p.kind in CALICO_KINDS for p in u.cluster.policies)
    keys: dict[tuple[object, ...], int] = {}
    resolved: dict[tuple[ContainerPort, ...], tuple[tuple[PortSet, ...], int]] = {}
    named_ids: dict[tuple[PortSet, ...], int] = {}
    pod_class = np.zeros(len(u.pods), dtype=np.int32)
    for i, pod in enumerate(u.pods):
        found = resolved.get(pod.ports)
        if found is None:  # replicas of a workload share their container ports
            named = resolve_named(pod, u.named_ports)
            found = resolved[pod.ports] = (named, named_ids.setdefault(named, len(named_ids)))
        named, named_id = found
        ip_sig = _ip_signature(pod, u.ext_atoms, starts) if use_ips else ()
        unknown = use_ips and not pod.ips
        account = pod.service_account if calico else ""
        key = (pod.namespace, pod.labels, pod.host_network, ip_sig, named_id, unknown, account)
        ident = keys.get(key)
        if ident is None:
            ident = keys[key] = len(u.class_pods)
            u.class_pods.append([])
            u.class_named.append(named)
        u.class_pods[ident].append(i)
        pod_class[i] = ident
    u.pod_class = pod_class
    reps = [u.pods[members[0]] for members in u.class_pods]
    u.pod_index = LabelIndex([pod.labels for pod in reps])
    u.ns_names = sorted(u.namespaces)
    u.ns_index = LabelIndex([u.namespaces[name].labels for name in u.ns_names])
    if calico:
        accounts = {(a.namespace, a.name): a for a in u.cluster.service_accounts}
        u.calico_index = LabelIndex([
            calico_labels(pod, u.namespaces.get(pod.namespace),
                          accounts.get((pod.namespace, pod.service_account)))
            for pod in reps])
    position = u.ns_position = {name: i for i, name in enumerate(u.ns_names)}
    members = [0] * len(u.ns_names)
    selectable = 0
    for c, pod in enumerate(reps):
        if pod.host_network:
            continue  # host-network pods are not selected by pod or namespace selectors
        members[position[pod.namespace]] |= 1 << c
        selectable |= 1 << c
    u.ns_members = members
    u.selectable = selectable
    if use_ips:
        u.class_atoms = [_ip_signature(pod, u.ext_atoms, starts) for pod in reps]
        u.unknown_ip = bool_to_bits(np.array([not pod.ips for pod in reps], dtype=np.bool_))


def _refine(u: Universe) -> None:
    """Merge groups that no selector, address set or named port can tell apart.

    Every set the compiler will ever ask about (the pods each policy selects, the
    pods each peer matches) is computed once over the groups; groups with the same
    membership everywhere and the same named-port resolution become one class, and
    the sets are projected onto the classes.
    """
    groups = len(u.class_pods)
    policy_bits = [_policy_selects(u, p) for p in u.cluster.policies]
    peer_bits: dict[tuple[Peer, str], int] = {}
    for policy in u.cluster.policies:
        for rule in policy.ingress + policy.egress:
            peers = rule.peers if rule.local is None else (*rule.peers, Peer(entity=rule.local))
            for peer in peers:
                key = (peer, policy.namespace)
                if key not in peer_bits:
                    peer_bits[key] = _peer_classes(u, peer, policy.namespace)
    # pods of unknown IP stay apart: 0.0.0.0/0 holds them, and caveats name them
    distinct = sorted(set(policy_bits) | set(peer_bits.values()) | {u.unknown_ip} - {0})
    named_ids: dict[tuple[PortSet, ...], int] = {}
    named_col = np.array(
        [named_ids.setdefault(named, len(named_ids)) for named in u.class_named], dtype=np.int64
    )
    if distinct:
        # group by group, which sets hold it, one bit per set
        rows = np.concatenate([transpose_bits(distinct, groups),
                               named_col.view(np.uint8).reshape(groups, 8)], axis=1)
    else:
        rows = named_col.view(np.uint8).reshape(groups, 8)
    keys = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    # keep classes in the order of their first pod, so results stay deterministic
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    group_class = rank[inverse]
    reps = first[order]
    classes: list[list[int]] = [[] for _ in reps]
    for group, members in enumerate(u.class_pods):
        classes[int(group_class[group])].extend(members)
    for members in classes:
        members.sort()
    u.class_pods = classes
    u.class_named = [u.class_named[int(g)] for g in reps]
    u.pod_class = group_class[u.pod_class].astype(np.int32)
    u.policy_bits = select_bits(policy_bits, groups, reps)
    u.peer_bits = dict(zip(peer_bits, select_bits(list(peer_bits.values()), groups, reps),
                           strict=True))
    if u.class_atoms:
        u.class_atoms = [u.class_atoms[int(g)] for g in reps]
        u.atom_owner = u.atom_index = None
    u.selectable, u.unknown_ip = select_bits([u.selectable, u.unknown_ip], groups, reps)
    u.ns_members = select_bits(u.ns_members, groups, reps)
    u.ns_cache = {}  # the namespaces' members are classes from here on


# ---------------------------------------------------------------------------
# selectors over groups


def _namespaces_bits(u: Universe, ns_bits: int) -> int:
    """The groups of the namespaces ``ns_bits`` holds (each distinct set once)."""
    found = u.ns_cache.get(ns_bits)
    if found is None:
        found = 0
        for i in iter_bits(ns_bits):
            found |= u.ns_members[i]
        u.ns_cache[ns_bits] = found
    return found


def _select(u: Universe, selector: LabelSelector | CalicoSelector) -> int:
    """The groups a subject or peer selector selects by labels (Calico's labels for its own)."""
    if isinstance(selector, CalicoSelector):
        assert u.calico_index is not None
        return u.calico_index.select_expression(selector)
    assert u.pod_index is not None
    return u.pod_index.select(selector)


def _policy_selects(u: Universe, policy: Policy) -> int:
    """The groups a policy's subject selects (never host-network pods)."""
    assert u.pod_index is not None and u.ns_index is not None
    if policy.namespace:
        scope = u.ns_members[u.ns_position[policy.namespace]]
    elif policy.namespace_selector is not None:
        scope = _namespaces_bits(u, u.ns_index.select(policy.namespace_selector))
    else:
        scope = u.selectable
    return _select(u, policy.pod_selector) & scope


def _groups_in(u: Universe, key: AddressKey) -> int:
    """The groups whose pods have an IP in the address set ``key`` names."""
    if not u.options.ipblock_pods or not u.class_atoms:
        return 0
    if u.atom_owner is None:  # (group, atom) pairs, flattened once
        pairs = [(g, a) for g, atoms in enumerate(u.class_atoms) for a in atoms]
        u.atom_owner = np.array([g for g, _ in pairs] or [0], dtype=np.intp)[: len(pairs)]
        u.atom_index = np.array([a for _, a in pairs] or [0], dtype=np.intp)[: len(pairs)]
    assert u.atom_index is not None
    inside = atoms_inside(u.ext_atoms, u.atom_cache, u.addresses, key)
    hit = np.zeros(len(u.class_atoms), dtype=np.bool_)
    hit[u.atom_owner[inside[u.atom_index]]] = True
    return bool_to_bits(hit)


def _entity_groups(u: Universe, entity: Entity) -> int:
    """The groups a Calico entity matches: by labels and by IP (see EntitySets)."""
    everyone = (1 << len(u.class_pods)) - 1
    if entity.selector is None:
        matched = everyone
    else:
        matched = (_select(u, entity.selector) & u.selectable) | _groups_in(
            u, ("entity", entity, "selected"))
    if entity.nets:
        matched &= _groups_in(u, ("entity", entity, "nets"))
    matched &= ~_groups_in(u, ("entity", entity, "not_nets"))
    matched &= ~_groups_in(u, ("entity", entity, "not_selected"))
    if entity.not_selector is not None:
        matched &= ~(_select(u, entity.not_selector) & u.selectable)
    return matched & everyone


def _peer_classes(u: Universe, peer: Peer, namespace: str) -> int:
    """The groups a peer matches (as a bitset)."""
    assert u.pod_index is not None and u.ns_index is not None
    if peer.entity is not None:
        return _entity_groups(u, peer.entity)
    key = peer_address_key(peer)
    if key is not None:
        return _groups_in(u, key)
    if not peer.selects_pods:
        return 0  # domain names, fields reach does not know: no pod
    if peer.namespace_selector is None:
        scope = u.ns_members[u.ns_position[namespace]]
    else:
        scope = _namespaces_bits(u, u.ns_index.select(peer.namespace_selector))
    if peer.pod_selector is not None:
        scope &= u.pod_index.select(peer.pod_selector)
    return scope & u.selectable
