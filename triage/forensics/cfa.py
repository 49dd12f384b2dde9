"""Colour-filter-array (demosaicing) traces per tile.

A camera records one colour per photosite through a Bayer filter and interpolates the
other two. The green it records sits on one quincunx lattice of the pixel grid, the
green it interpolates on the other, and an interpolated value is close to the mean of
its four neighbours while a recorded one is not: the residual of a four-neighbour
predictor has less energy on one lattice than on the other, with a phase the whole
photo shares. A region pasted from another photo (resized, or on another phase),
filled by inpainting, or blurred loses that difference or turns it over; a resize of
the whole photo erases it everywhere (then these features say nothing). After
Popescu & Farid 2005 and the local reading of Ferrara et al. 2012.
"""

from __future__ import annotations

import numpy as np

CFA_FEATURE_NAMES = (
    "cfa_tile",
    "cfa_ring",
    "cfa_tile_minus_median",
    "cfa_ring_minus_median",
    "cfa_image_strength",
)
_EPS = 1e-3


def green_lattice_energy(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residual energy of the green channel on each quincunx lattice, per 8x8 block.

    Parameters
    ----------
    blocks : ndarray, shape (..., 8, 8, 3)
        RGB blocks whose first pixel sits at even image coordinates (the JPEG grid).

    Returns
    -------
    even, odd : ndarray, shape (...)
        Sum of squared residuals of a four-neighbour mean predictor of green over the
        block's 6 x 6 interior pixels whose (row + column) is even, and odd.

    References
    ----------
    A. C. Popescu and H. Farid, "Exposing digital forgeries in color filter array
    interpolated images", IEEE Trans. Signal Processing 53(10), 2005.
    """
    g = blocks[..., 1].astype(np.float32)
    e = g[..., 1:-1, 1:-1] - 0.25 * (
        g[..., :-2, 1:-1] + g[..., 2:, 1:-1] + g[..., 1:-1, :-2] + g[..., 1:-1, 2:]
    )
    e *= e
    # Interior pixel (i, j) of the block is (i + 1, j + 1) in it: parity of i + j.
    parity = (np.add.outer(np.arange(6), np.arange(6)) % 2).astype(bool)
    flat = e.reshape(*e.shape[:-2], 36)
    odd_mask = parity.ravel()
    return flat[..., ~odd_mask].sum(axis=-1), flat[..., odd_mask].sum(axis=-1)


def cfa_tile_features(even: np.ndarray, odd: np.ndarray, blocks_per_tile: int = 4) -> np.ndarray:
    """Tile features of the green lattice imbalance (:data:`CFA_FEATURE_NAMES`).

    Parameters
    ----------
    even, odd : ndarray, shape (rows * b, cols * b)
        :func:`green_lattice_energy` of the sampled blocks, in block order.
    blocks_per_tile : int
        Blocks per tile side (``b``).

    Returns
    -------
    ndarray, shape (rows, cols, 5)
        Per tile: log(even / odd) of the energies pooled over its blocks, signed so
        that the photo's own phase (the median over tiles) is positive; the same over
        the 3x3-tile neighbourhood; both minus the signed median; and the median's
        magnitude (how strongly the photo shows the trace at all).

    References
    ----------
    P. Ferrara, T. Bianchi, A. De Rosa and A. Piva, "Image forgery localization via
    fine-grained analysis of CFA artifacts", IEEE TIFS 7(5), 2012.
    """
    import cv2

    b = blocks_per_tile
    rows, cols = even.shape[0] // b, even.shape[1] // b
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols, len(CFA_FEATURE_NAMES)), np.float32)
    pe = even[: rows * b, : cols * b].reshape(rows, b, cols, b).sum(axis=(1, 3))
    po = odd[: rows * b, : cols * b].reshape(rows, b, cols, b).sum(axis=(1, 3))
    ratio = (np.log(pe + _EPS) - np.log(po + _EPS)).astype(np.float32)
    ring_e = cv2.blur(pe.astype(np.float32), (3, 3), borderType=cv2.BORDER_REFLECT)
    ring_o = cv2.blur(po.astype(np.float32), (3, 3), borderType=cv2.BORDER_REFLECT)
    ring = (np.log(ring_e + _EPS) - np.log(ring_o + _EPS)).astype(np.float32)
    med = float(np.median(ratio))
    sign = 1.0 if med >= 0 else -1.0
    parts = [
        sign * ratio,
        sign * ring,
        sign * (ratio - med),
        sign * (ring - med),
        np.full((rows, cols), abs(med), np.float32),
    ]
    return np.stack(parts, axis=-1).astype(np.float32)
