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
from reach.render._source import as_graph
from reach.render.dot import _is_graph, scene_to_dot
from reach.render.scene import Scene, build_scene, iter_kinds
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
_TIMEOUT = 120  # seconds Graphviz may take


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
    title: str = "",
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
    by, focus, hops, highlight, collapse, summarize, services, title
        As for :func:`reach.render.to_dot`.

    Raises
    ------
    reach.errors.RenderError
        No engine allowed can draw the format, or Graphviz failed.
    """
    fmt, path = _format_of(target)
    chosen = choose_engine(fmt, engine)
    net = None if _is_graph(source) else source
    graph = as_graph(source, by=by, services=services)
    scene = build_scene(graph, focus=focus, hops=hops, highlight=highlight, collapse=collapse,
                        summarize_edges=summarize, title=title, net=net)
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
# the matplotlib painter

_XGAP = 2.6  # inches between layers
_YGAP = 0.8  # inches between rows
_FONT = 8.0  # points
_BAND_TOP = 0.3  # room for the namespace's name
_BAND_BOTTOM = 0.05


def _text_size(text: str, font: float = _FONT) -> tuple[float, float]:
    """Approximate width and height (inches) of a text box."""
    lines = text.split("\n")
    width = max(len(line) for line in lines) * font * 0.48 / 72 + 0.14
    height = len(lines) * font * 1.3 / 72 + 0.14
    return width, height


def _layers(scene: Scene) -> dict[str, int]:
    """Layer of each node: longest path from a source in the graph of strong components.

    Edges towards outside addresses do not count, so the outside stays on the left.
    """
    import networkx as nx

    outside = {n.id for n in scene.nodes if n.kind in ("External", "Internet")}
    g = nx.DiGraph()
    g.add_nodes_from(n.id for n in scene.nodes)
    for e in scene.edges:
        if not e.both and e.dst not in outside:
            g.add_edge(e.src, e.dst)
    cond = nx.condensation(g)
    layer: dict[str, int] = {}
    for depth, generation in enumerate(nx.topological_generations(cond)):
        for comp in generation:
            for member in cond.nodes[comp]["members"]:
                layer[member] = depth
    return layer


def _rows(members: list[Any], layer: dict[str, int], preds: dict[str, list[str]]) -> dict[str, int]:
    """Rows within a band: a node sits in its predecessor's row when that row is free.

    An edge that jumps over layers within a row would run through the nodes between,
    so those cells are kept free (and a node whose straight edge would cross a node
    takes another row).
    """
    occupied: set[tuple[int, int]] = set()
    crossed: set[tuple[int, int]] = set()
    row_of: dict[str, int] = {}
    for n in sorted(members, key=lambda n: layer[n.id]):
        here = layer[n.id]
        mine = [p for p in preds.get(n.id, []) if p in row_of]
        wanted = list(dict.fromkeys(row_of[p] for p in mine))
        for r in [*wanted, *range(len(members) + 1)]:
            if (here, r) in occupied or (here, r) in crossed:
                continue
            if any(
                (between, r) in occupied
                for p in mine if row_of[p] == r
                for between in range(layer[p] + 1, here)
            ):
                continue
            break
        row_of[n.id] = r
        occupied.add((here, r))
        for p in mine:
            if row_of[p] == r:
                crossed.update((between, r) for between in range(layer[p] + 1, here))
    return row_of


def _layout(scene: Scene) -> tuple[dict[str, tuple[float, float]], list[tuple[str, float, float]]]:
    """Node centres (inches) and namespace bands as (namespace, top, bottom)."""
    layer = _layers(scene)
    bands = ["", *scene.namespaces()]
    band_of = {n.id: n.namespace for n in scene.nodes}
    preds: dict[str, list[str]] = {}
    for e in scene.edges:
        if band_of[e.src] == band_of[e.dst]:
            if layer[e.src] < layer[e.dst]:
                preds.setdefault(e.dst, []).append(e.src)
            elif layer[e.dst] < layer[e.src]:
                preds.setdefault(e.src, []).append(e.dst)
    pos: dict[str, tuple[float, float]] = {}
    spans: list[tuple[str, float, float]] = []
    y = 0.0
    for ns in bands:
        members = [n for n in scene.nodes if n.namespace == ns]
        if not members:
            continue
        top = y
        y -= _BAND_TOP if ns else 0.0
        tallest = max(_text_size(n.text)[1] for n in members)
        step = max(_YGAP, tallest + 0.3)
        row_of = _rows(members, layer, preds)
        for n in members:
            pos[n.id] = (layer[n.id] * _XGAP, y - step / 2 - row_of[n.id] * step)
        y -= (max(row_of.values()) + 1) * step + (_BAND_BOTTOM if ns else 0.0)
        spans.append((ns, top, y))
        y -= 0.2
    return pos, spans


def _clip(centre: tuple[float, float], toward: tuple[float, float],
          size: tuple[float, float]) -> tuple[float, float]:
    """Where the segment from ``centre`` to ``toward`` leaves a box of ``size``."""
    (cx, cy), (tx, ty) = centre, toward
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return centre
    w, h = size[0] / 2 + 0.04, size[1] / 2 + 0.04
    t = min(w / abs(dx) if dx else math.inf, h / abs(dy) if dy else math.inf)
    t = min(t, 0.45)
    return cx + t * dx, cy + t * dy


def draw_scene(scene: Scene) -> Any:
    """A ``matplotlib.figure.Figure`` of the scene (inches as data units)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    pos, spans = _layout(scene)
    sizes = {n.id: _text_size(n.text) for n in scene.nodes}
    if pos:
        xs = [x for x, _ in pos.values()]
        left = min(xs) - max(w for w, _ in sizes.values()) / 2 - 0.6
        right = max(xs) + max(w for w, _ in sizes.values()) / 2 + 0.6
        bottom = min(b for _, _, b in spans) - 0.9
    else:
        left, right, bottom = -1.0, 1.0, -1.0
    top = 0.6 if scene.title else 0.3
    width, height = min(right - left, 60.0), min(top - bottom, 60.0)
    fig = Figure(figsize=(max(width, 3.0), max(height, 2.0)))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(left, left + max(width, 3.0))
    ax.set_ylim(top - max(height, 2.0), top)
    ax.set_axis_off()
    if scene.title:
        ax.text(left + 0.2, top - 0.25, scene.title, fontsize=11, va="center", weight="bold")
    if scene.caption:
        ax.text(left + 0.2, bottom + 0.55, scene.caption, fontsize=7, va="center",
                color="#475569")
    if not scene.nodes:
        ax.text((left + right) / 2, -0.3, "(nothing to draw)", ha="center", fontsize=10)

    for ns, band_top, band_bottom in spans:
        if not ns:
            continue
        ax.add_patch(FancyBboxPatch((left + 0.15, band_bottom), right - left - 0.3,
                                    band_top - band_bottom,
                                    boxstyle="round,pad=0,rounding_size=0.1",
                                    fc=CLUSTER_FILL, ec=CLUSTER_LINE, lw=1, zorder=0))
        ax.text(left + 0.3, band_top - 0.17, ns, fontsize=9, va="center", color="#334155",
                weight="bold", zorder=1)

    for n in scene.nodes:
        style = style_of(n.kind)
        x, y = pos[n.id]
        colour = HIGHLIGHT if n.highlighted else style.line
        lw = 2.5 if n.highlighted or n.focused else 1.0
        linestyle = "--" if "dashed" in style.style else "-"
        ax.text(x, y, n.text, ha="center", va="center", fontsize=_FONT,
                zorder=4, bbox={"boxstyle": f"{style.box},pad=0.3", "fc": style.fill,
                                "ec": colour, "lw": lw, "ls": linestyle})

    draw_labels = len(scene.edges) <= 80
    for e in scene.edges:
        a, b = pos[e.src], pos[e.dst]
        start, end = _clip(a, b, sizes[e.src]), _clip(b, a, sizes[e.dst])
        colour = HIGHLIGHT if e.highlighted else EDGE
        arrow = FancyArrowPatch(start, end, arrowstyle="<|-|>" if e.both else "-|>",
                                mutation_scale=9, lw=2.5 if e.highlighted else 0.8,
                                color=colour, connectionstyle="arc3,rad=0.08", zorder=2)
        ax.add_patch(arrow)
        if draw_labels and e.label:
            mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
            ax.text(mx, my, e.label, fontsize=6.5, color=colour, ha="center", va="center",
                    zorder=3, bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                    "alpha": 0.85})

    handles = [Patch(fc=style_of(k).fill, ec=style_of(k).line, label=style_of(k).legend)
               for k in iter_kinds(scene)]
    if handles:
        ax.legend(handles=handles, loc="lower left", ncol=min(len(handles), 6), fontsize=7,
                  frameon=False, handlelength=1.2, bbox_to_anchor=(0.0, 0.0))
    return fig


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
    return figure_bytes(draw_scene(scene), fmt)
