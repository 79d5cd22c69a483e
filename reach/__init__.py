"""reach: Kubernetes NetworkPolicy reachability analysis.

Load manifests, ask who can reach whom and why, and draw it:

>>> import reach
>>> net = reach.load("samples/seed/cluster.yaml", "samples/seed/policies/allow-us-east.yaml")
>>> verdict = net.can("network-policy/client-1", "network-policy/server", port=8888)
>>> bool(verdict)
True
>>> [str(c) for c in net.connections(by="pod") if c.dst.name == "server"]
['network-policy/client-1[Pod] => network-policy/server[Pod] : TCP 8888']
>>> net.can("network-policy/client-1", "network-policy/server")  # doctest: +ELLIPSIS
<Verdict network-policy/client-1[Pod] -> ...: ALLOWED on TCP 8888 (not on every port)>

Human text is ``str()`` of any result (``print(verdict)``), its machine form
``to_json()``; :func:`to_frame` turns connection lists into pandas data frames.

The query functions (:func:`paths`, :func:`reachable_from`, :func:`reachable_to`,
:func:`isolated`, :func:`exposure`) take the network first; they import networkx
on first use, so ``import reach`` stays quick. Diagrams live in :mod:`reach.render`.
:func:`with_staged` is a cluster with Calico's staged policies enforced, to see what
committing them would change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from reach.analysis.check import CheckReport, check, load_expectations
from reach.analysis.diff import Diff, diff
from reach.analysis.lint import Finding, lint
from reach.api import load
from reach.endpoints import Endpoint
from reach.engine.compiler import Compiled, CompileOptions, compile_cluster
from reach.engine.ports import PortSet
from reach.errors import (
    ExpectationError,
    InvalidQuery,
    ManifestError,
    ReachError,
    RenderError,
    UnknownEndpoint,
)
from reach.model import Cluster, Diagnostic, Location
from reach.network import Connection, Network
from reach.report import format_connections, to_frame
from reach.staging import with_staged
from reach.verdict import ServiceVerdict, Side, Verdict

if TYPE_CHECKING:
    from reach.graph.queries import exposure, isolated, paths, reachable_from, reachable_to

__version__ = "0.1.0"

__all__ = [
    "CheckReport",
    "Cluster",
    "CompileOptions",
    "Compiled",
    "Connection",
    "Diagnostic",
    "Diff",
    "Endpoint",
    "ExpectationError",
    "Finding",
    "InvalidQuery",
    "Location",
    "ManifestError",
    "Network",
    "PortSet",
    "ReachError",
    "RenderError",
    "ServiceVerdict",
    "Side",
    "UnknownEndpoint",
    "Verdict",
    "check",
    "compile_cluster",
    "diff",
    "exposure",
    "format_connections",
    "isolated",
    "lint",
    "load",
    "load_expectations",
    "paths",
    "reachable_from",
    "reachable_to",
    "to_frame",
    "with_staged",
]

_LAZY = {name: "reach.graph.queries" for name in
         ("exposure", "isolated", "paths", "reachable_from", "reachable_to")}


def __getattr__(name: str) -> Any:
    """Import the graph queries (and networkx) only when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reach' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
