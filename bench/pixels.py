#!/usr/bin/env python3
"""Benchmark the pixel analyzers (noise, copymove, resampling, spectral) on a 12 MP JPEG.

Builds its own 4000x3000 JPEG from ``fixtures/generators/scenes.py::scene`` and prints,
measured in one run, the time of the four analyzers together (each run on a fresh
``Media``, so the decodes they trigger are counted) over a plain Pillow decode of the
same file (``Image.open(...).load()``). Target: <= 8x. Median of ``--repeat`` runs.

    python bench/pixels.py              # 12 MP, 5 repeats
    python bench/pixels.py 3            # 3 repeats
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("noise", "copymove", "resampling", "spectral")


def make_jpeg(path: Path) -> None:
    sys.path.insert(0, str(ROOT / "fixtures"))
    from generators.scenes import scene
    from PIL import Image

    Image.fromarray(scene(4000, 3000, seed=2024)).save(path, quality=90)


def main(argv: list[str]) -> int:
    repeat = int(argv[0]) if argv else 5
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from triage.analyzers import get
    from triage.analyzers.base import Context
    from triage.media import Media

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "12mp.jpg"
        make_jpeg(path)
        data = path.read_bytes()
        analyzers = [get(n) for n in NAMES]
        ctx = Context()
        # Warm-up: imports, OpenCV's thread pool, first-call allocations.
        Image.open(io.BytesIO(data)).load()
        warm = Media.open(path)
        for a in analyzers:
            a.run(warm, ctx)

        decode: list[float] = []
        total: list[float] = []
        per: dict[str, list[float]] = {n: [] for n in NAMES}
        for _ in range(repeat):
            t0 = time.perf_counter()
            Image.open(io.BytesIO(data)).load()
            decode.append(time.perf_counter() - t0)
            media = Media.open(path)  # hashing and header: not the analyzers' cost
            t_all = time.perf_counter()
            for a in analyzers:
                t = time.perf_counter()
                a.run(media, ctx)
                per[a.name].append(time.perf_counter() - t)
            total.append(time.perf_counter() - t_all)

    d, t = statistics.median(decode), statistics.median(total)
    print(f"image: 4000x3000 JPEG q90, {len(data) / 1e6:.1f} MB; {repeat} runs (median, min)")
    print(f"plain Pillow decode: {d * 1000:.0f} ms, {min(decode) * 1000:.0f} ms")
    for n in NAMES:
        med, low = statistics.median(per[n]), min(per[n])
        print(f"  {n:<11} {med * 1000:6.0f} ms, {low * 1000:.0f} ms (with the decodes it triggers)")
    print(f"four pixel analyzers: {t * 1000:.0f} ms, {min(total) * 1000:.0f} ms")
    # On a shared machine the minimum is the steadier estimate of each side's cost.
    print(
        f"ratio analyzers / decode: {t / d:.1f}x median, {min(total) / min(decode):.1f}x min "
        "(target <= 8x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
