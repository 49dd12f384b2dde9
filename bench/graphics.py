#!/usr/bin/env python3
"""Benchmark: what triage says about unedited charts and infographics, and whether
any photograph is mistaken for one.

    python bench/graphics.py [--count N] [--photos DIR ...]

Charts are drawn by code (fixtures/generators/graphics.py: bars, lines on a grid,
coloured boxes with text), each saved as PNG and as JPEG q70-95. For these files a
notable or strong manipulation or synthetic claim is a wrong claim. The photographs
(default: ../shared/training/camera and ../shared/corpus/camera, skipped when absent)
are read with the same check the analyzers use
(:func:`triage.analyzers.common.graphic_share`): any photo read as a graphic loses
the region analyzers; and with the screenshot check
(:func:`triage.analyzers.common.framed_photo`): a photo read as framed is examined
only inside the box. Nothing here is a target; it prints the counts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))
SHARED = ROOT.parent / "shared"
CLAIMING = ("notable-indicators", "strong-indicators")


def charts(folder: Path, count: int) -> list[Path]:
    import numpy as np
    from generators.graphics import chart
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for seed in range(count):
        img = Image.fromarray(chart(seed))
        png, jpg = folder / f"chart{seed:03d}.png", folder / f"chart{seed:03d}.jpg"
        img.save(png)
        img.save(jpg, quality=int(rng.integers(70, 96)))
        paths += [png, jpg]
    return paths


def photos_read_as_graphics(folders: list[Path]) -> tuple[int, list[str], list[str]]:
    """(images read, those read as graphics, those read as a photo in a frame), with
    the analyzers' own checks: a photo read as either loses part of its examination."""
    from triage.analyzers.common import framed_photo, graphic_share
    from triage.media import Media, MediaError

    seen, graphics, framed = 0, [], []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"):
                continue
            try:
                media = Media.open(path)
                share = graphic_share(media)
                box = framed_photo(media)
            except (MediaError, OSError, ValueError):
                continue
            seen += 1
            if share is not None:
                graphics.append(f"{path} ({share:.2f})")
            if box is not None:
                framed.append(f"{path} {list(box)}")
    return seen, graphics, framed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=12, help="charts (each as PNG and JPEG)")
    parser.add_argument("--photos", type=Path, nargs="*", default=None)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    import triage

    with tempfile.TemporaryDirectory() as tmp:
        bands: dict[str, Counter[str]] = {"manipulation": Counter(), "synthetic": Counter()}
        declined = 0
        files = charts(Path(tmp), args.count)
        for path in files:
            report = triage.analyze(path)
            for q, counter in bands.items():
                counter[report.questions[q].band] += 1
            declined += any((a.message or "").startswith("a graphic") for a in report.analyzers)
    print(f"{len(files)} code-drawn charts ({args.count} as PNG and as JPEG q70-95)")
    print(f"  read as graphics by the region analyzers: {declined}/{len(files)}")
    for q, counter in bands.items():
        wrong = sum(counter[b] for b in CLAIMING)
        print(
            f"  {q}: notable or strong {wrong}/{len(files)}; bands {dict(sorted(counter.items()))}"
        )
    folders = args.photos
    if folders is None:
        folders = [
            p for p in (SHARED / "training" / "camera", SHARED / "corpus" / "camera") if p.is_dir()
        ]
    if not folders:
        print("photos: ../shared not found, skipped")
        return 0
    seen, graphics, framed = photos_read_as_graphics(folders)
    print(f"photos read as graphics: {len(graphics)}/{seen}")
    for h in graphics:
        print(f"  {h}")
    print(f"photos read as a photo inside a frame (a screenshot): {len(framed)}/{seen}")
    for h in framed:
        print(f"  {h}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
