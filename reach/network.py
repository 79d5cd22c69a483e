"""The analysed network: a loaded cluster plus its compiled reachability.

Examples
--------
>>> from reach.model import Cluster, Pod, Labels
>>> net = Network(Cluster(pods=(Pod("ns", "a"), Pod("ns", "b"))))
>>> bool(net.can("ns/a", "ns/b", port=80))
True
>>> [str(c) for c in net.connections(by="namespace")]
['0.0.0.0-255.255.255.255[External] => ns[Namespace] : All Connections', \
'ns[Namespace] => 0.0.0.0-255.255.255.255[External] : All Connections', \
'ns[Namespace] => ns[Namespace] : All Connections']
"""

from __future__ import annotations

import dataclasses
import html
import ipaddress
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

import numpy as np

from reach.endpoints import (
    INGRESS_CONTROLLER,
    INTERNET,
    PUBLIC_ADDRESSES,
    Endpoint,
    closest,
    parse_reference,
    pod_endpoint,
)
from reach.engine.addresses import IPV4_ALL, address_key
from reach.engine.compiler import Compiled, CompileOptions, compile_cluster
from reach.engine.intervals import IntervalSet
from reach.engine.matrix import BLOCK_ENTRIES
from reach.engine.ports import (
    ICMP_PROTOCOLS,
    MAX_ICMP,
    MAX_PORT,
    PORT_PROTOCOLS,
    PortSet,
    canonical_protocol,
)
from reach.engine.trace import Step, TraceContext, Walk, trace_side
from reach.errors import InvalidQuery, UnknownEndpoint
from reach.model import Cluster, Diagnostic, Direction, Pod, Policy, Service
from reach.services import (
    SYNTHETIC_CONTROLLER_POD,
    Route,
    ServiceInfo,
    ServiceMap,
    controller_context,
    resolve_service,
    service_map,
)
from reach.verdict import BackendVerdict, ServiceVerdict, Side, Verdict, side_of

__all__ = [
    "GRANULARITIES",
    "Connection",
    "Granularity",
    "Network",
    "Resolved",
    "connections_of",
    "host_network_caveat",
    "network_html",
]

Granularity = Literal["pod", "workload", "namespace"]
GRANULARITIES: tuple[str, ...] = ("pod", "workload", "namespace")
ResolvedKind = Literal["pods", "address", "internet", "controller", "service", "ingress"]

_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                   "ReplicationController", "Job", "CronJob")
_INTERNET_WORDS = ("internet", "{internet}")
_CONTROLLER_WORDS = ("ingress-controller", "{ingress-controller}")


@dataclass(frozen=True, slots=True)
class Connection:
    """Allowed traffic from ``src`` to ``dst``: ``ports`` is never empty."""

    src: Endpoint
    dst: Endpoint
    ports: PortSet

    def __str__(self) -> str:
        return f"{self.src} => {self.dst} : {self.ports}"

    def __repr__(self) -> str:
        return f"<Connection {self}>"

    def to_json(self) -> dict[str, Any]:
        return {
            "src": self.src.to_json(),
            "dst": self.dst.to_json(),
            "protocols": self.ports.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Resolved:
    """An endpoint reference resolved (see :meth:`Network.resolve`).

    ``pods``: the in-cluster pods (indices into :attr:`Network.pods`) it stands for.
    ``address``/``last``: an outside address, or the first and last of a range.
    ``service``: a Service; ``routes``: an Ingress or Route, per Service it routes to.
    ``via``: the IP a pod was asked about by (a dual-stack pod has two).
    :attr:`kind` says which.
    """

    endpoint: Endpoint
    pods: tuple[int, ...] = ()
    address: int | None = None
    last: int | None = None
    service: ServiceInfo | None = None
    routes: tuple[Route, ...] = ()
    via: str = ""  # a pod asked about by one of its IPs: that IP

    @property
    def kind(self) -> ResolvedKind:
        if self.service is not None:
            return "service"
        if self.endpoint.kind in ("Ingress", "Route"):
            return "ingress"
        if self.endpoint.kind == "Internet":
            return "internet"
        if self.pods:
            return "pods"
        if self.endpoint == INGRESS_CONTROLLER:
            return "controller"
        return "address"

    @property
    def outside(self) -> bool:
        """Whether this end is outside the cluster (an address, a range, the internet)."""
        return self.kind in ("address", "internet")

    @property
    def span(self) -> tuple[int, int] | None:
        """The address keys an outside end covers (None for other ends)."""
        if self.address is None:
            return None
        return self.address, self.address if self.last is None else self.last


@dataclass(frozen=True, slots=True)
class _Point:
    """One place of an end: a pod (its class column) or an outside atom (its column).

    ``key`` is the address an outside point stands for in explanations.
    """

    column: int
    pod: int | None = None
    key: int | None = None


def _internet_note(net: Network, dst: Resolved) -> str:
    exposed = [info.endpoint for info in net.services.services if info.exposed and any(
        b.pod in dst.pods for b in info.backends)]
    text = ("the internet reaches pod addresses only where they are routable from outside; "
            "it usually arrives through NodePort or LoadBalancer Services and Ingresses")
    if exposed:
        text += f" (here: {', '.join(str(e) for e in exposed)}; ask for the Service)"
    return text


class Network:
    """A cluster's manifests together with the compiled reachability between its endpoints.

    Build one with :func:`reach.load` (from files) or directly from a
    :class:`~reach.model.Cluster`. Methods are conveniences over the functions of
    :mod:`reach`; everything they answer comes from the compiled classes. ``notes``:
    how the network was obtained (read from a cache, a cache entry ignored), the last
    of :attr:`warnings`.
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        ipblock_pods: bool = True,
        host_network_pods: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        options = CompileOptions(ipblock_pods=ipblock_pods, host_network_pods=host_network_pods)
        # Every later stage (verdicts, services, lint) reads the cluster as compiled.
        prepared = _with_assumptions(options.prepare(cluster), options)
        self._setup(compile_cluster(prepared, options, progress), ())

    @classmethod
    def of_compiled(cls, compiled: Compiled, notes: Sequence[Diagnostic] = ()) -> Network:
        """The network of a cluster compiled before (``compiled.cluster`` is the cluster
        as :class:`Network` prepares it); ``notes``: how it was obtained (a cache)."""
        net = cls.__new__(cls)
        net._setup(compiled, notes)
        return net

    def _setup(self, compiled: Compiled, notes: Sequence[Diagnostic]) -> None:
        self.options = compiled.options
        self.cluster = compiled.cluster
        self.compiled = compiled
        self.notes = tuple(notes)
        self._trace: TraceContext | None = None
        self._controller_trace: TraceContext | None = None
        self._services: ServiceMap | None = None
        self._service_infos: dict[tuple[str, str], ServiceInfo | None] = {}
        self._by_service: dict[tuple[str, str], Service] | None = None
        self._namespace_pods: dict[str, list[int]] = {}
        self._admits: dict[int, PortSet] = {}
        self._by_ref: dict[tuple[str, str, str], list[int]] = {}
        for i, pod in enumerate(self.compiled.pods):
            self._by_ref.setdefault((pod.namespace, "Pod", pod.name), []).append(i)
            if pod.owner_kind:
                key = (pod.namespace, pod.workload_kind, pod.workload_name)
                self._by_ref.setdefault(key, []).append(i)
        self._by_name: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        for key in self._by_ref:
            self._by_name.setdefault((key[0], key[2]), []).append(key)

    # -- basic facts --------------------------------------------------------

    @property
    def pods(self) -> tuple[Pod, ...]:
        return self.compiled.pods

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """Warnings and notes about the input (skipped files and objects, suspicious input)
        and about what the analysis had to assume; then :attr:`notes`."""
        return self.cluster.diagnostics + self.compiled.diagnostics + self.notes

    @property
    def caveats(self) -> tuple[Diagnostic, ...]:
        """What reach did not analyse or had to assume, that may change a verdict."""
        return tuple(d for d in self.warnings if d.caveat)

    @property
    def services(self) -> ServiceMap:
        """The Services with their backends, the Ingress and Route routes, the controllers."""
        if self._services is None:
            self._services = service_map(self.cluster, self.compiled.pods)
        return self._services

    @property
    def trace(self) -> TraceContext:
        """The policies in evaluation order and what else a walk of one connection needs."""
        if self._trace is None:
            self._trace = TraceContext.of(
                self.cluster.policies, self.compiled.namespaces, self.cluster.nodes,
                self.options.ipblock_pods, accounts=self.cluster.service_accounts,
                network_sets=self.cluster.network_sets)
        return self._trace

    @property
    def controller_trace(self) -> TraceContext:
        """:attr:`trace` with the synthetic ingress controller's namespace known."""
        if self._controller_trace is None:
            self._controller_trace = controller_context(
                self.cluster, self.compiled.namespaces, self.options.ipblock_pods)
        return self._controller_trace

    def controller_admits(self, pod: int) -> PortSet:
        """What pod index ``pod``'s ingress admits from the synthetic ingress controller
        (:data:`reach.services.SYNTHETIC_CONTROLLER_POD`), computed once per class."""
        cls = int(self.compiled.pod_class[pod])
        found = self._admits.get(cls)
        if found is None:
            rep = self.pods[self.compiled.class_pods[cls][0]]
            found = self._admits[cls] = trace_side(
                self.controller_trace, "ingress", rep, SYNTHETIC_CONTROLLER_POD, None).allowed
        return found

    def selecting(self, pods: Iterable[int], direction: Direction) -> tuple[Policy, ...]:
        """The policies (every tier, in evaluation order) that select any of ``pods`` for
        ``direction``: what governs that side of their connections."""
        c = self.compiled
        bits = 0
        for i in pods:
            bits |= 1 << int(c.pod_class[i])
        found = [p for k, p in enumerate(self.cluster.policies)
                 if p.applies(direction) and c.policy_classes(k) & bits]
        return tuple(sorted(found, key=lambda p: p.order))

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
        ctx = self.controller_trace if other is SYNTHETIC_CONTROLLER_POD else self.trace
        return side_of(ctx, direction, pod, other, other_key, protocol, port)

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

    def resolve(self, reference: str | Endpoint, port: int | str | None = None,
                protocol: str = "TCP") -> Resolved:
        """Resolve any endpoint reference (:data:`reach.endpoints.REFERENCE_FORMS`).

        ``NAMESPACE/NAME`` is a pod or a workload (a workload's pod template is the
        workload), and a Service when no pod or workload has that name, or when
        ``port`` (the port a question is about) is a port of the Service of that name
        in front of the workload and not one its pods declare;
        ``NAMESPACE/KIND/NAME`` takes kubectl's kinds and short forms (``svc``,
        ``ingress``, ``route``...); an IP address is the pod that has it or an outside
        address, a CIDR an outside range; ``internet`` every public address;
        ``ingress-controller`` the controller pods in the input, or the synthetic one.

        Raises :class:`~reach.errors.UnknownEndpoint` naming the closest candidates
        (same kind first) when the reference matches nothing or several things.

        Examples
        --------
        >>> from reach.model import Cluster, Pod
        >>> net = Network(Cluster(pods=(Pod("shop", "web", owner_kind="Deployment",
        ...                                 owner_name="web", template=True),)))
        >>> net.resolve("shop/web").endpoint
        Endpoint('Deployment', 'shop', 'web')
        >>> net.resolve("shop/wbe")
        Traceback (most recent call last):
        ...
        reach.errors.UnknownEndpoint: nothing called "wbe" in namespace "shop"; \
candidates: shop/Deployment/web
        """
        if isinstance(reference, Endpoint):
            return self._resolve_endpoint(reference)
        found = self._resolve_text(reference)
        if port is not None and found.kind == "pods" and _bare_name(reference):
            fronted = self.fronting(found, port, protocol.upper())
            if fronted is not None:
                return Resolved(fronted.endpoint, service=fronted)
        return found

    def _resolve_text(self, reference: str) -> Resolved:
        text = reference.strip()
        printed = _printed(text)
        if printed is not None:  # a name as reach prints it: shop/web[Deployment]
            return self._resolve_endpoint(printed)
        lowered = text.lower()
        if lowered in _INTERNET_WORDS:
            return Resolved(INTERNET)
        if lowered in _CONTROLLER_WORDS:
            return self._controller()
        try:
            ipaddress.ip_address(text)
        except ValueError:
            pass
        else:
            return self._resolve_ip(text)
        if "/" in text and text.count("/") == 1:
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                pass
            else:
                return self._resolve_range(text, network)
        try:
            namespace, kind, name = parse_reference(text)
        except ValueError as exc:
            raise UnknownEndpoint(text, str(exc)) from None
        return self._resolve_name(text, namespace, kind, name)

    def _resolve_endpoint(self, ep: Endpoint) -> Resolved:
        if ep.is_external:
            return Resolved(ep, (), ep.lo, ep.hi if ep.hi != ep.lo else None)
        if ep.kind == "Internet":
            return Resolved(INTERNET)
        if ep.kind == "IngressController" and not ep.namespace:
            return self._controller()
        if ep.kind == "Namespace":
            members = tuple(i for i, p in enumerate(self.pods) if p.namespace == ep.name)
            if not members:
                raise UnknownEndpoint(ep.name, f'no pod in namespace "{ep.name}"')
            return Resolved(ep, members)
        return self._resolve_name(str(ep), ep.namespace, ep.kind, ep.name)

    def _resolve_name(self, text: str, namespace: str, kind: str | None, name: str) -> Resolved:
        # The service map (every Service's backends) is built only when a name can be a
        # Service or an Ingress: a pod or workload name is found without it.
        if kind == "Service":
            try:
                return Resolved(Endpoint("Service", namespace, name),
                                service=self.services.find(namespace, name))
            except UnknownEndpoint:
                self._unknown(text, namespace, kind, name)
        if kind in ("Ingress", "Route"):
            found = [i for i in self.cluster.ingresses
                     if (i.kind, i.namespace, i.name) == (kind, namespace, name)]
            if not found:
                self._unknown(text, namespace, kind, name)
            return Resolved(Endpoint(kind, namespace, name),
                            routes=self.services.routes_of(kind, namespace, name))
        if kind is not None:
            pods = self._by_ref.get((namespace, kind, name))
            if not pods:
                self._unknown(text, namespace, kind, name)
            return Resolved(self._shown(kind, namespace, name, pods), tuple(pods))
        matches = sorted(self._by_name.get((namespace, name), ()))
        if len(matches) > 1:
            # A workload's pod template (a pod named like the workload it stands for) is
            # that workload: prefer the workload.
            owned = {i for m in matches if m[1] != "Pod" for i in self._by_ref[m]}
            matches = [m for m in matches
                       if m[1] != "Pod" or not set(self._by_ref[m]) <= owned]
            if len(matches) > 1:
                raise UnknownEndpoint(
                    text, f'"{text}" is ambiguous: say which with NAMESPACE/KIND/NAME',
                    tuple(f"{ns}/{k}/{n}" for ns, k, n in matches))
        if matches:
            key = matches[0]
            pods = self._by_ref[key]
            return Resolved(self._shown(key[1], namespace, name, pods), tuple(pods))
        info = self._service_named(namespace, name)
        if info is not None:
            return Resolved(info.endpoint, service=info)
        self._unknown(text, namespace, None, name)

    def _shown(self, kind: str, namespace: str, name: str, pods: Sequence[int]) -> Endpoint:
        """The endpoint a resolved name is shown as: a lone template pod is its workload."""
        if kind == "Pod" and len(pods) == 1:
            return pod_endpoint(self.pods[pods[0]], "pod")
        return Endpoint(kind, namespace, name)

    def _service_named(self, namespace: str, name: str) -> ServiceInfo | None:
        """The Service ``namespace/name`` with its backends, resolved alone until the
        whole service map is needed."""
        if self._services is not None:
            return self._services.named(namespace, name)
        key = (namespace, name)
        if key not in self._service_infos:
            if self._by_service is None:
                self._by_service, self._namespace_pods = {}, {}
                for svc in self.cluster.services:  # the first of a name, as the map keeps it
                    self._by_service.setdefault((svc.namespace, svc.name), svc)
                for i, pod in enumerate(self.pods):
                    self._namespace_pods.setdefault(pod.namespace, []).append(i)
            found = self._by_service.get(key)
            self._service_infos[key] = None if found is None else resolve_service(
                self.cluster, self.pods, found, self._namespace_pods.get(namespace, ()))
        return self._service_infos[key]

    def _names(self) -> list[tuple[str, str, str]]:
        """Every (namespace, kind, name) a reference may name."""
        out = [k for k in self._by_ref if not (k[1] == "Pod" and all(
            self.pods[i].template for i in self._by_ref[k]))]
        out += [(i.service.namespace, "Service", i.service.name) for i in self.services.services]
        out += [(i.namespace, i.kind, i.name) for i in self.cluster.ingresses]
        return out

    def _unknown(self, text: str, namespace: str, kind: str | None, name: str) -> NoReturn:
        names = self._names()
        here = [k for k in names if k[0] == namespace]
        what = f"{kind} " if kind else ""
        if not here:
            spaces = sorted({k[0] for k in names})
            near_ns = closest(namespace, spaces, 3)
            candidates = tuple(f"{ns}/{k}/{n}" for ns in near_ns for (s, k, n) in names
                               if s == ns and n == name) or tuple(f"namespace {ns}"
                                                                  for ns in near_ns)
            raise UnknownEndpoint(text, f'no {what or "object "}"{name}": there is no '
                                  f'namespace "{namespace}"', tuple(candidates[:5]))
        by_name = closest(name, [n for _, _, n in here], 10) or sorted(
            {n for _, _, n in here})[:5]
        rank = {n: i for i, n in enumerate(by_name)}
        ordered = sorted((k for k in here if k[2] in rank),
                         key=lambda k: (k[1] != kind, rank[k[2]], k[1]))
        candidates = tuple(f"{ns}/{k}/{n}" for ns, k, n in ordered[:5])
        if kind:
            message = f'no {kind} "{name}" in namespace "{namespace}"'
        else:
            message = f'nothing called "{name}" in namespace "{namespace}"'
        raise UnknownEndpoint(text, message, candidates)

    def _controller(self) -> Resolved:
        smap = self.services
        if smap.controllers:
            pod = self.pods[smap.controllers[0]]
            return Resolved(pod_endpoint(pod, "workload"), smap.controllers)
        if smap.synthetic_controller:
            return Resolved(INGRESS_CONTROLLER)
        raise UnknownEndpoint("ingress-controller", "no ingress controller: the input has no "
                              "Ingress or Route and no ingress controller pod")

    def _resolve_ip(self, text: str) -> Resolved:
        key = address_key(text)
        owners = tuple(
            i for i, pod in enumerate(self.pods) if any(_same_ip(ip, key) for ip in pod.ips)
        )
        if owners:
            return Resolved(pod_endpoint(self.pods[owners[0]], "pod"), owners[:1], via=text)
        try:
            self.compiled.external_column(key)
        except KeyError:
            raise UnknownEndpoint(text, _outside_space(text)) from None
        return Resolved(Endpoint.external(key, key), (), key)

    def _resolve_range(self, text: str, network: Any) -> Resolved:
        lo, hi = address_key(str(network.network_address)), address_key(
            str(network.broadcast_address))
        if not self._columns(lo, hi):
            raise UnknownEndpoint(text, _outside_space(text))
        shown = Endpoint("External", "", str(network), lo, hi)
        return Resolved(shown, (), lo, hi if hi != lo else None)

    # -- columns ------------------------------------------------------------

    def _columns(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """The outside atoms overlapping ``lo..hi``: (column, first address in both)."""
        c = self.compiled
        return [(c.n_classes + e, max(a, lo)) for e, (a, b) in enumerate(c.externals)
                if a <= hi and lo <= b]

    def _public_columns(self) -> list[tuple[int, int]]:
        c = self.compiled
        public = PUBLIC_ADDRESSES.intervals
        out = []
        for e, (a, b) in enumerate(c.externals):
            inside = public & IntervalSet.of((a, b))
            if inside:
                out.append((c.n_classes + e, inside.intervals[0][0]))
        return out

    def _points(self, end: Resolved) -> list[_Point]:
        c = self.compiled
        if end.kind == "internet":
            return [_Point(col, None, key) for col, key in self._public_columns()]
        if end.kind == "address":
            span = end.span
            assert span is not None
            return [_Point(col, None, key) for col, key in self._columns(*span)]
        return [_Point(int(c.pod_class[i]), i) for i in end.pods]

    def _pairs(self, a: Resolved, b: Resolved) -> Iterator[tuple[_Point, _Point]]:
        """One pair of points per (column, column) of two ends, never a pod with itself."""
        mine: dict[int, list[_Point]] = {}
        for p in self._points(a):
            mine.setdefault(p.column, []).append(p)
        theirs: dict[int, list[_Point]] = {}
        for q in self._points(b):
            theirs.setdefault(q.column, []).append(q)
        for ps in mine.values():
            for qs in theirs.values():
                # a pod standing for several replicas may talk to another of them
                pair = next(((p, q) for p in ps for q in qs
                             if p.pod is None or q.pod is None or p.pod != q.pod
                             or self.pods[p.pod].replicas > 1), None)
                if pair is not None:
                    yield pair

    # -- questions ----------------------------------------------------------

    def ports_between(self, src: Resolved, dst: Resolved, hairpin: bool = False) -> PortSet:
        """Every port allowed from ``src`` to ``dst`` (for groups: between any of their pods).

        The ends are pods, outside addresses or ranges, the internet (its public
        addresses) or the synthetic ingress controller. A pod always reaches itself,
        except ``hairpin``: through a Service that sends it back to itself, where
        policies apply as to any client.
        """
        if self._itself(src, dst) and not hairpin:
            return PortSet.all()
        if src.outside and dst.outside:
            return PortSet.all()  # outside to outside: no policy applies
        if src.kind == "controller":
            return _union(self.controller_admits(i) for i in self._class_reps(dst.pods))
        if dst.kind == "controller":
            return _union(trace_side(self.controller_trace, "egress", self.pods[i],
                                     SYNTHETIC_CONTROLLER_POD, None).allowed
                          for i in self._class_reps(src.pods))
        c = self.compiled
        if hairpin and self._itself(src, dst):
            cls = int(c.pod_class[src.pods[0]])  # the pod as a client of itself
            return c.ports[int(c.allow[cls, cls])]
        return _union(c.ports[int(c.allow[p.column, q.column])] for p, q in self._pairs(src, dst))

    def _itself(self, src: Resolved, dst: Resolved) -> bool:
        """One pod (not standing for replicas) asked about itself."""
        return (src.endpoint == dst.endpoint and len(src.pods) == 1
                and src.pods == dst.pods and self.pods[src.pods[0]].replicas <= 1)

    def _class_reps(self, pods: Iterable[int]) -> list[int]:
        reps: dict[int, int] = {}
        for i in pods:
            reps.setdefault(int(self.compiled.pod_class[i]), i)
        return list(reps.values())

    def can(
        self,
        src: str | Endpoint,
        dst: str | Endpoint,
        port: int | str | None = None,
        protocol: str = "TCP",
        *,
        any_backend: bool = False,
    ) -> Verdict | ServiceVerdict:
        """Whether ``src`` may open a connection to ``dst``, and which rules decide.

        ``port`` is a number (1-65535), a port name (resolved on the destination: a
        container port name, or a service port name for a Service), or None for "on
        any port"; the verdict's ``ports`` always lists every allowed port.

        A Service destination (``NS/svc/NAME``, or ``NS/NAME`` of a workload fronted by
        a Service of its name when ``port`` is the Service's and not one its pods
        declare) is answered per backend, on the target port each backend resolves the
        service port to (:class:`ServiceVerdict`):
        allowed when every backend admits the client, or with ``any_backend`` when at
        least one does. From outside (an address, a range, ``internet``) a Service is
        reachable only when it is a NodePort or LoadBalancer; its backends then see the
        client's address (``externalTrafficPolicy: Local``) or a node's (``Cluster``),
        an address the manifests do not tell: they must admit every outside IPv4 address.

        Raises :class:`~reach.errors.UnknownEndpoint` for a reference that names
        nothing, :class:`~reach.errors.InvalidQuery` for a question that cannot be
        asked (port 0, an unknown port name, a Service as the source).

        Examples
        --------
        >>> import reach
        >>> net = reach.load("samples/seed/cluster.yaml",
        ...                  "samples/seed/policies/allow-us-east.yaml")
        >>> bool(net.can("network-policy/client-2", "network-policy/server", port=8888))
        False
        >>> net.can("network-policy/client-1", "network-policy/server").answer
        'ALLOWED on TCP 8888 (not on every port)'
        """
        try:
            protocol = canonical_protocol(protocol)
        except ValueError as err:
            raise InvalidQuery(str(err)) from None
        a, b = self.resolve(src), self.resolve(dst, port, protocol)
        if a.kind == "service":
            raise InvalidQuery(
                f"{a.endpoint} is a Service: a Service opens no connection, its backends do "
                "(name one of them, or their workload)")
        if a.kind == "ingress":
            raise InvalidQuery(
                f"{a.endpoint} opens no connection: the ingress controller does "
                "(ingress-controller)")
        if b.kind == "service":
            assert b.service is not None
            found = self._can_service(a, b.service, port, protocol, any_backend)
            if isinstance(dst, str) and _bare_name(dst) and self._resolve_text(dst).pods:
                # the port said NAMESPACE/NAME meant the Service, not its workload
                pods = self._resolve_text(dst).endpoint
                note = (f"{dst.strip()} on port {port} is the Service {b.endpoint}: "
                        f"{pods}'s pods do not listen on {port}, the Service does; ask "
                        f"{pods.namespace}/{pods.kind.lower()}/{pods.name} for the pods "
                        "themselves")
                found = dataclasses.replace(found, notes=(note, *found.notes))
            return found
        if b.kind == "ingress":
            return self._can_ingress(a, b, port, protocol, any_backend)
        if a.outside and b.outside:
            raise InvalidQuery(f"{a.endpoint} and {b.endpoint} are both outside the cluster: "
                               "no policy applies there")
        number, name, protocol = self._port_on(b, port, protocol)
        notes: tuple[str, ...] = ()
        if a.kind == "internet" and b.pods:
            notes = (_internet_note(self, b),)
        if isinstance(dst, str) and _bare_name(dst) and b.pods:
            # NAMESPACE/NAME chose the workload over a Service of the same name: say so
            twin = self._twin_service(b, number, protocol)
            if twin:
                notes = (*notes, twin)
        return self._verdict(a, b, number, protocol, name, notes)

    def fronting(self, dst: Resolved, port: int | str, protocol: str) -> ServiceInfo | None:
        """The Service of the same name as the workload ``dst`` that fronts its pods, when
        ``port`` is one of the Service's ports and none of the pods': then NAMESPACE/NAME
        on that port can only mean the Service."""
        ep = dst.endpoint
        if isinstance(port, str) and port.strip().isdigit():
            port = int(port)
        pods = set(dst.pods)
        for info in filter(None, [self._service_named(ep.namespace, ep.name)]):
            if not any(b.pod in pods for b in info.backends):
                return None
            if not info.port_indices(port, protocol if isinstance(port, int) else None):
                return None
            listens = any(
                (cp.port == port and cp.protocol == protocol) if isinstance(port, int)
                else cp.name == port
                for i in dst.pods for cp in self.pods[i].ports)
            return None if listens else info
        return None

    def _twin_service(self, dst: Resolved, port: int | None, protocol: str) -> str:
        """A note when a Service has the name of the workload asked about, on the port asked."""
        ep = dst.endpoint
        for info in filter(None, [self._service_named(ep.namespace, ep.name)]):
            if port is None or info.port_indices(port, protocol):
                return (f"{ep.namespace}/{ep.name} is also a Service: this answer is about "
                        f"{ep} itself; ask {ep.namespace}/svc/{ep.name} for its service ports "
                        f"({info.describe_ports()})")
        return ""

    def resolve_port(self, dst: str | Endpoint, port: int | str | None,
                     protocol: str = "TCP") -> tuple[int | None, str]:
        """The number and protocol a port (a number, or a name resolved on the pods of
        ``dst``) stands for. Raises :class:`~reach.errors.InvalidQuery` for a number out
        of 1-65535, a name ``dst`` does not define or that differs between its pods.

        >>> from reach.model import Cluster, ContainerPort, Pod
        >>> net = Network(Cluster(pods=(Pod("ns", "dns", ports=(ContainerPort(53, "UDP",
        ...                                                                    "dns"),)),)))
        >>> net.resolve_port("ns/dns", "dns")
        (53, 'UDP')
        """
        number, _, protocol = self._port_on(self.resolve(dst), port,
                                            canonical_protocol(protocol))
        return number, protocol

    def _port_on(self, dst: Resolved, port: int | str | None,
                 protocol: str) -> tuple[int | None, str, str]:
        """The port number asked about, its name when given as one, and the protocol."""
        if port is None:
            return None, "", protocol
        if isinstance(port, str) and port.strip().isdigit():
            port = int(port)
        if isinstance(port, int):
            if protocol in ICMP_PROTOCOLS:
                if not 0 <= port <= MAX_ICMP:
                    raise InvalidQuery(f"ICMP type {port} is out of range 0-{MAX_ICMP}")
                return port, "", protocol
            if protocol not in PORT_PROTOCOLS:
                raise InvalidQuery(f"{protocol} has no ports: ask without --port")
            if not 1 <= port <= MAX_PORT:
                raise InvalidQuery(f"port {port} is out of range: ports are 1-{MAX_PORT}")
            return port, "", protocol
        name = port.strip()
        if dst.service is not None:
            named = [sp for sp in dst.service.service.ports if sp.name == name]
            if not named:
                raise InvalidQuery(f'{dst.endpoint} has no port named "{name}" (its ports: '
                                   f"{dst.service.describe_ports()})")
            return named[0].port, name, named[0].protocol
        if not dst.pods:
            raise InvalidQuery(f'a port name ("{name}") needs a pod or Service destination, '
                               f"not {dst.endpoint}")
        found: dict[tuple[str, int], list[str]] = {}
        for i in dst.pods:
            pod = self.pods[i]
            for cp in pod.ports:
                if cp.name == name:
                    found.setdefault((cp.protocol, cp.port), []).append(pod.name)
        if not found:
            declared = sorted({cp.name for i in dst.pods for cp in self.pods[i].ports
                               if cp.name})
            raise InvalidQuery(f'{dst.endpoint} has no container port named "{name}" '
                               f"(its named ports: {', '.join(declared) or 'none'})")
        protocols = {proto for proto, _ in found}
        if protocol in protocols:
            found = {k: v for k, v in found.items() if k[0] == protocol}
        elif len(protocols) == 1:
            protocol = next(iter(protocols))
        numbers = sorted(found)
        if len(numbers) > 1:
            shown = "; ".join(f"{p} {n} on {', '.join(pods)}" for (p, n), pods in found.items())
            raise InvalidQuery(f'port "{name}" is not the same number on every pod of '
                               f"{dst.endpoint} ({shown}): ask one pod, or give a number")
        return numbers[0][1], name, protocol

    def _verdict(self, a: Resolved, b: Resolved, port: int | None, protocol: str,
                 name: str = "", notes: tuple[str, ...] = (), hairpin: bool = False) -> Verdict:
        hairpin = hairpin and self._itself(a, b)
        ports = self.ports_between(a, b, hairpin)
        pod_a, key_a, pod_b, key_b = self._witness(a, b, port, protocol)
        if a.kind == "controller":
            egress = Side("egress", None, _everything(), protocol, port)
            ingress = self.side("ingress", pod_b, SYNTHETIC_CONTROLLER_POD, None, protocol, port)
            notes = (*notes, _SYNTHETIC_NOTE)
        elif b.kind == "controller":
            egress = self.side("egress", pod_a, SYNTHETIC_CONTROLLER_POD, None, protocol, port)
            ingress = Side("ingress", None, _everything(), protocol, port)
            notes = (*notes, _SYNTHETIC_NOTE)
        else:
            pod_a, pod_b = _at(pod_a, a.via), _at(pod_b, b.via)
            egress = self.side("egress", pod_a, pod_b, key_b, protocol, port)
            ingress = self.side("ingress", pod_b, pod_a, key_a, protocol, port)
            if any(end.via and len(self.pods[end.pods[0]].ips) > 1
                   for end in (a, b) if end.pods):
                # a connection to one address of a dual-stack pod: address peers see
                # that address only, so the walk of these two decides
                ports = egress.ports & ingress.ports
        if hairpin:
            notes = (*notes, _HAIRPIN_NOTE)
        return Verdict(a.endpoint, b.endpoint, protocol, port, ports, egress, ingress,
                       tuple(c.located for c in self.caveats), notes, name,
                       self._itself(a, b) and not hairpin)

    def _witness(self, a: Resolved, b: Resolved, port: int | None,
                 protocol: str) -> tuple[Pod | None, int | None, Pod | None, int | None]:
        """The pair of points the explanation walks: one that allows the question if any."""
        if a.kind == "controller" or b.kind == "controller":
            pods = b.pods if a.kind == "controller" else a.pods
            reps = self._class_reps(pods)
            for i in reps:
                ports = (self.controller_admits(i) if a.kind == "controller" else
                         self.ports_between(Resolved(a.endpoint, (i,)), b))
                if _answers(ports, port, protocol):
                    reps = [i]
                    break
            pod = self.pods[reps[0]] if reps else None
            return (None, None, pod, None) if a.kind == "controller" else (pod, None, None, None)
        c = self.compiled
        first: tuple[_Point, _Point] | None = None
        for p, q in self._pairs(a, b):
            if first is None:
                first = (p, q)
            if _answers(c.ports[int(c.allow[p.column, q.column])], port, protocol):
                first = (p, q)
                break
        if first is None:  # a pod with itself
            pod = self.pods[a.pods[0]] if a.pods else None
            return pod, None, pod, None
        p, q = first
        return (self.pods[p.pod] if p.pod is not None else None, p.key,
                self.pods[q.pod] if q.pod is not None else None, q.key)

    # -- Services and Ingresses as destinations ------------------------------

    def _can_service(self, a: Resolved, info: ServiceInfo, port: int | str | None,
                     protocol: str, any_backend: bool) -> ServiceVerdict:
        outside = a.outside
        caveats = tuple(c.located for c in self.caveats)
        notes = tuple(w.message for w in info.warnings)
        svc = info.service
        if outside and not info.exposed:
            return ServiceVerdict(
                a.endpoint, info.endpoint, protocol, port, (), any_backend, caveats, notes,
                unreachable=f"{info.endpoint} is a {svc.type} Service: only NodePort and "
                "LoadBalancer Services are reachable from outside the cluster")
        if isinstance(port, str) and port.strip().isdigit():
            port = int(port)
        if isinstance(port, int) and not 1 <= port <= MAX_PORT:
            raise InvalidQuery(f"port {port} is out of range: ports are 1-{MAX_PORT}")
        indices = info.port_indices(port, protocol if isinstance(port, int) else None, outside)
        if port is not None and not indices:
            raise InvalidQuery(f"{info.endpoint} has no port {port}"
                               f"{'/' + protocol if isinstance(port, int) else ''} "
                               f"(its ports: {info.describe_ports()})")
        if outside:
            seen = ("the client's address (externalTrafficPolicy: Local)"
                    if svc.external_traffic_policy == "Local" else
                    "a node's address (externalTrafficPolicy: Cluster), which the manifests "
                    "do not tell: they must admit every IPv4 address outside the cluster")
            notes = (*notes, f"from outside, the backends see {seen}")
        entries = []
        for i in indices:
            for backend in info.backends:
                target = backend.targets[i]
                front = info.entry(i) if outside else info.front(i, backend)
                if not target:
                    entries.append(BackendVerdict(backend.endpoint, i, front, target, None))
                    continue
                proto, number = _single(target)
                there = (Resolved(backend.endpoint, (backend.pod,)) if backend.pod is not None
                         else Resolved(backend.endpoint, (), backend.address))
                if outside and svc.external_traffic_policy != "Local" and there.pods:
                    verdict = self._node_verdict(a, there, number, proto)
                elif outside and not there.pods:
                    verdict = None  # outside to outside: no policy applies
                else:
                    verdict = self._verdict(a, there, number, proto, hairpin=True)
                entries.append(BackendVerdict(backend.endpoint, i, front, target, verdict))
        return ServiceVerdict(a.endpoint, info.endpoint, protocol, port, tuple(entries),
                              any_backend, caveats, notes)

    def _node_verdict(self, client: Resolved, backend: Resolved, port: int,
                      protocol: str) -> Verdict:
        """A backend seen from a node's unknown address: what every IPv4 outside atom gets."""
        c = self.compiled
        cls = int(c.pod_class[backend.pods[0]])
        columns = self._columns(*_IPV4_SPAN)
        ports = PortSet.all()
        witness = columns[0][1] if columns else None
        for col, key in columns:
            got = c.ports[int(c.allow[col, cls])]
            if witness is not None and not got.allows(protocol, port) and _answers(
                    ports, port, protocol):
                witness = key
            ports = ports & got
        pod = self.pods[backend.pods[0]]
        egress = Side("egress", None, _everything(), protocol, port)
        ingress = self.side("ingress", pod, None, witness, protocol, port)
        return Verdict(client.endpoint, backend.endpoint, protocol, port, ports, egress, ingress,
                       tuple(d.located for d in self.caveats))

    def _can_ingress(self, a: Resolved, b: Resolved, port: int | str | None, protocol: str,
                     any_backend: bool) -> ServiceVerdict:
        """An Ingress or Route: the ingress controller's verdicts on the backends it routes
        to, on the routed service ports; the client reaches the controller (a note)."""
        if not b.routes:
            raise InvalidQuery(f"{b.endpoint} routes to no Service in the input")
        controller = self._controller()
        entries: list[BackendVerdict] = []
        notes: list[str] = []
        for route in b.routes:
            wanted = route.ports if port is None else tuple(
                i for i in route.ports if i in route.service.port_indices(port))
            found = self._can_service(controller, route.service, None, protocol, any_backend)
            entries.extend(e for e in found.entries if e.index in wanted)
            notes.extend(found.notes)
        if a.endpoint != controller.endpoint:
            notes.append(f"{b.endpoint} is served by {controller.endpoint}: this answer is "
                         f"what it gets from the backends; ask reach can {a.endpoint} "
                         "ingress-controller for the way in")
        return ServiceVerdict(controller.endpoint, b.endpoint, protocol, port, tuple(entries),
                              any_backend, tuple(c.located for c in self.caveats),
                              tuple(dict.fromkeys(notes)))

    # -- connection lists ----------------------------------------------------

    def connections(self, by: Granularity = "pod") -> list[Connection]:
        """Every allowed connection at the granularity asked for, sorted like upstream connlists.

        Outside address ranges appear as ``External`` endpoints (neighbouring ranges
        with the same connections merged); the synthetic ingress controller's
        connections to what Ingresses and Routes route it to appear as
        ``{ingress-controller}``. An endpoint with itself is left out, except at
        namespace granularity, where it is the traffic between the namespace's pods.
        """
        return list(self.iter_connections(by))

    def iter_connections(self, by: Granularity = "pod") -> Iterator[Connection]:
        """:meth:`connections`, one at a time as they are computed: the first come out
        before the last are known, in bounded memory (a block of sources at a time).

        >>> from reach.model import Cluster, Pod
        >>> net = Network(Cluster(pods=(Pod("ns", "a"), Pod("ns", "b"))))
        >>> [str(c) for c in net.iter_connections()][-1]
        'ns/b[Pod] => ns/a[Pod] : All Connections'
        """
        for chunk in self.connection_chunks(by):
            if isinstance(chunk, RowRun):
                yield from chunk.connections()
            else:
                yield chunk

    def connection_chunks(self, by: Granularity = "pod") -> Iterator[Connection | RowRun]:
        """:meth:`iter_connections` as it is computed: single connections, and runs of a
        source's connections to in-cluster destinations as arrays (:class:`RowRun`), which
        a writer can put into words without a :class:`Connection` per line."""
        if by not in GRANULARITIES:
            raise ValueError(f"by must be one of {', '.join(GRANULARITIES)}, not {by!r}")
        rows = ConnectionRows(self.compiled, by, inner=by == "namespace")
        outside = [k for k in range(len(rows.ends)) if rows.outside[k]]
        inside = [k for k in range(len(rows.ends)) if not rows.outside[k]]
        # Outside sources first (few): merging their ranges can change where they sort,
        # so they are merged and sorted whole, then woven in among the pods' rows.
        first = deque(_merge_external([conn for _, row in rows.rows(outside) for conn in row]))
        sets, points, is_outside = self.compiled.ports.sets, rows.ends, rows.outside
        for k, dsts, ids in rows.row_ids(inside):
            name = rows.names[k]
            while first and str(first[0].src) < name:
                yield first.popleft()
            src = points[k]
            # outside destinations merge with their neighbours (keeping their place)
            spots = [p for p, j in enumerate(dsts) if is_outside[j]]
            merged = _merge_destinations(
                [Connection(src, points[dsts[p]], sets[ids[p]]) for p in spots])
            start = 0
            for p, conn in zip(spots, merged, strict=True):
                if p > start:
                    yield RowRun(rows, k, dsts[start:p], ids[start:p])
                if conn is not None:
                    yield conn
                start = p + 1
            if start < len(dsts):
                yield RowRun(rows, k, dsts[start:], ids[start:])
        yield from first
        # "{ingress-controller}" sorts after every other name: the list stays in order
        yield from sorted(self.controller_connections(by), key=lambda conn: str(conn.dst))

    def controller_connections(
        self, by: Granularity = "workload",
        endpoint: Callable[[Pod, str], Endpoint] = pod_endpoint,
    ) -> list[Connection]:
        """What the synthetic ingress controller reaches through Ingresses and Routes: each
        backend on the target ports of the routed service ports, as its policies admit.

        ``endpoint`` says which endpoint a pod is at granularity ``by``."""
        if not self.cluster.ingresses:
            return []  # no route: no need to resolve every Service
        smap = self.services
        if not smap.synthetic_controller:
            return []
        found: dict[Endpoint, PortSet] = {}
        for route in smap.routes:
            for backend in route.service.backends:
                if backend.pod is None:
                    continue
                targets = _union(backend.targets[i] for i in route.ports)
                got = targets & self.controller_admits(backend.pod)
                if got:
                    ep = endpoint(self.pods[backend.pod], by)
                    found[ep] = found.get(ep, PortSet.none()) | got
        return [Connection(INGRESS_CONTROLLER, ep, ports) for ep, ports in found.items()]


_SYNTHETIC_NOTE = ("{ingress-controller} is synthetic (the input holds no ingress controller "
                   "pod): assumed to be a default ingress-nginx install, its own policies "
                   "unknown")
_IPV4_SPAN = IPV4_ALL.ranges()[0]


def _bare_name(text: str) -> bool:
    """Whether ``text`` is a ``NAMESPACE/NAME`` reference (no kind given)."""
    parts = text.strip().split("/")
    return len(parts) == 2 and all(parts) and not text.strip().endswith("]")


def _printed(text: str) -> Endpoint | None:
    """The endpoint a name as reach prints it stands for (``shop/web[Deployment]``,
    ``10.0.0.0-10.255.255.255[External]``, ``shop[Namespace]``), or None."""
    if not text.endswith("]") or "[" not in text:
        return None
    name, _, kind = text[:-1].rpartition("[")
    if kind == "External":
        first, _, last = name.partition("-")
        try:
            lo = address_key(first)
            return Endpoint.external(lo, address_key(last) if last else lo)
        except ValueError:
            return None
    if kind == "Namespace":
        return Endpoint("Namespace", "", name)
    namespace, slash, rest = name.partition("/")
    if not slash or not namespace or not rest or "/" in rest:
        return None
    return Endpoint(kind, namespace, rest)


def _everything() -> Walk:
    everything = PortSet.all()
    return Walk((Step("default", everything),), everything, (), False)


def _answers(ports: PortSet, port: int | None, protocol: str) -> bool:
    return ports.allows(protocol, port) if port is not None else bool(ports)


def _single(ports: PortSet) -> tuple[str, int]:
    for proto, ranges in ports.to_dict().items():
        return proto, ranges[0][0]
    raise ValueError("empty port set")  # pragma: no cover - callers check


def _outside_space(text: str) -> str:
    return (f"{text} is outside the analysed address space (no policy names an IPv6 range, "
            "so only IPv4 addresses outside the cluster are analysed)")


def host_network_caveat(cluster: Cluster) -> Diagnostic | None:
    """The caveat that host-network pods are read as their node's traffic, if any are."""
    hosts = sorted({f"{p.namespace}/{p.workload_name}" for p in cluster.pods if p.host_network})
    if not hosts:
        return None
    shown = ", ".join(hosts[:5]) + (f" and {len(hosts) - 5} more" if len(hosts) > 5 else "")
    first = next(p for p in cluster.pods if p.host_network)
    return Diagnostic(
        "warning",
        f"{len(hosts)} workload{'s use' if len(hosts) != 1 else ' uses'} the host network "
        f"({shown}): read as their node's traffic, which policies do not select and pod or "
        "namespace selectors do not match; --host-network-pods (host_network_pods=True) "
        "analyses them as ordinary pods",
        first.location if first.location.line else None, "assumption")


def _with_assumptions(cluster: Cluster, options: CompileOptions) -> Cluster:
    """The cluster with a caveat for each reading reach had to choose."""
    caveat = None if options.host_network_pods else host_network_caveat(cluster)
    if caveat is None or caveat in cluster.diagnostics:
        return cluster
    return dataclasses.replace(cluster, diagnostics=(*cluster.diagnostics, caveat))


_HAIRPIN_NOTE = (
    "through its own Service the pod is a client of itself: policies apply as to any other "
    "client (the admin policy API says so for ClusterNetworkPolicy; for NetworkPolicy "
    "network plugins differ, and reach applies them the same way)")


def _at(pod: Pod | None, ip: str) -> Pod | None:
    """``pod`` as seen at one of its addresses: with that address only."""
    if pod is None or not ip or len(pod.ips) < 2:
        return pod
    return dataclasses.replace(pod, ips=(ip,))


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


def _merge_destinations(conns: list[Connection]) -> list[Connection | None]:
    """One source's connections to outside ranges, in order, each neighbouring range
    with the same ports merged into the first of its run (None where merged away), as
    :func:`_merge_external` merges them."""
    out: list[Connection | None] = []
    last = -1
    for conn in conns:
        prev = out[last] if last >= 0 else None
        if prev is not None and prev.ports == conn.ports and prev.dst.hi + 1 == conn.dst.lo:
            out[last] = Connection(prev.src, Endpoint.external(prev.dst.lo, conn.dst.hi),
                                   conn.ports)
            out.append(None)
            continue
        last = len(out)
        out.append(conn)
    return out


@dataclass(frozen=True, slots=True)
class RowRun:
    """Consecutive connections of one source to in-cluster destinations, as indices:
    ``rows.ends[src] -> rows.ends[dsts[i]]`` on port set ``ids[i]`` of the compiled table."""

    rows: ConnectionRows
    src: int
    dsts: list[int]
    ids: list[int]

    def connections(self) -> list[Connection]:
        """The run as :class:`Connection` objects."""
        points, sets = self.rows.ends, self.rows.c.ports.sets
        src = points[self.src]
        return [Connection(src, points[j], sets[v])
                for j, v in zip(self.dsts, self.ids, strict=True)]


def _merge_external(conns: list[Connection]) -> list[Connection]:
    """Neighbouring outside ranges with the same other end and ports, as one range."""
    out: list[Connection] = []
    last: dict[tuple[bool, Endpoint], int] = {}
    merged = False
    for conn in conns:
        outside = conn.src if conn.src.kind == "External" else (
            conn.dst if conn.dst.kind == "External" else None)
        if outside is None:
            out.append(conn)
            continue
        towards = conn.src.is_external
        other = conn.dst if towards else conn.src
        k = last.get((towards, other))
        if k is not None:
            prev = out[k]
            mine = prev.src if towards else prev.dst
            if prev.ports == conn.ports and mine.hi + 1 == outside.lo:
                joined = Endpoint.external(mine.lo, outside.hi)
                out[k] = Connection(joined, other, conn.ports) if towards else Connection(
                    other, joined, conn.ports)
                # merging a destination keeps the order (its name changes after the
                # "-" only, and no other line of that source shares the first address)
                merged = merged or towards
                continue
        last[(towards, other)] = len(out)
        out.append(conn)
    if merged:
        out.sort(key=lambda conn: (str(conn.src), str(conn.dst)))
    return out


def connections_of(c: Compiled, by: str, inner: bool = False,
                   endpoint: Callable[[Pod, str], Endpoint] = pod_endpoint,
                   replicated: Callable[[Endpoint], bool] | None = None) -> list[Connection]:
    """Connections in upstream order (by source, then destination, as text), outside
    ranges as the compiler cuts them.

    ``inner``: an endpoint with itself too, the traffic between two distinct pods of it
    (a pod standing for several replicas counts as that many pods). ``replicated``: the
    endpoints whose traffic with themselves is what the policies allow between two of
    their pods, however many pods the input holds now (a workload scaled from one
    replica to three has the same connections). ``endpoint`` says which endpoint a pod
    is at granularity ``by``.
    """
    rows = ConnectionRows(c, by, inner, endpoint, replicated)
    return [conn for _, row in rows.rows() for conn in row]


class ConnectionRows:
    """The connections of every endpoint at one granularity, computed a block of source
    endpoints at a time (bounded memory) in upstream order; see :func:`connections_of`.

    ``ends``: the endpoints sorted by name (outside ranges included); :meth:`rows` gives
    each one's connections as a source, row by row.
    """

    def __init__(self, c: Compiled, by: str, inner: bool = False,
                 endpoint: Callable[[Pod, str], Endpoint] = pod_endpoint,
                 replicated: Callable[[Endpoint], bool] | None = None) -> None:
        groups: dict[Endpoint, set[int]] = {}
        weight: dict[tuple[Endpoint, int], int] = {}
        for i, pod in enumerate(c.pods):
            ep = endpoint(pod, by)
            cls = int(c.pod_class[i])
            groups.setdefault(ep, set()).add(cls)
            weight[(ep, cls)] = weight.get((ep, cls), 0) + max(pod.replicas, 1)
        n = c.n_classes
        ends: list[tuple[str, Endpoint, list[int]]] = [
            (str(e), e, sorted(classes)) for e, classes in groups.items()
        ]
        outside = [Endpoint.external(lo, hi) for lo, hi in c.externals]
        ends += [(str(x), x, [n + i]) for i, x in enumerate(outside)]
        ends.sort(key=lambda item: item[0])
        self.c = c
        self.names = [name for name, _, _ in ends]
        self.ends = [e for _, e, _ in ends]
        self.columns = [columns for _, _, columns in ends]
        self.outside = np.array([e.is_external for e in self.ends], dtype=np.bool_)
        self.single = all(len(columns) == 1 for columns in self.columns)
        self.diagonal = np.zeros(len(ends), dtype=np.int32)
        if inner or replicated is not None:
            for k, (_, ep, columns) in enumerate(ends):
                if ep.is_external:
                    continue
                replicas = replicated is not None and replicated(ep)
                if not (inner or replicas):
                    continue
                cols = np.array(columns, dtype=np.intp)
                block = c.allow.block(cols, cols)
                if not replicas:  # a lone pod of its class does not talk to itself
                    alone = np.array([weight[(ep, a)] < 2 for a in columns], dtype=np.bool_)
                    block[np.diag_indices(len(columns))] = np.where(
                        alone, 0, np.diagonal(block))
                self.diagonal[k] = c.ports.join(*(int(i) for i in np.unique(block)))

    def rows(self, which: Sequence[int] | None = None,
             entries: int = BLOCK_ENTRIES) -> Iterator[tuple[int, list[Connection]]]:
        """``(k, connections of ends[k] as the source)`` for each ``k`` of ``which`` (all,
        in order, by default), sorted by destination."""
        points, sets = self.ends, self.c.ports.sets
        for k, cols, ids in self.row_ids(which, entries):
            src = points[k]
            yield k, [Connection(src, points[j], sets[v]) for j, v in zip(cols, ids, strict=True)]

    def row_ids(self, which: Sequence[int] | None = None, entries: int = BLOCK_ENTRIES
                ) -> Iterator[tuple[int, list[int], list[int]]]:
        """``(k, destinations, port-set ids)`` of each source ``k`` (as :meth:`rows`, with
        the destinations as indices into :attr:`ends`)."""
        if not self.ends:
            return
        order = list(range(len(self.ends))) if which is None else list(which)
        c = self.c
        width = len(self.ends) if self.single else sum(len(g) for g in self.columns)
        step = max(1, entries // max(1, width))
        if self.single:
            every = np.array([columns[0] for columns in self.columns], dtype=np.intp)
        for first in range(0, len(order), step):
            chosen = order[first:first + step]
            if self.single:
                block = c.allow.block(every[chosen], every)
            else:
                block = c.allow.joined(self.columns, rows=[self.columns[k] for k in chosen])
            for r, k in enumerate(chosen):
                line = block[r]
                line[k] = self.diagonal[k]
                if self.outside[k]:
                    line[self.outside] = 0  # outside to outside: not the cluster's business
                cols = np.nonzero(line)[0]
                yield k, cols.tolist(), line[cols].tolist()


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
