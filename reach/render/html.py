"""The interactive page: one self-contained HTML file to pan, zoom, search and drill into.

:func:`to_html` lays out the diagram at up to three levels (namespaces, workloads,
pods; each through :mod:`reach.render.detail`, so each says what it coarsened) with
the same layout as the static pictures, and writes them into one page drawn by
`Bokeh <https://bokeh.org>`_: its JavaScript comes inline from the ``bokeh`` Python
package (``resources=INLINE``), so the file opens offline and loads nothing from
anywhere. The page offers:

* pan and zoom (drag, wheel, box zoom, reset), hovering for a node's full text and
  an arrow's ports;
* *search by name*: the endpoints whose name contains the text stand out;
* *click an endpoint*: the panel on the right lists its incoming and outgoing
  connections with their ports (and the bundles it is part of);
* *filters*: by namespace (several) and by port (``5432``, ``UDP 53``, ``53/udp``);
* *drill down*: from a selected namespace to its workloads, from a workload to its
  pods (the level switch above the diagram does the same by hand).

:class:`InteractiveView` shows the same page inline in Jupyter (an ``<iframe>``
whose ``srcdoc`` is the page, so it survives export). Bokeh is imported only here,
when a page is made.

The page's models carry names the browser tests (and curious users) can look up
with ``Bokeh.documents[0].get_model_by_name(...)``: ``nodes-LEVEL``,
``edges-LEVEL``, ``details``, ``level``, ``search``, ``namespaces``, ``port``,
``drill``.
"""

from __future__ import annotations

import html as html_text
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reach.errors import RenderError
from reach.render.detail import Budget, plan
from reach.render.layout import BOX_FONT, EDGE_FONT, NODE_FONT, Layout, layout
from reach.render.scene import port_label
from reach.render.style import CLUSTER_FILL, CLUSTER_LINE, EDGE, HIGHLIGHT, style_of

__all__ = ["HTML_BUDGET", "LEVELS", "InteractiveView", "interactive", "to_html"]

#: The page zooms, so it holds more than a printed page (routing stays a few seconds).
HTML_BUDGET = Budget(nodes=400, edges=1200)
LEVELS = ("namespace", "workload", "pod")
_TITLES = {"namespace": "namespaces", "workload": "workloads", "pod": "pods"}


@dataclass(frozen=True, slots=True)
class _Level:
    name: str
    page: Layout


def _levels(source: Any, levels: tuple[str, ...], **options: Any) -> list[_Level]:
    out: list[_Level] = []
    seen: set[tuple[str, int, int]] = set()
    for level in levels:
        try:
            scene = plan(source, level, **options)
        except RenderError:
            if level == levels[-1] and not out:
                raise
            continue
        key = (scene.level, len(scene.nodes), len(scene.edges))
        if key in seen:  # coarsened into a level already on the page
            continue
        seen.add(key)
        out.append(_Level(level, layout(scene)))
    if not out:
        raise RenderError("nothing to draw: no level of detail has an endpoint")
    return out


def _ports_code(ports: Any) -> list[list[Any]]:
    """A port set as ``[[protocol, lo, hi], ...]`` for the page's port filter."""
    if ports is None:
        return []
    if ports.is_all():
        return [["*", 1, 65535]]
    return [[proto, a, b] for proto, ranges in ports.to_json().items() for a, b in ranges]


def _members_text(node: Any) -> str:
    names = [str(m) for m in node.members[:30]]
    if len(node.members) > 30:
        names.append(f"… and {len(node.members) - 30} more")
    return "\n".join(names)


def _sources(level: _Level) -> dict[str, dict[str, list[Any]]]:
    """The columns of the page's data sources for one level."""
    page = level.page
    ids = list(page.nodes)
    index = {ident: k for k, ident in enumerate(ids)}
    groups_of: dict[str, list[int]] = {ident: [] for ident in ids}
    for ident, placed in page.nodes.items():
        for member in placed.node.stands_for:
            groups_of.setdefault(member, []).append(index[ident])
    nodes: dict[str, list[Any]] = {k: [] for k in (
        "x", "y", "w", "h", "fill", "line", "dash", "text", "full", "kind", "legend",
        "namespace", "name", "members", "groups", "search", "alpha", "line_alpha", "width",
        "outline")}
    for ident in ids:
        placed = page.nodes[ident]
        n, r = placed.node, placed.rect
        look = style_of(n.kind)
        name = n.label.split("\n")[0]
        nodes["x"].append(r.cx)
        nodes["y"].append(r.cy)
        nodes["w"].append(r.w)
        nodes["h"].append(r.h)
        nodes["fill"].append(look.fill)
        nodes["line"].append(look.line)
        nodes["outline"].append(look.line)
        nodes["dash"].append("dashed" if "dashed" in look.style else "solid")
        nodes["text"].append(n.text)
        nodes["full"].append(n.text.replace("\n", " · "))
        nodes["kind"].append(n.kind)
        nodes["legend"].append(look.legend)
        nodes["namespace"].append(n.namespace if n.kind != "Namespace" else name)
        nodes["name"].append(name)
        nodes["members"].append(_members_text(n))
        nodes["groups"].append(groups_of.get(ident, []))
        nodes["search"].append(" ".join([n.label.lower(), *(str(m).lower()
                                                           for m in n.members)]))
        nodes["alpha"].append(1.0)
        nodes["line_alpha"].append(1.0)
        nodes["width"].append(2.5 if n.highlighted else 1.0)
    edges: dict[str, list[Any]] = {k: [] for k in (
        "xs", "ys", "src", "dst", "label", "ports", "both", "colour", "alpha", "width")}
    heads: dict[str, list[Any]] = {k: [] for k in ("xs", "ys", "edge", "colour", "alpha")}
    labels: dict[str, list[Any]] = {k: [] for k in ("x", "y", "text", "edge", "alpha",
                                                    "colour")}
    for k, placed_edge in enumerate(page.edges):
        e = placed_edge.edge
        colour = HIGHLIGHT if e.highlighted else EDGE
        pts = placed_edge.points
        edges["xs"].append([p[0] for p in pts])
        edges["ys"].append([p[1] for p in pts])
        edges["src"].append(index[e.src])
        edges["dst"].append(index[e.dst])
        edges["label"].append(port_label(e.ports, e.label).replace("\n", ", "))
        edges["ports"].append(_ports_code(e.ports))
        edges["both"].append(e.both)
        edges["colour"].append(colour)
        edges["alpha"].append(1.0)
        edges["width"].append(2.5 if e.highlighted else 1.2)
        ends = [(pts[-2], pts[-1])] + ([(pts[1], pts[0])] if e.both else [])
        for (px, py), (qx, qy) in ends:
            length = math.hypot(qx - px, qy - py) or 1.0
            ux, uy = (qx - px) / length, (qy - py) / length
            bx, by = qx - ux * 7, qy - uy * 7
            heads["xs"].append([qx, bx - uy * 3, bx + uy * 3])
            heads["ys"].append([qy, by + ux * 3, by - ux * 3])
            heads["edge"].append(k)
            heads["colour"].append(colour)
            heads["alpha"].append(1.0)
        if placed_edge.label is not None and e.label:
            labels["x"].append(placed_edge.label.cx)
            labels["y"].append(placed_edge.label.cy)
            labels["text"].append(placed_edge.text or e.label)
            labels["edge"].append(k)
            labels["alpha"].append(1.0)
            labels["colour"].append(colour)
    boxes: dict[str, list[Any]] = {k: [] for k in ("left", "right", "top", "bottom", "name",
                                                   "tx", "ty")}
    for box in page.boxes:
        boxes["left"].append(box.rect.x)
        boxes["right"].append(box.rect.x1)
        boxes["top"].append(box.rect.y)
        boxes["bottom"].append(box.rect.y1)
        boxes["name"].append(box.namespace)
        boxes["tx"].append(box.title[0])
        boxes["ty"].append(box.title[1])
    # The names on the boxes have their own source: a selection of endpoints must not
    # restyle them (the page dims by its own alpha columns).
    texts = {"x": list(nodes["x"]), "y": list(nodes["y"]), "text": list(nodes["text"]),
             "alpha": list(nodes["alpha"])}
    return {"nodes": nodes, "edges": edges, "heads": heads, "labels": labels, "boxes": boxes,
            "texts": texts}


# The page's behaviour, written for reach (no third-party code): one function that
# recomputes what is visible and highlighted, and the panel of the selected endpoint.
_APPLY = r"""
const levels = meta.levels;
const active = levels[level.active];
function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
const PORT = /^(?:(TCP|UDP|SCTP)[\s/]*)?(\d+)(?:[\s/]*(TCP|UDP|SCTP))?$/;
function portMatch(codes, query) {
  if (!query) return true;
  if (codes.length === 0) return true;
  const m = query.trim().toUpperCase().match(PORT);
  if (!m) return true;
  const proto = m[1] || m[3] || null;
  const port = parseInt(m[2], 10);
  return codes.some(([p, lo, hi]) =>
    (p === '*' || proto === null || p === proto) && lo <= port && port <= hi);
}
const chosen = new Set(namespaces.value);
const query = search.value.trim().toLowerCase();
const portQuery = port.value;
let matches = 0;
for (const name of levels) {
  const on = name === active;
  for (const r of renderers[name]) r.visible = on;
  const n = sources[name].nodes.data;
  const e = sources[name].edges.data;
  const h = sources[name].heads.data;
  const l = sources[name].labels.data;
  const shown = n.x.map((_, i) =>
    chosen.size === 0 || n.namespace[i] === '' || chosen.has(n.namespace[i]));
  const hit = n.x.map((_, i) => query !== '' && n.search[i].includes(query));
  for (let i = 0; i < n.x.length; i++) {
    n.alpha[i] = shown[i] ? ((query === '' || hit[i]) ? 1.0 : 0.25) : 0.0;
    n.line_alpha[i] = n.alpha[i];
    n.outline[i] = hit[i] ? '#d62728' : meta.outline[name][i];
    n.width[i] = hit[i] ? 3.0 : meta.width[name][i];
    if (on && hit[i] && shown[i]) matches += 1;
  }
  for (let k = 0; k < e.src.length; k++) {
    const s = e.src[k], d = e.dst[k];
    const visible = shown[s] && shown[d] && portMatch(e.ports[k], portQuery);
    e.alpha[k] = visible ? ((query === '' || hit[s] || hit[d]) ? 1.0 : 0.2) : 0.0;
  }
  for (let k = 0; k < h.edge.length; k++) h.alpha[k] = e.alpha[h.edge[k]];
  for (let k = 0; k < l.edge.length; k++) l.alpha[k] = e.alpha[l.edge[k]];
  const t = sources[name].texts.data;
  for (let i = 0; i < n.x.length; i++) t.alpha[i] = n.alpha[i];
  for (const part of ['nodes', 'edges', 'heads', 'labels', 'texts']) {
    sources[name][part].change.emit();
  }
}
const said = meta.notices[active];
notice.text = said ? '<p style="margin:0;color:#475569">' + esc(said) + '</p>' : '';
const nodes = sources[active].nodes;
const sel = nodes.selected.indices.filter(i => nodes.data.alpha[i] > 0);
drill.disabled = !(sel.length === 1 && level.active < levels.length - 1
                   && nodes.data.namespace[sel[0]] !== '');
if (sel.length !== 1) {
  details.text = query !== ''
    ? '<p><b>' + matches + '</b> endpoint(s) match “' + esc(query) + '”</p>'
    : '<p style="color:#64748b">Click an endpoint to see its connections.</p>';
} else {
  const i = sel[0];
  const n = nodes.data;
  const e = sources[active].edges.data;
  const outs = [], ins = [];
  for (let k = 0; k < e.src.length; k++) {
    if (e.alpha[k] === 0) continue;
    const s = e.src[k], d = e.dst[k];
    if (s === i || (e.both[k] && d === i)) outs.push([s === i ? d : s, e.label[k]]);
    if (d === i || (e.both[k] && s === i)) ins.push([d === i ? s : d, e.label[k]]);
  }
  const row = ([j, label]) => '<li><span class="peer">' + esc(n.name[j])
    + '</span> <span class="ns" style="color:#64748b">' + esc(n.legend[j])
    + (n.namespace[j] ? ' in ' + esc(n.namespace[j]) : '') + '</span> <code>'
    + esc(label || '?') + '</code></li>';
  let text = '<h3 class="title">' + esc(n.name[i]) + '</h3><p class="kind">'
    + esc(n.legend[i]) + (n.namespace[i] ? ' in <b>' + esc(n.namespace[i]) + '</b>' : '')
    + '</p>';
  const notes = n.text[i].split('\n').slice(1).filter(s => s.startsWith('('));
  if (notes.length) text += '<p class="notes">' + notes.map(esc).join('<br>') + '</p>';
  text += '<h4>outgoing (' + outs.length + ')</h4><ul class="out">' + outs.map(row).join('')
    + '</ul>';
  text += '<h4>incoming (' + ins.length + ')</h4><ul class="in">' + ins.map(row).join('')
    + '</ul>';
  const groups = n.groups[i];
  if (groups.length) {
    text += '<h4>also drawn as part of</h4><ul>'
      + groups.map(g => '<li>' + esc(n.name[g]) + '</li>').join('') + '</ul>';
  }
  if (n.members[i] && n.members[i].includes('\n')) {
    text += '<h4>stands for</h4><pre>' + esc(n.members[i]) + '</pre>';
  }
  details.text = text;
}
"""

_DRILL = r"""
const levels = meta.levels;
const active = levels[level.active];
const nodes = sources[active].nodes;
const sel = nodes.selected.indices;
if (sel.length === 1 && level.active < levels.length - 1) {
  const i = sel[0];
  const ns = nodes.data.namespace[i];
  if (ns !== '') {
    namespaces.value = [ns];
    search.value = active === 'workload' ? nodes.data.name[i].toLowerCase() : '';
    nodes.selected.indices = [];
    level.active = level.active + 1;
  }
}
"""


# The diagram opens fitted to the plot; text is sized in screen pixels by Bokeh, so it
# is rescaled with the zoom (a layout point is ``scale`` pixels), like the rest.
_FIT = r"""
const w = plot.inner_width, h = plot.inner_height;
if (w > 0 && h > 0) {
  const scale = Math.min(w / page.width, h / page.height);
  const xw = w / scale, yh = h / scale;
  plot.x_range.setv({start: 0, end: xw, reset_start: 0, reset_end: xw});
  plot.y_range.setv({start: yh, end: 0, reset_start: yh, reset_end: 0});
}
"""

_ZOOM = r"""
const w = plot.inner_width;
const span = Math.abs(plot.x_range.end - plot.x_range.start);
if (w > 0 && span > 0) {
  const scale = w / span;  // pixels per layout point
  for (const [renderer, points] of texts) {
    renderer.glyph.text_font_size = (points * scale).toFixed(2) + 'px';
  }
}
"""


def _document(levels: list[_Level], title: str) -> Any:
    from bokeh.layouts import column, row
    from bokeh.models import (
        Button,
        ColumnDataSource,
        CustomJS,
        Div,
        HoverTool,
        MultiChoice,
        RadioButtonGroup,
        Range1d,
        TapTool,
        TextInput,
    )
    from bokeh.plotting import figure

    width = max(lv.page.width for lv in levels)
    height = max(lv.page.height for lv in levels)
    plot = figure(x_range=Range1d(0, width), y_range=Range1d(height, 0),
                  sizing_mode="stretch_both", tools="pan,wheel_zoom,box_zoom,reset",
                  active_scroll="wheel_zoom", toolbar_location="above", name="diagram",
                  min_height=420)
    plot.axis.visible = False
    plot.grid.visible = False
    plot.outline_line_color = None
    plot.background_fill_color = "white"
    sources: dict[str, dict[str, Any]] = {}
    renderers: dict[str, list[Any]] = {}
    texts: list[tuple[Any, float]] = []  # (text renderer, its size in layout points)
    node_renderers = []
    meta: dict[str, Any] = {"levels": [lv.name for lv in levels], "notices": {},
                            "outline": {}, "width": {}}
    all_namespaces: set[str] = set()
    for lv in levels:
        data = _sources(lv)
        meta["notices"][lv.name] = lv.page.scene.notice
        meta["outline"][lv.name] = list(data["nodes"]["outline"])
        meta["width"][lv.name] = list(data["nodes"]["width"])
        all_namespaces.update(ns for ns in data["nodes"]["namespace"] if ns)
        src = {key: ColumnDataSource(value, name=f"{key}-{lv.name}")
               for key, value in data.items()}
        sources[lv.name] = src
        on = lv is levels[0]
        rs = [
            plot.quad(left="left", right="right", top="top", bottom="bottom", source=src["boxes"],
                      fill_color=CLUSTER_FILL, line_color=CLUSTER_LINE, border_radius=8,
                      visible=on),
            plot.text(x="tx", y="ty", text="name", source=src["boxes"],
                      text_font_size=f"{BOX_FONT}pt",
                      text_font_style="bold", text_color="#334155", text_baseline="middle",
                      visible=on),
            plot.multi_line(xs="xs", ys="ys", source=src["edges"], line_color="colour",
                            line_alpha="alpha", line_width="width", visible=on,
                            name=f"edge-lines-{lv.name}", hover_line_color=HIGHLIGHT),
            plot.patches(xs="xs", ys="ys", source=src["heads"], fill_color="colour",
                         line_color="colour", fill_alpha="alpha", line_alpha="alpha",
                         visible=on),
            plot.text(x="x", y="y", text="text", source=src["labels"],
                      text_font_size=f"{EDGE_FONT}pt",
                      text_color="colour", text_alpha="alpha", text_align="center",
                      text_baseline="middle", background_fill_color="white",
                      background_fill_alpha="alpha", visible=on),
        ]
        nodes = plot.rect(x="x", y="y", width="w", height="h", source=src["nodes"],
                          fill_color="fill", line_color="outline", line_dash="dash",
                          fill_alpha="alpha", line_alpha="line_alpha", line_width="width",
                          border_radius=5, visible=on, name=f"node-boxes-{lv.name}",
                          nonselection_fill_alpha="alpha", nonselection_line_alpha="line_alpha",
                          selection_line_color=HIGHLIGHT, selection_line_width=3)
        node_text = plot.text(x="x", y="y", text="text", source=src["texts"],
                              text_font_size=f"{NODE_FONT}pt", text_align="center",
                              text_baseline="middle", text_alpha="alpha", text_color="#0f172a",
                              visible=on)
        rs += [nodes, node_text]
        texts += [(rs[1], BOX_FONT), (rs[4], EDGE_FONT), (node_text, NODE_FONT)]
        node_renderers.append(nodes)
        plot.add_tools(HoverTool(renderers=[nodes], tooltips=[("", "@full")]),
                       HoverTool(renderers=[rs[2]], tooltips=[("ports", "@label")],
                                 line_policy="interp"))
        renderers[lv.name] = rs
    plot.add_tools(TapTool(renderers=node_renderers))

    first = _first_level(levels)
    level = RadioButtonGroup(labels=[_TITLES[lv.name] for lv in levels], active=first,
                             name="level")
    for k, rs in enumerate(renderers.values()):
        for r in rs:
            r.visible = k == first
    search = TextInput(placeholder="search by name", name="search", width=220)
    namespaces = MultiChoice(options=sorted(all_namespaces), placeholder="all namespaces",
                             name="namespaces", width=300)
    port = TextInput(placeholder="port: 5432, UDP 53", name="port", width=150)
    drill = Button(label="drill down", disabled=True, name="drill", width=110)
    details = Div(text='<p style="color:#64748b">Click an endpoint to see its connections.</p>',
                  name="details", width=340, styles={"overflow-y": "auto", "max-height": "80vh",
                                                     "font-size": "13px"})
    notice = Div(text="", name="notice", sizing_mode="stretch_width")
    legend = Div(text=_legend_html(levels), name="legend", width=340)
    args = {"meta": meta, "sources": sources, "renderers": renderers, "level": level,
            "search": search, "namespaces": namespaces, "port": port, "drill": drill,
            "details": details, "notice": notice}
    apply = CustomJS(args=args, code=_APPLY)
    for widget, attr in ((level, "active"), (search, "value_input"), (search, "value"),
                         (namespaces, "value"), (port, "value_input"), (port, "value")):
        widget.js_on_change(attr, apply)
    for lv in levels:
        sources[lv.name]["nodes"].selected.js_on_change("indices", apply)
    drill.js_on_event("button_click", CustomJS(args=args, code=_DRILL))
    fit = CustomJS(args={"plot": plot, "page": {"width": width, "height": height}}, code=_FIT)
    plot.js_on_change("inner_width", fit)
    plot.js_on_change("inner_height", fit)
    zoom = CustomJS(args={"plot": plot, "texts": texts}, code=_ZOOM)
    for attr in ("start", "end"):
        plot.x_range.js_on_change(attr, zoom)
    plot.js_on_change("inner_width", zoom)
    heading = Div(text=f"<h2 style='margin:4px 0'>{html_text.escape(title or 'reach')}</h2>")
    controls = row(level, search, namespaces, port, drill, sizing_mode="stretch_width")
    side = column(details, legend, width=360, sizing_mode="stretch_height")
    body = row(plot, side, sizing_mode="stretch_both")
    root = column(heading, controls, notice, body, sizing_mode="stretch_both")
    shown = levels[first].page.scene.notice
    notice.text = (f'<p style="margin:0;color:#475569">{html_text.escape(shown)}</p>'
                   if shown else "")
    return root


def _first_level(levels: list[_Level]) -> int:
    """The level the page opens at: workloads when they are drawn in full, else the first."""
    for k, lv in enumerate(levels):
        if lv.name == "workload" and not lv.page.scene.notice and len(lv.page.nodes) <= 150:
            return k
    return 0


def _legend_html(levels: list[_Level]) -> str:
    looks: dict[str, Any] = {}
    for lv in levels:
        for n in lv.page.nodes.values():
            look = style_of(n.node.kind)
            looks.setdefault(look.legend, look)
    items = "".join(
        f'<span style="display:inline-block;margin:2px 10px 2px 0">'
        f'<span style="display:inline-block;width:14px;height:10px;background:{look.fill};'
        f'border:1px {"dashed" if "dashed" in look.style else "solid"} {look.line};'
        f'margin-right:4px"></span>{html_text.escape(text)}</span>'
        for text, look in looks.items())
    caption = next((lv.page.scene.caption for lv in levels if lv.page.scene.caption), "")
    note = f'<p style="color:#64748b;font-size:12px">{html_text.escape(caption)}</p>' \
        if caption else ""
    return f'<div style="font-size:12px">{items}</div>{note}'


def to_html(
    source: Any,
    target: str | os.PathLike[str] | None = None,
    *,
    levels: tuple[str, ...] = LEVELS,
    focus: Any = None,
    hops: int = 1,
    highlight: Any = None,
    collapse: bool = True,
    summarize: bool = True,
    services: bool = True,
    bundle: bool = True,
    title: str = "",
    budget: Budget = HTML_BUDGET,
) -> str:
    """The interactive page of ``source`` as one self-contained HTML text.

    Parameters
    ----------
    source
        A :class:`~reach.network.Network` or a reachability ``networkx.DiGraph``.
    target
        A path to write the page to (optional).
    levels
        The granularities the page offers, coarsest first (default namespaces,
        workloads, pods); a level that would repeat a coarser one is left out.
    focus, hops, highlight, collapse, summarize, services, bundle, title, budget
        As for :func:`reach.render.to_dot`; the budget is per level.

    Raises
    ------
    reach.errors.RenderError
        There is nothing to draw.

    Examples
    --------
    >>> import networkx as nx
    >>> from reach.endpoints import Endpoint
    >>> g = nx.DiGraph()
    >>> g.add_edge(Endpoint("Deployment", "shop", "web"), Endpoint("StatefulSet", "shop", "db"))
    >>> page = to_html(g, levels=("workload",))
    >>> page.startswith("<!DOCTYPE html>") and "<script src=" not in page
    True
    """
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    options = {"focus": focus, "hops": hops, "highlight": highlight, "collapse": collapse,
               "summarize": summarize, "services": services, "bundle": bundle, "title": title,
               "budget": budget}
    built = _levels(source, levels, **options)
    text: str = file_html(_document(built, title), resources=INLINE,
                          title=title or "reach: reachability")
    if target is not None:
        Path(target).write_text(text, encoding="utf-8")
    return text


class InteractiveView:
    """The interactive page, shown inline in Jupyter (an ``<iframe>`` holding the page).

    ``html()`` gives the page, ``save(path)`` writes it; it is made once and kept.
    """

    def __init__(self, source: Any, *, height: int = 720, **options: Any) -> None:
        self.source = source
        self.height = height
        self.options = options
        self._html: str | None = None

    def html(self) -> str:
        if self._html is None:
            self._html = to_html(self.source, **self.options)
        return self._html

    def save(self, path: str | os.PathLike[str]) -> str:
        text = self.html()
        Path(path).write_text(text, encoding="utf-8")
        return text

    def _repr_html_(self) -> str:
        try:
            page = self.html()
        except Exception as exc:  # a display method never raises
            return (f'<pre style="color:#b91c1c">reach could not draw the page: '
                    f"{html_text.escape(type(exc).__name__)}: {html_text.escape(str(exc))}</pre>")
        return (f'<iframe srcdoc="{html_text.escape(page, quote=True)}" '
                f'style="width:100%;box-sizing:border-box;height:{self.height}px;'
                f'border:1px solid #e2e8f0" '
                'sandbox="allow-scripts"></iframe>')

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        return f"<InteractiveView {opts}>" if opts else "<InteractiveView>"


def interactive(source: Any, **options: Any) -> InteractiveView:
    """The interactive page for notebooks; ``options`` are those of :func:`to_html`."""
    return InteractiveView(source, **options)
