"""The allowed-ports matrix, kept factored: what each side allows, met on demand.

A connection ``src -> dst`` between two classes is allowed on the meet of what the
source's egress side and the destination's ingress side allow. Both sides are
*profile rows*: classes that the same policies and rules select share one row of
port-set ids over every column (classes, then external atoms). So the matrix is
stored as two small tables and two class-to-profile maps, which grows with
classes x profiles instead of classes squared; any block of it is met when asked,
through a lookup table of the meets of port-set ids (no sorting of n² keys).

Small matrices (at most :data:`DENSE_LIMIT` entries) are met once, in blocks, and
kept dense: every read is then a plain array read.

Examples
--------
>>> import numpy as np
>>> from reach.engine.ports import PortSet
>>> from reach.engine.portsets import PortSetTable
>>> table = PortSetTable()
>>> web = table.intern(PortSet.single("TCP", 80))
>>> side = AllowSide(np.array([0, 1], dtype=np.int32),
...                  np.array([[1, 1], [web, 1]], dtype=np.int32))
>>> m = AllowMatrix(table, 2, egress=side, ingress=AllowSide.open(2, 2), dense_limit=0)
>>> str(table[m[1, 0]]), int(m[0, 1]), m.block([0, 1], [0, 1]).tolist(), m.dense is None
('TCP 80', 1, [[1, 1], [2, 1]], True)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reach.engine.portsets import ALL_PORTS, IntArray, PortSetTable

__all__ = ["BLOCK_ENTRIES", "DENSE_LIMIT", "AllowMatrix", "AllowSide", "RunRows"]

DENSE_LIMIT = 1 << 24
"""Matrices of at most this many entries (64 MB as int32) are met once and kept dense."""

BLOCK_ENTRIES = 1 << 22
"""Entries met at once when a large matrix is read or walked in blocks."""

_LUT_LIMIT = 4096
"""Port-set tables up to this size meet through a dense lookup table (16 M entries)."""

_SIGNATURE_ROWS = 256
"""Profile rows hashed at once for the column signature."""

Index = npt.NDArray[np.intp]
Positions = npt.NDArray[np.integer[Any]]
"""Row or column numbers, of any integer type."""
SideIds = npt.NDArray[np.int16] | IntArray
"""Port-set ids as a side keeps them: int16 while the table is that small."""


class RunRows:
    """Profile rows kept as runs of equal ids along each row (``values[k]`` repeated
    ``lengths[k]`` times; every row starts a run), expanded when read: a few rows on
    their own, all of them once (then kept).

    A compiled network read back from a cache holds its sides so: a question about a
    few pods never expands the hundreds of megabytes of rows a large cluster has.

    >>> runs = RunRows(np.array([1, 0, 2], dtype=np.int16), np.array([2, 1, 3]), 2, 3)
    >>> runs.take(np.array([1])).tolist(), runs.full().tolist()
    ([[2, 2, 2]], [[1, 1, 0], [2, 2, 2]])
    """

    few = 64
    """Rows read on their own at most; more expand every row."""

    def __init__(self, values: SideIds, lengths: npt.NDArray[np.integer[Any]], profiles: int,
                 cols: int) -> None:
        if len(values) != len(lengths) or int(lengths.sum(dtype=np.int64)) != profiles * cols \
                or (lengths.size and int(lengths.min()) < 1):
            raise ValueError("the runs do not fill the rows")
        self.values = values
        self.lengths = lengths
        self.shape = (profiles, cols)
        self.dtype = values.dtype
        starts = np.cumsum(lengths, dtype=np.int64) - lengths
        row_starts = np.arange(profiles + 1, dtype=np.int64) * cols
        self._first = np.searchsorted(starts, row_starts)
        heads = self._first[:-1]
        if bool(np.any(heads >= len(starts))) or not np.array_equal(starts[heads],
                                                                     row_starts[:-1]):
            raise ValueError("a run crosses the end of a row")
        self._full: SideIds | None = None

    @property
    def expanded(self) -> bool:
        """Whether every row has been expanded (and is kept)."""
        return self._full is not None

    @property
    def nbytes(self) -> int:
        if self._full is not None:
            return int(self._full.nbytes)
        return int(self.values.nbytes + self.lengths.nbytes)

    def take(self, profiles: Positions) -> SideIds:
        """The rows ``profiles`` (``len(profiles) x cols``)."""
        if self._full is None and len(profiles) <= self.few:
            first = self._first
            out = np.empty((len(profiles), self.shape[1]), dtype=self.dtype)
            for k, p in enumerate(profiles.tolist()):
                a, b = first[p], first[p + 1]
                out[k] = np.repeat(self.values[a:b], self.lengths[a:b])
            return out
        taken: Any = np.take(self.full(), profiles, axis=0)
        return taken  # type: ignore[no-any-return]

    def full(self) -> SideIds:
        """Every row, expanded once."""
        full = self._full
        if full is None:
            expanded: Any = np.repeat(self.values, self.lengths).reshape(self.shape)
            full = self._full = expanded
        return full


@dataclass(frozen=True, slots=True)
class AllowSide:
    """One direction's rows: class ``c`` allows ``rows[of[c], column]`` with each column.

    For egress the columns are destinations; for ingress they are sources. ``rows``
    is an array, or :class:`RunRows` expanded as it is read.
    """

    of: IntArray
    rows: SideIds | RunRows

    @staticmethod
    def open(n: int, cols: int) -> AllowSide:
        """A side on which no policy restricts anything."""
        return AllowSide(np.zeros(n, dtype=np.int32), np.full((1, cols), ALL_PORTS, dtype=np.int32))

    @property
    def profiles(self) -> int:
        return int(self.rows.shape[0])

    @property
    def cols(self) -> int:
        return int(self.rows.shape[1])

    def profile_rows(self) -> SideIds:
        """Every profile row (``profiles x cols``)."""
        return self.rows.full() if isinstance(self.rows, RunRows) else self.rows

    def take(self, profiles: Positions) -> SideIds:
        """The rows of ``profiles``."""
        if isinstance(self.rows, RunRows):
            return self.rows.take(profiles)
        taken: Any = np.take(self.rows, profiles, axis=0)
        return taken  # type: ignore[no-any-return]

    def _few_rows(self, profiles: Positions) -> tuple[SideIds, Positions] | None:
        """The distinct rows of ``profiles`` and where each entry of ``profiles`` is among
        them, when the rows are runs not yet expanded and these are few enough to expand
        alone; None: read the profile rows whole."""
        if not isinstance(self.rows, RunRows) or self.rows.expanded:
            return None
        distinct, back = np.unique(profiles, return_inverse=True)
        if len(distinct) > self.rows.few:
            return None
        return self.rows.take(distinct), back.ravel()

    def cells(self, profiles: Positions, cols: Positions) -> SideIds:
        """``len(profiles) x len(cols)``: the rows of ``profiles`` at ``cols``."""
        few = self._few_rows(profiles)
        if few is not None:
            rows, back = few
            picked: SideIds = np.take(np.take(rows, cols, axis=1), back, axis=0)
            return picked
        # columns first: the profile rows are many where the columns asked are few
        taken: SideIds = np.take(np.take(self.profile_rows(), cols, axis=1), profiles, axis=0)
        return taken

    def at(self, profiles: Positions, cols: Positions) -> SideIds:
        """``rows[profiles[k], cols[k]]`` for every ``k``."""
        few = self._few_rows(profiles)
        if few is not None:
            rows, back = few
            found: SideIds = rows[back, cols]
            return found
        found = self.profile_rows()[profiles, cols]
        return found

    def full_rows(self) -> SideIds:
        """Every class's row (``n x cols``): for tests and small clusters."""
        out: SideIds = self.profile_rows()[self.of]
        return out

    def nbytes(self) -> int:
        return int(self.of.nbytes + self.rows.nbytes)


class _Meets:
    """The meet of two arrays of port-set ids, each distinct pair computed once."""

    def __init__(self, table: PortSetTable) -> None:
        self.table = table
        self.size = len(table)  # the ids the sides hold are below this
        self.lut: npt.NDArray[np.int32] | None = None
        if self.size <= _LUT_LIMIT:
            self.lut = np.full(self.size * self.size, -1, dtype=np.int32)

    def __call__(self, a: SideIds, b: SideIds) -> IntArray:
        if self.lut is None:
            return self.table.meet_arrays(a.astype(np.int32), b.astype(np.int32))
        key = a.astype(np.int32)  # a * size + b: below 4096**2, it fits
        key *= np.int32(self.size)
        key += b
        found = np.take(self.lut, key)
        if found.size and found.min() < 0:
            for k in np.unique(key[found < 0]).tolist():
                self.lut[k] = self.table.meet(k // self.size, k % self.size)
            found = np.take(self.lut, key)
        out: IntArray = found
        return out


class AllowMatrix:
    """The ``cols x cols`` matrix of allowed port-set ids, factored by side.

    Reads like a NumPy array: ``m[i, j]`` (an ``int``), ``m[i, :]``, ``m[:, j]``,
    ``m[a:b, c:d]``, ``m[np.ix_(rows, cols)]`` and ``m[rows, cols]`` with two index
    arrays (paired, as NumPy does). :meth:`block` and :meth:`row_blocks` read it in
    pieces; ``np.asarray(m)`` materialises it whole. Columns ``0 .. n-1`` are
    classes, the rest external atoms; outside to outside is never allowed.
    """

    def __init__(self, table: PortSetTable, n: int, *, egress: AllowSide, ingress: AllowSide,
                 dense_limit: int | None = None) -> None:
        self.table = table
        self.n = n
        self.cols = egress.cols
        self.egress = egress
        self.ingress = ingress
        self._meet = _Meets(table)
        self._signature: npt.NDArray[np.int64] | None = None
        self._last_columns: tuple[Sequence[Sequence[int]], Index, Index] | None = None
        self.dense: IntArray | None = None
        limit = DENSE_LIMIT if dense_limit is None else dense_limit
        if self.cols * self.cols <= limit:
            self.dense = self._materialise()

    # -- array protocol -----------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return (self.cols, self.cols)

    @property
    def dtype(self) -> np.dtype[np.int32]:
        return np.dtype(np.int32)

    def __len__(self) -> int:
        return self.cols

    def __array__(self, dtype: Any = None, copy: Any = None) -> IntArray:
        whole = self.dense if self.dense is not None else self._materialise()
        return whole if dtype is None else whole.astype(dtype)

    def nbytes(self) -> int:
        """The bytes the matrix holds (its sides, or the dense form)."""
        if self.dense is not None:
            return int(self.dense.nbytes)
        return self.egress.nbytes() + self.ingress.nbytes()

    def __getitem__(self, key: Any) -> Any:
        if self.dense is not None:
            return self.dense[key]
        if not isinstance(key, tuple):
            key = (key, slice(None))
        if len(key) != 2:
            raise IndexError("an allow matrix takes two indices")
        first, second = key
        if _is_ix(first) and _is_ix(second):
            return self.block(np.asarray(first).ravel(), np.asarray(second).ravel())
        rows, drop_rows = self._index(first)
        cols, drop_cols = self._index(second)
        if not drop_rows and not drop_cols and _is_array(first) and _is_array(second):
            return self.pairs(rows, cols)  # two index arrays: paired, as NumPy reads them
        out = self.block(rows, cols)
        if drop_rows and drop_cols:
            return int(out[0, 0])
        if drop_rows:
            return out[0]
        if drop_cols:
            return out[:, 0]
        return out

    def _index(self, key: Any) -> tuple[Index, bool]:
        if isinstance(key, (int, np.integer)):
            k = int(key)
            if k < 0:
                k += self.cols
            if not 0 <= k < self.cols:
                raise IndexError(f"index {key} out of range for {self.cols} columns")
            return np.array([k], dtype=np.intp), True
        if isinstance(key, slice):
            return np.arange(self.cols, dtype=np.intp)[key], False
        array = np.asarray(key)
        if array.dtype == np.bool_:
            return np.nonzero(array)[0].astype(np.intp), False
        return array.astype(np.intp).ravel(), False

    # -- reading ------------------------------------------------------------------

    def block(self, rows: Sequence[int] | Index, cols: Sequence[int] | Index) -> IntArray:
        """The ``len(rows) x len(cols)`` block of allowed port-set ids."""
        r = np.asarray(rows, dtype=np.intp)
        c = np.asarray(cols, dtype=np.intp)
        if self.dense is not None:
            out: IntArray = self.dense[np.ix_(r, c)]
            return out
        return self._block(r, c)

    def _block(self, r: Index, c: Index) -> IntArray:
        n = self.n
        out = np.zeros((len(r), len(c)), dtype=np.int32)
        rin = r < n
        ri, ro = np.nonzero(rin)[0], np.nonzero(~rin)[0]
        ci = np.nonzero(c < n)[0]
        eg, ing = self.egress, self.ingress
        if len(ri) and len(c):
            # what each source sends: its profile rows, then the columns (two plain takes)
            sent: Any = np.take(eg.take(eg.of[r[ri]]), c, axis=1)
            if len(ci):
                taken = _received(ing, r[ri], c[ci])
                if len(ci) == len(c):
                    sent = self._meet(sent, taken)
                else:
                    sent[:, ci] = self._meet(sent[:, ci], taken)
            out[ri] = sent  # to an outside column only the source's egress decides
        if len(ro) and len(ci):  # from outside only the destination's ingress decides
            out[np.ix_(ro, ci)] = _received(ing, r[ro], c[ci])
        return out

    def pairs(self, rows: Sequence[int] | Index, cols: Sequence[int] | Index) -> IntArray:
        """``m[rows[k], cols[k]]`` for every ``k``."""
        r = np.asarray(rows, dtype=np.intp)
        c = np.asarray(cols, dtype=np.intp)
        if self.dense is not None:
            dense: IntArray = self.dense[r, c]
            return dense
        out = np.zeros(len(r), dtype=np.int32)
        n = self.n
        eg, ing = self.egress, self.ingress
        both = (r < n) & (c < n)
        out_only = (r < n) & (c >= n)
        in_only = (r >= n) & (c < n)
        out[both] = self._meet(eg.at(eg.of[r[both]], c[both]), ing.at(ing.of[c[both]], r[both]))
        out[out_only] = eg.at(eg.of[r[out_only]], c[out_only])
        out[in_only] = ing.at(ing.of[c[in_only]], r[in_only])
        return out

    def row_blocks(self, rows: Sequence[int] | Index | None = None,
                   cols: Sequence[int] | Index | None = None,
                   entries: int = BLOCK_ENTRIES) -> Iterator[tuple[int, IntArray]]:
        """``(start, block)`` over consecutive runs of ``rows`` (all by default), each
        block at most about ``entries`` entries: the matrix walked in bounded memory."""
        r = np.arange(self.cols, dtype=np.intp) if rows is None else np.asarray(rows, np.intp)
        c = np.arange(self.cols, dtype=np.intp) if cols is None else np.asarray(cols, np.intp)
        step = max(1, entries // max(1, len(c)))
        for start in range(0, len(r), step):
            yield start, self.block(r[start:start + step], c)

    def nonzero(self) -> tuple[Index, Index]:
        """The (row, column) positions of every allowed connection, walked in blocks."""
        if self.dense is not None:
            rows, cols = np.nonzero(self.dense)
            return rows.astype(np.intp), cols.astype(np.intp)
        found_r: list[Index] = []
        found_c: list[Index] = []
        for start, block in self.row_blocks():
            br, bc = np.nonzero(block)
            found_r.append(br.astype(np.intp) + start)
            found_c.append(bc.astype(np.intp))
        if not found_r:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        return np.concatenate(found_r), np.concatenate(found_c)

    def joined(self, groups: Sequence[Sequence[int]], entries: int = BLOCK_ENTRIES,
               rows: Sequence[Sequence[int]] | None = None) -> IntArray:
        """The matrix of joins over groups of columns: entry ``(i, j)`` is what any column
        of ``rows[i]`` (by default ``groups[i]``) allows with any column of ``groups[j]``
        (a namespace's classes, a workload's...), met and joined block by block in
        bounded memory."""
        sources = groups if rows is None else rows
        count = len(sources)
        out = np.zeros((count, len(groups)), dtype=np.int32)
        if not count or not groups:
            return out
        if self._last_columns is None or self._last_columns[0] is not groups:
            self._last_columns = (groups, *self._distinct_columns(groups))
        _, every, col_starts = self._last_columns
        step = max(1, entries // max(1, len(every)))
        first = 0
        while first < count:
            last, taken = first, 0
            while last < count and (last == first or taken + len(sources[last]) <= step):
                taken += len(sources[last])
                last += 1
            chosen = sources[first:last]
            row_starts = np.cumsum([0] + [len(g) for g in chosen[:-1]])
            block = self.block(np.concatenate([np.asarray(g, np.intp) for g in chosen]), every)
            out[first:last] = self.table.join_blocks(block, row_starts, col_starts)
            first = last
        return out

    def _distinct_columns(self, groups: Sequence[Sequence[int]]) -> tuple[Index, Index]:
        """Each group's columns with those that read alike in every row left out (same
        ingress profile and same egress column), and where each group starts."""
        signature = self._column_signature()
        chosen: list[Index] = []
        for group in groups:
            columns = np.asarray(group, dtype=np.intp)
            _, first = np.unique(signature[columns], return_index=True)
            chosen.append(columns[np.sort(first)])
        starts = np.cumsum([0] + [len(c) for c in chosen[:-1]])
        return np.concatenate(chosen), starts

    def _column_signature(self) -> npt.NDArray[np.int64]:
        """Per column, an id shared exactly by the columns every row reads alike."""
        if self.dense is not None:
            return np.arange(self.cols, dtype=np.int64)  # small: nothing worth folding
        if self._signature is not None:
            return self._signature
        egress = self.egress.profile_rows()
        # egress column groups: columns of the egress profile rows that are equal
        mix = np.asarray(np.random.default_rng(0).integers(
            1, 1 << 62, size=egress.shape[0], dtype=np.int64), dtype=np.int64)
        hashed = np.zeros(self.cols, dtype=np.int64)
        chunks = range(0, egress.shape[0], _SIGNATURE_ROWS)  # bounded transients
        for k in chunks:  # wraps: a hash, checked below
            hashed += mix[k:k + _SIGNATURE_ROWS] @ egress[k:k + _SIGNATURE_ROWS].astype(np.int64)
        _, rep, group = np.unique(hashed, return_index=True, return_inverse=True)
        group = group.ravel()
        first = rep[group]
        clash = np.zeros(self.cols, dtype=np.bool_)
        for k in chunks:
            rows = egress[k:k + _SIGNATURE_ROWS]
            clash |= (rows != np.take(rows, first, axis=1)).any(axis=0)
        group[clash] = len(rep) + np.arange(int(clash.sum()))  # a collision: keep apart
        profile = np.full(self.cols, -1, dtype=np.int64)
        profile[:self.n] = self.ingress.of
        _, signature = np.unique(np.stack([profile, group.astype(np.int64)]), axis=1,
                                 return_inverse=True)
        out: npt.NDArray[np.int64] = signature.ravel().astype(np.int64)
        self._signature = out
        return out

    def _materialise(self) -> IntArray:
        out = np.zeros((self.cols, self.cols), dtype=np.int32)
        everything = np.arange(self.cols, dtype=np.intp)
        step = max(1, BLOCK_ENTRIES // max(1, self.cols))
        for start in range(0, self.cols, step):
            out[start:start + step] = self._block(everything[start:start + step], everything)
        return out


def _received(ingress: AllowSide, sources: Index, classes: Index) -> SideIds:
    """``len(sources) x len(classes)``: what each class's ingress takes from each source."""
    return ingress.cells(ingress.of[classes], sources).T


def _is_ix(key: Any) -> bool:
    """An index array shaped by ``np.ix_`` (one of two broadcast axes)."""
    return isinstance(key, np.ndarray) and key.ndim == 2 and 1 in key.shape


def _is_array(key: Any) -> bool:
    return isinstance(key, (np.ndarray, list)) and not isinstance(key, bool)

