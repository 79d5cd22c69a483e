"""Semantic diff: what a change to the manifests opens and closes.

Two analysed networks are compared by their *allowed connections*, not by their
YAML text: a policy rewritten with other words but the same meaning makes no
difference, and a one-character label change that opens a database shows up.

Connections are compared at a granularity (``pod``, ``workload`` or
``namespace``), every connection of that level included: the traffic inside a
namespace (``shop => shop``), between the replicas of a workload, and from the
synthetic ingress controller. Endpoints keep their identity across a rollout: a pod
whose name its controller generated (``web-7d4b9c8f6d-x2b7q``) is compared as its
workload (:func:`diff_endpoint`), and a ReplicaSet's pods belong to its Deployment, so
a new ReplicaSet hash with the same policies is no difference.
Only endpoints present on both sides are compared edge by edge;
endpoints (and namespaces) that appear or disappear are reported as such, with the
number of connections they bring or take away, so a new namespace is one line and
not thousands of edge changes. Outside address ranges may be cut differently by the
ipBlocks of the two sides: both are re-cut onto their common atoms and compared
address by address, then equal neighbouring ranges are merged back. The outside
space compared is the one either side analyses: IPv4, and IPv6 as soon as an
ipBlock of either side mentions it (the other side is then asked about IPv6
addresses rule by rule).

Policies apply to *new* connections: a connection established while a port was
open keeps flowing until it closes. Every diff that removes or narrows something
says so (:data:`ESTABLISHED_NOTE`).

Examples
--------
>>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy, PolicyPort, Rule
>>> from reach.network import Network
>>> pods = (Pod("ns", "web", Labels({"app": "web"})), Pod("ns", "db", Labels({"app": "db"})))
>>> only_5432 = Policy("ns", "db", LabelSelector(Labels({"app": "db"})),
...                    ingress=(Rule("ingress", 0, ports=(PolicyPort("TCP", 5432),)),))
>>> change = diff(Network(Cluster(pods=pods)), Network(Cluster(pods=pods, policies=(only_5432,))))
>>> bool(change)
True
>>> for c in change.changed:
...     print(c)
0.0.0.0-255.255.255.255[External] => ns/db[Pod] : All Connections -> TCP 5432
ns/web[Pod] => ns/db[Pod] : All Connections -> TCP 5432
>>> deny_all = Policy("ns", "deny-all", LabelSelector())
>>> locked = Network(Cluster(pods=pods, policies=(deny_all,)))
>>> [str(c) for c in diff(Network(Cluster(pods=pods)), locked, by="namespace").removed]
['0.0.0.0-255.255.255.255[External] => ns[Namespace] : All Connections', \
'ns[Namespace] => ns[Namespace] : All Connections']
>>> str(change.changed[0].closed)
'All Connections but TCP 5432'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from reach.endpoints import Endpoint, pod_endpoint
from reach.engine.ports import PortSet
from reach.engine.portsets import NO_PORTS, PortSetTable
from reach.model import Labels, Pod
from reach.network import GRANULARITIES, Connection, Granularity, Network, connections_of

__all__ = [
    "DIFF_FORMATS",
    "ESTABLISHED_NOTE",
    "Change",
    "Diff",
    "EndpointChange",
    "diff",
    "diff_endpoint",
    "format_diff",
]

DIFF_FORMATS: tuple[str, ...] = ("txt", "json", "md")

ESTABLISHED_NOTE = (
    "NetworkPolicies apply to new connections: connections already established on a "
    "removed or closed path keep flowing until they close (restart the pods or wait for "
    "them to end if they must stop now)."
)

ChangeKind = Literal["added", "removed", "narrowed", "widened", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One connection whose allowed ports differ between the old and the new network.

    ``old`` or ``new`` is empty for a connection added or removed; ``opened`` and
    ``closed`` are the ports the change opens and closes.

    Examples
    --------
    >>> a, b = Endpoint("Pod", "ns", "a"), Endpoint("Pod", "ns", "b")
    >>> change = Change(a, b, PortSet.all(), PortSet.single("TCP", 80))
    >>> change.kind, str(change.opened)
    ('narrowed', 'No Connections')
    """

    src: Endpoint
    dst: Endpoint
    old: PortSet
    new: PortSet
    opened_ports: PortSet | None = None
    closed_ports: PortSet | None = None

    @property
    def opened(self) -> PortSet:
        """Ports allowed now that were not allowed before (between some of the two
        endpoints' pods, when they stand for several)."""
        return self.opened_ports if self.opened_ports is not None else self.new - self.old

    @property
    def closed(self) -> PortSet:
        """Ports allowed before that are not allowed any more (between some of their pods)."""
        return self.closed_ports if self.closed_ports is not None else self.old - self.new

    @property
    def inside(self) -> bool:
        """Whether the change is between some pods of the two endpoints only: what they
        allow as a whole (any pod to any pod) stays ``old``."""
        return self.old == self.new

    @property
    def kind(self) -> ChangeKind:
        """``added``, ``removed``, ``narrowed`` (only closes), ``widened`` or ``changed``."""
        if not self.old:
            return "added"
        if not self.new:
            return "removed"
        if not self.opened:
            return "narrowed"
        if not self.closed:
            return "widened"
        return "changed"

    def __str__(self) -> str:
        if not self.old:
            return f"{self.src} => {self.dst} : {self.new}"
        if not self.new:
            return f"{self.src} => {self.dst} : {self.old}"
        if self.inside:
            return f"{self.src} => {self.dst} : {self.old} (changed between some of their pods)"
        return f"{self.src} => {self.dst} : {self.old} -> {self.new}"

    def to_json(self) -> dict[str, Any]:
        return {
            "src": self.src.to_json(),
            "dst": self.dst.to_json(),
            "kind": self.kind,
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "opened": self.opened.to_json(),
            "closed": self.closed.to_json(),
        }


@dataclass(frozen=True, slots=True)
class EndpointChange:
    """An endpoint present on one side only, with the connections it has there.

    Examples
    --------
    >>> str(EndpointChange(Endpoint("Deployment", "shop", "web"), 2, 5))
    'shop/web[Deployment] (2 inbound, 5 outbound connections)'
    """

    endpoint: Endpoint
    inbound: int
    outbound: int

    def __str__(self) -> str:
        return f"{self.endpoint} ({self.inbound} inbound, {self.outbound} outbound connections)"

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint.to_json(),
            "inbound": self.inbound,
            "outbound": self.outbound,
        }


@dataclass(frozen=True, slots=True)
class Diff:
    """The difference in allowed connections between two networks.

    Truthy when anything differs. ``added``, ``removed`` and ``changed`` only hold
    connections between endpoints that exist on both sides; ``changed`` holds
    connections allowed on both sides on different ports (see :attr:`Change.kind`).

    Examples
    --------
    >>> a, b = Endpoint("Pod", "ns", "a"), Endpoint("Pod", "ns", "b")
    >>> d = Diff("pod", removed=(Change(a, b, PortSet.all(), PortSet.none()),),
    ...          notes=(ESTABLISHED_NOTE,))
    >>> bool(d), d.closes_anything, d.summary()
    (True, True, 'connections (by pod): 0 added, 1 removed, 0 changed')
    """

    by: str
    added: tuple[Change, ...] = ()
    removed: tuple[Change, ...] = ()
    changed: tuple[Change, ...] = ()
    endpoints_added: tuple[EndpointChange, ...] = ()
    endpoints_removed: tuple[EndpointChange, ...] = ()
    namespaces_added: tuple[str, ...] = ()
    namespaces_removed: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(
            self.added
            or self.removed
            or self.changed
            or self.endpoints_added
            or self.endpoints_removed
            or self.namespaces_added
            or self.namespaces_removed
        )

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every changed connection (added, removed, changed), sorted by source and destination."""
        return tuple(sorted(self.added + self.removed + self.changed, key=_change_key))

    @property
    def closes_anything(self) -> bool:
        """Whether some connection is removed or loses ports."""
        return bool(self.removed) or any(c.closed for c in self.changed)

    def summary(self) -> str:
        """One line: how many connections and endpoints differ."""
        if not self:
            return f"no difference in allowed connections (by {self.by})"
        parts = [
            f"{len(self.added)} added",
            f"{len(self.removed)} removed",
            f"{len(self.changed)} changed",
        ]
        extra = []
        if self.endpoints_added or self.endpoints_removed:
            extra.append(
                f"endpoints: {len(self.endpoints_added)} new, {len(self.endpoints_removed)} gone"
            )
        if self.namespaces_added or self.namespaces_removed:
            extra.append(
                f"namespaces: {len(self.namespaces_added)} new, "
                f"{len(self.namespaces_removed)} gone"
            )
        text = f"connections (by {self.by}): " + ", ".join(parts)
        return "; ".join([text, *extra])

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "different": bool(self),
            "added": [c.to_json() for c in self.added],
            "removed": [c.to_json() for c in self.removed],
            "changed": [c.to_json() for c in self.changed],
            "endpoints_added": [e.to_json() for e in self.endpoints_added],
            "endpoints_removed": [e.to_json() for e in self.endpoints_removed],
            "namespaces_added": list(self.namespaces_added),
            "namespaces_removed": list(self.namespaces_removed),
            "notes": list(self.notes),
        }

    def format(self, fmt: str = "txt") -> str:
        """This diff as ``txt``, ``json`` or ``md`` (see :func:`format_diff`)."""
        return format_diff(self, fmt)

    def __str__(self) -> str:
        return format_diff(self, "txt")

    def __repr__(self) -> str:
        return f"<Diff {self.summary()}>"


# ---------------------------------------------------------------------------
# computing


def _change_key(change: Change) -> tuple[str, str]:
    return (str(change.src), str(change.dst))


def diff_endpoint(pod: Pod, by: str) -> Endpoint:
    """The endpoint ``pod`` is compared as at granularity ``by``.

    As :func:`reach.endpoints.pod_endpoint`, except that at pod granularity a pod whose
    name its controller generated is its workload: the next rollout names it anew.

    >>> from reach.model import Labels, Pod
    >>> live = Pod("shop", "web-7d4b9c8f6d-x2b7q", owner_kind="Deployment", owner_name="web",
    ...            generated=True)
    >>> str(diff_endpoint(live, "pod")), str(diff_endpoint(Pod("shop", "db-0"), "pod"))
    ('shop/web[Deployment]', 'shop/db-0[Pod]')
    """
    if by == "pod" and pod.generated and pod.owner_kind:
        return pod_endpoint(pod, "workload")
    return pod_endpoint(pod, by)


def _groups(net: Network, by: str) -> dict[Endpoint, list[int]]:
    """In-cluster endpoints at granularity ``by``, each with its classes (sorted)."""
    c = net.compiled
    out: dict[Endpoint, set[int]] = {}
    for i, pod in enumerate(c.pods):
        out.setdefault(diff_endpoint(pod, by), set()).add(int(c.pod_class[i]))
    return {ep: sorted(classes) for ep, classes in out.items()}


def _replicated(ep: Endpoint) -> bool:
    """Whether ``ep`` stands for replicas (a workload, a namespace) rather than one pod.

    Its traffic with itself is what policies allow between two of its pods, whether the
    input holds one of them or ten: scaling a workload is no difference.
    """
    return ep.kind != "Pod"


def _listed(net: Network, by: str) -> list[Connection]:
    """Every connection at granularity ``by`` as the diff compares it (see the module)."""
    return (connections_of(net.compiled, by, endpoint=diff_endpoint, replicated=_replicated)
            + net.controller_connections(by, endpoint=diff_endpoint))  # type: ignore[arg-type]


def _namespaces(net: Network) -> set[str]:
    names = {ns.name for ns in net.cluster.namespaces if not ns.implicit}
    return names | {pod.namespace for pod in net.pods}


def _common_atoms(*nets: Network) -> list[tuple[int, int]]:
    """The coarsest cut of the outside address space that refines every network's cut."""
    cuts: set[int] = set()
    covered: list[tuple[int, int]] = []
    for net in nets:
        for lo, hi in net.compiled.externals:
            cuts.add(lo)
            cuts.add(hi + 1)
            covered.append((lo, hi))
    if not covered:
        return []
    # merge what the networks cover, then cut it at every boundary of either side
    covered.sort()
    spans: list[tuple[int, int]] = []
    for lo, hi in covered:
        if spans and lo <= spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], max(hi, spans[-1][1]))
        else:
            spans.append((lo, hi))
    points = sorted(cuts)
    atoms: list[tuple[int, int]] = []
    for lo, hi in spans:
        start = lo
        for point in points:
            if lo < point <= hi:
                atoms.append((start, point - 1))
                start = point
        atoms.append((start, hi))
    return atoms


class _ExternalView:
    """What one network allows between its endpoints and arbitrary outside atoms."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.c = net.compiled

    def _column(self, key: int) -> int | None:
        try:
            return self.c.external_column(key)
        except KeyError:
            return None

    def ports(self, classes: Sequence[int], atom: tuple[int, int], outbound: bool) -> PortSet:
        """Ports the classes may open to (``outbound``) or accept from the atom."""
        column = self._column(atom[0])
        out = PortSet.none()
        if column is not None:
            for k in classes:
                ident = self.c.allow[k, column] if outbound else self.c.allow[column, k]
                out = out | self.c.ports[int(ident)]
            return out
        # An address this network never had to cut (e.g. IPv6 when no ipBlock of this
        # side mentions IPv6): ask the policies directly.
        net = self.net
        for k in classes:
            pod = self.c.pods[self.c.class_pods[k][0]]
            side = net.side("egress" if outbound else "ingress", pod, None, atom[0])
            out = out | side.ports
        return out


def _internal(conns: Iterable[Connection]) -> dict[tuple[Endpoint, Endpoint], PortSet]:
    return {
        (c.src, c.dst): c.ports
        for c in conns
        if not c.src.is_external and not c.dst.is_external
    }


def _controller_changes(old: Network, new: Network, by: Granularity,
                        both: Sequence[Endpoint]) -> list[Change]:
    """What the synthetic ingress controller reaches, before and after."""
    keep = set(both)
    before = {c.dst: c.ports for c in old.controller_connections(by, endpoint=diff_endpoint)}
    after = {c.dst: c.ports for c in new.controller_connections(by, endpoint=diff_endpoint)}
    out = []
    for dst in sorted((before.keys() | after.keys()) & keep):
        was, now = before.get(dst, PortSet.none()), after.get(dst, PortSet.none())
        if was != now:
            src = next(c.src for c in (*old.controller_connections(by),
                                       *new.controller_connections(by)))
            out.append(Change(src, dst, was, now))
    return out


def _single(groups: dict[Endpoint, list[int]], endpoints: Iterable[Endpoint]) -> bool:
    return all(len(groups[ep]) == 1 for ep in endpoints)


def _internal_changes(
    old: Network,
    new: Network,
    old_groups: dict[Endpoint, list[int]],
    new_groups: dict[Endpoint, list[int]],
    both: Sequence[Endpoint],
    by: Granularity,
) -> list[Change]:
    """Changed connections between endpoints present on both sides."""
    if _single(old_groups, both) and _single(new_groups, both) and (
            by == "pod" or _units_are_endpoints(old, new, by)):
        return _joint_changes(old, new, old_groups, new_groups, both, by)
    return _grouped_changes(old, new, both, by)


Unit = tuple[Endpoint, object]

#: Labels controllers put on the pods they create and change at every rollout (or run):
#: not part of which replica a pod is.
CONTROLLER_LABELS = frozenset({
    "pod-template-hash", "controller-revision-hash", "pod-template-generation",
    "controller-uid", "batch.kubernetes.io/controller-uid", "job-name",
    "batch.kubernetes.io/job-name",
})


def _unit(pod: Pod, by: str) -> Unit:
    """What the grouped comparison at ``by`` tells apart.

    A pod without controller is itself. The pods of a workload that share labels, ports
    and network are its interchangeable replicas: one unit, so that scaling or a rollout
    changes nothing, while pods of one workload that policies can tell apart (another
    template mid-rollout, a host-network pod) stay apart. At pod granularity the unit is
    the pod itself, but for the pods whose names the controller generates.
    """
    if not pod.owner_kind or (by == "pod" and not pod.generated):
        return diff_endpoint(pod, "pod"), None
    labels = Labels({k: v for k, v in pod.labels.items() if k not in CONTROLLER_LABELS})
    return pod_endpoint(pod, "workload"), (labels, pod.ports, pod.host_network)


def _units_are_endpoints(old: Network, new: Network, by: str) -> bool:
    """Whether every endpoint at ``by`` is one unit on both sides."""
    for net in (old, new):
        seen: dict[Endpoint, Unit] = {}
        for pod in net.pods:
            ep, unit = diff_endpoint(pod, by), _unit(pod, by)
            if seen.setdefault(ep, unit) != unit:
                return False
    return True


@dataclass(slots=True)
class _Group:
    """Units (:func:`_unit`) of one endpoint that every policy treats alike on both sides."""

    endpoint: Endpoint
    old: tuple[int, ...]
    new: tuple[int, ...]
    replicated: bool
    units: int = 0


def _unit_pods(net: Network, by: str) -> dict[Unit, dict[tuple[str, str], int]]:
    """Per unit, its pods (namespace, name) with the class of each."""
    out: dict[Unit, dict[tuple[str, str], int]] = {}
    for i, pod in enumerate(net.pods):
        out.setdefault(_unit(pod, by), {})[(pod.namespace, pod.name)] = int(
            net.compiled.pod_class[i])
    return out


def _unit_groups(old: Network, new: Network, by: str) -> list[_Group]:
    """The pod-level units of both sides, grouped by endpoint and classes on each side.

    A unit whose pods are the same on both sides is cut by the (old class, new class)
    pair of each pod, so that what changed between two of its pods is compared pod by
    pod (two replicas that an ipBlock tells apart, say); a unit whose pods changed (a
    rollout, a scale) is compared as the classes its pods have on each side.
    """
    old_units, new_units = _unit_pods(old, by), _unit_pods(new, by)
    coarse: dict[Unit, Endpoint] = {}
    for net in (old, new):
        for pod in net.pods:
            coarse.setdefault(_unit(pod, by), diff_endpoint(pod, by))
    groups: dict[tuple[Endpoint, tuple[int, ...], tuple[int, ...], bool], _Group] = {}
    for unit in sorted(coarse, key=lambda u: str(u[0])):
        before, after = old_units.get(unit, {}), new_units.get(unit, {})
        replicated = unit[1] is not None or _replicated(coarse[unit])
        parts: list[tuple[tuple[int, ...], tuple[int, ...]]]
        if before.keys() == after.keys():
            parts = sorted({((before[p],), (after[p],)) for p in before})
        else:
            parts = [(tuple(sorted(set(before.values()))), tuple(sorted(set(after.values()))))]
        for old_classes, new_classes in parts:
            key = (coarse[unit], old_classes, new_classes, replicated)
            group = groups.setdefault(key, _Group(*key))
            group.units += 1
    return sorted(groups.values(), key=lambda g: str(g.endpoint))


def _group_matrix(net: Network, groups: Sequence[_Group], side: str,
                  table: PortSetTable) -> npt.NDArray[np.int32]:
    """Group by group, what the units of one group may send to those of another on one
    side (ids of ``table``); never a unit with itself, unless it stands for replicas."""
    c = net.compiled
    ids = np.array([table.intern(c.ports[i]) for i in range(len(c.ports))], dtype=np.int32)
    members = [getattr(g, side) or (-1,) for g in groups]
    flat = np.array([k for m in members for k in m], dtype=np.intp)
    starts = np.cumsum([0] + [len(m) for m in members[:-1]])
    valid = flat >= 0
    spread = np.zeros((len(flat), len(flat)), dtype=np.int32)
    inner = np.ix_(np.nonzero(valid)[0], np.nonzero(valid)[0])
    spread[inner] = ids[c.allow[np.ix_(flat[valid], flat[valid])]]
    matrix = table.join_many(table.join_many(spread, starts, axis=0), starts, axis=1)
    for k, group in enumerate(groups):
        if group.units < 2 and not group.replicated:
            matrix[k, k] = NO_PORTS  # one pod with itself
    out: npt.NDArray[np.int32] = matrix.astype(np.int32)
    return out


def _grouped_changes(old: Network, new: Network, both: Sequence[Endpoint],
                     by: str) -> list[Change]:
    """Endpoints standing for several pods: a connection changed when it changed between
    some of their pods, even where the endpoints as a whole allow the same."""
    groups = [g for g in _unit_groups(old, new, by) if g.endpoint in set(both)]
    if not groups:
        return []
    table = PortSetTable()
    before = _group_matrix(old, groups, "old", table)
    after = _group_matrix(new, groups, "new", table)
    opened = table_subtract(table, after, before)
    closed = table_subtract(table, before, after)
    ends = [g.endpoint for g in groups]
    starts = [k for k in range(len(ends)) if k == 0 or ends[k] != ends[k - 1]]
    names = [ends[k] for k in starts]

    def coarse(matrix: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
        joined: npt.NDArray[np.int32] = table.join_many(
            table.join_many(matrix, starts, axis=0), starts, axis=1)
        return joined

    was, now, more, less = coarse(before), coarse(after), coarse(opened), coarse(closed)
    out = []
    for i, j in zip(*np.nonzero((more != NO_PORTS) | (less != NO_PORTS)), strict=True):
        out.append(Change(names[i], names[j], table[int(was[i, j])], table[int(now[i, j])],
                          table[int(more[i, j])], table[int(less[i, j])]))
    return out


def table_subtract(table: PortSetTable, a: npt.NDArray[np.int32],
                   b: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Element-wise ``a - b`` over ids of ``table`` (each distinct pair once)."""
    if a.size == 0:
        return a.copy()
    width = np.int64(max(int(a.max()), int(b.max())) + 1)
    key = a.astype(np.int64) * width + b.astype(np.int64)
    unique, inverse = np.unique(key, return_inverse=True)
    values = np.fromiter((table.subtract(int(k // width), int(k % width)) for k in unique),
                         dtype=np.int32, count=len(unique))
    out: npt.NDArray[np.int32] = values[inverse.reshape(a.shape)]
    return out


def _joint_changes(
    old: Network,
    new: Network,
    old_groups: dict[Endpoint, list[int]],
    new_groups: dict[Endpoint, list[int]],
    both: Sequence[Endpoint],
    by: str,
) -> list[Change]:
    """Every endpoint is one class on each side: compare (old class, new class) pairs.

    Endpoints with the same old class and the same new class have identical rows on
    both sides, so the comparison runs over these joint classes and expands only
    the pairs that differ.
    """
    joint: dict[tuple[int, int], list[Endpoint]] = {}
    for ep in both:
        joint.setdefault((old_groups[ep][0], new_groups[ep][0]), []).append(ep)
    keys = list(joint)
    if not keys:
        return []
    out = _self_changes(old, new, old_groups, new_groups, both, by)
    jo = np.array([k[0] for k in keys], dtype=np.intp)
    jn = np.array([k[1] for k in keys], dtype=np.intp)
    before_ids = old.compiled.allow[np.ix_(jo, jo)].astype(np.int64)
    after_ids = new.compiled.allow[np.ix_(jn, jn)].astype(np.int64)
    old_ports, new_ports = old.compiled.ports, new.compiled.ports
    width = np.int64(len(new_ports) + 1)
    unique, inverse = np.unique(before_ids * width + after_ids, return_inverse=True)
    differs = np.array(
        [old_ports[int(u // width)] != new_ports[int(u % width)] for u in unique],
        dtype=np.bool_,
    )
    mask = differs[inverse.reshape(-1)].reshape(before_ids.shape)
    for i, j in zip(*np.nonzero(mask), strict=True):
        before = old_ports[int(before_ids[i, j])]
        after = new_ports[int(after_ids[i, j])]
        for a in joint[keys[i]]:
            for b in joint[keys[j]]:
                if a != b:
                    out.append(Change(a, b, before, after))
    return out


def _self_changes(old: Network, new: Network, old_groups: dict[Endpoint, list[int]],
                  new_groups: dict[Endpoint, list[int]], both: Sequence[Endpoint],
                  by: str) -> list[Change]:
    """Endpoints of one class standing for replicas whose traffic with themselves
    (between two of their pods) changed."""
    out = []
    for ep in both:
        if not _replicated(ep):
            continue
        a, b = old_groups[ep][0], new_groups[ep][0]
        before, after = old.compiled.column_ports(a, a), new.compiled.column_ports(b, b)
        if before != after:
            out.append(Change(ep, ep, before, after))
    return out


class _Degrees:
    """How many connections an endpoint has in one network, counted as the connection
    list at that granularity counts them: other endpoints, outside ranges (neighbours
    with the same ports as one), the endpoint itself (between two of its pods) and the
    synthetic ingress controller."""

    def __init__(self, net: Network, groups: dict[Endpoint, list[int]], by: str) -> None:
        self.c = net.compiled
        self.groups = groups
        self.controlled = {c.dst for c in net.controller_connections(
            by, endpoint=diff_endpoint)}  # type: ignore[arg-type]
        self.weights: npt.NDArray[np.int64] | None = None
        self._run_counts: dict[tuple[tuple[int, ...], bool], int] = {}
        if _single(groups, groups):  # each endpoint one class: count by class weights
            first = np.array([its[0] for its in groups.values()], dtype=np.intp)
            self.weights = np.bincount(first, minlength=self.c.n_classes).astype(np.int64)

    def __call__(self, ep: Endpoint) -> tuple[int, int]:
        c, n = self.c, self.c.n_classes
        classes = self.groups[ep]
        out_cols = (c.allow[classes, :] != 0).any(axis=0)
        in_cols = (c.allow[:, classes] != 0).any(axis=1)
        outbound = self._runs(classes, outbound=True)
        inbound = self._runs(classes, outbound=False)
        if _replicated(ep) and (c.allow[np.ix_(classes, classes)] != 0).any():
            outbound, inbound = outbound + 1, inbound + 1
        inbound += ep in self.controlled
        if self.weights is not None:
            own = classes[0]  # the endpoint itself is one of its class's weight
            outbound += int(self.weights @ out_cols[:n]) - int(out_cols[own])
            inbound += int(self.weights @ in_cols[:n]) - int(in_cols[own])
            return inbound, outbound
        return self._slow(ep, in_cols, out_cols, inbound, outbound)

    def _runs(self, classes: list[int], outbound: bool) -> int:
        """Outside connections: runs of neighbouring atoms with the same ports."""
        key = (tuple(classes), outbound)
        found = self._run_counts.get(key)
        if found is None:
            found = self._run_counts[key] = self._count_runs(classes, outbound)
        return found

    def _count_runs(self, classes: list[int], outbound: bool) -> int:
        c, n = self.c, self.c.n_classes
        count, last = 0, None
        for e, (lo, hi) in enumerate(c.externals):
            ids = c.allow[classes, n + e] if outbound else c.allow[n + e, classes]
            ident = c.ports.join(*(int(i) for i in ids))
            if ident and not (last is not None and last[0] == ident and last[1] + 1 == lo):
                count += 1
            last = (ident, hi) if ident else None
        return count

    def _slow(
        self,
        ep: Endpoint,
        in_cols: npt.NDArray[np.bool_],
        out_cols: npt.NDArray[np.bool_],
        inbound: int,
        outbound: int,
    ) -> tuple[int, int]:
        groups = self.groups
        for other, its in groups.items():
            if other == ep:
                continue
            outbound += bool(out_cols[its].any())
            inbound += bool(in_cols[its].any())
        return inbound, outbound


def diff(old: Network, new: Network, by: Granularity = "workload") -> Diff:
    """Compare the connections ``old`` and ``new`` allow, at granularity ``by``.

    Parameters
    ----------
    old, new
        The networks before and after the change.
    by
        ``"pod"``, ``"workload"`` (the default) or ``"namespace"``.

    Returns
    -------
    Diff
        Truthy when anything differs; ``notes`` reminds that established
        connections survive when the change removes or narrows a connection.

    Examples
    --------
    >>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy
    >>> pods = (Pod("ns", "a"), Pod("ns", "b", Labels({"app": "b"})))
    >>> deny_b = Policy("ns", "deny-b", LabelSelector(Labels({"app": "b"})))
    >>> before, after = Network(Cluster(pods=pods)), Network(Cluster(pods=pods, policies=(deny_b,)))
    >>> change = diff(before, after, by="pod")
    >>> [str(c) for c in change.removed]
    ['0.0.0.0-255.255.255.255[External] => ns/b[Pod] : All Connections', \
'ns/a[Pod] => ns/b[Pod] : All Connections']
    >>> change.notes == (ESTABLISHED_NOTE,)
    True
    >>> bool(diff(after, after))
    False
    """
    if by not in GRANULARITIES:
        raise ValueError(f"by must be one of {', '.join(GRANULARITIES)}, not {by!r}")
    old_groups, new_groups = _groups(old, by), _groups(new, by)
    both = sorted(set(old_groups) & set(new_groups))
    changes = _internal_changes(old, new, old_groups, new_groups, both, by)
    changes.extend(_external_changes(old, new, both, by))
    changes.extend(_controller_changes(old, new, by, both))
    changes.sort(key=_change_key)

    gone = [ep for ep in old_groups if ep not in new_groups]
    came = [ep for ep in new_groups if ep not in old_groups]
    old_degrees, new_degrees = _Degrees(old, old_groups, by), _Degrees(new, new_groups, by)
    old_ns, new_ns = _namespaces(old), _namespaces(new)
    removed = tuple(c for c in changes if c.kind == "removed")
    changed = tuple(c for c in changes if c.kind not in ("added", "removed"))
    notes: tuple[str, ...] = ()
    if removed or any(c.closed for c in changed) or gone:
        notes = (ESTABLISHED_NOTE,)
    return Diff(
        by=by,
        added=tuple(c for c in changes if c.kind == "added"),
        removed=removed,
        changed=changed,
        endpoints_added=tuple(
            EndpointChange(ep, *new_degrees(ep)) for ep in sorted(came)
        ),
        endpoints_removed=tuple(
            EndpointChange(ep, *old_degrees(ep)) for ep in sorted(gone)
        ),
        namespaces_added=tuple(sorted(new_ns - old_ns)),
        namespaces_removed=tuple(sorted(old_ns - new_ns)),
        notes=notes,
    )


def _external_changes(
    old: Network,
    new: Network,
    endpoints: Sequence[Endpoint],
    by: str,
) -> list[Change]:
    """Changes with outside ranges, unit group by unit group (a pod that loses access
    while another pod of its endpoint keeps it is a change), neighbouring atoms with the
    same change merged."""
    atoms = _common_atoms(old, new)
    if not atoms:
        return []
    views = _ExternalView(old), _ExternalView(new)
    wanted = set(endpoints)
    by_endpoint: dict[Endpoint, list[_Group]] = {}
    for group in _unit_groups(old, new, by):
        if group.endpoint in wanted:
            by_endpoint.setdefault(group.endpoint, []).append(group)
    out: list[Change] = []
    for ep in sorted(by_endpoint):
        groups = by_endpoint[ep]
        for outbound in (True, False):
            run: tuple[int, int, tuple[PortSet, ...]] | None = None
            for atom in atoms:
                was = now = more = less = PortSet.none()
                for g in groups:
                    before = views[0].ports(g.old, atom, outbound) if g.old else PortSet.none()
                    after = views[1].ports(g.new, atom, outbound) if g.new else PortSet.none()
                    was, now = was | before, now | after
                    more, less = more | (after - before), less | (before - after)
                state = (was, now, more, less)
                if run is not None and run[1] + 1 == atom[0] and run[2] == state:
                    run = (run[0], atom[1], state)
                    continue
                if run is not None and (run[2][2] or run[2][3]):
                    out.append(_external_change(ep, run, outbound))
                run = (atom[0], atom[1], state)
            if run is not None and (run[2][2] or run[2][3]):
                out.append(_external_change(ep, run, outbound))
    return out


def _external_change(
    ep: Endpoint, run: tuple[int, int, tuple[PortSet, ...]], outbound: bool
) -> Change:
    ext = Endpoint.external(run[0], run[1])
    was, now, more, less = run[2]
    if outbound:
        return Change(ep, ext, was, now, more, less)
    return Change(ext, ep, was, now, more, less)


# ---------------------------------------------------------------------------
# formats


def format_diff(change: Diff, fmt: str = "txt") -> str:
    """Render a :class:`Diff` as ``txt``, ``json`` or ``md`` (no trailing newline).

    Examples
    --------
    >>> print(format_diff(Diff(by="workload")))
    no difference in allowed connections (by workload)
    """
    if fmt == "json":
        return json.dumps(change.to_json(), indent=2)
    if fmt == "txt":
        return _format_txt(change)
    if fmt == "md":
        return _format_md(change)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(DIFF_FORMATS)}")


def _hidden_by_namespace(change: Diff, items: Sequence[EndpointChange], gone: bool) -> list[str]:
    namespaces = set(change.namespaces_removed if gone else change.namespaces_added)
    return [str(e) for e in items if _namespace_of(e.endpoint) not in namespaces]


def _namespace_of(ep: Endpoint) -> str:
    return ep.name if ep.kind == "Namespace" else ep.namespace


def _format_txt(change: Diff) -> str:
    lines = [change.summary()]
    if not change:
        return lines[0]
    for name in change.namespaces_added:
        lines.append(f"+ namespace {name} (new)")
    for name in change.namespaces_removed:
        lines.append(f"- namespace {name} (gone)")
    for text in _hidden_by_namespace(change, change.endpoints_added, gone=False):
        lines.append(f"+ endpoint {text} (new)")
    for text in _hidden_by_namespace(change, change.endpoints_removed, gone=True):
        lines.append(f"- endpoint {text} (gone)")
    for c in change.changes:
        if c.kind == "added":
            lines.append(f"+ {c}")
        elif c.kind == "removed":
            lines.append(f"- {c}")
        else:
            lines.append(f"~ {c}")
            if c.opened:
                lines.append(f"    opened: {c.opened}")
            if c.closed:
                lines.append(f"    closed: {c.closed}")
    lines.extend(f"note: {note}" for note in change.notes)
    return "\n".join(lines)


def _format_md(change: Diff) -> str:
    lines = [f"**{change.summary()}**"]
    if not change:
        return lines[0]
    if change.namespaces_added or change.namespaces_removed:
        lines += ["", "| namespace | change |", "|---|---|"]
        lines += [f"| {n} | added |" for n in change.namespaces_added]
        lines += [f"| {n} | removed |" for n in change.namespaces_removed]
    added = _hidden_by_namespace(change, change.endpoints_added, gone=False)
    removed = _hidden_by_namespace(change, change.endpoints_removed, gone=True)
    if added or removed:
        lines += ["", "| endpoint | change |", "|---|---|"]
        lines += [f"| {text} | added |" for text in added]
        lines += [f"| {text} | removed |" for text in removed]
    if change.changes:
        lines += ["", "| change | src | dst | before | after | opened | closed |",
                  "|---|---|---|---|---|---|---|"]
        for c in change.changes:
            opened = str(c.opened) if c.opened else ""
            closed = str(c.closed) if c.closed else ""
            lines.append(
                f"| {c.kind} | {c.src} | {c.dst} | {c.old} | {c.new} | {opened} | {closed} |"
            )
    lines += ["", *(f"> {note}" for note in change.notes)] if change.notes else []
    return "\n".join(lines)
