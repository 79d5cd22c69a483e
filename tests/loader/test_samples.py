"""The samples load, and carry what the scenarios promise."""

from __future__ import annotations

from pathlib import Path

from reach.loader import read_cluster

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SEED = SAMPLES / "seed"


def test_seed_cluster_is_the_scenario_of_the_notes():
    cluster = read_cluster(SEED / "cluster.yaml")
    pods = {p.ref: p for p in cluster.pods}
    assert pods["network-policy/client-1"].ips == ("192.168.134.72",)
    assert dict(pods["network-policy/client-1"].labels) == {"app": "client", "region": "us-east"}
    assert pods["network-policy/client-2"].ips == ("192.168.233.198",)
    assert dict(pods["network-policy/client-2"].labels) == {"app": "client", "region": "us-west"}
    server = pods["network-policy/server"]
    assert (server.ips, [(p.port, p.name) for p in server.ports]) == (
        ("192.168.55.10",), [(8888, "http")])
    assert {"kube-system/calico-node", "kube-system/calico-kube-controllers",
            "kube-system/calico-etcd"} <= set(pods)
    assert cluster.policies == () and cluster.diagnostics == ()


def test_seed_policy_states_load_one_by_one():
    for files, names in [
        ((), []),
        (("allow-us-east.yaml",), ["allow-us-east"]),
        (("block-one-ip.yaml",), ["block-one-ip"]),
    ]:
        cluster = read_cluster(SEED / "cluster.yaml", *(SEED / "policies" / f for f in files))
        assert [p.name for p in cluster.policies] == names
    both = read_cluster(SEED / "cluster.yaml", SEED / "policies")
    assert [p.name for p in both.policies] == ["allow-us-east", "block-one-ip"]


def test_shop_loads_without_warnings():
    cluster = read_cluster(SAMPLES / "shop")
    assert [d for d in cluster.diagnostics if d.severity != "info"] == []
    assert [ns.name for ns in cluster.namespaces] == [
        "ingress-nginx", "kube-system", "monitoring", "shop", "tools"]
    assert {w.ref for w in cluster.workloads} >= {
        "shop/web", "shop/api", "shop/worker", "shop/db", "shop/cache",
        "monitoring/prometheus", "ingress-nginx/ingress-nginx-controller",
        "kube-system/coredns", "kube-system/calico-node", "tools/debug"}
    assert [p.name for p in cluster.policies if p.namespace != "shop"] == []
    debug = next(s for s in cluster.services if s.ref == "tools/debug")
    assert (debug.type, debug.ports[0].node_port) == ("NodePort", 30080)
    (ingress,) = cluster.ingresses
    assert [(b.service, b.port) for b in ingress.backends] == [("web", 80)]
