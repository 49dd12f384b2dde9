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

import argparse
import csv
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIDE = 1080
CLAIMS = ("notable-indicators", "strong-indicators")
GROUPS = ("camera", "generator")


def palette_copies(corpus: Path, out: Path) -> list[tuple[str, Path]]:
    """(group, path) of the corpus's camera and generator images saved into ``out`` as
    GIFs, undithered and dithered; images that do not decode are left out."""
    from PIL import Image

    with (corpus / "labels.tsv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["path"].split("/")[0] in GROUPS]
    made = []
    for row in rows:
        try:
            with Image.open(corpus / row["path"]) as im:
                rgb = im.convert("RGB")
        except Exception:  # not decodable: not a picture a desk would receive
            continue
        scale = SIDE / max(rgb.size)
        if scale < 1:
            rgb = rgb.resize(
                (round(rgb.width * scale), round(rgb.height * scale)), Image.Resampling.LANCZOS
            )
        stem = row["path"].replace("/", "_").rsplit(".", 1)[0]
        flat = rgb.quantize(256)
        # Pillow dithers only onto a given palette: the median cut's own, here.
        dithered = rgb.quantize(palette=flat, dither=Image.Dither.FLOYDSTEINBERG)
        for name, image in (("flat", flat), ("dither", dithered)):
            path = out / f"{stem}-{name}.gif"
            image.save(path, "GIF")
            made.append((row["path"].split("/")[0], path))
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if not (args.corpus / "labels.tsv").is_file():
        print(f"{args.corpus}: no corpus here: skipped")
        return 0
    from triage.api import analyze_many

    with tempfile.TemporaryDirectory() as tmp:
        copies = palette_copies(args.corpus, Path(tmp))
        group_of = {str(path): group for group, path in copies}
        reports = list(analyze_many([path for _, path in copies], jobs=args.jobs))
    for group in GROUPS:
        mine = [r for r in reports if group_of.get(r.file.path) == group]
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
