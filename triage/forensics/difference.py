"""Where two aligned copies of one picture differ beyond what copying explains."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Difference", "DifferenceRegion", "difference_map"]

# Blur before comparing (pixels of the common grid): resampling and 8x8 JPEG blocks
# differ at the finest scale on every copy; an edit differs over many pixels.
SIGMA = 1.2
# A pixel differs when its colour distance (CIELAB, after the tone fit) is this many
# robust standard deviations above the shared area's median distance...
SPREAD = 8.0
# ... and at least this many CIELAB units (a just-noticeable difference is about 2.3).
FLOOR = 6.0
# Regions smaller than this share of the shared area (or than MIN_PIXELS) are noise.
MIN_SHARE = 0.001
MIN_PIXELS = 48
MAX_REGIONS = 20
# Knots of the tone curve, evenly spaced over 0-255 (every 32 levels).
KNOTS = 9
# A region's mean distance must be this far over the threshold: a grain or sharpening
# filter leaves scattered spots just over it (bench/compare_copies.py: the regions on
# edits have strength >= 1.5 in 95 cases of 100; a third of the others are below it).
MIN_STRENGTH = 1.5
# 8-bit values taken as clipped (a blown highlight, a crushed shadow).
CLIP_HIGH, CLIP_LOW = 250, 5


@dataclass(frozen=True)
class DifferenceRegion:
    """One connected area where the copies differ, on the common grid."""

    box: tuple[int, int, int, int]  # x, y, width, height
    share: float  # of the shared area
    strength: float  # mean distance over the threshold (1.0 at the threshold)


@dataclass
class Difference:
    """The comparison of two aligned pictures on one grid."""

    significance: np.ndarray  # float32: distance / threshold, 0 outside the shared area
    shared: np.ndarray  # bool: pixels both pictures cover
    threshold: float  # CIELAB distance above which a pixel differs
    differing_share: float  # of the shared area, before regions are cleaned
    gain: tuple[float, float, float]  # L, a, b: b's tone fitted to a's by a line
    offset: tuple[float, float, float]
    tone_change: float  # mean shift of b's RGB tone curves to a's, in 8-bit levels
    regions: list[DifferenceRegion] = field(default_factory=list)


def difference_map(a_rgb: np.ndarray, b_rgb: np.ndarray, shared: np.ndarray) -> Difference:
    """Compare two copies of a picture already resampled onto the same grid.

    ``b``'s tone is first mapped onto ``a``'s by one monotone curve per RGB channel
    (the median of ``a`` for each level of ``b`` over the shared area), so that a
    brightness, contrast, curves or white-balance change of the whole picture is not
    an edit. Both are blurred, and each pixel of ``a`` is compared with the range
    of ``b`` in its 3x3 neighbourhood, so that a residual misalignment of a pixel at an
    edge does not read as a difference. The distance is thresholded against the
    shared area's own spread (median + ``SPREAD`` robust deviations, at least
    ``FLOOR`` CIELAB units), which adapts to how hard the copy was compressed.

    Parameters
    ----------
    a_rgb, b_rgb : ndarray
        RGB uint8 pictures of the same shape; ``b`` already aligned onto ``a``.
    shared : ndarray
        Boolean mask of the pixels that both pictures cover.

    Returns
    -------
    Difference
        The significance map, the threshold, the share of the shared area that
        differs, the tone fit, and the regions (largest first, at most
        ``MAX_REGIONS``).

    References
    ----------
    The neighbourhood range comparison follows the min-max tolerance used to compare
    images under sub-pixel misregistration (e.g. the "tolerant" difference of
    perceptual image-diff tools); CIELAB as in CIE 15:2004.
    """
    import cv2

    if a_rgb.shape != b_rgb.shape or a_rgb.shape[:2] != shared.shape:
        raise ValueError("a, b and the shared mask must have the same grid")
    inner = cv2.erode(shared.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    lab_a = cv2.cvtColor(a_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lab_b = cv2.cvtColor(b_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    gains, offsets = [], []
    for c in range(3):  # said in the report; the comparison uses the curves below
        gain, offset = _tone_fit(lab_b[..., c][inner], lab_a[..., c][inner])
        gains.append(gain)
        offsets.append(offset)
    toned = np.empty(b_rgb.shape, np.float32)
    change = 0.0
    for c in range(3):
        curve = _tone_curve(b_rgb[..., c][inner], a_rgb[..., c][inner])
        toned[..., c] = curve[b_rgb[..., c]]
        change += float(np.abs(curve - np.arange(256)).mean()) / 3.0
    lab_b = cv2.cvtColor(toned / 255.0, cv2.COLOR_RGB2LAB)
    lab_a = cv2.GaussianBlur(lab_a, (0, 0), SIGMA)
    lab_b = cv2.GaussianBlur(lab_b, (0, 0), SIGMA)
    kernel = np.ones((3, 3), np.uint8)
    high, low = cv2.dilate(lab_b, kernel), cv2.erode(lab_b, kernel)
    outside = np.maximum(np.maximum(lab_a - high, low - lab_a), 0.0)
    distance = np.sqrt((outside**2).sum(axis=2)).astype(np.float32)
    if change > 2.0:
        # Where a tone change clipped b (a blown sky, a crushed shadow), b's level
        # no longer says what a's was: the difference there is the tone change's, not
        # an edit (and an edit there is not seen).
        clipped = (b_rgb.max(axis=2) >= CLIP_HIGH) | (b_rgb.max(axis=2) <= CLIP_LOW)
        distance[cv2.dilate(clipped.astype(np.uint8), kernel) > 0] = 0.0
    distance[~inner] = 0.0
    values = distance[inner]
    if values.size == 0:
        empty = np.zeros(shared.shape, np.float32)
        return Difference(empty, inner, FLOOR, 0.0, tuple(gains), tuple(offsets), change)  # type: ignore[arg-type]
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median))) * 1.4826
    threshold = max(median + SPREAD * mad, FLOOR)
    significance = distance / threshold
    over = (significance > 1.0) & inner
    differing_share = float(over.sum() / inner.sum())
    cleaned = cv2.morphologyEx(over.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    cleaned = cv2.morphologyEx(cleaned, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cleaned, connectivity=8)
    min_pixels = max(MIN_PIXELS, MIN_SHARE * float(inner.sum()))
    regions = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < min_pixels:
            continue
        strength = float(significance[labels == i].mean())
        if strength < MIN_STRENGTH:
            continue
        regions.append(
            DifferenceRegion((x, y, w, h), round(area / float(inner.sum()), 5), round(strength, 3))
        )
    regions.sort(key=lambda r: -r.share)
    return Difference(
        significance.astype(np.float32),
        inner,
        round(threshold, 3),
        round(differing_share, 5),
        tuple(round(g, 4) for g in gains),  # type: ignore[arg-type]
        tuple(round(o, 3) for o in offsets),  # type: ignore[arg-type]
        round(change, 3),
        regions[:MAX_REGIONS],
    )


def _tone_fit(source: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Gain and offset of the line ``target ~ gain * source + offset``, refitted twice
    without the 20% worst-fitting pixels (an edit must not pull the fit)."""
    if source.size < 16 or float(source.std()) < 1e-3:
        return 1.0, float(np.median(target - source)) if source.size else 0.0
    keep = np.ones(source.size, bool)
    gain, offset = 1.0, 0.0
    for _ in range(3):
        x, y = source[keep].astype(np.float64), target[keep].astype(np.float64)
        var = float(x.var())
        if var < 1e-6:
            break
        gain = float(((x - x.mean()) * (y - y.mean())).mean() / var)
        offset = float(y.mean() - gain * x.mean())
        residual = np.abs(target - (gain * source + offset))
        keep = residual <= np.quantile(residual, 0.8)
    return gain, offset


def _tone_curve(source: np.ndarray, target: np.ndarray, bins: int = 32) -> np.ndarray:
    """A monotone 256-level curve taking ``source`` levels to ``target`` ones.

    The median target of each bin of source levels (bins with under 20 pixels are
    skipped) is fitted by a piecewise-linear curve with a knot every 32 levels (least
    squares weighted by the square root of the bin's pixel count, never falling, held
    lightly towards the identity where no bin speaks), then refitted without the bins it misses by more
    than 6 levels (or three times the typical miss). A global tone change moves every
    bin alike, and the knots follow a gamma or the knee where one copy clipped; an edit
    fills a few bins of levels that the rest of the picture hardly has (a dark suit
    pasted on snow), which would drag a bin-by-bin curve with it.
    """
    levels = np.arange(256, dtype=np.float64)
    if source.size < 64:
        return levels.astype(np.float32)
    edges = np.linspace(0, 256, bins + 1)
    which = np.clip(np.digitize(source, edges) - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    order = np.argsort(which, kind="stable")
    sorted_target, sorted_source = target[order], source[order]
    centres, medians, weights = [], [], []
    start = 0
    for b in range(bins):
        stop = start + int(counts[b])
        if counts[b] >= 20:
            centres.append(float(sorted_source[start:stop].mean()))
            medians.append(float(np.median(sorted_target[start:stop])))
            weights.append(float(np.sqrt(counts[b])))
        start = stop
    if len(centres) < 2:
        shift = float(np.median(target.astype(np.float64) - source))
        return np.clip(levels + shift, 0, 255).astype(np.float32)
    x, y, w = np.array(centres), np.array(medians), np.array(weights)
    from scipy.optimize import lsq_linear

    knots = np.linspace(0.0, 255.0, KNOTS)
    # Knot values as the first one plus non-negative steps: the curve cannot fall, so
    # it cannot bend down to a few bins that an edit filled with other levels.
    rising = np.tril(np.ones((KNOTS, KNOTS)))
    lower = np.r_[-255.0, np.zeros(KNOTS - 1)]
    upper = np.r_[255.0, np.full(KNOTS - 1, 510.0)]
    hats = _hats(x, knots) @ rising
    # The identity pull is weak (a hundredth of a typical bin's weight): it only decides
    # the knots that no bin reaches.
    pull = 0.01 * float(np.median(w))
    keep = np.ones(x.size, bool)
    steps = np.r_[0.0, np.full(KNOTS - 1, knots[1])]
    for _ in range(5):
        rows = np.vstack([hats[keep] * w[keep, None], pull * rising])
        rhs = np.concatenate([y[keep] * w[keep], pull * knots])
        steps = lsq_linear(rows, rhs, bounds=(lower, upper), method="bvls").x
        miss = np.abs(hats @ steps - y)
        again = miss <= max(6.0, 3.0 * float(np.median(miss[keep])))
        if again.sum() < 2 or (again == keep).all():
            break
        keep = again
    curve = _hats(levels, knots) @ (rising @ steps)
    return np.clip(curve, 0, 255).astype(np.float32)


def _hats(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Piecewise-linear (hat) basis: row i holds the weights of each knot at x[i]."""
    step = knots[1] - knots[0]
    return np.clip(1.0 - np.abs(x[:, None] - knots[None, :]) / step, 0.0, None)
