"""Address sets: IPv4 and IPv6 ranges as canonical integer intervals.

Both families live in one integer line (IPv6 shifted above IPv4), so one
:class:`~reach.engine.intervals.IntervalSet` algebra serves ``ipBlock`` peers, their
``except`` lists and the cutting of the outside world into disjoint ranges.

Examples
--------
>>> block = AddressSet.cidr("10.0.0.0/8") - AddressSet.cidr("10.1.0.0/16")
>>> block.contains_ip("10.2.3.4"), block.contains_ip("10.1.2.3")
(True, False)
>>> [format_range(lo, hi) for lo, hi in block.ranges()]
['10.0.0.0-10.0.255.255', '10.2.0.0-10.255.255.255']
>>> parse_cidr("10.0.0.1/8")
Traceback (most recent call last):
...
ValueError: invalid CIDR "10.0.0.1/8": host bits are set (the network is 10.0.0.0/8)
"""

from __future__ import annotations

import ipaddress
import socket

import netaddr

from reach.engine.intervals import IntervalSet

__all__ = [
    "IPV4_ALL",
    "IPV6_ALL",
    "POD_ADDRESSES",
    "AddressSet",
    "address_key",
    "format_range",
    "parse_cidr",
]

_V6_BASE = 1 << 128


def address_key(ip: str) -> int:
    """The integer that stands for an IPv4 or IPv6 address on reach's address line.

    >>> address_key("10.0.0.1"), address_key("::1") - (1 << 128)
    (167772161, 1)
    """
    try:  # the common case: inet_pton reads dotted quads exactly as ipaddress does
        return int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")
    except (OSError, ValueError, TypeError):
        pass
    try:
        addr = ipaddress.ip_address(ip.strip())
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f'invalid IP address "{ip}"') from None
    return int(addr) if addr.version == 4 else _V6_BASE + int(addr)


def parse_cidr(text: str, *, strict: bool = True) -> tuple[int, int]:
    """The first and last address keys of a CIDR; ``ValueError`` saying what is wrong.

    With ``strict`` a CIDR with host bits set is refused (the API server accepts
    some of these, but they never mean what their author thinks).
    """
    raw = str(text).strip()
    if "/" not in raw:
        raise ValueError(f'invalid CIDR "{raw}": expected ADDRESS/PREFIX, e.g. 10.0.0.0/8')
    address, _, prefix = raw.partition("/")
    try:
        host = netaddr.IPAddress(address, flags=netaddr.INET_PTON)
        longest = 32 if host.version == 4 else 128
        if not (prefix.isascii() and prefix.isdigit()) or int(prefix) > longest:
            raise ValueError(f"prefix length must be 0 to {longest}")
        net = netaddr.IPNetwork(f"{host}/{int(prefix)}")
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) and "prefix" in str(exc) else (
            "not an IPv4 or IPv6 network")
        raise ValueError(f'invalid CIDR "{raw}": {reason}') from None
    if strict and net.network != host:
        raise ValueError(
            f'invalid CIDR "{raw}": host bits are set (the network is {net.cidr})'
        )
    base = 0 if net.version == 4 else _V6_BASE
    return base + int(net.first), base + int(net.last)


def format_range(lo: int, hi: int) -> str:
    """``a.b.c.d-e.f.g.h`` (or the IPv6 equivalent) for two address keys."""
    return f"{_format_key(lo)}-{_format_key(hi)}"


def _format_key(key: int) -> str:
    if key >= _V6_BASE:
        return str(netaddr.IPAddress(key - _V6_BASE, 6))
    return str(netaddr.IPAddress(key, 4))


class AddressSet:
    """An immutable set of IP addresses (both families)."""

    __slots__ = ("_set",)

    def __init__(self, intervals: IntervalSet | None = None) -> None:
        self._set = intervals if intervals is not None else IntervalSet()

    @staticmethod
    def cidr(text: str, *, strict: bool = False) -> AddressSet:
        return AddressSet(IntervalSet.of(parse_cidr(text, strict=strict)))

    @staticmethod
    def none() -> AddressSet:
        return AddressSet()

    @staticmethod
    def span(lo: int, hi: int) -> AddressSet:
        """The addresses from key ``lo`` to key ``hi`` (see :func:`address_key`)."""
        return AddressSet(IntervalSet.of((lo, hi)))

    @property
    def intervals(self) -> IntervalSet:
        return self._set

    def ranges(self) -> tuple[tuple[int, int], ...]:
        return self._set.intervals

    def contains_ip(self, ip: str) -> bool:
        return address_key(ip) in self._set

    def __contains__(self, key: object) -> bool:
        return key in self._set

    def __bool__(self) -> bool:
        return bool(self._set)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AddressSet) and self._set == other._set

    def __hash__(self) -> int:
        return hash(self._set)

    def __or__(self, other: AddressSet) -> AddressSet:
        return AddressSet(self._set | other._set)

    def __and__(self, other: AddressSet) -> AddressSet:
        return AddressSet(self._set & other._set)

    def __sub__(self, other: AddressSet) -> AddressSet:
        return AddressSet(self._set - other._set)

    def __le__(self, other: AddressSet) -> bool:
        return self._set.issubset(other._set)

    def __str__(self) -> str:
        return ",".join(format_range(lo, hi) for lo, hi in self.ranges()) or "(none)"

    def __repr__(self) -> str:
        return f"AddressSet<{self}>"


IPV4_ALL = AddressSet.cidr("0.0.0.0/0")
IPV6_ALL = AddressSet.cidr("::/0")

#: Where pod IPs live when the input does not say: the private and unique-local ranges
#: network plugins allocate pod CIDRs from.
POD_ADDRESSES = (
    AddressSet.cidr("10.0.0.0/8")
    | AddressSet.cidr("172.16.0.0/12")
    | AddressSet.cidr("192.168.0.0/16")
    | AddressSet.cidr("fc00::/7")
)
