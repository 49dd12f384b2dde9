"""Image evidence on sampled video frames, aggregated over time.

The frames are sampled and reduced to block maps inside the one streaming pass
(:mod:`triage.video.sampled`, shared with the ``video`` analyzer through
:func:`triage.video.stream.shared_stream`); this analyzer reads those maps:

* regions whose noise level or block grid differs from the rest of the frame,
  linked across consecutive samples into one event with a time span and a box
  (:mod:`triage.video.tracks`);
* detected faces tracked across samples, whose noise or sharpness against their
  surroundings steps during part of the clip;
* the correlation of the noise residuals across keyframe boundaries (sensor noise
  is independent between exposures; much generated video's is not; the boundary
  is where the codec cannot copy blocks and make it look dependent).

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
# Median residual correlation across keyframe boundaries (the frame before an
# intra-coded frame against it, flat areas, motion removed) above which the noise is
# not independent between frames. Generated pans, card: sensor noise <= 0.08 at
# crf 18-35; noise moving with the content 0.74 (crf 23) and 0.84 (crf 18); a still
# SMPTE test pattern 0.60 (no motion, so no finding either way).
TEMPORAL_CORR = 0.65
MIN_KEY_PAIRS = 3
FACE_STEP_Z = 4.0
# A keyframe's grid region followed in time: the box's median grid z must step up
# by this much against the rest of the clip, at this step z.
GRID_STEP = 1.0
GRID_STEP_Z = 4.0
FACE_STEP_LOG = 0.5
# A tracked box's edge band whose noise ratio jumps from sample to sample this many
# times more than its inside does, by at least EDGE_SPREAD in log ratio.
FLICKER = 3.0
EDGE_SPREAD = 0.15

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
        "frames.tamper_region",
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
        if samples.tamper_note:
            result.not_checked.append(samples.tamper_note)
        a = _Aggregate(stream, samples, result)
        a.regions()
        a.grid_over_time()
        a.tamper()
        a.faces()
        a.temporal()
        a.frame_stats()
        a.metrics()
        share = 1.0 if stream.decoded_all else 0.5
        result.examined = {"manipulation": 0.6 * share, "synthetic": 0.3 * share}
        if ctx.want_artifacts:
            _artifacts(ctx, stream, samples, result, a.spans, media.orientation)
        return result


class _Aggregate:
    def __init__(self, stream: Any, samples: Any, result: AnalyzerResult) -> None:
        self.stream, self.samples, self.result = stream, samples, result
        self.frames = samples.frames
        # block units -> original frame pixels
        self.px = samples.block / samples.scale
        self.spans: list[dict[str, Any]] = []
        self._dets: list[Any] = []  # per-frame detections of the block maps

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
        self._dets = dets
        evs = tk.events(
            tk.link(dets), len(self.frames), [f.key for f in self.frames], self.samples.gop_of()
        )
        for t in evs[:MAX_EVENTS]:
            what, source = _KIND_TEXT[t.kind]
            span = self._span(t.first, t.last)
            box = self._box(t.box(), self.px)
            fid = "frames.region_compression" if t.kind == "blocking" else "frames.region_noise"
            score = float(np.median([h.score for h in t.hits]))
            value = float(np.median([h.value for h in t.hits]))
            whole = t.first == 0 and t.last == len(self.frames) - 1
            over_time = self._over_time(t)
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
                        "over_time": over_time,
                    },
                    strength=float(min(1.3, 0.6 + 0.05 * score + 0.03 * len(t.hits))),
                )
            )
            self.spans.append(span | {"box": box, "kind": t.kind, "samples": t.first})

    def _over_time(self, t: Any) -> dict[str, Any]:
        """The tracked region against the rest of its frame, inside its span and at
        the same place outside it, per block map (median level in the map's unit:
        log ratio for noise, log10 for sharpness, log for the grid, chroma units):
        an edit shown for a while differs inside the span only, a smooth object of
        the scene where it is seen from the start."""
        from triage.video import tracks as tk

        at = {h.sample: h.box for h in t.hits}
        hit = sorted(at)
        nearest = [hit[int(np.argmin([abs(k - i) for k in hit]))] for i in range(len(self.frames))]
        boxes = [at[k] for k in nearest]
        span = np.zeros(len(self.frames), bool)
        span[t.first : t.last + 1] = True
        out: dict[str, Any] = {"samples_outside": int((~span).sum())}
        for name in ("noise", "sharpness", "blocking", "cb", "cr"):
            maps = [f.maps.get(name) for f in self.frames]
            v = tk.box_series(maps, boxes, "level")["inside"]
            a, b = v[span & np.isfinite(v)], v[~span & np.isfinite(v)]
            out[name] = [
                round(float(np.median(a)), 3) if a.size else None,
                round(float(np.median(b)), 3) if b.size else None,
            ]
        return out

    def grid_over_time(self) -> None:
        """A block grid of its own in an intra-coded frame, followed through the clip.

        A predicted frame re-codes a pasted region against its reference, so its
        grid shows clearly in the keyframes only (replaced-region clip: 9-12 blocks
        at z >= 4 in the keyframes, 0-2 in the predicted frames between them): too
        few samples for a per-frame track. Here each grid region seen in an
        intra-coded sample is a box fixed in the frame (as an editor overlay is);
        how much the box's grid stands out from its frame is read in every sample,
        and the span where it steps up against the rest of the clip is the event.
        """
        from triage.video import tracks as tk

        if any(s["kind"] == "blocking" for s in self.spans):
            return
        seeds: list[Any] = []
        for d in sorted(self._dets, key=lambda d: -d.score):
            if d.kind != "blocking" or not self.frames[d.sample].key:
                continue
            if all(tk.iou(d.box, o.box) < 0.3 for o in seeds):
                seeds.append(d)
        maps = [f.maps.get("blocking") for f in self.frames]
        for d in seeds[:MAX_EVENTS]:
            series = tk.box_series(maps, d.box)["inside"]
            ok = np.isfinite(series)
            seg = tk.step_segment(series[ok]) if ok.sum() >= 6 else None
            if seg is None or seg["z"] < GRID_STEP_Z or seg["diff"] < GRID_STEP:
                continue
            where = np.flatnonzero(ok)
            first, last = int(where[seg["start"]]), int(where[seg["end"] - 1])
            if not first <= d.sample <= last:
                continue
            inside = series[first : last + 1]
            keys = [i for i in range(first, last + 1) if self.frames[i].key]
            span = self._span(first, last)
            box = self._box(d.box, self.px)
            self.result.findings.append(
                RawFinding(
                    "frames.region_compression",
                    "manipulation",
                    f"A region with a block grid of its own, {span['start_s']:.2f}-"
                    f"{span['end_s']:.2f} s",
                    f"In the keyframe at {self.frames[d.sample].time:.2f} s the area at "
                    f"{box} carries an 8-px block grid of its own, and over the sampled "
                    f"frames its grid stands out from the rest of the frame during "
                    f"this span only (by {seg['diff']:.1f} robust z, step z "
                    f"{seg['z']:.1f}): as where a separately compressed picture is shown "
                    "for a while. Burnt-in text or a tiled graphic that appears for a "
                    "while can do this too.",
                    span
                    | {
                        "box": box,
                        "kind": "blocking",
                        "method": "step_in_time",
                        "samples": last - first + 1,
                        "keyframes_in_span": len(keys),
                        "step": round(seg["diff"], 3),
                        "step_z": round(seg["z"], 2),
                        "median_z_inside_span": round(float(np.nanmedian(inside)), 2),
                    },
                    strength=float(min(1.2, 0.6 + 0.05 * seg["z"])),
                )
            )
            self.spans.append(span | {"box": box, "kind": "blocking", "samples": first})
            return

    def tamper(self) -> None:
        """The tamper model's regions on the frames it read, linked over time.

        Only samples that carry a tile map take part; a region must hold over a
        run of them (and in an intra-coded one when the run holds any), so one
        frame's texture or text does not make an event.
        """
        from triage.forensics.blockfeatures import image_score
        from triage.models import load_booster, tamper_thresholds
        from triage.video import tracks as tk

        idx = [i for i, f in enumerate(self.frames) if f.tamper is not None]
        self.result.metrics["tamper_frames"] = len(idx)
        if len(idx) < tk.MIN_HITS:
            return
        _, manifest = load_booster("tamper")
        thr, region_thr = tamper_thresholds(manifest)
        maps = [self.frames[i].tamper for i in idx]
        # As on a photo, regions are the tiles at or above the region threshold, and
        # they count when the picture's score reaches the image threshold: here in at
        # least one frame of the track (predicted frames score lower than keyframes).
        scores = [image_score(m) if m is not None and m.size else 0.0 for m in maps]
        dets = [
            d
            for j, m in enumerate(maps)
            if m is not None and m.size
            for d in tk.tamper_detections(j, m, region_thr)
        ]
        gops = self.samples.gop_of()
        evs = tk.events(
            tk.link(dets), len(idx), [self.frames[i].key for i in idx], [gops[i] for i in idx]
        )
        # Model-dependent facts stay in the findings: the metrics (and the golden
        # records of this analyzer) do not change when the tamper model is retrained.
        (ox, oy), tile = self.samples.tamper_origin, self._tile()
        weak = 0
        evs = [t for t in evs if max(scores[h.sample] for h in t.hits) >= thr]
        for t in evs[:MAX_EVENTS]:
            span = self._span(idx[t.first], idx[t.last])
            c0, r0, c1, r1 = t.box()
            box = self._box((c0 + ox / tile, r0 + oy / tile, c1 + ox / tile, r1 + oy / tile), tile)
            prob = float(np.median([h.value for h in t.hits]))
            outside = _outside_level(maps, t)
            # The model was trained on photos; on video frames it also fires on
            # text, graphics and compressed texture (corpus clips: docs card). Alone
            # it is weak evidence; it counts when a region event of the block maps
            # (noise, grid) agrees in place and time, or when the same place of the
            # frame scores low outside the span (content shown for a while only).
            agrees = self._agrees(span, box)
            contrast = outside is not None and outside < region_thr
            weak += 0 if agrees else 1
            if weak > 1:  # one unsupported tamper region per clip is enough to say
                continue
            strength = (
                min(1.2, 0.6 + (prob - (outside or 0.0)) * 0.5 + 0.03 * len(t.hits))
                if agrees
                else 0.35
            )
            where = (
                f"while the same place scores {outside:.2f} in the frames read outside it"
                if outside is not None
                else "over the whole clip, so it may as well be the scene's own content"
            )
            if agrees:
                where += "; a region of different noise or block grid agrees in place and time"
            self.result.findings.append(
                RawFinding(
                    "frames.tamper_region",
                    "manipulation",
                    f"The tamper model finds a region unlike the rest, {span['start_s']:.2f}-"
                    f"{span['end_s']:.2f} s",
                    f"In {len(t.hits)} of the {len(idx)} frames it read, the local tamper "
                    f"model scores the area at {box} at {prob:.2f} (regions from {region_thr:.2f}), "
                    f"{where}. The model was trained on edited photos, not video: on "
                    "authentic clips it fires on burnt-in text and graphics, test patterns "
                    "and finely textured areas after compression.",
                    span
                    | {
                        "box": box,
                        "kind": "tamper",
                        "samples": len(t.hits),
                        "frames_read": len(idx),
                        "median_probability": round(prob, 3),
                        "outside_probability": None if outside is None else round(outside, 3),
                        "contrast_in_time": bool(contrast),
                        "agrees_with_region": bool(agrees),
                        "threshold": thr,
                        "region_threshold": region_thr,
                        "model_version": manifest.get("version"),
                    },
                    strength=float(strength),
                )
            )
            self.spans.append(span | {"box": box, "kind": "tamper", "samples": len(t.hits)})

    def _agrees(self, span: dict[str, Any], box: list[int]) -> bool:
        """A region event already found overlaps this span and box."""
        from triage.video.tracks import iou

        for o in self.spans:
            if o["kind"] in ("face", "tamper"):
                continue
            overlap = min(o["end_s"], span["end_s"]) - max(o["start_s"], span["start_s"])
            if overlap >= 0 and iou(tuple(o["box"]), tuple(box)) >= 0.2:
                return True
        return False

    def _tile(self) -> int:
        from triage.forensics.blockfeatures import TILE

        return TILE

    def faces(self) -> None:
        from triage.video import tracks as tk

        tracks = tk.face_tracks([f.faces for f in self.frames], [f.face_stats for f in self.frames])
        self.result.metrics["face_tracks"] = len(tracks)
        for tr in tracks:
            if len(tr) < 6:
                continue
            for key in ("noise_log_ratio", "sharp_log_ratio"):  # else: edge flicker
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
            else:
                self._face_flicker(tr)

    def _face_flicker(self, tr: list[Any]) -> None:
        from triage.video import tracks as tk

        fl = tk.boundary_flicker(
            np.array([d.get("edge_log_ratio", np.nan) for _, _, d in tr]),
            np.array([d["noise_log_ratio"] for _, _, d in tr]),
        )
        self.result.metrics.setdefault("face_boundary_flicker", []).append(
            None if fl is None else round(fl["flicker"], 2)
        )
        if fl is None or fl["flicker"] < FLICKER or fl["edge_spread"] < EDGE_SPREAD:
            return
        span = self._span(tr[0][0], tr[-1][0])
        box = self._box(tr[len(tr) // 2][1], 1.0 / self.samples.scale)
        self.result.findings.append(
            RawFinding(
                "frames.face_inconsistent",
                "manipulation",
                f"The edge of a face flickers, {span['start_s']:.2f}-{span['end_s']:.2f} s",
                f"Over {len(tr)} sampled frames the noise in a band across the edge of a "
                f"tracked face jumps from frame to frame {fl['flicker']:.1f} times more than "
                "inside the face: as where a face is blended into each frame separately. "
                "Hair, fast motion and a busy background moving behind the face do this "
                "too.",
                span
                | {
                    "box": box,
                    "measure": "edge_flicker",
                    "flicker": round(fl["flicker"], 2),
                    "edge_spread": round(fl["edge_spread"], 3),
                    "inside_spread": round(fl["inside_spread"], 3),
                },
                strength=float(min(1.2, 0.5 + 0.1 * fl["flicker"])),
            )
        )
        self.spans.append(span | {"box": box, "kind": "face", "samples": tr[0][0]})

    def temporal(self) -> None:
        """Frame-to-frame noise dependence, measured where the codec cannot make it.

        The median correlation of consecutive sampled frames' residuals stays a
        metric only: at a low bitrate an encoder copies blocks between predicted
        frames, and a pan shot with fresh sensor noise reads 0.95-1.0 (libx264
        ultrafast crf 23, card). The finding reads the pairs that cross a keyframe
        boundary (the frame before an intra-coded frame against it), where no block
        can be copied: sensor noise reads <= 0.02 there at every bitrate measured,
        noise that moves with the content 0.74-0.84 at crf 18-23.
        """
        corr = np.array([f.next_corr for f in self.frames], float)
        corr = corr[np.isfinite(corr)]
        across = np.array(self.samples.key_pair_corr, float)
        motion = float(np.median(self.stream.diff)) if len(self.stream.diff) else 0.0
        self.result.metrics["noise_temporal_correlation"] = (
            round(float(np.median(corr)), 4) if len(corr) else None
        )
        self.result.metrics["noise_correlation_across_keyframes"] = (
            round(float(np.median(across)), 4) if len(across) else None
        )
        self.result.metrics["keyframe_pairs"] = len(across)
        if len(across) < MIN_KEY_PAIRS:
            self.result.not_checked.append(
                f"temporal noise: {len(across)} frame pairs across a keyframe boundary "
                f"(needs {MIN_KEY_PAIRS})"
            )
            return
        med = float(np.median(across))
        if med >= TEMPORAL_CORR and motion >= 1.0:
            self.result.findings.append(
                RawFinding(
                    "frames.noise_temporal_correlation",
                    "synthetic",
                    "The noise is not independent from frame to frame",
                    f"On flat areas, after removing the motion, the noise residual of the "
                    f"frame before each keyframe and of the keyframe itself correlate at "
                    f"{med:.2f} (median of {len(across)} keyframe boundaries), while a "
                    "camera's sensor noise is drawn afresh for every frame, and a keyframe "
                    "is coded from its own picture (the encoder cannot copy blocks into "
                    "it). Generated video whose fine texture moves with the content does "
                    "this; so does heavy temporal denoising, or a still picture animated "
                    "by a pan.",
                    {
                        "median_correlation": round(med, 3),
                        "keyframe_pairs": len(across),
                        "consecutive_median": round(float(np.median(corr)), 3)
                        if len(corr)
                        else None,
                    },
                    strength=float(min(1.3, 0.6 + (med - TEMPORAL_CORR) * 2)),
                )
            )

    def frame_stats(self) -> None:
        """Median and spread over the clip of each per-frame whole-picture statistic
        (:data:`triage.video.sampled.FRAME_STATS`)."""
        names = sorted({k for f in self.frames for k in f.stats})
        for name in names:
            v = np.array([f.stats[name] for f in self.frames if name in f.stats], float)
            v = v[np.isfinite(v)]
            if len(v):
                self.result.metrics[f"frame_stat.{name}"] = {
                    "median": round(float(np.median(v)), 4),
                    "iqr": round(float(np.subtract(*np.quantile(v, [0.75, 0.25]))), 4),
                    "frames": len(v),
                }

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


def _outside_level(maps: list[Any], track: Any) -> float | None:
    """Median over the frames read outside a track's span of the mean probability in
    the track's box (frame coordinates); None when the track spans them all."""
    c0, r0, c1, r1 = track.box()
    vals = [
        float(np.mean(m[r0:r1, c0:c1]))
        for j, m in enumerate(maps)
        if (j < track.first or j > track.last) and m is not None and m[r0:r1, c0:c1].size
    ]
    return float(np.median(vals)) if vals else None


def _artifacts(
    ctx: Context,
    stream: Any,
    samples: Any,
    result: AnalyzerResult,
    spans: list[dict[str, Any]],
    orientation: int | None,
) -> None:
    from triage.video import timeline as tl

    duration = max(float(stream.frame_time[-1]) if len(stream.frame_time) else 0.0, 1e-3)
    bar = tl.span_bar(
        [(s["start_s"], s["end_s"], s["kind"]) for s in spans],
        duration,
        [(f.time, f.key) for f in samples.frames],
    )
    result.artifacts.append(
        Artifact("frame_spans", "Timeline of flagged spans", ctx.png(bar), contains_pixels=False)
    )
    if ctx.no_pixels:
        return
    sheet = tl.sampled_strip(
        [(f.time, f.thumb) for f in samples.frames],
        [(s["start_s"], s["end_s"], s["box"]) for s in spans],
        (stream.width, stream.height),
        orientation=orientation,
    )
    result.artifacts.append(
        Artifact("frame_thumbnails", "Sampled frames with flagged regions", ctx.png(sheet))
    )
