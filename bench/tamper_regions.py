#!/usr/bin/env python3
"""Benchmark: where the tamper regions lose IoU, and the block-level border.

    python bench/tamper_regions.py [--model DIR] [--seed 1] [--jobs 2]

The files: the validation sources of ``python -m triage.train tamper`` (never trained
on; ``--seed``: the generator seed, 1 is the manifest's own validation set), edited
files only. Per file, the analyzer's region (the peak region at the manifest's
fraction) against the edit mask, and the split of the gap:

- (a) detection misses: the region does not touch the edited tiles (among them, files
  whose edit covers no tile to half: nothing at tile level can match them);
- (b) the tile grid: the pixel IoU of the best tile-level region (the mask rasterised
  onto the tiles, a tile in when at least half edited), the ceiling of any tile rule;
- (c) the threshold: the IoU with the best fraction chosen per file afterwards (an
  oracle), and the region's size against the edit's.

Then tile and pixel IoU of the tile region and of the refined region
(``tampermap.refined_region``), with a 5-95% bootstrap over sources of the
difference, on all sources and on the reporting half. Last, the regions a report
shows: the analyzer draws its region only with its finding (image score at or above
the manifest's ``image_threshold``), so the pixel IoU of the refined region is also
given over the edited files that get a finding, next to the share of edited files
that get one, per kind, with a 5-95% bootstrap over sources. Skips cleanly when
../shared/training is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT.parent / "shared" / "training"
MODELS = ROOT / "triage" / "data" / "models"


def tile_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    union = (pred | truth).sum()
    return float((pred & truth).sum() / union) if union else 0.0


def pixel_iou(pred: np.ndarray, cells: np.ndarray) -> float:
    inter = float(cells[pred].sum())
    union = float(pred.sum()) + float(cells.sum()) - inter
    return inter / union if union else 0.0


def per_file(prob: np.ndarray, sm: Any, fraction: float) -> dict[str, float]:
    """The figures of one edited file (see the module docstring)."""
    from triage.forensics.tampermap import (
        CELLS,
        peak_region,
        refined_region,
        relative_threshold,
    )

    truth = sm.share >= 0.5
    k = sm.cells.shape[0] // max(1, prob.shape[0])
    up = np.ones((k, k), bool)
    threshold = relative_threshold(prob, fraction)
    hot = peak_region(prob, threshold)
    fine = np.kron(refined_region(prob, hot, threshold), np.ones((k // CELLS,) * 2, bool))
    oracle = max(
        tile_iou(peak_region(prob, relative_threshold(prob, f)), truth)
        for f in np.arange(0.05, 0.96, 0.05)
    )
    return {
        "tile": tile_iou(hot, truth),
        "pixel": pixel_iou(np.kron(hot, up), sm.cells),
        "refined_pixel": pixel_iou(fine, sm.cells),
        # the refined region read back on the tiles (a tile in when half its cells are)
        "refined_tile": tile_iou(
            fine.reshape(prob.shape[0], k, prob.shape[1], k).mean(axis=(1, 3)) >= 0.5, truth
        ),
        "miss": float(not (hot & truth).any()),
        "empty_truth": float(not truth.any()),
        "ceiling_pixel": pixel_iou(np.kron(truth, up), sm.cells),
        "oracle_tile": oracle,
        "size_ratio": float(hot.sum()) / max(1, int(truth.sum())),
    }


def bootstrap(diff: np.ndarray, sources: np.ndarray, rounds: int = 2000) -> tuple[float, float]:
    """5-95% interval of the mean of ``diff`` over a bootstrap of the sources."""
    rng = np.random.default_rng(0)
    names = np.unique(sources)
    groups = [np.nonzero(sources == n)[0] for n in names]
    means = []
    for _ in range(rounds):
        pick = np.concatenate([groups[i] for i in rng.integers(0, len(names), len(names))])
        means.append(float(diff[pick].mean()))
    lo, hi = np.quantile(means, [0.05, 0.95])
    return float(lo), float(hi)


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney AUC of scores ``pos`` over ``neg``, ties counted 1/2 (NaN when a
    side is empty)."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    a = np.sort(neg)
    lo, hi = np.searchsorted(a, pos, "left"), np.searchsorted(a, pos, "right")
    return float((lo + 0.5 * (hi - lo)).sum() / (len(pos) * len(neg)))


def compare_table(
    label: str,
    idx: np.ndarray,
    sources: np.ndarray,
    variants: list[str],
    measure: Callable[[str, np.ndarray], dict[str, float]],
    noun: str = "variant",
    rounds: int = 1000,
) -> None:
    """Print a markdown table: each of ``variants``' figures on the files ``idx``
    (``measure(variant, files)``) and its difference with the one named "shipped",
    with a 5-95% bootstrap over ``sources`` (the source of each file of ``idx``)."""
    names = np.unique(sources)
    groups = [idx[sources == n] for n in names]
    base = {m: measure(m, idx) for m in variants}
    rng = np.random.default_rng(0)
    others = [m for m in variants if m != "shipped"]
    diffs: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in others}
    for _ in range(rounds):
        pick = np.concatenate([groups[i] for i in rng.integers(0, len(names), len(names))])
        old = measure("shipped", pick)
        for m in others:
            new = measure(m, pick)
            for key, v in old.items():
                diffs[m][key].append(new[key] - v)
    print(f"\n{label}: {len(idx)} files of {len(names)} sources; {noun} (minus shipped, 5-95%)")
    print("| | shipped | " + " | ".join(others) + " |")
    print("|---|---|" + "---|" * len(others))
    for key, v in base["shipped"].items():
        cells = []
        for m in others:
            d = np.array(diffs[m][key], float)
            lo, hi = np.nanpercentile(d, [5, 95]) if np.isfinite(d).any() else (np.nan, np.nan)
            cells.append(f"{base[m][key]:.3f} ({base[m][key] - v:+.3f}, {lo:+.3f}..{hi:+.3f})")
        print(f"| {key} | {v:.3f} | " + " | ".join(cells) + " |")


def load_members(model: Path) -> tuple[dict[str, Any], list[Any], list[Any]]:
    """The manifest in the folder ``model`` and its members' tile and image boosters."""
    import lightgbm as lgb

    manifest = json.loads((model / "tamper.manifest.json").read_text("utf-8"))
    tiles, images = (
        [lgb.Booster(model_file=str(model / m[key])) for m in manifest["members"]]
        for key in ("tile_model", "image_model")
    )
    return manifest, tiles, images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODELS)
    parser.add_argument(
        "--seed", type=int, nargs="+", default=[1], help="generator seeds (rounds) to read"
    )
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not TRAINING.is_dir():
        print(f"skipped: {TRAINING} not found")
        return 0
    from triage.forensics.tampermap import ensemble_map, ensemble_probability
    from triage.train import tamper as train
    from triage.train.edits import list_sources, split_sources

    manifest, boosters, image_models = load_members(args.model)
    fraction = float(manifest["held_out"]["region_fraction"])
    _, val_src = split_sources(list_sources(TRAINING))
    rows = []
    for seed in args.seed:
        samples = train.featurize_sources(
            val_src, seed, 4, train.VALIDATION_UNEDITED, original=True, jobs=args.jobs
        )
        for sm in samples:
            if sm.kind == "none":
                continue
            maps = [train.predict_map(b, sm.feats) for b in boosters]
            prob = ensemble_map(maps)
            figures = per_file(prob, sm, fraction)
            figures["image_score"] = ensemble_probability(maps, image_models)
            rows.append((sm, figures))
    sources = np.array([sm.source_id for sm, _ in rows])
    half = np.array([train._half(sm.source_id) for sm, _ in rows])
    kinds = np.array([sm.kind for sm, _ in rows])

    def col(key: str) -> np.ndarray:
        return np.array([r[key] for _, r in rows])

    tile, miss, empty = col("tile"), col("miss"), col("empty_truth")
    hits = miss == 0
    print(f"{len(rows)} edited files, {len(np.unique(sources))} sources, fraction {fraction}")
    print(f"mean tile IoU {tile.mean():.3f}; pixel IoU {col('pixel').mean():.3f}")
    print(
        f"(a) misses (region off the edit): {int(miss.sum())} files ({miss.mean():.0%}), "
        f"of which {int((miss * empty).sum())} with no tile half edited; "
        f"hits: {int(hits.sum())} files, mean tile IoU {tile[hits].mean():.3f}; "
        f"misses lifted to the hits' mean would give {np.where(hits, tile, tile[hits].mean()).mean():.3f}"
    )
    print(
        f"(b) the tile grid: pixel IoU of the mask rasterised on the tiles {col('ceiling_pixel').mean():.3f} "
        f"(tile IoU ceiling {1 - empty.mean():.3f})"
    )
    oracle = col("oracle_tile")
    ratio = col("size_ratio")
    print(
        f"(c) the threshold: best fraction per file {oracle.mean():.3f} "
        f"(hits {oracle[hits].mean():.3f}, hits only: {np.where(hits, oracle, tile).mean():.3f}); "
        f"region / edit tiles, median: hits {np.median(ratio[hits]):.2f}"
    )
    for lo, hi in ((0, 0.01), (0.01, 0.03), (0.03, 0.1), (0.1, 1.01)):
        cover = np.array([float(sm.share.mean()) for sm, _ in rows])
        sel = (cover >= lo) & (cover < hi)
        if sel.any():
            print(
                f"    edit {lo:.0%}-{hi:.0%} of the tiles: {int(sel.sum())} files, tile IoU "
                f"{tile[sel].mean():.3f}, misses {miss[sel].mean():.0%}, region/edit median "
                f"{np.median(ratio[sel]):.2f}"
            )
    for label, sel in (("all sources", half >= 0), ("reporting half", half == 1)):
        for metric, before, after in (
            ("tile IoU", "tile", "refined_tile"),
            ("pixel IoU", "pixel", "refined_pixel"),
        ):
            b, a = col(before)[sel], col(after)[sel]
            lo, hi = bootstrap(a - b, sources[sel])
            print(
                f"{label:15s} {metric}: tile region {b.mean():.3f}, refined {a.mean():.3f}, "
                f"difference {a.mean() - b.mean():+.3f} (5-95% {lo:+.3f}..{hi:+.3f})"
            )
    for kind in sorted(set(kinds)):
        sel = kinds == kind
        print(
            f"    {kind:9s} n={int(sel.sum()):3d} tile IoU {tile[sel].mean():.3f} -> "
            f"{col('refined_tile')[sel].mean():.3f}; pixel IoU {col('pixel')[sel].mean():.3f} -> "
            f"{col('refined_pixel')[sel].mean():.3f}; misses {miss[sel].mean():.0%}"
        )
    reported_regions(rows, float(manifest["held_out"]["image_threshold"]), sources, half, kinds)
    return 0


def reported_regions(
    rows: list[tuple[Any, dict[str, float]]],
    threshold: float,
    sources: np.ndarray,
    half: np.ndarray,
    kinds: np.ndarray,
) -> None:
    """Print the pixel IoU of the refined region over the edited files whose image score
    reaches ``threshold`` (those that get the finding, the only ones whose report draws
    a region), the share of edited files that get it, and the misses among them."""
    score = np.array([r["image_score"] for _, r in rows])
    iou = np.array([r["refined_pixel"] for _, r in rows])
    miss = np.array([r["miss"] for _, r in rows])
    found = score >= threshold
    print(f"\nregions in the reports (a finding: image score >= {threshold}):")
    for label, sel in (("all sources", half >= 0), ("reporting half", half == 1)):
        pick = sel & found
        lo, hi = bootstrap(iou[pick], sources[pick]) if pick.any() else (np.nan, np.nan)
        print(
            f"{label:15s} edited files with a finding {int(pick.sum())} of {int(sel.sum())} "
            f"({pick.sum() / max(1, sel.sum()):.0%}); their pixel IoU {iou[pick].mean():.3f} "
            f"(5-95% {lo:.3f}..{hi:.3f}), region off the edit {miss[pick].mean():.0%}; "
            f"every edited file {iou[sel].mean():.3f}"
        )
    for kind in sorted(set(kinds)):
        sel = (kinds == kind) & found
        print(
            f"    {kind:9s} with a finding {int(sel.sum()):3d} of {int((kinds == kind).sum()):3d}: "
            f"pixel IoU {iou[sel].mean() if sel.any() else float('nan'):.3f}"
        )


if __name__ == "__main__":
    sys.exit(main())
