"""Services and Ingresses: which pods stand behind a name, on which ports, and who gets in.

A Service is not a policy subject: NetworkPolicy sees the packet only after
kube-proxy has rewritten it to a backend pod and its *target port*. So a client
``src`` may use ``svc:port`` through a backend iff ``src`` may reach that backend
pod on the resolved target port; this module resolves the target ports (numeric,
named per backend pod, defaulting to the port) and answers per backend.

What counts as a backend
    Selector services: every pod of the namespace whose labels carry the selector.
    Selector-less services: the addresses of their Endpoints objects and
    EndpointSlices, matched to pods by ``targetRef`` pod name or by IP; an address
    that matches no pod is an *outside* backend (an address, not a pod). Without
    Endpoints the backends are unknown (a warning). ``ExternalName`` services point
    at a DNS name outside the cluster: no backends, a warning. Headless services
    (``clusterIP: None``) have no virtual port: clients connect to the pods' target
    ports directly, so their *front* ports are the target ports.

Ingress controllers
    Pods of a known controller (:data:`KNOWN_CONTROLLERS`, e.g. ingress-nginx's
    ``app.kubernetes.io/name=ingress-nginx``) found in the input are the source of
    Ingress traffic. When Ingresses exist but no such pod does, a synthetic
    :data:`INGRESS_CONTROLLER` stands in, assumed to be a default ingress-nginx
    install (:data:`SYNTHETIC_CONTROLLER_POD`): policies admitting that namespace and
    those labels (or everyone) admit it.

Examples
--------
Routes
    OpenShift Routes are read like Ingresses: ``spec.port.targetPort`` names a service
    port, or is a number on the pods (the service ports whose ``targetPort`` it is);
    without it the Route serves every port of the Service.

This module resolves names only; :meth:`reach.Network.can` answers whether a client
gets through (per backend, on its resolved target port).

Examples
--------
>>> from reach.model import Cluster, ContainerPort, Labels, Pod, Service, ServicePort
>>> api = Pod("shop", "api", Labels({"app": "api"}), ports=(ContainerPort(8080, name="http"),))
>>> svc = Service("shop", "api", selector=Labels({"app": "api"}),
...               ports=(ServicePort(80, "http"),))
>>> cluster = Cluster(pods=(api, Pod("shop", "web")), services=(svc,))
>>> info = service_map(cluster, cluster.pods).find("shop", "api")
>>> [(str(b.endpoint), str(b.targets[0])) for b in info.backends]
[('shop/api[Pod]', 'TCP 8080')]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reach.endpoints import INGRESS_CONTROLLER, Endpoint, closest, pod_endpoint
from reach.engine.addresses import address_key
from reach.engine.ports import PortSet
from reach.engine.trace import TraceContext
from reach.errors import UnknownEndpoint
from reach.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    Diagnostic,
    Endpoints,
    Ingress,
    Labels,
    Namespace,
    Pod,
    Service,
)

__all__ = [
    "INGRESS_CONTROLLER",
    "KNOWN_CONTROLLERS",
    "NODE_PORT_RANGE",
    "SYNTHETIC_CONTROLLER_POD",
    "Backend",
    "Route",
    "ServiceInfo",
    "ServiceMap",
    "controller_context",
    "resolve_service",
    "service_map",
]

#: Labels of the pods of well-known ingress controllers: ``(key, value)``, any one matches.
KNOWN_CONTROLLERS: tuple[tuple[str, str], ...] = (
    ("app.kubernetes.io/name", "ingress-nginx"),
    ("app.kubernetes.io/name", "traefik"),
    ("app.kubernetes.io/name", "haproxy-ingress"),
    ("app.kubernetes.io/name", "kong"),
    ("app.kubernetes.io/name", "contour"),
    ("istio", "ingressgateway"),
)

#: What the synthetic controller is assumed to be (a default ingress-nginx install).
SYNTHETIC_CONTROLLER_POD = Pod(
    "ingress-nginx",
    "ingress-nginx-controller",
    Labels({"app.kubernetes.io/name": "ingress-nginx",
            "app.kubernetes.io/component": "controller"}),
)

#: Where Kubernetes allocates node ports when the manifest does not pin one.
NODE_PORT_RANGE = PortSet.range("TCP", 30000, 32767)

_COMPONENT = "app.kubernetes.io/component"


@dataclass(frozen=True, slots=True)
class Backend:
    """One backend of a Service: a pod (``pod`` is its index in ``net.pods``) or an address.

    ``targets[i]`` is the port this backend receives traffic of ``service.ports[i]`` on
    (one port of the service port's protocol), empty when it serves no such port (a
    named ``targetPort`` its containers do not declare).
    """

    endpoint: Endpoint
    pod: int | None
    address: int | None
    targets: tuple[PortSet, ...]

    @property
    def name(self) -> str:
        """The backend's short name: its pod's (or its workload's) name, or its address."""
        return self.endpoint.name

    def received(self) -> PortSet:
        """Every port this backend receives service traffic on."""
        out = PortSet.none()
        for target in self.targets:
            out = out | target
        return out


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A Service with its backends resolved."""

    service: Service
    backends: tuple[Backend, ...]
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint("Service", self.service.namespace, self.service.name)

    @property
    def exposed(self) -> bool:
        """Whether the Service opens ports outside the cluster (NodePort or LoadBalancer)."""
        return self.service.type in ("NodePort", "LoadBalancer")

    def front(self, index: int, backend: Backend) -> PortSet:
        """What an in-cluster client connects to for port ``index`` served by ``backend``.

        The service port, or for a headless service the backend's target port.
        """
        sp = self.service.ports[index]
        if self.service.headless:
            return backend.targets[index]
        return PortSet.single(sp.protocol, sp.port)

    def entry(self, index: int) -> PortSet:
        """What a client outside the cluster connects to for port ``index``.

        A LoadBalancer listens on the service port; a NodePort on its ``nodePort``
        (any of :data:`NODE_PORT_RANGE` when the manifest leaves it to the allocator).
        Empty for other types.
        """
        sp = self.service.ports[index]
        if self.service.type == "LoadBalancer":
            return PortSet.single(sp.protocol, sp.port)
        if self.service.type == "NodePort":
            if sp.node_port is not None:
                return PortSet.single(sp.protocol, sp.node_port)
            return PortSet.range(sp.protocol, 30000, 32767)
        return PortSet.none()

    def port_indices(self, port: int | str | None, protocol: str | None = None,
                     outside: bool = False) -> tuple[int, ...]:
        """The indices of the service ports a number or port name designates (None: all).

        ``outside``: the number may also be a ``nodePort`` (what a client outside the
        cluster connects to). ``protocol`` narrows a number to that protocol.
        """
        out = []
        for i, sp in enumerate(self.service.ports):
            if port is None:
                wanted = protocol is None or sp.protocol == protocol
            elif isinstance(port, str):
                wanted = sp.name == port
            else:
                wanted = (sp.port == port or (outside and sp.node_port == port)) and (
                    protocol is None or sp.protocol == protocol)
            if wanted:
                out.append(i)
        return tuple(out)

    def describe_ports(self) -> str:
        """The service's ports as a user would name them (``80/TCP (http)``...)."""
        return ", ".join(
            f"{sp.port}/{sp.protocol}" + (f" ({sp.name})" if sp.name else "")
            + (f" nodePort {sp.node_port}" if sp.node_port else "")
            for sp in self.service.ports) or "none"


@dataclass(frozen=True, slots=True)
class Route:
    """An Ingress (or OpenShift Route) routing to some ports (indices) of a Service."""

    ingress: Ingress
    service: ServiceInfo
    ports: tuple[int, ...]

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.ingress.kind, self.ingress.namespace, self.ingress.name)


@dataclass(frozen=True, slots=True)
class ServiceMap:
    """Every Service of a network with its backends, the Ingress routes and the controllers.

    ``controllers`` are the indices of the pods of known ingress controllers.
    ``warnings`` say what could not be resolved (ExternalName, unknown backends...).
    """

    services: tuple[ServiceInfo, ...]
    routes: tuple[Route, ...]
    controllers: tuple[int, ...]
    warnings: tuple[Diagnostic, ...]
    _by_name: dict[tuple[str, str], ServiceInfo] = field(
        default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for info in self.services:
            self._by_name.setdefault((info.service.namespace, info.service.name), info)

    @property
    def synthetic_controller(self) -> bool:
        """Whether Ingress traffic comes from the synthetic :data:`INGRESS_CONTROLLER`."""
        return bool(self.routes) and not self.controllers

    def named(self, namespace: str, name: str) -> ServiceInfo | None:
        """The Service ``namespace/name``, or None."""
        return self._by_name.get((namespace, name))

    def find(self, namespace: str, name: str) -> ServiceInfo:
        """The Service ``namespace/name``; :class:`~reach.errors.UnknownEndpoint` if absent."""
        found = self.named(namespace, name)
        if found is not None:
            return found
        near = closest(name, [i.service.name for i in self.services
                              if i.service.namespace == namespace])
        raise UnknownEndpoint(
            f"{namespace}/svc/{name}", f'no Service "{name}" in namespace "{namespace}"',
            tuple(f"{namespace}/svc/{n}" for n in near),
        )

    def routes_of(self, kind: str, namespace: str, name: str) -> tuple[Route, ...]:
        """The routes of the Ingress (or Route) ``namespace/name``, one per Service."""
        return tuple(r for r in self.routes if (r.ingress.kind, r.ingress.namespace,
                                                r.ingress.name) == (kind, namespace, name))


# ---------------------------------------------------------------------------
# resolution


def _warning(message: str, where: Service | Ingress | Endpoints, code: str) -> Diagnostic:
    return Diagnostic("warning", message, where.location, code)


def _named_target(pod: Pod, name: str, protocol: str) -> int | None:
    for cp in pod.ports:
        if cp.name == name and cp.protocol == protocol:
            return cp.port
    return None


def _pod_targets(service: Service, pod: Pod, warnings: list[Diagnostic]) -> tuple[PortSet, ...]:
    out = []
    for sp in service.ports:
        if isinstance(sp.target_port, int):
            out.append(PortSet.single(sp.protocol, sp.target_port))
            continue
        number = _named_target(pod, sp.target_port, sp.protocol)
        if number is None:
            warnings.append(_warning(
                f'service {service.ref} port {sp.port}: targetPort "{sp.target_port}" is not a '
                f"{sp.protocol} port of pod {pod.ref}, which gets no traffic on it",
                service, "named-target-port"))
            out.append(PortSet.none())
        else:
            out.append(PortSet.single(sp.protocol, number))
    return tuple(out)


def _endpoints_targets(service: Service, ports: Sequence[ContainerPort],
                       warnings: list[Diagnostic]) -> tuple[PortSet, ...]:
    """Target ports from an Endpoints object's ports, matched to service ports by name."""
    out = []
    for sp in service.ports:
        found = [p for p in ports if p.name == sp.name and p.protocol == sp.protocol]
        if not found and len(ports) == 1 and len(service.ports) == 1:
            found = list(ports)
        if found:
            out.append(PortSet.single(sp.protocol, found[0].port))
        elif isinstance(sp.target_port, int):
            out.append(PortSet.single(sp.protocol, sp.target_port))
        else:
            warnings.append(_warning(
                f"service {service.ref} port {sp.port}: no Endpoints port matches it",
                service, "endpoints-port"))
            out.append(PortSet.none())
    return tuple(out)


def _selector_backends(pods: Sequence[Pod], service: Service, selector: Labels,
                       index: Mapping[tuple[str, str, str], set[int]],
                       warnings: list[Diagnostic]) -> list[Backend]:
    chosen: set[int] | None = None
    for key, value in selector.items():
        found = index.get((service.namespace, key, value), set())
        chosen = set(found) if chosen is None else chosen & found
        if not chosen:
            return []
    out = []
    cache: dict[tuple[ContainerPort, ...], tuple[PortSet, ...]] = {}
    for i in sorted(chosen or ()):
        pod = pods[i]
        targets = cache.get(pod.ports)
        if targets is None or not all(targets):
            targets = cache[pod.ports] = _pod_targets(service, pod, warnings)
        out.append(Backend(pod_endpoint(pod, "pod"), i, None, targets))
    return out


def _endpoint_backends(pods: Sequence[Pod], service: Service, endpoints: Sequence[Endpoints],
                       warnings: list[Diagnostic]) -> list[Backend]:
    by_name = {pod.name: i for i, pod in enumerate(pods) if pod.namespace == service.namespace}
    by_ip: dict[int, int] = {}
    for i, pod in enumerate(pods):
        for ip in pod.ips:
            try:
                by_ip.setdefault(address_key(ip), i)
            except ValueError:
                continue
    out: list[Backend] = []
    seen: set[tuple[Endpoint, tuple[PortSet, ...]]] = set()
    for eps in endpoints:
        targets = _endpoints_targets(service, eps.ports, warnings)
        for address in eps.addresses:
            backend: Backend | None = None
            key: int | None = None
            if address.ip:
                try:
                    key = address_key(address.ip)
                except ValueError:
                    warnings.append(_warning(
                        f"service {service.ref}: endpoint address {address.ip!r} is not an IP",
                        eps, "endpoint-address"))
            index = by_name.get(address.pod_name) if address.pod_name else None
            if index is None and key is not None:
                index = by_ip.get(key)
            if index is not None:
                backend = Backend(pod_endpoint(pods[index], "pod"), index, None, targets)
            elif key is not None and address.ip is not None:
                backend = Backend(Endpoint.external(key, key), None, key, targets)
            elif address.pod_name:
                warnings.append(_warning(
                    f"service {service.ref}: endpoint pod {address.pod_name!r} is not in the input",
                    eps, "endpoint-pod"))
            if backend is not None and (backend.endpoint, targets) not in seen:
                seen.add((backend.endpoint, targets))
                out.append(backend)
    return out


def _is_controller(pod: Pod) -> bool:
    if _COMPONENT in pod.labels and pod.labels[_COMPONENT] != "controller":
        return False  # e.g. ingress-nginx's admission webhook jobs
    return any(pod.labels.get(key) == value for key, value in KNOWN_CONTROLLERS)


def _route_indices(info: ServiceInfo, port: int | str | None, target: bool) -> tuple[int, ...]:
    """The service ports an Ingress backend port (or a Route targetPort) designates."""
    if not target or not isinstance(port, int):
        return info.port_indices(port)
    # A Route's numeric targetPort is the port on the pods: the service ports whose
    # targetPort it is, resolved per backend for named target ports.
    return tuple(
        i for i, sp in enumerate(info.service.ports)
        if sp.target_port == port or any(
            b.targets[i].allows(sp.protocol, port) for b in info.backends)
    )


def _routes(ingresses: Sequence[Ingress], infos: Mapping[tuple[str, str], ServiceInfo],
            warnings: list[Diagnostic]) -> list[Route]:
    out = []
    for ing in ingresses:
        what = ing.kind.lower()
        wanted: dict[str, set[int]] = {}
        for backend in ing.backends:
            info = infos.get((ing.namespace, backend.service))
            if info is None:
                warnings.append(_warning(
                    f"{what} {ing.ref} routes to service {ing.namespace}/{backend.service}, "
                    "which is not in the input", ing, "ingress-service"))
                continue
            indices = _route_indices(info, backend.port, backend.target)
            if not indices:
                on = "target port" if backend.target else "port"
                warnings.append(_warning(
                    f"{what} {ing.ref} routes to {on} {backend.port} of service "
                    f"{info.service.ref}, which has no such port (its ports: "
                    f"{info.describe_ports()})", ing, "ingress-port"))
                continue
            wanted.setdefault(backend.service, set()).update(indices)
        for name in sorted(wanted):
            out.append(Route(ing, infos[(ing.namespace, name)], tuple(sorted(wanted[name]))))
    return out


def service_map(cluster: Cluster, pods: Sequence[Pod]) -> ServiceMap:
    """The Services of ``cluster`` with their backends among ``pods``, the Ingress (and
    Route) routes and the ingress controllers. :attr:`reach.Network.services` holds it.

    Examples
    --------
    >>> from reach.model import Cluster, Service
    >>> cluster = Cluster(services=(Service("ns", "db", type="ExternalName",
    ...                                     external_name="db.example.com"),))
    >>> [w.code for w in service_map(cluster, ()).warnings]
    ['external-name']
    """
    warnings: list[Diagnostic] = []
    index = _label_index(enumerate(pods))
    endpoints = _endpoints_of(cluster)
    infos: list[ServiceInfo] = []
    for service in sorted(cluster.services, key=lambda s: (s.namespace, s.name)):
        info = _service_info(service, pods, index, endpoints)
        warnings.extend(info.warnings)
        infos.append(info)
    by_key = {(i.service.namespace, i.service.name): i for i in infos}
    routes = _routes(cluster.ingresses, by_key, warnings)
    controllers = tuple(i for i, pod in enumerate(pods) if _is_controller(pod))
    if routes and not controllers:
        warnings.append(Diagnostic(
            "warning",
            "no ingress controller pods in the input: Ingress traffic comes from a synthetic "
            "{ingress-controller}, assumed to run in namespace ingress-nginx with label "
            "app.kubernetes.io/name=ingress-nginx",
            None, "synthetic-controller"))
    return ServiceMap(tuple(infos), tuple(routes), controllers, tuple(dict.fromkeys(warnings)))


def resolve_service(cluster: Cluster, pods: Sequence[Pod], service: Service,
                    members: Iterable[int] | None = None) -> ServiceInfo:
    """``service`` with its backends among ``pods``, as :func:`service_map` resolves it,
    without resolving every other Service. ``members``: the indices of the pods of its
    namespace, when known.

    >>> from reach.model import Cluster, Labels, Pod, Service, ServicePort
    >>> web = Service("ns", "web", selector=Labels({"app": "web"}),
    ...               ports=(ServicePort(80, 8080),))
    >>> pods = (Pod("ns", "web-1", Labels({"app": "web"})),
    ...         Pod("other", "web-2", Labels({"app": "web"})))
    >>> [b.pod for b in resolve_service(Cluster(services=(web,)), pods, web).backends]
    [0]
    """
    if members is None:
        mine: Iterable[tuple[int, Pod]] = (
            (i, pod) for i, pod in enumerate(pods) if pod.namespace == service.namespace)
    else:
        mine = ((i, pods[i]) for i in members)
    return _service_info(service, pods, _label_index(mine), _endpoints_of(cluster))


def _label_index(pods: Iterable[tuple[int, Pod]]) -> dict[tuple[str, str, str], set[int]]:
    """The pods (by index) by (namespace, label key, value)."""
    index: dict[tuple[str, str, str], set[int]] = {}
    for i, pod in pods:
        for key, value in pod.labels.items():
            index.setdefault((pod.namespace, key, value), set()).add(i)
    return index


def _endpoints_of(cluster: Cluster) -> dict[tuple[str, str], list[Endpoints]]:
    endpoints: dict[tuple[str, str], list[Endpoints]] = {}
    for eps in cluster.endpoints:
        endpoints.setdefault((eps.namespace, eps.service), []).append(eps)
    return endpoints


def _service_info(service: Service, pods: Sequence[Pod],
                  index: Mapping[tuple[str, str, str], set[int]],
                  endpoints: Mapping[tuple[str, str], list[Endpoints]]) -> ServiceInfo:
    """One Service with its backends among ``pods`` and the warnings resolving it gave."""
    backends: list[Backend] = []
    mine: list[Diagnostic] = []
    if service.type == "ExternalName":
        mine.append(_warning(
            f"service {service.ref} is ExternalName ({service.external_name or '?'}): "
            "its traffic leaves for a DNS name reach cannot resolve; no backends",
            service, "external-name"))
    elif service.selector:  # an empty selector is no selector, as for the API server
        backends = _selector_backends(pods, service, service.selector, index, mine)
        if not backends:
            mine.append(_warning(
                f"service {service.ref} selects no pod ({service.selector})",
                service, "no-backends"))
    elif (service.namespace, service.name) in endpoints:
        backends = _endpoint_backends(
            pods, service, endpoints[(service.namespace, service.name)], mine)
    else:
        mine.append(_warning(
            f"service {service.ref} has no selector and no Endpoints or EndpointSlices in "
            "the input: its backends are unknown", service, "unknown-backends"))
    return ServiceInfo(service, tuple(backends), tuple(dict.fromkeys(mine)))


def controller_context(cluster: Cluster, namespaces: Mapping[str, Namespace],
                       ipblock_pods: bool) -> TraceContext:
    """The trace context in which :data:`SYNTHETIC_CONTROLLER_POD` is a pod like the others.

    ``trace_side(ctx, "ingress", pod, SYNTHETIC_CONTROLLER_POD, None).allowed`` is what
    ``pod`` admits from the synthetic ingress controller.
    """
    phantom = SYNTHETIC_CONTROLLER_POD
    known = dict(namespaces)
    if phantom.namespace not in known:
        known[phantom.namespace] = Namespace(
            phantom.namespace, Labels({NAMESPACE_NAME_LABEL: phantom.namespace}), implicit=True)
    return TraceContext.of(cluster.policies, known, cluster.nodes, ipblock_pods,
                           accounts=cluster.service_accounts, network_sets=cluster.network_sets)
