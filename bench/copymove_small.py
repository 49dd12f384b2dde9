#!/usr/bin/env python3
"""Benchmark: copy-move detection on SMALL pictures (long side 320-720 px, as they
arrive from social media and image boards), per candidate size policy (issue 13).

    python bench/copymove_small.py [--work /tmp/cmove_small] [--candidates none,up512]
    python bench/copymove_small.py --corpus ../shared/corpus   # measure only

The files, from camera photos never used for fitting anything (the tamper model's
held-out sources, ``split_sources(list_sources(../shared/training))[1]``), per source
and per route, ``DRAWS`` times: a long side drawn from 320-720 px, a resize kernel of
``triage.train.edits.KERNELS`` and a JPEG quality 70-95 (4:2:0, no metadata):

- route "small": the photo reduced first, then a copy-move edit
  (``apply_edit("copymove", ...)``) made at that small size;
- route "full": the edit made on the (cropped) photo, then reduced.

Each edited file has an unedited twin through the same resize and quality. Fixed seed;
files are cached under ``--work`` (never in the repository). Sources are split into two
halves by name (sorted, alternating): A, where a candidate is chosen, and B, read to
check that it holds.

For every candidate the copymove analyzer runs alone (``triage.analyze(path,
only=["copymove"])``) and the table counts, per half and route: edits with a copy-move
finding (and of those, with a reported box on the edit's mask), unedited twins with a
finding (false alarms), and the analyzer's own time (ms per file, median). Candidates:

- ``none``: no enlargement (the analyzer before version 1.4);
- ``upN``: pictures whose long side is below N px enlarged (bicubic) to N, and the
  whole analysis (SIFT, matching, the noise check) run on the enlargement
  (``copymove.MIN_WORK_SIDE = N``, from ``MIN_ENLARGE_SIDE`` up; version 1.4 ships
  ``up512``);
- ``kpN``: only the keypoints found on such an enlargement and mapped back; matching
  and the noise check on the picture's own pixels;
- ``contrast``: no enlargement; SIFT's contrast threshold lowered in proportion to the
  long side below 800 px (down to half), so a small picture keeps more weak keypoints.

``--corpus DIR`` runs the candidates on the copy-move files of ``DIR/labels.tsv``
(CoMoFoD, CASIA2) and prints, per file, whether the finding fired: measured only,
never chosen on. Nothing here is a target; skips cleanly when ../shared/training is
absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT.parent / "shared" / "training"
SEED = 1313
DRAWS = 3  # per source and route
SIDES = (320, 720)
QUALITIES = (70, 95)
CANDIDATES = ("none", "up512", "up640", "up800", "kp512", "kp640", "kp800", "contrast")


def halves(sources: list[Path]) -> dict[str, str]:
    """Half A or B of each source: sorted by name, alternating (balanced, stable)."""
    names = sorted(p.name for p in sources)
    return {n: "AB"[i % 2] for i, n in enumerate(names)}


def cached_index(work: Path) -> list[dict[str, Any]] | None:
    """The index an earlier run wrote in ``work``, or None (``work/files`` made)."""
    index_path = work / "index.json"
    if index_path.is_file():
        cached: list[dict[str, Any]] = json.loads(index_path.read_text())
        return cached
    (work / "files").mkdir(parents=True, exist_ok=True)
    return None


def held_out_sources() -> tuple[list[Path], dict[str, str]]:
    """The tamper model's held-out camera sources (never fitted on) and their halves."""
    from triage.train.edits import list_sources, split_sources

    sources = split_sources(list_sources(TRAINING))[1]
    return sources, halves(sources)


def make_files(work: Path) -> list[dict[str, Any]]:
    """Write the small copies (edited and twins) and the edit masks once; returns the index."""
    import cv2

    from triage.train.edits import KERNELS, _resize, apply_edit, decode, encode_jpeg, long_side_size

    if (cached := cached_index(work)) is not None:
        return cached
    files = work / "files"
    index_path = work / "index.json"
    sources, half = held_out_sources()
    index: list[dict[str, Any]] = []
    for i, path in enumerate(sorted(sources)):
        rng = np.random.default_rng([SEED, i])
        rgb = decode(path, rng)
        if rgb is None:
            continue
        h, w = rgb.shape[:2]
        for route in ("small", "full"):
            for k in range(DRAWS):
                side = int(rng.integers(SIDES[0], SIDES[1] + 1))
                kernel = KERNELS[int(rng.integers(0, len(KERNELS)))]
                quality = int(rng.integers(QUALITIES[0], QUALITIES[1] + 1))
                size = long_side_size(h, w, side) or (w, h)
                if route == "small":
                    twin = _resize(rgb, size, kernel)
                    edited, mask = apply_edit("copymove", twin, path, rng)
                else:
                    big, big_mask = apply_edit("copymove", rgb, path, rng)
                    edited = _resize(big, size, kernel)
                    twin = _resize(rgb, size, kernel)
                    m8 = big_mask.astype(np.uint8) * 255
                    mask = cv2.resize(m8, size, interpolation=cv2.INTER_NEAREST) > 0
                stem = f"{path.stem}__{route}{k}-{side}-{kernel}-q{quality}"
                for kind, img in (("copymove", edited), ("none", twin)):
                    name = f"{stem}__{kind}.jpg"
                    (files / name).write_bytes(encode_jpeg(img, quality, 2))
                    index.append(
                        dict(
                            file=name,
                            source=path.name,
                            half=half[path.name],
                            route=route,
                            kind=kind,
                        )
                    )
                cv2.imwrite(str(files / f"{stem}.mask.png"), mask.astype(np.uint8) * 255)
    index_path.write_text(json.dumps(index))
    return index


@contextmanager
def candidate(name: str) -> Iterator[None]:
    """Set the analyzer's size policy (or SIFT's threshold) to a candidate's, then restore."""
    import triage.analyzers.copymove as analyzer
    import triage.forensics.copymove as forensics

    saved = analyzer.MIN_WORK_SIDE, forensics.keypoints
    try:
        analyzer.MIN_WORK_SIDE = 0
        if name.startswith("up"):
            analyzer.MIN_WORK_SIDE = int(name[2:])
        elif name.startswith("kp"):
            forensics.keypoints = _keypoints_enlarged(saved[1], int(name[2:]))  # type: ignore[assignment]
        elif name == "contrast":
            forensics.keypoints = _scaled_contrast(saved[1])  # type: ignore[assignment]
        elif name != "none":
            raise SystemExit(f"unknown candidate {name!r}")
        yield
    finally:
        analyzer.MIN_WORK_SIDE, forensics.keypoints = saved


def _keypoints_enlarged(original: Callable[..., Any], side: int) -> Callable[..., Any]:
    """SIFT keypoints found on a bicubic enlargement to a long side of ``side`` (when
    smaller) and mapped back to the picture's own pixels."""

    def keypoints(gray_u8: np.ndarray, max_features: int = 3000) -> Any:
        import cv2

        h, w = gray_u8.shape[:2]
        if max(h, w) >= side:
            return original(gray_u8, max_features)
        size = (round(w * side / max(h, w)), round(h * side / max(h, w)))
        big = cv2.resize(gray_u8, size, interpolation=cv2.INTER_CUBIC)
        pts, desc = original(big, max_features)
        # Pixel centres: x_big + 0.5 = (x + 0.5) * factor (OpenCV's resize convention).
        factor = np.float32([size[0] / w, size[1] / h])
        return ((pts + 0.5) / factor - 0.5).astype(np.float32), desc

    return keypoints


def _scaled_contrast(original: Callable[..., Any]) -> Callable[..., Any]:
    """SIFT with a contrast threshold of 0.01 scaled by long side / 800 (at least 0.005)."""

    def keypoints(gray_u8: np.ndarray, max_features: int = 3000) -> Any:
        import cv2

        side = max(gray_u8.shape[:2])
        ct = 0.01 * min(1.0, max(0.5, side / 800.0))
        if ct >= 0.01:
            return original(gray_u8, max_features)
        sift = cv2.SIFT_create(nfeatures=max_features, contrastThreshold=ct)  # type: ignore[attr-defined]
        kps, desc = sift.detectAndCompute(gray_u8, None)
        if desc is None or len(kps) == 0:
            return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
        return np.array([k.pt for k in kps], np.float32), desc.astype(np.float32)

    return keypoints


def run_one(path: Path) -> tuple[list[list[int]], float, int]:
    """The copy-move finding's boxes (empty: no finding), the analyzer's seconds and
    its keypoint count, for one file."""
    import triage

    report = triage.analyze(path, only=["copymove"])
    runs = [a for a in report.analyzers if a.name == "copymove"]
    seconds = runs[0].seconds if runs else float("nan")
    keypoints = int((runs[0].metrics or {}).get("keypoints", 0)) if runs else 0
    boxes: list[list[int]] = []
    for f in report.findings:
        if f.id == "copymove.cloned_region":
            boxes += [list(b) for b in f.evidence.get("boxes", [])]
    return boxes, seconds, keypoints


def on_mask(boxes: list[list[int]], mask: np.ndarray) -> bool:
    """Whether a reported box covers pixels of the edit's mask."""
    return any(mask[y0:y1, x0:x1].any() for x0, y0, x1, y1 in boxes)


def measure(work: Path, index: list[dict[str, Any]], names: list[str]) -> None:
    import cv2

    files = work / "files"
    cells: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
        lambda: dict(n=0, fired=0, hit=0, ms=[], kp=[])
    )
    fired: dict[str, dict[str, bool]] = defaultdict(dict)
    for name in names:
        with candidate(name):
            for row in index:
                path = files / row["file"]
                boxes, seconds, kp = run_one(path)
                fired[name][row["file"]] = bool(boxes)
                hit = False
                if boxes and row["kind"] != "none":
                    stem = row["file"].rsplit("__", 1)[0]
                    mask = cv2.imread(str(files / f"{stem}.mask.png"), 0) > 0
                    hit = on_mask(boxes, mask)
                for route in (row["route"], "all"):
                    cell = cells[(name, row["half"], f"{route}:{row['kind']}")]
                    cell["n"] += 1
                    cell["fired"] += bool(boxes)
                    cell["hit"] += hit
                    cell["ms"].append(1000 * seconds)
                    cell["kp"].append(kp)
        print(f"# {name} done", file=sys.stderr, flush=True)
    print(
        "| candidate | half | route | edits found (on mask) | unedited flagged "
        "| ms/file median (edited, twins) | keypoints median |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names:
        for half in "AB":
            for route in ("small", "full", "all"):
                e = cells[(name, half, f"{route}:copymove")]
                u = cells[(name, half, f"{route}:none")]
                if not e["n"]:
                    continue
                ms = f"{statistics.median(e['ms']):.0f}, {statistics.median(u['ms']):.0f}"
                kp = statistics.median(e["kp"] + u["kp"])
                print(
                    f"| {name} | {half} | {route} | {e['fired']}/{e['n']} ({e['hit']}) "
                    f"| {u['fired']}/{u['n']} | {ms} | {kp:.0f} |"
                )
    if names[0] != "none" or len(names) < 2:
        return
    # Paired: the same files, each candidate against no enlargement.
    print("\n| candidate | half | edits found only by it | only without | new false alarms |")
    print("|---|---|---|---|---|")
    for name in names[1:]:
        for half in "AB":
            rows = [r for r in index if r["half"] == half]
            base, new = fired["none"], fired[name]
            edits = [r["file"] for r in rows if r["kind"] != "none"]
            twins = [r["file"] for r in rows if r["kind"] == "none"]
            gained = sum(new[f] and not base[f] for f in edits)
            lost = sum(base[f] and not new[f] for f in edits)
            alarms = sum(new[f] and not base[f] for f in twins)
            print(f"| {name} | {half} | {gained} | {lost} | {alarms} |")


def corpus(root: Path, names: list[str]) -> None:
    """Per candidate, the copy-move finding on the corpus's copy-move files (measured only)."""
    rows = []
    with (root / "labels.tsv").open(encoding="utf-8") as fh:
        for r in csv.reader(fh, delimiter="\t"):
            if r and ("/comofod/" in r[0] or "/casia2/" in r[0]):
                rows.append(r)
    fired: dict[str, dict[str, bool]] = {}
    ms: dict[str, list[float]] = defaultdict(list)
    for name in names:
        with candidate(name):
            for r in rows:
                boxes, seconds, _ = run_one(root / r[0])
                fired.setdefault(r[0], {})[name] = bool(boxes)
                ms[name].append(1000 * seconds)
    print("| file | label | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for r in rows:
        marks = " | ".join("yes" if fired[r[0]][n] else "-" for n in names)
        print(f"| {r[0]} | {r[1]} | {marks} |")
    for label in ("manipulated", "authentic"):
        sel = [r for r in rows if r[1] == label]
        counts = " | ".join(f"{sum(fired[r[0]][n] for r in sel)}/{len(sel)}" for n in names)
        print(f"| **{label}** | | {counts} |")
    med = " | ".join(f"{statistics.median(ms[n]):.0f} ms" for n in names)
    print(f"| **median time** | | {med} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/cmove_small"))
    ap.add_argument("--candidates", default=",".join(CANDIDATES))
    ap.add_argument("--corpus", type=Path, help="measure the corpus's copy-move files only")
    args = ap.parse_args()
    names = [n for n in args.candidates.split(",") if n]
    if args.corpus is not None:
        if not (args.corpus / "labels.tsv").is_file():
            print(f"skipped: no {args.corpus}/labels.tsv")
            return 0
        corpus(args.corpus, names)
        return 0
    if not (TRAINING / "MANIFEST.tsv").is_file():
        print(f"skipped: no {TRAINING}/MANIFEST.tsv")
        return 0
    index = make_files(args.work)
    print(f"{len(index)} files from {len({r['source'] for r in index})} held-out sources")
    measure(args.work, index, names)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
