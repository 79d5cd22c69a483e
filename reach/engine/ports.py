"""Port sets: canonical interval sets per protocol (TCP, UDP, SCTP; ports 1-65535).

Examples
--------
>>> web = PortSet.single("TCP", 80) | PortSet.range("TCP", 8080, 8090)
>>> str(web)
'TCP 80,8080-8090'
>>> str(PortSet.all())
'All Connections'
>>> str(PortSet.all() - PortSet.single("SCTP", 9003))
'SCTP 1-9002,9004-65535,TCP 1-65535,UDP 1-65535'
>>> PortSet.all().allows("UDP", 53), PortSet.none().allows("UDP", 53)
(True, False)
"""

from __future__ import annotations

from reach.engine.intervals import IntervalSet
from reach.model import PROTOCOLS

__all__ = ["MAX_PORT", "PortSet"]

MAX_PORT = 65535
_SPAN = 1 << 16
_INDEX = {name: i for i, name in enumerate(PROTOCOLS)}


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
        """Every port of one protocol."""
        return PortSet.range(protocol, 1, MAX_PORT)

    @staticmethod
    def single(protocol: str, port: int) -> PortSet:
        return PortSet.range(protocol, port, port)

    @staticmethod
    def range(protocol: str, first: int, last: int) -> PortSet:
        base = _INDEX[protocol.upper()] * _SPAN
        first, last = max(first, 1), min(last, MAX_PORT)
        return PortSet(IntervalSet.of((base + first, base + last)))

    @staticmethod
    def from_dict(protocols: dict[str, list[tuple[int, int]]]) -> PortSet:
        """Inverse of :meth:`to_dict`."""
        out = PortSet.none()
        for proto, ranges in protocols.items():
            for first, last in ranges:
                out = out | PortSet.range(proto, first, last)
        return out

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

    def allows(self, protocol: str, port: int) -> bool:
        if not 1 <= port <= MAX_PORT:  # else it would land in a neighbouring protocol
            return False
        return _INDEX[protocol.upper()] * _SPAN + port in self._set

    def is_all(self) -> bool:
        return self == _ALL

    def to_dict(self) -> dict[str, list[tuple[int, int]]]:
        """``{"TCP": [(80, 80), (8080, 8090)]}``: protocols in name order, empty ones left out."""
        out: dict[str, list[tuple[int, int]]] = {}
        for lo, hi in self._set:
            proto = PROTOCOLS[lo // _SPAN]
            out.setdefault(proto, []).append((lo % _SPAN, hi % _SPAN))
        return out

    def to_json(self) -> dict[str, list[list[int]]]:
        """The JSON form: ``{"TCP": [[80, 80], [8080, 8090]]}`` (all ports: ``[[1, 65535]]``)."""
        return {proto: [[a, b] for a, b in ranges] for proto, ranges in self.to_dict().items()}

    def __str__(self) -> str:
        if self.is_all():
            return "All Connections"
        if not self:
            return "No Connections"
        parts = []
        for proto, ranges in self.to_dict().items():
            text = ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)
            parts.append(f"{proto} {text}")
        return ",".join(parts)

    def __repr__(self) -> str:
        return f"PortSet<{self}>"


_NONE = PortSet()
_ALL = PortSet(
    IntervalSet.of(*((i * _SPAN + 1, i * _SPAN + MAX_PORT) for i in range(len(PROTOCOLS))))
)
