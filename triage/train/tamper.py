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
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from triage.forensics.blockfeatures import (
    CONTENT_FEATURE_NAMES,
    FEATURE_NAMES,
    FULL_PIXELS,
    SCORE_RULES,
    TILE,
    TileFeatures,
    image_score,
    lossless_reading,
    region_mask,
    rgb_tile_features,
    stride_for,
)
from triage.forensics.tampermap import MAP_STATISTICS
from triage.train.edits import (
    MIXED_CHAINS,
    NEW_CHAINS,
    PLATFORM_CHAINS,
    Example,
    examples_of,
    list_sources,
    split_sources,
)

MODEL_FILE = "tamper.txt"
CELL = 8  # px: the side of the cells the edit masks are measured on (one JPEG block)
MANIFEST_FILE = "tamper.manifest.json"
VERSION = "4.3"
# Models trained with seeds seed .. seed + MEMBERS - 1 (each on its own generated edits of
# the same training sources); the analyzer averages their tile maps and image scores.
# Measured on one set of 34 validation sources: single models 0.802-0.812 image AUC,
# the mean of three 0.833 (IoU 0.34-0.35 -> 0.38): one model's score moves with the
# edits it happened to be trained on more than with any feature tried. Six members
# measured: about +0.008 over a bag of three on average, about what one draw of three
# seeds moves, and nothing against these three (card, "Six members").
MEMBERS = 3
NEGATIVES_PER_IMAGE = 300
# With a cap, the weight of one image's edited tiles in the tile model's fit is at most
# that many tiles' (each of n edited tiles weighs min(1, cap / n)), so a large splice
# does not outweigh ten small ones: every edited image counts about alike, as it does in
# the image AUC. None (model 4.3): every tile weighs 1. Measured at 10 (card, "Edited
# images weighed alike"): +0.013, +0.020 and -0.003 image AUC on three draws of the
# validation files (region IoU lower on each), +0.006 (-0.001..+0.014) on the
# calibration's camera files, nothing through the whole pipeline; not shipped.
# `bench/tamper_capacity.py --positive-cap` measures it.
POSITIVE_WEIGHT_CAP: float | None = None
ROUNDS = 300
VALIDATION_UNEDITED = 3  # unedited copies per validation source, each through its own chain
# Rounds of edits per training source (each: other crops, kinds, chains). Measured
# (card, "Source photos or edits"): a second round cost 0.016 image AUC, two edits per
# source instead of four 0.024, half the photos 0.04; more of either gives nothing.
TRAIN_VARIANTS = 1
# The generator's chains (triage.train.edits; `--chains` of `python -m triage.train
# tamper`). PLATFORM_CHAINS: model 4.3's, for training and validation (the default).
# MIXED_CHAINS: validation through the mixed routes (4.3's chains, small copies, PNG
# saves, edits made on a web copy), and training on 4.3's data plus a second set through
# the new routes alone (NEW_EXTRA per source). Measured (docs/analyzers/tamper.md, "New
# chains"): better on PNG saves, no better on small copies, 0.01-0.02 worse on 4.3's
# chains and on the corpus pairs. Through the whole pipeline ("The new routes through
# the whole pipeline"): +0.007 fused AUC on the calibration's camera files, on two
# draws, but the refitted calibration fails the refit rule (ECE, bins), so not the
# default. Training on the mixed routes alone (instead of 4.3's data) cost 0.02-0.04 on
# 4.3's chains.
CHAINS = PLATFORM_CHAINS
NEW_EXTRA = (2, 1)  # (edits, unedited copies) per training source through NEW_CHAINS
# The optional content features (blockfeatures.CONTENT_FEATURE_NAMES; `--content` of
# `python -m triage.train tamper`): measured and not better (docs/analyzers/tamper.md,
# "Content features"), so off: then the samples are made without them. A model is
# fitted on the first len(feature_names()) columns.
CONTENT = False
# The block form the model reads (blockfeatures.FORMS; `--form` of `python -m
# triage.train tamper`; 2: features a turn or mirror leaves unchanged). Model 4.3
# reads form 1.
FORM = 1
REGION_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
REGION_FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
FRAME_FPR = 0.01
FRAMES_MODEL_FILE = "tamper.frames.txt"
IMAGE_MODEL_FILE = "tamper.image.txt"


def member_files(k: int) -> tuple[str, str]:
    """(tile model, image model) file names of ensemble member ``k`` (0: the v4 names)."""
    if k == 0:
        return MODEL_FILE, IMAGE_MODEL_FILE
    return f"tamper.m{k}.txt", f"tamper.image.m{k}.txt"


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


def feature_names() -> list[str]:
    """The features a model is fitted on: the block features, then (with
    :data:`CONTENT`) the content features."""
    return [*FEATURE_NAMES, *(CONTENT_FEATURE_NAMES if CONTENT else ())]


def jpeg_features(
    data: bytes,
    content: bool | None = None,
    full_pixels: int = FULL_PIXELS,
    form: int | None = None,
) -> TileFeatures:
    """Tile features of served bytes as the analyzer reads them: a JPEG with its own
    luma table; a lossless picture on the grid and table of the JPEG it was, when its
    pixels show one (``origin`` says where its first tile starts). The content
    features after them with ``content`` (default :data:`CONTENT`); every block is read
    up to ``full_pixels`` pixels (default: as the analyzer reads); in the block form
    ``form`` (default :data:`FORM`)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        tables = getattr(im, "quantization", None) or {}
        rgb = np.asarray(im.convert("RGB"))
        luma = None if im.format == "JPEG" else np.asarray(im.convert("L"))
    step = stride_for(rgb.shape[0], rgb.shape[1], full_pixels)
    table = tables.get(0)
    origin = (0, 0)
    if luma is not None:
        origin, table = lossless_reading(luma, None, step)
        rgb = rgb[origin[0] :, origin[1] :]
    feats = rgb_tile_features(
        rgb,
        table,
        step,
        content=CONTENT if content is None else content,
        form=FORM if form is None else form,
    )
    return TileFeatures(feats.values, feats.tile, feats.step, origin)


def example_arrays(
    ex: Example,
    content: bool | None = None,
    full_pixels: int = FULL_PIXELS,
    form: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features (rows, cols, F), edited share per tile (rows, cols), edited share per
    cell of :data:`CELL` px) of one example (``content``, ``full_pixels``, ``form``:
    :func:`jpeg_features`)."""
    tf = jpeg_features(ex.jpeg, content, full_pixels, form)
    y0, x0 = tf.origin
    share, cells = mask_shares(ex.mask[y0:, x0:], *tf.shape, tf.tile)
    return tf.values, share, cells


def mask_shares(mask: np.ndarray, rows: int, cols: int, tile: int) -> tuple[np.ndarray, np.ndarray]:
    """The edited share of each of ``rows`` x ``cols`` tiles of ``tile`` px, and of each
    :data:`CELL`-px cell, of a bool edit mask."""
    m = mask[: rows * tile, : cols * tile].astype(np.float32)
    share = m.reshape(rows, tile, cols, tile).mean(axis=(1, 3))
    k = max(1, tile // CELL)
    q = tile // k
    cells = m.reshape(rows * k, q, cols * k, q).mean(axis=(1, 3))
    return share, cells


@dataclass(frozen=True)
class Sample:
    """One example reduced to what fitting and validation need."""

    feats: np.ndarray  # (rows, cols, F)
    share: np.ndarray  # (rows, cols) edited share per tile
    kind: str
    chain: str
    source_id: str
    # edited share per CELL-px cell (pixel IoU of the regions); None: not measured
    cells: np.ndarray | None = None


def featurize(
    examples: Iterable[Example],
    content: bool | None = None,
    full_pixels: int = FULL_PIXELS,
    form: int | None = None,
) -> list[Sample]:
    """Tile features of every example (computed once; the JPEG bytes are dropped;
    ``content``, ``full_pixels``, ``form``: :func:`jpeg_features`)."""
    out = []
    for ex in examples:
        feats, share, cells = example_arrays(ex, content, full_pixels, form)
        out.append(Sample(feats, share, ex.kind, ex.chain, ex.source_id, cells))
    return out


def _tile_rows(
    feats: np.ndarray, share: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    x = feats.reshape(-1, feats.shape[-1])[:, : len(feature_names())]
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
    cap = POSITIVE_WEIGHT_CAP
    weight = None if cap is None else np.concatenate([tile_weights(t, cap) for t in ys])
    data = lgb.Dataset(x, y, weight=weight, feature_name=feature_names(), free_raw_data=True)
    return lgb.train({**(params or PARAMS), "seed": seed}, data, num_boost_round=rounds)


def tile_weights(labels: np.ndarray, cap: float | None = None) -> np.ndarray:
    """Fit weights of one image's tiles (``labels``: 1 edited, 0 clean): clean tiles
    weigh 1; the edited ones share at most ``cap`` (None: :data:`POSITIVE_WEIGHT_CAP`;
    when that is None too, each weighs 1)."""
    cap = POSITIVE_WEIGHT_CAP if cap is None else cap
    w = np.ones(len(labels), np.float32)
    edited = int(labels.sum())
    if cap is not None and edited:
        w[labels == 1] = min(1.0, cap / edited)
    return w


def predict_map(booster: Any, feats: np.ndarray) -> np.ndarray:
    """Per-tile probability map from a booster and (rows, cols, F) features (the
    first columns, as many as the booster was fitted on)."""
    r, c, f = feats.shape
    if r * c == 0:
        return np.zeros((r, c), np.float32)
    x = feats.reshape(-1, f)[:, : booster.num_feature()]
    return booster.predict(x).reshape(r, c).astype(np.float32)


FOLDS = 4
REGION_ROWS_PER_IMAGE = 400


def _fold(source_id: str, folds: int) -> int:
    import zlib

    return zlib.crc32(source_id.encode()) % folds


def out_of_fold_maps(
    samples: list[Sample], seed: int = 0, folds: int = FOLDS, rounds: int = ROUNDS
) -> list[np.ndarray]:
    """Tile maps of every training sample from a model that did not see its source
    photo (``folds`` folds by source): what the second stages are fitted on, so they
    learn how the tile model behaves on photos it has never seen."""
    maps: list[np.ndarray] = [np.zeros((0, 0), np.float32)] * len(samples)
    for k in range(folds):
        rest = [sm for sm in samples if _fold(sm.source_id, folds) != k]
        if not rest:
            continue
        booster = fit(rest, seed, rounds)
        for i, sm in enumerate(samples):
            if _fold(sm.source_id, folds) == k:
                maps[i] = predict_map(booster, sm.feats)
    return maps


IMAGE_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 4,
    "min_data_in_leaf": 10,
    "is_unbalance": True,
    "num_threads": 2,
    "verbose": -1,
}
IMAGE_ROUNDS = 100


def fit_image_model(samples: list[Sample], maps: list[np.ndarray], seed: int = 0) -> Any:
    """Second-stage image model: small boosted trees over
    :data:`triage.forensics.tampermap.MAP_STATISTICS` of (out-of-fold) maps, edited
    files the positives (classes balanced)."""
    import lightgbm as lgb

    from triage.forensics.tampermap import MAP_STATISTICS, map_statistics

    x = np.array([map_statistics(p) for p in maps])
    y = np.array([sm.kind != "none" for sm in samples], np.float64)
    data = lgb.Dataset(x, y, feature_name=list(MAP_STATISTICS), free_raw_data=True)
    return lgb.train({**IMAGE_PARAMS, "seed": seed}, data, num_boost_round=IMAGE_ROUNDS)


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
    if chain == "original":
        return ["camera file untouched"]
    lossless = ["lossless PNG"] if chain.endswith("png") else ["JPEG last"]
    if chain == "png":
        return ["new: PNG at native size", *lossless]
    if chain.startswith("small"):
        return ["new: small copy (400-1000 px)", *lossless]
    if chain.startswith("web"):
        return ["new: edited on a web copy", *lossless]
    return [
        "4.3's chains",
        "resized" if chain.startswith("resize") else "not resized",
        "q65-79" if quality < 80 else "q80-100",
        "editor export q90-100" if chain.startswith("export") else "platform chain",
    ]


def _quantile_threshold(scores: list[float], target_fpr: float) -> float:
    t = float(np.quantile(scores, 1 - target_fpr)) if scores else 0.5
    return round(min(0.99, max(0.01, t)), 3)


def _iou_relative(prob: np.ndarray, share: np.ndarray, fraction: float) -> float:
    """IoU between the analyzer's region (the component holding the map's peak, at
    the photo's relative threshold) and the edited tiles."""
    from triage.forensics.tampermap import peak_region, relative_threshold

    pred = peak_region(prob, relative_threshold(prob, fraction))
    truth = share >= 0.5
    union = (pred | truth).sum()
    return float((pred & truth).sum() / union) if union else 0.0


def _pixel_iou(prob: np.ndarray, sm: Sample, fraction: float, refined: bool) -> float:
    """IoU, counted in pixels (on the cells of ``sm.cells``), between the edit mask and
    the analyzer's region: the peak region's tiles, or (``refined``) its border drawn
    on the block grid by :func:`triage.forensics.tampermap.refined_region`."""
    from triage.forensics.tampermap import (
        CELLS,
        peak_region,
        refined_region,
        relative_threshold,
    )

    if sm.cells is None:
        return float("nan")
    threshold = relative_threshold(prob, fraction)
    hot = peak_region(prob, threshold)
    k = sm.cells.shape[0] // max(1, prob.shape[0])  # CELL-px cells per tile side
    if refined:  # CELLS cells per tile side, each spread over k // CELLS of ours
        fine = refined_region(prob, hot, threshold)
        pred = np.kron(fine, np.ones((max(1, k // CELLS),) * 2, bool))
    else:
        pred = np.kron(hot, np.ones((k, k), bool))
    inter = float(sm.cells[pred].sum())
    union = float(pred.sum()) + float(sm.cells.sum()) - inter
    return inter / union if union else 0.0


def _ensemble_rows(
    members: list[tuple[Any, Any]], samples: list[Sample]
) -> tuple[list[tuple[Sample, np.ndarray]], list[float]]:
    """Each sample with the members' mean tile map, and (with image models) the mean of
    the members' image probabilities (0.0 without: the tile-map rule scores then)."""
    from triage.forensics.tampermap import ensemble_map, ensemble_probability

    image_models = [m for _, m in members]
    with_image = all(m is not None for m in image_models)
    rows = []
    scores = []
    for sm in samples:
        maps = [predict_map(b, sm.feats) for b, _ in members]
        rows.append((sm, ensemble_map(maps)))
        scores.append(ensemble_probability(maps, image_models) if with_image else 0.0)
    return rows, scores


def validate(
    members: list[tuple[Any, Any]], samples: list[Sample], target_fpr: float = 0.05
) -> dict[str, Any]:
    """Held-out figures on validation sources split in two halves by source.

    The first half makes every choice: the image threshold (the ``1 - target_fpr``
    quantile of its unedited scores), the regions' relative threshold (the fraction
    of :func:`triage.forensics.tampermap.relative_threshold` with the best mean
    IoU), and the thresholds of the tile-map rule that video frames use (max3;
    without an image model, the best of :data:`SCORE_RULES`). The second
    half, never used for any choice, gives image AUC per edit kind and per chain,
    region IoU, and the share of unedited files at or above the threshold. The image
    score is the members' image models over their maps' statistics, averaged (the
    tile-map rule without image models); maps and regions are the members' mean map.
    """
    rows, ensemble_scores = _ensemble_rows(members, samples)
    with_image = all(m is not None for _, m in members)
    first = [(sm, p) for sm, p in rows if _half(sm.source_id) == 0]
    second = [(sm, p) for sm, p in rows if _half(sm.source_id) == 1]
    first_scores = [
        v for (sm, _), v in zip(rows, ensemble_scores, strict=True) if _half(sm.source_id) == 0
    ]
    second_scores = [
        v for (sm, _), v in zip(rows, ensemble_scores, strict=True) if _half(sm.source_id) == 1
    ]

    rule_aucs, fixed, relative = _first_half_choices(first)
    # With an image model the tile-map rule only serves video frames, which use max3.
    rule = "max3" if with_image else max(SCORE_RULES, key=lambda r: rule_aucs[r])

    def score(p: np.ndarray, ensemble_score: float) -> float:
        return ensemble_score if with_image else image_score(p, rule)

    fraction = max(REGION_FRACTIONS, key=lambda v: relative[v])
    threshold = _quantile_threshold(
        [score(p, v) for (sm, p), v in zip(first, first_scores, strict=True) if sm.kind == "none"],
        target_fpr,
    )
    scores: dict[str, list[float]] = defaultdict(list)
    rule_scores: list[tuple[bool, float]] = []
    chains: dict[str, list[tuple[int, float]]] = defaultdict(list)
    ious: dict[str, list[float]] = defaultdict(list)
    tile_pos: list[float] = []
    tile_neg: list[float] = []
    for (sm, prob), ensemble_score in zip(second, second_scores, strict=True):
        s = score(prob, ensemble_score)
        scores[sm.kind].append(s)
        rule_scores.append((sm.kind != "none", image_score(prob, rule)))
        for group in _chain_groups(sm.chain):
            chains[group].append((int(sm.kind != "none"), s))
        if sm.kind != "none":
            ious[sm.kind].append(_iou_relative(prob, sm.share, fraction))
        tile_pos += prob[sm.share >= 0.5].tolist()[:200]
        tile_neg += prob[sm.share == 0].tolist()[:200]
    neg = scores.get("none", [])
    per_kind, per_chain = _per_kind_and_chain(scores, chains, ious, threshold)
    per_row = _pixel_figures(per_kind, second, fraction)
    every = [pair for pair in per_row if pair is not None]
    # The regions a report draws: the analyzer shows one only with its finding.
    shown = [
        pair[1]
        for pair, (_, prob), v in zip(per_row, second, second_scores, strict=True)
        if pair is not None and score(prob, v) >= threshold
    ]
    edited = [s for k, v in scores.items() if k != "none" for s in v]
    return {
        "files": len(second),
        "threshold_files": len(first),
        "unedited": len(neg),
        "members": len(members),
        "image_score": (
            "second-stage models over map statistics, mean over the members" if with_image else rule
        ),
        "image_auc_all": _auc(edited, neg),
        "tile_auc": _auc(tile_pos, tile_neg),
        "per_kind": per_kind,
        "per_chain": per_chain,
        "image_threshold": threshold,
        "region_fraction": fraction,
        "region_rule": (
            "the component of tiles at or above region_fraction of the way from the map's"
            " median to its highest 3x3 mean that holds that peak (tampermap.peak_region)"
        ),
        "region_fraction_iou_first_half": {str(k): round(v, 3) for k, v in relative.items()},
        "unedited_at_or_above_threshold": round(float(np.mean([s >= threshold for s in neg])), 4)
        if neg
        else None,
        "edited_at_or_above_threshold": round(float(np.mean([s >= threshold for s in edited])), 4)
        if edited
        else None,
        "mean_iou_all": round(float(np.mean([i for v in ious.values() for i in v])), 3)
        if ious
        else None,
        # In pixels: the tile region, and the analyzer's (its border on the block grid).
        "mean_pixel_iou_tiles": _nanmean([a for a, _ in every]),
        "mean_pixel_iou": _nanmean([b for _, b in every]),
        # ... over the edited files that get the finding (the regions reports show).
        "finding_pixel_iou": _nanmean(shown),
        "finding_files": len(shown),
        # The tile-map rule alone (video frames use it with these two thresholds).
        "score_rule": rule,
        "score_rule_auc_first_half": rule_aucs,
        "score_rule_image_auc": _auc(
            [s for e, s in rule_scores if e], [s for e, s in rule_scores if not e]
        ),
        # 1% of unedited photos, not 5%: a clip's track counts when its best frame
        # reaches it, so every frame read is another chance of a false alarm.
        "threshold": _quantile_threshold(
            [image_score(p, rule) for sm, p in first if sm.kind == "none"],
            FRAME_FPR if with_image else target_fpr,
        ),
        "region_threshold": max(REGION_THRESHOLDS, key=lambda v: fixed[v]),
    }


def _first_half_choices(
    first: list[tuple[Sample, np.ndarray]],
) -> tuple[dict[str, float], dict[float, float], dict[float, float]]:
    """What :func:`validate` chooses on the first half: each tile-map rule's image AUC,
    and the mean IoU of the edited files' regions at each fixed threshold and at each
    relative fraction."""
    edited = [(sm, p) for sm, p in first if sm.kind != "none"]

    def rule_auc(rule: str) -> float:
        pos = [image_score(p, rule) for _, p in edited]
        neg = [image_score(p, rule) for sm, p in first if sm.kind == "none"]
        return _auc(pos, neg) or 0.0

    def mean_iou(fn: Any, values: tuple[float, ...]) -> dict[float, float]:
        return {
            v: float(np.mean([fn(p, sm.share, v) for sm, p in edited])) if edited else 0.0
            for v in values
        }

    rule_aucs = {r: rule_auc(r) for r in SCORE_RULES}
    return rule_aucs, mean_iou(_iou, REGION_THRESHOLDS), mean_iou(_iou_relative, REGION_FRACTIONS)


def _pixel_figures(
    per_kind: dict[str, Any], rows: list[tuple[Sample, np.ndarray]], fraction: float
) -> list[tuple[float, float] | None]:
    """Pixel IoU of the tile region and of the refined region for every edited sample
    of ``rows`` (NaN without cell shares), added to ``per_kind`` as
    ``pixel_iou_tiles`` and ``pixel_iou``; returns the pair of each row (None for an
    unedited one)."""
    pairs = [
        (_pixel_iou(prob, sm, fraction, False), _pixel_iou(prob, sm, fraction, True))
        if sm.kind != "none"
        else None
        for sm, prob in rows
    ]
    pixel: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (sm, _), pair in zip(rows, pairs, strict=True):
        if pair is not None:
            pixel[sm.kind].append(pair)
    for kind, kept in pixel.items():
        per_kind[kind]["pixel_iou_tiles"] = _nanmean([a for a, _ in kept])
        per_kind[kind]["pixel_iou"] = _nanmean([b for _, b in kept])
    return pairs


def _nanmean(values: list[float]) -> float | None:
    """Mean of the values that are not NaN, rounded (None when there are none)."""
    kept = [v for v in values if v == v]
    return round(float(np.mean(kept)), 3) if kept else None


def _per_kind_and_chain(
    scores: dict[str, list[float]],
    chains: dict[str, list[tuple[int, float]]],
    ious: dict[str, list[float]],
    threshold: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The validation table per edit kind (AUC against the unedited files, mean IoU) and
    per chain group (AUC, unedited files at or above ``threshold``)."""
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
    return per_kind, per_chain


def _featurize_one(
    args: tuple[list[Path], int, int, int, int, bool, str, bool, int, int],
) -> list[Sample]:
    sources, i, seed, edits, unedited, original, chains, content, full_pixels, form = args
    examples = examples_of(sources, i, seed, edits, unedited, original, chains)
    return featurize(examples, content, full_pixels, form)


def featurize_sources(
    sources: list[Path],
    seed: int,
    edits_per_source: int,
    unedited_per_source: int = 1,
    original: bool = True,
    jobs: int = 2,
    chains: str | None = None,
    content: bool | None = None,
    full_pixels: int = FULL_PIXELS,
    form: int | None = None,
) -> list[Sample]:
    """:func:`featurize` of :func:`triage.train.edits.generate`'s examples, made and
    featurized per source in ``jobs`` processes (the same samples in the same order
    as one process makes them); ``chains`` defaults to :data:`CHAINS`, ``content`` to
    :data:`CONTENT`, ``form`` to :data:`FORM` (read here: the spawned workers do not
    see a changed module); ``full_pixels``: :func:`jpeg_features`."""
    chains = chains or CHAINS
    content = CONTENT if content is None else content
    form = FORM if form is None else form
    tasks = [
        (
            sources,
            i,
            seed,
            edits_per_source,
            unedited_per_source,
            original,
            chains,
            content,
            full_pixels,
            form,
        )
        for i in range(len(sources))
    ]
    if jobs <= 1:
        parts = [_featurize_one(t) for t in tasks]
    else:
        from multiprocessing import get_context

        with get_context("spawn").Pool(jobs) as pool:
            parts = pool.map(_featurize_one, tasks, chunksize=1)
    return [sm for part in parts for sm in part]


def train_from_folder(
    training_dir: Path,
    out_dir: Path,
    seed: int = 0,
    limit: int = 0,
    edits_per_source: int = 4,
    jobs: int = 2,
) -> dict[str, Any]:
    """The whole job behind ``python -m triage.train tamper``: make data, fit the
    tile model, fit the image model on its out-of-fold maps, validate on
    held-out sources, write model and manifest. Returns the manifest."""
    t0 = time.time()
    sources = list_sources(training_dir)
    if limit:
        sources = sources[:limit]
    train_src, val_src = split_sources(sources)
    train_sets = member_sets(train_src, seed, edits_per_source, jobs)
    val = featurize_sources(
        val_src, seed + 1, edits_per_source, VALIDATION_UNEDITED, original=True, jobs=jobs
    )
    return train_from_samples(
        train_sets,
        val,
        out_dir,
        seed,
        data_info(training_dir, train_src, val_src, train_sets[0], val, edits_per_source),
        t0,
    )


def member_sets(
    train_src: list[Path], seed: int, edits_per_source: int, jobs: int = 2
) -> list[list[Sample]]:
    """The training samples of each ensemble member (seed + k): each member its own
    generated edits (crops, kinds, chains) of the same sources."""
    train_sets = []
    for member in range(MEMBERS):
        train = featurize_sources(
            train_src, seed + member, edits_per_source, jobs=jobs, chains=PLATFORM_CHAINS
        )
        if CHAINS == MIXED_CHAINS:
            train += featurize_sources(
                train_src, seed + member + 100, NEW_EXTRA[0], NEW_EXTRA[1], False, jobs, NEW_CHAINS
            )
        for extra in range(1, TRAIN_VARIANTS):
            # More edits of the same sources, no more originals; seeds past every
            # member's own (seed + member + 1 + extra gave member 0 the seed of member 2).
            train += featurize_sources(
                train_src,
                seed + MEMBERS * extra + member,
                edits_per_source,
                0,
                original=False,
                jobs=jobs,
            )
        train_sets.append(train)
    return train_sets


FOLDS_FILE = "folds.json"


def source_folds(sources: list[Path], folds: int) -> dict[str, int]:
    """Each training source's fold (by its name's stem): the sources ordered by a hash of
    their name and dealt out in turn, so the split is deterministic, the folds differ in
    size by at most one, and no fold follows the manifest's (camera-make) order."""
    order = sorted(sources, key=lambda p: (zlib.crc32(p.name.encode()), p.name))
    return {p.stem: i % folds for i, p in enumerate(order)}


def train_folds(
    training_dir: Path,
    out_dir: Path,
    folds: int,
    seed: int = 0,
    limit: int = 0,
    edits_per_source: int = 4,
    jobs: int = 2,
) -> list[dict[str, Any]]:
    """Cross-fitting models (``python -m triage.train tamper --folds K --out DIR``): the
    training sources of the shipped model split into ``folds`` folds by source
    (:func:`source_folds`), and for each fold the same ensemble (same members, seeds
    and code) trained on the other folds' sources only, into ``out_dir/fold-K``, with
    ``out_dir/folds.json`` naming each source's fold. A model's outputs on the photos
    it was trained on are in-sample (they flatter it); the calibration reads each
    training photo's copies with the model of its fold, which never saw that photo
    (nor took a splice donor from it). A fold whose manifest exists is kept (a run can
    be resumed). Returns the fold manifests."""
    if folds < 2:
        raise ValueError("cross-fitting needs at least 2 folds")
    t_all = time.time()
    sources = list_sources(training_dir)
    if limit:
        sources = sources[:limit]
    train_src, val_src = split_sources(sources)
    fold_of = source_folds(train_src, folds)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / FOLDS_FILE).write_text(
        json.dumps({"folds": folds, "seed": seed, "fold_of": fold_of}, indent=1) + "\n", "utf-8"
    )
    val: list[Sample] | None = None  # the same validation files for every fold: made once
    manifests = []
    for k in range(folds):
        target = out_dir / f"fold-{k}"
        if (target / MANIFEST_FILE).is_file():
            manifests.append(json.loads((target / MANIFEST_FILE).read_text("utf-8")))
            continue
        t0 = time.time()
        if val is None:
            val = featurize_sources(
                val_src, seed + 1, edits_per_source, VALIDATION_UNEDITED, original=True, jobs=jobs
            )
        keep = [p for p in train_src if fold_of[p.stem] != k]
        train_sets = member_sets(keep, seed, edits_per_source, jobs)
        data = data_info(training_dir, keep, val_src, train_sets[0], val, edits_per_source)
        data["fold"] = {
            "fold": k,
            "folds": folds,
            "left_out": sorted(s for s, f in fold_of.items() if f == k),
        }
        manifests.append(train_from_samples(train_sets, val, target, seed, data, t0))
        print(f"fold {k}/{folds}: {time.time() - t_all:.0f} s", flush=True)
    return manifests


def train_from_samples(
    train_sets: list[list[Sample]],
    val: list[Sample],
    out_dir: Path,
    seed: int,
    data: dict[str, Any],
    t0: float,
) -> dict[str, Any]:
    """Per member (seed + k, its own training set): the tile model and the image model
    on its out-of-fold maps; then validate the ensemble and write it."""
    members = []
    for k, train in enumerate(train_sets):
        maps = out_of_fold_maps(train, seed + k)
        image_model = fit_image_model(train, maps, seed + k)
        members.append((fit(train, seed + k), image_model))
    figures = validate(members, val)
    return write_model(members, figures, data, out_dir, seed, time.time() - t0)


def data_info(
    training_dir: Path,
    train_src: list[Path],
    val_src: list[Path],
    train: list[Sample],
    val: list[Sample],
    edits_per_source: int,
) -> dict[str, Any]:
    """The manifest's description of the training data. A listed source that gives no
    file (it does not decode, e.g. a truncated JPEG, or is too small once cropped) is
    named, so the count of sources says what the model saw."""
    used = {sm.source_id for sm in train} | {sm.source_id for sm in val}
    return {
        "sources": f"{training_dir.name}/MANIFEST.tsv",
        "train_sources": len(train_src),
        "validation_sources": len(val_src),
        "sources_without_files": sorted(
            p.stem for p in (*train_src, *val_src) if p.stem not in used
        ),
        "train_files": len(train),
        "validation_files": len(val),
        "edits_per_source": edits_per_source,
        "train_variants": TRAIN_VARIANTS,
        "validation_unedited_per_source": VALIDATION_UNEDITED,
        "camera_files_untouched": True,
        "chains": CHAINS,
        "content_features": CONTENT,
        "new_chains_extra_per_source": list(NEW_EXTRA) if CHAINS == MIXED_CHAINS else None,
        "generator": "triage/train/edits.py",
    }


def write_model(
    members: list[tuple[Any, Any]],
    figures: dict[str, Any],
    data: dict[str, Any],
    out_dir: Path,
    seed: int,
    seconds: float,
) -> dict[str, Any]:
    """Write the members' boosters and the manifest (data, seed, held-out figures) to
    ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for k, (booster, image_model) in enumerate(members):
        tile_file, image_file = member_files(k)
        booster.save_model(str(out_dir / tile_file))
        if image_model is not None:
            image_model.save_model(str(out_dir / image_file))
    image_model = members[0][1]
    manifest = {
        "name": "tamper",
        "version": VERSION,
        "kind": (
            "lightgbm binary classifier over per-tile features (triage/forensics/blockfeatures.py);"
            " image score: a second lightgbm over statistics of its out-of-fold tile maps"
            " (triage/forensics/tampermap.py)"
        ),
        "features": feature_names(),
        # The reading of blockfeatures.rgb_tile_features the model was fitted on.
        "block_features": FORM,
        "tile": f"{TILE} px (x block stride on large images)",
        "seed": seed,
        "data": data,
        "params": PARAMS,
        "rounds": ROUNDS,
        "positive_weight_cap": POSITIVE_WEIGHT_CAP,
        "held_out": figures,
        "image_model": {
            "file": IMAGE_MODEL_FILE,
            "features": list(MAP_STATISTICS),
            "params": IMAGE_PARAMS,
            "rounds": IMAGE_ROUNDS,
            "folds": FOLDS,
        }
        if image_model is not None
        else None,
        "members": [
            {
                "tile_model": member_files(k)[0],
                "image_model": member_files(k)[1] if im is not None else None,
                "seed": seed + k,
            }
            for k, (_, im) in enumerate(members)
        ],
        "train_seconds": round(seconds, 1),
        # Video frames keep the v2 tile model and its thresholds (held out on photos:
        # max3 at 5% of unedited, regions >= 0.3): on the generated clip with a replaced
        # region, this tile model finds no region at its own photo thresholds (max3 at
        # 1%: 0.734, or 5%: 0.627; regions >= 0.2), v2 finds it (2.0-3.5 s).
        "frames": {
            "file": FRAMES_MODEL_FILE,
            "version": "2",
            "threshold": 0.688,
            "region_threshold": 0.3,
        },
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
        f"held-out image AUC {h['image_auc_all']} ({h['image_score']}; tile-map rule "
        f"{h['score_rule']} alone {h['score_rule_image_auc']}), tile AUC {h['tile_auc']}, "
        f"mean IoU {h['mean_iou_all']} (regions at {h['region_fraction']} of the way from "
        f"the map's median to its top); at threshold {h['image_threshold']}: unedited "
        f"{h['unedited_at_or_above_threshold']}, edited {h['edited_at_or_above_threshold']}",
    ]
    if "finding_pixel_iou" in h:  # manifests before 2026-12-06 lack it
        lines.append(
            f"regions shown with the finding ({h['finding_files']} edited files): "
            f"pixel IoU {h['finding_pixel_iou']}; every edited file {h['mean_pixel_iou']}"
        )
    skipped = manifest["data"].get("sources_without_files")
    if skipped:  # manifests before 2026-12-06 evening lack it
        lines.append(f"sources listed that gave no file (not decodable?): {', '.join(skipped)}")
    for k, v in h["per_kind"].items():
        lines.append(f"  {k:9s} n={v['n']:3d} AUC {v['auc']} IoU {v['mean_iou']}")
    for k, v in h["per_chain"].items():
        lines.append(
            f"  {k:12s} n={v['n']:3d} AUC {v['auc']} unedited flagged "
            f"{v['unedited_at_or_above_threshold']} of {v['unedited']}"
        )
    return "\n".join(lines)
