"""Address sets against the standard library's :mod:`ipaddress`."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reach.engine.addresses import (
    IPV4_ALL,
    IPV6_ALL,
    AddressSet,
    address_key,
    format_range,
    parse_cidr,
)

V6_BASE = 1 << 128

v4_networks = st.builds(
    lambda value, prefix: ipaddress.IPv4Network((value, prefix), strict=False),
    st.integers(0, 2**32 - 1), st.integers(0, 32))
v6_networks = st.builds(
    lambda value, prefix: ipaddress.IPv6Network((value, prefix), strict=False),
    st.integers(0, 2**128 - 1), st.integers(0, 128))


def neighbours(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    """The first and last address of ``net`` and one either side, where they exist."""
    top = (1 << net.max_prefixlen) - 1
    kind = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
    lo, hi = int(net.network_address), int(net.broadcast_address)
    return [str(kind(v)) for v in (lo - 1, lo, lo + 1, hi - 1, hi, hi + 1) if 0 <= v <= top]


SETTINGS = settings(max_examples=300, deadline=None)


@SETTINGS
@given(st.one_of(v4_networks, v6_networks))
def test_parse_cidr_matches_ipaddress(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> None:
    base = 0 if net.version == 4 else V6_BASE
    first, last = parse_cidr(str(net))
    assert (first, last) == (base + int(net.network_address), base + int(net.broadcast_address))


@SETTINGS
@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
def test_address_key_orders_ipv4_below_ipv6(ip: ipaddress.IPv4Address | ipaddress.IPv6Address
                                            ) -> None:
    key = address_key(str(ip))
    assert key == (int(ip) if ip.version == 4 else V6_BASE + int(ip))
    assert (key in IPV4_ALL) == (ip.version == 4)
    assert (key in IPV6_ALL) == (ip.version == 6)
    # netaddr may spell an address differently (::ffff:0.0.0.0), never another address
    first, last = format_range(key, key).split("-")
    assert ipaddress.ip_address(first) == ip == ipaddress.ip_address(last)


@SETTINGS
@given(st.data(), st.booleans())
def test_block_minus_excepts_matches_ipaddress(data: st.DataObject, v6: bool) -> None:
    nets = v6_networks if v6 else v4_networks
    cidr = data.draw(nets)
    # except entries inside the cidr, as the API server demands, and some anywhere
    inner = data.draw(st.lists(st.builds(
        lambda extra, pick: list(cidr.subnets(prefixlen_diff=min(extra, cidr.max_prefixlen
                                                                  - cidr.prefixlen)))
        [pick % (1 << min(extra, cidr.max_prefixlen - cidr.prefixlen))],
        st.integers(0, 4), st.integers(0, 15)), max_size=3))
    outer = data.draw(st.lists(nets, max_size=1))
    excepts = [*inner, *outer]
    block = AddressSet.cidr(str(cidr))
    for item in excepts:
        block = block - AddressSet.cidr(str(item))
    probes = {a for net in (cidr, *excepts) for a in neighbours(net)}
    probes |= {str(data.draw(st.ip_addresses(v=6 if v6 else 4))) for _ in range(3)}
    for text in probes:
        ip = ipaddress.ip_address(text)
        expected = ip in cidr and not any(ip in e for e in excepts)
        assert block.contains_ip(text) == expected, (text, str(block))
    # the ranges are canonical and printable
    ranges = block.ranges()
    assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(ranges))
    assert str(block) == (",".join(format_range(lo, hi) for lo, hi in ranges) or "(none)")


def test_host_bits_refused_only_when_strict() -> None:
    with pytest.raises(ValueError, match="host bits are set"):
        parse_cidr("10.0.0.1/8")
    assert parse_cidr("10.0.0.1/8", strict=False) == parse_cidr("10.0.0.0/8")
    assert AddressSet.cidr("10.0.0.1/24") == AddressSet.cidr("10.0.0.0/24")


@pytest.mark.parametrize("text", ["10.0.0.0", "10.0.0.0/33", "fd00::/129", "10.0.0/8",
                                  "banana/8", "10.0.0.0/x", ""])
def test_invalid_cidrs_say_so(text: str) -> None:
    with pytest.raises(ValueError, match="invalid CIDR"):
        parse_cidr(text)


@pytest.mark.parametrize("text", ["10.0.0", "10.0.0.256", "fd00:::1", "", "a.b.c.d"])
def test_invalid_addresses_say_so(text: str) -> None:
    with pytest.raises(ValueError, match="invalid IP address"):
        address_key(text)


def test_families_never_overlap() -> None:
    assert not (IPV4_ALL & IPV6_ALL)
    assert not AddressSet.cidr("0.0.0.0/0").contains_ip("::ffff:10.0.0.1")
    assert not AddressSet.cidr("::/0").contains_ip("10.0.0.1")


def test_the_documentation_example() -> None:
    """172.17.0.0/16 except 172.17.1.0/24, as on the concept page."""
    block = AddressSet.cidr("172.17.0.0/16") - AddressSet.cidr("172.17.1.0/24")
    assert str(block) == "172.17.0.0-172.17.0.255,172.17.2.0-172.17.255.255"
