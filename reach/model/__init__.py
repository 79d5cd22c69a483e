"""The typed, immutable model of a cluster's manifests.

Kubernetes camelCase stops at the loader: everything here is snake_case, frozen and
slotted, hence hashable and usable as a graph node or a cache key. Every object
remembers where it was written (:class:`Location`).

Examples
--------
>>> pod = Pod(namespace="shop", name="web-1", labels=Labels({"app": "web"}))
>>> pod.labels["app"]
'web'
>>> pod.ref
'shop/web-1'
>>> pod.workload_kind, pod.workload_name
('Pod', 'web-1')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "NAMESPACE_NAME_LABEL",
    "PROTOCOLS",
    "Cluster",
    "ContainerPort",
    "Diagnostic",
    "Direction",
    "EndpointAddress",
    "Endpoints",
    "IPBlock",
    "Ingress",
    "IngressBackend",
    "LabelSelector",
    "Labels",
    "Location",
    "Namespace",
    "Peer",
    "Pod",
    "Policy",
    "PolicyPort",
    "Requirement",
    "Rule",
    "Service",
    "ServicePort",
    "Workload",
]

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
PROTOCOLS: tuple[str, ...] = ("SCTP", "TCP", "UDP")

Direction = Literal["ingress", "egress"]
Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: a file (or ``<stdin>``), 1-based line and column.

    >>> str(Location("p.yaml", 3, 7))
    'p.yaml:3:7'
    """

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.column or 1}"
        return self.path


NOWHERE = Location("<generated>")


class Labels(Mapping[str, str]):
    """An immutable, hashable mapping of label keys to values.

    >>> Labels({"b": "2", "a": "1"})
    Labels({'a': '1', 'b': '2'})
    >>> Labels({"a": "1"}) == Labels({"a": "1"}), len(Labels())
    (True, 0)
    """

    __slots__ = ("_hash", "_items")

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        pairs = tuple(sorted((items or {}).items()))
        self._items: dict[str, str] = dict(pairs)
        self._hash = hash(pairs)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Labels):
            return self._hash == other._hash and self._items == other._items
        if isinstance(other, Mapping):
            return self._items == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Labels({self._items!r})"

    def __str__(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self._items.items())


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A warning or note about the input that did not stop the analysis.

    >>> str(Diagnostic("warning", "skipped notes.txt: not YAML or JSON", Location("notes.txt")))
    'notes.txt: warning: skipped notes.txt: not YAML or JSON'
    """

    severity: Severity
    message: str
    location: Location | None = None
    code: str = ""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace; ``labels`` always carry ``kubernetes.io/metadata.name``."""

    name: str
    labels: Labels = field(default_factory=Labels)
    location: Location = NOWHERE
    implicit: bool = False


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A port a container declares; ``name`` is what named ports in policies refer to."""

    port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod, written as a Pod or standing for the pods of a workload's template.

    ``owner_kind``/``owner_name`` name the top controller (``Deployment``...) or are
    empty for a bare pod; ``workload_kind``/``workload_name`` always name something.
    """

    namespace: str
    name: str
    labels: Labels = field(default_factory=Labels)
    ports: tuple[ContainerPort, ...] = ()
    ips: tuple[str, ...] = ()
    host_network: bool = False
    owner_kind: str = ""
    owner_name: str = ""
    replicas: int = 1
    location: Location = NOWHERE

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def workload_kind(self) -> str:
        return self.owner_kind or "Pod"

    @property
    def workload_name(self) -> str:
        return self.owner_name or self.name


@dataclass(frozen=True, slots=True)
class Workload:
    """A controller of pods (Deployment, StatefulSet, ...), as written in the manifests."""

    kind: str
    namespace: str
    name: str
    labels: Labels = field(default_factory=Labels)
    replicas: int = 1
    location: Location = NOWHERE

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``matchExpressions`` entry: ``key operator values``."""

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A label selector; the empty selector matches everything.

    >>> LabelSelector().is_empty
    True
    >>> str(LabelSelector(match_labels=Labels({"app": "web"})))
    'app=web'
    """

    match_labels: Labels = field(default_factory=Labels)
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.match_labels.items()]
        for req in self.match_expressions:
            if req.operator in ("In", "NotIn"):
                parts.append(f"{req.key} {req.operator.lower()} ({','.join(req.values)})")
            elif req.operator == "Exists":
                parts.append(req.key)
            else:
                parts.append(f"!{req.key}")
        return ",".join(parts) if parts else "{}"


@dataclass(frozen=True, slots=True)
class IPBlock:
    """An ``ipBlock`` peer: ``cidr`` minus every CIDR in ``except_``."""

    cidr: str
    except_: tuple[str, ...] = ()
    location: Location = NOWHERE

    def __str__(self) -> str:
        if self.except_:
            return f"{self.cidr} except {', '.join(self.except_)}"
        return self.cidr


@dataclass(frozen=True, slots=True)
class Peer:
    """One ``from``/``to`` entry. Exactly one of ``ip_block`` or the selectors is used.

    ``pod_selector`` alone: pods of the policy's namespace; ``namespace_selector``
    alone: every pod of the matching namespaces; both: the matching pods of the
    matching namespaces.
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None
    location: Location = NOWHERE

    def __str__(self) -> str:
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block}"
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaces [{self.namespace_selector}]")
        if self.pod_selector is not None:
            parts.append(f"pods [{self.pod_selector}]")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class PolicyPort:
    """One ``ports`` entry of a rule. ``port`` None means every port of ``protocol``."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None
    location: Location = NOWHERE

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol} (all ports)"
        if self.end_port is not None:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return f"{self.protocol} {self.port}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One ingress or egress rule. Empty ``peers`` = every peer; empty ``ports`` = every port."""

    direction: Direction
    index: int
    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Policy:
    """A networking.k8s.io/v1 NetworkPolicy.

    ``policy_types`` is already defaulted as the API server does when the spec has
    none: ``Ingress`` always, ``Egress`` too when the ``egress`` list is not empty.
    """

    namespace: str
    name: str
    pod_selector: LabelSelector = field(default_factory=LabelSelector)
    policy_types: tuple[str, ...] = ("Ingress",)
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    location: Location = NOWHERE

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def isolates(self, direction: Direction) -> bool:
        """Whether the pods this policy selects are isolated for ``direction``."""
        return ("Ingress" if direction == "ingress" else "Egress") in self.policy_types

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction == "ingress" else self.egress


@dataclass(frozen=True, slots=True)
class ServicePort:
    """A Service port; ``target_port`` is a number or a container port name."""

    port: int
    target_port: int | str
    protocol: str = "TCP"
    name: str | None = None
    node_port: int | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A Service. ``selector`` None means a service without selector (Endpoints-backed)."""

    namespace: str
    name: str
    type: str = "ClusterIP"
    selector: Labels | None = None
    ports: tuple[ServicePort, ...] = ()
    cluster_ip: str | None = None
    external_name: str | None = None
    external_traffic_policy: str = "Cluster"
    location: Location = NOWHERE

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def headless(self) -> bool:
        return self.cluster_ip == "None"


@dataclass(frozen=True, slots=True)
class EndpointAddress:
    """An address behind a selector-less Service (from Endpoints or EndpointSlices)."""

    ip: str | None = None
    pod_name: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The addresses and ports an Endpoints object or EndpointSlice gives a Service."""

    namespace: str
    service: str
    addresses: tuple[EndpointAddress, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class IngressBackend:
    """A Service an Ingress routes to; ``port`` is a number or a service port name."""

    service: str
    port: int | str | None = None
    host: str = ""
    path: str = ""


@dataclass(frozen=True, slots=True)
class Ingress:
    """A networking.k8s.io/v1 Ingress, reduced to the Services it routes to."""

    namespace: str
    name: str
    backends: tuple[IngressBackend, ...] = ()
    ingress_class: str | None = None
    location: Location = NOWHERE

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Cluster:
    """Everything the loader read: the input of the compiler.

    Collections are tuples sorted by namespace and name. ``diagnostics`` holds the
    warnings and notes about input that was skipped or suspicious.
    """

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    workloads: tuple[Workload, ...] = ()
    services: tuple[Service, ...] = ()
    endpoints: tuple[Endpoints, ...] = ()
    ingresses: tuple[Ingress, ...] = ()
    policies: tuple[Policy, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    def namespace(self, name: str) -> Namespace:
        """The namespace called ``name``, implicit (only its name label) when not defined."""
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return Namespace(name, Labels({NAMESPACE_NAME_LABEL: name}), implicit=True)
