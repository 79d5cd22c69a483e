"""Jupyter display: objects that show themselves, and never raise while doing it.

:func:`view` wraps a diagram and :func:`matrix_view` a heatmap in objects with
``_repr_svg_``; :func:`network_html` is the summary table a
:class:`~reach.network.Network` shows. A display method that fails shows the error
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
from typing import TYPE_CHECKING, Any

from reach.render.image import figure_bytes, render

if TYPE_CHECKING:
    from reach.network import Network

__all__ = ["GraphView", "MatrixView", "matrix_view", "network_html", "view"]


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
            return self.svg()
        except Exception as exc:  # a display method never raises
            return _error_svg("the diagram", exc)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        return f"<GraphView {opts}>" if opts else "<GraphView>"


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
            return self.svg()
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


# ---------------------------------------------------------------------------
# the summary table of a Network


def network_html(net: Network) -> str:
    """An HTML summary of an analysed network: totals, then one row per namespace.

    Never raises: on error the table says what went wrong.
    """
    try:
        return _network_html(net)
    except Exception as exc:  # a display method never raises
        return f"<pre>{html.escape(repr(net))}\n{html.escape(type(exc).__name__)}: " \
               f"{html.escape(str(exc))}</pre>"


def _network_html(net: Network) -> str:
    c = net.cluster
    compiled = net.compiled
    rows: dict[str, dict[str, int]] = {}

    def row(ns: str) -> dict[str, int]:
        return rows.setdefault(ns, {"pods": 0, "workloads": 0, "services": 0, "policies": 0,
                                    "ingress": 0, "egress": 0})

    for namespace in c.namespaces:
        row(namespace.name)
    workloads: set[tuple[str, str, str]] = set()
    for i, pod in enumerate(net.pods):
        r = row(pod.namespace)
        r["pods"] += 1
        workloads.add((pod.namespace, pod.workload_kind, pod.workload_name))
        cls = int(compiled.pod_class[i])
        r["ingress"] += int(bool(compiled.ingress_isolated[cls]))
        r["egress"] += int(bool(compiled.egress_isolated[cls]))
    for owner, _, _ in workloads:
        row(owner)["workloads"] += 1
    for svc in c.services:
        row(svc.namespace)["services"] += 1
    for policy in c.policies:
        row(policy.namespace)["policies"] += 1
    cell = 'style="padding: 2px 8px; text-align: right"'
    head = 'style="padding: 2px 8px; text-align: left"'
    columns = ("pods", "workloads", "services", "policies", "ingress", "egress")
    titles = ("pods", "workloads", "services", "policies", "ingress-isolated pods",
              "egress-isolated pods")
    body = "".join(
        f"<tr><th {head}>{html.escape(ns)}</th>"
        + "".join(f"<td {cell}>{rows[ns][k]}</td>" for k in columns) + "</tr>"
        for ns in sorted(rows)
    )
    total = "".join(f"<td {cell}><b>{sum(r[k] for r in rows.values())}</b></td>" for k in columns)
    warnings = [d for d in net.warnings if d.severity != "info"]
    notes = ""
    if warnings:
        items = "".join(f"<li>{html.escape(str(d))}</li>" for d in warnings[:20])
        more = f"<li>... and {len(warnings) - 20} more</li>" if len(warnings) > 20 else ""
        notes = f"<p><b>{len(warnings)} warning(s)</b></p><ul>{items}{more}</ul>"
    return (
        f"<div><p><b>reach Network</b>: {len(rows)} namespaces, {len(net.pods)} pods, "
        f"{len(c.policies)} policies, {compiled.n_classes} equivalence classes</p>"
        f"<table><thead><tr><th {head}>namespace</th>"
        + "".join(f"<th {cell}>{t}</th>" for t in titles)
        + f"</tr></thead><tbody>{body}<tr><th {head}>total</th>{total}</tr></tbody></table>"
        f"{notes}</div>"
    )
