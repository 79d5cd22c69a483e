"""Services, Endpoints and Ingresses: backends, target ports and what the backend sees.

Each test quotes the Kubernetes documentation sentence it implements. The fixture
``tests/data/graph/services.yaml`` holds every shape of Service; smaller clusters are
built from model objects where a test needs its own policies.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path
from typing import Any

import networkx as nx
import oracle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import CIDRS, NODES, clusters, labels

import reach
import reach.services
from reach.endpoints import INGRESS_CONTROLLER, INTERNET, Endpoint
from reach.engine.ports import PortSet
from reach.errors import InvalidQuery, UnknownEndpoint
from reach.graph import views
from reach.graph.queries import exposure
from reach.model import (
    Cluster,
    ContainerPort,
    EndpointAddress,
    Endpoints,
    Ingress,
    IngressBackend,
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
from reach.verdict import ServiceVerdict

DATA = Path(__file__).resolve().parent / "data" / "graph"


@pytest.fixture(scope="module")
def net() -> Network:
    return reach.load(str(DATA / "services.yaml"))


def svc(name: str, namespace: str = "svc") -> Endpoint:
    return Endpoint("Service", namespace, name)


def graph(net: Network, *args: Any, **kwargs: Any) -> nx.DiGraph:
    """The reachability graph with its nodes keyed by their Endpoints, for lookups."""
    G = views.graph(net, *args, **kwargs)
    return nx.relabel_nodes(G, {n: d["endpoint"] for n, d in G.nodes(data=True)})


def service_map(net: Network) -> reach.services.ServiceMap:
    return net.services


def service_access(net: Network, src: str, service: str | Endpoint,
                   port: int | str | None = None) -> ServiceVerdict:
    """What the graph's service edges stand for: allowed through at least one backend."""
    verdict = net.can(src, service, port, any_backend=True)
    assert isinstance(verdict, ServiceVerdict)
    return verdict


def backends(access: ServiceVerdict) -> dict[str, tuple[str, str, bool]]:
    return {e.backend.name: (str(e.front), str(e.target), e.allowed) for e in access.entries}


# ---------------------------------------------------------------------------
# ClusterIP: the backend pod and its target port decide


def test_named_target_port_resolves_per_backend_pod(net: Network) -> None:
    """"targetPort ... can also be a string, referring to the name of a port in the backend
    Pods. The actual port number assigned to that name can be different in each backend
    Pod." The api admits the client on 8080 only: api-old (http = 8080) serves it,
    api-new (http = 9090) is reported denied."""
    access = service_access(net, "svc/client", "svc/svc/api")
    assert backends(access) == {
        "api-old": ("TCP 80", "TCP 8080", True),
        "api-new": ("TCP 80", "TCP 9090", False),
    }
    assert access and access.ports == PortSet.single("TCP", 80)


def test_service_denied_when_no_backend_admits_the_client(net: Network) -> None:
    access = service_access(net, "svc/public-web", "svc/svc/api")
    assert not access
    assert access.ports == PortSet.none()
    assert "DENIED" in str(access)


def test_target_port_defaults_to_port() -> None:
    """"By default and for convenience, the targetPort is set to the same value as the
    port field." (the loader fills it in; here written out as the loader does)."""
    net = reach.load(str(DATA / "services.yaml"))
    info = service_map(net).find("svc", "legacy")
    assert info.service.ports[0].target_port == 7000


def test_service_port_filter_by_number_and_name(net: Network) -> None:
    by_number = service_access(net, "svc/client", "svc/svc/api", port=80)
    by_name = service_access(net, "svc/client", "svc/svc/api", port="http")
    assert backends(by_number) == backends(by_name)
    with pytest.raises(InvalidQuery, match="no port 81"):
        service_access(net, "svc/client", "svc/svc/api", port=81)


def test_unknown_service_names_the_candidates(net: Network) -> None:
    with pytest.raises(UnknownEndpoint) as info:
        service_access(net, "svc/client", "svc/svc/nope")
    assert "svc/Service/api" in info.value.candidates


def test_named_target_port_missing_on_a_backend_is_a_warning() -> None:
    """"If the named port is not defined in a Pod, the Pod receives no traffic for it"
    (it does not become a ready endpoint for that port)."""
    with_name = Pod("ns", "a", Labels({"app": "x"}), ports=(ContainerPort(8080, name="http"),))
    without = Pod("ns", "b", Labels({"app": "x"}))
    service = Service("ns", "x", selector=Labels({"app": "x"}), ports=(ServicePort(80, "http"),))
    net = Network(Cluster(pods=(with_name, without), services=(service,)))
    info = service_map(net).find("ns", "x")
    assert {b.endpoint.name: str(b.targets[0]) for b in info.backends} == {
        "a": "TCP 8080", "b": "No Connections"}
    assert [w.code for w in info.warnings] == ["named-target-port"]
    entries = backends(service_access(net, "ns/a", "ns/svc/x"))
    assert entries["b"][2] is False


# ---------------------------------------------------------------------------
# headless, selector-less, ExternalName


def test_headless_service_clients_connect_to_the_target_ports(net: Network) -> None:
    """"For headless Services, a cluster IP is not allocated, kube-proxy does not handle
    these Services": DNS returns the pods and clients connect to their ports."""
    access = service_access(net, "svc/client", "svc/svc/api-headless")
    assert backends(access) == {
        "api-old": ("TCP 8080", "TCP 8080", True),
        "api-new": ("TCP 9090", "TCP 9090", False),
    }
    assert access.ports == PortSet.single("TCP", 8080)


def test_selectorless_service_uses_its_endpoint_slice(net: Network) -> None:
    """"Services without selectors ... the EndpointSlice ... map the Service to the network
    address and port where it's running." The slice names a pod by targetRef and an
    outside address: the pod is a pod backend, the address an outside one, which the
    client's egress (10.0.0.0/8 and pods only) does not allow."""
    info = service_map(net).find("svc", "legacy")
    assert [(b.endpoint.kind, b.endpoint.name, b.pod is not None) for b in info.backends] == [
        ("Pod", "legacy-0", True), ("External", "192.0.2.10", False)]
    assert backends(service_access(net, "svc/client", "svc/svc/legacy")) == {
        "legacy-0": ("TCP 7000", "TCP 7000", True),
        "192.0.2.10": ("TCP 7000", "TCP 7000", False),
    }


def test_selectorless_endpoints_match_pods_by_ip() -> None:
    pod = Pod("ns", "db-0", ips=("10.0.0.9",), ports=(ContainerPort(5432),))
    service = Service("ns", "db", selector=None, ports=(ServicePort(5432, 5432, name="pg"),))
    eps = Endpoints("ns", "db", (EndpointAddress(ip="10.0.0.9"),), (ContainerPort(6432, "TCP",
                                                                                 "pg"),))
    net = Network(Cluster(pods=(pod, Pod("ns", "c")), services=(service,), endpoints=(eps,)))
    info = service_map(net).find("ns", "db")
    assert [(b.endpoint.name, str(b.targets[0])) for b in info.backends] == [("db-0", "TCP 6432")]


def test_selectorless_service_without_endpoints_is_a_warning(net: Network) -> None:
    info = service_map(net).find("svc", "orphan")
    assert info.backends == ()
    assert [w.code for w in info.warnings] == ["unknown-backends"]
    assert not service_access(net, "svc/client", "svc/svc/orphan")


def test_external_name_is_a_warning_and_has_no_pods(net: Network) -> None:
    """"Services of type ExternalName map a Service to a DNS name, not to a typical
    selector" : the traffic leaves the cluster for a name reach cannot resolve."""
    info = service_map(net).find("svc", "mail")
    assert info.backends == ()
    assert [w.code for w in info.warnings] == ["external-name"]
    assert "smtp.example.com" in info.warnings[0].message
    assert info.warnings[0].location is not None and info.warnings[0].location.line > 0


def test_selector_matching_no_pod_is_a_warning() -> None:
    service = Service("ns", "ghost", selector=Labels({"app": "ghost"}),
                      ports=(ServicePort(80, 80),))
    net = Network(Cluster(pods=(Pod("ns", "a"),), services=(service,)))
    assert [w.code for w in service_map(net).warnings] == ["no-backends"]


# ---------------------------------------------------------------------------
# NodePort and LoadBalancer: the address the backend sees


def test_nodeport_cluster_policy_backend_sees_a_node_address(net: Network) -> None:
    """"externalTrafficPolicy: Cluster ... obscures the client source IP" : the packet is
    SNATed to a node, so public-web's ipBlock for the clients' CIDR 203.0.113.0/24 does
    not admit it and web-cluster exposes nothing."""
    G = graph(net)
    assert not G.has_edge(INTERNET, svc("web-cluster"))
    assert all(svc("web-cluster") not in item.through for item in exposure(net))


def test_nodeport_local_policy_backend_sees_the_client_address(net: Network) -> None:
    """"externalTrafficPolicy: Local ... preserves the client source IP" : the clients'
    CIDR is admitted, so the internet reaches public-web through web-local's node port."""
    G = graph(net)
    assert G.edges[INTERNET, svc("web-local")]["label"] == "TCP 31443"
    assert G.edges[svc("web-local"), Endpoint("Pod", "svc", "public-web")]["label"] == "TCP 8443"
    [item] = [i for i in exposure(net, by="pod") if i.via == "NodePort"]
    assert (item.target.name, str(item.ports), str(item.entry)) == (
        "public-web", "TCP 8443", "TCP 31443")


def _node_port_cluster(cidr: str, policy: str = "Cluster") -> Network:
    web = Pod("ns", "web", Labels({"app": "web"}), ports=(ContainerPort(8080, name="http"),))
    service = Service("ns", "web", type="NodePort", selector=Labels({"app": "web"}),
                      ports=(ServicePort(80, "http"),), external_traffic_policy=policy)
    admit = Policy("ns", "web", LabelSelector(Labels({"app": "web"})), ingress=(
        Rule("ingress", 0, (Peer(ip_block=IPBlock(cidr)),), (PolicyPort("TCP", 8080),)),))
    return Network(Cluster(pods=(web,), services=(service,), policies=(admit,)))


def test_nodeport_cluster_policy_admitted_from_everywhere_is_exposed() -> None:
    """A backend admitting every address (ipBlock 0.0.0.0/0) admits whatever node SNATs
    the traffic; an unpinned nodePort is one of the allocator's 30000-32767."""
    G = graph(_node_port_cluster("0.0.0.0/0"))
    assert G.edges[INTERNET, svc("web", "ns")]["label"] == "TCP 30000-32767"


def test_nodeport_cluster_policy_private_ranges_do_not_count_as_the_node() -> None:
    """Node addresses are unknown: admitting 10.0.0.0/8 (where nodes often live) is not
    taken to admit them; only what admits every address does."""
    assert not graph(_node_port_cluster("10.0.0.0/8")).has_edge(INTERNET, svc("web", "ns"))
    assert graph(_node_port_cluster("10.0.0.0/8", "Local")).has_edge(
        INTERNET, svc("web", "ns")) is False  # the client is public, not 10/8


def test_load_balancer_listens_on_the_service_port() -> None:
    web = Pod("ns", "web", Labels({"app": "web"}))
    lb = Service("ns", "web", type="LoadBalancer", selector=Labels({"app": "web"}),
                 ports=(ServicePort(443, 8443, node_port=31000),))
    G = graph(Network(Cluster(pods=(web,), services=(lb,))))
    assert G.edges[INTERNET, svc("web", "ns")]["label"] == "TCP 443"


# ---------------------------------------------------------------------------
# Ingress


def _ingress_cluster(with_controller: bool) -> Network:
    web = Pod("shop", "web", Labels({"app": "web"}), ports=(ContainerPort(8080, name="http"),))
    service = Service("shop", "web", selector=Labels({"app": "web"}),
                      ports=(ServicePort(80, "http", name="http"),))
    ingress = Ingress("shop", "web", (IngressBackend("web", "http"),))
    only_nginx = Policy("shop", "web", LabelSelector(Labels({"app": "web"})), ingress=(Rule(
        "ingress", 0,
        (Peer(namespace_selector=LabelSelector(Labels({"kubernetes.io/metadata.name":
                                                       "ingress-nginx"}))),),
        (PolicyPort("TCP", "http"),)),))
    pods = [web]
    if with_controller:
        pods.append(Pod("ingress-nginx", "controller",
                        Labels({"app.kubernetes.io/name": "ingress-nginx"}),
                        owner_kind="Deployment", owner_name="controller"))
        pods.append(Pod("ingress-nginx", "admission",
                        Labels({"app.kubernetes.io/name": "ingress-nginx",
                                "app.kubernetes.io/component": "admission-webhook"})))
    namespaces = (Namespace("ingress-nginx", Labels({"kubernetes.io/metadata.name":
                                                     "ingress-nginx"})),
                  Namespace("shop", Labels({"kubernetes.io/metadata.name": "shop"})))
    return Network(Cluster(namespaces=namespaces, pods=tuple(pods), services=(service,),
                           ingresses=(ingress,), policies=(only_nginx,)))


def test_ingress_routes_from_the_controller_pods_in_the_input() -> None:
    """Pods labelled app.kubernetes.io/name=ingress-nginx are the controller (its
    admission-webhook job is not); they reach web through its Service."""
    net = _ingress_cluster(with_controller=True)
    smap = service_map(net)
    assert [net.pods[i].name for i in smap.controllers] == ["controller"]
    assert not smap.synthetic_controller
    G = graph(net)
    controller = Endpoint("Deployment", "ingress-nginx", "controller")
    assert G.edges[controller, svc("web", "shop")]["label"] == "TCP 80"
    assert INGRESS_CONTROLLER not in G
    [item] = [i for i in exposure(net) if i.via == "Ingress"]
    assert item.through == (Endpoint("Ingress", "shop", "web"), svc("web", "shop"))
    assert str(item.ports) == "TCP 8080"


def test_controller_without_an_exposing_service_is_assumed_behind_a_load_balancer() -> None:
    """The input holds the controller's Deployment but not its LoadBalancer Service: the
    controller is assumed exposed (it declares no port: 80 and 443), with a warning."""
    net = _ingress_cluster(with_controller=True)
    G = graph(net)
    controller = Endpoint("Deployment", "ingress-nginx", "controller")
    assert G.edges[INTERNET, controller]["label"] == "TCP 80,443"
    assert "assumed-controller-exposure" in [w.code for w in G.graph["warnings"]]
    assert [(i.target, i.via) for i in exposure(net) if i.via == "assumed"] == [
        (controller, "assumed")]


def test_synthetic_controller_stands_in_when_no_controller_pod_is_given() -> None:
    """Without controller pods a synthetic {ingress-controller}, assumed to be a default
    ingress-nginx install, routes the Ingress; the policy admitting the ingress-nginx
    namespace admits it, and a warning says so."""
    net = _ingress_cluster(with_controller=False)
    smap = service_map(net)
    assert smap.synthetic_controller
    assert [w.code for w in smap.warnings] == ["synthetic-controller"]
    G = graph(net)
    assert G.edges[INTERNET, INGRESS_CONTROLLER]["label"] == "TCP 80,443"
    assert G.edges[INGRESS_CONTROLLER, svc("web", "shop")]["label"] == "TCP 80"
    plain = graph(net, services=False)
    assert plain.edges[INGRESS_CONTROLLER, Endpoint("Pod", "shop", "web")]["label"] == "TCP 8080"
    [item] = [i for i in exposure(net) if i.via == "Ingress"]
    assert (str(item.ports), str(item.entry)) == ("TCP 8080", "TCP 80,443")


def test_ingress_to_a_missing_service_or_port_is_a_warning() -> None:
    ingress = Ingress("ns", "bad", (IngressBackend("nope", 80), IngressBackend("web", 81)))
    service = Service("ns", "web", selector=Labels({"app": "web"}), ports=(ServicePort(80, 80),))
    net = Network(Cluster(pods=(Pod("ns", "web", Labels({"app": "web"})),), services=(service,),
                          ingresses=(ingress,)))
    assert [w.code for w in service_map(net).warnings] == ["ingress-service", "ingress-port"]
    assert service_map(net).routes == ()


# ---------------------------------------------------------------------------
# the graph's service edges against the per-backend answer


@st.composite
def clusters_with_a_service(draw: st.DrawFn) -> Cluster:
    cluster = draw(clusters())
    namespace = draw(st.sampled_from(sorted({p.namespace for p in cluster.pods})))
    selector = draw(labels().filter(bool))
    ports = draw(st.lists(st.builds(
        ServicePort,
        port=st.sampled_from((80, 53, 443)),
        target_port=st.sampled_from(("http", "dns", 80, 8080, 53, 443)),
        protocol=st.sampled_from(("TCP", "UDP")),
    ), min_size=1, max_size=2, unique_by=lambda sp: (sp.port, sp.protocol)))
    headless = draw(st.booleans())
    service = Service(namespace, "svc", selector=selector, ports=tuple(ports),
                      cluster_ip="None" if headless else None)
    return Cluster(namespaces=cluster.namespaces, pods=cluster.pods, services=(service,),
                   policies=cluster.policies)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cluster=clusters_with_a_service())
def test_service_edges_agree_with_service_access(cluster: Cluster) -> None:
    """src -> svc is an edge, on exactly the ports service_access allows, for every pod
    that is not itself a backend (a pod reaching itself through its service is left out)."""
    net = Network(cluster)
    G = graph(net, "pod")
    service = cluster.services[0]
    node = svc(service.name, service.namespace)
    info = service_map(net).find(service.namespace, service.name)
    backends = {b.pod for b in info.backends}
    for i, pod in enumerate(net.pods):
        src = Endpoint("Pod", pod.namespace, pod.name)
        if i in backends:
            continue
        access = service_access(net, f"{pod.namespace}/pod/{pod.name}", node)
        if access:
            assert G.edges[src, node]["ports"] == access.ports, pod.name
        else:
            assert not G.has_edge(src, node), pod.name
    for backend in info.backends:
        target = Endpoint("Pod", backend.endpoint.namespace, backend.endpoint.name)
        if backend.received():
            assert G.edges[node, target]["ports"] == backend.received()
        else:
            assert not G.has_edge(node, target)


# ---------------------------------------------------------------------------
# can to a Service: per backend, against the brute-force oracle


@st.composite
def clusters_with_any_service(draw: st.DrawFn) -> Cluster:
    """A cluster with one Service of any type, whose selector is a part of some pod's
    labels: most Services have several backends, which pods and policies treat apart."""
    base = draw(clusters_with_a_service())
    (service,) = base.services
    labelled = [p for p in base.pods if p.labels]
    if labelled:
        chosen = draw(st.sampled_from(labelled))
        keys = draw(st.lists(st.sampled_from(sorted(chosen.labels)), min_size=1,
                             unique=True))
        service = replace(service, namespace=chosen.namespace,
                          selector=Labels({k: chosen.labels[k] for k in keys}))
    kind = draw(st.sampled_from(("ClusterIP", "NodePort", "LoadBalancer")))
    policy = draw(st.sampled_from(("Cluster", "Local")))
    ports = tuple(replace(sp, node_port=30000 + k if kind != "ClusterIP" else None)
                  for k, sp in enumerate(service.ports))
    service = replace(service, type=kind, external_traffic_policy=policy, ports=ports,
                      cluster_ip=None if kind != "ClusterIP" else service.cluster_ip)
    return replace(base, services=(service,))


def _oracle_backends(cluster: Cluster, service: Service) -> list[Pod]:
    """Backends as the documentation says: the service namespace's pods whose labels carry
    every key=value of the selector."""
    assert service.selector is not None
    return [p for p in cluster.pods if p.namespace == service.namespace
            and all(p.labels.get(k) == v for k, v in service.selector.items())]


def _oracle_target(pod: Pod, sp: ServicePort) -> int | None:
    """"targetPort ... can also be a string, referring to the name of a port in the
    backend Pods"; a backend without that name gets no traffic."""
    if isinstance(sp.target_port, int):
        return sp.target_port
    return next((cp.port for cp in pod.ports if cp.name == sp.target_port
                 and cp.protocol == sp.protocol), None)


def _outside_probes() -> list[str]:
    """IPv4 addresses at every boundary the strategies' CIDRs and nodes can cut."""
    keys = {0, 2**32 - 1}
    for cidr, excepts in CIDRS:
        for text in (cidr, *excepts):
            net = ipaddress.ip_network(text, strict=False)
            if net.version == 4:
                lo, hi = int(net.network_address), int(net.broadcast_address)
                keys.update({lo, hi, max(lo - 1, 0), min(hi + 1, 2**32 - 1)})
    for node in NODES:
        for address in node.addresses:
            ip = ipaddress.ip_address(address)
            if ip.version == 4:
                keys.update({int(ip) - 1, int(ip), int(ip) + 1})
    return [str(ipaddress.IPv4Address(k)) for k in sorted(keys)]


OUTSIDE_PROBES = _outside_probes()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cluster=clusters_with_any_service().filter(lambda c: len(c.pods) >= 3))
def test_can_to_a_service_is_every_backend_on_its_target_port(cluster: Cluster) -> None:
    """can SRC svc --port P == AND over the backends of can SRC backend --port targetPort
    (with --any-backend: OR), each backend on the port P resolves to there; a Service
    without backends admits nobody. Checked against tests/oracle.py, pod by pod."""
    net = Network(cluster)
    (service,) = cluster.services
    ref = f"{service.namespace}/svc/{service.name}"
    backends = _oracle_backends(cluster, service)
    for src in cluster.pods:
        for sp in service.ports:
            admits = []
            for pod in backends:
                target = _oracle_target(pod, sp)
                # a pod through its own Service: policies apply (hairpin)
                admits.append(target is not None and oracle.allowed(
                    cluster, src, pod, sp.protocol, target, hairpin=True))
            every = net.can(f"{src.namespace}/pod/{src.name}", ref, sp.port, sp.protocol)
            some = net.can(f"{src.namespace}/pod/{src.name}", ref, sp.port, sp.protocol,
                           any_backend=True)
            assert bool(every) == (bool(admits) and all(admits)), str(every)
            assert bool(some) == any(admits), str(some)
            assert len(every.backends) == len(backends)  # type: ignore[union-attr]


@st.composite
def clusters_with_an_exposed_service(draw: st.DrawFn) -> Cluster:
    """A Service of any type whose backends a policy admits from one ipBlock: the
    address the backend sees decides."""
    cluster = draw(clusters_with_any_service())
    (service,) = cluster.services
    assert service.selector is not None
    cidr, excepts = draw(st.sampled_from([c for c in CIDRS if ":" not in c[0]]))
    admit = Policy(service.namespace, "from-outside",
                   LabelSelector(Labels(dict(service.selector))),
                   ingress=(Rule("ingress", 0, (Peer(ip_block=IPBlock(cidr, excepts)),)),))
    return replace(cluster, policies=(*cluster.policies, admit))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cluster=clusters_with_an_exposed_service(),
       client=st.sampled_from(("203.0.113.5", "10.0.0.7", "10.0.0.200", "10.9.9.9",
                               "192.168.1.1")))
def test_can_from_outside_to_a_service_sees_the_address_its_policy_says(
        cluster: Cluster, client: str) -> None:
    """Only NodePort and LoadBalancer Services are reachable from outside. Local keeps
    the client's address; Cluster SNATs to a node, whose address the manifests do not
    tell: the backend must admit every outside IPv4 address (every boundary probed)."""
    net = Network(cluster)
    (service,) = cluster.services
    ref = f"{service.namespace}/svc/{service.name}"
    try:
        net.resolve(client)
    except UnknownEndpoint:
        return  # the address is a pod's in this cluster: not an outside client
    if net.resolve(client).pods:
        return
    for sp in service.ports:
        verdict = net.can(client, ref, sp.port, sp.protocol)
        if service.type == "ClusterIP":
            assert not verdict and "ClusterIP" in str(verdict)
            continue
        sources = [client] if service.external_traffic_policy == "Local" else OUTSIDE_PROBES
        admits = []
        for pod in _oracle_backends(cluster, service):
            target = _oracle_target(pod, sp)
            admits.append(target is not None and all(
                oracle.allowed(cluster, address, pod, sp.protocol, target)
                for address in sources))
        assert bool(verdict) == (bool(admits) and all(admits)), str(verdict)


def test_a_pod_through_its_own_service_is_a_client_like_any_other() -> None:
    """The admin policy API: "A Pod connecting to its own Pod IP is not subject to CNP. A
    Pod connecting to a Service IP that the service proxy load-balances back to the same
    Pod is subject to ClusterNetworkPolicy." reach applies every tier that way."""
    import reach

    text = """\
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]
"""
    net = reach.load("-", stdin_text=text)
    assert net.can("shop/db", "shop/db", port=5432)  # its own pod IP: always
    through = net.can("shop/db", "shop/svc/db", port=5432)
    assert not through
    (entry,) = through.entries  # type: ignore[union-attr]
    assert entry.verdict is not None and "client of itself" in " ".join(entry.verdict.notes)
    opened = reach.load("-", stdin_text=text.replace("app: api", "app: db"))
    assert opened.can("shop/db", "shop/svc/db", port=5432)


@pytest.mark.parametrize("inputs", [("tests/data/graph/services.yaml",), ("samples/shop",),
                                    ("samples/flawed",)])
def test_one_service_resolved_alone_is_the_service_the_map_resolves(inputs: tuple[str, ...]
                                                                    ) -> None:
    net = reach.load(*inputs)
    smap = reach.services.service_map(net.cluster, net.pods)
    assert smap.services
    for info in smap.services:
        ns, name = info.service.namespace, info.service.name
        assert reach.services.resolve_service(net.cluster, net.pods, info.service) == info
        members = [i for i, pod in enumerate(net.pods) if pod.namespace == ns]
        assert reach.services.resolve_service(net.cluster, net.pods, info.service,
                                              members) == info
    # and what the network resolves alone, for every name, before building the map
    fresh = reach.load(*inputs)
    for info in smap.services:
        ns, name = info.service.namespace, info.service.name
        assert fresh._service_named(ns, name) == info
    assert fresh._service_named("nowhere", "nothing") is None
    assert fresh._services is None
