"""Paths: files, folders read recursively and in order, standard input, skipped files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reach.errors import ManifestError
from reach.loader import read_cluster

DATA = Path(__file__).resolve().parents[1] / "data" / "loader"
TREE = DATA / "tree"


def test_folder_is_read_recursively_in_sorted_order():
    cluster = read_cluster(TREE)
    assert [(p.namespace, p.name) for p in cluster.pods] == [
        ("one", "a"), ("two", "b"), ("two", "c1"), ("two", "c2")]
    assert [p.location.path for p in cluster.pods] == [
        str(TREE / "a.yaml"), str(TREE / "sub" / "b.yml"),
        str(TREE / "sub" / "c.json"), str(TREE / "sub" / "c.json")]


def test_every_file_not_read_is_reported_by_name():
    notes = [(d.severity, d.code, d.message) for d in read_cluster(TREE).diagnostics]
    assert notes == [
        ("info", "skipped-file", f"skipped {TREE / 'README.md'}: not a .yaml, .yml or .json file"),
        ("warning", "not-kubernetes",
         f"skipped a document of {TREE / 'array.json'}: not a Kubernetes object (a list)"),
        ("warning", "not-kubernetes",
         f"skipped a document of {TREE / 'nokind.yaml'}: not a Kubernetes object "
         "(no kind or apiVersion)"),
        ("warning", "skipped-file",
         f"skipped {TREE / 'notes.txt'}: not a .yaml, .yml or .json file"),
        ("info", "unknown-kind", "skipped ConfigMap (v1): reach does not use this kind"),
    ]


def test_hidden_files_and_folders_are_left_out():
    names = {p.name for p in read_cluster(TREE).pods}
    assert "hidden" not in names and "hidden-file" not in names


def test_files_that_are_not_manifests_warn(tmp_path: Path):
    (tmp_path / "graph.dot").write_text("digraph { a -> b }\n")
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    cluster = read_cluster(tmp_path)
    assert [str(d) for d in cluster.diagnostics] == [
        f"{tmp_path / 'graph.dot'}: warning: skipped {tmp_path / 'graph.dot'}: "
        "not a .yaml, .yml or .json file"]
    assert [p.name for p in cluster.pods] == ["a"]


def test_a_file_named_explicitly_is_read_whatever_its_suffix(tmp_path: Path):
    file = tmp_path / "pod.txt"
    file.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    assert [p.name for p in read_cluster(file).pods] == ["a"]


def test_a_file_given_twice_is_read_once():
    cluster = read_cluster(TREE / "a.yaml", TREE, str(TREE / "a.yaml"))
    assert [p.name for p in cluster.pods].count("a") == 1


def test_missing_path_is_a_manifest_error():
    with pytest.raises(ManifestError) as info:
        read_cluster("no/such/place.yaml")
    assert str(info.value) == "no/such/place.yaml: no such file or directory"


def test_stdin_is_read_from_the_given_text_and_located_as_stdin():
    cluster = read_cluster("-", stdin_text="apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    assert str(cluster.pods[0].location) == "<stdin>:1:1"


def test_stdin_mixes_with_files():
    cluster = read_cluster(TREE / "a.yaml", "-", stdin_text=(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: z, namespace: one}\n"))
    assert [p.name for p in cluster.pods] == ["a", "z"]


def test_stdin_is_read_from_sys_stdin_without_text(monkeypatch: pytest.MonkeyPatch):
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(pod))
    assert [p.name for p in read_cluster("-").pods] == ["a"]


def test_list_kinds_are_unpacked_at_any_depth():
    cluster = read_cluster(DATA / "list.yaml")
    assert [ns.name for ns in cluster.namespaces] == ["shop"]
    assert [w.ref for w in cluster.workloads] == ["shop/web"]
    assert [p.ref for p in cluster.policies] == ["shop/deny"]
    assert str(cluster.policies[0].location) == f"{DATA / 'list.yaml'}:22:5"


def test_list_items_without_kind_take_it_from_the_list():
    cluster = read_cluster(TREE / "sub" / "c.json")
    assert [p.name for p in cluster.pods] == ["c1", "c2"]


def test_a_folder_named_like_a_manifest_is_a_folder(tmp_path: Path):
    folder = tmp_path / "pod.yaml"
    folder.mkdir()
    (folder / "inner.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    assert [p.name for p in read_cluster(folder).pods] == ["a"]


def test_a_dangling_link_is_a_manifest_error(tmp_path: Path):
    link = tmp_path / "dangling.yaml"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ManifestError, match="no such file or directory"):
        read_cluster(link)
