"""The one exception hierarchy of reach.

Every error reach raises on purpose is a :class:`ReachError`. Subclasses also
inherit the builtin exception they refine, so ``except ValueError`` keeps working::

    ReachError(Exception)
     ├── ManifestError(ReachError, ValueError)    bad input: FILE:LINE:COL: message
     ├── UnknownEndpoint(ReachError, KeyError)     a name that matches nothing (or too much)
     ├── InvalidQuery(ReachError, ValueError)      a question that cannot be asked (port 0...)
     ├── RenderError(ReachError, RuntimeError)     no renderer can produce the format asked for
     └── ExpectationError(ReachError, ValueError)  a malformed expectations file

Examples
--------
>>> from reach.errors import ManifestError
>>> err = ManifestError("unknown field \\"ports\\"", path="p.yaml", line=3, column=5)
>>> str(err)
'p.yaml:3:5: unknown field "ports"'
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "ExpectationError",
    "InvalidQuery",
    "ManifestError",
    "ReachError",
    "RenderError",
    "UnknownEndpoint",
]


class ReachError(Exception):
    """Base class of every error reach raises deliberately."""


class ManifestError(ReachError, ValueError):
    """Input that reach refuses to analyse, with the place it was found.

    ``str(err)`` is ``FILE:LINE:COL: message`` (line and column are 1-based);
    the parts that are unknown are left out.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ":".join(
            str(part) for part in (self.path, self.line, self.column) if part is not None
        )
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class UnknownEndpoint(ReachError, KeyError):
    """An endpoint reference that names nothing in the network, or several things."""

    def __init__(self, reference: str, message: str, candidates: tuple[str, ...] = ()) -> None:
        self.reference = reference
        self.message = message
        self.candidates = candidates
        super().__init__(message)

    def __str__(self) -> str:
        if self.candidates:
            return f"{self.message}; candidates: {', '.join(self.candidates)}"
        return self.message


class InvalidQuery(ReachError, ValueError):
    """A question that cannot be asked: a port outside 1-65535, a port name the
    destination does not define, a Service as the source of a connection."""


class RenderError(ReachError, RuntimeError):
    """A diagram that cannot be produced in the format asked for."""


class ExpectationError(ReachError, ValueError):
    """An expectations file (``reach check --expect``) that cannot be understood."""
