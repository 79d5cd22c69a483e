"""Pictures of reachability: DOT, PNG/SVG diagrams, heatmaps, and notebook views.

Everything takes an analysed :class:`~reach.network.Network` (drawn through its
graph at the granularity ``by``) or a reachability ``networkx.DiGraph``.

- :func:`to_dot`: DOT text (pydot; Graphviz not needed);
- :func:`render`: PNG, SVG or PDF bytes, through Graphviz when installed, else
  matplotlib (``engine=`` or ``$REACH_RENDER_ENGINE`` choose);
- :func:`matrix`: a ``matplotlib.figure.Figure`` heatmap of who reaches whom;
- :func:`to_html`: the interactive page (one self-contained HTML file, drawn by
  Bokeh): pan, zoom, search, filters, drill-down from namespaces to pods;
- :func:`view`, :func:`matrix_view`, :func:`interactive`: objects that display
  themselves in Jupyter (responsive SVG, or the interactive page).

Every diagram is planned at the level of detail that fits its page
(:mod:`reach.render.detail`), fans of equal edges are bundled
(:mod:`reach.render.bundle`), and one layout (:mod:`reach.render.layout`) is drawn by
every engine. matplotlib, pydot and Bokeh are imported only when something is drawn.

Examples
--------
>>> import networkx as nx
>>> import reach.render
>>> from reach.endpoints import Endpoint
>>> g = nx.DiGraph()
>>> g.add_edge(Endpoint("Deployment", "shop", "web"), Endpoint("StatefulSet", "shop", "db"))
>>> "n1 -> n0" in reach.render.to_dot(g)
True
"""

from __future__ import annotations

from reach.network import network_html
from reach.render.detail import DEFAULT_BUDGET, Budget
from reach.render.dot import to_dot
from reach.render.html import InteractiveView, interactive, to_html
from reach.render.image import ENGINES, choose_engine, graphviz_available, render
from reach.render.matrix import Matrix, matrix, matrix_data
from reach.render.notebook import GraphView, MatrixView, matrix_view, view
from reach.render.scene import Scene, build_scene

__all__ = [
    "DEFAULT_BUDGET",
    "ENGINES",
    "Budget",
    "GraphView",
    "InteractiveView",
    "Matrix",
    "MatrixView",
    "Scene",
    "build_scene",
    "choose_engine",
    "graphviz_available",
    "interactive",
    "matrix",
    "matrix_data",
    "matrix_view",
    "network_html",
    "render",
    "to_dot",
    "to_html",
    "view",
]
