"""Video forensics: container tags and dates, packet timestamps, and frame-level
breaks, duplicates and quality shifts, in one streaming pass.

The work is done by the pure functions of :mod:`triage.video`; this class runs
the pass, turns what they report into findings (each event with its time and
frame number), and draws the timeline and contact sheet on request.
docs/analyzers/video.md is the card: method, innocent causes, measured numbers.

Options: ``ctx.options.video`` (:class:`~triage.analyzers.options.VideoOptions`):
``max_seconds`` decoded (1800), ``quality_pixels_per_second`` of the sampled
quality checks (4e6), ``frames`` sampled for the frames analyzer (48).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from triage.analyzers.base import Analyzer, AnalyzerResult, Artifact, Context, RawFinding
from triage.errors import MediaError
from triage.media import Media
from triage.orientation import upright_pixels
from triage.report import Question

MAX_EVENTS_PER_KIND = 10
# Formats whose timing is meant to be constant (Matroska/WebM recorders are
# variable frame rate by design).
_CFR_FORMATS = {"mp4", "mov", "avi"}
_PYAV_CHECKS = (
    "container tags, brands and dates",
    "decode timestamps and packet order (frame times from OpenCV checked for gaps, "
    "repeats and variable rate only)",
    "keyframe intervals",
)
# Share of the manipulation question each part covers.
_SHARE = {"container": 0.2, "timestamps": 0.3, "frames": 0.5}


class VideoAnalyzer(Analyzer):
    name = "video"
    finding_ids = (
        "video.frame_break",
        "video.duplicate_frames",
        "video.inserted_frame",
        "video.quality_shift",
        "video.scene_cuts",
        "video.timestamp_gap",
        "video.timestamp_duplicate",
        "video.timestamp_order",
        "video.variable_frame_rate",
        "video.keyframe_irregular",
        "video.reencoded",
        "video.dates_inconsistent",
        "video.duration_mismatch",
    )
    version = "1"
    questions: ClassVar[tuple[Question, ...]] = ("manipulation",)
    kinds: ClassVar[tuple[str, ...]] = ("video",)
    description = (
        "Container tags and dates, packet timestamps and keyframe intervals, and "
        "frame-level breaks, duplicated frames and segment quality shifts "
        "(scene cuts told apart from breaks)."
    )

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        from triage.video import stream as vs

        # The pass is shared with the sampled-frame analyzer: ask for its frames too,
        # so that the file is decoded once whichever of the two runs first.
        opened = vs.shared_stream(media, *vs.pass_settings(ctx.options.video))
        result = AnalyzerResult()
        if opened.no_video:
            result.skipped_reason = opened.no_video
            return result
        if opened.stream is None:
            reason = f"the video cannot be decoded ({opened.error})"
            if media.video_header_error:
                # The file already carries its "open" error; do not report it twice.
                result.skipped_reason = reason
                return result
            raise MediaError(reason) from None
        stream = opened.stream
        if opened.pyav_error:
            result.not_checked.extend(
                f"{c}: PyAV cannot open the file ({opened.pyav_error}); frames read through OpenCV"
                for c in _PYAV_CHECKS
            )
        if stream.n_frames == 0:
            result.skipped_reason = "no frame could be decoded"
            return result
        result.not_checked.extend(stream.notes)
        return _assess(media, ctx, stream, result)


def _assess(media: Media, ctx: Context, stream: Any, result: AnalyzerResult) -> AnalyzerResult:
    """Turn the pass's series into findings, metrics and (on request) artifacts."""
    from triage.video import timestamps as ts

    a = _Assessment(media, stream, result)
    tsr = None
    if stream.backend == "pyav" and len(stream.pkt_pts):
        tsr = ts.analyze(stream.pkt_pts, stream.pkt_dts, stream.pkt_key, stream.time_base)
    elif stream.backend == "opencv" and len(stream.frame_time) >= 3:
        # OpenCV reports each frame's presentation time: gaps, repeats and variable
        # rate can still be read from it (no decode times, no keyframe flags).
        micro = np.round(np.asarray(stream.frame_time, np.float64) * 1e6)
        nan = np.full(len(micro), np.nan)
        tsr = ts.analyze(micro, nan, np.zeros(len(micro), bool), 1e-6)
    examined = a.frames([e.frame for e in tsr.events if e.kind == "gap"] if tsr else [])
    if tsr is not None:
        examined += a.timestamps(tsr)
    elif stream.backend == "pyav":
        result.not_checked.append("timestamps: the stream has no timed packets")
    if stream.container is not None:
        examined += a.container(tsr)
    result.examined = {"manipulation": round(min(examined, 1.0), 3)}
    a.metrics(tsr)
    if ctx.want_artifacts:
        _artifacts(media, ctx, stream, result, a.timeline, a.segments)
    return result


class _Assessment:
    """Shared state while one stream is turned into findings, section by section."""

    def __init__(self, media: Media, stream: Any, result: AnalyzerResult) -> None:
        self.media, self.stream, self.result = media, stream, result
        self.n = stream.n_frames
        self.times = stream.frame_time
        self.rate = stream.fps or (1.0 / stream.time_base if stream.time_base else 30.0)
        self.timeline: list[dict[str, Any]] = []  # events marked on the timeline
        self.cuts: list[int] = []
        self.breaks: list[int] = []
        self.segments: list[dict[str, Any]] = []
        self.fa: Any = None
        self.lone: list[Any] = []
        self.sampling = ""

    def at(self, frame: int) -> dict[str, Any]:
        f = min(max(int(frame), 0), self.n - 1)
        return {"frame": int(frame), "time_s": round(float(self.times[f]), 3)}

    def add(
        self, fid: str, title: str, detail: str, evidence: dict[str, Any], strength: float = 1.0
    ) -> None:
        self.result.findings.append(
            RawFinding(fid, "manipulation", title, detail, evidence, strength)
        )

    # ------------------------------------------------------------ frames
    def frames(self, gaps: list[int]) -> float:
        """Frame events and quality segments; returns the share examined."""
        from triage.video import frames as fr

        stream, n, times = self.stream, self.n, self.times
        fa = self.fa = fr.find_events(
            stream.diff, stream.diff2, stream.ncc, stream.shift, stream.photometric
        )
        self.result.not_checked.extend(fa.notes if not fa.cadence else [])
        self.cuts = [e.frame for e in fa.events if e.kind == "cut"]
        self.breaks = [e.frame for e in fa.events if e.kind == "break"]
        by_kind: dict[str, list[fr.FrameEvent]] = {}
        for e in fa.events:
            by_kind.setdefault(e.kind, []).append(e)
        # A single repeated frame, or one at the very ends, is routine (encoders
        # repeat a frame when the camera drops one; clips start on a held frame).
        dups = [e for e in by_kind.get("duplicate", []) if e.frames >= 2 and 2 <= e.frame < n - 2]
        for e in dups[:MAX_EVENTS_PER_KIND]:
            self.add(
                "video.duplicate_frames",
                f"{e.frames} duplicated frames at {times[e.frame]:.2f} s (frame {e.frame})",
                f"Frames {e.frame}-{e.frame + e.frames - 1} repeat the frame before them while the "
                "picture around them moves: a freeze or padding, as where a removed stretch was "
                "filled. Streaming stalls and recorders under load also repeat frames.",
                self.at(e.frame) | {"frames": e.frames, **e.detail},
                strength=min(1.3, 0.6 + 0.1 * e.frames),
            )
            self.timeline.append({"kind": "duplicate", "frame": e.frame})
        for e in by_kind.get("break", [])[:MAX_EVENTS_PER_KIND]:
            self.timeline.append({"kind": "break", "frame": e.frame})
            if any(abs(e.frame - g) <= 1 for g in gaps):
                continue  # the timestamps jump too: reported once, as a recorder-style gap
            ratio = float(e.detail["ratio"])
            # A jump out of stillness is as likely an event in the scene as a cut in time.
            still = float(e.detail["local_motion"]) < fr.MIN_MOTION_FOR_DUP
            self.add(
                "video.frame_break",
                f"Frames missing at {times[e.frame]:.2f} s (frame {e.frame})",
                f"The picture jumps {ratio:.1f} times further than its usual frame-to-frame motion "
                "while staying in the same shot (aligned correlation "
                f"{e.detail['aligned_ncc']:.2f})"
                + (
                    " and the timestamps run on: frames were removed and the rest re-timed."
                    if stream.backend == "pyav"
                    else ": frames were removed or dropped here."
                )
                + " Recorders that drop frames under load and streams with packet loss do "
                "this too."
                + (
                    " The scene around it is nearly still, so one sudden change in it "
                    "(scrolling in a screen recording, an object moved, the camera bumped) "
                    "explains it as well."
                    if still
                    else ""
                ),
                self.at(e.frame) | e.detail | {"still_scene": still},
                strength=0.5
                if still
                else float(min(1.3, max(0.6, 0.6 + 0.07 * (ratio - fr.SPIKE_RATIO)))),
            )
        for e in by_kind.get("inserted", [])[:MAX_EVENTS_PER_KIND]:
            self.add(
                "video.inserted_frame",
                f"Out-of-place frame at {times[e.frame]:.2f} s (frame {e.frame})",
                "One frame differs sharply from both neighbours, which match each other: an "
                "inserted frame, or a flash or glitch.",
                self.at(e.frame) | e.detail,
            )
            self.timeline.append({"kind": "inserted", "frame": e.frame})
        if self.cuts:
            k = len(self.cuts)
            self.add(
                "video.scene_cuts",
                f"{k} scene cut{'s' if k > 1 else ''}: the clip is assembled from shots",
                "The content changes completely at these frames and each new segment is "
                "consistent in itself: ordinary cuts between shots, not breaks inside a shot. "
                "A camera original has none; an edited programme or trailer has many.",
                {"cuts": [self.at(c) for c in self.cuts[:100]], "count": k},
            )
            self.timeline.extend({"kind": "cut", "frame": c} for c in self.cuts)

        steps = fr.quality_steps(stream.quality_frames, stream.quality)
        self.segments, self.lone = fr.quality_segments(steps, self.cuts)
        sampled = len(stream.quality_frames)
        self.sampling = (
            f"quality measured on every frame ({sampled})"
            if stream.quality_step == 1
            else f"quality measured on 1 frame in {stream.quality_step} ({sampled} frames)"
        )
        for seg in self.segments[:MAX_EVENTS_PER_KIND]:
            s, e_ = int(seg["start_frame"]), int(seg["end_frame"])
            t0, t1 = times[min(s, n - 1)], times[min(e_, n - 1)]
            self.add(
                "video.quality_shift",
                f"Frames {s}-{e_ - 1} ({t0:.2f}-{t1:.2f} s) have {seg['direction']} "
                "compression quality than the rest",
                "Sharpness, noise and block artifacts step away at the start of this segment "
                "and back at its end, with no scene cut to explain it: frames spliced in from "
                "another encode. Camera exposure or focus changes rarely step both ways abruptly.",
                self.at(s)
                | {
                    "end_frame": e_,
                    "end_time_s": round(float(t1), 3),
                    "direction": seg["direction"],
                    "step_in_z": seg["step_in"],
                    "step_out_z": seg["step_out"],
                    "frames_examined": self.sampling,
                },
            )
        share = 1.0 if stream.decoded_all else _decoded_share(stream, self.media)
        return _SHARE["frames"] * share

    # ------------------------------------------------------------ timestamps
    def timestamps(self, tsr: Any) -> float:
        """Timestamp events, variable frame rate, keyframe schedule; share examined."""
        from triage.video import frames as fr

        n, times, media = self.n, self.times, self.media
        self.result.not_checked.extend(tsr.skipped)
        motion = fr.local_motion(np.asarray(self.stream.diff, np.float32))
        counts: dict[str, int] = {}
        for ev in tsr.events:
            counts[ev.kind] = counts.get(ev.kind, 0) + 1
            if counts[ev.kind] > MAX_EVENTS_PER_KIND:
                continue
            fid, title, detail = _timestamp_text(ev)
            evidence = {"frame": ev.frame, "time_s": ev.time, "kind": ev.kind, **ev.detail}
            strength = 1.0
            if ev.kind == "gap":
                # Do the pixels jump with the clock? A recorder that drops frames
                # leaves both; rewritten timestamps move the clock only.
                f = ev.frame
                if f >= n:
                    evidence["pixels"] = "not decoded (beyond the decoding budget)"
                elif any(abs(f - b) <= 1 for b in self.breaks):
                    evidence["pixels"] = "jump with the gap (frames dropped or cut)"
                    detail += (
                        " The picture jumps at the same frame, as when a recorder drops frames."
                    )
                    strength = 0.6
                elif motion[f] >= fr.MIN_MOTION_FOR_DUP:
                    evidence["pixels"] = "continuous across the gap"
                    detail += (
                        " Yet the picture moves on smoothly across it: the timestamps were "
                        "rewritten, not frames lost."
                    )
                    strength = 1.2
                else:
                    evidence["pixels"] = "too still to tell"
            self.add(fid, title, detail, evidence, strength)
            self.timeline.append({"kind": "timestamp", "frame": min(ev.frame, n - 1)})
        if media.format in _CFR_FORMATS and tsr.vfr_fraction >= 0.1:
            self.add(
                "video.variable_frame_rate",
                f"Variable frame timing in a {media.format.upper()} file",
                f"{tsr.vfr_fraction:.0%} of frame durations differ by more than 10% from the "
                "typical one. Phones record variable frame rate in low light and screen "
                "recorders always do; splicing clips of different rates does too.",
                {
                    "vfr_fraction": tsr.vfr_fraction,
                    "delta_cv": tsr.delta_cv,
                    "typical_step_s": tsr.typical_delta,
                },
                strength=min(1.5, 0.5 + tsr.vfr_fraction * 2),
            )
        irregular = [k for k in tsr.irregular_keyframes if all(abs(k - c) > 2 for c in self.cuts)]
        if irregular:
            self.add(
                "video.keyframe_irregular",
                f"Unscheduled keyframe{'s' if len(irregular) > 1 else ''} at "
                + ", ".join(f"{times[min(k, n - 1)]:.2f} s" for k in irregular[:5]),
                f"The stream uses a fixed keyframe interval of {tsr.gop} frames, but a "
                "keyframe comes early here without a scene cut: an edit point in a "
                "stream-copied clip restarts the interval. Some encoders also insert "
                "keyframes on fast motion or on request (video calls, streaming).",
                self.at(irregular[0])
                | {
                    "frames": irregular[:50],
                    "gop": tsr.gop,
                    "regular_share": tsr.gop_regular_share,
                },
            )
            self.timeline.extend({"kind": "timestamp", "frame": k} for k in irregular[:50])
        self.result.metrics["timestamps"] = {
            "packets": tsr.frames,
            "typical_step_s": tsr.typical_delta,
            "vfr_fraction": tsr.vfr_fraction,
            "delta_cv": tsr.delta_cv,
            "keyframes": len(tsr.keyframes),
            "gop": tsr.gop,
            "gop_regular_share": tsr.gop_regular_share,
            "events": len(tsr.events),
        }
        if not tsr.checked:
            return 0.0
        return _SHARE["timestamps"] * (1.0 if self.stream.backend == "pyav" else 0.5)

    # ------------------------------------------------------------ container
    def container(self, tsr: Any) -> float:
        """Writer tags, dates, duration against frames; share examined."""
        from triage.video import container as ct

        stream, n, times = self.stream, self.n, self.times
        span = None
        if n >= 2 and stream.decoded_all:
            step = tsr.typical_delta if tsr and tsr.typical_delta else 1.0 / self.rate
            span = float(times[-1] - times[0]) + step
        for issue in ct.check_container(stream.container, n if stream.decoded_all else None, span):
            self.add(
                _CONTAINER_IDS[issue.kind],
                _CONTAINER_TITLES[issue.kind],
                _container_detail(issue),
                issue.evidence,
            )
        c = stream.container
        keys = (
            "format",
            "major_brand",
            "compatible_brands",
            "writer",
            "bitstream_encoder",
            "creation_time",
            "other_dates",
            "duration_s",
        )
        self.result.metrics["container"] = {k: c.get(k) for k in keys} | {
            "streams": c.get("streams")
        }
        if "audio" not in [s["type"] for s in c.get("streams", [])]:
            self.result.metrics["no_audio"] = True
        return _SHARE["container"]

    # ------------------------------------------------------------ metrics
    def metrics(self, tsr: Any) -> None:
        stream, n, fa = self.stream, self.n, self.fa
        self.result.metrics.update(
            {
                "backend": stream.backend,
                "frames_decoded": n,
                "decoded_all": stream.decoded_all,
                "fps": round(self.rate, 4),
                "width": stream.width,
                "height": stream.height,
                "sampling": {
                    "signatures": f"all {n} decoded frames (64x36 grey)",
                    "quality": self.sampling,
                },
                "motion_median": fa.motion_median,
                "duplicate_share": fa.duplicate_share,
                "frame_rate_conversion_cadence": fa.cadence,
                "scene_cuts": [self.at(c) for c in self.cuts[:200]],
                "frame_events": [
                    {"kind": e.kind, **self.at(e.frame), "frames": e.frames}
                    for e in fa.events[:200]
                ],
                "quality_lone_steps": [{**self.at(s.frame), "z": s.z} for s in self.lone[:50]],
                "pict_types": stream.pict_types,
                "keyframe_hashes": stream.keyframe_hashes,
                "keyframe_hash_algorithm": "phash (imagehash layout) of the keyframe luma at <= 512 px",
            }
        )


_CONTAINER_IDS = {
    "reencoded": "video.reencoded",
    "dates_inconsistent": "video.dates_inconsistent",
    "dates_future": "video.dates_inconsistent",
    "duration_mismatch": "video.duration_mismatch",
}


_CONTAINER_TITLES = {
    "reencoded": "Re-encoded or re-muxed by software (writer or encoder tags)",
    "dates_inconsistent": "Creation dates in the container disagree",
    "dates_future": "A creation date lies in the future",
    "duration_mismatch": "Declared duration or frame count differs from the frames",
}


def _container_detail(issue: Any) -> str:
    if issue.kind == "reencoded":
        return (
            f"{issue.detail}. The file was written by a tool, not straight by a camera: "
            "platforms, messaging apps, editors and converters all do this, so it is "
            "processing, not proof of editing."
        )
    if issue.kind == "duration_mismatch":
        return (
            f"{issue.detail}. Cutting with stream copy, edit lists and damaged files cause "
            "this; so do some muxers' rounding."
        )
    return (
        f"{issue.detail}. A recorder writes these together; streams re-dated or taken from "
        "different recordings disagree. Time-zone offsets of whole hours are ignored."
    )


def _timestamp_text(ev: Any) -> tuple[str, str, str]:
    t = f"{ev.time:.2f} s (frame {ev.frame})"
    if ev.kind == "gap":
        miss = ev.detail.get("frames_missing_approx")
        return (
            "video.timestamp_gap",
            f"Timestamp gap at {t}",
            f"Presentation time jumps {ev.detail['step_s']:.3f} s where a frame lasts "
            f"{ev.detail['typical_step_s']:.4f} s: about {miss} frame durations with no frame. "
            "A cut without re-timing leaves this; so do recorders that drop frames.",
        )
    if ev.kind == "duplicate_pts":
        return (
            "video.timestamp_duplicate",
            f"Repeated timestamp at {t}",
            "Two frames carry the same presentation time: concatenated or re-muxed streams "
            "produce this; a recorder does not.",
        )
    return (
        "video.timestamp_order",
        f"Timestamps out of order at {t}",
        f"The {'decode' if ev.kind.startswith('dts') else 'presentation'} timestamps step "
        "back or repeat: segments were joined or re-muxed without re-timing.",
    )


def _decoded_share(stream: Any, media: Media) -> float:
    if not media.duration or media.duration <= 0 or not len(stream.frame_time):
        return 0.5
    return float(min(1.0, (stream.frame_time[-1] + 1.0 / (stream.fps or 30.0)) / media.duration))


def _artifacts(
    media: Media,
    ctx: Context,
    stream: Any,
    result: AnalyzerResult,
    events: list[dict[str, Any]],
    segments: list[dict[str, Any]],
) -> None:
    from triage.video import timeline as tl

    keyframes = [int(i) for i in np.flatnonzero(stream.frame_key)] if len(stream.frame_key) else []
    img = tl.timeline_image(
        stream.diff,
        events,
        keyframes,
        [(int(s["start_frame"]), int(s["end_frame"])) for s in segments],
        stream.fps,
    )
    result.artifacts.append(
        Artifact(
            "timeline",
            "Frame-difference timeline with cuts and flagged events",
            ctx.png(img),
            contains_pixels=False,
        )
    )
    if ctx.no_pixels:
        return  # the contact sheet is pixels: do not even decode it
    flagged = [e for e in events if e["kind"] != "cut"]
    for s in segments:
        flagged.append({"kind": "quality", "frame": int(s["start_frame"])})
        flagged.append({"kind": "quality", "frame": int(s["end_frame"])})
    marks: list[tuple[str, int]] = sorted(
        {(str(e["kind"]), int(e["frame"])) for e in flagged}, key=lambda x: x[1]
    )[:8]
    if not marks:
        return
    n = stream.n_frames
    rows: list[tuple[str, list[int]]] = []
    wanted: set[int] = set()
    for kind, f in marks:
        ids = [i for i in range(f - 2, f + 3) if 0 <= i < n]
        rows.append((f"{kind} at frame {f} ({stream.frame_time[min(f, n - 1)]:.2f} s)", ids))
        wanted.update(ids)
    thumbs = tl.collect_frames(
        media.path, wanted, backend=stream.backend, times=stream.frame_time, start=stream.start_time
    )
    # Shown as a player shows the video (a phone's portrait video is stored sideways).
    thumbs = {i: upright_pixels(t, media.orientation) for i, t in thumbs.items()}
    sheet = tl.contact_sheet(rows, thumbs)
    result.artifacts.append(
        Artifact("contact_sheet", "Frames around each flagged event", ctx.png(sheet))
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
