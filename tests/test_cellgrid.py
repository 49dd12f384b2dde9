"""The cell grid that a turn or a mirror maps onto itself (synthpix and spectral read it)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.forensics.cellgrid import symmetric_cells


def test_cells_fit_and_are_bounded() -> None:
    cells = symmetric_cells(600, 900, 6, 128)
    assert len(cells) == 4 * 6  # 4 rows of cells fit in 600 px, 7 columns in 900
    assert all(0 <= y <= 600 - 128 and 0 <= x <= 900 - 128 for y, x in cells)
    assert len(symmetric_cells(4000, 3000, 6, 128)) == 36
    assert symmetric_cells(100, 900, 6, 128) == []
    with pytest.raises(ValueError, match="even"):
        symmetric_cells(600, 900, 5, 128)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 5000), st.integers(0, 5000), st.integers(1, 6), st.sampled_from([64, 128]))
def test_cells_are_mapped_onto_themselves_by_turns_and_mirrors(
    h: int, w: int, half_side: int, cell: int
) -> None:
    """The cells of a turned or mirrored picture are its cells, turned (exactly, except
    the middle cell of an odd count when the side's remainder is odd)."""
    per_side = 2 * half_side
    cells = symmetric_cells(h, w, per_side, cell)
    boxes = {(y, x, y + cell, x + cell) for y, x in cells}
    assert len(boxes) == len(cells)
    assert all(0 <= y <= h - cell and 0 <= x <= w - cell for y, x in cells)
    ys = sorted({y for y, _ in cells})
    assert all(b - a >= cell for a, b in pairwise(ys))
    assert len(cells) <= per_side**2
    exact = all(
        n > per_side or n % 2 == 0 or (side - n * cell) % 2 == 0
        for side, n in ((h, h // cell), (w, w // cell))
    )
    if exact:
        flipped = {(h - cell - y, x) for y, x in cells}
        assert flipped == set(cells)
        assert {(x, y) for y, x in cells} == set(symmetric_cells(w, h, per_side, cell))
