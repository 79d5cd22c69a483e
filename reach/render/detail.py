"""Level of detail: every diagram fits its page, and says what it left out.

A diagram with more boxes or arrows than a page can show is not drawn smaller or
cut: it is drawn at a coarser level, and its caption says so and how to drill
down. :func:`plan` tries, in order, until the scene (after collapsing twins and
bundling fans, see :mod:`reach.render.scene` and :mod:`reach.render.bundle`) fits
the :class:`Budget`:

1. the granularity asked for (``workload`` by default), with Services (but by
   namespace, where a Service is part of its namespace);
2. the same without Service nodes (clients point straight at the backends);
3. the workloads, when pods were asked for;
4. namespaces, without Services.

When even the coarsest level is over budget it is drawn all the same (nothing is
ever dropped) and the notice says so. A view with nothing to draw is an error
that says why, never an empty picture.

Examples
--------
>>> import networkx as nx
>>> from reach.endpoints import Endpoint
>>> from reach.engine.ports import PortSet
>>> g = nx.DiGraph()
>>> for i in range(30):  # a ring of 30 workloads in 3 namespaces, each on its own port
...     g.add_edge(Endpoint("Deployment", f"team-{i % 3}", f"app{i}"),
...                Endpoint("Deployment", f"team-{(i + 1) % 3}", f"app{(i + 1) % 30}"),
...                ports=PortSet.single("TCP", 8000 + i))
>>> scene = plan(g, budget=Budget(nodes=20, edges=40))
>>> scene.level, [n.label for n in scene.nodes]
('namespace', ['team-0', 'team-1', 'team-2'])
>>> print(scene.notice)
30 boxes and 30 arrows do not fit one page (budget: 20 boxes, 40 arrows): drawn by namespace; ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.errors import RenderError
from reach.render._source import GRAPH_GRANULARITIES as GRANULARITIES
from reach.render._source import as_graph, node_kind, node_namespace
from reach.render.bundle import BUNDLE_MIN, bundle_edges
from reach.render.scene import Scene, build_scene

__all__ = ["DEFAULT_BUDGET", "Budget", "contract", "merge_outside", "namespace_graph", "plan"]


@dataclass(frozen=True, slots=True)
class Budget:
    """The most boxes and arrows one diagram may show; 0 means no limit."""

    nodes: int = 60
    edges: int = 80

    def fits(self, scene: Scene) -> bool:
        """Whether ``scene`` is within budget (an arrow without a label counts half)."""
        bare = sum(1 for e in scene.edges if not e.label)
        arrows = len(scene.edges) - bare / 2
        return ((not self.nodes or len(scene.nodes) <= self.nodes)
                and (not self.edges or arrows <= self.edges))

    def __str__(self) -> str:
        return f"{self.nodes or 'any'} boxes, {self.edges or 'any'} arrows"


DEFAULT_BUDGET = Budget()
_OUTSIDE = ("Internet", "External", "IngressController")


def _is_graph(source: Any) -> bool:
    return hasattr(source, "succ") and hasattr(source, "pred")


def contract(graph: Any, into: Callable[[Any], Any],
             attrs: Callable[[Any], dict[str, Any]], **graph_attrs: Any) -> Any:
    """``graph`` with each node replaced by ``into(node)``; merged edges join their ports.

    ``attrs(merged)`` gives the attributes of a node that stands for others; edges
    inside one merged node disappear.
    """
    import networkx as nx

    out = nx.DiGraph(**graph_attrs)
    for node in graph:
        target = into(node)
        if target not in out:
            out.add_node(target, **(dict(graph.nodes[node]) if target is node
                                    else attrs(target)))
    for a, b, data in graph.edges(data=True):
        ma, mb = into(a), into(b)
        if ma == mb:
            continue
        ports = data.get("ports")
        ports = ports if isinstance(ports, PortSet) else PortSet.all()
        if out.has_edge(ma, mb):
            ports = out.edges[ma, mb]["ports"] | ports
        out.add_edge(ma, mb, ports=ports, label=str(ports))
    return out


def namespace_graph(graph: Any) -> Any:
    """A reachability DiGraph with the endpoints of each namespace merged into one node.

    Endpoints outside namespaces stay; ports of merged edges are joined; edges inside
    one namespace disappear (as in ``reach.graph.graph(net, by="namespace")``).
    """

    def merged(node: Any) -> Any:
        ns = node_namespace(graph, node)
        if not ns or node_kind(graph, node) in _OUTSIDE:
            return node
        return Endpoint("Namespace", "", ns)

    return contract(graph, merged, lambda ns: {"kind": "Namespace", "namespace": ns.name,
                                               "label": ns.name}, by="namespace")


def merge_outside(graph: Any) -> Any:
    """The graph with all outside address ranges merged into one node, ``outside``."""
    gone = {n for n in graph if node_kind(graph, n) == "External"}
    if len(gone) < 2:
        return graph
    outside = Endpoint("External", "", f"outside ({len(gone)} ranges)")
    return contract(graph, lambda n: outside if n in gone else n,
                    lambda n: {"kind": "External", "namespace": "", "label": n.name},
                    **graph.graph)


# A rung: (granularity, services, outside ranges merged, port labels drawn, what changed)
_Rung = tuple[str, bool, bool, bool, str]


def _rungs(source: Any, by: str, services: bool) -> Iterator[_Rung]:
    """The levels to try, from the finest asked for to an overview of namespaces.

    A namespace's Services are part of it: at namespace level they are not drawn apart.
    """
    services = services and by != "namespace"
    yield by, services, False, True, ""
    if not _is_graph(source):
        if services:
            yield by, False, False, True, "Services folded into their backends"
        if by == "pod":
            yield "workload", False, False, True, "drawn by workload"
    if by != "namespace":
        yield "namespace", False, False, True, "drawn by namespace"
    yield ("namespace", False, True, True,
           "drawn by namespace, outside address ranges merged into one")
    yield ("namespace", False, True, False,
           "drawn by namespace, outside ranges merged, port labels left off the arrows (the "
           "Graphviz SVG and the .html page show them on hover)")


def plan(
    source: Any,
    by: str = "workload",
    *,
    focus: Any = None,
    hops: int = 1,
    highlight: Any = None,
    collapse: bool = True,
    summarize: bool = True,
    services: bool = True,
    bundle: bool = True,
    title: str = "",
    budget: Budget = DEFAULT_BUDGET,
) -> Scene:
    """The scene to draw: the finest level of detail that fits ``budget``.

    ``source`` is a :class:`~reach.network.Network` or a reachability DiGraph; the
    other arguments are those of :func:`reach.render.to_dot`. The scene's ``notice``
    says what was coarsened and how to drill down.

    Raises
    ------
    reach.errors.RenderError
        There is nothing to draw (no endpoint, or a focus without any connection).
    reach.errors.UnknownEndpoint
        ``focus`` names nothing on the diagram.
    """
    if by not in GRANULARITIES:
        raise ValueError(f"by must be one of {', '.join(GRANULARITIES)}, not {by!r}")
    net = None if _is_graph(source) else source
    first: Scene | None = None
    scene: Scene | None = None
    refused = ""
    graphs: dict[tuple[str, bool], Any] = {}
    for level, with_services, merged, labels, change in _rungs(source, by, services):
        if not budget.nodes and not budget.edges and change:
            break  # no budget: the level asked for, whatever its size
        try:
            graph = graphs.get((level, with_services))
            if graph is None:
                if _is_graph(source):
                    graph = source if level == by else namespace_graph(source)
                else:
                    graph = as_graph(source, by=level, services=with_services)
                graphs[(level, with_services)] = graph
        except ValueError as exc:  # the graph itself would not fit in memory
            refused = refused or f"the {level} graph is too large to draw ({exc})"
            continue
        if merged:
            graph = merge_outside(graph)
        scene = build_scene(graph, focus=focus, hops=hops, highlight=highlight,
                            collapse=collapse, summarize_edges=summarize, title=title, net=net)
        scene = replace(bundle_edges(scene, BUNDLE_MIN if bundle else 0), level=level)
        if not labels:
            scene = replace(scene, edges=tuple(replace(e, label="") for e in scene.edges))
        if first is None:
            first = scene
        if budget.fits(scene):
            if change:
                scene = replace(scene, notice=_notice(first, scene, change, budget, focus,
                                                      hops, refused=refused))
            break
    else:
        if scene is not None and first is not None and scene is not first:
            scene = replace(scene, notice=_notice(first, scene, change, budget, focus, hops,
                                                  still=True, refused=refused))
    if scene is None:
        raise RenderError("nothing to draw: the graph is too large to build at any level")
    _check_drawable(scene, focus, hops)
    return scene


def _notice(first: Scene, scene: Scene, change: str, budget: Budget, focus: Any, hops: int,
            *, still: bool = False, refused: str = "") -> str:
    what = refused or (f"{len(first.nodes)} boxes and {len(first.edges)} arrows do not fit one "
                       f"page (budget: {budget})")
    if focus is None:
        drill = "drill down with --focus NAMESPACE or --focus NS/NAME"
        if scene.level != first.level:
            drill += f" --by {first.level}"
    elif hops > 1:
        drill = "use a smaller --hops"
    else:
        drill = "focus on one endpoint (--focus NS/NAME)"
    if still:
        return f"{what}: {change}, and still over budget; {drill}"
    return f"{what}: {change}; {drill}, or --max-nodes 0 to draw everything"


def _check_drawable(scene: Scene, focus: Any, hops: int) -> None:
    if focus is not None and (not scene.nodes or not scene.edges):
        raise RenderError(
            f"nothing to draw around {focus}: it has no allowed connection within {hops} "
            f"hop(s) at the {scene.level or 'chosen'} level (an outside address is drawn only "
            "when a policy lets it in or out; try without --focus, or a larger --hops)")
    if not scene.nodes:
        raise RenderError("nothing to draw: the diagram has no endpoint")
