#!/usr/bin/env python3
"""Benchmark `triage scan` on generated images.

Prints, from one run:

* throughput ratio: files/s with --jobs 2 over --jobs 1 (target >= 1.8x on 2 cores);
* per-file overhead at --jobs 1: the scan's wall time over calling the pipeline
  in-process on the same files on one core (target <= 1.15x). The scan pays for the
  walk and sniff, a worker process per job, pickling each result, and a JSONL line
  per file.

``--jobs N`` is the cores a scan uses in total: N workers, each running one file's
analyzers on one thread with OpenCV's and BLAS's pools capped at one thread, so
--jobs 1 is a one-core baseline. The in-process rows are the same pipeline on one
core (one analyzer thread, one OpenCV and BLAS thread) and with the defaults (all
cores), for comparison.

The machine is shared, and its load drifts over minutes; so the four modes run
interleaved, round after round, on the same 8 folders of 50 images each (order
rotated every round), and each mode's total is the sum over rounds. Every timed
scan starts its own pool (a few forks from the warm forkserver: included); the
forkserver's one-time start-up (imports of the analyzers) is printed on its own.

    python bench/scan.py            # 400 images, 640x480 JPEG
    python bench/scan.py 80         # fewer
    python bench/scan.py 24 --photos ../shared/corpus/camera   # real photos (copies)

With ``--photos DIR`` the files are N copies of the JPEGs under DIR (camera photos of
0.3-16 MP, what a desk's folder holds; taken again under new names when N exceeds
them) instead of generated scenes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 4


def make_images(folder: Path, n: int) -> list[Path]:
    import cv2
    import numpy as np

    sys.path.insert(0, str(ROOT / "fixtures"))
    from generators.scenes import scene

    bases = [scene(640, 480, seed=1000 + i) for i in range(min(n, 40))]
    rng = np.random.default_rng(7)
    paths = []
    for i in range(n):
        p = folder / f"sub{i % ROUNDS}" / f"img{i:04d}.jpg"
        p.parent.mkdir(exist_ok=True)
        # Distinct files from 40 scenes: shifted and re-noised (scene() is slow to draw).
        base = np.roll(bases[i % len(bases)], shift=(i // len(bases)) * 16, axis=1)
        noise = rng.normal(0, 2.0, base.shape)
        rgb = np.clip(base + noise, 0, 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
        assert ok
        p.write_bytes(buf.tobytes())
        paths.append(p)
    return paths


def copy_photos(folder: Path, source: Path, n: int) -> list[Path]:
    """``n`` copies of the JPEGs under ``source`` (sorted by path; taken again, under
    new names, when ``n`` exceeds them), spread over the round folders (the source is
    only read). Taking them again makes the timed folders as large as asked: a scan's
    fixed costs (the pool's start, each worker's priming file, the last file) weigh in
    a folder of 50 photos as in a desk's folder of hundreds, not as in one of 15."""
    found = sorted(
        p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg")
    )
    found = [found[i % len(found)] for i in range(n)] if found else []
    paths = []
    for i, src in enumerate(found):
        p = folder / f"sub{i % ROUNDS}" / f"img{i:04d}.jpg"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(src.read_bytes())
        paths.append(p)
    return paths


def main(argv: list[str]) -> int:
    photos: Path | None = None
    if "--photos" in argv:
        k = argv.index("--photos")
        photos = Path(argv[k + 1])
        argv = argv[:k] + argv[k + 2 :]
    n = int(argv[0]) if argv else 400
    from triage.analyzers import all_analyzers
    from triage.pipeline import Options, analyze_path
    from triage.scan import scan

    with tempfile.TemporaryDirectory(prefix="triage-bench-scan-") as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        t = time.perf_counter()
        if photos is not None:
            paths = copy_photos(folder, photos, n)
            n = len(paths)
            mp = sum(_megapixels(p) for p in paths) / max(n, 1)
            print(f"{n} photos copied from {photos} (mean {mp:.1f} MP)")
        else:
            paths = make_images(folder, n)
            print(f"generated {n} images (640x480 JPEG) in {time.perf_counter() - t:.1f} s")
        print(f"analyzers: {', '.join(a.name for a in all_analyzers())}")

        for p in paths[:3]:  # warm imports and caches, as the workers are warm
            analyze_path(p, Options())
        warm = Path(tmp) / "warm"
        warm.mkdir()
        for p in paths[:2]:
            (warm / p.name).write_bytes(p.read_bytes())
        t = time.perf_counter()
        scan([warm], jobs=1)
        print(
            f"forkserver start-up, once per process (2-file scan): {time.perf_counter() - t:.2f} s"
        )

        import cv2
        from threadpoolctl import threadpool_limits

        default_threads = cv2.getNumThreads()

        def inproc(threads: int | None):  # type: ignore[no-untyped-def]
            def run(sub: Path) -> None:
                cv2.setNumThreads(threads or default_threads)
                try:
                    with threadpool_limits(limits=threads):
                        for p in sorted(sub.iterdir()):
                            analyze_path(p, Options(threads=threads))
                finally:
                    cv2.setNumThreads(default_threads)

            return run

        def scanner(jobs: int):  # type: ignore[no-untyped-def]
            def run(sub: Path) -> None:
                out = Path(tmp) / f"{sub.name}-{jobs}.jsonl"
                result = scan([sub], jobs=jobs, output=out)
                assert not result.summary.failures, result.summary.failures[:3]
                assert out.read_text().count("\n") == len(list(sub.iterdir()))

            return run

        modes = {
            "in-process, one core": inproc(1),
            "scan --jobs 1": scanner(1),
            "scan --jobs 2": scanner(2),
            f"in-process, all {default_threads} cores": inproc(None),
        }
        totals = dict.fromkeys(modes, 0.0)
        names = list(modes)
        subs = sorted(p for p in folder.iterdir() if p.is_dir())
        for k, sub in enumerate(subs):
            for name in names[k % len(names) :] + names[: k % len(names)]:
                t = time.perf_counter()
                modes[name](sub)
                totals[name] += time.perf_counter() - t
            print(
                f"round {k + 1}/{len(subs)} (load average {os.getloadavg()[0]:.1f}), cumulative: "
                + "; ".join(f"{m} {totals[m]:.1f} s" for m in names),
                flush=True,
            )
        for m in names:
            print(
                f"{m}: {totals[m]:.2f} s ({n / totals[m]:.2f} files/s, {totals[m] / n * 1000:.0f} ms/file)"
            )
        ip1, j1, j2, ipd = (totals[m] for m in names)
        print(f"throughput ratio --jobs 2 / --jobs 1: {j1 / j2:.2f}x (target >= 1.8x)")
        print(
            f"per-file overhead ratio at --jobs 1 (scan / in-process, one core): {j1 / ip1:.3f}x "
            "(target <= 1.15x)"
        )
        print(f"in-process, all cores over one core: {ip1 / ipd:.2f}x")
    return 0


def _megapixels(path: Path) -> float:
    from PIL import Image

    with Image.open(path) as im:
        return im.size[0] * im.size[1] / 1e6


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
