"""PlainSource: the typed reads of a Source over a value json decoded."""

from __future__ import annotations

import pytest

from reach.documents._json import Imprecise, JsonItem
from reach.documents._plain import PlainSource


def _source(value: object) -> PlainSource:
    src = PlainSource("dump.json")
    src.at(JsonItem(value, 4, 9, 100, 200))
    return src


def test_the_object_itself_is_located_at_its_item():
    value = {"kind": "Pod"}
    src = _source(value)
    assert str(src.location(value)) == "dump.json:4:9"


def test_anything_inside_the_object_has_no_place():
    value = {"metadata": {"name": "web"}}
    src = _source(value)
    with pytest.raises(Imprecise):
        src.location(value["metadata"])
    with pytest.raises(Imprecise):
        src.place(value["metadata"])
    with pytest.raises(Imprecise):
        src.fail(value, "even the object's own error is said by YAML")


@pytest.mark.parametrize(("read", "value"), [
    ("mapping", {"a": 1}), ("sequence", [1]), ("string", "x"), ("integer", 80),
    ("int_or_string", 80), ("int_or_string", "http"), ("boolean", False),
])
def test_a_value_of_the_type_asked_for_is_read(read: str, value: object):
    got = getattr(_source({}), read)(value, "a field")
    assert got == ({"a": ("a", 1)} if read == "mapping" else value)


@pytest.mark.parametrize("read", ["mapping", "sequence", "string", "integer",
                                  "int_or_string", "boolean"])
def test_null_reads_as_none(read: str):
    assert getattr(_source({}), read)(None, "a field") is None


@pytest.mark.parametrize(("read", "value"), [
    ("mapping", [1]), ("sequence", {"a": 1}), ("string", 80), ("integer", "80"),
    ("integer", True), ("int_or_string", True), ("int_or_string", [1]), ("boolean", "true"),
    ("boolean", 1),
])
def test_a_value_of_another_type_is_left_to_yaml(read: str, value: object):
    with pytest.raises(Imprecise):
        getattr(_source({}), read)(value, "a field")


def test_text_of_is_a_string_or_none():
    src = _source({})
    assert src.text_of("web") == "web"
    assert src.text_of(5) is None
    assert src.text_of(None) is None
