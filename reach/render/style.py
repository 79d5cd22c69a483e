"""How each kind of endpoint looks, shared by the DOT writer and the matplotlib painter.

>>> style_of("StatefulSet").shape, style_of("Service").shape
('cylinder', 'hexagon')
>>> style_of("Deployment") == style_of("Workload")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from reach.render._source import WORKLOAD_KINDS

__all__ = ["HIGHLIGHT", "Style", "style_of"]

HIGHLIGHT = "#d62728"
EDGE = "#475569"
CLUSTER_FILL = "#f8fafc"
CLUSTER_LINE = "#94a3b8"


@dataclass(frozen=True, slots=True)
class Style:
    """``shape`` and ``style`` are Graphviz's; ``box`` is a matplotlib ``boxstyle``."""

    shape: str
    fill: str
    line: str
    box: str
    style: str = "filled"
    legend: str = ""


_WORKLOAD = Style("box", "#dcfce7", "#15803d", "round", "rounded,filled", "workload")
_STYLES: dict[str, Style] = {
    "Pod": Style("ellipse", "#dbeafe", "#1d4ed8", "round4", legend="pod"),
    "StatefulSet": Style("cylinder", "#dcfce7", "#15803d", "round", legend="stateful set"),
    "DaemonSet": Style("box3d", "#dcfce7", "#15803d", "square", legend="daemon set"),
    "Job": Style("box", "#dcfce7", "#15803d", "round", "rounded,dashed,filled", "job"),
    "CronJob": Style("box", "#dcfce7", "#15803d", "round", "rounded,dashed,filled", "cron job"),
    "Service": Style("hexagon", "#fef9c3", "#a16207", "rarrow", legend="service"),
    "External": Style("note", "#f3f4f6", "#4b5563", "square", legend="outside addresses"),
    "Internet": Style("doubleoctagon", "#fee2e2", "#b91c1c", "roundtooth", legend="internet"),
    "IngressController": Style("invhouse", "#ede9fe", "#6d28d9", "darrow",
                               legend="ingress controller"),
    "Namespace": Style("folder", "#ffedd5", "#c2410c", "square", legend="namespace"),
    "Class": Style("box3d", "#e0f2fe", "#0369a1", "square", legend="equivalence class"),
}
_OTHER = Style("box", "#ffffff", "#334155", "square", legend="other")


def style_of(kind: str) -> Style:
    """The look of endpoints of ``kind`` (workload kinds share one look, but for a few)."""
    found = _STYLES.get(kind)
    if found is not None:
        return found
    return _WORKLOAD if kind in WORKLOAD_KINDS else _OTHER
