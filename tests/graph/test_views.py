"""The reachability graph: its contract, its agreement with the connection list, its size.

The contract other modules (the renderers) rely on: nodes are Endpoints with ``kind``,
``namespace`` and ``label``; edges carry ``ports`` (a non-empty PortSet) and ``label``
(``str(ports)``). Between pods, workloads, namespaces and outside ranges the graph
must say exactly what :meth:`Network.connections` says, at every granularity, on
hypothesis-generated clusters.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from helpers import per_atom
from hypothesis import HealthCheck, given, settings
from strategies import clusters

import reach
from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.graph.views import BY, INGRESS_CONTROLLER, INTERNET, graph
from reach.model import (
    Cluster,
    ContainerPort,
    IPBlock,
    Labels,
    LabelSelector,
    Namespace,
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Rule,
    Service,
    ServicePort,
)
from reach.network import Network

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "data" / "graph"
KINDS = {"Pod", "Namespace", "Class", "Service", "External", "IngressController", "Internet",
         "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
         "CronJob"}

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def shop() -> Network:
    return reach.load(str(DATA / "shop.yaml"))


def ep(kind: str, namespace: str, name: str) -> str:
    """The graph's key of an endpoint: the name every command prints."""
    return str(Endpoint(kind, namespace, name))


INET, IC = str(INTERNET), str(INGRESS_CONTROLLER)


def endpoint(G: nx.DiGraph, node: str) -> Endpoint:
    found: Endpoint = G.nodes[node]["endpoint"]
    return found


# ---------------------------------------------------------------------------
# the contract


@pytest.mark.parametrize("by", BY)
@pytest.mark.parametrize("services", [True, False])
def test_nodes_and_edges_carry_the_contracted_attributes(shop: Network, by: str,
                                                         services: bool) -> None:
    G = graph(shop, by, services=services)  # type: ignore[arg-type]
    assert isinstance(G, nx.DiGraph)
    assert G.graph["by"] == by
    for node, data in G.nodes(data=True):
        assert isinstance(node, str) and isinstance(data["endpoint"], Endpoint)
        assert node == str(data["endpoint"])  # keyed by the name the CLI prints
        assert set(data) == {"endpoint", "kind", "namespace", "label"}
        assert data["kind"] == data["endpoint"].kind and data["kind"] in KINDS
        assert isinstance(data["namespace"], str) and data["label"]
    for _, _, data in G.edges(data=True):
        assert set(data) == {"ports", "label"}
        assert isinstance(data["ports"], PortSet) and data["ports"]
        assert data["label"] == str(data["ports"])
    assert nx.number_of_selfloops(G) == 0


def test_node_namespaces_and_labels(shop: Network) -> None:
    G = graph(shop)
    assert G.nodes[ep("Deployment", "shop", "web")] == {
        "endpoint": Endpoint("Deployment", "shop", "web"), "kind": "Deployment",
        "namespace": "shop", "label": "web"}
    assert G.nodes[ep("Service", "shop", "db")]["namespace"] == "shop"
    assert G.nodes[INET] == {"endpoint": INTERNET, "kind": "Internet", "namespace": "",
                             "label": "internet"}
    assert G.nodes[str(Endpoint.external(0, 2**32 - 1))]["label"] == "0.0.0.0/0"
    by_ns = graph(shop, "namespace")
    assert by_ns.nodes[ep("Namespace", "", "shop")]["namespace"] == "shop"


def test_workload_edges_carry_the_allowed_ports(shop: Network) -> None:
    """web may reach api on 9090 only (api's port http); the reverse is denied."""
    G = graph(shop)
    web, api = ep("Deployment", "shop", "web"), ep("Deployment", "shop", "api")
    assert G.edges[web, api]["ports"] == PortSet.single("TCP", 9090)
    assert G.edges[web, api]["label"] == "TCP 9090"
    assert not G.has_edge(api, web)


def test_service_nodes_sit_between_clients_and_backends(shop: Network) -> None:
    """src -> svc on the service port when src reaches a backend on the target port;
    svc -> backend on the target port."""
    G = graph(shop)
    web, api = ep("Deployment", "shop", "web"), ep("Deployment", "shop", "api")
    svc_api = ep("Service", "shop", "api")
    assert G.edges[web, svc_api]["label"] == "TCP 80"
    assert G.edges[svc_api, api]["label"] == "TCP 9090"
    assert not G.has_edge(ep("Deployment", "shop", "db"), svc_api)
    assert set(G.predecessors(svc_api)) == {web}


def test_without_services_the_internet_points_at_backends() -> None:
    web = Pod("ns", "web", Labels({"app": "web"}), ports=(ContainerPort(8443),))
    lb = Service("ns", "web", type="LoadBalancer", selector=Labels({"app": "web"}),
                 ports=(ServicePort(443, 8443),))
    net = Network(Cluster(pods=(web, Pod("ns", "other")), services=(lb,)))
    with_services = graph(net, "pod")
    plain = graph(net, "pod", services=False)
    assert ep("Service", "ns", "web") in with_services
    assert not any(endpoint(plain, n).kind == "Service" for n in plain)
    assert plain.edges[INET, ep("Pod", "ns", "web")]["label"] == "TCP 8443"
    assert not plain.has_edge(INET, ep("Pod", "ns", "other"))


def test_the_internet_reaches_isolated_pods_whose_ipblocks_admit_public_addresses() -> None:
    """Direct exposure: an ipBlock covering public space admits the internet; one for
    private space does not; a pod with no policy is not counted (nothing routes the
    internet to pod addresses), though its outside range node still shows the policy
    fact."""
    def admit(app: str, cidr: str) -> Policy:
        return Policy("ns", app, LabelSelector(Labels({"app": app})), ingress=(
            Rule("ingress", 0, (Peer(ip_block=IPBlock(cidr)),), (PolicyPort("TCP", 443),)),))

    pods = tuple(Pod("ns", app, Labels({"app": app})) for app in ("public", "private", "open"))
    net = Network(Cluster(pods=pods, policies=(admit("public", "0.0.0.0/0"),
                                               admit("private", "10.0.0.0/8"))))
    G = graph(net, "pod")
    assert G.edges[INET, ep("Pod", "ns", "public")]["label"] == "TCP 443"
    assert not G.has_edge(INET, ep("Pod", "ns", "private"))
    assert not G.has_edge(INET, ep("Pod", "ns", "open"))
    outside = [n for n in G.predecessors(ep("Pod", "ns", "open"))
               if endpoint(G, n).kind == "External"]
    assert outside


def test_synthetic_ingress_controller_node() -> None:
    web = Pod("ns", "web", Labels({"app": "web"}))
    service = Service("ns", "web", selector=Labels({"app": "web"}), ports=(ServicePort(80, 80),))
    from reach.model import Ingress, IngressBackend

    net = Network(Cluster(pods=(web,), services=(service,),
                          ingresses=(Ingress("ns", "web", (IngressBackend("web", 80),)),)))
    G = graph(net)
    assert G.nodes[IC]["kind"] == "IngressController"
    assert G.nodes[IC]["label"] == "ingress-controller"
    assert list(G.successors(IC)) == [ep("Service", "ns", "web")]
    assert "synthetic-controller" in [w.code for w in G.graph["warnings"]]


def test_class_nodes_name_their_namespace_when_they_have_one(shop: Network) -> None:
    G = graph(shop, "class")
    classes = [endpoint(G, n) for n in G if G.nodes[n]["kind"] == "Class"]
    assert len(classes) == shop.compiled.n_classes
    assert all(G.nodes[str(n)]["namespace"] for n in classes)
    assert all(n.name.startswith("class-") for n in classes)


def test_unknown_granularity_is_refused(shop: Network) -> None:
    with pytest.raises(ValueError, match="by must be one of"):
        graph(shop, "cluster")  # type: ignore[arg-type]


def test_too_many_edges_are_refused_before_they_are_built() -> None:
    """A pod graph where everything is allowed grows as pods squared."""
    net = Network(Cluster(pods=tuple(Pod("ns", f"p{i}") for i in range(30))))
    with pytest.raises(ValueError, match="max_edges"):
        graph(net, "pod", max_edges=100)
    assert graph(net, "pod", max_edges=None).number_of_edges() == 30 * 29 + 30 + 30


def test_construction_is_deterministic(shop: Network) -> None:
    again = reach.load(str(DATA / "shop.yaml"))
    for by in BY:
        a, b = graph(shop, by), graph(again, by)  # type: ignore[arg-type]
        assert list(a.nodes) == list(b.nodes)
        assert list(a.edges(data="label")) == list(b.edges(data="label"))


def test_direct_adjacency_equals_networkx_own_construction(shop: Network) -> None:
    """The fast path fills networkx's dicts directly; it must give the graph
    add_edges_from would."""
    G = graph(shop, "pod")
    H = nx.DiGraph(by=G.graph["by"], warnings=G.graph["warnings"])
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from((u, v, dict(d)) for u, v, d in G.edges(data=True))
    assert nx.utils.graphs_equal(G, H)
    # at pod granularity a workload's pod template is the workload
    web, api = ep("Deployment", "shop", "web"), ep("Deployment", "shop", "api")
    db = ep("StatefulSet", "shop", "db")
    assert G.in_degree(db) == H.in_degree(db) > 0
    G.edges[web, api]["note"] = "mine"
    assert "note" not in G.edges[api, db]
    assert G.pred[api][web]["note"] == "mine"


# ---------------------------------------------------------------------------
# agreement with the connection list


def _edges_without_extras(G: nx.DiGraph) -> dict[tuple[Endpoint, Endpoint], PortSet]:
    extra = {"Internet", "Service", "IngressController"}
    return {(endpoint(G, u), endpoint(G, v)): d["ports"] for u, v, d in G.edges(data=True)
            if G.nodes[u]["kind"] not in extra and G.nodes[v]["kind"] not in extra}


def _connections(net: Network, by: str) -> dict[tuple[Endpoint, Endpoint], PortSet]:
    """The connection list atom by atom, without the synthetic controller's lines and a
    namespace's traffic with itself (the graph has no self-loops)."""
    listed = per_atom(net.connections(by=by), net.compiled)  # type: ignore[arg-type]
    return {(a, b): ports for (a, b), ports in listed.items()
            if a != b and a.kind != "IngressController"}


@pytest.mark.parametrize("by", ["pod", "workload", "namespace"])
def test_graph_agrees_with_the_connection_list_on_the_shop(shop: Network, by: str) -> None:
    assert _edges_without_extras(graph(shop, by)) == _connections(shop, by)  # type: ignore[arg-type]


@pytest.mark.skipif(not (ROOT / "samples" / "shop").is_dir(), reason="samples/shop absent")
@pytest.mark.parametrize("by", ["pod", "workload", "namespace"])
def test_graph_agrees_with_the_connection_list_on_the_sample(by: str) -> None:
    net = reach.load(str(ROOT / "samples" / "shop"))
    assert _edges_without_extras(graph(net, by)) == _connections(net, by)  # type: ignore[arg-type]


@SETTINGS
@given(cluster=clusters())
def test_graph_agrees_with_the_connection_list(cluster: Cluster) -> None:
    net = Network(cluster)
    for by in ("pod", "workload", "namespace"):
        assert _edges_without_extras(graph(net, by)) == _connections(net, by), by  # type: ignore[arg-type]


@SETTINGS
@given(cluster=clusters())
def test_class_graph_is_the_compiled_matrix(cluster: Cluster) -> None:
    """At class granularity each edge is one nonzero entry of the compiled matrix."""
    net = Network(cluster)
    G = graph(net, "class", services=False)
    compiled = net.compiled
    n = compiled.n_classes
    names = {int(endpoint(G, node).name.split("-")[1]): node for node in G
             if G.nodes[node]["kind"] == "Class"}
    for (a, b), ports in _edges_without_extras(G).items():
        col_a = int(a.name.split("-")[1]) if a.kind == "Class" else compiled.external_column(a.lo)
        col_b = int(b.name.split("-")[1]) if b.kind == "Class" else compiled.external_column(b.lo)
        assert compiled.column_ports(col_a, col_b) == ports
    expected = int(np.count_nonzero(compiled.allow)) - int(np.count_nonzero(
        np.diagonal(compiled.allow)[:n]))
    assert len(_edges_without_extras(G)) == expected
    assert len(names) == n


# ---------------------------------------------------------------------------
# size


def _synthetic(pods: int = 10_000, per_namespace: int = 100, replicas: int = 5) -> Cluster:
    """A Python-built cluster: default deny, a web -> api -> db chain per namespace."""
    namespaces, all_pods, services, policies = [], [], [], []
    tiers = ("web", "api", "db", "cache", "worker")

    def tier(name: str) -> LabelSelector:
        return LabelSelector(Labels({"tier": name}))

    for k in range(pods // per_namespace):
        ns = f"ns{k:03d}"
        namespaces.append(Namespace(ns, Labels({"kubernetes.io/metadata.name": ns,
                                                "team": f"t{k % 10}"})))
        for w in range(per_namespace // replicas):
            app = f"{tiers[w % 5]}-{w}"
            for r in range(replicas):
                all_pods.append(Pod(ns, f"{app}-{r}", Labels({"app": app, "tier": tiers[w % 5]}),
                                    ports=(ContainerPort(8080, "TCP", "http"),),
                                    ips=(f"10.{k // 256}.{k % 256}.{w * replicas + r}",),
                                    owner_kind="Deployment", owner_name=app))
            services.append(Service(ns, app, selector=Labels({"app": app}),
                                    ports=(ServicePort(80, "http"),)))
        policies.append(Policy(ns, "deny", LabelSelector(), ("Ingress", "Egress")))
        for a, b in (("web", "api"), ("api", "db"), ("api", "cache"), ("worker", "db")):
            policies.append(Policy(ns, f"{b}-from-{a}", tier(b), ingress=(Rule(
                "ingress", 0, (Peer(pod_selector=tier(a)),), (PolicyPort("TCP", "http"),)),)))
            policies.append(Policy(ns, f"{a}-to-{b}", tier(a), ("Egress",), egress=(Rule(
                "egress", 0, (Peer(pod_selector=tier(b)),), (PolicyPort("TCP", 8080),)),)))
        policies.append(Policy(ns, "web-public", tier("web"), ingress=(Rule(
            "ingress", 0, (Peer(ip_block=IPBlock("0.0.0.0/0", ("10.0.0.0/8",))),),
            (PolicyPort("TCP", 8080),)),)))
    all_pods.sort(key=lambda p: (p.namespace, p.name))
    return Cluster(namespaces=tuple(namespaces), pods=tuple(all_pods), services=tuple(services),
                   policies=tuple(policies))


def test_workload_graph_of_10000_pods_stays_a_workload_view() -> None:
    """The graph of 10,000 pods is built from classes at workload granularity.

    Its speed is measured, not asserted: ``python benchmarks/run.py --sizes 10000``
    (about 0.9 s for the workload graph with services on this project's machine).
    """
    net = Network(_synthetic())
    assert len(net.pods) == 10_000
    G = graph(net, "workload")
    assert G.number_of_nodes() > 2000
    assert G.edges[INET, ep("Deployment", "ns000", "web-0")]["label"] == "TCP 8080"
