"""The matrix view: who reaches whom, as a heatmap, for the overview diagrams cannot give.

Rows are sources, columns destinations. Each cell says two things, kept apart:

* **pairs** (the colour): how many of the endpoint pairs the cell stands for may
  connect at all: ``none``, ``some`` or ``all`` of them. At ``by="namespace"`` a
  cell aggregates the workload pairs of the two namespaces and says how many are
  connected (``3/4``); at ``by="workload"`` or ``"pod"`` a cell is one pair, connected
  or not, and names the ports;
* **ports** (hatching): whether the connected pairs may use every port, or only some.

Outside addresses are one row and one column, ``outside``.

Examples
--------
>>> import networkx as nx
>>> from reach.endpoints import Endpoint
>>> from reach.engine.ports import PortSet
>>> g = nx.DiGraph()
>>> web, db = Endpoint("Deployment", "shop", "web"), Endpoint("StatefulSet", "data", "db")
>>> g.add_edge(web, db, ports=PortSet.single("TCP", 5432))
>>> m = matrix_data(g, by="workload")
>>> m.labels
('data/db', 'shop/web')
>>> m.levels.tolist(), m.ports.tolist(), m.cells[1][0]
([[-1, 0], [2, -1]], [[-1, 0], [1, -1]], 'TCP 5432')
>>> matrix_data(g, by="namespace").cells
(('—', '0/1'), ('1/1', '—'))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reach.engine.ports import PortSet
from reach.render._source import as_graph, edge_ports, node_kind, node_label, node_namespace
from reach.render.scene import port_label

__all__ = ["LEVELS", "Matrix", "matrix", "matrix_data"]

LEVELS = ("none", "some", "all")
_COLOURS = ("#eef2f7", "#86efac", "#15803d")  # no pair, some pairs, every pair connected
_OUTSIDE_KINDS = ("External", "Internet")
_SKIP_KINDS = ("Service", "IngressController")
OUTSIDE = "outside"


@dataclass(frozen=True, slots=True)
class Matrix:
    """Reachability between groups, cell by cell (-1: not applicable, no pair there).

    ``levels[i, j]``: how many of the pairs are connected, 0 none, 1 some, 2 all.
    ``ports[i, j]``: what the connected pairs may use, 0 nothing (no pair connected),
    1 some ports only (for at least one pair), 2 every port (for every connected pair).
    ``cells`` are the texts written in the cells, ``labels`` name rows and columns.
    """

    by: str
    labels: tuple[str, ...]
    levels: npt.NDArray[np.int8]
    cells: tuple[tuple[str, ...], ...]
    ports: npt.NDArray[np.int8]


def _member_key(graph: Any, node: Any) -> str:
    if node_kind(graph, node) in _OUTSIDE_KINDS:
        return OUTSIDE
    ns = node_namespace(graph, node)
    label = node_label(graph, node)
    return f"{ns}/{label}" if ns else label


def matrix_data(source: Any, by: str = "namespace") -> Matrix:
    """The numbers behind :func:`matrix` (``by``: ``namespace``, ``workload`` or ``pod``)."""
    if by not in ("namespace", "workload", "pod"):
        raise ValueError(f"by must be namespace, workload or pod, not {by!r}")
    graph = as_graph(source, by="workload" if by == "namespace" else by, services=False)
    members = [n for n in graph if node_kind(graph, n) not in _SKIP_KINDS]

    def group(node: Any) -> str:
        if by != "namespace" or node_kind(graph, node) in _OUTSIDE_KINDS:
            return _member_key(graph, node)
        if node_kind(graph, node) == "Namespace":
            return node_label(graph, node)
        return node_namespace(graph, node) or node_label(graph, node)

    groups: dict[str, list[Any]] = {}
    for n in members:
        groups.setdefault(group(n), []).append(n)
    labels = sorted(g for g in groups if g != OUTSIDE)
    if OUTSIDE in groups:
        labels.append(OUTSIDE)
    index = {g: i for i, g in enumerate(labels)}
    size = len(labels)
    levels = np.full((size, size), -1, dtype=np.int8)
    port_levels = np.full((size, size), -1, dtype=np.int8)
    cells = [["—"] * size for _ in range(size)]
    # Outside ranges count as one endpoint: the union of what any range sends or gets.
    unit = {g: (len(ms) if g != OUTSIDE else 1) for g, ms in groups.items()}
    pair_ports: dict[tuple[str, str], dict[tuple[Any, Any], PortSet]] = {}
    for a, b in graph.edges():
        if a == b or a not in groups.get(group(a), ()) or b not in groups.get(group(b), ()):
            continue
        key_a = a if group(a) != OUTSIDE else OUTSIDE
        key_b = b if group(b) != OUTSIDE else OUTSIDE
        ports = edge_ports(graph, a, b) or PortSet.all()
        pairs = pair_ports.setdefault((group(a), group(b)), {})
        pairs[(key_a, key_b)] = pairs.get((key_a, key_b), PortSet.none()) | ports
    for ga in labels:
        for gb in labels:
            total = unit[ga] * unit[gb] - (unit[ga] if ga == gb else 0)
            if total <= 0:
                continue
            found = pair_ports.get((ga, gb), {})
            connected = len(found)
            full = sum(1 for p in found.values() if p.is_all())
            i, j = index[ga], index[gb]
            levels[i, j] = 0 if not connected else 2 if connected == total else 1
            port_levels[i, j] = 0 if not connected else 2 if full == connected else 1
            if by == "namespace":
                cells[i][j] = f"{connected}/{total}"
            else:
                union = PortSet.none()
                for p in found.values():
                    union = union | p
                cells[i][j] = port_label(union).replace("\n", ",") if connected else ""
    return Matrix(by, tuple(labels), levels, tuple(tuple(row) for row in cells), port_levels)


def matrix(source: Any, by: str = "namespace", *, title: str = "", annotate: bool | None = None
           ) -> Any:
    """A heatmap (``matplotlib.figure.Figure``) of who reaches whom.

    Parameters
    ----------
    source
        A :class:`~reach.network.Network` or a reachability ``networkx.DiGraph``.
    by
        ``namespace`` (cells count connected workload pairs), ``workload`` or ``pod``
        (cells name the ports).
    title
        A caption; a default one says what the cells mean.
    annotate
        Write the cell texts; default: when there are at most 30 rows.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    data = matrix_data(source, by)
    n = len(data.labels)
    longest = max((len(label) for label in data.labels), default=4)
    margin = 0.6 + longest * 0.065
    side = min(max(3.0, 0.42 * n), 40.0)
    fig = Figure(figsize=(side + margin + 0.4, side + margin + 0.8), layout="constrained")
    ax = fig.add_subplot()
    cmap = ListedColormap(list(_COLOURS)).with_extremes(bad="#ffffff")
    shown = np.ma.masked_less(data.levels.astype(float), 0)
    ax.imshow(shown, cmap=cmap, vmin=0, vmax=2, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(n), data.labels, rotation=60, ha="left", fontsize=8)
    ax.set_yticks(range(n), data.labels, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_xlabel("to", fontsize=9)
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("from", fontsize=9)
    ax.set_xticks(np.arange(-0.5, n, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    hatch = [(j, i) for i in range(n) for j in range(n) if data.ports[i, j] == 1]
    for x, y in hatch:  # some ports only: hatched over the colour of the pairs
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="////",
                               edgecolor="#1e293b", linewidth=0, alpha=0.45))
    if annotate is None:
        annotate = n <= 30
    if annotate:
        for i in range(n):
            for j in range(n):
                text = data.cells[i][j]
                if len(text) > 14:
                    text = text[:13] + "…"
                colour = "white" if data.levels[i, j] == 2 else "#1f2937"
                ax.text(j, i, text, ha="center", va="center", fontsize=6.5, color=colour,
                        bbox={"boxstyle": "square,pad=0.1", "fc": _COLOURS[
                            max(int(data.levels[i, j]), 0)], "ec": "none"} if text else None)
    what = ("connected workload pairs" if by == "namespace" else "allowed ports")
    fig.suptitle(title or f"{by} → {by} reachability ({what})", fontsize=10)
    if by == "namespace":
        names = ("no pair connected", "some pairs connected", "every pair connected")
        handles = [Patch(fc=c, ec="#94a3b8", label=name)
                   for c, name in zip(_COLOURS, names, strict=True)]
    else:
        handles = [Patch(fc=_COLOURS[0], ec="#94a3b8", label="not connected"),
                   Patch(fc=_COLOURS[2], ec="#94a3b8", label="connected")]
    handles.append(Patch(fc="white", ec="#1e293b", hatch="////", label="on some ports only"))
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8,
               frameon=False, title="colour: pairs that may connect; hatching: ports",
               title_fontsize=8)
    return fig
