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
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.model import Diagnostic
from reach.network import Connection, RowRun

if TYPE_CHECKING:
    import pandas

__all__ = ["CONNECTION_FORMATS", "FRAME_COLUMNS", "format_connections", "frame_rows", "to_frame",
           "write_connections"]

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
    connections: Iterable[Connection],
    fmt: str = "txt",
    warnings: Sequence[Diagnostic] = (),
) -> str:
    """Render connections in one of :data:`CONNECTION_FORMATS` (no trailing newline)."""
    if fmt in ("txt", "csv", "md"):
        buffer = io.StringIO()
        write_connections(connections, fmt, buffer)
        return buffer.getvalue().rstrip("\n")
    if fmt == "json":
        doc = {
            "connections": [c.to_json() for c in connections],
            "warnings": [str(w) for w in warnings if w.severity != "info"],
            "caveats": [w.located for w in warnings if w.caveat],
        }
        return json.dumps(doc, indent=2)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(CONNECTION_FORMATS)}")


def write_connections(connections: Iterable[Connection | RowRun], fmt: str,
                      out: TextIO) -> None:
    """Write connections as ``txt``, ``csv`` or ``md`` lines to ``out`` as they come: a
    list of millions of connections streams in bounded memory, each endpoint and port
    set put into words once. Runs of a row (:meth:`reach.Network.connection_chunks`)
    are written without a :class:`Connection` per line.

    >>> import sys
    >>> from reach.endpoints import Endpoint
    >>> from reach.network import Connection
    >>> from reach.engine.ports import PortSet
    >>> conn = Connection(Endpoint("Pod", "ns", "a"), Endpoint("Pod", "ns", "b"),
    ...                   PortSet.single("TCP", 80))
    >>> write_connections([conn], "md", sys.stdout)
    | src | dst | connections |
    |---|---|---|
    | ns/a[Pod] | ns/b[Pod] | TCP 80 |
    """
    if fmt not in ("txt", "csv", "md"):
        raise ValueError(f"write_connections writes txt, csv or md, not {fmt!r}")
    # Keyed by identity (connections share their endpoint and port-set objects), each
    # entry holding its object so that no id is reused while the list streams.
    names: dict[int, tuple[Endpoint, str]] = {}
    words: dict[int, tuple[PortSet, str]] = {}
    quote: Callable[[str], str] = _as_is
    if fmt == "csv":
        out.write("src,dst,connections\n")
        quote = _csv_field
        line = "{},{},{}\n"
    elif fmt == "md":
        out.write("| src | dst | connections |\n|---|---|---|\n")
        line = "| {} | {} | {} |\n"
    else:
        line = "{} => {} : {}\n"
    lines: list[str] = []
    run_names: dict[int, list[str]] = {}  # per ConnectionRows: every end in words
    run_words: list[str | None] = []
    for conn in connections:
        if isinstance(conn, RowRun):
            table = run_names.get(id(conn.rows))
            if table is None:
                run_names.clear()  # one ConnectionRows at a time
                table = run_names[id(conn.rows)] = [quote(n) for n in conn.rows.names]
            sets = conn.rows.c.ports.sets
            if len(run_words) < len(sets):
                run_words.extend([None] * (len(sets) - len(run_words)))
            for v in set(conn.ids):
                if run_words[v] is None:
                    run_words[v] = quote(str(sets[v]))
            head = line.format(table[conn.src], "\0", "\1")
            lead, _, rest = head.partition("\0")
            middle, _, tail = rest.partition("\1")
            lines.extend([lead + table[j] + middle + run_words[v] + tail  # type: ignore[operator]
                          for j, v in zip(conn.dsts, conn.ids, strict=True)])
            if len(lines) >= 4096:
                out.write("".join(lines))
                lines.clear()
            continue
        a, b, ports = conn.src, conn.dst, conn.ports
        src = names.get(id(a))
        if src is None:
            src = names[id(a)] = (a, quote(str(a)))
        dst = names.get(id(b))
        if dst is None:
            dst = names[id(b)] = (b, quote(str(b)))
        allowed = words.get(id(ports))
        if allowed is None:
            allowed = words[id(ports)] = (ports, quote(str(ports)))
        lines.append(line.format(src[1], dst[1], allowed[1]))
        if len(lines) >= 4096:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))


def _as_is(text: str) -> str:
    return text


def _csv_field(text: str) -> str:
    """One CSV field as the csv module writes it (quoted when it must be)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([text])
    return buffer.getvalue()
