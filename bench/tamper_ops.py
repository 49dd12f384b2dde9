#!/usr/bin/env python3
"""Benchmark: which edits inside a kind the shipped tamper model misses.

    python bench/tamper_ops.py [--rounds 1 11] [--jobs 2] [--model DIR]

The files: the validation sources of ``python -m triage.train tamper`` (never trained
on), generator seeds ``--rounds``, 4.3's chains, as the manifest's validation. The
generator is not changed: each retouch and removal is read back by replaying the
first draws of its random generator (the mask, then the operation), and every edit's
size is its mask's share of the served image. Printed, for the ensemble's image score
(the shipped model, or the one in ``--model``): AUC against every unedited file and
the share of edited files at or above the manifest's image threshold (what gets a
finding), over all edits, per retouch operation (blur, sharpen, brightness/contrast),
per removal method (Telea, Navier-Stokes, patch copy), and per kind by thirds of the
edited area; with a 5-95% bootstrap over sources of the AUC.
Skips cleanly when ../shared/training is absent. Results: docs/analyzers/tamper.md,
"Where it fails (measured)".
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TRAINING = ROOT.parent / "shared" / "training"
BOOTSTRAP = 1000
RETOUCH_OPS = ("blur", "sharpen", "brightness/contrast")
REMOVAL_METHODS = ("Telea", "Navier-Stokes", "patch copy")


def _replayed(rng: np.random.Generator, read: Any) -> Any:
    """What ``read(rng)`` returns, with ``rng`` left where it was."""
    state = rng.bit_generator.state
    try:
        return read(rng)
    finally:
        rng.bit_generator.state = state


def retouch_label(h: int, w: int, rng: np.random.Generator) -> str:
    """The operation ``edits._retouch`` is about to draw with ``rng``: its first draws
    are the mask, then the operation."""
    from triage.train import edits

    edits.random_mask(h, w, rng, 0.02, 0.25)
    return RETOUCH_OPS[int(rng.integers(0, 3))]


def removal_label(h: int, w: int, rng: np.random.Generator) -> str:
    """The method ``edits._inpaint`` is about to draw with ``rng`` (after its mask)."""
    from triage.train import edits

    edits.random_mask(h, w, rng, 0.005, 0.06)
    return REMOVAL_METHODS[int(rng.integers(0, 3))]


def _featurize_source(args: tuple[list[Path], int, int]) -> list[tuple[Any, str, float]]:
    """(sample, operation label, edited share of the served image) of every validation
    example of ``sources[i]`` at generator seed ``seed``."""
    from triage.train import edits
    from triage.train import tamper as train

    sources, i, seed = args
    labels: list[str] = []
    retouch, inpaint = edits._retouch, edits._inpaint

    def spy_retouch(rgb: np.ndarray, rng: np.random.Generator) -> Any:
        h, w = rgb.shape[:2]
        labels.append(_replayed(rng, lambda r: retouch_label(h, w, r)))
        return retouch(rgb, rng)

    def spy_inpaint(rgb: np.ndarray, rng: np.random.Generator) -> Any:
        h, w = rgb.shape[:2]
        labels.append(_replayed(rng, lambda r: removal_label(h, w, r)))
        return inpaint(rgb, rng)

    edits._retouch, edits._inpaint = spy_retouch, spy_inpaint
    try:
        examples = edits.examples_of(
            sources, i, seed, 4, train.VALIDATION_UNEDITED, True, edits.PLATFORM_CHAINS
        )
    finally:
        edits._retouch, edits._inpaint = retouch, inpaint
    spied = iter(labels)
    # An edit whose mask came out under 64 px is dropped after its label was taken: none
    # is at these sizes (a retouch covers 2-25% of at least 256 x 256 px, a removal 0.5-6%).
    if len(labels) != sum(ex.kind in ("retouch", "inpaint") for ex in examples):
        raise RuntimeError(f"source {i}: a retouch or removal was dropped; labels would shift")
    out = []
    for ex, sm in zip(examples, train.featurize(examples), strict=True):
        label = next(spied) if ex.kind in ("retouch", "inpaint") else ex.kind
        out.append((sm, label, float(ex.mask.mean())))
    return out


def held_out(rounds: list[int], jobs: int) -> list[tuple[Any, str, float]]:
    """:func:`_featurize_source` of every validation source at every seed of ``rounds``."""
    from triage.train.edits import list_sources, split_sources

    _, val_src = split_sources(list_sources(TRAINING))
    tasks = [(val_src, i, r) for r in rounds for i in range(len(val_src))]
    if jobs <= 1:
        parts = [_featurize_source(t) for t in tasks]
    else:
        from multiprocessing import get_context

        with get_context("spawn").Pool(jobs) as pool:
            parts = pool.map(_featurize_source, tasks, chunksize=1)
    return [row for part in parts for row in part]


def _auc_with_interval(
    scores: np.ndarray, pos: np.ndarray, neg: np.ndarray, sources: np.ndarray
) -> tuple[float, float, float]:
    from tamper_cfa import source_bootstrap
    from tamper_regions import auc

    lo, hi = source_bootstrap(lambda p, q: auc(scores[p], scores[q]), pos, neg, sources)
    return auc(scores[pos], scores[neg]), lo, hi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 11])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--model", type=Path, default=ROOT / "triage" / "data" / "models")
    args = parser.parse_args(argv)
    if not TRAINING.is_dir():
        print(f"skipped: {TRAINING} not found")
        return 0
    from tamper_cfa import read_held_out
    from tamper_regions import load_members

    rows = held_out(args.rounds, args.jobs)
    manifest, boosters, image_models = load_members(args.model)
    samples = [sm for sm, _, _ in rows]
    members = list(zip(boosters, image_models, strict=True))
    scores, _ = read_held_out(members, samples, boosters[0].num_feature())
    labels = np.array([label for _, label, _ in rows])
    area = np.array([a for _, _, a in rows])
    kinds = np.array([sm.kind for sm in samples])
    sources = np.array([sm.source_id for sm in samples])
    threshold = float(manifest["held_out"]["image_threshold"])
    unedited = kinds == "none"
    print(
        f"{len(samples)} files ({int((~unedited).sum())} edited) from "
        f"{len(set(sources))} validation sources, seeds {args.rounds}; image threshold "
        f"{threshold:.3f} (unedited at or above: {(scores[unedited] >= threshold).mean():.1%})"
    )
    groups: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(rows), bool))
    groups["all edits"] = ~unedited
    for kind in sorted(set(kinds) - {"none"}):
        sel = kinds == kind
        groups[f"{kind}, all"] = sel
        for label in sorted(set(labels[sel]) - {kind}):
            groups[f"{kind}: {label}"] = sel & (labels == label)
        cuts = np.quantile(area[sel], [1 / 3, 2 / 3])
        for name, part in zip(
            (
                f"under {cuts[0]:.1%}",
                f"{cuts[0]:.1%}-{cuts[1]:.1%}",
                f"over {cuts[1]:.1%}",
            ),
            (area < cuts[0], (area >= cuts[0]) & (area < cuts[1]), area >= cuts[1]),
            strict=True,
        ):
            groups[f"{kind}, area {name}"] = sel & part
    print("\n| edits | n | AUC against all unedited (5-95% over sources) | with a finding |")
    print("|---|---|---|---|")
    for name, sel in groups.items():
        value, lo, hi = _auc_with_interval(scores, sel, unedited, sources)
        found = (scores[sel] >= threshold).mean()
        print(f"| {name} | {int(sel.sum())} | {value:.3f} ({lo:.3f}..{hi:.3f}) | {found:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
