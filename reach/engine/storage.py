"""The compiled form as arrays and plain data, and back, checked: what a cache stores.

:func:`compiled_data` splits a :class:`~reach.engine.compiler.Compiled` into NumPy
arrays (the class of every pod, the two sides of the allow matrix, the isolation
flags, every bitset as bytes) and JSON-ready data (the port sets, which peer each
bitset belongs to). The model objects it refers to (peers, diagnostics) are rows of
the model encoding (:class:`reach.model.codec.Encoder`) written beside it.

:func:`compiled_from_data` rebuilds the compiled form over the decoded cluster and
checks every array against it (shapes, types, ids in range); what can be derived
again from the cluster cheaply (namespaces, address sets and atoms, the members of
each class) is derived, not stored. Anything that does not fit raises
:class:`~reach.model.codec.CodecError`.

Examples
--------
>>> from reach.engine.compiler import compile_cluster
>>> from reach.model import Cluster, Pod
>>> from reach.model.codec import Encoder, decode_cluster
>>> compiled = compile_cluster(Cluster(pods=(Pod("ns", "a"), Pod("ns", "b"))))
>>> encoder = Encoder()
>>> meta, arrays = compiled_data(compiled, encoder)
>>> model = decode_cluster(encoder.data(compiled.cluster))
>>> again = compiled_from_data(model, compiled.options, meta, arrays)
>>> str(again.pod_ports(0, 1)), again.n_classes
('All Connections', 1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from reach.engine.classes import CompileOptions, address_sets, external_atoms, known_namespaces
from reach.engine.compiler import Compiled
from reach.engine.intervals import IntervalSet
from reach.engine.matrix import AllowMatrix, AllowSide, RunRows
from reach.engine.ports import PortSet
from reach.engine.portsets import PortSetTable
from reach.model import Diagnostic, Peer
from reach.model.codec import CodecError, Decoded, Encoder

__all__ = ["compiled_data", "compiled_from_data"]

Arrays = dict[str, npt.NDArray[Any]]

_FLAGS = ("ingress_isolated", "egress_isolated", "ingress_open", "egress_open")
_RUN_ROWS = 256


def compiled_data(c: Compiled, encoder: Encoder) -> tuple[dict[str, Any], Arrays]:
    """``c`` as (JSON-ready data, arrays); the peers and diagnostics it names are
    interned into ``encoder``."""
    peers = list(c.peer_bits.items())
    bitsets = [*c.policy_bits, *(bits for _, bits in peers), c.unknown_ip]
    raw = [bits.to_bytes((bits.bit_length() + 7) // 8, "little") for bits in bitsets]
    ends = np.cumsum([len(r) for r in raw], dtype=np.int64)
    meta = {
        "classes": c.n_classes,
        "ports": [[x for pair in ps.intervals.intervals for x in pair] for ps in c.ports.sets],
        "peers": [[encoder.ref(peer), namespace] for (peer, namespace), _ in peers],
        "diagnostics": [encoder.ref(d) for d in c.diagnostics],
    }
    arrays: Arrays = {
        "pod_class": c.pod_class,
        "bits": np.frombuffer(b"".join(raw), dtype=np.uint8),
        "bit_ends": ends,
    }
    for name, side in (("egress", c.allow.egress), ("ingress", c.allow.ingress)):
        values, lengths = _runs(side.profile_rows())
        arrays |= {f"{name}_of": side.of, f"{name}_values": values, f"{name}_lengths": lengths,
                   f"{name}_profiles": np.array([side.profiles], dtype=np.int64)}
    for name in _FLAGS:
        arrays[name] = getattr(c, name)
    return meta, arrays


def _fail(what: str) -> Any:
    raise CodecError(f"not a compiled network: {what}")


def _array(arrays: Mapping[str, npt.NDArray[Any]], name: str, kinds: str,
           shape: tuple[int | None, ...]) -> npt.NDArray[Any]:
    array = arrays.get(name)
    if not isinstance(array, np.ndarray) or array.dtype.kind not in kinds:
        _fail(f"{name} is missing or of another type")
    assert isinstance(array, np.ndarray)
    if array.ndim != len(shape) or any(
            want is not None and got != want
            for got, want in zip(array.shape, shape, strict=True)):
        _fail(f"{name} has shape {array.shape}, not {shape}")
    return array


def _ids(array: npt.NDArray[Any], below: int, name: str) -> None:
    if array.size and (int(array.min()) < 0 or int(array.max()) >= below):
        _fail(f"{name} holds an id out of range")


def _runs(rows: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int32]]:
    """The rows as runs of equal ids along each row (a row is mostly a few long runs:
    the classes of a namespace sit side by side): their values and lengths."""
    flat = np.ascontiguousarray(rows).ravel()
    cols = rows.shape[1]
    starts: list[npt.NDArray[np.intp]] = []
    for k in range(0, rows.shape[0], _RUN_ROWS):  # a few rows at a time: small transients
        block = rows[k:k + _RUN_ROWS]
        change = np.empty(block.shape, dtype=np.bool_)
        change[:, :1] = True
        np.not_equal(block[:, 1:], block[:, :-1], out=change[:, 1:])
        starts.append(np.flatnonzero(change) + k * cols)
    first = np.concatenate(starts) if starts else np.zeros(0, dtype=np.intp)
    lengths = np.diff(np.append(first, flat.size)).astype(np.int32)
    return flat[first], lengths


def _side(arrays: Mapping[str, npt.NDArray[Any]], name: str, n: int, cols: int,
          n_ports: int) -> AllowSide:
    of = _array(arrays, f"{name}_of", "i", (n,))
    (profiles,) = _array(arrays, f"{name}_profiles", "i", (1,)).tolist()
    values = _array(arrays, f"{name}_values", "i", (None,))
    lengths = _array(arrays, f"{name}_lengths", "i", values.shape)
    if profiles < 1:
        _fail(f"the runs of {name} do not fill its rows")
    _ids(of, profiles, f"{name}_of")
    _ids(values, n_ports, f"{name}_values")
    try:
        rows = RunRows(values, lengths, profiles, cols)  # expanded as it is read
    except ValueError as exc:
        _fail(f"the runs of {name}: {exc}")
    return AllowSide(of.astype(np.int32, copy=False), rows)


def _port_table(raw: Any) -> PortSetTable:
    table = PortSetTable()
    if type(raw) is not list or len(raw) < 2:
        _fail("no port sets")
    for i, flat in enumerate(raw):
        if type(flat) is not list or len(flat) % 2 or not all(type(x) is int for x in flat):
            _fail("a port set is not a list of intervals")
        pairs = tuple(zip(flat[::2], flat[1::2], strict=True))
        canonical = IntervalSet.from_iterable(pairs)
        if canonical.intervals != pairs or table.intern(PortSet(canonical)) != i:
            _fail("a port set is not canonical, or written twice")
    return table


def _bitsets(arrays: Mapping[str, npt.NDArray[Any]], count: int, n: int) -> list[int]:
    blob = _array(arrays, "bits", "u", (None,))
    ends = _array(arrays, "bit_ends", "i", (count,))
    if blob.dtype != np.uint8 or (count and (int(ends[-1]) != blob.size
                                             or bool(np.any(np.diff(ends) < 0))
                                             or int(ends[0]) < 0)):
        _fail("the bitsets do not fill their bytes")
    data = blob.tobytes()
    starts = [0, *ends[:-1].tolist()]
    out = [int.from_bytes(data[a:b], "little") for a, b in zip(starts, ends.tolist(), strict=True)]
    if any(bits >> n for bits in out):
        _fail("a bitset holds a class that does not exist")
    return out


def compiled_from_data(model: Decoded, options: CompileOptions, meta: Any,
                       arrays: Mapping[str, npt.NDArray[Any]]) -> Compiled:
    """The compiled form :func:`compiled_data` wrote, over the decoded ``model``."""
    cluster = model.cluster
    if type(meta) is not dict:
        _fail("no description")
    n = meta.get("classes")
    if type(n) is not int or n < 0:
        _fail("no class count")
    namespaces = known_namespaces(cluster)
    addresses, _ = address_sets(cluster, namespaces)
    externals = external_atoms(addresses)
    cols = n + len(externals)
    table = _port_table(meta.get("ports"))
    egress = _side(arrays, "egress", n, cols, len(table))
    ingress = _side(arrays, "ingress", n, cols, len(table))
    pod_class = _array(arrays, "pod_class", "i", (len(cluster.pods),))
    _ids(pod_class, n, "pod_class")
    class_pods = _members(pod_class.astype(np.int32, copy=False), n)
    flags: dict[str, Any] = {name: _array(arrays, name, "b", (n,)) for name in _FLAGS}
    peer_rows: list[Peer] = model.table(Peer)
    raw_peers = meta.get("peers")
    if type(raw_peers) is not list or not all(
            type(p) is list and len(p) == 2 and type(p[0]) is int and 0 <= p[0] < len(peer_rows)
            and type(p[1]) is str for p in raw_peers):
        _fail("the peers are not rows of the model")
    bits = _bitsets(arrays, len(cluster.policies) + len(raw_peers) + 1, n)
    policy_bits = bits[:len(cluster.policies)]
    peer_bits = {(peer_rows[p], ns): b
                 for (p, ns), b in zip(raw_peers, bits[len(policy_bits):-1], strict=True)}
    return Compiled(
        cluster=cluster,
        options=options,
        pods=cluster.pods,
        pod_class=pod_class.astype(np.int32, copy=False),
        class_pods=class_pods,
        externals=externals,
        ports=table,
        allow=AllowMatrix(table, n, egress=egress, ingress=ingress),
        namespaces=namespaces,
        policy_bits=policy_bits,
        peer_bits=peer_bits,
        addresses=addresses,
        unknown_ip=bits[-1],
        diagnostics=_diagnostics(model, meta.get("diagnostics")),
        **flags,
    )


def _members(pod_class: npt.NDArray[np.int32], n: int) -> list[list[int]]:
    """The pods of each class, in pod order; every class has one."""
    order = np.argsort(pod_class, kind="stable")
    counts = np.bincount(pod_class, minlength=n)
    if counts.size != n or (n and int(counts.min()) == 0):
        _fail("a class has no pod")
    return [part.tolist() for part in np.split(order, np.cumsum(counts)[:-1])] if n else []


def _diagnostics(model: Decoded, raw: Any) -> tuple[Diagnostic, ...]:
    rows: Sequence[Diagnostic] = model.table(Diagnostic)
    if type(raw) is not list or not all(type(i) is int and 0 <= i < len(rows) for i in raw):
        _fail("the diagnostics are not rows of the model")
    return tuple(rows[i] for i in raw)
