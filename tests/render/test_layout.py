"""The shared layout: nothing outside the page, no arrow through an endpoint, text that fits.

Each property is checked on the layout itself (geometry) and on what each engine
actually draws: matplotlib's artists measured by its renderer, Graphviz's drawing
operations read back from ``dot -Tjson``.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.network import Network
from reach.render import graphviz_available
from reach.render.detail import plan
from reach.render.dot import layout_to_dot
from reach.render.image import draw_layout
from reach.render.layout import Layout, Rect, layout, segments_through_nodes

needs_graphviz = pytest.mark.skipif(not graphviz_available(), reason="Graphviz is not installed")


def pages(shop_net: Network, thirty: Network, two_hundred: Network) -> dict[str, Layout]:
    path = [Endpoint("Deployment", "shop", "web"), Endpoint("Deployment", "shop", "api"),
            Endpoint("StatefulSet", "shop", "db")]
    return {
        "small shop": layout(plan(shop_net, title="a small shop")),
        "small shop, path": layout(plan(shop_net, highlight=path)),
        "small shop by pod": layout(plan(shop_net, by="pod")),
        "30 workloads": layout(plan(thirty)),
        "30 workloads by namespace": layout(plan(thirty, by="namespace")),
        "200 workloads": layout(plan(two_hundred)),
    }


@pytest.fixture(scope="module")
def laid_out(shop_net: Network, thirty_workloads: Network,
             two_hundred_workloads: Network) -> dict[str, Layout]:
    return pages(shop_net, thirty_workloads, two_hundred_workloads)


# ---------------------------------------------------------------------------
# geometry


def test_every_element_of_the_layout_is_on_the_page(laid_out: dict[str, Layout]) -> None:
    for name, page in laid_out.items():
        outside = [what for what, r in page.drawn() if not r.inside(page.page)]
        assert not outside, f"{name}: {outside[:5]}"


def test_no_arrow_runs_through_an_endpoint(laid_out: dict[str, Layout]) -> None:
    for name, page in laid_out.items():
        assert segments_through_nodes(page) == [], name


def test_arrows_are_orthogonal_and_end_on_their_endpoints(laid_out: dict[str, Layout]) -> None:
    for page in laid_out.values():
        for e in page.edges:
            for (x0, y0), (x1, y1) in zip(e.points, e.points[1:], strict=False):
                assert abs(x0 - x1) < 1e-6 or abs(y0 - y1) < 1e-6
            src, dst = page.nodes[e.edge.src].rect, page.nodes[e.edge.dst].rect
            (sx, sy), (tx, ty) = e.points[0], e.points[-1]
            assert sx in (src.x, src.x1) and src.y <= sy <= src.y1
            assert tx in (dst.x, dst.x1) and dst.y <= ty <= dst.y1


def test_endpoints_and_boxes_do_not_overlap(laid_out: dict[str, Layout]) -> None:
    for name, page in laid_out.items():
        rects = [p.rect for p in page.nodes.values()]
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                assert not a.overlaps(b), name
        boxes = [b.rect for b in page.boxes]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b), name


def test_labels_overlap_no_endpoint_and_no_other_label(laid_out: dict[str, Layout]) -> None:
    for name, page in laid_out.items():
        labels = [e.label for e in page.edges if e.label is not None]
        nodes = [p.rect for p in page.nodes.values()]
        assert not [r for r in labels if any(r.overlaps(n) for n in nodes)], name
        clashes = sum(a.overlaps(b) for i, a in enumerate(labels) for b in labels[i + 1:])
        assert clashes <= len(labels) // 10, f"{name}: {clashes} labels overlap"


def test_endpoints_stand_in_their_namespace_box(laid_out: dict[str, Layout]) -> None:
    for page in laid_out.values():
        box = {b.namespace: b.rect for b in page.boxes}
        for placed in page.nodes.values():
            ns = placed.node.namespace
            if ns in box and placed.node.kind != "Namespace":
                assert placed.rect.inside(box[ns])


def test_the_page_is_near_16_9_and_flows_left_to_right(laid_out: dict[str, Layout]) -> None:
    for name in ("small shop", "30 workloads", "200 workloads"):
        page = laid_out[name]
        assert 1.1 < page.width / page.height < 3.2, name
    shop = laid_out["small shop"]
    x = {p.node.label.split("\n")[0] + ":" + p.node.kind: p.rect.x for p in shop.nodes.values()}
    assert x["internet:Internet"] < x["web:Deployment"] < x["api:Deployment"] \
        < x["db:StatefulSet"]


def random_graphs() -> st.SearchStrategy[nx.DiGraph]:
    kinds = ["Deployment", "StatefulSet", "Service", "Pod"]

    @st.composite
    def build(draw: st.DrawFn) -> nx.DiGraph:
        count = draw(st.integers(2, 14))
        nodes = [Endpoint(draw(st.sampled_from(kinds)), draw(st.sampled_from(["a", "b", "c"])),
                          f"w{i}") for i in range(count)]
        nodes.append(Endpoint("Internet"))
        g = nx.DiGraph()
        for n in nodes:
            g.add_node(n)
        for _ in range(draw(st.integers(1, 3 * count))):
            a, b = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes[:-1]))
            if a != b:
                g.add_edge(a, b, ports=PortSet.single("TCP", draw(st.sampled_from([80, 443]))))
        return g

    return build()


@settings(max_examples=60, deadline=None)
@given(random_graphs())
def test_any_graph_lays_out_on_its_page_without_crossing_endpoints(g: nx.DiGraph) -> None:
    if not g.number_of_edges():
        return
    page = layout(plan(g))
    assert segments_through_nodes(page) == []
    assert all(r.inside(page.page) for _, r in page.drawn())


# ---------------------------------------------------------------------------
# what the engines draw


def artists_outside(page: Layout) -> list[str]:
    """matplotlib artists whose drawn extent leaves the figure, measured by the renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = draw_layout(page)
    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    bad = []
    from matplotlib.axis import Axis
    from matplotlib.spines import Spine

    for artist in fig.axes[0].get_children():
        if not artist.get_visible() or artist is fig.axes[0].patch or isinstance(
                artist, Spine | Axis):
            continue  # the axes are switched off: spines and axes are not drawn
        try:
            box = artist.get_window_extent(renderer)
        except (AttributeError, TypeError, RuntimeError):
            continue
        if box.width == 0 and box.height == 0:
            continue
        if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
            bad.append(f"{type(artist).__name__} {getattr(artist, 'get_text', lambda: '')()!r}")
    return bad


def test_matplotlib_draws_nothing_outside_its_canvas(laid_out: dict[str, Layout]) -> None:
    for name, page in laid_out.items():
        assert artists_outside(page) == [], name


def test_matplotlib_node_texts_fit_their_boxes(laid_out: dict[str, Layout]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    page = laid_out["30 workloads"]
    fig = draw_layout(page)
    renderer = FigureCanvasAgg(fig).get_renderer()
    scale = fig.dpi / 72
    by_text = {p.node.text: p.rect for p in page.nodes.values()}
    checked = 0
    for text in fig.axes[0].texts:
        rect = by_text.get(text.get_text())
        if rect is None:
            continue
        box = text.get_window_extent(renderer)
        assert box.width <= rect.w * scale + 1 and box.height <= rect.h * scale + 1, \
            text.get_text()
        checked += 1
    assert checked >= len(by_text)


def graphviz_json(page: Layout) -> dict[str, Any]:
    done = subprocess.run(["dot", "-Tjson"], input=layout_to_dot(page).encode(),
                          capture_output=True, check=True, timeout=60)
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def drawn_points(obj: dict[str, Any]) -> list[tuple[float, float, str]]:
    out = []
    for key in ("_draw_", "_ldraw_", "_hdraw_", "_tdraw_", "_hldraw_", "_tldraw_"):
        for op in obj.get(key, []):
            for x, y in op.get("points", []):
                out.append((x, y, op["op"]))
            if op["op"] == "T":
                x, y = op["pt"]
                w = op["width"]
                left = {"l": x, "r": x - w}.get(op.get("align", "c"), x - w / 2)
                out += [(left, y, "T"), (left + w, y, "T")]
            if op["op"] in ("e", "E"):
                (x, y), (w, h) = op["rect"][:2], op["rect"][2:]
                out += [(x - w, y - h, "e"), (x + w, y + h, "e")]
    return out


@needs_graphviz
def test_graphviz_draws_nothing_outside_its_canvas(laid_out: dict[str, Layout]) -> None:
    for name, page in laid_out.items():
        data = graphviz_json(page)
        x0, y0, x1, y1 = (float(v) for v in data["bb"].split(","))
        page_box = Rect(x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2)
        assert abs((x1 - x0) - page.width) < 1 and abs((y1 - y0) - page.height) < 1, name
        for obj in [data, *data.get("objects", []), *data.get("edges", [])]:
            for x, y, op in drawn_points(obj):
                assert page_box.x <= x <= page_box.x1 and page_box.y <= y <= page_box.y1, \
                    (name, obj.get("name"), op, x, y)


@needs_graphviz
def test_graphviz_node_labels_fit_their_boxes(laid_out: dict[str, Layout]) -> None:
    data = graphviz_json(laid_out["30 workloads"])
    checked = 0
    for obj in data.get("objects", []):
        if "width" not in obj or "_ldraw_" not in obj or not str(obj["name"]).startswith("n"):
            continue
        widest = max((op["width"] for op in obj["_ldraw_"] if op["op"] == "T"), default=0)
        assert widest <= float(obj["width"]) * 72, obj["name"]
        checked += 1
    assert checked > 20
