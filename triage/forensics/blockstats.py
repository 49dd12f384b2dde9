"""Per-block statistics of one picture: sharpness, compression blocking, colour.

Each function maps an image to a small grid (one value per ``block`` x ``block``
tile), so that a region can be compared with its surroundings, and the same
region across video frames, without keeping the pixels.

References
----------
J. L. Pech-Pacheco, G. Cristobal, J. Chamorro-Martinez, J. Fernandez-Valdivia,
"Diatom autofocusing in brightfield microscopy: a comparative study", ICPR 2000
(variance of the Laplacian as sharpness).
Z. Wang, A. C. Bovik, B. L. Evans, "Blind measurement of blocking artifacts in
images", ICIP 2000 (steps at block boundaries against steps elsewhere).
W. Luo, Z. Qu, J. Huang, G. Qiu, "A novel method for detecting cropped and
recompressed image block", ICASSP 2007 (a block grid at its own phase betrays a
pasted, separately compressed region).
"""

from __future__ import annotations

import numpy as np


def _tiles(a: np.ndarray, block: int) -> np.ndarray:
    h, w = a.shape[:2]
    ny, nx = h // block, w // block
    a = a[: ny * block, : nx * block]
    return a.reshape(ny, block, nx, block, *a.shape[2:]).swapaxes(1, 2)


def sharpness_map(gray: np.ndarray, block: int = 32) -> np.ndarray:
    """log10 of the variance of the Laplacian per block.

    Parameters
    ----------
    gray : (H, W) array
        Luma, 0..255.
    block : int
        Tile side in pixels.

    Returns
    -------
    (H // block, W // block) float32 array
    """
    import cv2

    lap = cv2.Laplacian(np.asarray(gray, np.float32), cv2.CV_32F, ksize=1)
    t = _tiles(lap, block)
    return np.log10(t.var(axis=(2, 3)) + 1.0).astype(np.float32)


def blockiness_map(gray: np.ndarray, block: int = 32, grid: int = 8, pool: int = 1) -> np.ndarray:
    """Strength of an 8-pixel block grid per tile, at whatever phase it sits.

    For each tile and each period of the grid inside it, the mean absolute
    horizontal (vertical) steps are taken per position modulo ``grid`` and divided
    by that period's median step. The periods of the tile and of its neighbours
    within ``pool`` tiles are pooled (a pasted region's tiles share one grid; after
    a video codec has re-quantized and deblocked it, one tile's three periods are
    too few to show it); the value is the median over the pooled periods at the
    best phase, the weaker of the horizontal and vertical directions (1 = no grid).
    The median, not the mean, so that a lone straight edge in the content, which
    lights one period, does not make a grid. Video codecs deblock their own grid; a
    region pasted from a JPEG or a differently encoded source keeps a grid of its
    own.

    Parameters
    ----------
    gray : (H, W) array
        Luma, 0..255.
    block : int
        Tile side in pixels (a multiple of ``grid``).
    grid : int
        Transform block size to look for.
    pool : int
        Neighbouring tiles on each side whose periods join a tile's (0: the tile
        alone).

    Returns
    -------
    (H // block, W // block) float32 array, >= 1

    References
    ----------
    Z. Wang, A. C. Bovik, B. L. Evans, "Blind measurement of blocking artifacts in
    images", ICIP 2000; W. Luo, Z. Qu, J. Huang, G. Qiu, "A novel method for
    detecting cropped and recompressed image block", ICASSP 2007.
    """
    g = np.asarray(gray, np.float32)
    dh = np.abs(np.diff(g, axis=1, append=g[:, -1:]))
    dv = np.abs(np.diff(g, axis=0, append=g[-1:, :]))
    th, tv = _tiles(dh, block), _tiles(dv, block)
    ny, nx = th.shape[:2]
    k = block // grid
    # Step profile per period of the grid inside each tile: (ny, nx, k, grid).
    ph = th.mean(axis=2).reshape(ny, nx, k, grid)
    pv = tv.mean(axis=3).reshape(ny, nx, k, grid)
    return np.minimum(_grid_strength(ph, pool), _grid_strength(pv, pool)).astype(np.float32)


def _grid_strength(prof: np.ndarray, pool: int) -> np.ndarray:
    """Median over the pooled periods of the step at the best phase over the
    period's median step: (ny, nx, k, grid) -> (ny, nx)."""
    ny, nx = prof.shape[:2]
    r = prof / np.maximum(np.median(prof, axis=3, keepdims=True), 0.5)
    if pool > 0:
        pad = np.pad(r, ((pool, pool), (pool, pool), (0, 0), (0, 0)), mode="edge")
        side = 2 * pool + 1
        r = np.concatenate(
            [pad[dy : dy + ny, dx : dx + nx] for dy in range(side) for dx in range(side)], axis=2
        )
    return np.maximum(np.median(r, axis=2).max(axis=2), 1.0)


def chroma_map(rgb: np.ndarray, block: int = 32) -> np.ndarray:
    """Mean chroma (Cb, Cr minus 128) per tile.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 array
    block : int
        Tile side in pixels.

    Returns
    -------
    (H // block, W // block, 2) float32 array
    """
    import cv2

    ycc = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YCrCb)
    # OpenCV orders the planes Y, Cr, Cb.
    t = _tiles(ycc[..., [2, 1]].astype(np.float32), block)
    return (t.mean(axis=(2, 3)) - 128.0).astype(np.float32)


def box_contrast(
    gray: np.ndarray, box: tuple[int, int, int, int], ring: float = 0.5
) -> dict[str, float]:
    """Noise level and sharpness inside a box against a ring around it.

    Parameters
    ----------
    gray : (H, W) array
        Luma, 0..255.
    box : (x0, y0, x1, y1)
        Pixel box, x1/y1 exclusive.
    ring : float
        Ring width as a share of the box side.

    Returns
    -------
    dict
        ``noise_log_ratio`` (log of the robust residual sigma inside over the ring),
        ``sharp_log_ratio`` (log10 Laplacian-variance difference), ``inside_sigma``,
        ``edge_log_ratio`` (the same noise ratio for a band across the box edge, 12% of
        the box side each way: where a pasted face or object is blended in).
    """
    import cv2

    from triage.forensics.noise import noise_residual

    h, w = gray.shape
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    rx, ry = max(4, int(bw * ring)), max(4, int(bh * ring))
    X0, Y0, X1, Y1 = max(0, x0 - rx), max(0, y0 - ry), min(w, x1 + rx), min(h, y1 + ry)
    g = np.asarray(gray[Y0:Y1, X0:X1], np.float32)
    res = np.abs(noise_residual(g))
    lap = cv2.Laplacian(g, cv2.CV_32F, ksize=1)
    inside = np.zeros(g.shape, bool)
    inside[y0 - Y0 + 2 : y1 - Y0 - 2, x0 - X0 + 2 : x1 - X0 - 2] = True
    outside = ~inside
    outside[max(0, y0 - Y0 - 2) : y1 - Y0 + 2, max(0, x0 - X0 - 2) : x1 - X0 + 2] = False
    if inside.sum() < 64 or outside.sum() < 64:
        return {}
    bx, by = max(2, int(0.12 * bw)), max(2, int(0.12 * bh))
    edge = np.zeros(g.shape, bool)
    edge[max(0, y0 - Y0 - by) : y1 - Y0 + by, max(0, x0 - X0 - bx) : x1 - X0 + bx] = True
    edge[y0 - Y0 + by : y1 - Y0 - by, x0 - X0 + bx : x1 - X0 - bx] = False
    s_in = float(np.median(res[inside])) * 1.4826 + 0.05
    s_out = float(np.median(res[outside])) * 1.4826 + 0.05
    s_edge = float(np.median(res[edge])) * 1.4826 + 0.05 if edge.any() else s_out
    return {
        "edge_log_ratio": float(np.log(s_edge / s_out)),
        "noise_log_ratio": float(np.log(s_in / s_out)),
        "sharp_log_ratio": float(
            np.log10(lap[inside].var() + 1.0) - np.log10(lap[outside].var() + 1.0)
        ),
        "inside_sigma": s_in,
    }


def residual_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of the noise residuals of two consecutive frames on flat areas.

    Sensor noise is drawn afresh for every frame, so the residuals of two frames
    correlate only where scene texture leaks into them; smooth areas are kept and a
    global shift is removed first. Generated video often carries noise that moves
    with the content or stays put from frame to frame.

    Parameters
    ----------
    a, b : (H, W) arrays
        Luma crops of two consecutive frames, same shape.

    Returns
    -------
    float
        Pearson correlation over flat pixels (NaN when too few).

    References
    ----------
    J. Lukas, J. Fridrich, M. Goljan, "Digital camera identification from sensor
    pattern noise", IEEE TIFS 1(2), 2006 (noise residuals; temporal noise is
    independent between exposures).
    """
    import cv2

    from triage.forensics.noise import noise_residual, structure_mask

    fa, fb = np.asarray(a, np.float32), np.asarray(b, np.float32)
    (dx, dy), _ = cv2.phaseCorrelate(fa, fb)
    m = np.array([[1, 0, -dx], [0, 1, -dy]], np.float32)
    moved = cv2.warpAffine(fb, m, (fb.shape[1], fb.shape[0]), flags=cv2.INTER_LINEAR)
    ra, rb = noise_residual(fa), noise_residual(moved)
    flat = ~(structure_mask(fa) | structure_mask(moved))
    pad = int(np.ceil(max(abs(dx), abs(dy)))) + 2
    flat[:pad], flat[-pad:], flat[:, :pad], flat[:, -pad:] = False, False, False, False
    clipped = (fa <= 3) | (fa >= 252)
    flat &= ~clipped
    if flat.sum() < 500:
        return float("nan")
    x, y = ra[flat], rb[flat]
    x, y = x - x.mean(), y - y.mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / den) if den > 0 else float("nan")
