#!/usr/bin/env python3
"""Benchmark of the video analyzers (``video`` and ``frames``, which share one
decoding pass): speed, and memory growth with duration, with frame sampling on at
its default budget.

    python bench/video.py     # 60 s 1920x1080 for speed; 1280x720 10 s vs 40 s for memory

* speed = analysis wall time of a 60-second 1920x1080 30 fps clip (target < 15 s on
  2 cores), fastest of 2 runs, and the same as a ratio to a plain decode of every
  frame measured in the same process; the process CPU time is printed too, since on
  a shared machine the wall time mostly measures the other load;
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


def make_clip(path: Path, seconds: float, size: tuple[int, int] = (W, H)) -> None:
    import av
    import cv2
    import numpy as np

    sys.path.insert(0, str(ROOT / "fixtures"))
    from generators.scenes import scene

    w, h = size
    n = int(seconds * FPS)
    big = scene(w + 640, h + 200, 3, noise_sigma=2.0)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 2.0, (8, h, w, 1)).astype(np.float32)
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "23", "g": "30"}
        for i in range(n):
            x = int(320 + 300 * np.sin(i / 40.0))
            y = int(100 + 90 * np.cos(i / 55.0))
            f = big[y : y + h, x : x + w].copy()
            cx = int(w / 2 + w * 0.3 * np.sin(i / 13))
            # The ball is filmed, not pasted: drawn before the sensor noise.
            cv2.circle(f, (cx, h // 2), h // 18, (230, 40, 40), -1)
            f = (f.astype(np.float32) + noise[i % 8]).clip(0, 255).astype(np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def _decode_all(path: str) -> float:
    """Wall time of a plain decode of every frame (PyAV, the same threading)."""
    import av

    t0 = time.perf_counter()
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for _ in c.decode(s):
            pass
    return time.perf_counter() - t0


def _child(path: str, repeat: int) -> None:
    """Analyse one clip ``repeat`` times in this process (``video`` then ``frames``,
    sharing the pass as in a check); print the fastest run's wall and CPU time (the
    least disturbed by other load), a plain decode's time and the peak RSS as JSON."""
    import resource

    from triage.analyzers.base import Context
    from triage.analyzers.frames import FramesAnalyzer
    from triage.analyzers.video import VideoAnalyzer
    from triage.media import Media

    wall = cpu = decode = float("inf")
    for _ in range(repeat):
        media = Media.open(path)  # a fresh Media: the shared pass is cached on it
        t0, c0 = time.perf_counter(), time.process_time()
        result = VideoAnalyzer().run(media, Context())
        frames = FramesAnalyzer().run(media, Context())
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
        decode = min(decode, _decode_all(path))
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "decode_s": decode,
                "load_avg_1min": os.getloadavg()[0],
                "duration_s": media.duration,
                "maxrss_mb": rss_kb / 1024,
                "findings": [f.id for f in result.findings + frames.findings],
                "frames": result.metrics.get("frames_decoded"),
                "sampled": frames.metrics.get("frames_sampled"),
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
        for secs, size in ((10, (W, H)), (40, (W, H)), (60, (1920, 1080))):
            p = d / f"clip{secs}.mp4"
            t = time.perf_counter()
            make_clip(p, secs, size)
            clips[secs] = p
            print(
                f"generated {secs:>2} s clip: {p.stat().st_size / 1e6:.1f} MB "
                f"in {time.perf_counter() - t:.1f} s",
                file=sys.stderr,
            )
        r60 = _measure(clips[60], repeat=2)
        r10 = _measure(clips[10])
        r40 = _measure(clips[40])
        mem_ratio = r40["maxrss_mb"] / r10["maxrss_mb"]
    print(
        f"clip 1920x1080 30 fps 60 s: video + frames analysis {r60['wall_s']:.2f} s "
        f"(fastest of 2; target < 15 s), {r60['frames']} frames decoded, "
        f"{r60['sampled']} sampled"
    )
    print(
        f"  ratio to a plain decode of every frame in the same run: "
        f"{r60['wall_s'] / r60['decode_s']:.2f} (decode {r60['decode_s']:.2f} s)"
    )
    print(
        f"  process CPU time {r60['cpu_s']:.2f} s; machine load average "
        f"{r60['load_avg_1min']:.1f} on {os.cpu_count()} cores during the run"
    )
    print(
        f"peak RSS 10 s clip {r10['maxrss_mb']:.1f} MB, 40 s clip {r40['maxrss_mb']:.1f} MB; "
        f"ratio {mem_ratio:.3f} (target <= 1.2)"
    )
    print(f"findings on the 60 s clip: {r60['findings'] or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
