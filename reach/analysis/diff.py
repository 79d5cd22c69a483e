"""Semantic diff: what a change to the manifests opens and closes.

Two analysed networks are compared by their *allowed connections*, not by their
YAML text: a policy rewritten with other words but the same meaning makes no
difference, and a one-character label change that opens a database shows up.

Connections are compared at a granularity (``pod``, ``workload`` or
``namespace``). Only endpoints present on both sides are compared edge by edge;
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
>>> str(change.changed[0].closed)
'SCTP 1-65535,TCP 1-5431,5433-65535,UDP 1-65535'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.model import Pod
from reach.network import GRANULARITIES, Connection, Granularity, Network

__all__ = [
    "DIFF_FORMATS",
    "ESTABLISHED_NOTE",
    "Change",
    "Diff",
    "EndpointChange",
    "diff",
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

    @property
    def opened(self) -> PortSet:
        """Ports allowed now that were not allowed before."""
        return self.new - self.old

    @property
    def closed(self) -> PortSet:
        """Ports allowed before that are not allowed any more."""
        return self.old - self.new

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


# ---------------------------------------------------------------------------
# computing


def _change_key(change: Change) -> tuple[str, str]:
    return (str(change.src), str(change.dst))


def _endpoint_of(pod: Pod, by: str) -> Endpoint:
    if by == "pod":
        return Endpoint("Pod", pod.namespace, pod.name)
    if by == "workload":
        return Endpoint(pod.workload_kind, pod.namespace, pod.workload_name)
    return Endpoint("Namespace", "", pod.namespace)


def _groups(net: Network, by: str) -> dict[Endpoint, list[int]]:
    """In-cluster endpoints at granularity ``by``, each with its classes (sorted)."""
    c = net.compiled
    out: dict[Endpoint, set[int]] = {}
    for i, pod in enumerate(c.pods):
        out.setdefault(_endpoint_of(pod, by), set()).add(int(c.pod_class[i]))
    return {ep: sorted(classes) for ep, classes in out.items()}


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
    if _single(old_groups, both) and _single(new_groups, both):
        return _joint_changes(old, new, old_groups, new_groups, both)
    keep = set(both)
    old_conns, new_conns = _internal(old.connections(by)), _internal(new.connections(by))
    out = []
    for pair in old_conns.keys() | new_conns.keys():
        if pair[0] not in keep or pair[1] not in keep:
            continue
        before = old_conns.get(pair, PortSet.none())
        after = new_conns.get(pair, PortSet.none())
        if before != after:
            out.append(Change(pair[0], pair[1], before, after))
    return out


def _joint_changes(
    old: Network,
    new: Network,
    old_groups: dict[Endpoint, list[int]],
    new_groups: dict[Endpoint, list[int]],
    both: Sequence[Endpoint],
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
    out = []
    for i, j in zip(*np.nonzero(mask), strict=True):
        before = old_ports[int(before_ids[i, j])]
        after = new_ports[int(after_ids[i, j])]
        for a in joint[keys[i]]:
            for b in joint[keys[j]]:
                if a != b:
                    out.append(Change(a, b, before, after))
    return out


class _Degrees:
    """How many endpoints (and outside ranges) an endpoint accepts connections from and
    opens connections to, in one network."""

    def __init__(self, net: Network, groups: dict[Endpoint, list[int]]) -> None:
        self.c = net.compiled
        self.groups = groups
        self.weights: npt.NDArray[np.int64] | None = None
        if _single(groups, groups):  # each endpoint one class: count by class weights
            first = np.array([its[0] for its in groups.values()], dtype=np.intp)
            self.weights = np.bincount(first, minlength=self.c.n_classes).astype(np.int64)

    def __call__(self, ep: Endpoint) -> tuple[int, int]:
        c, n = self.c, self.c.n_classes
        classes = self.groups[ep]
        out_cols = (c.allow[classes, :] != 0).any(axis=0)
        in_cols = (c.allow[:, classes] != 0).any(axis=1)
        outbound = int(out_cols[n:].sum())
        inbound = int(in_cols[n:].sum())
        if self.weights is not None:
            own = classes[0]  # the endpoint itself is one of its class's weight
            outbound += int(self.weights @ out_cols[:n]) - int(out_cols[own])
            inbound += int(self.weights @ in_cols[:n]) - int(in_cols[own])
            return inbound, outbound
        return self._slow(ep, in_cols, out_cols, inbound, outbound)

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
    changes.extend(_external_changes(old, new, old_groups, new_groups, both))
    changes.sort(key=_change_key)

    gone = [ep for ep in old_groups if ep not in new_groups]
    came = [ep for ep in new_groups if ep not in old_groups]
    old_degrees, new_degrees = _Degrees(old, old_groups), _Degrees(new, new_groups)
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
    old_groups: dict[Endpoint, list[int]],
    new_groups: dict[Endpoint, list[int]],
    endpoints: Sequence[Endpoint],
) -> list[Change]:
    atoms = _common_atoms(old, new)
    if not atoms:
        return []
    views = _ExternalView(old), _ExternalView(new)
    out: list[Change] = []
    for ep in endpoints:
        for outbound in (True, False):
            run: tuple[int, int, PortSet, PortSet] | None = None
            for atom in atoms:
                before = views[0].ports(old_groups[ep], atom, outbound)
                after = views[1].ports(new_groups[ep], atom, outbound)
                if run is not None and run[1] + 1 == atom[0] and (run[2], run[3]) == (
                    before,
                    after,
                ):
                    run = (run[0], atom[1], before, after)
                    continue
                if run is not None and run[2] != run[3]:
                    out.append(_external_change(ep, run, outbound))
                run = (atom[0], atom[1], before, after)
            if run is not None and run[2] != run[3]:
                out.append(_external_change(ep, run, outbound))
    return out


def _external_change(
    ep: Endpoint, run: tuple[int, int, PortSet, PortSet], outbound: bool
) -> Change:
    ext = Endpoint.external(run[0], run[1])
    if outbound:
        return Change(ep, ext, run[2], run[3])
    return Change(ext, ep, run[2], run[3])


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
