#!/usr/bin/env python3
"""Benchmark: copy-move detection of MIRRORED (flipped) clones, before and after the
analyzer matches mirrored SIFT descriptors (issue 13, version 1.5).

    python bench/copymove_mirror.py [--work /tmp/cmove_mirror] [--limit N]
    python bench/copymove_mirror.py --cost 10      # ms per file on camera photos
    python bench/copymove_mirror.py --corpus ../shared/corpus   # measure only

The files, from camera photos never used for fitting anything (the tamper model's
held-out sources, ``split_sources(list_sources(../shared/training))[1]``, split into
halves A and B by name as bench/copymove_small.py does: A to choose, B to check), per
source, ``DRAWS`` times per route:

- route "small": the photo reduced to a long side drawn from 320-720 px (a kernel of
  ``triage.train.edits.KERNELS``), then edited at that size;
- route "full": edited on the photo, then reduced the same way;
- route "large": edited on the photo, then kept or reduced to a long side of 1600 or
  1080 (INTER_AREA), the sizes platforms serve;

each saved as JPEG q70-95 (4:2:0, no metadata). Per draw three files through the same
size and quality: a *mirrored* clone (:func:`mirrored_copy`: a region of
``random_mask`` flipped left-right, or one time in four up-down, half the time also
rotated +-20 degrees and scaled 0.85-1.2, pasted elsewhere with a hard or feathered
edge), an *ordinary* copy-move edit of ``triage.train.edits`` (must not be lost) and
the unedited *twin* (false alarms must not rise). The held-out camera files themselves
(as shot: buildings, faces and other symmetric scenes) are run too.

Each file is analysed by the copymove analyzer alone (``triage.analyze(path,
only=["copymove"])``) once per build (``SETTINGS``), alternating their order: "before"
(``MIRRORS = False``, version 1.4), "nogeom" (mirrored matching, ordinary acceptance)
and "after" (version 1.5: mirrored candidates seen in perspective need a higher net
residual correlation, ``MIRROR_GEOMETRY``). An edit counts as found when a copy-move
finding has a box on the edit's mask. ``--cost N`` times both builds on N camera files (large
photos, reduced to 800 px by the analyzer), alternating, and prints the medians.
``--corpus DIR`` runs both builds on the camera and copy-move files of
``DIR/labels.tsv`` (measured only, never chosen on). Nothing here is a target; skips
cleanly when ../shared/training is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# The same halves (A to choose, B to check) and the same hit test as copymove_small.
from copymove_small import cached_index, held_out_sources, on_mask  # noqa: E402

TRAINING = ROOT.parent / "shared" / "training"
SEED = 1515
DRAWS = 2  # per source and route
SIDES = (320, 720)
LARGE = (None, 1600, 1080)
QUALITIES = (70, 95)
# The analyzer's settings per build: "before" is version 1.4 (no mirrored matching),
# "nogeom" mirrored matching with the ordinary acceptance alone, "after" version 1.5
# (mirrored candidates seen in perspective need a higher net residual correlation).
SETTINGS: dict[str, dict[str, bool]] = {
    "before": {"MIRRORS": False},
    "nogeom": {"MIRRORS": True, "MIRROR_GEOMETRY": False},
    "after": {"MIRRORS": True, "MIRROR_GEOMETRY": True},
}
BUILDS = tuple(SETTINGS)


def mirrored_copy(rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A region copied with a flip (left-right, or up-down one time in four), half the
    time also rotated and scaled, pasted elsewhere; the edited RGB and the pasted mask."""
    import cv2

    from triage.train.edits import _blend, random_mask

    h, w = rgb.shape[:2]
    mask = random_mask(h, w, rng, 0.01, 0.12)
    ys, xs = np.nonzero(mask)
    cx, cy = float(xs.mean()), float(ys.mean())
    if rng.random() < 0.75:
        flip = np.array([[-1.0, 0.0, 2 * cx], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    else:
        flip = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 2 * cy], [0.0, 0.0, 1.0]])
    turn = rng.random() < 0.5
    angle = float(rng.uniform(-20, 20)) if turn else 0.0
    scale = float(rng.uniform(0.85, 1.2)) if turn else 1.0
    tx, ty = float(rng.uniform(0.2, 0.8) * w), float(rng.uniform(0.2, 0.8) * h)
    place = np.eye(3)
    place[:2] = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    place[:2, 2] += np.array([tx - cx, ty - cy])
    mat = (place @ flip)[:2]
    moved = cv2.warpAffine(rgb, mat, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    target = cv2.warpAffine(mask.astype(np.uint8), mat, (w, h), flags=cv2.INTER_NEAREST) > 0
    return _blend(rgb, moved, target, rng), target


def make_files(work: Path) -> list[dict[str, Any]]:
    """Write the edited files, twins and masks once; returns the index."""
    import cv2

    from triage.train.edits import KERNELS, apply_edit, decode, encode_jpeg, long_side_size

    if (cached := cached_index(work)) is not None:
        return cached
    files = work / "files"
    index_path = work / "index.json"
    sources, half = held_out_sources()
    index: list[dict[str, Any]] = []
    for i, path in enumerate(sorted(sources)):
        base = dict(source=path.name, half=half[path.name])
        index.append(dict(base, file=str(path), route="camera", kind="none"))
        rng = np.random.default_rng([SEED, i])
        rgb = decode(path, rng)
        if rgb is None:
            continue
        h, w = rgb.shape[:2]
        for route in ("small", "full", "large"):
            for k in range(DRAWS):
                quality = int(rng.integers(QUALITIES[0], QUALITIES[1] + 1))
                if route == "large":
                    side = LARGE[int(rng.integers(0, len(LARGE)))]
                    kernel = "area"
                else:
                    side = int(rng.integers(SIDES[0], SIDES[1] + 1))
                    kernel = KERNELS[int(rng.integers(0, len(KERNELS)))]
                size = long_side_size(h, w, side) or (w, h)

                if route == "small":
                    twin = _shrink(rgb, size, kernel)
                    mirrored, m_mask = mirrored_copy(twin, rng)
                    plain, p_mask = apply_edit("copymove", twin, path, rng)
                else:
                    twin = _shrink(rgb, size, kernel)
                    big_m, big_m_mask = mirrored_copy(rgb, rng)
                    big_p, big_p_mask = apply_edit("copymove", rgb, path, rng)
                    mirrored, plain = _shrink(big_m, size, kernel), _shrink(big_p, size, kernel)
                    m_mask = _shrink_mask(big_m_mask, size)
                    p_mask = _shrink_mask(big_p_mask, size)
                stem = f"{path.stem}__{route}{k}-{side}-{kernel}-q{quality}"
                for kind, img, mask in (
                    ("mirror", mirrored, m_mask),
                    ("plain", plain, p_mask),
                    ("none", twin, None),
                ):
                    name = f"{stem}__{kind}.jpg"
                    (files / name).write_bytes(encode_jpeg(img, quality, 2))
                    if mask is not None:
                        cv2.imwrite(
                            str(files / f"{stem}__{kind}.mask.png"), mask.astype(np.uint8) * 255
                        )
                    index.append(dict(base, file=name, route=route, kind=kind))
    index_path.write_text(json.dumps(index))
    return index


def _shrink(img: np.ndarray, size: tuple[int, int], kernel: str) -> np.ndarray:
    """``img`` resized to ``size`` (w, h) with a kernel of the edits module, or by area
    averaging ("area", the large route); unchanged at its own size."""
    import cv2

    from triage.train.edits import _resize

    if size == (img.shape[1], img.shape[0]):
        return img
    if kernel == "area":
        return cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return _resize(img, size, kernel)


def _shrink_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if size == (mask.shape[1], mask.shape[0]):
        return mask
    return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0


def run_one(path: Path, build: str) -> tuple[list[list[int]], float, bool]:
    """The copy-move finding's boxes (empty: none), the analyzer's seconds, and whether
    the top accepted clone is mirrored, under one build."""
    import triage
    import triage.analyzers.copymove as cm

    saved = {k: getattr(cm, k) for k in SETTINGS[build]}
    for k, v in SETTINGS[build].items():
        setattr(cm, k, v)
    try:
        report = triage.analyze(path, only=["copymove"])
    finally:
        for k, v in saved.items():
            setattr(cm, k, v)
    runs = [a for a in report.analyzers if a.name == "copymove"]
    seconds = runs[0].seconds if runs else float("nan")
    boxes: list[list[int]] = []
    mirrored = False
    for f in report.findings:
        if f.id == "copymove.cloned_region":
            boxes += [list(b) for b in f.evidence.get("boxes", [])]
            mirrored = bool(f.evidence["clones"][0].get("mirrored", False))
    return boxes, seconds, mirrored


def measure(
    work: Path, index: list[dict[str, Any]], limit: int | None, builds: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Every build on every file, alternating their order per file; results cached per
    build under ``work`` (a build added later is measured alone)."""
    import cv2

    files = work / "files"
    sources = sorted({r["source"] for r in index})[:limit] if limit else None
    rows = [r for r in index if sources is None or r["source"] in sources]
    caches = {b: work / f"{b}-{limit or 'all'}.json" for b in builds}
    done = {b: json.loads(c.read_text()) if c.is_file() else None for b, c in caches.items()}
    todo = [b for b in builds if done[b] is None]
    results: dict[str, dict[str, Any]] = {b: {} for b in todo}
    for n, row in enumerate(rows):
        path = Path(row["file"]) if row["route"] == "camera" else files / row["file"]
        for build in todo if n % 2 == 0 else todo[::-1]:
            boxes, seconds, mirrored = run_one(path, build)
            hit = False
            if boxes and row["kind"] != "none":
                mask_path = files / f"{Path(row['file']).stem}.mask.png"
                hit = on_mask(boxes, np.asarray(cv2.imread(str(mask_path), 0)) > 0)
            results[build][row["file"]] = dict(
                fired=bool(boxes), hit=hit, ms=1000 * seconds, mirrored=mirrored
            )
        if todo and (n + 1) % 50 == 0:
            print(f"# {n + 1} files", file=sys.stderr, flush=True)
    for b in todo:
        caches[b].write_text(json.dumps(results[b]))
        done[b] = results[b]
    return [dict(row, **{b: done[b][row["file"]] for b in builds}) for row in rows]


def table(records: list[dict[str, Any]], builds: tuple[str, ...]) -> None:
    """Per half, route and kind: found / flagged per build, paired changes against
    "before", ms per file."""
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        for route in (r["route"], "all") if r["route"] != "camera" else ("camera",):
            cells[(r["half"], route, r["kind"])].append(r)
    others = [b for b in builds if b != "before"]
    head = " | ".join(f"{b} (only {b} / only before)" for b in others)
    print(f"| half | route | kind | files | before | {head} | ms median {', '.join(builds)} |")
    print("|---|---|---|---|---|" + "---|" * len(others) + "---|")
    for half in "AB":
        for route in ("small", "full", "large", "all", "camera"):
            for kind in ("mirror", "plain", "none"):
                rows = cells.get((half, route, kind))
                if not rows:
                    continue
                key = "fired" if kind == "none" else "hit"
                before = [r["before"][key] for r in rows]
                parts = []
                for b in others:
                    got = [r[b][key] for r in rows]
                    gained = sum(x and not y for x, y in zip(got, before, strict=True))
                    lost = sum(y and not x for x, y in zip(got, before, strict=True))
                    parts.append(f"{sum(got)} ({gained} / {lost})")
                ms = ", ".join(f"{statistics.median(r[b]['ms'] for r in rows):.0f}" for b in builds)
                print(
                    f"| {half} | {route} | {kind} | {len(rows)} | {sum(before)} "
                    f"| {' | '.join(parts)} | {ms} |"
                )
    for r in records:
        if r["kind"] == "none" and any(r[b]["fired"] for b in builds):
            flags = ", ".join(f"{b} {int(r[b]['fired'])}" for b in builds)
            print(f"  unedited flagged: {Path(r['file']).name} ({flags})")


def cost(count: int, repeats: int = 3) -> None:
    """The analyzer's ms per file, both builds alternating, on ``count`` camera files."""
    from triage.train.edits import list_sources

    paths = sorted(list_sources(TRAINING))[:count]
    ms: dict[str, list[float]] = defaultdict(list)
    per_file = []
    for i, path in enumerate(paths):
        mine: dict[str, list[float]] = defaultdict(list)
        for k in range(repeats):
            order = ("before", "after") if (i + k) % 2 == 0 else ("after", "before")
            for build in order:
                _, seconds, _ = run_one(path, build)
                mine[build].append(1000 * seconds)
        for build in ("before", "after"):
            ms[build].append(min(mine[build]))
        per_file.append((path.name, min(mine["before"]), min(mine["after"])))
    for (name, b, a), path in zip(per_file, paths, strict=True):
        own, mirrored, n = _knn_ms(path, repeats + 2)
        print(
            f"  {name}: {b:.0f} -> {a:.0f} ms; {n} keypoints: k-NN {own:.0f} ms, "
            f"mirrored k-NN {mirrored:.0f} ms"
        )
    b, a = statistics.median(ms["before"]), statistics.median(ms["after"])
    print(
        f"median over {len(paths)} files (best of {repeats}): {b:.0f} -> {a:.0f} ms ({a / b:.2f}x)"
    )


def _knn_ms(path: Path, repeats: int) -> tuple[float, float, int]:
    """Best-of-``repeats`` ms of the ordinary and of the mirrored k-NN on one file's
    keypoints (at the analyzer's working size), and the keypoint count."""
    import time

    from triage.analyzers.copymove import MAX_FEATURES, working_image
    from triage.forensics.copymove import keypoints, knn_l2, mirror_permutation
    from triage.media import Media

    gray, _ = working_image(Media.open(path))
    _, desc = keypoints(np.clip(gray, 0, 255).astype(np.uint8), MAX_FEATURES)
    query = desc[:, mirror_permutation()]
    own, mirrored = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        knn_l2(desc, 6)
        t1 = time.perf_counter()
        knn_l2(desc, 6, query=query)
        t2 = time.perf_counter()
        own.append(t1 - t0)
        mirrored.append(t2 - t1)
    return 1000 * min(own), 1000 * min(mirrored), len(desc)


def corpus(root: Path) -> None:
    """Both builds on the corpus's camera and copy-move files (measured only)."""
    rows = []
    with (root / "labels.tsv").open(encoding="utf-8") as fh:
        for r in csv.reader(fh, delimiter="\t"):
            copymove = r and any(f"/{d}/" in r[0] for d in ("comofod", "casia2"))
            if copymove or (r and r[0].startswith("camera/")):
                rows.append(r)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        fired = {b: bool(run_one(root / r[0], b)[0]) for b in BUILDS}
        folder = r[0].split("/")[1] if r[0].startswith("manipulated/") else r[0].split("/")[0]
        cell = counts[(folder, r[1])]
        cell[0] += 1
        cell[1] += fired["before"]
        cell[2] += fired["after"]
        if fired["before"] != fired["after"] or "ind00091" in r[0]:
            print(f"  {r[0]} ({r[1]}): before {fired['before']}, after {fired['after']}")
    print("| folder | label | files | flagged before | after |")
    print("|---|---|---|---|---|")
    for (folder, label), (n, b, a) in sorted(counts.items()):
        print(f"| {folder} | {label} | {n} | {b} | {a} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/cmove_mirror"))
    ap.add_argument("--limit", type=int, default=None, help="first N sources only")
    ap.add_argument("--builds", default=",".join(BUILDS), help="of " + ", ".join(BUILDS))
    ap.add_argument("--cost", type=int, default=0, help="time both builds on N camera files")
    ap.add_argument("--corpus", type=Path, help="measure the corpus's files only")
    args = ap.parse_args()
    if args.corpus is not None:
        if not (args.corpus / "labels.tsv").is_file():
            print(f"skipped: no {args.corpus}/labels.tsv")
            return 0
        corpus(args.corpus)
        return 0
    if not (TRAINING / "MANIFEST.tsv").is_file():
        print(f"skipped: no {TRAINING}/MANIFEST.tsv")
        return 0
    if args.cost:
        cost(args.cost)
        return 0
    index = make_files(args.work)
    print(f"{len(index)} files from {len({r['source'] for r in index})} held-out sources")
    builds = tuple(b for b in args.builds.split(",") if b)
    table(measure(args.work, index, args.limit, builds), builds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
