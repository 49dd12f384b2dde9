"""Whether a picture held inside another sits on a page (a border, a screenshot's
interface, a letterbox) or is a crop of a wider view of the same scene."""

from __future__ import annotations

import numpy as np

__all__ = ["is_framed"]


def is_framed(outer: np.ndarray, inner_box: tuple[float, float, float, float]) -> bool:
    """Whether the part of ``outer`` around ``inner_box`` (x0, y0, x1, y1 in its grid)
    is a border, a page or an interface rather than more of the scene.

    Along each side of the box that lies inside ``outer``, the grey levels 3 px outside
    and 2 px inside are compared pixel by pixel, and so are two lines the same 5 px
    apart further inside (the picture's own change over that distance there). A
    picture pasted on a page or into an app's screen steps at its edge; a wider framing
    of the same scene changes across the crop line as it does anywhere else. At least
    half of those sides (one at least) must step by more than 8 levels and by 2.5 times
    the change inside: a pasted picture whose own edge matches the page (a white sky on
    a white page) still steps on its other sides.

    Parameters
    ----------
    outer : ndarray
        Grey picture (any numeric type) that holds the other one.
    inner_box : tuple of float
        ``(x0, y0, x1, y1)``: where the held picture lies in ``outer``'s grid.

    Returns
    -------
    bool
        True when the area around the box reads as a border, page or interface.

    Notes
    -----
    No paper is followed: this is a plain step test, measured in
    ``bench/compare_copies.py`` (framing section); nothing is learned.
    """
    h, w = outer.shape
    grey = outer.astype(np.float32)
    x0, y0, x1, y1 = (round(v) for v in inner_box)
    if min(x1, w) - max(x0, 0) < 24 or min(y1, h) - max(y0, 0) < 24:
        return False
    span_x = slice(max(x0, 0) + 2, min(x1, w) - 2)
    span_y = slice(max(y0, 0) + 2, min(y1, h) - 2)

    def step(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a - b).mean())

    sides = []  # (across the edge, the same distance further inside)
    if y0 - 3 >= 0:
        sides.append(
            (
                step(grey[y0 - 3, span_x], grey[y0 + 2, span_x]),
                step(grey[y0 + 4, span_x], grey[y0 + 9, span_x]),
            )
        )
    if y1 + 2 < h:
        sides.append(
            (
                step(grey[y1 + 2, span_x], grey[y1 - 3, span_x]),
                step(grey[y1 - 5, span_x], grey[y1 - 10, span_x]),
            )
        )
    if x0 - 3 >= 0:
        sides.append(
            (
                step(grey[span_y, x0 - 3], grey[span_y, x0 + 2]),
                step(grey[span_y, x0 + 4], grey[span_y, x0 + 9]),
            )
        )
    if x1 + 2 < w:
        sides.append(
            (
                step(grey[span_y, x1 + 2], grey[span_y, x1 - 3]),
                step(grey[span_y, x1 - 5], grey[span_y, x1 - 10]),
            )
        )
    stepped = sum(across > max(8.0, 2.5 * inside) for across, inside in sides)
    return bool(sides) and 2 * stepped >= len(sides)
