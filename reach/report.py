"""Connection lists as text, JSON, CSV, Markdown and pandas data frames.

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
>>> frame_rows([conn])
[('ns', 'a', 'Pod', 'ns', 'b', 'Pod', 'TCP', 80, 80)]
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from reach.endpoints import Endpoint
from reach.model import Diagnostic
from reach.network import Connection

if TYPE_CHECKING:
    import pandas

__all__ = ["CONNECTION_FORMATS", "FRAME_COLUMNS", "format_connections", "frame_rows", "to_frame"]

CONNECTION_FORMATS = ("txt", "json", "csv", "md")

#: The columns of :func:`to_frame`, one row per connection, protocol and port range.
FRAME_COLUMNS = ("src_namespace", "src_name", "src_kind", "dst_namespace", "dst_name",
                 "dst_kind", "protocol", "port_from", "port_to")

Row = tuple[str, str, str, str, str, str, str, int, int]


def _end(ep: Endpoint) -> tuple[str, str, str]:
    if ep.kind == "Namespace":
        return ep.name, ep.name, "Namespace"
    if ep.kind in ("Internet", "IngressController") and not ep.namespace:
        return "", str(ep), ep.kind
    return ep.namespace, ep.name, ep.kind


def frame_rows(connections: Iterable[Connection]) -> list[Row]:
    """The rows of :func:`to_frame`, as plain tuples (no pandas needed)."""
    rows: list[Row] = []
    for conn in connections:
        ends = (*_end(conn.src), *_end(conn.dst))
        for protocol, ranges in conn.ports.to_json().items():
            for first, last in ranges:
                rows.append((*ends, protocol, first, last))
    return rows


def to_frame(connections: Iterable[Connection]) -> pandas.DataFrame:
    """Connections as a flat pandas ``DataFrame``: :data:`FRAME_COLUMNS`, one row per
    connection, protocol and port range, as :meth:`~reach.engine.ports.PortSet.to_json`
    gives them: ports for TCP, UDP, SCTP and UDPLite, ``type * 256 + code`` for ICMP,
    and protocol ``ip_protocols`` with ranges of protocol numbers for the others.

    An outside range's ``*_name`` is its addresses (``10.0.0.0-10.255.255.255``), a
    namespace's is its name (also in ``*_namespace``). Needs pandas (the ``frames``
    extra: ``pip install 'reach-netpol[frames]'``).

    Examples
    --------
    >>> import reach
    >>> net = reach.load("samples/seed/cluster.yaml", "samples/seed/policies/allow-us-east.yaml")
    >>> frame = reach.to_frame(net.connections(by="workload"))
    >>> frame[frame.dst_name == "server"][["src_name", "protocol", "port_from", "port_to"]]
         src_name protocol  port_from  port_to
    ...  client-1      TCP       8888     8888
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("reach.to_frame needs pandas: pip install 'reach-netpol[frames]'"
                          ) from None
    return pd.DataFrame(frame_rows(connections), columns=list(FRAME_COLUMNS))


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
