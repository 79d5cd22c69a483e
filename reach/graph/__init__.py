"""The reachability graph: networkx views and the graph queries.

:mod:`reach.graph.views` builds class-level views (with the Services and Ingresses
that :mod:`reach.services` resolves) and networkx graphs at any
granularity, :mod:`reach.graph.queries` answers paths, reachable sets, isolation and
exposure over them.
"""

from reach.graph.views import ClassView, class_view, graph

__all__ = ["ClassView", "class_view", "graph"]
