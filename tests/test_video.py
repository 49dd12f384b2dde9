"""The video analyzer: each fixture defect found at its frame, clean clips stay
quiet, the pure functions on hand-built series, the OpenCV fallback, artifacts."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from triage.analyzers.base import AnalyzerResult, Context
from triage.analyzers.video import VideoAnalyzer
from triage.media import Media
from triage.pipeline import Options, analyze_path
from triage.report import Report
from triage.video import container as ct
from triage.video import frames as fr
from triage.video import timestamps as ts

VIDEO = Path(__file__).resolve().parent.parent / "fixtures" / "video"
TRUTH = json.loads((VIDEO / "truth.json").read_text()) if (VIDEO / "truth.json").exists() else {}
MANIPULATION_ONLY = Options(only=["video"])


@cache
def run(name: str) -> AnalyzerResult:
    return VideoAnalyzer().run(Media.open(VIDEO / name), Context())


@cache
def report(name: str) -> Report:
    return analyze_path(VIDEO / name, MANIPULATION_ONLY)


def ids(result: AnalyzerResult) -> list[str]:
    return [f.id for f in result.findings]


def frames_of(result: AnalyzerResult, finding_id: str) -> list[int]:
    return [int(f.evidence["frame"]) for f in result.findings if f.id == finding_id]


# ------------------------------------------------------------------ fixtures
def test_duplicated_frames_found_at_their_frame() -> None:
    res = run("duplicated.mp4")
    hits = frames_of(res, "video.duplicate_frames")
    truth = TRUTH["duplicated.mp4"]
    assert any(abs(f - truth["frame"]) <= 2 for f in hits), res.findings
    finding = next(f for f in res.findings if f.id == "video.duplicate_frames")
    assert abs(finding.evidence["frames"] - truth["frames"]) <= 1
    assert finding.evidence["time_s"] == pytest.approx(truth["frame"] / 30, abs=2 / 30)
    assert "video.frame_break" not in ids(res)


def test_removed_frames_found_as_a_break_not_a_cut() -> None:
    res = run("dropped.mp4")
    hits = frames_of(res, "video.frame_break")
    assert any(abs(f - TRUTH["dropped.mp4"]["frame"]) <= 2 for f in hits), res.findings
    assert "video.scene_cuts" not in ids(res)
    brk = next(f for f in res.findings if f.id == "video.frame_break")
    assert 7 <= brk.evidence["frames_missing_approx"] <= 12  # 10 were removed
    # The calibration data holds no videos yet: the break raises the score above the
    # untouched clip's, and the interval stays wide (docs/scoring.md).
    dropped = report("dropped.mp4").questions["manipulation"]
    assert dropped.score > report("clean.mp4").questions["manipulation"].score
    assert dropped.contributions.get("video.frame_break", 0) > 0


def test_stream_copy_splice_is_a_break_and_an_unscheduled_keyframe() -> None:
    res = run("spliced_copy.mp4")
    truth = TRUTH["spliced_copy.mp4"]
    assert any(abs(f - truth["frame"]) <= 2 for f in frames_of(res, "video.frame_break"))
    kf = next(f for f in res.findings if f.id == "video.keyframe_irregular")
    assert truth["keyframe"] in kf.evidence["frames"] and kf.evidence["gop"] == 15
    brk = next(f for f in res.findings if f.id == "video.frame_break")
    assert 18 <= brk.evidence["frames_missing_approx"] <= 28  # 24 were removed
    assert "video.timestamp_gap" not in ids(res)  # re-timed: the clock hides the cut


def test_inserted_foreign_frame_found_not_as_cuts() -> None:
    res = run("inserted.mp4")
    hits = frames_of(res, "video.inserted_frame")
    assert any(abs(f - TRUTH["inserted.mp4"]["frame"]) <= 2 for f in hits), res.findings
    assert "video.scene_cuts" not in ids(res) and "video.frame_break" not in ids(res)


def test_low_quality_segment_found_with_both_ends() -> None:
    res = run("lowq_segment.mp4")
    truth = TRUTH["lowq_segment.mp4"]
    seg = [f for f in res.findings if f.id == "video.quality_shift"]
    assert seg, res.findings
    ev = seg[0].evidence
    assert abs(ev["frame"] - truth["frame"]) <= 2
    assert abs(ev["end_frame"] - truth["end_frame"]) <= 2
    assert ev["direction"] == "lower"
    assert "frames_examined" in ev


def test_timestamp_gap_found_and_frame_rate_variation_reported() -> None:
    res = run("irregular_ts.mp4")
    hits = frames_of(res, "video.timestamp_gap")
    assert any(abs(f - TRUTH["irregular_ts.mp4"]["frame"]) <= 2 for f in hits), res.findings
    gap = next(f for f in res.findings if f.id == "video.timestamp_gap")
    assert 7 <= gap.evidence["frames_missing_approx"] <= 10
    assert "video.variable_frame_rate" in ids(res)
    # The pixels are continuous: no frame-level break there.
    assert "video.frame_break" not in ids(res)


@pytest.mark.parametrize("name", ["clean.mp4", "scene_cut.mp4", "handheld.mp4"])
def test_clean_and_scene_cut_stay_below_notable(name: str) -> None:
    res = run(name)
    defects = {
        "video.frame_break",
        "video.duplicate_frames",
        "video.quality_shift",
        "video.timestamp_gap",
        "video.inserted_frame",
    }
    assert not defects & set(ids(res)), res.findings
    band = report(name).questions["manipulation"].band
    assert band not in ("notable-indicators", "strong-indicators")


def test_scene_cut_is_reported_as_a_cut_at_its_frame() -> None:
    res = run("scene_cut.mp4")
    cut = TRUTH["scene_cut.mp4"]["cut_frame"]
    assert any(abs(c["frame"] - cut) <= 2 for c in res.metrics["scene_cuts"])
    assert "video.scene_cuts" in ids(res)


def test_metrics_state_sampling_and_container() -> None:
    res = run("clean.mp4")
    m = res.metrics
    assert m["backend"] == "pyav" and m["frames_decoded"] == 90 and m["decoded_all"]
    assert "every frame" in m["sampling"]["quality"]
    assert m["container"]["writer"].startswith("Lavf")
    assert "video.reencoded" in ids(res)
    assert res.examined["manipulation"] == pytest.approx(1.0)
    # Keyframe hashes for the provenance question (one per GOP of 30 frames).
    if m["keyframe_hashes"]:
        assert [h["frame"] for h in m["keyframe_hashes"]] == [0, 30, 60]
        assert all(len(h["phash"]) == 16 for h in m["keyframe_hashes"])
    json.dumps(m)  # JSON-serializable


def test_every_finding_id_is_declared() -> None:
    from triage.analyzers import all_analyzers

    declared = {fid for a in all_analyzers() for fid in a.finding_ids}
    for name in ("duplicated.mp4", "dropped.mp4", "lowq_segment.mp4", "irregular_ts.mp4"):
        for f in run(name).findings:
            assert f.id in declared, f.id
            assert "time_s" in f.evidence or f.id in {
                "video.reencoded",
                "video.variable_frame_rate",
                "video.scene_cuts",
            }


# ------------------------------------------------------------ artifacts
def test_artifacts_timeline_without_pixels_and_contact_sheet() -> None:
    media = Media.open(VIDEO / "dropped.mp4")
    res = VideoAnalyzer().run(media, Context(want_artifacts=True))
    kinds = {a.kind: a for a in res.artifacts}
    assert kinds["timeline"].contains_pixels is False
    assert kinds["timeline"].png.startswith(b"\x89PNG")
    assert kinds["contact_sheet"].contains_pixels is True
    res2 = VideoAnalyzer().run(media, Context(want_artifacts=True, no_pixels=True))
    assert [a.kind for a in res2.artifacts] == ["timeline"]


# ------------------------------------------------------------ real containers
def _remux(src: Path, dst: Path, fmt_options: dict[str, str] | None = None, **meta: str) -> None:
    """Copy the video packets of ``src`` into ``dst`` (no re-encode), with tags."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", options=fmt_options or {}) as out:
        for k, v in meta.items():
            out.metadata[k] = v
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            out.mux(packet)


def test_creation_dates_that_disagree_in_a_real_file(tmp_path: Path) -> None:
    dst = tmp_path / "dated.mov"
    _remux(
        VIDEO / "clean.mp4",
        dst,
        {"movflags": "use_metadata_tags"},
        creation_time="2024-03-01T10:00:00.000000Z",
        **{"com.apple.quicktime.creationdate": "2024-05-07T18:22:10+0200"},
    )
    res = VideoAnalyzer().run(Media.open(dst), Context())
    assert "video.dates_inconsistent" in ids(res)
    same = tmp_path / "same.mov"
    _remux(
        VIDEO / "clean.mp4",
        same,
        {"movflags": "use_metadata_tags"},
        creation_time="2024-03-01T10:00:00.000000Z",
        **{"com.apple.quicktime.creationdate": "2024-03-01T11:00:00+0100"},
    )
    assert "video.dates_inconsistent" not in ids(VideoAnalyzer().run(Media.open(same), Context()))


def test_truncated_matroska_duration_mismatch(tmp_path: Path) -> None:
    full = tmp_path / "full.mkv"
    _remux(VIDEO / "clean.mp4", full)
    assert "video.duration_mismatch" not in ids(VideoAnalyzer().run(Media.open(full), Context()))
    cut = tmp_path / "cut.mkv"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    res = VideoAnalyzer().run(Media.open(cut), Context())
    assert "video.duration_mismatch" in ids(res)


def test_ten_bit_video_goes_through_swscale_and_still_finds_the_break(tmp_path: Path) -> None:
    import av

    dst = tmp_path / "ten.mkv"
    with av.open(str(VIDEO / "dropped.mp4")) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("ffv1", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p10le"
        for frame in inp.decode(video=0):
            frame.pts = None
            for packet in stream.encode(frame.reformat(format="yuv420p10le")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    res = VideoAnalyzer().run(Media.open(dst), Context())
    assert res.metrics["frames_decoded"] == 90
    assert any(abs(f - 50) <= 2 for f in frames_of(res, "video.frame_break"))


def test_scroll_in_a_still_screen_recording_stays_weak(tmp_path: Path) -> None:
    import av

    rng = np.random.default_rng(4)
    page = rng.integers(0, 255, (480, 320, 3), dtype=np.uint8)
    page = np.repeat(np.repeat(page[::8, ::8], 8, axis=0), 8, axis=1)  # blocky "text"
    dst = tmp_path / "screen.mp4"
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(60):
            top = 0 if i < 40 else 64  # one scroll step at frame 40
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(page[top : top + 240]), "rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    res = VideoAnalyzer().run(Media.open(dst), Context())
    breaks = [f for f in res.findings if f.id == "video.frame_break"]
    assert breaks and breaks[0].evidence["still_scene"] is True
    assert breaks[0].strength == 0.5
    band = analyze_path(dst, MANIPULATION_ONLY).questions["manipulation"].band
    assert band not in ("notable-indicators", "strong-indicators")


def test_unreadable_video_is_one_error_not_two(tmp_path: Path) -> None:
    bad = tmp_path / "trunc.mp4"
    bad.write_bytes((VIDEO / "clean.mp4").read_bytes()[:20000])  # moov atom is at the end
    rep = analyze_path(bad, MANIPULATION_ONLY)
    assert len(rep.errors) == 1
    run_ = next(a for a in rep.analyzers if a.name == "video")
    assert run_.status == "skipped"


def test_decoding_budget_stops_frames_but_not_timestamps() -> None:
    media = Media.open(VIDEO / "irregular_ts.mp4")
    res = VideoAnalyzer().run(media, Context(options={"video_max_seconds": 1.0}))
    assert not res.metrics["decoded_all"]
    assert res.metrics["frames_decoded"] <= 31
    assert any("budget" in n for n in res.not_checked)
    assert res.examined["manipulation"] < 1.0
    # The gap at 1.63 s is beyond the decoded second, but packets cover it.
    assert "video.timestamp_gap" in ids(res)


def test_contact_sheet_frames_by_seeking_match_forward_decoding() -> None:
    from triage.video import stream, timeline

    path = VIDEO / "spliced_copy.mp4"
    sc = stream.read_pyav(path)
    wanted = {1, 2, 49, 50, 51, 52, 93}
    seek = timeline.collect_frames(path, wanted, 64, "pyav", sc.frame_time, sc.start_time)
    forward = timeline._collect_forward(path, wanted, 64, "pyav")
    assert set(seek) == set(forward) == wanted
    for k in wanted:
        assert np.array_equal(seek[k], forward[k]), k


# ------------------------------------------------------------ OpenCV fallback
def test_opencv_fallback_says_what_it_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    from triage.video import stream

    def refuse(*_a: object, **_k: object) -> None:
        raise ValueError("simulated: PyAV cannot open this")

    monkeypatch.setattr(stream, "read_pyav", refuse)
    res = VideoAnalyzer().run(Media.open(VIDEO / "dropped.mp4"), Context())
    assert res.metrics["backend"] == "opencv"
    assert any("PyAV cannot open" in n and "timestamps" in n for n in res.not_checked)
    assert any(abs(f - 50) <= 2 for f in frames_of(res, "video.frame_break"))
    assert 0 < res.examined["manipulation"] <= 0.65
    # Frame times from OpenCV still show the timestamp gap.
    res2 = VideoAnalyzer().run(Media.open(VIDEO / "irregular_ts.mp4"), Context())
    assert res2.metrics["backend"] == "opencv"
    assert any(abs(f - 40) <= 2 for f in frames_of(res2, "video.timestamp_gap"))


# ------------------------------------------------------------ pure functions
def _pts(deltas: list[int]) -> np.ndarray:
    return np.cumsum([0, *deltas]).astype(float)


def test_timestamps_gap_duplicate_and_order() -> None:
    pts = _pts([1000] * 20 + [5000] + [1000] * 10 + [0] + [1000] * 5)
    dts = pts.copy()
    dts[25] = dts[24]  # repeated dts
    key = np.zeros(len(pts), bool)
    key[0] = True
    rep = ts.analyze(pts, dts, key, 1 / 30000)
    kinds = {(e.kind, e.frame) for e in rep.events}
    assert ("gap", 21) in kinds
    assert ("duplicate_pts", 32) in kinds
    assert any(k == "dts_repeat" for k, _ in kinds)
    gap = next(e for e in rep.events if e.kind == "gap")
    assert gap.detail["frames_missing_approx"] == 4


def test_timestamps_backwards_dts_and_pts_jump() -> None:
    pts = _pts([1000] * 30).tolist()
    pts[20:] = [p - 25000 for p in pts[20:]]  # a segment re-timed from earlier
    arr = np.asarray(pts, float)
    rep = ts.analyze(arr, arr.copy(), np.zeros(len(arr), bool), 1 / 30000)
    kinds = [e.kind for e in rep.events]
    assert "dts_backwards" in kinds and "pts_out_of_order" in kinds


def test_timestamps_b_frame_reordering_is_not_out_of_order() -> None:
    # Typical IPBB decode order: pts 0, 3, 1, 2, 6, 4, 5 ... with increasing dts.
    order = [0]
    for g in range(1, 20):
        b = 3 * g
        order += [b, b - 2, b - 1]
    pts = np.asarray(order, float) * 1000
    dts = np.arange(len(pts), dtype=float) * 1000 - 2000
    rep = ts.analyze(pts, dts, np.zeros(len(pts), bool), 1 / 30000)
    assert rep.events == []
    assert rep.vfr_fraction == 0


def test_rounded_millisecond_timestamps_are_not_variable_rate() -> None:
    pts = np.round(np.arange(120) * 1000 / 30.0)  # 33/34 ms steps in a 1 ms time base
    rep = ts.analyze(pts, pts.copy(), np.zeros(120, bool), 1 / 1000)
    assert rep.vfr_fraction == 0 and rep.events == []


def test_keyframe_regularity() -> None:
    gop, _share, irregular = ts.keyframe_regularity([0, 30, 60, 90, 107, 137, 167], 200)
    assert gop == 30 and irregular == [107]
    assert ts.keyframe_regularity([0, 30, 76, 137, 187, 242], 250)[0] is None  # adaptive GOP


def test_find_events_on_hand_built_series() -> None:
    rng = np.random.default_rng(0)
    n = 120
    diff = (4 + rng.normal(0, 0.3, n)).astype(np.float32)
    diff2 = diff * 1.8
    ncc = np.full(n, 0.97, np.float32)
    diff[30:34] = 0.01  # a freeze of 4 frames
    diff[60] = 25  # a break in the same shot
    diff[90] = 40  # a cut
    ncc[90] = 0.1
    diff[100], diff[101], diff2[101] = 30, 31, 5  # an inserted frame
    out = fr.find_events(diff, diff2, ncc)
    got = {(e.kind, e.frame) for e in out.events}
    assert ("duplicate", 30) in got and ("break", 60) in got
    assert ("cut", 90) in got and ("inserted", 100) in got
    assert not out.cadence


def test_regular_duplicates_are_a_cadence_not_freezes() -> None:
    diff = np.full(200, 3.0, np.float32)
    diff[5::5] = 0.0  # every fifth frame repeated (e.g. 24 -> 30 fps)
    out = fr.find_events(diff, diff * 2, np.ones(200, np.float32))
    assert out.cadence
    assert not [e for e in out.events if e.kind == "duplicate"]
    diff[101:105] = 0.0  # a 4-frame freeze inside the cadence is still reported
    out = fr.find_events(diff, diff * 2, np.ones(200, np.float32))
    assert out.cadence
    # frames 100 and 105 are the cadence's own repeats, joined to the freeze
    assert [(e.frame, e.frames) for e in out.events if e.kind == "duplicate"] == [(100, 6)]


def test_lighting_change_is_not_a_break() -> None:
    rng = np.random.default_rng(2)
    a = rng.uniform(40, 200, (fr.SIG_H, fr.SIG_W)).astype(np.float32)
    assert fr.photometric_diff(a, a * 1.4 + 20) < 0.01  # a lamp switched on
    shifted = np.roll(a, 6, axis=1)
    assert fr.photometric_diff(a, shifted) > 10  # a jump in time
    n = 80
    diff = np.full(n, 2.0, np.float32)
    diff[40] = 30.0
    photometric = np.full(n, np.nan, np.float32)
    photometric[40] = 1.0
    out = fr.find_events(diff, diff * 2, np.full(n, 0.99, np.float32), None, photometric)
    assert [e.kind for e in out.events] == ["lighting"]
    # A one-frame flash: into and out of a brighter copy of the picture.
    diff[41], photometric[41] = 30.0, 1.0
    diff2 = diff * 2
    diff2[41] = 2.0
    out = fr.find_events(diff, diff2, np.full(n, 0.99, np.float32), None, photometric)
    assert [e.kind for e in out.events] == ["lighting", "lighting"]


def test_quality_steps_pair_into_a_segment_and_cuts_explain_steps() -> None:
    rng = np.random.default_rng(1)
    n = 60
    m = np.stack(
        [3 + rng.normal(0, 0.01, n), 0.8 + rng.normal(0, 0.01, n), 1.1 + rng.normal(0, 0.01, n)],
        axis=1,
    )
    m[20:40] += [-0.5, -0.4, 0.3]
    steps = fr.quality_steps(np.arange(n), m)
    assert [s.frame for s in steps] == [20, 40]
    segs, lone = fr.quality_segments(steps, cuts=[])
    assert segs[0]["start_frame"] == 20 and segs[0]["end_frame"] == 40 and not lone
    segs, _ = fr.quality_segments(steps, cuts=[20, 40])
    assert segs == []


def test_container_dates_and_writer() -> None:
    base = {
        "writer": None,
        "creation_time": "2023-05-01T10:00:00.000000Z",
        "other_dates": {"com.apple.quicktime.creationdate": "2023-05-01T12:00:00+0200"},
        "streams": [
            {
                "index": 0,
                "type": "video",
                "creation_time": "2023-05-01T10:00:00Z",
                "handler": "Core Media Video",
            },
            {
                "index": 1,
                "type": "audio",
                "creation_time": "2023-05-01T10:00:01Z",
                "handler": "Core Media Audio",
            },
        ],
    }
    assert ct.check_container(base, None, None) == []
    shifted = dict(base, creation_time="2023-05-01T11:00:00Z")  # a whole hour: time zone
    assert ct.check_container(shifted, None, None) == []
    redated = dict(base, creation_time="2023-06-11T08:13:00Z")
    kinds = [i.kind for i in ct.check_container(redated, None, None)]
    assert kinds == ["dates_inconsistent"]
    ffmpeg = dict(base, writer="Lavf60.3.100")
    assert [i.kind for i in ct.check_container(ffmpeg, None, None)] == ["reencoded"]
    assert ct.parse_date("1904-01-01T00:00:00Z") is None


def test_declared_frames_against_decoded() -> None:
    info = {
        "streams": [
            {
                "index": 0,
                "type": "video",
                "declared_frames": 300,
                "duration_s": 10.0,
                "average_rate": 30.0,
            }
        ],
    }
    kinds = [i.kind for i in ct.check_container(info, 290, 9.67)]
    assert kinds == ["duration_mismatch", "duration_mismatch"]
    assert ct.check_container(info, 300, 10.0) == []


# ------------------------------------------------------------ corpus
@pytest.mark.corpus
def test_corpus_clips_analyzed_and_authentic_ones_not_notable(corpus_dir: Path) -> None:
    labels = {}
    for line in (corpus_dir / "labels.tsv").read_text().splitlines()[1:]:
        parts = line.split("\t")
        if parts[0].startswith("video/"):
            labels[parts[0]] = parts[1]
    assert labels
    for rel, label in sorted(labels.items()):
        rep = analyze_path(corpus_dir / rel, MANIPULATION_ONLY)
        run_ = next(a for a in rep.analyzers if a.name == "video")
        assert run_.status == "ok", (rel, run_.message)
        if label == "authentic":
            band = rep.questions["manipulation"].band
            assert band not in ("notable-indicators", "strong-indicators"), rel
