"""The analysed network: endpoint references and connection lists at every granularity."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import per_atom
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import clusters

from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.errors import UnknownEndpoint
from reach.model import Cluster, Labels, Pod
from reach.network import Network


def _with_owners(cluster: Cluster, owners: list[int]) -> Cluster:
    pods = tuple(
        replace(pod, owner_kind="Deployment", owner_name=f"w{owner}") if owner else pod
        for pod, owner in zip(cluster.pods, owners, strict=False)
    )
    return replace(cluster, pods=pods)


def _expected(net: Network, by: str) -> dict[tuple[Endpoint, Endpoint], PortSet]:
    """Pair by pair over pods: what any pod of one endpoint may send to any of another."""
    def end(pod: Pod) -> Endpoint:
        if by == "workload":
            return Endpoint(pod.workload_kind, pod.namespace, pod.workload_name)
        return Endpoint("Namespace", "", pod.namespace)

    c = net.compiled
    out: dict[tuple[Endpoint, Endpoint], PortSet] = {}
    outside = [Endpoint.external(lo, hi) for lo, hi in c.externals]
    for i, a in enumerate(net.pods):
        for j, b in enumerate(net.pods):
            if i == j or (end(a) == end(b) and by != "namespace"):
                continue  # a namespace lists the traffic between its own pods
            key = (end(a), end(b))
            out[key] = out.get(key, PortSet.none()) | c.pod_ports(i, j)
        for e, ext in enumerate(outside):
            column = c.n_classes + e
            cls = int(c.pod_class[i])
            key = (end(a), ext)
            out[key] = out.get(key, PortSet.none()) | c.column_ports(cls, column)
            key = (ext, end(a))
            out[key] = out.get(key, PortSet.none()) | c.column_ports(column, cls)
    return {k: v for k, v in out.items() if v}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cluster=clusters(),
    owners=st.lists(st.integers(0, 2), min_size=6, max_size=6),
    by=st.sampled_from(["workload", "namespace"]),
    ipblock_pods=st.booleans(),
)
def test_grouped_connections_are_the_union_over_their_pods(
    cluster: Cluster, owners: list[int], by: str, ipblock_pods: bool
) -> None:
    net = Network(_with_owners(cluster, owners), ipblock_pods=ipblock_pods)
    listed = per_atom(net.connections(by=by), net.compiled)  # type: ignore[arg-type]
    assert listed == _expected(net, by)


def test_connections_are_sorted_like_upstream_connlists() -> None:
    pods = tuple(Pod("ns", name) for name in ("b", "a-b", "a"))
    lines = [str(c) for c in Network(Cluster(pods=pods)).connections(by="pod")]
    assert lines == sorted(lines)
    assert len(lines) == 6 + 6  # every ordered pod pair, and each pod with the outside


def test_unknown_granularity_is_refused() -> None:
    with pytest.raises(ValueError, match="by must be one of"):
        Network(Cluster()).connections(by="cluster")  # type: ignore[arg-type]


NET = Network(
    Cluster(
        pods=(
            Pod("shop", "web", Labels({"app": "web"}), owner_kind="Deployment", owner_name="web"),
            Pod("shop", "web-7d9-abc", Labels({"app": "web"}), owner_kind="Deployment",
                owner_name="web"),
            Pod("shop", "db", Labels({"app": "db"}), owner_kind="StatefulSet", owner_name="db",
                ips=("10.0.0.7",)),
            Pod("shop", "cache", owner_kind="Deployment", owner_name="redis"),
            Pod("shop", "cache", owner_kind="StatefulSet", owner_name="cache"),
        )
    )
)


@pytest.mark.parametrize(
    ("reference", "kind", "name", "count"),
    [
        ("shop/web", "Deployment", "web", 2),
        ("shop/deploy/web", "Deployment", "web", 2),
        ("shop/deployment/web", "Deployment", "web", 2),
        ("shop/pod/web-7d9-abc", "Pod", "web-7d9-abc", 1),
        ("shop/web-7d9-abc", "Pod", "web-7d9-abc", 1),
        ("shop/sts/db", "StatefulSet", "db", 1),
        ("10.0.0.7", "Pod", "db", 1),
    ],
)
def test_references_resolve_to_pods_and_workloads(
    reference: str, kind: str, name: str, count: int
) -> None:
    found = NET.resolve(reference)
    assert (found.endpoint.kind, found.endpoint.name, len(found.pods)) == (kind, name, count)


def test_an_address_outside_every_pod_is_an_external_endpoint() -> None:
    found = NET.resolve("8.8.8.8")
    assert found.endpoint.kind == "External" and found.pods == () and found.address is not None


def test_an_ambiguous_name_lists_the_candidates() -> None:
    with pytest.raises(UnknownEndpoint) as info:
        NET.resolve("shop/cache")
    assert "ambiguous" in str(info.value)
    assert "shop/Deployment/redis" not in info.value.candidates  # named cache, not redis
    assert set(info.value.candidates) >= {"shop/Pod/cache", "shop/StatefulSet/cache"}


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("shop/nothing", 'nothing called "nothing" in namespace "shop"'),
        ("shop/svcx/web", 'unknown kind "svcx"'),
        ("web", "expected NAMESPACE/NAME"),
        ("shop/deploy/db", 'no Deployment "db" in namespace "shop"'),
    ],
)
def test_unknown_references_say_what_is_wrong(reference: str, message: str) -> None:
    with pytest.raises(UnknownEndpoint, match=message):
        NET.resolve(reference)


def test_an_ipv6_address_without_ipv6_policies_says_why_it_is_not_analysed() -> None:
    with pytest.raises(UnknownEndpoint, match="no policy names an IPv6 range"):
        NET.resolve("2001:db8::1")
