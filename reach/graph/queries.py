"""Questions over the reachability graph: paths, reachable sets, isolated pods, exposure.

networkx style: plain functions taking the analysed network first. They work on the
class-level view (:func:`reach.graph.views.class_view`), so answers are exact at pod level
(every hop of a path is a connection between two distinct real pods) and cheap on
large clusters; results are shown at the granularity asked for (``by``).

Endpoints (``src``/``dst``) are what :meth:`Network.resolve` understands (pods,
workloads, IP addresses), plus Services (``NAMESPACE/svc/NAME``, or
``NAMESPACE/NAME`` when no workload has that name), ``internet`` and
``ingress-controller``.

Which nodes a path may go *through*: pods (through their classes) and the synthetic
ingress controller. Services, address ranges and the internet are only ever the first
or the last node: a path through "the internet" would join two unrelated outside
hosts. A path from a Service starts with the forwarding hop ``svc -> backend``; a path
to a Service ends with the client's hop ``client -> svc``.

Examples
--------
>>> from reach.model import Cluster, Labels, LabelSelector, Peer, Pod, Policy, PolicyPort, Rule
>>> from reach.network import Network
>>> def only(app, peer, port):
...     sel = LabelSelector(Labels({"app": app}))
...     frm = Peer(pod_selector=LabelSelector(Labels({"app": peer})))
...     return Policy("shop", f"{app}-ingress", sel, ingress=(
...         Rule("ingress", 0, (frm,), (PolicyPort("TCP", port),)),))
>>> pods = tuple(Pod("shop", app, Labels({"app": app})) for app in ("web", "api", "db"))
>>> net = Network(Cluster(pods=pods, policies=(only("api", "web", 8080), only("db", "api", 5432))))
>>> found = paths(net, "shop/web", "shop/db", by="pod")
>>> print(found.paths[0])
shop/web[Pod] --TCP 8080--> shop/api[Pod] --TCP 5432--> shop/db[Pod]
>>> [(str(e), hops) for e, hops in reachable_to(net, "shop/db", by="pod").endpoints]
[('shop/api[Pod]', 1), ('shop/web[Pod]', 2), ('0.0.0.0-255.255.255.255[External]', 3)]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from reach.endpoints import PUBLIC_ADDRESSES, Endpoint, pod_endpoint
from reach.engine.intervals import IntervalSet
from reach.engine.ports import PortSet
from reach.engine.portsets import NO_PORTS, iter_bits
from reach.errors import InvalidQuery, UnknownEndpoint
from reach.graph.views import (
    BY,
    HTTP_PORTS,
    INGRESS_CONTROLLER,
    INTERNET,
    ClassView,
    Grouping,
    class_view,
    grouping,
    join_ids,
)
from reach.model import Diagnostic
from reach.network import Network, Resolved

__all__ = [
    "Exposed",
    "Exposure",
    "Hop",
    "Isolation",
    "Path",
    "PathResult",
    "PodIsolation",
    "Reachable",
    "exposure",
    "isolated",
    "paths",
    "reachable_from",
    "reachable_to",
]

IntArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]
Granularity = Literal["pod", "workload", "namespace", "class"]

#: How many search steps a path query may take before it stops and says so.
SEARCH_BUDGET = 200_000


def _check_by(by: str) -> None:
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")


# ---------------------------------------------------------------------------
# endpoints


@dataclass(frozen=True, slots=True)
class _End:
    """A resolved query endpoint.

    ``columns``: the outside atoms of an address or range; ``services``: the Services
    of a Service end (one), or of an Ingress or Route (those it routes to).
    """

    endpoint: Endpoint
    kind: Literal["pods", "internet", "address", "service", "controller"]
    pods: tuple[int, ...] = ()
    columns: tuple[int, ...] = ()
    services: tuple[int, ...] = ()


def _resolve(view: ClassView, reference: str | Endpoint, port: int | str | None = None,
             protocol: str = "TCP") -> _End:
    """The end a reference names, through :meth:`Network.resolve` (one resolver; a
    destination's ``port`` may say that NAMESPACE/NAME is a Service)."""
    net = view.net
    found = net.resolve(reference, port, protocol)
    kind = found.kind
    if kind == "internet":
        return _End(INTERNET, "internet")
    if kind == "controller":
        return _End(INGRESS_CONTROLLER, "controller")
    if kind in ("service", "ingress"):
        wanted = ({(found.service.service.namespace, found.service.service.name)}
                  if found.service is not None else
                  {(r.service.service.namespace, r.service.service.name) for r in found.routes})
        services = tuple(s for s, edges in enumerate(view.services)
                         if (edges.info.service.namespace, edges.info.service.name) in wanted)
        return _End(found.endpoint, "service", services=services)
    if kind == "pods":
        return _End(found.endpoint, "pods", pods=found.pods)
    span = found.span
    assert span is not None
    c = net.compiled
    columns = tuple(c.n_classes + e for e, (lo, hi) in enumerate(c.externals)
                    if lo <= span[1] and span[0] <= hi)
    return _End(found.endpoint, "address", columns=columns)


def _number(net: Network, dst: str | Endpoint | None, port: int | str | None,
            protocol: str) -> tuple[int | None, str]:
    """A port given as a number or a name (resolved on the destination ``dst``)."""
    if isinstance(port, str) and not port.strip().isdigit() and dst is None:
        raise InvalidQuery(f'a port name ("{port}") needs a destination to be resolved on; '
                           "give a number")
    if dst is None or port is None:
        return (int(port) if port is not None else None), protocol.upper()
    try:
        return net.resolve_port(dst, port, protocol)
    except InvalidQuery:
        if isinstance(port, str) and not port.strip().isdigit():
            raise
        number = int(port)
        if not 1 <= number <= 65535:
            raise
        return number, protocol.upper()  # a number is a number, whatever the destination


# ---------------------------------------------------------------------------
# the search graph: classes in the middle, one super node at each end


class _Search:
    """The role-class graph with a source node ``S`` and a target node ``T``, for one question.

    Node ids: role classes ``0 .. n-1`` (see :class:`~reach.graph.views.ClassView`), the
    synthetic ingress controller ``n``, ``S = n+1``, ``T = n+2``. A role class may be
    passed through only when it has a pod outside both ends. Edges whose ports miss
    ``(protocol, port)`` are left out. Arrays named ``*_cc`` are over compiled classes.
    """

    def __init__(self, view: ClassView, src: _End | None, dst: _End | None,
                 port: int | None, protocol: str) -> None:
        self.view = view
        self.src, self.dst = src, dst
        self.port, self.protocol = port, protocol.upper()
        n = self.n = view.n_roles
        self.IC, self.S, self.T = n, n + 1, n + 2
        self.rc = view.role_class
        self.pod_class = view.net.compiled.pod_class
        ends = set(src.pods if src else ()) | set(dst.pods if dst else ())
        self.ends = ends
        sizes = np.array([len(members) for members in view.role_pods], dtype=np.int64)
        taken = np.bincount(view.pod_role[sorted(ends)], minlength=n) if ends \
            else np.zeros(n, dtype=np.int64)
        self.usable: BoolArray = sizes > taken
        self.ic = view.synthetic_controller
        zeros = np.zeros(n, dtype=np.int32)
        self.s_out, self.s_ic = self._source(src) if src else (zeros, NO_PORTS)
        self.t_in, self.ic_t = self._target(dst) if dst else (zeros, NO_PORTS)
        self.s_t = self._direct(src, dst) if src and dst else NO_PORTS
        self.ic_out = view.ic_out if self.ic else zeros
        table = view.table
        self._ok = np.array([bool(table[i]) and (port is None or table[i].allows(
            self.protocol, port)) for i in range(len(table))], dtype=np.bool_)
        cc = view.n
        inner = self.ok(view.allow[:cc, :cc])[np.ix_(self.rc, self.rc)]
        np.fill_diagonal(inner, False)
        inner &= self.usable[:, None] & self.usable[None, :]
        rows, cols = np.nonzero(inner)
        self.fwd_ptr = np.searchsorted(rows, np.arange(n + 1))
        self.fwd_idx = cols
        cols_t, rows_t = np.nonzero(inner.T)
        self.bwd_ptr = np.searchsorted(cols_t, np.arange(n + 1))
        self.bwd_idx = rows_t
        self.s_ok = self.ok(self.s_out) & self.usable
        self.t_ok = self.ok(self.t_in) & self.usable
        self.ic_ok = self.ok(self.ic_out) & self.usable

    def _grown(self) -> None:
        """Port sets interned since the search was built (joins of the ends) are judged too."""
        table = self.view.table
        if len(self._ok) < len(table):
            extra = [bool(table[i]) and (self.port is None or table[i].allows(
                self.protocol, self.port)) for i in range(len(self._ok), len(table))]
            self._ok = np.concatenate([self._ok, np.array(extra, dtype=np.bool_)])

    def ok(self, ids: npt.NDArray[Any]) -> BoolArray:
        if ids.size and int(ids.max()) >= len(self._ok):
            self._grown()
        out: BoolArray = self._ok[ids]
        return out

    def ok_id(self, ident: int) -> bool:
        if ident >= len(self._ok):
            self._grown()
        return bool(self._ok[ident])

    # -- the ends -----------------------------------------------------------

    def classes(self, pods: Sequence[int]) -> list[int]:
        """The compiled classes of ``pods``."""
        return sorted({int(self.pod_class[p]) for p in pods})

    def roles(self, pods: Sequence[int]) -> list[int]:
        return sorted({int(self.view.pod_role[p]) for p in pods})

    def _join_rows(self, rows: Sequence[IntArray]) -> IntArray:
        """The element-wise join of rows over compiled classes, as a row over role classes."""
        table = self.view.table
        acc = np.zeros(self.view.n, dtype=np.int32)
        for row in rows:
            acc = join_ids(table, acc, row)
        out: IntArray = acc[self.rc]
        return out

    def join(self, ids: Sequence[int] | IntArray) -> int:
        return self.view.table.join(*(int(i) for i in ids))

    def _backends(self, s: int) -> list[tuple[int, int]]:
        """``(pod, received id)`` of the pod backends of service ``s``."""
        edges = self.view.services[s]
        return [(b.pod, ident) for b, ident in zip(edges.info.backends, edges.backend_ids,
                                                   strict=True) if b.pod is not None]

    def _source(self, end: _End) -> tuple[IntArray, int]:
        view, cc = self.view, self.view.n
        if end.kind == "pods":
            return self._join_rows([view.allow[c, :cc] for c in self.classes(end.pods)]), NO_PORTS
        if end.kind == "internet":
            ic = view.table.intern(HTTP_PORTS) if self.ic else NO_PORTS
            return view.internet_in, ic
        if end.kind == "address":
            rows = [view.allow[col, :cc] for col in end.columns]
            return self.join_arrays(self._join_rows(rows), self._through_services(end)), NO_PORTS
        if end.kind == "controller":
            return view.ic_out, NO_PORTS
        out = np.zeros(self.n, dtype=np.int32)
        for s in end.services:
            for pod, ident in self._backends(s):
                role = int(view.pod_role[pod])
                out[role] = view.table.join(int(out[role]), ident)
        return out, NO_PORTS

    def join_arrays(self, a: IntArray, b: IntArray) -> IntArray:
        return join_ids(self.view.table, a, b)

    def _through_services(self, end: _End) -> IntArray:
        """Per role class, what outside addresses ``end`` reach it on through NodePort and
        LoadBalancer Services: the backend admits the client (``Local``) or a node."""
        view, table = self.view, self.view.table
        out = np.zeros(self.n, dtype=np.int32)
        for s in range(len(view.services)):
            for role, ident in self._service_entry(s, end).items():
                out[role] = table.join(int(out[role]), ident)
        return out

    def _service_entry(self, s: int, end: _End) -> dict[int, int]:
        """Per role class, what outside address ``end`` reaches through service ``s``."""
        view, table = self.view, self.view.table
        info = view.services[s].info
        if not info.exposed:
            return {}
        local = info.service.external_traffic_policy == "Local"
        pod_class = self.pod_class
        out: dict[int, int] = {}
        for backend in info.backends:
            if backend.pod is None:
                continue
            cls = int(pod_class[backend.pod])
            if local:
                seen = table.join(*(int(view.allow[col, cls]) for col in end.columns))
            else:
                seen = int(view.node_in[cls])
            got = table.meet(seen, table.intern(backend.received()))
            if got != NO_PORTS:
                role = int(view.pod_role[backend.pod])
                out[role] = table.join(out.get(role, NO_PORTS), got)
        return out

    def _front(self, s: int) -> IntArray:
        """Per compiled class, the service ports of ``s`` it may use."""
        edges = self.view.services[s]
        out = np.zeros(self.view.n, dtype=np.int32)
        out[edges.front_cols] = edges.front_ids
        return out

    def _target(self, end: _End) -> tuple[IntArray, int]:
        view, cc = self.view, self.view.n
        if end.kind == "pods":
            ic = self.join(view.ic_out[self.roles(end.pods)]) if self.ic else NO_PORTS
            return self._join_rows([view.allow[:cc, c] for c in self.classes(end.pods)]), ic
        if end.kind == "internet":
            return self._join_rows([view.direct_out]), NO_PORTS
        if end.kind == "address":
            return self._join_rows([view.allow[:cc, col] for col in end.columns]), NO_PORTS
        if end.kind == "controller":
            return np.zeros(self.n, dtype=np.int32), NO_PORTS
        return (self._join_rows([self._front(s) for s in end.services]),
                self.join([view.services[s].ic_front for s in end.services]))

    def _direct(self, src: _End, dst: _End) -> int:
        view, table = self.view, self.view.table
        if src.kind == "pods":
            classes = self.classes(src.pods)
            if dst.kind == "pods":
                a = Resolved(src.endpoint, src.pods)
                b = Resolved(dst.endpoint, dst.pods)
                return table.intern(view.net.ports_between(a, b))
            if dst.kind == "internet":
                return self.join(view.direct_out[classes])
            if dst.kind == "address":
                return self.join([int(view.allow[c, col]) for c in classes
                                  for col in dst.columns])
            if dst.kind == "service":
                return self.join([int(self._front(s)[c]) for s in dst.services
                                  for c in classes])
            return NO_PORTS
        if src.kind == "internet":
            if dst.kind == "pods":
                return self.join(view.internet_in[self.roles(dst.pods)])
            if dst.kind == "service":
                return self.join([view.services[s].entry for s in dst.services])
            if dst.kind == "controller":
                return table.intern(HTTP_PORTS)
            return NO_PORTS
        if src.kind == "address" and dst.kind == "pods":
            direct = [int(view.allow[col, c]) for col in src.columns
                      for c in self.classes(dst.pods)]
            through = self._through_services(src)[self.roles(dst.pods)]
            return self.join([*direct, *through.tolist()])
        if src.kind == "address" and dst.kind == "service":
            return self.join([self._address_entry(s, src) for s in dst.services])
        if src.kind == "service" and dst.kind == "pods":
            wanted = set(dst.pods)
            return self.join([i for s in src.services for p, i in self._backends(s)
                              if p in wanted])
        if src.kind == "controller":
            if dst.kind == "pods":
                return self.join(view.ic_out[self.roles(dst.pods)])
            if dst.kind == "service":
                return self.join([view.services[s].ic_front for s in dst.services])
        return NO_PORTS

    def _address_entry(self, s: int, end: _End) -> int:
        """What outside address ``end`` connects to on service ``s``: the entry of each
        service port that some backend admits it on."""
        view, table = self.view, self.view.table
        info = view.services[s].info
        if not info.exposed:
            return NO_PORTS
        local = info.service.external_traffic_policy == "Local"
        out = NO_PORTS
        for backend in info.backends:
            if backend.pod is None:
                continue
            cls = int(self.pod_class[backend.pod])
            seen = (table.join(*(int(view.allow[col, cls]) for col in end.columns)) if local
                    else int(view.node_in[cls]))
            for i, target in enumerate(backend.targets):
                if table.meet(seen, table.intern(target)) != NO_PORTS:
                    out = table.join(out, table.intern(info.entry(i)))
        return out

    # -- adjacency ----------------------------------------------------------

    def successors(self, u: int) -> list[int]:
        out: list[int]
        if u == self.T:
            return []
        if u == self.S:
            out = np.nonzero(self.s_ok)[0].tolist()
            if self.ic and self.ok_id(self.s_ic):
                out.append(self.IC)
            if self.ok_id(self.s_t):
                out.append(self.T)
            return out
        if u == self.IC:
            out = np.nonzero(self.ic_ok)[0].tolist()
            if self.ok_id(self.ic_t):
                out.append(self.T)
            return out
        out = self.fwd_idx[self.fwd_ptr[u]:self.fwd_ptr[u + 1]].tolist()
        if self.ok_id(int(self.t_in[u])):
            out.append(self.T)
        return out

    def predecessors(self, v: int) -> list[int]:
        out: list[int]
        if v == self.S:
            return []
        if v == self.T:
            out = np.nonzero(self.t_ok)[0].tolist()
            if self.ic and self.ok_id(self.ic_t):
                out.append(self.IC)
            if self.ok_id(self.s_t):
                out.append(self.S)
            return out
        if v == self.IC:
            return [self.S] if self.ic and self.ok_id(self.s_ic) else []
        out = self.bwd_idx[self.bwd_ptr[v]:self.bwd_ptr[v + 1]].tolist()
        if self.ic and self.ic_ok[v]:
            out.append(self.IC)
        if self.s_ok[v]:
            out.append(self.S)
        return out

    def edge_id(self, u: int, v: int) -> int:
        if u == self.S:
            if v == self.T:
                return self.s_t
            return self.s_ic if v == self.IC else int(self.s_out[v])
        if u == self.IC:
            return self.ic_t if v == self.T else int(self.ic_out[v])
        if v == self.T:
            return int(self.t_in[u])
        return int(self.view.allow[self.rc[u], self.rc[v]])

    def bfs(self, start: int, forward: bool, limit: int | None = None) -> dict[int, int]:
        """Hop distances from ``start`` (forward) or to it (backward)."""
        dist = {start: 0}
        queue = deque([start])
        step = self.successors if forward else self.predecessors
        while queue:
            u = queue.popleft()
            if limit is not None and dist[u] >= limit:
                continue
            if u != start and u in (self.S, self.T):
                continue
            for v in step(u):
                if v not in dist:
                    dist[v] = dist[u] + 1
                    queue.append(v)
        return dist

    def service_via(self, role: int) -> tuple[Endpoint, int, int] | None:
        """How an outside source reaches role class ``role`` through a NodePort or
        LoadBalancer Service (the way outside traffic usually arrives, so it is shown
        even where policies would also admit the source directly): the Service, what
        the client connects to, what the backend receives. None when no Service does."""
        src, view = self.src, self.view
        assert src is not None
        members = set(view.role_pods[role])
        if src.kind == "internet":
            for edges in view.services:
                for b, ident in edges.received.items():
                    if edges.info.backends[b].pod in members and self.ok_id(ident):
                        return edges.info.endpoint, edges.entry, ident
            return None
        for s, edges in enumerate(view.services):
            got = self._service_entry(s, src).get(role, NO_PORTS)
            if self.ok_id(got):
                return edges.info.endpoint, self._address_entry(s, src), got
        return None

    def representative(self, role: int) -> int:
        """A pod of role class ``role`` outside both ends."""
        return next(p for p in self.view.role_pods[role] if p not in self.ends)

    def pods_of(self, role: int) -> list[int]:
        return [p for p in self.view.role_pods[role] if p not in self.ends]


# ---------------------------------------------------------------------------
# paths


@dataclass(frozen=True, slots=True)
class Hop:
    """One allowed connection of a path, or a Service forwarding to a backend.

    A forwarding hop (``src`` is a Service) is kube-proxy rewriting the connection that
    reached the Service: it is no connection of its own and does not count as a hop.
    """

    src: Endpoint
    dst: Endpoint
    ports: PortSet

    @property
    def forwarding(self) -> bool:
        return self.src.kind == "Service"

    def __str__(self) -> str:
        return f"{self.src} --{self.ports}--> {self.dst}"


@dataclass(frozen=True, slots=True)
class Path:
    """A multi-hop path; ``len(path)`` is its number of connections (forwarding by a
    Service to a backend is part of the connection that reached the Service)."""

    hops: tuple[Hop, ...]

    @property
    def nodes(self) -> tuple[Endpoint, ...]:
        if not self.hops:
            return ()
        return (self.hops[0].src, *(hop.dst for hop in self.hops))

    def __len__(self) -> int:
        return sum(1 for hop in self.hops if not hop.forwarding)

    def __str__(self) -> str:
        if not self.hops:
            return ""
        parts = [str(self.hops[0].src)]
        for hop in self.hops:
            parts.append(f"--{hop.ports}--> {hop.dst}")
        return " ".join(parts)

    def to_json(self) -> list[dict[str, Any]]:
        return [ep.to_json() for ep in self.nodes]


@dataclass(frozen=True, slots=True)
class PathResult:
    """The shortest paths from ``src`` to ``dst``, shortest first. Truthy when one exists.

    ``truncated`` means the enumeration stopped at ``limit`` paths (or at the search
    budget): more paths of the longest length shown may exist.
    """

    src: Endpoint
    dst: Endpoint
    paths: tuple[Path, ...]
    max_hops: int
    port: int | None = None
    protocol: str = "TCP"
    by: str = "workload"
    truncated: bool = False

    def __bool__(self) -> bool:
        return bool(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[Path]:
        return iter(self.paths)

    def _what(self) -> str:
        on = f" on {self.protocol} {self.port}" if self.port is not None else ""
        return f"from {self.src} to {self.dst}{on} within {self.max_hops} hops"

    def __repr__(self) -> str:
        count = f"{len(self.paths)}{'+' if self.truncated else ''}"
        return f"<PathResult {count} path{'s' if len(self.paths) != 1 else ''} {self._what()}>"

    def __str__(self) -> str:
        if not self.paths:
            return f"no path {self._what()}"
        count = f"{len(self.paths)}{'+' if self.truncated else ''}"
        lines = [f"{count} path{'s' if len(self.paths) != 1 else ''} {self._what()}:"]
        lines += [f"{len(p)} hop{'s' if len(p) != 1 else ''}: {p}" for p in self.paths]
        return "\n".join(lines)


    def to_json(self) -> dict[str, Any]:
        return {
            "src": self.src.to_json(),
            "dst": self.dst.to_json(),
            "paths": [p.to_json() for p in self.paths],
            "ports": [[str(h.ports) for h in p.hops] for p in self.paths],
            "truncated": self.truncated,
        }


def _show(search: _Search, group: Grouping, nodes: Sequence[int]) -> Path:
    """Turn a path of search nodes into endpoints and hops."""
    src, dst = search.src, search.dst
    assert src is not None and dst is not None
    shown: list[Endpoint] = []
    for node in nodes:
        if node == search.S:
            shown.append(src.endpoint)
        elif node == search.T:
            shown.append(dst.endpoint)
        elif node == search.IC:
            shown.append(INGRESS_CONTROLLER)
        else:
            pod = search.representative(node)
            shown.append(group.nodes[int(group.pod_node[pod])])
    table = search.view.table
    hops = [
        Hop(shown[k], shown[k + 1], table[search.edge_id(nodes[k], nodes[k + 1])])
        for k in range(len(nodes) - 1)
    ]
    first = nodes[1] if len(nodes) > 1 else None
    roles = ([first] if first is not None and first < search.n else
             search.roles(dst.pods) if first == search.T and dst.kind == "pods" else [])
    via = None
    if src.kind in ("internet", "address"):
        via = next((found for found in map(search.service_via, roles) if found), None)
    if via is not None:  # outside -> Service -> backend, in that order
        service, entry, received = via
        hops[0:1] = [Hop(shown[0], service, table[entry]),
                     Hop(service, shown[1], table[received])]
    return Path(tuple(hops))


def paths(
    net: Network,
    src: str | Endpoint,
    dst: str | Endpoint,
    max_hops: int = 4,
    port: int | str | None = None,
    protocol: str = "TCP",
    limit: int = 10,
    by: Granularity = "workload",
) -> PathResult:
    """The shortest multi-hop paths from ``src`` to ``dst``, each hop an allowed connection.

    Paths come shortest first, at most ``limit`` of them and none longer than
    ``max_hops``; simple paths are enumerated length by length with a search pruned
    by the distance to ``dst``, never all simple paths.

    Parameters
    ----------
    net
        The analysed network.
    src, dst
        Pods, workloads, IP addresses, Services, ``"internet"``, ``"ingress-controller"``.
    max_hops
        The longest path wanted.
    port, protocol
        Keep only hops that allow this port (None: any port).
    limit
        How many paths at most.
    by
        The granularity the intermediate nodes are shown at.

    Examples
    --------
    >>> from reach.model import Cluster, Pod
    >>> net = Network(Cluster(pods=(Pod("ns", "a"), Pod("ns", "b"))))
    >>> for path in paths(net, "ns/a", "internet", by="pod"):
    ...     print(path)
    ns/a[Pod] --All Connections--> {internet}
    ns/a[Pod] --All Connections--> ns/b[Pod] --All Connections--> {internet}
    >>> bool(paths(net, "ns/a", "ns/b", max_hops=0))
    False
    """
    _check_by(by)
    if max_hops < 0 or limit < 0:
        raise ValueError("max_hops and limit must not be negative")
    view = class_view(net)
    a, b = _resolve(view, src), _resolve(view, dst, port, protocol)
    port, protocol = _number(net, b.endpoint, port, protocol)
    search = _Search(view, a, b, port, protocol)
    group = grouping(view, by)
    found: list[Path] = []
    seen: set[tuple[Endpoint, ...]] = set()
    truncated = False
    if a.endpoint == b.endpoint:
        return PathResult(a.endpoint, b.endpoint, (Path(()),), max_hops, port, protocol, by)
    # a Service's forwarding to its backend is part of the connection that reached it
    longest = max_hops + (1 if a.kind == "service" else 0)
    to_target = search.bfs(search.T, forward=False, limit=longest)
    shortest = to_target.get(search.S)
    budget = [SEARCH_BUDGET]
    if shortest is not None and limit:
        for length in range(shortest, longest + 1):
            for nodes in _simple_paths(search, to_target, length, budget):
                shown = _show(search, group, nodes)
                if shown.nodes not in seen:
                    seen.add(shown.nodes)
                    found.append(shown)
                if len(found) >= limit:
                    break
            if len(found) >= limit:
                truncated = True
                break
            if budget[0] <= 0:
                truncated = True
                break
    return PathResult(a.endpoint, b.endpoint, tuple(found), max_hops, port, protocol.upper(), by,
                      truncated)


def _simple_paths(search: _Search, to_target: dict[int, int], length: int,
                  budget: list[int]) -> Iterator[list[int]]:
    """Simple paths S -> T of exactly ``length`` hops, through intermediates only."""
    path = [search.S]
    on_path = {search.S}

    def walk(u: int, remaining: int) -> Iterator[list[int]]:
        if budget[0] <= 0:
            return
        budget[0] -= 1
        for v in search.successors(u):
            if v in on_path:
                continue
            if v == search.T:
                if remaining == 1:
                    yield [*path, v]
                continue
            if v == search.S or to_target.get(v, length + 1) > remaining - 1:
                continue
            path.append(v)
            on_path.add(v)
            yield from walk(v, remaining - 1)
            path.pop()
            on_path.discard(v)

    yield from walk(search.S, length)


# ---------------------------------------------------------------------------
# reachable sets


@dataclass(frozen=True, slots=True)
class Reachable:
    """Everything reachable from (``direction="from"``) or reaching (``"to"``) ``origin``.

    ``endpoints`` pairs each endpoint with the fewest hops it takes, sorted by hops
    then name.
    """

    origin: Endpoint
    direction: Literal["from", "to"]
    endpoints: tuple[tuple[Endpoint, int], ...]
    port: int | None = None
    protocol: str = "TCP"

    def __bool__(self) -> bool:
        return bool(self.endpoints)

    def __len__(self) -> int:
        return len(self.endpoints)

    def __contains__(self, item: object) -> bool:
        return any(ep == item for ep, _ in self.endpoints)

    def __repr__(self) -> str:
        verb = "reachable from" if self.direction == "from" else "reaching"
        return f"<Reachable {len(self.endpoints)} endpoints {verb} {self.origin}>"

    def __iter__(self) -> Iterator[tuple[Endpoint, int]]:
        return iter(self.endpoints)

    def __str__(self) -> str:
        on = f" on {self.protocol} {self.port}" if self.port is not None else ""
        verb = "reachable from" if self.direction == "from" else "can reach"
        if not self.endpoints:
            return f"nothing {verb} {self.origin}{on}"
        count = len(self.endpoints)
        lines = [f"{count} endpoint{'s' if count != 1 else ''} {verb} {self.origin}{on}:"]
        lines += [f"{hops} hop{'s' if hops != 1 else ''}: {ep}" for ep, hops in self.endpoints]
        return "\n".join(lines)


    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin.to_json(),
            "direction": self.direction,
            "endpoints": [{**ep.to_json(), "hops": hops} for ep, hops in self.endpoints],
        }


def _collect(found: dict[Endpoint, int], ep: Endpoint, hops: int) -> None:
    if hops < found.get(ep, hops + 1):
        found[ep] = hops


def _reached_pods(search: _Search, group: Grouping, dist: dict[int, int],
                  found: dict[Endpoint, int]) -> None:
    for node, hops in dist.items():
        if node < search.n:
            for p in search.pods_of(node):
                _collect(found, group.nodes[int(group.pod_node[p])], hops)
        elif node == search.IC:
            _collect(found, INGRESS_CONTROLLER, hops)


def _finish(origin: _End, direction: Literal["from", "to"], found: dict[Endpoint, int],
            port: int | None, protocol: str) -> Reachable:
    """The reached endpoints, without the origin; outside ranges merged where they touch
    and have the same distance. The internet does not reach (or get reached from) the
    public part of the outside: only the private ranges it can get to through pods."""
    found.pop(origin.endpoint, None)
    found.pop(INTERNET if origin.kind == "internet" else origin.endpoint, None)
    ranges = sorted((ep.lo, ep.hi, hops) for ep, hops in found.items() if ep.is_external)
    for ep in [ep for ep in found if ep.is_external]:
        del found[ep]
    if origin.kind == "internet":
        private = IntervalSet.from_iterable((lo, hi) for lo, hi, _ in ranges)
        private = private - PUBLIC_ADDRESSES.intervals
        ranges = [(max(a, lo), min(b, hi), hops) for lo, hi, hops in ranges
                  for a, b in private.intervals if a <= hi and lo <= b]
        ranges.sort()
    merged: list[tuple[int, int, int]] = []
    for lo, hi, hops in ranges:
        if merged and merged[-1][1] + 1 == lo and merged[-1][2] == hops:
            merged[-1] = (merged[-1][0], hi, hops)
        else:
            merged.append((lo, hi, hops))
    for lo, hi, hops in merged:
        found[Endpoint.external(lo, hi)] = hops
    ordered = sorted(found.items(), key=lambda kv: (kv[1], str(kv[0])))
    return Reachable(origin.endpoint, direction, tuple(ordered), port, protocol.upper())


def reachable_from(
    net: Network,
    src: str | Endpoint,
    port: int | str | None = None,
    protocol: str = "TCP",
    by: Granularity = "workload",
) -> Reachable:
    """The blast radius of ``src``: everything it reaches in any number of hops.

    Pods (at granularity ``by``), outside address ranges and the internet, each with
    the fewest hops it takes.

    Examples
    --------
    >>> from reach.model import Cluster, Pod
    >>> net = Network(Cluster(pods=(Pod("ns", "a"), Pod("ns", "b"))))
    >>> [(str(e), h) for e, h in reachable_from(net, "ns/a", by="pod").endpoints]
    [('0.0.0.0-255.255.255.255[External]', 1), ('ns/b[Pod]', 1), ('{internet}', 1)]
    """
    _check_by(by)
    view = class_view(net)
    origin = _resolve(view, src)
    port, protocol = _number(net, None, port, protocol)
    search = _Search(view, origin, None, port, protocol)
    group = grouping(view, by)
    dist = search.bfs(search.S, forward=True)
    found: dict[Endpoint, int] = {}
    _reached_pods(search, group, dist, found)
    n, rc = view.n, view.role_class
    # the last hop may leave for an outside range or the internet, from any pod reached
    sends: list[tuple[int, int]] = [(int(rc[r]), h) for r, h in dist.items() if r < search.n]
    if origin.kind == "pods":
        sends += [(c, 0) for c in search.classes(origin.pods)]
    externals = net.compiled.externals
    for c, h in sends:
        for e in np.nonzero(search.ok(view.allow[c, n:]))[0].tolist():
            _collect(found, Endpoint.external(*externals[e]), h + 1)
        if search.ok_id(int(view.direct_out[c])):
            _collect(found, INTERNET, h + 1)
    return _finish(origin, "from", found, port, protocol)


def reachable_to(
    net: Network,
    dst: str | Endpoint,
    port: int | str | None = None,
    protocol: str = "TCP",
    by: Granularity = "workload",
) -> Reachable:
    """Everything that reaches ``dst`` in any number of hops, with the fewest hops.

    Examples
    --------
    >>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy
    >>> db = Pod("ns", "db", Labels({"app": "db"}))
    >>> deny = Policy("ns", "deny", LabelSelector(Labels({"app": "db"})))
    >>> bool(reachable_to(Network(Cluster(pods=(db, Pod("ns", "web")), policies=(deny,))),
    ...                   "ns/db"))
    False
    """
    _check_by(by)
    view = class_view(net)
    origin = _resolve(view, dst, port, protocol)
    port, protocol = _number(net, origin.endpoint, port, protocol)
    search = _Search(view, None, origin, port, protocol)
    group = grouping(view, by)
    dist = search.bfs(search.T, forward=False)
    found: dict[Endpoint, int] = {}
    _reached_pods(search, group, dist, found)
    n, rc = view.n, view.role_class
    externals = net.compiled.externals
    # the first hop may come from an outside range or the internet, to any pod reached
    entries: list[tuple[int, int]] = [(int(rc[r]), h) for r, h in dist.items() if r < search.n]
    internet: list[tuple[int, int]] = [
        (int(view.internet_in[r]), h) for r, h in dist.items() if r < search.n]
    if search.IC in dist:
        internet.append((view.table.intern(HTTP_PORTS), dist[search.IC]))
    if origin.kind == "pods":
        entries += [(c, 0) for c in search.classes(origin.pods)]
        internet.append((search.join(view.internet_in[search.roles(origin.pods)]), 0))
    elif origin.kind == "service":
        internet.extend((view.services[s].entry, 0) for s in origin.services)
    elif origin.kind == "controller":
        internet.append((view.table.intern(HTTP_PORTS), 0))
    for c, h in entries:
        for e in np.nonzero(search.ok(view.allow[n:, c]))[0].tolist():
            _collect(found, Endpoint.external(*externals[e]), h + 1)
    for ident, h in internet:
        if search.ok_id(ident):
            _collect(found, INTERNET, h + 1)
    return _finish(origin, "to", found, port, protocol)


# ---------------------------------------------------------------------------
# isolated pods


@dataclass(frozen=True, slots=True)
class PodIsolation:
    """How isolated one pod is.

    ``ingress_isolated``/``egress_isolated``: selected by a NetworkPolicy for that
    direction (the Kubernetes meaning). ``ingress_guards``/``egress_guards``: the
    admin and baseline policies (ClusterNetworkPolicy, AdminNetworkPolicy, BANP)
    that restrict that direction. A direction that neither isolates nor restricts is
    *unprotected*: everything is allowed. ``no_ingress_peers``/``no_egress_peers``:
    no pod, address or ingress controller may open a connection to it / receive one
    from it, on any port. ``ingress_policies``/``egress_policies``: the NetworkPolicies
    that isolate it; ``ingress_peers``/``egress_peers``: how many pods (replicas
    counted) may connect to it / it may connect to; ``outside_in``/``outside_out``:
    whether some outside address may connect to it / it may connect to one.
    """

    pod: Endpoint
    ingress_isolated: bool
    egress_isolated: bool
    no_ingress_peers: bool
    no_egress_peers: bool
    ingress_guards: tuple[str, ...] = ()
    egress_guards: tuple[str, ...] = ()
    ingress_policies: tuple[str, ...] = ()
    egress_policies: tuple[str, ...] = ()
    ingress_peers: int = 0
    egress_peers: int = 0
    outside_in: bool = False
    outside_out: bool = False

    @property
    def unprotected(self) -> tuple[str, ...]:
        """The directions no policy of any tier isolates or restricts (``"ingress"``, ...)."""
        return tuple(d for d, iso, guards in (
            ("ingress", self.ingress_isolated, self.ingress_guards),
            ("egress", self.egress_isolated, self.egress_guards)) if not (iso or guards))

    def __str__(self) -> str:
        def side(name: str, isolated: bool, guards: tuple[str, ...], none: bool) -> str:
            if isolated:
                text = f"{name} isolated"
            elif guards:
                text = f"{name} restricted by {', '.join(guards)}"
            else:
                text = f"{name} unprotected"
            if isolated and guards:
                text += f" (also decided by {', '.join(guards)})"
            if none:
                text += " (no peer)" if name == "ingress" else " (cannot send)"
            return text

        ingress = side("ingress", self.ingress_isolated, self.ingress_guards,
                       self.no_ingress_peers)
        egress = side("egress", self.egress_isolated, self.egress_guards, self.no_egress_peers)
        return f"{self.pod}: {ingress}, {egress}"

    def to_json(self) -> dict[str, Any]:
        return {
            "pod": self.pod.to_json(),
            "ingress_isolated": self.ingress_isolated,
            "egress_isolated": self.egress_isolated,
            "ingress_restricted_by": list(self.ingress_guards),
            "egress_restricted_by": list(self.egress_guards),
            "no_ingress_peers": self.no_ingress_peers,
            "no_egress_peers": self.no_egress_peers,
            "ingress_isolated_by": list(self.ingress_policies),
            "egress_isolated_by": list(self.egress_policies),
            "ingress_peers": self.ingress_peers,
            "egress_peers": self.egress_peers,
            "from_outside": self.outside_in,
            "to_outside": self.outside_out,
        }


@dataclass(frozen=True, slots=True)
class Isolation:
    """The isolation of every pod, sorted by namespace and name."""

    pods: tuple[PodIsolation, ...]

    def __iter__(self) -> Iterator[PodIsolation]:
        return iter(self.pods)

    def __len__(self) -> int:
        return len(self.pods)

    def get(self, pod: str | Endpoint) -> PodIsolation:
        """The entry of one pod (``NAMESPACE/NAME`` or an Endpoint)."""
        for entry in self.pods:
            if entry.pod == pod or f"{entry.pod.namespace}/{entry.pod.name}" == pod:
                return entry
        raise UnknownEndpoint(str(pod), f"no pod {pod}")

    def unprotected(self) -> tuple[PodIsolation, ...]:
        """The pods no policy isolates in at least one direction."""
        return tuple(e for e in self.pods if e.unprotected)

    def __repr__(self) -> str:
        return f"<Isolation {len(self.pods)} pods, {len(self.unprotected())} unprotected>"

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.pods)


    def to_json(self) -> dict[str, Any]:
        return {"pods": [e.to_json() for e in self.pods]}


def isolated(net: Network) -> Isolation:
    """Per pod: isolated or unprotected in each direction, and whether it has any peer.

    Examples
    --------
    >>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy
    >>> db = Pod("ns", "db", Labels({"app": "db"}))
    >>> deny = Policy("ns", "deny", LabelSelector(Labels({"app": "db"})))
    >>> result = isolated(Network(Cluster(pods=(db, Pod("ns", "web")), policies=(deny,))))
    >>> print(result)
    ns/db[Pod]: ingress isolated (no peer), egress unprotected
    ns/web[Pod]: ingress unprotected, egress unprotected
    """
    view = class_view(net)
    compiled = net.compiled
    n = view.n
    # a pod standing for several replicas has peers among its own replicas
    replicas = np.array([max(pod.replicas, 1) for pod in compiled.pods], dtype=np.int64)
    sizes = np.bincount(compiled.pod_class, weights=replicas, minlength=n).astype(np.int64)
    peers_in, peers_out = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    has_in, has_out = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
    outside_in, outside_out = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
    for start, block in view.allow.row_blocks():  # bounded memory, whatever the size
        ok = block != NO_PORTS
        stop = start + len(block)
        if start < n:
            mine = ok[:max(0, min(n, stop) - start)]
            rows = np.arange(start, start + len(mine))
            inner = mine[:, :n]
            self_ok = inner[np.arange(len(mine)), rows]
            peers_out[rows] = inner.astype(np.int64) @ sizes - self_ok
            peers_in += sizes[rows] @ inner.astype(np.int64)
            peers_in[rows] -= self_ok
            alone = self_ok & (sizes[rows] < 2)  # a lone pod of its class is no peer
            reach_any = inner.copy()
            reach_any[np.arange(len(mine)), rows] &= ~alone
            has_out[rows] |= reach_any.any(axis=1)
            has_in |= reach_any.any(axis=0)
            outside_out[rows] = mine[:, n:].any(axis=1)
        if stop > n:
            outside_in |= ok[max(0, n - start):, :n].any(axis=0)
    has_in |= outside_in
    has_out |= outside_out
    from_controller = view.ic_out[view.pod_role] != NO_PORTS
    guards = _guards(net)
    entries = []
    for i, pod in enumerate(compiled.pods):
        c = int(compiled.pod_class[i])
        entries.append(PodIsolation(
            pod_endpoint(pod, "pod"),
            bool(compiled.ingress_isolated[c]),
            bool(compiled.egress_isolated[c]),
            not (bool(has_in[c]) or bool(from_controller[i])),
            not bool(has_out[c]),
            guards["ingress"].get(c, ()) if not compiled.ingress_open[c] else (),
            guards["egress"].get(c, ()) if not compiled.egress_open[c] else (),
            tuple(p.ref for p in net.selecting((i,), "ingress") if p.tier.ends_in_deny),
            tuple(p.ref for p in net.selecting((i,), "egress") if p.tier.ends_in_deny),
            int(peers_in[c]), int(peers_out[c]), bool(outside_in[c]), bool(outside_out[c]),
        ))
    entries.sort(key=lambda e: (e.pod.namespace, e.pod.name))
    return Isolation(tuple(entries))


def _guards(net: Network) -> dict[str, dict[int, tuple[str, ...]]]:
    """Per direction and class, the admin and baseline policies that select it with rules."""
    out: dict[str, dict[int, list[str]]] = {"ingress": {}, "egress": {}}
    compiled = net.compiled
    for index, policy in enumerate(net.cluster.policies):
        if policy.tier.ends_in_deny:
            continue  # NetworkPolicy: isolation says it
        for direction in ("ingress", "egress"):
            if not policy.applies(direction):
                continue
            for c in iter_bits(compiled.policy_classes(index)):
                out[direction].setdefault(c, []).append(policy.ref)
    return {d: {c: tuple(refs) for c, refs in by_class.items()} for d, by_class in out.items()}


# ---------------------------------------------------------------------------
# exposure


@dataclass(frozen=True, slots=True)
class Exposed:
    """One way the internet reaches ``target``.

    ``via``: ``"direct"`` (the pod is ingress-isolated and a rule admits public
    addresses: an ipBlock covering public space or a rule open to every source),
    ``"NodePort"``, ``"LoadBalancer"``, ``"Ingress"``, or ``"assumed"`` (an ingress
    controller no Service in the input exposes, assumed to sit behind a LoadBalancer).
    ``ports``: what ``target`` receives;
    ``entry``: what the internet connects to (empty for direct exposure);
    ``through``: the Service, or the Ingress and its Service; ``sources``: the public
    address ranges admitted (direct exposure).
    """

    target: Endpoint
    via: str
    ports: PortSet
    through: tuple[Endpoint, ...] = ()
    entry: PortSet = field(default_factory=PortSet.none)
    sources: tuple[Endpoint, ...] = ()

    def __str__(self) -> str:
        text = f"{self.target} : {self.ports} via {self.via}"
        if self.through:
            text += " " + " -> ".join(str(e) for e in self.through)
        if self.entry:
            text += f" (internet connects to {self.entry})"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target.to_json(),
            "via": self.via,
            "ports": str(self.ports),
            "through": [e.to_json() for e in self.through],
            "entry": str(self.entry) if self.entry else None,
            "sources": [e.name for e in self.sources],
        }


@dataclass(frozen=True, slots=True)
class Exposure:
    """What the internet can reach, and how. Truthy when anything is exposed."""

    items: tuple[Exposed, ...]
    warnings: tuple[Diagnostic, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[Exposed]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def targets(self) -> frozenset[Endpoint]:
        return frozenset(item.target for item in self.items)

    def __repr__(self) -> str:
        return f"<Exposure {len(self.items)} ways in to {len(self.targets())} endpoints>"

    def __str__(self) -> str:
        if not self.items:
            return "nothing is reachable from the internet"
        return "\n".join(str(item) for item in self.items)


    def to_json(self) -> dict[str, Any]:
        return {
            "exposed": [item.to_json() for item in self.items],
            "warnings": [str(w) for w in self.warnings if w.severity != "info"],
        }


def exposure(net: Network, by: Granularity = "workload") -> Exposure:
    """Which workloads (or pods, namespaces...) the internet reaches, how, on which ports.

    Directly (an ingress-isolated pod whose rules admit public addresses; pods no
    policy isolates count only through services and Ingresses, see :mod:`reach.graph.views`),
    through NodePort and LoadBalancer services (admitting the address the backend sees: see
    :mod:`reach.graph.views`), and through Ingress (the controller must be reachable from
    the internet and reach the backend on its target port).

    Examples
    --------
    >>> from reach.model import Cluster, Labels, Pod, Service, ServicePort
    >>> web = Pod("ns", "web", Labels({"app": "web"}))
    >>> lb = Service("ns", "web", type="LoadBalancer", selector=Labels({"app": "web"}),
    ...              ports=(ServicePort(443, 8443),))
    >>> print(exposure(Network(Cluster(pods=(web, Pod("ns", "db")), services=(lb,))),
    ...                by="pod"))
    ns/web[Pod] : TCP 8443 via LoadBalancer ns/web[Service] (internet connects to TCP 443)
    """
    _check_by(by)
    view = class_view(net)
    group = grouping(view, by)
    compiled = net.compiled
    table = view.table
    n = view.n
    merged: dict[tuple[Endpoint, str, tuple[Endpoint, ...]], list[Any]] = {}

    def add(target: Endpoint, via: str, ports: int, through: tuple[Endpoint, ...] = (),
            entry: int = NO_PORTS, sources: tuple[Endpoint, ...] = ()) -> None:
        if ports == NO_PORTS:
            return
        key = (target, via, through)
        found = merged.setdefault(key, [NO_PORTS, NO_PORTS, set()])
        found[0] = table.join(found[0], ports)
        found[1] = table.join(found[1], entry)
        found[2].update(sources)

    publics = [e for e in range(view.n_ext) if view.public[e]]
    for c in np.nonzero(view.direct_in)[0].tolist():
        via = "direct"
        sources = tuple(Endpoint.external(*compiled.externals[e]) for e in publics
                        if view.allow[n + e, c] != NO_PORTS)
        for p in compiled.class_pods[c]:
            add(group.nodes[int(group.pod_node[p])], via, int(view.direct_in[c]),
                sources=sources)
    for edges in view.services:
        info = edges.info
        for b, ident in edges.received.items():
            pod = info.backends[b].pod
            assert pod is not None
            add(group.nodes[int(group.pod_node[pod])], info.service.type, ident,
                (info.endpoint,), edges.entry)
    for pod, ident in view.assumed.items():
        add(group.nodes[int(group.pod_node[pod])], "assumed", ident, entry=ident)
    _ingress_exposure(view, group, add)
    items = [
        Exposed(target, via, table[ports], through, table[entry],
                tuple(sorted(sources, key=lambda e: e.lo)))
        for (target, via, through), (ports, entry, sources) in merged.items()
    ]
    items.sort(key=lambda e: (e.target.namespace, e.target.name, e.target.kind, e.via,
                              [str(t) for t in e.through]))
    return Exposure(tuple(items), view.warnings)


def _controller_entry(view: ClassView, role: int) -> int:
    """What the internet connects to on the controller pods of role class ``role``: the
    ports of the Services exposing them and their direct HTTP(S) ports, or whatever
    reaches them when neither applies."""
    table = view.table
    members = set(view.role_pods[role])
    entry = table.meet(int(view.direct_in[view.role_class[role]]), table.intern(HTTP_PORTS))
    for pod, ident in view.assumed.items():
        if pod in members:
            entry = table.join(entry, ident)
    for edges in view.services:
        if any(edges.info.backends[b].pod in members for b in edges.received):
            entry = table.join(entry, edges.entry)
    return entry if entry != NO_PORTS else int(view.internet_in[role])


def _ingress_exposure(view: ClassView, group: Grouping, add: Any) -> None:
    """Exposure through Ingress routes: internet -> controller -> backend target port."""
    compiled = view.net.compiled
    table = view.table
    smap = view.smap
    http = table.intern(HTTP_PORTS)
    if smap.synthetic_controller:
        sources: list[tuple[int, int]] = [(-1, http)]
    else:
        sources = [(int(view.role_class[r]), _controller_entry(view, r)) for r in
                   sorted({int(view.pod_role[p]) for p in smap.controllers})
                   if view.internet_in[r] != NO_PORTS]
    if not sources:
        return
    admitted: dict[int, int] = {}
    for route in smap.routes:
        info = route.service
        through = (route.endpoint, info.endpoint)
        for backend in info.backends:
            if backend.pod is None:
                continue
            cls = int(compiled.pod_class[backend.pod])
            got = NO_PORTS
            entry = NO_PORTS
            for ctrl, reach_ctrl in sources:
                if ctrl < 0:
                    if cls not in admitted:
                        admitted[cls] = table.intern(view.net.controller_admits(backend.pod))
                    can = admitted[cls]
                else:
                    can = int(view.allow[ctrl, cls])
                for i in route.ports:
                    part = table.meet(can, table.intern(backend.targets[i]))
                    if part != NO_PORTS:
                        got = table.join(got, part)
                        entry = table.join(entry, reach_ctrl)
            add(group.nodes[int(group.pod_node[backend.pod])], "Ingress", got, through, entry)
