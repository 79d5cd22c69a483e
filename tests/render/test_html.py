"""The interactive page: self-contained, and working in a real headless Chromium.

The browser tests load the written file from disk, as a user opening it would,
and check that it throws no script error, asks the network for nothing, draws
the expected endpoints at each level, and that clicking an endpoint lists its
connections; search, the namespace and port filters and the drill-down are
driven through the page's own widgets.
"""

from __future__ import annotations

import html
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from reach.network import Network
from reach.render.html import InteractiveView, interactive, to_html

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from browser import Browser, Page, chromium

ROOT = Path(__file__).resolve().parents[2]
needs_chromium = pytest.mark.skipif(chromium() is None, reason="Chromium is not installed")


@pytest.fixture(scope="module")
def shop() -> Network:
    import reach

    return reach.load(ROOT / "samples" / "shop")


@pytest.fixture(scope="module")
def shop_page(shop: Network, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "shop.html"
    to_html(shop, path, title="the shop")
    return path


# ---------------------------------------------------------------------------
# the file itself


def test_the_page_is_one_self_contained_file(shop_page: Path) -> None:
    text = shop_page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]+src=", text), "a script is loaded from elsewhere"
    assert not re.search(r"<link[^>]+href=", text), "a stylesheet is loaded from elsewhere"
    assert "Bokeh" in text and len(text) > 500_000  # BokehJS itself is inline
    for name in ("nodes-namespace", "nodes-workload", "nodes-pod", "details", "drill"):
        assert f'"name":"{name}"' in text.replace(" ", "")


def test_a_page_offers_only_the_levels_asked_for(shop: Network) -> None:
    text = to_html(shop, levels=("workload",))
    assert "nodes-workload" in text and "nodes-namespace" not in text


def test_the_notebook_view_is_an_iframe_holding_the_page(shop: Network) -> None:
    view = interactive(shop, levels=("namespace",))
    assert isinstance(view, InteractiveView)
    shown = view._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "width:100%" in shown
    assert html.unescape(shown.split('srcdoc="', 1)[1].split('" style=', 1)[0]) == view.html()


def test_the_notebook_view_shows_errors_instead_of_raising(shop: Network) -> None:
    shown = interactive(shop, focus="shop/nobody")._repr_html_()
    assert "could not draw the page" in shown and "UnknownEndpoint" in shown


# ---------------------------------------------------------------------------
# in the browser

FIND = """
function reachFind(name) {
  function walk(v) {
    if (v.model && v.model.name === name) return v;
    for (const c of (v.child_views || [])) { const f = walk(c); if (f) return f; }
    return null;
  }
  for (const r of Bokeh.index.roots) { const f = walk(r); if (f) return f; }
  return null;
}
function reachModel(name) { return Bokeh.documents[0].get_model_by_name(name); }
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    exe = chromium()
    if exe is None:
        pytest.skip("Chromium is not installed")
    b = Browser(exe)
    try:
        yield b
    finally:
        b.close()


def open_page(browser: Browser, path: Path) -> Page:
    page = browser.page()
    page.goto(path.as_uri())
    page.wait_for("window.Bokeh && Bokeh.documents.length > 0 && Bokeh.index.roots.length > 0")
    page.evaluate(FIND + "window.reachFind = reachFind; window.reachModel = reachModel; true")
    page.wait_for("reachFind('diagram') && reachModel('diagram').inner_width > 0")
    browser.pump(0.5)
    return page


def node_point(page: Page, level: str, name: str, kind: str) -> tuple[float, float]:
    """Where on the screen the centre of endpoint ``name`` of ``kind`` is drawn."""
    point = page.evaluate(f"""(() => {{
        const data = reachModel('nodes-{level}').data;
        const i = data.name.findIndex((n, k) => n === {name!r} && data.kind[k] === {kind!r});
        if (i < 0) return null;
        const view = reachFind('diagram');
        const box = view.canvas_view.el.getBoundingClientRect();
        return [box.left + view.frame.x_scale.compute(data.x[i]),
                box.top + view.frame.y_scale.compute(data.y[i])];
    }})()""")
    assert point is not None, f"{name} ({kind}) is not on the {level} level"
    return float(point[0]), float(point[1])


def click_node(page: Page, level: str, name: str, kind: str) -> None:
    """Click an endpoint as a user would, until the page has selected it.

    The first click can land before the page has drawn the level just switched to (a
    loaded machine); a user would click again, and so does this.
    """
    selected = (f"(() => {{ const d = reachModel('nodes-{level}').data; "
                f"const s = reachModel('nodes-{level}').selected.indices; "
                f"return s.length === 1 && d.name[s[0]] === {name!r}; }})()")
    for _ in range(5):
        page.browser.pump(0.2)
        page.click(*node_point(page, level, name, kind))
        try:
            page.wait_for(selected, timeout=3)
            return
        except TimeoutError:
            continue
    raise AssertionError(f"clicking {name} never selected it")


def details(page: Page) -> str:
    text: str = page.evaluate("reachModel('details').text")
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(text)).split())


@needs_chromium
def test_the_page_loads_without_errors_and_asks_the_network_for_nothing(
        browser: Browser, shop_page: Path) -> None:
    page = open_page(browser, shop_page)
    assert page.errors() == []
    outside = [u for u in page.requests() if not u.startswith(("file:", "data:", "blob:"))]
    assert outside == []


@needs_chromium
def test_the_page_draws_the_endpoints_of_each_level(browser: Browser, shop_page: Path,
                                                    shop: Network) -> None:
    from reach.render.detail import plan
    from reach.render.html import HTML_BUDGET

    page = open_page(browser, shop_page)
    for level in ("namespace", "workload", "pod"):
        scene = plan(shop, level, budget=HTML_BUDGET)
        count = page.evaluate(f"reachModel('nodes-{level}').data.x.length")
        assert count == len(scene.nodes), level
    # the page opens at workloads; that renderer is visible and the others not
    visible = page.evaluate("""['namespace', 'workload', 'pod'].map(
        l => reachModel('diagram').renderers.find(r => r.name === 'node-boxes-' + l).visible)""")
    assert visible == [False, True, False]
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    x, y = node_point(page, "workload", "db", "StatefulSet")
    assert image.getpixel((int(x), int(y))) != (255, 255, 255), "nothing drawn where db is"
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 50


@needs_chromium
def test_clicking_an_endpoint_lists_its_connections_with_ports(browser: Browser,
                                                               shop_page: Path) -> None:
    page = open_page(browser, shop_page)
    assert "Click an endpoint" in details(page)
    click_node(page, "workload", "api", "Deployment")
    page.wait_for("reachModel('details').text.includes('outgoing')")
    text = details(page)
    assert text.split()[0] == "api"
    assert re.search(r"outgoing \(2\).*\bcache\b.*TCP 6379", text)
    assert re.search(r"outgoing \(2\).*\bdb\b.*TCP 5432", text)
    assert re.search(r"incoming \(1\).*\bapi\b.*TCP 8080", text)
    assert page.errors() == []


@needs_chromium
def test_search_filters_and_drill_down(browser: Browser, shop_page: Path) -> None:
    page = open_page(browser, shop_page)

    def alphas(what: str) -> list[float]:
        return list(page.evaluate(f"reachModel('{what}-workload').data.alpha"))

    names = page.evaluate("reachModel('nodes-workload').data.name")
    spaces = page.evaluate("reachModel('nodes-workload').data.namespace")
    page.evaluate("reachModel('search').value = 'cache'")
    assert "3 endpoint(s) match" in details(page)
    lit = sorted(n for n, a in zip(names, alphas("nodes"), strict=True) if a == 1.0)
    assert lit == ["5 workloads of shop", "cache", "cache"]  # the group holds cache too

    page.evaluate("reachModel('search').value = ''; reachModel('namespaces').value = ['tools']")
    shown = {(n, s) for n, s, a in zip(names, spaces, alphas("nodes"), strict=True) if a > 0}
    assert {s for _, s in shown} == {"tools", ""}  # and the internet, outside any namespace

    page.evaluate("reachModel('namespaces').value = []; reachModel('port').value = '5432'")
    ports = page.evaluate("reachModel('edges-workload').data.label")
    kept = {p for p, a in zip(ports, alphas("edges"), strict=True) if a > 0}
    assert kept == {"TCP 5432"}
    page.evaluate("reachModel('port').value = ''")

    page.evaluate("reachModel('level').active = 0")
    click_node(page, "namespace", "shop", "Namespace")
    page.wait_for("reachModel('drill').disabled === false", timeout=10)
    page.evaluate("reachFind('drill').button_el.click()")
    page.wait_for("reachModel('level').active === 1", timeout=10)
    assert page.evaluate("reachModel('namespaces').value") == ["shop"]
    assert page.errors() == []


@needs_chromium
def test_a_page_of_two_hundred_workloads_loads(browser: Browser, two_hundred_workloads: Network,
                                              tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    to_html(two_hundred_workloads, path)
    page = open_page(browser, path)
    assert page.errors() == []
    counts: Any = page.evaluate("['namespace', 'workload', 'pod'].filter(l => "
                                "reachModel('nodes-' + l)).map(l => "
                                "reachModel('nodes-' + l).data.x.length)")
    assert counts and all(c > 10 for c in counts)
