#!/usr/bin/env python3
"""Benchmark: camera photos and generator images as palette files (a GIF, a PNG-8), the
form a picture takes in a GIF post, a sticker or an old forum: how often either question
claims anything.

    python bench/palette.py [--corpus ../shared/corpus] [--jobs 2]

Every camera photo and every generator image of the corpus (``labels.tsv``, the
``camera/`` and ``generator/`` rows) is decoded, brought to a long side of at most 1080
(Lanczos) and saved, in a temporary folder, as a 256-colour GIF twice: with the palette's
colours alone and with Floyd-Steinberg dithering (Pillow's median cut either way). The
files are checked with the packaged calibration and the bands counted per group. A
palette keeps at most 256 colours: the camera's noise, its JPEG blocks and a generator's
decoder traces are replaced by the palette's steps, so neither question should read
those traces here. Nothing is fitted or chosen here: the corpus is for measuring. Skips
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

SIDE = 1080
CLAIMS = ("notable-indicators", "strong-indicators")
GROUPS = ("camera", "generator")


def palette_copies(corpus: Path, out: Path) -> list[Path]:
    """The corpus's camera and generator images saved into ``out`` as GIFs, undithered
    and dithered, each named after its group first."""
    from PIL import Image

    made = []
    for source, picture in pictures(corpus, GROUPS):
        rgb = long_side(picture, SIDE)
        flat = rgb.quantize(256)
        # Pillow dithers only onto a given palette: the median cut's own, here.
        dithered = rgb.quantize(palette=flat, dither=Image.Dither.FLOYDSTEINBERG)
        for name, image in (("flat", flat), ("dither", dithered)):
            path = out / f"{stem(source)}-{name}.gif"
            image.save(path, "GIF")
            made.append(path)
    return made


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    if args is None:
        return 0
    reports = check_copies(lambda out: palette_copies(args.corpus, out), args.jobs)
    for group in GROUPS:
        mine = [r for path, r in reports.items() if Path(path).name.startswith(f"{group}_")]
        n = len(mine)
        print(f"{group}: {n // 2} images x 2 GIFs = {n} files")
        for question in ("manipulation", "synthetic"):
            bands = Counter(r.questions[question].band for r in mine)
            scores = sorted(r.questions[question].score for r in mine)
            notable = sum(bands[b] for b in CLAIMS)
            median = scores[n // 2] if scores else float("nan")
            print(
                f"  {question}: notable or strong {notable} ({notable / max(n, 1):.1%}), "
                f"strong {bands['strong-indicators']}, median score {median:.2f}; "
                + ", ".join(f"{b} {c}" for b, c in sorted(bands.items()))
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
