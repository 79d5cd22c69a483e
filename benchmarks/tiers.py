"""Compile time with admin and baseline policies beside the NetworkPolicies.

Generates the synthetic cluster of ``benchmarks/generate.py`` (10,000 pods, 100
namespaces, 1,000 NetworkPolicies by default), then ``--admin`` cluster-wide policies of
the admin policy API (ClusterNetworkPolicy v1alpha2, Admin and Baseline tiers) in the
shapes platform teams write: per-team tenant isolation (Deny from other teams), Pass for
the monitoring and ingress namespaces, egress Deny of outside networks with Accept of
the RFC 1918 ranges, per-app Accept rules on named and numbered ports, and a baseline
default deny per environment. Priorities repeat on purpose (ties happen).

It times ``compile_cluster`` (best of ``--repeat`` runs, the cluster read once) on the
NetworkPolicies alone and with the admin policies, and prints the ratio: the issue's
target is 1.5x at most. No timing is asserted anywhere.

Usage::

    python benchmarks/tiers.py                       # 10,000 pods, 200 admin policies
    python benchmarks/tiers.py --pods 3000 --admin 100 --repeat 5
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (the benchmark folder's own module)

from reach.engine.compiler import compile_cluster  # noqa: E402
from reach.loader import read_cluster  # noqa: E402

Doc = dict[str, Any]
NAME = "kubernetes.io/metadata.name"


def _cnp(name: str, tier: str, priority: int, subject: Doc, ingress: list[Doc],
         egress: list[Doc]) -> Doc:
    spec: Doc = {"tier": tier, "priority": priority, "subject": subject}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


def _tcp(port: int) -> Doc:
    return {"tcp": {"destinationPort": {"number": port}}}


def admin_policies(count: int, namespaces: list[Doc], workloads: list[Doc],
                   seed: int = 0) -> list[Doc]:
    """``count`` admin and baseline ClusterNetworkPolicies over the generated cluster."""
    rng = random.Random(seed)
    teams = sorted({ns["metadata"]["labels"].get("team", "") for ns in namespaces} - {""})
    envs = sorted({ns["metadata"]["labels"].get("env", "") for ns in namespaces} - {""})
    apps = sorted({(w["metadata"].get("namespace", ""), w["metadata"]["labels"]["app"])
                   for w in workloads if "app" in w["metadata"].get("labels", {})})
    makers = ("tenant", "pass-platform", "egress-networks", "app-accept", "app-deny")
    docs: list[Doc] = []
    for env in envs:
        docs.append(_cnp(f"baseline-deny-{env}", "Baseline", 100,
                         {"namespaces": {"matchLabels": {"env": env}}},
                         [{"name": "deny-pods", "action": "Deny",
                           "from": [{"namespaces": {}}]}], []))
    while len(docs) < count:
        i = len(docs)
        kind = makers[i % len(makers)]
        priority = rng.choice((10, 20, 20, 30, 40, 50))
        team = rng.choice(teams)
        if kind == "tenant":
            other = {"namespaces": {"matchExpressions": [
                {"key": "team", "operator": "NotIn", "values": [team]},
                {"key": "team", "operator": "Exists"}]}}
            docs.append(_cnp(f"tenant-{team}-{i}", "Admin", priority,
                             {"namespaces": {"matchLabels": {"team": team}}},
                             [{"name": "deny-other-teams", "action": "Deny", "from": [other]}],
                             [{"name": "deny-other-teams", "action": "Deny", "to": [other]}]))
        elif kind == "pass-platform":
            docs.append(_cnp(f"pass-platform-{i}", "Admin", max(priority - 5, 0),
                             {"namespaces": {"matchLabels": {"team": team}}},
                             [{"name": "pass-monitoring", "action": "Pass",
                               "from": [{"namespaces": {"matchLabels": {NAME: "monitoring"}}}],
                               "protocols": [{"destinationNamedPort": "metrics"}]},
                              {"name": "pass-ingress", "action": "Pass",
                               "from": [{"namespaces": {"matchLabels": {NAME: "ingress-nginx"}}}]}],
                             []))
        elif kind == "egress-networks":
            docs.append(_cnp(f"egress-{team}-{i}", "Admin", priority,
                             {"namespaces": {"matchLabels": {"team": team}}}, [],
                             [{"name": "private", "action": "Accept",
                               "to": [{"networks": ["10.0.0.0/8", "172.16.0.0/12",
                                                    "192.168.0.0/16"]}]},
                              {"name": "dns", "action": "Pass",
                               "to": [{"namespaces": {"matchLabels": {NAME: "kube-system"}}}],
                               "protocols": [{"udp": {"destinationPort": {"number": 53}}}]},
                              {"name": "no-internet", "action": "Deny",
                               "to": [{"networks": ["0.0.0.0/0"]}]}]))
        else:
            namespace, app = rng.choice(apps)
            peer_team = rng.choice(teams)
            action = "Accept" if kind == "app-accept" else "Deny"
            protocols = [rng.choice(([{"destinationNamedPort": "http"}], [_tcp(5432)],
                                     [_tcp(8080), _tcp(9090)]))][0]
            docs.append(_cnp(f"{kind}-{app}-{i}", "Admin", priority,
                             {"pods": {"namespaceSelector": {"matchLabels": {NAME: namespace}},
                                       "podSelector": {"matchLabels": {"app": app}}}},
                             [{"name": f"{action.lower()}-{peer_team}", "action": action,
                               "from": [{"namespaces": {"matchLabels": {"team": peer_team}}}],
                               "protocols": protocols}], []))
    return docs[:count]


class _NoAliases(yaml.SafeDumper):
    """Writes repeated objects out in full: reach refuses YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _best(cluster: Any, repeat: int) -> tuple[float, int]:
    best, classes = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        compiled = compile_cluster(cluster)
        best = min(best, time.perf_counter() - start)
        classes = compiled.n_classes
    return best, classes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--namespaces", type=int, default=100)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--admin", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate.write(folder, args.pods, args.namespaces, args.policies, args.seed)
        built = generate.build(args.pods, args.namespaces, args.policies, args.seed)
        admin = admin_policies(args.admin, built.namespaces, built.workloads, args.seed)
        admin_file = folder.parent / f"{folder.name}-admin.yaml"
        admin_file.write_text(yaml.dump_all(admin, Dumper=_NoAliases, sort_keys=False),
                              encoding="utf-8")
        try:
            plain = read_cluster(folder)
            tiered = read_cluster(folder, admin_file)
        finally:
            admin_file.unlink()
    np_time, np_classes = _best(plain, args.repeat)
    tier_time, tier_classes = _best(tiered, args.repeat)
    print(f"{len(plain.pods)} pods, {len(plain.policies)} NetworkPolicies, "
          f"{len(tiered.policies) - len(plain.policies)} admin/baseline policies")
    print(f"{'input':<34} {'classes':>8} {'compile s':>10}")
    print(f"{'NetworkPolicies only':<34} {np_classes:>8} {np_time:>10.2f}")
    print(f"{'NetworkPolicies + admin/baseline':<34} {tier_classes:>8} {tier_time:>10.2f}")
    print(f"ratio {tier_time / np_time:.2f}x (target: 1.5x at most)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
