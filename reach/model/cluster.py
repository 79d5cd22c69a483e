"""Cluster objects: namespaces, pods and workloads, nodes, services, ingresses; the Cluster.

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

from dataclasses import dataclass, field
from typing import Literal

from reach.model.base import NAMESPACE_NAME_LABEL, NOWHERE, Diagnostic, Labels, Location
from reach.model.policy import Policy

__all__ = [
    "Cluster",
    "ContainerPort",
    "EndpointAddress",
    "Endpoints",
    "Ingress",
    "IngressBackend",
    "Namespace",
    "NetworkSet",
    "Node",
    "Pod",
    "Service",
    "ServiceAccount",
    "ServicePort",
    "StagedPolicy",
    "Workload",
]


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
    ``template``: the pod is a workload's pod template standing for its replicas (no
    such pod exists under that name). ``generated``: the controller generated the
    pod's name (``metadata.generateName``): another rollout gives the same pod
    another name. ``service_account``: ``spec.serviceAccountName`` (``default`` when
    the manifest gives none, as the API server defaults it).
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
    template: bool = False
    generated: bool = False
    service_account: str = "default"

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
class ServiceAccount:
    """A ServiceAccount: Calico's ``serviceAccountSelector`` and ``serviceAccounts``
    rules select pods by the labels of the account they run as."""

    namespace: str
    name: str
    labels: Labels = field(default_factory=Labels)
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class NetworkSet:
    """A Calico NetworkSet (``namespace`` set) or GlobalNetworkSet (``namespace`` ``""``):
    labelled CIDRs that Calico rule selectors match like endpoints."""

    namespace: str
    name: str
    labels: Labels = field(default_factory=Labels)
    nets: tuple[str, ...] = ()
    location: Location = NOWHERE

    @property
    def ref(self) -> str:
        if self.namespace:
            return f"{self.namespace}/{self.name}"
        return f"globalnetworkset/{self.name}"


@dataclass(frozen=True, slots=True)
class Workload:
    """A controller of pods (Deployment, StatefulSet, ...), as written in the manifests.

    ``owner_kind``/``owner_name``: its controlling owner as written (a ReplicaSet's
    Deployment, a Job's CronJob), empty when it has none.
    """

    kind: str
    namespace: str
    name: str
    labels: Labels = field(default_factory=Labels)
    replicas: int = 1
    location: Location = NOWHERE
    owner_kind: str = ""
    owner_name: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Node:
    """A Node: its labels (for ``nodes`` peers) and the IPs of its ``status.addresses``."""

    name: str
    labels: Labels = field(default_factory=Labels)
    addresses: tuple[str, ...] = ()
    location: Location = NOWHERE


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
    """A Service an Ingress routes to; ``port`` is a number or a service port name.

    ``port`` None: every port of the Service. ``target``: a number ``port`` is the
    port on the pods (an OpenShift Route's ``targetPort``), not the service port.
    """

    service: str
    port: int | str | None = None
    host: str = ""
    path: str = ""
    target: bool = False


@dataclass(frozen=True, slots=True)
class Ingress:
    """An Ingress (or an OpenShift Route, ``kind="Route"``), reduced to the Services it
    routes to."""

    namespace: str
    name: str
    backends: tuple[IngressBackend, ...] = ()
    ingress_class: str | None = None
    location: Location = NOWHERE
    kind: str = "Ingress"

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class StagedPolicy:
    """A Calico staged policy: a preview of a change to a policy, which the cluster does
    not enforce.

    ``kind``: the staged kind (``StagedNetworkPolicy``, ``StagedGlobalNetworkPolicy``,
    ``StagedKubernetesNetworkPolicy``). ``policy``: the policy it stages, as it would
    be enforced (kind ``CalicoNetworkPolicy``, ``GlobalNetworkPolicy`` or
    ``NetworkPolicy``, located at the staged manifest); for ``action`` ``Delete``, only
    its kind, namespace, tier and name count: it has no rules and no policy types.
    ``action``: ``Set``, the policy of that name becomes ``policy`` (or is added);
    ``Delete``, that policy is removed. ``notes``: the warnings reading it gave, which
    hold once it is enforced.
    """

    policy: Policy
    action: Literal["Set", "Delete"] = "Set"
    kind: str = "StagedNetworkPolicy"
    notes: tuple[Diagnostic, ...] = ()

    @property
    def ref(self) -> str:
        """``namespace/name``, or ``name`` for a StagedGlobalNetworkPolicy."""
        policy = self.policy
        return f"{policy.namespace}/{policy.name}" if policy.namespace else policy.name

    def __str__(self) -> str:
        return f"{self.kind} {self.ref} ({self.action})"


@dataclass(frozen=True, slots=True)
class Cluster:
    """Everything the loader read: the input of the compiler.

    Collections are tuples sorted by namespace and name (policies: cluster-scoped
    ones, whose namespace is ``""``, first). ``diagnostics`` holds the warnings and
    notes about input that was skipped or suspicious; :attr:`caveats` those that can
    make a verdict differ from what the cluster enforces. ``staged``: Calico's staged
    policies, which the cluster does not enforce and the compiler does not read
    (:func:`reach.with_staged` gives the cluster as if they were enforced).
    """

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    workloads: tuple[Workload, ...] = ()
    services: tuple[Service, ...] = ()
    endpoints: tuple[Endpoints, ...] = ()
    ingresses: tuple[Ingress, ...] = ()
    policies: tuple[Policy, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    nodes: tuple[Node, ...] = ()
    service_accounts: tuple[ServiceAccount, ...] = ()
    network_sets: tuple[NetworkSet, ...] = ()
    staged: tuple[StagedPolicy, ...] = ()

    def namespace(self, name: str) -> Namespace:
        """The namespace called ``name``, implicit (only its name label) when not defined."""
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return Namespace(name, Labels({NAMESPACE_NAME_LABEL: name}), implicit=True)

    @property
    def caveats(self) -> tuple[Diagnostic, ...]:
        """The diagnostics that can make a verdict differ from what the cluster enforces."""
        return tuple(d for d in self.diagnostics if d.caveat)
