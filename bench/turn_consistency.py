#!/usr/bin/env python3
"""Benchmark: the same picture turned or mirrored, losslessly: do the answers move?

    python bench/turn_consistency.py [--corpus ../shared/corpus] [--jobs 2]

Every still of the corpus's camera, manipulated, generator and c2pa groups is decoded,
brought down to a long side of at most 2048 px, and saved as PNG three times, in a
temporary folder: upright, turned a quarter, mirrored left to right. The pixels are the
same, so an answer that moves is the analysis reading the orientation, not the picture:
a photo posted sideways, or a copy one platform turned upright and another did not,
would get another answer. Prints, per question, how far the score moves over the three
copies (median, 90th percentile, largest) and how many pictures change band, with the
signals behind them: the synthpix log-odds, the tamper image score and whether a
copy-move finding is reported in some copies and not in others. Measuring only:
nothing is fitted or chosen on the corpus. Skips cleanly when the corpus is absent.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus_photos import arguments, check_copies, long_side, pictures, stem  # noqa: E402

GROUPS = ("camera", "manipulated", "generator", "c2pa")
MOVES = ("upright", "quarter", "mirror")
LONG_SIDE = 2048


def turned_copies(corpus: Path, out: Path) -> list[Path]:
    """Each picture of ``GROUPS`` saved into ``out`` as PNG, once per entry of ``MOVES``."""
    from PIL import Image

    made = []
    for path, rgb in pictures(corpus, GROUPS):
        small = long_side(rgb, LONG_SIDE)
        for move in MOVES:
            pic = {
                "upright": small,
                "quarter": small.transpose(Image.Transpose.ROTATE_90),
                "mirror": small.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            }[move]
            copy = out / f"{stem(path)}--{move}.png"
            pic.save(copy)
            made.append(copy)
    return made


def _signals(report: Any) -> dict[str, Any]:
    """The per-analyzer readings that move the fused scores most."""
    metrics = {a.name: a.metrics or {} for a in report.analyzers}
    return {
        "synthpix": metrics.get("synthpix", {}).get("log_odds"),
        "tamper": metrics.get("tamper", {}).get("image_score"),
        "copymove": any(f.id == "copymove.cloned_region" for f in report.findings),
    }


def _spread(values: list[float]) -> str:
    import numpy as np

    if not values:
        return "no pictures"
    v = np.asarray(values)
    return (
        f"median {np.median(v):.3f}, 90th percentile {np.percentile(v, 90):.3f}, "
        f"largest {v.max():.3f}"
    )


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    if args is None:
        return 0
    reports = check_copies(lambda out: turned_copies(args.corpus, out), args.jobs)
    by_picture: dict[str, dict[str, Any]] = {}
    for path, report in reports.items():
        name, move = Path(path).stem.rsplit("--", 1)
        by_picture.setdefault(name, {})[move] = report
    pictures_read = {k: v for k, v in by_picture.items() if len(v) == len(MOVES)}
    print(f"{len(pictures_read)} pictures, each as {', '.join(MOVES)} (PNG, same pixels)")
    for q in ("manipulation", "synthetic"):
        moves, changed = [], []
        for name, copies in sorted(pictures_read.items()):
            answers = [copies[m].questions[q] for m in MOVES]
            scores = [a.score for a in answers]
            moves.append(max(scores) - min(scores))
            if len({a.band for a in answers}) > 1:
                changed.append((name, scores, [a.band for a in answers]))
        print(f"\n{q}: score moves {_spread(moves)}; band changes {len(changed)}")
        for name, scores, bands in changed:
            shown = ", ".join(f"{s:.2f} {b}" for s, b in zip(scores, bands, strict=True))
            print(f"  {name}: {shown}")
    for signal in ("synthpix", "tamper"):
        spread = []
        for copies in pictures_read.values():
            vals = [_signals(copies[m])[signal] for m in MOVES]
            if all(v is not None for v in vals):
                spread.append(max(vals) - min(vals))
        print(f"\n{signal} moves: {_spread(spread)} ({len(spread)} pictures read)")
    flips = [
        name
        for name, copies in sorted(pictures_read.items())
        if len({_signals(copies[m])["copymove"] for m in MOVES}) > 1
    ]
    print(f"\ncopy-move finding in some copies and not others: {len(flips)}")
    for name in flips:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
