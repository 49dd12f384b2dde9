#!/usr/bin/env python3
"""Benchmark of `triage compare VIDEO STILL`: is the frame a still was taken from found?

    python bench/compare_video.py [--videos DIR ...] [--per-video 4] [--seed 0]

For each video (by default ``../shared/corpus/video`` and the generated
``fixtures/video``), ``--per-video`` frames are drawn at random times and each is
made into a still the way stills of videos circulate: cropped to 50-100% of the area,
scaled 0.5-1x, mirrored one time in six, given a screenshot's border (a page around
it) one time in four, saved as JPEG q60-90. Printed: how often the still was aligned,
how often the frame found is the one it was taken from (exactly; within one and two
frames: a still scene or a duplicated frame makes neighbours equally right), and the
seconds per comparison; then, for stills compared with a video of other content, how
often a frame was (wrongly) matched. Nothing is fitted here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS_VIDEO = ROOT.parent / "shared" / "corpus" / "video"
FIXTURE_VIDEO = ROOT / "fixtures" / "video"
SUFFIXES = (".mp4", ".mov", ".avi", ".webm", ".mkv")


def _content(path: Path) -> str:
    """Videos that are versions of one clip share this key (never compared as others)."""
    stem = path.stem.split("_")[0].split("-")[0]
    return f"{path.parent.name}/{stem}" if path.parent.name != "video" else "fixture"


def _frames(path: Path) -> list[tuple[float, np.ndarray]]:
    """Every frame's time (from the stream's start) and pixels, at most 30 s of it,
    as players show them."""
    import av

    from triage.media import Media
    from triage.orientation import upright_pixels

    orientation = Media.open(path).orientation
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        base = float(stream.time_base or 0) or 1 / 90000
        start = float(stream.start_time or 0) * base
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            seconds = float(frame.pts * frame.time_base) - start
            if seconds > 30:
                break
            rgb = frame.to_ndarray(format="rgb24")
            out.append((seconds, np.ascontiguousarray(upright_pixels(rgb, orientation))))
    return out


def _still(rgb: np.ndarray, rng: np.random.Generator, path: Path) -> None:
    import cv2
    from PIL import Image

    h, w = rgb.shape[:2]
    keep = float(np.sqrt(rng.uniform(0.5, 1.0)))
    ch, cw = max(64, int(h * keep)), max(64, int(w * keep))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    out = rgb[y0 : y0 + ch, x0 : x0 + cw]
    scale = float(rng.uniform(0.5, 1.0))
    size = (max(48, round(cw * scale)), max(48, round(ch * scale)))
    out = cv2.resize(out, size, interpolation=cv2.INTER_AREA)
    if rng.random() < 1 / 6:
        out = out[:, ::-1]
    if rng.random() < 1 / 4:
        page = np.full((out.shape[0] + 160, out.shape[1] + 40, 3), 245, np.uint8)
        page[100 : 100 + out.shape[0], 20 : 20 + out.shape[1]] = out
        cv2.putText(page, "@someone - 2h", (20, 50), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
        out = page
    Image.fromarray(np.ascontiguousarray(out)).save(path, quality=int(rng.integers(60, 91)))


def main(argv: list[str] | None = None) -> int:
    from triage.comparison import compare_paths

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--videos", type=Path, nargs="*", default=[CORPUS_VIDEO, FIXTURE_VIDEO])
    ap.add_argument("--per-video", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    videos = sorted(
        p for d in args.videos if d.is_dir() for p in d.rglob("*") if p.suffix.lower() in SUFFIXES
    )
    if not videos:
        print("no videos found; nothing measured")
        return 0
    rng = np.random.default_rng(args.seed)
    rows: list[dict[str, object]] = []
    wrong: list[bool] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, video in enumerate(videos):
            frames = _frames(video)
            if len(frames) < 2:
                print(f"{video.name}: no frames decoded; skipped")
                continue
            step = float(np.median(np.diff([t for t, _ in frames])))
            for k in range(args.per_video):
                i = int(rng.integers(0, len(frames)))
                still = Path(tmp) / f"{n}_{k}.jpg"
                _still(frames[i][1], rng, still)
                t0 = time.perf_counter()
                result = compare_paths(video, still)
                seconds = time.perf_counter() - t0
                found = result.a.frame_seconds
                size = f"{result.b.width}x{result.b.height}"
                off = None if found is None else abs(found - frames[i][0]) / step
                rows.append(
                    {
                        "video": video.name,
                        "generated": FIXTURE_VIDEO in video.parents,
                        "aligned": result.aligned,
                        "off": off,
                        "s": seconds,
                    }
                )
                print(
                    f"{video.parent.name}/{video.name} t={frames[i][0]:.2f} -> "
                    f"{found if found is not None else '-'} "
                    f"({'' if off is None else f'{off:.1f} frames, '}{seconds:.1f} s; still {size})"
                    + ("" if result.aligned else f" {result.statements[-1][:90]}"),
                    flush=True,
                )
                others = [v for v in videos if _content(v) != _content(video)]
                if others:
                    other = others[int(rng.integers(0, len(others)))]
                    wrong.append(compare_paths(other, still).aligned)
    secs = sorted(float(r["s"]) for r in rows)  # type: ignore[arg-type]
    for title, group in (
        ("all", rows),
        ("real clips (../shared/corpus/video)", [r for r in rows if not r["generated"]]),
        ("generated clips (fixtures/video)", [r for r in rows if r["generated"]]),
    ):
        n = len(group)
        if not n:
            continue
        offs = [float(r["off"]) for r in group if r["off"] is not None]  # type: ignore[arg-type]

        def share(x: int, n: int = n) -> str:
            return f"{x}/{n} ({x / n:.0%})"

        videos = len({r["video"] for r in group})
        print(f"\n{title}: {n} stills from {videos} videos (seed {args.seed})")
        print(f"  aligned:              {share(sum(bool(r['aligned']) for r in group))}")
        print(f"  its own frame found:  {share(sum(o < 0.5 for o in offs))}")
        print(f"  within 1 frame:       {share(sum(o < 1.5 for o in offs))}")
        print(f"  within 2 frames:      {share(sum(o < 2.5 for o in offs))}")
    print(f"seconds per compare:   median {np.median(secs):.2f}, max {max(secs):.2f}")
    print(f"other video's frame matched: {sum(wrong)}/{len(wrong)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
