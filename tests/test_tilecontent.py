"""The tile features aimed at overlays, retouches and copy-moves
(triage/forensics/tilecontent.py): each reads what its edit does physically."""

from __future__ import annotations

import cv2
import numpy as np

from triage.forensics.tilecontent import (
    block_means,
    content_block_statistics,
    noise_level_residual,
    twin_distance,
)


def _ycc_blocks(rgb: np.ndarray) -> np.ndarray:
    """(N, 8, 8, 3) YCrCb blocks of an RGB image whose sides are multiples of 8."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    h, w = ycc.shape[0] // 8, ycc.shape[1] // 8
    return np.ascontiguousarray(ycc.reshape(h, 8, w, 8, 3).transpose(0, 2, 1, 3, 4)).reshape(
        -1, 8, 8, 3
    )


def test_drawn_text_is_flat_hard_and_saturated_against_noisy_photo() -> None:
    rng = np.random.default_rng(0)
    # A smooth gradient under sensor-like noise, then a red box with white text on it.
    yy, xx = np.mgrid[0:64, 0:128]
    base = np.stack([60 + xx, 80 + yy, 100 + 0 * xx], -1).astype(np.float32)
    photo = np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
    drawn = photo.copy()
    drawn[:, 64:] = (220, 20, 20)
    cv2.putText(drawn, "AB", (70, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 3)
    stats = content_block_statistics(_ycc_blocks(drawn)).reshape(3, 8, 16)
    flat, step, sat = stats
    assert flat[:, 8:].mean() > 0.5 > flat[:, :8].mean()
    # Where the letters' edges are, one step spans most of the block's range.
    edges = step[:, 8:][flat[:, 8:] < 0.95]
    assert edges.size and np.median(edges) > np.median(step[:, :8])
    assert sat[:, 8:].mean() > sat[:, :8].mean() + 1.0


def test_block_means_match_numpy() -> None:
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 256, (50, 8, 8, 3), dtype=np.uint8)
    want = blocks.reshape(50, 64, 3).mean(axis=1)
    assert np.allclose(block_means(blocks), want, atol=1e-4)


def test_blurred_region_reads_below_the_noise_level_function() -> None:
    rng = np.random.default_rng(2)
    brightness = rng.uniform(20, 230, (20, 30)).astype(np.float32)
    noise = (0.01 * brightness + rng.normal(0, 0.05, brightness.shape)).astype(np.float32)
    noise[5:9, 5:9] -= 1.0  # a blurred patch: less noise than its brightness predicts
    r = noise_level_residual(noise, brightness)
    assert r[5:9, 5:9].mean() < -0.8
    assert abs(float(np.median(r))) < 0.05
    assert not noise_level_residual(noise[:3, :3], brightness[:3, :3]).any()


def test_a_copied_tile_has_a_far_twin() -> None:
    rng = np.random.default_rng(3)
    desc = rng.normal(0, 1, (12, 16, 6)).astype(np.float32)
    desc[8:10, 12:14] = desc[1:3, 2:4] + rng.normal(0, 0.01, (2, 2, 6)).astype(np.float32)
    t = twin_distance(desc)
    copied = np.zeros(t.shape, bool)
    copied[8:10, 12:14] = copied[1:3, 2:4] = True
    assert t[copied].max() < t[~copied].min()
    assert not twin_distance(desc[:3, :4]).any()  # too few tiles


def test_content_features_follow_the_block_features_unchanged() -> None:
    from triage.forensics.blockfeatures import (
        CONTENT_FEATURE_NAMES,
        FEATURE_NAMES,
        rgb_tile_features,
    )

    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, (256, 320, 3), dtype=np.uint8)
    plain = rgb_tile_features(rgb).values
    both = rgb_tile_features(rgb, content=True).values
    assert plain.shape[-1] == len(FEATURE_NAMES)
    assert both.shape[-1] == len(FEATURE_NAMES) + len(CONTENT_FEATURE_NAMES)
    assert np.array_equal(both[..., : len(FEATURE_NAMES)], plain)
    assert np.isfinite(both).all()


def test_a_model_fitted_with_content_features_reads_its_columns(monkeypatch) -> None:
    from triage.forensics.blockfeatures import CONTENT_FEATURE_NAMES, FEATURE_NAMES
    from triage.train import tamper as train
    from triage.train.tamper import Sample

    rng = np.random.default_rng(5)
    n = len(FEATURE_NAMES) + len(CONTENT_FEATURE_NAMES)
    samples = []
    for i in range(6):
        feats = rng.normal(0, 1, (8, 8, n)).astype(np.float32)
        share = np.zeros((8, 8), np.float32)
        share[2:5, 2:5] = 1.0
        feats[2:5, 2:5, -3] += 3.0  # separable by a content column only
        samples.append(Sample(feats, share, "overlay", "png", f"s{i}"))
    monkeypatch.setattr(train, "CONTENT", True)
    booster = train.fit(samples, seed=0, rounds=20)
    assert booster.num_feature() == n
    prob = train.predict_map(booster, samples[0].feats)
    assert prob[2:5, 2:5].mean() > prob[samples[0].share == 0].mean()
    monkeypatch.setattr(train, "CONTENT", False)
    base = train.fit(samples, seed=0, rounds=5)
    assert base.num_feature() == len(FEATURE_NAMES)
    assert train.predict_map(base, samples[0].feats).shape == (8, 8)
