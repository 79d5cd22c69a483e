"""The level of detail: a view over its budget is drawn coarser, and says so."""

from __future__ import annotations

import html

import networkx as nx
import pytest

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.network import Network
from reach.render import to_dot
from reach.render.detail import DEFAULT_BUDGET, Budget, merge_outside, namespace_graph, plan
from reach.render.layout import layout


def test_the_small_shop_fits_and_is_drawn_as_asked(shop_net: Network) -> None:
    scene = plan(shop_net)
    assert scene.level == "workload" and not scene.notice
    assert DEFAULT_BUDGET.fits(scene)


@pytest.mark.parametrize("by", ["workload", "pod"])
def test_thirty_workloads_fit_their_budget(thirty_workloads: Network, by: str) -> None:
    scene = plan(thirty_workloads, by=by)
    assert DEFAULT_BUDGET.fits(scene)
    assert scene.level in ("pod", "workload", "namespace")
    if by == "pod" and scene.level != "pod":
        assert "do not fit one page" in scene.notice and "--focus" in scene.notice


def test_two_hundred_workloads_are_drawn_by_namespace_within_budget(
        two_hundred_workloads: Network) -> None:
    scene = plan(two_hundred_workloads)
    assert scene.level == "namespace"
    assert DEFAULT_BUDGET.fits(scene)
    assert "drawn by namespace" in scene.notice and "--focus NAMESPACE" in scene.notice
    block = next(t for t in layout(scene).texts if t.role == "notice")  # the picture says it
    assert " ".join(block.lines) == scene.notice
    assert all(html.escape(line) in to_dot(two_hundred_workloads) for line in block.lines)


@pytest.mark.parametrize("nodes,edges", [(10, 0), (0, 10), (25, 30), (60, 80)])
def test_no_view_exceeds_its_budget_without_saying_so(two_hundred_workloads: Network,
                                                      nodes: int, edges: int) -> None:
    budget = Budget(nodes, edges)
    scene = plan(two_hundred_workloads, budget=budget)
    assert budget.fits(scene) or "still over budget" in scene.notice
    assert scene.notice  # 200 workloads never fit these pages at workload level


def test_a_namespace_named_as_focus_drills_down(two_hundred_workloads: Network) -> None:
    overview = plan(two_hundred_workloads)
    namespace = next(n.label.split("\n")[0] for n in overview.nodes if n.kind == "Namespace"
                     and n.label.startswith("payments"))
    scene = plan(two_hundred_workloads, focus=namespace)
    assert scene.level in ("workload", "namespace")
    assert any(n.namespace == namespace and n.kind != "Namespace" for n in scene.nodes) \
        or scene.level == "namespace"


def test_no_budget_draws_the_level_asked_for(thirty_workloads: Network) -> None:
    scene = plan(thirty_workloads, by="pod", budget=Budget(0, 0))
    assert scene.level == "pod" and not scene.notice


def test_a_graph_too_large_to_build_falls_back_and_says_why(shop_net: Network,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    import reach.render.detail as detail

    real = detail.as_graph

    def refusing(source: object, by: str = "workload", services: bool = True) -> object:
        if by == "pod":
            raise ValueError("the pod graph would have about 12000000 edges")
        return real(source, by=by, services=services)

    monkeypatch.setattr(detail, "as_graph", refusing)
    scene = plan(shop_net, by="pod")
    assert scene.level == "workload"
    assert scene.notice.startswith("the pod graph is too large to draw")


def test_namespace_graph_merges_endpoints_and_joins_ports() -> None:
    g = nx.DiGraph()
    a1, a2 = Endpoint("Deployment", "a", "x"), Endpoint("Deployment", "a", "y")
    b = Endpoint("Deployment", "b", "z")
    g.add_edge(a1, b, ports=PortSet.single("TCP", 80))
    g.add_edge(a2, b, ports=PortSet.single("TCP", 443))
    g.add_edge(a1, a2, ports=PortSet.all())
    merged = namespace_graph(g)
    ns_a, ns_b = Endpoint("Namespace", "", "a"), Endpoint("Namespace", "", "b")
    assert set(merged.edges) == {(ns_a, ns_b)}
    assert merged.edges[ns_a, ns_b]["ports"] == PortSet.single("TCP", 80) | PortSet.single(
        "TCP", 443)


def test_merge_outside_makes_one_outside_node() -> None:
    g = nx.DiGraph()
    web = Endpoint("Deployment", "shop", "web")
    for i in range(3):
        g.add_edge(Endpoint.external(i * 10, i * 10 + 5), web, ports=PortSet.single("TCP", 80 + i))
    merged = merge_outside(g)
    (outside,) = [n for n in merged if n.kind == "External"]
    assert outside.name == "outside (3 ranges)"
    assert str(merged.edges[outside, web]["ports"]) == "TCP 80-82"


def test_the_cli_budget_help_matches_the_renderer() -> None:
    from reach.cli import BUDGET_HELP

    assert (DEFAULT_BUDGET.nodes, DEFAULT_BUDGET.edges) == BUDGET_HELP


def test_a_focus_draws_the_edges_that_lead_out_from_it(two_hundred_workloads: Network) -> None:
    """Around one namespace, every arrow touches it (hops=1): a star, not the whole mesh."""
    scene = plan(two_hundred_workloads, focus="payments-prod")
    centre = {n.id for n in scene.nodes if n.focused}
    assert centre
    holds = {n.id: set(n.stands_for) for n in scene.nodes if n.stands_for}
    for e in scene.edges:
        ends = {e.src, e.dst}
        assert ends & centre or any(ends & {g} and members & centre
                                    for g, members in holds.items()), e
    assert "focus on one endpoint (--focus NS/NAME)" in scene.notice
