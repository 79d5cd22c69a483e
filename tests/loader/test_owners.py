"""Live-cluster dumps: pods belong to their top controller, ended pods are left out.

Kubernetes' own naming is the specification here: "The ReplicaSet's name is
``[DEPLOYMENT-NAME]-[HASH]``... the ``pod-template-hash`` label ... is added by the
Deployment controller to every ReplicaSet that a Deployment creates or adopts", and
a CronJob's Jobs are named after it plus the scheduled time.
"""

from __future__ import annotations

from pathlib import Path

from helpers import load

from reach.loader import read_cluster

RS_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web-7d4b9c8f6d-x2b7q
  generateName: web-7d4b9c8f6d-
  namespace: shop
  labels: {app: web, pod-template-hash: 7d4b9c8f6d}
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-7d4b9c8f6d, uid: u1, controller: true}
spec:
  containers: [{name: web, image: nginx}]
status: {phase: Running, podIP: 10.0.0.7}
"""

REPLICASET = """\
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
  namespace: shop
  labels: {{app: web}}
  ownerReferences:
  - {{apiVersion: apps/v1, kind: Deployment, name: {owner}, uid: u0, controller: true}}
spec:
  replicas: {replicas}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: nginx}}]}}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
"""


def owners(text: str) -> list[tuple[str, str, str, bool]]:
    return [(p.name, p.owner_kind, p.owner_name, p.template) for p in load(text).pods]


def test_a_pod_of_a_replicaset_named_after_its_hash_belongs_to_the_deployment():
    """Without the ReplicaSet object: NAME-HASH with the pod's pod-template-hash."""
    assert owners(RS_POD) == [("web-7d4b9c8f6d-x2b7q", "Deployment", "web", False)]
    (pod,) = load(RS_POD).pods
    assert pod.generated


def test_a_replicaset_in_the_input_hands_its_pods_to_its_deployment():
    text = RS_POD.replace("pod-template-hash: 7d4b9c8f6d", "other: x") + "---\n" + \
        REPLICASET.format(name="web-7d4b9c8f6d", owner="frontend", replicas=1)
    assert owners(text) == [("web-7d4b9c8f6d-x2b7q", "Deployment", "frontend", False)]


def test_a_hash_that_is_not_the_name_suffix_names_no_deployment():
    text = RS_POD.replace("pod-template-hash: 7d4b9c8f6d", "pod-template-hash: abc12")
    assert owners(text)[0][1:3] == ("ReplicaSet", "web-7d4b9c8f6d")


def test_running_pods_stand_for_their_workload_and_its_templates_are_left_out():
    """A dump holds the Deployment, its ReplicaSets and its pods: what runs is the pods."""
    text = "---\n".join([
        RS_POD, DEPLOYMENT,
        REPLICASET.format(name="web-7d4b9c8f6d", owner="web", replicas=1),
        REPLICASET.format(name="web-5f6c7d8e9a", owner="web", replicas=0),
    ])
    cluster = load(text)
    assert [(p.name, p.workload_kind, p.workload_name) for p in cluster.pods] == [
        ("web-7d4b9c8f6d-x2b7q", "Deployment", "web")]
    assert "template-replaced" in [d.code for d in cluster.diagnostics]


def test_without_pods_the_deployment_template_stands_for_them_not_its_replicasets():
    text = "---\n".join([
        DEPLOYMENT, REPLICASET.format(name="web-7d4b9c8f6d", owner="web", replicas=1)])
    assert owners(text) == [("web", "Deployment", "web", True)]


def test_a_replicaset_stands_for_its_absent_deployment_only_when_it_runs_pods():
    """A Deployment keeps old ReplicaSets scaled to 0 for rollbacks: they run nothing."""
    text = "---\n".join([
        REPLICASET.format(name="web-7d4b9c8f6d", owner="web", replicas=2),
        REPLICASET.format(name="web-5f6c7d8e9a", owner="web", replicas=0),
    ])
    cluster = load(text)
    assert [(p.name, p.workload_kind, p.workload_name) for p in cluster.pods] == [
        ("web-7d4b9c8f6d", "Deployment", "web")]
    assert "scaled-down" in [d.code for d in cluster.diagnostics]


JOB_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: backup-28512345-abcde
  namespace: ops
  labels: {job-name: backup-28512345}
  ownerReferences:
  - {apiVersion: batch/v1, kind: Job, name: backup-28512345, uid: u1, controller: true}
spec: {containers: [{name: b, image: busybox}]}
status: {phase: Running}
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: ops}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: backup}}
        spec: {containers: [{name: b, image: busybox}], restartPolicy: Never}
"""


def test_a_job_of_a_cronjob_hands_its_pods_to_the_cronjob():
    """Without the Job object: NAME-DIGITS, when CronJob NAME is in the input."""
    assert owners(JOB_POD + "---\n" + CRONJOB) == [
        ("backup-28512345-abcde", "CronJob", "backup", False)]
    assert owners(JOB_POD)[0][1:3] == ("Job", "backup-28512345")


def test_a_job_object_owned_by_a_cronjob_names_it():
    job = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: backup-28512345
  namespace: ops
  ownerReferences:
  - {apiVersion: batch/v1, kind: CronJob, name: nightly, uid: u0, controller: true}
spec:
  template:
    metadata: {labels: {app: backup}}
    spec: {containers: [{name: b, image: busybox}], restartPolicy: Never}
"""
    assert owners(JOB_POD + "---\n" + job) == [
        ("backup-28512345-abcde", "CronJob", "nightly", False)]


def test_pods_that_ended_or_are_helm_test_hooks_are_left_out_with_a_warning():
    """"Succeeded: All containers in the Pod have terminated in success, and will not be
    restarted." Helm runs test hooks only during ``helm test``."""
    done = RS_POD.replace("phase: Running", "phase: Succeeded")
    hook = """\
apiVersion: v1
kind: Pod
metadata:
  name: web-test-connection
  namespace: shop
  annotations: {"helm.sh/hook": test}
spec: {containers: [{name: t, image: busybox}]}
"""
    cluster = load(done + "---\n" + hook)
    assert cluster.pods == ()
    (note,) = [d for d in cluster.diagnostics if d.code == "not-running"]
    assert note.severity == "warning"
    assert "shop/web-7d4b9c8f6d-x2b7q (phase Succeeded)" in note.message
    assert "shop/web-test-connection (a Helm test hook" in note.message


def test_an_empty_file_is_a_warning_naming_it(tmp_path: Path):
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "comments.yaml").write_text("# nothing yet\n---\n")
    (tmp_path / "list.yaml").write_text("apiVersion: v1\nkind: List\nitems: []\n")
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    cluster = read_cluster(tmp_path)
    warned = sorted(Path(d.location.path).name for d in cluster.diagnostics
                    if d.code == "empty-file" and d.location is not None)
    assert warned == ["comments.yaml", "empty.yaml", "list.yaml"]
    assert all(d.severity == "warning" for d in cluster.diagnostics if d.code == "empty-file")


def test_an_openshift_route_is_read_like_an_ingress():
    """"spec.to: an object the route points to. Only the Service kind is allowed";
    "targetPort: ... If this is a string, it will be looked up as a named port"."""
    text = """\
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: web, namespace: shop}
spec:
  host: shop.example.com
  to: {kind: Service, name: web, weight: 90}
  alternateBackends: [{kind: Service, name: web-canary, weight: 10}]
  port: {targetPort: http}
"""
    (route,) = load(text).ingresses
    assert (route.kind, route.ref) == ("Route", "shop/web")
    assert [(b.service, b.port, b.target) for b in route.backends] == [
        ("web", "http", False), ("web-canary", "http", False)]
    numbered = load(text.replace("targetPort: http", "targetPort: 8080")).ingresses[0]
    assert [(b.port, b.target) for b in numbered.backends] == [(8080, True), (8080, True)]
