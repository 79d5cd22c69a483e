"""The compiled form stored as arrays and data answers exactly as the form it was made from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from strategies import calico_manifests, clusters

from reach.engine.compiler import Compiled, CompileOptions, compile_cluster
from reach.engine.storage import compiled_data, compiled_from_data
from reach.loader import read_cluster
from reach.model import Cluster
from reach.model.codec import CodecError, Encoder, decode_cluster

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def stored(c: Compiled) -> tuple[Any, Any, dict[str, np.ndarray]]:
    encoder = Encoder()
    meta, arrays = compiled_data(c, encoder)
    model = json.loads(json.dumps(encoder.data(c.cluster)))
    return model, json.loads(json.dumps(meta)), arrays


def restored(c: Compiled) -> Compiled:
    model, meta, arrays = stored(c)
    return compiled_from_data(decode_cluster(model), c.options, meta, arrays)


def assert_same(a: Compiled, b: Compiled) -> None:
    assert b.cluster == a.cluster and b.options == a.options
    assert b.pods == a.pods
    assert b.pod_class.tolist() == a.pod_class.tolist()
    assert b.class_pods == a.class_pods
    assert b.externals == a.externals
    assert b.ports.sets == a.ports.sets
    assert np.array_equal(np.asarray(b.allow), np.asarray(a.allow))
    for flag in ("ingress_isolated", "egress_isolated", "ingress_open", "egress_open"):
        assert getattr(b, flag).tolist() == getattr(a, flag).tolist(), flag
    assert b.namespaces == a.namespaces
    assert b.policy_bits == a.policy_bits
    assert b.peer_bits == a.peer_bits
    assert b.addresses == a.addresses
    assert b.unknown_ip == a.unknown_ip
    assert b.diagnostics == a.diagnostics
    for peer, _ in a.peer_bits:
        assert b.peer_externals(peer).tolist() == a.peer_externals(peer).tolist()


@SETTINGS
@given(cluster=clusters(), ipblock_pods=..., host_network_pods=...)
def test_a_generated_cluster_is_restored_exactly(cluster: Cluster, ipblock_pods: bool,
                                                  host_network_pods: bool) -> None:
    options = CompileOptions(ipblock_pods=ipblock_pods, host_network_pods=host_network_pods)
    compiled = compile_cluster(cluster, options)
    assert_same(compiled, restored(compiled))


@SETTINGS
@given(docs=calico_manifests())
def test_a_calico_cluster_is_restored_exactly(docs: list[dict[str, object]]) -> None:
    cluster = read_cluster("-", stdin_text=yaml.safe_dump_all(docs, sort_keys=False))
    compiled = compile_cluster(cluster)
    assert_same(compiled, restored(compiled))


@pytest.mark.parametrize("folders", [("samples/shop", "samples/platform"), ("samples/calico",),
                                     ("samples/flawed",)])
def test_the_samples_are_restored_exactly(folders: tuple[str, ...]) -> None:
    compiled = compile_cluster(read_cluster(*(Path(f) for f in folders)))
    assert_same(compiled, restored(compiled))


def test_a_large_matrix_is_kept_factored_when_restored() -> None:
    cluster = read_cluster(Path("samples/shop"))
    compiled = compile_cluster(cluster)
    again = restored(compiled)
    assert (again.allow.dense is None) == (compiled.allow.dense is None)


def _break(arrays: dict[str, np.ndarray], meta: dict[str, Any], change: str) -> None:
    if change == "pod class out of range":
        arrays["pod_class"] = arrays["pod_class"].copy()
        arrays["pod_class"][0] = 10_000
    elif change == "pod class of another length":
        arrays["pod_class"] = arrays["pod_class"][:-1]
    elif change == "port id out of range":
        arrays["ingress_values"] = arrays["ingress_values"].copy()
        arrays["ingress_values"][0] = len(meta["ports"])
    elif change == "runs short":
        arrays["egress_lengths"] = arrays["egress_lengths"].copy()
        arrays["egress_lengths"][0] -= 1
    elif change == "profile out of range":
        arrays["egress_of"] = arrays["egress_of"].copy()
        arrays["egress_of"][0] = int(arrays["egress_profiles"][0])
    elif change == "float flags":
        arrays["ingress_isolated"] = arrays["ingress_isolated"].astype(np.float64)
    elif change == "missing array":
        del arrays["egress_values"]
    elif change == "bitset past the classes":
        extra = meta["classes"] // 8 + 1  # the last bitset gets bit n_classes (and more)
        arrays["bits"] = np.concatenate([arrays["bits"], np.full(extra, 255, dtype=np.uint8)])
        arrays["bit_ends"] = arrays["bit_ends"].copy()
        arrays["bit_ends"][-1] += extra
    elif change == "bit ends beyond the bytes":
        arrays["bit_ends"] = arrays["bit_ends"].copy()
        arrays["bit_ends"][-1] += 1
    elif change == "port set not canonical":
        meta["ports"][2] = [5, 9, 7, 12]
    elif change == "port set twice":
        meta["ports"][2] = meta["ports"][1]
    elif change == "peer not a row":
        meta["peers"][0][0] = 10_000
    elif change == "class count":
        meta["classes"] += 1


@pytest.mark.parametrize("change", [
    "pod class out of range", "pod class of another length", "port id out of range",
    "runs short", "profile out of range", "float flags", "missing array",
    "bitset past the classes", "bit ends beyond the bytes", "port set not canonical",
    "port set twice", "peer not a row", "class count"])
def test_arrays_that_do_not_fit_the_model_are_refused(change: str) -> None:
    compiled = compile_cluster(read_cluster(Path("samples/shop"), Path("samples/platform")))
    model, meta, arrays = stored(compiled)
    assert len(meta["ports"]) > 2 and meta["peers"]
    _break(arrays, meta, change)
    with pytest.raises(CodecError, match="not a compiled network"):
        compiled_from_data(decode_cluster(model), compiled.options, meta, arrays)
