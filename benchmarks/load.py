"""How fast the loader reads 5,000 realistic Pod documents (issue 2: well under 2 s).

    python benchmarks/load.py [--pods 5000] [--repeat 3]

Prints wall and CPU seconds per read; CPU time is the fair number on a shared machine.
"""

from __future__ import annotations

import argparse
import tempfile
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


def pods_text(count: int) -> str:
    return "---\n".join(
        POD.format(i=i, ns=i % 20, app=i % 50, v=i % 7, hi=i // 256 % 256, lo=i % 256)
        for i in range(count)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "pods.yaml"
        file.write_text(pods_text(args.pods))
        size = file.stat().st_size / 1e6
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            cluster = read_cluster(file)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{len(cluster.pods)} pods ({size:.1f} MB): {wall:.2f} s wall, {cpu:.2f} s CPU")


if __name__ == "__main__":
    main()
