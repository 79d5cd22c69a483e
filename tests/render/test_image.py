"""PNG/SVG/PDF through Graphviz and through matplotlib, checked by opening the images."""

from __future__ import annotations

import io
import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from PIL import Image

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.errors import RenderError
from reach.network import Network
from reach.render import choose_engine, graphviz_available, render
from reach.render.image import ENGINE_VARIABLE

needs_graphviz = pytest.mark.skipif(not graphviz_available(), reason="Graphviz is not installed")
SVG = "{http://www.w3.org/2000/svg}svg"


def check_png(data: bytes, min_size: int = 100) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.width >= min_size and image.height >= min_size // 2
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 10, "the picture is blank"
    dark = sum(1 for px in image.tobytes()[::3] if px < 100)
    assert dark > 100, "no text or lines drawn"
    return image


def svg_text(data: bytes) -> str:
    root = ET.fromstring(data)
    assert root.tag == SVG
    assert float(str(root.get("width", "0")).rstrip("ptx") or 0) > 50
    return " ".join(t.strip() for t in root.itertext() if t.strip())


# ---------------------------------------------------------------------------
# Graphviz


@needs_graphviz
def test_graphviz_draws_png(shop_net: Network) -> None:
    check_png(render(shop_net, "png", engine="graphviz"))


@needs_graphviz
def test_graphviz_draws_svg_with_the_names(shop_net: Network) -> None:
    text = svg_text(render(shop_net, "svg", engine="graphviz"))
    for name in ("web", "api", "db", "gateway", "prometheus", "shop", "payments", "TCP 5432"):
        assert name in text


@needs_graphviz
def test_graphviz_draws_pdf_and_a_focused_pod_view(shop_net: Network) -> None:
    assert render(shop_net, "pdf", engine="graphviz").startswith(b"%PDF")
    check_png(render(shop_net, "png", engine="graphviz", by="pod", focus="shop/api"))


@needs_graphviz
def test_auto_prefers_graphviz_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINE_VARIABLE, raising=False)
    assert choose_engine("png") == "graphviz"


def test_a_failing_graphviz_is_a_render_error(tmp_path: Path, shop_net: Network,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    with pytest.raises(RenderError, match="Graphviz could not draw the diagram: Error: syntax"):
        render(shop_net, "png", engine="graphviz")


# ---------------------------------------------------------------------------
# matplotlib


def test_matplotlib_draws_png(shop_net: Network) -> None:
    image = check_png(render(shop_net, "png", engine="matplotlib"))
    assert image.width > 400


def test_matplotlib_draws_svg_with_the_names(shop_net: Network) -> None:
    text = svg_text(render(shop_net, "svg", engine="matplotlib"))
    for name in ("web", "api", "db", "gateway", "prometheus", "shop", "payments", "TCP 5432"):
        assert name in text


def test_the_environment_variable_forces_matplotlib(shop_net: Network,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENGINE_VARIABLE, "matplotlib")
    assert choose_engine("svg") == "matplotlib"
    svg = render(shop_net, "svg")
    assert b"Graphviz" not in svg[:1000] and b"Matplotlib" in svg[:1500]


def test_auto_falls_back_to_matplotlib_without_graphviz(shop_net: Network,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINE_VARIABLE, raising=False)
    monkeypatch.setenv("PATH", "")
    assert choose_engine("png") == "matplotlib"
    check_png(render(shop_net, "png", by="pod"))


def test_matplotlib_svg_and_png_are_deterministic(shop_net: Network) -> None:
    assert render(shop_net, "svg", engine="matplotlib") == render(shop_net, "svg",
                                                                  engine="matplotlib")
    assert render(shop_net, "png", engine="matplotlib") == render(shop_net, "png",
                                                                  engine="matplotlib")


def test_matplotlib_draws_highlight_focus_title_and_pdf(shop_net: Network) -> None:
    path = [Endpoint("Deployment", "shop", "web"), Endpoint("Deployment", "shop", "api")]
    check_png(render(shop_net, "png", engine="matplotlib", highlight=path, title="the shop"))
    data = render(shop_net, "svg", engine="matplotlib", focus="shop/db", hops=1)
    text = svg_text(data)
    assert "db" in text and "worker" not in text
    assert render(shop_net, "pdf", engine="matplotlib").startswith(b"%PDF")


def test_an_empty_view_is_an_error_not_an_empty_picture() -> None:
    with pytest.raises(RenderError, match="nothing to draw"):
        render(nx.DiGraph(), "svg", engine="matplotlib")


def test_a_focus_without_connections_is_an_error_that_says_why() -> None:
    import reach

    shop = reach.load(Path(__file__).resolve().parents[2] / "samples" / "shop")
    with pytest.raises(RenderError, match=r"nothing to draw around 8\.8\.8\.8: it has no allowed"):
        render(shop, "png", engine="matplotlib", focus="8.8.8.8")


def test_matplotlib_draws_loops() -> None:
    g = nx.DiGraph()
    pods = [Endpoint("Pod", "ns", f"p{i}") for i in range(3)]
    for a in pods:
        for b in pods:
            if a != b:
                g.add_edge(a, b, ports=PortSet.single("TCP", 80))
    assert "among them: TCP 80" in svg_text(render(g, "svg", engine="matplotlib"))


def test_matplotlib_is_never_pyplot(shop_net: Network) -> None:
    import sys

    render(shop_net, "png", engine="matplotlib")
    assert "matplotlib.pyplot" not in sys.modules


# ---------------------------------------------------------------------------
# targets and errors


def test_a_path_target_is_written_in_the_format_of_its_suffix(tmp_path: Path,
                                                              shop_net: Network) -> None:
    out = tmp_path / "shop.PNG"
    data = render(shop_net, out, engine="matplotlib")
    assert out.read_bytes() == data
    check_png(data)
    dot = tmp_path / "shop.dot"
    render(shop_net, dot)
    assert dot.read_text().startswith("digraph reach {")


def test_a_target_without_suffix_is_refused(tmp_path: Path, shop_net: Network) -> None:
    with pytest.raises(RenderError, match="cannot tell the format"):
        render(shop_net, tmp_path / "shop")


def test_matplotlib_cannot_draw_gif(shop_net: Network) -> None:
    with pytest.raises(RenderError, match="matplotlib engine cannot draw gif"):
        render(shop_net, "gif", engine="matplotlib")


def test_without_graphviz_gif_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RenderError, match="gif needs Graphviz's dot program"):
        choose_engine("gif", "auto")
    with pytest.raises(RenderError, match="needs Graphviz's dot program on the PATH"):
        choose_engine("png", "graphviz")


def test_unknown_formats_and_engines_are_refused() -> None:
    with pytest.raises(RenderError, match="cannot draw 'bmpx'"):
        choose_engine("bmpx", "auto")
    with pytest.raises(RenderError, match="unknown engine"):
        choose_engine("png", "povray")
