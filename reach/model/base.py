"""The vocabulary every model object shares: places, labels, diagnostics.

Examples
--------
>>> str(Location("p.yaml", 3, 7))
'p.yaml:3:7'
>>> Diagnostic("warning", "x", code="not-analysed").caveat
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CAVEAT_CODES",
    "NAMESPACE_NAME_LABEL",
    "NOWHERE",
    "PROTOCOLS",
    "Diagnostic",
    "Direction",
    "Labels",
    "Location",
    "Severity",
]

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
PROTOCOLS: tuple[str, ...] = ("SCTP", "TCP", "UDP")

Direction = Literal["ingress", "egress"]
Severity = Literal["info", "warning", "error"]

CAVEAT_CODES = frozenset({
    "not-analysed",   # an object that can change reachability but that reach does not read
    "assumption",     # a reading reach chose where the input leaves room (host network, ...)
    "unresolvable",   # a rule whose peers cannot be resolved statically (domain names, ...)
    "fail-closed",    # a rule reach does not fully understand, read as the API says to
})
"""Diagnostic codes that can make a verdict differ from what the cluster enforces.

A diagnostic with one of these codes is a *caveat*: every answer carries it
(stderr, the ``caveats`` list of JSON output, a line of ``reach can``)."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: a file (or ``<stdin>``), 1-based line and column.

    >>> str(Location("p.yaml", 3, 7))
    'p.yaml:3:7'
    """

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.column or 1}"
        return self.path


NOWHERE = Location("<generated>")


class Labels(Mapping[str, str]):
    """An immutable, hashable mapping of label keys to values.

    >>> Labels({"b": "2", "a": "1"})
    Labels({'a': '1', 'b': '2'})
    >>> Labels({"a": "1"}) == Labels({"a": "1"}), len(Labels())
    (True, 0)
    """

    __slots__ = ("_hash", "_items")

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        pairs = tuple(sorted((items or {}).items()))
        self._items: dict[str, str] = dict(pairs)
        self._hash = hash(pairs)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Labels):
            return self._hash == other._hash and self._items == other._items
        if isinstance(other, Mapping):
            return self._items == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Labels({self._items!r})"

    def __str__(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self._items.items())


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A warning or note about the input that did not stop the analysis.

    >>> str(Diagnostic("warning", "skipped notes.txt: not YAML or JSON", Location("notes.txt")))
    'notes.txt: warning: skipped notes.txt: not YAML or JSON'
    """

    severity: Severity
    message: str
    location: Location | None = None
    code: str = ""

    @property
    def caveat(self) -> bool:
        """Whether this could make a verdict differ from what the cluster enforces."""
        return self.code in CAVEAT_CODES

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity}: {self.message}"

    @property
    def located(self) -> str:
        """``FILE:LINE:COL: message``, without the severity."""
        return f"{self.location}: {self.message}" if self.location else self.message
