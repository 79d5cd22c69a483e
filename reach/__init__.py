"""reach: Kubernetes NetworkPolicy reachability analysis.

>>> import reach
>>> net = reach.load("samples/seed/cluster.yaml", "samples/seed/policies/allow-us-east.yaml")
>>> verdict = net.can("network-policy/client-1", "network-policy/server", port=8888)
>>> bool(verdict)
True
"""

from __future__ import annotations

from reach.api import load
from reach.compile import Compiled, CompileOptions, compile_cluster
from reach.endpoints import Endpoint
from reach.errors import (
    ExpectationError,
    ManifestError,
    ReachError,
    RenderError,
    UnknownEndpoint,
)
from reach.model import Cluster, Diagnostic, Location
from reach.network import Connection, Network
from reach.ports import PortSet
from reach.report import format_connections
from reach.verdict import Side, Verdict

__version__ = "0.1.0"

__all__ = [
    "Cluster",
    "CompileOptions",
    "Compiled",
    "Connection",
    "Diagnostic",
    "Endpoint",
    "ExpectationError",
    "Location",
    "ManifestError",
    "Network",
    "PortSet",
    "ReachError",
    "RenderError",
    "Side",
    "UnknownEndpoint",
    "Verdict",
    "compile_cluster",
    "format_connections",
    "load",
]
