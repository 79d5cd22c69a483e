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
   kept (in either direction), plus the highlighted path;
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
>>> from reach.ports import PortSet
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

from reach.endpoints import Endpoint
from reach.errors import UnknownEndpoint
from reach.ports import PortSet
from reach.render._source import (
    WORKLOAD_KINDS,
    edge_ports,
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
    "summarize",
]

Highlight = Sequence[Endpoint] | Sequence[Sequence[Endpoint]]

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


@dataclass(frozen=True, slots=True)
class Scene:
    """Nodes and edges in their final order; see the module documentation."""

    nodes: tuple[SceneNode, ...]
    edges: tuple[SceneEdge, ...]
    title: str = ""
    collapsed: int = 0  # how many endpoints disappeared into groups
    caption: str = ""  # what the notes mean, when there are notes

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
    """A compact edge label: ``all``, ``TCP 80,443``, one protocol a line, long lines cut.

    >>> port_label(PortSet.all())
    'all'
    >>> port_label(PortSet.single("TCP", 80) | PortSet.protocol("UDP"))
    'TCP 80\\nUDP all'
    """
    if ports is None:
        return fallback
    if ports.is_all():
        return "all"
    if not ports:
        return "none"
    lines = []
    for proto, ranges in ports.to_dict().items():
        if ranges == [(1, 65535)]:
            lines.append(f"{proto} all")
            continue
        text = f"{proto} " + ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)
        if len(text) > _MAX_LINE:
            text = text[: _MAX_LINE - 1].rsplit(",", 1)[0] + ",…"
        lines.append(text)
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# locating endpoints named by the user


def _reference_keys(graph: Any, node: Any) -> set[str]:
    kind, ns, label = node_kind(graph, node), node_namespace(graph, node), node_label(graph, node)
    keys = {str(node), label if not ns else f"{ns}/{label}"}
    if isinstance(node, Endpoint):
        keys.add(f"{node.namespace}/{node.name}" if node.namespace else node.name)
        keys.add(f"{node.namespace}/{node.kind}/{node.name}".lower())
    if kind == "Internet":
        keys.update({"internet", "{internet}"})
    if kind == "IngressController":
        keys.update({"ingress-controller", "{ingress-controller}"})
    return keys


def locate(graph: Any, reference: Any, net: Network | None = None) -> list[Any]:
    """The nodes of ``graph`` that ``reference`` (an Endpoint or a user's text) names."""
    if reference in graph:
        return [reference]
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
    found = [n for n in graph if text in _reference_keys(graph, n)
             or lowered in _reference_keys(graph, n)]
    if found or net is None:
        return sorted(found, key=lambda n: str(n))
    # A pod named at workload granularity (or the reverse): go through the network.
    try:
        resolved = net.resolve(reference)
    except (UnknownEndpoint, ValueError):
        return []
    wanted: set[Endpoint] = set()
    for i in resolved.pods:
        pod = net.pods[i]
        wanted.update({
            Endpoint("Pod", pod.namespace, pod.name),
            Endpoint(pod.workload_kind, pod.namespace, pod.workload_name),
            Endpoint("Namespace", "", pod.namespace),
        })
    if resolved.endpoint.is_external:
        wanted.update(n for n in graph if isinstance(n, Endpoint) and n.is_external
                      and n.lo <= resolved.endpoint.lo <= n.hi)
    return sorted((n for n in graph if n in wanted), key=lambda n: str(n))


def _must_locate(graph: Any, reference: Any, net: Network | None) -> list[Any]:
    found = locate(graph, reference, net)
    if not found:
        text = str(reference)
        ns = text.split("/", 1)[0] if "/" in text else ""
        near = sorted(
            f"{node_namespace(graph, n)}/{node_label(graph, n)}" for n in graph
            if ns and node_namespace(graph, n) == ns
        )
        raise UnknownEndpoint(text, f'nothing called "{text}" in the diagram', tuple(near[:10]))
    return found


def _paths(highlight: Any) -> list[list[Any]]:
    """Paths to highlight: one path, a list of paths, or what :func:`reach.queries.paths` gives.

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


def _hop_edges(graph: Any, a: Any, b: Any) -> list[tuple[Any, Any]]:
    """The edges that draw hop ``a -> b``: the edge itself, or the way through a Service."""
    if graph.has_edge(a, b):
        return [(a, b)]
    return [
        edge
        for svc in graph.successors(a)
        if node_kind(graph, svc) == "Service" and graph.has_edge(svc, b)
        for edge in ((a, svc), (svc, b))
    ]


# ---------------------------------------------------------------------------
# collapsing


def _twin_groups(graph: Any, frozen: set[Any],
                 notes: dict[Any, tuple[str, ...]]) -> list[list[Any]]:
    """Endpoints of the same kind and namespace with the same peers and ports, grouped.

    Two endpoints are twins when every third endpoint sends them the same ports and
    receives the same ports from them, and the ports between the two are the same both
    ways. Twins without an edge between them have equal open neighbourhoods; twins with
    ports ``p`` between them have equal neighbourhoods once each counts itself with
    ``p``. Both are found by hashing.
    """
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    buckets: dict[Any, list[Any]] = {}
    for v in graph:
        if v in frozen:
            continue
        loop = edge_ports(graph, v, v) if graph.has_edge(v, v) else None
        base = (node_kind(graph, v), node_namespace(graph, v), loop, notes.get(v, ()))
        out = frozenset((w, edge_ports(graph, v, w)) for w in graph.successors(v) if w != v)
        inn = frozenset((w, edge_ports(graph, w, v)) for w in graph.predecessors(v) if w != v)
        buckets.setdefault((base, None, out, inn), []).append(v)
        for p in {ports for _, ports in out}:
            closed = (base, p, out | {(v, p)}, inn | {(v, p)})
            buckets.setdefault(closed, []).append(v)
    for members in buckets.values():
        if len(members) > 1:
            root = find(members[0])
            for m in members[1:]:
                other = find(m)
                if other != root:
                    parent[other] = root
    groups: dict[Any, list[Any]] = {}
    for v in graph:
        groups.setdefault(find(v), []).append(v)
    return list(groups.values())


def _group_label(graph: Any, members: Sequence[Any], kind: str) -> str:
    names = sorted(node_label(graph, m) for m in members)
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


def _all_ports(graph: Any, a: Any, b: Any) -> bool:
    if not graph.has_edge(a, b):
        return False
    ports = edge_ports(graph, a, b)
    return ports is not None and ports.is_all()


def summarize(graph: Any) -> tuple[dict[Any, tuple[str, ...]], set[tuple[Any, Any]]]:
    """Notes per endpoint, and the edges those notes stand for (see the module docs).

    * ``egress: open``: all ports to every outside address range;
    * ``ingress: open``: all ports from every outside range and from every endpoint
      whose egress is open (``ingress: open to outside`` when only the first holds).

    Edges between an open egress and an open ingress, and between them and the
    outside, go without saying. So do a client's edges to a Service whose backends
    all have open ingress (when the client's egress is open), and a direct edge
    ``a -> b`` when ``a`` reaches ``b`` on the same ports through a Service.
    """
    outside = [n for n in graph if node_kind(graph, n) in _OUTSIDE]
    internet = [n for n in graph if node_kind(graph, n) == "Internet"]
    senders = [n for n in graph if node_kind(graph, n) not in _NOT_SENDERS]
    notes: dict[Any, list[str]] = {}
    implied: set[tuple[Any, Any]] = set()
    if outside:
        free = {s for s in senders if all(_all_ports(graph, s, o) for o in outside)}
        for s in sorted(free, key=str):
            notes.setdefault(s, []).append(EGRESS_OPEN)
            implied.update((s, o) for o in outside)
        open_in: set[Any] = set()
        for v in senders:
            if not all(_all_ports(graph, o, v) for o in outside):
                continue
            implied.update((o, v) for o in outside)
            implied.update((i, v) for i in internet if _all_ports(graph, i, v))
            if all(_all_ports(graph, s, v) for s in free if s != v):
                open_in.add(v)
                notes.setdefault(v, []).insert(0, INGRESS_OPEN)
                implied.update((s, v) for s in free if s != v)
            else:
                notes.setdefault(v, []).insert(0, INGRESS_OPEN_OUTSIDE)
        for svc in graph:
            if node_kind(graph, svc) != "Service":
                continue
            backends = [b for b in graph.successors(svc)]
            if backends and all(b in open_in for b in backends):
                implied.update((s, svc) for s in graph.predecessors(svc) if s in free)
    for a, b in graph.edges():
        if (a, b) in implied or node_kind(graph, b) == "Service":
            continue
        ports = edge_ports(graph, a, b)
        if ports is None:
            continue
        for svc in graph.successors(a):
            if node_kind(graph, svc) == "Service" and graph.has_edge(svc, b):
                through = edge_ports(graph, svc, b)
                if through is not None and ports <= through:
                    implied.add((a, b))
                    break
    return {n: tuple(found) for n, found in notes.items()}, implied


# ---------------------------------------------------------------------------
# the scene


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
    import networkx as nx

    if hops < 0:
        raise ValueError(f"hops must be 0 or more, not {hops}")
    notes: dict[Any, tuple[str, ...]] = {}
    implied: set[tuple[Any, Any]] = set()
    full = graph
    if summarize_edges:
        notes, implied = summarize(full)
        graph = nx.DiGraph(full)
        graph.remove_edges_from(implied)

    hl_nodes: set[Any] = set()
    hl_edges: set[tuple[Any, Any]] = set()
    for path in _paths(highlight):
        located = [locate(full, step, net) for step in path]
        for found in located:
            hl_nodes.update(found)
        for here, there in itertools.pairwise(located):
            for a in here:
                for b in there:
                    route = _hop_edges(graph, a, b) or _hop_edges(full, a, b)
                    for edge in route:
                        if not graph.has_edge(*edge):  # a hop the notes stood for
                            graph.add_edge(*edge, **full.edges[edge])
                    hl_edges.update(route)
    hl_nodes.update(n for edge in hl_edges for n in edge)

    frozen = set(hl_nodes)
    if implied:
        graph.remove_nodes_from([
            n for n in full
            if n not in frozen and full.degree(n) and not graph.degree(n)
            and node_kind(full, n) in _OUTSIDE | {"Internet"}
        ])

    centers: set[Any] = set()
    if focus is not None:
        centers = set(_must_locate(graph, focus, net))
        frozen |= centers
        undirected = graph.to_undirected(as_view=True)
        keep = set(hl_nodes)
        for c in centers:
            keep.update(nx.single_source_shortest_path_length(undirected, c, cutoff=hops))
        graph = graph.subgraph(keep)

    groups = _twin_groups(graph, frozen, notes) if collapse else [[v] for v in graph]
    infos = []
    for members in groups:
        first = members[0]
        kind, ns = node_kind(graph, first), node_namespace(graph, first)
        label = _group_label(graph, members, kind)
        names = sorted(str(m) for m in members)
        infos.append(((ns, kind_rank(kind), label.lower(), kind, names[0]), members, kind, ns,
                      label))
    infos.sort(key=lambda item: item[0])

    group_of: dict[Any, str] = {}
    nodes: list[SceneNode] = []
    for i, (_, members, kind, ns, label) in enumerate(infos):
        ident = f"n{i}"
        for m in members:
            group_of[m] = ident
        first = members[0]
        loop = ""
        if graph.has_edge(first, first):
            loop = port_label(edge_ports(graph, first, first),
                              graph.edges[first, first].get("label", ""))
        elif len(members) > 1 and graph.has_edge(first, members[1]):
            loop = port_label(edge_ports(graph, first, members[1]),
                              graph.edges[first, members[1]].get("label", ""))
        ordered = tuple(sorted(members, key=str))
        nodes.append(SceneNode(ident, label, kind, ns, ordered,
                               highlighted=any(m in hl_nodes for m in members),
                               focused=any(m in centers for m in members), loop=loop,
                               notes=notes.get(first, ())))

    raw: dict[tuple[str, str], tuple[str, PortSet | None, bool]] = {}
    for a, b, data in graph.edges(data=True):
        ga, gb = group_of[a], group_of[b]
        if ga == gb:
            continue
        ports = data.get("ports") if isinstance(data.get("ports"), PortSet) else None
        text = port_label(ports, str(data.get("label", "")))
        hl = (a, b) in hl_edges
        old = raw.get((ga, gb))
        raw[(ga, gb)] = (text, ports, hl or (old is not None and old[2]))

    def order(ident: str) -> int:
        return int(ident[1:])

    edges: list[SceneEdge] = []
    for (ga, gb) in sorted(raw, key=lambda k: (order(k[0]), order(k[1]))):
        text, ports, hl = raw[(ga, gb)]
        back = raw.get((gb, ga))
        if back is not None and back[0] == text and back[2] == hl:
            if order(ga) > order(gb):
                continue  # drawn with its reverse as one two-headed edge
            edges.append(SceneEdge(ga, gb, text, ports, both=True, highlighted=hl))
        else:
            edges.append(SceneEdge(ga, gb, text, ports, highlighted=hl))
    collapsed = sum(len(members) - 1 for members in groups)
    caption = CAPTION if any(n.notes for n in nodes) else ""
    return Scene(tuple(nodes), tuple(edges), title, collapsed, caption)


def iter_kinds(scene: Scene) -> Iterable[str]:
    """The kinds present on the scene, in :func:`kind_rank` order."""
    return sorted({n.kind for n in scene.nodes}, key=lambda k: (kind_rank(k), k))
