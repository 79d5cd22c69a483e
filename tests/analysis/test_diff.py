"""reach.analysis.diff: what a change to the manifests opens and closes.

The reference scenario (seed-scenario.md) is built here from model objects, state by
state, so each test shows the whole situation it judges; the tests at the end run
the same states from ``samples/seed`` through ``reach diff``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import CIDRS, clusters, policies

from reach.analysis.diff import ESTABLISHED_NOTE, Change, Diff, diff, format_diff
from reach.cli import main
from reach.endpoints import Endpoint
from reach.engine.ports import PortSet
from reach.model import (
    Cluster,
    ContainerPort,
    IPBlock,
    Labels,
    LabelSelector,
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Rule,
)
from reach.network import Network

NS = "network-policy"
CLIENT_1 = Endpoint("Pod", NS, "client-1")
CLIENT_2 = Endpoint("Pod", NS, "client-2")
SERVER = Endpoint("Pod", NS, "server")
TCP_8888 = PortSet.single("TCP", 8888)


def seed_pods() -> tuple[Pod, ...]:
    return (
        Pod(NS, "client-1", Labels({"app": "client", "region": "us-east"}),
            ips=("192.168.134.72",)),
        Pod(NS, "client-2", Labels({"app": "client", "region": "us-west"}),
            ips=("192.168.233.198",)),
        Pod(NS, "server", Labels({"app": "server", "region": "us-central"}),
            ports=(ContainerPort(8888),)),
    )


ALLOW_US_EAST = Policy(
    NS, "allow-us-east", LabelSelector(Labels({"app": "server"})), ("Ingress", "Egress"),
    ingress=(Rule("ingress", 0,
                  peers=(Peer(pod_selector=LabelSelector(Labels({"region": "us-east"}))),),
                  ports=(PolicyPort("TCP", 8888),)),),
    egress=(Rule("egress", 0),),
)
BLOCK_ONE_IP = Policy(
    NS, "block-one-ip", LabelSelector(Labels({"app": "server"})), ("Egress",),
    egress=(Rule("egress", 0,
                 peers=(Peer(ip_block=IPBlock("0.0.0.0/0", ("192.168.134.72/32",))),)),),
)


def seed(*policies: Policy, pods: tuple[Pod, ...] | None = None) -> Network:
    return Network(Cluster(pods=seed_pods() if pods is None else pods, policies=policies))


def change(d: Diff, src: Endpoint, dst: Endpoint) -> Change | None:
    return next((c for c in d.changes if c.src == src and c.dst == dst), None)


# ---------------------------------------------------------------------------
# the reference scenario


def test_adding_block_one_ip_beside_allow_us_east_changes_nothing() -> None:
    # Observation 3: policies are additive; allow-us-east's egress rule allows everything.
    d = diff(seed(ALLOW_US_EAST), seed(ALLOW_US_EAST, BLOCK_ONE_IP), by="pod")
    assert not d
    assert format_diff(d) == "no difference in allowed connections (by pod)"


def test_adding_allow_us_east_removes_client_2_and_narrows_client_1_to_tcp_8888() -> None:
    d = diff(seed(), seed(ALLOW_US_EAST), by="pod")
    removed = change(d, CLIENT_2, SERVER)
    assert removed is not None and removed.kind == "removed"
    assert removed.old == PortSet.all() and not removed.new
    narrowed = change(d, CLIENT_1, SERVER)
    assert narrowed is not None and narrowed.kind == "narrowed"
    assert narrowed.new == TCP_8888
    assert narrowed.closed == PortSet.all() - TCP_8888 and not narrowed.opened


def test_adding_allow_us_east_leaves_the_servers_own_connections_alone() -> None:
    # Observation 2: "the server may still open connections to anyone".
    d = diff(seed(), seed(ALLOW_US_EAST), by="pod")
    assert all(c.src != SERVER for c in d.changes)


def test_removing_allow_us_east_opens_both_back_up() -> None:
    d = diff(seed(ALLOW_US_EAST), seed(), by="pod")
    added = change(d, CLIENT_2, SERVER)
    assert added is not None and added.kind == "added" and added.new == PortSet.all()
    widened = change(d, CLIENT_1, SERVER)
    assert widened is not None and widened.kind == "widened"
    assert widened.opened == PortSet.all() - TCP_8888
    assert not d.removed and not d.notes  # nothing closes: no note about established ones


def test_removed_connections_come_with_the_established_connections_note() -> None:
    # Observation 5: deleting or narrowing does not cut established connections.
    d = diff(seed(), seed(ALLOW_US_EAST), by="pod")
    assert d.notes == (ESTABLISHED_NOTE,)
    assert "keep flowing until they close" in format_diff(d)
    assert "keep flowing" in format_diff(d, "md")
    assert json.loads(format_diff(d, "json"))["notes"] == [ESTABLISHED_NOTE]


def test_block_one_ip_alone_removes_server_to_client_1_only() -> None:
    # Observation 4, with ipBlocks applied to pod IPs as Calico does.
    d = diff(seed(), seed(BLOCK_ONE_IP), by="pod")
    pods_changed = [c for c in d.changes if not c.src.is_external and not c.dst.is_external]
    assert [(c.src, c.dst, c.kind) for c in pods_changed] == [(SERVER, CLIENT_1, "removed")]


def test_at_namespace_granularity_a_change_inside_one_namespace_is_reported() -> None:
    """allow-us-east removes client-2 -> server: the namespace as a whole still allows
    every port (server -> client-1 does), but the change happened at that level too."""
    inside = [c for c in diff(seed(), seed(ALLOW_US_EAST), by="namespace").changes
              if not c.src.is_external and not c.dst.is_external]
    ns = Endpoint("Namespace", "", "network-policy")
    mine = [c for c in inside if (c.src, c.dst) == (ns, ns)]
    assert [(c.inside, c.kind, c.opened, c.closed) for c in mine] == [
        (True, "narrowed", PortSet.none(), PortSet.all())]
    assert "changed between some of their pods" in str(mine[0])


# ---------------------------------------------------------------------------
# topology changes


def test_new_pods_are_reported_as_endpoints_not_as_edges() -> None:
    extra = tuple(Pod("batch", f"job-{i}", Labels({"app": "job"})) for i in range(50))
    old = seed(ALLOW_US_EAST)
    new = seed(ALLOW_US_EAST, pods=seed_pods() + extra)
    d = diff(old, new, by="pod")
    assert d.namespaces_added == ("batch",)
    assert len(d.endpoints_added) == 50
    assert not d.changes  # nothing changed between endpoints that exist on both sides
    job = d.endpoints_added[0]
    assert job.outbound > 0 and job.inbound > 0
    text = format_diff(d)
    assert "+ namespace batch (new)" in text and "job-0" not in text  # one line for all


def test_a_pod_that_disappears_is_reported_once() -> None:
    d = diff(seed(), seed(pods=seed_pods()[:2]), by="pod")
    assert [e.endpoint for e in d.endpoints_removed] == [SERVER]
    assert not d.changes and d.notes == (ESTABLISHED_NOTE,)
    assert "- endpoint network-policy/server[Pod]" in format_diff(d)


def test_replicas_of_a_workload_do_not_make_a_difference_by_workload() -> None:
    one = (Pod("shop", "web-1", owner_kind="Deployment", owner_name="web"),)
    two = (*one, Pod("shop", "web-2", owner_kind="Deployment", owner_name="web"))
    assert not diff(Network(Cluster(pods=one)), Network(Cluster(pods=two)), by="workload")
    assert diff(Network(Cluster(pods=one)), Network(Cluster(pods=two)), by="pod")


# ---------------------------------------------------------------------------
# outside addresses


def _allow_from(*cidrs: str) -> Policy:
    peers = tuple(Peer(ip_block=IPBlock(c)) for c in cidrs)
    return Policy(NS, "from-outside", LabelSelector(Labels({"app": "server"})),
                  ingress=(Rule("ingress", 0, peers=peers),))


def test_the_same_addresses_cut_differently_make_no_difference() -> None:
    one_block = seed(_allow_from("10.0.0.0/8"))
    two_halves = seed(_allow_from("10.0.0.0/9", "10.128.0.0/9"))
    assert not diff(one_block, two_halves, by="pod")


def test_outside_ranges_are_compared_address_by_address_and_merged_back() -> None:
    d = diff(seed(_allow_from("10.0.0.0/8")), seed(_allow_from("10.0.0.0/9")), by="pod")
    lost = [c for c in d.changes if c.src.is_external]
    assert [(str(c.src), c.kind) for c in lost] == [
        ("10.128.0.0-10.255.255.255[External]", "removed")
    ]


def test_ipv6_blocks_on_one_side_only_are_compared_exactly() -> None:
    v4 = seed(_allow_from("0.0.0.0/0"))
    both = seed(_allow_from("0.0.0.0/0", "2001:db8::/32"))
    d = diff(v4, both, by="pod")
    assert [str(c.src) for c in d.added] == [
        "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff[External]"
    ]
    assert not d.removed and not d.changed


# ---------------------------------------------------------------------------
# formats


def test_text_marks_added_removed_and_changed_lines() -> None:
    text = format_diff(diff(seed(), seed(ALLOW_US_EAST), by="pod"))
    lines = text.splitlines()
    assert lines[0] == "connections (by pod): 0 added, 2 removed, 1 changed"
    assert "- network-policy/client-2[Pod] => network-policy/server[Pod] : All Connections" in lines
    assert ("~ network-policy/client-1[Pod] => network-policy/server[Pod] : All Connections -> "
            "TCP 8888") in lines
    assert "    closed: All Connections but TCP 8888" in lines


def test_json_is_a_stable_contract() -> None:
    doc = json.loads(format_diff(diff(seed(), seed(ALLOW_US_EAST), by="pod"), "json"))
    assert set(doc) == {"by", "different", "added", "removed", "changed", "endpoints_added",
                        "endpoints_removed", "namespaces_added", "namespaces_removed", "notes"}
    narrowed = doc["changed"][0]
    assert narrowed["src"] == {"kind": "Pod", "namespace": NS, "name": "client-1"}
    assert narrowed["kind"] == "narrowed" and narrowed["new"] == {"TCP": [[8888, 8888]]}


def test_markdown_is_a_table() -> None:
    md = format_diff(diff(seed(), seed(ALLOW_US_EAST), by="pod"), "md")
    assert "| change | src | dst | before | after | opened | closed |" in md
    assert "| removed | network-policy/client-2[Pod] | network-policy/server[Pod] |" in md


def test_unknown_format_and_granularity_are_refused() -> None:
    with pytest.raises(ValueError):
        format_diff(Diff(by="pod"), "xml")
    with pytest.raises(ValueError):
        diff(seed(), seed(), by="cluster")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# laws


same_pods_two_policy_sets = clusters().flatmap(
    lambda c: st.tuples(
        st.just(c),
        st.lists(policies(tuple(sorted({p.namespace for p in c.pods}))), max_size=3),
    )
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(same_pods_two_policy_sets)
def test_diff_agrees_with_the_two_networks_pair_by_pair(
    case: tuple[Cluster, list[Policy]],
) -> None:
    cluster, others = case
    others = [Policy(p.namespace, f"other{i}", p.pod_selector, p.policy_types, p.ingress,
                     p.egress) for i, p in enumerate(others)]
    old = Network(cluster)
    new = Network(Cluster(cluster.namespaces, cluster.pods, policies=tuple(others)))
    d = diff(old, new, by="pod")
    found = {(c.src, c.dst): c for c in d.changes}
    for a in old.pods:
        for b in old.pods:
            if a.ref == b.ref:
                continue
            ea, eb = Endpoint("Pod", a.namespace, a.name), Endpoint("Pod", b.namespace, b.name)
            before = old.ports_between(old.resolve(ea), old.resolve(eb))
            after = new.ports_between(new.resolve(ea), new.resolve(eb))
            if before == after:
                assert (ea, eb) not in found
            else:
                assert (found[ea, eb].old, found[ea, eb].new) == (before, after)
    # outside addresses: probe the edges of every CIDR the strategies use
    probes = {lo for cidr, _ in CIDRS for lo in _edges(cidr)}
    # the outside space compared is what either side analyses (IPv6 only when mentioned)
    probes = {k for k in probes if _covers(old, k) or _covers(new, k)}
    for pod in old.pods:
        ep = Endpoint("Pod", pod.namespace, pod.name)
        for key in probes:
            for outbound in (True, False):
                before = _outside(old, ep, key, outbound)
                after = _outside(new, ep, key, outbound)
                hit = [c for c in d.changes
                       if (c.src == ep and c.dst.is_external and c.dst.lo <= key <= c.dst.hi
                           and outbound)
                       or (c.dst == ep and c.src.is_external and c.src.lo <= key <= c.src.hi
                           and not outbound)]
                if before == after:
                    assert not hit
                else:
                    assert [(h.old, h.new) for h in hit] == [(before, after)]


def _edges(cidr: str) -> list[int]:
    from reach.engine.addresses import parse_cidr

    lo, hi = parse_cidr(cidr, strict=False)
    return [k for k in (lo - 1, lo, hi, hi + 1) if k >= 0]


def _covers(net: Network, key: int) -> bool:
    return any(lo <= key <= hi for lo, hi in net.compiled.externals)


def _outside(net: Network, ep: Endpoint, key: int, outbound: bool) -> PortSet:
    c = net.compiled
    try:
        column = c.external_column(key)
    except KeyError:  # an address this side never cut: no ipBlock of its family
        return _fallback(net, ep, key, outbound)
    pods = net.resolve(ep).pods
    k = int(c.pod_class[pods[0]])
    return c.column_ports(k, column) if outbound else c.column_ports(column, k)


def _fallback(net: Network, ep: Endpoint, key: int, outbound: bool) -> PortSet:
    pod = net.pods[net.resolve(ep).pods[0]]
    return net.side("egress" if outbound else "ingress", pod, None, key).ports


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), clusters())
def test_diff_is_antisymmetric_and_empty_against_itself(a: Cluster, b: Cluster) -> None:
    na, nb = Network(a), Network(b)
    assert not diff(na, na)
    forward, backward = diff(na, nb, by="pod"), diff(nb, na, by="pod")
    assert {(c.src, c.dst, c.old, c.new) for c in forward.changes} == {
        (c.src, c.dst, c.new, c.old) for c in backward.changes
    }
    assert [e.endpoint for e in forward.endpoints_added] == [
        e.endpoint for e in backward.endpoints_removed
    ]


# ---------------------------------------------------------------------------
# reach diff, on the samples

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "seed"
CLUSTER = str(SEED / "cluster.yaml")
ALLOW = str(SEED / "policies" / "allow-us-east.yaml")
BLOCK = str(SEED / "policies" / "block-one-ip.yaml")


def test_reach_diff_adding_allow_us_east_exits_1_and_lists_what_it_closes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["diff", "--old", CLUSTER, "--new", CLUSTER, "--new", ALLOW, "--by", "pod"])
    out = capsys.readouterr().out
    assert code == 1
    assert ("- network-policy/client-2[Pod] => network-policy/server[Pod] : All Connections"
            in out)
    assert ("~ network-policy/client-1[Pod] => network-policy/server[Pod] : All Connections -> "
            "TCP 8888") in out
    assert "keep flowing until they close" in out


def test_reach_diff_adding_block_one_ip_beside_allow_us_east_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["diff", CLUSTER, CLUSTER, "--old", ALLOW, "--new", ALLOW, "--new", BLOCK])
    assert code == 0
    assert capsys.readouterr().out.strip() == "no difference in allowed connections (by workload)"


def test_reach_diff_removing_allow_us_east_opens_both_back_up_in_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["diff", "--old", CLUSTER, "--old", ALLOW, "--new", CLUSTER, "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["different"] is True and not doc["removed"]
    pairs = {(c["src"].get("name"), c["dst"].get("name"), c["kind"])
             for c in doc["added"] + doc["changed"]}
    assert {("client-2", "server", "added"), ("client-1", "server", "widened")} <= pairs


def test_reach_diff_reads_folders(capsys: pytest.CaptureFixture[str]) -> None:
    shop = str(ROOT / "samples" / "shop")
    assert main(["diff", shop, shop, "-o", "md"]) == 0
    assert "no difference" in capsys.readouterr().out


def test_reach_diff_without_both_states_or_with_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["diff", CLUSTER]) == 2
    assert "give the old and the new state" in capsys.readouterr().err
    assert main(["diff", str(SEED), CLUSTER]) == 2  # samples/seed holds the malformed ones
    assert "malformed" in capsys.readouterr().err


def test_connection_counts_of_new_endpoints_are_the_same_by_pod_and_by_namespace() -> None:
    # by pod: one class per endpoint (counted by class weights); by namespace: several
    # classes per endpoint (counted one by one); both count what `connections` lists.
    extra = (Pod("batch", "job-1", Labels({"app": "job"})),
             Pod("batch", "job-2", Labels({"app": "other"})))
    new = seed(ALLOW_US_EAST, pods=seed_pods() + extra)
    for by in ("pod", "namespace"):
        d = diff(seed(ALLOW_US_EAST), new, by=by)  # type: ignore[arg-type]
        conns = new.connections(by=by)  # type: ignore[arg-type]
        for e in d.endpoints_added:
            assert e.outbound == sum(1 for c in conns if c.src == e.endpoint)
            assert e.inbound == sum(1 for c in conns if c.dst == e.endpoint)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(same_pods_two_policy_sets, st.sampled_from(["workload", "namespace"]))
def test_a_coarse_connection_changes_exactly_when_it_changes_between_some_pods(
    case: tuple[Cluster, list[Policy]], by: str,
) -> None:
    """At workload and namespace granularity a connection A => B is reported changed
    exactly when some pod of A (or a second replica of one) gains or loses ports to some
    pod of B, with those ports as opened and closed: what A and B allow as a whole may
    stay the same. Pods of one workload are replicas: one of them stands for a second; a
    namespace stands for its pods alike, so one pod in it stands for a second."""
    cluster, others = case
    others = [Policy(p.namespace, f"other{i}", p.pod_selector, p.policy_types, p.ingress,
                     p.egress) for i, p in enumerate(others)]
    old = Network(cluster)
    new = Network(Cluster(cluster.namespaces, cluster.pods, policies=tuple(others)))
    d = diff(old, new, by=by)  # type: ignore[arg-type]
    found = {(c.src, c.dst): c for c in d.changes
             if not c.src.is_external and not c.dst.is_external}

    def coarse(pod: Pod) -> Endpoint:
        if by == "namespace":
            return Endpoint("Namespace", "", pod.namespace)
        return Endpoint(pod.workload_kind, pod.namespace, pod.workload_name)

    def unit(pod: Pod) -> tuple[object, ...]:
        """Replicas: the pods of one workload with the same labels, ports and network."""
        if not pod.owner_kind:
            return (pod.namespace, pod.name)
        return (pod.namespace, pod.workload_kind, pod.workload_name, pod.labels, pod.ports,
                pod.host_network)

    def ports(net: Network, i: int, j: int) -> PortSet:
        a, b = net.pods[i], net.pods[j]
        if unit(a) == unit(b):
            if not a.owner_kind and by != "namespace":
                return PortSet.none()  # one pod with itself (a namespace stands for replicas)
            # a replica to another replica of the same template, or of a sibling pod
            return net.compiled.column_ports(int(net.compiled.pod_class[i]),
                                             int(net.compiled.pod_class[j]))
        return net.compiled.pod_ports(i, j)

    expected: dict[tuple[Endpoint, Endpoint], tuple[PortSet, PortSet]] = {}
    for i, a in enumerate(old.pods):
        for j, b in enumerate(old.pods):
            before, after = ports(old, i, j), ports(new, i, j)
            key = (coarse(a), coarse(b))
            opened, closed = expected.get(key, (PortSet.none(), PortSet.none()))
            expected[key] = (opened | (after - before), closed | (before - after))
    expected = {k: v for k, v in expected.items() if v[0] or v[1]}
    assert {k: (c.opened, c.closed) for k, c in found.items()} == expected
