"""Deterministic synthetic Kubernetes clusters for benchmarks and differential testing.

The shape imitates a real multi-team cluster dump (``kubectl get ns,pods,svc,netpol -o yaml``):

* namespaces labelled ``team`` / ``env`` (plus the automatic ``kubernetes.io/metadata.name``),
  with the platform namespaces ``kube-system`` (CoreDNS), ``monitoring`` (Prometheus) and
  ``ingress-nginx`` first;
* workloads (about ``pods / 10`` of them) labelled ``app`` / ``tier`` / ``version`` / ``team``,
  written as bare ``Pod`` documents that share their workload's labels and differ only by a
  unique name, a unique ``status.podIP`` (10.128.0.0/9, one /24 per node) and their node. By
  default pods carry ``ownerReferences`` to a ReplicaSet (``NAME-HASH``) or StatefulSet, as in
  a live cluster, so tools can group them by workload; ``owners=False`` leaves them ownerless.
  About 3% of the workloads are written as ``Deployment`` objects instead (their
  ``spec.replicas`` count towards ``pods``);
* containers declare named ports (``http``, ``grpc``, ``metrics``, ``postgres``, ``dns``...),
  with ``http`` meaning different numbers in different workloads;
* ``Service`` objects (ClusterIPs from 10.96.0.0/12) for the serving tiers;
* ``networking.k8s.io/v1`` NetworkPolicies mixing default-deny (ingress, or ingress+egress),
  DNS egress (UDP and TCP 53 to kube-dns), podSelector / namespaceSelector / combined peers,
  ``matchExpressions`` (In, NotIn, Exists, DoesNotExist), ``ipBlock`` with ``except``, port
  ranges with ``endPort``, named ports, egress-only policies and a few stale selectors.

Everything is drawn from ``random.Random(seed)``: the same arguments give byte-identical text.

Examples
--------
>>> import yaml
>>> text = generate(pods=40, namespaces=5, policies=12, seed=1)
>>> text == generate(pods=40, namespaces=5, policies=12, seed=1)
True
>>> docs = list(yaml.safe_load_all(text))
>>> kinds = [d["kind"] for d in docs]
>>> kinds.count("Namespace"), kinds.count("NetworkPolicy")
(5, 12)
>>> sum(1 for d in docs if d["kind"] == "Pod") + sum(
...     d["spec"]["replicas"] for d in docs if d["kind"] == "Deployment")
40

Command line::

    python benchmarks/generate.py --pods 10000 --namespaces 100 --policies 1000 --out DIR
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Generated", "build", "generate", "main", "write"]

Doc = dict[str, Any]

try:  # the C dumper is ~10x faster; fall back to the pure-Python one
    _Dumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Dumper = yaml.SafeDumper

TEAMS = (
    "payments", "checkout", "search", "identity", "catalog", "shipping", "billing",
    "analytics", "ml", "growth", "mobile", "ads", "support", "risk", "media",
)
ENVS = ("prod", "staging", "dev")
ENV_WEIGHTS = (5, 3, 2)

# tier -> (weight, candidate app names)
TIERS: dict[str, tuple[int, tuple[str, ...]]] = {
    "frontend": (15, ("web", "ui", "storefront", "portal", "admin-ui", "docs", "landing")),
    "backend": (45, ("api", "orders", "users", "inventory", "pricing", "cart", "auth",
                     "notifications", "recommendations", "gateway", "profile", "reviews",
                     "ledger", "fraud", "tax", "quotes", "sessions", "media-api")),
    "db": (10, ("postgres", "mysql", "mongo")),
    "cache": (8, ("redis", "memcached")),
    "worker": (17, ("worker", "scheduler", "indexer", "exporter", "consumer", "mailer",
                    "reconciler", "etl")),
    "queue": (5, ("rabbitmq", "kafka", "nats")),
}
STATEFUL_TIERS = ("db", "queue")
SERVED_TIERS = ("frontend", "backend", "db", "cache", "queue")
PLATFORM_NAMESPACES = ("kube-system", "monitoring", "ingress-nginx")
NS_NAME_LABEL = "kubernetes.io/metadata.name"
RFC1918_EXCEPT = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
PODS_PER_NODE = 60
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for suffixes


@dataclass
class Namespace:
    name: str
    team: str
    env: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return {NS_NAME_LABEL: self.name, "team": self.team, "env": self.env, **self.extra}


@dataclass
class Workload:
    namespace: Namespace
    name: str
    tier: str
    labels: dict[str, str]
    ports: list[list[dict[str, Any]]]  # per container
    replicas: int = 1
    kind: str = "Deployment"  # or StatefulSet, or Pod (platform singletons never)
    as_deployment: bool = False  # written as a Deployment object instead of Pods

    def named_ports(self) -> dict[str, int]:
        return {p["name"]: p["containerPort"] for c in self.ports for p in c if "name" in p}


@dataclass
class Generated:
    """The documents of one synthetic cluster, grouped by the file they are written to."""

    namespaces: list[Doc]
    workloads: list[Doc]
    services: list[Doc]
    policies: list[Doc]

    def files(self) -> dict[str, list[Doc]]:
        return {
            "namespaces.yaml": self.namespaces,
            "workloads.yaml": self.workloads,
            "services.yaml": self.services,
            "networkpolicies.yaml": self.policies,
        }

    def documents(self) -> Iterator[Doc]:
        for docs in self.files().values():
            yield from docs


def _dump(docs: list[Doc]) -> str:
    if not docs:
        return ""
    text: str = yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
    return text


# ---------------------------------------------------------------------------
# topology


def _port(name: str, number: int, protocol: str = "TCP") -> dict[str, Any]:
    return {"name": name, "containerPort": number, "protocol": protocol}


def _container_ports(rng: random.Random, tier: str, app: str) -> list[list[dict[str, Any]]]:
    """Container port lists (one list per container) for a workload of ``tier``."""
    if tier == "frontend":
        return [[_port("http", rng.choice((80, 3000, 8080, 8080))), _port("metrics", 9090)]]
    if tier == "backend":
        main = [_port("http", rng.choice((8080, 8080, 8000, 5000)))]
        if rng.random() < 0.4:
            main.append(_port("grpc", 9000))
        main.append(_port("metrics", 9090))
        return [main]
    if tier == "db":
        number, name = {"postgres": (5432, "postgres"), "mysql": (3306, "mysql"),
                        "mongo": (27017, "mongo")}.get(app.split("-")[0], (5432, "postgres"))
        return [[_port(name, number)], [_port("metrics", 9187)]]  # exporter sidecar
    if tier == "cache":
        number = 6379 if app.startswith("redis") else 11211
        return [[_port("cache", number)], [_port("metrics", 9121)]]
    if tier == "queue":
        number = {"rabbitmq": 5672, "kafka": 9092, "nats": 4222}.get(app.split("-")[0], 5672)
        return [[_port("amqp" if number == 5672 else "broker", number),
                 _port("metrics", 15692 if number == 5672 else 9308)]]
    # worker: metrics only, some with a statsd UDP port, some with no ports at all
    if rng.random() < 0.15:
        return [[]]
    ports = [_port("metrics", 9090)]
    if rng.random() < 0.3:
        ports.append(_port("statsd", 8125, "UDP"))
    return [ports]


def _make_namespaces(rng: random.Random, count: int) -> tuple[list[Namespace], list[Namespace]]:
    n_platform = min(len(PLATFORM_NAMESPACES), max(count - 1, 1))
    platform = [Namespace(name, "platform", "prod") for name in PLATFORM_NAMESPACES[:n_platform]]
    for ns in platform:
        if ns.name == "monitoring":
            ns.extra["purpose"] = "monitoring"
        elif ns.name == "ingress-nginx":
            ns.extra["purpose"] = "ingress"
    combos = [(t, e) for t in TEAMS for e in ENVS]
    rng.shuffle(combos)
    apps: list[Namespace] = []
    seen: dict[str, int] = {}
    for i in range(count - n_platform):
        team, env = combos[i % len(combos)]
        if i >= len(combos):  # past one namespace per (team, env): draw env by weight
            env = rng.choices(ENVS, ENV_WEIGHTS)[0]
        base = f"{team}-{env}"
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base}-{seen[base]}"
        ns = Namespace(name, team, env)
        if rng.random() < 0.3:
            ns.extra["istio-injection"] = "enabled"
        if env == "prod" and rng.random() < 0.5:
            ns.extra["compliance"] = rng.choice(("pci", "sox", "none"))
        apps.append(ns)
    return platform, apps


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``parts`` positive integers summing to ``total`` (>= parts), skewed like real replicas."""
    weights = [rng.lognormvariate(0.0, 0.8) for _ in range(parts)]
    spare = total - parts
    scale = spare / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for _ in range(total - sum(counts)):
        counts[rng.randrange(parts)] += 1
    return counts


def _platform_workloads(platform: list[Namespace]) -> list[Workload]:
    out: list[Workload] = []
    for ns in platform:
        if ns.name == "kube-system":
            out.append(Workload(
                ns, "coredns", "dns",
                {"k8s-app": "kube-dns", "app": "coredns", "tier": "platform"},
                [[_port("dns", 53, "UDP"), _port("dns-tcp", 53, "TCP"),
                  _port("metrics", 9153)]],
                replicas=2,
            ))
        elif ns.name == "monitoring":
            out.append(Workload(
                ns, "prometheus", "monitoring",
                {"app": "prometheus", "tier": "platform", "team": "platform"},
                [[_port("web", 9090)]], replicas=1, kind="StatefulSet",
            ))
        elif ns.name == "ingress-nginx":
            out.append(Workload(
                ns, "ingress-nginx-controller", "ingress",
                {"app.kubernetes.io/name": "ingress-nginx",
                 "app.kubernetes.io/component": "controller", "tier": "platform"},
                [[_port("http", 80), _port("https", 443), _port("metrics", 10254)]],
                replicas=2,
            ))
    return out


def _app_workloads(
    rng: random.Random, namespaces: list[Namespace], pods: int
) -> list[Workload]:
    if pods <= 0:
        return []
    count = max(1, min(pods, round(pods / 10)))
    replicas = _split(rng, pods, count)
    # skewed namespace sizes; every namespace gets one workload first while there are enough
    ns_weights = [rng.lognormvariate(0.0, 0.7) for _ in namespaces]
    homes = list(range(min(count, len(namespaces))))
    homes += rng.choices(range(len(namespaces)), ns_weights, k=count - len(homes))
    tiers = list(TIERS)
    tier_weights = [TIERS[t][0] for t in tiers]
    used: dict[str, set[str]] = {}
    app_ports: dict[tuple[str, str], list[list[dict[str, Any]]]] = {}
    out: list[Workload] = []
    for i, home in enumerate(homes):
        ns = namespaces[home]
        tier = rng.choices(tiers, tier_weights)[0]
        app = rng.choice(TIERS[tier][1])
        taken = used.setdefault(ns.name, set())
        version = "v1" if rng.random() < 0.75 else rng.choice(("v2", "v3"))
        name = app
        canary = name in taken and tier in ("frontend", "backend") and rng.random() < 0.5
        if canary:
            name = f"{app}-canary"  # same app label, different workload and version
            version = "canary"
        n = 2
        base = name
        while name in taken:
            name = f"{base}-{n}"
            n += 1
        taken.add(name)
        labels = {"app": app if canary else name, "tier": tier, "version": version,
                  "team": ns.team}
        if tier == "frontend":
            labels["exposed"] = "true"
        kind = "StatefulSet" if tier in STATEFUL_TIERS else "Deployment"
        ports = _container_ports(rng, tier, app)
        if canary:  # a canary runs the stable image's ports (its Service selects both)
            ports = _copy(app_ports.get((ns.name, app), ports))
        app_ports.setdefault((ns.name, labels["app"]), ports)
        w = Workload(ns, name, tier, labels, ports, replicas[i], kind)
        w.as_deployment = kind == "Deployment" and rng.random() < 0.03
        out.append(w)
    return out


class _Addresses:
    """Pod IPs: node k owns 10.(128 + k // 256).(k % 256).0/24; pods take .2 upwards."""

    def __init__(self, rng: random.Random, pods: int) -> None:
        self.rng = rng
        self.nodes = max(1, math.ceil(pods / PODS_PER_NODE))
        self.used = [0] * self.nodes

    def take(self) -> tuple[str, str, str]:
        node = self.rng.randrange(self.nodes)
        while self.used[node] >= 250:
            node = (node + 1) % self.nodes
        slot = self.used[node] + 2
        self.used[node] += 1
        pod_ip = f"10.{128 + node // 256}.{node % 256}.{slot}"
        host_ip = f"10.0.{node // 256}.{node % 256 + 0}"
        return f"node-{node}", host_ip, pod_ip


def _suffix(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(HASH_ALPHABET) for _ in range(n))


def _containers(w: Workload) -> list[Doc]:
    out: list[Doc] = []
    for i, ports in enumerate(w.ports):
        c: Doc = {
            "name": w.name if i == 0 else "exporter",
            "image": f"registry.example.com/{w.namespace.team}/{w.labels.get('app', w.name)}:"
                     f"1.{len(w.name) % 7}.{i}",
        }
        if ports:
            c["ports"] = [dict(p) for p in ports]
        out.append(c)
    return out


def _workload_docs(
    rng: random.Random, workloads: list[Workload], addresses: _Addresses, owners: bool
) -> list[Doc]:
    docs: list[Doc] = []
    for w in workloads:
        ns = w.namespace.name
        if w.as_deployment:
            docs.append({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": w.name, "namespace": ns, "labels": dict(w.labels)},
                "spec": {
                    "replicas": w.replicas,
                    "selector": {"matchLabels": {
                        k: v for k, v in w.labels.items() if k in ("app", "version")
                    } or dict(w.labels)},
                    "template": {
                        "metadata": {"labels": dict(w.labels)},
                        "spec": {"containers": _containers(w)},
                    },
                },
            })
            continue
        labels = dict(w.labels)
        template_hash = _suffix(rng, 10)
        owner: Doc
        if w.kind == "StatefulSet":
            labels["controller-revision-hash"] = f"{w.name}-{template_hash}"
            owner = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": w.name}
        else:
            labels["pod-template-hash"] = template_hash
            owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                     "name": f"{w.name}-{template_hash}"}
        owner.update({"uid": f"{_suffix(rng, 8)}-{_suffix(rng, 4)}-{_suffix(rng, 12)}",
                      "controller": True, "blockOwnerDeletion": True})
        taken: set[str] = set()
        for r in range(w.replicas):
            if w.kind == "StatefulSet":
                name = f"{w.name}-{r}"
            else:
                name = f"{w.name}-{template_hash}-{_suffix(rng, 5)}"
                while name in taken:
                    name = f"{w.name}-{template_hash}-{_suffix(rng, 5)}"
            taken.add(name)
            node, host_ip, pod_ip = addresses.take()
            meta: Doc = {"name": name, "namespace": ns, "labels": dict(labels)}
            if owners:
                meta["ownerReferences"] = [dict(owner)]
            docs.append({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": meta,
                "spec": {"nodeName": node, "containers": _containers(w)},
                "status": {"phase": "Running", "hostIP": host_ip, "podIP": pod_ip,
                           "podIPs": [{"ip": pod_ip}]},
            })
    return docs


def _service_docs(workloads: list[Workload]) -> list[Doc]:
    docs: list[Doc] = []
    net = ipaddress.IPv4Network("10.96.0.0/12")
    next_ip = 10
    for w in workloads:
        if w.tier not in SERVED_TIERS and w.name not in ("coredns", "ingress-nginx-controller"):
            continue
        ports: list[Doc] = []
        for c in w.ports:
            for p in c:
                if p["name"] == "metrics":
                    continue
                service_port = 80 if p["name"] == "http" else p["containerPort"]
                ports.append({"name": p["name"], "port": service_port,
                              "targetPort": p["name"], "protocol": p["protocol"]})
        if not ports:
            continue
        selector = {k: v for k, v in w.labels.items() if k in ("app", "k8s-app", "version")
                    or k.startswith("app.kubernetes.io/")}
        if w.labels.get("version") == "canary":
            continue  # the stable workload's Service (app=...) already covers the canary
        selector.pop("version", None)
        name = "kube-dns" if w.name == "coredns" else w.name
        spec: Doc = {"type": "ClusterIP", "clusterIP": str(net[next_ip]),
                     "selector": selector, "ports": ports}
        next_ip += 1
        if w.name == "ingress-nginx-controller":
            spec["type"] = "LoadBalancer"
        docs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": name, "namespace": w.namespace.name},
                     "spec": spec})
    return docs


def _namespace_docs(namespaces: list[Namespace]) -> list[Doc]:
    return [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": ns.name, "labels": ns.labels}} for ns in namespaces]


# ---------------------------------------------------------------------------
# policies


def _ml(**labels: str) -> Doc:
    return {"matchLabels": dict(labels)}


def _ns_by_name(name: str) -> Doc:
    return {"matchLabels": {NS_NAME_LABEL: name}}


def _policy(ns: str, name: str, spec: Doc) -> Doc:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


DNS_EGRESS: Doc = {
    "to": [{"namespaceSelector": _ns_by_name("kube-system"),
            "podSelector": _ml(**{"k8s-app": "kube-dns"})}],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def _baseline(rng: random.Random, apps: list[Namespace]) -> list[tuple[str, str, Doc]]:
    """Per-namespace default-deny policies (and the DNS egress that egress-deny needs)."""
    out: list[tuple[str, str, Doc]] = []
    for ns in apps:
        roll = rng.random()
        if roll < 0.2:
            continue  # an open namespace
        if (ns.env == "prod" and roll < 0.65) or roll < 0.35:
            out.append((ns.name, "default-deny-all",
                        {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}))
            out.append((ns.name, "allow-dns-egress",
                        {"podSelector": {}, "policyTypes": ["Egress"],
                         "egress": [_copy(DNS_EGRESS)]}))
        else:
            out.append((ns.name, "default-deny-ingress",
                        {"podSelector": {}, "policyTypes": ["Ingress"]}))
    return out


def _copy(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _copy(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_copy(v) for v in doc]
    return doc


def _without_key_operators(exprs: list[Doc]) -> list[Doc]:
    """The same selection without Exists/DoesNotExist, for labels of this generator.

    NCA 2.1.0 evaluates a podSelector's Exists/DoesNotExist in the policy's own namespace
    even when the peer also has a namespaceSelector (see benchmarks/README.md).
    """
    out: list[Doc] = []
    for e in exprs:
        if e["operator"] == "Exists" and e["key"] == "exposed":
            out.append({"key": "exposed", "operator": "In", "values": ["true"]})
        elif e["operator"] == "DoesNotExist" and e["key"] == "exposed":
            out.append({"key": "exposed", "operator": "NotIn", "values": ["true"]})
        elif e["operator"] == "Exists" and e["key"] == "app":
            continue  # paired with "tier NotIn [...]", which alone still selects
        else:
            out.append(e)
    return out


class _PolicyMaker:
    """Draws one per-workload policy at a time from a weighted mix of realistic templates."""

    def __init__(self, rng: random.Random, workloads: list[Workload],
                 namespaces: list[Namespace], nca_compatible: bool = False) -> None:
        self.rng = rng
        self.nca_compatible = nca_compatible
        self.apps = [w for w in workloads if w.tier in TIERS]
        self.by_ns: dict[str, list[Workload]] = {}
        for w in self.apps:
            self.by_ns.setdefault(w.namespace.name, []).append(w)
        self.ns_names = {ns.name for ns in namespaces}
        self.teams = sorted({ns.team for ns in namespaces if ns.team != "platform"}) or ["x"]
        self.names: dict[str, int] = {}
        self.templates = [
            (self.from_same_namespace_pods, 16),
            (self.from_team_namespaces, 10),
            (self.from_namespace_and_pods, 10),
            (self.match_expressions, 10),
            (self.from_monitoring, 10),
            (self.from_ingress_controller, 5),
            (self.from_ip_block, 6),
            (self.port_range, 5),
            (self.egress_only, 12),
            (self.ingress_and_egress, 8),
            (self.open_port, 4),
            (self.stale_selector, 2),
            (self.udp_statsd, 2),
        ]

    def unique(self, ns: str, name: str) -> str:
        key = f"{ns}/{name}"
        n = self.names.get(key, 0) + 1
        self.names[key] = n
        return name if n == 1 else f"{name}-{n}"

    def make(self) -> Doc:
        w = self.rng.choice(self.apps)
        funcs, weights = zip(*self.templates, strict=True)
        func = self.rng.choices(funcs, weights)[0]
        suffix, spec = func(w)
        ns = w.namespace.name
        return _policy(ns, self.unique(ns, f"{w.name}-{suffix}"), spec)

    # -- helpers ------------------------------------------------------------

    def target(self, w: Workload) -> Doc:
        roll = self.rng.random()
        if roll < 0.75:
            return _ml(app=w.labels["app"])
        if roll < 0.9:
            return _ml(app=w.labels["app"], tier=w.tier)
        return {"matchLabels": {"app": w.labels["app"]},
                "matchExpressions": [{"key": "version", "operator": "In",
                                      "values": sorted({w.labels["version"], "v1", "v2"})}]}

    def serving_port(self, w: Workload) -> Doc:
        """A port of ``w``: by name (most of the time) or by number."""
        named = w.named_ports()
        choices = [n for n in named if n != "metrics"] or list(named)
        if not choices:
            return {"protocol": "TCP", "port": 8080}
        name = self.rng.choice(choices)
        protocol = next(p["protocol"] for c in w.ports for p in c if p.get("name") == name)
        if self.rng.random() < 0.6:
            return {"protocol": protocol, "port": name}
        return {"protocol": protocol, "port": named[name]}

    def other(self, w: Workload, same_namespace: bool) -> Workload:
        pool = self.by_ns.get(w.namespace.name, []) if same_namespace else self.apps
        pool = [x for x in pool if x is not w] or [w]
        return self.rng.choice(pool)

    # -- templates ------------------------------------------------------------

    def from_same_namespace_pods(self, w: Workload) -> tuple[str, Doc]:
        peers: list[Doc] = []
        for _ in range(self.rng.choice((1, 1, 2))):
            caller = self.other(w, True)
            peers.append({"podSelector": _ml(app=caller.labels["app"])})
        if self.rng.random() < 0.3:
            peers.append({"podSelector": _ml(tier="frontend")})
        return "allow-callers", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": peers, "ports": [self.serving_port(w)]}],
        }

    def from_team_namespaces(self, w: Workload) -> tuple[str, Doc]:
        team = self.rng.choice(self.teams)
        peer: Doc = {"namespaceSelector": _ml(team=team)}
        if self.rng.random() < 0.4:
            peer = {"namespaceSelector": _ml(team=team, env=w.namespace.env)}
        return f"allow-team-{team}", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [peer], "ports": [self.serving_port(w)]}],
        }

    def from_namespace_and_pods(self, w: Workload) -> tuple[str, Doc]:
        caller = self.other(w, False)
        if self.rng.random() < 0.5:
            ns_sel = _ns_by_name(caller.namespace.name)
        else:
            ns_sel = _ml(env=caller.namespace.env)
        # both selectors in ONE peer: pods matching app=... in namespaces matching ns_sel
        peer = {"namespaceSelector": ns_sel, "podSelector": _ml(app=caller.labels["app"])}
        ports = [self.serving_port(w)]
        if self.rng.random() < 0.3:
            ports.append({"protocol": "TCP", "port": 9000})
        return f"allow-{caller.labels['app']}", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [peer], "ports": ports}],
        }

    def match_expressions(self, w: Workload) -> tuple[str, Doc]:
        rng = self.rng
        pod_exprs = rng.choice((
            [{"key": "tier", "operator": "In", "values": ["backend", "frontend"]}],
            [{"key": "tier", "operator": "NotIn", "values": ["db", "cache"]},
             {"key": "app", "operator": "Exists"}],
            [{"key": "exposed", "operator": "Exists"}],
            [{"key": "version", "operator": "NotIn", "values": ["canary"]},
             {"key": "team", "operator": "In", "values": sorted(
                 {w.labels["team"], rng.choice(self.teams)})}],
            [{"key": "exposed", "operator": "DoesNotExist"},
             {"key": "tier", "operator": "In", "values": ["worker"]}],
        ))
        peer: Doc = {"podSelector": {"matchExpressions": pod_exprs}}
        roll = rng.random()
        if roll < 0.4:
            peer["namespaceSelector"] = {"matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "staging"]}]}
        elif roll < 0.6:
            peer["namespaceSelector"] = {"matchExpressions": [
                {"key": "istio-injection", "operator": "Exists"},
                {"key": "team", "operator": "NotIn", "values": ["ads"]}]}
        elif roll < 0.7:
            peer["namespaceSelector"] = {"matchExpressions": [
                {"key": "compliance", "operator": "DoesNotExist"}]}
        if self.nca_compatible and "namespaceSelector" in peer:
            peer["podSelector"]["matchExpressions"] = _without_key_operators(pod_exprs)
        return "allow-selected", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [peer], "ports": [self.serving_port(w)]}],
        }

    def from_monitoring(self, w: Workload) -> tuple[str, Doc]:
        peer = {"namespaceSelector": _ns_by_name("monitoring"),
                "podSelector": _ml(app="prometheus")}
        if self.rng.random() < 0.3:
            peer = {"namespaceSelector": _ml(purpose="monitoring")}
        port: Doc = {"protocol": "TCP", "port": "metrics"}
        if self.rng.random() < 0.2:
            port = {"protocol": "TCP", "port": 9090}
        return "allow-metrics-scrape", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [peer], "ports": [port]}],
        }

    def from_ingress_controller(self, w: Workload) -> tuple[str, Doc]:
        peer = {"namespaceSelector": _ns_by_name("ingress-nginx"),
                "podSelector": _ml(**{"app.kubernetes.io/name": "ingress-nginx"})}
        return "allow-ingress-controller", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [peer], "ports": [self.serving_port(w)]}],
        }

    def from_ip_block(self, w: Workload) -> tuple[str, Doc]:
        block = self.rng.choice((
            {"cidr": "192.168.0.0/16", "except": ["192.168.100.0/24", "192.168.200.0/22"]},
            {"cidr": "172.16.0.0/12", "except": ["172.20.0.0/16"]},
            # inside the pod range: matches pods too where the CNI applies ipBlocks to pods
            {"cidr": "10.128.0.0/16", "except": ["10.128.64.0/18"]},
            {"cidr": "0.0.0.0/0", "except": list(RFC1918_EXCEPT)},
            {"cidr": "203.0.113.0/24"},
        ))
        ports = [self.rng.choice(({"protocol": "TCP", "port": 443},
                                  {"protocol": "TCP", "port": 8443}, self.serving_port(w)))]
        return "allow-from-cidr", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": block}], "ports": ports}],
        }

    def port_range(self, w: Workload) -> tuple[str, Doc]:
        lo, hi = self.rng.choice(((30000, 32767), (8000, 8099), (9000, 9100), (5000, 5010)))
        peer = self.rng.choice(({"podSelector": {}},
                                {"namespaceSelector": _ml(env=w.namespace.env)}))
        return "allow-port-range", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [peer],
                         "ports": [{"protocol": "TCP", "port": lo, "endPort": hi}]}],
        }

    def egress_rules(self, w: Workload) -> list[Doc]:
        rules: list[Doc] = []
        deps = [self.other(w, self.rng.random() < 0.7) for _ in range(self.rng.choice((1, 2)))]
        for dep in deps:
            to: Doc = {"podSelector": _ml(app=dep.labels["app"])}
            if dep.namespace is not w.namespace:
                to["namespaceSelector"] = _ns_by_name(dep.namespace.name)
            rules.append({"to": [to], "ports": [self.serving_port(dep)]})
        roll = self.rng.random()
        if roll < 0.4:
            rules.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                              "except": list(RFC1918_EXCEPT)}}],
                          "ports": [{"protocol": "TCP", "port": 443}]})
        elif roll < 0.6:
            rules.append({"to": [{"ipBlock": {"cidr": "52.94.0.0/16"}},
                                 {"ipBlock": {"cidr": "172.31.0.0/16",
                                              "except": ["172.31.255.0/24"]}}],
                          "ports": [{"protocol": "TCP", "port": 443},
                                    {"protocol": "TCP", "port": 5432}]})
        if self.rng.random() < 0.7:
            rules.append(_copy(DNS_EGRESS))
        return rules

    def egress_only(self, w: Workload) -> tuple[str, Doc]:
        return "egress", {
            "podSelector": self.target(w),
            "policyTypes": ["Egress"],
            "egress": self.egress_rules(w),
        }

    def ingress_and_egress(self, w: Workload) -> tuple[str, Doc]:
        caller = self.other(w, True)
        return "netpol", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": [{"podSelector": _ml(app=caller.labels["app"])}],
                 "ports": [self.serving_port(w)]},
                {"from": [{"namespaceSelector": _ns_by_name("monitoring")}],
                 "ports": [{"protocol": "TCP", "port": "metrics"}]},
            ],
            "egress": self.egress_rules(w),
        }

    def open_port(self, w: Workload) -> tuple[str, Doc]:
        # a rule without "from": every source, on these ports only
        return "allow-all-on-port", {
            "podSelector": self.target(w),
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [self.serving_port(w)]}],
        }

    def stale_selector(self, w: Workload) -> tuple[str, Doc]:
        # selects nothing any more: a policy left behind by a removed workload
        return "legacy", {
            "podSelector": _ml(app=f"{w.labels['app']}-legacy"),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": _ml(app="decommissioned")}],
                         "ports": [{"protocol": "TCP", "port": 8080}]}],
        }

    def udp_statsd(self, w: Workload) -> tuple[str, Doc]:
        caller = self.other(w, True)
        return "allow-statsd", {
            "podSelector": _ml(app=caller.labels["app"]),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["worker", "backend"]}]}}],
                "ports": [{"protocol": "UDP", "port": 8125}]}],
        }


def _policy_docs(
    rng: random.Random, policies: int, workloads: list[Workload],
    platform: list[Namespace], apps: list[Namespace], nca_compatible: bool = False,
) -> list[Doc]:
    if policies <= 0:
        return []
    baseline = _baseline(rng, apps)
    n_base = min(len(baseline), math.ceil(policies * 0.25))
    if n_base and baseline[n_base - 1][1] == "default-deny-all":
        n_base -= 1  # never a deny-all without its DNS allowance
    docs = [_policy(ns, name, spec) for ns, name, spec in baseline[:n_base]]
    maker = _PolicyMaker(rng, workloads, platform + apps, nca_compatible)
    for ns, name, _ in baseline[:n_base]:
        maker.unique(ns, name)
    if not maker.apps:  # no application workload to write policies for: more baseline
        extra = [_policy(ns.name, f"default-deny-ingress-{i}",
                         {"podSelector": {}, "policyTypes": ["Ingress"]})
                 for i in range(policies - len(docs)) for ns in (platform + apps)[:1]]
        return docs + extra
    while len(docs) < policies:
        docs.append(maker.make())
    return docs


# ---------------------------------------------------------------------------
# public API


def build(
    pods: int = 10000,
    namespaces: int = 100,
    policies: int = 1000,
    seed: int = 0,
    *,
    owners: bool = True,
    nca_compatible: bool = False,
    deployments: bool = False,
) -> Generated:
    """The documents of a synthetic cluster (see the module docstring for its shape).

    ``pods`` counts Pod documents plus the replicas of the few Deployment objects;
    ``namespaces`` includes the platform ones; ``policies`` is the exact number of
    NetworkPolicies. ``owners=False`` writes pods without ``ownerReferences``.
    ``nca_compatible=True`` avoids the one construct NCA 2.1.0 gets wrong (a podSelector
    ``Exists``/``DoesNotExist`` next to a namespaceSelector) and changes nothing else.
    ``deployments=True`` writes every Deployment-kind workload as one Deployment object
    (its replicas as ``spec.replicas``) instead of its Pods.
    """
    if pods < 1 or namespaces < 1 or policies < 0:
        raise ValueError("need pods >= 1, namespaces >= 1 and policies >= 0")
    rng = random.Random(seed)
    platform, apps = _make_namespaces(rng, namespaces)
    system = _platform_workloads(platform)
    system_pods = sum(w.replicas for w in system)
    while system and system_pods > pods // 2:  # tiny clusters: drop platform pods first
        system_pods -= system.pop().replicas
    workloads = system + _app_workloads(rng, apps or platform, pods - system_pods)
    if deployments:
        for w in workloads:
            w.as_deployment = w.as_deployment or w.kind == "Deployment"
    addresses = _Addresses(rng, pods)
    return Generated(
        namespaces=_namespace_docs(platform + apps),
        workloads=_workload_docs(rng, workloads, addresses, owners),
        services=_service_docs(workloads),
        policies=_policy_docs(rng, policies, workloads, platform, apps, nca_compatible),
    )


def generate(
    pods: int = 10000,
    namespaces: int = 100,
    policies: int = 1000,
    seed: int = 0,
    *,
    owners: bool = True,
    nca_compatible: bool = False,
) -> str:
    """The whole synthetic cluster as one multi-document YAML text (deterministic in ``seed``)."""
    g = build(pods, namespaces, policies, seed, owners=owners, nca_compatible=nca_compatible)
    return "---\n".join(text for text in map(_dump, g.files().values()) if text)


def write(
    folder: str | Path,
    pods: int = 10000,
    namespaces: int = 100,
    policies: int = 1000,
    seed: int = 0,
    *,
    owners: bool = True,
    nca_compatible: bool = False,
    deployments: bool = False,
) -> list[Path]:
    """Write the cluster into ``folder`` (created if needed) as four YAML files; return them.

    The files are ``namespaces.yaml``, ``workloads.yaml`` (Pods and Deployments),
    ``services.yaml`` and ``networkpolicies.yaml``; the options are :func:`build`'s.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    g = build(pods, namespaces, policies, seed, owners=owners, nca_compatible=nca_compatible,
              deployments=deployments)
    paths: list[Path] = []
    for name, docs in g.files().items():
        path = out / name
        path.write_text(_dump(docs), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--namespaces", type=int, default=100)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-owners", action="store_true",
                        help="write pods without ownerReferences (each pod its own workload)")
    parser.add_argument("--nca-compatible", action="store_true",
                        help="avoid the construct NCA 2.1.0 evaluates wrongly (see README)")
    parser.add_argument("--out", help="folder to write the YAML files into (default: stdout)")
    args = parser.parse_args(argv)
    kwargs = {"pods": args.pods, "namespaces": args.namespaces, "policies": args.policies,
              "seed": args.seed, "owners": not args.no_owners,
              "nca_compatible": args.nca_compatible}
    if args.out:
        for path in write(args.out, **kwargs):
            print(path)
    else:
        sys.stdout.write(generate(**kwargs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
