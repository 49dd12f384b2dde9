"""Noise inconsistency: regions whose sensor-like noise differs from the rest.

Wraps :mod:`triage.forensics.noise`. Size policy: runs on a downscale with the long
side at most ``WORK_SIDE`` pixels (block statistics survive downscaling; the ratio
between two noise levels is what matters), and maps boxes back to full resolution.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Artifact, Context, RawFinding
from triage.analyzers.common import (
    WORK_SIDE,
    declined_as_graphic,
    framed_photo,
    note_framed_photo,
    to_full,
    working_box,
    working_gray,
)
from triage.report import Question

if TYPE_CHECKING:
    from triage.media import Media

MIN_SIDE = 128


class NoiseAnalyzer(Analyzer):
    name = "noise"
    finding_ids = ("noise.inconsistent_region",)
    version = "1.3"
    questions: ClassVar[tuple[Question, ...]] = ("manipulation",)
    kinds = ("image",)
    description = "Local noise level per block (Immerkær residual); regions that stand out."
    metrics_title = "how much the noise level varies across the image"

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        from triage.forensics.noise import block_noise_map, heatmap, outlier_regions

        result = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if min(w, h) < MIN_SIDE:
            result.skipped_reason = f"image too small for noise statistics ({w}x{h})"
            return result
        if declined_as_graphic(media, result, "noise levels"):
            return result
        gray, scale = working_gray(media, WORK_SIDE)
        residual = media.noise_residual(WORK_SIDE)
        # A photo in a screenshot or under a meme's caption is compared with itself:
        # the interface's letters and icons have a "noise" of their own.
        box = framed_photo(media, MIN_SIDE)
        ox = oy = 0
        if box is not None:
            ox, oy, x1, y1 = working_box(box, scale, gray.shape)
            gray, residual = gray[oy:y1, ox:x1], residual[oy:y1, ox:x1]
        gh, gw = gray.shape
        block = 32 if max(gh, gw) >= 640 else 16
        nm = block_noise_map(gray, block, residual=residual)
        valid_share = float(nm.valid.mean()) if nm.valid.size else 0.0
        result.metrics = {
            "working_size": [gw, gh],
            "working_scale": round(1 / scale, 4),
            "block": block,
            "blocks_valid": int(nm.valid.sum()),
            "blocks_total": int(nm.valid.size),
            "median_sigma": round(nm.median_sigma, 3),
            "log_ratio_spread": round(nm.spread, 3),
        }
        if nm.valid.sum() < 16:
            result.skipped_reason = "too few usable blocks (image mostly flat or clipped)"
            return result
        result.examined = {"manipulation": round(min(1.0, valid_share), 3)}
        if box is not None:
            note_framed_photo(result, box)
        if valid_share < 0.9:
            result.not_checked.append(
                f"{1 - valid_share:.0%} of blocks are clipped or flat and were not compared"
            )
        regions = outlier_regions(nm)
        boxes = [
            to_full((b[0] + ox, b[1] + oy, b[2] + ox, b[3] + oy), scale, w, h)
            for b in (r.box for r in regions[:3])
        ]
        if regions:
            top = regions[0]
            area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes) / float(w * h)
            ratio = float(math.exp(abs(top.log_ratio)))
            strength = min(1.5, max(0.5, abs(top.z) / 8.0))
            result.findings.append(
                RawFinding(
                    id="noise.inconsistent_region",
                    question="manipulation",
                    title="Region with a different noise level",
                    detail=(
                        f"A region of about {area:.1%} of the image has {ratio:.1f}x "
                        f"{'more' if top.direction == 'higher' else 'less'} noise than the rest "
                        f"at the same brightness (robust z = {top.z:.1f}). Pasted or inpainted "
                        "areas do this; so do defocused, smoothed or heavily textured areas."
                    ),
                    evidence={
                        "boxes": boxes,
                        "area_fraction": round(area, 4),
                        "direction": top.direction,
                        "sigma_ratio": round(ratio, 3),
                        "z": round(top.z, 2),
                        "regions": [
                            {
                                "box": b,
                                "blocks": r.blocks,
                                "direction": r.direction,
                                "sigma_ratio": round(float(math.exp(r.log_ratio)), 3),
                                "z": round(r.z, 2),
                            }
                            for b, r in zip(boxes, regions[:3], strict=True)
                        ],
                        "working_scale": round(1 / scale, 4),
                        "block_px_full_res": round(block * scale, 1),
                    },
                    strength=round(strength, 3),
                )
            )
        if ctx.want_artifacts:
            art = heatmap(nm, (gh, gw), gray)
            result.artifacts.append(
                Artifact(
                    kind="noise_map",
                    title="Local noise level relative to the image (red more, blue less)",
                    png=ctx.png(art),
                )
            )
        return result
