"""Where pictures come from: a Network (through :mod:`reach.graph`) or a ready DiGraph.

Every renderer takes either an analysed :class:`~reach.network.Network` or a
``networkx.DiGraph`` built along the graph contract: nodes are
:class:`~reach.endpoints.Endpoint` objects with the attributes ``kind``,
``namespace`` and ``label``; edges carry ``ports`` (a :class:`~reach.ports.PortSet`)
and ``label``. Missing attributes are derived from the endpoint itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reach.endpoints import Endpoint
from reach.ports import PortSet

if TYPE_CHECKING:
    from reach.network import Network

__all__ = ["WORKLOAD_KINDS", "as_graph", "edge_ports", "node_kind", "node_label", "node_namespace"]

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
    import importlib

    try:
        stage = importlib.import_module("reach.graph")
    except ImportError:  # the graph stage is not there yet: build the plain view
        return _graph_from_connections(source, by)
    return stage.graph(source, by=by, services=services)


def _graph_from_connections(net: Network, by: str) -> Any:
    """A DiGraph of ``net.connections(by)``, with every pod, workload or namespace as a node."""
    import networkx as nx

    if by == "class":
        raise ValueError('by="class" needs reach.graph')
    g = nx.DiGraph()
    for pod in net.pods:
        if by == "pod":
            ep = Endpoint("Pod", pod.namespace, pod.name)
        elif by == "workload":
            ep = Endpoint(pod.workload_kind, pod.namespace, pod.workload_name)
        else:
            ep = Endpoint("Namespace", "", pod.namespace)
        g.add_node(ep, kind=ep.kind, namespace=ep.namespace, label=ep.name)
    for conn in net.connections(by=by):  # type: ignore[arg-type]
        for ep in (conn.src, conn.dst):
            if ep not in g:
                g.add_node(ep, kind=ep.kind, namespace=ep.namespace, label=ep.name)
        g.add_edge(conn.src, conn.dst, ports=conn.ports, label=str(conn.ports))
    return g


def node_kind(graph: Any, node: Any) -> str:
    kind = graph.nodes[node].get("kind")
    if kind:
        return str(kind)
    return node.kind if isinstance(node, Endpoint) else "Pod"


def node_namespace(graph: Any, node: Any) -> str:
    ns = graph.nodes[node].get("namespace")
    if ns is not None:
        return str(ns)
    return node.namespace if isinstance(node, Endpoint) else ""


def node_label(graph: Any, node: Any) -> str:
    label = graph.nodes[node].get("label")
    if label:
        return str(label)
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
