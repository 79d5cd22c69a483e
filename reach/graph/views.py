"""The reachability graph: networkx views over the compiled classes.

:func:`graph` returns a :class:`networkx.DiGraph` whose nodes are keyed by the
names every command prints (``"shop/web[Deployment]"``, ``"{internet}"``, ``str()`` of
an :class:`~reach.endpoints.Endpoint`) and whose edges are allowed connections, at the
granularity asked for, so ``nx.shortest_path(G, "{internet}", "shop/db[StatefulSet]")``
works. It is built from the class-by-class matrix of the compiler with numpy (never
pod pair by pod pair), so any networkx algorithm can run on it while it stays as
small as the question allows.

Nodes carry ``endpoint`` (the :class:`~reach.endpoints.Endpoint`), ``kind`` (``Pod``,
a workload kind, ``Namespace``, ``Class``, ``Service``, ``External``,
``IngressController`` or ``Internet``), ``namespace`` (``""`` when none; a Namespace
node's own name) and ``label`` (a short display name). Edges carry ``ports`` (a
:class:`~reach.engine.ports.PortSet`, never empty) and ``label`` (``str(ports)``, e.g.
``"TCP 8080"``). ``G.graph`` holds ``by`` and the ``warnings`` about services and
ingresses. There are no self-loops: traffic between the pods of one namespace is in
:meth:`reach.Network.connections` ``(by="namespace")``.

What the edges mean
    ``a -> b`` when some pod of ``a`` may open a connection to some *other* pod of
    ``b`` (no self-loops); an ``External`` node is an address range that every
    policy treats alike, and ``a -> range`` / ``range -> a`` follow the egress of
    ``a`` / the ingress of ``a``. With ``services=True`` each Service is a node:
    ``src -> svc`` (on the service ports) when ``src`` may reach at least one backend
    on the target port that service port resolves to there, and ``svc -> backend``
    (on the target ports) for every backend. The :data:`INTERNET` node has edges to
    what the internet reaches: workloads admitting public addresses (ipBlocks
    covering public space, or no ingress policy at all), NodePort and LoadBalancer
    services, and the ingress controller when Ingresses exist. With
    ``services=False`` those go straight to the backend pods.

Direct exposure (a decision the API leaves open)
    The internet reaches a pod *directly* only when the pod's ingress is isolated and
    a rule admits public addresses (an ipBlock covering public space, or a rule open
    to every source): that is a statement that internet clients are meant to arrive.
    A pod that no policy isolates admits everything too, but nothing routes the
    internet to pod addresses, and the absence of a policy says nothing about
    exposure; such pods are reported by :func:`reach.graph.queries.isolated`, and are
    exposed when a NodePort, LoadBalancer or Ingress leads to them.

The addresses backends see (a decision the API leaves open)
    Traffic from outside through a NodePort or LoadBalancer service with
    ``externalTrafficPolicy: Local`` keeps the client's address: the backend must
    admit public addresses (:data:`PUBLIC_ADDRESSES`). With ``Cluster`` (the default)
    it arrives from a node's address, which manifests never tell. reach treats that
    address as *unknown*: a backend admits it only on the ports it admits from every
    IPv4 address outside the cluster. So ``ipBlock: 0.0.0.0/0`` or an unprotected
    backend admits it, while an ipBlock naming the client's CIDR (or the private
    ranges nodes usually live in) does not; the answer never depends on guessing the
    node CIDR.

Memory, per granularity (``C`` classes, ``X`` external ranges, ``P`` pods, ``W``
workloads, ``N`` namespaces, ``S`` services; a networkx edge costs roughly 300-500
bytes)
    - ``class``: ``C + X`` nodes, at most ``(C + X)^2`` edges: the compiled result itself.
    - ``namespace``: ``N + X`` nodes, at most ``(N + X)^2`` edges.
    - ``workload``: ``W + X`` nodes, as many edges as workload pairs that talk; the
      numpy work is proportional to the allowed class pairs, never ``W^2``.
    - ``pod``: ``P + X`` nodes and up to ``P^2`` edges: a cluster of 10,000 pods where
      everything is allowed would need 100 million edges (tens of GB), which is why
      :func:`graph` refuses to build more than ``max_edges`` edges.
    - ``services=True`` adds ``S`` nodes, one edge per (source, service) pair that
      may talk and one per backend.

    Measured on ``benchmarks/generate.py``'s 10,000 pods (9,766 pods, 1,827 classes,
    1,000 policies, 750 services), CPU time: the class view 0.23 s (once per network),
    then ``by="workload"`` 0.55 s with services (1,777 nodes, 218,930 edges) and
    0.36 s without (133,565 edges); ``by="namespace"`` 0.07 s; ``by="class"`` 1.6 s
    (547,671 edges); ``by="pod"`` would need 12 million edges and is refused.

Examples
--------
>>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy, PolicyPort, Peer, Rule
>>> web = Pod("shop", "web", Labels({"app": "web"}))
>>> db = Pod("shop", "db", Labels({"app": "db"}))
>>> only_web = Policy("shop", "db", LabelSelector(Labels({"app": "db"})), ingress=(Rule(
...     "ingress", 0, (Peer(pod_selector=LabelSelector(Labels({"app": "web"}))),),
...     (PolicyPort("TCP", 5432),)),))
>>> from reach.network import Network
>>> G = graph(Network(Cluster(pods=(web, db), policies=(only_web,))), by="pod")
>>> G.edges["shop/web[Pod]", "shop/db[Pod]"]["label"]
'TCP 5432'
>>> G.has_edge("shop/db[Pod]", "shop/web[Pod]"), G.has_edge("{internet}", "shop/db[Pod]")
(True, False)
>>> G.nodes["shop/db[Pod]"]
{'endpoint': Endpoint('Pod', 'shop', 'db'), 'kind': 'Pod', 'namespace': 'shop', 'label': 'db'}
"""

from __future__ import annotations

import ipaddress
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import networkx as nx
import numpy as np
import numpy.typing as npt

from reach.endpoints import INGRESS_CONTROLLER, INTERNET, PUBLIC_ADDRESSES, Endpoint, pod_endpoint
from reach.engine.addresses import format_range
from reach.engine.matrix import AllowMatrix
from reach.engine.ports import PortSet
from reach.engine.portsets import NO_PORTS, PortSetTable
from reach.model import Diagnostic, Pod
from reach.network import Network
from reach.services import ServiceInfo, ServiceMap

__all__ = [
    "BY",
    "INGRESS_CONTROLLER",
    "INTERNET",
    "PUBLIC_ADDRESSES",
    "ClassView",
    "GraphGranularity",
    "class_view",
    "graph",
]

IntArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

GraphGranularity = Literal["pod", "workload", "namespace", "class"]
BY: tuple[str, ...] = ("pod", "workload", "namespace", "class")

#: What the internet connects to on the synthetic ingress controller.
HTTP_PORTS = PortSet.single("TCP", 80) | PortSet.single("TCP", 443)

_IPV4_TOP = 1 << 32


# ---------------------------------------------------------------------------
# vectorised port-set id algebra


def join_ids(table: PortSetTable, a: IntArray, b: IntArray) -> IntArray:
    return table.join_arrays(a.astype(np.int32), b)


def meet_ids(table: PortSetTable, a: IntArray, b: IntArray) -> IntArray:
    return table.meet_arrays(a.astype(np.int32), b)


def _reduce(table: PortSetTable, rows: Sequence[IntArray], size: int, meet: bool) -> IntArray:
    if not rows:
        return np.zeros(size, dtype=np.int32)
    acc = rows[0].astype(np.int32)
    for row in rows[1:]:
        acc = meet_ids(table, acc, row) if meet else join_ids(table, acc, row)
    return acc


def _map_ids(table: PortSetTable, ids: IntArray, fn: Callable[[int], int]) -> IntArray:
    """Apply ``fn`` to every id, once per distinct id."""
    if ids.size == 0:
        return ids.astype(np.int32)
    uniq, inverse = np.unique(ids, return_inverse=True)
    values = np.fromiter((fn(int(u)) for u in uniq), dtype=np.int32, count=len(uniq))
    out: IntArray = values[inverse.reshape(ids.shape)]
    return out


# ---------------------------------------------------------------------------
# the class-level view


@dataclass(slots=True)
class ServiceEdges:
    """A service's edges at class level (port-set ids in the view's table).

    ``front_cols``/``front_ids``: the classes that may use the service and the service
    ports they may use. ``entry``: what the internet connects to (NodePort and
    LoadBalancer), ``received``: per backend index, what it then receives.
    ``ic_front``/``ic_received``: the same from the synthetic ingress controller.
    ``backend_ids[b]``: every port backend ``b`` receives service traffic on.
    """

    info: ServiceInfo
    front_cols: npt.NDArray[np.intp]
    front_ids: IntArray
    backend_ids: list[int] = field(default_factory=list)
    entry: int = NO_PORTS
    received: dict[int, int] = field(default_factory=dict)
    ic_front: int = NO_PORTS
    ic_received: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class ClassView:
    """Everything the graph and the queries need, at the granularity of classes.

    Columns ``0 .. n-1`` are pod classes, ``n .. n+n_ext-1`` external ranges, as in
    :class:`~reach.engine.compiler.Compiled`; arrays hold port-set ids of ``table``.

    ``public_in[c]``/``direct_out[c]``: what public addresses may send to / receive
    from class ``c``; ``direct_in[c]`` is ``public_in[c]`` for ingress-isolated
    classes only (direct exposure, see the module docstring). ``node_in[c]``: what
    ``c`` admits from a node's (unknown) address. ``assumed[p]``: what the internet
    reaches controller pod ``p`` on when no Service in the input exposes it (see
    :func:`_assume_controllers`). ``warnings``: the service map's, and this view's
    assumptions.

    *Roles.* What the internet, the ingress controller and a Service reach depends on
    which pods are backends, not only on policies, so the queries work on classes
    refined by role: ``pod_role[p]`` is the role class of pod ``p``, ``role_class[r]``
    the compiled class of role class ``r``, ``role_pods[r]`` its pods (pods of one role
    class are backends of the same services, on the same ports). ``internet_in[r]``:
    everything the internet reaches role class ``r`` on (directly, through NodePort
    and LoadBalancer services, as an assumed controller); ``ic_out[r]``: what the
    synthetic ingress controller reaches it on through Ingress routes.
    """

    net: Network
    n: int
    n_ext: int
    table: PortSetTable
    allow: AllowMatrix
    public: BoolArray
    public_in: IntArray
    direct_in: IntArray
    direct_out: IntArray
    node_in: IntArray
    smap: ServiceMap
    services: list[ServiceEdges]
    assumed: dict[int, int] = field(default_factory=dict)
    warnings: tuple[Diagnostic, ...] = ()
    pod_role: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    role_class: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    role_pods: list[list[int]] = field(default_factory=list)
    internet_in: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    ic_out: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    @property
    def n_roles(self) -> int:
        return len(self.role_pods)

    @property
    def synthetic_controller(self) -> bool:
        return self.smap.synthetic_controller

    def ports(self, ident: int) -> PortSet:
        return self.table[ident]


def _public_atoms(externals: Sequence[tuple[int, int]]) -> BoolArray:
    ranges = PUBLIC_ADDRESSES.ranges()
    out = np.zeros(len(externals), dtype=np.bool_)
    for e, (lo, hi) in enumerate(externals):
        out[e] = any(a <= hi and lo <= b for a, b in ranges)
    return out


def _front_ids(view: ClassView, info: ServiceInfo) -> IntArray:
    """Per source class, the id of the service ports it may use through some backend."""
    table, n = view.table, view.n
    groups: dict[tuple[int, tuple[tuple[int, int], ...]], None] = {}
    compiled = view.net.compiled
    for backend in info.backends:
        if backend.pod is not None:
            column = int(compiled.pod_class[backend.pod])
        else:
            try:
                column = compiled.external_column(backend.address or 0)
            except KeyError:
                continue
        pairs = tuple(
            (table.intern(backend.targets[i]), table.intern(info.front(i, backend)))
            for i in range(len(info.service.ports)) if backend.targets[i]
        )
        if pairs:
            groups[(column, pairs)] = None
    acc = np.zeros(n, dtype=np.int32)
    for column, pairs in groups:

        def usable(ident: int, pairs: tuple[tuple[int, int], ...] = pairs) -> int:
            return table.join(*(front for target, front in pairs
                                if table.meet(ident, target) != NO_PORTS))

        acc = join_ids(table, acc, _map_ids(table, view.allow[:n, column], usable))
    return acc


def _seen(view: ClassView, info: ServiceInfo, cls: int) -> int:
    """What a backend of class ``cls`` admits from the source an outside client becomes."""
    if info.service.external_traffic_policy == "Local":
        return int(view.public_in[cls])
    return int(view.node_in[cls])


def _service_edges(view: ClassView, info: ServiceInfo, routed: set[int]) -> ServiceEdges:
    table = view.table
    compiled = view.net.compiled
    front = _front_ids(view, info)
    cols = np.nonzero(front)[0]
    edges = ServiceEdges(info, cols, front[cols],
                         [table.intern(b.received()) for b in info.backends])
    indices = range(len(info.service.ports))
    admitted: dict[int, int] = {}
    for b, backend in enumerate(info.backends):
        if backend.pod is None:
            continue
        cls = int(compiled.pod_class[backend.pod])
        if info.exposed:
            seen = _seen(view, info, cls)
            got = [table.meet(seen, table.intern(backend.targets[i])) for i in indices]
            if any(got):
                edges.received[b] = table.join(*got)
                edges.entry = table.join(edges.entry, *(
                    table.intern(info.entry(i)) for i in indices if got[i]))
        if routed and view.synthetic_controller:
            if cls not in admitted:
                admitted[cls] = table.intern(view.net.controller_admits(backend.pod))
            got = [table.meet(admitted[cls], table.intern(backend.targets[i]))
                   if i in routed else NO_PORTS for i in indices]
            if any(got):
                edges.ic_received[b] = table.join(*got)
                edges.ic_front = table.join(edges.ic_front, *(
                    table.intern(info.front(i, backend)) for i in indices if got[i]))
    return edges


def _build_view(net: Network) -> ClassView:
    compiled = net.compiled
    table = compiled.ports
    n, n_ext = compiled.n_classes, len(compiled.externals)
    allow = compiled.allow
    public = _public_atoms(compiled.externals)
    atom_rows = [allow[n + e, :n] for e in range(n_ext) if public[e]]
    atom_cols = [allow[:n, n + e] for e in range(n_ext) if public[e]]
    ipv4 = [allow[n + e, :n] for e, (lo, _) in enumerate(compiled.externals) if lo < _IPV4_TOP]
    public_in = _reduce(table, atom_rows, n, meet=False)
    view = ClassView(
        net=net,
        n=n,
        n_ext=n_ext,
        table=table,
        allow=allow,
        public=public,
        public_in=public_in,
        direct_in=np.where(compiled.ingress_isolated, public_in, NO_PORTS).astype(np.int32),
        direct_out=_reduce(table, atom_cols, n, meet=False),
        node_in=_reduce(table, ipv4, n, meet=True),
        smap=net.services,
        services=[],
    )
    routed: dict[tuple[str, str], set[int]] = {}
    for route in view.smap.routes:
        key = (route.service.service.namespace, route.service.service.name)
        routed.setdefault(key, set()).update(route.ports)
    for info in view.smap.services:
        key = (info.service.namespace, info.service.name)
        view.services.append(_service_edges(view, info, routed.get(key, set())))
    view.assumed = _assume_controllers(view)
    _roles(view)
    extra: tuple[Diagnostic, ...] = ()
    if view.assumed:
        names = sorted({compiled.pods[p].ref for p in view.assumed})
        extra = (Diagnostic(
            "warning",
            f"ingress controller {', '.join(names)}: no NodePort or LoadBalancer Service in the "
            "input exposes it; assumed exposed like a LoadBalancer (externalTrafficPolicy "
            "Cluster) on its declared ports", None, "assumed-controller-exposure"),)
    view.warnings = view.smap.warnings + extra
    return view


def _roles(view: ClassView) -> None:
    """Refine the compiled classes by the role of each pod behind Services (see ClassView)."""
    compiled = view.net.compiled
    table = view.table
    pods = len(compiled.pods)
    member: list[list[tuple[int, int, int, int]]] = [[] for _ in range(pods)]
    for s, edges in enumerate(view.services):
        for b, backend in enumerate(edges.info.backends):
            if backend.pod is not None:
                member[backend.pod].append((s, edges.backend_ids[b], edges.received.get(b, 0),
                                            edges.ic_received.get(b, 0)))
    keys: dict[tuple[object, ...], int] = {}
    pod_role = np.zeros(pods, dtype=np.intp)
    role_class: list[int] = []
    internet_in: list[int] = []
    ic_out: list[int] = []
    view.role_pods = []
    for p in range(pods):
        cls = int(compiled.pod_class[p])
        assumed = view.assumed.get(p, NO_PORTS)
        key = (cls, tuple(member[p]), assumed)
        role = keys.get(key)
        if role is None:
            role = keys[key] = len(role_class)
            role_class.append(cls)
            view.role_pods.append([])
            internet_in.append(table.join(int(view.direct_in[cls]), assumed,
                                          *(m[2] for m in member[p])))
            ic_out.append(table.join(*(m[3] for m in member[p])))
        view.role_pods[role].append(p)
        pod_role[p] = role
    view.pod_role = pod_role
    view.role_class = np.array(role_class, dtype=np.intp)
    view.internet_in = np.array(internet_in, dtype=np.int32)
    view.ic_out = np.array(ic_out, dtype=np.int32)


def _assume_controllers(view: ClassView) -> dict[int, int]:
    """Controller pods no exposed Service leads to, when Ingresses need them.

    An Ingress is meant to be served from the internet, and inputs often hold the
    controller's Deployment without its LoadBalancer Service. Such a controller is taken
    to be behind one: the internet reaches its declared TCP ports (80 and 443 when it
    declares none) where its ingress admits a node's address.
    """
    smap = view.smap
    if not smap.routes or not smap.controllers:
        return {}
    exposed = {b.pod for e in view.services if e.info.exposed for b in e.info.backends}
    if any(p in exposed for p in smap.controllers):
        return {}
    compiled = view.net.compiled
    table = view.table
    out = {}
    for p in smap.controllers:
        pod = compiled.pods[p]
        declared = PortSet.none()
        for cp in pod.ports:
            if cp.protocol == "TCP":
                declared = declared | PortSet.single("TCP", cp.port)
        ports = table.intern(declared or HTTP_PORTS)
        got = table.meet(int(view.node_in[int(compiled.pod_class[p])]), ports)
        if got != NO_PORTS:
            out[p] = got
    return out


_VIEWS: weakref.WeakKeyDictionary[Network, ClassView] = weakref.WeakKeyDictionary()


def class_view(net: Network) -> ClassView:
    """The class-level view of ``net`` that graphs and queries are projected from (cached).

    Examples
    --------
    >>> from reach.model import Cluster, Pod
    >>> view = class_view(Network(Cluster(pods=(Pod("ns", "a"), Pod("ns", "b")))))
    >>> view.n, str(view.ports(int(view.public_in[0]))), str(view.ports(int(view.direct_in[0])))
    (1, 'All Connections', 'No Connections')
    """
    found = _VIEWS.get(net)
    if found is None:
        found = _VIEWS[net] = _build_view(net)
    return found


# ---------------------------------------------------------------------------
# projection to a granularity


def group_endpoint(pod: Pod, by: str, cls: int = 0) -> Endpoint:
    """The node that stands for ``pod`` at granularity ``by`` (``cls`` its class)."""
    if by == "class":
        return Endpoint("Class", "", f"class-{cls}")
    return pod_endpoint(pod, by)


@dataclass(slots=True)
class Grouping:
    """Columns (classes, then external ranges) mapped onto the nodes of one granularity.

    ``ptr``/``idx`` are a CSR map from each column to the node indices it touches;
    ``pod_node[p]`` is the node of pod ``p``.
    """

    nodes: list[Endpoint]
    ptr: npt.NDArray[np.intp]
    idx: npt.NDArray[np.intp]
    pod_node: npt.NDArray[np.intp]
    namespaces: dict[Endpoint, str]


def grouping(view: ClassView, by: str) -> Grouping:
    """How the columns of ``view`` map onto the nodes of granularity ``by``."""
    compiled = view.net.compiled
    pods = compiled.pods
    n, n_ext = view.n, view.n_ext
    namespaces: dict[Endpoint, str] = {}
    if by == "class":
        ends = []
        for c, members in enumerate(compiled.class_pods):
            spaces = {pods[i].namespace for i in members}
            ep = group_endpoint(pods[members[0]], by, c)
            if len(spaces) == 1:
                ep = Endpoint("Class", next(iter(spaces)), ep.name)
            ends.append(ep)
        pod_ends = [ends[int(c)] for c in compiled.pod_class]
    else:
        pod_ends = [group_endpoint(pod, by) for pod in pods]
    unique = sorted(set(pod_ends), key=lambda e: (e.namespace, e.name, e.kind))
    position = {e: i for i, e in enumerate(unique)}
    g = len(unique)
    pod_node = np.fromiter((position[e] for e in pod_ends), dtype=np.intp, count=len(pods))
    key = compiled.pod_class.astype(np.int64) * max(g, 1) + pod_node
    key = np.unique(key)
    cls_of, node_of = key // max(g, 1), key % max(g, 1)
    ptr = np.searchsorted(cls_of, np.arange(n + 1)).astype(np.intp)
    idx = node_of.astype(np.intp)
    externals = [Endpoint.external(lo, hi) for lo, hi in compiled.externals]
    ptr = np.concatenate([ptr, ptr[-1] + 1 + np.arange(n_ext, dtype=np.intp)])
    idx = np.concatenate([idx, g + np.arange(n_ext, dtype=np.intp)])
    for e in unique:
        namespaces[e] = e.name if e.kind == "Namespace" else e.namespace
    return Grouping(unique + externals, ptr, idx, pod_node, namespaces)


def _expand(cols: npt.NDArray[np.intp], ptr: npt.NDArray[np.intp],
            idx: npt.NDArray[np.intp]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For every entry of ``cols``, one row per node of that column: (entry, node)."""
    counts = ptr[cols + 1] - ptr[cols]
    owner = np.repeat(np.arange(len(cols), dtype=np.intp), counts)
    starts = np.repeat(ptr[cols], counts)
    offsets = np.arange(len(owner), dtype=np.intp) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, idx[starts + offsets]


def _merge(table: PortSetTable, keys: npt.NDArray[np.int64],
           ids: IntArray) -> tuple[npt.NDArray[np.int64], IntArray]:
    """Unique ``keys`` with the join of the ids each carries.

    Duplicate ``(key, id)`` pairs go first; then the ids of each key are joined two by
    two, all segments at once, each distinct pair of ids joined once.
    """
    if keys.size == 0:
        return keys, ids
    width = np.int64(int(ids.max()) + 1)
    packed = np.unique(keys.astype(np.int64) * width + ids.astype(np.int64))
    keys, ids = packed // width, (packed % width).astype(np.int32)
    while True:
        uniq, first, counts = np.unique(keys, return_index=True, return_counts=True)
        if len(uniq) == len(keys):
            return keys, ids
        pos = np.arange(len(keys)) - np.repeat(first, counts)
        size = np.repeat(counts, counts)
        left = np.nonzero((pos % 2 == 0) & (pos + 1 < size))[0]
        ids = ids.copy()
        ids[left] = join_ids(table, ids[left], ids[left + 1])
        keep = pos % 2 == 0
        keys, ids = keys[keep], ids[keep]


def pair_edges(view: ClassView, group: Grouping, rows: npt.NDArray[np.intp],
               cols: npt.NDArray[np.intp], ids: IntArray) -> tuple[
                   npt.NDArray[np.intp], npt.NDArray[np.intp], IntArray]:
    """Column pairs ``rows[k] -> cols[k]`` (port ids ``ids``) as node pairs, joined."""
    t1, a = _expand(rows, group.ptr, group.idx)
    t2, b = _expand(cols[t1], group.ptr, group.idx)
    a = a[t2]
    carried = ids[t1[t2]]
    keep = a != b
    width = np.int64(len(group.nodes))
    keys, merged = _merge(view.table, a[keep].astype(np.int64) * width + b[keep], carried[keep])
    return (keys // width).astype(np.intp), (keys % width).astype(np.intp), merged


def column_edges(view: ClassView, group: Grouping, cols: npt.NDArray[np.intp],
                 ids: IntArray) -> tuple[npt.NDArray[np.intp], IntArray]:
    """Columns with port ids as nodes with the join of their ids."""
    owner, nodes = _expand(cols, group.ptr, group.idx)
    keys, merged = _merge(view.table, nodes.astype(np.int64), ids[owner])
    return keys.astype(np.intp), merged


def _label(ep: Endpoint) -> str:
    if ep.kind == "Internet":
        return "internet"
    if ep.kind == "IngressController" and not ep.namespace:
        return "ingress-controller"
    if ep.kind == "External":
        return _cidr_label(ep.lo, ep.hi) or ep.name
    return ep.name


def _cidr_label(lo: int, hi: int) -> str | None:
    if hi < _IPV4_TOP:
        first: Any = ipaddress.IPv4Address(lo)
        last: Any = ipaddress.IPv4Address(hi)
    elif lo >= 1 << 128:
        first, last = ipaddress.IPv6Address(lo - (1 << 128)), ipaddress.IPv6Address(hi - (1 << 128))
    else:
        return None
    nets = list(ipaddress.summarize_address_range(first, last))
    return str(nets[0]) if len(nets) == 1 else format_range(lo, hi)


class _Builder:
    """Collects nodes and edges as index arrays, merges them once, hands them to networkx.

    Node indices ``0 .. len(group.nodes)-1`` are the grouping's nodes (pod groups, then
    external ranges); further nodes (the internet, the ingress controller, Services)
    are appended with :meth:`node`.
    """

    def __init__(self, view: ClassView, group: Grouping) -> None:
        self.view = view
        self.group = group
        self.nodes: list[Endpoint] = list(group.nodes)
        self.namespaces: dict[Endpoint, str] = dict(group.namespaces)
        self.index: dict[Endpoint, int] = {}
        self.wanted: set[int] = set(range(len(group.nodes) - view.n_ext))
        self.arrays: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], IntArray]] = []
        self.small: list[tuple[int, int, int]] = []

    def node(self, ep: Endpoint, namespace: str = "") -> int:
        found = self.index.get(ep)
        if found is None:
            found = self.index[ep] = len(self.nodes)
            self.nodes.append(ep)
            self.namespaces[ep] = namespace
        self.wanted.add(found)
        return found

    def edge(self, a: int, b: int, ident: int) -> None:
        if ident != NO_PORTS:
            self.small.append((a, b, ident))

    def add(self, a: npt.NDArray[np.intp], b: npt.NDArray[np.intp], ids: IntArray) -> None:
        self.arrays.append((a.astype(np.intp), b.astype(np.intp), ids.astype(np.int32)))

    def merged(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], IntArray]:
        parts = list(self.arrays)
        if self.small:
            small = np.array(self.small, dtype=np.int64)
            parts.append((small[:, 0].astype(np.intp), small[:, 1].astype(np.intp),
                          small[:, 2].astype(np.int32)))
        if not parts:
            empty = np.zeros(0, dtype=np.intp)
            return empty, empty, np.zeros(0, dtype=np.int32)
        a = np.concatenate([p[0] for p in parts])
        b = np.concatenate([p[1] for p in parts])
        ids = np.concatenate([p[2] for p in parts])
        keep = (a != b) & (ids != NO_PORTS)
        width = np.int64(len(self.nodes))
        keys, joined = _merge(self.view.table, a[keep].astype(np.int64) * width + b[keep],
                              ids[keep])
        return (keys // width).astype(np.intp), (keys % width).astype(np.intp), joined

    def build(self, by: str, warnings: tuple[Diagnostic, ...]) -> nx.DiGraph:
        a, b, ids = self.merged()
        table = self.view.table
        wanted = self.wanted | set(np.unique(np.concatenate([a, b])).tolist())
        g = nx.DiGraph(by=by, warnings=warnings)
        keys = [str(ep) for ep in self.nodes]
        g.add_nodes_from(
            (keys[i], {"endpoint": ep, "kind": ep.kind, "namespace": self.namespaces.get(ep, ""),
                       "label": _label(ep)})
            for i, ep in enumerate(self.nodes) if i in wanted
        )
        attrs = {}
        for ident in np.unique(ids).tolist():
            ports = table[ident]
            attrs[ident] = (ports, str(ports))
        _add_edges(g, keys, a, b, ids, attrs)
        return g


def _add_edges(g: nx.DiGraph, nodes: list[str], a: npt.NDArray[np.intp],
               b: npt.NDArray[np.intp], ids: IntArray,
               attrs: dict[int, tuple[PortSet, str]]) -> None:
    """Add edges ``nodes[a[k]] -> nodes[b[k]]`` with the ports of ``ids[k]``.

    networkx keeps a DiGraph as the dicts ``_succ`` and ``_pred`` (documented for
    subclasses); filling them directly hashes each endpoint twice per edge instead of
    eight times in ``add_edges_from``, which is most of the time on large graphs. Any
    other layout falls back to ``add_edges_from``.
    """
    succ = getattr(g, "_succ", None)
    pred = getattr(g, "_pred", None)
    if not isinstance(succ, dict) or not isinstance(pred, dict) or any(
            n not in succ or n not in pred for n in (nodes[i] for i in np.unique(
                np.concatenate([a, b])).tolist())):
        g.add_edges_from(
            (nodes[i], nodes[j], {"ports": attrs[k][0], "label": attrs[k][1]})
            for i, j, k in zip(a.tolist(), b.tolist(), ids.tolist(), strict=True)
        )
        return
    outs = [succ.get(n) for n in nodes]
    ins = [pred.get(n) for n in nodes]
    for i, j, k in zip(a.tolist(), b.tolist(), ids.tolist(), strict=True):
        ports, label = attrs[k]
        data = {"ports": ports, "label": label}
        outs[i][nodes[j]] = data
        ins[j][nodes[i]] = data
    clear = getattr(nx.utils.misc, "_clear_cache", None)
    if clear is not None:
        clear(g)


def graph(
    net: Network,
    by: GraphGranularity = "workload",
    services: bool = True,
    *,
    max_edges: int | None = 5_000_000,
) -> nx.DiGraph:
    """The reachability graph of ``net`` at granularity ``by``.

    Parameters
    ----------
    net
        The analysed network.
    by
        ``"pod"``, ``"workload"`` (default), ``"namespace"`` or ``"class"``.
    services
        Whether Services are nodes (``src -> svc -> backend``); without them the
        internet and the ingress controller point straight at backends.
    max_edges
        Refuse (``ValueError``) to build a graph with more edges than this, which would
        not fit in memory; None for no limit. See the module docstring for sizes.

    Returns
    -------
    networkx.DiGraph
        Nodes are keyed by the endpoints' names (``str(endpoint)``) and carry
        ``endpoint``, ``kind``, ``namespace`` and ``label``; edges carry ``ports`` and
        ``label``.

    Examples
    --------
    >>> from reach.model import Cluster, Labels, Pod, Service, ServicePort
    >>> web = Pod("shop", "web-1", Labels({"app": "web"}), owner_kind="Deployment",
    ...           owner_name="web")
    >>> svc = Service("shop", "web", type="LoadBalancer", selector=Labels({"app": "web"}),
    ...               ports=(ServicePort(443, 8443),))
    >>> G = graph(Network(Cluster(pods=(web,), services=(svc,))))
    >>> G.edges["{internet}", "shop/web[Service]"]["label"]
    'TCP 443'
    >>> G.edges["shop/web[Service]", "shop/web[Deployment]"]["label"]
    'TCP 8443'
    >>> import networkx as nx
    >>> nx.shortest_path(G, "{internet}", "shop/web[Deployment]")
    ['{internet}', 'shop/web[Service]', 'shop/web[Deployment]']
    >>> sorted(G.nodes[n]["kind"] for n in G)
    ['Deployment', 'External', 'Internet', 'Service']
    """
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")
    view = class_view(net)
    group = grouping(view, by)
    builder = _Builder(view, group)
    table = view.table
    rows, cols = view.allow.nonzero()
    builder.add(*pair_edges(view, group, rows.astype(np.intp), cols.astype(np.intp),
                            view.allow[rows, cols]))
    internet = builder.node(INTERNET)
    controller = -1
    if view.synthetic_controller:
        controller = builder.node(INGRESS_CONTROLLER)
        builder.edge(internet, controller, table.intern(HTTP_PORTS))
    if services:
        live = np.nonzero(view.direct_in)[0].astype(np.intp)
        owner, nodes = _expand(live, group.ptr, group.idx)
        builder.add(np.full(len(nodes), internet, dtype=np.intp), nodes,
                    view.direct_in[live][owner])
        for pod, ident in view.assumed.items():
            builder.edge(internet, int(group.pod_node[pod]), ident)
        _service_nodes(view, group, builder, internet, controller)
    else:
        # straight to the backends: per pod, through the pods' role classes
        for source, ids in ((internet, view.internet_in), (controller, view.ic_out)):
            per_pod = ids[view.pod_role]
            live = np.nonzero(per_pod)[0]
            if source >= 0 and len(live):
                builder.add(np.full(len(live), source, dtype=np.intp),
                            group.pod_node[live], per_pod[live])
    count = sum(len(a) for a, _, _ in builder.arrays) + len(builder.small)
    if max_edges is not None and count > max_edges:
        raise ValueError(
            f"the {by} graph would have about {count} edges (more than max_edges="
            f"{max_edges}); ask for a coarser granularity or pass max_edges=None"
        )
    return builder.build(by, view.warnings)


def _service_nodes(view: ClassView, group: Grouping, builder: _Builder, internet: int,
                   controller: int) -> None:
    """Service nodes with their edges: clients -> svc, svc -> backends, internet -> svc."""
    compiled = view.net.compiled
    cols: list[npt.NDArray[np.intp]] = []
    ids: list[IntArray] = []
    targets: list[npt.NDArray[np.intp]] = []
    for edges in view.services:
        info = edges.info
        svc = builder.node(info.endpoint, info.service.namespace)
        cols.append(edges.front_cols.astype(np.intp))
        ids.append(edges.front_ids)
        targets.append(np.full(len(edges.front_cols), svc, dtype=np.intp))
        for backend, received in zip(info.backends, edges.backend_ids, strict=True):
            if backend.pod is not None:
                builder.edge(svc, int(group.pod_node[backend.pod]), received)
            elif backend.address is not None:
                try:
                    column = compiled.external_column(backend.address)
                except KeyError:
                    continue
                target = int(group.idx[group.ptr[column]])
                builder.wanted.add(target)
                builder.edge(svc, target, received)
        builder.edge(internet, svc, edges.entry)
        if controller >= 0:
            builder.edge(controller, svc, edges.ic_front)
    if cols:
        all_cols = np.concatenate(cols)
        owner, nodes = _expand(all_cols, group.ptr, group.idx)
        builder.add(nodes, np.concatenate(targets)[owner], np.concatenate(ids)[owner])
