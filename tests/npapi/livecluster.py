"""What ``kubectl get -A -o yaml`` shows of a kind cluster running the conformance suite.

The suite's base manifests create namespaces and StatefulSets (two replicas each,
one of them host-networked). On a live cluster a user dumps the objects the API
server holds, not the manifests: Namespaces with ``kubernetes.io/metadata.name``,
the StatefulSets and their Pods ``NAME-0`` and ``NAME-1`` (owned by the StatefulSet,
with the API server's defaults, a node and IPs; host-network pods carry their node's
IP and, for their ports, a ``hostPort``), the Nodes with their addresses and
well-known labels, and what a kind cluster runs besides (kube-system's CoreDNS,
kube-proxy and kindnet DaemonSets, static control-plane pods owned by their Node,
the ``kubernetes`` and ``kube-dns`` Services). :class:`World` holds these objects
and the test's policies, lets a step edit them, and writes them out as a ``List``.

Three address families: ``ipv4``, ``ipv6`` and ``dual`` (IPv4 first, as
``status.podIP`` of a dual-stack kind cluster is).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FAMILIES = ("ipv4", "dual", "ipv6")

Obj = dict[str, Any]

CONTROL_PLANE = "kind-control-plane"
WORKERS = ("kind-worker", "kind-worker2")
NODES = (CONTROL_PLANE, *WORKERS)
CREATED = "2025-06-30T12:00:00Z"
NAME_LABEL = "kubernetes.io/metadata.name"

_V4 = {"node": "172.18.0.0/16", "pods": "10.244.0.0/16", "services": "10.96.0.0/16"}
_V6 = {"node": "fc00:f853:ccd:e793::/64", "pods": "fd00:10:244::/56",
       "services": "fd00:10:96::/112"}


@dataclass(frozen=True)
class Addressing:
    """The addresses of one family of cluster: nodes, per-node pod ranges, services."""

    family: str

    @property
    def nets(self) -> tuple[dict[str, str], ...]:
        return {"ipv4": (_V4,), "ipv6": (_V6,), "dual": (_V4, _V6)}[self.family]

    def node_ips(self, node: int) -> list[str]:
        return [str(ipaddress.ip_network(n["node"])[2 + node]) for n in self.nets]

    def pod_cidrs(self, node: int) -> list[str]:
        out = []
        for n in self.nets:
            net = ipaddress.ip_network(n["pods"])
            prefix = 24 if net.version == 4 else 64
            out.append(str(list(net.subnets(new_prefix=prefix))[node]))
        return out

    def pod_ips(self, node: int, index: int) -> list[str]:
        return [str(ipaddress.ip_network(c)[2 + index]) for c in self.pod_cidrs(node)]

    def service_ips(self, index: int) -> list[str]:
        return [str(ipaddress.ip_network(n["services"])[index]) for n in self.nets]


class _Dumper(yaml.SafeDumper):
    """Writes every value out: kubectl never prints YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


@dataclass
class World:
    """Every object of the dump, in the order ``kubectl`` would list them."""

    addressing: Addressing
    objects: list[Obj] = field(default_factory=list)
    _version: int = 1000
    _next_ip: dict[int, int] = field(default_factory=dict)

    # -- lookups ------------------------------------------------------------

    def find(self, kind: str, name: str, namespace: str = "") -> Obj:
        for obj in self.objects:
            meta = obj["metadata"]
            if (obj["kind"], meta["name"], meta.get("namespace", "")) == (kind, name, namespace):
                return obj
        raise KeyError(f"no {kind} {namespace + '/' if namespace else ''}{name} in the dump")

    def remove(self, kind: str, name: str, namespace: str = "") -> None:
        self.objects.remove(self.find(kind, name, namespace))

    def pod(self, name: str) -> Obj:
        """A pod by name alone (the suite's pod names are unique across namespaces)."""
        found = [o for o in self.objects if o["kind"] == "Pod" and o["metadata"]["name"] == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} pods called {name} in the dump")
        return found[0]

    def pod_ref(self, name: str) -> str:
        meta = self.pod(name)["metadata"]
        return f"{meta['namespace']}/{meta['name']}"

    def pod_ip(self, name: str) -> str:
        """``status.podIP``: the address the suite pokes (its first, for dual stack)."""
        ip: str = self.pod(name)["status"]["podIP"]
        return ip

    def pods(self) -> Iterator[Obj]:
        return (o for o in self.objects if o["kind"] == "Pod")

    # -- building -------------------------------------------------------------

    def meta(self, kind: str, name: str, namespace: str = "", **extra: Any) -> Obj:
        """Metadata as the API server returns it (uid, resourceVersion, timestamps)."""
        self._version += 1
        out: Obj = {"name": name}
        if namespace:
            out["namespace"] = namespace
        out.update(extra)
        out.update({
            "uid": _uid(kind, namespace, name),
            "resourceVersion": str(self._version),
            "creationTimestamp": CREATED,
        })
        return out

    def bump(self, obj: Obj, spec: bool = True) -> None:
        """What the API server does on an update: a new resourceVersion (and generation)."""
        self._version += 1
        obj["metadata"]["resourceVersion"] = str(self._version)
        if spec and "generation" in obj["metadata"]:
            obj["metadata"]["generation"] += 1

    def add(self, obj: Obj) -> Obj:
        self.objects.append(obj)
        return obj

    def ips_on(self, node: int) -> list[str]:
        index = self._next_ip.get(node, 0)
        self._next_ip[node] = index + 1
        return self.addressing.pod_ips(node, index)

    # -- output ---------------------------------------------------------------

    def dump(self, path: Path, kinds_left_out: frozenset[str] = frozenset()) -> Path:
        """Write the objects as one ``List``, as ``kubectl get ... -o yaml`` (or ``-o json``,
        for a ``.json`` path) prints them; ``kinds_left_out`` are not asked for."""
        items = [o for o in self.objects if o["kind"] not in kinds_left_out]
        listing = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                   "items": items}
        if path.suffix == ".json":
            text = json.dumps(listing, indent=4) + "\n"
        else:
            text = yaml.dump(listing, Dumper=_Dumper, sort_keys=False, width=120)
        path.write_text(text, encoding="utf-8")
        return path

    def copy(self) -> World:
        return World(self.addressing, copy.deepcopy(self.objects), self._version,
                     dict(self._next_ip))


# -- the cluster ----------------------------------------------------------------


def _namespace(world: World, name: str, labels: dict[str, str] | None = None) -> Obj:
    return world.add({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": world.meta("Namespace", name, labels={**(labels or {}), NAME_LABEL: name}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })


def _node(world: World, index: int, name: str) -> Obj:
    labels = {
        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    spec: Obj = {"podCIDR": world.addressing.pod_cidrs(index)[0],
                 "podCIDRs": world.addressing.pod_cidrs(index),
                 "providerID": f"kind://docker/kind/{name}"}
    if name == CONTROL_PLANE:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        spec["taints"] = [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
    addresses = [{"type": "InternalIP", "address": ip} for ip in world.addressing.node_ips(index)]
    return world.add({
        "apiVersion": "v1", "kind": "Node",
        "metadata": world.meta("Node", name, labels=labels, annotations={
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        }),
        "spec": spec,
        "status": {
            "addresses": [*addresses, {"type": "Hostname", "address": name}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": CREATED, "lastTransitionTime": CREATED}],
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                         "kubeletVersion": "v1.33.1", "containerRuntimeVersion": "containerd://2.1.1"},
        },
    })


def _defaulted_spec(template_spec: Obj, node: str, host_network: bool) -> Obj:
    """A pod template's spec with what the API server and scheduler fill in."""
    spec = copy.deepcopy(template_spec)
    for container in spec.get("containers", []):
        container.setdefault("imagePullPolicy", "IfNotPresent")
        container.setdefault("resources", {})
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        for port in container.get("ports", []):
            port.setdefault("protocol", "TCP")
            if host_network:
                port.setdefault("hostPort", port["containerPort"])
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("enableServiceLinks", True)
    spec["nodeName"] = node
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("serviceAccount", "default")
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("tolerations", [
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
         "tolerationSeconds": 300},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
         "tolerationSeconds": 300},
    ])
    return spec


def _pod(
    world: World, namespace: str, name: str, labels: dict[str, str], template_spec: Obj,
    node: int, owner: Obj | None, **extra_meta: Any,
) -> Obj:
    host_network = bool(template_spec.get("hostNetwork"))
    node_ips = world.addressing.node_ips(node)
    ips = node_ips if host_network else world.ips_on(node)
    meta = world.meta("Pod", name, namespace, labels=labels, **extra_meta)
    if owner is not None:
        meta["ownerReferences"] = [{
            "apiVersion": owner["apiVersion"], "kind": owner["kind"],
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True,
        }]
    spec = _defaulted_spec(template_spec, NODES[node], host_network)
    if owner is not None and owner["kind"] == "StatefulSet":
        spec["hostname"] = name
    return world.add({
        "apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": CREATED}
                           for t in ("PodReadyToStartContainers", "Initialized", "Ready",
                                     "ContainersReady", "PodScheduled")],
            "hostIP": node_ips[0], "hostIPs": [{"ip": ip} for ip in node_ips],
            "podIP": ips[0], "podIPs": [{"ip": ip} for ip in ips],
            "qosClass": "BestEffort", "startTime": CREATED,
        },
    })


def _place(set_index: int, replica: int, host_network: bool) -> int:
    """The node of a replica: host-network replicas one per worker (their host ports
    would collide), the others spread over the workers."""
    if host_network:
        return 1 + replica
    return 1 + (set_index + replica) % len(WORKERS)


def _stateful_set(world: World, doc: Obj, set_index: int) -> None:
    """A StatefulSet as the API server holds it, and its pods ``NAME-0``, ``NAME-1``..."""
    sts = copy.deepcopy(doc)
    name, namespace = sts["metadata"]["name"], sts["metadata"]["namespace"]
    replicas = sts["spec"].get("replicas", 1)
    revision = f"{name}-{_uid(name)[:10].replace('-', '')}"
    sts["metadata"] = world.meta("StatefulSet", name, namespace, generation=1)
    sts["spec"].setdefault("podManagementPolicy", "OrderedReady")
    sts["spec"].setdefault("revisionHistoryLimit", 10)
    sts["spec"].setdefault("updateStrategy", {"type": "RollingUpdate",
                                              "rollingUpdate": {"partition": 0}})
    sts["status"] = {"availableReplicas": replicas, "currentReplicas": replicas,
                     "currentRevision": revision, "observedGeneration": 1,
                     "readyReplicas": replicas, "replicas": replicas,
                     "updateRevision": revision, "updatedReplicas": replicas}
    world.add(sts)
    template = sts["spec"]["template"]
    host_network = bool(template["spec"].get("hostNetwork"))
    for replica in range(replicas):
        pod_name = f"{name}-{replica}"
        labels = {**template["metadata"].get("labels", {}),
                  "apps.kubernetes.io/pod-index": str(replica),
                  "controller-revision-hash": revision,
                  "statefulset.kubernetes.io/pod-name": pod_name}
        _pod(world, namespace, pod_name, labels, template["spec"],
             _place(set_index, replica, host_network), sts, generateName=f"{name}-")


def _kind_system(world: World) -> None:
    """What every kind cluster runs: DNS, kube-proxy, kindnet, the static control plane."""
    image = "registry.k8s.io"
    dns = world.add({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": world.meta("Deployment", "coredns", "kube-system",
                               labels={"k8s-app": "kube-dns"}, generation=1),
        "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                 "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}}, "spec": {
                     "containers": [{"name": "coredns", "image": f"{image}/coredns/coredns:v1.12.0",
                                     "ports": [
                                         {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                         {"containerPort": 53, "name": "dns-tcp",
                                          "protocol": "TCP"},
                                         {"containerPort": 9153, "name": "metrics",
                                          "protocol": "TCP"}]}],
                     "dnsPolicy": "Default", "priorityClassName": "system-cluster-critical",
                     "serviceAccountName": "coredns"}}},
        "status": {"availableReplicas": 2, "readyReplicas": 2, "replicas": 2},
    })
    hash_ = "668d6bf9bc"
    rs = world.add({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": world.meta("ReplicaSet", f"coredns-{hash_}", "kube-system",
                               labels={"k8s-app": "kube-dns", "pod-template-hash": hash_},
                               generation=1, ownerReferences=[{
                                   "apiVersion": "apps/v1", "kind": "Deployment",
                                   "name": "coredns", "uid": dns["metadata"]["uid"],
                                   "controller": True, "blockOwnerDeletion": True}]),
        "spec": {**copy.deepcopy(dns["spec"]), "selector": {"matchLabels": {
            "k8s-app": "kube-dns", "pod-template-hash": hash_}}},
        "status": {"availableReplicas": 2, "readyReplicas": 2, "replicas": 2},
    })
    for suffix in ("7xk2p", "w9qzt"):
        _pod(world, "kube-system", f"coredns-{hash_}-{suffix}",
             {"k8s-app": "kube-dns", "pod-template-hash": hash_},
             dns["spec"]["template"]["spec"], 0, rs, generateName=f"coredns-{hash_}-")
    for ds_name, labels, container in (
        ("kube-proxy", {"k8s-app": "kube-proxy"},
         {"name": "kube-proxy", "image": f"{image}/kube-proxy:v1.33.1",
          "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"]}),
        ("kindnet", {"app": "kindnet", "k8s-app": "kindnet", "tier": "node"},
         {"name": "kindnet-cni", "image": "docker.io/kindest/kindnetd:v20250512-df8de77b"}),
    ):
        pod_spec = {"hostNetwork": True, "containers": [container],
                    "priorityClassName": "system-node-critical"}
        ds = world.add({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": world.meta("DaemonSet", ds_name, "kube-system", labels=labels,
                                   generation=1),
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
            "status": {"currentNumberScheduled": 3, "desiredNumberScheduled": 3,
                       "numberReady": 3, "numberAvailable": 3},
        })
        for index, suffix in enumerate(("4fj8d", "b2m6r", "q8nvx")):
            _pod(world, "kube-system", f"{ds_name}-{suffix}",
                 {**labels, "controller-revision-hash": "6c5f8d7b4",
                  "pod-template-generation": "1"},
                 pod_spec, index, ds, generateName=f"{ds_name}-")
    node = world.find("Node", CONTROL_PLANE)
    for component, port in (("etcd", 2379), ("kube-apiserver", 6443),
                            ("kube-controller-manager", 10257), ("kube-scheduler", 10259)):
        spec = {"hostNetwork": True, "priorityClassName": "system-node-critical",
                "containers": [{"name": component, "image": f"{image}/{component}:v1.33.1",
                                "command": [component]}]}
        if component == "kube-apiserver":
            spec["containers"][0]["ports"] = [{"containerPort": port, "name": "probe-port"}]
        _pod(world, "kube-system", f"{component}-{CONTROL_PLANE}",
             {"component": component, "tier": "control-plane"}, spec, 0, node,
             annotations={"kubernetes.io/config.source": "file"})
    for namespace, name, index, selector, ports in (
        ("default", "kubernetes", 1, None,
         [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]),
        ("kube-system", "kube-dns", 10, {"k8s-app": "kube-dns"},
         [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
          {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
          {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]),
    ):
        ips = world.addressing.service_ips(index)
        spec: Obj = {"clusterIP": ips[0], "clusterIPs": ips,
                     "ipFamilies": ["IPv4" if ":" not in ip else "IPv6" for ip in ips],
                     "ipFamilyPolicy": "RequireDualStack" if len(ips) > 1 else "SingleStack",
                     "ports": ports, "sessionAffinity": "None", "type": "ClusterIP",
                     "internalTrafficPolicy": "Cluster"}
        if selector is not None:
            spec["selector"] = selector
        world.add({"apiVersion": "v1", "kind": "Service",
                   "metadata": world.meta("Service", name, namespace), "spec": spec,
                   "status": {"loadBalancer": {}}})


def live_cluster(base_manifests: list[Obj], family: str) -> World:
    """The dump of a kind cluster of ``family`` running ``base_manifests``."""
    world = World(Addressing(family))
    for name in ("default", "kube-node-lease", "kube-public", "kube-system"):
        _namespace(world, name)
    for index, name in enumerate(NODES):
        _node(world, index, name)
    _kind_system(world)
    set_index = 0
    for doc in base_manifests:
        if doc["kind"] == "Namespace":
            _namespace(world, doc["metadata"]["name"], doc["metadata"].get("labels"))
        elif doc["kind"] == "StatefulSet":
            _stateful_set(world, doc, set_index)
            set_index += 1
        else:
            raise ValueError(f"the base manifests hold a {doc['kind']}, which this dump "
                             "does not know how to turn into live objects")
    return world


def add_policy(world: World, doc: Obj) -> Obj:
    """A policy of a test as the API server returns it once created."""
    obj = copy.deepcopy(doc)
    meta = obj.get("metadata", {})
    obj["metadata"] = world.meta(obj["kind"], meta["name"], meta.get("namespace", ""),
                                 generation=1, **{k: v for k, v in meta.items()
                                                  if k not in ("name", "namespace")})
    spec = obj.setdefault("spec", {})
    if obj["kind"] == "NetworkPolicy":
        # A null podSelector is stored as the empty selector, and printed as {}.
        if spec.get("podSelector") is None:
            spec["podSelector"] = {}
    elif obj["kind"] == "ClusterNetworkPolicy":
        obj["status"] = {"conditions": [{
            "type": "Ready", "status": "True", "reason": "SetupSucceeded",
            "message": "the policy is enforced on every node", "observedGeneration": 1,
            "lastTransitionTime": CREATED,
        }]}
    return world.add(obj)
