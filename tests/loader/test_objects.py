"""Kinds other than NetworkPolicy: what reach keeps of them, and what it refuses."""

from __future__ import annotations

import pytest
from helpers import error, load

from reach.model import (
    ContainerPort,
    EndpointAddress,
    IngressBackend,
    Labels,
    Location,
    ServicePort,
    Workload,
)

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web-7d4b9-x2x9q
  namespace: shop
  labels: {app: web, version: "1.10"}
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-7d4b9, uid: u1, controller: true}
spec:
  hostNetwork: false
  containers:
  - name: web
    image: nginx
    ports:
    - {name: http, containerPort: 8080}
    - {containerPort: 53, protocol: UDP}
status:
  podIP: 10.0.0.7
  podIPs: [{ip: 10.0.0.7}, {ip: "fd00::7"}]
"""


def test_pod_keeps_labels_ports_ips_and_its_controller():
    (pod,) = load(POD).pods
    assert pod.ref == "shop/web-7d4b9-x2x9q"
    assert pod.labels == Labels({"app": "web", "version": "1.10"})
    assert pod.ports == (ContainerPort(8080, "TCP", "http"), ContainerPort(53, "UDP", None))
    assert pod.ips == ("10.0.0.7", "fd00::7")
    assert pod.host_network is False
    assert (pod.workload_kind, pod.workload_name, pod.replicas) == (
        "ReplicaSet", "web-7d4b9", 1)
    assert pod.location == Location("<stdin>", 1, 1)


def test_a_replicaset_owner_is_not_guessed_into_a_deployment_without_its_hash():
    """Without the ReplicaSet object and without a pod-template-hash label, nothing says
    that ReplicaSet web-7d4b9 belongs to a Deployment: the pod stays the ReplicaSet's."""
    assert load(POD).pods[0].owner_kind == "ReplicaSet"


def test_owner_references_that_are_not_controllers_are_ignored():
    text = POD.replace("controller: true", "controller: false")
    assert load(text).pods[0].workload_kind == "Pod"


def test_pod_ip_alone_is_used_without_pod_ips():
    text = POD.replace('  podIPs: [{ip: 10.0.0.7}, {ip: "fd00::7"}]\n', "")
    assert load(text).pods[0].ips == ("10.0.0.7",)


def test_host_network_is_recorded():
    assert load(POD.replace("hostNetwork: false", "hostNetwork: true")).pods[0].host_network


@pytest.mark.parametrize(("change", "message"), [
    pytest.param(('version: "1.10"', "version: 1.10"),
                 '<stdin>:6:31: label "version" in metadata.labels must have a string value, '
                 'not a float (quote it: version: "1.10")', id="float-label"),
    pytest.param(('version: "1.10"', "version: 123"),
                 '<stdin>:6:31: label "version" in metadata.labels must have a string value, '
                 'not an integer (quote it: version: "123")', id="int-label"),
    pytest.param(('version: "1.10"', "version: on"),
                 '<stdin>:6:31: label "version" in metadata.labels must have a string value, '
                 'not a boolean (quote it: version: "on")', id="bool-label"),
    pytest.param(('version: "1.10"', "version: "),
                 '<stdin>:6:31: label "version" in metadata.labels must have a string value, '
                 'not null (quote it: version: "")', id="null-label"),
    pytest.param(("labels: {", "labels: {'bad key': x, "),
                 '<stdin>:6:12: invalid label key "bad key" in metadata.labels: name part must '
                 "consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                 "with an alphanumeric character", id="bad-label-key"),
    pytest.param(("containerPort: 8080", "containerPort: 80800"),
                 "<stdin>:15:35: containerPort 80800 is out of range 1-65535", id="port-range"),
    pytest.param(("containerPort: 8080", "containerPort: '8080'"),
                 "<stdin>:15:35: containerPort must be an integer, not a string "
                 "(write the number without quotes)", id="port-quoted"),
    pytest.param(("name: http,", "name: HTTP,"),
                 '<stdin>:15:14: invalid port name "HTTP": must contain only lowercase '
                 "alphanumeric characters (a-z, 0-9) or '-' (a port name is 1-15 lowercase "
                 "letters, digits and '-', with at least one letter)", id="port-name"),
    pytest.param(("protocol: UDP", "protocol: udp"),
                 '<stdin>:16:37: unknown protocol "udp" (did you mean UDP? protocols are '
                 "case-sensitive)", id="protocol"),
    pytest.param(("{ip: 10.0.0.7}", "{ip: 10.0.0.700}"),
                 '<stdin>:19:17: invalid IP address "10.0.0.700"', id="pod-ip"),
    pytest.param(("hostNetwork: false", "hostNetwork: 'no'"),
                 "<stdin>:10:16: spec.hostNetwork must be true or false, not a string",
                 id="host-network-type"),
    pytest.param(("  labels: {app: web, version: \"1.10\"}\n", "  labels: [app]\n"),
                 "<stdin>:6:11: metadata.labels must be a mapping, not a list "
                 "(remove the `- ` in front of its fields)", id="labels-type"),
    pytest.param(("  name: web-7d4b9-x2x9q\n", ""),
                 "<stdin>:4:3: Pod has no metadata.name (every object needs metadata.name)",
                 id="no-name"),
])
def test_what_reach_uses_of_a_pod_is_checked(change: tuple[str, str], message: str):
    assert change[0] in POD
    assert error(POD.replace(*change)) == message


def test_container_port_without_container_port_is_skipped_with_a_warning():
    cluster = load(POD.replace("{containerPort: 53, protocol: UDP}",
                               "{containerport: 53, protocol: UDP}"))
    assert cluster.pods[0].ports == (ContainerPort(8080, "TCP", "http"),)
    assert [str(d) for d in cluster.diagnostics] == [
        "<stdin>:16:7: warning: skipped a container port without containerPort "
        "(did you mean containerPort, not containerport?)"]


def test_unknown_fields_outside_network_policies_are_tolerated():
    text = POD.replace("spec:\n", "spec:\n  someFutureField: {a: b}\n")
    assert load(text).pods[0].name == "web-7d4b9-x2x9q"


WORKLOAD = """\
apiVersion: {api}
kind: {kind}
metadata:
  name: web
  namespace: shop
  labels: {{tier: front}}
spec:
  {replicas}
  {template_key}:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        ports: [{{name: http, containerPort: 8080}}]
"""


@pytest.mark.parametrize(("api", "kind"), [
    ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("v1", "ReplicationController"),
    ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"), ("batch/v1", "Job"),
])
def test_a_workload_stands_for_its_pods(api: str, kind: str):
    cluster = load(WORKLOAD.format(api=api, kind=kind, replicas="replicas: 3",
                                   template_key="template"))
    assert cluster.workloads == (
        Workload(kind, "shop", "web", Labels({"tier": "front"}), 3, Location("<stdin>", 1, 1)),)
    (pod,) = cluster.pods
    assert (pod.ref, pod.owner_kind, pod.owner_name, pod.replicas) == (
        "shop/web", kind, "web", 3)
    assert pod.labels == Labels({"app": "web"})
    assert pod.ports == (ContainerPort(8080, "TCP", "http"),)
    assert pod.ips == ()


def test_replicas_default_to_one():
    cluster = load(WORKLOAD.format(api="apps/v1", kind="Deployment", replicas="paused: false",
                                   template_key="template"))
    assert cluster.pods[0].replicas == cluster.workloads[0].replicas == 1


def test_cronjob_pods_come_from_the_job_template():
    text = """\
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly, namespace: ops}
        spec:
          schedule: "0 3 * * *"
          jobTemplate:
            spec:
              template:
                metadata: {labels: {job: nightly}}
                spec:
                  containers: [{name: run, image: busybox}]
        """
    (pod,) = load(text).pods
    assert (pod.ref, pod.owner_kind, pod.labels) == (
        "ops/nightly", "CronJob", Labels({"job": "nightly"}))


def test_workload_without_template_warns_and_stands_for_no_pod():
    cluster = load("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\n"
                   "spec: {replicas: 2}\n")
    assert [w.ref for w in cluster.workloads] == ["default/w"]
    assert cluster.pods == ()
    assert [str(d) for d in cluster.diagnostics] == [
        "<stdin>:1:1: warning: Deployment default/w has no spec.template: it stands for no pod"]


SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  clusterIP: 10.96.0.5
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http, nodePort: 30080}
  - {port: 53, protocol: UDP}
"""


def test_service_keeps_type_selector_and_ports():
    (svc,) = load(SERVICE).services
    assert (svc.ref, svc.type, svc.selector, svc.cluster_ip, svc.external_traffic_policy) == (
        "shop/web", "NodePort", Labels({"app": "web"}), "10.96.0.5", "Local")
    assert svc.ports == (ServicePort(80, "http", "TCP", "http", 30080),
                         ServicePort(53, 53, "UDP", None, None))


def test_service_defaults():
    """targetPort defaults to port; type to ClusterIP; externalTrafficPolicy to Cluster."""
    (svc,) = load("apiVersion: v1\nkind: Service\nmetadata: {name: db}\n"
                  "spec: {ports: [{port: 5432}]}\n").services
    assert (svc.type, svc.selector, svc.external_traffic_policy, svc.ports) == (
        "ClusterIP", None, "Cluster", (ServicePort(5432, 5432),))


def test_service_with_an_empty_selector_has_no_selector():
    (svc,) = load("apiVersion: v1\nkind: Service\nmetadata: {name: db}\n"
                  "spec: {selector: {}}\n").services
    assert svc.selector is None


@pytest.mark.parametrize(("change", "message"), [
    (("type: NodePort", "type: Nodeport"),
     '<stdin>:5:9: unknown Service type "Nodeport" '
     "(valid types: ClusterIP, ExternalName, LoadBalancer, NodePort)"),
    (("Local", "Remote"), '<stdin>:6:26: unknown externalTrafficPolicy "Remote" '
     "(valid: Cluster, Local)"),
    (("targetPort: http", "targetPort: '8080'"),
     '<stdin>:10:40: invalid targetPort name "8080": must contain at least one letter '
     "(write the number without quotes)"),
    (("port: 80,", "port: 0,"), "<stdin>:10:24: port 0 is out of range 1-65535"),
    (("{port: 53, protocol: UDP}", "{protocol: UDP}"), "<stdin>:11:5: a service port needs port"),
])
def test_what_reach_uses_of_a_service_is_checked(change: tuple[str, str], message: str):
    assert change[0] in SERVICE
    assert error(SERVICE.replace(*change)) == message


def test_endpoints_give_addresses_and_ports():
    (eps,) = load("""\
        apiVersion: v1
        kind: Endpoints
        metadata: {name: external-db, namespace: shop}
        subsets:
        - addresses:
          - ip: 192.168.1.10
          - ip: 10.0.0.7
            targetRef: {kind: Pod, name: db-0}
          ports: [{port: 5432, name: pg}]
        """).endpoints
    assert (eps.namespace, eps.service) == ("shop", "external-db")
    assert eps.addresses == (EndpointAddress("192.168.1.10"), EndpointAddress("10.0.0.7", "db-0"))
    assert eps.ports == (ContainerPort(5432, "TCP", "pg"),)


def test_endpoint_slices_belong_to_the_service_of_their_label():
    (eps,) = load("""\
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: web-abc12
          namespace: shop
          labels: {kubernetes.io/service-name: web}
        addressType: IPv4
        endpoints:
        - addresses: [10.0.0.7, 10.0.0.8]
          targetRef: {kind: Pod, name: web-1}
        ports: [{name: http, port: 8080, protocol: TCP}, {name: all}]
        """).endpoints
    assert eps.service == "web"
    assert eps.addresses == (EndpointAddress("10.0.0.7", "web-1"),
                             EndpointAddress("10.0.0.8", "web-1"))
    assert eps.ports == (ContainerPort(8080, "TCP", "http"),)


def test_endpoint_slice_without_service_label_is_skipped_with_a_warning():
    cluster = load("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
                   "metadata: {name: orphan}\naddressType: IPv4\nendpoints: []\n")
    assert cluster.endpoints == ()
    assert [d.severity for d in cluster.diagnostics] == ["warning"]


def test_ingress_v1_routes_to_services():
    (ing,) = load("""\
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: web, namespace: shop}
        spec:
          ingressClassName: nginx
          defaultBackend: {service: {name: fallback, port: {number: 8080}}}
          rules:
          - host: shop.example.com
            http:
              paths:
              - path: /
                pathType: Prefix
                backend: {service: {name: web, port: {name: http}}}
              - path: /static
                pathType: Prefix
                backend: {resource: {apiGroup: k8s.example.com, kind: Bucket, name: s}}
        """).ingresses
    assert (ing.ref, ing.ingress_class) == ("shop/web", "nginx")
    assert ing.backends == (IngressBackend("fallback", 8080),
                            IngressBackend("web", "http", "shop.example.com", "/"))


def test_ingress_v1beta1_service_name_and_port():
    (ing,) = load("""\
        apiVersion: extensions/v1beta1
        kind: Ingress
        metadata:
          name: old
          annotations: {kubernetes.io/ingress.class: nginx}
        spec:
          backend: {serviceName: fallback, servicePort: 80}
          rules:
          - http:
              paths:
              - backend: {serviceName: web, servicePort: http}
        """).ingresses
    assert ing.ingress_class == "nginx"
    assert ing.backends == (IngressBackend("fallback", 80), IngressBackend("web", "http"))


# -- namespaces, duplicates, order, unknown kinds ---------------------------------------------


def test_objects_without_namespace_live_in_default():
    cluster = load("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    assert cluster.pods[0].namespace == "default"
    assert [(ns.name, ns.implicit) for ns in cluster.namespaces] == [("default", True)]


def test_referenced_namespaces_exist_implicitly_with_their_name_label():
    cluster = load(POD + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ops\n"
                   "  labels: {team: ops}\n")
    assert [(ns.name, ns.implicit, dict(ns.labels)) for ns in cluster.namespaces] == [
        ("ops", False, {"kubernetes.io/metadata.name": "ops", "team": "ops"}),
        ("shop", True, {"kubernetes.io/metadata.name": "shop"}),
    ]


def test_a_wrong_namespace_name_label_is_corrected_with_a_warning():
    cluster = load("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ops\n"
                   "  labels: {kubernetes.io/metadata.name: prod}\n")
    assert cluster.namespaces[0].labels["kubernetes.io/metadata.name"] == "ops"
    assert [d.severity for d in cluster.diagnostics] == ["warning"]


def test_duplicate_objects_are_refused_naming_both_places():
    assert error(POD + "---\n" + POD) == (
        '<stdin>:21:1: duplicate Pod "shop/web-7d4b9-x2x9q" (first defined at <stdin>:1:1) '
        "(each object must have a unique name within its kind and namespace)")


def test_same_name_in_other_namespace_or_kind_is_fine():
    cluster = load(POD + "---\n" + POD.replace("namespace: shop", "namespace: prod")
                   + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web-7d4b9-x2x9q, "
                   "namespace: shop}\n")
    assert len(cluster.pods) == 2 and len(cluster.services) == 1


def test_collections_are_sorted_by_namespace_and_name():
    docs = [f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {n}, namespace: {ns}}}\n"
            for ns, n in [("b", "x"), ("a", "z"), ("a", "y")]]
    cluster = load("---\n".join(docs))
    assert [p.ref for p in cluster.pods] == ["a/y", "a/z", "b/x"]
    assert [ns.name for ns in cluster.namespaces] == ["a", "b"]


@pytest.mark.parametrize(("api", "kind"), [
    ("v1", "ConfigMap"), ("route.example.io/v1", "Route"), ("v1", "Deployment"),
    ("rbac.authorization.k8s.io/v1", "Role"),
])
def test_unknown_kinds_are_skipped_with_a_note(api: str, kind: str):
    cluster = load(f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: x}}\n")
    assert cluster.pods == () and cluster.workloads == () and cluster.policies == ()
    (note,) = cluster.diagnostics
    assert (note.severity, note.code, note.location) == (
        "info", "unknown-kind", Location("<stdin>", 1, 1))
    assert note.message.startswith(f"skipped {kind} ({api}): ")


def test_a_top_level_array_is_read_item_by_item() -> None:
    """``calicoctl get -o json`` prints several objects as a JSON array, not a List."""
    from reach.loader import read_cluster
    cluster = read_cluster("-", stdin_text=(
        '[{"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", '
        '"metadata": {"name": "a"}, "spec": {"selector": "all()"}}, '
        '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}]'))
    assert [p.ref for p in cluster.policies] == ["gnp/a"]
    assert [n.name for n in cluster.namespaces if not n.implicit] == ["shop"]
    assert not cluster.diagnostics
