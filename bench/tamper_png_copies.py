#!/usr/bin/env python3
"""Benchmark: edited and unedited JPEG copies saved again as PNG, read by the tamper model.

    python bench/tamper_png_copies.py [--work /tmp/triage-calibration] [--per-class 150]
        [--root CHECKOUT] [--save FILE] [--compare FILE]

A picture that circulates as a PNG was often a JPEG first: a copy saved from a post, a
format converter's output, a screenshot at the pixel scale. The calibration cache of
``bench/calibrate.py`` (``--work``) holds held-out camera sources' copies through JPEG
chains, edited and unedited. Up to ``--per-class`` of each (seed 0) are decoded, cropped
by 3 rows and 5 columns (so the earlier grid no longer starts at the corner) and saved as
PNG in a temporary folder; the tamper analyzer reads each. Prints the image AUC per edit
kind against every unedited copy, beside the same copies read as the JPEG files they were
(their cached tamper score).

``--root`` reads with the tamper analyzer of another checkout (an earlier version);
``--save`` writes the scores, and ``--compare`` prints the difference against saved
scores with a 5-95% bootstrap over the sources. Nothing is fitted. Results:
docs/analyzers/tamper.md ("A picture that was a JPEG").
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CROP = (3, 5)  # rows, columns cut from the top and the left
ROUTES = ("JPEG, size kept", "resized + JPEG")


def copies(work: Path, per_class: int) -> list[dict[str, str]]:
    """Held-out camera copies through JPEG chains, ``per_class`` edited and unedited."""
    from edit_kinds import chain_of

    rows: list[dict[str, str]] = []
    for listing in sorted(work.glob("rows-*.json")):
        rows += json.loads(listing.read_text("utf-8"))
    picked = [
        r
        for r in rows
        if r.get("split") == "heldout"
        and str(r.get("source", "")).startswith("camera:")
        and r["path"].lower().endswith(".jpg")
        and chain_of(r["path"].rsplit("/", 1)[-1]) in ROUTES
        and r["label"] in ("authentic", "manipulated")
        and Path(r["path"]).is_file()
    ]
    picked.sort(key=lambda r: r["path"])
    random.Random(0).shuffle(picked)
    edited = [r for r in picked if r["label"] == "manipulated"][:per_class]
    unedited = [r for r in picked if r["label"] == "authentic"][:per_class]
    return edited + unedited


def cached_scores(work: Path) -> dict[str, float]:
    """Path -> the tamper image score the calibration cache holds for the file."""
    out = {}
    for line in (work / "records.jsonl").read_text("utf-8").splitlines():
        rec = json.loads(line)
        metrics = ((rec.get("analyzers") or {}).get("tamper") or {}).get("metrics") or {}
        if metrics.get("image_score") is not None:
            out[rec["path"]] = float(metrics["image_score"])
    return out


def png_scores(rows: list[dict[str, str]]) -> list[float]:
    """The tamper image score of each copy decoded, cropped by :data:`CROP`, saved as PNG
    (NaN when the analyzer reads nothing)."""
    from PIL import Image

    from triage.analyzers.base import Context
    from triage.analyzers.tamper import TamperAnalyzer
    from triage.media import Media

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, row in enumerate(rows):
            path = Path(tmp) / f"{k}.png"
            with Image.open(row["path"]) as im:
                rgb = im.convert("RGB")
                crop = rgb.crop((CROP[1], CROP[0], rgb.width, rgb.height))
                crop.save(path, compress_level=1)  # the pixels are the same at any level
            metrics = TamperAnalyzer().run(Media.open(path), Context()).metrics
            out.append(float(metrics.get("image_score", float("nan"))))
            path.unlink()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/triage-calibration"))
    ap.add_argument("--per-class", type=int, default=150)
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose analyzer reads")
    ap.add_argument("--save", type=Path)
    ap.add_argument("--compare", type=Path)
    args = ap.parse_args(argv)
    # The analyzer is imported before the bench's helpers, which put this checkout first
    # on the path: once imported, the version that reads is the one of --root.
    sys.path.insert(0, str(args.root))
    import triage.analyzers.tamper

    sys.path.insert(1, str(BENCH))
    if not (args.work / "records.jsonl").is_file():
        print(f"no calibration cache in {args.work}: run bench/calibrate.py first; skipped")
        return 0
    import numpy as np
    from edit_kinds import KINDS
    from tamper_cfa import auc_interval
    from tamper_regions import auc

    rows = copies(args.work, args.per_class)
    kinds = np.array(
        [
            next((k for k in KINDS if k in Path(r["path"]).name), "other")
            if r["label"] == "manipulated"
            else "unedited"
            for r in rows
        ]
    )
    sources = np.array([r["source"] for r in rows])
    cached = cached_scores(args.work)
    as_jpeg = np.array([cached.get(r["path"], np.nan) for r in rows])
    scores = np.array(png_scores(rows))
    print(f"read by {Path(triage.analyzers.tamper.__file__).parents[2]}")
    if args.save:
        args.save.write_text(
            json.dumps({r["path"]: s for r, s in zip(rows, scores, strict=True)}), "utf-8"
        )
    before = None
    if args.compare:
        saved = json.loads(args.compare.read_text("utf-8"))
        before = np.array([saved.get(r["path"], np.nan) for r in rows], float)
    neg = kinds == "unedited"
    print(f"{len(rows)} copies of {len(set(sources))} held-out camera sources, as PNG")
    head = "| edit kind | as the JPEG | as PNG |"
    if before is not None:
        head += " as PNG, --compare | difference (5-95% over sources) |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for kind in [*KINDS, "all"]:
        pos = ~neg if kind == "all" else kinds == kind
        if not pos.any():
            continue
        ok = ~np.isnan(scores)
        line = (
            f"| {kind} ({int(pos.sum())}) "
            f"| {auc(as_jpeg[pos & ~np.isnan(as_jpeg)], as_jpeg[neg & ~np.isnan(as_jpeg)]):.3f} "
            f"| {auc(scores[pos & ok], scores[neg & ok]):.3f} |"
        )
        if before is not None:
            both = ok & ~np.isnan(before)
            lo, hi = auc_interval(scores, before, pos & both, neg & both, sources)
            gain = auc(scores[pos & both], scores[neg & both]) - auc(
                before[pos & both], before[neg & both]
            )
            line += (
                f" {auc(before[pos & both], before[neg & both]):.3f} "
                f"| {gain:+.3f} ({lo:+.3f}..{hi:+.3f}) |"
            )
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
