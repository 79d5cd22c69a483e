"""Where everything goes: one layout that every engine draws the same way.

A :class:`Layout` places a :class:`~reach.render.scene.Scene` on a page; the DOT
writer hands it to Graphviz (``layout=nop2``: Graphviz draws, it does not lay out),
the matplotlib painter and the interactive page draw it themselves. So the pictures
of all engines agree, a highlighted path sits on the same layout as the diagram
without it, and laying out never takes Graphviz minutes.

The page reads like a design document:

* each namespace is a box; inside it, endpoints flow left to right in layers
  (Services before their backends, clients before servers);
* the boxes stand in columns ordered by flow (a namespace whose endpoints call
  another's comes first), as many columns as bring the page closest to 16:9;
* the internet, the ingress controller and outside ranges that send stand in a
  column on the left, outside ranges that only receive on the right;
* arrows are routed orthogonally through the free lanes between rows, columns
  and boxes (A* with a penalty for bends and for crowded lanes), so no arrow
  crosses an endpoint; arrows sharing a lane run side by side;
* each label sits on a horizontal stretch of its own arrow, moved along it until it
  overlaps no other label and no endpoint;
* the title goes above, the notes, the level-of-detail notice and a legend of the
  kinds drawn below, wrapped to the page width.

Units are points (1/72 inch), ``y`` grows downwards, ``(0, 0)`` is the top left
corner of the page.

Examples
--------
>>> from reach.render.scene import Scene, SceneEdge, SceneNode
>>> web = SceneNode("n0", "web", "Deployment", "shop", ())
>>> db = SceneNode("n1", "db", "StatefulSet", "shop", ())
>>> page = layout(Scene((web, db), (SceneEdge("n0", "n1", "TCP 5432", None),)))
>>> page.nodes["n0"].rect.x < page.nodes["n1"].rect.x
True
>>> [box.namespace for box in page.boxes]
['shop']
>>> route = page.edges[0].points
>>> route[0][0] == page.nodes["n0"].rect.x1 and route[-1][0] == page.nodes["n1"].rect.x
True
"""

from __future__ import annotations

import heapq
import itertools
import math
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reach.render.scene import Scene, SceneEdge, SceneNode, iter_kinds
from reach.render.style import style_of

__all__ = [
    "Layout",
    "LegendItem",
    "PlacedBox",
    "PlacedEdge",
    "PlacedNode",
    "Rect",
    "TextBlock",
    "layout",
    "text_size",
]

NODE_FONT = 9.0
EDGE_FONT = 7.0
BOX_FONT = 10.0
TITLE_FONT = 12.0
NOTE_FONT = 7.5
CHAR = 0.62  # width of an average character, in ems (DejaVu Sans / Helvetica, generous)
LINE = 1.22  # line height, in ems

COL_LANE = 70.0  # between the columns of a box: room for a label
ROW_LANE = 22.0  # between the rows of a box
BOX_SIDE = 26.0  # inside a box, left and right of the endpoints
BOX_TITLE = 20.0  # the namespace's name
BOX_BOTTOM = 22.0
GUTTER_X = 60.0  # between columns of boxes
GUTTER_Y = 28.0  # between boxes of one column
MARGIN = 28.0  # around everything
TRACK = 4.0  # distance between arrows that share a lane
BEND = 24.0  # what a bend costs, in points of length
CROWD = 0.12  # what each arrow already in a lane adds to its cost, per point
ASPECT = 16 / 9


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle: top left corner ``(x, y)``, width, height."""

    x: float
    y: float
    w: float
    h: float

    @property
    def x1(self) -> float:
        return self.x + self.w

    @property
    def y1(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def overlaps(self, other: Rect, gap: float = 0.0) -> bool:
        return (self.x < other.x1 + gap and other.x < self.x1 + gap
                and self.y < other.y1 + gap and other.y < self.y1 + gap)

    def inside(self, other: Rect) -> bool:
        eps = 1e-6
        return (self.x >= other.x - eps and self.y >= other.y - eps
                and self.x1 <= other.x1 + eps and self.y1 <= other.y1 + eps)


@dataclass(frozen=True, slots=True)
class PlacedNode:
    node: SceneNode
    rect: Rect


@dataclass(frozen=True, slots=True)
class PlacedBox:
    """A namespace's box; its name is written at ``title`` (left end, middle of the line)."""

    namespace: str
    rect: Rect
    title: tuple[float, float]


@dataclass(frozen=True, slots=True)
class PlacedEdge:
    """An arrow: a polyline from its source's side to its target's side (the head).

    ``label`` is the rectangle the label is centred in (None when there is no label),
    ``text`` the label as drawn there (a long port list wrapped at its commas).
    """

    edge: SceneEdge
    points: tuple[tuple[float, float], ...]
    label: Rect | None
    text: str = ""


@dataclass(frozen=True, slots=True)
class TextBlock:
    """A paragraph: ``lines`` from ``(x, y)`` down (left aligned), ``size`` points."""

    lines: tuple[str, ...]
    x: float
    y: float
    size: float
    bold: bool = False
    role: str = ""  # title, caption or notice

    @property
    def rect(self) -> Rect:
        w, h = text_size(self.lines, self.size)
        return Rect(self.x, self.y, w, h)


@dataclass(frozen=True, slots=True)
class LegendItem:
    """One kind in the legend: its sample shape at ``swatch``, its name after it."""

    kind: str
    text: str
    swatch: Rect
    at: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Layout:
    """A scene placed on a page of ``width`` x ``height`` points."""

    scene: Scene
    width: float
    height: float
    nodes: dict[str, PlacedNode]
    boxes: tuple[PlacedBox, ...]
    edges: tuple[PlacedEdge, ...]
    texts: tuple[TextBlock, ...]
    legend: tuple[LegendItem, ...]
    legend_font: float = NOTE_FONT

    @property
    def page(self) -> Rect:
        return Rect(0.0, 0.0, self.width, self.height)

    def drawn(self) -> Iterable[tuple[str, Rect]]:
        """Every element as (what, bounding rectangle): for tests that nothing is cut off."""
        for box in self.boxes:
            yield f"box {box.namespace}", box.rect
        for ident, placed in self.nodes.items():
            yield f"node {ident}", placed.rect
        for e in self.edges:
            xs = [p[0] for p in e.points]
            ys = [p[1] for p in e.points]
            yield f"edge {e.edge.src}->{e.edge.dst}", Rect(min(xs), min(ys), max(xs) - min(xs),
                                                           max(ys) - min(ys))
            if e.label is not None:
                yield f"label {e.edge.label!r}", e.label
        for t in self.texts:
            yield f"text {t.role}", t.rect
        for item in self.legend:
            yield f"legend {item.kind}", item.swatch
            w, h = text_size([item.text], self.legend_font)
            yield f"legend text {item.kind}", Rect(item.at[0], item.at[1] - h / 2, w, h)


# ---------------------------------------------------------------------------
# sizes


def text_size(lines: Sequence[str], size: float) -> tuple[float, float]:
    """A generous estimate of the width and height (points) of ``lines`` at ``size``."""
    longest = max((len(line) for line in lines), default=0)
    return longest * size * CHAR, max(len(lines), 1) * size * LINE


_EXTRA = {  # room the outline of a shape takes around its text: (width, height)
    "hexagon": (22.0, 4.0),
    "doubleoctagon": (18.0, 10.0),
    "cylinder": (6.0, 14.0),
    "invhouse": (16.0, 8.0),
    "note": (10.0, 2.0),
    "box3d": (8.0, 6.0),
    "folder": (8.0, 8.0),
}


def node_size(node: SceneNode) -> tuple[float, float]:
    w, h = text_size(node.text.split("\n"), NODE_FONT)
    dx, dy = _EXTRA.get(style_of(node.kind).shape, (0.0, 0.0))
    return max(w + 16 + dx, 44.0), max(h + 10 + dy, 26.0)


# ---------------------------------------------------------------------------
# placing the nodes


def _layers(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layer of each node in the graph of strong components of ``edges``."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(ids)
    g.add_edges_from(edges)
    cond = nx.condensation(g)
    depth: dict[int, int] = {}
    for comp in nx.topological_sort(cond):
        preds = list(cond.predecessors(comp))
        depth[comp] = max((depth[p] + 1 for p in preds), default=0)
    return {n: depth[cond.graph["mapping"][n]] for n in ids}


@dataclass(slots=True)
class _Block:
    """A namespace's box before it is placed: a grid of layers (columns) and rows."""

    namespace: str
    columns: list[list[str]]
    col_w: list[float]
    row_h: list[float]
    framed: bool = True  # a namespace's box; else endpoints outside namespaces, unboxed
    width: float = 0.0
    height: float = 0.0
    x: float = 0.0
    y: float = 0.0

    @property
    def title(self) -> float:
        return BOX_TITLE if self.framed else 0.0

    def measure(self) -> None:
        title = text_size([self.namespace], BOX_FONT)[0] + 2 * BOX_SIDE if self.framed else 0.0
        inner = sum(self.col_w) + COL_LANE * (len(self.col_w) - 1)
        self.width = max(inner + 2 * BOX_SIDE, title)
        self.height = (self.title + ROW_LANE + sum(self.row_h)
                       + ROW_LANE * (len(self.row_h) - 1) + BOX_BOTTOM)


def _grid(members: Sequence[SceneNode], edges: Sequence[tuple[str, str]],
          order: dict[str, float], max_rows: int) -> list[list[str]]:
    """Columns of node ids, each ordered to keep neighbours on the same rows."""
    ids = [m.id for m in members]
    inside = set(ids)
    local = [(a, b) for a, b in edges if a in inside and b in inside and a != b]
    layer = _layers(ids, local)
    count = max(layer.values(), default=0) + 1
    columns: list[list[str]] = [[] for _ in range(count)]
    for m in members:
        columns[layer[m.id]].append(m.id)
    columns = [c for c in columns if c]
    position: dict[str, float] = {}
    preds: dict[str, list[str]] = {}
    for a, b in local:
        preds.setdefault(b, []).append(a)
        preds.setdefault(a, []).append(b)
    wrapped: list[list[str]] = []
    for column in columns:  # a tall layer wraps into several columns
        wrapped += [column[i:i + max_rows] for i in range(0, len(column), max_rows)]
    columns = wrapped
    for k, column in enumerate(columns):
        def key(ident: str, k: int = k) -> tuple[float, float, str]:
            known = [position[p] for p in preds.get(ident, []) if p in position]
            centre = sum(known) / len(known) if known and k else order.get(ident, 0.0)
            return (centre, order.get(ident, 0.0), ident)

        column.sort(key=key)
        for r, ident in enumerate(column):
            position[ident] = r
    return columns


def _block(namespace: str, members: Sequence[SceneNode], edges: Sequence[tuple[str, str]],
           sizes: dict[str, tuple[float, float]], order: dict[str, float], max_rows: int,
           framed: bool = True) -> _Block:
    columns = _grid(members, edges, order, max_rows)
    rows = max(len(c) for c in columns)
    col_w = [max(sizes[i][0] for i in c) for c in columns]
    row_h = [max((sizes[c[r]][1] for c in columns if r < len(c)), default=0.0)
             for r in range(rows)]
    block = _Block(namespace, columns, col_w, row_h, framed)
    block.measure()
    return block


def _namespace_flow(scene: Scene) -> dict[str, int]:
    """Depth of each namespace in the flow of calls between namespaces."""
    import networkx as nx

    ns_of = {n.id: _home(n) for n in scene.nodes}
    g = nx.DiGraph()
    g.add_nodes_from(sorted(set(ns_of.values()) - {""}))
    for e in scene.edges:
        a, b = ns_of[e.src], ns_of[e.dst]
        if a and b and a != b and not e.both and not e.extra:
            g.add_edge(a, b)
    cond = nx.condensation(g)
    depth: dict[int, int] = {}
    for comp in nx.topological_sort(cond):
        depth[comp] = max((depth[p] + 1 for p in cond.predecessors(comp)), default=0)
    return {ns: depth[cond.graph["mapping"][ns]] for ns in g}


def _order_blocks(blocks: list[_Block], flow: dict[str, int], scene: Scene) -> list[_Block]:
    """Boxes by flow depth; within a depth, next to the boxes they exchange arrows with.

    A greedy pass: each box goes after the ones already placed, ordered by the mean
    position of its placed neighbours (boxes without placed neighbours keep name order),
    which shortens the arrows between boxes.
    """
    home = {n.id: _home(n) for n in scene.nodes}
    weight: dict[tuple[str, str], int] = {}
    for e in scene.edges:
        here, there = home[e.src], home[e.dst]
        if here and there and here != there:
            weight[(here, there)] = weight.get((here, there), 0) + 1
            weight[(there, here)] = weight.get((there, here), 0) + 1
    placed: dict[str, int] = {}
    ordered: list[_Block] = []
    by_depth: dict[int, list[_Block]] = {}
    for b in sorted(blocks, key=lambda b: b.namespace):
        by_depth.setdefault(flow.get(b.namespace, 0), []).append(b)
    for depth in sorted(by_depth):
        group = by_depth[depth]

        def centre(b: _Block) -> tuple[float, str]:
            pulls = [(placed[o], w) for (a, o), w in weight.items()
                     if a == b.namespace and o in placed]
            total = sum(w for _, w in pulls)
            at = sum(p * w for p, w in pulls) / total if total else math.inf
            return at, b.namespace

        for b in sorted(group, key=centre):
            placed[b.namespace] = len(ordered)
            ordered.append(b)
    return ordered


def _split(blocks: Sequence[_Block], columns: int) -> list[list[_Block]]:
    """Consecutive blocks into ``columns`` columns of about equal height."""
    total = sum(b.height for b in blocks) + GUTTER_Y * max(len(blocks) - columns, 0)
    target = total / columns
    out: list[list[_Block]] = [[]]
    height = 0.0
    for i, b in enumerate(blocks):
        left = len(blocks) - i
        if (out[-1] and height + b.height / 2 > target and len(out) < columns) or (
                columns - len(out) >= left and out[-1]):
            out.append([])
            height = 0.0
        out[-1].append(b)
        height += b.height + GUTTER_Y
    return out


def _column_size(column: Sequence[_Block]) -> tuple[float, float]:
    return (max(b.width for b in column),
            sum(b.height for b in column) + GUTTER_Y * (len(column) - 1))


NAMESPACES = "\x00namespaces"  # the unboxed block of Namespace nodes (by="namespace")
LEFT, RIGHT = "\x00left", "\x00right"


def _home(node: SceneNode) -> str:
    """The box a node stands in: its namespace's, or an unboxed block."""
    if node.kind == "Namespace":
        return NAMESPACES
    return node.namespace


# ---------------------------------------------------------------------------
# the lanes arrows run in, and the router


@dataclass(slots=True)
class _Lanes:
    """Axis-aligned lane lines and the graph of their crossings.

    ``lines[k]`` is ``(horizontal, position, lo, hi)``: a horizontal lane at ``y =
    position`` from ``x = lo`` to ``hi``, or a vertical one. A vertex is a point;
    ``adj[v]`` lists ``(w, line)`` for its neighbours along a lane (the line is what
    the side-by-side tracks are counted on); ``room[line]`` is the lane's width.
    """

    points: list[tuple[float, float]] = field(default_factory=list)
    index: dict[tuple[float, float], int] = field(default_factory=dict)
    adj: list[list[tuple[int, int, int, float]]] = field(default_factory=list)
    lines: list[tuple[bool, float, float, float]] = field(default_factory=list)
    room: list[float] = field(default_factory=list)

    def vertex(self, p: tuple[float, float]) -> int:
        key = (round(p[0], 3), round(p[1], 3))
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.points)
            self.points.append(key)
            self.adj.append([])
        return found

    def hline(self, y: float, x0: float, x1: float, room: float) -> int:
        self.lines.append((True, y, min(x0, x1), max(x0, x1)))
        self.room.append(room)
        return len(self.lines) - 1

    def vline(self, x: float, y0: float, y1: float, room: float) -> int:
        self.lines.append((False, x, min(y0, y1), max(y0, y1)))
        self.room.append(room)
        return len(self.lines) - 1

    def build(self, stops: dict[int, list[float]]) -> None:
        """Cut every line at its crossings and at ``stops`` (coordinates along it)."""
        cuts: dict[int, set[float]] = {k: {lo, hi} for k, (_, _, lo, hi) in enumerate(self.lines)}
        hs = [k for k, line in enumerate(self.lines) if line[0]]
        vs = [k for k, line in enumerate(self.lines) if not line[0]]
        for h in hs:
            _, y, x0, x1 = self.lines[h]
            for v in vs:
                _, x, y0, y1 = self.lines[v]
                if x0 - 1e-6 <= x <= x1 + 1e-6 and y0 - 1e-6 <= y <= y1 + 1e-6:
                    cuts[h].add(x)
                    cuts[v].add(y)
        for line, more in stops.items():
            cuts[line].update(more)
        for line, values in cuts.items():
            horizontal, at, _, _ = self.lines[line]
            ordered = sorted(values)
            pts = [self.vertex((c, at) if horizontal else (at, c)) for c in ordered]
            forward, backward = (0, 2) if horizontal else (1, 3)
            for (a, ca), (b, cb) in itertools.pairwise(zip(pts, ordered, strict=True)):
                if a != b:
                    self.adj[a].append((b, line, forward, cb - ca))
                    self.adj[b].append((a, line, backward, cb - ca))


def _route(lanes: _Lanes, start: int, goal: int, used: dict[tuple[int, int], int],
           first_dir: int) -> list[tuple[int, int]]:
    """The cheapest lane path from ``start`` to ``goal`` as (vertex, line) steps.

    A* over (vertex, direction) with Manhattan distance as the (admissible) guess;
    a bend costs :data:`BEND`, a lane stretch costs its length times one plus
    :data:`CROWD` per arrow already using it. ``first_dir`` (0 right, 1 down, 2 left,
    3 up) is the direction of the stub out of the source: no U-turn into it.
    """
    pts = lanes.points
    gx, gy = pts[goal]
    adj = lanes.adj
    counter = itertools.count()
    best: dict[tuple[int, int], float] = {(start, first_dir): 0.0}
    came: dict[tuple[int, int], tuple[tuple[int, int], int] | None] = {(start, first_dir): None}
    sx, sy = pts[start]
    heap = [(abs(sx - gx) + abs(sy - gy), next(counter), 0.0, start, first_dir)]
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        _, _, cost, v, d = pop(heap)
        if cost > best.get((v, d), math.inf):
            continue
        if v == goal:  # the first arrival popped (a last bend into the stub is not priced)
            steps: list[tuple[int, int]] = []
            state: tuple[int, int] | None = (v, d)
            while state is not None:
                back = came[state]
                if back is None:
                    steps.append((state[0], -1))
                    break
                steps.append((state[0], back[1]))
                state = back[0]
            return steps[::-1]
        back_dir = (d + 2) % 4
        for w, line, nd, length in adj[v]:
            if nd == back_dir:
                continue  # no U-turns
            crowd = used.get((v, w) if v < w else (w, v), 0)
            new = cost + length * (1.0 + CROWD * crowd) + (BEND if nd != d else 0.0)
            if new < best.get((w, nd), math.inf) - 1e-9:
                best[(w, nd)] = new
                came[(w, nd)] = ((v, d), line)
                wx, wy = pts[w]
                push(heap, (new + abs(wx - gx) + abs(wy - gy), next(counter), new, w, nd))
    return []


# ---------------------------------------------------------------------------
# the layout


@dataclass(slots=True)
class _Anchor:
    """Where a node's arrows leave or arrive on one side: the stub to its lane."""

    node: str
    side: int  # 0 right, 2 left
    lane_line: int
    lane_x: float
    vertex: int = -1
    edges: list[int] = field(default_factory=list)


def layout(scene: Scene, aspect: float = ASPECT) -> Layout:
    """Place ``scene`` on a page (see the module documentation)."""
    sizes = {n.id: node_size(n) for n in scene.nodes}
    order = {n.id: float(k) for k, n in enumerate(scene.nodes)}
    placing = [e for e in scene.edges if not e.extra]  # a path's extra hops are only routed
    pairs = [(e.src, e.dst) for e in placing if not e.both]
    pairs += [(min(e.src, e.dst, key=lambda i: order[i]), max(e.src, e.dst, key=lambda i: order[i]))
              for e in placing if e.both]
    by_home: dict[str, list[SceneNode]] = {}
    for n in scene.nodes:
        by_home.setdefault(_home(n), []).append(n)
    outs = {n.id: 0 for n in scene.nodes}
    ins = {n.id: 0 for n in scene.nodes}
    for a, b in pairs:
        outs[a] += 1
        ins[b] += 1
    top = by_home.pop("", [])
    left = [n for n in top if outs[n.id] or not ins[n.id]]
    right = [n for n in top if n not in left]
    max_rows = max(6, math.ceil(math.sqrt(len(scene.nodes) / aspect)))
    flow = _namespace_flow(scene)
    blocks = [_block(ns, members, pairs, sizes, order, max_rows, framed=ns != NAMESPACES)
              for ns, members in by_home.items()]
    blocks = _order_blocks(blocks, flow, scene)
    sides = [[_block(LEFT, left, pairs, sizes, order, max_rows, framed=False)] if left else [],
             [_block(RIGHT, right, pairs, sizes, order, max_rows, framed=False)] if right else []]
    footer = 2 * MARGIN + 24.0 * (bool(scene.caption) + bool(scene.notice) + 1)
    best: list[list[_Block]] = []
    best_score = math.inf
    for count in range(1, len(blocks) + 1):
        columns = [c for c in (sides[0], *_split(blocks, count), sides[1]) if c]
        dims = [_column_size(c) for c in columns]
        width = sum(w for w, _ in dims) + GUTTER_X * (len(dims) - 1)
        height = max(h for _, h in dims) + footer
        score = abs(math.log(max(width, 1.0) / max(height, 1.0) / aspect))
        if score < best_score - 1e-9:
            best, best_score = columns, score
    if not blocks:
        best = [c for c in sides if c]
    return _place(scene, sizes, best)


def _place(scene: Scene, sizes: dict[str, tuple[float, float]],
           columns: list[list[_Block]]) -> Layout:
    lanes = _Lanes()
    rects: dict[str, Rect] = {}
    title_lines = tuple(textwrap.wrap(scene.title, 120)) if scene.title else ()
    y0 = MARGIN + (text_size(title_lines, TITLE_FONT)[1] + 10 if title_lines else 0.0)
    x = MARGIN
    sections: list[tuple[float, float]] = []  # (x0, x1) of each column of the page
    heights: list[float] = []
    boxes: list[PlacedBox] = []
    box_lanes: list[tuple[_Block, int, list[float], list[float]]] = []
    for s_index, column in enumerate(columns):
        w, h = _column_size(column)
        y = y0
        for b in column:
            b.x, b.y = x + (w - b.width) / 2, y
            y += b.height + GUTTER_Y
            if b.framed:
                boxes.append(PlacedBox(b.namespace, Rect(b.x, b.y, b.width, b.height),
                                       (b.x + 10, b.y + BOX_TITLE / 2 + 3)))
            inner = sum(b.col_w) + COL_LANE * (len(b.col_w) - 1)
            cx = b.x + (b.width - inner) / 2
            col_x: list[float] = []
            for k, colw in enumerate(b.col_w):
                col_x.append(cx)
                ry = b.y + b.title + ROW_LANE
                for r, rowh in enumerate(b.row_h):
                    if r < len(b.columns[k]):
                        ident = b.columns[k][r]
                        nw, nh = sizes[ident]
                        rects[ident] = Rect(cx + (colw - nw) / 2, ry + (rowh - nh) / 2, nw, nh)
                    ry += rowh + ROW_LANE
                cx += colw + COL_LANE
            row_y = [b.y + b.title + ROW_LANE / 2]
            ry = b.y + b.title + ROW_LANE
            for rowh in b.row_h:
                ry += rowh
                row_y.append(ry + ROW_LANE / 2)
                ry += ROW_LANE
            row_y[-1] = b.y + b.height - BOX_BOTTOM / 2
            lane_x = [col_x[0] - (col_x[0] - b.x) / 2]
            lane_x += [col_x[k] + b.col_w[k] + COL_LANE / 2 for k in range(len(b.col_w) - 1)]
            last = col_x[-1] + b.col_w[-1]
            lane_x.append(last + (b.x + b.width - last) / 2)
            box_lanes.append((b, s_index, lane_x, row_y))
        sections.append((x, x + w))
        heights.append(h)
        x += w + GUTTER_X
    content_right = x - GUTTER_X
    content_bottom = y0 + max(heights, default=0.0)
    width = content_right + MARGIN

    # the lanes: gutters between page columns, margins, between boxes, inside boxes
    gutter_x = [sections[0][0] - MARGIN / 2] if sections else [MARGIN / 2]
    gutter_x += [(sections[k][1] + sections[k + 1][0]) / 2 for k in range(len(sections) - 1)]
    gutter_x.append(sections[-1][1] + MARGIN / 2 if sections else MARGIN)
    top_y, bottom_y = y0 - MARGIN / 2, content_bottom + MARGIN / 2
    for k, gx in enumerate(gutter_x):
        lanes.vline(gx, top_y, bottom_y, GUTTER_X if 0 < k < len(gutter_x) - 1 else MARGIN)
    lanes.hline(top_y, gutter_x[0], gutter_x[-1], MARGIN)
    lanes.hline(bottom_y, gutter_x[0], gutter_x[-1], MARGIN)
    for s_index, column in enumerate(columns):
        gl, gr = gutter_x[s_index], gutter_x[s_index + 1]
        for b1, b2 in itertools.pairwise(column):
            lanes.hline((b1.y + b1.height + b2.y) / 2, gl, gr, GUTTER_Y)
    anchors: dict[tuple[str, int], _Anchor] = {}
    stops: dict[int, list[float]] = {}
    for b, s_index, lane_x, row_y in box_lanes:
        v_lines = [lanes.vline(lx, row_y[0], row_y[-1], COL_LANE if 0 < i < len(lane_x) - 1
                               else BOX_SIDE) for i, lx in enumerate(lane_x)]
        for ry in row_y:
            lanes.hline(ry, gutter_x[s_index], gutter_x[s_index + 1], ROW_LANE)
        for k, column_ids in enumerate(b.columns):
            for ident in column_ids:
                cell = rects[ident]
                for side, lane in ((2, k), (0, k + 1)):
                    anchors[(ident, side)] = _Anchor(ident, side, v_lines[lane], lane_x[lane])
                    stops.setdefault(v_lines[lane], []).append(cell.cy)
    lanes.build(stops)
    for a in anchors.values():
        a.vertex = lanes.vertex((a.lane_x, rects[a.node].cy))

    placed_edges = _route_all(scene, rects, anchors, lanes)
    placed_edges = _place_labels(placed_edges, rects, width)

    # above and below the diagram: the title; notes, notice, legend
    texts: list[TextBlock] = []
    if title_lines:
        texts.append(TextBlock(title_lines, MARGIN, MARGIN, TITLE_FONT, bold=True, role="title"))
    y = content_bottom + MARGIN
    usable = max(width - 2 * MARGIN, 300.0)
    chars = max(int(usable / (NOTE_FONT * CHAR)), 40)
    for role, text in (("notice", scene.notice), ("caption", scene.caption)):
        if text:
            lines = tuple(textwrap.wrap(text, chars))
            block = TextBlock(lines, MARGIN, y, NOTE_FONT, bold=role == "notice", role=role)
            texts.append(block)
            y += block.rect.h + 6
    legend, y = _legend(scene, MARGIN, y + 4, usable)
    height = y + MARGIN / 2
    width = max(width, max((t.rect.x1 for t in texts), default=0.0) + MARGIN,
                max((i.at[0] + text_size([i.text], NOTE_FONT)[0] for i in legend),
                    default=0.0) + MARGIN)
    nodes = {n.id: PlacedNode(n, rects[n.id]) for n in scene.nodes}
    return Layout(scene, width, height, nodes, tuple(boxes), tuple(placed_edges), tuple(texts),
                  tuple(legend))


def legend_kinds(scene: Scene) -> list[tuple[str, str]]:
    """(kind, text) for each look on the scene, once per look, in kind order."""
    seen: dict[str, str] = {}
    for kind in iter_kinds(scene):
        text = style_of(kind).legend
        if text not in seen.values():
            seen[kind] = text
    return list(seen.items())


def _legend(scene: Scene, x0: float, y: float, usable: float) -> tuple[list[LegendItem], float]:
    items: list[LegendItem] = []
    x = x0
    h = 14.0
    for kind, text in legend_kinds(scene):
        w = 22.0 + 10 + text_size([text], NOTE_FONT)[0] + 16
        if x > x0 and x + w > x0 + usable:
            x, y = x0, y + h + 6
        items.append(LegendItem(kind, text, Rect(x, y, 22.0, h), (x + 32, y + h / 2)))
        x += w
    return items, (y + h + 4 if items else y)


# ---------------------------------------------------------------------------
# routing every arrow


def _side_for(src: Rect, dst: Rect) -> tuple[int, int]:
    """Which side an arrow leaves its source from and enters its target by."""
    if dst.x >= src.x1 - 1e-6:
        return 0, 2
    if src.x >= dst.x1 - 1e-6:
        return 2, 0
    return 0, 0  # same column: out to the right and back


def _route_all(scene: Scene, rects: dict[str, Rect], anchors: dict[tuple[str, int], _Anchor],
               lanes: _Lanes) -> list[PlacedEdge]:
    used: dict[tuple[int, int], int] = {}
    paths: list[tuple[int, list[tuple[int, int]], _Anchor, _Anchor]] = []
    order = sorted(range(len(scene.edges)), key=lambda i: (
        scene.edges[i].extra,
        abs(rects[scene.edges[i].src].cx - rects[scene.edges[i].dst].cx)
        + abs(rects[scene.edges[i].src].cy - rects[scene.edges[i].dst].cy), i))
    for i in order:
        e = scene.edges[i]
        out_side, in_side = _side_for(rects[e.src], rects[e.dst])
        a, b = anchors[(e.src, out_side)], anchors[(e.dst, in_side)]
        steps = _route(lanes, a.vertex, b.vertex, used, 0 if out_side == 0 else 2)
        if not e.extra:  # a path's extra hops leave the others where they are
            for (v, _), (w, _) in itertools.pairwise(steps):
                used[(min(v, w), max(v, w))] = used.get((min(v, w), max(v, w)), 0) + 1
            a.edges.append(i)
            b.edges.append(i)
        paths.append((i, steps, a, b))
    return _geometry(scene, rects, lanes, paths)


def _runs(lanes: _Lanes, steps: list[tuple[int, int]]) -> list[tuple[int, list[int]]]:
    """Consecutive steps on one lane line merged: (line, vertices)."""
    runs: list[tuple[int, list[int]]] = []
    for k in range(1, len(steps)):
        v, line = steps[k]
        prev = steps[k - 1][0]
        if runs and runs[-1][0] == line:
            runs[-1][1].append(v)
        else:
            runs.append((line, [prev, v]))
    return runs


def _geometry(scene: Scene, rects: dict[str, Rect], lanes: _Lanes,
              paths: list[tuple[int, list[tuple[int, int]], _Anchor, _Anchor]]
              ) -> list[PlacedEdge]:
    """Polylines: tracks side by side in shared lanes, ends spread along the node sides."""
    pts = lanes.points
    spans: dict[int, list[tuple[float, float, int]]] = {}
    runs_of: dict[int, list[tuple[int, list[int]]]] = {}
    for i, steps, _, _ in paths:
        runs = _runs(lanes, steps)
        runs_of[i] = runs
        if scene.edges[i].extra:
            continue
        for line, verts in runs:
            coords = [pts[v][0] if lanes.lines[line][0] else pts[v][1] for v in verts]
            spans.setdefault(line, []).append((min(coords), max(coords), i))
    offset: dict[tuple[int, int], float] = {}
    for line, items in spans.items():
        tracks: list[float] = []  # end of the last span on each track
        chosen: list[tuple[int, int]] = []
        for lo, hi, i in sorted(items):
            for t, end in enumerate(tracks):
                if end < lo - 2:
                    tracks[t] = hi
                    break
            else:
                tracks.append(hi)
                t = len(tracks) - 1
            chosen.append((i, t))
        room = lanes.room[line] * 0.7
        step = min(TRACK, room / max(len(tracks), 1))
        for i, t in chosen:
            offset[(line, i)] = (t - (len(tracks) - 1) / 2) * step
    ends: dict[tuple[str, int, int], float] = {}
    anchors: dict[int, _Anchor] = {}
    for _, _, a, b in paths:
        anchors[id(a)] = a
        anchors[id(b)] = b
    for a in anchors.values():
        count = len(a.edges)
        room = max(rects[a.node].h - 8, 0.0)
        step = min(5.0, room / max(count - 1, 1)) if count > 1 else 0.0
        for k, i in enumerate(sorted(a.edges)):
            ends[(a.node, a.side, i)] = (k - (count - 1) / 2) * step
    out: list[PlacedEdge] = []
    for i, _steps, a, b in sorted(paths, key=lambda p: p[0]):
        e = scene.edges[i]
        ra, rb = rects[e.src], rects[e.dst]
        ya = ra.cy + ends.get((a.node, a.side, i), 0.0)
        yb = rb.cy + ends.get((b.node, b.side, i), 0.0)
        runs = runs_of[i]
        if len(runs) <= 1 and abs(ra.cy - rb.cy) < 1e-6 and abs(ya - rb.cy) < rb.h / 2 - 3:
            yb = ya  # side by side: a straight arrow rather than a jog
            runs = []
        xa = ra.x1 if a.side == 0 else ra.x
        xb = rb.x1 if b.side == 0 else rb.x
        lines: list[tuple[str, float]] = []  # ("h", y) or ("v", x) of each run, with offsets
        for line, verts in runs:
            off = offset.get((line, i), 0.0)
            if lanes.lines[line][0]:
                lines.append(("h", pts[verts[0]][1] + off))
            else:
                lines.append(("v", pts[verts[0]][0] + off))
        points: list[tuple[float, float]] = [(xa, ya)]
        if not lines and abs(ya - yb) > 1e-6:  # next to each other: jog in the lane
            lines = [("v", a.lane_x)]
        current = ("h", ya)  # the stub out of the source is horizontal
        for kind, value in [*lines, ("h", yb)]:
            if kind == current[0]:
                if abs(value - current[1]) > 1e-6:
                    # two parallel runs in a row (a lane continues at another offset): jog
                    px, py = points[-1]
                    if kind == "h":
                        points.append((px, value))
                    else:
                        points.append((value, py))
                current = (kind, value)
                continue
            px, py = points[-1]
            points.append((value, py) if kind == "v" else (px, value))
            current = (kind, value)
        points.append((xb, yb))
        cleaned = [points[0]]
        for p in points[1:]:
            if abs(p[0] - cleaned[-1][0]) > 1e-6 or abs(p[1] - cleaned[-1][1]) > 1e-6:
                cleaned.append(p)
        out.append(PlacedEdge(e, tuple(cleaned), None))
    return out


class _Grid:
    """Rectangles bucketed by 100-point cells: which of them a rectangle overlaps, fast."""

    CELL = 100.0

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[Rect]] = {}

    def _keys(self, r: Rect) -> Iterable[tuple[int, int]]:
        c = self.CELL
        for i in range(int((r.x - 1) // c), int((r.x1 + 1) // c) + 1):
            for j in range(int((r.y - 1) // c), int((r.y1 + 1) // c) + 1):
                yield i, j

    def add(self, r: Rect) -> None:
        for key in self._keys(r):
            self.cells.setdefault(key, []).append(r)

    def count(self, r: Rect) -> int:
        seen = {id(o): o for key in self._keys(r) for o in self.cells.get(key, ())}
        return sum(1 for o in seen.values() if r.overlaps(o, 1))


LABEL_CHARS = int((COL_LANE - 12) / (EDGE_FONT * CHAR))  # what fits between two columns


def wrap_label(label: str, chars: int = LABEL_CHARS) -> str:
    """A port label with its long lines broken after commas, to fit a lane.

    >>> wrap_label("TCP 443,4222,5432,9090", 12)
    'TCP 443,\\n4222,5432,\\n9090'
    """
    out: list[str] = []
    for line in label.split("\n"):
        current = ""
        for piece in line.replace(",", ",\0").split("\0"):
            if current and len(current) + len(piece) > chars:
                out.append(current)
                current = piece
            else:
                current += piece
        out.append(current)
    return "\n".join(out)


_FRACTIONS = (0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9, 0.0, 1.0)


def _label_spots(e: PlacedEdge, w: float, h: float) -> Iterable[tuple[Rect, float]]:
    """Candidate places for a label, with a preference (lower first).

    Above or below a horizontal stretch (the later stretches, nearer the target,
    first), then beside a vertical one.
    """
    pts = e.points
    for k in range(len(pts) - 2, -1, -1):
        (x0, y0), (x1, y1) = pts[k], pts[k + 1]
        lo, hi = min(x0, x1), max(x0, x1)
        length = hi - lo
        if abs(y0 - y1) < 1e-6:
            short = 0.0 if length >= w else 3.0
            for frac in _FRACTIONS:
                cx = lo + length * frac
                if length >= w:
                    cx = min(max(cx, lo + w / 2), hi - w / 2)
                for dy in (-(h / 2 + 1), h / 2 + 1):
                    yield Rect(cx - w / 2, y0 + dy - h / 2, w, h), short + abs(frac - 0.5)
        else:
            top, bottom = min(y0, y1), max(y0, y1)
            if bottom - top < h:
                continue
            for frac in _FRACTIONS:
                cy = top + (bottom - top) * frac
                for dx in (w / 2 + 2, -(w / 2 + 2)):
                    yield Rect(x0 + dx - w / 2, cy - h / 2, w, h), 2.0 + abs(frac - 0.5)


def _place_labels(edges: list[PlacedEdge], rects: dict[str, Rect],
                  width: float) -> list[PlacedEdge]:
    """Each label beside a stretch of its own arrow, where it overlaps nothing."""
    taken = _Grid()
    obstacles = _Grid()
    for r in rects.values():
        obstacles.add(r)
    out: list[PlacedEdge] = []
    for e in edges:
        if not e.edge.label:
            out.append(e)
            continue
        text = wrap_label(e.edge.label)
        w, h = text_size(text.split("\n"), EDGE_FONT)
        w, h = w + 4, h + 2
        best: Rect | None = None
        best_cost = math.inf
        for spot, preference in _label_spots(e, w, h):
            if spot.x < 2 or spot.x1 > width - 2 or spot.y < 2:
                continue
            cost = taken.count(spot) * 10 + obstacles.count(spot) * 100 + preference
            if cost < best_cost:
                best, best_cost = spot, cost
                if cost < 1:
                    break
        if best is None:
            (x0, y0), (x1, y1) = e.points[0], e.points[1]
            best = Rect((x0 + x1) / 2 - w / 2, (y0 + y1) / 2 - h / 2, w, h)
        taken.add(best)
        out.append(PlacedEdge(e.edge, e.points, best, text))
    return out


def segments_through_nodes(page: Layout) -> list[tuple[str, str]]:
    """(edge, node) pairs where an arrow runs across an endpoint it does not belong to."""
    found = []
    for e in page.edges:
        for ident, placed in page.nodes.items():
            if ident in (e.edge.src, e.edge.dst):
                continue
            r = placed.rect
            for (x0, y0), (x1, y1) in itertools.pairwise(e.points):
                seg = Rect(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
                if seg.x < r.x1 - 0.5 and r.x < seg.x1 - 0.5 and seg.y < r.y1 - 0.5 \
                        and r.y < seg.y1 - 0.5:
                    found.append((f"{e.edge.src}->{e.edge.dst}", ident))
                    break
    return found
