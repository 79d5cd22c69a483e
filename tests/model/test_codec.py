"""The model as plain data: every cluster comes back equal, and nothing else is accepted."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import clusters

from reach.loader import read_cluster
from reach.model import Cluster, Labels, Location, Pod
from reach.model.codec import CodecError, Encoder, decode_cluster, encode_cluster
from reach.model.expressions import And, CalicoSelector, Compare, InSet, Not

SAMPLES = sorted(p for p in Path("samples").iterdir() if p.is_dir() and p.name != "seed")


def round_trip(cluster: Cluster) -> Cluster:
    text = json.dumps(encode_cluster(cluster))  # through JSON text, as a cache holds it
    return decode_cluster(json.loads(text)).cluster


@pytest.mark.parametrize("folder", SAMPLES, ids=lambda p: p.name)
def test_every_sample_comes_back_equal(folder: Path) -> None:
    cluster = read_cluster(folder)
    again = round_trip(cluster)
    assert again == cluster
    # equal down to what equality does not look at: order, locations, types
    assert [str(p.location) for p in again.policies] == [str(p.location) for p in cluster.policies]
    assert [type(p.pod_selector) for p in again.policies] == [
        type(p.pod_selector) for p in cluster.policies]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster=clusters())
def test_generated_clusters_come_back_equal(cluster: Cluster) -> None:
    assert round_trip(cluster) == cluster


def test_a_selector_tree_is_written_inline_and_read_back() -> None:
    tree = And((Compare("app", "==", "web"), Not(InSet("tier", ("db", "cache"), negated=True))))
    from reach.model import Entity, Peer, Policy, Rule
    selector = CalicoSelector("app == 'web' && !(tier not in {'db', 'cache'})", tree)
    policy = Policy("ns", "p", pod_selector=selector, kind="CalicoNetworkPolicy",
                    ingress=(Rule("ingress", 0, peers=(Peer(entity=Entity(selector=selector)),)),))
    again = round_trip(Cluster(policies=(policy,)))
    assert again.policies[0].pod_selector == selector
    assert again.policies[0].pod_selector.matches({"app": "web", "tier": "db"})


def test_equal_objects_are_written_once() -> None:
    where = Location("a.yaml", 3, 1)
    pods = tuple(Pod("ns", f"p{i}", Labels({"app": "web"}), location=where) for i in range(3))
    data = encode_cluster(Cluster(pods=pods))
    assert len(data["tables"]["Labels"]) == 1
    assert data["tables"]["Location"]["line"] == [3]
    assert data["tables"]["Pod"]["location"] == [0, 0, 0]


def test_an_encoder_gives_the_row_of_an_object_written_beside_the_model() -> None:
    encoder = Encoder()
    pod = Pod("ns", "b")
    row = encoder.ref(pod)
    decoded = decode_cluster(encoder.data(Cluster(pods=(Pod("ns", "a"), pod))))
    assert decoded.table(Pod)[row] is decoded.cluster.pods[1]


def _sample() -> Cluster:
    return read_cluster(Path("samples/shop"), Path("samples/calico"))


def _data() -> dict[str, Any]:
    return json.loads(json.dumps(encode_cluster(_sample())))


def _broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(_data())
    tables = data["tables"]
    if change == "format":
        data["format"] = 99
    elif change == "schema":
        data["schema"] = "Pod(name:scalar)"
    elif change == "missing table":
        del tables["Pod"]
    elif change == "extra field":
        tables["Pod"]["colour"] = ["red"] * len(tables["Pod"]["name"])
    elif change == "short column":
        tables["Pod"]["name"].pop()
    elif change == "wrong scalar type":
        tables["Pod"]["replicas"][0] = "1"
    elif change == "bool for int":
        tables["Pod"]["replicas"][0] = True
    elif change == "row out of range":
        tables["Pod"]["location"][0] = len(tables["Location"]["line"])
    elif change == "negative row":
        tables["Pod"]["location"][0] = -1
    elif change == "labels odd":
        tables["Labels"][0] = ["app"]
    elif change == "labels not strings":
        tables["Labels"][0] = ["app", 1]
    elif change == "unknown tree node":
        row = next(i for i, t in enumerate(tables["CalicoSelector"]["tree"]) if t)
        tables["CalicoSelector"]["tree"][row] = ["Exec", "rm -rf /"]
    elif change == "union of another type":
        tables["Policy"]["pod_selector"][0] = ["Pod", 0]
    elif change == "root":
        data["root"] = 5
    return data


@pytest.mark.parametrize("change", [
    "format", "schema", "missing table", "extra field", "short column", "wrong scalar type",
    "bool for int", "row out of range", "negative row", "labels odd", "labels not strings",
    "unknown tree node", "union of another type", "root"])
def test_anything_but_an_encoding_is_refused(change: str) -> None:
    assert decode_cluster(_data()).cluster == _sample()
    with pytest.raises(CodecError, match="not an encoded reach model"):
        decode_cluster(_broken(change))


EVERY_KIND = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa1, namespace: shop, labels: {role: front}}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {zone: a}}
status: {addresses: [{type: InternalIP, address: 10.9.0.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  serviceAccountName: sa1
  containers: [{name: c, image: web, ports: [{name: http, containerPort: 80}]}]
status: {podIP: 10.0.0.1}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: set, labels: {app: web}}
spec: {nets: [203.0.113.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: tree, namespace: shop}
spec:
  order: 2.5
  selector: (app == 'web' || has(tier)) && !(tier in {'a', 'b'}) && app contains 'e'
  ingress:
  - action: Allow
    protocol: TCP
    source:
      selector: all() && app starts with 'w' && app ends with 'b' && tier not in {'x'}
      notSelector: app != 'db'
      nets: [10.0.0.0/8]
      notNets: [10.1.0.0/16]
    destination: {ports: [http, "8000:9000"], notPorts: [8080]}
  - action: Deny
    protocol: ICMP
    icmp: {type: 8, code: 0}
    source: {selector: "global() && app == 'web'"}
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: staged, namespace: shop}
spec:
  selector: app == 'web'
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [5432]}}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: admin}
spec:
  priority: 10
  subject: {namespaces: {matchExpressions: [{key: team, operator: In, values: [a]}]}}
  egress:
  - name: nodes
    action: Allow
    to: [{nodes: {matchLabels: {zone: a}}}]
    ports: [{portRange: {protocol: TCP, start: 80, end: 90}}]
"""


def test_every_model_type_is_written_and_read_back() -> None:
    from reach.model.codec import _TABLED, _TREE

    clusters_read = [read_cluster("-", stdin_text=EVERY_KIND), _sample(),
                     read_cluster(Path("tests/data/graph/services.yaml"))]
    seen: set[str] = set()
    for cluster in clusters_read:
        data = json.loads(json.dumps(encode_cluster(cluster)))
        assert decode_cluster(data).cluster == cluster
        seen |= {name for name, table in data["tables"].items()
                 if isinstance(table, dict) and next(iter(table.values()))}
        text = json.dumps(data)
        seen |= {cls.__name__ for cls in _TREE if f'["{cls.__name__}"' in text}
    assert {cls.__name__ for cls in (*_TABLED, *_TREE)} - seen == set()
