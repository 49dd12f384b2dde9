"""From a tile probability map to an image score and regions.

The tile model (:mod:`triage.forensics.blockfeatures` + lightgbm) says, tile by
tile, how unlike the rest of the photo each tile looks. The image-level score is a
second-stage model over statistics of the whole map (its top values, where they
stand against the map's own median and spread, the size, strength and shape of its
largest hot component), as stacked generalisation does (Wolpert 1992): it is
fitted on out-of-fold maps of the training photos (:mod:`triage.train.tamper`), so
it learns how the tile model behaves on photos it has never seen. Regions are read
with a threshold relative to the photo's own map (half-way from its median to its
highest 3x3 mean, the fraction chosen on held-out photos) rather than one fixed
probability for every photo.

All functions are pure and vectorised.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAP_STATISTICS: tuple[str, ...] = (
    "max3",  # highest 3x3-tile mean
    "max1",  # highest tile
    "top1",  # mean of the top 1% of tiles (at least 2)
    "top5",  # mean of the top 5% (at least 4)
    "median",
    "p90",
    "spread",  # p90 - p10
    "max3_rel",  # max3 - median
    "max3_z",  # (max3 - median) / (p90 - p10 + 0.05)
    "hot3",  # share of tiles >= 0.3
    "hot5",  # share of tiles >= 0.5
    "comp_area",  # largest component of the smoothed map >= half-way from median to max3
    "comp_mean",  # its mean probability
    "comp_fill",  # its area over its bounding box
    "comp_count",  # number of such components (log1p)
    "log_tiles",
)


def _smooth(p: np.ndarray, k: int) -> np.ndarray:
    import cv2

    if min(p.shape) < k:
        return np.full_like(p, float(p.mean()))
    out: np.ndarray = cv2.blur(p, (k, k), borderType=cv2.BORDER_REFLECT)
    return out


def map_statistics(prob: np.ndarray) -> np.ndarray:
    """Image-level statistics of a tile probability map (see :data:`MAP_STATISTICS`).

    Parameters
    ----------
    prob : ndarray, shape (rows, cols)
        Per-tile probability of the tile model.

    Returns
    -------
    ndarray, shape (len(MAP_STATISTICS),), float32
        All zeros for an empty map.

    References
    ----------
    .. [1] D. H. Wolpert, "Stacked generalization", Neural Networks 5(2), 1992.
    """
    import cv2

    out = np.zeros(len(MAP_STATISTICS), np.float32)
    if prob.size == 0:
        return out
    p = prob.astype(np.float32)
    flat = np.sort(p.ravel())
    n = flat.size
    s3 = _smooth(p, 3)
    max3 = float(s3.max())
    med = float(np.median(flat))
    p10, p90 = float(np.quantile(flat, 0.1)), float(np.quantile(flat, 0.9))
    level = med + 0.5 * (max3 - med)
    hot = (s3 >= level).astype(np.uint8)
    k, labels, st, _ = cv2.connectedComponentsWithStats(hot, connectivity=8)
    comp_area = comp_mean = comp_fill = 0.0
    if k > 1:
        big = 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))
        area = float(st[big, cv2.CC_STAT_AREA])
        box = float(st[big, cv2.CC_STAT_WIDTH] * st[big, cv2.CC_STAT_HEIGHT])
        comp_area = area / n
        comp_mean = float(p[labels == big].mean())
        comp_fill = area / max(box, 1.0)
    out[:] = (
        max3,
        float(flat[-1]),
        float(flat[-max(2, n // 100) :].mean()),
        float(flat[-max(4, n // 20) :].mean()),
        med,
        p90,
        p90 - p10,
        max3 - med,
        (max3 - med) / (p90 - p10 + 0.05),
        float((flat >= 0.3).mean()),
        float((flat >= 0.5).mean()),
        comp_area,
        comp_mean,
        comp_fill,
        float(np.log1p(max(k - 1, 0))),
        float(np.log(n)),
    )
    return out


def image_probability(prob: np.ndarray, model: Any) -> float:
    """Image-level score: the second-stage ``model`` over :func:`map_statistics`.

    Parameters
    ----------
    prob : ndarray, shape (rows, cols)
    model : lightgbm.Booster
        Fitted on :data:`MAP_STATISTICS` of out-of-fold maps.

    Returns
    -------
    float
        0 for an empty map.
    """
    if prob.size == 0:
        return 0.0
    return float(model.predict(map_statistics(prob)[None, :], num_threads=1)[0])


def relative_threshold(prob: np.ndarray, fraction: float, floor: float = 0.0) -> float:
    """Region threshold of one map: ``fraction`` of the way from the map's median
    to its highest 3x3-tile mean, and at least ``floor``.

    Parameters
    ----------
    prob : ndarray, shape (rows, cols)
    fraction : float
    floor : float

    Returns
    -------
    float
        1 for an empty map (no region).
    """
    if prob.size == 0:
        return 1.0
    p = prob.astype(np.float32)
    med = float(np.median(p))
    top = float(_smooth(p, 3).max())
    return max(floor, med + fraction * (top - med))


def peak_region(prob: np.ndarray, threshold: float, min_tiles: int = 2) -> np.ndarray:
    """The region of a map that holds its peak: the connected component of tiles at
    or above ``threshold`` (of at least ``min_tiles`` tiles) that contains the
    highest 3x3-tile mean among them.

    One edit per photo is the common case, and the strongest component is where the
    model's evidence is; weaker components beside it are mostly the clean tiles that
    look most unlike their photo (measured on held-out photos: the region IoU rises,
    see the tamper card).

    Parameters
    ----------
    prob : ndarray, shape (rows, cols)
        Per-tile edit probabilities (the tile model's map).
    threshold : float
        Tiles at or above it belong to a component.
    min_tiles : int
        Smaller components are dropped (``blockfeatures.region_mask``).

    Returns
    -------
    ndarray of bool
        Same shape as ``prob``; all False when no component qualifies.

    References
    ----------
    .. [1] D. Cozzolino, G. Poggi and L. Verdoliva, "Splicebuster: a new blind image
       splicing detector", WIFS 2015 (one localized region read from a map).
    """
    import cv2

    from triage.forensics.blockfeatures import region_mask

    mask = region_mask(prob, threshold, min_tiles)
    if not mask.any():
        return mask
    _, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    peak = int(np.argmax(np.where(mask, _smooth(prob.astype(np.float32), 3), -1.0)))
    out: np.ndarray = labels == labels.flat[peak]
    return out


CELLS = 4  # cells per tile side in a refined region: one per sampled JPEG block


def refined_region(
    prob: np.ndarray, region: np.ndarray, threshold: float, cells: int = CELLS
) -> np.ndarray:
    """The peak region's border drawn at the block level instead of the tile grid.

    The tile map is interpolated bilinearly between tile centres onto ``cells`` x
    ``cells`` cells per tile (by default one per JPEG block the features sampled: 8 px
    on photos up to 2.5 MP, ``8 * step`` px above) in a window of one tile around
    ``region``, and the region becomes the cells at or above ``threshold`` connected to
    it. A tile's probability is read as the value at its centre, so a tile that is half
    edited and stands next to a hot tile keeps the half that faces it: the border
    follows the map's slope rather than the tile boundary (measured on held-out photos:
    the region's pixel IoU with the edit masks rises, see the tamper card).

    Parameters
    ----------
    prob : ndarray, shape (rows, cols)
        Per-tile edit probabilities.
    region : ndarray of bool, shape (rows, cols)
        The tile region to refine (:func:`peak_region` at ``threshold``).
    threshold : float
        The region's threshold on ``prob``.
    cells : int
        Cells per tile side.

    Returns
    -------
    ndarray of bool, shape (rows * cells, cols * cells)
        The refined region (all False when ``region`` is empty).

    References
    ----------
    .. [1] T. Bianchi and A. Piva, "Image forgery localization via block-grained
       analysis of JPEG artifacts", IEEE TIFS 7(3), 2012 (localization at the
       block level).
    """
    import cv2

    rows, cols = prob.shape
    k = max(1, cells)
    out = np.zeros((rows * k, cols * k), bool)
    if not region.any():
        return out
    ys, xs = np.nonzero(region)
    r0, r1 = max(0, int(ys.min()) - 1), min(rows, int(ys.max()) + 2)
    c0, c1 = max(0, int(xs.min()) - 1), min(cols, int(xs.max()) + 2)
    # The window's own tiles plus one more ring, so the interpolation at its edge
    # reads the tiles beyond it as the whole map's would.
    pr0, pr1, pc0, pc1 = max(0, r0 - 1), min(rows, r1 + 1), max(0, c0 - 1), min(cols, c1 + 1)
    patch = prob[pr0:pr1, pc0:pc1].astype(np.float32)
    fine = cv2.resize(patch, ((pc1 - pc0) * k, (pr1 - pr0) * k), interpolation=cv2.INTER_LINEAR)
    fine = fine[(r0 - pr0) * k : (r1 - pr0) * k, (c0 - pc0) * k : (c1 - pc0) * k]
    hot = (fine >= threshold).astype(np.uint8)
    whole = np.kron(region[r0:r1, c0:c1], np.ones((k, k), bool))
    seed = whole & (hot > 0)
    if not seed.any():  # cannot happen for a region at this threshold; keep the tiles
        out[r0 * k : r1 * k, c0 * k : c1 * k] = whole
        return out
    _, labels = cv2.connectedComponents(hot, connectivity=8)
    keep = np.unique(labels[seed])
    out[r0 * k : r1 * k, c0 * k : c1 * k] = np.isin(labels, keep[keep > 0])
    return out


def ensemble_map(maps: list[np.ndarray]) -> np.ndarray:
    """The mean of several tile models' maps of one image (the ensemble's map).

    Parameters
    ----------
    maps : list of ndarray, each shape (rows, cols)
        Tile probabilities of the same image from each member model.

    Returns
    -------
    ndarray, shape (rows, cols), float32
        Their mean: the map whose regions are reported.

    References
    ----------
    L. Breiman, "Bagging predictors", Machine Learning 24, 1996 (averaging models
    fitted on resampled data lowers the variance of the prediction).
    """
    return np.mean(np.stack(maps), axis=0).astype(np.float32)


def ensemble_probability(maps: list[np.ndarray], image_models: list[Any]) -> float:
    """The mean of the members' image probabilities, each member's image model over the
    statistics of its own tile map (the map it was fitted on).

    Parameters
    ----------
    maps : list of ndarray
        Each member's tile map of the image.
    image_models : list of lightgbm.Booster
        Each member's second-stage model, in the same order.

    Returns
    -------
    float
        The ensemble's image score in [0, 1].

    References
    ----------
    L. Breiman, "Bagging predictors", Machine Learning 24, 1996.
    """
    return float(
        np.mean([image_probability(m, im) for m, im in zip(maps, image_models, strict=True)])
    )
