"""The notebooks: committed without outputs, and fast.

pytest itself runs them with nbmake (``notebooks`` is in ``testpaths``);
``REACH_TIME_NOTEBOOKS=1`` runs them once more, together, and checks they take
under a minute.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from browser import Browser, chromium

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_at_least_three_notebooks() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert {"01-quick-start", "02-what-if", "03-attack-paths"} <= set(names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    book = json.loads(path.read_text())
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{path.name} has outputs: clear them (jupyter nbconvert --clear-output "
                "--inplace notebooks/*.ipynb)"
            )



# ---------------------------------------------------------------------------
# what the notebooks show: diagrams that fit the cell


@pytest.fixture(scope="module")
def executed() -> dict[str, Any]:
    """Notebooks 01 and 03 run top to bottom on a fresh kernel, with their outputs."""
    import nbformat
    from nbclient import NotebookClient

    out = {}
    for name in ("01-quick-start", "03-attack-paths"):
        book = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        NotebookClient(book, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
        out[name] = book
    return out


def outputs(book: Any, mime: str) -> list[tuple[str, str]]:
    """(cell source, output data) for every output of type ``mime``."""
    return [("".join(cell.source), out["data"][mime]) for cell in book.cells
            if cell.cell_type == "code" for out in cell.get("outputs", [])
            if mime in out.get("data", {})]


def test_diagrams_are_responsive_svg(executed: dict[str, Any]) -> None:
    svgs = [svg for book in executed.values() for _, svg in outputs(book, "image/svg+xml")]
    assert len(svgs) >= 7  # two heatmaps and two diagrams in 01, three diagrams in 03
    for svg in svgs:
        head = svg[svg.index("<svg"):svg.index(">", svg.index("<svg"))]
        assert 'width="100%"' in head and "viewBox" in head and "max-width" in head, head
    pages = [html for book in executed.values() for _, html in outputs(book, "text/html")
             if "<iframe" in html]
    assert pages and all("width:100%" in p for p in pages)


def test_notebook_03_shows_the_path_diagram(executed: dict[str, Any]) -> None:
    shown = dict(outputs(executed["03-attack-paths"], "image/svg+xml"))
    path = shown["shortest = found.paths[0]\nrender.view(net, highlight=shortest)"]
    assert "#d62728" in path.lower() and "prometheus" in path


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed")
def test_every_diagram_fits_a_1000_pixel_cell_in_a_browser(executed: dict[str, Any],
                                                           tmp_path: Path) -> None:
    """Rendered in a 1,000-pixel column, no diagram is wider than it, none is cut."""
    items = [svg for book in executed.values() for _, svg in outputs(book, "image/svg+xml")]
    items += [html for book in executed.values() for _, html in outputs(book, "text/html")
              if "<iframe" in html]
    def bare(item: str) -> str:  # an SVG document without its XML prologue
        return item if item.startswith("<iframe") else item[item.index("<svg"):]

    body = "".join(f'<div class="cell">{bare(item)}</div>' for item in items)
    page = tmp_path / "cells.html"
    page.write_text("<!DOCTYPE html><html><body style='margin:0'>"
                    "<div id='column' style='width:1000px'>" + body + "</div></body></html>")
    browser = Browser(str(chromium()))
    try:
        tab = browser.page(width=1400, height=900)
        tab.goto(page.as_uri())
        widths = tab.evaluate("""[...document.querySelectorAll('.cell')].map(c => {
            const el = c.querySelector('svg, iframe');
            const r = el.getBoundingClientRect();
            return [r.width, r.height, c.scrollWidth];
        })""")
    finally:
        browser.close()
    assert len(widths) == len(items)
    for (width, height, scroll), item in zip(widths, items, strict=True):
        assert 0 < width <= 1000 and scroll <= 1000 and height > 50, item[:200]
