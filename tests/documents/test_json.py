"""JSON dumps on the fast path read exactly as YAML reads them: objects, places, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import reach.loader._cluster as collector
from reach.documents._json import json_items
from reach.errors import ManifestError
from reach.loader import read_cluster
from reach.model import Cluster

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _slow(text: str) -> Cluster:
    """``text`` read with the fast path switched off: every document through YAML."""
    original = collector.json_items
    collector.json_items = lambda _text: None
    try:
        return read_cluster("-", stdin_text=text)
    finally:
        collector.json_items = original


def _fast(text: str) -> Cluster:
    return read_cluster("-", stdin_text=text)


def _error(read, text: str) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ManifestError) as info:
        read(text)
    return str(info.value)


def _dump(folder: Path, indent: int | None = 4) -> str:
    items = []
    for file in sorted(folder.rglob("*.yaml")):
        items += [doc for doc in yaml.safe_load_all(file.read_text()) if isinstance(doc, dict)]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=indent)


def _pod(**extra: object) -> dict[str, object]:
    pod: dict[str, object] = {"apiVersion": "v1", "kind": "Pod",
                              "metadata": {"name": "web", "namespace": "shop",
                                           "labels": {"app": "web"}},
                              "status": {"podIP": "10.0.0.1"}}
    pod.update(extra)
    return pod


def _place(text: str, index: int) -> str:
    """``<stdin>:LINE:COLUMN`` of character ``index`` of ``text``."""
    return f"<stdin>:{text.count(chr(10), 0, index) + 1}:{index - text.rfind(chr(10), 0, index)}"


def _list(*items: object) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(items)}, indent=4)


@pytest.mark.parametrize("sample", ["shop", "platform", "calico", "seed", "flawed"])
@pytest.mark.parametrize("indent", [4, None])
def test_a_dump_of_every_sample_reads_as_yaml_reads_it(sample: str, indent: int | None):
    text = _dump(SAMPLES / sample, indent)
    assert json_items(text) is not None  # the fast path took it
    try:
        slow = _slow(text)
    except ManifestError as err:  # a sample of mistakes: the same error, at the same place
        assert _error(_fast, text) == str(err)
        return
    fast = _fast(text)
    assert fast == slow
    assert [p.location for p in fast.policies] == [p.location for p in slow.policies]
    rules = [(r.location, [peer.location for peer in r.peers])
             for p in fast.policies for r in p.ingress + p.egress]
    assert rules == [(r.location, [peer.location for peer in r.peers])
                     for p in slow.policies for r in p.ingress + p.egress]


def test_each_item_is_located_at_its_first_brace():
    text = _list(_pod(), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    cluster = _fast(text)
    assert str(cluster.pods[0].location) == "<stdin>:5:9"
    assert str(cluster.namespaces[0].location) == _place(text, text.rindex("{", 0, text.index(
        '"Namespace"')))


def test_a_bad_field_deep_in_a_pod_is_located_exactly():
    pod = _pod(spec={"containers": [{"name": "app", "ports": [{"containerPort": "eighty"}]}]})
    text = _list(pod)
    message = _error(_fast, text)
    assert message == _error(_slow, text)
    assert message.startswith(_place(text, text.index('"eighty"')) + ": containerPort")


def test_a_warning_about_a_field_points_at_the_field():
    pod = _pod(spec={"containers": [{"name": "app", "ports": [{"containerport": 80}]}]})
    fast, slow = _fast(_list(pod)), _slow(_list(pod))
    assert fast.diagnostics == slow.diagnostics
    (warning,) = [d for d in fast.diagnostics if d.code == "container-port"]
    text = _list(pod)
    assert str(warning.location) == _place(text, text.rindex("{", 0, text.index('"containerport"')))


def test_a_duplicate_key_is_an_error_as_in_yaml():
    text = _list(_pod()).replace('"labels": {', '"labels": {"app": "x", ', 1)
    assert _error(_fast, text) == _error(_slow, text)
    assert "duplicate key" in _error(_fast, text)


def test_of_two_duplicate_keys_in_two_objects_the_first_written_is_named():
    text = _list(_pod(), _pod()).replace('"labels": {', '"labels": {"app": "x", ', 1)
    last = text.rindex('"kind": "Pod"')
    text = text[:last] + '"kind": "Pod", ' + text[last:]
    first = text.index('"app"', text.index('"app": "x", ') + 1)
    assert _error(_fast, text).startswith(f"{_place(text, first)}: duplicate key")
    assert _error(_fast, text) == _error(_slow, text)


def test_a_duplicate_key_of_the_list_itself_is_an_error():
    text = '{"kind": "List", "kind": "List", "apiVersion": "v1", "items": []}'
    assert json_items(text) is None
    assert "duplicate key" in _error(_fast, text)


@pytest.mark.parametrize("text", [
    '{"a": 1} {"b": 2}',              # two values
    '[{"kind": "Pod"}]',              # a top-level array (calicoctl) goes through YAML
    '{"a": 1.5}',                     # a float: YAML 1.1 types it its own way
    '{"a": {"b": 1, "b": 2}}',        # a duplicate key: YAML says where
    '{"a": NaN}',
    "kind: Pod",
    "",
    '{"a": [1, 2,]}',                 # not strict JSON
])
def test_what_the_fast_path_leaves_to_yaml(text: str):
    assert json_items(text) is None


def test_floats_and_escapes_still_read_through_yaml():
    pod = _pod(metadata={"name": "web", "namespace": "shop",
                         "annotations": {"note": 'say "hi"', "ratio": 0.5}})
    assert _fast(_list(pod)) == _slow(_list(pod))
    assert _fast(_list(pod)).pods[0].name == "web"


def test_escaped_quotes_read_on_the_fast_path_as_through_yaml():
    pod = _pod(metadata={"name": "web", "namespace": "shop",
                         "labels": {"app": "web"}, "annotations": {'say "hi"': 'a "quoted": b'}})
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "p", "namespace": "shop",
                           "annotations": {"note": 'keys "like": this'}},
              "spec": {"podSelector": {}}}
    text = _list(pod, policy)
    assert json_items(text) is not None
    assert _fast(text) == _slow(text)
    assert _fast(text).policies[0].location == _slow(text).policies[0].location


def test_a_single_object_is_read_on_the_fast_path():
    text = json.dumps(_pod(), indent=2)
    assert json_items(text) is not None
    assert _fast(text) == _slow(text)


def test_a_policy_error_in_a_dump_is_located_exactly():
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "p", "namespace": "shop"},
              "spec": {"podSelector": {}, "ingress": [{"form": []}]}}
    message = _error(_fast, _list(_pod(), policy))
    assert message == _error(_slow, _list(_pod(), policy))
    assert 'unknown field "form"' in message


def test_typed_lists_give_their_items_a_kind():
    text = json.dumps({"apiVersion": "v1", "kind": "PodList",
                       "items": [{"metadata": {"name": "web", "namespace": "shop"}}]})
    assert [p.ref for p in _fast(text).pods] == ["shop/web"] == [p.ref for p in _slow(text).pods]


_names = st.text(alphabet="abcxyz-", min_size=1, max_size=6).filter(
    lambda s: s[0] != "-" and s[-1] != "-")
_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), _names,
                    st.lists(_names, max_size=2))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries(
    {"metadata": st.fixed_dictionaries({"name": _names}, optional={
        "namespace": _names, "labels": st.dictionaries(_names, _values, max_size=2)}),
     "spec": st.dictionaries(st.sampled_from(["hostNetwork", "nodeName", "containers"]),
                             _values, max_size=2)},
    optional={"kind": st.sampled_from(["Pod", "Namespace", "Service", "Node"]),
              "apiVersion": st.sampled_from(["v1", "apps/v1"])}), max_size=3),
    st.sampled_from([None, 1, 4]))
def test_any_dump_reads_as_yaml_reads_it_or_fails_alike(items: list[dict[str, object]],
                                                        indent: int | None):
    """Whatever a dump holds (wrong types, odd kinds, duplicates), both paths agree."""
    _assert_read_alike(items, indent)


def _assert_read_alike(items: list[dict[str, object]], indent: int | None) -> None:
    """The List of ``items`` reads (values and warnings) or fails alike on both paths."""
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=indent)
    try:
        slow = _slow(text)
    except ManifestError as err:
        assert _error(_fast, text) == str(err)
        return
    fast = _fast(text)
    assert fast == slow
    assert fast.diagnostics == slow.diagnostics


def _sometimes(right: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Mostly a value of the right type, now and then anything (a wrong type, null)."""
    return st.sampled_from(range(8)).flatmap(lambda k: _values if k == 7 else right)


_labels = st.dictionaries(_names, _sometimes(_names), max_size=2)
_meta = st.fixed_dictionaries({"name": _names}, optional={
    "namespace": _names, "labels": _sometimes(_labels),
    "annotations": _sometimes(st.dictionaries(
        st.sampled_from(["helm.sh/hook", "note"]), _sometimes(st.just("test")), max_size=2)),
    "ownerReferences": _sometimes(st.lists(st.fixed_dictionaries(
        {"kind": st.sampled_from(["ReplicaSet", "Job", "StatefulSet"]), "name": _names},
        optional={"controller": _sometimes(st.booleans())}), max_size=1))})
_container_port = st.fixed_dictionaries({
    "containerPort": _sometimes(st.integers(1, 65535))}, optional={
    "name": _sometimes(st.sampled_from(["http", "metrics", "Bad_Name"])),
    "protocol": _sometimes(st.sampled_from(["TCP", "UDP", "tcp"]))})
_pod_spec = st.fixed_dictionaries({}, optional={
    "containers": _sometimes(st.lists(st.fixed_dictionaries(
        {"name": _names},
        optional={"ports": _sometimes(st.lists(_container_port, min_size=1, max_size=2))}),
        min_size=1, max_size=2)),
    "hostNetwork": _sometimes(st.booleans()),
    "serviceAccountName": _sometimes(_names)})
_ip = st.sampled_from(["10.0.0.1", "10.0.0.2", "fd00::1", "not-an-ip", ""])
_status = st.fixed_dictionaries({}, optional={
    "phase": _sometimes(st.sampled_from(["Running", "Succeeded", "Pending"])),
    "podIP": _sometimes(_ip),
    "podIPs": _sometimes(st.lists(st.fixed_dictionaries({"ip": _sometimes(_ip)}), max_size=2))})
_objects = st.one_of(
    st.fixed_dictionaries({"apiVersion": st.just("v1"), "kind": st.just("Pod"), "metadata": _meta},
                          optional={"spec": _sometimes(_pod_spec),
                                    "status": _sometimes(_status)}),
    st.fixed_dictionaries(
        {"apiVersion": st.just("apps/v1"),
         "kind": st.sampled_from(["Deployment", "StatefulSet", "DaemonSet"]), "metadata": _meta},
        optional={"spec": _sometimes(st.fixed_dictionaries({}, optional={
            "replicas": _sometimes(st.integers(-1, 3)),
            "template": _sometimes(st.fixed_dictionaries({}, optional={
                "metadata": _sometimes(st.fixed_dictionaries(
                    {}, optional={"labels": _sometimes(_labels)})),
                "spec": _sometimes(_pod_spec)}))}))}),
    st.fixed_dictionaries(
        {"apiVersion": st.just("v1"), "kind": st.just("Service"), "metadata": _meta},
        optional={"spec": _sometimes(st.fixed_dictionaries({}, optional={
            "selector": _sometimes(_labels),
            "type": _sometimes(st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer"])),
            "ports": _sometimes(st.lists(st.fixed_dictionaries({}, optional={
                "port": _sometimes(st.integers(0, 65536)),
                "targetPort": _sometimes(st.one_of(st.integers(1, 65535),
                                                   st.sampled_from(["http", "metrics"]))),
                "protocol": _sometimes(st.sampled_from(["TCP", "UDP"])),
                "name": _sometimes(_names)}), max_size=2))}))}))


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every place in ``value`` (itself, and each key's or item's value below it)."""
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*path, index))
    return found


def _confusions(value: object) -> st.SearchStrategy[object]:
    """Values a writer might put in the place of ``value``: another JSON type."""
    if isinstance(value, bool):
        return st.sampled_from([1, "true", None, [True]])
    if isinstance(value, int):
        return st.sampled_from([True, str(value), None, [value], {"value": value}])
    if isinstance(value, str):
        return st.sampled_from([5, True, None, [value], {value: value}])
    return _values


def _at(value: object, path: tuple[object, ...]) -> object:
    for step in path:
        value = value[step]  # type: ignore[index]
    return value


def _replaced(value: object, path: tuple[object, ...], new: object) -> object:
    if not path:
        return new
    if isinstance(value, dict):
        return {k: _replaced(v, path[1:], new) if k == path[0] else v for k, v in value.items()}
    assert isinstance(value, list)
    return [_replaced(v, path[1:], new) if i == path[0] else v for i, v in enumerate(value)]


@settings(max_examples=500, deadline=None)
@given(st.lists(_objects, min_size=1, max_size=4), st.sampled_from([None, 2]), st.data())
def test_pods_workloads_and_services_read_from_decoded_values_as_yaml_reads_them(
        items: list[dict[str, object]], indent: int | None, data: st.DataObject):
    """The kinds read straight from json's values (no node tree): a wrong type anywhere in
    them (one place replaced by anything), warnings and errors come out exactly as when
    every document goes through YAML."""
    for i, item in enumerate(items):  # distinct names: no duplicate-object error hides the rest
        item["metadata"] = {**item["metadata"], "name": f"o{i}"}  # type: ignore[dict-item]
    places = _paths(items)[1:]
    leaves = [p for p in places if not isinstance(_at(items, p), (dict, list))]
    place = data.draw(st.sampled_from(leaves or places))
    wrong = data.draw(_confusions(_at(items, place)))
    _assert_read_alike(_replaced(items, place, wrong), indent)  # type: ignore[arg-type]


@pytest.mark.parametrize("as_json", [True, False])
def test_reading_a_large_file_reports_progress_in_characters(as_json: bool):
    pods = [_pod(metadata={"name": f"web-{i}", "namespace": "shop"}) for i in range(600)]
    text = _list(*pods) if as_json else "\n---\n".join(json.dumps(p) for p in pods)
    seen: list[tuple[str, int, int]] = []
    cluster = read_cluster("-", stdin_text=text, progress=lambda *call: seen.append(call))
    assert len(cluster.pods) == 600
    assert len(seen) == 2  # every 256 objects
    assert all(stage == "reading <stdin>" and 0 < done < total == len(text)
               for stage, done, total in seen)
    assert seen[0][1] < seen[1][1]


def test_a_calico_selector_error_in_a_dump_points_at_the_character():
    policy = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
              "metadata": {"name": "g"},
              "spec": {"selector": "app == 'web' &&& x", "types": ["Ingress"]}}
    text = _list(_pod(), policy)
    bad = text.index("&&& x") + 2  # the third "&"
    assert _error(_fast, text).startswith(f"{_place(text, bad)}: invalid selector")
    assert _error(_fast, text) == _error(_slow, text)
