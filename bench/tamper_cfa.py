#!/usr/bin/env python3
"""Benchmark: the tamper model with colour-filter-array features beside the block
features, against the same recipe without them.

    python bench/tamper_cfa.py [--jobs 1] [--rounds 1 11] [--seed 0] [--cache DIR]

Both ensembles are 4.3's recipe (three members, seeds ``--seed`` + 0..2, each on its own
generated edits of the 84 training sources, 4.3's chains; out-of-fold image models);
the only difference is five more tile features (:mod:`triage.forensics.cfa`: the green
channel's lattice imbalance left by demosaicing, per tile against the photo's own
phase). With ``--seed 0`` the control is the shipped model retrained (checked: its
maps equal the shipped members'). Held out: the 34 validation sources, 4.3's chains,
generator seeds ``--rounds``. Printed: image AUC (all, per kind, per chain group),
pixel IoU of the refined peak region (fraction 0.4, as shipped), unedited files at or
above a threshold chosen on the first half (5% of its unedited files); on all sources
and on the reporting half, with a 5-95% bootstrap over sources of CFA minus control.
The features are cached in ``--cache``. Skips cleanly when ../shared/training is
absent. Results: docs/analyzers/tamper.md, "Demosaicing traces".
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tamper_regions import auc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TRAINING = ROOT.parent / "shared" / "training"
MODELS = ROOT / "triage" / "data" / "models"
BOOTSTRAP = 1000
FRACTION = 0.4


def features_with_cfa(data: bytes) -> tuple[np.ndarray, int]:
    """The analyzer's tile features of a served file, then the CFA features of the same
    sampled blocks; and the tile side in pixels."""
    from PIL import Image

    from triage.forensics import blockfeatures as bf
    from triage.forensics.cfa import cfa_tile_features, green_lattice_energy

    with Image.open(io.BytesIO(data)) as im:
        tables = getattr(im, "quantization", None) or {}
        rgb = np.asarray(im.convert("RGB"))
    tf = bf.rgb_tile_features(rgb, tables.get(0))
    rows, cols = tf.shape
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols, tf.values.shape[-1] + 5), np.float32), tf.tile
    blocks = bf._sampled_blocks(rgb, rows, cols, tf.step)
    even, odd = green_lattice_energy(blocks)
    cfa = cfa_tile_features(even, odd, bf.BLOCKS)
    return np.concatenate([tf.values, cfa], axis=-1), tf.tile


def _featurize_source(args: tuple[list[Path], int, int, int, int, bool]) -> list[Any]:
    from triage.train.edits import PLATFORM_CHAINS, examples_of

    sources, i, seed, edits, unedited, original = args
    examples = examples_of(sources, i, seed, edits, unedited, original, PLATFORM_CHAINS)
    return samples_of(examples, features_with_cfa)


def featurize(
    sources: list[Path],
    seed: int,
    edits: int,
    unedited: int,
    jobs: int,
    cache: Path,
    name: str,
    worker: Callable[[Any], list[Any]] = _featurize_source,
) -> list[Any]:
    path = cache / f"{name}.pkl"
    if path.is_file():
        with path.open("rb") as fh:
            return list(pickle.load(fh))
    tasks = [(sources, i, seed, edits, unedited, True) for i in range(len(sources))]
    if jobs <= 1:
        parts = [worker(t) for t in tasks]
    else:
        from multiprocessing import get_context

        with get_context("spawn").Pool(jobs) as pool:
            parts = pool.map(worker, tasks, chunksize=1)
    samples = [sm for part in parts for sm in part]
    with path.open("wb") as fh:
        pickle.dump(samples, fh)
    return samples


def train_members(
    sets: list[list[Any]],
    seed: int,
    n_features: int,
    rounds: int | None = None,
    extra_names: tuple[str, ...] | None = None,
) -> list[tuple[Any, Any]]:
    """4.3's recipe per member on the first ``n_features`` columns (``rounds`` trees,
    default 4.3's), with ``triage.train.tamper.PARAMS`` as they are; the columns after
    the block features are named ``extra_names`` (default: the CFA features)."""
    from dataclasses import replace

    from triage.forensics.blockfeatures import FEATURE_NAMES
    from triage.forensics.cfa import CFA_FEATURE_NAMES
    from triage.train import tamper as train

    rounds = rounds or train.ROUNDS
    names = [*FEATURE_NAMES, *(CFA_FEATURE_NAMES if extra_names is None else extra_names)]
    names = names[:n_features]
    train.feature_names = lambda: names  # type: ignore[assignment]
    members = []
    for k, samples in enumerate(sets):
        cut = [replace(sm, feats=sm.feats[..., :n_features]) for sm in samples]
        maps = train.out_of_fold_maps(cut, seed + k, rounds=rounds)
        members.append(
            (train.fit(cut, seed + k, rounds), train.fit_image_model(cut, maps, seed + k))
        )
    return members


def read_held_out(
    members: list[tuple[Any, Any]], val: list[Any], n_features: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ensemble image score of every held-out sample, and the pixel IoU of its
    refined peak region (fraction :data:`FRACTION`; NaN on unedited samples)."""
    from tamper_regions import per_file

    from triage.forensics.tampermap import ensemble_map, ensemble_probability
    from triage.train import tamper as train

    scores, pixel = [], []
    for sm in val:
        maps = [train.predict_map(b, sm.feats[..., :n_features]) for b, _ in members]
        scores.append(ensemble_probability(maps, [m for _, m in members]))
        pixel.append(
            per_file(ensemble_map(maps), sm, FRACTION)["refined_pixel"]
            if sm.kind != "none"
            else np.nan
        )
    return np.array(scores), np.array(pixel)


def experiment_data(
    seed: int,
    rounds: list[int],
    jobs: int,
    cache: Path,
    worker: Callable[[Any], list[Any]] = _featurize_source,
) -> tuple[list[list[Any]], list[Any]]:
    """The three members' training samples (seeds ``seed`` + 0..2, the training
    sources) and the held-out samples (the 34 validation sources, generator seeds
    ``rounds``), each made by ``worker`` (default: with the CFA columns after the block
    features); lightgbm set to ``jobs`` threads."""
    from triage.train import tamper as train
    from triage.train.edits import list_sources, split_sources

    os.environ.setdefault("OMP_NUM_THREADS", str(jobs))
    train.PARAMS["num_threads"] = jobs
    train.IMAGE_PARAMS["num_threads"] = jobs
    cache.mkdir(parents=True, exist_ok=True)
    train_src, val_src = split_sources(list_sources(TRAINING))
    sets = [
        featurize(train_src, seed + k, 4, 1, jobs, cache, f"train-{seed + k}", worker)
        for k in range(train.MEMBERS)
    ]
    val = [
        sm
        for r in rounds
        for sm in featurize(
            val_src, r, 4, train.VALIDATION_UNEDITED, jobs, cache, f"val-{r}", worker
        )
    ]
    return sets, val


def source_bootstrap(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    pos: np.ndarray,
    neg: np.ndarray,
    sources: np.ndarray,
) -> tuple[float, float]:
    """5-95% interval of ``statistic(p, q)`` (indices of ``pos`` and of ``neg`` files)
    over a bootstrap of the sources (seed 0, :data:`BOOTSTRAP` draws)."""
    rng = np.random.default_rng(0)
    names = np.unique(sources[pos | neg])
    where = {s: np.nonzero(sources == s)[0] for s in names}
    draws = []
    for _ in range(BOOTSTRAP):
        w = np.concatenate([where[s] for s in rng.choice(names, len(names))])
        p, q = w[pos[w]], w[neg[w]]
        if len(p) and len(q):
            draws.append(statistic(p, q))
    lo, hi = np.quantile(draws, [0.05, 0.95])
    return float(lo), float(hi)


def auc_interval(
    new: np.ndarray, old: np.ndarray, pos: np.ndarray, neg: np.ndarray, sources: np.ndarray
) -> tuple[float, float]:
    """5-95% interval of AUC(new) - AUC(old) on ``pos`` against ``neg`` over a
    bootstrap of the sources."""
    return source_bootstrap(
        lambda p, q: auc(new[p], new[q]) - auc(old[p], old[q]), pos, neg, sources
    )


def samples_of(examples: Any, features: Callable[[bytes], tuple[np.ndarray, int]]) -> list[Any]:
    """Training samples of generated ``examples``, each featurized by ``features``
    (served bytes -> (tile features, tile side))."""
    from triage.train import tamper as train

    out = []
    for ex in examples:
        feats, t = features(ex.jpeg)
        share, cells = train.mask_shares(ex.mask, feats.shape[0], feats.shape[1], t)
        out.append(train.Sample(feats, share, ex.kind, ex.chain, ex.source_id, cells))
    return out


def read_arms(
    sets: list[list[Any]],
    val: list[Any],
    seed: int,
    arms: dict[str, int],
    extra_names: tuple[str, ...] | None = None,
    check_shipped: bool = False,
) -> dict[str, dict[str, np.ndarray]]:
    """Per arm (name: how many feature columns it reads), the held-out image scores
    and pixel IoU of 4.3's recipe trained on ``sets``. With ``check_shipped`` (seed 0,
    the generator as shipped) the first arm's member 0 is compared with the shipped one."""
    from triage.train import tamper as train

    readings: dict[str, dict[str, np.ndarray]] = {}
    for i, (name, n) in enumerate(arms.items()):
        members = train_members(sets, seed, n, extra_names=extra_names)
        scores, pixel = read_held_out(members, val, n)
        readings[name] = {"score": scores, "pixel": pixel}
        if i == 0 and check_shipped:
            import lightgbm as lgb

            shipped = lgb.Booster(model_file=str(MODELS / "tamper.txt"))
            diff = max(
                float(np.abs(train.predict_map(shipped, sm.feats[..., :n]) - maps0).max())
                for sm, maps0 in (
                    (sm, train.predict_map(members[0][0], sm.feats[..., :n])) for sm in val[:5]
                )
            )
            print(f"{name} member 0 against the shipped member 0: max |diff| {diff:.2e}")
        print(f"{name}: trained and read", flush=True)
    return readings


def print_comparison(readings: dict[str, dict[str, np.ndarray]], val: list[Any]) -> None:
    """Image AUC (all, per kind, per chain group) of the two arms of ``readings`` and
    their difference (5-95% over sources), pixel IoU, and unedited files flagged at a
    threshold chosen on the first half; on all sources and on the reporting half."""
    from tamper_regions import bootstrap

    from triage.train import tamper as train

    old, new = list(readings)
    kinds = np.array([sm.kind for sm in val])
    sources = np.array([sm.source_id for sm in val])
    half = np.array([train._half(s) for s in sources])
    edited = kinds != "none"
    chain_sets: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(val), bool))
    for i, sm in enumerate(val):
        for g in train._chain_groups(sm.chain):
            chain_sets[g][i] = True
    rows: list[tuple[str, np.ndarray, np.ndarray]] = [("all", edited, ~edited)]
    rows += [(f"kind {k}", kinds == k, ~edited) for k in sorted(set(kinds) - {"none"})]
    rows += [(f"chain {g}", s & edited, s & ~edited) for g, s in sorted(chain_sets.items())]
    for label, sel_half in (("all 34 sources", half >= 0), ("reporting half", half == 1)):
        print(f"\n| {label} | {old} | {new} | {new} - {old} (5-95%) |\n|---|---|---|---|")
        for row, pos, neg in rows:
            pos, neg = pos & sel_half, neg & sel_half
            if not pos.any() or not neg.any():
                continue
            a = [auc(readings[n]["score"][pos], readings[n]["score"][neg]) for n in readings]
            lo, hi = auc_interval(readings[new]["score"], readings[old]["score"], pos, neg, sources)
            print(
                f"| AUC {row} ({int(pos.sum())}/{int(neg.sum())}) | {a[0]:.3f} | {a[1]:.3f} | "
                f"{a[1] - a[0]:+.3f} ({lo:+.3f}..{hi:+.3f}) |"
            )
        sel = edited & sel_half
        c, f = readings[old]["pixel"][sel], readings[new]["pixel"][sel]
        lo, hi = bootstrap(f - c, sources[sel], BOOTSTRAP)
        print(
            f"| pixel IoU ({int(sel.sum())}) | {c.mean():.3f} | {f.mean():.3f} | "
            f"{f.mean() - c.mean():+.3f} ({lo:+.3f}..{hi:+.3f}) |"
        )
        first = (half == 0) & ~edited
        for name in readings:
            t = float(np.quantile(readings[name]["score"][first], 0.95))
            flagged = readings[name]["score"][sel_half & ~edited] >= t
            hit = readings[name]["score"][sel] >= t
            print(
                f"  {name}: threshold {t:.3f}, unedited {flagged.mean():.1%}, edited {hit.mean():.1%}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 11])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/triage-tamper-cfa"))
    args = parser.parse_args(argv)
    if not TRAINING.is_dir():
        print(f"skipped: {TRAINING} not found")
        return 0

    from triage.train import tamper as train

    sets, val = experiment_data(args.seed, args.rounds, args.jobs, args.cache)
    n_block = len(train.FEATURE_NAMES)
    print(f"{sum(map(len, sets))} training files, {len(val)} held-out files", flush=True)
    arms = {"control": n_block, "cfa": n_block + 5}
    readings = read_arms(sets, val, args.seed, arms, check_shipped=args.seed == 0)
    print_comparison(readings, val)
    return 0


if __name__ == "__main__":
    sys.exit(main())
