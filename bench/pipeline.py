#!/usr/bin/env python3
"""The default image pipeline (`triage.analyze`) on a 12-megapixel JPEG, as a ratio
over a plain Pillow decode of the same file, both measured in this run.

Target <= 10x. Also prints each analyzer's share so regressions have a name.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))


def make_jpeg(path: Path) -> None:
    from generators.scenes import scene
    from PIL import Image

    # Full-resolution synthetic scene with sensor-like noise: decodes like a camera
    # JPEG of the same size (an upscaled smooth picture decodes unrealistically fast).
    Image.fromarray(scene(4000, 3000, seed=12)).save(path, "JPEG", quality=90)


def pillow_decode(path: Path) -> float:
    from PIL import Image

    t0 = time.perf_counter()
    with Image.open(path) as im:
        im.load()
    return time.perf_counter() - t0


def main() -> None:
    import triage

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "12mp.jpg"
        make_jpeg(path)
        triage.analyze(str(path))  # warm imports and caches
        decode = statistics.median(pillow_decode(path) for _ in range(5))
        runs = []
        report = None
        for _ in range(3):
            t0 = time.perf_counter()
            report = triage.analyze(str(path))
            runs.append(time.perf_counter() - t0)
        pipeline = statistics.median(runs)
    assert report is not None
    print(f"plain Pillow decode of a 12 MP JPEG: {decode * 1000:.0f} ms")
    print(f"triage.analyze (all default analyzers): {pipeline * 1000:.0f} ms")
    for run in report.analyzers:
        print(f"  {run.name:<12} {run.status:<14} {run.seconds * 1000:7.0f} ms")
    print(f"ratio: {pipeline / decode:.1f}x (target <= 10x)")


if __name__ == "__main__":
    main()
