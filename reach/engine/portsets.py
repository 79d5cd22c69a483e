"""Interned port sets, element-wise algebra over arrays of their ids, and bitsets.

The compiler's matrices hold small integers, each the id of a :class:`PortSet` in a
:class:`PortSetTable`; meets, joins and differences of two ids are memoised, and
the array forms apply an operation once per distinct pair of ids. Sets of classes
are Python integers used as bitsets (bit ``i`` is class ``i``).

Examples
--------
>>> table = PortSetTable()
>>> web = table.intern(PortSet.single("TCP", 80))
>>> str(table[table.subtract(ALL_PORTS, web)])
'All Connections but TCP 80'
>>> table.meet_arrays(np.array([web, ALL_PORTS]), np.array([ALL_PORTS, NO_PORTS])).tolist()
[2, 0]
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from reach.engine.intervals import IntervalSet
from reach.engine.ports import PortSet

__all__ = [
    "ALL_PORTS",
    "NO_PORTS",
    "BoolArray",
    "IntArray",
    "PortSetTable",
    "bits_to_bool",
    "bool_to_bits",
    "iter_bits",
    "select_bits",
    "transpose_bits",
]

IntArray = npt.NDArray[np.int32]
AnyIntArray = TypeVar("AnyIntArray", npt.NDArray[np.int32], npt.NDArray[np.int64])
BoolArray = npt.NDArray[np.bool_]

NO_PORTS = 0
ALL_PORTS = 1


class PortSetTable:
    """Interns port sets as small integers so matrices can hold them.

    Id 0 is the empty set, id 1 every port. Unions and meets are memoised by id.

    >>> table = PortSetTable()
    >>> web = table.intern(PortSet.single("TCP", 80))
    >>> table.meet(web, ALL_PORTS) == web, table.join(web, NO_PORTS) == web
    (True, True)
    """

    def __init__(self) -> None:
        self.sets: list[PortSet] = [PortSet.none(), PortSet.all()]
        self._ids: dict[PortSet, int] = {PortSet.none(): NO_PORTS, PortSet.all(): ALL_PORTS}
        self._meets: dict[tuple[int, int], int] = {}
        self._joins: dict[tuple[int, ...], int] = {}
        self._subtractions: dict[tuple[int, int], int] = {}
        self._mask_cache: tuple[int, list[int], npt.NDArray[np.uint64], dict[bytes, int]] | None \
            = None

    def intern(self, ports: PortSet) -> int:
        found = self._ids.get(ports)
        if found is None:
            found = len(self.sets)
            self.sets.append(ports)
            self._ids[ports] = found
        return found

    def __getitem__(self, ident: int) -> PortSet:
        return self.sets[ident]

    def __len__(self) -> int:
        return len(self.sets)

    def meet(self, a: int, b: int) -> int:
        if a == b or b == ALL_PORTS:
            return a
        if a == ALL_PORTS:
            return b
        if NO_PORTS in (a, b):
            return NO_PORTS
        key = (a, b) if a < b else (b, a)
        found = self._meets.get(key)
        if found is None:
            found = self._meets[key] = self.intern(self.sets[a] & self.sets[b])
        return found

    def join(self, *ids: int) -> int:
        key = tuple(sorted(set(ids) - {NO_PORTS}))
        if not key:
            return NO_PORTS
        if len(key) == 1:
            return key[0]
        if ALL_PORTS in key:
            return ALL_PORTS
        found = self._joins.get(key)
        if found is None:
            union = PortSet.none()
            for ident in key:
                union = union | self.sets[ident]
            found = self._joins[key] = self.intern(union)
        return found

    def subtract(self, a: int, b: int) -> int:
        """The id of ``self[a] - self[b]``."""
        if a == NO_PORTS or b == NO_PORTS:
            return a
        if b == ALL_PORTS or a == b:
            return NO_PORTS
        key = (a, b)
        found = self._subtractions.get(key)
        if found is None:
            found = self._subtractions[key] = self.intern(self.sets[a] - self.sets[b])
        return found

    def meet_arrays(self, a: AnyIntArray, b: AnyIntArray) -> AnyIntArray:
        """Element-wise :meth:`meet` of two arrays of ids (each distinct pair met once)."""
        return _elementwise(a, b, self.meet)

    def subtract_arrays(self, a: AnyIntArray, b: AnyIntArray) -> AnyIntArray:
        """Element-wise :meth:`subtract` of two arrays of ids (each distinct pair once)."""
        return _elementwise(a, b, self.subtract)

    def join_arrays(self, a: AnyIntArray, b: AnyIntArray) -> AnyIntArray:
        """Element-wise :meth:`join` of two arrays of ids (each distinct pair joined once)."""
        return _elementwise(a, b, self.join)

    def _masks(self) -> tuple[list[int], npt.NDArray[np.uint64], dict[bytes, int]]:
        """Every set as a bitmask over the atoms of the port space its sets cut (kept
        until a set is interned), and the set of each mask."""
        cache = self._mask_cache
        if cache is not None and cache[0] == len(self.sets):
            return cache[1:]
        if cache is not None:  # sets interned since: joins and meets cut no new atom
            size, atoms, masks, known = cache
            bounds = set(atoms)
            if all(set(s.intervals.boundaries()) <= bounds for s in self.sets[size:]):
                grown = np.zeros((len(self.sets), masks.shape[1]), dtype=np.uint64)
                grown[:size] = masks
                for ident in range(size, len(self.sets)):
                    _set_bits(grown[ident], atoms, self.sets[ident])
                    known.setdefault(grown[ident].tobytes(), ident)
                self._mask_cache = (len(self.sets), atoms, grown, known)
                return atoms, grown, known
        atoms = sorted(set().union(*(s.intervals.boundaries() for s in self.sets)))
        words = max(1, (len(atoms) + 63) // 64)
        masks = np.zeros((len(self.sets), words), dtype=np.uint64)
        for ident, ports in enumerate(self.sets):
            _set_bits(masks[ident], atoms, ports)
        known = {masks[i].tobytes(): i for i in range(len(self.sets))}
        self._mask_cache = (len(self.sets), atoms, masks, known)
        return atoms, masks, known

    def join_many(self, ids: IntArray, groups: npt.ArrayLike, axis: int) -> IntArray:
        """Join the ids of ``ids`` over consecutive runs along ``axis`` (like ``reduceat``).

        ``groups`` holds the start of each run. Port sets become bitmasks over the
        atoms of the port space (maximal ranges no set splits), so a join is a
        vectorised OR; each distinct result mask is interned once.
        """
        masks = self._masks()[1]
        joined = np.bitwise_or.reduceat(masks[ids], np.asarray(groups, dtype=np.intp), axis=axis)
        return self._interned(joined)

    def join_blocks(self, ids: IntArray, row_starts: npt.ArrayLike,
                    col_starts: npt.ArrayLike) -> IntArray:
        """Join the ids of ``ids`` over runs of rows and runs of columns at once: entry
        ``(i, j)`` joins the block of row run ``i`` and column run ``j``."""
        masks = self._masks()[1]
        joined = np.bitwise_or.reduceat(masks[ids], np.asarray(row_starts, dtype=np.intp), axis=0)
        joined = np.bitwise_or.reduceat(joined, np.asarray(col_starts, dtype=np.intp), axis=1)
        return self._interned(joined)

    def _interned(self, joined: npt.NDArray[np.uint64]) -> IntArray:
        """The ids of a 2-d array of masks (each distinct mask interned once)."""
        atoms, masks, known = self._masks()
        words = masks.shape[1]
        flat = np.ascontiguousarray(joined).reshape(-1, words)
        # one word: the masks are their own keys (integers sort far faster than bytes)
        keys = flat.ravel() if words == 1 else flat.view(np.dtype((np.void, 8 * words))).ravel()
        # the empty mask is the empty set (id 0), and most entries of a join are empty:
        # only the others are sorted
        some = np.flatnonzero(flat.ravel() if words == 1 else flat.any(axis=1))
        result = np.zeros(len(keys), dtype=np.int32)
        if not len(some):
            return result.reshape(joined.shape[:2])
        unique, inverse = np.unique(keys[some], return_inverse=True)
        out = np.zeros(len(unique), dtype=np.int32)
        for u_i, raw in enumerate(unique):
            found = known.get(raw.tobytes())
            if found is None:
                row = np.frombuffer(raw.tobytes(), dtype=np.uint64)
                chosen = [a for a in range(len(atoms) - 1) if int(row[a // 64]) >> (a % 64) & 1]
                found = self.intern(PortSet(IntervalSet.of(
                    *((atoms[a], atoms[a + 1] - 1) for a in chosen))))
            out[u_i] = found
        result[some] = out[inverse.reshape(-1)]
        return result.reshape(joined.shape[:2])


def _set_bits(mask: npt.NDArray[np.uint64], atoms: list[int], ports: PortSet) -> None:
    """Set in ``mask`` the bits of the atoms (between consecutive ``atoms``) ``ports`` holds."""
    for lo, hi in ports.intervals:
        first, last = bisect.bisect_left(atoms, lo), bisect.bisect_left(atoms, hi + 1)
        for atom in range(first, last):
            mask[atom // 64] |= np.uint64(1 << (atom % 64))


def _elementwise(a: AnyIntArray, b: AnyIntArray, op: Callable[[int, int], int]) -> AnyIntArray:
    """``op`` applied to every pair ``(a[i], b[i])``, once per distinct pair; dtype of ``a``."""
    if a.size == 0:
        return a.copy()
    width = np.int64(max(int(a.max()), int(b.max())) + 1)
    key = a.astype(np.int64) * width + b.astype(np.int64)
    unique, inverse = np.unique(key, return_inverse=True)
    values = np.fromiter((op(int(k // width), int(k % width)) for k in unique),
                         dtype=a.dtype, count=len(unique))
    out: AnyIntArray = values[inverse.reshape(a.shape)]
    return out


def iter_bits(bits: int) -> list[int]:
    """The positions of the set bits of ``bits``, lowest first.

    >>> iter_bits(0b10110)
    [1, 2, 4]
    """
    out = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def bool_to_bits(flags: BoolArray) -> int:
    """A boolean array as a bitset (entry ``i`` is bit ``i``)."""
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def bits_to_bool(bits: int, size: int) -> BoolArray:
    """A bitset as a boolean array of ``size`` entries (bit ``i`` is entry ``i``).

    >>> bits_to_bool(0b101, 4).tolist()
    [True, False, True, False]
    """
    if size == 0:
        return np.zeros(0, dtype=np.bool_)
    raw = bits.to_bytes((size + 7) // 8, "little")
    unpacked = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
    return unpacked[:size].astype(np.bool_)


_CHUNK = 512  # bitsets unpacked at a time: a chunk's bytes transpose within the caches


def _unpacked(bitsets: list[int], size: int) -> npt.NDArray[np.uint8]:
    """Bitsets as rows of 0/1 bytes (``len(bitsets)`` x ``size``)."""
    width = (size + 7) // 8
    raw = b"".join(bits.to_bytes(width, "little") for bits in bitsets)
    packed = np.frombuffer(raw, dtype=np.uint8).reshape(len(bitsets), width)
    return np.unpackbits(packed, axis=1, count=size, bitorder="little")


def transpose_bits(bitsets: list[int], size: int) -> npt.NDArray[np.uint8]:
    """Which bitsets hold each entry: row ``i`` packs bit ``k`` when set ``k`` holds ``i``.

    The result is ``size`` x ``ceil(len(bitsets) / 8)`` bytes (little bit order), rows
    that compare equal exactly when the same sets hold the two entries.

    >>> transpose_bits([0b011, 0b110], 3)[:, 0].tolist()
    [1, 3, 2]
    """
    if not bitsets:
        return np.zeros((size, 0), dtype=np.uint8)
    parts = [np.packbits(np.ascontiguousarray(_unpacked(bitsets[k:k + _CHUNK], size).T),
                         axis=1, bitorder="little")
             for k in range(0, len(bitsets), _CHUNK)]
    return np.concatenate(parts, axis=1)


def select_bits(bitsets: list[int], size: int, index: npt.NDArray[np.intp]) -> list[int]:
    """Each bitset (over ``size`` entries) read at ``index``: bit ``j`` is entry ``index[j]``.

    >>> select_bits([0b0101, 0b1000], 4, np.array([2, 3]))
    [1, 2]
    """
    out: list[int] = []
    for k in range(0, len(bitsets), _CHUNK):
        chunk = bitsets[k:k + _CHUNK]
        picked = np.packbits(np.take(_unpacked(chunk, size), index, axis=1), axis=1,
                             bitorder="little")
        out.extend(int.from_bytes(row.tobytes(), "little") for row in picked)
    return out
