"""Compile NetworkPolicies into the allowed connections between every pair of endpoints.

The compiler never walks pod pairs. It works on *equivalence classes*: pods that no
policy can tell apart (same answers to every selector, same ipBlock atom, same
resolution of every named port) share one class. The outside world is cut into
*external atoms*: disjoint address ranges, each inside or outside every ipBlock.

A connection ``src -> dst`` on ``(protocol, port)`` is allowed iff the egress side of
``src`` and the ingress side of ``dst`` both allow it. A side that no policy isolates
allows everything; an isolated side allows the union of the rules of the policies
that select it. Each side is computed once per distinct *profile* (the rules that
apply to a class), as a row of interned port-set ids over all columns; the final
class-by-class matrix is the element-wise meet of the two sides, each distinct pair
of ids met once.

Examples
--------
>>> from reach.model import Cluster, Pod, Labels, Policy, LabelSelector
>>> pods = (Pod("ns", "a", Labels({"app": "a"})), Pod("ns", "b", Labels({"app": "b"})))
>>> deny = Policy("ns", "deny-b", LabelSelector(Labels({"app": "b"})))
>>> compiled = compile_cluster(Cluster(pods=pods, policies=(deny,)))
>>> str(compiled.pod_ports(0, 1)), str(compiled.pod_ports(1, 0))
('No Connections', 'All Connections')
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from reach.engine.addresses import IPV4_ALL, IPV6_ALL, AddressSet, address_key
from reach.engine.intervals import IntervalSet
from reach.engine.ports import PortSet
from reach.engine.selectors import LabelIndex
from reach.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Direction,
    Labels,
    Namespace,
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Rule,
)

__all__ = ["CompileOptions", "Compiled", "PortSetTable", "compile_cluster"]

Progress = Callable[[str, int, int], None]
IntArray = npt.NDArray[np.int32]
AnyIntArray = TypeVar("AnyIntArray", npt.NDArray[np.int32], npt.NDArray[np.int64])
BoolArray = npt.NDArray[np.bool_]

NO_PORTS = 0
ALL_PORTS = 1


@dataclass(frozen=True, slots=True)
class CompileOptions:
    """How to compile.

    ``ipblock_pods``: an ipBlock also matches the pods whose IP it contains (as Calico
    and the upstream e2e suite do). Switch off to match the np-guard analyzer, where
    ipBlocks only ever match traffic from or to outside the cluster.

    ``host_network_pods``: host-network pods are selected by policies and matched by
    pod and namespace selectors like any other pod (as the np-guard analyzer does).
    Off by default: their traffic is the node's, which most network plugins do not
    police with NetworkPolicy.
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


class PortSetTable:
    """Interns port sets as small integers so matrices can hold them.

    Id 0 is the empty set, id 1 every port. Unions and meets are memoised by id.

    >>> table = PortSetTable()
    >>> web = table.intern(PortSet.single("TCP", 80))
    >>> table.meet(web, ALL_PORTS) == web, table.join(web, NO_PORTS) == web
    (True, True)
    """

    def __init__(self) -> None:
        self.sets: list[PortSet] = [PortSet.none(), PortSet.all()]
        self._ids: dict[PortSet, int] = {PortSet.none(): NO_PORTS, PortSet.all(): ALL_PORTS}
        self._meets: dict[tuple[int, int], int] = {}
        self._joins: dict[tuple[int, ...], int] = {}

    def intern(self, ports: PortSet) -> int:
        found = self._ids.get(ports)
        if found is None:
            found = len(self.sets)
            self.sets.append(ports)
            self._ids[ports] = found
        return found

    def __getitem__(self, ident: int) -> PortSet:
        return self.sets[ident]

    def __len__(self) -> int:
        return len(self.sets)

    def meet(self, a: int, b: int) -> int:
        if a == b or b == ALL_PORTS:
            return a
        if a == ALL_PORTS:
            return b
        if NO_PORTS in (a, b):
            return NO_PORTS
        key = (a, b) if a < b else (b, a)
        found = self._meets.get(key)
        if found is None:
            found = self._meets[key] = self.intern(self.sets[a] & self.sets[b])
        return found

    def join(self, *ids: int) -> int:
        key = tuple(sorted(set(ids) - {NO_PORTS}))
        if not key:
            return NO_PORTS
        if len(key) == 1:
            return key[0]
        if ALL_PORTS in key:
            return ALL_PORTS
        found = self._joins.get(key)
        if found is None:
            union = PortSet.none()
            for ident in key:
                union = union | self.sets[ident]
            found = self._joins[key] = self.intern(union)
        return found

    def meet_arrays(self, a: AnyIntArray, b: AnyIntArray) -> AnyIntArray:
        """Element-wise :meth:`meet` of two arrays of ids (each distinct pair met once)."""
        return _elementwise(a, b, self.meet)

    def join_arrays(self, a: AnyIntArray, b: AnyIntArray) -> AnyIntArray:
        """Element-wise :meth:`join` of two arrays of ids (each distinct pair joined once)."""
        return _elementwise(a, b, self.join)

    def join_many(self, ids: IntArray, groups: npt.ArrayLike, axis: int) -> IntArray:
        """Join the ids of ``ids`` over consecutive runs along ``axis`` (like ``reduceat``).

        ``groups`` holds the start of each run. Port sets become bitmasks over the
        atoms of the port space (maximal ranges no set splits), so a join is a
        vectorised OR; each distinct result mask is interned once.
        """
        atoms = sorted(set().union(*(s.intervals.boundaries() for s in self.sets)))
        words = max(1, (len(atoms) + 63) // 64)
        masks = np.zeros((len(self.sets), words), dtype=np.uint64)
        for ident, ports in enumerate(self.sets):
            for lo, hi in ports.intervals:
                first, last = bisect.bisect_left(atoms, lo), bisect.bisect_left(atoms, hi + 1)
                for atom in range(first, last):
                    masks[ident, atom // 64] |= np.uint64(1 << (atom % 64))
        joined = np.bitwise_or.reduceat(masks[ids], np.asarray(groups, dtype=np.intp), axis=axis)
        flat = np.ascontiguousarray(joined).reshape(-1, words)
        keys = flat.view(np.dtype((np.void, 8 * words))).ravel()
        unique, inverse = np.unique(keys, return_inverse=True)
        known = {masks[i].tobytes(): i for i in range(len(self.sets))}
        out = np.zeros(len(unique), dtype=np.int32)
        for u_i, raw in enumerate(unique):
            found = known.get(raw.tobytes())
            if found is None:
                row = np.frombuffer(raw.tobytes(), dtype=np.uint64)
                chosen = [a for a in range(len(atoms) - 1) if int(row[a // 64]) >> (a % 64) & 1]
                found = self.intern(PortSet(IntervalSet.of(
                    *((atoms[a], atoms[a + 1] - 1) for a in chosen))))
            out[u_i] = found
        return out[inverse.reshape(-1)].reshape(joined.shape[:2])


def _elementwise(a: AnyIntArray, b: AnyIntArray, op: Callable[[int, int], int]) -> AnyIntArray:
    """``op`` applied to every pair ``(a[i], b[i])``, once per distinct pair; dtype of ``a``."""
    if a.size == 0:
        return a.copy()
    width = np.int64(max(int(a.max()), int(b.max())) + 1)
    key = a.astype(np.int64) * width + b.astype(np.int64)
    unique, inverse = np.unique(key, return_inverse=True)
    values = np.fromiter((op(int(k // width), int(k % width)) for k in unique),
                         dtype=a.dtype, count=len(unique))
    out: AnyIntArray = values[inverse.reshape(a.shape)]
    return out


@dataclass(slots=True)
class Compiled:
    """The compiled reachability of a cluster, at the granularity of classes.

    Columns (and rows) ``0 .. n_classes-1`` are pod classes; ``n_classes ..`` are
    external atoms (``externals[i]`` is an address range as two address keys).
    ``allow[src, dst]`` is the id (in ``ports``) of the allowed port set.
    """

    cluster: Cluster
    options: CompileOptions
    pods: tuple[Pod, ...]
    pod_class: IntArray
    class_pods: list[list[int]]
    externals: tuple[tuple[int, int], ...]
    ports: PortSetTable
    allow: IntArray
    ingress_isolated: BoolArray
    egress_isolated: BoolArray
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    policy_bits: list[int] = field(default_factory=list)
    peer_bits: dict[tuple[Peer, str], int] = field(default_factory=dict)
    block_atoms: dict[IPBlockKey, BoolArray] = field(default_factory=dict)

    def policy_classes(self, index: int) -> int:
        """The classes (bitset) that ``cluster.policies[index]`` selects."""
        return self.policy_bits[index]

    def peer_classes(self, peer: Peer, namespace: str) -> int:
        """The classes (bitset) a peer of a policy in ``namespace`` matches."""
        return self.peer_bits[(peer, namespace)]

    def peer_externals(self, peer: Peer) -> BoolArray:
        """Which external atoms an ipBlock peer holds (none for a selector peer)."""
        return _atoms_inside(self.externals, self.block_atoms, peer)

    @property
    def n_classes(self) -> int:
        return len(self.class_pods)

    def pod_ports(self, src: int, dst: int) -> PortSet:
        """Allowed ports from pod index ``src`` to pod index ``dst`` (a pod reaches itself)."""
        if src == dst:
            return PortSet.all()
        return self.ports[int(self.allow[self.pod_class[src], self.pod_class[dst]])]

    def column_ports(self, src_column: int, dst_column: int) -> PortSet:
        """Allowed ports between two columns (classes or external atoms)."""
        return self.ports[int(self.allow[src_column, dst_column])]

    def external_column(self, key: int) -> int:
        """The column of the external atom holding address key ``key``."""
        starts = [lo for lo, _ in self.externals]
        i = bisect.bisect_right(starts, key) - 1
        if i < 0 or key > self.externals[i][1]:
            raise KeyError(key)
        return self.n_classes + i


# ---------------------------------------------------------------------------
# classes


@dataclass(slots=True)
class _Universe:
    """Pods grouped into classes, with the bitsets (over classes) of every selector."""

    cluster: Cluster
    options: CompileOptions
    pods: tuple[Pod, ...]
    namespaces: dict[str, Namespace]
    named_ports: tuple[tuple[str, str], ...]
    ext_atoms: tuple[tuple[int, int], ...]
    ip_blocks: dict[IPBlockKey, AddressSet]
    pod_class: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    class_pods: list[list[int]] = field(default_factory=list)
    class_named: list[tuple[int | None, ...]] = field(default_factory=list)
    pod_index: LabelIndex | None = None
    ns_index: LabelIndex | None = None
    ns_names: list[str] = field(default_factory=list)
    ns_members: list[int] = field(default_factory=list)
    selectable: int = 0
    class_atoms: list[tuple[int, ...]] = field(default_factory=list)
    atom_owner: npt.NDArray[np.intp] | None = None
    atom_index: npt.NDArray[np.intp] | None = None
    block_atoms: dict[IPBlockKey, BoolArray] = field(default_factory=dict)
    policy_bits: list[int] = field(default_factory=list)
    peer_bits: dict[tuple[Peer, str], int] = field(default_factory=dict)


IPBlockKey = tuple[str, tuple[str, ...]]


def _ip_block_set(cidr: str, excepts: Sequence[str]) -> AddressSet:
    block = AddressSet.cidr(cidr)
    for item in excepts:
        block = block - AddressSet.cidr(item)
    return block


def _all_peers(policies: Sequence[Policy]) -> list[Peer]:
    return [peer for p in policies for rule in p.ingress + p.egress for peer in rule.peers]


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


def _named_port_keys(policies: Sequence[Policy]) -> tuple[tuple[str, str], ...]:
    keys = {
        (port.port, port.protocol)
        for p in policies
        for rule in p.ingress + p.egress
        for port in rule.ports
        if isinstance(port.port, str)
    }
    return tuple(sorted(keys))


def _resolve_named(pod: Pod, keys: Sequence[tuple[str, str]]) -> tuple[int | None, ...]:
    table = {(cp.name, cp.protocol): cp.port for cp in pod.ports if cp.name}
    return tuple(table.get(key) for key in keys)


def _build_universe(cluster: Cluster, options: CompileOptions, progress: Progress) -> _Universe:
    policies = cluster.policies
    namespaces = {ns.name: ns for ns in cluster.namespaces}
    for name in sorted({pod.namespace for pod in cluster.pods} | {p.namespace for p in policies}):
        if name not in namespaces:
            namespaces[name] = Namespace(name, Labels({NAMESPACE_NAME_LABEL: name}), implicit=True)
    ip_blocks: dict[IPBlockKey, AddressSet] = {}
    for peer in _all_peers(policies):
        if peer.ip_block is not None:
            key = (peer.ip_block.cidr, peer.ip_block.except_)
            if key not in ip_blocks:
                ip_blocks[key] = _ip_block_set(*key)
    universe = _Universe(
        cluster=cluster,
        options=options,
        pods=cluster.pods,
        namespaces=namespaces,
        named_ports=_named_port_keys(policies),
        ext_atoms=_external_atoms(list(ip_blocks.values())),
        ip_blocks=ip_blocks,
    )
    _group_pods(universe)
    _refine(universe)
    progress("classes", 1, 1)
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


def _group_pods(u: _Universe) -> None:
    """Classes: pods with equal namespace, labels, host network, ipBlock atom and named ports."""
    starts = [lo for lo, _ in u.ext_atoms]
    use_ips = u.options.ipblock_pods and bool(u.ip_blocks)
    keys: dict[tuple[object, ...], int] = {}
    pod_class = np.zeros(len(u.pods), dtype=np.int32)
    for i, pod in enumerate(u.pods):
        named = _resolve_named(pod, u.named_ports)
        ip_sig = _ip_signature(pod, u.ext_atoms, starts) if use_ips else ()
        key = (pod.namespace, pod.labels, pod.host_network, ip_sig, named)
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
    position = {name: i for i, name in enumerate(u.ns_names)}
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


def _refine(u: _Universe) -> None:
    """Merge label groups that no selector, ipBlock or named port can tell apart.

    Every set the compiler will ever ask about (the pods each policy selects, the
    pods each peer matches) is computed once over the label groups; groups with the
    same membership everywhere and the same named-port resolution become one class,
    and the sets are projected onto the classes.
    """
    groups = len(u.class_pods)
    policy_bits = [_policy_selects(u, p) for p in u.cluster.policies]
    peer_bits: dict[tuple[Peer, str], int] = {}
    for policy in u.cluster.policies:
        for rule in policy.ingress + policy.egress:
            for peer in rule.peers:
                key = (peer, policy.namespace)
                if key not in peer_bits:
                    peer_bits[key] = _peer_classes(u, peer, policy.namespace)
    distinct = sorted(set(policy_bits) | set(peer_bits.values()))
    named_ids: dict[tuple[int | None, ...], int] = {}
    named_col = np.array(
        [named_ids.setdefault(named, len(named_ids)) for named in u.class_named], dtype=np.int64
    )
    if distinct:
        matrix = np.stack([bits_to_bool(bits, groups) for bits in distinct], axis=1)
        packed = np.packbits(matrix, axis=1, bitorder="little")
        rows = np.concatenate([packed, named_col.view(np.uint8).reshape(groups, 8)], axis=1)
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
    u.policy_bits = [_project(bits, reps, groups) for bits in policy_bits]
    u.peer_bits = {key: _project(bits, reps, groups) for key, bits in peer_bits.items()}


def _project(bits: int, reps: npt.NDArray[np.intp], groups: int) -> int:
    """A bitset over groups as a bitset over classes (bit of each class's first group)."""
    if not bits:
        return 0
    return _bool_to_bits(bits_to_bool(bits, groups)[reps])


# ---------------------------------------------------------------------------
# selectors over label groups


def _namespaces_bits(u: _Universe, ns_bits: int) -> int:
    out = 0
    i = 0
    while ns_bits:
        if ns_bits & 1:
            out |= u.ns_members[i]
        ns_bits >>= 1
        i += 1
    return out


def _policy_selects(u: _Universe, policy: Policy) -> int:
    assert u.pod_index is not None
    ns_position = u.ns_names.index(policy.namespace)
    return u.pod_index.select(policy.pod_selector) & u.ns_members[ns_position]


def _peer_classes(u: _Universe, peer: Peer, namespace: str) -> int:
    """The classes a peer matches (as a bitset)."""
    assert u.pod_index is not None and u.ns_index is not None
    if peer.ip_block is not None:
        if not u.options.ipblock_pods:
            return 0
        if not u.class_atoms:
            return 0
        if u.atom_owner is None:  # (group, atom) pairs, flattened once
            pairs = [(g, a) for g, atoms in enumerate(u.class_atoms) for a in atoms]
            u.atom_owner = np.array([g for g, _ in pairs] or [0], dtype=np.intp)[: len(pairs)]
            u.atom_index = np.array([a for _, a in pairs] or [0], dtype=np.intp)[: len(pairs)]
        assert u.atom_index is not None
        hit = np.zeros(len(u.class_atoms), dtype=np.bool_)
        hit[u.atom_owner[_peer_externals(u, peer)[u.atom_index]]] = True
        return _bool_to_bits(hit)
    if peer.namespace_selector is None:
        scope = u.ns_members[u.ns_names.index(namespace)]
    else:
        scope = _namespaces_bits(u, u.ns_index.select(peer.namespace_selector))
    if peer.pod_selector is not None:
        scope &= u.pod_index.select(peer.pod_selector)
    return scope & u.selectable


def _peer_externals(u: _Universe, peer: Peer) -> BoolArray:
    return _atoms_inside(u.ext_atoms, u.block_atoms, peer)


def _atoms_inside(
    atoms: Sequence[tuple[int, int]], cache: dict[IPBlockKey, BoolArray], peer: Peer
) -> BoolArray:
    """Which external atoms an ipBlock peer holds (atoms are wholly in or out)."""
    if peer.ip_block is None:
        return np.zeros(len(atoms), dtype=np.bool_)
    key = (peer.ip_block.cidr, peer.ip_block.except_)
    found = cache.get(key)
    if found is None:
        block = _ip_block_set(*key)
        found = np.array([lo in block for lo, _hi in atoms], dtype=np.bool_)
        cache[key] = found
    return found


def iter_bits(bits: int) -> list[int]:
    """The positions of the set bits of ``bits``, lowest first.

    >>> iter_bits(0b10110)
    [1, 2, 4]
    """
    out = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def _bool_to_bits(flags: BoolArray) -> int:
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def bits_to_bool(bits: int, size: int) -> BoolArray:
    """A bitset as a boolean array of ``size`` entries (bit ``i`` is entry ``i``).

    >>> bits_to_bool(0b101, 4).tolist()
    [True, False, True, False]
    """
    if size == 0:
        return np.zeros(0, dtype=np.bool_)
    raw = bits.to_bytes((size + 7) // 8, "little")
    unpacked = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
    return unpacked[:size].astype(np.bool_)


# ---------------------------------------------------------------------------
# ports


def _port_set(port: PolicyPort, resolved: int | None) -> PortSet:
    if port.port is None:
        return PortSet.protocol(port.protocol)
    if isinstance(port.port, str):
        return PortSet.single(port.protocol, resolved) if resolved is not None else PortSet.none()
    last = port.end_port if port.end_port is not None else port.port
    return PortSet.range(port.protocol, port.port, last)


def _rule_ports(u: _Universe, rule: Rule, named: tuple[int | None, ...] | None) -> PortSet:
    """A rule's ports against a destination whose named ports resolve as ``named``.

    ``named`` None is an external destination: named ports match nothing there.
    """
    if not rule.ports:
        return PortSet.all()
    out = PortSet.none()
    for port in rule.ports:
        resolved = None
        if isinstance(port.port, str) and named is not None:
            resolved = named[u.named_ports.index((port.port, port.protocol))]
        out = out | _port_set(port, resolved)
    return out


def _rule_is_named(rule: Rule) -> bool:
    return any(isinstance(port.port, str) for port in rule.ports)


# ---------------------------------------------------------------------------
# the two sides


@dataclass(slots=True)
class _RulePeers:
    classes: int
    externals: BoolArray
    everyone: bool


def _rule_peers(u: _Universe, rule: Rule, namespace: str) -> _RulePeers:
    if not rule.peers:
        return _RulePeers(
            (1 << len(u.class_pods)) - 1, np.ones(len(u.ext_atoms), dtype=np.bool_), True
        )
    classes = 0
    externals = np.zeros(len(u.ext_atoms), dtype=np.bool_)
    for peer in rule.peers:
        classes |= u.peer_bits[(peer, namespace)]
        if peer.ip_block is not None:
            externals |= _peer_externals(u, peer)
    return _RulePeers(classes, externals, False)


def _side_rows(
    u: _Universe,
    direction: Direction,
    table: PortSetTable,
    progress: Progress,
) -> tuple[IntArray, BoolArray]:
    """Per class, the port-set ids its ``direction`` side allows with every column.

    For ingress, row ``d`` says what each source column may send to class ``d``;
    for egress, row ``s`` says what class ``s`` may send to each destination column.
    """
    n, n_ext = len(u.class_pods), len(u.ext_atoms)
    cols = n + n_ext
    chosen_policies = [
        (p, u.policy_bits[i]) for i, p in enumerate(u.cluster.policies) if p.applies(direction)
    ]
    policies = [p for p, _ in chosen_policies]
    selected = [bits for _, bits in chosen_policies]
    isolated = np.zeros(n, dtype=np.bool_)
    for bits in selected:
        isolated |= bits_to_bool(bits, n)

    peers_cache: dict[tuple[int, int], _RulePeers] = {}

    def peers_of(pi: int, ri: int) -> _RulePeers:
        key = (pi, ri)
        found = peers_cache.get(key)
        if found is None:
            policy = policies[pi]
            found = peers_cache[key] = _rule_peers(u, policy.rules(direction)[ri], policy.namespace)
        return found

    # Egress rules with named ports give different ports to different destination
    # classes; group the destination classes by their named-port resolution once.
    named_groups: dict[tuple[int | None, ...], BoolArray] = {}
    if direction == "egress":
        for c, named in enumerate(u.class_named):
            named_groups.setdefault(named, np.zeros(n, dtype=np.bool_))[c] = True

    selecting: dict[int, list[int]] = {}
    for pi, bits in enumerate(selected):
        for c in iter_bits(bits):
            selecting.setdefault(c, []).append(pi)

    rows = np.full((n, cols), ALL_PORTS, dtype=np.int32)
    profiles: dict[tuple[tuple[int, int, int], ...], list[int]] = {}
    for c, chosen in selecting.items():
        key: list[tuple[int, int, int]] = []
        for pi in chosen:
            for ri, rule in enumerate(policies[pi].rules(direction)):
                port_id = -1
                if direction == "ingress":
                    port_id = table.intern(_rule_ports(u, rule, u.class_named[c]))
                key.append((pi, ri, port_id))
        profiles.setdefault(tuple(key), []).append(c)

    done = 0
    for profile, members in profiles.items():
        contributions: list[tuple[BoolArray, int]] = []
        for pi, ri, port_id in profile:
            rule = policies[pi].rules(direction)[ri]
            peers = peers_of(pi, ri)
            class_mask = bits_to_bool(peers.classes, n)
            if port_id >= 0:  # ingress: one port set for the whole row
                contributions.append((np.concatenate([class_mask, peers.externals]), port_id))
            elif not _rule_is_named(rule):
                ident = table.intern(_rule_ports(u, rule, ()))
                contributions.append((np.concatenate([class_mask, peers.externals]), ident))
            else:
                for named, group in named_groups.items():
                    ident = table.intern(_rule_ports(u, rule, named))
                    mask = np.concatenate([class_mask & group, np.zeros(n_ext, dtype=np.bool_)])
                    contributions.append((mask, ident))
                ident = table.intern(_rule_ports(u, rule, None))
                ext_mask = np.concatenate([np.zeros(n, dtype=np.bool_), peers.externals])
                contributions.append((ext_mask, ident))
        row = _union_row(contributions, cols, table)
        rows[members] = row
        done += len(members)
        progress(direction, done, int(isolated.sum()))
    return rows, isolated


def _union_row(
    contributions: list[tuple[BoolArray, int]], cols: int, table: PortSetTable
) -> IntArray:
    """For every column, the union of the port sets of the contributions covering it."""
    merged: dict[int, BoolArray] = {}
    for mask, ident in contributions:
        if ident == NO_PORTS:
            continue
        if ident in merged:
            merged[ident] = merged[ident] | mask
        else:
            merged[ident] = mask.copy()
    row = np.zeros(cols, dtype=np.int32)
    if not merged:
        return row
    idents = list(merged)
    if len(idents) == 1:
        row[merged[idents[0]]] = idents[0]
        return row
    matrix = np.stack([merged[i] for i in idents])  # k x cols
    if len(idents) <= 62:  # one int64 key per column: which contributions cover it
        weights = np.left_shift(np.int64(1), np.arange(len(idents), dtype=np.int64))
        int_keys = weights @ matrix.astype(np.int64)
        unique_ints, inverse = np.unique(int_keys, return_inverse=True)
        values = np.array(
            [table.join(*(idents[k] for k in range(len(idents)) if int(key) >> k & 1))
             for key in unique_ints],
            dtype=np.int32,
        )
        return values[inverse.reshape(-1)]
    packed = np.packbits(matrix, axis=0, bitorder="little")  # ceil(k/8) x cols
    keys = np.ascontiguousarray(packed.T).view(np.dtype((np.void, packed.shape[0]))).ravel()
    unique, inverse = np.unique(keys, return_inverse=True)
    values = np.zeros(len(unique), dtype=np.int32)
    for u_i, raw in enumerate(unique):
        bits = np.unpackbits(np.frombuffer(raw.tobytes(), dtype=np.uint8), bitorder="little")
        chosen = [idents[k] for k in range(len(idents)) if bits[k]]
        values[u_i] = table.join(*chosen)
    return values[inverse.reshape(-1)]


# ---------------------------------------------------------------------------
# the whole


def _noop(stage: str, done: int, total: int) -> None:
    return None


def compile_cluster(
    cluster: Cluster,
    options: CompileOptions | None = None,
    progress: Progress | None = None,
) -> Compiled:
    """Compile ``cluster`` into class-level reachability.

    ``progress(stage, done, total)`` is called now and then on long compiles.
    """
    options = options or CompileOptions()
    cluster = options.prepare(cluster)
    report = progress or _noop
    u = _build_universe(cluster, options, report)
    n = len(u.class_pods)
    table = PortSetTable()
    ingress, ingress_isolated = _side_rows(u, "ingress", table, report)
    egress, egress_isolated = _side_rows(u, "egress", table, report)

    cols = n + len(u.ext_atoms)
    allow = np.zeros((cols, cols), dtype=np.int32)
    # class -> class: egress of the source met with ingress of the destination
    if n:
        allow[:n, :n] = table.meet_arrays(egress[:, :n], np.ascontiguousarray(ingress[:, :n].T))
        # class -> outside: only the source's egress decides
        allow[:n, n:] = egress[:, n:]
        # outside -> class: only the destination's ingress decides
        allow[n:, :n] = ingress[:, n:].T
    report("matrix", 1, 1)
    return Compiled(
        cluster=cluster,
        options=options,
        pods=u.pods,
        pod_class=u.pod_class,
        class_pods=u.class_pods,
        externals=u.ext_atoms,
        ports=table,
        allow=allow,
        ingress_isolated=ingress_isolated,
        egress_isolated=egress_isolated,
        namespaces=u.namespaces,
        policy_bits=u.policy_bits,
        peer_bits=u.peer_bits,
        block_atoms=u.block_atoms,
    )
