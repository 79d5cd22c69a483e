"""Loading is fast: 5,000 realistic Pod documents in well under two seconds."""

from __future__ import annotations

import time
from pathlib import Path

from reach.loader import read_cluster

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web-{i}
  namespace: ns-{ns}
  labels:
    app: web-{app}
    tier: frontend
    version: "1.{v}"
  ownerReferences:
  - apiVersion: apps/v1
    kind: ReplicaSet
    name: web-{app}-5d8f9c7b6
    uid: 0b1c2d3e-{i:04d}
    controller: true
spec:
  containers:
  - name: web
    image: nginx:1.25
    ports:
    - name: http
      containerPort: 8080
      protocol: TCP
    - name: metrics
      containerPort: 9090
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
    readinessProbe:
      httpGet:
        path: /healthz
        port: http
status:
  phase: Running
  podIP: 10.{hi}.{lo}.7
  podIPs:
  - ip: 10.{hi}.{lo}.7
"""


def test_five_thousand_pods_load_in_under_two_seconds(tmp_path: Path):
    text = "---\n".join(
        POD.format(i=i, ns=i % 20, app=i % 50, v=i % 7, hi=i // 256 % 256, lo=i % 256)
        for i in range(5000))
    file = tmp_path / "pods.yaml"
    file.write_text(text)
    # CPU time: other processes on a shared machine must not make this test flaky.
    start = time.process_time()
    cluster = read_cluster(file)
    elapsed = time.process_time() - start
    assert len(cluster.pods) == 5000
    assert elapsed < 2.0, f"5,000 pods took {elapsed:.2f} s"
