#!/usr/bin/env python3
"""Benchmark: the tamper model's held-out image AUC with web copies read whole or sampled.

    python bench/tamper_reading.py [--model DIR] [--seeds 1 11 2 3] [--jobs 2]

The analyzer reads every 8x8 block of an image up to 2.5 MP
(``blockfeatures.FULL_PIXELS``), so a 2048 x 1536 web copy is read at every second
block row and column (64-px tiles). The alternative measured here reads every block up
to 2048 x 2048 (``blockfeatures.WHOLE_WEB_COPY``). This reads the same held-out files
both ways with the same trees (``--model``, default the shipped ones):
the validation sources of ``python -m triage.train tamper`` (never trained on), 4.3's
chains, generator seeds ``--seeds`` (1 is the manifest's own validation set), the
camera file, three unedited copies and four edits per source and seed. Per edit kind,
the AUC of the ensemble image score of the edited files over every unedited file, and
the difference (whole minus sampled) with a 5-95% bootstrap over the sources. Only
files over 2.5 MP are read differently; their count is printed. Skips cleanly when
../shared/training is absent. Results: docs/analyzers/tamper.md, "Every block of a
web copy".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tamper_cfa import auc_interval
from tamper_regions import auc, load_members

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT.parent / "shared" / "training"
MODELS = ROOT / "triage" / "data" / "models"
KINDS = ("splice", "copymove", "inpaint", "retouch", "overlay")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODELS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 11, 2, 3])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not TRAINING.is_dir():
        print(f"skipped: {TRAINING} not found")
        return 0
    from triage.forensics.blockfeatures import FULL_PIXELS, WHOLE_WEB_COPY
    from triage.forensics.tampermap import ensemble_probability
    from triage.train import tamper as train
    from triage.train.edits import list_sources, split_sources

    _, boosters, image_models = load_members(args.model)
    _, val_src = split_sources(list_sources(TRAINING))
    readings = {"sampled over 2.5 MP": FULL_PIXELS, "whole up to 2048 x 2048": WHOLE_WEB_COPY}
    scores: dict[str, list[float]] = {name: [] for name in readings}
    grids: dict[str, list[tuple[int, ...]]] = {name: [] for name in readings}
    kinds, sources = [], []
    for seed in args.seeds:
        for name, full in readings.items():
            samples = train.featurize_sources(
                val_src, seed, 4, train.VALIDATION_UNEDITED, jobs=args.jobs, full_pixels=full
            )
            for sm in samples:
                maps = [train.predict_map(b, sm.feats) for b in boosters]
                scores[name].append(ensemble_probability(maps, image_models))
                grids[name].append(sm.feats.shape[:2])
        kinds += [sm.kind for sm in samples]
        sources += [sm.source_id for sm in samples]
    changed = sum(a != b for a, b in zip(*grids.values(), strict=True))
    k, s = np.array(kinds), np.array(sources)
    first, second = (np.array(v) for v in scores.values())
    print(
        f"{len(k)} files ({(k != 'none').sum()} edited), {len(np.unique(s))} sources, "
        f"seeds {args.seeds}; read differently (over 2.5 MP): {changed}"
    )
    print("| edit kind | " + " | ".join(readings) + " | difference (5-95% over sources) |")
    print("|---|---|---|---|")
    neg = k == "none"
    for kind in (*KINDS, "all"):
        pos = ~neg if kind == "all" else k == kind
        before, after = auc(first[pos], first[neg]), auc(second[pos], second[neg])
        lo, hi = auc_interval(second, first, pos, neg, s)
        print(
            f"| {kind} ({pos.sum()}) | {before:.3f} | {after:.3f} | "
            f"{after - before:+.3f} ({lo:+.3f}..{hi:+.3f}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
