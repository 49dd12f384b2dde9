#!/usr/bin/env python3
"""Benchmark: the camera, faces and synthpix analyzers on a 12-megapixel JPEG, as a ratio over a
plain Pillow decode of the same file, both measured in this run.

    python bench/camera.py [--repeat N]

Each analyzer runs on a fresh ``Media``, so its time includes the shared decode and
reduced copy it triggers; the model is loaded once before the timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from compression import make_jpeg, pillow_decode  # noqa: E402  (the same 12 MP scene)


def analyzer_run(path: Path, name: str) -> float:
    from triage.analyzers import get
    from triage.analyzers.base import Context
    from triage.media import Media

    media = Media.open(path)
    media.data  # noqa: B018  (file read is not part of the analysis)
    t = time.perf_counter()
    get(name).run(media, Context())
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from triage.analyzers.synthpix import load
    from triage.forensics.camera import shipped_model

    shipped_model()
    load()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "12mp.jpg"
        make_jpeg(path)
        decode: list[float] = []
        runs: dict[str, list[float]] = {"camera": [], "faces": [], "synthpix": []}
        for _ in range(args.repeat):  # interleaved, so load drift hits all alike
            decode.append(pillow_decode(path))
            for name, times in runs.items():
                times.append(analyzer_run(path, name))
    d = statistics.median(decode)
    print(f"12 MP JPEG: decode {d * 1000:.0f} ms")
    for name, times in runs.items():
        r = statistics.median(times)
        print(f"{name} analyzer {r * 1000:.0f} ms (with its decode), ratio {r / d:.2f}x decode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
