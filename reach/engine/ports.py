"""Port sets: what a connection may carry, over every IP protocol.

A :class:`PortSet` is a set of ``(protocol, value)`` pairs. The protocols are the IP
protocols 1-255; the value is a destination port (1-65535) for the protocols with
ports (TCP, UDP, SCTP, UDPLite), an ICMP type and code (``type * 256 + code``) for
ICMP and ICMPv6, and nothing (one value) for every other protocol (VRRP, GRE...).
"All Connections" is every value of every protocol.

Internally the pairs are numbered one after the other, protocol by protocol, so
that a set is a canonical list of integer intervals and "all of them" one interval.

Examples
--------
>>> web = PortSet.single("TCP", 80) | PortSet.range("TCP", 8080, 8090)
>>> str(web)
'TCP 80,8080-8090'
>>> str(PortSet.all())
'All Connections'
>>> str(PortSet.all() - PortSet.single("SCTP", 9003))
'All Connections but SCTP 9003'
>>> str(PortSet.protocol("TCP") | PortSet.protocol("UDP"))
'TCP 1-65535,UDP 1-65535'
>>> str(PortSet.icmp("ICMP", 8) | PortSet.protocol("VRRP"))
'ICMP type 8,VRRP'
>>> PortSet.all().allows("UDP", 53), PortSet.none().allows("UDP", 53)
(True, False)
"""

from __future__ import annotations

import bisect
from functools import lru_cache

from reach.engine.intervals import IntervalSet

__all__ = [
    "ICMP_PROTOCOLS",
    "MAX_ICMP",
    "MAX_PORT",
    "PORT_PROTOCOLS",
    "PROTOCOL_NUMBERS",
    "PortSet",
    "canonical_protocol",
    "protocol_name",
]

MAX_PORT = 65535
MAX_ICMP = 255

#: IANA numbers of the protocols reach names (others print as their number).
PROTOCOL_NUMBERS: dict[str, int] = {
    "ICMP": 1, "IGMP": 2, "IPIP": 4, "TCP": 6, "UDP": 17, "GRE": 47, "ESP": 50, "AH": 51,
    "ICMPv6": 58, "OSPF": 89, "PIM": 103, "VRRP": 112, "SCTP": 132, "UDPLite": 136,
}
_NAMES = {number: name for name, number in PROTOCOL_NUMBERS.items()}
#: The protocols whose connections have a destination port.
PORT_PROTOCOLS = frozenset({"TCP", "UDP", "SCTP", "UDPLite"})
#: The protocols whose connections have an ICMP type and code.
ICMP_PROTOCOLS = frozenset({"ICMP", "ICMPv6"})


def protocol_name(number: int) -> str:
    """``TCP`` for 6; the number itself for a protocol without a name here."""
    return _NAMES.get(number, str(number))


def canonical_protocol(text: str) -> str:
    """A protocol as reach names it: a name in any case, or its number (1-255).

    >>> canonical_protocol("udp"), canonical_protocol("17"), canonical_protocol("icmpv6")
    ('UDP', 'UDP', 'ICMPv6')
    >>> canonical_protocol("253")
    '253'
    """
    if text in PROTOCOL_NUMBERS:
        return text
    stripped = text.strip()
    if stripped.isdigit():
        number = int(stripped)
        if not 1 <= number <= 255:
            raise ValueError(f"protocol number {number} is out of range 1-255")
        return protocol_name(number)
    for name in PROTOCOL_NUMBERS:
        if name.lower() == stripped.lower():
            return name
    raise ValueError(f"unknown protocol {text!r}: use a name ({', '.join(sorted(PROTOCOL_NUMBERS))}"
                     ") or a number 1-255")


def _size(number: int) -> int:
    name = _NAMES.get(number, "")
    if name in PORT_PROTOCOLS:
        return MAX_PORT
    if name in ICMP_PROTOCOLS:
        return (MAX_ICMP + 1) * 256
    return 1


_BASES: list[int] = []
_total = 0
for _number in range(1, 256):
    _BASES.append(_total)
    _total += _size(_number)
_TOTAL = _total


@lru_cache(maxsize=1024)
def _base(protocol: str) -> tuple[int, int, int]:
    """(number, first code, count of codes) of a protocol."""
    name = canonical_protocol(protocol)
    number = PROTOCOL_NUMBERS[name] if name in PROTOCOL_NUMBERS else int(name)
    return number, _BASES[number - 1], _size(number)


class PortSet:
    """An immutable set of (protocol, port) pairs, hashable and comparable."""

    __slots__ = ("_set",)

    def __init__(self, intervals: IntervalSet | None = None) -> None:
        self._set = intervals if intervals is not None else IntervalSet()

    @staticmethod
    def none() -> PortSet:
        return _NONE

    @staticmethod
    def all() -> PortSet:
        return _ALL

    @staticmethod
    def protocol(protocol: str) -> PortSet:
        """Every port (type, or the one value) of one protocol."""
        _, base, size = _base(protocol)
        return PortSet(IntervalSet.of((base, base + size - 1)))

    @staticmethod
    def single(protocol: str, port: int) -> PortSet:
        return PortSet.range(protocol, port, port)

    @staticmethod
    def range(protocol: str, first: int, last: int) -> PortSet:
        """Ports ``first-last`` of a protocol with ports; ICMP types ``first-last`` (every
        code); the whole protocol for any other."""
        number, base, size = _base(protocol)
        name = protocol_name(number)
        if name in PORT_PROTOCOLS:
            first, last = max(first, 1), min(last, MAX_PORT)
            if first > last:
                return _NONE
            return PortSet(IntervalSet.of((base + first - 1, base + last - 1)))
        if name in ICMP_PROTOCOLS:
            first, last = max(first, 0), min(last, MAX_ICMP)
            if first > last:
                return _NONE
            return PortSet(IntervalSet.of((base + first * 256, base + last * 256 + 255)))
        return PortSet(IntervalSet.of((base, base + size - 1)))

    @staticmethod
    def icmp(protocol: str, icmp_type: int, code: int | None = None) -> PortSet:
        """One ICMP (or ICMPv6) type, with every code or one."""
        if code is None:
            return PortSet.range(protocol, icmp_type, icmp_type)
        _, base, _ = _base(protocol)
        value = base + icmp_type * 256 + code
        return PortSet(IntervalSet.of((value, value)))

    @staticmethod
    def from_dict(protocols: dict[str, list[tuple[int, int]]]) -> PortSet:
        """Inverse of :meth:`to_dict`."""
        out = IntervalSet()
        for proto, ranges in protocols.items():
            number, base, _ = _base(proto)
            shift = base - 1 if protocol_name(number) in PORT_PROTOCOLS else base
            out = out | IntervalSet.of(*((shift + a, shift + b) for a, b in ranges))
        return PortSet(out)

    @property
    def intervals(self) -> IntervalSet:
        return self._set

    def __bool__(self) -> bool:
        return bool(self._set)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PortSet) and self._set == other._set

    def __hash__(self) -> int:
        return hash(self._set)

    def __or__(self, other: PortSet) -> PortSet:
        return PortSet(self._set | other._set)

    def __and__(self, other: PortSet) -> PortSet:
        return PortSet(self._set & other._set)

    def __sub__(self, other: PortSet) -> PortSet:
        return PortSet(self._set - other._set)

    def __le__(self, other: PortSet) -> bool:
        return self._set.issubset(other._set)

    def allows(self, protocol: str, port: int | None = None) -> bool:
        """Whether the set holds ``port`` of ``protocol`` (an ICMP type: every code of it;
        a protocol without ports: ``port`` None)."""
        try:
            number, base, size = _base(protocol)
        except ValueError:
            return False
        name = protocol_name(number)
        if name in PORT_PROTOCOLS:
            if port is None or not 1 <= port <= MAX_PORT:
                return False
            return base + port - 1 in self._set
        if name in ICMP_PROTOCOLS and port is not None:
            if not 0 <= port <= MAX_ICMP:
                return False
            return PortSet.range(name, port, port) <= self
        return PortSet(IntervalSet.of((base, base + size - 1))) <= self

    def is_all(self) -> bool:
        return self == _ALL

    def restricted(self, protocols: frozenset[str] | set[str]) -> PortSet:
        """Only the part of the set on ``protocols``."""
        keep = PortSet.none()
        for proto in protocols:
            keep = keep | PortSet.protocol(proto)
        return self & keep

    def _pieces(self) -> dict[int, list[tuple[int, int]]]:
        """Per protocol number, its intervals relative to the protocol's first code."""
        return _pieces_of(self._set)

    def to_dict(self) -> dict[str, list[tuple[int, int]]]:
        """``{"TCP": [(80, 80), (8080, 8090)]}``: protocols by name (unnamed ones last, by
        number), empty ones left out.

        Ports for TCP, UDP, SCTP and UDPLite; ``type * 256 + code`` for ICMP and ICMPv6;
        ``[(0, 0)]`` for a protocol without ports.
        """
        return _named(self._pieces())

    def to_json(self) -> dict[str, list[list[int]]]:
        """The JSON form: ``{"TCP": [[80, 80], [8080, 8090]]}`` (all ports: ``[[1, 65535]]``).

        Protocols with ports or ICMP types as in :meth:`to_dict`; every other protocol
        under ``"ip_protocols"``, as ranges of protocol numbers.

        >>> PortSet.all().to_json()["ip_protocols"][:2]
        [[2, 5], [7, 16]]
        """
        return {proto: [[a, b] for a, b in ranges]
                for proto, ranges in _json_of(self._set).items()}

    def __str__(self) -> str:
        if self.is_all():
            return "All Connections"
        if not self:
            return "No Connections"
        # The complement holds every protocol the set does not touch, so it can only be
        # shorter when the set touches most of them: only then is it worth computing.
        touched = self._touched()
        if 2 * touched > len(_BASES):
            rest = _ALL - self
            if rest._touched() < touched:
                return f"All Connections but {_describe(rest._pieces())}"
        return _describe(self._pieces())

    def _touched(self) -> int:
        """How many protocols the set holds some of (without splitting its intervals)."""
        count, last = 0, 0
        for lo, hi in self._set:
            first, end = bisect.bisect_right(_BASES, lo), bisect.bisect_right(_BASES, hi)
            count += end - max(first, last + 1) + 1
            last = end
        return count

    def __repr__(self) -> str:
        return f"PortSet<{self}>"


@lru_cache(maxsize=4096)
def _pieces_of(intervals: IntervalSet) -> dict[int, list[tuple[int, int]]]:
    """:meth:`PortSet._pieces`, once per distinct set: a cluster has few, printed often
    (every set that spans most protocols has a piece for each of them). Callers only
    read the result."""
    out: dict[int, list[tuple[int, int]]] = {}
    for lo, hi in intervals:
        while lo <= hi:
            number = bisect.bisect_right(_BASES, lo)
            base = _BASES[number - 1]
            end = min(hi, base + _size(number) - 1)
            out.setdefault(number, []).append((lo - base, end - base))
            lo = end + 1
    return out


@lru_cache(maxsize=4096)
def _json_of(intervals: IntervalSet) -> dict[str, tuple[tuple[int, int], ...]]:
    """:meth:`PortSet.to_json`'s content, once per distinct set."""
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    merged: list[list[int]] = []
    for proto, ranges in _named(_pieces_of(intervals)).items():
        if proto in PORT_PROTOCOLS or proto in ICMP_PROTOCOLS:
            out[proto] = tuple(ranges)
            continue
        number = PROTOCOL_NUMBERS.get(proto) or int(proto)
        merged.append([number, number])
    merged.sort()
    joined: list[list[int]] = []
    for lo, hi in merged:
        if joined and joined[-1][1] + 1 == lo:
            joined[-1][1] = hi
        else:
            joined.append([lo, hi])
    if joined:
        out["ip_protocols"] = tuple((lo, hi) for lo, hi in joined)
    return out


def _named(pieces: dict[int, list[tuple[int, int]]]) -> dict[str, list[tuple[int, int]]]:
    """:meth:`PortSet._pieces` as :meth:`PortSet.to_dict` gives them."""
    out: dict[str, list[tuple[int, int]]] = {}
    for number in sorted(pieces, key=_order):
        name = protocol_name(number)
        shift = 1 if name in PORT_PROTOCOLS else 0
        out[name] = [(a + shift, b + shift) for a, b in pieces[number]]
    return out


def _describe(pieces: dict[int, list[tuple[int, int]]]) -> str:
    parts = []
    for proto, ranges in _named(pieces).items():
        if proto in PORT_PROTOCOLS:
            text = ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)
            parts.append(f"{proto} {text}")
        elif proto in ICMP_PROTOCOLS:
            parts.append(_icmp_text(proto, ranges))
        else:
            parts.append(proto if not proto.isdigit() else f"protocol {proto}")
    return ",".join(parts)


def _icmp_text(proto: str, ranges: list[tuple[int, int]]) -> str:
    if ranges == [(0, (MAX_ICMP + 1) * 256 - 1)]:
        return proto
    parts: list[str] = []
    full: list[int] = []  # a run of whole types, printed as one

    def flush() -> None:
        if full:
            parts.append(f"type {full[0]}" if len(full) == 1 else f"types {full[0]}-{full[-1]}")
            full.clear()

    for a, b in ranges:
        for t in range(a // 256, b // 256 + 1):
            lo, hi = max(a, t * 256) % 256, min(b, t * 256 + 255) % 256
            if (lo, hi) == (0, 255):
                if full and full[-1] != t - 1:
                    flush()
                full.append(t)
                continue
            flush()
            parts.append(f"type {t} code {lo}" if lo == hi else f"type {t} codes {lo}-{hi}")
    flush()
    return f"{proto} {','.join(parts)}"


def _order(number: int) -> tuple[bool, str]:
    """Named protocols by name, then the others by number."""
    name = protocol_name(number)
    return (name.isdigit(), f"{number:03d}" if name.isdigit() else name)


_NONE = PortSet()
_ALL = PortSet(IntervalSet.of((0, _TOTAL - 1)))
