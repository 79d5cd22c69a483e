"""Calico policies against a brute-force oracle, on hypothesis-generated clusters.

Each cluster is drawn as manifests (:func:`strategies.calico_manifests`), dumped to
YAML and read by reach's loader; :class:`oracle.CalicoWorld` reads the same documents
on its own and applies Calico's documented semantics one connection and one port at a
time. On TCP and UDP, at every port where a generated rule's answer can change and
either side of it:

* the compiled matrix agrees with the oracle on every ordered pod pair, and between
  every pod and a few outside addresses (inside and outside the generated nets and
  network sets), both ways;
* the explanation's walk of each direction (egress at the source, ingress at the
  destination) agrees with the oracle's walk of that direction, and the two together
  give what the compiler gives.
"""

from __future__ import annotations

import oracle
import yaml
from hypothesis import HealthCheck, given, settings
from strategies import CALICO_OUTSIDE, CALICO_PORTS, calico_manifests

from reach.engine.addresses import address_key
from reach.engine.ports import PortSet
from reach.loader import read_cluster
from reach.network import Network

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PROBES = [(proto, port) for proto in ("TCP", "UDP") for port in CALICO_PORTS]

Manifests = list[dict[str, object]]


def read(docs: Manifests) -> tuple[Network, oracle.CalicoWorld, str]:
    text = yaml.safe_dump_all(docs, sort_keys=False)
    return Network(read_cluster("-", stdin_text=text)), oracle.CalicoWorld(docs), text


def allowed_of(ports: PortSet) -> set[tuple[str, int]]:
    return {(proto, port) for proto, port in PROBES if ports.allows(proto, port)}


def check(docs: Manifests) -> None:
    net, world, text = read(docs)
    by_ref = {pod.ref: pod for pod in world.pods}
    mine = [by_ref[pod.ref] for pod in net.pods]
    assert len(mine) == len(world.pods)
    compiled = net.compiled
    for i, (a, src) in enumerate(zip(net.pods, mine, strict=True)):
        for j, (b, dst) in enumerate(zip(net.pods, mine, strict=True)):
            got = compiled.pod_ports(i, j)
            want = world.allowed_probes(src, dst, PROBES)
            assert allowed_of(got) == want, (
                f"{src.ref} -> {dst.ref}: compiled {got}, oracle {sorted(want)}\n{text}")
            if i == j:
                continue
            egress, ingress = net.side("egress", a, b).ports, net.side("ingress", b, a).ports
            assert egress & ingress == got, f"{src.ref} -> {dst.ref}: walked\n{text}"
            want_out = world.side_probes(src, dst, "egress", PROBES)
            want_in = world.side_probes(dst, src, "ingress", PROBES)
            assert allowed_of(egress) == want_out, (
                f"egress of {src.ref} to {dst.ref}: walked {egress}, oracle {sorted(want_out)}"
                f"\n{text}")
            assert allowed_of(ingress) == want_in, (
                f"ingress of {dst.ref} from {src.ref}: walked {ingress}, oracle "
                f"{sorted(want_in)}\n{text}")
    for address in CALICO_OUTSIDE:
        key = address_key(address)
        column = compiled.external_column(key)
        for i, (pod, end) in enumerate(zip(net.pods, mine, strict=True)):
            cls = int(compiled.pod_class[i])
            out, into = compiled.column_ports(cls, column), compiled.column_ports(column, cls)
            want_out = world.allowed_probes(end, address, PROBES)
            want_in = world.allowed_probes(address, end, PROBES)
            assert allowed_of(out) == want_out, (
                f"{end.ref} -> {address}: compiled {out}, oracle {sorted(want_out)}\n{text}")
            assert allowed_of(into) == want_in, (
                f"{address} -> {end.ref}: compiled {into}, oracle {sorted(want_in)}\n{text}")
            assert net.side("egress", pod, None, key).ports == out, f"{end.ref} -> {address}"
            assert net.side("ingress", pod, None, key).ports == into, f"{address} -> {end.ref}"


@SETTINGS
@given(docs=calico_manifests(kubernetes=False))
def test_calico_policies_agree_with_the_oracle(docs: Manifests) -> None:
    check(docs)


@SETTINGS
@given(docs=calico_manifests(kubernetes=True))
def test_calico_and_kubernetes_policies_together_agree_with_the_oracle(docs: Manifests
                                                                      ) -> None:
    check(docs)
