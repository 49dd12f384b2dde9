"""Showing a picture the way its EXIF orientation tag asks viewers to show it.

The analyzers read the pixels as stored, and every coordinate in a report is in that
grid (a script that crops the file without turning it lands on the same spot). A phone
stores a portrait photo sideways and sets the tag instead; a desk looking at the HTML
report should see it upright, with the region boxes on the same content. A phone's
portrait video is stored landscape with a display matrix instead; its quarter turn is
named by the same tag value (6 for a quarter turn clockwise). These pure functions
turn pictures and boxes from the stored grid to the upright view, for the renderers
and for the contact sheets the video analyzers draw. The tag's values are those of
the TIFF 6.0 and EXIF 2.3 specifications (tag 274, 0x0112).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# How a viewer turns the stored picture to show it, per tag value (1 is as stored).
ORIENTATION_WORDS: dict[int, str] = {
    2: "mirrored left to right",
    3: "turned 180°",
    4: "mirrored top to bottom",
    5: "mirrored across its main diagonal",
    6: "turned 90° clockwise",
    7: "mirrored across its other diagonal",
    8: "turned 90° anticlockwise",
}


def turns(orientation: int | None) -> bool:
    """True when ``orientation`` asks viewers to show the picture other than as stored."""
    return orientation in ORIENTATION_WORDS


def upright_size(width: int, height: int, orientation: int | None) -> tuple[int, int]:
    """(width, height) of the upright view of a ``width`` x ``height`` stored picture."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def upright_pixels(pixels: np.ndarray, orientation: int | None) -> np.ndarray:
    """The picture as a viewer shows it.

    Parameters
    ----------
    pixels : ndarray, shape (H, W) or (H, W, C)
        The picture in its stored grid.
    orientation : int or None
        The EXIF orientation tag (1-8); None or 1 leave the picture as it is.

    Returns
    -------
    ndarray
        A view of ``pixels`` turned and mirrored as the tag says, shape (W, H, ...)
        for the values 5-8.
    """
    import numpy as np

    flips = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }
    turn = flips.get(orientation or 1)
    return pixels if turn is None else turn(pixels)


def upright_box(
    box: tuple[float, float, float, float], width: int, height: int, orientation: int | None
) -> tuple[float, float, float, float]:
    """A box ``(x0, y0, x1, y1)`` of the stored ``width`` x ``height`` grid, moved to
    the upright view: the same content, in the coordinates of :func:`upright_pixels`.
    Coordinates are edges (a box covering the whole picture stays whole)."""
    x0, y0, x1, y1 = box
    w, h = width, height

    def point(x: float, y: float) -> tuple[float, float]:
        return {
            2: (w - x, y),
            3: (w - x, h - y),
            4: (x, h - y),
            5: (y, x),
            6: (h - y, x),
            7: (h - y, w - x),
            8: (y, w - x),
        }.get(orientation or 1, (x, y))

    (ax, ay), (bx, by) = point(x0, y0), point(x1, y1)
    return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)
