"""The sampled-frame analyzer on generated pans (written to a temporary folder)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))

from generators import video_regions as vr

from triage.analyzers.base import Context
from triage.analyzers.frames import FramesAnalyzer
from triage.media import Media
from triage.pipeline import Options, analyze_path
from triage.video import tracks as tk


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("frames")
    return {k: vr.write_clip(d / f"{k}.mp4", k) for k in ("clean", "graded", "replaced", "tracked")}


def _run(path: Path, **opts: object) -> object:
    return FramesAnalyzer().run(Media.open(path), Context(options=dict(opts)))


def test_replaced_region_found_with_span_and_box(clips: dict[str, Path]) -> None:
    res = _run(clips["replaced"])
    found = [f for f in res.findings if f.id == "frames.region_noise"]
    assert len(found) == 1  # one event for the whole run of frames
    ev = found[0].evidence
    t0, t1 = vr.REPLACED[0] / vr.FPS, vr.REPLACED[1] / vr.FPS
    assert abs(ev["start_s"] - t0) <= 1.0 and abs(ev["end_s"] - t1) <= 1.0
    assert tk.iou(tuple(ev["box"]), vr.REPLACED_BOX) >= 0.4
    assert ev["kind"] == "noise_lower"


def test_resampled_patch_tracked_on_moving_background(clips: dict[str, Path]) -> None:
    res = _run(clips["tracked"])
    found = [f for f in res.findings if f.id == "frames.region_noise"]
    assert found and found[0].evidence["samples"] >= 10


@pytest.mark.parametrize("kind", ["clean", "graded"])
def test_clean_and_graded_clips_stay_below_notable(clips: dict[str, Path], kind: str) -> None:
    res = _run(clips[kind])
    assert not [f for f in res.findings if f.question == "manipulation"]
    rep = analyze_path(clips[kind])
    assert rep.questions["manipulation"].band not in ("notable-indicators", "strong-indicators")


def test_frame_budget_bounds_the_samples(clips: dict[str, Path]) -> None:
    small = _run(clips["clean"], video_frames=8)
    assert small.metrics["frames_sampled"] <= 8
    big = _run(clips["clean"], video_frames=200)
    assert big.metrics["frames_sampled"] > 100


def test_unknown_length_thins_to_budget() -> None:
    from triage.video.sampled import FrameSampler

    s = FrameSampler(8, None, 64, 48)
    rng = np.random.default_rng(0)
    for i in range(100):
        img = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        s.push(i, i / 30, i % 30 == 0, lambda size, img=img: img)
    assert 4 <= len(s.samples.frames) <= 8
    idx = [f.index for f in s.samples.frames]
    assert idx == sorted(idx) and idx[-1] >= 50  # spread over the whole clip


def test_html_timeline_and_thumbnails(clips: dict[str, Path]) -> None:
    rep = analyze_path(clips["replaced"], Options(only=["frames"], keep_artifacts=True))
    kinds = {a.kind for a in rep.artifacts}
    assert {"frame_spans", "frame_thumbnails"} <= kinds
    rep2 = analyze_path(
        clips["replaced"], Options(only=["frames"], keep_artifacts=True, no_pixels=True)
    )
    assert {a.kind for a in rep2.artifacts} == {"frame_spans"}


def test_temporal_noise_correlation_of_frozen_noise() -> None:
    from triage.forensics.blockstats import residual_correlation

    rng = np.random.default_rng(1)
    base = np.tile(np.linspace(60, 180, 128, dtype=np.float32), (128, 1))
    frozen = rng.normal(0, 4, base.shape).astype(np.float32)
    a, b = base + frozen, base + frozen
    fresh = base + rng.normal(0, 4, base.shape).astype(np.float32)
    assert residual_correlation(a, b) > 0.9
    assert abs(residual_correlation(a, fresh)) < 0.1
