"""How each kind of endpoint looks, shared by the DOT writer and the matplotlib painter.

>>> style_of("StatefulSet").shape, style_of("Service").shape
('cylinder', 'hexagon')
>>> style_of("Deployment") == style_of("Workload") != style_of("DaemonSet")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from reach.render._source import WORKLOAD_KINDS

__all__ = ["FADED_TEXT", "HIGHLIGHT", "Style", "style_of"]

HIGHLIGHT = "#d62728"
FADED_TEXT = "#94a3b8"
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
    "StatefulSet": Style("cylinder", "#ccfbf1", "#0f766e", "round", legend="stateful set"),
    "DaemonSet": Style("box3d", "#ecfccb", "#4d7c0f", "square", legend="daemon set"),
    "Job": Style("box", "#f1f5f9", "#475569", "round", "rounded,dashed,filled", "job"),
    "CronJob": Style("box", "#f1f5f9", "#475569", "round", "rounded,dashed,filled", "cron job"),
    "Service": Style("hexagon", "#fef9c3", "#a16207", "rarrow", legend="service"),
    "External": Style("note", "#f3f4f6", "#4b5563", "square", legend="outside addresses"),
    "Internet": Style("doubleoctagon", "#fee2e2", "#b91c1c", "roundtooth", legend="internet"),
    "IngressController": Style("invhouse", "#ede9fe", "#6d28d9", "darrow",
                               legend="ingress controller"),
    "Namespace": Style("folder", "#ffedd5", "#c2410c", "square", legend="namespace"),
    "Class": Style("box3d", "#e0f2fe", "#0369a1", "square", legend="equivalence class"),
    "Group": Style("box", "#ffffff", "#64748b", "square", "dashed,filled",
                   "group: one arrow for all its members"),
}
_OTHER = Style("box", "#ffffff", "#334155", "square", legend="other")


def style_of(kind: str) -> Style:
    """The look of endpoints of ``kind``: one colour and shape per legend entry.

    Deployments, ReplicaSets and the other plain workload kinds share one look
    (``workload``); stateful sets, daemon sets and jobs have their own.
    """
    found = _STYLES.get(kind)
    if found is not None:
        return found
    return _WORKLOAD if kind in WORKLOAD_KINDS else _OTHER
