#!/usr/bin/env python3
"""Benchmark: what triage says about screenshots of social posts that hold an
unedited camera photo, the commonest innocent composite on a verification desk.

    python bench/screenshots.py [--count N] [--seed S]

Each screenshot is made by code from one camera photo of ../shared/training that no
shipped model was trained on (held out by the tamper, camera and synthpix models
alike): the photo downscaled (Lanczos, bicubic or bilinear) to 800-1080 px, pasted
into a flat light or dark frame with a header, lines of text and a row of repeated
icons, saved as PNG or as JPEG q75-92. The same downscaled photo saved alone (no
frame) is the control, so the frame's effect is read apart from the downscale's.
Nothing here is a target: it prints, per question, how many files land in each band
and the share at notable or strong, which for these files would be a wrong claim,
and how many screenshots had their photo found in the frame
(:func:`triage.forensics.layout.framed_photo_box`).
Skips cleanly when ../shared/training is absent.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
WORDS = (
    "the",
    "police",
    "said",
    "on",
    "friday",
    "that",
    "crowds",
    "gathered",
    "near",
    "the",
    "station",
    "after",
    "reports",
    "of",
    "a",
    "fire",
    "video",
    "shows",
    "people",
    "running",
    "officials",
    "have",
    "not",
    "confirmed",
    "anything",
    "yet",
)
CLAIMING = ("notable-indicators", "strong-indicators")


def held_out_photos(training: Path) -> list[Path]:
    """Camera photos that none of the shipped models was fitted on."""
    import json

    from triage.train.edits import list_sources, split_sources

    _, held = split_sources(list_sources(training))
    models = ROOT / "triage" / "data" / "models"
    synthpix = json.loads((models / "synthpix.manifest.json").read_text())
    synth_held = set(synthpix["data"]["camera_sources_held_out"])
    return [p for p in held if p.name in synth_held]


def screenshot(photo: Path, rng: random.Random) -> tuple[bytes, bytes, str]:
    """(framed screenshot, the downscaled photo alone, format) for one photo."""
    from PIL import Image, ImageDraw

    img = Image.open(photo).convert("RGB")
    kernel = rng.choice([Image.Resampling.LANCZOS, Image.Resampling.BICUBIC, Image.BILINEAR])
    side = rng.choice([800, 1000, 1080])
    img.thumbnail((side, side), kernel)
    width = img.width + rng.choice([0, 60, 90])
    top = rng.choice([160, 240, 300])
    height = img.height + top + rng.choice([120, 200])
    dark = rng.random() < 0.4
    background = (21, 32, 43) if dark else (255, 255, 255)
    ink = (230, 230, 230) if dark else (20, 20, 20)
    frame = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(frame)
    draw.ellipse([20, 20, 80, 80], fill=(120, 140, 200))
    draw.text((95, 30), "Some Account  @someaccount - 2h", fill=ink)
    y = 100
    while y < top - 30:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14)))
        draw.text((20, y), line, fill=ink)
        y += 24
    frame.paste(img, ((width - img.width) // 2, top))
    y = top + img.height + 30
    for j in range(4):  # the same icons on every post: innocent duplicated graphics
        x = 40 + j * (width // 4)
        draw.rectangle([x, y, x + 22, y + 18], outline=(100, 100, 100), width=2)
        draw.text((x + 30, y + 4), str(rng.randint(10, 9999)), fill=ink)
    fmt = rng.choice(["PNG", "JPEG"])
    quality = rng.choice([75, 85, 92])

    def encode(im: Image.Image) -> bytes:
        buf = io.BytesIO()
        im.save(buf, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
        return buf.getvalue()

    return encode(frame), encode(img), fmt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    training = SHARED / "training"
    if not training.is_dir():
        print(f"skipped: {training} is absent")
        return 0
    import triage

    photos = held_out_photos(training)
    rng = random.Random(args.seed)
    bands: dict[tuple[str, str], Counter[str]] = {}
    findings: Counter[str] = Counter()
    made = n_framed = 0
    for i in range(args.count):
        photo = photos[i % len(photos)]
        try:
            framed, alone, fmt = screenshot(photo, rng)
        except OSError:
            continue
        made += 1
        ext = ".png" if fmt == "PNG" else ".jpg"
        for kind, data in (("screenshot", framed), ("photo alone", alone)):
            report = triage.analyze(data, name=f"{photo.stem}{ext}")
            for question in ("manipulation", "synthetic"):
                band = report.questions[question].band
                bands.setdefault((kind, question), Counter())[band] += 1
            if kind == "screenshot":
                findings.update({f.id for f in report.findings if f.llr > 0})
                n_framed += any("framed_photo" in a.metrics for a in report.analyzers)
    print(f"{made} screenshots of {len(photos)} held-out camera photos (seed {args.seed})")
    print("| file | question | insufficient | none | weak | notable | strong | notable+ |")
    print("|---|---|---|---|---|---|---|---|")
    order = ["insufficient-evidence", "no-indicators", "weak-indicators", *CLAIMING]
    for (kind, question), counts in sorted(bands.items()):
        n = sum(counts.values())
        claims = sum(counts[b] for b in CLAIMING)
        cells = " | ".join(str(counts[b]) for b in order)
        print(f"| {kind} | {question} | {cells} | {claims / n:.0%} |")
    print("findings with positive weight on the screenshots:", dict(findings.most_common()))
    print(f"screenshots whose photo was found in its frame: {n_framed} of {made}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
