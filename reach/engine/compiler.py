"""Compile policies into the allowed connections between every pair of classes and atoms.

The compiler reads only the dialect-neutral form (:mod:`reach.model.policy`) and
never walks pod pairs: it works on the classes and external atoms of
:mod:`reach.engine.classes`.

A connection ``src -> dst`` on ``(protocol, port)`` is allowed iff the egress side of
``src`` and the ingress side of ``dst`` both allow it. Each side is computed once per
distinct *profile* (the policies and rules that select a class, in evaluation
order), as a row of interned port-set ids over all columns, by walking the tiers
(see :mod:`reach.model.policy`) over port sets: at every column, each rule takes its
part of the still *undecided* ports and allows, denies or passes it. Columns that
every rule of the profile treats alike are walked once. A profile made of
NetworkPolicies only (one tier whose rules all allow) is a plain union of its rules.
The final class-by-class matrix is the element-wise meet of the two sides, each
distinct pair of ids met once.

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
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from reach.engine.addresses import IPV4_ALL, POD_ADDRESSES, AddressSet
from reach.engine.classes import (
    AddressKey,
    CompileOptions,
    NamedKey,
    Universe,
    atoms_inside,
    build_universe,
    peer_address_key,
    unknown_ip_classes,
)
from reach.engine.matrix import AllowMatrix, AllowSide
from reach.engine.ports import ICMP_PROTOCOLS, PortSet
from reach.engine.portsets import (
    ALL_PORTS,
    NO_PORTS,
    BoolArray,
    IntArray,
    PortSetTable,
    bits_to_bool,
    iter_bits,
)
from reach.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Diagnostic,
    Direction,
    LabelSelector,
    Namespace,
    Peer,
    Pod,
    PolicyPort,
    Rule,
)

__all__ = [
    "ColumnWalk",
    "CompileOptions",
    "Compiled",
    "Plan",
    "compile_cluster",
    "rule_ports",
    "walk_column",
]

Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class Compiled:
    """The compiled reachability of a cluster, at the granularity of classes.

    Columns (and rows) ``0 .. n_classes-1`` are pod classes; ``n_classes ..`` are
    external atoms (``externals[i]`` is an address range as two address keys).
    ``allow[src, dst]`` is the id (in ``ports``) of the allowed port set.
    ``diagnostics``: what the compile had to assume (caveats).
    ``ingress_isolated``/``egress_isolated``: the classes that a policy of a tier
    ending in deny (NetworkPolicy) selects for that direction. ``ingress_open``/
    ``egress_open``: the classes whose side allows everything with every column (no
    policy of any tier restricts that direction).
    """

    cluster: Cluster
    options: CompileOptions
    pods: tuple[Pod, ...]
    pod_class: IntArray
    class_pods: list[list[int]]
    externals: tuple[tuple[int, int], ...]
    ports: PortSetTable
    allow: AllowMatrix
    ingress_isolated: BoolArray
    egress_isolated: BoolArray
    ingress_open: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    egress_open: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    policy_bits: list[int] = field(default_factory=list)
    peer_bits: dict[tuple[Peer, str], int] = field(default_factory=dict)
    addresses: dict[AddressKey, AddressSet] = field(default_factory=dict)
    atom_cache: dict[AddressKey, BoolArray] = field(default_factory=dict)
    unknown_ip: int = 0
    diagnostics: tuple[Diagnostic, ...] = ()

    def policy_classes(self, index: int) -> int:
        """The classes (bitset) that ``cluster.policies[index]`` selects."""
        return self.policy_bits[index]

    def peer_classes(self, peer: Peer, namespace: str) -> int:
        """The classes (bitset) a peer of a policy in ``namespace`` matches."""
        return self.peer_bits[(peer, namespace)]

    def peer_externals(self, peer: Peer) -> BoolArray:
        """Which external atoms an address peer holds (none for a selector peer)."""
        return atoms_inside(self.externals, self.atom_cache, self.addresses, peer)

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
# ports


def port_set(port: PolicyPort, resolved: PortSet | None) -> PortSet:
    """One port match; ``resolved`` is what a named port resolves to on the destination."""
    if isinstance(port.port, str):
        return resolved if resolved is not None else PortSet.none()
    if port.port is None:
        return PortSet.protocol(port.protocol)
    if port.protocol in ICMP_PROTOCOLS:
        return PortSet.icmp(port.protocol, port.port, port.code)
    last = port.end_port if port.end_port is not None else port.port
    return PortSet.range(port.protocol, port.port, last)


def rule_ports(rule: Rule, resolve: Callable[[str, str], PortSet] | None) -> PortSet:
    """A rule's ports against a destination; ``resolve(name, protocol)`` resolves named ports.

    ``resolve`` None is an external destination: named ports match nothing there.
    """
    out = _ports_of(rule.ports, resolve) if rule.ports else PortSet.all()
    if rule.not_ports:
        out = out - _ports_of(rule.not_ports, resolve)
    return out


def _ports_of(ports: Sequence[PolicyPort], resolve: Callable[[str, str], PortSet] | None
              ) -> PortSet:
    out = PortSet.none()
    for port in ports:
        resolved = None
        if isinstance(port.port, str) and resolve is not None:
            resolved = resolve(port.port, port.protocol)
        out = out | port_set(port, resolved)
    return out


def _rule_ports(u: Universe, rule: Rule, named: tuple[PortSet, ...] | None) -> PortSet:
    """A rule's ports against a destination whose named ports resolve as ``named``."""
    if named is None:
        return rule_ports(rule, None)
    keys: Sequence[NamedKey] = u.named_ports
    return rule_ports(rule, lambda name, proto: named[keys.index((name, proto))])


def _rule_is_named(rule: Rule) -> bool:
    return any(isinstance(port.port, str) for port in rule.ports + rule.not_ports)


# ---------------------------------------------------------------------------
# the two sides


@dataclass(slots=True)
class _RulePeers:
    classes: int
    externals: BoolArray


def _rule_peers(u: Universe, rule: Rule, namespace: str) -> _RulePeers:
    if not rule.peers:
        return _RulePeers((1 << u.n_classes) - 1, np.ones(len(u.ext_atoms), dtype=np.bool_))
    classes = unknown_ip_classes(u.addresses, u.unknown_ip, rule.peers)
    externals = np.zeros(len(u.ext_atoms), dtype=np.bool_)
    for peer in rule.peers:
        classes |= u.peer_bits[(peer, namespace)]
        externals |= u.peer_externals(peer)
    return _RulePeers(classes, externals)


Contribution = list[tuple[BoolArray, int]]
"""A rule's match over the columns: disjoint masks, each with the port-set id it matches."""

_Packed = list[tuple[npt.NDArray[np.uint8], int]]
"""A contribution with its masks packed, 8 columns to a byte (as it is kept)."""

Plan = tuple[tuple[bool, tuple[str, ...]], ...]
"""A profile's tiers in order: (ends in deny, the actions of its rules in order)."""


class _Side:
    """Computes one direction's rows: what each class's side allows with every column."""

    def __init__(self, u: Universe, direction: Direction, table: PortSetTable) -> None:
        self.u = u
        self.direction = direction
        self.table = table
        self.n = u.n_classes
        self.cols = self.n + len(u.ext_atoms)
        self.policies = u.cluster.policies
        self._peers: dict[tuple[int, int], _RulePeers] = {}
        self._walks: dict[tuple[Plan, bytes], int] = {}
        self._contributions: dict[tuple[int, int, int], _Packed] = {}
        self._ports: dict[tuple[int, int, tuple[PortSet, ...] | None], int] = {}
        # Egress rules with named ports give different ports to different destination
        # classes; group the destination classes by their named-port resolution once.
        self.named_groups: dict[tuple[PortSet, ...], BoolArray] = {}
        if direction == "egress":
            for c, named in enumerate(u.class_named):
                self.named_groups.setdefault(named, np.zeros(self.n, dtype=np.bool_))[c] = True

    def peers(self, pi: int, ri: int) -> _RulePeers:
        key = (pi, ri)
        found = self._peers.get(key)
        if found is None:
            policy = self.policies[pi]
            found = self._peers[key] = _rule_peers(
                self.u, policy.rules(self.direction)[ri], policy.namespace)
        return found

    def rule_port_id(self, pi: int, ri: int, named: tuple[PortSet, ...] | None) -> int:
        """The interned ports of rule ``ri`` of policy ``pi`` against a destination whose
        named ports resolve as ``named`` (once per distinct question)."""
        key = (pi, ri, named)
        found = self._ports.get(key)
        if found is None:
            rule = self.policies[pi].rules(self.direction)[ri]
            found = self._ports[key] = self.table.intern(_rule_ports(self.u, rule, named))
        return found

    def contribution(self, pi: int, ri: int, port_id: int) -> Contribution:
        """Where rule ``ri`` of policy ``pi`` matches, and on which ports (once per rule
        and port set: a rule of a policy selecting many profiles comes back in each)."""
        key = (pi, ri, port_id)
        found = self._contributions.get(key)
        if found is None:  # kept packed: one bit per column
            found = self._contributions[key] = [
                (np.packbits(mask, bitorder="little"), ident)
                for mask, ident in self._contribution(pi, ri, port_id)]
        cols = self.cols
        return [(np.unpackbits(packed, count=cols, bitorder="little").view(np.bool_), ident)
                for packed, ident in found]

    def _contribution(self, pi: int, ri: int, port_id: int) -> Contribution:
        u, n = self.u, self.n
        rule = self.policies[pi].rules(self.direction)[ri]
        peers = self.peers(pi, ri)
        class_mask = bits_to_bool(peers.classes, n)
        if port_id >= 0:  # ingress: one port set for the whole row
            return [(np.concatenate([class_mask, peers.externals]), port_id)]
        if not _rule_is_named(rule):
            ident = self.rule_port_id(pi, ri, ())
            return [(np.concatenate([class_mask, peers.externals]), ident)]
        out: Contribution = []
        n_ext = len(u.ext_atoms)
        for named, group in self.named_groups.items():
            ident = self.rule_port_id(pi, ri, named)
            out.append((np.concatenate([class_mask & group, np.zeros(n_ext, dtype=np.bool_)]),
                        ident))
        ident = self.rule_port_id(pi, ri, None)
        out.append((np.concatenate([np.zeros(n, dtype=np.bool_), peers.externals]), ident))
        return out

    def rows(self, progress: Progress) -> tuple[AllowSide, BoolArray, BoolArray]:
        """Per profile, the port-set ids its side allows with every column (and the
        profile of each class), which classes the side isolates, and which it leaves
        open (every port with every column).

        For ingress, row ``d`` says what each source column may send to class ``d``;
        for egress, row ``s`` says what class ``s`` may send to each destination column.
        """
        u, n, direction = self.u, self.n, self.direction
        order = sorted((i for i, p in enumerate(self.policies) if p.applies(direction)),
                       key=lambda i: self.policies[i].order)
        isolated = np.zeros(n, dtype=np.bool_)
        selecting: dict[int, list[int]] = {}
        for pi in order:
            bits = u.policy_bits[pi]
            if self.policies[pi].tier.ends_in_deny:
                isolated |= bits_to_bool(bits, n)
            for c in iter_bits(bits):
                selecting.setdefault(c, []).append(pi)
        profiles: dict[tuple[tuple[int, int, int], ...], list[int]] = {}
        local: dict[tuple[int, int], BoolArray] = {}  # the classes a rule's own end holds
        for c, chosen in selecting.items():
            key: list[tuple[int, int, int]] = []
            for pi in chosen:
                key.append((pi, -1, -1))  # the policy selects the class: it may isolate it
                policy = self.policies[pi]
                for ri, rule in enumerate(policy.rules(direction)):
                    if rule.local is not None:
                        mask = local.get((pi, ri))
                        if mask is None:
                            mask = local[(pi, ri)] = bits_to_bool(u.peer_bits[
                                (Peer(entity=rule.local), policy.namespace)], n)
                        if not mask[c]:
                            continue  # the rule is for other pods of the policy's
                    port_id = -1
                    if direction == "ingress":
                        port_id = self.rule_port_id(pi, ri, u.class_named[c])
                    key.append((pi, ri, port_id))
            profiles.setdefault(tuple(key), []).append(c)
        # Profile 0 is the open side (no policy selects the class); the others are
        # walked once each, whatever the number of classes they hold.
        # Rows hold port-set ids; int16 while the table is that small (it nearly always is).
        of = np.zeros(n, dtype=np.int32)
        rows: npt.NDArray[np.int16] | IntArray = np.empty(
            (len(profiles) + 1, self.cols), dtype=np.int16)
        rows[0] = ALL_PORTS
        opened = np.ones(len(profiles) + 1, dtype=np.bool_)
        done = 0
        for k, (profile, members) in enumerate(profiles.items(), start=1):
            row = self.profile_row(profile)
            if rows.dtype == np.int16 and len(self.table) > np.iinfo(np.int16).max:
                rows = rows.astype(np.int32)
            rows[k] = row
            opened[k] = not (row != ALL_PORTS).any()
            of[members] = k
            done += len(members)
            progress(direction, done, len(selecting))
        return AllowSide(of, rows), isolated, opened[of]

    def profile_row(self, profile: tuple[tuple[int, int, int], ...]) -> IntArray:
        plan: list[tuple[bool, list[str]]] = []
        contributions: list[Contribution] = []
        tier = None
        for pi, ri, port_id in profile:
            policy = self.policies[pi]
            if policy.tier != tier:
                tier = policy.tier
                plan.append((tier.ends_in_deny, []))
            if ri < 0:
                continue
            plan[-1][1].append(policy.rules(self.direction)[ri].action)
            contributions.append(self.contribution(pi, ri, port_id))
        if len(plan) == 1 and plan[0][0] and all(a == "Allow" for a in plan[0][1]):
            # NetworkPolicies alone: what some rule allows, nothing else
            return _union_row([piece for c in contributions for piece in c], self.cols,
                              self.table)
        return self.walk_row(tuple((deny, tuple(actions)) for deny, actions in plan),
                             contributions)

    def walk_row(self, plan: Plan, contributions: list[Contribution]) -> IntArray:
        """Walk the tiers at every distinct column of the profile's rule matrix."""
        pieces = [(k, mask, ident) for k, parts in enumerate(contributions)
                  for mask, ident in parts if ident != NO_PORTS]
        if len(pieces) <= _SMALL_KEYS:  # a column's cover as a small int, looked up
            cover = _cover_keys([mask for _, mask, _ in pieces], self.cols)
            walked = np.zeros(1 << len(pieces), dtype=np.int32)
            for key in np.flatnonzero(np.bincount(cover, minlength=1 << len(pieces))).tolist():
                ids = np.zeros(max(len(contributions), 1), dtype=np.int32)
                for p, (k, _, ident) in enumerate(pieces):
                    if key >> p & 1:
                        ids[k] = ident
                walked[key] = self.walk(plan, ids)
            looked_up: IntArray = walked[cover]
            return looked_up
        if len(pieces) <= 62:
            # A column is known by which pieces cover it: one int64 key per column.
            weights = np.left_shift(np.int64(1), np.arange(len(pieces), dtype=np.int64))
            covers = np.zeros((len(pieces), self.cols), dtype=np.int64)
            for p, (_, mask, _) in enumerate(pieces):
                covers[p] = mask
            keys = weights @ covers if pieces else np.zeros(self.cols, dtype=np.int64)
            unique, inverse = np.unique(keys, return_inverse=True)
            values = np.empty(len(unique), dtype=np.int32)
            for u_i, key in enumerate(unique.tolist()):
                ids = np.zeros(max(len(contributions), 1), dtype=np.int32)
                for p, (k, _, ident) in enumerate(pieces):
                    if key >> p & 1:
                        ids[k] = ident
                values[u_i] = self.walk(plan, ids)
            out: IntArray = values[inverse.reshape(-1)]
            return out
        matrix = np.zeros((max(len(contributions), 1), self.cols), dtype=np.int32)
        for k, parts in enumerate(contributions):
            for mask, ident in parts:
                matrix[k, mask] = ident
        columns = np.ascontiguousarray(matrix.T)
        raw = columns.view(np.dtype((np.void, columns.shape[1] * 4))).ravel()
        distinct, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
        walked = np.fromiter(
            (self.walk(plan, columns[int(i)]) for i in first), dtype=np.int32, count=len(distinct))
        row: IntArray = walked[inverse.reshape(-1)]
        return row

    def walk(self, plan: Plan, ids: IntArray) -> int:
        """The port set one column allows: the tiers walked over the rules' matches ``ids``."""
        memo = (plan, ids.tobytes())
        found = self._walks.get(memo)
        if found is not None:
            return found
        walked = walk_column(self.table, plan, ids.tolist())
        result = self._walks[memo] = self.table.join(walked.allowed, walked.rest)
        return result


@dataclass(frozen=True, slots=True)
class ColumnWalk:
    """One column walked through the tiers (port-set ids of a :class:`PortSetTable`).

    ``hits[k]``: the share rule ``k`` decided (or passed, or logged); ``allowed`` and
    ``denied``: what rules allowed and denied, and tiers ending in deny denied;
    ``rest``: what no tier decided (allowed by default).
    """

    allowed: int
    denied: int
    rest: int
    hits: tuple[int, ...]


def walk_column(table: PortSetTable, plan: Plan, ids: Sequence[int]) -> ColumnWalk:
    """The tiers of ``plan`` walked over one column, where rule ``k`` matches ``ids[k]``.

    The one implementation of the evaluation order of :mod:`reach.model.policy` over
    port-set ids: in each tier, rules in order take their part of what is still
    undecided; Allow allows it, Deny denies it, Pass leaves the tier with it, Log
    records it and takes nothing; a tier that ends in deny denies what it left
    undecided (not what it passed).

    >>> table = PortSetTable()
    >>> web = table.intern(PortSet.single("TCP", 80))
    >>> walked = walk_column(table, ((False, ("Deny", "Allow")),), [web, ALL_PORTS])
    >>> str(table[walked.denied]), str(table[walked.allowed]), walked.rest
    ('TCP 80', 'All Connections but TCP 80', 0)
    """
    undecided, allowed, denied = ALL_PORTS, NO_PORTS, NO_PORTS
    hits: list[int] = []
    k = 0
    for ends_in_deny, actions in plan:
        passed = NO_PORTS
        for action in actions:
            hit = table.meet(int(ids[k]), undecided)
            k += 1
            hits.append(hit)
            if hit == NO_PORTS or action == "Log":
                continue
            if action == "Allow":
                allowed = table.join(allowed, hit)
            elif action == "Deny":
                denied = table.join(denied, hit)
            else:  # Pass
                passed = table.join(passed, hit)
            undecided = table.subtract(undecided, hit)
        if ends_in_deny:
            denied = table.join(denied, undecided)
            undecided = passed
        else:
            undecided = table.join(undecided, passed)
    return ColumnWalk(allowed, denied, undecided, tuple(hits))


_SMALL_KEYS = 14
"""Up to this many masks, a column's cover is looked up in a table of 2**k entries."""


def _cover_keys(masks: Sequence[BoolArray], cols: int) -> IntArray:
    """Per column, the bits of the masks that cover it (mask ``k`` is bit ``k``)."""
    keys = np.zeros(cols, dtype=np.int32)
    for k, mask in enumerate(masks):
        keys[mask] |= 1 << k
    return keys


def _union_row(contributions: Contribution, cols: int, table: PortSetTable) -> IntArray:
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
    if len(idents) <= _SMALL_KEYS:  # which contributions cover a column, as a small int
        cover = _cover_keys([merged[i] for i in idents], cols)
        table_of = np.zeros(1 << len(idents), dtype=np.int32)
        for key in np.flatnonzero(np.bincount(cover, minlength=1 << len(idents))).tolist():
            table_of[key] = table.join(*(idents[k] for k in range(len(idents)) if key >> k & 1))
        out: IntArray = table_of[cover]
        return out
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
# what the compile assumed


def _unknown_ip_caveat(u: Universe) -> Diagnostic | None:
    """Pods of unknown IP beside address peers that may hold pod IPs: say what was read.

    Such a peer is read as matching none of those pods (unless the peers of its rule
    hold all of IPv4). Said only where it can matter: some pod of unknown IP is not
    the policy's own single subject (a pod always reaches itself).
    """
    if not u.unknown_ip:
        return None
    places: list[str] = []
    for index, policy in enumerate(u.cluster.policies):
        subjects = u.policy_bits[index]
        others = u.unknown_ip & ~subjects
        several = sum(len(u.class_pods[c]) for c in iter_bits(subjects)) > 1
        if not (others or (several and u.unknown_ip & subjects)):
            continue
        for rule in policy.ingress + policy.egress:
            if unknown_ip_classes(u.addresses, u.unknown_ip, rule.peers):
                continue  # the rule holds all of IPv4: it matches them anyway
            for peer in rule.peers:
                key = peer_address_key(peer)
                if key is None:
                    continue
                held = u.addresses[key]
                if held & POD_ADDRESSES and not held >= IPV4_ALL:
                    places.append(f"{peer} ({peer.location})")
    if not places:
        return None
    pods = [u.pods[i].ref for c in iter_bits(u.unknown_ip) for i in u.class_pods[c]]
    unique = list(dict.fromkeys(places))
    shown = ", ".join(unique[:3])
    more = f" and {len(unique) - 3} more" if len(unique) > 3 else ""
    return Diagnostic(
        "warning",
        f"{len(pods)} pod(s) have no IP in the input ({', '.join(pods[:3])}"
        f"{' ...' if len(pods) > 3 else ''}); address peers that may hold pod IPs are read "
        f"as matching none of them: {shown}{more}. Give the pods' IPs (a `kubectl get pods "
        "-o yaml` dump) or use --no-ipblock-pods",
        None, code="assumption")


def _selector_keys(selector: LabelSelector | None) -> set[str]:
    if selector is None:
        return set()
    return set(selector.match_labels) | {r.key for r in selector.match_expressions}


def _namespace_caveat(u: Universe) -> Diagnostic | None:
    """Namespaces the input does not define, beside selectors of other namespace labels.

    Such a namespace is read with its name label only (as the API server would set
    it), so a selector of any other label does not select it: say so, naming both.
    """
    implicit = sorted(name for name, ns in u.namespaces.items() if ns.implicit)
    if not implicit:
        return None
    places: list[str] = []
    for policy in u.cluster.policies:
        if _selector_keys(policy.namespace_selector) - {NAMESPACE_NAME_LABEL}:
            places.append(f"{policy.ref} subject [{policy.namespace_selector}] "
                          f"({policy.location})")
        for rule in policy.ingress + policy.egress:
            for peer in rule.peers:
                if _selector_keys(peer.namespace_selector) - {NAMESPACE_NAME_LABEL}:
                    places.append(f"namespaces [{peer.namespace_selector}] ({peer.location})")
    if not places:
        return None
    unique = list(dict.fromkeys(places))
    more = f" and {len(unique) - 3} more" if len(unique) > 3 else ""
    return Diagnostic(
        "warning",
        f"namespace(s) {', '.join(implicit[:5])}{' ...' if len(implicit) > 5 else ''} are not "
        f"in the input: reach knows only their {NAMESPACE_NAME_LABEL} label, and reads them "
        f"as carrying none of the labels these selectors ask for: {', '.join(unique[:3])}"
        f"{more}. Add the Namespace objects (`kubectl get namespaces -o yaml`)",
        None, code="assumption")


def _nodes_caveat(u: Universe) -> Diagnostic | None:
    """``nodes`` peers and no Node object: their addresses are unknown."""
    if u.cluster.nodes:
        return None
    places = [f"nodes [{peer.node_selector}] ({peer.location})"
              for policy in u.cluster.policies for rule in policy.ingress + policy.egress
              for peer in rule.peers if peer.node_selector is not None]
    if not places:
        return None
    unique = list(dict.fromkeys(places))
    more = f" and {len(unique) - 3} more" if len(unique) > 3 else ""
    return Diagnostic(
        "warning",
        f"the input has no Node objects, so nodes peers match no address: "
        f"{', '.join(unique[:3])}{more}. Add the nodes (`kubectl get nodes -o yaml`)",
        None, code="assumption")


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
    u = build_universe(cluster, options)
    report("classes", 1, 1)
    n = u.n_classes
    table = PortSetTable()
    ingress, ingress_isolated, ingress_open = _Side(u, "ingress", table).rows(report)
    egress, egress_isolated, egress_open = _Side(u, "egress", table).rows(report)

    allow = AllowMatrix(table, n, egress=egress, ingress=ingress)
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
        ingress_open=ingress_open,
        egress_open=egress_open,
        namespaces=u.namespaces,
        policy_bits=u.policy_bits,
        peer_bits=u.peer_bits,
        addresses=u.addresses,
        atom_cache=u.atom_cache,
        unknown_ip=u.unknown_ip,
        diagnostics=tuple(d for d in (_unknown_ip_caveat(u), _namespace_caveat(u),
                                      _nodes_caveat(u)) if d is not None),
    )
