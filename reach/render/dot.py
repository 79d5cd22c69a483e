"""Diagrams as Graphviz DOT text, written with pydot (Graphviz itself is not needed).

Namespaces are clusters; each kind of endpoint has its shape and colour
(:mod:`reach.render.style`); edges are labelled with their ports. The output is
deterministic: node ids are synthetic (``n0``, ``n1``... in namespace, kind, name
order) with the real names as labels, clusters and edges are sorted.

Examples
--------
>>> import networkx as nx
>>> from reach.endpoints import Endpoint
>>> from reach.engine.ports import PortSet
>>> g = nx.DiGraph()
>>> g.add_edge(Endpoint("Deployment", "shop", "web"), Endpoint("StatefulSet", "shop", "db"),
...            ports=PortSet.single("TCP", 5432))
>>> print(to_dot(g), end="")  # doctest: +ELLIPSIS
digraph reach {
...
subgraph cluster_0 {
label=shop;
...
n0 [label=db, shape=cylinder, ...];
n1 [label=web, shape=box, ...];
}
n1 -> n0 [label="TCP 5432"];
}
"""

from __future__ import annotations

from typing import Any, cast

from reach.render._source import as_graph
from reach.render.scene import Scene, SceneEdge, SceneNode, build_scene
from reach.render.style import CLUSTER_FILL, CLUSTER_LINE, EDGE, HIGHLIGHT, style_of

__all__ = ["scene_to_dot", "to_dot"]

_FONT = "Helvetica"


def to_dot(
    source: Any,
    by: str = "workload",
    *,
    focus: Any = None,
    hops: int = 1,
    highlight: Any = None,
    collapse: bool = True,
    summarize: bool = True,
    services: bool = True,
    title: str = "",
) -> str:
    """The DOT text of a reachability diagram.

    Parameters
    ----------
    source
        An analysed :class:`~reach.network.Network`, or a ``networkx.DiGraph`` that
        follows the graph contract (nodes are endpoints, edges carry ``ports``).
    by
        Granularity when ``source`` is a Network: ``pod``, ``workload``,
        ``namespace`` or ``class``.
    focus, hops
        Keep only the endpoint ``focus`` (``NS/NAME``, ``NS/KIND/NAME`` or an
        Endpoint) and what lies within ``hops`` steps of it, either direction.
    highlight
        A path (a sequence of endpoints or references, a :class:`reach.graph.queries.Path`)
        or several (a list of them, a :class:`reach.graph.queries.PathResult`), drawn in
        red; a hop the graph draws through a Service is highlighted through it. A
        path of one endpoint highlights just that endpoint.
    collapse
        Draw endpoints of one kind and namespace with the same peers and ports as one.
    summarize
        Replace the fans of all-port edges (to every outside range, from everyone) by
        notes on the endpoints (see :mod:`reach.render.scene`).
    services
        Show Services as endpoints (when the graph stage offers them).
    title
        A caption for the diagram.

    Raises
    ------
    reach.errors.UnknownEndpoint
        ``focus`` names nothing on the diagram.
    """
    net = None if _is_graph(source) else source
    graph = as_graph(source, by=by, services=services)
    scene = build_scene(graph, focus=focus, hops=hops, highlight=highlight,
                        collapse=collapse, summarize_edges=summarize, title=title, net=net)
    return scene_to_dot(scene)


def _is_graph(source: Any) -> bool:
    return hasattr(source, "succ") and hasattr(source, "pred")


def _node(node: SceneNode) -> Any:
    import pydot

    style = style_of(node.kind)
    attrs: dict[str, Any] = {
        "label": node.text,
        "shape": style.shape,
        "style": style.style,
        "fillcolor": style.fill,
        "color": style.line,
        "tooltip": node.tooltip,
    }
    if node.highlighted:
        attrs.update(color=HIGHLIGHT, penwidth="3")
    elif node.focused:
        attrs["penwidth"] = "2.5"
    return pydot.Node(node.id, **attrs)


def _edge(edge: SceneEdge) -> Any:
    import pydot

    attrs: dict[str, Any] = {"label": edge.label}
    if edge.both:
        attrs["dir"] = "both"
    if edge.highlighted:
        attrs.update(color=HIGHLIGHT, fontcolor=HIGHLIGHT, penwidth="3")
    return pydot.Edge(edge.src, edge.dst, **attrs)


def _graph_label(title: str, caption: str) -> str:
    """An HTML-like label: the title in bold, the caption small under it."""
    import html

    parts = [f"<b>{html.escape(title)}</b>"] if title else []
    if caption:
        parts.append(f'<font point-size="9">{html.escape(caption)}</font>')
    return "<" + "<br/>".join(parts) + ">"


def scene_to_dot(scene: Scene) -> str:
    """DOT text for a :class:`~reach.render.scene.Scene` (see :func:`to_dot`)."""
    import pydot

    dot = pydot.Dot("reach", graph_type="digraph")
    graph_attrs = {"rankdir": "LR", "fontname": _FONT, "fontsize": "12", "nodesep": "0.25",
                   "ranksep": "0.9", "newrank": "true", "labelloc": "t"}
    if scene.title or scene.caption:
        graph_attrs["label"] = _graph_label(scene.title, scene.caption)
    for key, value in graph_attrs.items():
        dot.set(key, value)
    dot.set_node_defaults(fontname=_FONT, fontsize="10", style="filled")
    dot.set_edge_defaults(fontname=_FONT, fontsize="9", color=EDGE, fontcolor=EDGE,
                          arrowsize="0.7")
    clusters: dict[str, Any] = {}
    for i, ns in enumerate(scene.namespaces()):
        cluster = pydot.Cluster(str(i), label=ns, style="rounded,filled", fillcolor=CLUSTER_FILL,
                                color=CLUSTER_LINE, fontname=_FONT, fontsize="11")
        clusters[ns] = cluster
        dot.add_subgraph(cast(Any, cluster))  # typed for Subgraph; a Cluster works alike
    for node in scene.nodes:
        (clusters[node.namespace] if node.namespace else dot).add_node(_node(node))
    for edge in scene.edges:
        dot.add_edge(_edge(edge))
    text: str = dot.to_string()
    return text
