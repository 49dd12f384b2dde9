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


def tamper_threshold(manifest: dict[str, Any]) -> float:
    """The tile threshold chosen on held-out unedited photos (see the manifest)."""
    return float(manifest.get("held_out", {}).get("threshold", TAMPER_DEFAULT_THRESHOLD))


def tamper_tiles(rgb: Any, threads: int = 1) -> Any:
    """Per-tile probabilities of the tamper model for an RGB image at native size.

    Returns a (rows, cols) float32 array, one value per
    :data:`triage.forensics.blockfeatures.TILE`-pixel tile.
    """
    import numpy as np

    from triage.forensics.blockfeatures import TILE, rgb_tile_features

    booster, _ = load_booster("tamper")
    feats = rgb_tile_features(rgb, TILE)
    r, c, f = feats.values.shape
    if r * c == 0:
        return np.zeros((r, c), np.float32)
    prob = booster.predict(feats.values.reshape(-1, f), num_threads=threads)
    return np.asarray(prob, np.float32).reshape(r, c)
