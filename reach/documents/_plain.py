"""Typed reads of an object ``json`` decoded, with no node tree in between.

On the JSON fast path the kinds whose fields carry no place of their own (Pods,
workloads, Services, Namespaces...) are read straight from the decoded value: a
mapping is a ``dict``, a list a ``list``, a scalar the ``str``/``int``/``bool``/
``None`` JSON gives. The readers do not tell the difference: :class:`PlainSource`
answers the same typed reads as :class:`~reach.documents._yaml.Source`, on the same
values (JSON's types are YAML's for strict JSON, floats aside, which never get
here). Only the object itself has a place (its line and column in the text).
Anything else that wants one (an error, or a warning about a field) raises
:class:`~reach.documents._json.Imprecise`, and the caller reads the whole text
again through YAML, which locates everything and says exactly the same.

>>> from reach.documents._json import JsonItem
>>> src = PlainSource("dump.json")
>>> src.at(JsonItem({"metadata": {"name": "web"}}, 3, 5, 40, 70))
>>> fields = src.mapping(src.root, "an object")
>>> src.string(src.mapping(fields["metadata"][1], "metadata")["name"][1], "name")
'web'
>>> str(src.location(src.root))
'dump.json:3:5'
"""

from __future__ import annotations

from typing import Any, NoReturn

from reach.documents._json import Imprecise, JsonItem
from reach.documents._yaml import Mapping, Source
from reach.model import Location

__all__ = ["PlainSource"]


class PlainSource(Source):
    """The typed reads of :class:`Source` over a decoded JSON object (see the module)."""

    __slots__ = ("_location", "root")

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.root: Any = None
        self._location = Location(path)

    def at(self, item: JsonItem) -> None:
        """Read ``item`` from now on."""
        self.root = item.value
        self._location = Location(self.path, item.line, item.column)

    def location(self, node: Any) -> Location:
        if node is self.root:
            return self._location  # asked for by the object, its claim, its warnings
        raise Imprecise

    def place(self, node: Any) -> tuple[int, int]:
        if node is self.root:
            return self._location.line, self._location.column
        raise Imprecise

    def fail(self, node: Any, message: str, hint: str | None = None) -> NoReturn:
        raise Imprecise  # YAML reads the text again and says it, located

    # The values are JSON's, not nodes; Mapping's node types are what the readers
    # hand back to these same methods, so the difference never shows.

    def mapping(self, node: Any, what: str) -> Mapping | None:
        if type(node) is dict:
            return {key: (key, value) for key, value in node.items()}
        if node is None:
            return None
        raise Imprecise

    def sequence(self, node: Any, what: str) -> Any:
        if type(node) is list or node is None:
            return node
        raise Imprecise

    def string(self, node: Any, what: str) -> str | None:
        if type(node) is str or node is None:
            return node
        raise Imprecise

    def text_of(self, node: Any) -> str | None:
        return node if type(node) is str else None

    def integer(self, node: Any, what: str) -> int | None:
        if type(node) is int or node is None:  # bool is not int here, nor in YAML
            return node
        raise Imprecise

    def int_or_string(self, node: Any, what: str) -> int | str | None:
        if node is None or type(node) is int or type(node) is str:
            found: int | str | None = node
            return found
        raise Imprecise

    def boolean(self, node: Any, what: str) -> bool | None:
        if type(node) is bool or node is None:
            return node
        raise Imprecise
