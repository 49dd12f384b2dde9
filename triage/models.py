"""The learned models shipped in ``triage/data/models/``, loaded once per process.

An analyzer imports no other analyzer; the ones that share a model (the tamper
model scores photos in ``tamper`` and sampled video frames in ``frames``) load it
here. Each model ``NAME`` is ``NAME.txt`` (a lightgbm booster) beside
``NAME.manifest.json`` (data, seed, version, held-out figures, threshold), made by
``python -m triage.train NAME``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

TAMPER_DEFAULT_THRESHOLD = 0.5


@cache
def load_booster(name: str) -> tuple[Any, dict[str, Any]]:
    """The shipped booster ``name`` and its manifest."""
    import lightgbm as lgb

    models = resources.files("triage.data").joinpath("models")
    booster = lgb.Booster(model_str=models.joinpath(f"{name}.txt").read_text("utf-8"))
    manifest = json.loads(models.joinpath(f"{name}.manifest.json").read_text("utf-8"))
    return booster, manifest


@cache
def tamper_frames_booster() -> Any:
    """The tile booster video frames use: the manifest's ``frames`` model when it
    names one (tamper v4 keeps the v2 tile model for frames, see the tamper card),
    else the tamper model itself."""
    import lightgbm as lgb

    booster, manifest = load_booster("tamper")
    frames = manifest.get("frames") or {}
    if not frames.get("file"):
        return booster
    models = resources.files("triage.data").joinpath("models")
    return lgb.Booster(model_str=models.joinpath(frames["file"]).read_text("utf-8"))


def tamper_thresholds(manifest: dict[str, Any]) -> tuple[float, float]:
    """(image threshold, region threshold) of the tile model video frames use,
    chosen on held-out photos (the manifest): a picture counts when its max3 score
    reaches the first; its regions are the tiles at or above the second."""
    held = manifest.get("frames") or manifest.get("held_out", {})
    image = float(held.get("threshold", TAMPER_DEFAULT_THRESHOLD))
    return image, float(held.get("region_threshold", image))


def tamper_tiles(rgb: Any, threads: int = 1) -> Any:
    """Per-tile probabilities of the tamper model for an RGB image at native size.

    Video frames carry no JPEG table: the features use the model's default one.
    Returns a (rows, cols) float32 array, one value per
    :data:`triage.forensics.blockfeatures.TILE`-pixel tile (every block is read:
    callers keep frames below the size where the features start to stride).
    """
    import numpy as np

    from triage.forensics.blockfeatures import reads_content, rgb_tile_features

    booster = tamper_frames_booster()
    feats = rgb_tile_features(rgb, None, step=1, content=reads_content(booster.num_feature()))
    r, c, f = feats.values.shape
    if r * c == 0:
        return np.zeros((r, c), np.float32)
    prob = booster.predict(feats.values.reshape(-1, f), num_threads=threads)
    return np.asarray(prob, np.float32).reshape(r, c)
