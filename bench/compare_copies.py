#!/usr/bin/env python3
"""Benchmark of `triage compare`: a camera photo against a copy of it that went through
a repost chain, with or without an edit. Is the copy aligned, are clean copies left
without regions, and is an edit's region found?

    python bench/compare_copies.py [--training ../shared/training] [--sources 40] [--seed 0]

For each source photo (camera photos of ``../shared/training``, as the tamper model's
edit generator lists them, seeded sample) the copy A is the photo (cropped to at most
2048 px square, as the generator does) saved at JPEG q95. Copy B is A's pixels, edited
with one of the generator's edit kinds or not at all, then cropped to 60-100% of the
area, turned up to 3 degrees one time in four, mirrored one time in six, its tone
changed (gain 0.85-1.2, offset -10..+10) one time in three, and sent through the
platform chain (resize to 1080/1600/2048 or not, JPEG q65-95). Printed per kind: how
often B is aligned, how often any region is reported (for unedited copies, a false
region), how often a reported box covers the edit (boxes cover >= 30% of the edited
pixels, and >= 30% of the boxes' area is edited), and the seconds per comparison.
Nothing is fitted here; the module's constants were set on two photos that are left
out (their names are in EXCLUDED). Skips cleanly when the training photos are absent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TRAINING = ROOT.parent / "shared" / "training"
KINDS = ("none", "splice", "copymove", "inpaint", "retouch", "overlay")
EXCLUDED = ("jpg_Canon_EOS_20D_(2).jpg", "jpg_Apple_iPhone_4.jpg")


def _copy_of(
    rgb: np.ndarray, kind: str, donor: Path, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """B's pixels, the edit mask in A's grid, and the matrix from A's grid to B's."""
    import cv2

    from triage.train.edits import apply_edit

    h, w = rgb.shape[:2]
    mask = np.zeros((h, w), bool)
    if kind != "none":
        rgb, mask = apply_edit(kind, rgb, donor, rng)
    keep = float(np.sqrt(rng.uniform(0.6, 1.0)))
    ch, cw = int(h * keep), int(w * keep)
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    matrix = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]])
    out = rgb[y0 : y0 + ch, x0 : x0 + cw]
    if rng.random() < 0.25:
        angle = float(rng.uniform(-3, 3))
        turn = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, 1.0)
        out = cv2.warpAffine(out, turn, (cw, ch), borderMode=cv2.BORDER_REFLECT)
        matrix = np.vstack([turn, [0, 0, 1]]) @ matrix
    if rng.random() < 1 / 6:
        out = out[:, ::-1]
        matrix = np.array([[-1.0, 0, cw - 1], [0, 1, 0], [0, 0, 1]]) @ matrix
    if rng.random() < 1 / 3:
        gain, offset = float(rng.uniform(0.85, 1.2)), float(rng.uniform(-10, 10))
        out = np.clip(out.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out), mask, matrix


def _covered(mask: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> tuple[float, float]:
    """Share of the edited pixels inside the boxes, and share of the boxes' area edited."""
    drawn = np.zeros(mask.shape, bool)
    for x, y, w, h in boxes:
        drawn[y : y + h, x : x + w] = True
    inside = float((drawn & mask).sum())
    return inside / max(1.0, float(mask.sum())), inside / max(1.0, float(drawn.sum()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--training", type=Path, default=TRAINING)
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (args.training / "MANIFEST.tsv").is_file():
        print(f"skipped: no training photos at {args.training}")
        return 0
    from PIL import Image

    from triage.compare import compare_paths
    from triage.train.edits import decode, list_sources, platform_chain

    sources = [p for p in list_sources(args.training) if p.name not in EXCLUDED]
    rng = np.random.default_rng(args.seed)
    picked = [sources[i] for i in rng.permutation(len(sources))[: args.sources]]
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    with tempfile.TemporaryDirectory() as tmp:
        for n, source in enumerate(picked):
            rgb = decode(source, rng)
            if rgb is None:
                continue
            a_path = Path(tmp) / "a.jpg"
            Image.fromarray(rgb).save(a_path, quality=95)
            for kind in KINDS:
                donor = picked[(n + 1) % len(picked)]
                copy, mask, _ = _copy_of(rgb, kind, donor, rng)
                served, _, _ = platform_chain(copy, np.zeros(copy.shape[:2], bool), rng)
                b_path = Path(tmp) / "b.jpg"
                b_path.write_bytes(served)
                start = time.perf_counter()
                result = compare_paths(a_path, b_path)
                s = stats[kind]
                s["files"] += 1
                s["seconds"] += time.perf_counter() - start
                s["aligned"] += result.aligned
                s["regions"] += bool(result.regions)
                s["widespread"] += (result.differing_share or 0.0) > 0.25
                if kind != "none" and mask.any():
                    recall, precision = _covered(mask, [r.box_a for r in result.regions])
                    s["found"] += recall >= 0.3 and precision >= 0.3
                    s["edited"] += 1
            print(f"  {n + 1}/{len(picked)} {source.name}", file=sys.stderr)
    print(f"{'kind':10} {'files':>5} {'aligned':>8} {'any region':>11} {'found':>8} {'s/file':>7}")
    for kind in KINDS:
        s = stats[kind]
        files = max(1.0, s["files"])
        found = f"{s['found'] / max(1.0, s['edited']):.2f}" if kind != "none" else "-"
        print(
            f"{kind:10} {int(s['files']):5d} {s['aligned'] / files:8.2f} "
            f"{s['regions'] / files:11.2f} {found:>8} {s['seconds'] / files:7.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
