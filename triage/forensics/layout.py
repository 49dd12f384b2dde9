"""Where a photo sits inside a flat frame (screenshots of posts, letterboxed stills),
and whether an image is a photo at all (charts, drawings, slides are flat colour).

A screenshot of a social post or a chat is a composite: a downscaled photo pasted into
flat interface graphics (a header, bars, bubbles, lines of text, icons). Region detectors that compare
one part of an image with the rest find that the photo "differs from the rest", which
is true and says nothing about whether the photo was edited. :func:`framed_photo_box`
finds the photo's rectangle so that those detectors can compare the photo with
itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

# Block side (working-image pixels) of the photo/frame classification.
BLOCK = 8
# Luma weights of RGB (ITU-R BT.601, as Pillow's "L").
LUMA = (0.299, 0.587, 0.114)
# The frame's ground is the commonest colour of the image's outer ring (colours
# within GROUND_TOLERANCE of each other count as one); with less than MIN_GROUND of
# the ring in it there is no frame.
GROUND_TOLERANCE = 6
MIN_GROUND = 0.4
# A block belongs to the frame when this share of its pixels is the ground colour
# (a flat ground, text or icons on it), or when it is flat whatever its colour (an
# avatar, a button).
FRAME_GROUND_SHARE = 0.3
FLAT_STD = 1.5
# The frame: outside the photo's box at most this share of blocks may be solid photo
# (a second photo makes the layout unclear), the box must leave at least MIN_MARGIN of the
# image's area outside it, and the photo must cover at least MIN_PHOTO of the image.
MAX_PHOTO_OUTSIDE = 0.02
MIN_MARGIN = 0.08
MIN_PHOTO = 0.15
# Solid photographic parts of at least this share of the image make up the photo
# (a profile picture or a thumbnail in the frame is smaller).
MIN_PART = 0.01
# The line of blocks just outside each framed side is frame; inside the box at least
# MIN_FILL of the blocks are photographic.
EDGE_OUTSIDE_FRAME = 0.9
MIN_FILL = 0.4
# On one framed side at least, the line just inside is this much photo.
STRAIGHT_EDGE = 0.9
# Where the photo's edge crosses a line of blocks, the strongest step in each pixel
# column across it lies on one pixel line (give or take one) for this share of them.
PIXEL_EDGE_SHARE = 0.75
# A frame encloses the photo on two opposite sides at least: the outermost rows (or
# columns) on both sides are this much ground, or this much one other flat colour (an
# app's title or tab bar). A photo's own flat sky reaches one edge, not two opposite
# ones.
ENCLOSING_SHARE = 0.9
# A bar (a title or status bar) is one colour along an edge and ends, within the outer
# BAR_DEPTH of the image, at a step of at least BAR_STEP levels in its lines' median.
BAR_DEPTH = 0.3
BAR_STEP = 4 * GROUND_TOLERANCE
BAR_EDGE = 16
# A caption band (a meme's) is a bar holding a line of text: INK_ROWS consecutive rows
# with some pixels (letters' strokes) at least INK_STEP levels from the band's colour.
INK_STEP = 96
INK_ROWS = 8
# ... followed by INK_MARGIN clean rows of the band before the band ends.
INK_MARGIN = 4
# An interface draws more than its ground: bars, bubbles, cards. A flat colour that
# covers at least this share of the blocks is part of the frame too, so that text in a
# chat bubble is not read as a second photo.
MIN_FRAME_COLOUR = 0.02


# Flat colour (:func:`flat_colour_share`): an 8x8 block is flat when no channel varies
# by more than FLAT_COLOUR_STD; colours are compared in steps of COLOUR_STEP; blocks no
# brighter than DARK_LEVEL are left out (a night sky, a lens cap, the black corners of
# a fisheye photo are flat too, and are photos). An image with at least GRAPHIC_SHARE
# of its area in its FLAT_COLOURS commonest flat colours is a graphic.
FLAT_COLOUR_STD = 0.75
COLOUR_STEP = 4
DARK_LEVEL = 24
FLAT_COLOURS = 4
GRAPHIC_SHARE = 0.5


def flat_colour_share(rgb: np.ndarray, block: int = BLOCK) -> float:
    """The share of an image covered by a few exactly flat colours.

    A camera photo carries sensor noise everywhere it is not clipped, so its blocks
    are almost never exactly one colour; a chart, a slide, a drawing or an interface
    is mostly a few flat colours with sharp edges between them, and a JPEG keeps a
    flat block flat. Region detectors made for photographs (noise levels, block
    statistics, error levels, resampling spectra, keypoints) read such images as
    full of anomalies that no edit made.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        The image at a working resolution (every k-th pixel keeps flat areas exactly
        flat; an averaging reduction would too).
    block : int
        Block side in pixels; the image is cropped to whole blocks.

    Returns
    -------
    float
        The share of the image's blocks that are flat (every channel's standard
        deviation at most ``FLAT_COLOUR_STD``), brighter than ``DARK_LEVEL`` and of
        one of the ``FLAT_COLOURS`` commonest such colours (block means in steps of
        ``COLOUR_STEP``); 0 for an image smaller than a block.

    References
    ----------
    Athitsos, Swain & Frankel, "Distinguishing photographs and graphics on the World
    Wide Web", IEEE Workshop on Content-Based Access of Image and Video Libraries,
    1997 (graphics have few, flat colours; photographs have noise and many).
    """
    import numpy as np

    flat, mean = _flat_blocks(rgb, block)
    rows, cols = flat.shape
    if rows == 0 or cols == 0:
        return 0.0
    mean = np.rint(mean).astype(np.int32)
    counted = flat & (mean.max(axis=-1) > DARK_LEVEL)
    step = mean[counted] // COLOUR_STEP
    if step.size == 0:
        return 0.0
    keys = (step[:, 0] * 64 + step[:, 1]) * 64 + step[:, 2]
    counts = np.sort(np.unique(keys, return_counts=True)[1])[::-1]
    return float(counts[:FLAT_COLOURS].sum() / float(rows * cols))


def _flat_blocks(rgb: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Per block: whether no channel's standard deviation exceeds FLAT_COLOUR_STD,
    and the block's mean colour (rows x cols x 3, float)."""
    import cv2
    import numpy as np

    rows, cols = rgb.shape[0] // block, rgb.shape[1] // block
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols), bool), np.zeros((rows, cols, 3))
    a = np.asarray(rgb[: rows * block, : cols * block], np.float64)
    # Block means of the pixels and of their squares: an area reduction by a whole
    # factor averages each block exactly, ten times faster than numpy's reshape.
    mean = cv2.resize(a, (cols, rows), interpolation=cv2.INTER_AREA).reshape(rows, cols, 3)
    square = cv2.resize(a * a, (cols, rows), interpolation=cv2.INTER_AREA).reshape(rows, cols, 3)
    return (square - mean * mean).max(axis=-1) <= FLAT_COLOUR_STD**2, mean


def ground_colour(
    rgb: np.ndarray, bars: Sequence[tuple[np.ndarray, int] | None] | None = None
) -> np.ndarray | None:
    """The flat colour a frame around the image would be drawn in, if any.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        The image (any resolution).
    bars : sequence of 4, optional
        :func:`_edge_bars` of ``rgb``, when the caller has them already.

    Returns
    -------
    ndarray, shape (3,), or None
        The commonest colour of the outermost pixel rows and columns (coarsely
        binned, then averaged within its bin), or None when it covers less than
        ``MIN_GROUND`` of them: an ordinary photo's edge is not one colour. An
        outermost row or column that is a bar of another colour (a phone's black
        status bar, :func:`_bar`) counts towards that share, as frame.
    """
    import numpy as np

    ring = _ring(rgb)
    bins = ring // (2 * GROUND_TOLERANCE)
    keys = (bins[:, 0] * 64 + bins[:, 1]) * 64 + bins[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    top = values[int(np.argmax(counts))]
    members = ring[keys == top]
    colour = members.mean(axis=0)
    framed = _on_ground(ring, colour)
    h, w = rgb.shape[:2]
    # The ring's pixels side by side, in _ring's order; a bar's whole line is frame.
    spans = ((0, w), (w, 2 * w), (2 * w, 2 * w + h - 2), (2 * w + h - 2, 2 * (w + h - 2)))
    for bar, (start, stop) in zip(bars or _edge_bars(rgb), spans, strict=True):
        if bar is not None:
            framed[start:stop] = True
    return colour if framed.mean() >= MIN_GROUND else None


def _edges_inwards(rgb: np.ndarray) -> tuple[np.ndarray, ...]:
    """The image's pixel lines from each edge inwards (top, bottom, left, right): views
    whose first line is the outermost row or column."""
    across = rgb.transpose(1, 0, 2)
    return rgb, rgb[::-1], across, across[::-1]


def _ring(rgb: np.ndarray) -> np.ndarray:
    """The outermost pixel rows and columns (top, bottom, left, right), int16."""
    import numpy as np

    return np.concatenate([rgb[0], rgb[-1], rgb[1:-1, 0], rgb[1:-1, -1]], axis=0).astype(np.int16)


def _on_ground(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Which pixels (..., 3) lie within GROUND_TOLERANCE of ``colour`` on every
    channel, computed in ``colour``'s dtype."""
    import numpy as np

    diff = np.abs(np.asarray(pixels, colour.dtype) - colour)
    # The channels' maximum pairwise: numpy's reduction over a last axis of 3 walks it
    # element by element (~8x slower on a 1024-px copy); same values.
    return np.maximum(np.maximum(diff[..., 0], diff[..., 1]), diff[..., 2]) <= GROUND_TOLERANCE


def _framed_edges(
    photo: np.ndarray, box: tuple[int, int, int, int]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(line of blocks just outside, line just inside) for each side of the box
    (r0, r1, c0, c1) that does not lie on the image's edge."""
    r0, r1, c0, c1 = box
    rows, cols = photo.shape
    edges = []
    if r0 > 0:
        edges.append((photo[r0 - 1, c0:c1], photo[r0, c0:c1]))
    if r1 < rows:
        edges.append((photo[r1, c0:c1], photo[r1 - 1, c0:c1]))
    if c0 > 0:
        edges.append((photo[r0:r1, c0 - 1], photo[r0:r1, c0]))
    if c1 < cols:
        edges.append((photo[r0:r1, c1], photo[r0:r1, c1 - 1]))
    return edges


def _inset(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The box (r0, r1, c0, c1) moved one block in on each side that does not lie on
    the edge of a block map of ``shape``."""
    r0, r1, c0, c1 = box
    rows, cols = shape[:2]
    return r0 + (r0 > 0), r1 - (r1 < rows), c0 + (c0 > 0), c1 - (c1 < cols)


def _grow(photo: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The box (r0, r1, c0, c1) grown side by side while the line of blocks just
    outside a side is at least half ``photo``."""
    r0, r1, c0, c1 = box
    rows, cols = photo.shape
    grown = True
    while grown:
        grown = False
        if r0 > 0 and photo[r0 - 1, c0:c1].mean() >= 0.5:
            r0, grown = r0 - 1, True
        if r1 < rows and photo[r1, c0:c1].mean() >= 0.5:
            r1, grown = r1 + 1, True
        if c0 > 0 and photo[r0:r1, c0 - 1].mean() >= 0.5:
            c0, grown = c0 - 1, True
        if c1 < cols and photo[r0:r1, c1].mean() >= 0.5:
            c1, grown = c1 + 1, True
    return r0, r1, c0, c1


def _trim(textured: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The box (r0, r1, c0, c1) with each side moved in while its outermost line of
    blocks is almost all flat (less than a tenth textured)."""
    r0, r1, c0, c1 = box
    trimmed = True
    while trimmed and r1 - r0 > 2 and c1 - c0 > 2:
        trimmed = False
        if textured[r0, c0:c1].mean() < 1 - EDGE_OUTSIDE_FRAME:
            r0, trimmed = r0 + 1, True
        if textured[r1 - 1, c0:c1].mean() < 1 - EDGE_OUTSIDE_FRAME:
            r1, trimmed = r1 - 1, True
        if textured[r0:r1, c0].mean() < 1 - EDGE_OUTSIDE_FRAME:
            c0, trimmed = c0 + 1, True
        if textured[r0:r1, c1 - 1].mean() < 1 - EDGE_OUTSIDE_FRAME:
            c1, trimmed = c1 - 1, True
    return r0, r1, c0, c1


def _pixel_edge(
    rgb: np.ndarray, box: tuple[int, int, int, int], side: int, line: int, block: int
) -> bool:
    """Whether the photo's edge along one side of the box crosses the line of blocks
    ``line`` as one straight pixel line.

    ``side`` is 0-3 (top, bottom, left, right); ``box`` (r0, r1, c0, c1) is in blocks.
    Across that line and the lines on either side of it, each pixel column (or row)
    of the side has its strongest step in luma; a photo's edge puts that step at the
    same pixel, give or take one, for at least ``PIXEL_EDGE_SHARE`` of them, inside
    the line. An object's outline on a flat ground steps at many places.
    """
    import numpy as np

    r0, r1, c0, c1 = box
    horizontal = side < 2
    lines = rgb if horizontal else rgb.transpose(1, 0, 2)
    lo, hi = (c0, c1) if horizontal else (r0, r1)
    start = max(0, (line - 1) * block)
    window = lines[start : (line + 2) * block, lo * block : hi * block]
    luma = window.astype(np.float32) @ np.array(LUMA, np.float32)
    if luma.shape[0] < 2 or luma.shape[1] == 0:
        return False
    steps = np.abs(np.diff(luma, axis=0)).argmax(axis=0) + start
    mode = int(np.bincount(steps).argmax())
    if not line * block - 1 <= mode < (line + 1) * block:
        return False
    return bool((np.abs(steps - mode) <= 1).mean() >= PIXEL_EDGE_SHARE)


def _side_line(box: tuple[int, int, int, int], side: int) -> tuple[int, int]:
    """The index of the box's outermost line of blocks on ``side`` (0-3: top, bottom,
    left, right) and the step that goes inwards (+1 or -1)."""
    r0, r1, c0, c1 = box
    return ((r0, 1), (r1 - 1, -1), (c0, 1), (c1 - 1, -1))[side]


def _line_share(m: np.ndarray, box: tuple[int, int, int, int], side: int, k: int) -> float:
    """The mean of block map ``m`` along the line ``k`` lines inwards from the box's
    outermost line on ``side`` (negative: outside the box), across the box's span;
    -1 when that line lies beyond the image."""
    r0, r1, c0, c1 = box
    edge, inward = _side_line(box, side)
    i = edge + k * inward
    if k < 0 and not 0 <= i < m.shape[0 if side < 2 else 1]:
        return -1.0
    cut = m[i, c0:c1] if side < 2 else m[r0:r1, i]
    return float(cut.mean())


def _mixed_edges(
    rgb: np.ndarray,
    off_ground: np.ndarray,
    textured: np.ndarray,
    box: tuple[int, int, int, int],
    block: int,
) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """The box (r0, r1, c0, c1) without, and with, the lines of blocks that the
    photo's edge crosses: (core, outer).

    A photo's edge rarely falls on the block grid: the blocks it crosses hold some
    frame and some photo, and a JPEG's ringing along the edge makes their frame part
    noisy. On each side, such a line is the box's first line when that line is less
    than ``STRAIGHT_EDGE`` off the ground, the next one at least that, and the line
    outside clean (less than a tenth textured); or the line just outside the box when
    it is partly textured and the line beyond it clean. Either way the edge must be a
    straight pixel line across it (:func:`_pixel_edge`). The caller reads the photo's
    straight edge on ``core``, the clean frame around ``outer``, and moves each framed
    side of ``outer`` one block in at the end.
    """
    core, outer = list(box), list(box)
    clean = 1 - EDGE_OUTSIDE_FRAME
    for side in range(4):
        edge, inward = _side_line(box, side)
        outside = _line_share(textured, box, side, -1)
        if outside < 0:
            continue  # the box lies on the image's edge here: not framed
        if (
            outside < clean
            and _line_share(off_ground, box, side, 0) < STRAIGHT_EDGE
            and _line_share(off_ground, box, side, 1) >= STRAIGHT_EDGE
            and _pixel_edge(rgb, box, side, edge, block)
        ):
            core[side] = box[side] + inward  # the edge line leaves the core
        elif (
            outside >= clean
            and 0 <= _line_share(textured, box, side, -2) < clean
            and _pixel_edge(rgb, box, side, edge - inward, block)
        ):
            outer[side] = box[side] - inward  # the edge line joins the box
    return (core[0], core[1], core[2], core[3]), (outer[0], outer[1], outer[2], outer[3])


def _line_colour(line: np.ndarray) -> np.ndarray | None:
    """The one colour of a line of pixels (N, 3) when at least ``ENCLOSING_SHARE``
    of it lies within ``GROUND_TOLERANCE`` of its median, else None."""
    import numpy as np

    pixels = line.astype(np.int16)
    median = np.median(pixels, axis=0)
    return median if _on_ground(pixels, median).mean() >= ENCLOSING_SHARE else None


def _add_colour(colours: list[np.ndarray], colour: np.ndarray) -> None:
    """Append ``colour`` unless one of ``colours`` is within GROUND_TOLERANCE of it."""
    import numpy as np

    if all(np.abs(colour - known).max() > GROUND_TOLERANCE for known in colours):
        colours.append(np.asarray(colour, np.float64))


def _edge_bars(rgb: np.ndarray) -> list[tuple[np.ndarray, int] | None]:
    """:func:`_bar` along each edge (top, bottom, left, right): found once, read by
    the ground, the frame's colours and the caption check alike."""
    return [_bar(lines) for lines in _edges_inwards(rgb)]


def _bar(lines: np.ndarray) -> tuple[np.ndarray, int] | None:
    """A bar drawn along one edge: its colour and its depth in lines, or None.

    ``lines`` holds the image's pixel lines from that edge inwards (L, N, 3). The
    outermost must be one colour (:func:`_line_colour`); the bar ends at the first
    line (within the first ``BAR_DEPTH`` of them) of which less than a tenth is that
    colour, and there (or within ``BAR_EDGE`` lines) the lines' median colour must
    have left it by a step of at least ``BAR_STEP``: an interface's bar ends at a
    sharp edge, while the flat border
    of a photo (a studio backdrop's gradient, a clipped sky) drifts away from its
    colour. Text in the bar (a status bar's clock, a caption) does not end it.
    """
    import numpy as np

    colour = _line_colour(lines[0])
    if colour is None or len(lines) < 2:
        return None
    depth = max(2, int(len(lines) * BAR_DEPTH))
    inner = lines[1:depth].astype(np.int16)
    share = _on_ground(inner, colour).mean(axis=1)
    ends = np.flatnonzero(share < 0.1)
    if ends.size == 0:
        return None
    end = int(ends[0])
    # A JPEG smears the edge over the 16-line unit it falls in (its blocks ring, its
    # chroma is coded at half size): the step may come up to BAR_EDGE lines past the
    # first line that left the bar's colour. A backdrop's gradient does not climb
    # that fast.
    after = np.median(inner[end : end + BAR_EDGE], axis=1)
    if np.abs(after - colour).max() < BAR_STEP:
        return None
    return colour, end + 1


def caption_colour(
    rgb: np.ndarray, bars: Sequence[tuple[np.ndarray, int] | None] | None = None
) -> tuple[np.ndarray, str] | None:
    """The colour of a caption band across the top or the bottom of an image (a meme),
    and which edge it is on, or None.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        The image at a working resolution.
    bars : sequence of 4, optional
        :func:`_edge_bars` of ``rgb``, when the caller has them already.

    Returns
    -------
    (ndarray of shape (3,), "top" or "bottom") or None
        A band is a bar (:func:`_bar`) that holds a line of text: at least
        ``INK_ROWS`` consecutive pixel rows in it where between 2% and 60% of the
        pixels lie at least ``INK_STEP`` levels from the band's colour (letters'
        strokes), then ``INK_MARGIN`` clean rows of the band before it ends. A
        photo's own clipped sky ends without a sharp step, birds or wires in it are
        not rows of strokes, and the ragged far edge of a snow field is not followed
        by more snow.
    """
    import numpy as np

    found = bars or _edge_bars(rgb)
    for lines, edge, bar in ((rgb, "top", found[0]), (rgb[::-1], "bottom", found[1])):
        if bar is None:
            continue
        colour, depth = bar
        far = np.abs(lines[:depth].astype(np.int16) - colour).max(axis=2) >= INK_STEP
        share = far.mean(axis=1)
        inked = (share >= 0.02) & (share <= 0.6)
        clean = share < 0.02
        # A run of inked rows with clean band rows after it, before the band ends: a
        # line of text sits inside its band, while the ragged edge of a photo's own
        # flat area (a snow field's far bank) runs up to where the area ends.
        run = 0
        for row in range(depth):
            if inked[row]:
                run += 1
                continue
            if run >= INK_ROWS and clean[row : row + INK_MARGIN].all() and row + INK_MARGIN < depth:
                return colour, edge
            run = 0
    return None


def _frame_lines(
    rgb: np.ndarray, ground: np.ndarray, bars: Sequence[tuple[np.ndarray, int] | None]
) -> list[np.ndarray]:
    """The ground and the colour of each bar (``bars``, :func:`_edge_bars`) drawn
    along an edge (top, bottom, left, right) in another colour than the ground."""
    import numpy as np

    colours = [np.asarray(ground, np.float64)]
    for lines, bar in zip(_edges_inwards(rgb), bars, strict=True):
        if _on_ground(lines[0].astype(np.int16), ground.astype(np.int16)).mean() >= ENCLOSING_SHARE:
            continue
        if bar is not None:
            _add_colour(colours, bar[0])
    return colours


def _enclosed(rgb: np.ndarray, bars: list[np.ndarray]) -> bool:
    """Whether the outermost rows, or the outermost columns, are both one of the
    colours ``bars`` (:func:`_frame_lines`) for ``ENCLOSING_SHARE`` of their length."""
    import numpy as np

    def framed(line: np.ndarray) -> bool:
        pixels = line.astype(np.int16)
        return any(
            _on_ground(pixels, colour.astype(np.int16)).mean() >= ENCLOSING_SHARE for colour in bars
        )

    return (framed(rgb[0]) and framed(rgb[-1])) or (framed(rgb[:, 0]) and framed(rgb[:, -1]))


def frame_colours(rgb: np.ndarray, bars: list[np.ndarray], block: int = BLOCK) -> np.ndarray:
    """The flat colours an interface around a photo is drawn in.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        The image at a working resolution.
    bars : list of ndarray, shape (3,)
        The frame's ground and the colours of its bars (:func:`_frame_lines`).
    block : int
        Block side in pixels of the flat-colour count.

    Returns
    -------
    ndarray, shape (K, 3)
        ``bars`` first (the ground, a title bar, a tab bar); then each flat
        colour brighter than ``DARK_LEVEL`` (block means in steps of
        ``COLOUR_STEP``, as :func:`flat_colour_share` counts them) that covers at
        least ``MIN_FRAME_COLOUR`` of the blocks (a chat bubble, a card).
        Colours within ``GROUND_TOLERANCE`` of one already listed are left out.
    """
    import numpy as np

    colours = list(bars)
    flat, mean = _flat_blocks(rgb, block)
    means = np.rint(mean[flat]).astype(np.int32)
    # A dark photo's black is flat too, and is photo (as in flat_colour_share).
    means = means[means.max(axis=-1) > DARK_LEVEL]
    if means.size:
        step = means // COLOUR_STEP
        keys = (step[:, 0] * 64 + step[:, 1]) * 64 + step[:, 2]
        _, members, counts = np.unique(keys, return_inverse=True, return_counts=True)
        members = members.ravel()
        for i in np.flatnonzero(counts >= MIN_FRAME_COLOUR * flat.size):
            _add_colour(colours, means[members == i].mean(axis=0))
    return np.stack(colours)


def block_classes(
    rgb: np.ndarray, ground: np.ndarray, block: int = BLOCK, drawn: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-block maps of an image drawn on a flat ground: what is off the ground,
    and what of that is photographic texture.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        The image at a working resolution.
    ground : ndarray, shape (3,) or (K, 3)
        The frame's ground (:func:`ground_colour`), or the ground and its bars
        (:func:`_frame_lines`).
    block : int
        Block side in pixels; the image is cropped to whole blocks.
    drawn : ndarray, shape (K, 3), optional
        Every flat colour the interface is drawn in (:func:`frame_colours`): a block
        holding at least ``FRAME_GROUND_SHARE`` of them is not textured, so that
        letters in a bubble do not read as photo. A photo's own flat patch of such a
        colour (a clipped sky) is then not textured either, which it was not anyway.

    Returns
    -------
    off_ground, off_frame, textured : ndarray of bool, shape (H // block, W // block)
        ``off_ground`` where less than ``FRAME_GROUND_SHARE`` of the block is in
        ``ground`` (the frame's text and icons sit on the ground, so their blocks
        hold some of it); ``off_frame`` where that holds for ``ground`` and
        ``drawn`` together (a bubble's margin is off the ground but drawn);
        ``textured`` where a block is off the frame and not flat. A photo is textured with flat patches (a night sky, clipped
        highlights); the frame is ground with flat shapes (an avatar, a button).
    """
    import numpy as np

    rows, cols = rgb.shape[0] // block, rgb.shape[1] // block
    if rows == 0 or cols == 0:
        empty = np.zeros((rows, cols), bool)
        return empty, empty, empty
    a = np.asarray(rgb[: rows * block, : cols * block], np.float32)

    def add(inside: np.ndarray, colours: np.ndarray) -> np.ndarray:
        for colour in colours:
            inside |= _on_ground(a, colour)
        return inside

    def share(inside: np.ndarray) -> np.ndarray:
        return inside.reshape(rows, block, cols, block).mean(axis=(1, 3))

    grounds = np.atleast_2d(ground).astype(np.float32)
    on_ground = add(np.zeros(a.shape[:2], bool), grounds)
    luma = a @ np.array(LUMA, np.float32)
    std = luma.reshape(rows, block, cols, block).std(axis=(1, 3))
    off_ground = share(on_ground) < FRAME_GROUND_SHARE
    off_frame = off_ground
    if drawn is not None:
        # ``drawn`` repeats the ground's colours (frame_colours lists them first):
        # their pixels are already in ``on_ground``.
        extra = [
            c for c in np.atleast_2d(drawn).astype(np.float32) if not (c == grounds).all(1).any()
        ]
        off_frame = share(add(on_ground.copy(), np.asarray(extra))) < FRAME_GROUND_SHARE
    return off_ground, off_frame, off_frame & (std > FLAT_STD)


def framed_photo_box(rgb: np.ndarray, block: int = BLOCK) -> tuple[int, int, int, int] | None:
    """The rectangle of a photo set in a flat frame, or None for an ordinary image.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        The image at a working resolution (a reduced copy is enough).
    block : int
        Block side of the classification (:func:`block_classes`).

    Returns
    -------
    (x0, y0, x1, y1) or None
        The photo's box in ``rgb``'s pixels (x1, y1 exclusive), shrunk by one block
        on each framed side so that no frame pixel is inside, when the image is a
        photo in a frame: the box of the large solid parts of photographic blocks,
        grown to the photo's edges, with a frame on two opposite sides at least
        (the ground colour, or a bar of one flat colour: a chat's title bar) or a
        caption band on one side (a meme, :func:`caption_colour`), clean framed edges, one of them straight, and next
        to nothing photographic outside it. None when the photo fills the image,
        when no frame is found or when the layout is not clear (several photos, a
        photo with large flat areas at its edges).

    Notes
    -----
    The tests are strict on purpose: a photo whose sky is clipped flat must not read
    as framed, since cutting the sky away could hide an object pasted there. A frame
    missed leaves the image analyzed whole, as before. Measured with
    ``bench/screenshots.py`` on every 1024/long-side-th pixel, as
    :func:`triage.analyzers.common.framed_photo` reads it: 37 and 39 of 40 code-made
    screenshots of held-out camera photos are found (seeds 0 and 1), and the photo
    of every chat layout of ``bench/screenshot_layouts.py`` (PNG and JPEG q75-95).
    Memes, posts and phone screenshots saved as JPEG q60-85 are found when the
    photo's edge crosses the block grid (:func:`_mixed_edges`; docs/graphics.md).
    No camera photo of ../shared/training, ../shared/corpus or the 4,789 images of
    the calibration set reads as framed.
    """
    import numpy as np
    from scipy import ndimage

    edge_bars = _edge_bars(rgb)
    ground = ground_colour(rgb, edge_bars)
    bars = [] if ground is None else _frame_lines(rgb, ground, edge_bars)
    if ground is None or not _enclosed(rgb, bars):
        # A caption band frames one side only: a meme's photo reaches the other three.
        caption = caption_colour(rgb, edge_bars)
        if caption is None:
            return None
        ground = caption[0]
        bars = [ground]
    drawn = frame_colours(rgb, bars, block)
    off_ground, off_frame, textured = block_classes(rgb, np.stack(bars), block, drawn=drawn)
    rows, cols = textured.shape
    if rows < 8 or cols < 8 or not textured.any():
        return None
    # Glyph-dense text blocks can read as textured; they stand alone or in thin
    # lines, a photo is solid: an opening keeps the solid parts. A photo with bright
    # or flat areas falls apart into several solid parts: all the large ones count.
    solid = ndimage.binary_opening(textured, structure=np.ones((3, 3), bool))
    labels, n = ndimage.label(solid)
    if n == 0:
        return None
    sizes = np.bincount(labels.ravel())[1:]
    large = np.flatnonzero(sizes >= max(4, MIN_PART * rows * cols)) + 1
    if large.size == 0:
        return None
    part_rows, part_cols = np.nonzero(np.isin(labels, large))
    r0, r1 = int(part_rows.min()), int(part_rows.max()) + 1
    c0, c1 = int(part_cols.min()), int(part_cols.max()) + 1
    # The solid parts can stop short of the photo's edge where the photo is flat
    # there: grow each side while the line just outside is mostly off the frame (a
    # bubble's drawn margin around the photo is not photo).
    r0, r1, c0, c1 = _grow(off_frame, (r0, r1, c0, c1))
    # ... and flat bands at its edges (bars of another colour, a black night sky)
    # hold nothing to compare: trimmed off.
    r0, r1, c0, c1 = _trim(textured, (r0, r1, c0, c1))
    core, outer = _mixed_edges(rgb, off_ground, textured, (r0, r1, c0, c1), block)
    r0, r1, c0, c1 = core
    box_area = (r1 - r0) * (c1 - c0)
    if box_area < MIN_PHOTO * rows * cols or box_area > (1 - MIN_MARGIN) * rows * cols:
        return None
    inside = np.zeros_like(textured)
    inside[outer[0] : outer[1], outer[2] : outer[3]] = True
    if solid[~inside].mean() > MAX_PHOTO_OUTSIDE or off_ground[r0:r1, c0:c1].mean() < MIN_FILL:
        return None
    edges = _framed_edges(textured, outer)
    if not edges:
        return None
    # Clean framed edges: the line of blocks just outside each framed side is ground
    # or flat; and a straight edge on one of them at least: a photo is a rectangle,
    # an object on its own flat background (a product shot, a planet on black) is
    # not.
    if any((~out_textured).mean() < EDGE_OUTSIDE_FRAME for out_textured, _ in edges):
        return None
    if max(inner.mean() for _, inner in _framed_edges(off_ground, core)) < STRAIGHT_EDGE:
        return None
    # One block in from each framed side: the photo's true edge lies within a block.
    r0, r1, c0, c1 = _inset(outer, textured.shape)
    if r1 <= r0 or c1 <= c0:
        return None
    return c0 * block, r0 * block, c1 * block, r1 * block
