#!/usr/bin/env python3
"""Benchmark: the shipped tamper model read on four tile grids (test-time offsets).

    python bench/tamper_offsets.py [--rounds 1 11] [--cache FILE] [--check 3] [--limit N]
    python bench/tamper_offsets.py --cost N

A tile pools 4 x 4 sampled blocks. The per-block statistics
(``blockfeatures.block_statistics``) are computed once and pooled on four grids: the
file's own tile grid, and the grid shifted by half a tile (2 sampled blocks) in rows,
in columns and in both. What depends on the grid is recomputed per grid (ring means,
the image medians, the noise-vs-content fit, brightness, clipped share); the shifted
grids have one tile row or column fewer. The same members (no retraining) read every
grid. The readings (:data:`READINGS`), each against the shipped one (the own grid):

- image score: the mean over the grids of the ensemble image probability (each
  member's image model on its map of that grid, ``tampermap.ensemble_probability``),
  on four grids or on two (own and diagonal, the cheaper variant);
- region: on the half-tile map (each half-tile cell the mean of the grids' ensemble
  tiles that cover it), the peak region (at least 2 tiles' area) and its border on the
  block grid (``tampermap.refined_region`` with 2 cells per half tile); or ("border")
  the shipped peak region and threshold with its border drawn on the half-tile map.
  Tile IoU (the refined region read back on the tiles) and pixel IoU (8-px cells) as
  ``bench/tamper_regions.py`` counts them, also by the edit's size.

Files: the 34 validation sources of ``python -m triage.train tamper`` (never trained
on), 4.3's chains, generator seeds ``--rounds`` (1 is the manifest's own validation
set), the camera file, three unedited copies and four edits per source and round.
Differences are reading minus shipped with a 5-95% bootstrap over the sources; the
image threshold (5% of unedited files) and the region fraction are chosen on the first
half (``train._half``), figures given on the reporting half and on all sources. One
process, lightgbm on one thread. ``--cost N``: the extra features and predicts of the
grids on the 12 MP JPEG of ``bench/tamper.py``, in decodes measured in the same run.
Skips cleanly when ../shared/training is absent. Results: docs/analyzers/tamper.md,
"Test-time grid offsets".
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tamper_regions import auc as _auc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT.parent / "shared" / "training"
MODELS = ROOT / "triage" / "data" / "models"
# (rows, columns) shift of a grid in sampled blocks: own, rows, columns, diagonal.
OFFSETS = ((0, 0), (2, 0), (0, 2), (2, 2))
DIAGONAL = (0, 3)  # indexes into OFFSETS of the two-grid variant
FRACTIONS = (0.2, 0.3, 0.4, 0.5, 0.6)
BOOTSTRAP = 1000


def grid_features(
    rgb: np.ndarray, qtable: Any, grids: tuple[int, ...] = (0, 1, 2, 3)
) -> tuple[list[np.ndarray], int]:
    """Tile features of ``rgb`` on the ``grids`` of :data:`OFFSETS` (the own grid's
    equal ``rgb_tile_features(rgb, qtable).values``), and the tile side in pixels. The
    block statistics are computed once, as ``rgb_tile_features`` computes them."""
    from triage.forensics import blockfeatures as bf
    from triage.forensics.dct import to_zigzag

    h, w = rgb.shape[:2]
    step = bf.stride_for(h, w)
    tile = bf.TILE * step
    rows, cols = h // tile, w // tile
    b = bf.BLOCKS
    qz = to_zigzag(qtable) if qtable is not None and len(qtable) == 64 else bf.default_table()
    ycc = bf._block_ycrcb(rgb, rows, cols, step)
    luma = ycc[:, :, :, 0].reshape(-1, 64).astype(np.float32)
    cr = ycc[:, :, :, 1].reshape(-1, 64)
    shifted = bf._block_ycrcb(rgb, rows, cols, step, offset=4)[:, :, :, 0].reshape(-1, 64)
    stats, gain = bf.block_statistics(luma, shifted, cr, qz, use_dq=qtable is not None)
    blocks = stats.reshape(len(bf.STATISTICS), rows * b, cols * b)
    pixels = luma.reshape(rows * b, cols * b, 64)
    out = []
    for dr, dc in (OFFSETS[g] for g in grids):
        nr, nc = rows - (dr > 0), cols - (dc > 0)
        if nr <= 0 or nc <= 0:
            out.append(np.zeros((max(nr, 0), max(nc, 0), len(bf.FEATURE_NAMES)), np.float32))
            continue
        s = blocks[:, dr : dr + nr * b, dc : dc + nc * b]
        pooled = s.reshape(len(bf.STATISTICS), nr, b, nc, b).mean(axis=(2, 4))
        parts = bf._tile_ring_median(pooled)
        parts.append(bf._noise_vs_content(pooled[0], pooled[2]))
        px = pixels[dr : dr + nr * b, dc : dc + nc * b].reshape(nr, b, nc, b, 64)
        parts.append(px.mean(axis=(1, 3, 4)) / 255.0)
        clipped = np.count_nonzero((px <= 2) | (px >= 253), axis=(1, 3, 4))
        parts.append(clipped / (b * b * 64))
        parts.append(np.full((nr, nc), float(np.log(qz[1:16].mean())), np.float32))
        parts.append(np.full((nr, nc), gain, np.float32))
        out.append(np.stack(parts, axis=-1).astype(np.float32))
    return out, tile


def half_tile_map(maps: list[np.ndarray], grids: tuple[int, ...]) -> np.ndarray:
    """(2 rows, 2 cols) map of half-tile cells, each the mean of the tiles of the
    ``grids`` (indexes into :data:`OFFSETS`) that cover it."""
    rows, cols = maps[0].shape
    total = np.zeros((2 * rows, 2 * cols), np.float64)
    count = np.zeros_like(total)
    for g in grids:
        dr, dc = (v // 2 for v in OFFSETS[g])
        m = maps[g]
        cells = np.kron(m, np.ones((2, 2)))
        total[dr : dr + cells.shape[0], dc : dc + cells.shape[1]] += cells
        count[dr : dr + cells.shape[0], dc : dc + cells.shape[1]] += 1
    return (total / np.maximum(count, 1)).astype(np.float32)


@dataclass
class Row:
    """One validation file reduced to what the figures need."""

    kind: str
    chain: str
    source_id: str
    share: np.ndarray  # edited share per tile
    cells: np.ndarray  # edited share per 8-px cell
    maps: list[np.ndarray]  # the ensemble's tile map on each grid
    probs: list[float]  # the ensemble image probability on each grid
    seed: int  # the generator round


def collect(rounds: list[int], check: int, limit: int = 0) -> list[Row]:
    """Make the validation files of each round and read them on every grid."""
    import io

    import lightgbm as lgb
    from PIL import Image

    from triage.forensics.blockfeatures import rgb_tile_features
    from triage.forensics.tampermap import ensemble_map, ensemble_probability
    from triage.train.edits import PLATFORM_CHAINS, examples_of, list_sources, split_sources
    from triage.train.tamper import CELL, VALIDATION_UNEDITED, predict_map

    manifest = json.loads((MODELS / "tamper.manifest.json").read_text("utf-8"))
    members = [
        (
            lgb.Booster(model_file=str(MODELS / m["tile_model"])),
            lgb.Booster(model_file=str(MODELS / m["image_model"])),
        )
        for m in manifest["members"]
    ]
    _, val = split_sources(list_sources(TRAINING))
    val = val[:limit] if limit else val
    out: list[Row] = []
    for seed in rounds:
        for i in range(len(val)):
            for ex in examples_of(val, i, seed, 4, VALIDATION_UNEDITED, True, PLATFORM_CHAINS):
                with Image.open(io.BytesIO(ex.jpeg)) as im:
                    qtable = (getattr(im, "quantization", None) or {}).get(0)
                    rgb = np.asarray(im.convert("RGB"))
                feats, t = grid_features(rgb, qtable)
                if len(out) < check:  # the own grid is the shipped features, bit for bit
                    assert np.array_equal(feats[0], rgb_tile_features(rgb, qtable).values)
                r, c = feats[0].shape[:2]
                m = ex.mask[: r * t, : c * t].astype(np.float32)
                k = t // CELL
                member_maps = [[predict_map(b, f) for b, _ in members] for f in feats]
                out.append(
                    Row(
                        ex.kind,
                        ex.chain,
                        ex.source_id,
                        m.reshape(r, t, c, t).mean(axis=(1, 3)),
                        m.reshape(r * k, CELL, c * k, CELL).mean(axis=(1, 3)),
                        [ensemble_map(mm) for mm in member_maps],
                        [ensemble_probability(mm, [im for _, im in members]) for mm in member_maps],
                        seed,
                    )
                )
            print(f"round {seed}: {i + 1}/{len(val)} sources, {len(out)} files", file=sys.stderr)
    return out


def region_figures(
    row: Row, mode: str, grids: tuple[int, ...], fraction: float
) -> dict[str, float]:
    """Tile and pixel IoU of one edited file's region. ``mode``: "tile" (the shipped
    reading: the own grid's peak region, its border by ``refined_region`` on that map),
    "half" (the peak region of the half-tile map of ``grids`` at its own relative
    threshold, its border on that map) or "border" (the shipped peak region and
    threshold, its border drawn on the half-tile map of ``grids``)."""
    from triage.forensics.tampermap import CELLS, peak_region, refined_region, relative_threshold

    prob = row.maps[0]
    rows, cols = prob.shape
    k = row.cells.shape[0] // max(1, rows)  # 8-px cells per tile side
    if mode == "tile":
        threshold = relative_threshold(prob, fraction)
        hot = peak_region(prob, threshold)
        fine = refined_region(prob, hot, threshold)
        coarse = np.kron(hot, np.ones((k, k), bool))
    elif mode == "half":
        half = half_tile_map(row.maps, grids)
        threshold = relative_threshold(half, fraction)
        hot = peak_region(half, threshold, min_tiles=8)  # 2 tiles' area, as the tile rule
        fine = refined_region(half, hot, threshold, cells=CELLS // 2)
        coarse = np.kron(hot, np.ones((k // 2, k // 2), bool))
    else:
        threshold = relative_threshold(prob, fraction)
        hot = peak_region(prob, threshold)
        two = np.kron(hot, np.ones((2, 2), bool))
        fine = refined_region(half_tile_map(row.maps, grids), two, threshold, cells=CELLS // 2)
        coarse = np.kron(hot, np.ones((k, k), bool))
    fine_px = np.kron(fine, np.ones((k // CELLS,) * 2, bool))
    truth = row.share >= 0.5
    back = fine.reshape(rows, CELLS, cols, CELLS).mean(axis=(1, 3)) >= 0.5
    return {
        "pixel_region": _pixel_iou(coarse, row.cells),
        "pixel": _pixel_iou(fine_px, row.cells),
        "tile": _tile_iou(back, truth),
    }


def _tile_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    union = (pred | truth).sum()
    return float((pred & truth).sum() / union) if union else 0.0


def _pixel_iou(pred: np.ndarray, cells: np.ndarray) -> float:
    inter = float(cells[pred].sum())
    union = float(pred.sum()) + float(cells.sum()) - inter
    return inter / union if union else 0.0


def _nanmean(a: np.ndarray) -> float:
    """Mean of the finite values (NaN when none, without numpy's warning: a trial on a
    few sources leaves some kinds and sizes empty)."""
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else float("nan")


# name: (grids the image score averages, region mode of region_figures, its grids)
READINGS: dict[str, tuple[tuple[int, ...], str, tuple[int, ...]]] = {
    "shipped": ((0,), "tile", (0,)),
    "4 grids": ((0, 1, 2, 3), "half", (0, 1, 2, 3)),
    "diagonal": (DIAGONAL, "half", DIAGONAL),
    "4-grid border": ((0,), "border", (0, 1, 2, 3)),
    "diagonal border": ((0,), "border", DIAGONAL),
}


def readings(rows: list[Row]) -> dict[str, dict[str, Any]]:
    """Per reading of :data:`READINGS`: image scores, its threshold (5% of the first
    half's unedited files), and per edited file the region figures at the fraction
    with the best mean pixel IoU on the first half."""
    from triage.train.tamper import _half

    first = np.array([_half(r.source_id) == 0 for r in rows])
    edited = np.array([r.kind != "none" for r in rows])
    out: dict[str, dict[str, Any]] = {}
    for name, (score_grids, mode, region_grids) in READINGS.items():
        score = np.array([np.mean([r.probs[g] for g in score_grids]) for r in rows])
        threshold = float(np.quantile(score[first & ~edited], 0.95))
        per_fraction = {
            f: [
                region_figures(r, mode, region_grids, f) if r.kind != "none" else None for r in rows
            ]
            for f in FRACTIONS
        }
        best = max(
            FRACTIONS,
            key=lambda f: np.mean(
                [v["pixel"] for v, a in zip(per_fraction[f], first, strict=True) if v and a]
            ),
        )
        out[name] = {
            "score": score,
            "threshold": threshold,
            "fraction": best,
            **{
                key: np.array([v[key] if v else np.nan for v in per_fraction[best]])
                for key in ("pixel", "pixel_region", "tile")
            },
        }
    return out


def figures(rows: list[Row], reading: dict[str, Any], idx: np.ndarray) -> dict[str, float]:
    """Image AUC (all, per kind, per chain group), flagged shares and IoU on ``idx``."""
    from triage.train.tamper import _chain_groups

    kinds = np.array([rows[i].kind for i in idx])
    y = kinds != "none"
    sc = reading["score"][idx]
    res = {
        "image AUC": _auc(sc[y], sc[~y]),
        "unedited flagged": float(np.mean(sc[~y] >= reading["threshold"])),
        "edited flagged": float(np.mean(sc[y] >= reading["threshold"])),
        "pixel IoU (refined)": _nanmean(reading["pixel"][idx][y]),
        "pixel IoU (region cells)": _nanmean(reading["pixel_region"][idx][y]),
        "tile IoU": _nanmean(reading["tile"][idx][y]),
    }
    for k in ("splice", "copymove", "inpaint", "retouch", "overlay"):
        res[f"AUC {k}"] = _auc(sc[kinds == k], sc[~y])
        res[f"pixel IoU {k}"] = _nanmean(reading["pixel"][idx][kinds == k])
    # By the edit's size (its share of the tiles' area): small edits straddle tile borders.
    size = np.array([float(rows[i].share.mean()) for i in idx])
    for lo, hi in ((0, 0.01), (0.01, 0.03), (0.03, 0.1), (0.1, 1.01)):
        sel = y & (size >= lo) & (size < hi)
        res[f"pixel IoU, edit {lo:.0%}-{min(hi, 1):.0%}"] = float(
            _nanmean(reading["pixel"][idx][sel])
        )
        res[f"misses, edit {lo:.0%}-{min(hi, 1):.0%}"] = _nanmean(
            (reading["pixel"][idx][sel] == 0).astype(float)
        )
    groups = [set(_chain_groups(rows[i].chain)) for i in idx]
    for g in ("editor export q90-100", "platform chain", "resized", "not resized", "q65-79"):
        sel = np.array([g in gs for gs in groups])
        res[f"AUC {g}"] = _auc(sc[sel & y], sc[sel & ~y])
    return res


def compare(rows: list[Row], reads: dict[str, dict[str, Any]], label: str, idx: np.ndarray) -> None:
    """A markdown table: each reading on ``idx`` and its difference with the shipped
    one, with a 5-95% bootstrap over the sources of ``idx``."""
    from tamper_regions import compare_table

    compare_table(
        label,
        idx,
        np.array([rows[i].source_id for i in idx]),
        list(reads),
        lambda m, files: figures(rows, reads[m], files),
        "reading",
        BOOTSTRAP,
    )


def cost(repeat: int) -> None:
    """Time, on the 12 MP JPEG of ``bench/tamper.py``, the analyzer's features and
    predicts (three members' tile and image models) on the own grid, on the diagonal
    pair and on the four grids, against a plain decode of the file in the same run
    (interleaved, medians), with lightgbm's threads as the analyzer runs them."""
    import statistics
    import tempfile
    import time

    sys.path.insert(0, str(ROOT / "fixtures"))
    sys.path.insert(0, str(ROOT / "bench"))
    from compression import make_jpeg, pillow_decode
    from PIL import Image

    from triage.analyzers.tamper import load_model
    from triage.forensics.tampermap import ensemble_map, ensemble_probability

    boosters, _, image_models = load_model()
    assert image_models is not None

    def read(rgb: np.ndarray, qtable: Any, grids: tuple[int, ...]) -> float:
        t = time.perf_counter()
        feats, _ = grid_features(rgb, qtable, grids)
        maps = []
        for f in feats:
            x = f.reshape(-1, f.shape[-1])
            mm = [b.predict(x).reshape(f.shape[:2]).astype(np.float32) for b in boosters]
            ensemble_probability(mm, image_models)
            maps.append(ensemble_map(mm))
        if len(grids) > 1:  # the region's map (indexed as OFFSETS)
            by_offset = dict(zip(grids, maps, strict=True))
            half_tile_map([by_offset.get(g, maps[0]) for g in range(len(OFFSETS))], grids)
        return time.perf_counter() - t

    variants = {"own grid": (0,), "diagonal": DIAGONAL, "4 grids": (0, 1, 2, 3)}
    times: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "12mp.jpg"
        make_jpeg(path)
        with Image.open(path) as im:
            qtable = (getattr(im, "quantization", None) or {}).get(0)
            rgb = np.asarray(im.convert("RGB"))
        for _ in range(repeat):  # interleaved, so load drift hits all alike
            times["decode"].append(pillow_decode(path))
            for name, grids in variants.items():
                times[name].append(read(rgb, qtable, grids))
    d = statistics.median(times["decode"])
    own = statistics.median(times["own grid"])
    print(f"12 MP JPEG, medians of {repeat}: decode {d * 1000:.0f} ms")
    for name in variants:
        t = statistics.median(times[name])
        print(
            f"{name}: features and predicts {t * 1000:.0f} ms ({t / d:.2f} decodes), "
            f"over the own grid {(t - own) * 1000:+.0f} ms ({(t - own) / d:+.2f} decodes)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 11])
    parser.add_argument("--cache", type=Path, help="keep the maps here (read when present)")
    parser.add_argument("--check", type=int, default=3, help="files whose own grid is checked")
    parser.add_argument("--limit", type=int, default=0, help="first N sources only (a trial)")
    parser.add_argument("--cost", type=int, metavar="N", help="only time N rounds at 12 MP")
    args = parser.parse_args(argv)
    if args.cost:
        cost(args.cost)
        return 0
    if not (TRAINING / "MANIFEST.tsv").is_file():
        print(f"skipped: {TRAINING} not found")
        return 0
    # One core: lightgbm's predicts on one OpenMP thread (the same values as on two);
    # read when lightgbm is first imported, below.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.cache and args.cache.is_file():
        rows = pickle.loads(args.cache.read_bytes())
    else:
        rows = collect(args.rounds, args.check, args.limit)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(rows))
    from triage.train.tamper import _half

    reads = readings(rows)
    for m, r in reads.items():
        print(f"{m}: image threshold {r['threshold']:.3f}, region fraction {r['fraction']}")
    every = np.arange(len(rows))
    second = np.array([i for i, r in enumerate(rows) if _half(r.source_id) == 1])
    compare(rows, reads, "reporting half", second)
    compare(rows, reads, "all sources", every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
