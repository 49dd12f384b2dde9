#!/usr/bin/env python3
"""Benchmark: third-party camera photos as a desk receives them, unedited: how often
the manipulation (and synthetic) answer claims anything.

    python bench/corpus_chains.py [--corpus ../shared/corpus] [--jobs 2]

Every camera photo of the corpus (``labels.tsv``, the ``camera/`` rows) is decoded and
saved, in a temporary folder, as three platform copies: long side 1080 at JPEG q80,
1600 at q85, 2048 at q75 (Lanczos, never enlarged; no metadata), the route a viral
picture takes. The copies are checked with the packaged calibration and the bands are
counted. Issue 13 asks unedited copies to read notable or stronger at most 5% of the
time and camera originals strong at most 2%; the generated validation set measures
the first on the training photos' own sources, this on photos from other cameras and
other people. Nothing is fitted or chosen here: the corpus is for measuring. Skips
cleanly when the corpus is absent.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus_photos import arguments, check_copies, long_side, pictures, stem  # noqa: E402

# (long side, JPEG quality) of each platform copy.
CHAINS = ((1080, 80), (1600, 85), (2048, 75))
CLAIMS = ("notable-indicators", "strong-indicators")


def platform_copies(corpus: Path, out: Path) -> list[Path]:
    """The corpus's camera photos saved into ``out`` through every chain of ``CHAINS``."""
    made = []
    for path, rgb in pictures(corpus, ("camera",)):
        for side, quality in CHAINS:
            copy = out / f"{stem(path)}-{side}q{quality}.jpg"
            long_side(rgb, side).save(copy, "JPEG", quality=quality)
            made.append(copy)
    return made


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    if args is None:
        return 0
    reports = list(check_copies(lambda out: platform_copies(args.corpus, out), args.jobs).values())
    bands: dict[str, Counter[str]] = {"manipulation": Counter(), "synthetic": Counter()}
    claimed = []
    for report in reports:
        for question, counter in bands.items():
            counter[report.questions[question].band] += 1
        answer = report.questions["manipulation"]
        if answer.band in CLAIMS:
            ids = sorted({f.id for f in report.findings if f.question == "manipulation"})
            claimed.append(
                f"  {Path(report.file.path).name}: {answer.score:.2f} {answer.band}, {ids}"
            )
    n = len(reports)
    photos = n // len(CHAINS)
    print(f"{photos} corpus camera photos x {len(CHAINS)} platform copies = {n} unedited files")
    for question, counter in bands.items():
        notable = sum(counter[b] for b in CLAIMS)
        print(
            f"{question}: notable or strong {notable} of {n} ({notable / max(n, 1):.1%}), "
            f"strong {counter['strong-indicators']} ({counter['strong-indicators'] / max(n, 1):.1%}); "
            + ", ".join(f"{b} {c}" for b, c in sorted(counter.items()))
        )
    if claimed:
        print("manipulation claimed on:")
        print("\n".join(claimed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
