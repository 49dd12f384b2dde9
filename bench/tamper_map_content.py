#!/usr/bin/env python3
"""Benchmark: does the hot part of a photo's tamper map follow its content? Map
statistics against content given to the tamper image model.

    python bench/tamper_map_content.py [--cache DIR]

The diagnosis of the card: an unedited photo's image score is decided by the few clean
tiles that look most edited, and those are content (a sky, a texture, clipped light).
Here each map also gets four statistics of how far content explains it: the tile
map's log-odds regressed (least squares) on the tiles' own high-, mid- and low-band
activity, zero share, brightness and clipped share; the R^2, the top 1% of the
residuals and the largest residual (both over the residuals' spread), and how much of
the top 1% tiles' height above the median the regression predicts. Each member's image
model (4.3's settings) is refitted on its out-of-fold training maps with the 16 map
statistics plus these four (or plus R^2 and the top residuals), the tile models as
shipped; the control (the 16 alone) gives back the shipped image scores exactly.
Held out: the 34 validation sources, 4.3's chains, generator seeds 1 and 11 (544
files); image AUC all and per kind, reporting half, 5-95% bootstrap over sources.
Features from ``bench/tamper_cfa.py``'s cache (made there on first use); the
out-of-fold maps are cached too. Skips cleanly when ../shared/training is absent.
Results: docs/analyzers/tamper.md, "More data for the image model".
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TRAINING = ROOT.parent / "shared" / "training"
MODELS = ROOT / "triage" / "data" / "models"
# Tile-value columns of FEATURE_NAMES read as content: hf, mf, lf, zeros, brightness, clipped.
CONTENT = (0, 4, 8, 12, 51, 52)
KINDS = ("splice", "copymove", "inpaint", "retouch", "overlay")


def content_statistics(prob: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """R^2 of the map's log-odds on the tiles' content, top-1% and largest residuals
    over the residuals' spread, and the share of the top tiles' height the content
    predicts (see the module docstring)."""
    p = np.clip(prob, 1e-4, 1 - 1e-4).ravel().astype(np.float64)
    x = np.log(p / (1 - p))
    if len(x) < 10:
        return np.zeros(4)
    a = np.hstack([feats.reshape(len(x), -1)[:, CONTENT].astype(np.float64), np.ones((len(x), 1))])
    coef, *_ = np.linalg.lstsq(a, x, rcond=None)
    fitted = a @ coef
    r = x - fitted
    spread = max(float(r.std()), 1e-6)
    k = max(1, len(x) // 100)
    top = np.argsort(x)[-k:]
    height = max(float(x[top].mean() - np.median(x)), 1e-6)
    return np.array(
        [
            1 - float(r.var()) / max(float(x.var()), 1e-9),
            float(np.sort(r)[-k:].mean()) / spread,
            float(r.max()) / spread,
            float(fitted[top].mean() - np.median(x)) / height,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/triage-tamper-cfa"))
    args = parser.parse_args(argv)
    if not TRAINING.is_dir():
        print(f"skipped: {TRAINING} not found")
        return 0
    import lightgbm as lgb
    from tamper_cfa import auc, auc_interval, experiment_data

    from triage.forensics.tampermap import ensemble_probability, map_statistics
    from triage.train import tamper as train

    sets, val = experiment_data(0, [1, 11], 2, args.cache)
    n = len(train.FEATURE_NAMES)
    names = list(train.FEATURE_NAMES)
    train.feature_names = lambda: names  # type: ignore[assignment]
    path = args.cache / "oof-maps.pkl"
    if path.is_file():
        with path.open("rb") as fh:
            oof = pickle.load(fh)
    else:
        oof = []
        for k, samples in enumerate(sets):
            cut = [replace(sm, feats=sm.feats[..., :n]) for sm in samples]
            maps = train.out_of_fold_maps(cut, k)
            oof.append(
                [(m, sm.feats[..., :n], sm.kind != "none") for m, sm in zip(maps, cut, strict=True)]
            )
        with path.open("wb") as fh:
            pickle.dump(oof, fh)
    manifest = json.loads((MODELS / "tamper.manifest.json").read_text("utf-8"))
    shipped = [
        (
            lgb.Booster(model_file=str(MODELS / m["tile_model"])),
            lgb.Booster(model_file=str(MODELS / m["image_model"])),
        )
        for m in manifest["members"]
    ]
    vmaps = [[train.predict_map(b, sm.feats[..., :n]) for b, _ in shipped] for sm in val]
    old = np.array([ensemble_probability(m, [im for _, im in shipped]) for m in vmaps])
    kinds = np.array([sm.kind for sm in val])
    sources = np.array([sm.source_id for sm in val])
    half = np.array([train._half(s) for s in sources])
    edited = kinds != "none"

    def stats(prob: np.ndarray, feats: np.ndarray) -> np.ndarray:
        return np.concatenate([map_statistics(prob), content_statistics(prob, feats)])

    # Every statistic of every map once; the variants read columns of them.
    train_x = [np.array([stats(m, f) for m, f, _ in member]) for member in oof]
    train_y = [np.array([float(e) for *_, e in member]) for member in oof]
    val_x = [
        np.array([stats(vm[k], sm.feats[..., :n]) for vm, sm in zip(vmaps, val, strict=True)])
        for k in range(len(oof))
    ]
    variants: dict[str, list[int]] = {
        "16 map statistics (control)": list(range(16)),
        "+ all four content statistics": list(range(20)),
        "+ R^2 and top residuals": [*range(16), 16, 17],
    }
    for label, cols in variants.items():
        models: list[Any] = []
        for k in range(len(oof)):
            data = lgb.Dataset(train_x[k][:, cols], train_y[k], free_raw_data=True)
            params = {**train.IMAGE_PARAMS, "seed": k}
            models.append(lgb.train(params, data, num_boost_round=train.IMAGE_ROUNDS))
        new = np.array(
            [
                np.mean([models[k].predict(val_x[k][i, cols][None])[0] for k in range(len(models))])
                for i in range(len(val))
            ]
        )
        parts = [label]
        for name, sel in (("all 34", half >= 0), ("reporting half", half == 1)):
            pos, neg = edited & sel, ~edited & sel
            lo, hi = auc_interval(new, old, pos, neg, sources)
            parts.append(
                f"{name} {auc(old[pos], old[neg]):.3f} -> {auc(new[pos], new[neg]):.3f} "
                f"({lo:+.3f}..{hi:+.3f})"
            )
        parts.append(" ".join(f"{k} {auc(new[kinds == k], new[~edited]):.3f}" for k in KINDS))
        print(" | ".join(parts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
