#!/usr/bin/env python3
"""Benchmark: two tamper models on the same held-out generated files, through model
4.3's chains and through the mixed routes (small copies, PNG saves, edits made on a
web copy; ``triage.train.edits.MIXED_CHAINS``).

    python bench/tamper_chains.py --new DIR [DIR ...] [--old DIR] [--rounds 1 11 21]
        [--jobs 2] [--platform-only] [--cache DIR]

The files: the validation sources of ``python -m triage.train tamper`` (never trained
on), each round one more set of edits and copies of them (``--rounds``: generator
seeds; 4.3's chains use the first two). Per model (a folder holding a
``tamper.manifest.json`` and its members; ``--old`` defaults to the shipped one): image
AUC (all, per edit kind, per chain group), mean IoU of the peak region (its fraction
chosen on the first half of the same files, per model), unedited files at or above the
model's own threshold; then new minus old with a 5-95% bootstrap over the sources, on
all sources and on the reporting half (the sources ``_half`` puts second, as the
manifest's figures). Several ``--new`` folders are each compared with the old one on
the same files (featurized once; ``--cache``: kept in DIR for the next run, e.g. with
another ``--old``). Nothing here is a target. Skips cleanly when
../shared/training is absent.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from tamper_regions import auc
from tamper_regions import load_members as load_ensemble

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT.parent / "shared" / "training"


def load_members(folder: Path) -> tuple[list[tuple[Any, Any]], float, int]:
    """The (tile, image) boosters of a model folder, its image threshold and the block
    form its features are read in."""
    manifest, tiles, images = load_ensemble(folder)
    members = list(zip(tiles, images, strict=True))
    return (
        members,
        float(manifest["held_out"]["image_threshold"]),
        manifest.get("block_features", 1),
    )


def model_outputs(members: list[tuple[Any, Any]], samples: list[Any]) -> dict[str, Any]:
    """Image scores and per-file IoU (NaN for unedited files) of one model."""
    from triage.train.tamper import REGION_FRACTIONS, _ensemble_rows, _half, _iou_relative

    rows, scores = _ensemble_rows(members, samples)
    maps = [p for _, p in rows]
    first = [i for i, s in enumerate(samples) if _half(s.source_id) == 0 and s.kind != "none"]

    def first_iou(f: float) -> float:
        return float(np.mean([_iou_relative(maps[i], samples[i].share, f) for i in first]))

    frac = max(REGION_FRACTIONS, key=first_iou)
    iou = np.array(
        [
            _iou_relative(maps[i], s.share, frac) if s.kind != "none" else np.nan
            for i, s in enumerate(samples)
        ]
    )
    return {"score": np.asarray(scores), "iou": iou, "fraction": frac}


def figures(
    samples: list[Any], out: dict[str, Any], threshold: float, idx: np.ndarray
) -> dict[str, float]:
    """AUC / IoU / flagged share of one model on the files ``idx``."""
    from triage.train.tamper import _chain_groups

    y = np.array([s.kind != "none" for s in samples])[idx]
    kinds = np.array([s.kind for s in samples])[idx]
    groups = [set(_chain_groups(samples[i].chain)) for i in idx]
    sc, iou = out["score"][idx], out["iou"][idx]
    res = {
        "image AUC": auc(sc[y], sc[~y]),
        "IoU": float(np.nanmean(iou[y])),
        "unedited flagged": float(np.mean(sc[~y] >= threshold)),
    }
    for k in sorted(set(kinds) - {"none"}):
        res[f"AUC {k}"] = auc(sc[kinds == k], sc[~y])
    for g in sorted(set().union(*groups) - {"camera file untouched", "JPEG last"}):
        sel = np.array([g in gs for gs in groups])
        if sel.any():
            res[f"AUC {g}"] = auc(sc[sel & y], sc[sel & ~y])
    return res


def compare(
    samples: list[Any],
    outs: dict[str, dict[str, Any]],
    thresholds: dict[str, float],
    sources: list[str],
) -> None:
    """The table of new against old on the files of ``sources``."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        by_source[s.source_id].append(i)
    full = np.array([i for s in sources for i in by_source[s]])
    base = {m: figures(samples, outs[m], thresholds[m], full) for m in outs}
    rng = np.random.default_rng(0)
    diffs: dict[str, list[float]] = defaultdict(list)
    for _ in range(500):
        idx = np.array([i for s in rng.choice(sources, len(sources)) for i in by_source[s]])
        old = figures(samples, outs["old"], thresholds["old"], idx)
        new = figures(samples, outs["new"], thresholds["new"], idx)
        for k in base["old"]:
            diffs[k].append(new.get(k, np.nan) - old.get(k, np.nan))
    for k in base["old"]:
        d = np.array(diffs[k], float)
        lo, hi = (
            (np.nanpercentile(d, 5), np.nanpercentile(d, 95)) if np.isfinite(d).any() else (0, 0)
        )
        print(
            f"| {k} | {base['old'][k]:.3f} | {base['new'].get(k, np.nan):.3f} "
            f"| {base['new'].get(k, np.nan) - base['old'][k]:+.3f} ({lo:+.3f}..{hi:+.3f}) |"
        )


def _samples(
    val: list[Path], chains: str, rounds: list[int], form: int, jobs: int, cache: Path | None
) -> list[Any]:
    """The held-out files of ``chains`` for the generator seeds ``rounds``, featurized in
    block form ``form`` (kept in ``cache`` when given)."""
    from triage.train.tamper import VALIDATION_UNEDITED, featurize_sources

    name = f"{chains}-{'-'.join(map(str, rounds))}" + (f"-form{form}" if form != 1 else "")
    cached = cache / f"{name}.pkl" if cache else None
    if cached and cached.is_file():
        return list(pickle.loads(cached.read_bytes()))
    samples = [
        sm
        for seed in rounds
        for sm in featurize_sources(
            val, seed, 4, VALIDATION_UNEDITED, True, jobs, chains=chains, form=form
        )
    ]
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(pickle.dumps(samples))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", type=Path, nargs="+", required=True)
    parser.add_argument("--old", type=Path, default=ROOT / "triage" / "data" / "models")
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 11, 21])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--platform-only", action="store_true", help="4.3's chains only (not the mixed routes)"
    )
    parser.add_argument("--cache", type=Path, default=None, help="keep the featurized files here")
    args = parser.parse_args()
    if not (TRAINING / "MANIFEST.tsv").is_file():
        print("../shared/training is absent: skipped")
        return 0
    from triage.train.edits import MIXED_CHAINS, PLATFORM_CHAINS, list_sources, split_sources
    from triage.train.tamper import _half

    _, val = split_sources(list_sources(TRAINING))
    old = load_members(args.old)
    news = [load_members(folder) for folder in args.new]
    sets = [(PLATFORM_CHAINS, args.rounds[:2])]
    if not args.platform_only:
        sets.append((MIXED_CHAINS, args.rounds))
    for chains, rounds in sets:
        # The same files, read in each block form a model asks for.
        by_form = {
            form: _samples(val, chains, rounds, form, args.jobs, args.cache)
            for form in sorted({old[2], *(n[2] for n in news)})
        }
        samples = by_form[old[2]]
        old_out = model_outputs(old[0], samples)
        sources = sorted({s.source_id for s in samples})
        for folder, (members, threshold, form) in zip(args.new, news, strict=True):
            outs = {"old": old_out, "new": model_outputs(members, by_form[form])}
            thresholds = {"old": old[1], "new": threshold}
            print(f"\n{chains} chains, rounds {rounds}: {len(samples)} files of {len(val)} sources")
            print(f"old {args.old} ({len(old[0])} members), new {folder} ({len(members)} members)")
            for label, chosen in (
                ("all sources", sources),
                ("reporting half", [s for s in sources if _half(s) == 1]),
            ):
                print(
                    f"| {label} ({len(chosen)}) | old | new | new - old (5-95%, bootstrap over sources) |"
                )
                print("|---|---|---|---|")
                compare(samples, outs, thresholds, chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
