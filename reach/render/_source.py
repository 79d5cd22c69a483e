"""Where pictures come from: a Network (through :mod:`reach.graph.views`) or a ready DiGraph.

Every renderer takes either an analysed :class:`~reach.network.Network` or a
``networkx.DiGraph`` built along the graph contract: nodes (the endpoints' names, as
:func:`reach.graph.graph` keys them, or :class:`~reach.endpoints.Endpoint` objects)
with the attributes ``endpoint``, ``kind``, ``namespace`` and ``label``; edges carry
``ports`` (a :class:`~reach.engine.ports.PortSet`) and ``label``. Missing attributes are
derived from the endpoint itself.
"""

from __future__ import annotations

from typing import Any

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet

__all__ = ["WORKLOAD_KINDS", "as_graph", "edge_ports", "node_endpoint", "node_kind", "node_label",
           "node_namespace"]

WORKLOAD_KINDS = frozenset(
    {
        "CronJob",
        "DaemonSet",
        "Deployment",
        "Job",
        "ReplicaSet",
        "ReplicationController",
        "StatefulSet",
        "Workload",
    }
)

GRAPH_GRANULARITIES = ("pod", "workload", "namespace", "class")


def as_graph(source: Any, by: str = "workload", services: bool = True) -> Any:
    """The DiGraph to draw: ``source`` itself, or the graph of a Network at ``by``."""
    import networkx as nx

    if isinstance(source, nx.DiGraph):
        return source
    if by not in GRAPH_GRANULARITIES:
        raise ValueError(f"by must be one of {', '.join(GRAPH_GRANULARITIES)}, not {by!r}")
    from reach.graph.views import graph

    return graph(source, by=by, services=services)  # type: ignore[arg-type]


def node_endpoint(graph: Any, node: Any) -> Endpoint | None:
    """The :class:`Endpoint` a node stands for: its ``endpoint`` attribute, or itself."""
    ep = graph.nodes[node].get("endpoint")
    if isinstance(ep, Endpoint):
        return ep
    return node if isinstance(node, Endpoint) else None


def node_kind(graph: Any, node: Any) -> str:
    kind = graph.nodes[node].get("kind")
    if kind:
        return str(kind)
    ep = node_endpoint(graph, node)
    return ep.kind if ep is not None else "Pod"


def node_namespace(graph: Any, node: Any) -> str:
    ns = graph.nodes[node].get("namespace")
    if ns is not None:
        return str(ns)
    ep = node_endpoint(graph, node)
    return ep.namespace if ep is not None else ""


def node_label(graph: Any, node: Any) -> str:
    label = graph.nodes[node].get("label")
    if label:
        return str(label)
    node = node_endpoint(graph, node) or node
    if isinstance(node, Endpoint):
        if node.kind == "Internet":
            return "internet"
        if node.kind == "IngressController" and not node.name:
            return "ingress controller"
        return node.name or str(node)
    return str(node)


def edge_ports(graph: Any, src: Any, dst: Any) -> PortSet | None:
    ports = graph.edges[src, dst].get("ports")
    return ports if isinstance(ports, PortSet) else None
