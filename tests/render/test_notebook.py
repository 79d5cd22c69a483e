"""Jupyter display methods: they show the right thing and never raise."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import networkx as nx

from reach.endpoints import Endpoint
from reach.network import Network
from reach.render import GraphView, MatrixView, matrix_view, network_html, view


def test_a_network_shows_a_summary_table(shop_net: Network) -> None:
    text = shop_net._repr_html_()
    assert "<table>" in text and "13 pods" in text
    for ns in ("monitoring", "payments", "shop"):
        assert f">{ns}</th>" in text
    assert "ingress-isolated pods" in text


def test_the_summary_never_raises() -> None:
    class Broken:
        cluster = None

        def __repr__(self) -> str:
            return "<broken>"

    text = network_html(Broken())  # type: ignore[arg-type]
    assert text.startswith("<pre>&lt;broken&gt;")


def test_a_verdict_shows_its_explanation(shop_net: Network) -> None:
    text = shop_net.can("shop/web", "shop/db", port=5432)._repr_html_()
    assert "DENIED" in text and "default-deny" in text


def test_a_graph_view_shows_its_diagram(shop_net: Network) -> None:
    v = view(shop_net, engine="matplotlib", by="workload")
    assert isinstance(v, GraphView) and "by='workload'" in repr(v)
    svg = v._repr_svg_()
    ET.fromstring(svg)
    assert v._repr_svg_() is svg  # drawn once
    assert v.to_dot().startswith("digraph reach {")
    assert v.png().startswith(b"\x89PNG")


def test_a_graph_view_shows_errors_instead_of_raising(shop_net: Network) -> None:
    svg = view(shop_net, focus="shop/nobody")._repr_svg_()
    root = ET.fromstring(svg)
    text = " ".join(root.itertext())
    assert "could not draw the diagram" in text and "UnknownEndpoint" in text


def test_a_matrix_view_shows_its_heatmap(shop_net: Network, tmp_path: Any) -> None:
    v = matrix_view(shop_net, by="namespace")
    assert isinstance(v, MatrixView)
    ET.fromstring(v._repr_svg_())
    assert v.save(tmp_path / "m.png").startswith(b"\x89PNG")


def test_a_matrix_view_shows_errors_instead_of_raising() -> None:
    g = nx.DiGraph()
    g.add_node(Endpoint("Pod", "a", "b"))
    svg = matrix_view(g, by="class")._repr_svg_()
    assert "could not draw the matrix" in svg
