"""A small shop built from model objects, so the renderer tests need no loader; and the
synthetic clusters of ``benchmarks/generate.py`` at the sizes diagrams must cope with."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from reach.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    IPBlock,
    Labels,
    LabelSelector,
    Namespace,
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Rule,
)
from reach.network import Network


def _ns(name: str, **labels: str) -> Namespace:
    return Namespace(name, Labels({NAMESPACE_NAME_LABEL: name, **labels}))


def _pods(ns: str, workload: str, n: int, port: int, kind: str = "Deployment",
          **labels: str) -> list[Pod]:
    return [
        Pod(ns, f"{workload}-{i}", Labels({"app": workload, **labels}),
            ports=(ContainerPort(port, name="http"),), owner_kind=kind, owner_name=workload,
            ips=(f"10.0.{len(ns)}.{i + 10 * len(workload)}",))
        for i in range(n)
    ]


def _select(**labels: str) -> LabelSelector:
    return LabelSelector(Labels(labels))


def _allow_from(ns: str, name: str, target: str, port: int, *peers: Peer) -> Policy:
    rule = Rule("ingress", 0, peers=peers, ports=(PolicyPort("TCP", port),))
    return Policy(ns, name, _select(app=target), ("Ingress",), ingress=(rule,))


def small_shop() -> Cluster:
    pods = [
        *_pods("shop", "web", 3, 8080),
        *_pods("shop", "api", 2, 9090),
        *_pods("shop", "db", 1, 5432, kind="StatefulSet"),
        *_pods("shop", "worker", 4, 7000),
        *_pods("monitoring", "prometheus", 1, 9090),
        *_pods("payments", "gateway", 2, 8443),
    ]
    deny = Policy("shop", "default-deny", LabelSelector(), ("Ingress",))
    policies = (
        deny,
        _allow_from("shop", "web-from-anywhere", "web", 8080,
                    Peer(ip_block=IPBlock("0.0.0.0/0", ("10.0.0.0/8",)))),
        _allow_from("shop", "api-from-web", "api", 9090, Peer(pod_selector=_select(app="web"))),
        _allow_from("shop", "db-from-api", "db", 5432, Peer(pod_selector=_select(app="api"))),
        _allow_from("payments", "gateway-from-shop", "gateway", 8443,
                    Peer(namespace_selector=_select(team="shop"), pod_selector=_select(app="api"))),
        Policy("payments", "deny-rest", LabelSelector(), ("Ingress",)),
    )
    return Cluster(
        namespaces=(_ns("monitoring"), _ns("payments"), _ns("shop", team="shop")),
        pods=tuple(sorted(pods, key=lambda p: (p.namespace, p.name))),
        policies=policies,
    )


@pytest.fixture(scope="session")
def shop_net() -> Network:
    return Network(small_shop())


ROOT = Path(__file__).resolve().parents[2]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def synthetic(tmp: Path, pods: int, namespaces: int, policies: int) -> Network:
    """A cluster from ``benchmarks/generate.py``, loaded as a user would (seed 0)."""
    import reach

    folder = tmp / f"c{pods}-{namespaces}-{policies}"
    _generator().write(folder, pods=pods, namespaces=namespaces, policies=policies, seed=0)
    return reach.load(folder)


@pytest.fixture(scope="session")
def thirty_workloads(tmp_path_factory: pytest.TempPathFactory) -> Network:
    """About 30 workloads in 20 namespaces (300 pods, 30 policies)."""
    return synthetic(tmp_path_factory.mktemp("synthetic"), 300, 20, 30)


@pytest.fixture(scope="session")
def two_hundred_workloads(tmp_path_factory: pytest.TempPathFactory) -> Network:
    """About 200 workloads in 20 namespaces (2,000 pods, 200 policies)."""
    return synthetic(tmp_path_factory.mktemp("synthetic"), 2000, 20, 200)
