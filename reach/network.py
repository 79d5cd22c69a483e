"""The analysed network: a loaded cluster plus its compiled reachability.

Examples
--------
>>> from reach.model import Cluster, Pod, Labels
>>> net = Network(Cluster(pods=(Pod("ns", "a"), Pod("ns", "b"))))
>>> bool(net.can("ns/a", "ns/b", port=80))
True
>>> [str(c) for c in net.connections(by="namespace")]
['0.0.0.0-255.255.255.255[External] => ns[Namespace] : All Connections', \
'ns[Namespace] => 0.0.0.0-255.255.255.255[External] : All Connections']
"""

from __future__ import annotations

import html
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from reach.endpoints import Endpoint, parse_reference
from reach.engine.addresses import address_key
from reach.engine.compiler import Compiled, CompileOptions, compile_cluster
from reach.engine.ports import PortSet
from reach.engine.trace import TraceContext
from reach.errors import UnknownEndpoint
from reach.model import Cluster, Diagnostic, Direction, Pod
from reach.verdict import Side, Verdict, side_of

__all__ = ["Connection", "Granularity", "Network", "Resolved", "network_html"]

Granularity = Literal["pod", "workload", "namespace"]
GRANULARITIES: tuple[str, ...] = ("pod", "workload", "namespace")


@dataclass(frozen=True, slots=True)
class Connection:
    """Allowed traffic from ``src`` to ``dst``: ``ports`` is never empty."""

    src: Endpoint
    dst: Endpoint
    ports: PortSet

    def __str__(self) -> str:
        return f"{self.src} => {self.dst} : {self.ports}"

    def to_json(self) -> dict[str, Any]:
        return {
            "src": self.src.to_json(),
            "dst": self.dst.to_json(),
            "protocols": self.ports.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Resolved:
    """An endpoint reference resolved: in-cluster pods (indices) or one outside address."""

    endpoint: Endpoint
    pods: tuple[int, ...] = ()
    address: int | None = None


def _endpoint_of(pod: Pod, by: str) -> Endpoint:
    if by == "pod":
        return Endpoint("Pod", pod.namespace, pod.name)
    if by == "workload":
        return Endpoint(pod.workload_kind, pod.namespace, pod.workload_name)
    return Endpoint("Namespace", "", pod.namespace)


class Network:
    """A cluster's manifests together with the compiled reachability between its endpoints.

    Build one with :func:`reach.load` (from files) or directly from a
    :class:`~reach.model.Cluster`. Methods are conveniences over the functions of
    :mod:`reach`; everything they answer comes from the compiled classes.
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        ipblock_pods: bool = True,
        host_network_pods: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.options = CompileOptions(ipblock_pods=ipblock_pods,
                                      host_network_pods=host_network_pods)
        # Every later stage (verdicts, services, lint) reads the cluster as compiled.
        self.cluster = self.options.prepare(cluster)
        self.compiled: Compiled = compile_cluster(self.cluster, self.options, progress)
        self._trace: TraceContext | None = None
        self._by_ref: dict[str, list[int]] = {}
        for i, pod in enumerate(self.compiled.pods):
            self._by_ref.setdefault(f"{pod.namespace}/Pod/{pod.name}", []).append(i)
            if pod.owner_kind:
                key = f"{pod.namespace}/{pod.workload_kind}/{pod.workload_name}"
                self._by_ref.setdefault(key, []).append(i)

    # -- basic facts --------------------------------------------------------

    @property
    def pods(self) -> tuple[Pod, ...]:
        return self.compiled.pods

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """Warnings and notes about the input (skipped files and objects, suspicious input)
        and about what the analysis had to assume."""
        return self.cluster.diagnostics + self.compiled.diagnostics

    @property
    def caveats(self) -> tuple[Diagnostic, ...]:
        """What reach did not analyse or had to assume, that may change a verdict."""
        return tuple(d for d in self.warnings if d.caveat)

    @property
    def trace(self) -> TraceContext:
        """The policies in evaluation order and what else a walk of one connection needs."""
        if self._trace is None:
            self._trace = TraceContext.of(self.cluster.policies, self.compiled.namespaces,
                                          self.cluster.nodes, self.options.ipblock_pods)
        return self._trace

    def side(
        self,
        direction: Direction,
        pod: Pod | None,
        other: Pod | None,
        other_key: int | None = None,
        protocol: str = "TCP",
        port: int | None = None,
    ) -> Side:
        """What ``direction`` of ``pod`` says about a connection with ``other``, and why.

        ``other`` None with ``other_key`` an address key: the other end is outside.
        """
        return side_of(self.trace, direction, pod, other, other_key, protocol, port)

    def __repr__(self) -> str:
        c = self.cluster
        return (
            f"<Network: {len(c.namespaces)} namespaces, {len(c.pods)} pods, "
            f"{len(c.policies)} policies, {self.compiled.n_classes} classes>"
        )

    # -- Jupyter display (drawn by reach.render; never raises) ---------------

    def _repr_html_(self) -> str:
        return network_html(self)

    # -- endpoints ----------------------------------------------------------

    def resolve(self, reference: str | Endpoint) -> Resolved:
        """Resolve ``NS/NAME``, ``NS/KIND/NAME``, an IP address or an :class:`Endpoint`.

        Raises :class:`~reach.errors.UnknownEndpoint` naming the candidates when the
        reference matches nothing or several things.
        """
        if isinstance(reference, Endpoint):
            if reference.is_external:
                return Resolved(reference, (), reference.lo)
            if reference.kind == "Namespace":
                members = tuple(
                    i for i, p in enumerate(self.pods) if p.namespace == reference.name
                )
                if not members:
                    raise UnknownEndpoint(reference.name, f'no pod in namespace "{reference.name}"')
                return Resolved(reference, members)
            reference = f"{reference.namespace}/{reference.kind}/{reference.name}"
        text = reference.strip()
        try:
            ipaddress.ip_address(text)
        except ValueError:
            pass
        else:
            return self._resolve_ip(text)
        try:
            namespace, kind, name = parse_reference(text)
        except ValueError as exc:
            raise UnknownEndpoint(text, str(exc)) from None
        if kind is not None:
            found = self._by_ref.get(f"{namespace}/{kind}/{name}")
            if not found:
                raise UnknownEndpoint(
                    text, f'no {kind} "{name}" in namespace "{namespace}"', self._near(namespace)
                )
            return Resolved(Endpoint(kind, namespace, name), tuple(found))
        matches = sorted(
            key for key in self._by_ref if key.startswith(f"{namespace}/") and key.endswith(
                f"/{name}") and key.count("/") == 2
        )
        if not matches:
            raise UnknownEndpoint(
                text, f'nothing called "{name}" in namespace "{namespace}"', self._near(namespace)
            )
        if len(matches) > 1:
            # A pod named like the workload it belongs to (a workload's representative
            # pod) is that workload: prefer the workload.
            owned = {i for m in matches if m.split("/")[1] != "Pod" for i in self._by_ref[m]}
            kept = [m for m in matches
                    if m.split("/")[1] != "Pod" or not set(self._by_ref[m]) <= owned]
            if len(kept) != 1:
                raise UnknownEndpoint(text, f'"{text}" is ambiguous', tuple(matches))
            matches = kept
        _, kind, _ = matches[0].split("/")
        found = self._by_ref[matches[0]]
        return Resolved(Endpoint(kind, namespace, name), tuple(found))

    def _near(self, namespace: str) -> tuple[str, ...]:
        keys = sorted(k for k in self._by_ref if k.startswith(f"{namespace}/"))
        return tuple(keys[:10])

    def _resolve_ip(self, text: str) -> Resolved:
        key = address_key(text)
        owners = tuple(
            i for i, pod in enumerate(self.pods) if any(_same_ip(ip, key) for ip in pod.ips)
        )
        if owners:
            pod = self.pods[owners[0]]
            return Resolved(Endpoint("Pod", pod.namespace, pod.name), owners[:1])
        try:
            column = self.compiled.external_column(key)
        except KeyError:
            raise UnknownEndpoint(
                text,
                f"{text} is outside the analysed address space (no policy names an IPv6 range, "
                "so only IPv4 addresses outside the cluster are analysed)",
            ) from None
        lo, hi = self.compiled.externals[column - self.compiled.n_classes]
        return Resolved(Endpoint("External", "", text, lo, hi), (), key)

    # -- questions ----------------------------------------------------------

    def ports_between(self, src: Resolved, dst: Resolved) -> PortSet:
        """Every port allowed from ``src`` to ``dst`` (for groups: between any of their pods)."""
        c = self.compiled
        if src.pods and dst.pods:
            if set(src.pods) & set(dst.pods) and src.endpoint == dst.endpoint:
                return PortSet.all()
            out = PortSet.none()
            for ident in {(int(c.pod_class[s]), int(c.pod_class[d])) for s in src.pods
                          for d in dst.pods if s != d}:
                out = out | c.ports[int(c.allow[ident])]
            return out
        if src.pods and dst.address is not None:
            column = c.external_column(dst.address)
            classes = {int(c.pod_class[s]) for s in src.pods}
            return _union(c.column_ports(k, column) for k in classes)
        if dst.pods and src.address is not None:
            column = c.external_column(src.address)
            classes = {int(c.pod_class[d]) for d in dst.pods}
            return _union(c.column_ports(column, k) for k in classes)
        return PortSet.all()  # outside to outside: no policy applies

    def can(
        self,
        src: str | Endpoint,
        dst: str | Endpoint,
        port: int | None = None,
        protocol: str = "TCP",
    ) -> Verdict:
        """Whether ``src`` may open a connection to ``dst``, and which rules decide.

        With ``port`` None the question is "on any port"; the verdict's ``ports``
        always lists every allowed port.

        Examples
        --------
        >>> import reach
        >>> net = reach.load("samples/seed/cluster.yaml",
        ...                  "samples/seed/policies/allow-us-east.yaml")
        >>> bool(net.can("network-policy/client-2", "network-policy/server", port=8888))
        False
        """
        a, b = self.resolve(src), self.resolve(dst)
        ports = self.ports_between(a, b)
        pod_a = self.pods[a.pods[0]] if a.pods else None
        pod_b = self.pods[b.pods[0]] if b.pods else None
        egress = self.side("egress", pod_a, pod_b, b.address, protocol, port)
        ingress = self.side("ingress", pod_b, pod_a, a.address, protocol, port)
        return Verdict(a.endpoint, b.endpoint, protocol.upper(), port, ports, egress, ingress,
                       tuple(c.located for c in self.caveats))

    def connections(self, by: Granularity = "pod") -> list[Connection]:
        """Every allowed connection at the granularity asked for, sorted like upstream connlists.

        Pairs with no connection and an endpoint with itself are left out; outside
        address ranges appear as ``External`` endpoints.
        """
        if by not in GRANULARITIES:
            raise ValueError(f"by must be one of {', '.join(GRANULARITIES)}, not {by!r}")
        return _connections(self.compiled, by)


def _same_ip(ip: str, key: int) -> bool:
    try:
        return address_key(ip) == key
    except ValueError:
        return False


def _union(sets: Iterable[PortSet]) -> PortSet:
    out = PortSet.none()
    for item in sets:
        out = out | item
    return out


def _connections(c: Compiled, by: str) -> list[Connection]:
    """Connections in upstream order (by source, then destination, as text)."""
    groups: dict[Endpoint, set[int]] = {}
    for i, pod in enumerate(c.pods):
        groups.setdefault(_endpoint_of(pod, by), set()).add(int(c.pod_class[i]))
    n = c.n_classes
    ends: list[tuple[str, Endpoint, list[int]]] = [
        (str(e), e, sorted(classes)) for e, classes in groups.items()
    ]
    outside = [Endpoint.external(lo, hi) for lo, hi in c.externals]
    ends += [(str(x), x, [n + i]) for i, x in enumerate(outside)]
    ends.sort(key=lambda item: item[0])
    if not ends:
        return []
    cols = np.array([columns[0] for _, _, columns in ends], dtype=np.intp)
    matrix = c.allow[np.ix_(cols, cols)].copy()
    np.fill_diagonal(matrix, 0)
    is_outside = np.array([e.is_external for _, e, _ in ends], dtype=np.bool_)
    matrix[np.ix_(is_outside, is_outside)] = 0  # outside to outside: not the cluster's business
    if any(len(columns) > 1 for _, _, columns in ends):
        # An endpoint spanning several classes allows what any of its pods allows.
        every = np.array([col for _, _, columns in ends for col in columns], dtype=np.intp)
        starts = np.cumsum([0] + [len(columns) for _, _, columns in ends[:-1]])
        spread = c.allow[np.ix_(every, every)]
        rows = c.ports.join_many(spread, starts, axis=0)
        matrix = c.ports.join_many(rows, starts, axis=1)
        np.fill_diagonal(matrix, 0)
        matrix[np.ix_(is_outside, is_outside)] = 0
    return [
        Connection(ends[i][1], ends[j][1], c.ports[int(matrix[i, j])])
        for i, j in zip(*np.nonzero(matrix), strict=True)
    ]


def network_html(net: Network) -> str:
    """An HTML summary of an analysed network: totals, then one row per namespace.

    Never raises: on error the table says what went wrong.
    """
    try:
        return _network_html(net)
    except Exception as exc:  # a display method never raises
        return f"<pre>{html.escape(repr(net))}\n{html.escape(type(exc).__name__)}: " \
               f"{html.escape(str(exc))}</pre>"


def _network_html(net: Network) -> str:
    c = net.cluster
    compiled = net.compiled
    rows: dict[str, dict[str, int]] = {}

    def row(ns: str) -> dict[str, int]:
        return rows.setdefault(ns, {"pods": 0, "workloads": 0, "services": 0, "policies": 0,
                                    "ingress": 0, "egress": 0})

    for namespace in c.namespaces:
        row(namespace.name)
    workloads: set[tuple[str, str, str]] = set()
    for i, pod in enumerate(net.pods):
        r = row(pod.namespace)
        r["pods"] += 1
        workloads.add((pod.namespace, pod.workload_kind, pod.workload_name))
        cls = int(compiled.pod_class[i])
        r["ingress"] += int(bool(compiled.ingress_isolated[cls]))
        r["egress"] += int(bool(compiled.egress_isolated[cls]))
    for owner, _, _ in workloads:
        row(owner)["workloads"] += 1
    for svc in c.services:
        row(svc.namespace)["services"] += 1
    for policy in c.policies:
        row(policy.namespace)["policies"] += 1
    cell = 'style="padding: 2px 8px; text-align: right"'
    head = 'style="padding: 2px 8px; text-align: left"'
    columns = ("pods", "workloads", "services", "policies", "ingress", "egress")
    titles = ("pods", "workloads", "services", "policies", "ingress-isolated pods",
              "egress-isolated pods")
    body = "".join(
        f"<tr><th {head}>{html.escape(ns)}</th>"
        + "".join(f"<td {cell}>{rows[ns][k]}</td>" for k in columns) + "</tr>"
        for ns in sorted(rows)
    )
    total = "".join(f"<td {cell}><b>{sum(r[k] for r in rows.values())}</b></td>" for k in columns)
    warnings = [d for d in net.warnings if d.severity != "info"]
    notes = ""
    if warnings:
        items = "".join(f"<li>{html.escape(str(d))}</li>" for d in warnings[:20])
        more = f"<li>... and {len(warnings) - 20} more</li>" if len(warnings) > 20 else ""
        notes = f"<p><b>{len(warnings)} warning(s)</b></p><ul>{items}{more}</ul>"
    return (
        f"<div><p><b>reach Network</b>: {len(rows)} namespaces, {len(net.pods)} pods, "
        f"{len(c.policies)} policies, {compiled.n_classes} equivalence classes</p>"
        f"<table><thead><tr><th {head}>namespace</th>"
        + "".join(f"<th {cell}>{t}</th>" for t in titles)
        + f"</tr></thead><tbody>{body}<tr><th {head}>total</th>{total}</tr></tbody></table>"
        f"{notes}</div>"
    )
