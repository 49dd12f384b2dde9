"""Per-tile features for local tamper detection: each tile against its own image.

An edit is a local departure: a pasted, inpainted or retouched region carries
another noise level, another compression history than the photo around it. These
functions measure statistics of every 8x8 block on the file's own JPEG grid, all
from one block DCT of the luma (and one of the Cr plane, and one on the grid
shifted by 4 pixels), pool them into tiles, and express every tile both as a value
and as a deviation from the image's own median, so that a model can learn "this
tile does not look like the rest of this photo" rather than "this photo was
re-saved".

Cost: on a large image not every block is read. A tile always pools 4 x 4 blocks;
on images over :data:`FULL_PIXELS` the tile grows to ``32 * step`` pixels and only
every ``step``-th block row and column is transformed (a stride), so the work is
bounded by about :data:`FULL_PIXELS` pixels whatever the image size.

All functions are pure and vectorised (no per-block Python loops).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from triage.forensics.tilecontent import (
    CONTENT_STATISTICS,
    block_means,
    content_block_statistics,
    noise_level_residual,
    twin_distance,
)

BLOCK = 8
TILE = 32  # pixels at stride 1; 4 x 4 JPEG blocks per tile
BLOCKS = TILE // BLOCK
FULL_PIXELS = 2_500_000  # above this, blocks are sampled with a stride
# Reading every block up to 2048 x 2048 instead (a 2048 x 1536 web copy whole rather
# than at every second block) was measured and not kept: +0.010 image AUC on the
# training's validation files, -0.003 on the calibration's camera files, at four times
# the cost on such a copy (docs/analyzers/tamper.md, "Every block of a web copy").
WHOLE_WEB_COPY = 2048 * 2048
ELA_QUALITY = 85
DQ_TERMS = 10  # zig-zag AC terms 1..DQ_TERMS enter the double-quantization test (form 1)
DQ_KMAX = 40
_EPS = 1e-3


@dataclass(frozen=True)
class BlockForm:
    """How the block statistics are read; a model is read with the form it was fitted on
    (its manifest's ``block_features``, 1 when absent).

    Form 1 (tamper models up to 4.3, the video frame model) reads the low terms 1-15 and
    the double-quantization terms 1-10 in zig-zag order, whose last term has no
    transposed twin, compares each block with the grid shifted 4 px right and down,
    and samples blocks at the start of each stride. So a picture turned a quarter or
    mirrored is read differently.

    Form 2 reads whole anti-diagonals of the DCT (terms 1-14, the first four; a
    transposition maps each onto itself), requantizes the error level with a table
    made symmetric, compares each block with shifted blocks on both sides
    (:func:`_symmetric_blocks`), and samples the blocks of a tile symmetrically about
    its middle (:func:`tile_block_offsets`). A turn or mirror of a picture read on the
    same tiles then reads the same values in each tile.
    """

    low_terms: int  # zig-zag terms 1 .. low_terms - 1 enter zeros, lattice and file_step
    dq_terms: int  # zig-zag terms 1 .. dq_terms enter the double-quantization test
    symmetric: bool  # symmetric sampling, shifted-grid comparison and error-level table


FORMS = {
    1: BlockForm(low_terms=16, dq_terms=DQ_TERMS, symmetric=False),
    2: BlockForm(low_terms=15, dq_terms=14, symmetric=True),
}

# Per-block statistics, in the order of the first axis of ``block_statistics``.
STATISTICS = (
    "hf",  # log mean |AC| of zig-zag terms 28-63: noise and fine texture
    "mf",  # log mean |AC| of terms 6-27
    "lf",  # log mean |AC| of terms 1-5: content
    "zeros",  # share of terms 1-15 quantized to zero by the file's table
    "lattice",  # distance of terms 1-15 to the file's quantization lattice
    "dq",  # aligned double-quantization log-likelihood (Bianchi & Piva)
    "ela",  # log requantization error at IJG quality ELA_QUALITY
    "grid_zeros",  # zeros on the aligned grid minus zeros on the grid shifted by 4
    "grid_hf",  # hf on the aligned grid minus hf on the shifted grid
    "chroma",  # log mean |AC| of the Cr plane, terms 1-27
)
_POOLED = len(STATISTICS)
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{s}_{v}" for s in STATISTICS for v in ("tile", "ring", "dev", "ring_dev")),
    *(f"{s}_median" for s in STATISTICS),
    "noise_vs_content",
    "brightness",
    "clipped",
    "file_step",
    "dq_gain",
)
# Optional, after FEATURE_NAMES (``rgb_tile_features(content=True)``): the features of
# triage.forensics.tilecontent, aimed at overlays, retouches and copy-moves. Measured
# and not used by the shipped model (docs/analyzers/tamper.md, "Content features").
CONTENT_FEATURE_NAMES: tuple[str, ...] = (
    *(f"{s}_{v}" for s in CONTENT_STATISTICS for v in ("tile", "ring", "dev", "ring_dev")),
    *(f"{s}_median" for s in CONTENT_STATISTICS),
    "nlf_hf",
    "nlf_hf_ring",
    "nlf_mf",
    "sharp_dev",
    "sharp_nlf",
    "twin",
    "twin_ring",
)


def reads_content(n_features: int) -> bool:
    """Whether a tile model reads the content features.

    Parameters
    ----------
    n_features : int
        The number of columns the model was fitted on.

    Returns
    -------
    bool
        True when it has more columns than :data:`FEATURE_NAMES`: the content features
        (:data:`CONTENT_FEATURE_NAMES`) follow the block features.
    """
    return n_features > len(FEATURE_NAMES)


@dataclass(frozen=True)
class TileFeatures:
    """Features of every tile: ``values`` is (rows, cols, n_features) float32;
    ``tile`` is the tile side in pixels and ``step`` the block stride."""

    values: np.ndarray
    tile: int
    step: int = 1
    origin: tuple[int, int] = (0, 0)  # (rows, columns) of the first tile in the image

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.values.shape[0]), int(self.values.shape[1])


def stride_for(height: int, width: int, full_pixels: int = FULL_PIXELS) -> int:
    """Block stride for an image of a given size.

    Parameters
    ----------
    height, width : int
        Image size in pixels.
    full_pixels : int
        Largest size read whole (:data:`WHOLE_WEB_COPY` reads every 2048-px copy
        whole; measured, not the analyzer's reading).

    Returns
    -------
    int
        1 up to ``full_pixels``, then at least 2, growing with the square root of the
        size over :data:`FULL_PIXELS` (a 2048 x 1536 copy reads every second block row
        and column, in 64-px tiles; a 12 MP photo every third, in 96-px tiles).
    """
    pixels = height * width
    if pixels <= full_pixels:
        return 1
    return max(2, math.ceil(math.sqrt(pixels / FULL_PIXELS) - 1e-9))


def lattice_start(length: int, tile: int, phase: int = 0) -> int:
    """Where the tile lattice starts along one side of a picture that is not a JPEG.

    A JPEG is read on its own grid from its corner. A lossless picture has no grid of
    its own: it is read on the grid of an earlier JPEG compression when one shows
    (``phase``), and the whole blocks that do not fill a tile are split between both
    ends, so that the same picture mirrored or turned is read on the same blocks,
    pooled into the same tiles (exactly when the spare block count is even).

    Parameters
    ----------
    length : int
        The side in pixels.
    tile : int
        Tile side in pixels (a multiple of 8).
    phase : int
        Offset of the first whole block of the earlier grid (0-7); 0 when none shows.

    Returns
    -------
    int
        Pixels to skip before the first tile.

    References
    ----------
    T. Bianchi, A. Piva, "Detection of nonaligned double JPEG compression based on
    integer periodicity maps", IEEE TIFS 7(2), 2012 (the earlier grid's phase).
    """
    blocks = max(0, length - phase) // BLOCK
    spare = blocks % (tile // BLOCK)
    return phase + BLOCK * (spare // 2)


def lossless_reading(
    luma: np.ndarray,
    box: tuple[int, int, int, int] | None = None,
    step: int | None = None,
    scan: np.ndarray | None = None,
    coeffs: Callable[[tuple[int, int], int], np.ndarray] | None = None,
) -> tuple[tuple[int, int], tuple[int, ...] | None]:
    """Where and with which table to read a picture that is not a JPEG: as the JPEG it
    was, when its pixels show one.

    Parameters
    ----------
    luma : ndarray
        H x W luma of the whole picture.
    box : (x0, y0, x1, y1), optional
        The part to read (default the whole picture).
    step : int, optional
        Block stride (default :func:`stride_for` the part's size).
    scan, coeffs : optional
        A cached phase scan and block transform (:func:`triage.forensics.dct.earlier_jpeg`).

    Returns
    -------
    ((int, int), tuple of int or None)
        Rows and columns to skip in the part before its first tile: on the earlier
        JPEG's grid (phase 0 when none shows), spare blocks split between both ends
        (:func:`lattice_start`); and the earlier JPEG's luma table, natural order (None
        when no earlier compression or quality shows: a stand-in table is read and no
        double-quantization test).

    References
    ----------
    T. Bianchi, A. Piva, IEEE TIFS 7(2), 2012; Z. Fan, R. L. de Queiroz, IEEE TIP
    12(2), 2003.
    """
    from triage.forensics.dct import earlier_jpeg

    x0, y0, x1, y1 = box if box is not None else (0, 0, luma.shape[1], luma.shape[0])
    h, w = y1 - y0, x1 - x0
    tile = TILE * (step or stride_for(h, w))
    earlier = earlier_jpeg(luma, scan, coeffs)
    (gy, gx), table = earlier if earlier is not None else ((0, 0), None)
    start = lattice_start(h, tile, (gy - y0) % BLOCK), lattice_start(w, tile, (gx - x0) % BLOCK)
    return start, table


# Blocks per run of :func:`zigzag_dct`: 1 MB of float64 in and out, within a core's cache.
_DCT_RUN = 2048


@cache
def _dct_basis(terms: int = 64) -> np.ndarray:
    """(64, terms) float64 matrix mapping a flattened 8x8 block to its first ``terms``
    zig-zag DCT terms (the products of :func:`triage.forensics.dct.dct_matrix`'s float32
    entries)."""
    from triage.forensics.dct import dct_matrix
    from triage.forensics.jpeg import ZIGZAG

    d = dct_matrix().astype(np.float64)
    full = np.kron(d, d)  # row u*8+v: coefficient (u, v) of a row-major block
    zigzag = full[list(ZIGZAG)[:terms]].T
    return np.ascontiguousarray(zigzag.astype(np.float32).astype(np.float64))


def _sampled_blocks(
    plane: np.ndarray, rows: int, cols: int, step: int, offset: int = 0
) -> np.ndarray:
    """Sampled 8x8 blocks of ``plane`` (H, W) or (H, W, C), in one copy, shape
    (rows * 4, cols * 4, 8, 8[, C]) with the same dtype: block (R, C) is the block at
    block index (R * step, C * step) on the grid starting at ``offset`` pixels (tile
    (r, c) holds blocks R = 4 r .. 4 r + 3, C = 4 c .. 4 c + 3). Pixels past the
    plane's edge repeat its last row and column."""
    span = rows * BLOCKS * step * BLOCK
    wspan = cols * BLOCKS * step * BLOCK
    p = plane[offset : offset + span, offset : offset + wspan]
    # The last sampled block ends (step - 1) blocks before the span, so at step >= 2
    # the pixels the shifted grid lacks at a side that is a multiple of the tile are
    # never read and nothing is padded (padding the plane was a copy of the photo).
    reach = span - (step - 1) * BLOCK, wspan - (step - 1) * BLOCK
    if p.shape[0] < reach[0] or p.shape[1] < reach[1]:
        pad = [(0, span - p.shape[0]), (0, wspan - p.shape[1])] + [(0, 0)] * (p.ndim - 2)
        p = np.pad(p, pad, mode="edge")
    from numpy.lib.stride_tricks import as_strided

    s0, s1 = p.strides[:2]
    # (block row, block column, pixel row, pixel column[, channel]) of every step-th
    # block; the view never reaches past ``reach``, inside ``p``.
    view = as_strided(
        p,
        shape=(rows * BLOCKS, cols * BLOCKS, BLOCK, BLOCK, *p.shape[2:]),
        strides=(step * BLOCK * s0, step * BLOCK * s1, s0, s1, *p.strides[2:]),
        writeable=False,
    )
    return np.ascontiguousarray(view)


def _mosaic(plane: np.ndarray, rows: int, cols: int, step: int, offset: int = 0) -> np.ndarray:
    """The blocks of :func:`_sampled_blocks` laid out as an image, shape (rows * 32,
    cols * 32[, C]); at step 1 the plane itself, cropped."""
    b = _sampled_blocks(plane, rows, cols, step, offset)
    b = b.transpose(0, 2, 1, 3, *range(4, b.ndim))
    return np.ascontiguousarray(b).reshape(rows * TILE, cols * TILE, *plane.shape[2:])


def _flat_blocks(plane: np.ndarray) -> np.ndarray:
    """(H, W) plane of whole blocks as (H / 8 * W / 8, 64) float32, in the order
    (block row, block column)."""
    h, w = plane.shape[0] // BLOCK, plane.shape[1] // BLOCK
    b = plane[: h * BLOCK, : w * BLOCK].reshape(h, BLOCK, w, BLOCK).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(b, dtype=np.float32).reshape(-1, 64)


def zigzag_dct(blocks: np.ndarray, terms: int = 64) -> np.ndarray:
    """Orthonormal 2-D DCT of flattened 8x8 blocks, in zig-zag order.

    Parameters
    ----------
    blocks : ndarray, shape (N, 64)
        Row-major 8x8 blocks of pixel values in 0..255.
    terms : int
        How many zig-zag terms to compute (the first ``terms``); each comes out the
        same as in the whole transform.

    Returns
    -------
    ndarray, shape (N, terms), float32
        Term k is zig-zag coefficient k; the DC is level-shifted by 128 as JPEG
        does, so a decoded JPEG's coefficients divided by the file's table sit
        close to integers.

    References
    ----------
    .. [1] ITU-T T.81 (JPEG), Annex A.3.3.
    """
    import cv2

    from triage.blas import opencv_blas_on_one_thread

    opencv_blas_on_one_thread()
    gemm: Any = cv2.gemm
    # In float64, then rounded to float32: BLAS kernels sum in their own order (one
    # CPU's float32 result differs from another's in the last bits), and the features
    # that round coefficients onto the quantization lattice turn those bits into other
    # counts; a file's report then depends on the laptop it was checked on (measured:
    # the tamper score of 44 of 122 photos moved by up to 0.04 between two OpenBLAS
    # kernels). Float64 sums differ by about 1e-16, which the rounding to float32
    # removes. See docs/analyzers/tamper.md, "The same report on every machine".
    basis = _dct_basis(terms)
    out = np.empty((blocks.shape[0], terms), np.float32)
    # In runs of blocks whose float64 copy and product stay in the core's cache: a
    # 12 MP photo's sampled blocks transformed at once ran 1.5x slower (measured).
    for start in range(0, blocks.shape[0], _DCT_RUN):
        run = np.asarray(blocks[start : start + _DCT_RUN], np.float64)
        out[start : start + _DCT_RUN] = gemm(run, basis, 1.0, None, 0.0)
    out[:, 0] -= np.float32(1024.0)  # 128 * 8: the level shift only moves the DC
    return out


def block_dct(gray: np.ndarray, terms: int = BLOCK) -> np.ndarray:
    """Orthonormal 2-D DCT of every 8x8 block on the (0, 0) grid, natural order.

    Parameters
    ----------
    gray : ndarray, shape (H, W)
        Luma in 0..255.
    terms : int
        Keep the lowest ``terms`` x ``terms`` frequencies only.

    Returns
    -------
    ndarray, shape (H // 8, W // 8, terms, terms)

    References
    ----------
    .. [1] ITU-T T.81 (JPEG), Annex A.3.3.
    """
    from triage.forensics.dct import dct_matrix

    d = dct_matrix()[:terms]
    h, w = gray.shape[0] // BLOCK, gray.shape[1] // BLOCK
    x = (gray[: h * BLOCK, : w * BLOCK].astype(np.float32) - 128.0).reshape(h, BLOCK, w, BLOCK)
    flat = np.ascontiguousarray(x.transpose(0, 2, 1, 3)).reshape(h * w, BLOCK * BLOCK)
    basis = np.kron(d.astype(np.float64), d.astype(np.float64)).T
    # float64 sums, then float32: the same bits on every CPU (see zigzag_dct).
    return (flat.astype(np.float64) @ basis).astype(np.float32).reshape(h, w, terms, terms)


def _log_mean(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """log mean of terms lo .. hi - 1 of the absolute coefficients ``a``."""
    return np.log(a[:, lo:hi].mean(axis=1) + _EPS)


def _zeros(a: np.ndarray, qz: np.ndarray, hi: int = 16) -> np.ndarray:
    """Share of terms 1 .. hi - 1 of the absolute coefficients ``a`` that ``qz`` rounds
    to 0 (float64, as the mean of the booleans)."""
    return np.count_nonzero(a[:, 1:hi] < 0.5 * qz[1:hi], axis=1) / (hi - 1)


def _multiplicity(q1: int, q2: int, kmax: int) -> np.ndarray:
    """n(k), k = 0..kmax: how many first-quantization bins (step q1) land in bin k
    after requantization with step q2 (both sides of zero counted once)."""
    a = np.arange(0, math.ceil((kmax + 1) * q2 / q1) + 2)
    k = np.rint(a * q1 / q2).astype(np.int64)
    return np.bincount(k[k <= kmax], minlength=kmax + 1)[: kmax + 1].astype(np.float64)


@cache
def _multiplicities(q2: int) -> np.ndarray:
    """n(k) of :func:`_multiplicity` for every candidate first step q1 (1 .. 2 q2 + 2,
    below 64, q1 != q2), one row each in increasing q1, with n(0) = 0 (read-only)."""
    rows = [_multiplicity(q1, q2, DQ_KMAX) for q1 in range(1, min(2 * q2 + 3, 64)) if q1 != q2]
    out = np.array(rows, np.float64).reshape(-1, DQ_KMAX + 1)
    out[:, 0] = 0.0
    out.flags.writeable = False
    return out


def double_quantization(
    c: np.ndarray, qz: np.ndarray, calibrated: np.ndarray, terms: int = DQ_TERMS
) -> tuple[np.ndarray, float]:
    """Per-block aligned double-quantization log-likelihood and its image-level gain.

    For each low AC term the histogram of quantized values ``k = round(c / q2)``
    over the whole image is compared with the model of a double quantization
    (first step q1, then the file's q2): the expected count of bin k is the
    single-compression histogram times n(k), the number of q1 bins that
    requantize into k. The single-compression histogram is estimated from the
    same image on the grid shifted by 4 pixels, where no quantization is aligned
    (calibration, after Fridrich et al.), so a single compression fits it and
    gains nothing from any q1. q1 is chosen per term by maximum likelihood on the
    image's own histogram. A block's log-likelihood is the sum over terms of
    log(n(k) / mean n): positive where its coefficients follow the doubly
    quantized distribution of the rest of the image, negative where they fall in
    bins the first quantization left empty (a region without that history).

    Parameters
    ----------
    c : ndarray, shape (N, 64)
        Zig-zag DCT of the blocks on the file's grid.
    qz : ndarray, shape (64,)
        The file's luma quantization table in zig-zag order.
    calibrated : ndarray, shape (M, 64)
        Zig-zag DCT of blocks on the grid shifted by (4, 4).
    terms : int
        Zig-zag AC terms 1 .. ``terms`` are tested.

    Returns
    -------
    llr : ndarray, shape (N,)
        Per-block log-likelihood ratio (double versus single), clipped per term.
    gain : float
        Sum over terms of the per-coefficient log-likelihood gain of the best
        double model over the single one (about 0 for a single compression or a
        q2 that is a multiple of q1).

    References
    ----------
    .. [1] T. Bianchi and A. Piva, "Image forgery localization via block-grained
       analysis of JPEG artifacts", IEEE TIFS 7(3), 2012.
    .. [2] Z. Lin, J. He, X. Tang and C.-K. Tang, "Fast, automatic and
       fine-grained tampered JPEG image detection via DCT coefficient analysis",
       Pattern Recognition 42(11), 2009.
    .. [3] J. Fridrich, T. Pevny and J. Lukas, "Estimation of primary quantization
       matrix in double compressed JPEG images", DFRWS 2003.
    """
    n_blocks = c.shape[0]
    llr = np.zeros(n_blocks, np.float32)
    total_gain = 0.0
    # Quantized values and their histograms for all the terms at once (column j is
    # term j + 1); the histogram of term j counts k + j * bins.
    steps = qz[1 : terms + 1]
    k_all, hist = _quantized_histograms(c, steps)
    _, hist_cal = _quantized_histograms(calibrated, steps)
    for t in range(1, terms + 1):
        q2 = float(qz[t])
        if q2 < 2:
            continue
        k = k_all[:, t - 1]
        h = hist[t - 1].astype(np.float64)
        if h.sum() < 300:
            continue
        env = hist_cal[t - 1].astype(np.float64) + 0.5
        env[0] = 0.0
        base = env / env.sum()
        # Every candidate q1 at once (one row each); the first best gain wins, as a
        # loop over q1 in increasing order would pick it.
        mult = _multiplicities(int(q2))
        z = (env * mult).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):  # a z of 0 is skipped below
            model = env * mult / z[:, None]
            ratio = np.log(np.maximum(model[:, 1:], 1e-6)) - np.log(base[1:])
            gains = (h[1:] * ratio).sum(axis=1) / h.sum()
        best, best_n = 0.0, None
        for i in range(mult.shape[0]):
            if z[i] > 0 and gains[i] > best:
                best, best_n = float(gains[i]), mult[i] / (z[i] / env.sum())
        if best_n is None or best < 0.01:
            continue
        total_gain += best
        per_bin = np.clip(np.log(np.maximum(best_n, 0.05)), -3.0, 3.0).astype(np.float32)
        per_bin[0] = 0.0
        live = (k > 0) & (k <= DQ_KMAX)
        llr += np.where(live, per_bin[np.minimum(k, DQ_KMAX)], np.float32(0.0))
    return llr, float(total_gain)


def _quantized_histograms(c: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|round(c / step)| of zig-zag terms 1 .. len(steps) of ``c`` (N, len(steps)),
    and per term the counts of the values 0 .. DQ_KMAX with 0 left empty (rows)."""
    bins = DQ_KMAX + 1
    n = len(steps)
    k = np.abs(np.rint(c[:, 1 : n + 1] / steps)).astype(np.int64)
    # Values past DQ_KMAX are counted as 0, and bin 0 is emptied after.
    keys = np.where(k <= DQ_KMAX, k, 0) + np.arange(n) * bins
    hist = np.bincount(keys.ravel(), minlength=n * bins).reshape(n, bins)
    hist[:, 0] = 0
    return k, hist


@cache
def _ela_table(symmetric: bool = False) -> np.ndarray:
    """The requantization table of the error level, zig-zag order: IJG quality
    :data:`ELA_QUALITY`, or (``symmetric``, form 2) the mean of it and its transpose,
    so that a transposed block requantizes alike."""
    from triage.forensics.jpeg import ZIGZAG, libjpeg_table

    table = np.array(libjpeg_table(ELA_QUALITY), np.float32).reshape(BLOCK, BLOCK)
    if symmetric:
        table = ((table + table.T) / 2).astype(np.float32)
    return table.ravel()[list(ZIGZAG)]


def block_statistics(
    luma: np.ndarray,
    luma_shift: np.ndarray,
    cr: np.ndarray,
    qz: np.ndarray,
    use_dq: bool = True,
    form: BlockForm = FORMS[1],
    shift_weights: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, float]:
    """The statistics of :data:`STATISTICS` for flattened blocks.

    Parameters
    ----------
    luma, luma_shift, cr : ndarray, shape (N, 64)
        Blocks of the luma on the file's grid, of the luma on the grid shifted by
        (4, 4) and of the Cr plane on the file's grid (pixel values, float32 or uint8).
    qz : ndarray, shape (64,)
        Luma quantization table of the file in zig-zag order (an IJG table for
        files that carry none).
    use_dq : bool
        Run the double-quantization test (only meaningful for JPEG files).
    form : BlockForm
        The terms read (:data:`FORMS`).
    shift_weights : (ndarray, ndarray), optional
        The shifted blocks a block is compared with, when they are not one per block
        in the same order (form 2): ``luma_shift`` holds a grid of rows x columns of
        shifted blocks, and a block's comparison is the mean of their statistics with
        these weights (block rows x shifted rows, block columns x shifted columns).

    Returns
    -------
    stats : ndarray, shape (len(STATISTICS), N)
        Per block: log mean |AC| in three bands (noise, texture, content) [1]_;
        the share of low terms quantized to zero and the distance to the file's
        quantization lattice (the DCT stream of CAT-Net reads the same
        coefficients [2]_); the aligned double-quantization log-likelihood [3]_;
        the requantization error at quality 85 (error level [4]_, computed in the
        DCT domain); aligned-minus-shifted-grid zeros and noise (local blocking on
        the file's grid, a calibration in the manner of [5]_); Cr activity.
    dq_gain : float
        Image-level gain of the double-quantization model (see
        :func:`double_quantization`).

    References
    ----------
    .. [1] J. Fridrich and J. Kodovsky, "Rich models for steganalysis of digital
       images", IEEE TIFS 7(3), 2012.
    .. [2] M.-J. Kwon et al., "Learning JPEG compression artifacts for image
       manipulation detection and localization", IJCV 130, 2022.
    .. [3] T. Bianchi and A. Piva, "Image forgery localization via block-grained
       analysis of JPEG artifacts", IEEE TIFS 7(3), 2012.
    .. [4] N. Krawetz, "A picture's worth", Hacker Factor, 2007.
    .. [5] W. Li, Y. Yuan and N. Yu, "Passive detection of doctored JPEG image via
       block artifact grid extraction", Signal Processing 89(9), 2009.
    """
    # Each plane's coefficients live only as long as they are read, and absolute
    # values are taken in place: fresh memory is mapped page by page, and on a
    # 12 MP photo that cost as much as the arithmetic.
    hi = form.low_terms
    c = zigzag_dct(luma)
    out = np.zeros((_POOLED, c.shape[0]), np.float32)
    ratio = c[:, 1:hi] / qz[1:hi]
    dist = np.rint(ratio)
    np.subtract(ratio, dist, out=dist)
    np.abs(dist, out=dist)
    dist[np.abs(ratio) < 0.5] = 0.0  # a term rounded to zero is not off the lattice
    out[4] = dist.mean(axis=1)
    del ratio, dist
    t = _ela_table(form.symmetric)[1:28]
    err = c[:, 1:28] / t
    np.rint(err, out=err)
    np.multiply(err, t, out=err)
    np.subtract(c[:, 1:28], err, out=err)
    np.abs(err, out=err)
    out[6] = np.log(err.mean(axis=1) + _EPS)
    del err
    cs = zigzag_dct(luma_shift)
    gain = 0.0
    if use_dq:
        out[5], gain = double_quantization(c, qz, cs, form.dq_terms)
    a = np.abs(c, out=c)
    out[0] = _log_mean(a, 28, 64)
    out[1] = _log_mean(a, 6, 28)
    out[2] = _log_mean(a, 1, 6)
    out[3] = _zeros(a, qz, hi)
    del a, c
    a_shift = np.abs(cs, out=cs)
    zeros_shift, hf_shift = _zeros(a_shift, qz, hi), _log_mean(a_shift, 28, 64)
    if shift_weights is not None:
        wy, wx = shift_weights

        def onto_blocks(stat: np.ndarray) -> np.ndarray:
            return (wy @ stat.reshape(wy.shape[1], wx.shape[1]) @ wx.T).ravel()

        zeros_shift, hf_shift = onto_blocks(zeros_shift), onto_blocks(hf_shift)
    out[7] = out[3] - zeros_shift
    out[8] = out[0] - hf_shift
    del a_shift, cs
    cc = zigzag_dct(cr, terms=28)  # Cr's activity reads terms 1-27 only
    out[9] = _log_mean(np.abs(cc[:, 1:28]), 0, 27)
    return out, gain


def _ring(t: np.ndarray) -> np.ndarray:
    """Mean over each tile's 3x3 neighbourhood (the tile and its ring)."""
    import cv2

    return np.stack([cv2.blur(p, (3, 3), borderType=cv2.BORDER_REFLECT) for p in t])


def _tile_ring_median(planes: np.ndarray) -> list[np.ndarray]:
    """The features of per-tile statistics ``planes`` (k, rows, cols): per statistic the
    tile, its ring (:func:`_ring`) and both minus the image's median; then the medians."""
    ring = _ring(planes)
    k = len(planes)
    med = np.median(planes.reshape(k, -1), axis=1).astype(np.float32)[:, None, None]
    parts = []
    for i in range(k):
        parts += [planes[i], ring[i], planes[i] - med[i], ring[i] - med[i]]
    parts += [np.broadcast_to(med[i], planes.shape[1:]) for i in range(k)]
    return parts


def _noise_vs_content(noise: np.ndarray, content: np.ndarray) -> np.ndarray:
    if noise.size < 4:
        return np.zeros_like(noise)
    x, y = content.ravel(), noise.ravel()
    a = np.vstack([x, np.ones_like(x)]).T
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    return (noise - (coef[0] * content + coef[1])).astype(np.float32)


def default_table() -> np.ndarray:
    """The luma quantization table assumed for files that carry none.

    Returns
    -------
    ndarray
        The IJG quality-90 luma table in zig-zag order.

    References
    ----------
    ITU-T T.81, Annex K; IJG libjpeg ``jcparam.c``.
    """
    from triage.forensics.dct import zz_table

    return zz_table(90)


def _block_ycrcb(rgb: np.ndarray, rows: int, cols: int, step: int, offset: int = 0) -> np.ndarray:
    """OpenCV's YCrCb of the sampled blocks of :func:`_sampled_blocks`, shape
    (n_blocks, 8, 8, 3) uint8, blocks in (block row, block column) order."""
    import cv2

    blocks = _sampled_blocks(rgb, rows, cols, step, offset)
    n = blocks.shape[0] * blocks.shape[1]
    # Any image shape of these pixels converts alike; rows of 8 pixels are slow.
    image = blocks.reshape(rows * TILE, cols * TILE, 3)
    return cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb).reshape(n, BLOCK, BLOCK, 3)


def tile_block_offsets(step: int) -> np.ndarray:
    """Which blocks of a tile form 2 reads, along one side: 4 placed symmetrically
    about the tile's middle, so that a mirrored tile reads the mirrored blocks (form 1
    reads every ``step``-th from the tile's start, :func:`_sampled_blocks`).

    Parameters
    ----------
    step : int
        Block stride: a tile is ``4 * step`` blocks on a side, of which 4 are read.

    Returns
    -------
    ndarray of int, shape (4,)
        Offsets in blocks from the tile's first block, increasing.
    """
    first = np.arange(BLOCKS // 2) * step + (step - 1) // 2
    return np.concatenate([first, BLOCKS * step - 1 - first[::-1]])


def _picked_ycrcb(rgb: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """OpenCV's YCrCb of the 8x8 blocks whose first pixels are at rows ``ys`` and
    columns ``xs`` (every pair), shape (len(ys) * len(xs), 8, 8, 3) uint8, in (row,
    column) order."""
    import cv2

    r = (ys[:, None] + np.arange(BLOCK)).ravel()
    c = (xs[:, None] + np.arange(BLOCK)).ravel()
    ycc = cv2.cvtColor(np.ascontiguousarray(rgb[r][:, c]), cv2.COLOR_RGB2YCrCb)
    blocks = ycc.reshape(len(ys), BLOCK, len(xs), BLOCK, 3).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(blocks).reshape(-1, BLOCK, BLOCK, 3)


def _symmetric_blocks(
    rgb: np.ndarray, rows: int, cols: int, step: int
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Form 2's blocks: the YCrCb of the read blocks (:func:`tile_block_offsets`), in (block row, block column) order; the luma of the shifted blocks
    they are compared with, each once; and the weights (per axis, read blocks x shifted
    blocks) that average a shifted statistic onto the read blocks.

    At stride 1 a block is compared with its diagonal neighbours on the grid shifted
    by 4 px, before and after it along each axis, those inside the tiles read (as every
    shifted block is read by form 1). At larger strides with one: after a block of even
    index in its tile and before one of odd index (inside the tile). Either way a
    mirror maps each pairing onto another."""
    offsets = tile_block_offsets(step)
    side = np.where(np.arange(BLOCKS) % 2 == 0, 4, -4)

    def axis(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        first = (np.arange(n)[:, None] * BLOCKS * step + offsets[None, :]) * BLOCK
        read = first.ravel()
        if step == 1:
            pairs = np.stack([read - 4, read + 4], axis=1)
            valid = (pairs >= 0) & (pairs + BLOCK <= n * TILE)
        else:
            pairs = (first + side[None, :]).reshape(-1, 1)
            valid = np.ones_like(pairs, dtype=bool)
        shifted, index = np.unique(pairs[valid], return_inverse=True)
        weights = np.zeros((len(read), len(shifted)), np.float32)
        rows_of = np.nonzero(valid)[0]
        np.add.at(weights, (rows_of, index), 1.0)
        weights /= weights.sum(axis=1, keepdims=True)
        return read, shifted, weights

    ys, uy, wy = axis(rows)
    xs, ux, wx = axis(cols)
    ycc = _picked_ycrcb(rgb, ys, xs)
    shifted = _picked_ycrcb(rgb, uy, ux)[:, :, :, 0].reshape(-1, 64)
    return ycc, shifted, (wy, wx)


def rgb_tile_features(
    rgb: np.ndarray,
    qtable: list[int] | tuple[int, ...] | None = None,
    step: int | None = None,
    content: bool = False,
    form: int = 1,
) -> TileFeatures:
    """Per-tile features (see :data:`FEATURE_NAMES`) of an RGB image.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        At native resolution: the JPEG grid must not have been resampled.
    qtable : sequence of 64 int, optional
        The file's luma quantization table in natural (row-major) order, as Pillow
        reports it; None for files that are not JPEG (no double-quantization test,
        an IJG quality-90 table stands in for the lattice features).
    step : int, optional
        Block stride (default :func:`stride_for` the image size).
    content : bool
        Append :data:`CONTENT_FEATURE_NAMES` (:mod:`triage.forensics.tilecontent`)
        after the block features; they leave the block features unchanged.
    form : int
        The block form (:data:`FORMS`, :class:`BlockForm`): 1 for the models fitted
        before it, 2 for features that a turn or mirror leaves unchanged.

    Returns
    -------
    TileFeatures
        ``values`` of shape (H // tile, W // tile, len(FEATURE_NAMES)) with
        ``tile = 32 * step``. Each statistic appears as the tile's mean over its
        4 x 4 sampled blocks, its 3x3-tile neighbourhood mean, and both minus the
        image median; then the image medians, the tile's noise left after a
        per-image linear fit of noise on content (noise that does not match the
        image's own noise-versus-content relation, after Liu et al. [1]_), mean
        brightness, the share of clipped pixels, the mean quantization step of the
        file's low terms and the image's double-quantization gain.

    References
    ----------
    .. [1] C. Liu, W. T. Freeman, R. Szeliski and S. B. Kang, "Noise estimation from
       a single image", CVPR 2006.
    """
    from triage.forensics.dct import to_zigzag

    h, w = rgb.shape[:2]
    step = step or stride_for(h, w)
    tile = TILE * step
    rows, cols = h // tile, w // tile
    n_feat = len(FEATURE_NAMES) + (len(CONTENT_FEATURE_NAMES) if content else 0)
    if rows == 0 or cols == 0:
        return TileFeatures(np.zeros((rows, cols, n_feat), np.float32), tile, step)
    qz = to_zigzag(qtable) if qtable is not None and len(qtable) == 64 else default_table()
    # Colour conversion on the sampled blocks only (and their shifted twins), laid
    # out block after block, so that each plane's blocks are rows of 64 values
    # without another transposition; Cr and the shifted luma stay 8-bit until their
    # transform converts them.
    reading = FORMS[form]
    shift_weights: tuple[np.ndarray, np.ndarray] | None = None
    if reading.symmetric:
        ycc, shifted, shift_weights = _symmetric_blocks(rgb, rows, cols, step)
    else:
        ycc = _block_ycrcb(rgb, rows, cols, step)
        shifted = _block_ycrcb(rgb, rows, cols, step, offset=4)[:, :, :, 0].reshape(-1, 64)
    luma = ycc[:, :, :, 0].reshape(-1, 64).astype(np.float32)
    cr = ycc[:, :, :, 1].reshape(-1, 64)
    stats, gain = block_statistics(
        luma, shifted, cr, qz, use_dq=qtable is not None, form=reading, shift_weights=shift_weights
    )
    # Pool 4 x 4 blocks per tile: blocks are ordered (tile row, i, tile col, j).
    pooled = stats.reshape(_POOLED, rows, BLOCKS, cols, BLOCKS).mean(axis=(2, 4))
    parts = _tile_ring_median(pooled)
    parts.append(_noise_vs_content(pooled[0], pooled[2]))
    px = luma.reshape(rows, BLOCKS, cols, BLOCKS, 64)
    parts.append(px.mean(axis=(1, 3, 4)) / 255.0)
    # The share of clipped pixels (a count over 1024: the booleans' mean, exactly).
    clipped = np.count_nonzero((px <= 2) | (px >= 253), axis=(1, 3, 4))
    parts.append(clipped / (BLOCKS * BLOCKS * 64))
    low = qz[1 : reading.low_terms]
    parts.append(np.full((rows, cols), float(np.log(low.mean())), np.float32))
    parts.append(np.full((rows, cols), gain, np.float32))
    if content:
        parts += _content_parts(ycc, pooled, parts[-4], rows, cols)
    values = np.stack(parts, axis=-1).astype(np.float32)
    return TileFeatures(values, tile, step)


def _content_parts(
    ycc: np.ndarray, pooled: np.ndarray, brightness: np.ndarray, rows: int, cols: int
) -> list[np.ndarray]:
    """The features of :mod:`triage.forensics.tilecontent`, in
    :data:`CONTENT_FEATURE_NAMES` order: the three block statistics pooled as the block
    features are (:func:`_tile_ring_median`); the high- and
    mid-band noise against the image's noise-level function of brightness (and the
    high band's ring); the fine-to-coarse ratio (high minus mid band, log) minus its
    median and against brightness; the twin distance over a per-tile descriptor
    (brightness, the three bands, flat share, saturation, mean Cr and Cb, each
    standardised over the image) and its ring."""
    k = len(CONTENT_STATISTICS)
    cs = content_block_statistics(ycc)
    cp = cs.reshape(k, rows, BLOCKS, cols, BLOCKS).mean(axis=(2, 4))
    parts = _tile_ring_median(cp)
    hf, mf, lf = pooled[0], pooled[1], pooled[2]
    nlf_hf = noise_level_residual(hf, brightness)
    parts += [nlf_hf, _ring(nlf_hf[None])[0], noise_level_residual(mf, brightness)]
    sharp = hf - mf
    parts += [sharp - np.float32(np.median(sharp)), noise_level_residual(sharp, brightness)]
    chroma = block_means(ycc)[:, 1:].reshape(rows, BLOCKS, cols, BLOCKS, 2).mean(axis=(1, 3))
    desc = np.concatenate(
        [np.stack([brightness, lf, mf, hf, cp[0], cp[2]], axis=-1), chroma], axis=-1
    ).astype(np.float32)
    desc = (desc - desc.reshape(-1, desc.shape[-1]).mean(axis=0)) / (
        desc.reshape(-1, desc.shape[-1]).std(axis=0) + 1e-3
    )
    twin = twin_distance(desc)
    parts += [twin, _ring(twin[None])[0]]
    return parts


def probability_regions(
    prob: np.ndarray, threshold: float = 0.5, min_tiles: int = 4
) -> list[tuple[tuple[int, int, int, int], int, float]]:
    """Connected regions of a tile probability map above ``threshold``.

    Parameters
    ----------
    prob : ndarray, shape (rows, cols)
        Per-tile probability of belonging to an edit.
    threshold : float
        Tiles at or above it belong to a region.
    min_tiles : int
        Smaller components are ignored.

    Returns
    -------
    list of (box, n_tiles, mean_probability)
        ``box`` is (c0, r0, c1, r1) in tile units, end exclusive; largest first.
    """
    import cv2

    hot = (prob >= threshold).astype(np.uint8)
    n, labels, st, _ = cv2.connectedComponentsWithStats(hot, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in st[i])
        if area < min_tiles:
            continue
        out.append(((x, y, x + w, y + h), area, float(prob[labels == i].mean())))
    out.sort(key=lambda r: -r[1])
    return out


SCORE_RULES = ("max3", "max3_rel", "top2")
MIN_REGION_TILES = 2


def image_score(prob: np.ndarray, rule: str = "max3") -> float:
    """Image-level score of a tile probability map.

    Parameters
    ----------
    prob : ndarray, shape (rows, cols)
    rule : str
        ``max3``: the highest 3x3-tile mean (one stray tile cannot carry it);
        ``max3_rel``: the same minus the map's median (a tile relative to the
        image's own distribution); ``top2``: the mean of the top 2% of tiles (at
        least 4).

    Returns
    -------
    float
        0 for an empty map.
    """
    import cv2

    if prob.size == 0:
        return 0.0
    p = prob.astype(np.float32)
    if rule == "top2":
        k = max(4, int(0.02 * p.size))
        return float(np.sort(p.ravel())[-k:].mean())
    smooth = p if min(p.shape) < 3 else cv2.blur(p, (3, 3), borderType=cv2.BORDER_REFLECT)
    top = float(smooth.max()) if min(p.shape) >= 3 else float(p.mean())
    if rule == "max3_rel":
        return top - float(np.median(p))
    return top


def region_mask(
    prob: np.ndarray, threshold: float, min_tiles: int = MIN_REGION_TILES
) -> np.ndarray:
    """Tiles of the connected regions of ``prob`` at or above ``threshold`` with at
    least ``min_tiles`` tiles (bool, same shape as ``prob``).

    Parameters
    ----------
    prob : ndarray, shape (rows, cols)
    threshold : float
    min_tiles : int

    Returns
    -------
    ndarray of bool
    """
    import cv2

    hot = (prob >= threshold).astype(np.uint8)
    if not hot.any():
        return hot.astype(bool)
    n, labels, st, _ = cv2.connectedComponentsWithStats(hot, connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = st[1:, cv2.CC_STAT_AREA] >= min_tiles
    return keep[labels]
