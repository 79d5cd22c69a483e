"""Policy dialects: each reads its own YAML into the one dialect-neutral form.

One module per dialect. A dialect knows its kinds, its validation and its
semantics; what it produces is :class:`reach.model.Policy` (ordered rules with tier,
priority, subject, peers, ports, action and location), the only form the engine
consumes. :data:`DIALECTS` lists the kinds read and the API versions each is read
at; :data:`STAGED_KINDS` the Calico kinds that stage a change to one of them
(read, at Calico's API versions, into :attr:`reach.model.Cluster.staged`: the
cluster does not enforce them); :func:`not_analysed` says why an object of any other
kind that can change what the cluster enforces is not analysed, so the loader can
warn instead of skipping it quietly.

Examples
--------
>>> reader_for("NetworkPolicy", "networking.k8s.io/v1") is not None
True
>>> reader_for("NetworkPolicy", "projectcalico.org/v3") is not None
True
>>> not_analysed("CiliumNetworkPolicy", "cilium.io/v2")
'Cilium policies are not analysed yet'
>>> not_analysed("NetworkPolicyy", "networking.k8s.io/v1")
'is not a kind reach knows; did you mean NetworkPolicy?'
>>> not_analysed("ConfigMap", "v1") is None
True
>>> STAGED_KINDS["StagedKubernetesNetworkPolicy"]
'NetworkPolicy'
"""

from __future__ import annotations

from collections.abc import Callable

from yaml.nodes import Node

from reach.documents._fields import Meta
from reach.documents._yaml import Mapping, Source
from reach.model import Diagnostic, Policy
from reach.policies.calico import CALICO_VERSIONS, STAGED_KINDS, read_calico_policy
from reach.policies.clusternetworkpolicy import read_cluster_policy
from reach.policies.networkpolicy import read_policy

__all__ = ["CALICO_OBJECTS", "DIALECTS", "STAGED_KINDS", "Reader", "near_kind", "not_analysed",
           "reader_for"]

Reader = Callable[[Source, Mapping, Meta, Node, list[Diagnostic]], Policy]

#: ``kind -> (the apiVersions it is read at, its reader)``.
DIALECTS: dict[str, tuple[frozenset[str], Reader]] = {
    "NetworkPolicy": (frozenset({"networking.k8s.io/v1", "extensions/v1beta1"}), read_policy),
    "ClusterNetworkPolicy": (frozenset({"policy.networking.k8s.io/v1alpha2"}),
                             read_cluster_policy),
    "AdminNetworkPolicy": (frozenset({"policy.networking.k8s.io/v1alpha1"}),
                           read_cluster_policy),
    "BaselineAdminNetworkPolicy": (frozenset({"policy.networking.k8s.io/v1alpha1"}),
                                   read_cluster_policy),
    "GlobalNetworkPolicy": (CALICO_VERSIONS, read_calico_policy),
}

#: Calico's own NetworkPolicy, read beside Kubernetes' (same kind, other API groups).
_CALICO_POLICY: tuple[frozenset[str], Reader] = (CALICO_VERSIONS, read_calico_policy)

#: Calico kinds read that are not policies (tiers and network sets).
CALICO_OBJECTS = frozenset({"Tier", "NetworkSet", "GlobalNetworkSet"})

# Groups whose policies can decide traffic, with the kinds that do. Other kinds of
# these groups (IP pools, BGP settings, ...) do not change who may connect to whom.
_CALICO_ENDPOINTS = (
    "Calico profiles and endpoints are not analysed: pods are read from the Kubernetes "
    "objects, and every pod's namespace profile allows what no policy decides")
_POLICY_GROUPS: dict[str, tuple[str, frozenset[str]]] = {
    "projectcalico.org": (_CALICO_ENDPOINTS, frozenset({
        "Profile", "HostEndpoint", "WorkloadEndpoint"})),
    "crd.projectcalico.org": (_CALICO_ENDPOINTS, frozenset({
        "Profile", "HostEndpoint", "WorkloadEndpoint"})),
    "cilium.io": ("Cilium policies are not analysed yet", frozenset({
        "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "CiliumCIDRGroup"})),
    "crd.antrea.io": ("Antrea policies are not analysed", frozenset({
        "NetworkPolicy", "ClusterNetworkPolicy", "Tier", "ClusterGroup", "Group"})),
    "security.antrea.tanzu.vmware.com": ("Antrea policies are not analysed", frozenset({
        "NetworkPolicy", "ClusterNetworkPolicy", "Tier"})),
    "k8s.cni.cncf.io": ("MultiNetworkPolicy (secondary networks) is not analysed",
                        frozenset({"MultiNetworkPolicy"})),
    "security.istio.io": ("Istio authorization policies are not analysed",
                          frozenset({"AuthorizationPolicy", "PeerAuthentication"})),
    "k8s.ovn.org": ("OVN-Kubernetes egress firewalls are not analysed",
                    frozenset({"EgressFirewall"})),
    "network.openshift.io": ("OpenShift egress network policies are not analysed",
                             frozenset({"EgressNetworkPolicy"})),
    "networking.gke.io": ("GKE FQDN network policies are not analysed",
                          frozenset({"FQDNNetworkPolicy"})),
}

#: Every kind the loader reads, for "did you mean" on near misses.
KNOWN_KINDS = frozenset({
    "Namespace", "Pod", "Node", "Service", "Endpoints", "EndpointSlice", "Ingress",
    "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob",
    "ReplicationController", "ServiceAccount", *DIALECTS, *CALICO_OBJECTS, *STAGED_KINDS,
})


def reader_for(kind: str, api_version: str) -> Reader | None:
    """The reader of a policy kind at this apiVersion, or None."""
    found = _CALICO_POLICY if kind == "NetworkPolicy" and api_version in CALICO_VERSIONS else (
        DIALECTS.get(kind))
    if found is None or api_version not in found[0]:
        return None
    return found[1]


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` with one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def near_kind(kind: str) -> str | None:
    """A kind reach reads that ``kind`` is a near miss of (case, one edit), or None."""
    for known in sorted(KNOWN_KINDS):
        if kind == known:
            return None
        # One edit from a short name is often another real kind (Role, Node).
        if kind.lower() == known.lower() or (len(known) >= 6 and _one_edit(kind, known)):
            return known
    return None


def not_analysed(kind: str, api_version: str) -> str | None:
    """Why an object that can change reachability is not analysed; None if it cannot.

    None also for the kinds reach reads at their analysed versions, and for Calico's
    staged kinds, which the cluster does not enforce.
    """
    group = api_version.rpartition("/")[0]
    found = _POLICY_GROUPS.get(group)
    if found is not None and kind in found[1]:
        return found[0]
    if api_version in CALICO_VERSIONS and (kind in CALICO_OBJECTS or kind == "NetworkPolicy"):
        return None
    if kind in DIALECTS:
        versions = DIALECTS[kind][0]
        if api_version in versions:
            return None
        return (f"reach reads {kind} at {' or '.join(sorted(versions))}, "
                f"not {api_version or 'an empty apiVersion'}")
    if kind in STAGED_KINDS:
        return None  # previews: whatever their apiVersion, the cluster does not enforce them
    near = near_kind(kind)
    if near is not None:
        return f"is not a kind reach knows; did you mean {near}?"
    if "networkpolicy" in kind.lower() or (found is not None and kind.endswith("Policy")):
        return f"{kind} policies are not analysed"
    return None
