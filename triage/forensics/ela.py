"""Error-level and JPEG-ghost maps at block level, and robust outlier regions.

Both maps come from requantizing the block DCT (see :mod:`triage.forensics.dct`):
the error of re-saving at quality Q is, by Parseval, the squared requantization
error of the coefficients. A block's error depends on its texture as much as on
its history, so each map is divided by the block's error at a coarse reference
quality (30), and blocks too flat to say anything are left out.

Outliers are found with robust statistics (median and MAD over informative
blocks, never mean and standard deviation), the map is smoothed over 3x3 blocks,
and only connected regions of a meaningful size are reported, so that a
uniformly compressed image stays quiet.

References
----------
Krawetz, N. (2007). A picture's worth (error level analysis).
Farid, H. (2009). Exposing digital forgeries from JPEG ghosts. IEEE TIFS 4(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from triage.forensics.dct import requant_error

__all__ = [
    "Region",
    "heatmap",
    "low_terms",
    "normalized_error",
    "outlier_regions",
    "texture_map",
]

REFERENCE_QUALITY = 30
MIN_TEXTURE = 60.0  # squared luma error at quality 30 below which a block is "flat"


@dataclass
class Region:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels (x1, y1 exclusive)
    blocks: int
    area_fraction: float
    score: float  # median robust z inside the region
    cells: tuple[int, int, int, int]  # row0, col0, row1, col1 in map cells (exclusive)

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "area_fraction": round(self.area_fraction, 4),
            "score": round(self.score, 2),
        }


N_TERMS = 15  # zig-zag terms used for error levels (DC + 14 AC)


def low_terms(coeffs: np.ndarray) -> np.ndarray:
    """The first ``N_TERMS`` zig-zag coefficient planes (a view; planes are contiguous).

    Parameters
    ----------
    coeffs : ndarray
        (64, rows, cols) block DCT coefficients in zig-zag order.

    Returns
    -------
    ndarray
        (N_TERMS, rows, cols): DC and the first AC terms, where error levels are read.

    References
    ----------
    N. Krawetz, "A picture's worth: digital image analysis and forensics", 2007
    (error level analysis).
    """
    return coeffs[:N_TERMS]


def texture_map(low: np.ndarray) -> np.ndarray:
    """Per-block requantization error at the coarse reference quality (a texture measure).

    Parameters
    ----------
    low : ndarray
        :func:`low_terms` of the block DCT.

    Returns
    -------
    ndarray
        (rows, cols) error at quality ``REFERENCE_QUALITY``: large in textured blocks,
        near zero in flat ones; it normalizes the error levels.

    References
    ----------
    H. Farid, "Exposing digital forgeries from JPEG ghosts", IEEE TIFS 4(1), 2009.
    """
    return requant_error(low, REFERENCE_QUALITY, N_TERMS)


def normalized_error(low: np.ndarray, quality: int, texture: np.ndarray) -> np.ndarray:
    """Requantization error at ``quality`` over each block's texture.

    Parameters
    ----------
    low : ndarray
        :func:`low_terms` of the block DCT.
    quality : int
        The JPEG quality whose tables requantize.
    texture : ndarray
        :func:`texture_map` of the same blocks.

    Returns
    -------
    ndarray
        (rows, cols) float32 ratio; NaN in blocks too flat to measure.

    References
    ----------
    H. Farid, "Exposing digital forgeries from JPEG ghosts", IEEE TIFS 4(1), 2009;
    N. Krawetz, 2007 (error level analysis).
    """
    err = requant_error(low, quality, N_TERMS)
    out = err / np.maximum(texture, 1e-6)
    out[texture < MIN_TEXTURE] = np.nan
    return out.astype(np.float32)


def _smooth(m: np.ndarray) -> np.ndarray:
    """3x3 mean over valid (non-NaN) blocks."""
    import cv2

    valid = np.isfinite(m).astype(np.float32)
    vals = np.where(np.isfinite(m), m, 0.0).astype(np.float32)
    s = cv2.blur(vals, (3, 3), borderType=cv2.BORDER_REFLECT)
    w = cv2.blur(valid, (3, 3), borderType=cv2.BORDER_REFLECT)
    out = np.full(m.shape, np.nan, np.float32)
    ok = w >= 0.34
    out[ok] = s[ok] / w[ok]
    return out


def robust_z(m: np.ndarray, direction: int) -> np.ndarray:
    """Robust z-scores of a map.

    Parameters
    ----------
    m : ndarray
        A map (NaN where unmeasured).
    direction : int
        +1 to score high values, -1 low values.

    Returns
    -------
    ndarray
        float32 ``direction * (m - median) / (1.4826 MAD)`` over the finite entries
        (the MAD floored at 2% of the median); 0 where ``m`` is not finite, and all
        0 when fewer than 16 entries are finite.
    """
    finite = m[np.isfinite(m)]
    if finite.size < 16:
        return np.zeros(m.shape, np.float32)
    if finite.size > 50_000:  # the median of a regular subsample is plenty
        finite = finite[:: finite.size // 50_000]
    med = float(np.median(finite))
    mad = float(np.median(np.abs(finite - med))) * 1.4826
    mad = max(mad, 0.02 * abs(med), 1e-4)
    z = direction * (m - med) / mad
    return np.where(np.isfinite(z), z, 0.0).astype(np.float32)


def outlier_regions(
    m: np.ndarray,
    direction: int,
    origin: tuple[int, int] = (0, 0),
    z_threshold: float = 4.0,
    min_fraction: float = 0.01,
    min_blocks: int = 24,
    max_fraction: float = 0.5,
    block: int = 8,
    smooth: bool = True,
) -> tuple[list[Region], np.ndarray]:
    """Connected regions whose smoothed map value is a robust outlier.

    Parameters
    ----------
    m : ndarray
        A map of blocks or tiles (NaN where unmeasured).
    direction : int
        +1 looks for high values (error levels), -1 for low values (ghost minima).
    origin : tuple of int
        (y, x) pixel offset of the map's first cell.
    z_threshold : float
        Robust z a cell needs.
    min_fraction, max_fraction : float
        Smallest and largest share of the image a region may cover.
    min_blocks : int
        Cells a region needs.
    block : int
        Cell side in pixels.
    smooth : bool
        Average over 3x3 cells first (block maps; tile maps are already aggregated).

    Returns
    -------
    regions : list of Region
        Ordered by score x blocks, largest first.
    z : ndarray
        The z map.

    References
    ----------
    H. Farid, IEEE TIFS 4(1), 2009 (ghost regions); N. Krawetz, 2007.
    """
    import cv2

    sm = _smooth(m) if smooth else m
    z = robust_z(sm, direction)
    n_valid = int(np.isfinite(m).sum())
    total = m.size
    if n_valid < max(min_blocks * 4, 64):
        return [], z
    mask: Any = (z > z_threshold).astype(np.uint8)
    if not mask.any():
        return [], z
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    regions: list[Region] = []
    need = max(min_blocks, int(min_fraction * total))
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < need or area > max_fraction * total:
            continue
        zin = z[labels == i]
        oy, ox = origin
        box = (ox + x * block, oy + y * block, ox + (x + w) * block, oy + (y + h) * block)
        cells = (y, x, y + h, x + w)
        regions.append(Region(box, area, area / total, float(np.median(zin)), cells))
    regions.sort(key=lambda r: -r.score * r.blocks)
    return regions, z


def heatmap(
    m: np.ndarray, shape: tuple[int, int], origin: tuple[int, int] = (0, 0), cell: int = 8
) -> np.ndarray:
    """An RGB heatmap, at full image size, of a map of cells.

    Parameters
    ----------
    m : ndarray
        A map of ``cell``-pixel cells (NaN shows dark).
    shape : tuple of int
        (height, width) of the image.
    origin : tuple of int
        (y, x) of the map's first cell.
    cell : int
        Cell side in pixels.

    Returns
    -------
    ndarray
        H x W x 3 uint8, the map scaled between its 2nd and 98th percentiles (inferno).
    """
    import cv2

    finite = m[np.isfinite(m)]
    lo, hi = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    norm = np.where(np.isfinite(m), (m - lo) / max(hi - lo, 1e-6), 0.0)
    small = (np.clip(norm, 0, 1) * 255).astype(np.uint8)
    colored = cv2.applyColorMap(small, cv2.COLORMAP_INFERNO)
    colored = cv2.cvtColor(colored, cv2.COLOR_BGR2RGB)
    h, w = shape
    big = cv2.resize(
        colored, (small.shape[1] * cell, small.shape[0] * cell), interpolation=cv2.INTER_NEAREST
    )
    out = np.zeros((h, w, 3), np.uint8)
    oy, ox = origin
    hh, ww = min(h - oy, big.shape[0]), min(w - ox, big.shape[1])
    out[oy : oy + hh, ox : ox + ww] = big[:hh, :ww]
    return out
