"""Cells of an image that a turn or a mirror maps onto itself.

Analyzers that read a sample of an image's cells (a patch model, a spectrum averaged
over tiles) must read the same pixels when the same picture arrives turned or
mirrored: a photo posted sideways, or flipped to dodge a match, is the same picture.
A row-major subset anchored at the top-left corner is not: a turn of a picture that
is not square brings other cells into it.
"""

from __future__ import annotations

import numpy as np


def symmetric_cells(h: int, w: int, per_side: int, cell: int) -> list[tuple[int, int]]:
    """Top-left corners of non-overlapping cells that a turn or a mirror maps onto itself.

    The image holds ``h // cell`` rows of cells; up to ``per_side`` of them are taken,
    evenly spread and symmetric about the middle, and their columns alike. A cell in the
    lower half is placed as the mirror of its upper twin, so a quarter turn, a half turn
    or a mirror of the picture gives the same cells, turned. (The one exception: the
    middle cell of an odd row count, taken only when every row is, moves by one pixel when
    the remainder of the side is odd.)

    Parameters
    ----------
    h, w : int
        Image size.
    per_side : int
        Most cells to take along each side, an even number: an odd one would need the
        middle cell of an even count.
    cell : int
        Cell side in pixels.

    Returns
    -------
    list of (y, x)
        Corners, row-major; at most ``per_side ** 2``; empty when the image is smaller
        than one cell.

    Raises
    ------
    ValueError
        When ``per_side`` is odd or below 2.

    References
    ----------
    D. Cozzolino, G. Poggi, L. Verdoliva, "Zero-shot detection of AI-generated
    images", ECCV 2024 (image score from many local decisions).
    """
    if per_side < 2 or per_side % 2:
        raise ValueError(f"per_side must be even and at least 2, not {per_side}")
    ys = _symmetric_starts(h, per_side, cell)
    xs = _symmetric_starts(w, per_side, cell)
    return [(y, x) for y in ys for x in xs]


def _symmetric_starts(length: int, count: int, cell: int) -> list[int]:
    """Starts of up to ``count`` (even) cells along one side, symmetric about its middle."""
    n = length // cell
    if n <= count:
        picked = list(range(n))
    else:
        # Evenly spaced indices, rounded half up in the first half and mirrored into the
        # second: a rounding rule applied to both halves alike would break the symmetry.
        # With more cells than picks, the first half stays over half a cell from the middle.
        half = [int(np.floor(m * (n - 1) / (count - 1) + 0.5)) for m in range(count // 2)]
        picked = [*half, *(n - 1 - i for i in reversed(half))]
    margin = (length - n * cell) // 2

    def start(i: int) -> int:
        if 2 * i < n - 1:
            return margin + i * cell
        if 2 * i > n - 1:
            return length - cell - (margin + (n - 1 - i) * cell)
        return (length - cell) // 2

    return [start(i) for i in picked]
