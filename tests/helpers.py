"""Small helpers shared by the loader tests: read text as stdin, catch the error text."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import pytest

from reach.endpoints import Endpoint
from reach.engine.compiler import Compiled
from reach.engine.ports import PortSet
from reach.errors import ManifestError
from reach.loader import read_cluster
from reach.model import Cluster
from reach.network import Connection

POLICY_HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {}
"""
"""Five lines: a policy body given to :func:`policy` starts on line 6."""


def load(text: str) -> Cluster:
    """Read ``text`` as standard input."""
    return read_cluster("-", stdin_text=textwrap.dedent(text))


def error(text: str) -> str:
    """The message of the ManifestError that reading ``text`` raises."""
    with pytest.raises(ManifestError) as info:
        load(text)
    return str(info.value)


def policy(body: str) -> str:
    """A NetworkPolicy document whose spec continues with ``body`` (indented 2)."""
    return POLICY_HEAD + textwrap.indent(textwrap.dedent(body), "  ")


def policy_error(body: str) -> str:
    """The error that the policy with spec ``body`` raises."""
    with pytest.raises(ManifestError) as info:
        read_cluster("-", stdin_text=policy(body))
    return str(info.value)


def per_atom(connections: Iterable[Connection], compiled: Compiled
             ) -> dict[tuple[Endpoint, Endpoint], PortSet]:
    """Connections by (src, dst), outside ranges split back into the compiler's atoms.

    Connection lists merge neighbouring ranges with the same connections; tests that
    compute what each atom gets compare atom by atom.
    """
    out: dict[tuple[Endpoint, Endpoint], PortSet] = {}
    atoms = [Endpoint.external(lo, hi) for lo, hi in compiled.externals]
    for conn in connections:
        srcs = [a for a in atoms if conn.src.lo <= a.lo and a.hi <= conn.src.hi] \
            if conn.src.is_external else [conn.src]
        dsts = [a for a in atoms if conn.dst.lo <= a.lo and a.hi <= conn.dst.hi] \
            if conn.dst.is_external else [conn.dst]
        for s in srcs:
            for d in dsts:
                assert (s, d) not in out, f"{s} => {d} listed twice"
                out[(s, d)] = conn.ports
    return out
