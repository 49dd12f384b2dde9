"""Resampling traces: periodic correlations left by resizing or rotating.

Interpolation makes each new pixel a fixed weighted sum of its neighbours, with
weights that repeat with the resampling period. A linear predictor therefore fits
interpolated pixels periodically better or worse, and the spectrum of the prediction
error's "fit map" (p-map) shows sharp peaks. We compute the p-map with Kirchner's fixed
linear predictor, take its spectrum per block and over the whole image, and look for
peaks that the JPEG 8x8 block grid (and colour-filter demosaicing at 1/2) cannot
explain.

References
----------
A. C. Popescu, H. Farid, "Exposing digital forgeries by detecting traces of
resampling", IEEE TSP 53(2), 2005.
M. Kirchner, "Fast and reliable resampling detection by spectral analysis of fixed
linear predictor residue", ACM MM&Sec 2008.
A. C. Gallagher, "Detection of linear and cubic interpolation in JPEG compressed
images", CRV 2005 (second-derivative periodicity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Kirchner's fixed predictor (weights of the 8 neighbours).
_PREDICTOR = np.array([[-0.25, 0.5, -0.25], [0.5, 0.0, 0.5], [-0.25, 0.5, -0.25]], np.float32)


def p_map(gray: np.ndarray) -> np.ndarray:
    """Kirchner's p-map of a grey image.

    Parameters
    ----------
    gray : ndarray
        H x W luma, 8-bit scale (any dtype).

    Returns
    -------
    ndarray
        H x W float32 ``exp(-e**2)``, where ``e`` is the residue of Kirchner's fixed
        linear predictor; interpolated pixels make it periodic.

    References
    ----------
    M. Kirchner, "Fast and reliable resampling detection by spectral analysis of fixed
    linear predictor residue", ACM MM&Sec 2008.
    """
    import cv2

    g = np.ascontiguousarray(gray, dtype=np.float32)
    e = g - cv2.filter2D(g, -1, _PREDICTOR, borderType=cv2.BORDER_REFLECT)
    return np.exp(-(e * e)).astype(np.float32)


def _freqs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row frequencies (fftshifted, -1/2..) and column frequencies (0..1/2) of the
    half-plane spectrum of an n x n block; a real signal's spectrum is point-symmetric,
    so the half plane holds everything."""
    return np.fft.fftshift(np.fft.fftfreq(n)), np.fft.rfftfreq(n)


def _allowed_mask(
    n: int, min_freq: float = 0.15, grid_halfwidth: float | None = None
) -> np.ndarray:
    """Frequencies (of the half-plane spectrum) where peaks count: not the
    low-frequency centre (image content) and not near multiples of 1/8 on both axes
    (JPEG block grid; includes 1/2, where demosaicing leaves its own peaks)."""
    if grid_halfwidth is None:
        grid_halfwidth = max(1.5, 0.025 * n)
    fy1, fx1 = _freqs(n)
    fy, fx = np.meshgrid(fy1, fx1, indexing="ij")
    ok = np.hypot(fx, fy) >= min_freq
    grid = np.arange(-4, 5) / 8.0

    def near(f: np.ndarray) -> np.ndarray:  # bins near a multiple of 1/8
        return np.asarray(np.min(np.abs(f[:, None] - grid[None, :]), axis=1) * n <= grid_halfwidth)

    ok &= ~(near(fy1)[:, None] & near(fx1)[None, :])
    return np.asarray(ok)


def _amplitude_spectra(stack: np.ndarray) -> np.ndarray:
    """|FFT| of each block of an (n, b, b) float32 stack, half plane, rows fftshifted."""
    try:
        import scipy.fft

        spec = scipy.fft.rfft2(stack, axes=(1, 2), workers=-1)
    except ImportError:  # scipy is optional here; numpy is slower, same result
        spec = np.fft.rfft2(stack, axes=(1, 2))
    return np.fft.fftshift(np.abs(spec).astype(np.float32), axes=1)


@dataclass
class BlockSpectra:
    block: int
    origins: list[tuple[int, int]]  # (y, x) of each block on the analysed image
    score: np.ndarray  # peak-to-median ratio per block
    peak: np.ndarray  # (fy, fx) of the strongest allowed peak per block, cycles/pixel
    global_score: float
    global_peak: tuple[float, float]


def _peak_scores(spec: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per spectrum in an (n, h, w) stack: strongest allowed value over the median of
    the allowed values, and the flat index of that peak."""
    vals = spec[:, allowed]
    idx = np.argmax(vals, axis=1)
    med = np.median(vals, axis=1)
    top = vals[np.arange(len(vals)), idx]
    ratio = np.where(med > 0, top / np.maximum(med, 1e-12), 0.0)
    return ratio.astype(np.float32), np.flatnonzero(allowed)[idx]


def block_spectra(
    gray: np.ndarray, block: int = 128, origins: list[tuple[int, int]] | None = None
) -> BlockSpectra:
    """Peak score of the p-map spectrum per block, and of their average.

    Parameters
    ----------
    gray : ndarray
        H x W luma at native resolution.
    block : int
        Block side in pixels.
    origins : list of (int, int), optional
        (y, x) of the blocks to analyse (default: the full non-overlapping grid); this
        is how the caller bounds the work on a very large image.

    Returns
    -------
    BlockSpectra
        Per block the ratio of the strongest allowed spectral peak to the median of the
        allowed frequencies and its frequency, and the same for the averaged spectrum.
        Frequencies the JPEG 8x8 grid and demosaicing explain are not allowed.

    References
    ----------
    M. Kirchner, ACM MM&Sec 2008; A. C. Popescu, H. Farid, IEEE TSP 53(2), 2005.
    """
    g = np.asarray(gray, np.float32)
    h, w = g.shape
    if origins is None:
        origins = [
            (y, x) for y in range(0, h - block + 1, block) for x in range(0, w - block + 1, block)
        ]
    if not origins:
        return BlockSpectra(block, [], np.zeros(0), np.zeros((0, 2)), 0.0, (0.0, 0.0))
    win = np.outer(np.hanning(block), np.hanning(block)).astype(np.float32)
    full = p_map(g)  # once for the whole image; blocks are slices of it
    pm = np.stack([full[y : y + block, x : x + block] for y, x in origins])
    # Flat blocks (no texture, e.g. clipped sky or a graphic's fill) have no
    # interpolation statistics to speak of; they are scored 0.
    flat = np.stack([g[y : y + block, x : x + block] for y, x in origins]).std(axis=(1, 2)) < 1.0
    pm -= pm.mean(axis=(1, 2), keepdims=True)
    spec = _amplitude_spectra(pm * win)
    allowed = _allowed_mask(block)
    fy1, fx1 = _freqs(block)
    wcols = spec.shape[2]
    scores, flat_idx = _peak_scores(spec, allowed)
    scores[flat] = 0.0
    peaks = np.stack([fy1[flat_idx // wcols], fx1[flat_idx % wcols]], axis=1).astype(np.float32)
    mean_spec = spec[~flat].mean(axis=0) if (~flat).any() else spec.mean(axis=0)
    gs, gidx = _peak_scores(mean_spec[None], allowed)
    g_peak = (float(fy1[gidx[0] // wcols]), float(fx1[gidx[0] % wcols]))
    return BlockSpectra(block, list(origins), scores, peaks, float(gs[0]), g_peak)


def canonical(f: tuple[float, float]) -> tuple[float, float]:
    """A peak frequency up to the spectrum's point symmetry and an axis swap.

    The same scale factor on both axes peaks at (0, f) and (f, 0).

    Parameters
    ----------
    f : tuple of float
        (fy, fx) in cycles per pixel.

    Returns
    -------
    tuple of float
        (|larger|, |smaller|).
    """
    a, b = abs(float(f[0])), abs(float(f[1]))
    return (a, b) if a >= b else (b, a)


def same_frequency(a: tuple[float, float], b: tuple[float, float], tol: float = 0.016) -> bool:
    """Whether two peaks are the same frequency, up to symmetry.

    Parameters
    ----------
    a, b : tuple of float
        (fy, fx) in cycles per pixel.
    tol : float
        Largest difference per component, cycles per pixel (about two bins of a
        128-pixel block).

    Returns
    -------
    bool
        True when their :func:`canonical` forms agree within ``tol``.
    """
    ca, cb = canonical(a), canonical(b)
    return abs(ca[0] - cb[0]) <= tol and abs(ca[1] - cb[1]) <= tol


@dataclass
class ResampledRegion:
    box: tuple[int, int, int, int]  # analysed-image pixels, x1/y1 exclusive
    blocks: int
    frequency: tuple[float, float]  # canonical peak frequency, cycles/pixel
    score: float  # median peak-to-median ratio of its blocks
    period: float  # 1 / frequency magnitude, pixels


def odd_regions(
    bs: BlockSpectra,
    block_thresh: float = 8.0,
    weak_thresh: float = 5.5,
    min_blocks: int = 2,
    max_share: float = 0.15,
    max_busy: float = 0.2,
) -> list[ResampledRegion]:
    """Groups of neighbouring blocks that share a strong periodic peak which the rest
    of the image does not show.

    A block is a candidate when its peak ratio is >= ``block_thresh``. Candidates
    with the same peak frequency (up to symmetry) that touch each other on the block
    grid form a group; a group needs ``min_blocks`` blocks, and its frequency must
    appear (at ratio >= ``weak_thresh``) in at most ``max_share`` of all blocks — a
    pattern present everywhere is the image's (global resizing, sensor, compression),
    not a pasted region's. When more than ``max_busy`` of all blocks are candidates,
    nothing is reported.

    Parameters
    ----------
    bs : BlockSpectra
        The output of :func:`block_spectra`.
    block_thresh, weak_thresh : float
        Peak ratios of a candidate block and of a block that merely shows the frequency.
    min_blocks : int
        Blocks a region needs.
    max_share : float
        Largest share of all blocks that may show the region's frequency.
    max_busy : float
        Largest share of all blocks that may be candidates at all.

    Returns
    -------
    list of ResampledRegion
        Box in analysed-image pixels, block count, frequency, median score and period;
        ordered by score x blocks, largest first.

    References
    ----------
    A. C. Popescu, H. Farid, "Exposing digital forgeries by detecting traces of
    resampling", IEEE TSP 53(2), 2005 (local resampling maps).
    """
    n = len(bs.origins)
    out: list[ResampledRegion] = []
    if n == 0:
        return out
    cand = [k for k in range(n) if bs.score[k] >= block_thresh]
    if len(cand) > max_busy * n:
        # Strong peaks nearly everywhere (periodic texture, a sensor or compression
        # pattern): single regions cannot be told from the image's own pattern.
        return out
    used: set[int] = set()
    b = bs.block
    for k in cand:
        if k in used:
            continue
        f = (float(bs.peak[k][0]), float(bs.peak[k][1]))
        same = [j for j in cand if j not in used and same_frequency(f, tuple(bs.peak[j]))]
        share = (
            sum(
                1
                for j in range(n)
                if bs.score[j] >= weak_thresh and same_frequency(f, tuple(bs.peak[j]))
            )
            / n
        )
        # Flood fill over grid neighbours (8-connected) among blocks with this peak.
        todo, group = [k], {k}
        while todo:
            cur = todo.pop()
            cy, cx = bs.origins[cur]
            for j in same:
                if j in group:
                    continue
                jy, jx = bs.origins[j]
                if abs(jy - cy) <= b and abs(jx - cx) <= b:
                    group.add(j)
                    todo.append(j)
        used |= group
        if len(group) < min_blocks or share > max_share:
            continue
        ys = [bs.origins[j][0] for j in group]
        xs = [bs.origins[j][1] for j in group]
        cf = canonical(f)
        mag = float(np.hypot(*cf))
        out.append(
            ResampledRegion(
                box=(min(xs), min(ys), max(xs) + b, max(ys) + b),
                blocks=len(group),
                frequency=cf,
                score=float(np.median([bs.score[j] for j in group])),
                period=1.0 / mag if mag > 0 else 0.0,
            )
        )
    out.sort(key=lambda r: -r.score * r.blocks)
    return out
