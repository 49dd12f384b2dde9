#!/usr/bin/env python3
"""Benchmark `triage scan` on generated images.

Prints, from one run:

* throughput ratio: files/s with --jobs 2 over --jobs 1 (target >= 1.7x on 2 cores);
* per-file overhead at --jobs 1: the scan's wall time over calling the pipeline
  in-process on the same files (target <= 1.15x). The scan pays for the walk and
  sniff, one worker process per file slot, pickling the result, and a JSONL line.

The pool's start-up (forkserver that imports the analyzers, once per scan) is
measured separately with a 2-file scan and reported on its own line, and both
timed scans run warm; the "cold" ratio adds that start-up back to --jobs 1.

    python bench/scan.py            # 400 images, 640x480 JPEG
    python bench/scan.py 100        # fewer
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_images(folder: Path, n: int) -> list[Path]:
    import cv2

    sys.path.insert(0, str(ROOT / "fixtures"))
    import numpy as np
    from generators.scenes import scene

    bases = [scene(640, 480, seed=1000 + i) for i in range(min(n, 40))]
    rng = np.random.default_rng(7)
    paths = []
    for i in range(n):
        p = folder / f"sub{i % 8}" / f"img{i:04d}.jpg"
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


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 400
    from triage.analyzers import all_analyzers
    from triage.pipeline import Options, analyze_path
    from triage.scan import scan

    with tempfile.TemporaryDirectory(prefix="triage-bench-scan-") as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        t = time.perf_counter()
        paths = make_images(folder, n)
        print(f"generated {n} images (640x480 JPEG) in {time.perf_counter() - t:.1f} s")
        names = [a.name for a in all_analyzers()]
        print(f"analyzers: {', '.join(names)}")

        for p in paths[:3]:  # warm imports and caches, as the workers are warm
            analyze_path(p, Options())
        t = time.perf_counter()
        for p in paths:
            analyze_path(p, Options())
        inproc = time.perf_counter() - t
        print(
            f"in-process pipeline: {inproc:.2f} s ({n / inproc:.1f} files/s, {inproc / n * 1000:.1f} ms/file)"
        )

        warm = Path(tmp) / "warm"
        warm.mkdir()
        for p in paths[:2]:
            (warm / p.name).write_bytes(p.read_bytes())
        t = time.perf_counter()
        scan([warm], jobs=1, output=Path(tmp) / "warm.jsonl")
        startup = time.perf_counter() - t
        print(f"pool start-up (forkserver + analyzer imports, 2-file scan): {startup:.2f} s")

        times = {}
        for jobs in (1, 2):
            out = Path(tmp) / f"scan{jobs}.jsonl"
            t = time.perf_counter()
            result = scan([folder], jobs=jobs, output=out)
            times[jobs] = time.perf_counter() - t
            lines = out.read_text().count("\n")
            assert lines == n and not result.summary.failures, (lines, result.summary.failures[:3])
            print(f"scan --jobs {jobs}: {times[jobs]:.2f} s ({n / times[jobs]:.1f} files/s)")

        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average at the end (1/5/15 min, {os.cpu_count()} cores): {load}")
        print(f"throughput ratio --jobs 2 / --jobs 1: {times[1] / times[2]:.2f}x (target >= 1.7x)")
        print(
            f"per-file overhead ratio at --jobs 1 (scan / in-process): {times[1] / inproc:.3f}x (target <= 1.15x)"
        )
        print(f"  including pool start-up once: {(times[1] + startup) / inproc:.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
