"""Fit the local tamper model: gradient-boosted trees over per-tile features.

Data: :mod:`triage.train.edits` (edits of real camera photos with masks, every file
edited or not through a platform chain), split by source photo. A tile is a
positive when at least half of it is edited, a negative when none of it is (tiles
of unedited files and clean tiles of edited files alike); tiles in between are
left out of the fit. Held-out figures are computed on the validation sources only
and written to the manifest.
"""

from __future__ import annotations

import io
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from triage.forensics.blockfeatures import (
    FEATURE_NAMES,
    TILE,
    image_score,
    probability_regions,
    rgb_tile_features,
)
from triage.train.edits import Example, generate, list_sources, split_sources

MODEL_FILE = "tamper.txt"
MANIFEST_FILE = "tamper.manifest.json"
VERSION = "1"
NEGATIVES_PER_IMAGE = 300
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 2,
    "verbose": -1,
}


def example_arrays(ex: Example) -> tuple[np.ndarray, np.ndarray]:
    """(features (rows, cols, F), edited share per tile (rows, cols)) of one example."""
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(ex.jpeg)).convert("RGB"))
    tf = rgb_tile_features(rgb)
    r, c = tf.shape
    m = ex.mask[: r * TILE, : c * TILE].astype(np.float32)
    share = m.reshape(r, TILE, c, TILE).mean(axis=(1, 3))
    return tf.values, share


def _tile_rows(
    feats: np.ndarray, share: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    x = feats.reshape(-1, feats.shape[-1])
    s = share.ravel()
    pos = np.nonzero(s >= 0.5)[0]
    neg = np.nonzero(s == 0)[0]
    if neg.size > NEGATIVES_PER_IMAGE:
        neg = rng.choice(neg, NEGATIVES_PER_IMAGE, replace=False)
    idx = np.concatenate([pos, neg])
    return x[idx], (s[idx] >= 0.5).astype(np.int8)


def fit(examples: list[Example], seed: int = 0, rounds: int = 300) -> Any:
    """Fit a lightgbm booster on the tiles of ``examples``."""
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for ex in examples:
        feats, share = example_arrays(ex)
        x, y = _tile_rows(feats, share, rng)
        xs.append(x)
        ys.append(y)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    data = lgb.Dataset(x, y, feature_name=list(FEATURE_NAMES), free_raw_data=True)
    return lgb.train({**PARAMS, "seed": seed}, data, num_boost_round=rounds)


def predict_map(booster: Any, feats: np.ndarray) -> np.ndarray:
    """Per-tile probability map from a booster and (rows, cols, F) features."""
    r, c, f = feats.shape
    if r * c == 0:
        return np.zeros((r, c), np.float32)
    return booster.predict(feats.reshape(-1, f)).reshape(r, c).astype(np.float32)


def _auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    a = np.asarray(neg)
    wins = sum(float((a < p).sum() + 0.5 * (a == p).sum()) for p in pos)
    return round(wins / (len(pos) * len(a)), 4)


def _iou(prob: np.ndarray, share: np.ndarray, threshold: float) -> float:
    regions = probability_regions(prob, threshold)
    pred = np.zeros(prob.shape, bool)
    for (c0, r0, c1, r1), _, _ in regions[:3]:
        pred[r0:r1, c0:c1] = True
    truth = share >= 0.5
    union = (pred | truth).sum()
    return float((pred & truth).sum() / union) if union else 0.0


def _half(source_id: str) -> int:
    import zlib

    return zlib.crc32(source_id.encode()) % 2


def validate(booster: Any, examples: list[Example], target_fpr: float = 0.05) -> dict[str, Any]:
    """Held-out figures on validation sources split in two halves by source: the
    first half sets the image threshold (the ``1 - target_fpr`` quantile of its
    unedited scores); the second half, never used for any choice, gives image AUC
    per edit kind and per chain, region IoU at that threshold, and the share of
    unedited files at or above it."""
    rows = []
    for ex in examples:
        feats, share = example_arrays(ex)
        prob = predict_map(booster, feats)
        rows.append((ex, share, prob, image_score(prob)))
    pick = [s for ex, _, _, s in rows if _half(ex.source_id) == 0 and ex.kind == "none"]
    threshold = float(np.quantile(pick, 1 - target_fpr)) if pick else 0.5
    threshold = round(min(0.95, max(0.3, threshold)), 3)
    scores: dict[str, list[float]] = defaultdict(list)
    chains: dict[str, list[tuple[int, float]]] = defaultdict(list)
    ious: dict[str, list[float]] = defaultdict(list)
    tile_pos: list[float] = []
    tile_neg: list[float] = []
    for ex, share, prob, s in rows:
        if _half(ex.source_id) == 0:
            continue
        scores[ex.kind].append(s)
        chain = "resized" if ex.chain.startswith("resize") else "not resized"
        chains[chain].append((int(ex.kind != "none"), s))
        if ex.kind != "none":
            ious[ex.kind].append(_iou(prob, share, threshold))
        tile_pos += prob[share >= 0.5].tolist()[:200]
        tile_neg += prob[share == 0].tolist()[:200]
    neg = scores.get("none", [])
    per_kind = {
        k: {"n": len(v), "auc": _auc(v, neg), "mean_iou": round(float(np.mean(ious[k])), 3)}
        for k, v in sorted(scores.items())
        if k != "none"
    }
    per_chain = {
        k: {"n": len(v), "auc": _auc([s for y, s in v if y], [s for y, s in v if not y])}
        for k, v in sorted(chains.items())
    }
    edited = [s for k, v in scores.items() if k != "none" for s in v]
    return {
        "files": sum(len(v) for v in scores.values()),
        "threshold_files": len(rows) - sum(len(v) for v in scores.values()),
        "unedited": len(neg),
        "image_auc_all": _auc(edited, neg),
        "tile_auc": _auc(tile_pos[:5000], tile_neg[:5000]),
        "per_kind": per_kind,
        "per_chain": per_chain,
        "threshold": threshold,
        "unedited_at_or_above_threshold": round(float(np.mean([s >= threshold for s in neg])), 4)
        if neg
        else None,
        "edited_at_or_above_threshold": round(float(np.mean([s >= threshold for s in edited])), 4)
        if edited
        else None,
        "mean_iou_all": round(float(np.mean([i for v in ious.values() for i in v])), 3)
        if ious
        else None,
    }


def train_from_folder(
    training_dir: Path, out_dir: Path, seed: int = 0, limit: int = 0, edits_per_source: int = 2
) -> dict[str, Any]:
    """The whole job behind ``python -m triage.train tamper``: make data, fit,
    validate on held-out sources, write model and manifest. Returns the manifest."""
    t0 = time.time()
    sources = list_sources(training_dir)
    if limit:
        sources = sources[:limit]
    train_src, val_src = split_sources(sources)
    train = list(generate(train_src, seed, edits_per_source))
    val = list(generate(val_src, seed + 1, edits_per_source))
    booster = fit(train, seed)
    figures = validate(booster, val)
    out_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(out_dir / MODEL_FILE))
    manifest = {
        "name": "tamper",
        "version": VERSION,
        "kind": "lightgbm binary classifier over per-tile features (triage/forensics/blockfeatures.py)",
        "features": list(FEATURE_NAMES),
        "tile": TILE,
        "seed": seed,
        "data": {
            "sources": f"{training_dir.name}/MANIFEST.tsv",
            "train_sources": len(train_src),
            "validation_sources": len(val_src),
            "train_files": len(train),
            "validation_files": len(val),
            "edits_per_source": edits_per_source,
            "generator": "triage/train/edits.py",
        },
        "params": PARAMS,
        "held_out": figures,
        "train_seconds": round(time.time() - t0, 1),
        "command": "python -m triage.train tamper",
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def summary(manifest: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    h = manifest["held_out"]
    lines = [
        f"tamper model v{manifest['version']}: {manifest['data']['train_files']} training files, "
        f"{h['files']} held-out files, {manifest['train_seconds']} s",
        f"held-out image AUC {h['image_auc_all']}, tile AUC {h['tile_auc']}, "
        f"mean IoU {h['mean_iou_all']}; at threshold {h['threshold']}: unedited "
        f"{h['unedited_at_or_above_threshold']}, edited {h['edited_at_or_above_threshold']}",
    ]
    for k, v in h["per_kind"].items():
        lines.append(f"  {k:9s} n={v['n']:3d} AUC {v['auc']} IoU {v['mean_iou']}")
    for k, v in h["per_chain"].items():
        lines.append(f"  {k:12s} n={v['n']:3d} AUC {v['auc']}")
    return "\n".join(lines)
