"""The factored allow matrix reads exactly as the dense one, however it is read."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import load
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import clusters

import reach.engine.matrix as matrix
from reach import Network
from reach.engine.compiler import compile_cluster
from reach.engine.matrix import AllowMatrix, AllowSide, RunRows
from reach.engine.portsets import NO_PORTS
from reach.model import Cluster


def _brute(m: AllowMatrix) -> np.ndarray:
    """Every entry met one by one from the two sides' full rows (no lookup table)."""
    n, cols, table = m.n, m.cols, m.table
    egress, ingress = m.egress.full_rows(), m.ingress.full_rows()
    out = np.zeros((cols, cols), dtype=np.int64)
    for s in range(cols):
        for d in range(cols):
            if s < n and d < n:
                out[s, d] = table.meet(int(egress[s, d]), int(ingress[d, s]))
            elif s < n:
                out[s, d] = egress[s, d]
            elif d < n:
                out[s, d] = ingress[d, s]
    return out


def _factored(cluster: Cluster) -> tuple[AllowMatrix, AllowMatrix]:
    dense = compile_cluster(cluster).allow
    lazy = AllowMatrix(dense.table, dense.n, egress=dense.egress, ingress=dense.ingress,
                       dense_limit=0)
    assert dense.dense is not None and lazy.dense is None
    return dense, lazy


def _as_runs(side: AllowSide, few: int) -> AllowSide:
    rows = np.asarray(side.rows)
    change = np.ones(rows.shape, dtype=bool)
    change[:, 1:] = rows[:, 1:] != rows[:, :-1]
    starts = np.flatnonzero(change.ravel())
    runs = RunRows(rows.ravel()[starts], np.diff(np.append(starts, rows.size)), *rows.shape)
    runs.few = few
    return AllowSide(side.of, runs)


def _in_runs(m: AllowMatrix, few: int) -> AllowMatrix:
    """``m`` with both sides held as runs (as a cache gives them back), read ``few`` rows
    at a time before every row is expanded."""
    return AllowMatrix(m.table, m.n, egress=_as_runs(m.egress, few),
                       ingress=_as_runs(m.ingress, few), dense_limit=0)


@settings(max_examples=60, deadline=None)
@given(clusters(max_pods=7, max_policies=5), st.data())
def test_every_read_of_the_factored_form_is_the_dense_one(cluster: Cluster, data: st.DataObject):
    dense, factored = _factored(cluster)
    whole = _brute(factored)
    assert (np.asarray(dense) == whole).all()
    assert (np.asarray(factored) == whole).all()
    # held as runs: each read below comes first, before anything expands every row
    lazy = data.draw(st.sampled_from([factored, _in_runs(factored, 0), _in_runs(factored, 1),
                                      _in_runs(factored, 64)]))
    cols = lazy.cols
    index = st.integers(0, cols - 1)
    i, j = data.draw(index), data.draw(index)
    rows = np.array(data.draw(st.lists(index, max_size=6)), dtype=np.intp)
    picks = np.array(data.draw(st.lists(index, min_size=len(rows), max_size=len(rows))),
                     dtype=np.intp)
    assert lazy[i, j] == whole[i, j] and dense[i, j] == whole[i, j]
    assert (lazy[i, :] == whole[i, :]).all() and (lazy[:, j] == whole[:, j]).all()
    assert (lazy[i:, :j] == whole[i:, :j]).all()
    assert (lazy[np.ix_(rows, picks)] == whole[np.ix_(rows, picks)]).all()
    assert (lazy[rows, picks] == whole[rows, picks]).all()  # paired, as NumPy reads it
    assert (lazy[rows, :] == whole[rows, :]).all()
    assert [tuple(a) for a in lazy.nonzero()] == [tuple(a) for a in np.nonzero(whole)]
    blocks = np.concatenate([b for _, b in lazy.row_blocks(entries=cols * 2)])
    assert (blocks == whole).all()
    assert (np.asarray(lazy) == whole).all()


def test_rows_held_as_runs_expand_only_what_is_read():
    runs = RunRows(np.array([3, 1, 2, 0], dtype=np.int16), np.array([2, 2, 1, 3]), 2, 4)
    assert runs.take(np.array([1, 0])).tolist() == [[2, 0, 0, 0], [3, 3, 1, 1]]
    assert runs._full is None
    side = AllowSide(np.array([1, 0, 1], dtype=np.int32), runs)
    assert side.cells(np.array([0, 1]), np.array([3, 0])).tolist() == [[1, 3], [0, 2]]
    assert side.at(np.array([1, 0]), np.array([0, 2])).tolist() == [2, 1]
    assert runs._full is None
    assert side.full_rows().tolist() == [[2, 0, 0, 0], [3, 3, 1, 1], [2, 0, 0, 0]]
    assert runs._full is not None


@pytest.mark.parametrize(("values", "lengths", "why"), [
    ([1, 2], [3, 4], "do not fill"),      # 7 entries for 2 x 4
    ([1, 2], [3, 5], "crosses the end"),  # a run over the end of the first row
    ([1], [4, 4], "do not fill"),          # a value short
    ([1, 2, 3], [4, 0, 4], "do not fill"),  # a run of nothing
])
def test_runs_that_do_not_make_the_rows_are_refused(values, lengths, why):
    with pytest.raises(ValueError, match=why):
        RunRows(np.array(values, dtype=np.int16), np.array(lengths), 2, 4)


@settings(max_examples=60, deadline=None)
@given(clusters(max_pods=7, max_policies=5), st.data())
def test_joins_over_groups_of_columns_are_the_brute_force_ones(cluster: Cluster,
                                                               data: st.DataObject):
    dense, lazy = _factored(cluster)
    whole = _brute(lazy)
    cols = list(range(lazy.cols))
    order = data.draw(st.permutations(cols))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(cols) - 1)), max_size=3)))
    groups = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(cols)], strict=True) if a < b]
    for m in (dense, lazy):
        joined = m.joined(groups, entries=data.draw(st.integers(1, 64)))
        for a, rows in enumerate(groups):
            for b, columns in enumerate(groups):
                expected = m.table.join(*(int(whole[r, c]) for r in rows for c in columns))
                assert m.table[int(joined[a, b])] == m.table[expected]


@settings(max_examples=40, deadline=None)
@given(clusters(max_pods=7, max_policies=5))
def test_answers_do_not_depend_on_the_form(cluster: Cluster):
    """Connections at every granularity, isolation and verdicts: dense or factored alike."""
    from reach.graph.queries import isolated

    dense_net = Network(cluster)
    limit = matrix.DENSE_LIMIT
    matrix.DENSE_LIMIT = 0
    try:
        lazy_net = Network(cluster)
        assert lazy_net.compiled.allow.dense is None
        for by in ("pod", "workload", "namespace"):
            assert lazy_net.connections(by=by) == dense_net.connections(by=by)
        assert str(isolated(lazy_net)) == str(isolated(dense_net))
        pods = [p.ref for p in dense_net.pods]
        for src in pods[:3]:
            for dst in pods[:3]:
                assert str(lazy_net.can(src, dst)) == str(dense_net.can(src, dst))
    finally:
        matrix.DENSE_LIMIT = limit


def _with_blocks() -> Cluster:
    return load("""
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ns, labels: {app: web}}
status: {podIP: 10.0.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: ns}
status: {podIP: 10.0.0.6}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]
""")


def test_outside_to_outside_is_never_allowed():
    dense, lazy = _factored(_with_blocks())
    n = lazy.n
    assert lazy.cols - n >= 3  # the ipBlock cuts the outside into atoms
    assert not np.asarray(lazy)[n:, n:].any()
    assert (np.asarray(lazy) == np.asarray(dense)).all()
    assert (np.asarray(lazy)[:n, n:] != NO_PORTS).any()


def test_an_index_out_of_range_is_an_index_error():
    _, lazy = _factored(_with_blocks())
    with pytest.raises(IndexError):
        lazy[lazy.cols, 0]
