"""JSON text read fast: ``json``'s C scanner, each object of a List on its own.

A ``kubectl get -o json`` dump parsed as YAML costs many times what ``json`` takes,
so a text that is one JSON object (a single object, or a List of them) is read
here instead: each List item is decoded on its own with ``raw_decode``, which gives
its exact start (line and column). The loader reads the kinds whose fields have no
place of their own from the decoded value (:mod:`reach.documents._plain`) and
composes the others (policies) through YAML from the item's text, every node
located. Where a place inside a decoded value is asked for (an error, or a warning
about a field), :class:`Imprecise` is raised and the caller reads the whole text
again through YAML.

Whatever this path does not read exactly as YAML would (a float, a duplicate key,
nesting too deep, anything that is not strict JSON, or more than one value) makes
:func:`json_items` return None, and the text goes through YAML.

>>> items = json_items('{"kind": "List", "items": [\\n  {"kind": "Pod"}]}')
>>> [(item.line, item.column, item.value) for item in items.items]
[(2, 3, {'kind': 'Pod'})]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Imprecise", "JsonItem", "JsonItems", "json_items"]


class Imprecise(Exception):
    """Raised when the place of a value read on the fast path is asked for."""


class _NotFast(Exception):
    """This text is not read on the fast path."""


_WS = re.compile(r"[ \t\n\r]*")


def _refuse(_: str) -> Any:
    raise _NotFast


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's pairs as a dict, refusing a duplicate key (YAML says where it is)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _NotFast
    return found


_DECODER = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse,
                            object_pairs_hook=_unique)


@dataclass(frozen=True, slots=True)
class JsonItem:
    """One object of the text: its value, where it starts (1-based) and its span."""

    value: Any
    line: int
    column: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class JsonItems:
    """The objects of a JSON text: a List's items (``top`` is the List without them)
    or one object (``top`` None)."""

    top: dict[str, Any] | None
    items: list[JsonItem]


def json_items(text: str) -> JsonItems | None:
    """The objects of ``text`` if it is one strict JSON object, read exactly; else None."""
    try:
        return _items(text)
    except (_NotFast, ValueError, RecursionError, IndexError):
        return None


def _items(text: str) -> JsonItems | None:
    start = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if start >= len(text) or text[start] != "{":
        return None
    top: dict[str, Any] = {}
    found: list[JsonItem] | None = None
    idx = _WS.match(text, start + 1).end()  # type: ignore[union-attr]
    if text[idx] == "}":
        idx += 1
    else:
        while True:
            if text[idx] != '"':
                return None
            key, idx = json.decoder.scanstring(text, idx + 1)  # type: ignore[attr-defined]
            if key in top or (key == "items" and found is not None):
                return None  # a duplicate key: YAML says where
            idx = _WS.match(text, idx).end()  # type: ignore[union-attr]
            if text[idx] != ":":
                return None
            idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
            if key == "items" and text[idx] == "[":
                found, idx = _array(text, idx)
            else:
                top[key], idx = _DECODER.raw_decode(text, idx)
            idx = _WS.match(text, idx).end()  # type: ignore[union-attr]
            if text[idx] == ",":
                idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
                continue
            if text[idx] != "}":
                return None
            idx += 1
            break
    if _WS.match(text, idx).end() != len(text):  # type: ignore[union-attr]
        return None  # more than one value
    if found is None:
        value, end = _DECODER.raw_decode(text, start)
        line, column = _place(text, start, 1, 0)
        return JsonItems(None, [JsonItem(value, line, column, start, end)])
    return JsonItems(top, found)


def _array(text: str, idx: int) -> tuple[list[JsonItem], int]:
    items: list[JsonItem] = []
    idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
    line, last = 1, 0
    if text[idx] == "]":
        return items, idx + 1
    while True:
        value, end = _DECODER.raw_decode(text, idx)
        line, column = _place(text, idx, line, last)
        last = idx
        items.append(JsonItem(value, line, column, idx, end))
        idx = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[idx] == ",":
            idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
            continue
        if text[idx] != "]":
            raise _NotFast
        return items, idx + 1


def _place(text: str, idx: int, line: int, last: int) -> tuple[int, int]:
    """Line and column (1-based) of ``idx``, counting on from ``last`` on ``line``."""
    line += text.count("\n", last, idx)
    return line, idx - text.rfind("\n", 0, idx)
