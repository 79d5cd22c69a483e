"""Jupyter display: objects that show themselves, and never raise while doing it.

:func:`view` wraps a diagram and :func:`matrix_view` a heatmap in objects with
``_repr_svg_``; the SVG they show is :func:`responsive`, so it fits the width of the
cell (a wide cluster is scaled down, never cut off). :func:`reach.render.interactive`
shows the interactive page inline. A display method that fails shows the error
text instead of raising, so one bad cell never breaks a notebook.

Examples
--------
>>> import networkx as nx
>>> from reach.endpoints import Endpoint
>>> g = nx.DiGraph()
>>> g.add_edge(Endpoint("Deployment", "shop", "web"), Endpoint("StatefulSet", "shop", "db"))
>>> v = view(g, engine="matplotlib")
>>> v._repr_svg_().startswith("<?xml")
True
>>> "could not draw" in view(g, focus="shop/nothing")._repr_svg_()
True
"""

from __future__ import annotations

import html
import os
import re
from typing import Any

from reach.render.image import figure_bytes, render

__all__ = ["GraphView", "MatrixView", "matrix_view", "responsive", "view"]


def _error_svg(what: str, exc: BaseException) -> str:
    """A small SVG that shows an error message, line by line."""
    lines = [f"reach could not draw {what}:", f"{type(exc).__name__}: {exc}"]
    lines = [chunk for line in lines for chunk in (line[i:i + 100] for i in
             range(0, max(len(line), 1), 100))][:12]
    height = 22 * len(lines) + 16
    texts = "".join(
        f'<text x="10" y="{24 + 22 * i}" font-family="monospace" font-size="13" '
        f'fill="#b91c1c">{html.escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="820" height="{height}">'
            f'<rect width="100%" height="100%" fill="#fef2f2"/>{texts}</svg>')


class GraphView:
    """A reachability diagram that shows itself in Jupyter (as SVG).

    Built by :func:`view`; ``to_dot()``, ``svg()``, ``png()`` and ``save(path)`` give
    the diagram in other forms. The drawing is made once and kept.
    """

    def __init__(self, source: Any, *, engine: str | None = None, **options: Any) -> None:
        self.source = source
        self.engine = engine
        self.options = options
        self._svg: str | None = None
        self._shown: str | None = None

    def to_dot(self) -> str:
        return render(self.source, "dot", engine=self.engine, **self.options).decode()

    def svg(self) -> str:
        if self._svg is None:
            self._svg = render(self.source, "svg", engine=self.engine, **self.options).decode()
        return self._svg

    def png(self) -> bytes:
        return render(self.source, "png", engine=self.engine, **self.options)

    def save(self, path: str | os.PathLike[str]) -> bytes:
        """Write the diagram to ``path`` (format from the suffix)."""
        return render(self.source, path, engine=self.engine, **self.options)

    def _repr_svg_(self) -> str:
        try:
            if self._shown is None:
                self._shown = responsive(self.svg())
            return self._shown
        except Exception as exc:  # a display method never raises
            return _error_svg("the diagram", exc)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        return f"<GraphView {opts}>" if opts else "<GraphView>"


_SIZE = re.compile(r'(<svg\b[^>]*?)\s(width|height)="([0-9.]+)(pt|px)?"')


def responsive(svg: str) -> str:
    """The SVG scaled to the width of its cell: ``width="100%"``, never wider than drawn.

    The ``viewBox`` keeps the proportions; ``max-width`` keeps a small diagram from
    being blown up.

    >>> responsive('<svg width="800pt" height="200pt" viewBox="0 0 800 200"></svg>')
    '<svg width="100%" style="max-width: 800pt; height: auto" viewBox="0 0 800 200"></svg>'
    """
    sizes: dict[str, str] = {}

    def drop(match: re.Match[str]) -> str:
        sizes[match.group(2)] = match.group(3) + (match.group(4) or "px")
        return match.group(1)

    head_end = svg.find(">", svg.find("<svg"))
    head, rest = svg[: head_end], svg[head_end:]
    while True:
        new = _SIZE.sub(drop, head, count=1)
        if new == head:
            break
        head = new
    if "width" not in sizes or "viewBox" not in head:
        return svg
    at = head.find("<svg") + 4
    style = f' width="100%" style="max-width: {sizes["width"]}; height: auto"'
    return head[:at] + style + head[at:] + rest


class MatrixView:
    """A reachability heatmap (:func:`reach.render.matrix.matrix`) that shows itself."""

    def __init__(self, source: Any, by: str = "namespace", **options: Any) -> None:
        self.source = source
        self.by = by
        self.options = options
        self._figure: Any = None

    @property
    def figure(self) -> Any:
        """The ``matplotlib.figure.Figure``."""
        if self._figure is None:
            from reach.render.matrix import matrix

            self._figure = matrix(self.source, self.by, **self.options)
        return self._figure

    def svg(self) -> str:
        return figure_bytes(self.figure, "svg").decode()

    def png(self) -> bytes:
        return figure_bytes(self.figure, "png")

    def save(self, path: str | os.PathLike[str]) -> bytes:
        """Write the heatmap to ``path`` (``.png``, ``.svg`` or ``.pdf``)."""
        from pathlib import Path

        target = Path(path)
        data = figure_bytes(self.figure, target.suffix.lower().lstrip("."))
        target.write_bytes(data)
        return data

    def _repr_svg_(self) -> str:
        try:
            return responsive(self.svg())
        except Exception as exc:  # a display method never raises
            return _error_svg("the matrix", exc)

    def __repr__(self) -> str:
        return f"<MatrixView by={self.by!r}>"


def view(source: Any, *, engine: str | None = None, **options: Any) -> GraphView:
    """A diagram for notebooks; ``options`` are those of :func:`reach.render.render`."""
    return GraphView(source, engine=engine, **options)


def matrix_view(source: Any, by: str = "namespace", **options: Any) -> MatrixView:
    """A heatmap for notebooks; see :func:`reach.render.matrix`."""
    return MatrixView(source, by, **options)
