"""Resampling: periodic interpolation traces of resizing or rotation, per region.

Wraps :mod:`triage.forensics.resampling`. Size policy: resampling traces live at the
pixel scale, so this check cannot run on a downscale; it runs at native resolution on
at most ``MAX_PIXELS`` (a centred window on larger images) and says what it covered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.analyzers.common import (
    MAX_GRAPHIC_LEVELS,
    centred_window,
    count_grey_levels,
    declined_as_graphic,
    few_levels_reason,
    framed_photo,
    native_luma,
    note_framed_photo,
)
from triage.report import Question

if TYPE_CHECKING:
    import numpy as np

    from triage.media import Media

MAX_PIXELS = 1536 * 1536
MIN_SIDE = 128


class ResamplingAnalyzer(Analyzer):
    name = "resampling"
    finding_ids = (
        "resampling.region",
        "resampling.global",
    )
    version = "1.4"
    questions: ClassVar[tuple[Question, ...]] = ("manipulation",)
    kinds = ("image",)
    description = "Periodic interpolation traces (resize/rotate) per block; odd regions."
    metrics_title = "periodic resampling traces over the whole image"

    def preload(self) -> None:
        import scipy.fft  # noqa: F401

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        import numpy as np

        from triage.forensics.resampling import block_spectra, odd_regions

        result = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if min(w, h) < MIN_SIDE:
            result.skipped_reason = f"image too small for resampling analysis ({w}x{h})"
            return result
        # A photo in a screenshot's frame is compared with itself: it was resized, the
        # interface around it was not, and that difference is no edit.
        box = framed_photo(media, MIN_SIDE)
        if declined_as_graphic(media, result, "resampling traces"):
            return result
        if box is None:
            win = centred_window(w, h, MAX_PIXELS)
        else:
            bx, by, bw, bh = box[0], box[1], box[2] - box[0], box[3] - box[1]
            x0, y0, x1, y1 = centred_window(bw, bh, MAX_PIXELS)
            win = (bx + x0, by + y0, bx + x1, by + y1)
        luma = native_luma(media, None if win == (0, 0, w, h) else win)
        levels = count_grey_levels(luma)
        if levels <= MAX_GRAPHIC_LEVELS:
            # Line art, masks, charts in the window read (the whole image passed
            # declined_as_graphic): flat areas and hard edges give sharp spectral peaks
            # with no interpolation behind them (a binary mask read as strongly
            # resampled), and nothing calibrated this analyzer on such images.
            result.skipped_reason = few_levels_reason(levels, "resampling traces")
            return result
        gray = luma.astype(np.float32)
        gh, gw = gray.shape
        block = 128 if min(gh, gw) >= 512 else 64
        bs = block_spectra(gray, block)
        # The share of what could carry traces: the photo, when it sits in a frame.
        examinable = w * h if box is None else (box[2] - box[0]) * (box[3] - box[1])
        covered = (gw // block) * (gh // block) * block * block / float(examinable)
        result.metrics = {
            "scale": 1.0,
            "window": list(win),
            "block": block,
            "blocks": len(bs.origins),
            "covered_fraction": round(covered, 3),
            "global_peak_ratio": round(bs.global_score, 2),
            "global_peak_frequency": [round(float(v), 4) for v in bs.global_peak],
            "block_peak_p90": round(float(_p90(bs.score)), 2),
        }
        examined = covered
        if media.format == "jpeg":
            # JPEG after the edit erases most interpolation traces (even at quality 96).
            examined *= 0.5
            result.not_checked.append(
                "JPEG compression after an edit erases most resampling traces; "
                "a clean result on a JPEG says little"
            )
        if box is not None:
            note_framed_photo(result, box)
        elif covered < 0.95:
            result.not_checked.append(
                f"examined a native-resolution window covering {covered:.0%} of the image"
            )
        result.examined = {"manipulation": round(min(1.0, examined), 3)}
        ox, oy = win[0], win[1]
        regions = odd_regions(bs)
        if regions:
            boxes = [
                [r.box[0] + ox, r.box[1] + oy, min(w, r.box[2] + ox), min(h, r.box[3] + oy)]
                for r in regions[:3]
            ]
            top = regions[0]
            area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes) / float(w * h)
            result.findings.append(
                RawFinding(
                    id="resampling.region",
                    question="manipulation",
                    title="Region resampled differently from the rest",
                    detail=(
                        f"A region of about {area:.1%} of the image shows periodic interpolation "
                        f"traces (period {top.period:.2f} px, peak {top.score:.1f}x the spectrum's "
                        "median) that the rest of the image does not: typical of a pasted piece "
                        "that was resized or rotated. Regular textures (fabric, grids, halftone) "
                        "can also do this."
                    ),
                    evidence={
                        "boxes": boxes,
                        "area_fraction": round(area, 4),
                        "period_px": round(top.period, 3),
                        "frequency": [round(v, 4) for v in top.frequency],
                        "peak_ratio": round(top.score, 2),
                        "blocks": top.blocks,
                        "block_px": block,
                        "scale": 1.0,
                    },
                    strength=round(min(1.4, max(0.6, top.score / 10.0)), 3),
                )
            )
        elif bs.global_score >= GLOBAL_THRESHOLD:
            result.findings.append(
                RawFinding(
                    id="resampling.global",
                    question="manipulation",
                    title="Whole image shows resampling traces",
                    detail=(
                        "The image as a whole carries periodic interpolation traces "
                        f"(peak {bs.global_score:.1f}x the median): it was probably resized or "
                        "rotated. That is ordinary for shared images and not evidence of a "
                        "local edit by itself."
                    ),
                    evidence={
                        "peak_ratio": round(bs.global_score, 2),
                        "frequency": [round(float(v), 4) for v in bs.global_peak],
                        "scale": 1.0,
                    },
                )
            )
        return result


GLOBAL_THRESHOLD = 5.0


def _p90(values: np.ndarray) -> float:
    import numpy

    return float(numpy.percentile(values, 90)) if len(values) else 0.0
