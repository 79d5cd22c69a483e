"""The typed, immutable model of a cluster's manifests, and the dialect-neutral policy form.

Kubernetes camelCase stops at the readers: everything here is snake_case, frozen and
slotted, hence hashable and usable as a graph node or a cache key. Every object
remembers where it was written (:class:`Location`).

* :mod:`reach.model.base`: locations, labels, diagnostics.
* :mod:`reach.model.policy`: the one form every policy dialect is read into.
* :mod:`reach.model.cluster`: namespaces, pods, workloads, nodes, services,
  ingresses, and the :class:`Cluster` that holds them.

Examples
--------
>>> pod = Pod(namespace="shop", name="web-1", labels=Labels({"app": "web"}))
>>> pod.ref, pod.workload_kind
('shop/web-1', 'Pod')
"""

from reach.model.base import (
    CAVEAT_CODES,
    NAMESPACE_NAME_LABEL,
    NOWHERE,
    PROTOCOLS,
    Diagnostic,
    Direction,
    Labels,
    Location,
    Severity,
)
from reach.model.cluster import (
    Cluster,
    ContainerPort,
    EndpointAddress,
    Endpoints,
    Ingress,
    IngressBackend,
    Namespace,
    NetworkSet,
    Node,
    Pod,
    Service,
    ServiceAccount,
    ServicePort,
    StagedPolicy,
    Workload,
)
from reach.model.policy import (
    ACTIONS,
    ADMIN_TIER,
    BASELINE_TIER,
    CALICO_KINDS,
    NETWORKPOLICY_ORDER,
    NETWORKPOLICY_TIER,
    Action,
    Entity,
    IPBlock,
    LabelSelector,
    Peer,
    Policy,
    PolicyPort,
    Requirement,
    Rule,
    Selector,
    Tier,
)

__all__ = [
    "ACTIONS",
    "ADMIN_TIER",
    "BASELINE_TIER",
    "CALICO_KINDS",
    "CAVEAT_CODES",
    "NAMESPACE_NAME_LABEL",
    "NETWORKPOLICY_ORDER",
    "NETWORKPOLICY_TIER",
    "NOWHERE",
    "PROTOCOLS",
    "Action",
    "Cluster",
    "ContainerPort",
    "Diagnostic",
    "Direction",
    "EndpointAddress",
    "Endpoints",
    "Entity",
    "IPBlock",
    "Ingress",
    "IngressBackend",
    "LabelSelector",
    "Labels",
    "Location",
    "Namespace",
    "NetworkSet",
    "Node",
    "Peer",
    "Pod",
    "Policy",
    "PolicyPort",
    "Requirement",
    "Rule",
    "Selector",
    "Service",
    "ServiceAccount",
    "ServicePort",
    "Severity",
    "StagedPolicy",
    "Tier",
    "Workload",
]
