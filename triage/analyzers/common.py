"""Image views and coordinate helpers shared by several analyzers.

Analyzers import no other analyzer; what two of them need alike lives here. Each
view is read from the shared decode of :class:`~triage.media.Media`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from triage.analyzers.base import AnalyzerResult
    from triage.media import Media

# Long side of the downscale the region analyzers (noise, copy-move) work on: block
# statistics and keypoints survive it, and both read the same cached reduction.
WORK_SIDE = 800


def working_gray(media: Media, max_side: int) -> tuple[np.ndarray, float]:
    """Grey working image (float32, read-only, shared: ``media.reduced_gray``) and the
    factor that maps its coordinates back to full resolution."""
    gray = media.reduced_gray(max_side)
    full_w = media.width or gray.shape[1]
    return gray, full_w / gray.shape[1]


def to_full(box: tuple[int, int, int, int], scale: float, w: int, h: int) -> list[int]:
    """Map a working-image box (x1, y1 exclusive) to full-resolution pixels."""
    x0, y0, x1, y1 = box
    return [
        max(0, int(x0 * scale)),
        max(0, int(y0 * scale)),
        min(w, round(x1 * scale)),
        min(h, round(y1 * scale)),
    ]


def working_box(
    box: tuple[int, int, int, int], scale: float, shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    """A full-resolution box (x0, y0, x1, y1) in a working image's pixels (``scale``
    maps working to full, ``shape`` is the working image's), rounded inwards."""
    h, w = shape[:2]
    x0, y0 = min(w, math.ceil(box[0] / scale)), min(h, math.ceil(box[1] / scale))
    x1, y1 = max(x0, min(w, int(box[2] / scale))), max(y0, min(h, int(box[3] / scale)))
    return x0, y0, x1, y1


def native_gray(media: Media, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Full-resolution luma (float32) of ``box`` (x0, y0, x1, y1) or the whole image:
    a crop of the shared luma plane (``media.luma``, Pillow's "L" conversion)."""
    import numpy

    return native_luma(media, box).astype(numpy.float32)


def native_luma(media: Media, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """:func:`native_gray` as the 8-bit values it holds (uint8; a view of the shared
    plane, read-only, where the box lies inside the image)."""
    import numpy

    luma = media.luma
    h, w = luma.shape
    if box is None:
        return luma
    x0, y0, x1, y1 = box
    if 0 <= x0 <= x1 <= w and 0 <= y0 <= y1 <= h:
        return luma[y0:y1, x0:x1]
    # A box reaching outside the image: Pillow pads the crop with black.
    return numpy.asarray(media.image().crop(box).convert("L"))


def centred_window(w: int, h: int, max_pixels: int) -> tuple[int, int, int, int]:
    """The whole image, or a centred window of at most ``max_pixels`` with the
    image's aspect ratio."""
    if w * h <= max_pixels:
        return 0, 0, w, h
    f = (max_pixels / float(w * h)) ** 0.5
    ww, hh = max(1, int(w * f)), max(1, int(h * f))
    x0, y0 = (w - ww) // 2, (h - hh) // 2
    return x0, y0, x0 + ww, y0 + hh


def camera_planes(media: Media, side: int) -> np.ndarray:
    """The per-pixel camera-likeness planes (:func:`triage.forensics.camera.region_planes`
    under the shipped model) of ``media.reduced_gray(side)``, computed once per file:
    the camera and faces analyzers tile the same planes at their own tile sizes."""
    from triage.forensics.camera import region_planes, shipped_model

    model, _ = shipped_model()
    return media.shared(
        ("camera.region_planes", side), lambda: region_planes(model, media.reduced_gray(side))
    )


# Long side (at most) of the subsampled copy the frame of a screenshot is looked for on.
LAYOUT_SIDE = 1024
# A quarter of the blocks decides "not a graphic" when its share is this far under
# GRAPHIC_SHARE (graphic_share).
PRESCREEN_MARGIN = 0.2
# Photographs, even dark, flat or tiny ones, hold far more distinct grey levels than
# this; a binary mask, line art or a few-colour chart does not (and is dark enough
# that flat_colour_share, which leaves dark blocks out as clipped shadows, misses it).
MAX_GRAPHIC_LEVELS = 16
# A palette file (a GIF, a PNG-8) holds at most this many colours; a colour photo,
# even a dark or tiny one, holds thousands.
MAX_PALETTE_COLOURS = 256
# Pixels of the layout copy whose colours are counted first: past MAX_PALETTE_COLOURS
# among them, the image is no palette's, and the whole copy is never counted.
PALETTE_PRESCREEN = 8192


def framed_photo(media: Media, min_side: int = 0) -> tuple[int, int, int, int] | None:
    """The box (x0, y0, x1, y1, full-resolution pixels) of a photo set in a flat
    frame (a screenshot of a post, a letterboxed still), or None for an ordinary
    image or a photo with a side under ``min_side``; see
    :func:`triage.forensics.layout.framed_photo_box`. Computed once per file. The box's corner lies on the 8-pixel grid from the image's origin and its
    sides are multiples of 8, so a JPEG's block grid keeps its phase in the crop.

    It reads every k-th pixel of the full decode (k brings the long side to at most
    ``LAYOUT_SIDE``): the analyzers that ask need that decode anyway, and a reduced
    copy would cost a decode of its own when no other analyzer makes it.
    """
    import numpy

    def make() -> numpy.ndarray:
        from triage.forensics.layout import framed_photo_box

        rgb = media.rgb
        if rgb.ndim != 3:
            return numpy.zeros(0, numpy.int64)
        h, w = rgb.shape[:2]
        k = _layout_step(media)
        box = framed_photo_box(_layout_copy(media))
        if box is None:
            return numpy.zeros(0, numpy.int64)
        x0, y0 = -(-box[0] * k // 8) * 8, -(-box[1] * k // 8) * 8
        x1 = x0 + (min(w, box[2] * k) - x0) // 8 * 8
        y1 = y0 + (min(h, box[3] * k) - y0) // 8 * 8
        return numpy.array([x0, y0, x1, y1], numpy.int64)

    found = media.shared(("layout.framed_photo", LAYOUT_SIDE), make)
    if found.size != 4 or found[2] <= found[0] or found[3] <= found[1]:
        return None
    x0, y0, x1, y1 = (int(v) for v in found)
    if min(x1 - x0, y1 - y0) < min_side:
        return None
    return x0, y0, x1, y1


def _layout_step(media: Media) -> int:
    """The subsampling step that brings the long side to at most LAYOUT_SIDE."""
    h, w = media.rgb.shape[:2]
    return max(1, -(-max(h, w) // LAYOUT_SIDE))


def _layout_copy(media: Media) -> np.ndarray:
    """``media.rgb[::k, ::k]`` (k from :func:`_layout_step`), contiguous, computed once
    per file: the copy the frame and graphic checks both read (an RGB image)."""

    def make() -> np.ndarray:
        import numpy

        rgb, k = media.rgb, _layout_step(media)
        h, w = rgb.shape[:2]
        # Whole rows, then every k-th pixel's three bytes: numpy's own strided copy
        # of 3-byte pixels takes twice as long (3.6 ms against 2.0 on 12 MP).
        cols = (numpy.arange(0, w, k)[:, None] * 3 + numpy.arange(3)).ravel()
        return rgb.reshape(h, w * 3)[::k].take(cols, axis=1).reshape(-(-h // k), -1, 3)

    return media.shared(("layout.copy", LAYOUT_SIDE), make)


def graphic_share(media: Media) -> float | None:
    """The share of the image in a few exactly flat colours when it is a graphic (a
    chart, a slide, a drawing, an interface: :func:`triage.forensics.layout.
    flat_colour_share` at least ``GRAPHIC_SHARE``), else None. A screenshot whose
    photo :func:`framed_photo` finds is not a graphic: the photo is examined.
    Computed once per file, on the subsampled copy :func:`framed_photo` reads.
    """
    import numpy

    from triage.forensics.layout import GRAPHIC_SHARE, flat_colour_share

    def make() -> numpy.ndarray:
        if media.rgb.ndim != 3:
            return numpy.array([0.0])
        sub = _layout_copy(media)
        # Most photos have next to no flat block, and every other block row and column
        # says so at a sixth of the cost; the share is read on every block only where
        # that quarter could be a graphic's (on the 79 charts, renders, layouts and
        # ../shared images with a full share of at least 0.4, it came within 0.07).
        quarter = flat_colour_share(_every_other_block(sub))
        if quarter < GRAPHIC_SHARE - PRESCREEN_MARGIN:
            return numpy.array([quarter])
        return numpy.array([flat_colour_share(sub)])

    share = float(media.shared(("layout.flat_colour_share", LAYOUT_SIDE), make)[0])
    if share < GRAPHIC_SHARE or framed_photo(media) is not None:
        return None
    return share


def _every_other_block(rgb: np.ndarray, block: int = 8) -> np.ndarray:
    """The image made of its blocks at even block rows and columns (a quarter)."""
    rows, cols = rgb.shape[0] // block, rgb.shape[1] // block
    kept = rgb[: rows * block, : cols * block].reshape(rows, block, cols, block, 3)[::2, :, ::2]
    return kept.reshape(kept.shape[0] * block, kept.shape[2] * block, 3)


def count_grey_levels(luma: np.ndarray) -> int:
    """How many distinct values the 8-bit luma holds."""
    import cv2
    import numpy

    # OpenCV's histogram of 8-bit values: exact counts (float32, under 2**24 pixels),
    # 6x faster than np.bincount, which converts to intp.
    counts = cv2.calcHist([numpy.ascontiguousarray(luma, numpy.uint8)], [0], None, [256], [0, 256])
    return int(numpy.count_nonzero(counts))


def grey_levels(media: Media) -> int:
    """How many distinct grey levels (BT.601 luma, 8 bits) the copy the frame and
    graphic checks read holds; computed once per file."""
    import cv2
    import numpy

    def make() -> numpy.ndarray:
        luma = cv2.cvtColor(_layout_copy(media), cv2.COLOR_RGB2GRAY)
        return numpy.array([count_grey_levels(luma)])

    return int(media.shared(("layout.grey_levels", LAYOUT_SIDE), make)[0])


def few_levels_reason(levels: int, method: str) -> str:
    """Why an analyzer did not examine an image of ``levels`` grey levels: ``method``
    names what it reads."""
    return (
        f"a graphic with only {levels} grey level{'s' if levels != 1 else ''} (line art, "
        f"a mask, a chart): {method} are read from the texture of photographs"
    )


def declined_for_few_levels(media: Media, result: AnalyzerResult, method: str) -> bool:
    """Whether ``media`` holds at most ``MAX_GRAPHIC_LEVELS`` grey levels (a mask, line
    art, a few-colour chart); if so, ``result`` says the analyzer did not examine it,
    and why: ``method`` names what it reads."""
    levels = grey_levels(media)
    if levels > MAX_GRAPHIC_LEVELS:
        return False
    result.skipped_reason = few_levels_reason(levels, method)
    return True


def count_palette_colours(rgb: np.ndarray, prescreen: int = PALETTE_PRESCREEN) -> int | None:
    """How many distinct colours an RGB image holds when it could be a palette's.

    Parameters
    ----------
    rgb : ndarray
        H x W x 3 uint8 pixels.
    prescreen : int
        About this many pixels, evenly spread, are counted first; when they alone hold
        more than ``MAX_PALETTE_COLOURS`` colours, every pixel is not counted.

    Returns
    -------
    int or None
        The number of distinct colours, or None when it exceeds
        ``MAX_PALETTE_COLOURS`` or the image is grey (the prescreened pixels have
        R = G = B: an 8-bit grey photo holds at most 256 levels without any palette).
    """
    import numpy

    def distinct(pixels: np.ndarray) -> np.ndarray:
        packed = pixels[:, 0].astype(numpy.uint32) << 16
        packed |= pixels[:, 1].astype(numpy.uint32) << 8
        packed |= pixels[:, 2]
        return numpy.unique(packed)

    def grey(colours: np.ndarray) -> bool:
        r, g, b = colours >> 16, (colours >> 8) & 255, colours & 255
        return bool(numpy.array_equal(r, g) and numpy.array_equal(g, b))

    flat = numpy.asarray(rgb, numpy.uint8).reshape(-1, 3)
    sample = distinct(flat[:: max(1, len(flat) // prescreen)])
    if sample.size > MAX_PALETTE_COLOURS or grey(sample):
        return None
    colours = distinct(flat)
    if colours.size > MAX_PALETTE_COLOURS or grey(colours):
        return None
    return int(colours.size)


def palette_colours(media: Media) -> int | None:
    """The number of colours of a palette image (:func:`count_palette_colours` on the
    copy the frame and graphic checks read), or None for any other; computed once per
    file."""
    import numpy

    def make() -> numpy.ndarray:
        return numpy.array([count_palette_colours(_layout_copy(media)) or 0])

    colours = int(media.shared(("layout.palette_colours", LAYOUT_SIDE), make)[0])
    return colours or None


def declined_as_palette(media: Media, result: AnalyzerResult, method: str) -> bool:
    """Whether ``media`` is a colour image of at most ``MAX_PALETTE_COLOURS`` colours
    (a GIF, a PNG-8); if so, ``result`` says the analyzer did not examine it, and why:
    ``method`` names what it reads. Its fine detail is the palette's steps (and
    dithering), not a camera's noise or a generator's decoder, and no model here was
    fitted on such files."""
    colours = palette_colours(media)
    if colours is None:
        return False
    result.skipped_reason = (
        f"a palette image of {colours} colour{'s' if colours != 1 else ''} (a GIF, an 8-bit PNG or BMP): "
        f"{method} are read from "
        "fine pixel detail, which the palette replaced with its own steps"
    )
    return True


def adaptive_codec(media: Media) -> str | None:
    """The name of the still-image codec of a video family that coded ``media`` (lossy
    WebP: VP8; AVIF: AV1; HEIF: HEVC), or None for any other file. Such codecs choose
    block sizes, quantizers and in-loop smoothing region by region, so a region that
    reads unlike the rest is ordinary in them."""
    from triage.forensics.webp import webp_is_lossy

    if media.format == "avif":
        return "AVIF (AV1)"
    if media.format == "heif":
        return "HEIF (HEVC)"
    if media.format == "webp" and webp_is_lossy(media.data):
        return "lossy WebP (VP8)"
    return None


def declined_as_graphic(
    media: Media, result: AnalyzerResult, method: str, palette: bool = True
) -> bool:
    """Whether ``media`` is a graphic: a few grey levels (:func:`declined_for_few_levels`)
    or mostly flat colour (``graphic_share``), or, when ``palette``, a palette image
    (:func:`declined_as_palette`); if so, ``result`` says the analyzer did not examine
    it, and why: ``method`` names what it reads."""
    if declined_for_few_levels(media, result, method):
        return True
    share = graphic_share(media)
    if share is not None:
        result.skipped_reason = graphic_reason(share, method)
        return True
    return palette and declined_as_palette(media, result, method)


def graphic_reason(share: float, method: str) -> str:
    """Why an analyzer did not examine a graphic (``graphic_share``): ``method`` names
    what it reads, e.g. "noise levels"."""
    return (
        f"a graphic, not a photograph: {share:.0%} of it is flat colour (a chart, a slide, "
        f"a drawing); {method} are read from a camera's texture and noise, which it has none of"
    )


def phase_scan_of(media: Media) -> np.ndarray:
    """:func:`triage.forensics.dct.phase_scan` of the file's luma, computed once per file
    for the analyzers that ask (compression; tamper, which reads a lossless picture on
    the grid it finds)."""
    from triage.forensics.dct import phase_scan

    gray = media.luma
    return media.shared(("dct.phase_scan",), lambda: phase_scan(gray))


def note_framed_photo(result: AnalyzerResult, box: tuple[int, int, int, int]) -> None:
    """Say in ``result`` that only the framed photo at ``box`` was examined."""
    result.metrics["framed_photo"] = list(box)
    result.not_checked.append(
        f"examined the photo at {list(box)} inside a flat surround (a screenshot's "
        "interface, borders, a plain background), which carries no traces"
    )
