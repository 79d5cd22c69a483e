"""Endpoint references: one resolver for every command and the Python API."""

from __future__ import annotations

import networkx as nx
import pytest

import reach
from reach.endpoints import INGRESS_CONTROLLER, INTERNET, Endpoint, closest, parse_reference
from reach.errors import InvalidQuery, UnknownEndpoint
from reach.graph.views import graph
from reach.model import (
    Cluster,
    ContainerPort,
    Ingress,
    IngressBackend,
    Labels,
    Pod,
    Service,
    ServicePort,
)
from reach.network import Network
from reach.selection import Selection, parse_selector
from reach.verdict import ServiceVerdict, Verdict

WEB = Pod("shop", "web", Labels({"app": "web"}), ports=(ContainerPort(8080, name="http"),),
          owner_kind="Deployment", owner_name="web", template=True)
API = Pod("shop", "api", Labels({"app": "api"}), ports=(ContainerPort(8080, name="http"),),
          owner_kind="Deployment", owner_name="api", template=True)
CACHE = Pod("shop", "cache-0", Labels({"app": "cache"}), owner_kind="StatefulSet",
            owner_name="cache")
LONE = Pod("shop", "cache", Labels({"app": "other"}))  # a bare pod named like a workload
SERVICES = (
    Service("shop", "api", selector=Labels({"app": "api"}),
            ports=(ServicePort(80, "http", name="http"),)),
    Service("shop", "frontend", selector=Labels({"app": "web"}), ports=(ServicePort(80, 8080),)),
)
NET = Network(Cluster(pods=(API, CACHE, LONE, WEB), services=SERVICES,
                      ingresses=(Ingress("shop", "www", (IngressBackend("frontend", 80),)),)))


def kinds(reference: str) -> tuple[str, Endpoint]:
    found = NET.resolve(reference)
    return found.kind, found.endpoint


@pytest.mark.parametrize(("reference", "kind", "endpoint"), [
    ("shop/web", "pods", Endpoint("Deployment", "shop", "web")),  # the template is the workload
    ("shop/deploy/web", "pods", Endpoint("Deployment", "shop", "web")),
    ("shop/Deployment/web", "pods", Endpoint("Deployment", "shop", "web")),
    ("shop/sts/cache", "pods", Endpoint("StatefulSet", "shop", "cache")),
    ("shop/pod/cache", "pods", Endpoint("Pod", "shop", "cache")),
    ("shop/frontend", "service", Endpoint("Service", "shop", "frontend")),  # nothing else
    ("shop/svc/api", "service", Endpoint("Service", "shop", "api")),
    ("shop/ingress/www", "ingress", Endpoint("Ingress", "shop", "www")),
    ("shop/ing/www", "ingress", Endpoint("Ingress", "shop", "www")),
    ("internet", "internet", INTERNET),
    ("{internet}", "internet", INTERNET),
    ("ingress-controller", "controller", INGRESS_CONTROLLER),
    ("{ingress-controller}", "controller", INGRESS_CONTROLLER),
    ("203.0.113.7", "address", Endpoint.external(address := 3405803783, address)),
    ("10.0.0.0/8", "address", Endpoint("External", "", "10.0.0.0/8", 167772160, 184549375)),
    ("shop/web[Deployment]", "pods", Endpoint("Deployment", "shop", "web")),  # as printed
    ("shop/api[Service]", "service", Endpoint("Service", "shop", "api")),
    ("203.0.113.7[External]", "address", Endpoint.external(address, address)),
])
def test_every_reference_form(reference: str, kind: str, endpoint: Endpoint) -> None:
    assert kinds(reference) == (kind, endpoint)


def test_endpoints_resolve_like_the_names_they_print() -> None:
    for ep in (Endpoint("Deployment", "shop", "web"), Endpoint("Service", "shop", "api"),
               INTERNET, Endpoint("Ingress", "shop", "www")):
        assert NET.resolve(ep).endpoint == ep


def test_a_name_of_two_things_is_ambiguous_and_says_which() -> None:
    """StatefulSet cache (pod cache-0) and the bare pod cache are different things."""
    with pytest.raises(UnknownEndpoint) as info:
        NET.resolve("shop/cache")
    assert "ambiguous" in str(info.value)
    assert info.value.candidates == ("shop/Pod/cache", "shop/StatefulSet/cache")


def test_a_workload_and_its_service_of_one_name_is_the_workload_with_a_note() -> None:
    verdict = NET.can("shop/web", "shop/api")
    assert isinstance(verdict, Verdict) and verdict.dst == Endpoint("Deployment", "shop", "api")
    assert any("ask shop/svc/api for its service ports" in note for note in verdict.notes)
    on_the_pods = NET.can("shop/web", "shop/api", port=8080)  # a port the pods listen on
    assert isinstance(on_the_pods, Verdict) and not on_the_pods.notes


def test_on_a_port_only_its_service_has_a_name_is_the_service() -> None:
    """api's pods listen on 8080, its Service on 80: shop/api on port 80 can only mean
    the Service; shop/deploy/api on port 80 still asks the pods."""
    verdict = NET.can("shop/web", "shop/api", port=80)
    assert isinstance(verdict, ServiceVerdict) and verdict.service == Endpoint(
        "Service", "shop", "api")
    assert "pods do not listen on 80" in verdict.notes[0]
    pods = NET.can("shop/web", "shop/deploy/api", port=80)
    assert isinstance(pods, Verdict) and pods.dst.kind == "Deployment"


def test_candidates_are_the_closest_names_same_kind_first() -> None:
    with pytest.raises(UnknownEndpoint) as info:
        NET.resolve("shop/svc/fronted")
    assert info.value.candidates[0] == "shop/Service/frontend"
    with pytest.raises(UnknownEndpoint) as info:
        NET.resolve("shpo/web")
    assert "there is no namespace" in str(info.value)
    assert "shop/Deployment/web" in info.value.candidates
    assert closest("aip", ["api", "db", "cache", "apis"]) == ["api"]


def test_an_unknown_kind_says_what_kinds_there_are() -> None:
    with pytest.raises(ValueError, match=r'unknown kind "deployy".*did you mean deploy'):
        parse_reference("shop/deployy/web")


def test_a_service_opens_no_connection() -> None:
    with pytest.raises(InvalidQuery, match="a Service opens no connection"):
        NET.can("shop/svc/api", "shop/web")


def test_port_numbers_outside_the_range_and_unknown_names_are_refused() -> None:
    for port in (0, 65536, -1):
        with pytest.raises(InvalidQuery, match="1-65535"):
            NET.can("shop/web", "shop/api", port=port)
    with pytest.raises(InvalidQuery, match='no container port named "grpc"'):
        NET.can("shop/web", "shop/api", port="grpc")
    assert NET.can("shop/web", "shop/svc/api", port="http").ports == reach.PortSet.single(
        "TCP", 80)


def test_an_ingress_is_answered_from_the_ingress_controller() -> None:
    verdict = NET.can("internet", "shop/ingress/www")
    assert isinstance(verdict, ServiceVerdict)
    assert verdict.src == INGRESS_CONTROLLER and verdict.backends == (
        Endpoint("Deployment", "shop", "web"),)
    assert any("ingress-controller for the way in" in note for note in verdict.notes)


def test_short_reprs() -> None:
    assert repr(Endpoint("Deployment", "shop", "web")) == "Endpoint('Deployment', 'shop', 'web')"
    assert repr(INTERNET) == "Endpoint('Internet')"
    assert repr(NET.can("shop/web", "shop/api", port=8080)) == (
        "<Verdict shop/web[Deployment] -> shop/api[Deployment]: ALLOWED on TCP 8080>")
    assert repr(NET.can("shop/web", "shop/svc/api")).startswith(
        "<ServiceVerdict shop/web[Deployment] -> shop/api[Service]: ALLOWED")
    conn = NET.connections(by="workload")[0]
    assert repr(conn) == f"<Connection {conn}>"
    for result in (reach.paths(NET, "shop/web", "shop/api"), reach.isolated(NET),
                   reach.exposure(NET), reach.reachable_from(NET, "shop/web"),
                   reach.diff(NET, NET)):
        assert repr(result).startswith("<") and len(repr(result)) < 120


def test_str_is_the_one_verb_for_human_text() -> None:
    for result in (NET.can("shop/web", "shop/api"), NET.can("shop/web", "shop/svc/api"),
                   reach.paths(NET, "shop/web", "shop/api"), reach.isolated(NET),
                   reach.exposure(NET), reach.reachable_from(NET, "shop/web"),
                   reach.diff(NET, NET)):
        assert str(result) and not hasattr(result, "explain")


def test_graph_nodes_are_the_names_the_cli_prints() -> None:
    """nx.shortest_path(g, "{internet}", "shop/db[StatefulSet]") works as written."""
    net = reach.load("samples/shop")
    g = graph(net)
    path = nx.shortest_path(g, "{internet}", "shop/db[StatefulSet]")
    assert path[0] == "{internet}" and path[-1] == "shop/db[StatefulSet]"
    assert all(g.nodes[n]["endpoint"] == net.resolve(n).endpoint for n in path
               if g.nodes[n]["kind"] not in ("Internet", "Service"))


def test_to_frame_is_flat() -> None:
    pytest.importorskip("pandas")
    frame = reach.to_frame(NET.connections(by="workload"))
    assert list(frame.columns) == ["src_namespace", "src_name", "src_kind", "dst_namespace",
                                   "dst_name", "dst_kind", "protocol", "port_from", "port_to"]
    web_api = frame[(frame.src_name == "web") & (frame.dst_name == "api")]
    # All Connections: a row per protocol with ports or types, the others by number
    assert set(web_api.protocol) == {"ICMP", "ICMPv6", "SCTP", "TCP", "UDP", "UDPLite",
                                     "ip_protocols"}
    ports = web_api[web_api.protocol.isin(["SCTP", "TCP", "UDP", "UDPLite"])]
    assert (ports.port_from == 1).all() and (ports.port_to == 65535).all()
    outside = frame[frame.src_kind == "External"]
    assert (outside.src_name == "0.0.0.0-255.255.255.255").all()


@pytest.mark.parametrize(("text", "labels", "selected"), [
    ("app=web", {"app": "web"}, True),
    ("app==web", {"app": "api"}, False),
    ("tier!=db", {}, True),  # != also selects objects without the key
    ("tier!=db", {"tier": "db"}, False),
    ("env in (prod, staging)", {"env": "staging"}, True),
    ("env notin (prod)", {}, True),
    ("canary", {"canary": ""}, True),
    ("!canary", {"canary": "yes"}, False),
    ("app=web,!canary", {"app": "web"}, True),
])
def test_kubectl_label_selectors(text: str, labels: dict[str, str], selected: bool) -> None:
    assert Selection(selector=parse_selector(text)).selects("ns", Labels(labels)) == selected


@pytest.mark.parametrize("text", ["app", "app=", "a b", "env in prod", "x in ()", ","])
def test_selectors_that_kubectl_would_refuse_are_refused(text: str) -> None:
    if text in ("app", "app="):
        parse_selector(text)  # valid: Exists, and the empty value
        return
    with pytest.raises(InvalidQuery):
        parse_selector(text)


def test_a_workload_asked_about_itself_is_asked_about_two_of_its_replicas() -> None:
    """A pod reaches itself whatever the policies; two replicas of one Deployment are
    two pods, which a policy may keep apart."""
    from reach.model import LabelSelector, Policy

    web = Pod("ns", "web", Labels({"app": "web"}), owner_kind="Deployment", owner_name="web",
              template=True, replicas=3)
    deny = Policy("ns", "deny", LabelSelector())
    net = Network(Cluster(pods=(web, Pod("ns", "a")), policies=(deny,)))
    verdict = net.can("ns/web", "ns/web")
    assert not verdict and verdict.answer == "DENIED on every port"
    alone = net.can("ns/a", "ns/a")
    assert alone and "a pod always reaches itself" in str(alone)
