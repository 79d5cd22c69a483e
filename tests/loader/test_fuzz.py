"""Whatever the input, the loader raises ManifestError or nothing (hypothesis)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reach.errors import ManifestError
from reach.loader import read_cluster

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SETTINGS = settings(max_examples=int(os.environ.get("REACH_FUZZ_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

KEYS = [
    "apiVersion", "kind", "metadata", "name", "namespace", "labels", "spec", "podSelector",
    "namespaceSelector", "ipBlock", "cidr", "except", "policyTypes", "ingress", "egress",
    "from", "to", "ports", "port", "endPort", "protocol", "matchLabels", "matchExpressions",
    "key", "operator", "values", "containers", "containerPort", "template", "replicas",
    "selector", "targetPort", "nodePort", "type", "status", "podIP", "podIPs", "ip", "items",
    "ownerReferences", "controller", "hostNetwork", "subsets", "addresses", "endpoints",
    "rules", "http", "paths", "backend", "service", "number", "jobTemplate", "defaultBackend",
]
KINDS = [
    "Namespace", "Pod", "Deployment", "ReplicaSet", "ReplicationController", "StatefulSet",
    "DaemonSet", "Job", "CronJob", "Service", "Endpoints", "EndpointSlice", "Ingress",
    "NetworkPolicy", "List", "PodList", "ConfigMap",
]
API_VERSIONS = ["v1", "apps/v1", "batch/v1", "networking.k8s.io/v1", "discovery.k8s.io/v1",
                "extensions/v1beta1"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-70_000, 70_000), st.floats(allow_nan=False),
    st.sampled_from(["TCP", "udp", "In", "Exists", "10.0.0.0/8", "10.1.0.0/16", "::/0",
                     "Ingress", "Egress", "http", "8080", "", "a/b", "x" * 70]),
    st.text(max_size=12),
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5),
    ),
    max_leaves=25,
)


def _load_quietly(text: str) -> None:
    with contextlib.suppress(ManifestError):
        read_cluster("-", stdin_text=text)


@SETTINGS
@given(st.sampled_from(KINDS), st.sampled_from(API_VERSIONS),
       st.dictionaries(st.sampled_from(KEYS), TREES, max_size=5))
def test_random_objects_never_raise_anything_but_manifest_error(
    kind: str, api_version: str, body: dict[str, Any]
):
    document = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, **body}
    _load_quietly(yaml.safe_dump(document))


@SETTINGS
@given(st.lists(TREES, max_size=3))
def test_random_documents_never_raise_anything_but_manifest_error(documents: list[Any]):
    _load_quietly(yaml.safe_dump_all(documents))


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list(" -:[]{}&*!|>'\"#,?\n\tab01%@`\\")), max_size=200)
       | st.text(max_size=200))
def test_random_text_never_raises_anything_but_manifest_error(text: str):
    _load_quietly(text)


SAMPLE_TEXTS = sorted(
    path.read_text() for path in SAMPLES.rglob("*.yaml")
) or ["apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"]


@SETTINGS
@given(st.sampled_from(SAMPLE_TEXTS), st.data())
def test_mutated_samples_never_raise_anything_but_manifest_error(text: str, data: st.DataObject):
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["delete", "insert", "swap-line"]))
        if action == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 8)):]
        elif action == "insert":
            text = text[:at] + data.draw(st.sampled_from([" ", "  ", "- ", ":", "\n", "x", "0",
                                                          "{", "[", "'", "&a ", "*a", "!!int ",
                                                          "!!bool ", "!!str ", "!x "])) + text[at:]
        else:
            lines = text.split("\n")
            i = data.draw(st.integers(0, max(len(lines) - 2, 0)))
            lines[i:i + 2] = lines[i:i + 2][::-1]
            text = "\n".join(lines)
    _load_quietly(text)
