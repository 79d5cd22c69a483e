"""PortSet against Python sets of (protocol, port) pairs, over every IP protocol."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from reach.engine.ports import MAX_PORT, PORT_PROTOCOLS, PROTOCOL_NUMBERS, PortSet

PROTOCOLS = sorted(PORT_PROTOCOLS)

# Ports near both ends of the range, so clamping and protocol borders are exercised
# while the oracle sets stay small. Ranges start and end only at EDGES, so every port
# between 40 and MAX_PORT - 40 is in the same ranges: one probe there stands for all.
EDGES = [*range(0, 40), *range(MAX_PORT - 39, MAX_PORT + 3)]
PROBES = [(proto, port) for proto in PROTOCOLS for port in (*EDGES, MAX_PORT // 2)]

ranges = st.lists(
    st.tuples(st.sampled_from(PROTOCOLS), st.sampled_from(EDGES), st.sampled_from(EDGES)),
    max_size=5,
)


def build(items: list[tuple[str, int, int]]) -> PortSet:
    out = PortSet.none()
    for proto, lo, hi in items:
        out = out | PortSet.range(proto, lo, hi)
    return out


def holds(items: list[tuple[str, int, int]], proto: str, port: int) -> bool:
    """What the ranges mean: ports outside 1-65535 do not exist."""
    return 1 <= port <= MAX_PORT and any(p == proto and lo <= port <= hi for p, lo, hi in items)


def oracle(items: list[tuple[str, int, int]]) -> set[tuple[str, int]]:
    return {(proto, port) for proto, port in PROBES if holds(items, proto, port)}


def members(ports: PortSet) -> set[tuple[str, int]]:
    return {(proto, port) for proto, port in PROBES if ports.allows(proto, port)}


SETTINGS = settings(max_examples=300, deadline=None)


@SETTINGS
@given(ranges)
def test_allows_is_membership(items: list[tuple[str, int, int]]) -> None:
    assert members(build(items)) == oracle(items)


@SETTINGS
@given(ranges, ranges)
def test_set_algebra_matches_python_sets(a: list[tuple[str, int, int]],
                                         b: list[tuple[str, int, int]]) -> None:
    x, y = build(a), build(b)
    sa, sb = oracle(a), oracle(b)
    assert members(x | y) == sa | sb
    assert members(x & y) == sa & sb
    assert members(x - y) == sa - sb
    assert (x <= y) == (sa <= sb)
    assert (x == y) == (sa == sb)
    if sa == sb:
        assert hash(x) == hash(y)


@SETTINGS
@given(ranges)
def test_to_dict_round_trips_and_is_canonical(items: list[tuple[str, int, int]]) -> None:
    ports = build(items)
    as_dict = ports.to_dict()
    assert list(as_dict) == sorted(as_dict)  # (named protocols only here: by name)
    for spans in as_dict.values():
        assert spans and all(1 <= lo <= hi <= MAX_PORT for lo, hi in spans)
        assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(spans))
    assert PortSet.from_dict(as_dict) == ports
    for proto, spans in as_dict.items():
        for lo, hi in spans:  # every span is held, and is maximal
            assert holds(items, proto, lo) and holds(items, proto, hi)
            assert not holds(items, proto, lo - 1) and not holds(items, proto, hi + 1)


def test_all_is_every_value_of_every_ip_protocol() -> None:
    """"All Connections" is every IP protocol (1-255): every port of the protocols with
    ports, every ICMP type and code, and each other protocol whole."""
    everything = PortSet.all()
    as_dict = everything.to_dict()
    assert len(as_dict) == 255
    assert all(as_dict[p] == [(1, MAX_PORT)] for p in PORT_PROTOCOLS)
    assert as_dict["ICMP"] == as_dict["ICMPv6"] == [(0, 256 * 256 - 1)]
    assert as_dict["VRRP"] == as_dict["253"] == [(0, 0)]
    union = PortSet.none()
    for number in range(1, 256):
        union = union | PortSet.protocol(str(number))
    assert union == everything and everything.is_all() and not PortSet.none()
    assert len(everything.intervals) == 1  # numbered one after the other: one interval
    assert str(everything) == "All Connections" and str(PortSet.none()) == "No Connections"
    assert PortSet.all().to_json()["ip_protocols"][:3] == [[2, 5], [7, 16], [18, 57]]


def test_icmp_is_types_and_codes() -> None:
    """Calico matches ICMP by type and code: a type alone is every code of it."""
    echo = PortSet.icmp("ICMP", 8)
    assert str(echo) == "ICMP type 8" and echo.allows("ICMP", 8)
    assert not echo.allows("ICMP", 0) and not echo.allows("ICMPv6", 8)
    code0 = PortSet.icmp("ICMP", 8, 0)
    assert str(code0) == "ICMP type 8 code 0"
    assert not code0.allows("ICMP", 8)  # not every code of type 8
    assert str(PortSet.protocol("ICMP") - code0) == "ICMP types 0-7,type 8 codes 1-255,types 9-255"
    assert str(PortSet.protocol("ICMPv6")) == "ICMPv6"
    assert PortSet.from_dict((echo | code0).to_dict()) == echo


def test_protocols_without_ports_are_whole() -> None:
    vrrp = PortSet.protocol("VRRP")
    assert vrrp == PortSet.protocol("112") == PortSet.single("VRRP", 80)
    assert vrrp.allows("VRRP") and vrrp.allows("112") and not vrrp.allows("TCP", 80)
    assert str(vrrp | PortSet.protocol("253")) == "VRRP,protocol 253"
    assert set(PROTOCOL_NUMBERS) >= {"TCP", "UDP", "SCTP", "UDPLite", "ICMP", "ICMPv6"}


def test_ports_outside_the_range_never_exist() -> None:
    for proto in PROTOCOLS:
        for port in (-1, 0, MAX_PORT + 1, MAX_PORT + 2, 2 * MAX_PORT):
            assert not PortSet.all().allows(proto, port)
    assert PortSet.range("TCP", 0, 5) == PortSet.range("TCP", 1, 5)
    assert PortSet.range("UDP", 65530, 70000).to_dict() == {"UDP": [(65530, MAX_PORT)]}
    assert not PortSet.range("TCP", 10, 9)


def test_protocols_never_bleed_into_each_other() -> None:
    tcp_top = PortSet.single("TCP", MAX_PORT)
    assert not tcp_top.allows("UDP", 1) and not tcp_top.allows("SCTP", MAX_PORT)
    # out-of-range ports once landed in the neighbouring protocol's range
    assert not PortSet.single("TCP", 1).allows("SCTP", MAX_PORT + 2)
    assert not tcp_top.allows("UDP", -1)
    assert (PortSet.protocol("TCP") & PortSet.protocol("UDP")) == PortSet.none()


def test_protocol_names_are_case_insensitive() -> None:
    assert PortSet.single("tcp", 80).allows("TCP", 80)
    assert PortSet.single("TCP", 80).allows("tcp", 80)


def test_text_form() -> None:
    web = PortSet.single("TCP", 80) | PortSet.range("TCP", 8080, 8090) | PortSet.single("UDP", 53)
    assert str(web) == "TCP 80,8080-8090,UDP 53"
    assert str(PortSet.all() - PortSet.single("SCTP", 9003)) == (
        "All Connections but SCTP 9003")
    assert str(PortSet.protocol("TCP") | PortSet.protocol("UDP")) == "TCP 1-65535,UDP 1-65535"
