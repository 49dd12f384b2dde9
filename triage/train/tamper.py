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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from triage.forensics.blockfeatures import (
    FEATURE_NAMES,
    SCORE_RULES,
    TILE,
    TileFeatures,
    image_score,
    region_mask,
    rgb_tile_features,
)
from triage.train.edits import Example, generate, list_sources, split_sources

MODEL_FILE = "tamper.txt"
MANIFEST_FILE = "tamper.manifest.json"
VERSION = "2"
NEGATIVES_PER_IMAGE = 300
ROUNDS = 300
REGION_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
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


def jpeg_features(data: bytes) -> TileFeatures:
    """Tile features of JPEG bytes, with the file's own luma table (as the analyzer)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        tables = getattr(im, "quantization", None) or {}
        rgb = np.asarray(im.convert("RGB"))
    return rgb_tile_features(rgb, tables.get(0))


def example_arrays(ex: Example) -> tuple[np.ndarray, np.ndarray]:
    """(features (rows, cols, F), edited share per tile (rows, cols)) of one example."""
    tf = jpeg_features(ex.jpeg)
    r, c = tf.shape
    t = tf.tile
    m = ex.mask[: r * t, : c * t].astype(np.float32)
    share = m.reshape(r, t, c, t).mean(axis=(1, 3))
    return tf.values, share


@dataclass(frozen=True)
class Sample:
    """One example reduced to what fitting and validation need."""

    feats: np.ndarray  # (rows, cols, F)
    share: np.ndarray  # (rows, cols) edited share per tile
    kind: str
    chain: str
    source_id: str


def featurize(examples: Iterable[Example]) -> list[Sample]:
    """Tile features of every example (computed once; the JPEG bytes are dropped)."""
    out = []
    for ex in examples:
        feats, share = example_arrays(ex)
        out.append(Sample(feats, share, ex.kind, ex.chain, ex.source_id))
    return out


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


def fit(
    samples: list[Sample], seed: int = 0, rounds: int = ROUNDS, params: dict[str, Any] | None = None
) -> Any:
    """Fit a lightgbm booster on the tiles of ``samples``."""
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for sm in samples:
        x, y = _tile_rows(sm.feats, sm.share, rng)
        xs.append(x)
        ys.append(y)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    data = lgb.Dataset(x, y, feature_name=list(FEATURE_NAMES), free_raw_data=True)
    return lgb.train({**(params or PARAMS), "seed": seed}, data, num_boost_round=rounds)


def predict_map(booster: Any, feats: np.ndarray) -> np.ndarray:
    """Per-tile probability map from a booster and (rows, cols, F) features."""
    r, c, f = feats.shape
    if r * c == 0:
        return np.zeros((r, c), np.float32)
    return booster.predict(feats.reshape(-1, f)).reshape(r, c).astype(np.float32)


def _auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    a = np.sort(np.asarray(neg))
    p = np.asarray(pos)
    wins = np.searchsorted(a, p, "left") + 0.5 * (
        np.searchsorted(a, p, "right") - np.searchsorted(a, p, "left")
    )
    return round(float(wins.sum()) / (len(p) * len(a)), 4)


def _iou(prob: np.ndarray, share: np.ndarray, threshold: float) -> float:
    """IoU between the tiles of the map's regions (components of at least
    MIN_REGION_TILES tiles at or above ``threshold``) and the edited tiles."""
    pred = region_mask(prob, threshold)
    truth = share >= 0.5
    union = (pred | truth).sum()
    return float((pred & truth).sum() / union) if union else 0.0


def _half(source_id: str) -> int:
    import zlib

    return zlib.crc32(source_id.encode()) % 2


def _chain_groups(chain: str) -> list[str]:
    quality = int(chain.rsplit("+q", 1)[1]) if "+q" in chain else 100
    return [
        "resized" if chain.startswith("resize") else "not resized",
        "q65-79" if quality < 80 else "q80-95",
    ]


def validate(booster: Any, samples: list[Sample], target_fpr: float = 0.05) -> dict[str, Any]:
    """Held-out figures on validation sources split in two halves by source: the
    first half picks the image-score rule (:data:`SCORE_RULES`) and the region
    threshold, and sets the image threshold (the ``1 - target_fpr`` quantile of its
    unedited scores); the second half, never used for any choice, gives image AUC
    per edit kind and per chain, region IoU, and the share of unedited files at or
    above the threshold."""
    rows = [(sm, predict_map(booster, sm.feats)) for sm in samples]
    first = [(sm, p) for sm, p in rows if _half(sm.source_id) == 0]
    second = [(sm, p) for sm, p in rows if _half(sm.source_id) == 1]

    def rule_auc(rule: str) -> float:
        pos = [image_score(p, rule) for sm, p in first if sm.kind != "none"]
        neg = [image_score(p, rule) for sm, p in first if sm.kind == "none"]
        return _auc(pos, neg) or 0.0

    rule_aucs = {r: rule_auc(r) for r in SCORE_RULES}
    rule = max(SCORE_RULES, key=lambda r: rule_aucs[r])
    pick = [image_score(p, rule) for sm, p in first if sm.kind == "none"]
    threshold = float(np.quantile(pick, 1 - target_fpr)) if pick else 0.5
    threshold = round(min(0.99, max(0.05, threshold)), 3)
    edited_first = [(sm, p) for sm, p in first if sm.kind != "none"]
    region_ious = {
        t: float(np.mean([_iou(p, sm.share, t) for sm, p in edited_first])) if edited_first else 0
        for t in REGION_THRESHOLDS
    }
    region_threshold = max(REGION_THRESHOLDS, key=lambda t: region_ious[t])
    scores: dict[str, list[float]] = defaultdict(list)
    chains: dict[str, list[tuple[int, float]]] = defaultdict(list)
    ious: dict[str, list[float]] = defaultdict(list)
    tile_pos: list[float] = []
    tile_neg: list[float] = []
    for sm, prob in second:
        s = image_score(prob, rule)
        scores[sm.kind].append(s)
        for group in _chain_groups(sm.chain):
            chains[group].append((int(sm.kind != "none"), s))
        if sm.kind != "none":
            ious[sm.kind].append(_iou(prob, sm.share, region_threshold))
        tile_pos += prob[sm.share >= 0.5].tolist()[:200]
        tile_neg += prob[sm.share == 0].tolist()[:200]
    neg = scores.get("none", [])
    per_kind = {
        k: {"n": len(v), "auc": _auc(v, neg), "mean_iou": round(float(np.mean(ious[k])), 3)}
        for k, v in sorted(scores.items())
        if k != "none"
    }
    per_chain = {
        k: {
            "n": len(v),
            "unedited": sum(1 for y, _ in v if not y),
            "auc": _auc([s for y, s in v if y], [s for y, s in v if not y]),
            "unedited_at_or_above_threshold": round(
                float(np.mean([float(s >= threshold) for y, s in v if not y] or [0.0])), 4
            ),
        }
        for k, v in sorted(chains.items())
    }
    edited = [s for k, v in scores.items() if k != "none" for s in v]
    return {
        "files": len(second),
        "threshold_files": len(first),
        "unedited": len(neg),
        "score_rule": rule,
        "score_rule_auc_first_half": rule_aucs,
        "image_auc_all": _auc(edited, neg),
        "tile_auc": _auc(tile_pos, tile_neg),
        "per_kind": per_kind,
        "per_chain": per_chain,
        "threshold": threshold,
        "region_threshold": region_threshold,
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
    train = featurize(generate(train_src, seed, edits_per_source))
    val = featurize(generate(val_src, seed + 1, edits_per_source))
    booster = fit(train, seed)
    figures = validate(booster, val)
    data = {
        "sources": f"{training_dir.name}/MANIFEST.tsv",
        "train_sources": len(train_src),
        "validation_sources": len(val_src),
        "train_files": len(train),
        "validation_files": len(val),
        "edits_per_source": edits_per_source,
        "generator": "triage/train/edits.py",
    }
    return write_model(booster, figures, data, out_dir, seed, time.time() - t0)


def write_model(
    booster: Any,
    figures: dict[str, Any],
    data: dict[str, Any],
    out_dir: Path,
    seed: int,
    seconds: float,
) -> dict[str, Any]:
    """Write the booster and its manifest (data, seed, held-out figures) to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(out_dir / MODEL_FILE))
    manifest = {
        "name": "tamper",
        "version": VERSION,
        "kind": (
            "lightgbm binary classifier over per-tile features (triage/forensics/blockfeatures.py)"
        ),
        "features": list(FEATURE_NAMES),
        "tile": f"{TILE} px (x block stride on large images)",
        "seed": seed,
        "data": data,
        "params": PARAMS,
        "rounds": ROUNDS,
        "held_out": figures,
        "train_seconds": round(seconds, 1),
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
        f"held-out image AUC {h['image_auc_all']} ({h['score_rule']}), tile AUC {h['tile_auc']}, "
        f"mean IoU {h['mean_iou_all']} (regions >= {h['region_threshold']}); "
        f"at threshold {h['threshold']}: unedited "
        f"{h['unedited_at_or_above_threshold']}, edited {h['edited_at_or_above_threshold']}",
    ]
    for k, v in h["per_kind"].items():
        lines.append(f"  {k:9s} n={v['n']:3d} AUC {v['auc']} IoU {v['mean_iou']}")
    for k, v in h["per_chain"].items():
        lines.append(
            f"  {k:12s} n={v['n']:3d} AUC {v['auc']} unedited flagged "
            f"{v['unedited_at_or_above_threshold']} of {v['unedited']}"
        )
    return "\n".join(lines)
