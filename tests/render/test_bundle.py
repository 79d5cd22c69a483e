"""Bundled edges: a fan of equal arrows is one arrow from a group node, and nothing is lost."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.render.bundle import BUNDLE_MIN, GROUP, bundle_edges
from reach.render.scene import build_scene

TCP = PortSet.single


def fan(n: int, ns: str = "team-a", port: int = 53) -> nx.DiGraph:
    g = nx.DiGraph()
    dns = Endpoint("Service", "kube-system", "kube-dns")
    for i in range(n):
        g.add_edge(Endpoint("Deployment", ns, f"app{i}"), dns, ports=TCP("UDP", port))
        g.add_edge(Endpoint("Deployment", ns, f"app{i}"), Endpoint("Deployment", ns, "db"),
                   ports=TCP("TCP", 5000 + i))  # keeps the apps apart (no twins)
    return g


def test_a_fan_into_one_target_becomes_one_edge_from_a_group() -> None:
    scene = bundle_edges(build_scene(fan(12)))
    groups = [n for n in scene.nodes if n.kind == GROUP]
    assert len(groups) == 1
    group = groups[0]
    assert group.label.startswith("12 workloads of team-a\n")
    assert len(group.members) == 12 and len(group.stands_for) == 12
    dns = next(n for n in scene.nodes if n.label == "kube-dns")
    into_dns = [e for e in scene.edges if e.dst == dns.id]
    assert [(e.src, e.label) for e in into_dns] == [(group.id, "UDP 53")]
    assert scene.bundled == 12


def test_a_fan_out_of_one_source_becomes_one_edge_to_a_group() -> None:
    g = nx.DiGraph()
    prometheus = Endpoint("StatefulSet", "monitoring", "prometheus")
    for i in range(6):
        g.add_edge(prometheus, Endpoint("Deployment", f"team-{i}", "api"),
                   ports=TCP("TCP", 9090))
        g.add_edge(Endpoint("Deployment", f"team-{i}", "api"),
                   Endpoint("Deployment", f"team-{i}", "db"), ports=TCP("TCP", 6000 + i))
    scene = bundle_edges(build_scene(g))
    group = next(n for n in scene.nodes if n.kind == GROUP)
    assert group.label.startswith("6 workloads in 6 namespaces")
    assert group.namespace == ""  # spans namespaces: drawn outside the boxes
    out = [e for e in scene.edges if scene.node(e.src).label == "prometheus"]
    assert [(scene.node(e.dst).kind, e.label) for e in out] == [(GROUP, "TCP 9090")]


def test_small_fans_stay_as_they_are() -> None:
    scene = build_scene(fan(BUNDLE_MIN - 1))
    assert bundle_edges(scene) == scene


def test_outside_ranges_and_the_internet_are_never_grouped() -> None:
    g = nx.DiGraph()
    web = Endpoint("Deployment", "shop", "web")
    for i in range(6):
        g.add_edge(Endpoint.external(i * 10, i * 10 + 5), web, ports=TCP("TCP", 443))
        g.add_edge(web, Endpoint.external(i * 10 + 6, i * 10 + 9), ports=TCP("TCP", 80 + i))
    scene = bundle_edges(build_scene(g))
    assert not [n for n in scene.nodes if n.kind == GROUP]


@st.composite
def graphs(draw: st.DrawFn) -> nx.DiGraph:
    nodes = [Endpoint(draw(st.sampled_from(["Deployment", "Pod", "Service"])),
                      draw(st.sampled_from(["a", "b"])), f"x{i}")
             for i in range(draw(st.integers(2, 12)))]
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    for a in nodes:
        for b in nodes:
            choice = draw(st.integers(0, 3))
            if a != b and choice:
                g.add_edge(a, b, ports=[TCP("TCP", 80), TCP("UDP", 53), PortSet.all()][choice - 1])
    return g


@settings(max_examples=150, deadline=None)
@given(graphs(), st.integers(2, 5))
def test_bundling_loses_no_edge(g: nx.DiGraph, size: int) -> None:
    """Every edge of the scene is still drawn, or drawn from/to a group that holds its end."""
    before = build_scene(g, summarize_edges=False)
    after = bundle_edges(before, size)
    drawn = {(e.src, e.dst, e.label) for e in after.edges}
    drawn |= {(e.dst, e.src, e.label) for e in after.edges if e.both}
    holds = {n.id: set(n.stands_for) for n in after.nodes if n.kind == GROUP}
    for e in before.edges:
        pairs = [(e.src, e.dst), (e.dst, e.src)] if e.both else [(e.src, e.dst)]
        for src, dst in pairs:
            ok = (src, dst, e.label) in drawn or any(
                ((gid, dst, e.label) in drawn and src in members)
                or ((src, gid, e.label) in drawn and dst in members)
                for gid, members in holds.items())
            assert ok, (src, dst, e.label)
    for n in after.nodes:
        if n.kind == GROUP:  # a group never holds anything but scene nodes
            assert set(n.stands_for) <= {m.id for m in before.nodes}
