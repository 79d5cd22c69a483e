"""Bundled edges: a fan of equal arrows becomes one arrow from (or to) a group node.

When several endpoints send the same ports to one target (every workload to
``kube-dns`` on ``UDP 53``, thirty clients to a port open to everyone), a diagram
shows a fan of parallel arrows with the same label, impossible to follow. A
*bundle* replaces the fan by one edge from a group node, ``12 workloads of
team-a``; the members stay drawn where they are (they may have other edges) and
the group names them. The same holds the other way: one source sending the same
ports to a group of targets.

Bundles are chosen greedily, largest first, ignoring highlights (so a path is
drawn over the same layout); an edge belongs to at most one bundle; two-headed
edges are never bundled. A highlighted edge in a bundle is drawn as well. Group nodes
with the same members are one node, whatever they are used for.

Examples
--------
>>> from reach.render.scene import Scene, SceneEdge, SceneNode
>>> from reach.endpoints import Endpoint
>>> dns = SceneNode("n0", "kube-dns", "Service", "kube-system", ())
>>> clients = [SceneNode(f"n{i}", f"app{i}", "Deployment", "team-a",
...                      (Endpoint("Deployment", "team-a", f"app{i}"),)) for i in range(1, 5)]
>>> edges = tuple(SceneEdge(c.id, "n0", "UDP 53", None) for c in clients)
>>> scene = bundle_edges(Scene((dns, *clients), edges))
>>> [(e.src, e.dst, e.label) for e in scene.edges]
[('n5', 'n0', 'UDP 53')]
>>> group = scene.node("n5")
>>> group.kind, group.namespace, group.label.split("\\n")[0]
('Group', 'team-a', '4 workloads of team-a')
>>> group.stands_for
('n1', 'n2', 'n3', 'n4')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reach.endpoints import Endpoint
from reach.render._source import WORKLOAD_KINDS
from reach.render.scene import Scene, SceneEdge, SceneNode

__all__ = ["BUNDLE_MIN", "GROUP", "bundle_edges", "group_label"]

BUNDLE_MIN = 4  # a fan of fewer arrows stays as it is
MAX_GROUPS = 12  # group nodes per diagram: past that they crowd the page more than they help
GROUP = "Group"
_NAMES = 3  # member names listed on a group's box


def _noun(kinds: set[str]) -> str:
    if kinds <= WORKLOAD_KINDS:
        return "workloads"
    if kinds == {"Pod"}:
        return "pods"
    if kinds == {"Service"}:
        return "services"
    if kinds == {"Namespace"}:
        return "namespaces"
    if kinds == {"External"}:
        return "ranges"
    return "endpoints"


def _family(kind: str) -> str:
    """What may share a group: workloads with workloads, pods with pods... ("" = never)."""
    if kind in WORKLOAD_KINDS:
        return "workload"
    if kind in ("Pod", "Service", "Namespace", "Class"):
        return kind
    return ""  # the internet, outside ranges, the ingress controller, groups: few, and apart


def group_label(members: Sequence[SceneNode]) -> str:
    """``12 workloads of team-a`` (or ``in 5 namespaces``), then a few names.

    The count is of endpoints, so a member that is itself a collapsed group counts
    for all it holds.
    """
    count = sum(max(len(m.members), 1) for m in members)
    noun = _noun({m.kind for m in members})
    spaces = sorted({m.namespace for m in members if m.namespace and m.kind != "Namespace"})
    if len(spaces) == 1 and all(m.namespace for m in members):
        head = f"{count} {noun} of {spaces[0]}"
    elif spaces:
        head = f"{count} {noun} in {len(spaces)} namespaces"
    else:
        head = f"{count} {noun}"
    names = sorted({ep.name if isinstance(ep, Endpoint) and ep.name else str(ep)
                    for m in members for ep in m.members}
                   or {m.label.split("\n")[0] for m in members})
    shown = names[:_NAMES] + ([f"… and {len(names) - _NAMES} more"] if len(names) > _NAMES
                              else [])
    return "\n".join([head, *shown])


def bundle_edges(scene: Scene, min_size: int = BUNDLE_MIN) -> Scene:
    """The scene with every fan of at least ``min_size`` equal edges bundled."""
    if min_size < 2:
        return scene
    nodes = {n.id: n for n in scene.nodes}
    free = [i for i, e in enumerate(scene.edges) if not e.both and not e.extra]
    fans: dict[tuple[str, str, str, str], list[int]] = {}
    for i in free:
        e = scene.edges[i]
        src, dst = _family(nodes[e.src].kind), _family(nodes[e.dst].kind)
        if src:
            fans.setdefault(("in", e.dst, e.label, src), []).append(i)
        if dst:
            fans.setdefault(("out", e.src, e.label, dst), []).append(i)
    taken: set[int] = set()
    chosen: list[tuple[str, str, list[int]]] = []
    for (direction, hub, _, _), members in sorted(fans.items(),
                                               key=lambda kv: (-len(kv[1]), kv[0])):
        members = [i for i in members if i not in taken]
        if len(members) < min_size:
            continue
        if len(chosen) >= MAX_GROUPS:
            break
        taken.update(members)
        chosen.append((direction, hub, members))
    if not chosen:
        return scene

    groups: dict[tuple[str, ...], SceneNode] = {}
    next_id = len(scene.nodes)
    # A highlighted edge in a bundle is drawn as well, over the layout (which is the same
    # with or without the path).
    new_edges: list[SceneEdge] = [e if i not in taken else replace(e, extra=True)
                                  for i, e in enumerate(scene.edges)
                                  if i not in taken or e.highlighted]
    for direction, _hub, members in chosen:
        ends = sorted({scene.edges[i].src if direction == "in" else scene.edges[i].dst
                       for i in members}, key=lambda ident: int(ident[1:]))
        key = tuple(ends)
        group = groups.get(key)
        if group is None:
            inner = [nodes[ident] for ident in ends]
            spaces = {n.namespace for n in inner}
            namespace = next(iter(spaces)) if len(spaces) == 1 and inner[0].kind != "Namespace" \
                else ""
            endpoints = tuple(sorted({m for n in inner for m in n.members}, key=str))
            group = SceneNode(f"n{next_id}", group_label(inner), GROUP, namespace, endpoints,
                              stands_for=key)
            next_id += 1
            groups[key] = group
        sample = replace(scene.edges[members[0]], highlighted=False)
        if direction == "in":
            new_edges.append(replace(sample, src=group.id))
        else:
            new_edges.append(replace(sample, dst=group.id))
    order = {n.id: k for k, n in enumerate((*scene.nodes, *groups.values()))}
    new_edges.sort(key=lambda e: (order[e.src], order[e.dst]))
    return replace(scene, nodes=(*scene.nodes, *groups.values()), edges=tuple(new_edges),
                   bundled=len(taken))
