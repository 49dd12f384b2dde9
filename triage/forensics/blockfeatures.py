"""Per-tile features for local tamper detection: each tile against its own image.

An edit is a local departure: a pasted or retouched region carries another noise
level, another blocking grid, another compression history than the photo around it.
These functions measure a handful of such statistics per 8x8 block on the luma
plane, pool them into tiles, and express every tile both as a value and as a
deviation from the image's own median, so that a model can learn "this tile does
not look like the rest of this photo" rather than "this photo was re-saved".

All functions are pure and vectorised (no per-block Python loops).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 8
TILE = 32  # pixels; 4 x 4 JPEG blocks per tile
ELA_QUALITY = 85
_EPS = 1e-3

# The per-tile statistics, in the order of the first axis of ``tile_statistics``.
STATISTICS = ("residual", "gradient", "blockiness", "zeros", "ela", "chroma")
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{s}_{v}" for s in STATISTICS for v in ("tile", "ring", "dev", "ring_dev")),
    *(f"{s}_median" for s in STATISTICS),
    "noise_vs_content",
    "brightness",
    "clipped",
)


@dataclass(frozen=True)
class TileFeatures:
    """Features of every tile: ``values`` is (rows, cols, n_features) float32."""

    values: np.ndarray
    tile: int

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.values.shape[0]), int(self.values.shape[1])


def _dct_matrix() -> np.ndarray:
    k = np.arange(BLOCK)
    m = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * BLOCK)) * np.sqrt(2 / BLOCK)
    m[0] /= np.sqrt(2)
    return m.astype(np.float32)


def _blocks(plane: np.ndarray) -> np.ndarray:
    """(rows, cols, 8, 8) view of a plane cropped to whole blocks."""
    h, w = plane.shape[0] // BLOCK * BLOCK, plane.shape[1] // BLOCK * BLOCK
    p = plane[:h, :w]
    return p.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).swapaxes(1, 2)


def block_dct(gray: np.ndarray, terms: int = BLOCK) -> np.ndarray:
    """Orthonormal 2-D DCT of every 8x8 block on the (0, 0) grid.

    Parameters
    ----------
    gray : ndarray, shape (H, W)
        Luma in 0..255.
    terms : int
        Keep the lowest ``terms`` x ``terms`` frequencies only (cheaper).

    Returns
    -------
    ndarray, shape (H // 8, W // 8, terms, terms)
        DCT-II coefficients of each block, level-shifted by 128 as JPEG does.

    References
    ----------
    .. [1] ITU-T T.81 (JPEG), Annex A.3.3.
    """
    d = _dct_matrix()[:terms]
    h, w = gray.shape[0] // BLOCK, gray.shape[1] // BLOCK
    x = (gray[: h * BLOCK, : w * BLOCK].astype(np.float32) - 128.0).reshape(h, BLOCK, w, BLOCK)
    flat = np.ascontiguousarray(x.transpose(0, 2, 1, 3)).reshape(h * w, BLOCK * BLOCK)
    # One GEMM against the separable basis kron(D, D): c[u, v] = sum_ij D[u,i] x[i,j] D[v,j].
    basis = np.kron(d, d).T.astype(np.float32)  # (64, terms * terms)
    return (flat @ basis).reshape(h, w, terms, terms)


def _block_mean(plane: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean of every 8x8 block (an exact area resize by the integer factor 8)."""
    import cv2

    p = np.ascontiguousarray(plane[: rows * BLOCK, : cols * BLOCK], dtype=np.float32)
    return cv2.resize(p, (cols, rows), interpolation=cv2.INTER_AREA)


def block_statistics(
    gray: np.ndarray, ela: np.ndarray | None = None, chroma: np.ndarray | None = None
) -> np.ndarray:
    """Six statistics per 8x8 block: an array of shape (6, H // 8, W // 8).

    Parameters
    ----------
    gray : ndarray, shape (H, W)
        Luma in 0..255 at the file's native resolution (the JPEG grid must be intact).
    ela : ndarray, shape (H, W), optional
        Absolute difference between ``gray`` and its re-compression (error level).
    chroma : ndarray, shape (H, W), optional
        A chroma plane (e.g. Cr) at the same size.

    Returns
    -------
    ndarray, shape (6, rows, cols)
        In the order of :data:`STATISTICS`: log mean absolute high-pass residual (the
        3x3 "KB" filter of the SRM set [1]_, a local noise level as in [2]_), log mean
        gradient magnitude (content), log ratio of the luma step across block
        boundaries to the step inside blocks (blocking artifacts on the aligned grid,
        [3]_), share of near-zero low-frequency AC coefficients (quantization
        coarseness, as the DCT stream of [4]_ reads it), log mean error level, and log
        mean chroma residual.

    References
    ----------
    .. [1] J. Fridrich and J. Kodovsky, "Rich models for steganalysis of digital
       images", IEEE TIFS 7(3), 2012.
    .. [2] J. Immerkaer, "Fast noise variance estimation", CVIU 64(2), 1996.
    .. [3] W. Li, Y. Yuan and N. Yu, "Passive detection of doctored JPEG image via
       block artifact grid extraction", Signal Processing 89(9), 2009.
    .. [4] M.-J. Kwon et al., "Learning JPEG compression artifacts for image
       manipulation detection and localization", IJCV 130, 2022.
    """
    import cv2

    g = gray.astype(np.float32)
    kb = np.array([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], np.float32) / 4.0
    residual = np.abs(cv2.filter2D(g, -1, kb, borderType=cv2.BORDER_REFLECT))
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.abs(gx) + np.abs(gy)
    rows, cols = g.shape[0] // BLOCK, g.shape[1] // BLOCK
    out = np.zeros((len(STATISTICS), rows, cols), np.float32)
    out[0] = np.log(_block_mean(residual, rows, cols) + _EPS)
    out[1] = np.log(_block_mean(grad, rows, cols) + _EPS)
    out[2] = _blockiness(g, rows, cols)
    low = block_dct(g, 4).reshape(rows, cols, 16)[:, :, 1:]
    out[3] = (np.abs(low) < 1.0).mean(axis=2)
    if ela is not None:
        out[4] = np.log(_block_mean(ela, rows, cols) + _EPS)
    if chroma is not None:
        c = np.abs(cv2.filter2D(chroma.astype(np.float32), -1, kb, borderType=cv2.BORDER_REFLECT))
        out[5] = np.log(_block_mean(c, rows, cols) + _EPS)
    return out


def _blockiness(g: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Log ratio of the mean absolute step across each block's right and bottom
    boundary to the mean step between its middle columns and rows."""
    h, w = rows * BLOCK, cols * BLOCK
    p = np.pad(g[:h, :w], ((0, 1), (0, 1)), mode="edge")
    right = np.abs(p[:h, 7:w:8] - p[:h, 8 : w + 1 : 8])  # (h, cols)
    mid_x = np.abs(p[:h, 3:w:8] - p[:h, 4:w:8])
    below = np.abs(p[7:h:8, :w] - p[8 : h + 1 : 8, :w])  # (rows, w)
    mid_y = np.abs(p[3:h:8, :w] - p[4:h:8, :w])
    edge = right.reshape(rows, BLOCK, cols).mean(axis=1) + below.reshape(rows, cols, BLOCK).mean(
        axis=2
    )
    inner = mid_x.reshape(rows, BLOCK, cols).mean(axis=1) + mid_y.reshape(rows, cols, BLOCK).mean(
        axis=2
    )
    return np.log((edge + 0.5) / (inner + 0.5)).astype(np.float32)


def _pool(stat: np.ndarray, per_tile: int) -> np.ndarray:
    r, c = stat.shape[-2] // per_tile, stat.shape[-1] // per_tile
    s = stat[..., : r * per_tile, : c * per_tile]
    return s.reshape(*s.shape[:-2], r, per_tile, c, per_tile).mean(axis=(-3, -1))


def _ring(t: np.ndarray) -> np.ndarray:
    """Mean over each tile's 3x3 neighbourhood (the tile and its ring)."""
    import cv2

    return np.stack([cv2.blur(p, (3, 3), borderType=cv2.BORDER_REFLECT) for p in t])


def tile_features(
    gray: np.ndarray,
    ela: np.ndarray | None = None,
    chroma: np.ndarray | None = None,
    tile: int = TILE,
) -> TileFeatures:
    """Per-tile features (see :data:`FEATURE_NAMES`) for a luma plane.

    Parameters
    ----------
    gray : ndarray, shape (H, W)
        Luma in 0..255 at native resolution.
    ela, chroma : ndarray, optional
        Error-level and chroma planes, as for :func:`block_statistics`.
    tile : int
        Tile side in pixels, a multiple of 8.

    Returns
    -------
    TileFeatures
        ``values`` of shape (H // tile, W // tile, len(FEATURE_NAMES)). Each statistic
        appears as the tile's value, its 3x3-tile neighbourhood mean, and both minus
        the image median; then the image medians, the tile's residual left after a
        per-image linear fit of noise on content (noise that does not match the
        image's own noise-versus-content relation, after Liu et al. [1]_), mean
        brightness and the share of clipped pixels.

    References
    ----------
    .. [1] C. Liu, W. T. Freeman, R. Szeliski and S. B. Kang, "Noise estimation from
       a single image", CVPR 2006.
    """
    per = tile // BLOCK
    stats = _pool(block_statistics(gray, ela, chroma), per)
    rows, cols = stats.shape[1:]
    ring = _ring(stats) if rows and cols else stats
    med = np.median(stats.reshape(len(STATISTICS), -1), axis=1) if rows and cols else np.zeros(6)
    med = med.astype(np.float32)[:, None, None]
    parts = []
    for i in range(len(STATISTICS)):
        parts += [stats[i], ring[i], stats[i] - med[i], ring[i] - med[i]]
    parts += [np.broadcast_to(med[i], (rows, cols)) for i in range(len(STATISTICS))]
    parts.append(_noise_vs_content(stats[0], stats[1]))
    g = gray[: rows * tile, : cols * tile].astype(np.float32)
    parts.append(_pool(g[None], tile)[0] / 255.0)
    clipped = ((g <= 2) | (g >= 253)).astype(np.float32)
    parts.append(_pool(clipped[None], tile)[0])
    values = np.stack(parts, axis=-1).astype(np.float32)
    return TileFeatures(values, tile)


def _noise_vs_content(residual: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    if residual.size < 4:
        return np.zeros_like(residual)
    x, y = gradient.ravel(), residual.ravel()
    a = np.vstack([x, np.ones_like(x)]).T
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    return (residual - (coef[0] * gradient + coef[1])).astype(np.float32)


def image_planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Luma, its error level at :data:`ELA_QUALITY`, and the Cr chroma plane.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8

    Returns
    -------
    (gray, ela, cr) : tuple of ndarray, each (H, W)
        ``ela`` is the absolute difference between the luma and its JPEG
        re-compression at quality :data:`ELA_QUALITY` (error level analysis, after
        N. Krawetz, "A picture's worth", Hacker Factor 2007).
    """
    import cv2

    ycc = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YCrCb)
    gray = ycc[:, :, 0]
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, ELA_QUALITY])
    if not ok:
        raise RuntimeError("JPEG re-encoding failed")
    again = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if again is None:
        raise RuntimeError("JPEG re-decoding failed")
    ela = cv2.absdiff(gray, again)
    return gray, ela, ycc[:, :, 1]


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


def rgb_tile_features(rgb: np.ndarray, tile: int = TILE) -> TileFeatures:
    """:func:`tile_features` of an RGB image (luma, its error level and Cr).

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        At native resolution: the JPEG grid must not have been resampled.
    tile : int
        Tile side in pixels.

    Returns
    -------
    TileFeatures
    """
    gray, ela, cr = image_planes(rgb)
    return tile_features(gray, ela, cr, tile)


def image_score(prob: np.ndarray) -> float:
    """Image-level score of a tile probability map: the highest 3x3-tile mean.

    Parameters
    ----------
    prob : ndarray, shape (rows, cols)

    Returns
    -------
    float
        0 for an empty map. Smoothing first means one stray tile cannot carry it.
    """
    import cv2

    if prob.size == 0:
        return 0.0
    if min(prob.shape) < 3:
        return float(prob.mean())
    return float(cv2.blur(prob.astype(np.float32), (3, 3), borderType=cv2.BORDER_REFLECT).max())
