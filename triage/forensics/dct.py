"""8x8 block-DCT forensics on decoded luma: block DCT, blocking-grid phase,
quantization-step traces (earlier JPEG compression of a lossless file), double
JPEG compression and requantization error maps (error levels, JPEG ghosts).

Pure functions over numpy arrays; everything is vectorised over all blocks.
The DCT is the orthonormal 8x8 DCT-II, which is exactly the JPEG FDCT (T.81
A.3.3), so a decoded JPEG's block coefficients divided by the file's
quantization table sit close to integers.

References
----------
Fan, Z., de Queiroz, R. L. (2003). Identification of bitmap compression history:
JPEG detection and quantizer estimation. IEEE TIP 12(2).
Fridrich, J., Pevny, T., Lukas, J. (2008). Estimation of primary quantization
matrix in double compressed JPEG images (calibration by a 4-pixel shift).
Popescu, A. C., Farid, H. (2004). Statistical tools for digital forensics
(periodic artifacts of double quantization).
Farid, H. (2009). Exposing digital forgeries from JPEG ghosts. IEEE TIFS 4(1).
Krawetz, N. (2007). A picture's worth: digital image analysis and forensics
(error level analysis).
Bianchi, T., Piva, A. (2012). Detection of nonaligned double JPEG compression
based on integer periodicity maps. IEEE TIFS 7(2).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from triage.forensics.jpeg import ZIGZAG, libjpeg_table

__all__ = [
    "block_dct",
    "dct_matrix",
    "double_compression",
    "earlier_grid",
    "earlier_jpeg",
    "earlier_table",
    "integer_periodicity",
    "local_grid",
    "map_stride",
    "phase_scan",
    "prior_quality",
    "requant_error",
    "table_fit",
    "to_zigzag",
    "zz_table",
]


@cache
def dct_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II matrix.

    Returns
    -------
    ndarray
        8 x 8 float32, rows = frequencies; ``D @ block @ D.T`` is the 2-D DCT.

    References
    ----------
    ITU-T T.81 (JPEG), Annex A.3.3 (FDCT).
    """
    k = np.arange(8)[:, None]
    n = np.arange(8)[None, :]
    m = np.cos(np.pi * (2 * n + 1) * k / 16.0) * np.sqrt(2.0 / 8.0)
    m[0, :] = np.sqrt(1.0 / 8.0)
    return m.astype(np.float32)


# Block rows per band of block_dct's float64 transform (512 px: 16 MB of a 4000-px row).
_DCT_BAND_ROWS = 64


@cache
def _zz_uv(terms: int) -> tuple[np.ndarray, np.ndarray]:
    zz = np.array(ZIGZAG[:terms], dtype=np.intp)
    return zz // 8, zz % 8


@cache
def zz_table(quality: int) -> np.ndarray:
    """The IJG luma quantization table at ``quality``, in zig-zag order.

    Parameters
    ----------
    quality : int
        IJG quality, 1..100.

    Returns
    -------
    ndarray
        64 float32 steps.

    References
    ----------
    Independent JPEG Group, libjpeg ``jcparam.c`` (quality scaling of the Annex K table).
    """
    return np.array(libjpeg_table(quality), dtype=np.float32)[list(ZIGZAG)]


def to_zigzag(table: tuple[int, ...] | list[int]) -> np.ndarray:
    """A natural-order quantization table in zig-zag order.

    Parameters
    ----------
    table : sequence of int
        64 steps, row-major.

    Returns
    -------
    ndarray
        64 float32 steps in zig-zag order.

    References
    ----------
    ITU-T T.81 (JPEG), Figure A.6 (zig-zag sequence).
    """
    return np.array(table, dtype=np.float32)[list(ZIGZAG)]


def block_dct(
    gray: np.ndarray,
    y0: int = 0,
    x0: int = 0,
    row_step: int = 1,
    terms: int = 64,
    col_step: int = 1,
) -> np.ndarray:
    """Block DCT of ``gray - 128`` on the 8 x 8 grid starting at (y0, x0).

    Parameters
    ----------
    gray : ndarray
        H x W luma, 0..255.
    y0, x0 : int
        Grid origin (0..7).
    row_step, col_step : int
        Keep every n-th block row / column (a cheap subsample for statistics, or a
        coarser map of a large image).
    terms : int
        Zig-zag terms computed (from DC).

    Returns
    -------
    ndarray
        float32 coefficient planes (terms, block_rows, block_cols): plane k is zig-zag
        term k (0 = DC) of every block.

    References
    ----------
    ITU-T T.81 (JPEG), Annex A.3.3.
    """
    import cv2

    from triage.blas import opencv_blas_on_one_thread

    g = gray[y0:, x0:]
    h8, w8 = g.shape[0] // 8, g.shape[1] // 8
    if h8 == 0 or w8 == 0 or terms == 0:
        return np.zeros((terms, h8, w8), np.float32)
    x = np.asarray(g[: h8 * 8, : w8 * 8])  # any dtype; converted after subsampling
    if row_step > 1 or col_step > 1:
        x = x.reshape(h8, 8, w8, 8)[::row_step, :, ::col_step]
        w8 = x.shape[2]
        x = x.reshape(-1, 8 * w8)
    hb = x.shape[0] // 8
    us, vs = _zz_uv(terms)
    n = int(max(us.max(), vs.max())) + 1  # frequencies needed per axis
    basis = np.ascontiguousarray(dct_matrix()[:n].T, dtype=np.float64)  # (8, n)
    # Separable transform as small matrix products (cv2.gemm, SIMD, one call
    # each), keeping only the n lowest frequencies per axis: along each row first
    # (the band needs no transpose), then down the columns of each block row, which
    # leaves the result laid out as [block row, block col, v, u]. In float64, rounded
    # to float32 at the end: a BLAS kernel's float32 sums differ from another CPU's
    # in the last bits, and the compression tests that round coefficients onto a
    # lattice would read other counts on another laptop (blockfeatures.zigzag_dct
    # says more). In bands of block rows, so the float64 copy of a large image is
    # never whole.
    # One BLAS thread: waking a second for each small product cost more than the
    # product (the 64-phase grid scan: 264 -> 36 ms on a 12 MP photo; triage.blas).
    opencv_blas_on_one_thread()
    gemm: Any = cv2.gemm  # (src3 None = no addend; the stubs insist on an array)
    out = np.empty((terms, hb, w8), np.float32)
    for r0 in range(0, hb, _DCT_BAND_ROWS):
        rows = min(hb, r0 + _DCT_BAND_ROWS) - r0
        band = np.ascontiguousarray(x[r0 * 8 : (r0 + rows) * 8], dtype=np.float64)
        a = gemm(band.reshape(-1, 8), basis, 1.0, None, 0.0)  # [(y, bx), v]
        # [(by, bx, v), y within the block]
        b = np.ascontiguousarray(a.reshape(rows, 8, w8 * n).transpose(0, 2, 1)).reshape(-1, 8)
        c = gemm(b, basis, 1.0, None, 0.0).reshape(rows, w8, n, n)  # [by, bx, v, u]
        for k in range(terms):
            out[k, r0 : r0 + rows] = c[:, :, vs[k], us[k]]
    # The level shift only moves the DC term (by 128 * 64 / 8 = 1024): apply it there.
    out[0] -= np.float32(1024.0)
    return out


# ------------------------------------------------------------ blocking grid


def local_grid(
    gray: np.ndarray, tile: int = 32, exclude_aligned: bool = False
) -> dict[str, np.ndarray]:
    """Per-tile blocking-grid phase and strength.

    For each tile and axis, the mean clipped absolute first difference across each of
    the 8 boundary phases; the peak phase is the grid offset (0 = boundaries at
    multiples of 8) and its strength is (peak - median of the other phases) / median.

    Parameters
    ----------
    gray : ndarray
        H x W luma.
    tile : int
        Tile side in pixels.
    exclude_aligned : bool
        Ignore the phase-0 grid (a JPEG's own), so that a second grid shows.

    Returns
    -------
    dict of ndarray
        ``phase_y``, ``phase_x`` and ``strength`` (the weaker axis), per tile.

    References
    ----------
    Z. Fan, R. L. de Queiroz, "Identification of bitmap compression history: JPEG
    detection and quantizer estimation", IEEE TIP 12(2), 2003 (the same cue).
    """
    import cv2

    th, tw = gray.shape[0] // tile, gray.shape[1] // tile
    if th == 0 or tw == 0:
        z = np.zeros((0, 0))
        return {"phase_y": z.astype(int), "phase_x": z.astype(int), "strength": z}
    h, w = th * tile, tw * tile
    # Luma is integer-valued (decoded 8-bit): uint8 keeps the arithmetic cheap.
    g: Any = np.asarray(gray)
    if g.dtype != np.uint8:
        g = g.astype(np.uint8)
    if g.shape[0] == h or g.shape[1] == w:  # need one pixel beyond the last tile
        g = cv2.copyMakeBorder(g[:h, :w], 0, 1, 0, 1, cv2.BORDER_REPLICATE)
    dx = cv2.absdiff(g[:h, 1 : w + 1], g[:h, :w])
    dy = cv2.absdiff(g[1 : h + 1, :w], g[:h, :w])
    # Clip strong edges (THRESH_TRUNC = min(value, 24)), then average within tiles.
    dx = cv2.threshold(dx, 24, 24, cv2.THRESH_TRUNC)[1]
    dy = cv2.threshold(dy, 24, 24, cv2.THRESH_TRUNC)[1]
    colmean = dx.reshape(th, tile, w).sum(axis=1, dtype=np.uint32) / float(tile)  # (th, w)
    rowsum = cv2.reduce(dy.reshape(h * tw, tile), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)
    rowmean = rowsum.reshape(h, tw) / float(tile)  # (h, tw)
    px = colmean.reshape(th, tw, tile // 8, 8).mean(axis=2)
    py = rowmean.reshape(th, tile // 8, 8, tw).mean(axis=1).transpose(0, 2, 1)
    out: dict[str, np.ndarray] = {}
    for name, prof in (("x", px), ("y", py)):
        q = prof.copy()
        if exclude_aligned:
            q[..., 7] = -1.0
        k = q.argmax(axis=-1)
        peak = np.take_along_axis(prof, k[..., None], axis=-1)[..., 0]
        rest = np.where(np.arange(8) == k[..., None], np.nan, prof)
        if exclude_aligned:
            rest[..., 7] = np.nan
        med = np.nanmedian(rest, axis=-1)
        out["phase_" + name] = (k + 1) % 8
        out["s_" + name] = (peak - med) / (med + 0.05)
    return {
        "phase_y": out["phase_y"],
        "phase_x": out["phase_x"],
        "strength": np.minimum(out["s_x"], out["s_y"]),
    }


# --------------------------------------------------- quantization traces


def _flat(coeffs: np.ndarray) -> np.ndarray:
    """Coefficient planes (terms, ...) as a (blocks, terms) view."""
    return coeffs.reshape(coeffs.shape[0], -1).T


def prior_quality(coeffs: np.ndarray, max_blocks: int = 20_000) -> dict[str, Any]:
    """Estimate an earlier JPEG quality from quantization traces in the coefficients.

    For each candidate IJG quality, measures how tightly the first 20 AC terms sit on
    multiples of that quality's steps (:func:`table_fit`). Steps that divide the true
    step also fit, so the coarsest quality that fits is reported.

    Parameters
    ----------
    coeffs : ndarray
        Zig-zag block DCT with at least 21 terms (:func:`block_dct`).
    max_blocks : int
        Blocks sampled at most.

    Returns
    -------
    dict
        ``quality`` (None when nothing fits), ``fit``, ``baseline_fit`` and ``terms``.

    References
    ----------
    Z. Fan, R. L. de Queiroz, IEEE TIP 12(2), 2003 (quantizer estimation from a
    decompressed image).
    """
    c = coeffs.reshape(coeffs.shape[0], -1)  # planes (terms, blocks)
    if c.shape[1] > max_blocks:
        c = c[:, :: int(np.ceil(c.shape[1] / max_blocks))]
    fits: dict[int, float] = {}
    for q in range(20, 101):
        f = table_fit(c, q)
        if f is not None:
            fits[q] = f
    if not fits:
        return {"quality": None, "fit": 0.0, "baseline_fit": 0.0}
    best = max(fits.values())
    baseline = float(np.median(list(fits.values())))
    quality = None
    if best >= 0.5:
        quality = min(q for q, f in fits.items() if f >= 0.85 * best)
    return {
        "quality": quality,
        "fit": round(fits[quality] if quality else best, 4),
        "baseline_fit": round(baseline, 4),
    }


def table_fit(coeffs: np.ndarray, quality: int, n_terms: int = 20) -> float | None:
    """How tightly coefficients sit on the lattice of one IJG quality's luma table.

    Parameters
    ----------
    coeffs : ndarray
        Zig-zag block DCT planes.
    quality : int
        The IJG quality whose steps are tried.
    n_terms : int
        AC terms used (1..n_terms).

    Returns
    -------
    float or None
        Mean over usable AC terms (step >= 2, at least 20 coefficients that do not
        quantize to zero) of ``|mean exp(2 pi i c / q)|``: about 1 on the lattice, low
        off it. None when fewer than 3 terms are usable (flat content says nothing).

    References
    ----------
    Z. Fan, R. L. de Queiroz, IEEE TIP 12(2), 2003.
    """
    sub = _flat(coeffs)[:, 1 : n_terms + 1].astype(np.float64)
    if sub.shape[0] < 16:
        return None
    table = zz_table(quality)[1 : sub.shape[1] + 1].astype(np.float64)
    # Coefficients that quantize to zero sit on every lattice: only the others
    # say anything (flat sky would otherwise "fit" any table).
    live = np.abs(sub) >= 0.5 * table
    count = live.sum(axis=0)
    ok = (table >= 2) & (count >= 20)
    if ok.sum() < 3:
        return None
    ang = (2 * np.pi) * sub[:, ok] / table[ok]
    w = live[:, ok]
    n = count[ok]
    mag = np.hypot((np.cos(ang) * w).sum(axis=0) / n, (np.sin(ang) * w).sum(axis=0) / n)
    return float(mag.mean())


def double_compression(
    observed: np.ndarray,
    calibrated: np.ndarray,
    q2: tuple[int, ...],
    n_freq: int = 12,
    kmax: int = 24,
) -> dict[str, Any]:
    """Aligned double JPEG compression test and primary quality estimate.

    For each candidate primary IJG quality Q1, the calibrated coefficients are
    quantized with Q1 then with ``q2``, and the histograms of the first ``n_freq`` AC
    terms are compared with the observed ones (total variation over bins other than
    0). A single compression is the same model without Q1.

    Parameters
    ----------
    observed : ndarray
        Zig-zag block DCT of the decoded JPEG on its own grid.
    calibrated : ndarray
        The same for the pixels shifted by 4: an estimate of the coefficients before
        any quantization.
    q2 : tuple of int
        The file's luma table (natural order).
    n_freq : int
        AC terms compared.
    kmax : int
        Histogram bins on each side of 0.

    Returns
    -------
    dict
        ``ratio`` = distance(best double model) / distance(single model) (about
        0.1-0.8 after double compression, >= 1 for single compressions in our
        measurements; None with too little data), the estimated ``primary_quality``
        and the distances.

    References
    ----------
    J. Fridrich, T. Pevny, J. Lukas, "Estimation of primary quantization matrix in
    double compressed JPEG images", 2008 (calibration by a 4-pixel shift);
    A. C. Popescu, H. Farid, "Statistical tools for digital forensics", 2004.
    """
    obs = _flat(observed)[:, 1 : n_freq + 1].astype(np.float64)
    cal = _flat(calibrated)[:, 1 : n_freq + 1].astype(np.float64)
    q2z = to_zigzag(q2)[1 : n_freq + 1].astype(np.float64)
    nf = obs.shape[1]
    if nf < 3 or obs.shape[0] < 200 or cal.shape[0] < 200:
        return {"ratio": None, "primary_quality": None}
    width = 2 * kmax + 1
    offsets = (np.arange(nf) * width)[None, :]

    def hist(values: np.ndarray) -> np.ndarray:
        k = np.clip(np.rint(values / q2z), -kmax, kmax).astype(np.int64) + kmax + offsets
        h = np.bincount(k.ravel(), minlength=nf * width).reshape(nf, width).astype(np.float64)
        h[:, kmax] = 0.0
        return h / values.shape[0]

    obs_h = hist(obs)
    cal_t = np.ascontiguousarray(cal.T)  # (terms, blocks): each term's values contiguous
    cal_max = np.abs(cal_t).max(axis=1)
    live = round(float(obs_h.sum()) * obs.shape[0])
    if live < 2000:  # too few non-zero coefficients (flat or tiny image): no test
        return {"ratio": None, "primary_quality": None, "nonzero": live}

    def distance(q1: np.ndarray | None) -> float:
        if q1 is None:
            return float(np.abs(hist(cal) - obs_h).sum() / nf)
        # Histogram the integer multiples m = rint(cal / q1) once per term, then send
        # each m to its bin rint(m * q1 / q2): the same arithmetic on the same values as
        # requantizing every coefficient, done once per distinct m.
        lo = -np.ceil(cal_max / q1) - 1.0  # below every m of the term
        span = int((np.ceil(cal_max / q1) + 1.0 - lo).max()) + 1
        m = np.divide(cal_t, q1[:, None])
        np.rint(m, out=m)
        m += (np.arange(nf) * span - lo)[:, None]  # exact: small integers
        counts = np.bincount(m.astype(np.intp).ravel(), minlength=nf * span)
        levels = lo[:, None] + np.arange(span)[None, :]  # (terms, span) values of m
        k = np.clip(np.rint(levels * q1[:, None] / q2z[:, None]), -kmax, kmax).astype(np.int64)
        k += kmax + (np.arange(nf) * width)[:, None]
        h = np.bincount(k.ravel(), weights=counts, minlength=nf * width)
        h = h.reshape(nf, width)
        h[:, kmax] = 0.0
        return float(np.abs(h / cal.shape[0] - obs_h).sum() / nf)

    d_single = distance(None)
    scores: dict[int, float] = {}
    q2_t = tuple(int(v) for v in q2)

    def try_q(q: int) -> None:
        if q in scores or libjpeg_table(q) == q2_t:
            return
        t = zz_table(q)[1 : nf + 1].astype(np.float64)
        if np.array_equal(t, q2z):
            return
        scores[q] = distance(t)

    for q in range(30, 101, 5):
        try_q(q)
    if scores:
        top = min(scores, key=lambda k: scores[k])
        for q in range(max(20, top - 4), min(100, top + 4) + 1):
            try_q(q)
    if not scores:
        return {"ratio": None, "primary_quality": None}
    best_q = min(scores, key=lambda k: scores[k])
    ratio = scores[best_q] / max(d_single, 1e-9)
    return {
        "ratio": round(ratio, 4),
        "primary_quality": best_q,
        "nonzero_fraction": round(live / (obs.shape[0] * nf), 4),
        "d_single": round(d_single, 5),
        "d_double": round(scores[best_q], 5),
        "blocks": int(obs.shape[0]),
    }


# ------------------------------------------------ requantization error maps


def requant_error(coeffs: np.ndarray, quality: int, n_terms: int = 15) -> np.ndarray:
    """Per-block squared error of requantizing at an IJG ``quality``.

    By Parseval this is the luma error of re-saving the block at that quality (before
    rounding and clipping), restricted to the first ``n_terms`` zig-zag terms, which
    carry nearly all of it.

    Parameters
    ----------
    coeffs : ndarray
        Planes from :func:`block_dct`.
    quality : int
        IJG quality.
    n_terms : int
        Zig-zag terms summed.

    Returns
    -------
    ndarray
        (block_rows, block_cols) map.

    References
    ----------
    H. Farid, "Exposing digital forgeries from JPEG ghosts", IEEE TIFS 4(1), 2009.
    """
    q = zz_table(quality)
    out = np.zeros(coeffs.shape[1:], np.float32)
    for k in range(min(n_terms, coeffs.shape[0])):
        r = coeffs[k] * np.float32(1.0 / q[k])
        np.subtract(r, np.rint(r), out=r)
        r *= q[k]
        out += r * r
    return out


# --------------------------------------------- grid phase from periodicity

_IPM_BINS = 1024  # quarter-unit bins over -128..128
_IPM_STEPS = np.arange(2, 65)


@cache
def _ipm_kernel() -> tuple[np.ndarray, np.ndarray]:
    x = (np.arange(_IPM_BINS) - _IPM_BINS // 2) / 4.0
    ang = 2.0 * np.pi * x[:, None] / _IPM_STEPS[None, :]  # (bins, steps)
    # float32 entries, used in float64 products (the same bits on every CPU).
    return (
        np.cos(ang).astype(np.float32).astype(np.float64),
        np.sin(ang).astype(np.float32).astype(np.float64),
    )


def integer_periodicity(coeffs: np.ndarray, n_terms: int = 10) -> float:
    """How strongly low-frequency AC coefficients sit on a lattice of some step.

    For each AC term 1..n_terms, the largest mean phasor magnitude
    ``|mean exp(2 pi i c / q)|`` over integer steps q (2..64, and at most the term's
    spread / 1.5, so that a step wider than the data cannot fit trivially), from a
    quarter-unit histogram; averaged over terms.

    Parameters
    ----------
    coeffs : ndarray
        Zig-zag block DCT planes on one grid.
    n_terms : int
        AC terms used.

    Returns
    -------
    float
        About 1 on the grid where a JPEG quantized the image, about 0.05 on any other
        grid; 0.0 when no term is usable.

    References
    ----------
    T. Bianchi, A. Piva, "Detection of nonaligned double JPEG compression based on
    integer periodicity maps", IEEE TIFS 7(2), 2012 (this is a fast form of it).
    """
    sub = _flat(coeffs)[:, 1 : n_terms + 1]
    n, nt = sub.shape
    if n < 64 or nt < 3:
        return 0.0
    spread = sub.std(axis=0)
    b = np.clip(np.rint(sub * 4.0), -(_IPM_BINS // 2), _IPM_BINS // 2 - 1).astype(np.int64)
    b += _IPM_BINS // 2 + (np.arange(nt) * _IPM_BINS)[None, :]
    hist = np.bincount(b.ravel(), minlength=nt * _IPM_BINS).reshape(nt, _IPM_BINS)
    kc, ks = _ipm_kernel()
    h64 = hist.astype(np.float64)
    mags = (np.hypot(h64 @ kc, h64 @ ks) / n).astype(np.float32)  # (terms, steps)
    allowed = _IPM_STEPS[None, :] <= spread[:, None] / 1.5
    usable = allowed.any(axis=1)
    if usable.sum() < 3:
        return 0.0
    best = np.where(allowed, mags, 0.0).max(axis=1)
    return float(best[usable].mean())


def phase_scan(gray: np.ndarray, max_blocks: int = 1000, interior_only: bool = False) -> np.ndarray:
    """Integer periodicity on each of the 64 grid phases.

    Parameters
    ----------
    gray : ndarray
        H x W luma.
    max_blocks : int
        Block rows are subsampled to about this many blocks per phase.
    interior_only : bool
        Leave at 0 the phases sharing a row or column with the (0, 0) grid (a JPEG's
        own grid is known).

    Returns
    -------
    ndarray
        (8, 8): entry [dy, dx] is :func:`integer_periodicity` of the blocks starting at
        row dy, column dx.

    References
    ----------
    T. Bianchi, A. Piva, IEEE TIFS 7(2), 2012.
    """
    h8, w8 = gray.shape[0] // 8 - 1, gray.shape[1] // 8 - 1
    out = np.zeros((8, 8))
    if h8 < 2 or w8 < 2:
        return out
    row_step = max(1, int(np.ceil(h8 * w8 / max_blocks)))
    for dy in range(8):
        for dx in range(8):
            if interior_only and (dy == 0 or dx == 0):
                continue
            c = block_dct(gray[: (h8 + 1) * 8], dy, dx, row_step=row_step, terms=11)[:, :, :w8]
            out[dy, dx] = integer_periodicity(c)
    return out


EARLIER_GRID_FIT = 0.3  # integer periodicity that marks earlier JPEG compression
EARLIER_TABLE_BLOCKS = 2000
LARGE_PIXELS = 4_000_000  # above this, the block maps sample every other block


def map_stride(height: int, width: int) -> int:
    """Block stride of the block maps (error levels, ghosts, earlier tables).

    Parameters
    ----------
    height, width : int
        Image size in pixels.

    Returns
    -------
    int
        1 (every block) up to :data:`LARGE_PIXELS`; beyond, 2 (every other block row
        and column). Regions that matter cover >= 1% of the image, so a 16-pixel map of
        a large image localizes them as well at a quarter of the DCT work; one rule, so
        that a cached transform serves every analyzer that asks for it.
    """
    return 1 if height * width <= LARGE_PIXELS else 2


def earlier_grid(scan: np.ndarray, min_fit: float = EARLIER_GRID_FIT) -> tuple[int, int] | None:
    """The 8x8 grid of an earlier JPEG compression in a file that is not a JPEG.

    A picture decoded from a JPEG and stored losslessly keeps that JPEG's block grid:
    its coefficients sit on integer multiples of the quantization steps on one of the
    64 phases, and on none of the others.

    Parameters
    ----------
    scan : ndarray
        (8, 8) :func:`phase_scan` of the picture's luma.
    min_fit : float
        Integer periodicity the best phase must reach.

    Returns
    -------
    (int, int) or None
        (rows, columns) offset of the grid's first whole block; None when no phase
        stands out: the best under ``min_fit`` or under 3 times the median phase, or
        fewer than half the phases measurable (too little texture to tell).

    References
    ----------
    T. Bianchi, A. Piva, "Detection of nonaligned double JPEG compression based on
    integer periodicity maps", IEEE TIFS 7(2), 2012.
    """
    best = float(scan.max())
    if best < min_fit or best < 3.0 * float(np.median(scan)) or (scan > 0).sum() < scan.size // 2:
        return None
    dy, dx = np.unravel_index(int(scan.argmax()), scan.shape)
    return int(dy), int(dx)


def _transposed_terms(terms: int) -> list[int]:
    """Zig-zag index of each zig-zag term's transpose: (u, v) -> (v, u)."""
    where = {n: k for k, n in enumerate(ZIGZAG)}
    return [where[(n % 8) * 8 + n // 8] for n in ZIGZAG[:terms]]


def earlier_table(coeffs: np.ndarray) -> tuple[int, ...] | None:
    """The luma table of an earlier JPEG compression, read from the coefficients of a
    picture stored losslessly since, in the orientation the picture has now.

    The IJG quality is estimated by :func:`prior_quality`, on the coefficients as they
    are and transposed: a picture turned a quarter after its compression carries the
    table transposed (the standard tables are not symmetric).

    Parameters
    ----------
    coeffs : ndarray
        Zig-zag block DCT on the earlier grid (:func:`block_dct`), 21 terms or more
        (whole anti-diagonals: 21 terms are closed under transposition).

    Returns
    -------
    tuple of int or None
        64 steps, natural order; None when no IJG quality fits.

    References
    ----------
    Z. Fan, R. L. de Queiroz, "Identification of bitmap compression history: JPEG
    detection and quantizer estimation", IEEE TIP 12(2), 2003.
    """
    # A few thousand blocks pin the steps of 20 terms.
    c = coeffs[:21].reshape(21, -1)
    c = c[:, :: max(1, -(-c.shape[1] // EARLIER_TABLE_BLOCKS))]
    transposed = c[_transposed_terms(21)]
    upright = prior_quality(c)
    q = upright["quality"]
    # The full scan of the transposed reading only when the upright estimate does not
    # already fit better as it is (a picture is rarely turned).
    if q is not None and upright["fit"] >= (table_fit(transposed, q) or 0.0):
        return libjpeg_table(int(q))
    turned = prior_quality(transposed)
    if turned["quality"] is None or (q is not None and upright["fit"] >= turned["fit"]):
        return None if q is None else libjpeg_table(int(q))
    table = libjpeg_table(int(turned["quality"]))
    return tuple(table[(n % 8) * 8 + n // 8] for n in range(64))


def earlier_jpeg(
    luma: np.ndarray,
    scan: np.ndarray | None = None,
    coeffs: Callable[[tuple[int, int], int], np.ndarray] | None = None,
) -> tuple[tuple[int, int], tuple[int, ...] | None] | None:
    """The grid and the luma table of the JPEG compression a lossless picture had before.

    Parameters
    ----------
    luma : ndarray
        H x W luma of the picture.
    scan : ndarray, optional
        Its :func:`phase_scan`, when already computed.
    coeffs : callable, optional
        ``coeffs(grid, step)`` gives 21 zig-zag terms of the block DCT on ``grid``,
        every ``step``-th block row and column (a cache of :func:`block_dct`).

    Returns
    -------
    ((int, int), tuple of int or None) or None
        The grid's (rows, columns) offset (:func:`earlier_grid`) and the table
        (:func:`earlier_table`; None when no IJG quality fits); None when the pixels show
        no earlier grid.

    References
    ----------
    T. Bianchi, A. Piva, IEEE TIFS 7(2), 2012 (the grid); Z. Fan, R. L. de Queiroz,
    IEEE TIP 12(2), 2003 (the table).
    """
    grid = earlier_grid(phase_scan(luma) if scan is None else scan)
    if grid is None:
        return None
    step = map_stride(*luma.shape[:2])
    if coeffs is None:
        c = block_dct(luma, *grid, terms=21, row_step=step, col_step=step)
    else:
        c = coeffs(grid, step)
    return grid, earlier_table(c)
