"""What a diagram shows, before any drawing: the *scene*.

Both the DOT writer and the matplotlib painter draw the same scene, built here from
a reachability graph in four steps:

1. **highlight**: the endpoints and hops of one or more paths are marked;
2. **summarize**: the edges that say "everything is allowed" become notes on the
   endpoints instead of fans of arrows: ``egress: open`` (all ports to every outside
   address) and ``ingress: open`` (all ports from every outside address and from every
   open egress). Edges between open ends go without saying, as do the direct edges
   that repeat a route through a Service (see :func:`summarize`). In clusters where
   most pods have no policy these are most of the edges; what is left is what the
   policies actually restrict;
3. **focus**: only the endpoints within ``hops`` drawn edges of the focused one are
   kept (in either direction), with the edges that lead out from it (an edge between
   two endpoints that are both ``hops`` away is left out), plus the highlighted path;
4. **collapse**: endpoints of the same kind, namespace and notes whose edges are the
   same (the same peers with the same ports, in and out: "twins" in graph theory)
   become one node, so a thousand identical pods draw as one box saying ``1000 pods``;
   edges among the members of a group become a note ``among them: ...``;
5. **order**: nodes sorted by namespace, kind and name get synthetic ids ``n0``,
   ``n1``... (a ``:`` or the word ``node`` in a DOT id corrupts the file); edges are
   sorted by those ids, and an edge and its reverse with the same ports become one
   two-headed edge.

Examples
--------
>>> import networkx as nx
>>> from reach.endpoints import Endpoint
>>> from reach.engine.ports import PortSet
>>> g = nx.DiGraph()
>>> web = [Endpoint("Pod", "shop", f"web-{i}") for i in range(3)]
>>> db = Endpoint("StatefulSet", "shop", "db")
>>> for w in web:
...     g.add_edge(w, db, ports=PortSet.single("TCP", 5432))
>>> scene = build_scene(g)
>>> [(n.id, n.label) for n in scene.nodes]
[('n0', 'db'), ('n1', '3 pods\\nweb-0\\nweb-1\\nweb-2')]
>>> [(e.src, e.dst, e.label) for e in scene.edges]
[('n1', 'n0', 'TCP 5432')]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reach.endpoints import Endpoint, closest
from reach.engine.ports import ICMP_PROTOCOLS, PORT_PROTOCOLS, PortSet
from reach.errors import UnknownEndpoint
from reach.render._source import (
    WORKLOAD_KINDS,
    node_endpoint,
    node_kind,
    node_label,
    node_namespace,
)

if TYPE_CHECKING:
    from reach.network import Network

__all__ = [
    "Scene",
    "SceneEdge",
    "SceneNode",
    "build_scene",
    "kind_rank",
    "locate",
    "port_label",
]

_KIND_ORDER = ("Internet", "External", "IngressController", "Namespace", "Class", "Service")
_MAX_NAMES = 4  # names listed on a collapsed node before "... and N more"
_MAX_LINE = 34  # characters of one line of an edge label


@dataclass(frozen=True, slots=True)
class SceneNode:
    """A box on the diagram: one endpoint, or several equivalent ones collapsed."""

    id: str
    label: str
    kind: str
    namespace: str
    members: tuple[Any, ...]
    highlighted: bool = False
    focused: bool = False
    loop: str = ""  # ports the members allow among themselves ("" = none)
    notes: tuple[str, ...] = ()  # summaries of the edges not drawn
    stands_for: tuple[str, ...] = ()  # a bundle's group node: the ids of the nodes it holds

    @property
    def text(self) -> str:
        """The label with the notes under it: what a box shows."""
        lines = [self.label]
        if self.loop:
            lines.append(f"(among them: {self.loop})")
        lines.extend(f"({note})" for note in self.notes)
        return "\n".join(lines)

    @property
    def tooltip(self) -> str:
        names = [str(m) for m in self.members[:50]]
        if len(self.members) > 50:
            names.append(f"... and {len(self.members) - 50} more")
        return "\n".join(names)


@dataclass(frozen=True, slots=True)
class SceneEdge:
    """An arrow: allowed traffic from ``src`` to ``dst`` (both ways when ``both``)."""

    src: str
    dst: str
    label: str
    ports: PortSet | None
    both: bool = False
    highlighted: bool = False
    extra: bool = False  # drawn over the layout (a path's hop), not placed by it


@dataclass(frozen=True, slots=True)
class Scene:
    """Nodes and edges in their final order; see the module documentation."""

    nodes: tuple[SceneNode, ...]
    edges: tuple[SceneEdge, ...]
    title: str = ""
    collapsed: int = 0  # how many endpoints disappeared into groups
    caption: str = ""  # what the notes mean, when there are notes
    bundled: int = 0  # how many edges were drawn as bundles (see reach.render.bundle)
    notice: str = ""  # what the level of detail left out, and how to see it
    level: str = ""  # the granularity drawn: pod, workload, namespace or class

    @property
    def faded(self) -> bool:
        """Whether a path is highlighted, so that everything else is drawn faded."""
        return any(e.highlighted for e in self.edges) or any(n.highlighted for n in self.nodes)

    def namespaces(self) -> list[str]:
        """The namespaces drawn as clusters, sorted (the empty namespace left out)."""
        return sorted({n.namespace for n in self.nodes if n.namespace})

    def node(self, ident: str) -> SceneNode:
        for n in self.nodes:
            if n.id == ident:
                return n
        raise KeyError(ident)


def kind_rank(kind: str) -> int:
    """Sort order of kinds: outside first, then services, workloads, pods."""
    if kind in _KIND_ORDER:
        return _KIND_ORDER.index(kind)
    if kind in WORKLOAD_KINDS:
        return len(_KIND_ORDER)
    return len(_KIND_ORDER) + 1


def port_label(ports: PortSet | None, fallback: str = "") -> str:
    """A compact edge label: ``all``, ``TCP 80,443``, one protocol a line, long lines cut;
    ``all but TCP 5432`` when that is shorter; protocols without ports on one line.

    >>> port_label(PortSet.all())
    'all'
    >>> port_label(PortSet.single("TCP", 80) | PortSet.protocol("UDP"))
    'TCP 80\\nUDP all'
    >>> port_label(PortSet.all() - PortSet.single("TCP", 5432))
    'all but TCP 5432'
    >>> port_label(PortSet.all() - PortSet.single("TCP", 53) - PortSet.single("UDP", 53))
    'all but TCP 53, UDP 53'
    >>> port_label(PortSet.protocol("TCP") | PortSet.icmp("ICMP", 8) | PortSet.protocol("VRRP"))
    'ICMP type 8\\nTCP all\\nVRRP'
    """
    if ports is None:
        return fallback
    if ports.is_all():
        return "all"
    if not ports:
        return "none"
    if str(ports).startswith("All Connections but "):
        rest = _label_lines(PortSet.all() - ports)
        joined = f"all but {', '.join(rest)}"
        return joined if len(joined) <= _MAX_LINE else "\n".join(["all but", *rest])
    return "\n".join(_label_lines(ports))


def _label_lines(ports: PortSet) -> list[str]:
    lines, others = [], []
    for proto, ranges in ports.to_dict().items():
        if proto in ICMP_PROTOCOLS:
            lines.append(str(ports.restricted({proto})))
            continue
        if proto not in PORT_PROTOCOLS:
            others.append(proto)
            continue
        if ranges == [(1, 65535)]:
            lines.append(f"{proto} all")
            continue
        lines.append(f"{proto} " + ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges))
    if others:
        shown = ", ".join(others[:3])
        lines.append(shown if len(others) <= 3 else f"{shown} and {len(others) - 3} more protocols")
    return [text if len(text) <= _MAX_LINE else text[: _MAX_LINE - 1].rsplit(",", 1)[0] + ",…"
            for text in lines]


# ---------------------------------------------------------------------------
# locating endpoints named by the user


def _reference_keys(graph: Any, node: Any) -> set[str]:
    kind, ns, label = node_kind(graph, node), node_namespace(graph, node), node_label(graph, node)
    keys = {str(node), label if not ns else f"{ns}/{label}"}
    ep = node_endpoint(graph, node)
    if ep is not None:
        keys.add(str(ep))
        keys.add(f"{ep.namespace}/{ep.name}" if ep.namespace else ep.name)
        keys.add(f"{ep.namespace}/{ep.kind}/{ep.name}".lower())
    if kind == "Internet":
        keys.update({"internet", "{internet}"})
    if kind == "IngressController":
        keys.update({"ingress-controller", "{ingress-controller}"})
    return keys


def locate(graph: Any, reference: Any, net: Network | None = None) -> list[Any]:
    """The nodes of ``graph`` that ``reference`` (an Endpoint or a user's text) names."""
    if reference in graph:
        return [reference]
    if isinstance(reference, Endpoint) and str(reference) in graph:
        return [str(reference)]
    text = str(reference).strip()
    lowered = text.lower()
    if isinstance(reference, str) and lowered.count("/") == 2:
        from reach.endpoints import parse_reference

        try:
            ns, kind, name = parse_reference(text)
        except ValueError:
            pass
        else:
            lowered = f"{ns}/{kind}/{name}".lower()
    found = [n for n in graph if not {text, lowered}.isdisjoint(_reference_keys(graph, n))]
    if found or net is None:
        return sorted(found, key=lambda n: str(n))
    # A pod named at workload granularity (or the reverse): go through the network.
    try:
        resolved = net.resolve(reference)
    except (UnknownEndpoint, ValueError):
        return []
    wanted: set[Endpoint] = {resolved.endpoint}
    for i in resolved.pods:
        pod = net.pods[i]
        wanted.update({
            Endpoint("Pod", pod.namespace, pod.name),
            Endpoint(pod.workload_kind, pod.namespace, pod.workload_name),
            Endpoint("Namespace", "", pod.namespace),
        })
    for route in resolved.routes:  # an Ingress or Route: the Services it routes to
        wanted.add(route.service.endpoint)
    span = resolved.span
    found = []
    for n in graph:
        ep = node_endpoint(graph, n)
        if ep is None:
            continue
        if ep in wanted or (span is not None and ep.is_external and ep.lo <= span[1]
                            and span[0] <= ep.hi):
            found.append(n)
    return sorted(found, key=lambda n: str(n))


def _must_locate(graph: Any, reference: Any, net: Network | None) -> list[Any]:
    found = locate(graph, reference, net)
    if not found and isinstance(reference, str):
        # a namespace's name: everything drawn in it (the drill-down from a namespace view)
        found = sorted((n for n in graph if node_namespace(graph, n) == reference.strip()),
                       key=str)
    if not found:
        text = str(reference)
        ns = text.split("/", 1)[0] if "/" in text else ""
        near = [f"{node_namespace(graph, n)}/{node_label(graph, n)}" for n in graph
                if ns and node_namespace(graph, n) == ns]
        raise UnknownEndpoint(text, f'nothing called "{text}" in the diagram',
                              tuple(closest(text, near) or sorted(near)[:5]))
    return found


def _paths(highlight: Any) -> list[list[Any]]:
    """Paths to highlight: one path, a list of paths, or what :func:`reach.paths` gives.

    A path is a sequence of endpoints (or references), or an object with ``nodes``.
    """
    if highlight is None:
        return []
    if hasattr(highlight, "nodes"):
        return [list(highlight.nodes)]
    items = list(getattr(highlight, "paths", highlight))
    if items and all(isinstance(x, Endpoint | str) for x in items):
        return [items]
    return [list(p.nodes) if hasattr(p, "nodes") else list(p) for p in items]


# ---------------------------------------------------------------------------
# the graph as integers (hashing endpoints a million times is what costs)


class _Graph:
    """A DiGraph's nodes numbered ``0..n-1``, edges as ``out[i][j] = ports``."""

    __slots__ = ("endpoint", "index", "inn", "kind", "label", "namespace", "nodes", "out",
                 "text")

    def __init__(self, graph: Any) -> None:
        self.nodes: list[Any] = list(graph.nodes)
        self.index: dict[Any, int] = {n: i for i, n in enumerate(self.nodes)}
        by_id = {id(n): i for i, n in enumerate(self.nodes)}
        self.kind = [node_kind(graph, n) for n in self.nodes]
        self.namespace = [node_namespace(graph, n) for n in self.nodes]
        self.label = [node_label(graph, n) for n in self.nodes]
        # what a scene's members are: the Endpoint a node stands for (or the node itself)
        self.endpoint = [node_endpoint(graph, n) or n for n in self.nodes]
        self.out: list[dict[int, PortSet | None]] = [{} for _ in self.nodes]
        self.inn: list[dict[int, PortSet | None]] = [{} for _ in self.nodes]
        self.text: dict[tuple[int, int], str] = {}  # labels of edges without ports
        for a, nbrs in graph.adjacency():
            i = self._find(a, by_id)
            row = self.out[i]
            for b, data in nbrs.items():
                j = self._find(b, by_id)
                ports = data.get("ports")
                if not isinstance(ports, PortSet):
                    ports = None
                    self.text[(i, j)] = str(data.get("label", ""))
                row[j] = ports
                self.inn[j][i] = ports

    def _find(self, node: Any, by_id: dict[int, int]) -> int:
        i = by_id.get(id(node))
        return i if i is not None else self.index[node]

    def copy(self) -> _Graph:
        other = object.__new__(_Graph)
        for name in ("endpoint", "index", "kind", "label", "namespace", "nodes", "text"):
            setattr(other, name, getattr(self, name))
        other.out = [dict(row) for row in self.out]
        other.inn = [dict(row) for row in self.inn]
        return other

    def remove(self, i: int, j: int) -> None:
        if j in self.out[i]:
            del self.out[i][j]
            del self.inn[j][i]

    def add_from(self, other: _Graph, i: int, j: int) -> None:
        self.out[i][j] = self.inn[j][i] = other.out[i][j]

    def degree(self, i: int) -> int:
        return len(self.out[i]) + len(self.inn[i])

    def label_of(self, i: int, j: int) -> str:
        return port_label(self.out[i][j], self.text.get((i, j), ""))


def _hop_edges(g: _Graph, a: int, b: int) -> list[tuple[int, int]]:
    """The edges that draw hop ``a -> b``: the edge itself, or the way through a Service."""
    if b in g.out[a]:
        return [(a, b)]
    return [
        edge
        for svc in g.out[a]
        if g.kind[svc] == "Service" and b in g.out[svc]
        for edge in ((a, svc), (svc, b))
    ]


# ---------------------------------------------------------------------------
# collapsing


def _twin_groups(g: _Graph, alive: Sequence[int], frozen: set[int],
                 notes: dict[int, tuple[str, ...]]) -> list[list[int]]:
    """Endpoints of the same kind and namespace with the same peers and ports, grouped.

    Two endpoints are twins when every third endpoint sends them the same ports and
    receives the same ports from them, and the ports between the two are the same both
    ways. Twins without an edge between them have equal open neighbourhoods; twins with
    ports ``p`` between them have equal neighbourhoods once each counts itself with
    ``p``. Both are found by hashing.
    """
    port_ids: dict[int, int] = {}
    canonical: dict[PortSet | None, int] = {}

    def pid(ports: PortSet | None) -> int:
        found = port_ids.get(id(ports))
        if found is None:
            found = port_ids[id(ports)] = canonical.setdefault(ports, len(canonical))
        return found

    parent = {v: v for v in alive}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    buckets: dict[Any, list[int]] = {}
    for v in alive:
        if v in frozen:
            continue
        loop = pid(g.out[v][v]) if v in g.out[v] else -1
        base = (g.kind[v], g.namespace[v], loop, notes.get(v, ()))
        out = frozenset((w, pid(p)) for w, p in g.out[v].items() if w != v)
        inn = frozenset((w, pid(p)) for w, p in g.inn[v].items() if w != v)
        buckets.setdefault((base, -1, out, inn), []).append(v)
        for p in {q for _, q in out}:
            closed = (base, p, out | {(v, p)}, inn | {(v, p)})
            buckets.setdefault(closed, []).append(v)
    for members in buckets.values():
        root = find(members[0])
        for m in members[1:]:
            other = find(m)
            if other != root:
                parent[other] = root
    groups: dict[int, list[int]] = {}
    for v in alive:
        groups.setdefault(find(v), []).append(v)
    return list(groups.values())


def _group_label(g: _Graph, members: Sequence[int], kind: str) -> str:
    names = sorted(g.label[m] for m in members)
    if len(names) == 1:
        return names[0]
    noun = {"External": "ranges", "Pod": "pods", "Service": "services",
            "Namespace": "namespaces"}.get(kind, f"{kind}s" if kind else "endpoints")
    if kind in WORKLOAD_KINDS:
        noun = "workloads"
    shown = names if len(names) <= _MAX_NAMES else [*names[:2], f"… and {len(names) - 2} more"]
    return "\n".join([f"{len(names)} {noun}", *shown])


# ---------------------------------------------------------------------------
# summarizing

_OUTSIDE = frozenset({"External"})
_NOT_SENDERS = frozenset({"External", "Internet", "Service", "IngressController"})
EGRESS_OPEN = "egress: open"
INGRESS_OPEN = "ingress: open"
INGRESS_OPEN_OUTSIDE = "ingress: open to outside"
CAPTION = ("egress: open / ingress: open = all ports to / from every outside address and "
           "between each other; those edges are not drawn")


def _summarize(g: _Graph) -> tuple[dict[int, tuple[str, ...]], _Graph]:
    """Notes per endpoint, and the graph without the edges the notes stand for.

    * ``egress: open``: all ports to every outside address range;
    * ``ingress: open``: all ports from every outside range and from every endpoint
      whose egress is open (``ingress: open to outside`` when only the first holds).

    Edges between an open egress and an open ingress, and between them and the
    outside, go without saying. So do a client's edges to a Service whose backends
    all have open ingress (when the client's egress is open), and a direct edge
    ``a -> b`` when ``a`` reaches ``b`` on the same ports through a Service.
    """
    everything: dict[int, bool] = {}

    def is_all(ports: PortSet | None) -> bool:
        if ports is None:
            return False
        found = everything.get(id(ports))
        if found is None:
            found = everything[id(ports)] = ports.is_all()
        return found

    n = len(g.nodes)
    outside = [i for i in range(n) if g.kind[i] in _OUTSIDE]
    internet = [i for i in range(n) if g.kind[i] == "Internet"]
    senders = [i for i in range(n) if g.kind[i] not in _NOT_SENDERS]
    notes: dict[int, list[str]] = {}
    red = g.copy()
    if outside:
        free = [s for s in senders if all(is_all(g.out[s].get(o)) for o in outside)]
        free_set = set(free)
        for s in free:
            notes.setdefault(s, []).append(EGRESS_OPEN)
            for o in outside:
                red.remove(s, o)
        open_in: set[int] = set()
        for v in senders:
            if not all(is_all(g.inn[v].get(o)) for o in outside):
                continue
            for o in outside:
                red.remove(o, v)
            for i in internet:
                if is_all(g.out[i].get(v)):
                    red.remove(i, v)
            if all(is_all(g.inn[v].get(s)) for s in free if s != v):
                open_in.add(v)
                notes.setdefault(v, []).insert(0, INGRESS_OPEN)
                for s in free:
                    if s != v:
                        red.remove(s, v)
            else:
                notes.setdefault(v, []).insert(0, INGRESS_OPEN_OUTSIDE)
        for svc in range(n):
            backends = g.out[svc]
            if g.kind[svc] == "Service" and backends and all(b in open_in for b in backends):
                for s in list(red.inn[svc]):
                    if s in free_set:
                        red.remove(s, svc)
    for a in range(n):
        services = [s for s in g.out[a] if g.kind[s] == "Service"]
        if not services:
            continue
        for b, ports in list(red.out[a].items()):
            if ports is None or g.kind[b] == "Service":
                continue
            for svc in services:
                through = g.out[svc].get(b)
                if through is not None and ports <= through:
                    red.remove(a, b)
                    break
    return {i: tuple(found) for i, found in notes.items()}, red


# ---------------------------------------------------------------------------
# the scene


def _neighbourhood(g: _Graph, centers: Iterable[int], hops: int) -> dict[int, int]:
    """Each endpoint within ``hops`` drawn edges of ``centers`` (either way): its distance."""
    dist = dict.fromkeys(centers, 0)
    frontier = list(dist)
    for step in range(1, hops + 1):
        nxt = []
        for v in frontier:
            for w in itertools.chain(g.out[v], g.inn[v]):
                if w not in dist:
                    dist[w] = step
                    nxt.append(w)
        frontier = nxt
    return dist


def build_scene(
    graph: Any,
    *,
    focus: Any = None,
    hops: int = 1,
    highlight: Any = None,
    collapse: bool = True,
    summarize_edges: bool = True,
    title: str = "",
    net: Network | None = None,
) -> Scene:
    """Turn a reachability DiGraph into the :class:`Scene` that diagrams draw.

    ``focus`` (an Endpoint or ``NS/NAME`` text) keeps its ``hops``-neighbourhood;
    ``highlight`` is a path (a sequence of endpoints) or a list of paths; ``net``
    helps resolve names given at another granularity than the graph's.
    Raises :class:`~reach.errors.UnknownEndpoint` when ``focus`` names nothing.
    """
    if hops < 0:
        raise ValueError(f"hops must be 0 or more, not {hops}")
    full = _Graph(graph)
    notes: dict[int, tuple[str, ...]] = {}
    g = full
    if summarize_edges:
        notes, g = _summarize(full)

    hl_nodes: set[int] = set()
    hl_edges: set[tuple[int, int]] = set()
    readded: set[tuple[int, int]] = set()  # hops the notes stood for, drawn for the path
    for path in _paths(highlight):
        located = [[full.index[n] for n in locate(graph, step, net)] for step in path]
        for found in located:
            hl_nodes.update(found)
        for here, there in itertools.pairwise(located):
            for a in here:
                for b in there:
                    route = _hop_edges(g, a, b) or _hop_edges(full, a, b)
                    for i, j in route:
                        if j not in g.out[i]:  # a hop the notes stood for
                            if g is full:
                                g = full.copy()
                            g.add_from(full, i, j)
                            readded.add((i, j))
                    hl_edges.update(route)
    hl_nodes.update(n for edge in hl_edges for n in edge)

    # Highlighted endpoints may stay in their groups (the group is highlighted): the path
    # is drawn over the very layout the diagram has without it.
    frozen: set[int] = set()
    alive = [
        i for i in range(len(full.nodes))
        if i in hl_nodes or g.degree(i)
        or (full.kind[i] not in _OUTSIDE and full.kind[i] != "Internet")
        or (full.kind[i] in _OUTSIDE and not full.degree(i))
    ]  # outside ends left without edges go (a range no policy lets in or out stays)
    centers: set[int] = set()
    if focus is not None:
        centers = {full.index[n] for n in _must_locate(graph, focus, net)}
        frozen |= centers
        dist = _neighbourhood(g, centers, hops)
        keep = set(dist) | hl_nodes
        alive = [i for i in alive if i in keep]
        # Only the edges that lead out from the focus within its hops: between two
        # endpoints both `hops` away, an edge is another neighbourhood's business.
        g = g.copy() if g is full else g
        for i in list(dist):
            for j in list(g.out[i]):
                if j in dist and min(dist[i], dist[j]) >= hops and (i, j) not in hl_edges:
                    g.remove(i, j)
    alive_set = set(alive)
    if len(alive_set) < len(full.nodes):
        g = g.copy() if g is full else g
        for i in range(len(full.nodes)):
            if i not in alive_set:
                for j in list(g.out[i]):
                    g.remove(i, j)
                for j in list(g.inn[i]):
                    g.remove(j, i)

    groups = _twin_groups(g, alive, frozen, notes) if collapse else [[v] for v in alive]
    infos = []
    for members in groups:
        first = members[0]
        kind, ns = g.kind[first], g.namespace[first]
        label = _group_label(g, members, kind)
        names = sorted(str(g.nodes[m]) for m in members)
        infos.append(((ns, kind_rank(kind), label.lower(), kind, names[0]), members, kind, ns,
                      label))
    infos.sort(key=lambda item: item[0])

    group_of: dict[int, int] = {}
    nodes: list[SceneNode] = []
    for k, (_, members, kind, ns, label) in enumerate(infos):
        for m in members:
            group_of[m] = k
        first = members[0]
        loop = ""
        if first in g.out[first]:
            loop = g.label_of(first, first)
        elif len(members) > 1 and members[1] in g.out[first]:
            loop = g.label_of(first, members[1])
        ordered = tuple(sorted((g.endpoint[m] for m in members), key=str))
        nodes.append(SceneNode(f"n{k}", label, kind, ns, ordered,
                               highlighted=any(m in hl_nodes for m in members),
                               focused=any(m in centers for m in members), loop=loop,
                               notes=notes.get(first, ())))

    # (group pair) -> [label, ports, highlighted, drawn without the path too]
    raw: dict[tuple[int, int], list[Any]] = {}
    for a in alive:
        ga = group_of[a]
        for b, ports in g.out[a].items():
            gb = group_of[b]
            if ga == gb:
                continue
            hl = (a, b) in hl_edges
            base = (a, b) not in readded
            old = raw.get((ga, gb))
            if old is None:
                raw[(ga, gb)] = [g.label_of(a, b), ports, hl, base]
            else:
                if (base and not old[3]) or (hl and not old[2] and base == old[3]):
                    old[0], old[1] = g.label_of(a, b), ports
                old[2] = old[2] or hl
                old[3] = old[3] or base

    edges: list[SceneEdge] = []
    for ga, gb in sorted(raw):
        text, ports, hl, base = raw[(ga, gb)]
        src, dst = f"n{ga}", f"n{gb}"
        if not base:  # only the path draws it: over the layout, not part of it
            edges.append(SceneEdge(src, dst, text, ports, highlighted=True, extra=True))
            continue
        back = raw.get((gb, ga))
        if back is not None and back[3] and back[0] == text:
            if ga > gb:
                if hl and not back[2]:
                    edges.append(SceneEdge(src, dst, text, ports, highlighted=True, extra=True))
                continue  # drawn with its reverse as one two-headed edge
            both_hl = hl and back[2]
            edges.append(SceneEdge(src, dst, text, ports, both=True, highlighted=both_hl))
            if hl and not both_hl:
                edges.append(SceneEdge(src, dst, text, ports, highlighted=True, extra=True))
        else:
            edges.append(SceneEdge(src, dst, text, ports, highlighted=hl))
    collapsed = sum(len(members) - 1 for members in groups)
    caption = CAPTION if any(n.notes for n in nodes) else ""
    return Scene(tuple(nodes), tuple(edges), title, collapsed, caption)


def iter_kinds(scene: Scene) -> Iterable[str]:
    """The kinds present on the scene, in :func:`kind_rank` order."""
    return sorted({n.kind for n in scene.nodes}, key=lambda k: (kind_rank(k), k))
