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
    kinds = ("clean", "graded", "replaced", "tracked", "recompressed", "frozen", "blended")
    return {k: vr.write_clip(d / f"{k}.mp4", k) for k in kinds}


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


def test_tamper_model_reads_frames_and_agrees_with_the_replaced_region(
    clips: dict[str, Path],
) -> None:
    res = _run(clips["replaced"])
    assert res.metrics["tamper_frames"] >= 5
    found = [f for f in res.findings if f.id == "frames.tamper_region"]
    assert len(found) == 1
    ev = found[0].evidence
    t0, t1 = vr.REPLACED[0] / vr.FPS, vr.REPLACED[1] / vr.FPS
    assert abs(ev["start_s"] - t0) <= 1.0 and abs(ev["end_s"] - t1) <= 1.0
    assert tk.iou(tuple(ev["box"]), vr.REPLACED_BOX) >= 0.4
    assert ev["agrees_with_region"] and ev["contrast_in_time"]


def _det(sample: int, box: tuple[int, int, int, int]) -> tk.Detection:
    return tk.Detection(sample, box, "noise_lower", 5.0, -1.0, 9)


def test_a_region_seen_only_in_predicted_frames_is_the_codec() -> None:
    dets = [_det(s, (4, 4, 7, 7)) for s in (1, 2, 3, 5, 6, 7)]
    intra = [s % 4 == 0 for s in range(10)]  # samples 4 and 8 are keyframes
    assert tk.events(tk.link(dets), 10) != []
    assert tk.events(tk.link(dets), 10, intra) == []  # absent from keyframe 4
    with_key = [*dets, _det(4, (4, 4, 7, 7))]
    assert len(tk.events(tk.link(with_key), 10, intra)) == 1


def test_a_region_inside_one_group_of_pictures_is_the_codec() -> None:
    # keyframes at samples 0 and 8 open two groups; the region shows in 2-7 only
    gop = [0] * 8 + [80] * 4
    intra = [i in (0, 8) for i in range(12)]
    dets = [_det(s, (4, 4, 7, 7)) for s in range(2, 8)]
    assert tk.events(tk.link(dets), 12, intra) != []  # 6 hits, no keyframe inside
    assert tk.events(tk.link(dets), 12, intra, gop) == []


def test_one_region_split_in_two_pieces_is_one_event() -> None:
    a = [_det(s, (4, 4, 7, 7)) for s in range(0, 6)]
    b = [_det(s, (6, 4, 9, 7)) for s in range(4, 10)]
    evs = tk.events(tk.link(a + b), 10)
    assert len(evs) == 1 and evs[0].first == 0 and evs[0].last == 9


def test_scattered_blocks_are_not_a_region() -> None:
    noise = np.zeros((22, 40), np.float32)
    noise[0, :] = -1.0  # a border row and column: compact neither
    noise[:, 0] = -1.0
    noise += np.random.default_rng(0).normal(0, 0.1, noise.shape).astype(np.float32)
    dets = tk.frame_detections(0, {"noise": noise})
    assert not [d for d in dets if d.box[2] - d.box[0] > 20 and d.box[3] - d.box[1] > 10]


def test_bench_pan_at_a_low_bitrate_stays_clean(tmp_path: Path) -> None:
    """The panning scene of bench/video.py (libx264 ultrafast, crf 23): predicted
    frames lose noise in patches (skipped blocks, the borders a pan uncovers); no
    region may come of it."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import video as bench_video

    clip = tmp_path / "pan.mp4"
    bench_video.make_clip(clip, 4, (960, 540))
    res = _run(clip)
    assert not [f for f in res.findings if f.id.startswith("frames.region")]
    # Its consecutive frames' residuals correlate (the encoder copies blocks), but
    # not across keyframe boundaries: sensor noise is no temporal finding.
    assert res.metrics["noise_temporal_correlation"] > 0.9
    assert res.metrics["keyframe_pairs"] >= 3
    assert res.metrics["noise_correlation_across_keyframes"] < 0.2
    assert not [f for f in res.findings if f.id == "frames.noise_temporal_correlation"]


def test_noise_moving_with_the_content_is_not_independent(clips: dict[str, Path]) -> None:
    frozen = _run(clips["frozen"])
    found = [f for f in frozen.findings if f.id == "frames.noise_temporal_correlation"]
    assert len(found) == 1 and found[0].question == "synthetic"
    assert found[0].evidence["keyframe_pairs"] >= 3
    clean = _run(clips["clean"])  # the same pan with fresh noise per frame
    assert clean.metrics["noise_correlation_across_keyframes"] < 0.2
    assert not [f for f in clean.findings if f.id == "frames.noise_temporal_correlation"]


def test_boundary_flicker_of_a_blended_box() -> None:
    rng = np.random.default_rng(4)
    inside = 0.05 * rng.standard_normal(20)
    steady = tk.boundary_flicker(inside + 0.02 * rng.standard_normal(20), inside)
    jumpy = tk.boundary_flicker(0.4 * rng.standard_normal(20), inside)
    assert steady is not None and jumpy is not None
    assert steady["flicker"] < 2.0 < 3.0 < jumpy["flicker"]
    assert tk.boundary_flicker(inside[:5], inside[:5]) is None


def test_face_edge_band_measures_a_noisier_blend() -> None:
    from triage.forensics.blockstats import box_contrast

    rng = np.random.default_rng(5)
    g = 120 + rng.normal(0, 2.0, (200, 200)).astype(np.float32)
    box = (60, 60, 140, 140)
    calm = box_contrast(g, box)
    g2 = g.copy()
    g2[50:70, 50:150] += rng.normal(0, 8.0, (20, 100)).astype(np.float32)  # a seam
    seam = box_contrast(g2, box)
    assert abs(calm["edge_log_ratio"]) < 0.2 < seam["edge_log_ratio"]


def test_region_with_another_compression_history_for_two_seconds(
    clips: dict[str, Path],
) -> None:
    res = _run(clips["recompressed"])
    t0, t1 = vr.REPLACED[0] / vr.FPS, vr.REPLACED[1] / vr.FPS
    for fid in ("frames.region_noise", "frames.region_compression", "frames.tamper_region"):
        found = [f for f in res.findings if f.id == fid]
        assert len(found) == 1, fid
        ev = found[0].evidence
        assert abs(ev["start_s"] - t0) <= 1.0 and abs(ev["end_s"] - t1) <= 1.0
        assert tk.iou(tuple(ev["box"]), vr.REPLACED_BOX) >= 0.4


def test_frame_stats_hook_is_aggregated_over_the_clip(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.video import sampled

    def brightness(rgb: np.ndarray) -> dict[str, float]:
        return {"mean": float(rgb.mean())}

    monkeypatch.setitem(sampled.FRAME_STATS, "probe", brightness)
    res = _run(clips["graded"])
    stat = res.metrics["frame_stat.probe.mean"]
    assert stat["frames"] == res.metrics["tamper_frames"] and 20 < stat["median"] < 235
    camera = res.metrics["frame_stat.camera.distance_ratio"]  # the shipped hook
    assert camera["frames"] == stat["frames"] and camera["median"] > 0


def test_span_bar_labels_spans_and_scales_its_ticks() -> None:
    from triage.video import timeline as tl

    spans = [(2.0, 3.8, "noise_lower"), (2.0, 3.5, "tamper"), (0.0, 3600.0, "face")]
    img = tl.span_bar(spans, 3600.0, [(t, t % 600 == 0) for t in range(0, 3600, 75)])
    assert img.shape[0] >= 3 * 16 and img.shape[1] == 800
    assert tl._tick_step(3600.0) == 300.0 and tl._tick_step(5.0) == 1.0
    assert tl.span_bar([], 0.0).shape[0] > 0


def test_block_grid_region_followed_from_its_keyframes(clips: dict[str, Path]) -> None:
    """The block-grid map: the region's own grid shows in the keyframes, and its
    box's grid z over all samples steps up for the span it is shown."""
    res = _run(clips["recompressed"])
    found = [f for f in res.findings if f.id == "frames.region_compression"]
    assert len(found) == 1
    ev = found[0].evidence
    assert ev["method"] == "step_in_time" and ev["keyframes_in_span"] >= 1
    for kind in ("clean", "graded", "replaced", "tracked", "blended"):
        other = _run(clips[kind])
        assert not [f for f in other.findings if f.id == "frames.region_compression"], kind


def test_pooled_block_grid_sees_a_weak_grid_and_not_one_edge() -> None:
    from triage.forensics.blockstats import blockiness_map

    rng = np.random.default_rng(6)
    g = 128 + rng.normal(0, 3.0, (96, 192)).astype(np.float32)
    weak = g.copy()
    weak[:, 99::8] += 3.0  # a faint grid, phase 3, in the right half only
    weak[3::8, 96:] += 3.0
    m, alone = blockiness_map(weak, 24), blockiness_map(weak, 24, pool=0)
    assert np.median(m[:, 5:]) > np.median(m[:, :3]) + 0.08
    assert np.std(m[:, :3]) < np.std(alone[:, :3])  # pooling steadies the no-grid tiles
    edge = g.copy()
    edge[:, 40:] += 40.0  # straight edges in the content
    edge[50:, :] += 40.0
    assert blockiness_map(edge, 24).max() < 1.1


@pytest.mark.parametrize("kind", ["replaced", "blended"])
def test_region_compared_with_itself_outside_its_span(clips: dict[str, Path], kind: str) -> None:
    """A region shown for a while: inside its span its noise and sharpness are
    below the rest of the frame, at the same place outside it they are not."""
    res = _run(clips[kind])
    found = [f for f in res.findings if f.id == "frames.region_noise"]
    assert len(found) == 1
    ev = found[0].evidence
    t0, t1 = vr.REPLACED[0] / vr.FPS, vr.REPLACED[1] / vr.FPS
    assert abs(ev["start_s"] - t0) <= 1.0 and abs(ev["end_s"] - t1) <= 1.0
    ot = ev["over_time"]
    assert ot["samples_outside"] >= 10
    assert ot["noise"][0] < -0.5 < ot["noise"][1]
    assert ot["sharpness"][0] < ot["sharpness"][1] - 0.1
