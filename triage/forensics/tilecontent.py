"""Per-tile features aimed at what overlays, retouches and copy-moves do to pixels.

The block features of :mod:`triage.forensics.blockfeatures` read the JPEG history
and the noise of every 8x8 block. Three kinds of edit leave little of that: text
or a logo drawn in pixels (flat colour, hard synthetic edges, no sensor noise),
a local blur, sharpen or brightness change (the same compression history, another
sharpness or another noise for its brightness), and a copy of the photo's own
content (the same history and noise as its source). These functions measure, per
sampled block and per tile, what those edits change physically, each read against
the image's own distribution by the caller:

- :func:`content_block_statistics`: the share of zero steps between neighbouring
  pixels (flat fills), how much of the block's range one step spans (a drawn edge
  goes from one colour to the other in a pixel or two, an optical edge over
  several), and the chroma saturation (drawn colours are often purer than a
  scene's);
- :func:`noise_level_residual`: the tile's noise against the image's noise-level
  function of brightness (a blurred region has less noise than its brightness
  predicts, a sharpened one more; a brightness or contrast change moves a region
  along the brightness axis without its noise);
- :func:`twin_distance`: how close the nearest tile at least three tiles away is in
  a content descriptor, against the nearest of its neighbours (a copy-moved tile
  has a twin far off).

Measured as features of the tamper model (``python -m triage.train tamper
--content``) and not shipped: they did not raise the held-out figures
(docs/analyzers/tamper.md, "Content features"). All functions are pure and
vectorised.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CONTENT_STATISTICS: tuple[str, ...] = ("flat", "step", "sat")
NLF_BINS = 8
TWIN_GAP = 3  # tiles: a twin this close (Chebyshev) is a neighbour, not a copy
TWIN_MAX_TILES = 4096  # above, the twin distance is not computed (zeros)


def content_block_statistics(ycc: np.ndarray) -> np.ndarray:
    """Flat-fill share, edge hardness and chroma saturation of every block.

    Parameters
    ----------
    ycc : ndarray, shape (N, 8, 8, 3), uint8
        Blocks in OpenCV's YCrCb (Y, Cr, Cb).

    Returns
    -------
    ndarray, shape (3, N), float32
        ``flat``: the share of the 112 horizontal and vertical neighbour pairs of
        the luma whose values are equal (a fill drawn in one colour, kept flat by
        the JPEG's dropped high terms; a camera's sensor noise leaves few such
        pairs except in clipped or very smooth areas); ``step``: the largest
        neighbour step over the block's range plus 4 (near 1 where one step spans
        the range: a drawn, one-pixel edge; lower for an optical edge spread over
        several pixels by the lens and demosaicking); ``sat``: log of 1 + the mean
        of |Cr - 128| + |Cb - 128| (drawn colours are often saturated).

    References
    ----------
    .. [1] The reasoning on synthetic content follows what separates computer
       graphics from photographs in T.-T. Ng, S.-F. Chang et al., "Physics-motivated
       features for distinguishing photographic images and computer graphics", ACM
       Multimedia 2005: a camera's edges are blurred by the optics and its flat areas
       carry sensor noise; drawn ones are neither.
    """
    import cv2

    n = ycc.shape[0]
    img = np.ascontiguousarray(ycc).reshape(n, 64, 3)  # one row per block, 3 channels
    y = cv2.extractChannel(img, 0).reshape(n, 8, 8)
    # Neighbour steps of 8-bit pixels by OpenCV (absolute difference, no widening).
    dh = cv2.absdiff(y[:, :, 1:].reshape(-1, 7), y[:, :, :-1].reshape(-1, 7)).reshape(n, 56)
    dv = cv2.absdiff(y[:, 1:, :].reshape(-1, 8), y[:, :-1, :].reshape(-1, 8)).reshape(n, 56)
    out = np.empty((3, n), np.float32)
    equal = np.count_nonzero(dh == 0, axis=1) + np.count_nonzero(dv == 0, axis=1)
    out[0] = equal / (2 * 8 * 7)
    top = np.maximum(dh.max(axis=1), dv.max(axis=1))
    flat = y.reshape(n, 64)
    span = flat.max(axis=1).astype(np.int16) - flat.min(axis=1)
    out[1] = top / (span + 4.0)
    absdiff: Any = cv2.absdiff  # a scalar per channel (the stubs know arrays only)
    dev = absdiff(img, (128.0, 128.0, 128.0, 0.0))
    sums = cv2.reduce(dev, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).reshape(n, 3)
    out[2] = np.log1p((sums[:, 1] + sums[:, 2]) / 64.0)
    return out


def block_means(ycc: np.ndarray) -> np.ndarray:
    """Mean Y, Cr and Cb of every block.

    Parameters
    ----------
    ycc : ndarray, shape (N, 8, 8, 3), uint8

    Returns
    -------
    ndarray, shape (N, 3), float32
    """
    import cv2

    n = ycc.shape[0]
    img = np.ascontiguousarray(ycc).reshape(n, 64, 3)
    sums = cv2.reduce(img, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).reshape(n, 3)
    return (sums / 64.0).astype(np.float32)


def noise_level_residual(noise: np.ndarray, brightness: np.ndarray) -> np.ndarray:
    """The tile's noise minus the image's noise-level function at its brightness.

    Parameters
    ----------
    noise : ndarray, shape (rows, cols)
        A per-tile log noise level (e.g. the log mean |AC| of the high DCT band).
    brightness : ndarray, shape (rows, cols)
        The tile's mean luma (any scale).

    Returns
    -------
    ndarray, shape (rows, cols), float32
        ``noise`` minus the median noise of the tiles of similar brightness (tiles
        binned by brightness quantile into :data:`NLF_BINS` bins, the bin medians
        interpolated at each tile's brightness). A camera's noise grows with the
        signal (shot noise), so its level is a function of brightness over the
        whole frame; a blurred region sits below that function, a sharpened one
        above, and a region whose brightness or contrast was changed keeps the
        noise of its old brightness. Zeros for fewer than 16 tiles.

    References
    ----------
    .. [1] C. Liu, W. T. Freeman, R. Szeliski and S. B. Kang, "Noise estimation from
       a single image", CVPR 2006 (the noise-level function).
    .. [2] B. Mahdian and S. Saic, "Using noise inconsistencies for blind image
       forensics", Image and Vision Computing 27(10), 2009.
    """
    if noise.size < 16:
        return np.zeros(noise.shape, np.float32)
    b = brightness.ravel().astype(np.float64)
    v = noise.ravel().astype(np.float64)
    order = np.argsort(b, kind="stable")
    parts = np.array_split(order, NLF_BINS)
    centres = np.array([b[p].mean() for p in parts])
    levels = np.array([np.median(v[p]) for p in parts])
    # Equal centres (a flat image) would make np.interp ill-posed: keep the first.
    keep = np.concatenate([[True], np.diff(centres) > 1e-9])
    fit = np.interp(b, centres[keep], levels[keep])
    return (v - fit).reshape(noise.shape).astype(np.float32)


def twin_distance(descriptor: np.ndarray, gap: int = TWIN_GAP) -> np.ndarray:
    """How much closer a tile's nearest far tile is than its nearest neighbour.

    Parameters
    ----------
    descriptor : ndarray, shape (rows, cols, D)
        Per-tile content descriptor (each dimension standardised by the caller).
    gap : int
        Tiles within this Chebyshev distance (exclusive) are neighbours.

    Returns
    -------
    ndarray, shape (rows, cols), float32
        log(nearest far distance + 0.05) - log(nearest neighbour distance + 0.05):
        negative where a tile at least ``gap`` tiles away looks more like it than
        any tile around it (a copy-moved region and its source both do). Zeros when
        the map has fewer than 16 or more than :data:`TWIN_MAX_TILES` tiles.

    References
    ----------
    .. [1] J. Fridrich, D. Soukal and J. Lukas, "Detection of copy-move forgery in
       digital images", DFRWS 2003 (matching block descriptors across the image;
       here one descriptor per tile, all pairs in one matrix product).
    """
    rows, cols, d = descriptor.shape
    t = rows * cols
    if t < 16 or t > TWIN_MAX_TILES:
        return np.zeros((rows, cols), np.float32)
    import cv2

    from triage.blas import opencv_blas_on_one_thread

    x = np.ascontiguousarray(descriptor.reshape(t, d), np.float32)
    sq = (x * x).sum(axis=1)
    # -2 x x^T by OpenCV's BLAS on one thread (numpy's spreads 13 MFLOP over threads
    # that mostly wait: 12 ms against 1 under load; one thread also keeps the sums'
    # order, so the result does not depend on the machine's core count).
    opencv_blas_on_one_thread()
    gemm: Any = cv2.gemm
    dist: np.ndarray = gemm(x, x, -2.0, None, 0.0, flags=cv2.GEMM_2_T)
    dist += sq[:, None]
    dist += sq[None, :]
    np.maximum(dist, 0.0, out=dist)
    np.fill_diagonal(dist, np.inf)
    # Each tile's neighbours (Chebyshev distance below ``gap``) as index pairs: one
    # row of ``near`` per offset, pointing at the tile itself where the offset leaves
    # the map (its own distance is infinite).
    i = np.arange(t)
    r, c = np.divmod(i, cols)
    near = []
    for dr in range(-gap + 1, gap):
        for dc in range(-gap + 1, gap):
            ok = (r + dr >= 0) & (r + dr < rows) & (c + dc >= 0) & (c + dc < cols)
            near.append(np.where(ok, i + dr * cols + dc, i))
    j = np.array(near)
    rows_i = np.broadcast_to(i, j.shape)
    near_min = dist[rows_i, j].min(axis=0)
    dist[rows_i, j] = np.inf
    far_min = dist.min(axis=1)
    far_min = np.where(np.isfinite(far_min), far_min, 0.0)
    near_min = np.where(np.isfinite(near_min), near_min, 0.0)
    out = np.log(np.sqrt(far_min) + 0.05) - np.log(np.sqrt(near_min) + 0.05)
    return out.reshape(rows, cols).astype(np.float32)
