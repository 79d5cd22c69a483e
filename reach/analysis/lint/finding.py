"""One lint finding: severity, code, message, place, hint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from reach.analysis.lint.facts import Facts
from reach.model import (
    Location,
)

__all__ = ["RANK", "SEVERITIES", "Check", "Finding", "Severity"]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")
RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding.

    Examples
    --------
    >>> f = Finding("warning", "rule-shadowed", "shop/web ingress[1] is shadowed",
    ...             Location("p.yaml", 12, 3), "remove it")
    >>> print(f)
    p.yaml:12:3: warning [rule-shadowed] shop/web ingress[1] is shadowed
        hint: remove it
    """

    severity: Severity
    code: str
    message: str
    location: Location | None = None
    hint: str = ""
    subject: str = ""

    def __str__(self) -> str:
        loc = self.location
        where = f"{loc}: " if loc and loc.path != "<generated>" else ""
        text = f"{where}{self.severity} [{self.code}] {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "location": str(loc) if loc and loc.path != "<generated>" else None,
            "path": loc.path if loc and loc.path != "<generated>" else None,
            "line": loc.line if loc and loc.line else None,
            "hint": self.hint,
            "subject": self.subject,
        }


@dataclass(frozen=True, slots=True)
class Check:
    """One lint rule family: a generator of findings and the codes it may report.

    ``codes`` maps each code to its severity and a one-line description; the
    registry (:data:`reach.analysis.lint.RULES`) is made of these.
    """

    run: Callable[[Facts], Iterator[Finding]]
    codes: dict[str, tuple[Severity, str]]
