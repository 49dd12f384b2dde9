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
changed (gain 0.85-1.2, offset -10..+10) one time in three, given grain (Gaussian noise,
sigma 2-6) or sharpened (unsharp mask) one time in six each, and sent through the
platform chain (resize to 1080/1600/2048 or not, JPEG q65-95). Printed per kind: how
often B is aligned, how often any region is reported (for unedited copies, a false
region), how often a box lands on the edit (>= 30% of its area edited), how often the
boxes cover the edit ("found": they cover >= 30% of the edited pixels, and >= 30% of
their area is edited), and the seconds per comparison.
Also printed: how often thumbnails of a photo (96-320 px) are aligned with it, and how
often a crop of a photo against the photo (a wider framing) and the photo against a
phone screenshot, a letterboxed copy or a bordered copy of it (frames) are read as a
frame. Nothing is fitted here; the module's constants were set on two photos that are
left out (their names are in EXCLUDED). Skips cleanly when the training photos are
absent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TRAINING = ROOT.parent / "shared" / "training"
COMOFOD = ROOT.parent / "shared" / "corpus" / "manipulated" / "comofod"
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
    texture = rng.random()
    if texture < 1 / 6:  # a grain filter
        grain = rng.normal(0.0, float(rng.uniform(2, 6)), out.shape)
        out = np.clip(out.astype(np.float32) + grain, 0, 255).astype(np.uint8)
    elif texture < 1 / 3:  # a sharpening filter
        amount = float(rng.uniform(0.5, 1.5))
        soft = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(1.0, 2.5)))
        out = cv2.addWeighted(out, 1 + amount, soft, -amount, 0)
    return np.ascontiguousarray(out), mask, matrix


def _edited_share(mask: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = box
    inside = mask[y : y + h, x : x + w]
    return float(inside.mean()) if inside.size else 0.0


def _covered(mask: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> tuple[float, float]:
    """Share of the edited pixels inside the boxes, and share of the boxes' area edited."""
    drawn = np.zeros(mask.shape, bool)
    for x, y, w, h in boxes:
        drawn[y : y + h, x : x + w] = True
    inside = float((drawn & mask).sum())
    return inside / max(1.0, float(mask.sum())), inside / max(1.0, float(drawn.sum()))


def comofod(folder: Path) -> None:
    """CoMoFoD's copy-move pairs (NNN_orig.png, NNN_forged.png, NNN_mask.png), measured
    only: the original against the forgery as published and against a repost of it
    (5% cropped off each side, 0.75x, JPEG q75)."""
    import cv2
    from PIL import Image

    from triage.comparison import compare_paths

    stems = sorted(p.name.split("_")[0] for p in folder.glob("*_orig.png"))
    if not stems:
        print(f"skipped CoMoFoD: no pairs at {folder}")
        return
    rows: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        for stem in stems:
            mask = np.asarray(Image.open(folder / f"{stem}_mask.png").convert("L")) > 127
            forged = np.asarray(Image.open(folder / f"{stem}_forged.png").convert("RGB"))
            h, w = mask.shape
            crop = forged[h // 20 : h - h // 20, w // 20 : w - w // 20]
            size = (round(crop.shape[1] * 0.75), round(crop.shape[0] * 0.75))
            repost = Path(tmp) / f"{stem}.jpg"
            Image.fromarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA)).save(
                repost, quality=75
            )
            for name, copy in (("as published", folder / f"{stem}_forged.png"), ("repost", repost)):
                result = compare_paths(folder / f"{stem}_orig.png", copy)
                recall, precision = _covered(mask, [r.box_a for r in result.regions])
                shares = [_edited_share(mask, r.box_a) for r in result.regions]
                rows[name] += [
                    float(result.aligned),
                    float(any(v >= 0.3 for v in shares)),
                    float(recall >= 0.3 and precision >= 0.3),
                    float(any(v < 0.3 for v in shares)),
                ]
    print(f"CoMoFoD pairs ({len(stems)}):")
    print(f"  {'copy':13} {'aligned':>8} {'a box on it':>12} {'found':>6} {'a box off it':>13}")
    for name, values in rows.items():
        v = np.array(values).reshape(-1, 4).mean(axis=0)
        print(f"  {name:13} {v[0]:8.2f} {v[1]:12.2f} {v[2]:6.2f} {v[3]:13.2f}")
    print()


def _photos(sources: list[Path]) -> Iterator[Any]:
    """Each source photo that decodes, as an RGB Pillow image of at most 1600 px."""
    from PIL import Image

    for source in sources:
        try:
            photo = Image.open(source).convert("RGB")
        except Exception:
            continue
        photo.thumbnail((1600, 1600))
        yield photo


def framing(sources: list[Path], rng: np.random.Generator) -> None:
    """A crop of a photo against the photo (a wider framing: not a frame), and the photo
    against a phone screenshot holding it, a letterboxed copy and a copy with a grey
    border (frames). Prints how often each is read as a frame."""
    from PIL import Image, ImageDraw

    from triage.comparison import compare_paths

    read: dict[str, list[bool]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for photo in _photos(sources):
            rgb = np.asarray(photo)
            h, w = rgb.shape[:2]
            photo.save(folder / "a.jpg", quality=92)
            f = float(rng.uniform(0.05, 0.25))
            crop = rgb[int(h * f) : h - int(h * f * 0.7), int(w * f * 0.5) : w - int(w * f)]
            Image.fromarray(crop).save(folder / "crop.jpg", quality=85)
            read["wider framing"].append(
                compare_paths(folder / "crop.jpg", folder / "a.jpg").framed is not None
            )
            tall = round(h * 1080 / w)
            shot = Image.new("RGB", (1080, tall + 900), (255, 255, 255))
            shot.paste(photo.resize((1080, tall)), (0, 400))
            draw = ImageDraw.Draw(shot)
            for i in range(6):
                draw.text((30, 60 + 40 * i), "user name  caption text " * 3, fill=(0, 0, 0))
            shot.save(folder / "shot.jpg", quality=85)
            letter = np.zeros((h + h // 3, w, 3), np.uint8)
            letter[h // 6 : h // 6 + h] = rgb
            Image.fromarray(letter).save(folder / "letter.jpg", quality=85)
            border = np.full((h + 80, w + 80, 3), 235, np.uint8)
            border[40 : 40 + h, 40 : 40 + w] = rgb
            Image.fromarray(border).save(folder / "border.jpg", quality=85)
            for name in ("shot", "letter", "border"):
                framed = compare_paths(folder / "a.jpg", folder / f"{name}.jpg").framed
                read[f"{name} (a frame)"].append(framed == "B")
    print(f"Framing ({len(read['wider framing'])} photos): read as a frame")
    for name, values in read.items():
        print(f"  {name:22} {np.mean(values):.2f}")
    print()


THUMB_SIDES = (96, 128, 160, 200, 240, 320)


def thumbnails(sources: list[Path]) -> None:
    """Each photo (long side 1600 px) against thumbnails of it (a search engine's or a
    feed's), long side THUMB_SIDES, JPEG q80: how often they are aligned, and how often
    a region is reported on these unedited copies."""
    from PIL import Image

    from triage.comparison import compare_paths

    aligned: dict[int, list[bool]] = defaultdict(list)
    regions: dict[int, list[bool]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for photo in _photos(sources):
            photo.save(folder / "a.jpg", quality=92)
            for side in THUMB_SIDES:
                small = photo.copy()
                small.thumbnail((side, side), Image.Resampling.LANCZOS)
                small.save(folder / "t.jpg", quality=80)
                result = compare_paths(folder / "a.jpg", folder / "t.jpg")
                aligned[side].append(result.aligned)
                regions[side].append(bool(result.regions))
    print(f"Thumbnails ({len(aligned[THUMB_SIDES[0]])} photos): long side, aligned, any region")
    for side in THUMB_SIDES:
        print(f"  {side:4d} px  {np.mean(aligned[side]):.2f}  {np.mean(regions[side]):.2f}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--training", type=Path, default=TRAINING)
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--comofod", type=Path, default=COMOFOD)
    parser.add_argument("--framing", type=int, default=40, help="photos for the framing check")
    parser.add_argument("--thumbnails", type=int, default=15, help="photos for the thumbnails")
    args = parser.parse_args()
    comofod(args.comofod)
    if not (args.training / "MANIFEST.tsv").is_file():
        print(f"skipped: no training photos at {args.training}")
        return 0
    from PIL import Image

    from triage.comparison import compare_paths
    from triage.train.edits import decode, list_sources, platform_chain

    sources = [p for p in list_sources(args.training) if p.name not in EXCLUDED]
    rng = np.random.default_rng(args.seed)
    if args.framing:
        framing([sources[i] for i in rng.permutation(len(sources))[: args.framing]], rng)
    if args.thumbnails:  # its own draw: the kinds below pick the same photos with or without it
        order = np.random.default_rng(args.seed + 1000).permutation(len(sources))
        thumbnails([sources[i] for i in order[: args.thumbnails]])
    picked = [sources[i] for i in rng.permutation(len(sources))[: args.sources]]
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    strengths: dict[str, list[float]] = {"edit": [], "other": []}
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
                if not result.aligned or (kind == "none" and result.regions):
                    what = "not aligned" if not result.aligned else "regions on a clean copy"
                    print(f"  {what}: {source.name} {kind}", file=sys.stderr)
                s["widespread"] += (result.differing_share or 0.0) > 0.25
                if kind != "none" and mask.any():
                    recall, precision = _covered(mask, [r.box_a for r in result.regions])
                    s["found"] += recall >= 0.3 and precision >= 0.3
                    s["pointed"] += any(_edited_share(mask, r.box_a) >= 0.3 for r in result.regions)
                    s["edited"] += 1
                for region in result.regions:
                    x, y, w, h = region.box_a
                    edited = mask[y : y + h, x : x + w].mean() >= 0.3 if mask.any() else False
                    strengths["edit" if edited else "other"].append(region.strength)
            print(f"  {n + 1}/{len(picked)} {source.name}", file=sys.stderr)
    print(
        f"{'kind':10} {'files':>5} {'aligned':>8} {'any region':>11} {'a box on it':>12} "
        f"{'found':>6} {'s/file':>7}"
    )
    for kind in KINDS:
        s = stats[kind]
        files = max(1.0, s["files"])
        edited = max(1.0, s["edited"])
        pointed = f"{s['pointed'] / edited:.2f}" if kind != "none" else "-"
        found = f"{s['found'] / edited:.2f}" if kind != "none" else "-"
        print(
            f"{kind:10} {int(s['files']):5d} {s['aligned'] / files:8.2f} "
            f"{s['regions'] / files:11.2f} {pointed:>12} {found:>6} {s['seconds'] / files:7.2f}"
        )
    for name, values in strengths.items():
        if values:
            q = np.percentile(values, [5, 25, 50, 75, 95]).round(2).tolist()
            print(f"region strength, {name} regions ({len(values)}): p5/25/50/75/95 {q}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
