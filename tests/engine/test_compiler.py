"""The compiler against a brute-force oracle, on hypothesis-generated clusters.

For every generated cluster the compiled class matrix must agree with
:mod:`oracle` (which walks the policies for one connection at a time) on every
ordered pod pair, every protocol and every *probe* port: the boundaries of every
port and range the policies mention and the numbers of every container port. Port
sets are unions of intervals whose ends are all probes, so agreeing on the probes
is agreeing everywhere. Outside addresses are probed at every ipBlock boundary
and one address either side of it.

Then the laws that need no oracle: a policy that selects nobody changes nothing,
policy order never matters, and pods the compiler put in one class are
indistinguishable to the oracle.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import replace

import oracle
import pytest
from helpers import per_atom
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import clusters, policies

from reach.endpoints import Endpoint
from reach.engine.addresses import address_key
from reach.engine.compiler import CompileOptions, compile_cluster
from reach.engine.ports import PortSet
from reach.model import (
    PROTOCOLS,
    Cluster,
    IPBlock,
    Labels,
    LabelSelector,
    Peer,
    Pod,
    Policy,
    Requirement,
    Rule,
)
from reach.network import Network

SETTINGS = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEWER = settings(SETTINGS, max_examples=250)


def probe_ports(cluster: Cluster) -> list[int]:
    """Every port where some rule's answer can change, and its neighbours."""
    out = {1, 2, 80, 65534, 65535}
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            for pp in rule.ports:
                if isinstance(pp.port, int):
                    last = pp.end_port if pp.end_port is not None else pp.port
                    out |= {pp.port - 1, pp.port, pp.port + 1, last - 1, last, last + 1}
    for pod in cluster.pods:
        for cp in pod.ports:
            out |= {cp.port - 1, cp.port, cp.port + 1}
    return sorted(p for p in out if 1 <= p <= 65535)


def probe_addresses(cluster: Cluster) -> list[str]:
    """Every ipBlock boundary (cidr and except) and one address either side of it."""
    out = {"0.0.0.0", "255.255.255.255", "8.8.8.8", "10.0.0.1", "::", "fd00::1", "2001:db8::1"}
    out |= {ip for node in cluster.nodes for ip in node.addresses}
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            for peer in rule.peers:
                if peer.ip_block is None:
                    continue
                for text in (peer.ip_block.cidr, *peer.ip_block.except_):
                    net = ipaddress.ip_network(text, strict=False)
                    top = (1 << net.max_prefixlen) - 1
                    lo, hi = int(net.network_address), int(net.broadcast_address)
                    for value in (lo - 1, lo, lo + 1, hi - 1, hi, hi + 1):
                        if 0 <= value <= top:
                            out.add(str(ipaddress.ip_address(value) if net.version == 4
                                        else ipaddress.IPv6Address(value)))
    return sorted(out)


def probe_set(cluster: Cluster) -> list[tuple[str, int]]:
    return [(proto, port) for proto in PROTOCOLS for port in probe_ports(cluster)]


def allowed_of(ports: PortSet, probes: list[tuple[str, int]]) -> set[tuple[str, int]]:
    return {(proto, port) for proto, port in probes if ports.allows(proto, port)}


def column_of(net: Network, address: str) -> int | None:
    """The external column of ``address``; None only for IPv6 no policy mentions."""
    try:
        return net.compiled.external_column(address_key(address))
    except KeyError:
        assert ":" in address, f"{address} must be inside the analysed address space"
        return None


def pod_ref(pod: Pod) -> str:
    return f"{pod.namespace}/pod/{pod.name}"


# ---------------------------------------------------------------------------
# the compiled matrix against the oracle


@SETTINGS
@given(cluster=clusters(), ipblock_pods=st.booleans())
def test_pod_pairs_agree_with_oracle(cluster: Cluster, ipblock_pods: bool) -> None:
    net = Network(cluster, ipblock_pods=ipblock_pods)
    compiled = net.compiled
    probes = probe_set(cluster)
    for i, src in enumerate(cluster.pods):
        for j, dst in enumerate(cluster.pods):
            got = compiled.pod_ports(i, j)
            want = oracle.allowed_probes(cluster, src, dst, probes, ipblock_pods)
            assert allowed_of(got, probes) == want, (
                f"{src.ref} -> {dst.ref}: compiled {got}, oracle {sorted(want)}")


@SETTINGS
@given(cluster=clusters(), ipblock_pods=st.booleans())
def test_outside_addresses_agree_with_oracle(cluster: Cluster, ipblock_pods: bool) -> None:
    net = Network(cluster, ipblock_pods=ipblock_pods)
    compiled = net.compiled
    probes = probe_set(cluster)
    for address in probe_addresses(cluster):
        column = column_of(net, address)
        if column is None:
            continue
        for i, pod in enumerate(cluster.pods):
            cls = int(compiled.pod_class[i])
            out, into = compiled.column_ports(cls, column), compiled.column_ports(column, cls)
            want_out = oracle.allowed_probes(cluster, pod, address, probes, ipblock_pods)
            want_in = oracle.allowed_probes(cluster, address, pod, probes, ipblock_pods)
            assert allowed_of(out, probes) == want_out, f"{pod.ref} -> {address}: compiled {out}"
            assert allowed_of(into, probes) == want_in, f"{address} -> {pod.ref}: compiled {into}"


@settings(SETTINGS, max_examples=25)
@given(cluster=clusters(max_pods=30, max_policies=12), ipblock_pods=st.booleans())
def test_larger_clusters_agree_with_oracle(cluster: Cluster, ipblock_pods: bool) -> None:
    """Enough pods and policies for more than 8 (and 16) classes, port-set ids and
    selector sets, where the compiler's bit packing crosses byte boundaries."""
    net = Network(cluster, ipblock_pods=ipblock_pods)
    compiled = net.compiled
    probes = probe_set(cluster)
    for i, src in enumerate(cluster.pods):
        for j, dst in enumerate(cluster.pods):
            want = oracle.allowed_probes(cluster, src, dst, probes, ipblock_pods)
            assert allowed_of(compiled.pod_ports(i, j), probes) == want, (src.ref, dst.ref)
    for address in probe_addresses(cluster):
        column = column_of(net, address)
        if column is None:
            continue
        for i, pod in enumerate(cluster.pods):
            cls = int(compiled.pod_class[i])
            assert allowed_of(compiled.column_ports(cls, column), probes) == \
                oracle.allowed_probes(cluster, pod, address, probes, ipblock_pods)
            assert allowed_of(compiled.column_ports(column, cls), probes) == \
                oracle.allowed_probes(cluster, address, pod, probes, ipblock_pods)


def _check_verdict(cluster: Cluster, net: Network, src: Pod | str, dst: Pod | str,
                   proto: str, port: int | None, ipblock_pods: bool) -> None:
    ref = {True: pod_ref, False: str}
    verdict = net.can(ref[isinstance(src, Pod)](src), ref[isinstance(dst, Pod)](dst),
                      port=port, protocol=proto)
    probes = [(proto, port)] if port is not None else probe_set(cluster)
    want = bool(oracle.allowed_probes(cluster, src, dst, probes, ipblock_pods))
    assert bool(verdict) == want, str(verdict)
    for side, pod, other in (("egress", src, dst), ("ingress", dst, src)):
        explained = verdict.egress if side == "egress" else verdict.ingress
        if not isinstance(pod, Pod):
            assert not explained.isolated
            continue
        assert explained.isolated == oracle.isolated(cluster, pod, side), str(verdict)
        if port is not None:
            want_side = oracle.direction_allows(cluster, pod, other, side, proto, port,
                                                ipblock_pods)
            assert explained.ports.allows(proto, port) == want_side, str(verdict)
        if verdict and explained.isolated and src != dst:
            assert explained.allowing, f"{side} isolated and allowed, no rule named\n{verdict}"


@SETTINGS
@given(cluster=clusters(max_pods=4), ipblock_pods=st.booleans(), seed=st.integers(0, 2**16))
def test_verdicts_agree_with_oracle_and_name_a_rule(cluster: Cluster, ipblock_pods: bool,
                                                    seed: int) -> None:
    net = Network(cluster, ipblock_pods=ipblock_pods)
    pick = random.Random(seed)
    ports = probe_ports(cluster)
    pod_ips = {ip for pod in cluster.pods for ip in pod.ips}
    addresses = [a for a in probe_addresses(cluster)
                 if a not in pod_ips and column_of(net, a) is not None]
    for i, src in enumerate(cluster.pods):
        for j, dst in enumerate(cluster.pods):
            verdict = net.can(pod_ref(src), pod_ref(dst))
            if i != j:
                assert verdict.ports == net.compiled.pod_ports(i, j)
                # the explanation's rule-by-rule walk agrees with the compiled matrix
                walked = verdict.egress.ports & verdict.ingress.ports
                assert walked == net.compiled.pod_ports(i, j), str(verdict)
            _check_verdict(cluster, net, src, dst, "TCP", None, ipblock_pods)
            for _ in range(3):
                proto, port = pick.choice(PROTOCOLS), pick.choice(ports)
                _check_verdict(cluster, net, src, dst, proto, port, ipblock_pods)
        for address in pick.sample(addresses, min(3, len(addresses))):
            out, into = net.can(pod_ref(src), address), net.can(address, pod_ref(src))
            assert out.egress.ports == out.ports and into.ingress.ports == into.ports
            proto, port = pick.choice(PROTOCOLS), pick.choice(ports)
            _check_verdict(cluster, net, src, address, proto, port, ipblock_pods)
            _check_verdict(cluster, net, address, src, proto, port, ipblock_pods)


@FEWER
@given(cluster=clusters(), ipblock_pods=st.booleans())
def test_pod_connections_match_pod_ports(cluster: Cluster, ipblock_pods: bool) -> None:
    net = Network(cluster, ipblock_pods=ipblock_pods)
    compiled = net.compiled
    listed = per_atom(net.connections(by="pod"), compiled)
    assert all(ports for ports in listed.values())
    expected: dict[tuple[Endpoint, Endpoint], PortSet] = {}
    endpoints = [Endpoint("Pod", p.namespace, p.name) for p in cluster.pods]
    for i, a in enumerate(endpoints):
        for j, b in enumerate(endpoints):
            if i != j and compiled.pod_ports(i, j):
                expected[(a, b)] = compiled.pod_ports(i, j)
        cls = int(compiled.pod_class[i])
        for e, (lo, hi) in enumerate(compiled.externals):
            ext = Endpoint.external(lo, hi)
            out = compiled.column_ports(cls, compiled.n_classes + e)
            into = compiled.column_ports(compiled.n_classes + e, cls)
            if out:
                expected[(a, ext)] = out
            if into:
                expected[(ext, a)] = into
    assert listed == expected


@FEWER
@given(cluster=clusters(), ipblock_pods=st.booleans(),
       by=st.sampled_from(("workload", "namespace")))
def test_grouped_connections_are_unions_of_pod_connections(cluster: Cluster, ipblock_pods: bool,
                                                          by: str) -> None:
    """A workload or namespace reaches another on the union of its pods' ports."""
    net = Network(cluster, ipblock_pods=ipblock_pods)
    compiled = net.compiled
    listed = per_atom(net.connections(by=by), compiled)  # type: ignore[arg-type]

    def group(p: Pod) -> Endpoint:
        if by == "namespace":
            return Endpoint("Namespace", "", p.namespace)
        return Endpoint(p.workload_kind, p.namespace, p.workload_name)

    expected: dict[tuple[Endpoint, Endpoint], PortSet] = {}

    def add(key: tuple[Endpoint, Endpoint], ports: PortSet) -> None:
        if ports:
            expected[key] = expected.get(key, PortSet.none()) | ports

    for i, a in enumerate(cluster.pods):
        for j, b in enumerate(cluster.pods):
            # a namespace lists the traffic between two of its pods, a workload does not
            if group(a) != group(b) or (by == "namespace" and i != j):
                add((group(a), group(b)), compiled.pod_ports(i, j))
        cls = int(compiled.pod_class[i])
        for e, (lo, hi) in enumerate(compiled.externals):
            ext = Endpoint.external(lo, hi)
            add((group(a), ext), compiled.column_ports(cls, compiled.n_classes + e))
            add((ext, group(a)), compiled.column_ports(compiled.n_classes + e, cls))
    assert listed == expected


# ---------------------------------------------------------------------------
# laws


def _rows(cluster: Cluster, ipblock_pods: bool) -> dict[tuple[int, int], PortSet]:
    compiled = compile_cluster(cluster, CompileOptions(ipblock_pods=ipblock_pods))
    n = len(cluster.pods)
    return {(i, j): compiled.pod_ports(i, j) for i in range(n) for j in range(n)}


def _outside(cluster: Cluster, ipblock_pods: bool, addresses: list[str]
             ) -> dict[tuple[int, str], tuple[PortSet, PortSet]]:
    net = Network(cluster, ipblock_pods=ipblock_pods)
    c = net.compiled
    out = {}
    for address in addresses:
        column = column_of(net, address)
        if column is None or ":" in address:
            continue  # IPv6 is analysed only when some policy mentions it
        for i in range(len(cluster.pods)):
            cls = int(c.pod_class[i])
            out[(i, address)] = (c.column_ports(cls, column), c.column_ports(column, cls))
    return out


NOBODY = LabelSelector(match_expressions=(Requirement("never-a-label", "Exists"),))


@FEWER
@given(cluster=clusters(), extra=policies(name="selects-nobody"), ipblock_pods=st.booleans())
def test_policy_selecting_nobody_changes_nothing(cluster: Cluster, extra: Policy,
                                                 ipblock_pods: bool) -> None:
    idle = Policy(extra.namespace, extra.name, NOBODY, ("Ingress", "Egress"),
                  extra.ingress, extra.egress)
    grown = replace(cluster, policies=(*cluster.policies, idle))
    assert _rows(grown, ipblock_pods) == _rows(cluster, ipblock_pods)
    addresses = probe_addresses(grown)
    assert _outside(grown, ipblock_pods, addresses) == _outside(cluster, ipblock_pods, addresses)


@FEWER
@given(cluster=clusters(), ipblock_pods=st.booleans(), seed=st.integers(0, 2**16))
def test_policy_order_never_matters(cluster: Cluster, ipblock_pods: bool, seed: int) -> None:
    shuffled = list(cluster.policies)
    random.Random(seed).shuffle(shuffled)
    other = replace(cluster, policies=tuple(shuffled))
    assert _rows(other, ipblock_pods) == _rows(cluster, ipblock_pods)
    addresses = probe_addresses(cluster)
    assert _outside(other, ipblock_pods, addresses) == _outside(cluster, ipblock_pods, addresses)


@FEWER
@given(cluster=clusters(), ipblock_pods=st.booleans())
def test_pods_of_one_class_are_indistinguishable(cluster: Cluster, ipblock_pods: bool) -> None:
    """Pods the compiler merged must have identical rows and columns, per the oracle."""
    compiled = compile_cluster(cluster, CompileOptions(ipblock_pods=ipblock_pods))
    pods, probes = cluster.pods, probe_set(cluster)
    others: list[Pod | str] = [*pods, *probe_addresses(cluster)]
    for members in compiled.class_pods:
        first = pods[members[0]]
        for k in members[1:]:
            twin = pods[k]
            for other in others:
                if other in (first, twin):
                    continue
                for a, b in ((first, other), (other, first)):
                    twin_a, twin_b = (twin, b) if a is first else (a, twin)
                    assert oracle.allowed_probes(cluster, a, b, probes, ipblock_pods) == \
                        oracle.allowed_probes(cluster, twin_a, twin_b, probes, ipblock_pods)
            for j in range(len(pods)):
                if j not in (members[0], k):
                    assert compiled.pod_ports(members[0], j) == compiled.pod_ports(k, j)
                    assert compiled.pod_ports(j, members[0]) == compiled.pod_ports(j, k)


@pytest.mark.parametrize("ipblock_pods", [True, False])
def test_empty_cluster_compiles(ipblock_pods: bool) -> None:
    compiled = compile_cluster(Cluster(), CompileOptions(ipblock_pods=ipblock_pods))
    assert compiled.n_classes == 0
    assert compiled.externals == ((0, 2**32 - 1),)


# ---------------------------------------------------------------------------
# regressions, minimised from failing examples


def test_ipv6_pod_ip_is_not_in_an_ipv4_block() -> None:
    """An IPv6 pod IP fell into the last IPv4 atom when no policy mentioned IPv6."""
    client = Pod("ns", "client", Labels({"app": "client"}), ips=("fd00::5",))
    server = Pod("ns", "server", Labels({"app": "server"}))
    policy = Policy("ns", "from-ipv4", LabelSelector(Labels({"app": "server"})),
                    ingress=(Rule("ingress", 0, (Peer(ip_block=IPBlock("0.0.0.0/0")),)),))
    cluster = Cluster(pods=(client, server), policies=(policy,))
    assert not oracle.allowed(cluster, client, server, "TCP", 80)
    net = Network(cluster)
    assert not net.compiled.pod_ports(0, 1)
    assert not net.can("ns/client", "ns/server", port=80)


def test_compile_options_alone_apply_the_host_network_reading() -> None:
    """compile_cluster honours host_network_pods without going through Network."""
    from reach.engine.compiler import CompileOptions, compile_cluster
    from reach.model import Cluster, Labels, LabelSelector, Pod, Policy

    pods = (Pod("ns", "host", Labels({"app": "a"}), host_network=True), Pod("ns", "b"))
    deny = Policy("ns", "deny", LabelSelector(Labels({"app": "a"})))
    cluster = Cluster(pods=pods, policies=(deny,))
    node_reading = compile_cluster(cluster)
    pod_reading = compile_cluster(cluster, CompileOptions(host_network_pods=True))
    assert node_reading.pod_ports(1, 0).is_all()
    assert not pod_reading.pod_ports(1, 0)


def test_a_profile_with_more_rule_pieces_than_an_int64_key_holds_agrees_with_oracle() -> None:
    """Over 62 rule pieces the compiler keys columns by their rule ids instead of a
    bitmask; both ways must give the oracle's answer."""
    from reach.model import ADMIN_TIER, Namespace, PolicyPort

    namespaces = tuple(Namespace(f"n{i}", Labels({"kubernetes.io/metadata.name": f"n{i}",
                                                  "team": f"t{i % 5}"})) for i in range(8))
    pods = tuple(Pod(f"n{i}", "p", Labels({"app": f"a{i % 3}"})) for i in range(8))
    rules = tuple(
        Rule("ingress", i, (Peer(namespace_selector=LabelSelector(Labels({"team": f"t{i % 5}"}))),),
             (PolicyPort("TCP", 1000 + i),), action=("Deny", "Allow", "Pass")[i % 3])
        for i in range(70))
    admin = Policy("", "many", LabelSelector(), ("Ingress",), rules, kind="ClusterNetworkPolicy",
                   tier=ADMIN_TIER, priority=1, namespace_selector=LabelSelector())
    deny = Policy("n0", "iso", LabelSelector(Labels({"app": "a0"})))
    cluster = Cluster(namespaces=namespaces, pods=pods, policies=(admin, deny))
    compiled = compile_cluster(cluster)
    probes = [("TCP", p) for p in (999, 1000, 1001, 1034, 1068, 1069, 1070, 80)]
    for i, src in enumerate(pods):
        for j, dst in enumerate(pods):
            if i != j:
                got = allowed_of(compiled.pod_ports(i, j), probes)
                assert got == oracle.allowed_probes(cluster, src, dst, probes), (src.ref, dst.ref)
