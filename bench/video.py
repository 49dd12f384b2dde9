#!/usr/bin/env python3
"""Benchmark of the video analyzer: speed as a multiple of real time, and memory
growth with duration.

    python bench/video.py            # 1280x720, 30 fps; 20 s for speed, 10 s vs 40 s for memory

* speed = clip duration / analysis wall time on a 20-second 1280x720 30 fps clip,
  fastest of 3 runs (target >= 10x real time); the process CPU time is printed too,
  since on a shared machine the wall time mostly measures the other load;
* memory = peak RSS (``resource.getrusage``'s ``ru_maxrss``) analysing a 40-second
  clip over a 10-second one, each in its own subprocess (target <= 1.2).

The clips are generated into a temporary folder (a panning synthetic scene with a
moving ball, libx264 at a phone-like bitrate), never into the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
W, H, FPS = 1280, 720, 30


def make_clip(path: Path, seconds: float) -> None:
    import av
    import cv2
    import numpy as np

    sys.path.insert(0, str(ROOT / "fixtures"))
    from generators.scenes import scene

    n = int(seconds * FPS)
    big = scene(W + 640, H + 200, 3, noise_sigma=2.0)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 2.0, (8, H, W, 1)).astype(np.float32)
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "23", "g": "30"}
        for i in range(n):
            x = int(320 + 300 * np.sin(i / 40.0))
            y = int(100 + 90 * np.cos(i / 55.0))
            f = big[y : y + H, x : x + W].astype(np.float32) + noise[i % 8]
            f = f.clip(0, 255).astype(np.uint8)
            cv2.circle(f, (int(640 + 400 * np.sin(i / 13)), 360), 40, (230, 40, 40), -1)
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def _child(path: str, repeat: int) -> None:
    """Analyse one clip ``repeat`` times in this process; print the fastest run's wall
    and CPU time (the least disturbed by other load) and the peak RSS as JSON."""
    import resource

    from triage.analyzers.base import Context
    from triage.analyzers.video import VideoAnalyzer
    from triage.media import Media

    media = Media.open(path)
    wall = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = VideoAnalyzer().run(media, Context())
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "load_avg_1min": os.getloadavg()[0],
                "duration_s": media.duration,
                "maxrss_mb": rss_kb / 1024,
                "findings": [f.id for f in result.findings],
                "frames": result.metrics.get("frames_decoded"),
            }
        )
    )


def _measure(path: Path, repeat: int = 1) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    data: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]))
        return 0
    with tempfile.TemporaryDirectory(prefix="triage-bench-video-") as tmp:
        d = Path(tmp)
        clips = {}
        for secs in (10, 20, 40):
            p = d / f"clip{secs}.mp4"
            t = time.perf_counter()
            make_clip(p, secs)
            clips[secs] = p
            print(
                f"generated {secs:>2} s clip: {p.stat().st_size / 1e6:.1f} MB "
                f"in {time.perf_counter() - t:.1f} s",
                file=sys.stderr,
            )
        r20 = _measure(clips[20], repeat=3)
        speed = r20["duration_s"] / r20["wall_s"]
        r10 = _measure(clips[10])
        r40 = _measure(clips[40])
        mem_ratio = r40["maxrss_mb"] / r10["maxrss_mb"]
    print(
        f"clip 1280x720 30 fps 20 s: analysis {r20['wall_s']:.2f} s (fastest of 3), "
        f"{r20['frames']} frames"
    )
    print(f"speed (duration / wall time): {speed:.1f}x real time (target >= 10)")
    print(
        f"  (process CPU time {r20['cpu_s']:.2f} s, i.e. {r20['duration_s'] / r20['cpu_s']:.1f}x "
        f"real time per CPU second; machine load average {r20['load_avg_1min']:.1f} "
        f"on {os.cpu_count()} cores during the run)"
    )
    print(
        f"peak RSS 10 s clip {r10['maxrss_mb']:.1f} MB, 40 s clip {r40['maxrss_mb']:.1f} MB; "
        f"ratio {mem_ratio:.3f} (target <= 1.2)"
    )
    print(f"findings on the 20 s clip: {r20['findings'] or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
