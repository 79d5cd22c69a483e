"""YAML text to located node trees, and typed reads of those nodes.

PyYAML's C composer (``yaml.compose_all`` with ``CSafeLoader``) builds the node
tree; nothing is constructed until a field is read, so a field reach does not use
costs nothing. Before composing, the text is screened for what would make the
composer misbehave: anchors and aliases (an alias bomb stays small as a node graph
but explodes when walked) and nesting deep enough to overflow the C stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NoReturn

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reach.documents._json import Imprecise
from reach.errors import ManifestError
from reach.model import Location

__all__ = [
    "MAX_DEPTH",
    "Mapping",
    "Source",
    "describe",
    "is_null",
]

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_IMPLICIT: dict[str | None, list[tuple[str, Any]]] = yaml.resolver.Resolver.yaml_implicit_resolvers
_WILDCARD = _IMPLICIT.get(None, [])
_PLAIN_TAGS: dict[str, str] = {}


def _plain_tag(value: str) -> str:
    """The tag of a plain scalar under YAML 1.1 implicit typing (as SafeLoader does)."""
    tag = _PLAIN_TAGS.get(value)
    if tag is None:
        tag = "tag:yaml.org,2002:str"
        for candidate, pattern in _IMPLICIT.get(value[:1], []) + _WILDCARD:
            if pattern.match(value):
                tag = candidate
                break
        if len(_PLAIN_TAGS) > 100_000:
            _PLAIN_TAGS.clear()
        _PLAIN_TAGS[value] = tag
    return tag


class _Loader(_BASE_LOADER):  # type: ignore[misc]
    """The C safe loader with a memoised resolver and no path resolvers.

    The composer calls these three methods for every node; PyYAML's versions
    cost more than the C parsing itself.
    """

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                return _PLAIN_TAGS.get(value) or _plain_tag(value)
            return "tag:yaml.org,2002:str"
        if kind is SequenceNode:
            return "tag:yaml.org,2002:seq"
        return "tag:yaml.org,2002:map"

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

MAX_DEPTH = 1000
"""Deepest nesting accepted; Kubernetes objects stay far below it."""

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_TYPE_NAMES = {
    _STR: "a string",
    _NULL: "null",
    _INT: "an integer",
    _FLOAT: "a float",
    _BOOL: "a boolean",
    "tag:yaml.org,2002:timestamp": "a timestamp",
}
_CONSTRUCT = yaml.constructor.SafeConstructor()

# Screens: text that matches none of them has no anchor, no alias and nests
# less than about 700 levels (block nesting needs indentation or a run of
# compact "- " entries, flow nesting needs brackets), so composing it is safe.
_ANCHOR_OR_ALIAS = re.compile(r"[&*][^\s,\[\]{}]")
_DEEP_INDENT = re.compile(r"^ {200}", re.MULTILINE)
_COMPACT_RUN = re.compile(r"(?:[-?][ \t]+(?:![^\s]*[ \t]+)?){50}")
_FLOW_LIMIT = 200

Mapping = dict[str, tuple[Node, Node]]
"""A mapping node read as ``{key: (key node, value node)}``."""


def is_null(node: Node) -> bool:
    """Whether ``node`` is a YAML null (``~``, ``null`` or nothing at all)."""
    return type(node) is ScalarNode and node.tag == _NULL


def describe(node: Node) -> str:
    """What a node is, for messages: ``a mapping``, ``a list``, ``an integer``..."""
    if type(node) is MappingNode:
        return "a mapping"
    if type(node) is SequenceNode:
        return "a list"
    tag = getattr(node, "tag", None)
    if tag is None:
        raise Imprecise  # a value read on the JSON fast path: YAML describes it, located
    return _TYPE_NAMES.get(tag, f"a value tagged {tag}")


class Source:
    """One input (file or ``<stdin>``): turns its nodes into locations, values and errors."""

    __slots__ = ("_columns", "_lines", "path", "text")

    def __init__(self, path: str) -> None:
        self.path = path
        self.text = ""  # the text being read, for error columns inside a scalar
        # where the nodes being read were composed from: a slice of ``text`` starting
        # this many lines down (and columns in, on its first line)
        self._lines = self._columns = 0

    # -- places and errors -------------------------------------------------------

    def location(self, node: Node) -> Location:
        """The 1-based line and column where ``node`` starts (a value read on the JSON
        fast path raises :class:`~reach.documents._json.Imprecise` there instead)."""
        line, column = self.place(node)
        return Location(self.path, line, column)

    def place(self, node: Node) -> tuple[int, int]:
        """The 1-based line and column of ``node`` in :attr:`text`."""
        mark = node.start_mark
        if mark.line == 0:
            return self._lines + 1, self._columns + mark.column + 1
        return self._lines + mark.line + 1, mark.column + 1

    def fail(self, node: Node, message: str, hint: str | None = None) -> NoReturn:
        """Raise a :class:`ManifestError` located at ``node`` (on the JSON fast path,
        :class:`~reach.documents._json.Imprecise`, as :meth:`location`)."""
        line, column = self.place(node)
        raise ManifestError(message, path=self.path, line=line, column=column, hint=hint)

    # -- documents ---------------------------------------------------------------

    def documents(self, text: str) -> Iterator[Node]:
        """The non-empty documents of ``text``, each checked for duplicate keys.

        Raises :class:`ManifestError` for a syntax error, an anchor or alias, a
        nesting deeper than :data:`MAX_DEPTH`, a non-scalar or duplicate key.
        """
        self.text = text
        self._lines = self._columns = 0
        try:
            if (
                _ANCHOR_OR_ALIAS.search(text)
                or text.count("[") + text.count("{") > _FLOW_LIMIT
                or _DEEP_INDENT.search(text)
                or _COMPACT_RUN.search(text)
            ):
                self._screen_events(text)
            for root in yaml.compose_all(text, Loader=_Loader):
                if is_null(root):
                    continue
                self._check_keys(root)
                yield root
        except yaml.MarkedYAMLError as exc:
            self._syntax_error(exc, text)
        except yaml.YAMLError as exc:
            raise ManifestError(f"YAML error: {exc}", path=self.path) from None
        except RecursionError:  # only the pure-Python composer recurses
            raise ManifestError("nesting too deep to read", path=self.path) from None
        except UnicodeError as exc:
            raise ManifestError(f"not valid text: {exc}", path=self.path) from None

    def composed(self, text: str, start: int, end: int, line: int, column: int) -> Node:
        """The one JSON object ``text[start:end]`` (written at 1-based ``line`` and
        ``column`` of ``text``) composed through YAML, every node located in ``text``
        (until the next document is composed: read it before)."""
        self.text = text
        try:
            roots = list(yaml.compose_all(text[start:end], Loader=_Loader))
        except yaml.YAMLError as exc:  # json read it: YAML reads strict JSON too
            raise ManifestError(f"YAML error: {exc}", path=self.path, line=line,
                                column=column) from None
        root = roots[0]
        self._lines, self._columns = line - 1, column - 1
        self._check_keys(root)
        return root

    def _screen_events(self, text: str) -> None:
        depth = 0
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    self._fail_at(event, f"nesting deeper than {MAX_DEPTH} levels")
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
            if isinstance(event, AliasEvent):
                self._fail_at(
                    event,
                    f'YAML alias "*{event.anchor}" is not supported',
                    "write the value out in full: reach does not expand anchors and aliases",
                )
            if isinstance(event, NodeEvent) and event.anchor is not None:
                self._fail_at(
                    event,
                    f'YAML anchor "&{event.anchor}" is not supported',
                    "write the value out in full: reach does not expand anchors and aliases",
                )

    def _fail_at(self, event: Any, message: str, hint: str | None = None) -> NoReturn:
        mark = event.start_mark
        raise ManifestError(
            message, path=self.path, line=mark.line + 1, column=mark.column + 1, hint=hint
        )

    def _syntax_error(self, exc: yaml.MarkedYAMLError, text: str) -> NoReturn:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "nesting depth" in problem:  # libyaml 0.2.6+ stops at its own depth limit
            problem = f"nesting deeper than {MAX_DEPTH} levels"
            raise ManifestError(
                problem,
                path=self.path,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            ) from None
        hint = None
        lines = text.splitlines()
        line = lines[mark.line] if mark and mark.line < len(lines) else ""
        if "\t" in line[: mark.column + 1 if mark else 0]:
            hint = "indent with spaces, not tabs"
        elif "expected" in problem or "mapping values" in problem:
            hint = "check the indentation of this line and the lines above it"
        raise ManifestError(
            f"YAML syntax error: {problem}",
            path=self.path,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint=hint,
        ) from None

    def _check_keys(self, root: Node) -> None:
        """Refuse a non-scalar or duplicate key, mappings in the order written (a
        mapping's own keys before those of the mappings in it)."""
        stack = [root]
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            kind = type(node)
            if kind is MappingNode:
                seen: set[str] = set()
                for key, _ in node.value:
                    if type(key) is not ScalarNode:
                        self.fail(key, f"a mapping key must be a scalar, not {describe(key)}")
                    text = key.value
                    if text in seen:
                        self.fail(key, f'duplicate key "{text}"', "a key may appear only once")
                    seen.add(text)
                for _, value in reversed(node.value):  # visited in the order written
                    if type(value) is not ScalarNode:
                        push(value)
            elif kind is SequenceNode:
                for item in reversed(node.value):
                    if type(item) is not ScalarNode:
                        push(item)

    # -- typed reads -------------------------------------------------------------

    def mapping(self, node: Node, what: str) -> Mapping | None:
        """A mapping node as ``{key: (key node, value node)}``; None for null."""
        if type(node) is MappingNode:
            return {key.value: (key, value) for key, value in node.value}
        if is_null(node):
            return None
        self.fail(node, f"{what} must be a mapping, not {describe(node)}", _indent_hint(node))

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        """The items of a sequence node; None for null."""
        if type(node) is SequenceNode:
            items: list[Node] = node.value
            return items
        if is_null(node):
            return None
        self.fail(node, f"{what} must be a list, not {describe(node)}",
                  "start each entry with `- `")

    def string(self, node: Node, what: str) -> str | None:
        """A string scalar; None for null; anything else is an error."""
        text = self.text_of(node)
        if text is not None:
            return text
        if is_null(node):
            return None
        self.fail(node, f"{what} must be a string, not {describe(node)}", _quote_hint(node))

    def text_of(self, node: Node) -> str | None:
        """The text of a string scalar; None for anything else (no error)."""
        if type(node) is ScalarNode and node.tag == _STR:
            text: str = node.value
            return text
        return None

    def integer(self, node: Node, what: str) -> int | None:
        """An integer scalar; None for null."""
        if type(node) is ScalarNode:
            if node.tag == _INT:
                return self._construct_int(node, what)
            if node.tag == _NULL:
                return None
        self.fail(node, f"{what} must be an integer, not {describe(node)}",
                  _unquote_hint(node))

    def int_or_string(self, node: Node, what: str) -> int | str | None:
        """An integer or a string scalar (Kubernetes IntOrString); None for null."""
        if type(node) is ScalarNode:
            if node.tag == _INT:
                return self._construct_int(node, what)
            if node.tag == _STR:
                text: str = node.value
                return text
            if node.tag == _NULL:
                return None
        self.fail(node, f"{what} must be an integer or a name, not {describe(node)}")

    def boolean(self, node: Node, what: str) -> bool | None:
        """A boolean scalar; None for null."""
        if type(node) is ScalarNode:
            if node.tag == _BOOL:
                value = _CONSTRUCT.bool_values.get(str(node.value).lower())
                if value is None:
                    self.fail(node, f'{what}: "{node.value}" is not a valid boolean')
                return bool(value)
            if node.tag == _NULL:
                return None
        self.fail(node, f"{what} must be true or false, not {describe(node)}")

    def _construct_int(self, node: ScalarNode, what: str) -> int:
        text: str = node.value
        try:
            if text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1):
                return int(text)  # plain decimal (YAML 1.1 reads a leading 0 as octal)
            return int(_CONSTRUCT.construct_yaml_int(node))
        except (ValueError, IndexError):
            self.fail(node, f'{what}: "{node.value}" is not a valid integer')


def _indent_hint(node: Node) -> str | None:
    if type(node) is SequenceNode:
        return "remove the `- ` in front of its fields"
    if type(node) is ScalarNode and node.tag == _STR and ":" in node.value:
        return "put a space after each `:`"
    return None


def _quote_hint(node: Node) -> str | None:
    if type(node) is ScalarNode and node.tag != _NULL:
        return f'quote it: "{node.value}"'
    return None


def _unquote_hint(node: Node) -> str | None:
    if type(node) is ScalarNode and node.tag == _STR and node.value.strip().isdigit():
        return "write the number without quotes"
    return None
