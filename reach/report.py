"""Connection lists as text, JSON, CSV and Markdown.

The text format is line-compatible with the np-guard netpol-analyzer connlist
(``src => dst : TCP 80,UDP 53``), so the two tools can be diffed. JSON is the
stable machine contract::

    {"connections": [{"src": EP, "dst": EP, "protocols": {"TCP": [[80, 80]]}}],
     "warnings": ["..."], "caveats": ["..."]}

``caveats`` lists what reach did not analyse or had to assume that may make these
connections differ from what the cluster enforces (see :attr:`reach.Network.caveats`).

Examples
--------
>>> from reach.endpoints import Endpoint
>>> from reach.network import Connection
>>> from reach.engine.ports import PortSet
>>> conn = Connection(Endpoint("Pod", "ns", "a"), Endpoint("Pod", "ns", "b"),
...                   PortSet.single("TCP", 80))
>>> print(format_connections([conn], "txt"))
ns/a[Pod] => ns/b[Pod] : TCP 80
>>> print(format_connections([conn], "csv"))
src,dst,connections
ns/a[Pod],ns/b[Pod],TCP 80
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from reach.model import Diagnostic
from reach.network import Connection

__all__ = ["CONNECTION_FORMATS", "format_connections"]

CONNECTION_FORMATS = ("txt", "json", "csv", "md")


def format_connections(
    connections: Sequence[Connection],
    fmt: str = "txt",
    warnings: Sequence[Diagnostic] = (),
) -> str:
    """Render connections in one of :data:`CONNECTION_FORMATS` (no trailing newline)."""
    if fmt == "txt":
        return "\n".join(str(c) for c in connections)
    if fmt == "json":
        doc = {
            "connections": [c.to_json() for c in connections],
            "warnings": [str(w) for w in warnings if w.severity != "info"],
            "caveats": [w.located for w in warnings if w.caveat],
        }
        return json.dumps(doc, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["src", "dst", "connections"])
        for c in connections:
            writer.writerow([str(c.src), str(c.dst), str(c.ports)])
        return buffer.getvalue().rstrip("\n")
    if fmt == "md":
        lines = ["| src | dst | connections |", "|---|---|---|"]
        lines += [f"| {c.src} | {c.dst} | {c.ports} |" for c in connections]
        return "\n".join(lines)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(CONNECTION_FORMATS)}")
