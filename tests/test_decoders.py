"""The simulated decoders of triage.train.decoders (training-only; skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from triage.train import decoders  # noqa: E402


def _patches(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (4, 40, 40, 3)).astype(np.float64)
    # Smooth random scenes (a camera patch is not white noise).
    smooth = (base + np.roll(base, 1, 1) + np.roll(base, 1, 2) + np.roll(base, 2, 1)) / 4
    photos = [smooth[i].astype(np.uint8) for i in range(4)]
    return decoders.camera_patches(photos, 32, rng, side=16)


@pytest.mark.parametrize("design", decoders.DESIGNS)
def test_each_design_rebuilds_the_same_size(design: str) -> None:
    net = decoders.build(design, width=4, latent=2)
    rgb = np.random.default_rng(1).integers(0, 256, (37, 50, 3), dtype=np.uint8)
    out = decoders.apply(net.eval(), rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8


def test_training_is_deterministic_for_a_seed() -> None:
    data = _patches(0)
    a = decoders.train("transposed", data, seed=3, steps=4, width=4, latent=2)
    b = decoders.train("transposed", data, seed=3, steps=4, width=4, latent=2)
    c = decoders.train("transposed", data, seed=4, steps=4, width=4, latent=2)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_unknown_design_is_refused() -> None:
    with pytest.raises(ValueError):
        decoders.build("wavelet")
