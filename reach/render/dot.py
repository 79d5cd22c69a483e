"""Diagrams as Graphviz DOT text, written with pydot (Graphviz itself is not needed).

Namespaces are clusters; each kind of endpoint has its shape and colour
(:mod:`reach.render.style`); edges are labelled with their ports. The DOT carries
the whole layout of :mod:`reach.render.layout` (``layout=nop2``: node positions,
edge routes, label places, cluster boxes), so ``dot -Tpng`` draws it as it is. The
output is deterministic: node ids are synthetic (``n0``, ``n1``... in namespace,
kind, name order; bundle groups after them) with the real names as labels; the
title, the notes and the legend are nodes of a subgraph ``notes`` (``text0``,
``legend0``...).

Examples
--------
>>> import networkx as nx
>>> from reach.endpoints import Endpoint
>>> from reach.engine.ports import PortSet
>>> g = nx.DiGraph()
>>> g.add_edge(Endpoint("Deployment", "shop", "web"), Endpoint("StatefulSet", "shop", "db"),
...            ports=PortSet.single("TCP", 5432))
>>> text = to_dot(g)
>>> text.splitlines()[:2]
['digraph reach {', 'layout=nop2;']
>>> [line for line in text.splitlines() if "label=db" in line]  # doctest: +ELLIPSIS
['n0 [label=db, shape=cylinder, ..., pos="...", width=..., height=...];']
>>> [line for line in text.splitlines() if line.startswith("n1 -> n0")]  # doctest: +ELLIPSIS
['n1 -> n0 [label="TCP 5432", pos="e,...", tooltip="TCP 5432", lp="..."];']
"""

from __future__ import annotations

import itertools
import math
from typing import Any, cast

from reach.render.detail import DEFAULT_BUDGET, Budget, plan
from reach.render.layout import (
    BOX_FONT,
    EDGE_FONT,
    NODE_FONT,
    Layout,
    PlacedEdge,
    PlacedNode,
    Rect,
    TextBlock,
    layout,
    text_size,
)
from reach.render.scene import Scene, port_label
from reach.render.style import CLUSTER_FILL, CLUSTER_LINE, EDGE, FADED_TEXT, HIGHLIGHT, style_of

__all__ = ["layout_to_dot", "scene_to_dot", "to_dot"]

_FONT = "Helvetica"
ARROW = 7.0  # length of an arrowhead, points


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
    bundle: bool = True,
    title: str = "",
    budget: Budget = DEFAULT_BUDGET,
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
    bundle
        Draw each fan of equal edges as one edge from or to a group node
        (:mod:`reach.render.bundle`).
    title
        A caption for the diagram.
    budget
        The most boxes and arrows one diagram shows; a larger view is drawn at a
        coarser level, with a notice saying so (:mod:`reach.render.detail`).

    Raises
    ------
    reach.errors.UnknownEndpoint
        ``focus`` names nothing on the diagram.
    reach.errors.RenderError
        There is nothing to draw.
    """
    scene = plan(source, by, focus=focus, hops=hops, highlight=highlight, collapse=collapse,
                 summarize=summarize, services=services, bundle=bundle, title=title,
                 budget=budget)
    return scene_to_dot(scene)

def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _faded(colour: str) -> str:
    return colour + "40" if colour.startswith("#") and len(colour) == 7 else colour


class _Page:
    """Converts the layout's coordinates (y down) into Graphviz's (points, y up)."""

    def __init__(self, page: Layout) -> None:
        self.height = page.height

    def point(self, x: float, y: float) -> str:
        return f"{_num(x)},{_num(self.height - y)}"

    def box(self, r: Rect) -> str:
        return f"{_num(r.x)},{_num(self.height - r.y1)},{_num(r.x1)},{_num(self.height - r.y)}"


def _node(placed: PlacedNode, conv: _Page, faded: bool) -> Any:
    import pydot

    node, r = placed.node, placed.rect
    style = style_of(node.kind)
    dim = faded and not node.highlighted
    attrs: dict[str, Any] = {
        "label": node.text,
        "shape": style.shape,
        "style": style.style,
        "fillcolor": _faded(style.fill) if dim else style.fill,
        "color": _faded(style.line) if dim else style.line,
        "tooltip": node.tooltip,
        "pos": conv.point(r.cx, r.cy),
        "width": _num(r.w / 72),
        "height": _num(r.h / 72),
    }
    if dim:
        attrs["fontcolor"] = FADED_TEXT
    if node.highlighted:
        attrs.update(color=HIGHLIGHT, penwidth="3")
    elif node.focused:
        attrs["penwidth"] = "2.5"
    return pydot.Node(node.id, **attrs)


def _spline(points: tuple[tuple[float, float], ...], conv: _Page, both: bool) -> str:
    """Graphviz's edge ``pos``: a B-spline along the polyline, and where the heads point."""
    pts = list(points)

    def shorten(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
        length = math.hypot(b[0] - a[0], b[1] - a[1])
        if length == 0:
            return b
        cut = min(ARROW, length / 2)
        return b[0] - (b[0] - a[0]) * cut / length, b[1] - (b[1] - a[1]) * cut / length

    head = pts[-1]
    pts[-1] = shorten(pts[-2], pts[-1])
    prefix = f"e,{conv.point(*head)}"
    if both:
        tail = pts[0]
        pts[0] = shorten(pts[1], pts[0])
        prefix = f"s,{conv.point(*tail)} {prefix}"
    control = [pts[0]]
    for a, b in itertools.pairwise(pts):
        control += [a, b, b]
    return prefix + " " + " ".join(conv.point(*p) for p in control)


def _edge(placed: PlacedEdge, conv: _Page, faded: bool) -> Any:
    import pydot

    edge = placed.edge
    attrs: dict[str, Any] = {"label": placed.text or edge.label,
                             "pos": _spline(placed.points, conv, edge.both),
                             "tooltip": port_label(edge.ports, edge.label).replace("\n", ", ")}
    if placed.label is not None:
        attrs["lp"] = conv.point(placed.label.cx, placed.label.cy)
    if edge.both:
        attrs["dir"] = "both"
    if edge.highlighted:
        attrs.update(color=HIGHLIGHT, fontcolor=HIGHLIGHT, penwidth="2.5")
    elif faded:
        attrs.update(color=_faded(EDGE), fontcolor=FADED_TEXT)
    return pydot.Edge(edge.src, edge.dst, **attrs)


def _left_aligned(lines: tuple[str, ...] | list[str], width: float, height: float,
                  bold: bool = False) -> str:
    """An HTML-like label: ``lines`` left aligned in a box of exactly ``width`` points.

    A fixed-width table keeps the text's left edge where the layout put it, whatever
    width Graphviz measures for the text itself.
    """
    import html

    body = "".join(html.escape(line) + '<br align="left"/>' for line in lines)
    if bold:
        body = f"<b>{body}</b>"
    w, h = max(round(width), 1), max(round(height), 1)
    return (f'<<table border="0" cellborder="0" cellpadding="0" cellspacing="0" '
            f'fixedsize="true" width="{w}" height="{h}"><tr>'
            f'<td align="left" balign="left" width="{w}" height="{h}">{body}</td>'
            "</tr></table>>")


def _text(ident: str, block: TextBlock, conv: _Page) -> Any:
    import pydot

    r = block.rect
    return pydot.Node(ident, label=_left_aligned(block.lines, r.w, r.h, block.bold),
                      shape="plain", style="solid", pos=conv.point(r.cx, r.cy),
                      fixedsize="false", fontsize=_num(block.size),
                      fontcolor="#0f172a" if block.role == "title" else "#475569")


def scene_to_dot(scene: Scene) -> str:
    """DOT text for a :class:`~reach.render.scene.Scene` (see :func:`to_dot`).

    The scene is laid out by :func:`reach.render.layout.layout`; the DOT carries the
    positions and routes (``layout=nop2``), so Graphviz draws it as it is, at once,
    and its picture matches the matplotlib engine's.
    """
    return layout_to_dot(layout(scene))


def layout_to_dot(page: Layout) -> str:
    """DOT text for a laid-out scene: positions, routes and label places included."""
    import pydot

    conv = _Page(page)
    faded = page.scene.faded
    dot = pydot.Dot("reach", graph_type="digraph")
    graph_attrs = {"layout": "nop2", "bb": conv.box(page.page), "fontname": _FONT,
                   "outputorder": "edgesfirst", "pad": "0"}
    for key, value in graph_attrs.items():
        dot.set(key, value)
    dot.set_node_defaults(fontname=_FONT, fontsize=_num(NODE_FONT), style="filled",
                          fixedsize="true")
    dot.set_edge_defaults(fontname=_FONT, fontsize=_num(EDGE_FONT), color=EDGE, fontcolor=EDGE,
                          arrowsize=_num(ARROW / 10))
    clusters: dict[str, Any] = {}
    for i, box in enumerate(page.boxes):
        w = text_size([box.namespace], BOX_FONT)[0]
        cluster = pydot.Cluster(str(i), label=box.namespace, style="rounded,filled",
                                fillcolor=CLUSTER_FILL, color=CLUSTER_LINE,
                                fontname=f"{_FONT} Bold", fontsize=_num(BOX_FONT),
                                fontcolor="#334155", bb=conv.box(box.rect),
                                lp=conv.point(box.title[0] + w / 2, box.title[1]))
        clusters[box.namespace] = cluster
        dot.add_subgraph(cast(Any, cluster))  # typed for Subgraph; a Cluster works alike
    for placed in page.nodes.values():
        clusters.get(placed.node.namespace, dot).add_node(_node(placed, conv, faded))
    for edge in page.edges:
        dot.add_edge(_edge(edge, conv, faded))
    notes = pydot.Subgraph("notes")
    for k, block in enumerate(page.texts):
        notes.add_node(_text(f"text{k}", block, conv))
    for k, item in enumerate(page.legend):
        style = style_of(item.kind)
        r = item.swatch
        notes.add_node(pydot.Node(f"legend{k}", label="", shape=style.shape, style=style.style,
                                  fillcolor=style.fill, color=style.line,
                                  pos=conv.point(r.cx, r.cy), width=_num(r.w / 72),
                                  height=_num(r.h / 72)))
        tw, th = text_size([item.text], page.legend_font)
        notes.add_node(pydot.Node(f"legendtext{k}", label=_left_aligned([item.text], tw, th),
                                  shape="plain", style="solid", fixedsize="false",
                                  pos=conv.point(item.at[0] + tw / 2, item.at[1]),
                                  fontsize=_num(page.legend_font), fontcolor="#334155"))
    for k, (x, y) in enumerate(((0.0, 0.0), (page.width, page.height))):
        # two invisible corners keep the page's margins (Graphviz crops to what it draws)
        notes.add_node(pydot.Node(f"corner{k}", label="", shape="point", style="invis",
                                  width="0.01", height="0.01", pos=conv.point(x, y)))
    dot.add_subgraph(notes)
    text: str = dot.to_string()
    return text
