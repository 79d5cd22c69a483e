"""Diagrams as pictures: PNG, SVG (and PDF) through Graphviz, or through matplotlib.

The ``graphviz`` engine pipes the DOT text of :mod:`reach.render.dot` into Graphviz's
``dot`` program, which draws the best pictures. When ``dot`` is not on the PATH the
``matplotlib`` engine paints the same scene itself: endpoints flow left to right by
layer (sources first), namespaces are horizontal bands, each kind keeps its colour.
Only matplotlib's object API is used (``Figure`` and the Agg canvas, never pyplot).

The engine is chosen by the ``engine`` argument, else the ``REACH_RENDER_ENGINE``
environment variable, else ``auto`` (Graphviz when installed).

Examples
--------
>>> import networkx as nx
>>> from reach.endpoints import Endpoint
>>> g = nx.DiGraph()
>>> g.add_edge(Endpoint("Deployment", "shop", "web"), Endpoint("StatefulSet", "shop", "db"))
>>> render(g, "svg", engine="matplotlib")[:5]
b'<?xml'
>>> render(g, "gif", engine="matplotlib")
Traceback (most recent call last):
...
reach.errors.RenderError: the matplotlib engine cannot draw gif (it draws pdf, png, svg)
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from reach.errors import RenderError
from reach.render.detail import DEFAULT_BUDGET, Budget, plan
from reach.render.dot import scene_to_dot
from reach.render.layout import BOX_FONT, EDGE_FONT, NODE_FONT, Layout, Rect, layout
from reach.render.scene import Scene
from reach.render.style import CLUSTER_FILL, CLUSTER_LINE, EDGE, HIGHLIGHT, style_of

__all__ = [
    "ENGINES",
    "GRAPHVIZ_FORMATS",
    "MATPLOTLIB_FORMATS",
    "choose_engine",
    "render",
    "render_scene",
]

ENGINES = ("auto", "graphviz", "matplotlib")
GRAPHVIZ_FORMATS = ("dot", "gif", "jpg", "pdf", "png", "svg")
MATPLOTLIB_FORMATS = ("dot", "pdf", "png", "svg")
ENGINE_VARIABLE = "REACH_RENDER_ENGINE"
_TIMEOUT = 60  # seconds Graphviz may take (it only draws: the layout is made here)
_DPI = 144  # matplotlib PNGs at twice the screen resolution, like Graphviz's


def graphviz_available() -> bool:
    """Whether Graphviz's ``dot`` program is on the PATH."""
    return shutil.which("dot") is not None


def choose_engine(fmt: str, engine: str | None = None) -> str:
    """The engine that will draw ``fmt``: ``graphviz`` or ``matplotlib``.

    Raises :class:`~reach.errors.RenderError` when no engine allowed can draw it.
    """
    wanted = (engine or os.environ.get(ENGINE_VARIABLE) or "auto").lower()
    if wanted not in ENGINES:
        raise RenderError(f"unknown engine {wanted!r}; choose one of {', '.join(ENGINES)}")
    if wanted == "graphviz":
        if not graphviz_available():
            raise RenderError("the graphviz engine needs Graphviz's dot program on the PATH "
                              "(apt-get install graphviz, brew install graphviz)")
        if fmt not in GRAPHVIZ_FORMATS:
            raise RenderError(f"the graphviz engine cannot draw {fmt} "
                              f"(it draws {', '.join(GRAPHVIZ_FORMATS)})")
        return "graphviz"
    if wanted == "matplotlib":
        if fmt not in MATPLOTLIB_FORMATS:
            raise RenderError(f"the matplotlib engine cannot draw {fmt} "
                              f"(it draws {', '.join(MATPLOTLIB_FORMATS[1:])})")
        return "matplotlib"
    if graphviz_available() and fmt in GRAPHVIZ_FORMATS:
        return "graphviz"
    if fmt in MATPLOTLIB_FORMATS:
        return "matplotlib"
    if fmt in GRAPHVIZ_FORMATS:
        raise RenderError(f"{fmt} needs Graphviz's dot program, which is not on the PATH; "
                          f"without it reach draws {', '.join(MATPLOTLIB_FORMATS)}")
    raise RenderError(f"cannot draw {fmt!r}; formats: {', '.join(GRAPHVIZ_FORMATS)}")


def _format_of(target: str | os.PathLike[str]) -> tuple[str, Path | None]:
    text = os.fspath(target)
    if "." not in text and os.sep not in text and "/" not in text:
        return text.lower(), None
    path = Path(text)
    suffix = path.suffix.lower().lstrip(".")
    if not suffix:
        raise RenderError(f"cannot tell the format of {text!r}: give it a suffix "
                          "such as .png, .svg or .dot")
    return {"jpeg": "jpg", "gv": "dot"}.get(suffix, suffix), path


def render(
    source: Any,
    target: str | os.PathLike[str] = "svg",
    *,
    engine: str | None = None,
    by: str = "workload",
    focus: Any = None,
    hops: int = 1,
    highlight: Any = None,
    collapse: bool = True,
    summarize: bool = True,
    services: bool = True,
    bundle: bool = True,
    title: str = "",
    budget: Budget = DEFAULT_BUDGET,
) -> bytes:
    """Draw a reachability diagram; return its bytes and write them when given a path.

    Parameters
    ----------
    source
        A :class:`~reach.network.Network` or a reachability ``networkx.DiGraph``.
    target
        A format (``"png"``, ``"svg"``, ``"dot"``, ``"pdf"``) or a file path whose
        suffix says the format.
    engine
        ``"auto"`` (Graphviz when installed, else matplotlib), ``"graphviz"`` or
        ``"matplotlib"``; default: ``$REACH_RENDER_ENGINE`` or ``"auto"``.
    by, focus, hops, highlight, collapse, summarize, services, bundle, title, budget
        As for :func:`reach.render.to_dot`.

    Raises
    ------
    reach.errors.RenderError
        No engine allowed can draw the format, Graphviz failed, or there is nothing
        to draw.
    """
    fmt, path = _format_of(target)
    chosen = choose_engine(fmt, engine)
    scene = plan(source, by, focus=focus, hops=hops, highlight=highlight, collapse=collapse,
                 summarize=summarize, services=services, bundle=bundle, title=title,
                 budget=budget)
    data = render_scene(scene, fmt, chosen)
    if path is not None:
        path.write_bytes(data)
    return data


def render_scene(scene: Scene, fmt: str, engine: str) -> bytes:
    """Draw a scene with an engine already chosen (see :func:`choose_engine`)."""
    if fmt == "dot":
        return scene_to_dot(scene).encode()
    if engine == "graphviz":
        return _graphviz(scene_to_dot(scene), fmt)
    return _matplotlib(scene, fmt)


def _graphviz(dot_text: str, fmt: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise RenderError("Graphviz's dot program is not on the PATH")
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True,
                              timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz took more than {_TIMEOUT}s; try --by namespace or "
                          "--focus") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        raise RenderError(f"Graphviz could not draw the diagram: {message}")
    return done.stdout


# ---------------------------------------------------------------------------
# the matplotlib painter: draws the shared layout (reach.render.layout), points as units

_FADE = 0.22  # opacity of what is not on a highlighted path


def _shape(shape: str, r: Rect, **style: Any) -> list[Any]:
    """Patches that draw Graphviz's ``shape`` inside ``r`` (y grows downwards)."""
    from matplotlib.patches import Ellipse, FancyBboxPatch, Polygon

    x, y, w, h = r.x, r.y, r.w, r.h
    if shape == "hexagon":
        d = min(11.0, w / 4)
        return [Polygon([(x, y + h / 2), (x + d, y), (x + w - d, y), (x + w, y + h / 2),
                         (x + w - d, y + h), (x + d, y + h)], closed=True, **style)]
    if shape == "doubleoctagon":
        d = min(w, h) * 0.28

        def octagon(inset: float, **look: Any) -> Any:
            a, b, c, e = x + inset, y + inset, x + w - inset, y + h - inset
            return Polygon([(a + d, b), (c - d, b), (c, b + d), (c, e - d), (c - d, e),
                            (a + d, e), (a, e - d), (a, b + d)], closed=True, **look)

        return [octagon(0.0, **style), octagon(3.0, **dict(style, facecolor="none"))]
    if shape == "cylinder":
        d = min(7.0, h / 4)
        body = FancyBboxPatch((x, y + d / 2), w, h - d, boxstyle="square,pad=0", **style)
        top = Ellipse((x + w / 2, y + d / 2), w, d, **style)
        bottom = Ellipse((x + w / 2, y + h - d / 2), w, d, **style)
        return [bottom, body, top]
    if shape == "invhouse":
        d = min(8.0, h / 3)
        return [Polygon([(x, y), (x + w, y), (x + w, y + h - d), (x + w / 2, y + h),
                         (x, y + h - d)], closed=True, **style)]
    if shape == "note":
        d = min(8.0, h / 3)
        return [Polygon([(x, y), (x + w - d, y), (x + w, y + d), (x + w, y + h), (x, y + h)],
                        closed=True, **style)]
    if shape == "box3d":
        d = 4.0
        back = Polygon([(x + d, y), (x + w, y), (x + w, y + h - d), (x + w - d, y + h - d),
                        (x + w - d, y + d), (x + d, y + d)], closed=True, **style)
        front = FancyBboxPatch((x, y + d), w - d, h - d, boxstyle="square,pad=0", **style)
        return [back, front]
    if shape == "folder":
        tab = Polygon([(x + 4, y + 5), (x + 6, y), (x + w / 3, y), (x + w / 3 + 2, y + 5)],
                      closed=True, **style)
        body = FancyBboxPatch((x, y + 5), w, h - 5, boxstyle="square,pad=0", **style)
        return [tab, body]
    if shape == "ellipse":
        return [Ellipse((x + w / 2, y + h / 2), w, h, **style)]
    rounding = "round,pad=0,rounding_size=6" if "rounded" in style.pop("_graphviz", "") \
        else "square,pad=0"
    return [FancyBboxPatch((x, y), w, h, boxstyle=rounding, **style)]


def _node_patches(kind: str, r: Rect, *, highlighted: bool, focused: bool,
                  alpha: float) -> list[Any]:
    look = style_of(kind)
    style: dict[str, Any] = {
        "facecolor": look.fill, "edgecolor": HIGHLIGHT if highlighted else look.line,
        "linewidth": 2.4 if highlighted or focused else 1.0,
        "linestyle": "--" if "dashed" in look.style else "-", "alpha": alpha, "zorder": 4,
        "_graphviz": look.style,
    }
    if look.shape != "box":
        style.pop("_graphviz")
    return _shape(look.shape, r, **style)


def draw_layout(page: Layout) -> Any:
    """A ``matplotlib.figure.Figure`` of a laid-out scene, exactly the page's size."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, Polygon

    fig = Figure(figsize=(page.width / 72, page.height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, page.width)
    ax.set_ylim(page.height, 0)
    ax.set_axis_off()
    faded = page.scene.faded
    dim = _FADE if faded else 1.0

    for box in page.boxes:
        r = box.rect
        ax.add_patch(FancyBboxPatch((r.x, r.y), r.w, r.h,
                                    boxstyle="round,pad=0,rounding_size=8", fc=CLUSTER_FILL,
                                    ec=CLUSTER_LINE, lw=1.0, zorder=0))
        ax.text(box.title[0], box.title[1], box.namespace, fontsize=BOX_FONT, va="center",
                ha="left", color="#334155", weight="bold", zorder=1)

    for placed in page.nodes.values():
        n = placed.node
        on_path = n.highlighted or not faded
        for patch in _node_patches(n.kind, placed.rect, highlighted=n.highlighted,
                                   focused=n.focused, alpha=1.0 if on_path else dim):
            ax.add_patch(patch)
        ax.text(placed.rect.cx, placed.rect.cy, n.text, ha="center", va="center",
                fontsize=NODE_FONT, linespacing=1.1, zorder=5,
                color="#0f172a" if on_path else "#94a3b8")

    for e in sorted(page.edges, key=lambda e: e.edge.highlighted):
        on_path = e.edge.highlighted or not faded
        colour = HIGHLIGHT if e.edge.highlighted else EDGE
        alpha = 1.0 if on_path else dim
        width = 2.4 if e.edge.highlighted else 0.9
        z = 3 if e.edge.highlighted else 2
        xs, ys = zip(*e.points, strict=True)
        ax.plot(xs, ys, color=colour, lw=width, alpha=alpha, zorder=z,
                solid_joinstyle="round", solid_capstyle="butt")
        heads = [(e.points[-2], e.points[-1])]
        if e.edge.both:
            heads.append((e.points[1], e.points[0]))
        for (px, py), (qx, qy) in heads:
            length = math.hypot(qx - px, qy - py) or 1.0
            ux, uy = (qx - px) / length, (qy - py) / length
            size = 7.0 if e.edge.highlighted else 6.0
            base = (qx - ux * size, qy - uy * size)
            ax.add_patch(Polygon([(qx, qy), (base[0] - uy * size / 2.4, base[1] + ux * size / 2.4),
                                  (base[0] + uy * size / 2.4, base[1] - ux * size / 2.4)],
                                 closed=True, fc=colour, ec=colour, lw=0.5, alpha=alpha,
                                 zorder=z))
        if e.label is not None:
            ax.text(e.label.cx, e.label.cy, e.text, fontsize=EDGE_FONT, ha="center",
                    va="center", color=colour, alpha=alpha, zorder=6, linespacing=1.0,
                    bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none",
                          "alpha": 0.85 * alpha})

    for t in page.texts:
        ax.text(t.x, t.y, "\n".join(t.lines), fontsize=t.size, va="top", ha="left",
                weight="bold" if t.bold else "normal", linespacing=1.15,
                color="#0f172a" if t.role == "title" else "#475569", zorder=7)
    for item in page.legend:
        for patch in _node_patches(item.kind, item.swatch, highlighted=False, focused=False,
                                   alpha=1.0):
            ax.add_patch(patch)
        ax.text(item.at[0], item.at[1], item.text, fontsize=page.legend_font, va="center",
                ha="left", color="#334155", zorder=7)
    return fig


def draw_scene(scene: Scene) -> Any:
    """A ``matplotlib.figure.Figure`` of the scene (see :func:`draw_layout`)."""
    return draw_layout(layout(scene))


def figure_bytes(fig: Any, fmt: str, dpi: int = 100) -> bytes:
    """Save a Figure to bytes through the Agg canvas (no pyplot, no global state)."""
    import io

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if fmt not in ("pdf", "png", "svg"):
        raise RenderError(f"matplotlib cannot save {fmt}")
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"png": {"Software": None}, "svg": {"Date": None},
                                "pdf": {"CreationDate": None}}[fmt]
    with matplotlib.rc_context({"svg.hashsalt": "reach", "svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
    return buffer.getvalue()


def _matplotlib(scene: Scene, fmt: str) -> bytes:
    return figure_bytes(draw_scene(scene), fmt, dpi=_DPI)
