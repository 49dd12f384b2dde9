"""Image evidence on sampled video frames, aggregated over time.

The frames are sampled and reduced to block maps inside the one streaming pass
(:mod:`triage.video.sampled`, shared with the ``video`` analyzer through
:func:`triage.video.stream.shared_stream`); this analyzer reads those maps:

* regions whose noise level or block grid differs from the rest of the frame,
  linked across consecutive samples into one event with a time span and a box
  (:mod:`triage.video.tracks`);
* detected faces tracked across samples, whose noise or sharpness against their
  surroundings steps during part of the clip;
* the correlation of the noise residuals of consecutive frames (sensor noise is
  independent between exposures; much generated video's is not).

docs/analyzers/frames.md is the card.

Options: ``ctx.options.video`` (:class:`~triage.analyzers.options.VideoOptions`),
shared with the ``video`` analyzer: ``frames`` sampled (default
:data:`triage.video.sampled.DEFAULT_FRAMES`), ``max_seconds`` and
``quality_pixels_per_second`` of the shared pass.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from triage.analyzers.base import Analyzer, AnalyzerResult, Artifact, Context, RawFinding
from triage.media import Media
from triage.report import Question

MAX_EVENTS = 5
# Median frame-to-frame residual correlation on flat areas above which the noise
# is not independent between frames (sensor noise: ~0 after motion compensation;
# codecs that copy or predict blocks raise it: on the corpus authentic clips the
# median reaches 0.71-0.77, hence the high bar and the motion condition).
TEMPORAL_CORR = 0.9
FACE_STEP_Z = 4.0
FACE_STEP_LOG = 0.5

_KIND_TEXT = {
    "noise_lower": ("less noise", "a smoothed, resampled or generated source"),
    "noise_higher": ("more noise", "a source shot in worse light or with a noisier camera"),
    "blocking": ("a block grid of its own", "a separately compressed source"),
}


class FramesAnalyzer(Analyzer):
    name = "frames"
    version = "1"
    questions: ClassVar[tuple[Question, ...]] = ("manipulation", "synthetic")
    kinds: ClassVar[tuple[str, ...]] = ("video",)
    finding_ids: ClassVar[tuple[str, ...]] = (
        "frames.region_noise",
        "frames.region_compression",
        "frames.face_inconsistent",
        "frames.noise_temporal_correlation",
    )
    description = (
        "Image evidence on sampled frames (noise, block grid, sharpness, colour per "
        "block), regions and faces tracked over time, frame-to-frame noise correlation."
    )

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        from triage.video import stream as vs

        opened = vs.shared_stream(media, *vs.pass_settings(ctx.options.video))
        result = AnalyzerResult()
        stream = opened.stream
        samples = stream.samples if stream is not None else None
        if stream is None or samples is None or len(samples.frames) < 4:
            result.skipped_reason = (
                opened.no_video
                or (f"the video cannot be decoded ({opened.error})" if opened.error else None)
                or "fewer than 4 frames could be sampled"
            )
            return result
        result.not_checked.extend(f"sampled frame skipped: {e}" for e in samples.errors)
        if samples.no_faces:
            result.not_checked.append(samples.no_faces)
        a = _Aggregate(stream, samples, result)
        a.regions()
        a.faces()
        a.temporal()
        a.metrics()
        share = 1.0 if stream.decoded_all else 0.5
        result.examined = {"manipulation": 0.6 * share, "synthetic": 0.3 * share}
        if ctx.want_artifacts:
            _artifacts(ctx, stream, samples, result, a.spans)
        return result


class _Aggregate:
    def __init__(self, stream: Any, samples: Any, result: AnalyzerResult) -> None:
        self.stream, self.samples, self.result = stream, samples, result
        self.frames = samples.frames
        # block units -> original frame pixels
        self.px = samples.block / samples.scale
        self.spans: list[dict[str, Any]] = []

    def _box(self, box: tuple[float, ...], unit: float) -> list[int]:
        w, h = self.stream.width, self.stream.height
        x0, y0, x1, y1 = (float(v) * unit for v in box)
        return [int(max(0, x0)), int(max(0, y0)), int(min(w, x1)), int(min(h, y1))]

    def _span(self, first: int, last: int) -> dict[str, Any]:
        f0, f1 = self.frames[first], self.frames[last]
        return {
            "start_frame": f0.index,
            "end_frame": f1.index,
            "start_s": round(f0.time, 3),
            "end_s": round(f1.time, 3),
        }

    def regions(self) -> None:
        from triage.video import tracks as tk

        dets = [d for i, f in enumerate(self.frames) for d in tk.frame_detections(i, f.maps)]
        evs = tk.events(tk.link(dets), len(self.frames))
        for t in evs[:MAX_EVENTS]:
            what, source = _KIND_TEXT[t.kind]
            span = self._span(t.first, t.last)
            box = self._box(t.box(), self.px)
            fid = "frames.region_compression" if t.kind == "blocking" else "frames.region_noise"
            score = float(np.median([h.score for h in t.hits]))
            value = float(np.median([h.value for h in t.hits]))
            whole = t.first == 0 and t.last == len(self.frames) - 1
            self.result.findings.append(
                RawFinding(
                    fid,
                    "manipulation",
                    f"A region with {what} than the rest, {span['start_s']:.2f}-"
                    f"{span['end_s']:.2f} s",
                    f"In {len(t.hits)} sampled frames ({'the whole clip' if whole else 'a run'} "
                    f"of them) the area at {box} has {what} than the rest of the frame, in "
                    f"the same place or moving smoothly: as where {source} was composited "
                    "in. A smooth object (sky, a wall, out-of-focus areas) or a graphic "
                    "burnt in by the camera app can do this too.",
                    span
                    | {
                        "box": box,
                        "kind": t.kind,
                        "samples": len(t.hits),
                        "median_z": round(score, 2),
                        "median_log_ratio": round(value, 3),
                    },
                    strength=float(min(1.3, 0.6 + 0.05 * score + 0.03 * len(t.hits))),
                )
            )
            self.spans.append(span | {"box": box, "kind": t.kind, "samples": t.first})

    def faces(self) -> None:
        from triage.video import tracks as tk

        tracks = tk.face_tracks([f.faces for f in self.frames], [f.face_stats for f in self.frames])
        self.result.metrics["face_tracks"] = len(tracks)
        for tr in tracks:
            if len(tr) < 6:
                continue
            for key in ("noise_log_ratio", "sharp_log_ratio"):
                seg = tk.step_segment(np.array([d[key] for _, _, d in tr]))
                if seg is None or seg["z"] < FACE_STEP_Z or abs(seg["diff"]) < FACE_STEP_LOG:
                    continue
                a, b = tr[seg["start"]][0], tr[seg["end"] - 1][0]
                span = self._span(a, b)
                box = self._box(tr[seg["start"]][1], 1.0 / self.samples.scale)
                measure = "noise level" if key == "noise_log_ratio" else "sharpness"
                self.result.findings.append(
                    RawFinding(
                        "frames.face_inconsistent",
                        "manipulation",
                        f"A face's {measure} jumps against its surroundings, "
                        f"{span['start_s']:.2f}-{span['end_s']:.2f} s",
                        f"A face tracked over {len(tr)} sampled frames changes its {measure} "
                        "relative to the picture around it during this span and back: as when "
                        "a face is replaced for part of a clip. Motion blur, refocusing and "
                        "the face turning away also change it, usually gradually.",
                        span
                        | {
                            "box": box,
                            "measure": key,
                            "step": round(seg["diff"], 3),
                            "step_z": round(seg["z"], 2),
                        },
                    )
                )
                self.spans.append(span | {"box": box, "kind": "face", "samples": a})
                break

    def temporal(self) -> None:
        corr = np.array([f.next_corr for f in self.frames], float)
        corr = corr[np.isfinite(corr)]
        motion = float(np.median(self.stream.diff)) if len(self.stream.diff) else 0.0
        self.result.metrics["noise_temporal_correlation"] = (
            round(float(np.median(corr)), 4) if len(corr) else None
        )
        if len(corr) < 4:
            self.result.not_checked.append("temporal noise: too few consecutive frame pairs")
            return
        med = float(np.median(corr))
        if med >= TEMPORAL_CORR and motion >= 1.0:
            self.result.findings.append(
                RawFinding(
                    "frames.noise_temporal_correlation",
                    "synthetic",
                    "The noise is not independent from frame to frame",
                    f"On flat areas, after removing the motion, the noise residuals of "
                    f"consecutive frames correlate at {med:.2f} (median of {len(corr)} pairs), "
                    "while a camera's sensor noise is drawn afresh for every frame. Generated "
                    "video and heavy temporal denoising do this; so does an encoder that "
                    "copies blocks between frames at very low bitrates.",
                    {"median_correlation": round(med, 3), "pairs": len(corr)},
                    strength=float(min(1.3, 0.6 + (med - TEMPORAL_CORR) * 2)),
                )
            )

    def metrics(self) -> None:
        s = self.samples
        self.result.metrics.update(
            {
                "frames_sampled": len(s.frames),
                "frame_budget": s.budget,
                "sample_step": s.step,
                "work_size": list(s.work_size),
                "block": s.block,
                "maps": sorted(s.frames[0].maps) if s.frames else [],
                "faces_detected": sum(len(f.faces) for f in s.frames),
                "spans": self.spans,
            }
        )


def _artifacts(
    ctx: Context, stream: Any, samples: Any, result: AnalyzerResult, spans: list[dict[str, Any]]
) -> None:
    from triage.video import timeline as tl

    duration = max(float(stream.frame_time[-1]) if len(stream.frame_time) else 0.0, 1e-3)
    bar = tl.span_bar([(s["start_s"], s["end_s"], s["kind"]) for s in spans], duration)
    result.artifacts.append(
        Artifact("frame_spans", "Timeline of flagged spans", ctx.png(bar), contains_pixels=False)
    )
    if ctx.no_pixels:
        return
    sheet = tl.sampled_strip(
        [(f.time, f.thumb) for f in samples.frames],
        [(s["start_s"], s["end_s"], s["box"]) for s in spans],
        (stream.width, stream.height),
    )
    result.artifacts.append(
        Artifact("frame_thumbnails", "Sampled frames with flagged regions", ctx.png(sheet))
    )
