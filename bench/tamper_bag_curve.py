#!/usr/bin/env python3
"""Benchmark: how the tamper ensemble's held-out figures grow with the number of members.

    python bench/tamper_bag_curve.py --from DIR [DIR ...] [--sizes 1 2 3 4 6 9]
        [--bags 40] [--rounds 1 11] [--chains platform] [--cache DIR] [--jobs 2]

The members of every ``--from`` folder (each trained by ``python -m triage.train tamper
--seed S``: its own generated edits, its own image model) are pooled; for each bag size
n, up to ``--bags`` bags of n of them (all of them when fewer; otherwise drawn with a
fixed seed) are scored as the analyzer scores an ensemble (the mean of the members'
maps and of their image probabilities) on the held-out files of
``bench/tamper_chains.py`` (the validation sources, never trained on; ``--cache``
reuses its featurized files). Per size: image AUC and IoU of the peak region (its
fraction chosen on the first half, per bag), mean, standard deviation and range over
the bags, on all sources and on the reporting half. The mean over bags of size n is what
a fresh draw of n seeds gives on average; its spread is what one draw moves. Nothing
here is a target. Skips cleanly when ../shared/training is absent.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TRAINING = ROOT.parent / "shared" / "training"


def pooled_members(folders: list[Path]) -> list[tuple[int, Any, Any]]:
    """(seed, tile booster, image booster) of every member of the folders, in order."""
    import lightgbm as lgb

    members = []
    for folder in folders:
        manifest = json.loads((folder / "tamper.manifest.json").read_text("utf-8"))
        for m in manifest["members"]:
            members.append(
                (
                    int(m["seed"]),
                    lgb.Booster(model_file=str(folder / m["tile_model"])),
                    lgb.Booster(model_file=str(folder / m["image_model"])),
                )
            )
    return members


def bag_figures(
    samples: list[Any], maps: list[list[np.ndarray]], probs: np.ndarray, bag: tuple[int, ...]
) -> dict[str, float]:
    """Image AUC and peak-region IoU of one bag (members' indices) on all sources and
    on the reporting half."""
    from tamper_chains import auc

    from triage.forensics.tampermap import ensemble_map
    from triage.train.tamper import REGION_FRACTIONS, _half, _iou_relative

    score = probs[list(bag)].mean(axis=0)
    mean_maps = [ensemble_map([maps[k][i] for k in bag]) for i in range(len(samples))]
    edited = np.array([s.kind != "none" for s in samples])
    half = np.array([_half(s.source_id) for s in samples])
    first = np.flatnonzero(edited & (half == 0))

    def first_iou(f: float) -> float:
        return float(np.mean([_iou_relative(mean_maps[i], samples[i].share, f) for i in first]))

    frac = max(REGION_FRACTIONS, key=first_iou)
    iou = np.array(
        [
            _iou_relative(mean_maps[i], s.share, frac) if edited[i] else np.nan
            for i, s in enumerate(samples)
        ]
    )
    out = {}
    for label, sel in (("all", half >= 0), ("half", half == 1)):
        out[f"AUC {label}"] = auc(score[sel & edited], score[sel & ~edited])
        out[f"IoU {label}"] = float(np.nanmean(iou[sel & edited]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="folders", type=Path, nargs="+", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 3, 4, 6, 9])
    parser.add_argument("--bags", type=int, default=40)
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 11])
    parser.add_argument("--chains", choices=("platform", "mixed"), default="platform")
    parser.add_argument("--cache", type=Path, default=None, help="bench/tamper_chains.py's")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if not (TRAINING / "MANIFEST.tsv").is_file():
        print("../shared/training is absent: skipped")
        return 0
    from triage.forensics.tampermap import image_probability
    from triage.train.edits import list_sources, split_sources
    from triage.train.tamper import VALIDATION_UNEDITED, featurize_sources, predict_map

    cached = (
        args.cache / f"{args.chains}-{'-'.join(map(str, args.rounds))}.pkl" if args.cache else None
    )
    if cached and cached.is_file():
        samples = pickle.loads(cached.read_bytes())
    else:
        _, val = split_sources(list_sources(TRAINING))
        samples = [
            sm
            for seed in args.rounds
            for sm in featurize_sources(
                val, seed, 4, VALIDATION_UNEDITED, True, args.jobs, chains=args.chains
            )
        ]
    members = pooled_members(args.folders)
    # Each member's maps and image probabilities once; a bag is their mean.
    maps = [[predict_map(tile, s.feats) for s in samples] for _, tile, _ in members]
    probs = np.array(
        [[image_probability(m, image) for m in maps[k]] for k, (_, _, image) in enumerate(members)]
    )
    print(
        f"{args.chains} chains, rounds {args.rounds}: {len(samples)} files; "
        f"members' seeds {[seed for seed, _, _ in members]}"
    )
    print("| members | bags | " + " | ".join(("AUC all", "AUC half", "IoU all", "IoU half")) + " |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for n in args.sizes:
        if n > len(members):
            continue
        bags = list(itertools.combinations(range(len(members)), n))
        if len(bags) > args.bags:
            bags = [bags[i] for i in rng.choice(len(bags), args.bags, replace=False)]
        rows = [bag_figures(samples, maps, probs, bag) for bag in bags]
        cells = []
        for key in ("AUC all", "AUC half", "IoU all", "IoU half"):
            v = np.array([r[key] for r in rows])
            cells.append(f"{v.mean():.3f} (sd {v.std():.3f}, {v.min():.3f}..{v.max():.3f})")
        print(f"| {n} | {len(bags)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
