#!/usr/bin/env python3
"""Benchmark: generated images carrying a camera's EXIF, and the synthetic question's
``no-indicators`` band.

    python bench/forged_exif.py

Why: the synthetic question never says ``no-indicators`` (docs/scoring.md, *Bands*):
its coverage stays under the band's 0.6 on almost every file. Its low scores rest
mostly on camera metadata, and every generated file of the calibration data lacks it.
Copying a camera photo's EXIF into a generated image is one command (exiftool), so
this bench measures what the shipped calibration says of such files: each generated
image of the held-out generator repositories of ../shared/training
(``bench/calibrate.py``'s ``GENERATOR_HELDOUT``) re-saved as JPEG q90 with the EXIF of
a camera photo of ../shared/corpus/camera/exif-samples (two donors per image). It
counts the files whose score and interval would pass the band's score rule (score <=
``clear_score``, high end < 0.5), which only the coverage rule keeps from reading
``no-indicators``. Skips cleanly without ../shared. Nothing here is a target.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
SHARED = ROOT.parent / "shared"


def generated_images() -> list[Path]:
    """The generated images of the held-out generator repositories (as bench/calibrate.py
    lists them: MANIFEST category ``generator``, inputs and diagrams left out)."""
    from calibrate import GENERATOR_HELDOUT, NOT_GENERATED

    training = SHARED / "training"
    out = []
    for line in (training / "MANIFEST.tsv").read_text("utf-8", errors="replace").splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) < 2 or cells[1] != "generator" or any(t in cells[0] for t in NOT_GENERATED):
            continue
        parts = cells[0].split("/")
        if len(parts) > 1 and parts[1] in GENERATOR_HELDOUT and (training / cells[0]).is_file():
            out.append(training / cells[0])
    return sorted(set(out))


def main() -> int:
    from PIL import Image

    from triage.calibration import packaged
    from triage.evaluate.runner import RunOptions, analyze_record

    if not (SHARED / "training" / "MANIFEST.tsv").is_file():
        print("skipped: ../shared/training is absent")
        return 0
    donors = []
    for path in sorted((SHARED / "corpus" / "camera" / "exif-samples").glob("*.jpg")):
        with Image.open(path) as im:
            exif = im.info.get("exif")
        if exif and len(exif) > 200:
            donors.append(exif)
    images = generated_images()
    clear = float(packaged().bands.get("clear_score", 0.1))
    bands: Counter[str] = Counter()
    passing = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, src in enumerate(images):
            with Image.open(src) as im:
                rgb = im.convert("RGB")
            for j in range(2):
                path = Path(tmp) / f"{i}-{j}.jpg"
                rgb.save(path, "JPEG", quality=90, exif=donors[(2 * i + j) % len(donors)])
                q = analyze_record(str(path), RunOptions())["questions"]["synthetic"]
                bands[q["band"]] += 1
                low = q["score"] <= clear and q["interval"][1] < 0.5
                passing += int(low)
                print(
                    f"{src.name} + EXIF {j}: {q['score']:.3f} "
                    f"[{q['interval'][0]:.3f}, {q['interval'][1]:.3f}] {q['band']}, "
                    f"coverage {q['coverage']:.2f}" + ("  <- passes the score rule" if low else "")
                )
    n = sum(bands.values())
    print(
        f"\n{n} generated files with a camera's EXIF ({len(images)} images, {len(donors)} donors)"
    )
    print(f"bands: {dict(bands)}")
    print(f"would read no-indicators without the coverage rule: {passing}/{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
