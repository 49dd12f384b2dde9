#!/usr/bin/env python3
"""Benchmark: what the tamper model's training data is short of, source photos or
edits of each photo.

    python bench/tamper_sources.py [--fractions 0.5 0.75] [--draws 2] [--extra-seed 3]
                                   [--corpus] [--jobs 2] [--cache DIR]

Every variant is 4.3's recipe (three members, seeds 0..2, each on its own generated
edits, 4.3's chains, out-of-fold image models) on other training data:
- every training source (the control: the shipped model's data, retrained);
- a random share of the sources (``--fractions``, ``--draws`` draws each; every file
  of a kept source, so files fall with sources);
- every source with half its edits (the first two of each source's four);
- every source with a second round of edits (member k adds the generator's edits of
  seed ``--extra-seed`` + k: other crops, kinds and chains of the same photos, without a
  second copy of the camera file): twice the edited files, no new photo;
- with ``--corpus``, the camera photos of ../shared/corpus/camera added as sources
  (JPEGs of at least 256 px a side and the training's pixel floor, a camera make and
  model and no editor, and not byte-equal to a training photo), which issue 13 allows
  the generator to use; the shipped model does not (the calibration's held-out files
  are made from them; see docs/analyzers/tamper.md).
Held out: the 34 validation sources, 4.3's chains, generator seeds 1 and 11 (544 files).
Printed per variant: image AUC (all, per kind) and pixel IoU of the refined peak region,
on all sources and on the reporting half, and the AUC difference with the control (5-95%
bootstrap over sources). Features cached in ``--cache`` (shared with
``bench/tamper_cfa.py``). Skips cleanly when ../shared/training is absent. Results:
docs/analyzers/tamper.md, "Source photos or edits".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
SHARED = ROOT.parent / "shared"
KINDS = ("splice", "copymove", "inpaint", "retouch", "overlay")
HALF_EDITS = 2  # edits kept per source in the "half the edits" variant (of 4)


def corpus_sources() -> list[Path]:
    """Camera photos of ../shared/corpus/camera fit to edit and not a training photo."""
    from calibrate import _editable, _md5, training_photo_hashes
    from PIL import Image

    from triage.train.edits import MIN_PIXELS

    seen = training_photo_hashes()
    out = []
    for collection in sorted(p for p in (SHARED / "corpus" / "camera").iterdir() if p.is_dir()):
        for path in _editable(collection):
            with Image.open(path) as im:
                if im.width * im.height < MIN_PIXELS:
                    continue
            digest = _md5(path)
            if digest not in seen:
                seen.add(digest)
                out.append(path)
    return sorted(out)


def half_edits(samples: list[Any]) -> list[Any]:
    """Every unedited sample, and the first :data:`HALF_EDITS` edits of each source."""
    kept: dict[str, int] = {}
    out = []
    for sm in samples:
        if sm.kind != "none":
            kept[sm.source_id] = kept.get(sm.source_id, 0) + 1
            if kept[sm.source_id] > HALF_EDITS:
                continue
        out.append(sm)
    return out


def variants(args: argparse.Namespace, sets: list[list[Any]]) -> list[tuple[str, list[list[Any]]]]:
    """(label, the three members' training samples) of every variant asked for."""
    from tamper_cfa import featurize

    from triage.train.edits import list_sources, split_sources

    out = [("every source (control)", sets)]
    names = sorted({sm.source_id for sm in sets[0]})
    rng = np.random.default_rng(123)
    for fraction in args.fractions:
        for draw in range(args.draws):
            keep = set(rng.permutation(names)[: round(fraction * len(names))])
            subset = [[sm for sm in s if sm.source_id in keep] for s in sets]
            out.append((f"{len(keep)} of {len(names)} sources, draw {draw}", subset))
    out.append(("every source, half its edits", [half_edits(s) for s in sets]))
    train_src, _ = split_sources(list_sources(SHARED / "training"))
    seeds = [args.extra_seed + k for k in range(len(sets))]
    more = [featurize(train_src, s, 4, 1, args.jobs, args.cache, f"train-{s}") for s in seeds]
    second = [
        s + [sm for sm in m if sm.chain != "original"] for s, m in zip(sets, more, strict=True)
    ]
    out.append(("every source, two rounds of edits", second))
    if args.corpus:
        extra = corpus_sources()
        cs = [
            featurize(extra, k, 4, 1, args.jobs, args.cache, f"corpus-{k}")
            for k in range(len(sets))
        ]
        out.append(
            (f"+ {len(extra)} corpus camera photos", [s + c for s, c in zip(sets, cs, strict=True)])
        )
    return out


def report(
    label: str, scores: np.ndarray, pixel: np.ndarray, control: np.ndarray, val: list[Any]
) -> None:
    from tamper_cfa import auc, auc_interval

    from triage.train import tamper as train

    kinds = np.array([sm.kind for sm in val])
    sources = np.array([sm.source_id for sm in val])
    half = np.array([train._half(s) for s in sources])
    edited = kinds != "none"
    print(label)
    for name, sel in (("all 34 sources", half >= 0), ("reporting half", half == 1)):
        neg = ~edited & sel
        cells = []
        for kind in ("all", *KINDS):
            pos = (edited if kind == "all" else kinds == kind) & sel
            cells.append(f"{kind} {auc(scores[pos], scores[neg]):.3f}")
        lo, hi = auc_interval(scores, control, edited & sel, neg, sources)
        diff = auc(scores[edited & sel], scores[neg]) - auc(control[edited & sel], control[neg])
        iou = float(np.nanmean(pixel[edited & sel]))
        print(f"  {name}: AUC {', '.join(cells)}; IoU {iou:.3f}")
        print(f"    against the control: {diff:+.3f} ({lo:+.3f}..{hi:+.3f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="*", default=[0.5, 0.75])
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--extra-seed", type=int, default=3)
    parser.add_argument("--corpus", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/triage-tamper-cfa"))
    args = parser.parse_args(argv)
    if not (SHARED / "training").is_dir():
        print(f"skipped: {SHARED / 'training'} not found")
        return 0
    from tamper_cfa import experiment_data, read_held_out, train_members

    from triage.forensics.blockfeatures import FEATURE_NAMES

    sets, val = experiment_data(0, [1, 11], args.jobs, args.cache)
    n = len(FEATURE_NAMES)
    control = None
    for label, data in variants(args, sets):
        scores, pixel = read_held_out(train_members(data, 0, n), val, n)
        control = scores if control is None else control
        files = "/".join(str(len(s)) for s in data)
        report(f"{label} ({files} files per member)", scores, pixel, control, val)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
