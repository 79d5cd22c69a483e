"""DOT output: synthetic ids, clusters, shapes, ports, focus, collapse, highlight, goldens."""

from __future__ import annotations

import os
import re
from pathlib import Path

import networkx as nx
import pydot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.errors import UnknownEndpoint
from reach.network import Network
from reach.render import build_scene, to_dot
from reach.render.scene import CAPTION, EGRESS_OPEN, INGRESS_OPEN
from reach.render.style import HIGHLIGHT

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
REGEN = os.environ.get("REACH_REGEN_GOLDEN") == "1"
TCP = PortSet.single


def ep(kind: str, ns: str, name: str) -> Endpoint:
    return Endpoint(kind, ns, name)


def add(g: nx.DiGraph, a: Endpoint, b: Endpoint, ports: PortSet) -> None:
    for n in (a, b):
        g.add_node(n, kind=n.kind, namespace=n.namespace, label=n.name)
    g.add_edge(a, b, ports=ports, label=str(ports))


def parsed(text: str) -> pydot.Dot:
    graphs = pydot.graph_from_dot_data(text)
    assert graphs and len(graphs) == 1
    return graphs[0]


def clusters(dot: pydot.Dot) -> list[pydot.Subgraph]:
    return [s for s in dot.get_subgraphs() if str(s.get_name()).startswith("cluster_")]


def node_lines(text: str) -> dict[str, str]:
    """``id -> attribute text`` of every node statement."""
    return dict(re.findall(r"^(n\d+) \[(.*)\];$", text, flags=re.M))


def edge_lines(text: str) -> list[tuple[str, str, str]]:
    return re.findall(r"^(n\d+) -> (n\d+) \[(.*)\];$", text, flags=re.M)


def label_of(attrs: str) -> str:
    found = re.search(r'label=("(?:[^"\\]|\\.)*"|[^,]+)', attrs)
    assert found
    return found.group(1).strip('"')


def shop_graph() -> nx.DiGraph:
    g = nx.DiGraph()
    web, api = ep("Deployment", "shop", "web"), ep("Deployment", "shop", "api")
    db, svc = ep("StatefulSet", "shop", "db"), ep("Service", "shop", "web")
    internet = Endpoint("Internet")
    add(g, internet, svc, TCP("TCP", 80))
    add(g, svc, web, TCP("TCP", 8080))
    add(g, web, api, TCP("TCP", 9090))
    add(g, api, db, TCP("TCP", 5432))
    add(g, api, ep("Deployment", "payments", "gateway"), TCP("TCP", 8443))
    return g


# ---------------------------------------------------------------------------
# ids, clusters, shapes, labels


def test_node_ids_are_synthetic_and_numbered_in_order() -> None:
    text = to_dot(shop_graph())
    ids = list(node_lines(text))
    assert sorted(ids, key=lambda i: int(i[1:])) == [f"n{i}" for i in range(len(ids))]


def test_names_with_colons_and_the_word_node_survive_as_labels() -> None:
    g = nx.DiGraph()
    add(g, ep("Pod", "node", "node:1"), ep("Pod", "node", "edge:2"), TCP("TCP", 1))
    text = to_dot(g, collapse=False)
    dot = parsed(text)
    labels = sorted(str(n.get("label")).strip('"') for sub in clusters(dot)
                    for n in sub.get_nodes())
    assert labels == ["edge:2", "node:1"]
    assert len(dot.get_edges()) == 1


def test_namespaces_are_clusters_sorted_by_name() -> None:
    dot = parsed(to_dot(shop_graph()))
    assert sorted(s.get("label") for s in clusters(dot)) == ["payments", "shop"]
    names = [str(s.get_name()) for s in dot.get_subgraphs()]
    assert names[-1] == "notes" and all(n.startswith("cluster_") for n in names[:-1])


def test_endpoints_outside_namespaces_are_top_level() -> None:
    dot = parsed(to_dot(shop_graph()))
    top = [label_of(f'label={n.get("label")}') for n in dot.get_nodes()
           if n.get_name() not in ("node", "edge")]
    assert top == ["internet"]


def test_kinds_have_distinct_shapes() -> None:
    text = to_dot(shop_graph())
    shapes = {label_of(a) + ":" + re.search(r"shape=(\w+)", a).group(1)  # type: ignore[union-attr]
              for a in node_lines(text).values()}
    assert shapes == {"internet:doubleoctagon", "web:hexagon", "web:box", "api:box",
                      "db:cylinder", "gateway:box"}


def test_edges_are_labelled_with_their_ports() -> None:
    text = to_dot(shop_graph())
    nodes = {i: label_of(a) for i, a in node_lines(text).items()}
    edges = {(nodes[a], nodes[b], label_of(attrs)) for a, b, attrs in edge_lines(text)}
    assert ("api", "db", "TCP 5432") in edges
    assert ("internet", "web", "TCP 80") in edges


def test_output_does_not_depend_on_insertion_order() -> None:
    g = shop_graph()
    h = nx.DiGraph()
    for n in reversed(list(g.nodes)):
        h.add_node(n, **g.nodes[n])
    for a, b in reversed(list(g.edges)):
        h.add_edge(a, b, **g.edges[a, b])
    assert to_dot(g) == to_dot(h)


def test_an_edge_and_its_reverse_with_equal_ports_draw_once_with_two_heads() -> None:
    g = nx.DiGraph()
    a, b = ep("Deployment", "ns", "a"), ep("Deployment", "ns", "b")
    add(g, a, b, TCP("TCP", 80))
    add(g, b, a, TCP("TCP", 80))
    edges = edge_lines(to_dot(g, collapse=False))
    assert len(edges) == 1 and "dir=both" in edges[0][2]


def test_a_network_is_drawn_through_its_graph(shop_net: Network) -> None:
    text = to_dot(shop_net, by="workload")
    labels = {label_of(a).split("\\n")[0] for a in node_lines(text).values()}
    assert {"web", "api", "db", "worker", "gateway", "prometheus"} <= labels


def test_by_must_be_a_known_granularity(shop_net: Network) -> None:
    with pytest.raises(ValueError, match="by must be one of"):
        to_dot(shop_net, by="cluster")


# ---------------------------------------------------------------------------
# focus


def test_focus_keeps_the_neighbourhood_within_hops() -> None:
    g = shop_graph()
    one = {label_of(a) for a in node_lines(to_dot(g, focus="shop/api", hops=1)).values()}
    assert one == {"web", "api", "db", "gateway"}
    two = {label_of(a) for a in node_lines(to_dot(g, focus="shop/api", hops=2)).values()}
    assert two == {"web", "api", "db", "gateway"} | {"web"}  # the Service named web too
    assert len(node_lines(to_dot(g, focus="shop/api", hops=2))) == 5


def test_focus_accepts_kinds_endpoints_and_the_internet() -> None:
    g = shop_graph()
    assert to_dot(g, focus="shop/deploy/api") == to_dot(g, focus=ep("Deployment", "shop", "api"))
    text = to_dot(g, focus="internet", hops=1)
    assert len(node_lines(text)) == 2


def test_the_focused_endpoint_is_drawn_bold() -> None:
    text = to_dot(shop_graph(), focus="shop/deploy/api")
    bold = [label_of(a) for a in node_lines(text).values() if "penwidth" in a]
    assert bold == ["api"]


def test_focus_on_nothing_names_the_candidates() -> None:
    with pytest.raises(UnknownEndpoint) as info:
        to_dot(shop_graph(), focus="shop/nothing")
    assert "shop/api" in str(info.value)


def test_focus_at_another_granularity_goes_through_the_network(shop_net: Network) -> None:
    text = to_dot(shop_net, by="pod", focus="shop/api", hops=1, collapse=False)
    labels = {label_of(a).split("\\n")[0] for a in node_lines(text).values()}
    assert {"api-0", "api-1", "db-0"} <= labels


def test_negative_hops_are_refused() -> None:
    with pytest.raises(ValueError, match="hops"):
        to_dot(shop_graph(), focus="shop/api", hops=-1)


# ---------------------------------------------------------------------------
# collapse


def big_namespace(n: int) -> nx.DiGraph:
    g = nx.DiGraph()
    db = ep("StatefulSet", "data", "db")
    for i in range(n):
        add(g, ep("Pod", "shop", f"web-{i:04d}"), db, TCP("TCP", 5432))
    add(g, ep("Pod", "shop", "admin"), db, PortSet.all())
    return g


def test_a_thousand_equivalent_pods_collapse_into_one_node() -> None:
    text = to_dot(big_namespace(1000))
    nodes = node_lines(text)
    assert len(nodes) == 3 and len(edge_lines(text)) == 2
    labels = sorted(label_of(a) for a in nodes.values())
    assert labels[0].startswith("1000 pods\\nweb-0000\\nweb-0001\\n… and 998 more")
    assert len(text) < 5000


def test_collapse_can_be_switched_off() -> None:
    assert len(node_lines(to_dot(big_namespace(50), collapse=False, bundle=False))) == 52


def test_pods_that_all_talk_to_each_other_collapse_with_a_note() -> None:
    g = nx.DiGraph()
    pods = [ep("Pod", "ns", f"p{i}") for i in range(5)]
    for a in pods:
        for b in pods:
            if a != b:
                add(g, a, b, TCP("TCP", 80))
    scene = build_scene(g, summarize_edges=False)
    assert len(scene.nodes) == 1 and scene.nodes[0].loop == "TCP 80"
    assert "among them: TCP 80" in to_dot(g, summarize=False)


def test_endpoints_that_differ_in_one_port_stay_apart() -> None:
    g = nx.DiGraph()
    db = ep("StatefulSet", "ns", "db")
    add(g, ep("Pod", "ns", "a"), db, TCP("TCP", 1))
    add(g, ep("Pod", "ns", "b"), db, TCP("TCP", 2))
    assert len(build_scene(g).nodes) == 3


def test_equivalent_endpoints_of_different_namespaces_stay_apart() -> None:
    g = nx.DiGraph()
    db = ep("StatefulSet", "ns", "db")
    add(g, ep("Pod", "a", "x"), db, TCP("TCP", 1))
    add(g, ep("Pod", "b", "x"), db, TCP("TCP", 1))
    assert len(build_scene(g).nodes) == 3


LABELS = [PortSet.all(), TCP("TCP", 80), TCP("UDP", 53)]


@st.composite
def small_graphs(draw: st.DrawFn) -> nx.DiGraph:
    names = [ep("Pod", draw(st.sampled_from(["a", "b"])), f"p{i}")
             for i in range(draw(st.integers(1, 7)))]
    g = nx.DiGraph()
    for n in names:
        g.add_node(n, kind="Pod", namespace=n.namespace, label=n.name)
    for a in names:
        for b in names:
            choice = draw(st.integers(0, len(LABELS)))
            if a != b and choice:
                g.add_edge(a, b, ports=LABELS[choice - 1])
    return g


@settings(max_examples=200, deadline=None)
@given(small_graphs())
def test_collapsing_loses_nothing(g: nx.DiGraph) -> None:
    """Expanding the collapsed scene gives back every edge of the graph, exactly."""
    scene = build_scene(g, summarize_edges=False)
    group = {m: n for n in scene.nodes for m in n.members}
    ports = {(e.src, e.dst): e.ports for e in scene.edges}
    ports.update({(e.dst, e.src): e.ports for e in scene.edges if e.both})
    loops = {n.id: n.loop for n in scene.nodes}
    for a in g:
        for b in g:
            if a == b:
                continue
            want = g.edges[a, b]["ports"] if g.has_edge(a, b) else None
            ga, gb = group[a], group[b]
            if ga == gb:
                from reach.render.scene import port_label

                assert loops[ga.id] == (port_label(want) if want else "")
            else:
                assert ports.get((ga.id, gb.id)) == want


# ---------------------------------------------------------------------------
# summarize


def test_all_port_fans_become_notes(shop_net: Network) -> None:
    scene = build_scene(__import__("reach.render._source", fromlist=["x"]).as_graph(shop_net))
    notes = {n.label: n.notes for n in scene.nodes}
    assert notes["prometheus"] == (INGRESS_OPEN, EGRESS_OPEN)
    assert notes["web"] == (EGRESS_OPEN,)
    assert not any(e.label == "all" for e in scene.edges)
    assert scene.caption == CAPTION
    assert "egress: open / ingress: open = all ports" in to_dot(shop_net)


def test_summaries_can_be_switched_off(shop_net: Network) -> None:
    text = to_dot(shop_net, summarize=False)
    assert "label=all" in text and "open" not in text


# ---------------------------------------------------------------------------
# highlight


def test_a_highlighted_path_is_drawn_red() -> None:
    g = shop_graph()
    path = [Endpoint("Internet"), ep("Service", "shop", "web"), ep("Deployment", "shop", "web"),
            ep("Deployment", "shop", "api"), ep("StatefulSet", "shop", "db")]
    text = to_dot(g, highlight=path)
    nodes = node_lines(text)
    red_edges = [(a, b) for a, b, attrs in edge_lines(text) if HIGHLIGHT in attrs]
    assert len(red_edges) == 4
    red_nodes = {label_of(a) for a in nodes.values() if HIGHLIGHT in a}
    assert red_nodes == {"internet", "web", "api", "db"}
    assert "gateway" not in red_nodes


def test_several_paths_can_be_highlighted_and_survive_focus() -> None:
    g = shop_graph()
    paths = [[ep("Deployment", "shop", "web"), ep("Deployment", "shop", "api")],
             [ep("Deployment", "shop", "api"), ep("Deployment", "payments", "gateway")]]
    text = to_dot(g, highlight=paths, focus="shop/deploy/web", hops=0)
    assert sum(HIGHLIGHT in attrs for _, _, attrs in edge_lines(text)) == 2


def test_a_highlighted_endpoint_highlights_its_group_and_keeps_the_layout() -> None:
    g = big_namespace(10)
    path = [ep("Pod", "shop", "web-0003"), ep("StatefulSet", "data", "db")]
    plain, lit = build_scene(g), build_scene(g, highlight=path)
    assert [n.label for n in lit.nodes] == [n.label for n in plain.nodes]
    group = next(n for n in lit.nodes if n.label.startswith("10 pods"))
    assert group.highlighted and ep("Pod", "shop", "web-0003") in group.members
    assert [(e.src, e.dst) for e in lit.edges if e.highlighted] == [(group.id, "n0")]


def positions(text: str) -> dict[str, str]:
    return {ident: re.search(r'pos="([^"]+)"', attrs).group(1)  # type: ignore[union-attr]
            for ident, attrs in node_lines(text).items()}


def test_a_path_is_drawn_over_the_same_layout_as_the_diagram_without_it() -> None:
    import reach

    net = reach.load(ROOT / "samples" / "shop")
    path = [Endpoint("Internet"), ep("Deployment", "tools", "debug"),
            ep("Deployment", "monitoring", "prometheus"), ep("StatefulSet", "shop", "db")]
    plain, lit = to_dot(net), to_dot(net, highlight=path)
    assert positions(lit) == positions(plain)
    red = [(a, b) for a, b, attrs in edge_lines(lit) if HIGHLIGHT in attrs]
    assert len(red) >= 3  # the hop through the open debug pod is drawn although noted
    faded = [attrs for _, _, attrs in edge_lines(lit) if HIGHLIGHT not in attrs]
    assert faded and all('color="#47556940"' in attrs for attrs in faded)


# ---------------------------------------------------------------------------
# golden files


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN or not path.exists():
        if not REGEN:
            pytest.fail(f"{path} is missing; run with REACH_REGEN_GOLDEN=1 to write it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert text == path.read_text(), f"{name} changed; REACH_REGEN_GOLDEN=1 rewrites it"


@pytest.mark.parametrize("by", ["workload", "pod", "namespace"])
def test_golden_small_shop(shop_net: Network, by: str) -> None:
    check_golden(f"small-shop-{by}.dot", to_dot(shop_net, by=by, title="small shop"))


def test_golden_small_shop_focus_and_highlight(shop_net: Network) -> None:
    path = [ep("Deployment", "shop", "web"), ep("Deployment", "shop", "api"),
            ep("StatefulSet", "shop", "db")]
    check_golden("small-shop-focus-api.dot",
                 to_dot(shop_net, focus="shop/api", hops=1, highlight=path))


ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "seed"
SAMPLES = {
    "seed-no-policies": ([SEED / "cluster.yaml"], "pod"),
    "seed-allow-us-east": ([SEED / "cluster.yaml", SEED / "policies/allow-us-east.yaml"], "pod"),
    "seed-both-policies": ([SEED / "cluster.yaml", SEED / "policies"], "pod"),
    "seed-block-one-ip": ([SEED / "cluster.yaml", SEED / "policies/block-one-ip.yaml"], "pod"),
    "shop-workload": ([ROOT / "samples" / "shop"], "workload"),
    "shop-namespace": ([ROOT / "samples" / "shop"], "namespace"),
    "shop-pod": ([ROOT / "samples" / "shop"], "pod"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_golden_samples(name: str) -> None:
    import reach

    paths, by = SAMPLES[name]
    check_golden(f"{name}.dot", to_dot(reach.load(*paths), by=by))


def test_golden_shop_attack_path() -> None:
    import reach
    from reach.graph.queries import paths

    net = reach.load(ROOT / "samples" / "shop")
    found = paths(net, "internet", "shop/db")
    through_web = [p for p in found if Endpoint("Deployment", "shop", "web") in p.nodes]
    assert through_web
    check_golden("shop-internet-to-db.dot", to_dot(net, highlight=through_web[0]))


def thousand_pods() -> Network:
    from reach.model import (
        NAMESPACE_NAME_LABEL,
        Cluster,
        Labels,
        LabelSelector,
        Namespace,
        Peer,
        Pod,
        Policy,
        PolicyPort,
        Rule,
    )

    pods, namespaces, policies = [], [], []
    for n in range(10):
        ns = f"team-{n}"
        namespaces.append(Namespace(ns, Labels({NAMESPACE_NAME_LABEL: ns})))
        policies.append(Policy(ns, "deny", LabelSelector(), ("Ingress",)))
        for w in range(5):
            pods += [Pod(ns, f"app{w}-{i:02d}", Labels({"app": f"app{w}"}),
                         owner_kind="Deployment", owner_name=f"app{w}") for i in range(20)]
            if w:
                peer = Peer(pod_selector=LabelSelector(Labels({"app": f"app{w - 1}"})))
                rule = Rule("ingress", 0, (peer,), (PolicyPort("TCP", 8000 + w),))
                policies.append(Policy(ns, f"app{w}", LabelSelector(Labels({"app": f"app{w}"})),
                                       ingress=(rule,)))
    return Network(Cluster(namespaces=tuple(namespaces), pods=tuple(pods),
                           policies=tuple(policies)))


def test_a_thousand_pod_cluster_draws_as_fifty_groups() -> None:
    from reach.graph.views import graph

    scene = build_scene(graph(thousand_pods(), by="pod"))
    assert len(scene.nodes) == 50 and len(scene.edges) == 40
    assert all(n.label.startswith("20 pods") for n in scene.nodes)
    assert scene.collapsed == 950
