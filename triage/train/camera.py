"""Fit the camera-likeness model on real photos only.

Two parts, both from the camera photos of ../shared/training (editor-processed files
left out, see :func:`triage.train.edits.list_sources`), split by source photo:

1. the lossless coding model of :mod:`triage.forensics.camera` (a linear predictor
   per context class and residual histograms, at two pyramid levels);
2. a one-class description of the statistics real photos give under that model
   (mean and covariance of the feature vector), from which an image's distance is
   read as a z-like score.

Every photo enters as the platform would hand it over: its own pixels, and resized
to 1024 px and re-saved as JPEG q85 (so "re-saved" or "resized" is inside the real
class). No generated image is used for fitting.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from triage.forensics.camera import (
    CLASSES,
    NEIGHBOURS,
    QUANTILES,
    RMAX,
    CodingModel,
    centre_window,
    context,
    half,
    luma_u8,
)

LEVELS = 2
VERSION = "2"
MODEL_FILE = "camera.npz"
FIT_WINDOW = 512
MANIFEST_FILE = "camera.manifest.json"


def variants(rgb: np.ndarray, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """The photo as found, and as a platform re-serves it (1024 px, JPEG q85)."""
    from PIL import Image

    out = [("native", rgb)]
    im = Image.fromarray(rgb)
    if max(im.size) > 1024:
        im.thumbnail((1024, 1024), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    out.append(("1024q85", np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))))
    return out


def window(rgb: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = centre_window(rgb.shape[0], rgb.shape[1])
    return rgb[y0:y1, x0:x1]


def pyramid(gray: np.ndarray) -> list[np.ndarray]:
    levels = [gray]
    for _ in range(LEVELS - 1):
        levels.append(half(levels[-1]))
    return levels


def fit_coding_model(grays: list[np.ndarray]) -> CodingModel:
    """Least-squares predictor per (level, class), then smoothed residual histograms."""
    k = len(NEIGHBOURS) + 1
    xtx = np.zeros((LEVELS, CLASSES, k, k))
    xty = np.zeros((LEVELS, CLASSES, k))
    pyrs = [pyramid(g) for g in grays]
    for pyr in pyrs:
        for lv, g in enumerate(pyr):
            x, cls, y = context(g)
            # Per-class sums of products by bincount: one pass per product, no masks.
            for i in range(k):
                xty[lv, :, i] += np.bincount(cls, x[:, i] * y, minlength=CLASSES)
                for j in range(i, k):
                    s = np.bincount(cls, x[:, i] * x[:, j], minlength=CLASSES)
                    xtx[lv, :, i, j] += s
                    if j != i:
                        xtx[lv, :, j, i] += s
    coef = np.zeros((LEVELS, CLASSES, k), dtype=np.float32)
    for lv in range(LEVELS):
        for c in range(CLASSES):
            # Ridge towards the plain average of W and N when a class is rare.
            prior = np.zeros(k)
            prior[0] = prior[1] = 0.5
            reg = 1e3 * np.eye(k)
            reg[-1, -1] = 1e-3
            coef[lv, c] = np.linalg.solve(xtx[lv, c] + reg, xty[lv, c] + reg @ prior)
    counts = np.ones((LEVELS, CLASSES, 2 * RMAX + 1))  # add-one smoothing
    model = CodingModel(coef, np.zeros_like(counts), np.zeros((LEVELS, CLASSES)))
    from triage.forensics.camera import residuals

    for pyr in pyrs:
        for lv, g in enumerate(pyr):
            r, cls = residuals(model, lv, g)
            np.add.at(counts[lv], (cls, r + RMAX), 1)
    p = counts / counts.sum(axis=2, keepdims=True)
    logp = (-np.log2(p)).astype(np.float32)
    entropy = (p * logp).sum(axis=2).astype(np.float32)
    return CodingModel(coef, logp, entropy)


def save(model: CodingModel, fusion: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / MODEL_FILE
    np.savez_compressed(
        path,
        coef=model.coef,
        logp=model.logp,
        entropy=model.entropy,
        mean=np.asarray(fusion["mean"], dtype=np.float64),
        cov_inv=np.asarray(fusion["cov_inv"], dtype=np.float64),
        d2_quantiles=np.asarray(fusion["d2_quantiles"], dtype=np.float64),
        scale=np.asarray(fusion["scale"], dtype=np.float64),
    )
    return path


def fit_fusion(feats: np.ndarray) -> dict[str, Any]:
    """Mean and (shrunk) inverse covariance of real-photo feature vectors."""
    mean = feats.mean(axis=0)
    cov = np.cov(feats, rowvar=False)
    # Shrink towards the diagonal: few photos, correlated features.
    cov = 0.8 * cov + 0.2 * np.diag(np.diag(cov)) + 1e-6 * np.eye(cov.shape[0])
    inv = np.linalg.inv(cov)
    d = feats - mean
    d2 = np.einsum("ni,ij,nj->n", d, inv, d)
    return {
        "mean": mean.tolist(),
        "cov_inv": inv.tolist(),
        "d2_quantiles": np.quantile(d2, QUANTILES).tolist(),
        "scale": np.sqrt(np.diag(cov)).tolist(),
    }


def load_rgb(path: Path) -> np.ndarray | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except Exception:
        return None


def train_from_folder(training: Path, out: Path, seed: int = 0, limit: int = 0) -> dict[str, Any]:
    """Fit on the training split of ../shared/training/camera; write model + manifest."""
    from triage.forensics.camera import FEATURE_NAMES, features
    from triage.train.edits import list_sources, split_sources

    t0 = time.time()
    rng = np.random.default_rng(seed)
    sources = list_sources(training)
    if limit:
        sources = sources[:limit]
    train, val = split_sources(sources, holdout=0.3)
    grays: list[np.ndarray] = []
    for p in train:
        rgb = load_rgb(p)
        if rgb is None or min(rgb.shape[:2]) < 128:
            continue
        for _, v in variants(rgb, rng):
            # The predictor is fitted on a centred 512-px window per variant (memory).
            x0, y0, x1, y1 = centre_window(v.shape[0], v.shape[1], FIT_WINDOW)
            grays.append(luma_u8(v[y0:y1, x0:x1]))
    model = fit_coding_model(grays)
    n_windows = len(grays)
    del grays
    rows = []
    for p in train:
        rgb = load_rgb(p)
        if rgb is None or min(rgb.shape[:2]) < 128:
            continue
        for _, v in variants(rgb, rng):
            rows.append(features(model, window(v)).vector())
    feats = np.array(rows)
    fusion = fit_fusion(feats)
    save(model, fusion, out)
    manifest = {
        "name": "camera",
        "version": VERSION,
        "kind": "context-classed linear lossless predictor + residual histograms (2 levels); "
        "Gaussian one-class model of the camera-likeness features",
        "features": list(FEATURE_NAMES),
        "data": {
            "training": (
                f"../shared/{training.name}" if training.parent.name == "shared" else str(training)
            ),
            "sources_fit": len(train),
            "sources_held_out": len(val),
            "windows": n_windows,
            "variants": ["native", "1024q85"],
            "split": "by source photo (crc32 of the name, 30% held out)",
        },
        "seed": seed,
        "seconds": round(time.time() - t0, 1),
        # Filled by bench/camera_likeness.py (it needs the generator samples too).
        "held_out": {"measured_by": "bench/camera_likeness.py"},
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return manifest


def summary(manifest: dict[str, Any]) -> str:
    data = manifest["data"]
    return (
        f"camera model v{manifest['version']}: {data['sources_fit']} source photos fitted "
        f"({data['windows']} windows), {data['sources_held_out']} held out; "
        f"{manifest['seconds']} s"
    )
