"""Paths, reachable sets, isolated pods and exposure, in the library and on the command line.

The realistic sample (``samples/shop``) and a smaller fixture
(``tests/data/graph/shop.yaml``) answer the questions the issue asks: the internet
reaches the database through the ingress controller, web and api in four hops, never
directly; an unprotected pod shows up in ``isolated`` and ``exposure``.

Then the strong oracle: on hypothesis-generated clusters, paths and reachable sets
agree with a breadth-first search over the pod-by-pod matrix, computed pair by pair
with :meth:`Compiled.pod_ports`.
"""

from __future__ import annotations

import json
from collections import deque
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import clusters

import reach
from reach.cli import main
from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.errors import UnknownEndpoint
from reach.graph.queries import exposure, isolated, paths, reachable_from, reachable_to
from reach.graph.views import INGRESS_CONTROLLER, INTERNET, graph
from reach.model import (
    Cluster,
    ContainerPort,
    Ingress,
    IngressBackend,
    Labels,
    LabelSelector,
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
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "graph" / "shop.yaml"
SAMPLE = ROOT / "samples" / "shop"
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason="samples/shop absent")

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CONTROLLER = Endpoint("Deployment", "ingress-nginx", "ingress-nginx-controller")
WEB = Endpoint("Deployment", "shop", "web")
API = Endpoint("Deployment", "shop", "api")
DB = Endpoint("StatefulSet", "shop", "db")
CONTROLLER_SVC = Endpoint("Service", "ingress-nginx", "ingress-nginx-controller")


@pytest.fixture(scope="module")
def fixture() -> Network:
    return reach.load(str(FIXTURE))


@pytest.fixture(scope="module")
def sample() -> Network:
    return reach.load(str(SAMPLE))


# ---------------------------------------------------------------------------
# the shop: what the issue asks


def test_internet_reaches_the_db_through_ingress_web_and_api_in_four_hops(
        fixture: Network) -> None:
    """The way in is the controller's LoadBalancer Service: outside -> Service -> backend,
    in that order (the Service's forwarding is part of the first connection)."""
    result = paths(fixture, "internet", "shop/db")
    assert [p.nodes for p in result] == [(INTERNET, CONTROLLER_SVC, CONTROLLER, WEB, API, DB)]
    [path] = result.paths
    assert len(path) == 4
    assert [str(h.ports) for h in path.hops] == ["TCP 80,443", "TCP 80,443", "TCP 8080",
                                                "TCP 9090", "TCP 5432"]


@needs_sample
def test_sample_internet_reaches_the_db_through_ingress_web_and_api_in_four_hops(
        sample: Network) -> None:
    """In the sample the same four-hop path exists; shorter ones go through the
    unprotected monitoring namespace, whose Prometheus may scrape the db's metrics port."""
    result = paths(sample, "internet", "shop/db", max_hops=4, limit=100)
    chains = {p.nodes: p for p in result}
    path = chains[(INTERNET, CONTROLLER_SVC, CONTROLLER, WEB, API, DB)]
    assert len(path) == 4
    assert [str(h.ports) for h in path.hops][2:] == ["TCP 8080", "TCP 8080", "TCP 5432"]
    assert all(len(p) >= 3 for p in result)
    prometheus = Endpoint("Deployment", "monitoring", "prometheus")
    assert any(prometheus in p.nodes for p in result if len(p) == 3)


@pytest.mark.parametrize("which", ["fixture", pytest.param("sample", marks=needs_sample)])
def test_db_is_not_directly_reachable_from_the_internet(which: str,
                                                        request: pytest.FixtureRequest) -> None:
    net: Network = request.getfixturevalue(which)
    assert not paths(net, "internet", "shop/db", max_hops=1)
    G = graph(net)
    assert str(DB) in G and not G.has_edge(str(INTERNET), str(DB))
    assert DB not in exposure(net).targets()
    assert all(hops > 1 for ep, hops in reachable_to(net, "shop/db") if ep == INTERNET)


@pytest.mark.parametrize("which", ["fixture", pytest.param("sample", marks=needs_sample)])
def test_unprotected_pod_shows_up_in_isolated_and_exposure(which: str,
                                                           request: pytest.FixtureRequest
                                                           ) -> None:
    net: Network = request.getfixturevalue(which)
    debug = isolated(net).get("tools/debug")
    assert (debug.ingress_isolated, debug.egress_isolated) == (False, False)
    assert debug.unprotected == ("ingress", "egress")
    assert "tools/debug" in {f"{e.pod.namespace}/{e.pod.name}"
                             for e in isolated(net).unprotected()}
    exposed = [item for item in exposure(net) if item.target.namespace == "tools"]
    assert [item.via for item in exposed] == ["NodePort"]


def test_shop_db_is_isolated_and_reached_only_from_api(fixture: Network) -> None:
    db = isolated(fixture).get("shop/db")
    assert (db.ingress_isolated, db.no_ingress_peers, db.no_egress_peers) == (True, False, True)
    assert [(str(ep), hops) for ep, hops in reachable_to(fixture, "shop/db")][:2] == [
        ("shop/api[Deployment]", 1), ("shop/web[Deployment]", 2)]


def test_blast_radius_of_the_unprotected_pod(fixture: Network) -> None:
    radius = reachable_from(fixture, "tools/debug")
    assert dict(radius.endpoints)[CONTROLLER] == 1
    assert dict(radius.endpoints)[DB] == 4
    assert INTERNET in radius
    assert Endpoint("Pod", "tools", "debug") not in radius


# ---------------------------------------------------------------------------
# paths: the API


def test_paths_come_shortest_first_and_stop_at_the_limit(fixture: Network) -> None:
    everything = paths(fixture, "tools/debug", "shop/db", max_hops=6, limit=100)
    lengths = [len(p) for p in everything]
    assert lengths == sorted(lengths) and lengths[0] == 4
    assert not everything.truncated
    capped = paths(fixture, "tools/debug", "shop/db", max_hops=6, limit=1)
    assert len(capped) == 1 and capped.truncated
    assert capped.paths[0] == everything.paths[0]


def test_paths_respect_the_port_of_every_hop(fixture: Network) -> None:
    assert not paths(fixture, "shop/web", "shop/db", port=5432)  # web -> api is 9090 only
    assert paths(fixture, "shop/api", "shop/db", port=5432)


def test_paths_to_and_from_services_addresses_and_the_internet(fixture: Network) -> None:
    to_service = paths(fixture, "shop/web", "shop/svc/db")
    assert to_service.paths[0].nodes == (WEB, API, Endpoint("Service", "shop", "db"))
    assert str(to_service.paths[0].hops[-1].ports) == "TCP 5432"
    from_service = paths(fixture, "shop/svc/api", "shop/db")
    assert [str(h.ports) for h in from_service.paths[0].hops] == ["TCP 9090", "TCP 5432"]
    out = paths(fixture, "tools/debug", "8.8.8.8", max_hops=1)
    assert out.paths[0].nodes[-1] == Endpoint("External", "", "8.8.8.8", out.dst.lo, out.dst.hi)
    assert paths(fixture, "tools/debug", "internet", max_hops=1)
    assert not paths(fixture, "shop/db", "internet")


def test_same_endpoint_is_a_path_of_no_hops(fixture: Network) -> None:
    result = paths(fixture, "shop/web", "shop/web")
    assert [len(p) for p in result] == [0]


def test_unknown_endpoints_and_bad_arguments(fixture: Network) -> None:
    with pytest.raises(UnknownEndpoint):
        paths(fixture, "shop/nope", "shop/db")
    with pytest.raises(UnknownEndpoint):
        paths(fixture, "shop/web", "shop/svc/nope")
    with pytest.raises(ValueError, match="by must be one of"):
        paths(fixture, "shop/web", "shop/db", by="cluster")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        paths(fixture, "shop/web", "shop/db", max_hops=-1)


def test_paths_json_lists_endpoints(fixture: Network) -> None:
    doc = paths(fixture, "internet", "shop/db").to_json()
    assert doc["paths"] == [[{"kind": "Internet"},
                             {"kind": "Service", "namespace": "ingress-nginx",
                              "name": "ingress-nginx-controller"},
                             {"kind": "Deployment", "namespace": "ingress-nginx",
                              "name": "ingress-nginx-controller"},
                             {"kind": "Deployment", "namespace": "shop", "name": "web"},
                             {"kind": "Deployment", "namespace": "shop", "name": "api"},
                             {"kind": "StatefulSet", "namespace": "shop", "name": "db"}]]
    assert doc["ports"] == [["TCP 80,443", "TCP 80,443", "TCP 8080", "TCP 9090", "TCP 5432"]]
    to_service = paths(fixture, "shop/web", "shop/svc/db").to_json()
    assert to_service["paths"][0][-1] == {"kind": "Service", "namespace": "shop", "name": "db"}


def test_paths_through_the_synthetic_ingress_controller() -> None:
    """No controller pod in the input: the synthetic one carries the path."""
    web = Pod("shop", "web", Labels({"app": "web"}), ports=(ContainerPort(8080, name="http"),))
    db = Pod("shop", "db", Labels({"app": "db"}))
    service = Service("shop", "web", selector=Labels({"app": "web"}),
                      ports=(ServicePort(80, "http"),))
    only_web = Policy("shop", "db", LabelSelector(Labels({"app": "db"})), ingress=(Rule(
        "ingress", 0, (Peer(pod_selector=LabelSelector(Labels({"app": "web"}))),),
        (PolicyPort("TCP", 5432),)),))
    net = Network(Cluster(pods=(db, web), services=(service,), policies=(only_web,),
                          ingresses=(Ingress("shop", "web", (IngressBackend("web", 80),)),)))
    [path] = paths(net, "internet", "shop/db", by="pod").paths
    assert path.nodes == (INTERNET, INGRESS_CONTROLLER, Endpoint("Pod", "shop", "web"),
                          Endpoint("Pod", "shop", "db"))
    assert [str(h.ports) for h in path.hops] == ["TCP 80,443", "TCP 8080", "TCP 5432"]
    assert INGRESS_CONTROLLER in reachable_to(net, "shop/db", by="pod")


def test_a_backend_reached_through_a_service_does_not_drag_its_class_along() -> None:
    """web and other are alike to every policy, but only web is behind the
    LoadBalancer: the internet reaches web, not other."""
    web = Pod("ns", "web", Labels({"app": "web"}))
    lb = Service("ns", "web", type="LoadBalancer", selector=Labels({"app": "web"}),
                 ports=(ServicePort(443, 8443),))
    net = Network(Cluster(pods=(web, Pod("ns", "other")), services=(lb,)))
    assert net.compiled.n_classes == 1
    found = dict(reachable_from(net, "internet", by="pod").endpoints)
    assert found[Endpoint("Pod", "ns", "web")] == 1
    assert found[Endpoint("Pod", "ns", "other")] == 2  # web -> other, allowed by no policy
    [path] = paths(net, "internet", "ns/other", by="pod", limit=5).paths
    assert path.nodes[1:3] == (Endpoint("Service", "ns", "web"), Endpoint("Pod", "ns", "web"))
    assert len(path) == 2


# ---------------------------------------------------------------------------
# isolated and exposure


def test_isolated_json_has_the_contracted_shape(fixture: Network) -> None:
    doc = isolated(fixture).to_json()
    assert set(doc) == {"pods"}
    for entry in doc["pods"]:
        assert set(entry) == {"pod", "ingress_isolated", "egress_isolated", "no_ingress_peers",
                              "no_egress_peers", "ingress_restricted_by", "egress_restricted_by",
                              "ingress_isolated_by", "egress_isolated_by", "ingress_peers",
                              "egress_peers", "from_outside", "to_outside"}
        # a workload's pod template is named as its workload, as every command names it
        assert entry["pod"]["kind"] in ("Pod", "Deployment", "StatefulSet")
    names = [(e["pod"]["namespace"], e["pod"]["name"]) for e in doc["pods"]]
    assert names == sorted(names)


def test_replicas_of_one_pod_are_its_peers() -> None:
    """A db that admits only its own replicas is not peerless when it has several."""
    def cluster(replicas: int) -> Network:
        db = Pod("ns", "db", Labels({"app": "db"}), owner_kind="StatefulSet", owner_name="db",
                 replicas=replicas)
        own = Policy("ns", "db", LabelSelector(Labels({"app": "db"})), ingress=(Rule(
            "ingress", 0, (Peer(pod_selector=LabelSelector(Labels({"app": "db"}))),)),))
        return Network(Cluster(pods=(db, Pod("ns", "web")), policies=(own,)))

    assert isolated(cluster(1)).get("ns/db").no_ingress_peers
    assert not isolated(cluster(3)).get("ns/db").no_ingress_peers


def test_unprotected_pod_without_a_service_is_not_exposed() -> None:
    """Nothing routes the internet to a pod address: without a Service or Ingress an
    unprotected pod is reported by isolated, not by exposure."""
    net = Network(Cluster(pods=(Pod("ns", "lonely"),)))
    assert not exposure(net)
    assert isolated(net).get("ns/lonely").unprotected == ("ingress", "egress")


def test_exposure_json(fixture: Network) -> None:
    doc = exposure(fixture).to_json()
    vias = {(e["target"]["name"], e["via"]) for e in doc["exposed"]}
    assert vias == {("ingress-nginx-controller", "LoadBalancer"), ("web", "Ingress"),
                    ("debug", "NodePort")}
    web = next(e for e in doc["exposed"] if e["via"] == "Ingress")
    assert web["ports"] == "TCP 8080" and web["entry"] == "TCP 80,443"
    assert web["through"] == [{"kind": "Ingress", "namespace": "shop", "name": "shop"},
                              {"kind": "Service", "namespace": "shop", "name": "web"}]


# ---------------------------------------------------------------------------
# the command line


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_cli_paths(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "paths", "internet", "shop/db", "-f", str(FIXTURE))
    assert code == 0 and "4 hops: {internet}" in out
    code, out = run(capsys, "paths", "internet", "shop/db", "-f", str(FIXTURE), "--max-hops", "1")
    assert code == 1 and out.startswith("no path")
    code, out = run(capsys, "paths", "internet", "shop/db", "-f", str(FIXTURE), "-o", "json")
    assert code == 0 and len(json.loads(out)["paths"][0]) == 6  # with the controller's Service
    code, _ = run(capsys, "paths", "shop/nope", "shop/db", "-f", str(FIXTURE))
    assert code == 2
    code, _ = run(capsys, "paths", "a/b", "c/d", "-f", str(FIXTURE), "--max-hops", "-1")
    assert code == 2


def test_cli_reachable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "reachable-from", "tools/debug", "-f", str(FIXTURE), "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["direction"] == "from"
    assert {"kind": "StatefulSet", "namespace": "shop", "name": "db", "hops": 4} in doc["endpoints"]
    code, out = run(capsys, "reachable-to", "shop/db", "-f", str(FIXTURE), "--port", "5432")
    assert code == 0 and out.splitlines()[1:] == ["1 hop: shop/api[Deployment]"]
    code, out = run(capsys, "reachable-from", "shop/db", "-f", str(FIXTURE))
    assert code == 0 and out.startswith("nothing reachable from")  # an answer, not a finding


def test_cli_isolated_and_exposure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "isolated", "-f", str(FIXTURE), "-o", "json")
    assert code == 0 and {"pods", "caveats"} == set(json.loads(out))
    code, out = run(capsys, "isolated", "-f", str(FIXTURE))
    assert "tools/debug[Pod]: ingress unprotected, egress unprotected" in out.splitlines()
    code, out = run(capsys, "exposure", "-f", str(FIXTURE))
    assert code == 0 and "tools/debug[Pod] : TCP 22 via NodePort" in out
    code, out = run(capsys, "exposure", "-f", str(FIXTURE), "-o", "json", "--by", "namespace")
    assert {e["target"]["name"] for e in json.loads(out)["exposed"]} == {
        "ingress-nginx", "shop", "tools"}


# ---------------------------------------------------------------------------
# against a brute-force search over the pod-level matrix


def _pod_adjacency(net: Network, port: int | None, protocol: str) -> list[list[int]]:
    compiled = net.compiled
    size = len(net.pods)

    def ok(ports: PortSet) -> bool:
        return bool(ports) and (port is None or ports.allows(protocol, port))

    return [[j for j in range(size) if j != i and ok(compiled.pod_ports(i, j))]
            for i in range(size)]


def _bfs(adjacency: list[list[int]], start: int) -> dict[int, int]:
    dist = {start: 0}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for v in adjacency[u]:
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist


def _ref(pod: Pod) -> str:
    return f"{pod.namespace}/pod/{pod.name}"


def _ep(pod: Pod) -> Endpoint:
    return Endpoint("Pod", pod.namespace, pod.name)


PORTS = st.one_of(st.none(), st.tuples(st.sampled_from(("TCP", "UDP", "SCTP")),
                                       st.sampled_from((53, 80, 443, 8080, 9000, 65535))))


@SETTINGS
@given(cluster=clusters(), probe=PORTS)
def test_reachable_sets_agree_with_breadth_first_search(
        cluster: Cluster, probe: tuple[str, int] | None) -> None:
    net = Network(cluster)
    protocol, port = probe or ("TCP", None)
    forward = _pod_adjacency(net, port, protocol)
    backward: list[list[int]] = [[] for _ in forward]
    for i, outs in enumerate(forward):
        for j in outs:
            backward[j].append(i)
    compiled = net.compiled
    n = compiled.n_classes
    for i, pod in enumerate(net.pods):
        for direction, adjacency, query in (("from", forward, reachable_from),
                                            ("to", backward, reachable_to)):
            dist = _bfs(adjacency, i)
            got = query(net, _ref(pod), port=port, protocol=protocol, by="pod")
            pods = {ep: hops for ep, hops in got.endpoints if ep.kind == "Pod"}
            want = {_ep(net.pods[j]): d for j, d in dist.items() if j != i}
            assert pods == want, direction
            # outside ranges: one more hop from (or to) any pod reached, or the pod itself
            ranges = {ep: hops for ep, hops in got.endpoints if ep.kind == "External"}
            expected: dict[Endpoint, int] = {}
            for j, d in dist.items():
                cls = int(compiled.pod_class[j])
                for e, (lo, hi) in enumerate(compiled.externals):
                    ports = (compiled.column_ports(cls, n + e) if direction == "from"
                             else compiled.column_ports(n + e, cls))
                    if ports and (port is None or ports.allows(protocol, port)):
                        ext = Endpoint.external(lo, hi)
                        expected[ext] = min(expected.get(ext, d + 1), d + 1)
            assert ranges == _merged(expected), direction


def _merged(ranges: dict[Endpoint, int]) -> dict[Endpoint, int]:
    """Neighbouring ranges at the same distance, as one (as reachable sets show them)."""
    out: list[tuple[int, int, int]] = []
    for ep, hops in sorted(ranges.items(), key=lambda kv: kv[0].lo):
        if out and out[-1][1] + 1 == ep.lo and out[-1][2] == hops:
            out[-1] = (out[-1][0], ep.hi, hops)
        else:
            out.append((ep.lo, ep.hi, hops))
    return {Endpoint.external(lo, hi): hops for lo, hi, hops in out}


@SETTINGS
@given(cluster=clusters(), probe=PORTS, max_hops=st.integers(1, 4), limit=st.integers(1, 5))
def test_paths_agree_with_breadth_first_search(cluster: Cluster, probe: tuple[str, int] | None,
                                               max_hops: int, limit: int) -> None:
    net = Network(cluster)
    protocol, port = probe or ("TCP", None)
    adjacency = _pod_adjacency(net, port, protocol)
    index = {_ep(pod): i for i, pod in enumerate(net.pods)}
    compiled = net.compiled
    for i, src in enumerate(net.pods):
        dist = _bfs(adjacency, i)
        for j, dst in enumerate(net.pods):
            if i == j:
                continue
            result = paths(net, _ref(src), _ref(dst), max_hops=max_hops, port=port,
                           protocol=protocol, limit=limit, by="pod")
            if dist.get(j, max_hops + 1) > max_hops:
                assert not result, f"{src.name} -> {dst.name}: {result}"
                continue
            assert result and len(result.paths[0]) == dist[j]
            assert len(result) <= limit
            lengths = [len(p) for p in result]
            assert lengths == sorted(lengths) and lengths[-1] <= max_hops
            for path in result:
                nodes = [index[node] for node in path.nodes]
                assert nodes[0] == i and nodes[-1] == j
                assert len(set(nodes)) == len(nodes)  # simple
                for hop, (a, b) in zip(path.hops, pairwise(nodes), strict=True):
                    assert b in adjacency[a]
                    assert hop.ports == compiled.pod_ports(a, b)


def test_an_admin_deny_protects_a_pod_no_networkpolicy_isolates() -> None:
    """A pod whose ingress only an AdminNetworkPolicy restricts is not "unprotected"."""
    from reach.model import ADMIN_TIER

    db, web = Pod("ns", "db", Labels({"app": "db"})), Pod("ns", "web", Labels({"app": "web"}))
    deny = Policy("", "no-db", LabelSelector(Labels({"app": "db"})), ("Ingress",), (Rule(
        "ingress", 0, (Peer(namespace_selector=LabelSelector()),), action="Deny"),),
        kind="AdminNetworkPolicy", tier=ADMIN_TIER, priority=1,
        namespace_selector=LabelSelector())
    result = isolated(Network(Cluster(pods=(db, web), policies=(deny,))))
    entry = result.get("ns/db")
    assert not entry.ingress_isolated and entry.ingress_guards == ("anp/no-db",)
    assert entry.unprotected == ("egress",)
    # outside addresses still get in: namespaces peers are pods only
    assert str(entry) == "ns/db[Pod]: ingress restricted by anp/no-db, egress unprotected"
    assert result.get("ns/web").unprotected == ("ingress", "egress")
