"""Demosaicing traces (triage.forensics.cfa) on generated Bayer mosaics."""

from __future__ import annotations

import cv2
import numpy as np

from triage.forensics.blockfeatures import BLOCKS, _sampled_blocks
from triage.forensics.cfa import CFA_FEATURE_NAMES, cfa_tile_features, green_lattice_energy


def _demosaiced(h: int = 256, w: int = 256, seed: int = 0) -> np.ndarray:
    """A textured scene sampled through an RGGB Bayer filter and demosaiced by OpenCV:
    what a camera's pipeline does before its JPEG."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.uniform(0, 255, (h, w, 3)).astype(np.float32), (0, 0), 2.0)
    scene = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    mosaic = np.zeros((h, w), np.uint8)
    mosaic[0::2, 0::2] = scene[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = scene[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = scene[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = scene[1::2, 1::2, 2]
    return cv2.cvtColor(mosaic, cv2.COLOR_BayerRG2RGB)


def _features(rgb: np.ndarray) -> np.ndarray:
    rows, cols = rgb.shape[0] // 32, rgb.shape[1] // 32
    even, odd = green_lattice_energy(_sampled_blocks(rgb, rows, cols, 1))
    return cfa_tile_features(even, odd, BLOCKS)


def test_a_demosaiced_photo_shows_one_phase_everywhere() -> None:
    feats = _features(_demosaiced())
    assert feats.shape == (8, 8, len(CFA_FEATURE_NAMES))
    assert feats[0, 0, 4] > 0.5  # the photo's trace is strong
    assert (feats[..., 0] > 0).all()  # every tile on the photo's own phase


def test_the_phase_is_the_photos_own() -> None:
    # Shifted by one pixel the lattices swap; the signed features do not change sign.
    rgb = _demosaiced()
    a, b = _features(rgb[:, :-1][:, :224]), _features(rgb[:, 1:][:, :224])
    assert np.allclose(a[..., 4], b[..., 4], atol=0.2)
    assert (b[..., 0] > 0).mean() > 0.9


def test_a_pasted_resized_region_loses_the_trace() -> None:
    rgb = _demosaiced()
    donor = cv2.resize(_demosaiced(seed=1), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    edited = rgb.copy()
    edited[64:128, 96:160] = donor[:64, :64]
    feats = _features(edited)
    inside = feats[2:4, 3:5, 2]
    outside = np.delete(feats[..., 2].ravel(), [2 * 8 + 3, 2 * 8 + 4, 3 * 8 + 3, 3 * 8 + 4])
    assert inside.max() < np.percentile(outside, 5)


def test_empty_grid() -> None:
    empty = np.zeros((0, 0), np.float32)
    assert cfa_tile_features(empty, empty).shape == (0, 0, len(CFA_FEATURE_NAMES))
