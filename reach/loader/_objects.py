"""Everything but NetworkPolicy: lenient on fields reach ignores, strict on those it uses."""

from __future__ import annotations

from yaml.nodes import Node

from reach.documents._fields import (
    Meta,
    read_labels,
    read_port_name,
    read_port_number,
    read_protocol,
)
from reach.documents._yaml import Mapping, Source
from reach.engine.addresses import address_key
from reach.model import (
    ContainerPort,
    Diagnostic,
    EndpointAddress,
    Endpoints,
    Ingress,
    IngressBackend,
    Labels,
    Pod,
    Service,
    ServiceAccount,
    ServicePort,
    Workload,
)
from reach.model import Node as ClusterNode

__all__ = [
    "WORKLOAD_KINDS",
    "not_running",
    "read_endpoint_slice",
    "read_endpoints",
    "read_ingress",
    "read_node",
    "read_pod",
    "read_route",
    "read_service",
    "read_service_account",
    "read_workload",
]

WORKLOAD_KINDS = frozenset({
    "CronJob", "DaemonSet", "Deployment", "Job", "ReplicaSet", "ReplicationController",
    "StatefulSet",
})
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_TRAFFIC_POLICIES = ("Cluster", "Local")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _get(src: Source, fields: Mapping | None, key: str, what: str) -> Mapping | None:
    entry = fields.get(key) if fields else None
    return src.mapping(entry[1], what) if entry else None


def _items(src: Source, fields: Mapping | None, key: str, what: str) -> list[Node]:
    entry = fields.get(key) if fields else None
    return (src.sequence(entry[1], what) if entry else None) or []


def _str(src: Source, fields: Mapping | None, key: str, what: str) -> str | None:
    entry = fields.get(key) if fields else None
    return src.string(entry[1], what) if entry else None


def _int(src: Source, fields: Mapping | None, key: str, what: str) -> int | None:
    entry = fields.get(key) if fields else None
    return src.integer(entry[1], what) if entry else None


def _bool(src: Source, fields: Mapping | None, key: str, what: str) -> bool | None:
    entry = fields.get(key) if fields else None
    return src.boolean(entry[1], what) if entry else None


def _container_ports(
    src: Source, pod_spec: Mapping | None, notes: list[Diagnostic]
) -> tuple[ContainerPort, ...]:
    ports: list[ContainerPort] = []
    for container in _items(src, pod_spec, "containers", "containers"):
        fields = src.mapping(container, "a container")
        for item in _items(src, fields, "ports", "ports"):
            port = src.mapping(item, "a container port") or {}
            number_entry = port.get("containerPort")
            number = (
                read_port_number(src, number_entry[1], "containerPort") if number_entry else None
            )
            if number is None:
                near = [key for key in port if key.lower() == "containerport"]
                hint = f" (did you mean containerPort, not {near[0]}?)" if near else ""
                notes.append(Diagnostic(
                    "warning",
                    f"skipped a container port without containerPort{hint}",
                    src.location(item),
                    code="container-port",
                ))
                continue
            name_entry = port.get("name")
            name = src.string(name_entry[1], "port name") if name_entry else None
            if name is not None:
                assert name_entry is not None
                read_port_name(src, name_entry[1], name, "port name")
            protocol_entry = port.get("protocol")
            protocol = read_protocol(src, protocol_entry[1]) if protocol_entry else "TCP"
            ports.append(ContainerPort(port=number, protocol=protocol, name=name))
    return tuple(ports)


def _ips(src: Source, status: Mapping | None) -> tuple[str, ...]:
    found: list[str] = []
    for item in _items(src, status, "podIPs", "status.podIPs"):
        entry = src.mapping(item, "a status.podIPs entry")
        ip_entry = entry.get("ip") if entry else None
        if ip_entry is not None:
            found.append(_ip(src, ip_entry[1], "status.podIPs[].ip"))
    single = status.get("podIP") if status else None
    if single is not None and not found:
        found.append(_ip(src, single[1], "status.podIP"))
    return tuple(dict.fromkeys(found))


def _ip(src: Source, node: Node, what: str) -> str:
    text = src.string(node, what)
    if not text:
        src.fail(node, f"{what} is empty")
    try:
        address_key(text)
    except ValueError as exc:
        src.fail(node, str(exc))
    return text


def _controller(src: Source, meta: Meta) -> tuple[str, str]:
    for item in _items(src, meta.node, "ownerReferences", "metadata.ownerReferences"):
        ref = src.mapping(item, "an ownerReferences entry")
        if _bool(src, ref, "controller", "ownerReferences[].controller"):
            kind = _str(src, ref, "kind", "ownerReferences[].kind") or ""
            name = _str(src, ref, "name", "ownerReferences[].name") or ""
            # A Node owns static pods: that is no workload, the pod stands alone.
            # A controller without a kind still names the pods' group ("<name>[Pod]").
            if name and kind != "Node":
                return kind, name
    return "", ""


def read_node(src: Source, fields: Mapping, meta: Meta) -> ClusterNode:
    """A Node: its labels and the IP addresses of ``status.addresses`` (host names left out)."""
    status = _get(src, fields, "status", "status")
    found: list[str] = []
    for item in _items(src, status, "addresses", "status.addresses"):
        entry = src.mapping(item, "a status.addresses entry") or {}
        kind = _str(src, entry, "type", "status.addresses[].type") or ""
        address = entry.get("address")
        if address is None or kind not in ("InternalIP", "ExternalIP"):
            continue  # Hostname, InternalDNS, ExternalDNS: names, not addresses
        found.append(_ip(src, address[1], "status.addresses[].address"))
    return ClusterNode(meta.name, meta.labels, tuple(dict.fromkeys(found)), meta.location)


_DONE_PHASES = ("Succeeded", "Failed")
_HELM_HOOK = "helm.sh/hook"


def _annotation(src: Source, meta: Meta, key: str) -> str | None:
    annotations = meta.node.get("annotations")
    found = src.mapping(annotations[1], "metadata.annotations") if annotations else None
    entry = found.get(key) if found else None
    return src.text_of(entry[1]) if entry is not None else None


def not_running(src: Source, fields: Mapping, meta: Meta) -> str | None:
    """Why a Pod that the input holds runs no traffic, or None when it may.

    A pod whose ``status.phase`` is ``Succeeded`` or ``Failed`` has ended; a Helm test
    hook (``helm.sh/hook: test``) runs only during ``helm test``.
    """
    status = _get(src, fields, "status", "status")
    phase = _str(src, status, "phase", "status.phase") if status else None
    if phase in _DONE_PHASES:
        return f"phase {phase}"
    hook = _annotation(src, meta, _HELM_HOOK)
    if hook and any(h.strip().startswith("test") for h in hook.split(",")):
        return f"a Helm test hook ({_HELM_HOOK}: {hook})"
    return None


def read_service_account(meta: Meta) -> ServiceAccount:
    """A ServiceAccount: its name and labels (Calico selects pods by them)."""
    return ServiceAccount(meta.namespace, meta.name, meta.labels, meta.location)


def read_pod(src: Source, fields: Mapping, meta: Meta, notes: list[Diagnostic]) -> Pod:
    """A Pod as written (or dumped): labels, container ports, IPs, controlling owner."""
    spec = _get(src, fields, "spec", "spec")
    owner_kind, owner_name = _controller(src, meta)
    generated = _str(src, meta.node, "generateName", "metadata.generateName")
    return Pod(
        namespace=meta.namespace,
        name=meta.name,
        labels=meta.labels,
        ports=_container_ports(src, spec, notes),
        ips=_ips(src, _get(src, fields, "status", "status")),
        host_network=bool(_bool(src, spec, "hostNetwork", "spec.hostNetwork")),
        owner_kind=owner_kind,
        owner_name=owner_name,
        location=meta.location,
        generated=bool(generated) and meta.name.startswith(generated or ""),
        service_account=_account(src, spec),
    )


def read_workload(
    src: Source, kind: str, fields: Mapping, meta: Meta, notes: list[Diagnostic]
) -> tuple[Workload, Pod | None]:
    """A workload and the one pod that stands for its replicas (None without a template)."""
    spec = _get(src, fields, "spec", "spec")
    template_path = "spec.template"
    if kind == "CronJob":
        job = _get(src, _get(src, spec, "jobTemplate", "spec.jobTemplate"), "spec",
                   "spec.jobTemplate.spec")
        template = _get(src, job, "template", "spec.jobTemplate.spec.template")
        template_path = "spec.jobTemplate.spec.template"
    else:
        template = _get(src, spec, "template", "spec.template")
    replicas = _int(src, spec, "replicas", "spec.replicas")
    if replicas is None:
        replicas = 1
    elif replicas < 0:
        entry = spec["replicas"] if spec else None
        assert entry is not None
        src.fail(entry[1], f"spec.replicas {replicas} is negative")
    owner_kind, owner_name = _controller(src, meta)
    workload = Workload(kind=kind, namespace=meta.namespace, name=meta.name,
                        labels=meta.labels, replicas=replicas, location=meta.location,
                        owner_kind=owner_kind, owner_name=owner_name)
    if template is None:
        notes.append(Diagnostic(
            "warning",
            f"{kind} {meta.namespace}/{meta.name} has no {template_path}: it stands for no pod",
            meta.location,
        ))
        return workload, None
    template_meta = _get(src, template, "metadata", f"{template_path}.metadata")
    labels_entry = template_meta.get("labels") if template_meta else None
    labels = (
        read_labels(src, labels_entry[1], f"{template_path}.metadata.labels")
        if labels_entry else Labels()
    )
    pod_spec = _get(src, template, "spec", f"{template_path}.spec")
    pod = Pod(
        namespace=meta.namespace,
        name=meta.name,
        labels=labels,
        ports=_container_ports(src, pod_spec, notes),
        host_network=bool(_bool(src, pod_spec, "hostNetwork", "spec.hostNetwork")),
        owner_kind=kind,
        owner_name=meta.name,
        replicas=replicas,
        location=meta.location,
        template=True,
        service_account=_account(src, pod_spec),
    )
    return workload, pod


def _account(src: Source, spec: Mapping | None) -> str:
    """``spec.serviceAccountName`` (or the deprecated ``serviceAccount``), ``default`` if unset."""
    for key in ("serviceAccountName", "serviceAccount"):
        name = _str(src, spec, key, f"spec.{key}")
        if name:
            return name
    return "default"


def _service_port(src: Source, node: Node) -> ServicePort:
    fields = src.mapping(node, "a service port") or {}
    port_entry = fields.get("port")
    port = read_port_number(src, port_entry[1], "port") if port_entry else None
    if port is None:
        src.fail(node, "a service port needs port")
    target_entry = fields.get("targetPort")
    target = src.int_or_string(target_entry[1], "targetPort") if target_entry else None
    if isinstance(target, str):
        assert target_entry is not None
        read_port_name(src, target_entry[1], target, "targetPort name")
    elif target is not None:
        assert target_entry is not None
        read_port_number(src, target_entry[1], "targetPort")
    name = _str(src, fields, "name", "port name")
    node_port_entry = fields.get("nodePort")
    node_port = (
        read_port_number(src, node_port_entry[1], "nodePort") if node_port_entry else None
    )
    protocol_entry = fields.get("protocol")
    return ServicePort(
        port=port,
        target_port=port if target is None else target,
        protocol=read_protocol(src, protocol_entry[1]) if protocol_entry else "TCP",
        name=name,
        node_port=node_port,
    )


def read_service(src: Source, fields: Mapping, meta: Meta) -> Service:
    """A Service; an empty or absent selector means a selector-less Service (None)."""
    spec = _get(src, fields, "spec", "spec")
    kind = _str(src, spec, "type", "spec.type") or "ClusterIP"
    if kind not in _SERVICE_TYPES:
        assert spec is not None
        src.fail(spec["type"][1], f'unknown Service type "{kind}"',
                 "valid types: " + ", ".join(_SERVICE_TYPES))
    selector_entry = spec.get("selector") if spec else None
    selector = read_labels(src, selector_entry[1], "spec.selector") if selector_entry else None
    policy = _str(src, spec, "externalTrafficPolicy", "spec.externalTrafficPolicy") or "Cluster"
    if policy not in _TRAFFIC_POLICIES:
        assert spec is not None
        src.fail(spec["externalTrafficPolicy"][1],
                 f'unknown externalTrafficPolicy "{policy}"', "valid: Cluster, Local")
    return Service(
        namespace=meta.namespace,
        name=meta.name,
        type=kind,
        # The API server stores an empty selector as no selector.
        selector=selector or None,
        ports=tuple(_service_port(src, item) for item in _items(src, spec, "ports", "ports")),
        cluster_ip=_str(src, spec, "clusterIP", "spec.clusterIP"),
        external_name=_str(src, spec, "externalName", "spec.externalName"),
        external_traffic_policy=policy,
        location=meta.location,
    )


def _endpoint_port(src: Source, node: Node, optional: bool) -> ContainerPort | None:
    fields = src.mapping(node, "an endpoint port") or {}
    port_entry = fields.get("port")
    port = read_port_number(src, port_entry[1], "port") if port_entry else None
    if port is None:
        if optional:
            return None
        src.fail(node, "an endpoint port needs port")
    protocol_entry = fields.get("protocol")
    return ContainerPort(
        port=port,
        protocol=read_protocol(src, protocol_entry[1]) if protocol_entry else "TCP",
        name=_str(src, fields, "name", "port name") or None,
    )


def _target_pod(src: Source, fields: Mapping | None) -> str | None:
    ref = _get(src, fields, "targetRef", "targetRef")
    if ref and _str(src, ref, "kind", "targetRef.kind") == "Pod":
        return _str(src, ref, "name", "targetRef.name")
    return None


def read_endpoints(src: Source, fields: Mapping, meta: Meta) -> Endpoints:
    """A core/v1 Endpoints: the ready addresses and ports of every subset."""
    addresses: list[EndpointAddress] = []
    ports: list[ContainerPort] = []
    for subset_node in _items(src, fields, "subsets", "subsets"):
        subset = src.mapping(subset_node, "a subset")
        for item in _items(src, subset, "addresses", "subsets[].addresses"):
            address = src.mapping(item, "an address") or {}
            ip_entry = address.get("ip")
            ip = _ip(src, ip_entry[1], "ip") if ip_entry else None
            addresses.append(EndpointAddress(ip=ip, pod_name=_target_pod(src, address)))
        for item in _items(src, subset, "ports", "subsets[].ports"):
            port = _endpoint_port(src, item, optional=False)
            if port is not None:
                ports.append(port)
    return Endpoints(namespace=meta.namespace, service=meta.name, addresses=tuple(addresses),
                     ports=tuple(ports), location=meta.location)


def read_endpoint_slice(
    src: Source, fields: Mapping, meta: Meta, notes: list[Diagnostic]
) -> Endpoints | None:
    """A discovery.k8s.io EndpointSlice, for the Service named by its service-name label."""
    service = meta.labels.get(SERVICE_NAME_LABEL)
    if not service:
        notes.append(Diagnostic(
            "warning",
            f"EndpointSlice {meta.namespace}/{meta.name} has no label {SERVICE_NAME_LABEL}: "
            "skipped",
            meta.location,
        ))
        return None
    addresses: list[EndpointAddress] = []
    for item in _items(src, fields, "endpoints", "endpoints"):
        endpoint = src.mapping(item, "an endpoint")
        pod = _target_pod(src, endpoint)
        for address in _items(src, endpoint, "addresses", "endpoints[].addresses"):
            addresses.append(EndpointAddress(ip=_ip(src, address, "address"), pod_name=pod))
    ports = [_endpoint_port(src, item, optional=True)
             for item in _items(src, fields, "ports", "ports")]
    return Endpoints(namespace=meta.namespace, service=service, addresses=tuple(addresses),
                     ports=tuple(port for port in ports if port is not None),
                     location=meta.location)


def _backend(src: Source, node: Node, host: str, path: str) -> IngressBackend | None:
    fields = src.mapping(node, "backend")
    service = _get(src, fields, "service", "backend.service")
    if service is not None:
        name = _str(src, service, "name", "backend.service.name")
        if not name:
            src.fail(node, "backend.service needs a name")
        port_fields = _get(src, service, "port", "backend.service.port")
        number_entry = port_fields.get("number") if port_fields else None
        port: int | str | None = (
            read_port_number(src, number_entry[1], "backend.service.port.number")
            if number_entry else None
        )
        if port is None:
            port = _str(src, port_fields, "name", "backend.service.port.name")
        return IngressBackend(service=name, port=port, host=host, path=path)
    legacy = _str(src, fields, "serviceName", "backend.serviceName")
    if legacy:
        entry = fields.get("servicePort") if fields else None
        legacy_port = src.int_or_string(entry[1], "backend.servicePort") if entry else None
        return IngressBackend(service=legacy, port=legacy_port, host=host, path=path)
    return None  # a resource backend: not a Service


def read_ingress(src: Source, fields: Mapping, meta: Meta) -> Ingress:
    """An Ingress (v1, or v1beta1 with serviceName/servicePort), as the Services it reaches."""
    spec = _get(src, fields, "spec", "spec")
    backends: list[IngressBackend | None] = []
    for key in ("defaultBackend", "backend"):
        entry = spec.get(key) if spec else None
        if entry is not None:
            backends.append(_backend(src, entry[1], "", ""))
    for rule_node in _items(src, spec, "rules", "spec.rules"):
        rule = src.mapping(rule_node, "an ingress rule")
        host = _str(src, rule, "host", "host") or ""
        http = _get(src, rule, "http", "http")
        for path_node in _items(src, http, "paths", "http.paths"):
            path_fields = src.mapping(path_node, "a path")
            path = _str(src, path_fields, "path", "path") or ""
            entry = path_fields.get("backend") if path_fields else None
            if entry is not None:
                backends.append(_backend(src, entry[1], host, path))
    ingress_class = _str(src, spec, "ingressClassName", "spec.ingressClassName")
    if ingress_class is None:
        annotations = meta.node.get("annotations")
        notes = src.mapping(annotations[1], "metadata.annotations") if annotations else None
        class_entry = notes.get("kubernetes.io/ingress.class") if notes else None
        if class_entry is not None:
            ingress_class = src.string(class_entry[1], "kubernetes.io/ingress.class")
    return Ingress(
        namespace=meta.namespace,
        name=meta.name,
        backends=tuple(backend for backend in backends if backend is not None),
        ingress_class=ingress_class,
        location=meta.location,
    )


def _route_backend(src: Source, node: Node, what: str, port: int | str | None,
                   host: str, path: str) -> IngressBackend | None:
    fields = src.mapping(node, what) or {}
    kind = _str(src, fields, "kind", f"{what}.kind") or "Service"
    name = _str(src, fields, "name", f"{what}.name")
    if kind != "Service" or not name:
        return None
    return IngressBackend(service=name, port=port, host=host, path=path,
                          target=isinstance(port, int))


def read_route(src: Source, fields: Mapping, meta: Meta) -> Ingress:
    """An OpenShift ``route.openshift.io/v1`` Route, read like an Ingress.

    ``spec.to`` and ``spec.alternateBackends`` name the Services; ``spec.port.targetPort``
    is a service port name or a number on the pods (every port of the Service when
    absent), as the OpenShift router reads it.
    """
    spec = _get(src, fields, "spec", "spec")
    host = _str(src, spec, "host", "spec.host") or ""
    path = _str(src, spec, "path", "spec.path") or ""
    port_fields = _get(src, spec, "port", "spec.port")
    entry = port_fields.get("targetPort") if port_fields else None
    port = src.int_or_string(entry[1], "spec.port.targetPort") if entry else None
    backends: list[IngressBackend | None] = []
    to = spec.get("to") if spec else None
    if to is not None:
        backends.append(_route_backend(src, to[1], "spec.to", port, host, path))
    for item in _items(src, spec, "alternateBackends", "spec.alternateBackends"):
        backends.append(_route_backend(src, item, "spec.alternateBackends[]", port, host, path))
    return Ingress(
        namespace=meta.namespace,
        name=meta.name,
        backends=tuple(b for b in backends if b is not None),
        location=meta.location,
        kind="Route",
    )
