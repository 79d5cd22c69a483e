"""YAML and JSON text: syntax errors, anchors and aliases, duplicate keys, encodings."""

from __future__ import annotations

import pytest
from helpers import error, load

from reach.errors import ManifestError
from reach.loader import read_cluster
from reach.model import Location

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"


def test_syntax_error_is_located():
    assert error("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n labels: {}\n") == (
        "<stdin>:5:2: YAML syntax error: did not find expected key "
        "(check the indentation of this line and the lines above it)")


def test_tab_indentation_is_refused_with_a_hint():
    assert error("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: a\n") == (
        "<stdin>:4:1: YAML syntax error: found character that cannot start any token "
        "(indent with spaces, not tabs)")


def test_alias_is_refused():
    assert error("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: *x\n") == (
        '<stdin>:4:7: YAML alias "*x" is not supported '
        "(write the value out in full: reach does not expand anchors and aliases)")


def test_anchor_is_refused_even_without_alias():
    assert error("apiVersion: v1\nkind: Pod\nmetadata: &m {name: a}\n") == (
        '<stdin>:3:11: YAML anchor "&m" is not supported '
        "(write the value out in full: reach does not expand anchors and aliases)")


def test_alias_bomb_is_refused_before_anything_is_expanded():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 30)]
    with pytest.raises(ManifestError, match="anchor"):
        load("\n".join(lines) + "\n")


def test_asterisks_and_ampersands_in_strings_are_fine():
    cluster = load(POD.replace("{name: web}", "{name: web, annotations: {a: 'x&y', b: '*.io'}}"))
    assert [p.name for p in cluster.pods] == ["web"]


def test_duplicate_key_is_refused_at_the_second_key():
    assert error("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n") == (
        '<stdin>:5:3: duplicate key "name" (a key may appear only once)')


def test_duplicate_key_deep_in_an_ignored_field_is_refused_too():
    text = POD + "spec:\n  containers:\n  - name: a\n    env: [{name: X, value: '1', value: '2'}]\n"
    assert error(text) == '<stdin>:7:33: duplicate key "value" (a key may appear only once)'


def test_non_scalar_key_is_refused():
    assert error("? [a, b]\n: c\n") == "<stdin>:1:3: a mapping key must be a scalar, not a list"


def test_nesting_bomb_is_refused_at_the_depth_limit():
    with pytest.raises(ManifestError) as info:
        load("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert str(info.value) == "<stdin>:1:1003: nesting deeper than 1000 levels"


def test_deep_block_nesting_is_refused():
    with pytest.raises(ManifestError, match="nesting deeper than 1000 levels"):
        load("- " * 50_000 + "x\n")


def test_empty_documents_and_comments_are_ignored():
    cluster = load("---\n# nothing\n---\n" + POD + "---\n...\n")
    assert [p.name for p in cluster.pods] == ["web"]
    assert cluster.diagnostics == ()


def test_json_objects_are_read_with_locations():
    cluster = load('{\n\t"apiVersion": "v1",\n\t"kind": "Pod",\n\t"metadata": {"name": "web", '
                   '"labels": {"app": "web"}}\n}\n')
    (pod,) = cluster.pods
    assert (pod.labels["app"], pod.location) == ("web", Location("<stdin>", 1, 1))


def test_invalid_utf8_is_refused_with_its_line(tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_bytes(POD.encode() + b"# caf\xe9\n")
    with pytest.raises(ManifestError) as info:
        read_cluster(file)
    assert (info.value.line, info.value.message) == (
        4, "not UTF-8 text: invalid continuation byte at byte 52")
    assert info.value.hint == "save the file as UTF-8"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_marked_files_are_read(tmp_path, encoding: str):
    file = tmp_path / "pod.yaml"
    file.write_bytes(POD.encode(encoding))
    assert [p.name for p in read_cluster(file).pods] == ["web"]


def test_control_characters_are_a_manifest_error():
    with pytest.raises(ManifestError, match="YAML"):
        load(POD + "x: \x00\n")


def test_yaml_11_scalars_are_typed_like_kubectl_reads_them():
    assert error(POD.replace("{name: web}", "{name: web, labels: {enabled: yes}}")) == (
        '<stdin>:3:41: label "enabled" in metadata.labels must have a string value, '
        'not a boolean (quote it: enabled: "yes")')


def test_explicit_tags_with_invalid_values_are_manifest_errors():
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n"
            "spec:\n  replicas: VALUE\n  template: {spec: {hostNetwork: !!bool maybe}}\n")
    assert error(text.replace("VALUE", "!!int ''")) == (
        '<stdin>:5:13: spec.replicas: "" is not a valid integer')
    assert error(text.replace("VALUE", "2")) == (
        '<stdin>:6:34: spec.hostNetwork: "maybe" is not a valid boolean')


@pytest.mark.parametrize("number", ["9" * 5000, "0755", "1_000", "0x1F"],
                         ids=["5000 digits", "octal", "underscores", "hex"])
def test_an_integer_reads_as_yaml_11_or_fails_as_a_manifest_error(number: str):
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n"
            f"spec:\n  replicas: {number}\n")
    if len(number) > 100:  # more digits than Python converts: a clean error, no traceback
        assert error(text).startswith("<stdin>:5:13: spec.replicas: ")
        assert error(text).endswith("is not a valid integer")
    else:
        (workload,) = load(text).workloads
        assert workload.replicas == {"0755": 493, "1_000": 1000, "0x1F": 31}[number]
