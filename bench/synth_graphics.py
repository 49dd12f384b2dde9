#!/usr/bin/env python3
"""Held-out check of the synthetic question on graphics: wrong "generated" claims.

    python bench/synth_graphics.py [--count N] [--jobs J] [--json OUT]

Every file goes through the full pipeline (``triage.analyze_many``: all analyzers,
the shipped calibration); a synthetic band of notable or strong on a file that is not
generated is a wrong claim. Also counted: synthpix's own finding (log-odds at or above
its threshold) and the median synthpix log-odds. Sets:

* ``graphics``: ``--count`` graphics drawn by code (triage.train.graphics, seeds from
  ``HELD_OUT_SEED`` on: the synthpix training draws seeds from 0 and never reaches
  them), the kinds in turn (chart, diagram, slide, interface, code, render, vector),
  200-2000 px a side, each saved as PNG and as JPEG q70-95;
* ``not-generated``: the files of ../shared/training/generator that are not generated
  images (bench/calibrate.py's ``NOT_GENERATED``: model diagrams, score charts, depth
  maps, masks, sketches, inputs), as given, one copy of byte-identical files; never
  fitted on by synthpix;
* ``charts``: bench/graphics.py's charts (fixtures/generators/graphics.py, 12 as PNG
  and as JPEG q70-95);
* ``generated-on-flat``: the opposite risk. The generated images of
  ../shared/corpus/generator (never fitted on), each with its long side at most 640 px,
  pasted on a flat light ground with a caption, as a figure or the FLUX robot is shown
  (PNG and JPEG q90): here a claim is right, and a model that learned "flat = not
  generated" loses it.

Nothing here is a target and nothing was chosen on it; it prints the counts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "fixtures"))
SHARED = ROOT.parent / "shared"
HELD_OUT_SEED = 1_000_000
CLAIMING = ("notable-indicators", "strong-indicators")


def make_graphics(folder: Path, count: int) -> list[tuple[str, Path]]:
    from PIL import Image

    from triage.train.graphics import KINDS, graphic

    out = []
    for i in range(count):
        seed = HELD_OUT_SEED + i
        kind = KINDS[i % len(KINDS)]
        img = Image.fromarray(graphic(seed, kind))
        q = 70 + (seed * 7) % 26
        png, jpg = folder / f"g{seed}-{kind}.png", folder / f"g{seed}-{kind}-q{q}.jpg"
        img.save(png)
        img.save(jpg, quality=q)
        out += [(f"graphics:{kind}", png), (f"graphics:{kind}", jpg)]
    return out


def not_generated(shared: Path) -> list[tuple[str, Path]]:
    from calibrate import NOT_GENERATED

    seen, out = set(), []
    for path in sorted((shared / "training" / "generator").rglob("*")):
        if not path.is_file() or not any(k in path.name for k in NOT_GENERATED):
            continue
        digest = hashlib.md5(path.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            out.append(("not-generated", path))
    return out


def charts(folder: Path) -> list[tuple[str, Path]]:
    from graphics import charts as draw

    return [("charts", p) for p in draw(folder, 12)]


def generated_on_flat(folder: Path, shared: Path) -> list[tuple[str, Path]]:
    from PIL import Image, ImageDraw, ImageFont

    out = []
    for k, path in enumerate(sorted((shared / "corpus" / "generator").rglob("*"))):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
            continue
        rng = np.random.default_rng(k)
        with Image.open(path) as im:
            photo = im.convert("RGB")
        scale = min(1.0, 640 / max(photo.size))
        photo = photo.resize(
            (max(1, round(photo.width * scale)), max(1, round(photo.height * scale))),
            Image.Resampling.LANCZOS,
        )
        margin = int(rng.integers(40, 200))
        ground = tuple(int(v) for v in rng.integers(235, 256, 3))
        canvas = Image.new("RGB", (photo.width + 2 * margin, photo.height + 2 * margin), ground)
        canvas.paste(photo, (margin, margin))
        draw = ImageDraw.Draw(canvas)
        font = ImageFont.load_default(size=max(10, margin // 3))
        draw.text(
            (margin, photo.height + margin + 6), "Figure: an output", fill=(20, 20, 20), font=font
        )
        png, jpg = folder / f"flat{k:02d}.png", folder / f"flat{k:02d}.jpg"
        canvas.save(png)
        canvas.save(jpg, quality=90)
        out += [("generated-on-flat", png), ("generated-on-flat", jpg)]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=70, help="graphics (each as PNG and JPEG)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write per-file results here")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import triage

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_graphics(folder, args.count) + charts(folder)
        if SHARED.is_dir():
            files += not_generated(SHARED) + generated_on_flat(folder, SHARED)
        group = {str(p): g for g, p in files}
        for rep in triage.analyze_many([p for _, p in files], jobs=args.jobs):
            q = rep.questions.get("synthetic")
            sp = next((a for a in rep.analyzers if a.name == "synthpix"), None)
            lo = (sp.metrics or {}).get("log_odds") if sp else None
            rows.append(
                {
                    "set": group.get(str(rep.file.path), "?"),
                    "file": Path(rep.file.path).name,
                    "band": q.band if q else "error",
                    "score": round(q.score, 3) if q else None,
                    "synthpix_log_odds": lo,
                    "synthpix_finding": any(
                        f.id == "synthpix.generated_pixels" for f in rep.findings
                    ),
                }
            )
    sets: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        sets[r["set"].split(":")[0]].append(r)
        if r["set"].startswith("graphics:"):
            sets[r["set"]].append(r)
    print(
        "| set | files | synthetic notable/strong | synthpix finding | median synthpix log-odds |"
    )
    print("|---|---|---|---|---|")
    for name in sorted(sets):
        rs = sets[name]
        claims = sum(r["band"] in CLAIMING for r in rs)
        strong = sum(r["band"] == "strong-indicators" for r in rs)
        found = sum(r["synthpix_finding"] for r in rs)
        los = [r["synthpix_log_odds"] for r in rs if r["synthpix_log_odds"] is not None]
        med = f"{np.median(los):.2f}" if los else "-"
        print(f"| {name} | {len(rs)} | {claims} ({strong} strong) | {found} | {med} |")
    for r in rows:
        if r["set"] == "not-generated" or (
            r["band"] in CLAIMING and r["set"] != "generated-on-flat"
        ):
            print(
                f"  {r['set']} {r['file']}: {r['band']} {r['score']} log-odds {r['synthpix_log_odds']}"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
