"""Read+compile time and peak RSS with Calico policies in tiers beside the NetworkPolicies.

Generates the synthetic cluster of ``benchmarks/generate.py`` (10,000 pods, 100
namespaces, 1,000 NetworkPolicies by default) with service accounts added (most
workloads run as their own ``ServiceAccount``, labelled ``role`` = the workload's tier
and ``team``; a fifth run as ``default``), then ``--calico`` Calico policies
(``projectcalico.org/v3``) over the same cluster, spread over five ``Tier`` objects:

==============  =====  =============  ==========================================
tier            order  defaultAction  what its policies do
==============  =====  =============  ==========================================
``security``    100    Deny           GlobalNetworkPolicies: metadata endpoint and
                                      threat-feed Deny (GlobalNetworkSets), partner
                                      egress Allow per team, database guards per
                                      team, ICMP echo from the nodes; then Pass
``platform``    200    **Pass**       GlobalNetworkPolicies: DNS only to kube-dns,
                                      metrics ports only from Prometheus, the
                                      ingress controller to exposed pods per team,
                                      dev egress to the internet only on 80/443
``compliance``  300    Deny           GlobalNetworkPolicies by ``compliance``
                                      namespace label: pci isolation, sox audit
                                      Log, canaries kept off databases; Log rules
``tenancy``     400    Deny           Calico NetworkPolicies, one per namespace:
                                      Pass from the own team, platform namespaces,
                                      outside addresses; shared-services GNPs
``application`` 500    Deny           Calico NetworkPolicies per app: Allow by
                                      selector, serviceAccounts (names and
                                      selector), namespaceSelector, named and
                                      numbered ports, ranges, notPorts; egress to
                                      NetworkSets; half end in Pass
==============  =====  =============  ==========================================

Selectors use ``==``, ``!=``, ``in``, ``not in``, ``has()``, ``!has()``, ``&&``,
``||``; entities ``selector``, ``notSelector``, ``namespaceSelector``,
``serviceAccounts``, ``nets``/``notNets``, ``ports``/``notPorts``; subjects
``selector``, ``namespaceSelector`` (global) and ``serviceAccountSelector``. Four
GlobalNetworkSets (cloud metadata, a threat feed of 40 CIDRs, payment partners,
corporate ranges) and a NetworkSet in a few namespaces (one over pod IPs). Everything is
drawn from ``random.Random(seed)``: the same arguments give byte-identical files.

Each measurement runs in a fresh process (peak RSS is per run), the two inputs
alternating (A B A B ..., after one warm-up pair):

* ``read+compile``: ``reach.loader.read_cluster(paths)`` then ``reach.Network(cluster)``
  (exactly what ``reach.load(paths)`` does), read and compile timed separately;
* ``reach list --by namespace -o json -f ...`` as a whole process (wall, CPU, peak RSS).

It prints one table of medians and the read+compile ratio Calico / NetworkPolicy-only
(the median of the pair-by-pair ratios); the issue's target is 2.0x at most, and the
exit status is 1 above ``--max-ratio`` (2.0), so CI can run it. It is not part of the
test suite.

Usage::

    python benchmarks/calico.py                               # 10,000 pods, 300 Calico
    python benchmarks/calico.py --pods 3000 --namespaces 30 --policies 300 --calico 100
    python benchmarks/calico.py --repeat 9 --keep /tmp/calico-bench   # keep the files
    python benchmarks/calico.py --write DIR                   # only write the files
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

Doc = dict[str, Any]
V3 = "projectcalico.org/v3"
NS_NAME = "projectcalico.org/name"  # the namespace name label Calico selectors see

#: (name, order, defaultAction) of the five tiers, and each tier's share of the policies.
TIERS = (("security", 100, "Deny"), ("platform", 200, "Pass"), ("compliance", 300, "Deny"),
         ("tenancy", 400, "Deny"), ("application", 500, "Deny"))
SHARES = {"security": 45, "platform": 40, "compliance": 45, "tenancy": 70, "application": 100}
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
PARTNERS = ["198.51.100.0/24", "203.0.113.0/24"]
NODES = "10.0.0.0/16"  # generate.py's hostIPs


# ---------------------------------------------------------------------------
# the cluster: generate.py's, with service accounts


def _workload_key(doc: Doc) -> tuple[str, str]:
    meta = doc["metadata"]
    labels = meta.get("labels", {})
    app = (labels.get("app") or labels.get("app.kubernetes.io/name") or labels.get("k8s-app")
           or meta["name"])
    return meta.get("namespace", "default"), app


def add_service_accounts(workloads: list[Doc], seed: int = 0) -> list[Doc]:
    """Give the pods (and Deployment templates) a ``serviceAccountName``; return the
    ``ServiceAccount`` documents. A workload's app runs as an account of the app's name
    (80%) or as ``default``; the accounts are labelled ``role`` (the tier) and ``team``."""
    rng = random.Random(f"accounts-{seed}")
    chosen: dict[tuple[str, str], str] = {}
    accounts: dict[tuple[str, str], Doc] = {}
    for doc in workloads:
        key = _workload_key(doc)
        labels = doc["metadata"].get("labels", {})
        if key not in chosen:
            platform = labels.get("tier") == "platform"
            chosen[key] = key[1] if platform or rng.random() < 0.8 else "default"
        name = chosen[key]
        spec = doc["spec"]["template"]["spec"] if doc["kind"] == "Deployment" else doc["spec"]
        if name != "default":
            spec["serviceAccountName"] = name
            if (key[0], name) not in accounts:
                sa_labels = {"role": labels.get("tier", "platform"),
                             "team": labels.get("team", "platform")}
                if rng.random() < 0.1:
                    sa_labels["privileged"] = "true"
                accounts[(key[0], name)] = {
                    "apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": name, "namespace": key[0], "labels": sa_labels}}
    return list(accounts.values())


class _Apps:
    """What the policies refer to: namespaces, teams, apps with their tier and ports."""

    def __init__(self, namespaces: list[Doc], workloads: list[Doc]) -> None:
        self.namespaces = [(n["metadata"]["name"], n["metadata"]["labels"]) for n in namespaces]
        self.app_namespaces = [(n, lab) for n, lab in self.namespaces
                               if lab.get("team") != "platform"]
        self.teams = sorted({lab["team"] for _, lab in self.app_namespaces})
        self.envs = sorted({lab["env"] for _, lab in self.app_namespaces})
        self.apps: dict[tuple[str, str], Doc] = {}  # (ns, app) -> tier, team, ports, account
        for doc in workloads:
            labels = doc["metadata"].get("labels", {})
            if labels.get("tier") in (None, "platform"):
                continue
            key = _workload_key(doc)
            if key in self.apps:
                continue
            spec = doc["spec"]["template"]["spec"] if doc["kind"] == "Deployment" else doc["spec"]
            ports = {p["name"]: p["containerPort"] for c in spec["containers"]
                     for p in c.get("ports", []) if "name" in p}
            self.apps[key] = {"tier": labels["tier"], "team": labels.get("team", ""),
                              "ports": ports,
                              "account": spec.get("serviceAccountName", "default")}
        self.keys = sorted(self.apps)
        self.by_namespace: dict[str, list[str]] = {}
        for ns, app in self.keys:
            self.by_namespace.setdefault(ns, []).append(app)


# ---------------------------------------------------------------------------
# the Calico documents


def _tier(name: str, order: int, action: str) -> Doc:
    spec: Doc = {"order": order}
    if action != "Deny":
        spec["defaultAction"] = action
    return {"apiVersion": V3, "kind": "Tier", "metadata": {"name": name}, "spec": spec}


def _gnp(tier: str, name: str, order: int, spec: Doc) -> Doc:
    return {"apiVersion": V3, "kind": "GlobalNetworkPolicy",
            "metadata": {"name": f"{tier}.{name}"},
            "spec": {"tier": tier, "order": order, **spec}}


def _np(tier: str, namespace: str, name: str, order: int, spec: Doc) -> Doc:
    return {"apiVersion": V3, "kind": "NetworkPolicy",
            "metadata": {"name": f"{tier}.{name}", "namespace": namespace},
            "spec": {"tier": tier, "order": order, **spec}}


def _q(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


PASS: Doc = {"action": "Pass"}


def network_sets(rng: random.Random, apps: _Apps) -> list[Doc]:
    """Four GlobalNetworkSets and a ``backup`` NetworkSet in up to five namespaces."""
    feed = sorted({f"{rng.choice((45, 62, 77, 91, 103, 141, 185, 194))}."
                   f"{rng.randrange(256)}.{rng.randrange(256)}.0/24" for _ in range(40)})
    docs: list[Doc] = [
        {"apiVersion": V3, "kind": "GlobalNetworkSet",
         "metadata": {"name": "cloud-metadata", "labels": {"role": "cloud-metadata"}},
         "spec": {"nets": ["169.254.169.254/32", "fd00:ec2::254/128"]}},
        {"apiVersion": V3, "kind": "GlobalNetworkSet",
         "metadata": {"name": "threat-feed", "labels": {"feed": "blocked", "source": "vendor-a"}},
         "spec": {"nets": feed}},
        {"apiVersion": V3, "kind": "GlobalNetworkSet",
         "metadata": {"name": "payment-partners", "labels": {"role": "partners", "pci": "true"}},
         "spec": {"nets": list(PARTNERS)}},
        {"apiVersion": V3, "kind": "GlobalNetworkSet",
         "metadata": {"name": "corporate", "labels": {"role": "corporate"}},
         "spec": {"nets": ["172.16.0.0/12", "192.168.0.0/16"]}},
    ]
    for i, (ns, _) in enumerate(apps.app_namespaces[:5]):
        # the last one covers pod IPs (a legacy range reused by the pod network)
        nets = [f"10.20.{i}.0/24"] if i < 4 else ["10.128.3.0/24"]
        docs.append({"apiVersion": V3, "kind": "NetworkSet",
                     "metadata": {"name": "backup-targets", "namespace": ns,
                                  "labels": {"role": "backup"}},
                     "spec": {"nets": nets}})
    return docs


def _security(rng: random.Random, apps: _Apps, count: int) -> list[Doc]:
    tier = "security"
    docs = [
        _gnp(tier, "block-metadata", 10, {
            "selector": "all()", "types": ["Egress"],
            "egress": [{"action": "Deny", "destination": {"selector": "role == 'cloud-metadata'"}},
                       {"action": "Deny", "destination": {"nets": ["169.254.0.0/16"]}},
                       PASS]}),
        _gnp(tier, "threat-feed", 20, {
            "selector": "all()", "types": ["Ingress", "Egress"],
            "ingress": [{"action": "Log", "source": {"selector": "feed == 'blocked'"}},
                        {"action": "Deny", "source": {"selector": "feed == 'blocked'"}}, PASS],
            "egress": [{"action": "Deny", "destination": {"selector": "feed == 'blocked'"}},
                       PASS]}),
        _gnp(tier, "icmp-from-nodes", 30, {
            "selector": "all()", "types": ["Ingress"],
            "ingress": [{"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8},
                         "source": {"nets": [NODES]}},
                        {"action": "Deny", "protocol": "ICMP"}, PASS]}),
    ]
    i = 0
    while len(docs) < count:
        team = apps.teams[i % len(apps.teams)]
        if i % 2 == 0:
            docs.append(_gnp(tier, f"partners-{team}-{i}", 100 + i, {
                "namespaceSelector": f"team == '{team}' && env in {{'prod', 'staging'}}",
                "selector": "tier in {'backend', 'worker'} && !has(exposed)",
                "types": ["Egress"],
                "egress": [
                    {"action": "Allow", "protocol": "TCP",
                     "destination": {"selector": "role == 'partners'", "ports": [443]}},
                    {"action": "Deny", "destination": {"nets": list(PARTNERS)}},
                    PASS]}))
        else:
            others = [t for t in apps.teams if t != team]
            friend = rng.choice(others) if others else team
            docs.append(_gnp(tier, f"db-guard-{team}-{i}", 100 + i, {
                "selector": f"tier == 'db' && team == '{team}'",
                "types": ["Ingress", "Egress"],
                "ingress": [
                    {"action": "Log", "source": {"namespaceSelector": f"team != '{team}'"}},
                    {"action": "Deny", "source": {
                        "namespaceSelector": f"has(team) && team not in {{'{team}', '{friend}'}}",
                        "notSelector": "app == 'prometheus'"}},
                    {"action": "Deny", "protocol": "TCP", "source": {
                        "selector": "tier == 'frontend' || has(exposed)"}},
                    PASS],
                "egress": [
                    {"action": "Deny", "protocol": "TCP", "destination": {
                        "notNets": PRIVATE, "notPorts": [443]}},
                    PASS]}))
        i += 1
    return docs[:count]


def _platform(rng: random.Random, apps: _Apps, count: int) -> list[Doc]:
    tier = "platform"
    dns = {"selector": "k8s-app == 'kube-dns'",
           "namespaceSelector": f"{NS_NAME} == 'kube-system'", "ports": [53]}
    docs = [
        _gnp(tier, "dns", 10, {
            "namespaceSelector": f"{NS_NAME} != 'kube-system'", "selector": "all()",
            "types": ["Egress"],
            "egress": [{"action": "Allow", "protocol": "UDP", "destination": dns},
                       {"action": "Allow", "protocol": "TCP", "destination": dns},
                       {"action": "Deny", "protocol": "UDP", "destination": {"ports": [53]}},
                       {"action": "Deny", "protocol": "TCP", "destination": {"ports": [53]}}]}),
        _gnp(tier, "metrics", 20, {
            "selector": "has(tier) && tier != 'platform'", "types": ["Ingress"],
            "ingress": [
                {"action": "Allow", "protocol": "TCP",
                 "source": {"selector": "app == 'prometheus'",
                            "namespaceSelector": "purpose == 'monitoring'"},
                 "destination": {"ports": ["metrics", 9187, 9121]}},
                {"action": "Deny", "protocol": "TCP",
                 "destination": {"ports": ["metrics", 9187, 9121]}}]}),
    ]
    i = 0
    while len(docs) < count:
        if i % 3 == 2:
            env = apps.envs[i % len(apps.envs)]
            docs.append(_gnp(tier, f"egress-{env}-{i}", 100 + i, {
                "namespaceSelector": f"env == '{env}' && compliance != 'pci'",
                "selector": "all()", "types": ["Egress"],
                "egress": [{"action": "Log", "destination": {"notNets": PRIVATE}},
                           {"action": "Deny", "protocol": "TCP",
                            "destination": {"notNets": PRIVATE, "notPorts": [80, 443]}}]}))
        else:
            team = apps.teams[i % len(apps.teams)]
            docs.append(_gnp(tier, f"ingress-{team}-{i}", 100 + i, {
                "namespaceSelector": f"team == '{team}'",
                "selector": "exposed == 'true' || tier == 'frontend'", "types": ["Ingress"],
                "ingress": [{"action": "Allow", "protocol": "TCP",
                             "source": {"selector": "app.kubernetes.io/name == 'ingress-nginx'",
                                        "namespaceSelector": "purpose == 'ingress'"},
                             "destination": {"ports": ["http", "8000:8099"]}}]}))
        i += 1
    return docs[:count]


def _compliance(rng: random.Random, apps: _Apps, count: int) -> list[Doc]:
    tier = "compliance"
    docs: list[Doc] = []
    tiers = ("backend", "db", "cache", "worker", "frontend", "queue")
    i = 0
    while len(docs) < count:
        kind = i % 3
        if kind == 0:
            app_tier = tiers[(i // 3) % len(tiers)]
            docs.append(_gnp(tier, f"pci-{app_tier}-{i}", 100 + i, {
                "namespaceSelector": "compliance == 'pci'", "selector": f"tier == '{app_tier}'",
                "types": ["Ingress", "Egress"],
                "ingress": [
                    {"action": "Log"},
                    {"action": "Allow", "source": {
                        "namespaceSelector": "compliance == 'pci' || purpose in "
                                             "{'monitoring', 'ingress'}"}},
                    {"action": "Deny"}],
                "egress": [
                    {"action": "Allow",
                     "destination": {"namespaceSelector": "compliance == 'pci'"}},
                    {"action": "Pass", "protocol": "UDP", "destination": {
                        "selector": "k8s-app == 'kube-dns'", "namespaceSelector": "all()",
                        "ports": [53]}},
                    {"action": "Allow", "protocol": "TCP", "destination": {
                        "selector": "role == 'partners' && pci == 'true'", "ports": [443]}},
                    {"action": "Deny", "destination": {"notNets": ["10.0.0.0/8"]}},
                    PASS]}))
        elif kind == 1:
            env = apps.envs[i % len(apps.envs)]
            docs.append(_gnp(tier, f"sox-audit-{env}-{i}", 100 + i, {
                "namespaceSelector": f"compliance in {{'sox'}} && env == '{env}'",
                "selector": "all()", "types": ["Ingress", "Egress"],
                "ingress": [{"action": "Log"}, PASS], "egress": [{"action": "Log"}, PASS]}))
        else:
            team = apps.teams[i % len(apps.teams)]
            docs.append(_gnp(tier, f"no-canary-to-db-{team}-{i}", 100 + i, {
                "namespaceSelector": f"env == 'prod' && team == '{team}'",
                "selector": "version == 'canary' || version in {'v3'}",
                "types": ["Egress"],
                "egress": [{"action": "Deny", "destination": {
                    "selector": "tier in {'db', 'queue'} && !has(exposed)"}},
                    PASS]}))
        i += 1
    return docs[:count]


def _tenancy(rng: random.Random, apps: _Apps, count: int) -> list[Doc]:
    tier = "tenancy"
    docs: list[Doc] = []
    shared = apps.teams[:2]
    n_shared = max(1, count // 10)
    for i in range(n_shared):
        team = shared[i % len(shared)]
        docs.append(_gnp(tier, f"shared-{team}-{i}", 10 + i, {
            "namespaceSelector": f"team == '{team}'",
            "selector": "tier == 'backend' && version != 'canary'", "types": ["Ingress"],
            "ingress": [{"action": "Pass", "protocol": "TCP",
                         "source": {"namespaceSelector": "has(team)"},
                         "destination": {"ports": ["http", "grpc"]}}]}))
    pool = list(apps.app_namespaces)
    rng.shuffle(pool)
    for ns, labels in pool[:count - len(docs)]:
        team = labels["team"]
        ingress = [
            {"action": "Pass", "source": {"namespaceSelector": f"team == '{team}'"}},
            {"action": "Pass", "source": {
                "namespaceSelector": "purpose in {'monitoring', 'ingress'}"}},
            {"action": "Pass", "source": {"nets": ["0.0.0.0/0"], "notNets": ["10.128.0.0/9"]}},
        ]
        if rng.random() < 0.3:
            ingress.insert(0, {"action": "Pass", "source": {
                "serviceAccounts": {"selector": "privileged == 'true'"},
                "namespaceSelector": "all()"}})
        docs.append(_np(tier, ns, "isolate", 100, {
            "selector": "all()", "types": ["Ingress", "Egress"],
            "ingress": ingress, "egress": [PASS]}))
    return docs[:count]


def _application(rng: random.Random, apps: _Apps, count: int) -> list[Doc]:
    tier = "application"
    docs: list[Doc] = []
    keys = list(apps.keys)
    rng.shuffle(keys)
    taken: set[tuple[str, str]] = set()
    i = 0
    while len(docs) < count:
        ns, app = keys[i % len(keys)]
        info = apps.apps[(ns, app)]
        same = [a for a in apps.by_namespace[ns] if a != app] or [app]
        caller = rng.choice(same)
        caller_sa = apps.apps[(ns, caller)]["account"]
        kind = i % 4
        name = f"{app}-{('ingress', 'egress', 'accounts', 'ports')[kind]}"
        if (ns, name) in taken:
            name = f"{name}-{i}"
        taken.add((ns, name))
        http = info["ports"].get("http")
        order = 100 + i
        if kind == 0:
            ingress: list[Doc] = [
                {"action": "Allow", "protocol": "TCP",
                 "source": {"selector": f"tier == 'frontend' || app == '{caller}'"},
                 "destination": {"ports": ["http" if http else 8080]}},
                {"action": "Allow", "protocol": "TCP",
                 "source": {"serviceAccounts": {"names": sorted({caller_sa, "default"})}},
                 "destination": {"ports": [9000, "8000:8099"]}},
            ]
            if rng.random() < 0.5:
                ingress.append(PASS)
            docs.append(_np(tier, ns, name, order, {
                "selector": f"app == '{app}' && version != 'canary'", "types": ["Ingress"],
                "ingress": ingress}))
        elif kind == 1:
            egress: list[Doc] = [
                {"action": "Allow", "destination": {
                    "selector": "tier in {'db', 'cache', 'queue'} || app == 'api'"}},
                {"action": "Allow", "protocol": "UDP", "destination": {"ports": [53, 8125]}},
                {"action": "Deny", "destination": {"selector": "role == 'backup'"}},
                {"action": "Allow", "protocol": "TCP",
                 "destination": {"nets": ["0.0.0.0/0"], "notNets": PRIVATE, "ports": [443]}},
            ]
            if rng.random() < 0.5:
                egress.append(PASS)
            docs.append(_np(tier, ns, name, order, {
                "selector": f"app == '{app}'", "types": ["Egress"], "egress": egress}))
        elif kind == 2:
            team = info["team"] or apps.teams[0]
            docs.append(_np(tier, ns, name, order, {
                "selector": f"app == '{app}'",
                "serviceAccountSelector": "role != 'db'", "types": ["Ingress"],
                "ingress": [
                    {"action": "Allow", "protocol": "TCP", "source": {
                        "serviceAccounts": {"selector": "role in {'frontend', 'backend'}"},
                        "namespaceSelector": f"team == '{team}' || env == 'dev'"}},
                    {"action": "Log", "source": {"selector": "!has(team)"}},
                    {"action": "Deny", "source": {"namespaceSelector": "env == 'dev'"}},
                    PASS]}))
        else:
            named = sorted(info["ports"])
            docs.append(_np(tier, ns, name, order, {
                "selector": f"app == '{app}' && has(tier)", "types": ["Ingress"],
                "ingress": [
                    {"action": "Deny", "protocol": "TCP",
                     "destination": {"notPorts": named[:2] or [1]}},
                    {"action": "Allow", "protocol": "TCP", "source": {
                        "selector": f"app in {{{_q(sorted({caller, app}))}}}"}},
                    {"action": "Allow", "protocol": "TCP", "source": {
                        "nets": [*PARTNERS, "10.128.0.0/16"]}},
                    {"action": "Allow", "protocol": "UDP", "source": {
                        "selector": "tier == 'worker'"}, "destination": {"ports": ["8125"]}},
                    PASS]}))
        i += 1
    return docs[:count]


def calico_documents(count: int, namespaces: list[Doc], workloads: list[Doc],
                     seed: int = 0) -> list[Doc]:
    """The five Tiers, the network sets and ``count`` Calico policies over the cluster."""
    rng = random.Random(f"calico-{seed}")
    apps = _Apps(namespaces, workloads)
    total = sum(SHARES.values())
    counts = {t: count * SHARES[t] // total for t in SHARES}
    counts["application"] += count - sum(counts.values())
    makers = {"security": _security, "platform": _platform, "compliance": _compliance,
              "tenancy": _tenancy, "application": _application}
    docs = [_tier(*t) for t in TIERS] + network_sets(rng, apps)
    made = 0
    for name, _, _ in TIERS:  # application, last, makes up what tenancy could not
        want = count - made if name == "application" else counts[name]
        policies = makers[name](rng, apps, want)
        made += len(policies)
        docs += policies
    return docs


class _NoAliases(yaml.SafeDumper):
    """Writes repeated objects out in full: reach refuses YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write(folder: Path, pods: int, namespaces: int, policies: int, calico: int,
          seed: int) -> Doc:
    """Write ``folder/cluster/`` (the NetworkPolicy cluster with service accounts) and
    ``folder/calico.yaml``; return a summary."""
    import generate  # the benchmark folder's own module

    built = generate.build(pods, namespaces, policies, seed)
    accounts = add_service_accounts(built.workloads, seed)
    cluster = folder / "cluster"
    cluster.mkdir(parents=True, exist_ok=True)
    files = dict(built.files())
    files["serviceaccounts.yaml"] = accounts
    for name, docs in files.items():
        (cluster / name).write_text(generate._dump(docs), encoding="utf-8")
    extra = calico_documents(calico, built.namespaces, built.workloads, seed)
    text = yaml.dump_all(extra, Dumper=_NoAliases, sort_keys=False)
    (folder / "calico.yaml").write_text(text, encoding="utf-8")
    kinds: dict[str, int] = {}
    for d in extra:
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
    return {"kinds": kinds, "service_accounts": len(accounts),
            "calico_bytes": len(text.encode())}


# ---------------------------------------------------------------------------
# timing


def child(paths: list[str]) -> int:
    """One read+compile in this fresh process: a JSON line of seconds and peak RSS."""
    start = time.perf_counter()
    import reach
    from reach.loader import read_cluster
    imported = time.perf_counter()
    cluster = read_cluster(*paths)
    read = time.perf_counter()
    net = reach.Network(cluster)  # reach.load(*paths) is read_cluster + Network
    compiled = time.perf_counter()
    kinds: dict[str, int] = {}
    for p in net.cluster.policies:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    print(json.dumps({
        "import": imported - start, "read": read - imported, "compile": compiled - read,
        "total": compiled - imported,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "pods": len(net.pods), "classes": net.compiled.n_classes, "policies": kinds,
        "tiers": sorted({str(p.tier) for p in net.cluster.policies}),
    }))
    return 0


def _measure(cmd: list[str], out_path: str | None = None) -> Doc:
    """Wall, CPU and peak RSS of one child process (``os.wait4``); its stdout is returned,
    or written to ``out_path``."""
    with open(out_path or os.devnull, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out if out_path else subprocess.PIPE,
                                stderr=subprocess.DEVNULL if out_path else None)
        stdout = b""
        if proc.stdout:
            stdout = proc.stdout.read()
            proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024, "rc": proc.returncode, "stdout": stdout}


def _api(paths: list[str]) -> Doc:
    got = _measure([sys.executable, str(Path(__file__).resolve()), "--child", *paths])
    if got["rc"] != 0:
        raise SystemExit(f"read+compile of {paths} failed (exit {got['rc']})")
    lines = [ln for ln in got["stdout"].decode().splitlines() if ln.startswith("{")]
    row: Doc = json.loads(lines[-1])
    row["cpu"] = got["cpu"]
    return row


def _cli(paths: list[str], out_path: str) -> Doc:
    cmd = [sys.executable, "-m", "reach", "list", "--by", "namespace", "-o", "json", "-q"]
    for p in paths:
        cmd += ["-f", p]
    got = _measure(cmd, out_path)
    if got["rc"] != 0:
        raise SystemExit(f"reach list on {paths} failed (exit {got['rc']})")
    return got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--namespaces", type=int, default=100)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--calico", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5, help="counted runs of each (5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-ratio", type=float, default=2.0)
    parser.add_argument("--gate", choices=("read+compile", "compile"), default="read+compile",
                        help="which ratio --max-ratio bounds (read+compile)")
    parser.add_argument("--no-cli", action="store_true", help="skip `reach list`")
    parser.add_argument("--keep", metavar="DIR", help="write the inputs here and keep them")
    parser.add_argument("--write", metavar="DIR", help="only write the inputs into DIR")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    if args.write:
        summary = write(Path(args.write), args.pods, args.namespaces, args.policies,
                        args.calico, args.seed)
        print(json.dumps(summary))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        # written by a child: this process stays small, and Linux hands a process's
        # peak RSS on to the children it starts
        cmd = [sys.executable, str(Path(__file__).resolve()), "--write", str(folder),
               "--pods", str(args.pods), "--namespaces", str(args.namespaces),
               "--policies", str(args.policies), "--calico", str(args.calico),
               "--seed", str(args.seed)]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"writing the inputs failed:\n{done.stderr}")
        summary = json.loads(done.stdout.splitlines()[-1])
        generated = time.perf_counter() - start
        inputs = {"np": [str(folder / "cluster")],
                  "calico": [str(folder / "cluster"), str(folder / "calico.yaml")]}
        runs: dict[str, list[Doc]] = {"np": [], "calico": []}
        cli: dict[str, list[Doc]] = {"np": [], "calico": []}
        outputs = {k: str(Path(tmp) / f"list-{k}.json") for k in inputs}
        for i in range(args.repeat + 1):  # the first pair is a warm-up
            for key, paths in inputs.items():
                row = _api(paths)
                if i:
                    runs[key].append(row)
            if not args.no_cli:
                for key, paths in inputs.items():
                    got = _cli(paths, outputs[key])
                    if i:
                        cli[key].append(got)
        listed = {}
        if not args.no_cli:
            for key in inputs:
                with open(outputs[key], encoding="utf-8") as fh:
                    data = json.load(fh)
                items = data.get("connections", data) if isinstance(data, dict) else data
                listed[key] = len(items)
    _report(args, summary, generated, runs, cli, listed)
    key = "total" if args.gate == "read+compile" else "compile"
    ratio = statistics.median(_pair_ratios(runs, key))
    verdict = "ok" if ratio <= args.max_ratio else f"FAIL: above {args.max_ratio:.1f}x"
    print(f"ratio {ratio:.2f}x {args.gate}, Calico / NetworkPolicy-only "
          f"(target: {args.max_ratio:.1f}x at most): {verdict}")
    return 0 if ratio <= args.max_ratio else 1


def _pair_ratios(runs: dict[str, list[Doc]], key: str) -> list[float]:
    return [c[key] / n[key] for n, c in zip(runs["np"], runs["calico"], strict=True)]


def _med(rows: list[Doc], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def _report(args: argparse.Namespace, summary: Doc, generated: float,
            runs: dict[str, list[Doc]], cli: dict[str, list[Doc]], listed: dict[str, int]) -> None:
    np_row, ca_row = runs["np"][-1], runs["calico"][-1]
    kinds = summary["kinds"]
    pol = ca_row["policies"]
    print(f"{np_row['pods']} pods, {pol.get('NetworkPolicy', 0)} NetworkPolicies, "
          f"{summary['service_accounts']} ServiceAccounts (seed {args.seed}); + "
          f"{pol.get('GlobalNetworkPolicy', 0)} GlobalNetworkPolicies and "
          f"{pol.get('CalicoNetworkPolicy', 0)} Calico NetworkPolicies in "
          f"{kinds.get('Tier', 0)} Tiers, {kinds.get('GlobalNetworkSet', 0)} GlobalNetworkSets, "
          f"{kinds.get('NetworkSet', 0)} NetworkSets (written in {generated:.1f} s)")
    print(f"medians of {args.repeat} runs, each a fresh process, alternating after a warm-up")
    head = (f"{'input':<28} {'classes':>7} {'read s':>7} {'compile s':>9} {'read+comp s':>11} "
            f"{'cpu s':>6} {'RSS MB':>7}")
    if cli["np"]:
        head += f" {'list s':>7} {'list cpu':>8} {'list MB':>7} {'pairs':>6}"
    print(head)
    names = {"np": "NetworkPolicies only", "calico": "NetworkPolicies + Calico"}
    for key in ("np", "calico"):
        rows = runs[key]
        line = (f"{names[key]:<28} {rows[-1]['classes']:>7} {_med(rows, 'read'):>7.2f} "
                f"{_med(rows, 'compile'):>9.2f} {_med(rows, 'total'):>11.2f} "
                f"{_med(rows, 'cpu'):>6.2f} {_med(rows, 'peak_mb'):>7.0f}")
        if cli[key]:
            line += (f" {_med(cli[key], 'wall'):>7.2f} {_med(cli[key], 'cpu'):>8.2f} "
                     f"{_med(cli[key], 'peak_mb'):>7.0f} {listed[key]:>6}")
        print(line)
    parts = [f"{what} {statistics.median(_pair_ratios(runs, key)):.2f}x"
             for what, key in (("read+compile", "total"), ("read", "read"),
                               ("compile", "compile"), ("peak RSS", "peak_mb"))]
    if cli["np"]:
        lists = [c["wall"] / n["wall"] for n, c in zip(cli["np"], cli["calico"], strict=True)]
        parts.append(f"reach list {statistics.median(lists):.2f}x")
    print(f"ratios Calico / NetworkPolicy-only (median of {len(runs['np'])} pairs): "
          + ", ".join(parts))


if __name__ == "__main__":
    raise SystemExit(main())
