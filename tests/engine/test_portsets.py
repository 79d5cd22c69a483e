"""Bitsets over classes: transposed and read at chosen entries, exactly as bit by bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reach.engine.portsets import select_bits, transpose_bits


@st.composite
def bitsets(draw: st.DrawFn) -> tuple[list[int], int]:
    size = draw(st.integers(1, 1100))
    count = draw(st.integers(0, 1100))
    sets = draw(st.lists(st.integers(0, (1 << size) - 1), min_size=count, max_size=count))
    return sets, size


@settings(max_examples=40, deadline=None)
@given(bitsets())
def test_transposed_row_of_an_entry_names_the_sets_that_hold_it(case: tuple[list[int], int]):
    sets, size = case
    rows = transpose_bits(sets, size)
    assert rows.shape == (size, (len(sets) + 7) // 8)
    for entry in range(size):
        holders = int.from_bytes(rows[entry].tobytes(), "little")
        assert holders == sum(1 << k for k, bits in enumerate(sets) if bits >> entry & 1)


@settings(max_examples=40, deadline=None)
@given(bitsets(), st.data())
def test_selected_bits_are_the_entries_read_in_order(case: tuple[list[int], int],
                                                     data: st.DataObject):
    sets, size = case
    index = data.draw(st.lists(st.integers(0, size - 1), max_size=60))
    picked = select_bits(sets, size, np.array(index, dtype=np.intp))
    assert picked == [sum(1 << j for j, entry in enumerate(index) if bits >> entry & 1)
                      for bits in sets]
