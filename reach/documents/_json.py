"""JSON text read fast: ``json``'s C scanner, then node trees shaped as YAML's.

A ``kubectl get -o json`` dump parsed as YAML costs many times what ``json`` takes,
so a text that is one JSON object (a single object, or a List of them) is read
here instead: each List item is decoded on its own with ``raw_decode``, which gives
its exact start. Each item becomes a node tree like the one PyYAML composes (same
node types, tags and values), so the readers do not know which path a document
took. Only the item's root node carries its exact line and column; the nodes below
it carry :data:`IMPRECISE`, and :class:`Source` raises :class:`Imprecise` when
asked where such a node is (an error or a warning about a field). The caller
then reads the whole text again through YAML, where every node is located.

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

from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["IMPRECISE", "Imprecise", "JsonItem", "JsonItems", "json_items", "to_node"]

IMPRECISE = Mark("<json>", -1, -1, -1, None, 0)
"""The mark of every node below an item's root on the fast path: its place is unknown."""


class Imprecise(Exception):
    """Raised when the place of a node read on the fast path is asked for."""


class _NotFast(Exception):
    """This text is not read on the fast path."""


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
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


def to_node(item: JsonItem, path: str, scalars: dict[Any, ScalarNode]) -> Node:
    """The item as the node tree YAML would compose (the root located,
    nothing below).

    Scalar nodes below the root are shared through ``scalars`` (one dict per text):
    unlocated, they are alike wherever they stand, and nothing changes a node.
    """
    def node(value: Any, mark: Mark) -> Node:
        kind = type(value)
        if kind is dict:
            pairs: list[tuple[Node, Node]] = []
            for key, inner in value.items():  # strings inline: most keys and values are
                key_node = scalars.get(key)
                if key_node is None:
                    key_node = scalars[key] = ScalarNode(_STR, key, IMPRECISE, IMPRECISE, '"')
                if type(inner) is str:
                    inner_node = scalars.get(inner)
                    if inner_node is None:
                        inner_node = scalars[inner] = ScalarNode(_STR, inner, IMPRECISE,
                                                                 IMPRECISE, '"')
                    pairs.append((key_node, inner_node))
                else:
                    pairs.append((key_node, node(inner, IMPRECISE)))
            return MappingNode(_MAP, pairs, mark, mark, True)
        if kind is list:
            return SequenceNode(_SEQ, [node(inner, IMPRECISE) for inner in value], mark, mark,
                                True)
        if mark is not IMPRECISE:
            return _scalar(value, mark)
        shared = value if kind is str else (kind, value)  # True and 1 stay apart
        found = scalars.get(shared)
        if found is None:
            found = scalars[shared] = _scalar(value, IMPRECISE)
        return found

    root = node(item.value, Mark(path, item.start, item.line - 1, item.column - 1, None, 0))
    return root


def _scalar(value: Any, mark: Mark) -> ScalarNode:
    kind = type(value)
    if kind is str:
        return ScalarNode(_STR, value, mark, mark, '"')
    if kind is bool:
        return ScalarNode(_BOOL, "true" if value else "false", mark, mark, None)
    if kind is int:
        return ScalarNode(_INT, str(value), mark, mark, None)
    if value is None:
        return ScalarNode(_NULL, "null", mark, mark, None)
    raise Imprecise  # nothing json.loads gives without a float
