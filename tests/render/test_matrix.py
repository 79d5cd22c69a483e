"""The matrix view: levels and cell texts, and the heatmap figure."""

from __future__ import annotations

import io
import sys

import networkx as nx
import pytest
from PIL import Image

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.network import Network
from reach.render import matrix, matrix_data
from reach.render.image import figure_bytes


def test_namespace_cells_count_connected_workload_pairs(shop_net: Network) -> None:
    m = matrix_data(shop_net, by="namespace")
    assert m.labels == ("monitoring", "payments", "shop", "outside")
    cell = {(a, b): (m.cells[i][j], int(m.levels[i, j]))
            for i, a in enumerate(m.labels) for j, b in enumerate(m.labels)}
    # shop has 4 workloads: 12 ordered pairs, of which web->api and api->db talk
    assert cell["shop", "shop"] == ("2/12", 1)
    assert cell["shop", "payments"] == ("1/4", 1)  # api -> gateway, on TCP 8443 only
    assert cell["shop", "monitoring"] == ("4/4", 2)  # prometheus is open to everyone
    assert cell["payments", "shop"] == ("0/4", 0)
    assert cell["outside", "shop"] == ("1/4", 1)  # only web, only on 8080
    assert cell["monitoring", "monitoring"] == ("—", -1)  # one workload: no pair


def test_workload_cells_name_the_ports(shop_net: Network) -> None:
    m = matrix_data(shop_net, by="workload")
    i, j = m.labels.index("shop/api"), m.labels.index("shop/db")
    assert m.cells[i][j] == "TCP 5432" and m.levels[i, j] == 2 and m.ports[i, j] == 1
    assert m.levels[j, i] == 0 and m.ports[j, i] == 0 and m.cells[j][i] == ""
    k = m.labels.index("monitoring/prometheus")
    assert m.cells[i][k] == "all" and m.levels[i, k] == 2 and m.ports[i, k] == 2


def test_pairs_and_ports_are_told_apart(shop_net: Network) -> None:
    """The colour counts pairs, the hatching ports: "some" never means both at once."""
    m = matrix_data(shop_net, by="namespace")
    cell = {(a, b): (int(m.levels[i, j]), int(m.ports[i, j]))
            for i, a in enumerate(m.labels) for j, b in enumerate(m.labels)}
    assert cell["shop", "payments"] == (1, 1)  # 1 of 4 pairs, and only on TCP 8443
    assert cell["shop", "monitoring"] == (2, 2)  # every pair, every port
    assert cell["payments", "shop"] == (0, 0)
    assert cell["outside", "shop"] == (1, 1)


def test_the_heatmap_legend_names_pairs_and_ports(shop_net: Network) -> None:
    fig = matrix(shop_net, by="namespace")
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == ["no pair connected", "some pairs connected", "every pair connected",
                     "on some ports only"]
    assert "pairs" in fig.legends[0].get_title().get_text()
    texts = [t.get_text() for t in matrix(shop_net, by="workload").legends[0].get_texts()]
    assert texts == ["not connected", "connected", "on some ports only"]


def test_pod_cells_and_the_outside(shop_net: Network) -> None:
    m = matrix_data(shop_net, by="pod")
    assert m.labels[-1] == "outside" and len(m.labels) == 14
    w, o = m.labels.index("shop/web-0"), m.labels.index("outside")
    assert m.cells[o][w] == "TCP 8080"


def test_services_are_not_rows(shop_net: Network) -> None:
    g = nx.DiGraph()
    web, svc = Endpoint("Deployment", "a", "web"), Endpoint("Service", "a", "web")
    g.add_edge(svc, web, ports=PortSet.single("TCP", 80))
    assert matrix_data(g, by="workload").labels == ("a/web",)


def test_unknown_granularity_is_refused(shop_net: Network) -> None:
    with pytest.raises(ValueError, match="by must be"):
        matrix_data(shop_net, by="class")


@pytest.mark.parametrize("by", ["namespace", "workload", "pod"])
def test_the_heatmap_is_a_figure_that_draws(shop_net: Network, by: str) -> None:
    from matplotlib.figure import Figure

    fig = matrix(shop_net, by=by)
    assert isinstance(fig, Figure)
    image = Image.open(io.BytesIO(figure_bytes(fig, "png"))).convert("RGB")
    assert image.width > 200 and image.height > 200
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 10
    assert "matplotlib.pyplot" not in sys.modules
