"""Copy-move: a region cloned elsewhere in the same image (also scaled, rotated or
mirrored).

Wraps :mod:`triage.forensics.copymove`. Size policy: SIFT runs on a downscale with
the long side at most ``WORK_SIDE`` pixels (shared with the noise analyzer, so the
image is reduced once) (at most ``MAX_FEATURES`` keypoints); a picture smaller than
``MIN_WORK_SIDE`` (not a thumbnail under ``MIN_ENLARGE_SIDE``) is enlarged to it
instead; boxes and the transform's translation are mapped back to full resolution.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

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
    import numpy as np

    from triage.forensics.copymove import CloneMatch
    from triage.media import Media

MAX_FEATURES = 4000
MIN_SIDE = 64
# Pictures whose long side is below this are enlarged (bicubic) to it and examined
# there: a small copy (384 px from an image board) gives too few keypoints per clone
# to gather 8 matching pairs (issue 13; bench/copymove_small.py, chosen on its half A:
# 512 found as many as 640 or 800 at the lowest cost, 800 raised false alarms).
# 0 = never. Pictures at or above it are untouched (their output is unchanged).
MIN_WORK_SIDE = 512
# Thumbnails below this long side are not enlarged (so at most 2x): their few lines
# of repeated text fill the picture, the noise check's controls (the transform moved by
# 16 px, applied once more, beside the region) fall off it, and enlarged, its residual
# is interpolated glyphs more than noise. Measured on generated 96 x 64 fixtures with
# three text lines: enlarged 2x or 5.3x, 8 of 17 read the lines as a clone.
MIN_ENLARGE_SIDE = 256
# Also match every keypoint's mirrored descriptor, so that a clone pasted flipped
# (left-right or up-down) is found (version 1.5; bench/copymove_mirror.py). False: the
# analyzer before 1.5 (the bench's "before").
MIRRORS = True
# Decision thresholds (see docs/analyzers/copymove.md for how they were measured).
MIN_RESIDUAL_CORR = 0.25  # noise residuals must agree: a clone copies the noise
# Few inliers (8-11) are easier to gather by chance: then the noise must agree more.
FEW_INLIERS = 12
MIN_RESIDUAL_CORR_FEW = 0.5
# Natural mirror symmetry (a butterfly's wings, a face and its reflection in a window,
# a facade) is seen in perspective: its mirrored keypoints miss a (mirrored)
# similarity by far more than keypoint jitter (~0.3 px), while a region pasted flipped
# obeys one; and the fine texture of such symmetric halves agrees in the residual
# (net 0.30-0.51 on two such DEV photos of bench/copymove_repeats.py). A mirrored
# candidate seen in perspective (similarity misfit >= MIRROR_MISFIT_PX with F-test
# p < MIRROR_MISFIT_P) counts only with a net residual correlation of at least
# MIN_RESIDUAL_CORR_MIRROR_PERSPECTIVE. The three numbers are those measured for
# repeated architecture (docs/analyzers/copymove.md), not set anew. MIRROR_GEOMETRY
# False: no such rule (the bench's "nogeom").
MIRROR_GEOMETRY = True
MIRROR_MISFIT_PX = 0.3
MIRROR_MISFIT_P = 1e-4
MIN_RESIDUAL_CORR_MIRROR_PERSPECTIVE = 0.85


def accept(c: CloneMatch) -> tuple[bool, float]:
    """Whether a candidate counts as a clone, and the finding's strength.

    Only candidates whose noise residuals could be compared count: repeated text,
    logos and products match geometrically and in pixels, and only the noise tells a
    copy from a second rendering. Unmeasurable candidates stay in the metrics. A
    mirrored candidate seen in perspective needs its noise to agree much more
    (natural symmetry, see ``MIRROR_GEOMETRY``).
    """
    bar = MIN_RESIDUAL_CORR if c.inliers >= FEW_INLIERS else MIN_RESIDUAL_CORR_FEW
    perspective = c.misfit_px >= MIRROR_MISFIT_PX and c.misfit_p < MIRROR_MISFIT_P
    if MIRROR_GEOMETRY and c.mirrored and perspective:
        bar = max(bar, MIN_RESIDUAL_CORR_MIRROR_PERSPECTIVE)
    if math.isnan(c.residual_corr) or c.residual_corr < bar:
        return False, 0.0
    strength = 0.6 + 0.6 * min(1.0, c.residual_corr) + 0.2 * min(1.0, c.inliers / 60)
    return True, min(1.4, strength)


class CopyMoveAnalyzer(Analyzer):
    name = "copymove"
    finding_ids = ("copymove.cloned_region",)
    version = "1.5"
    questions: ClassVar[tuple[Question, ...]] = ("manipulation",)
    kinds = ("image",)
    description = (
        "Cloned regions (also flipped): SIFT self-matching and mirrored descriptors, "
        "RANSAC affine, noise-residual check."
    )

    def available(self) -> str | None:
        try:
            import cv2

            if not hasattr(cv2, "SIFT_create"):
                raise AttributeError("SIFT_create")
        except (ImportError, AttributeError):
            return "OpenCV with SIFT (opencv-python-headless >= 4.4) is not installed"
        return None

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        from triage.forensics.copymove import find_clones, overlay

        result = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if min(w, h) < MIN_SIDE:
            result.skipped_reason = f"image too small to look for cloned regions ({w}x{h})"
            return result
        # Charts and slides repeat their marks, icons and letters by design.
        # Keypoints survive a palette's colour steps: a GIF is still searched.
        if declined_as_graphic(media, result, "cloned regions", palette=False):
            return result
        gray, scale = working_image(media)
        gh, gw = gray.shape
        candidates, stats = find_clones(gray, max_features=MAX_FEATURES, mirror=MIRRORS)
        # In a screenshot or under a meme's caption, letters and icons repeat by design
        # (and a JPEG codes repeated letters alike): only clones in the photo count.
        box = framed_photo(media, MIN_SIDE)
        photo = None if box is None else working_box(box, scale, gray.shape)
        accepted = []
        for c in candidates:
            ok, strength = accept(c)
            if ok and (photo is None or _inside(c, photo)):
                accepted.append((c, strength))
        result.metrics = {
            "working_size": [gw, gh],
            "working_scale": round(1 / scale, 4),
            "keypoints": int(stats["keypoints"]),
            "matched_pairs": int(stats["matched_pairs"]),
            "mirrored_pairs": int(stats.get("mirrored_pairs", 0)),
            "candidates": [_describe(c, scale, w, h) for c in candidates[:3]],
        }
        # Few keypoints = little texture to match: the check saw only part of the image.
        seen = min(1.0, stats["keypoints"] / 300.0)
        result.examined = {"manipulation": round(seen, 3)}
        if box is not None:
            note_framed_photo(result, box)
        if seen < 1.0:
            result.not_checked.append(
                f"only {int(stats['keypoints'])} keypoints: smooth areas cannot be matched"
            )
        if accepted:
            boxes: list[list[int]] = []
            regions = []
            for c, _ in accepted[:3]:
                d = _describe(c, scale, w, h)
                boxes += [d["region_a"], d["region_b"]]
                regions.append(d)
            top, strength = accepted[0]
            area = _union_area(boxes) / float(w * h)
            d0 = regions[0]
            result.findings.append(
                RawFinding(
                    id="copymove.cloned_region",
                    question="manipulation",
                    title="A region appears twice (copy-move)",
                    detail=(
                        f"{top.inliers} matching keypoints map one region onto "
                        f"{'a mirror image of it' if top.mirrored else 'another'} "
                        f"{d0['shift_px']:.0f} px away (scale {top.scale:.2f}, rotation "
                        f"{top.rotation_deg:.1f}°), and their fine noise agrees "
                        f"(residual correlation {_fmt(top.residual_corr)}). Which of the two is "
                        "the copy cannot be told. Repeated objects rarely agree in noise; "
                        "duplicated graphics or burst/panorama stitching can."
                    ),
                    evidence={
                        "boxes": boxes,
                        "area_fraction": round(area, 4),
                        "clones": regions,
                        "working_scale": round(1 / scale, 4),
                    },
                    strength=round(strength, 3),
                )
            )
        if ctx.want_artifacts and accepted:
            import numpy as np

            rgb = np.asarray(media.reduced(WORK_SIDE))
            art = overlay(rgb, [c for c, _ in accepted[:3]], rgb.shape[1] / gw)
            result.artifacts.append(
                Artifact(
                    kind="copymove_overlay",
                    title="Matched regions (green: one copy, red: the other) and their matches",
                    png=ctx.png(art),
                )
            )
        return result


def working_image(media: Media) -> tuple[np.ndarray, float]:
    """The grey picture the analysis runs on (reduced to ``WORK_SIDE``, or a small
    picture enlarged to ``MIN_WORK_SIDE``) and the factor that maps its coordinates
    back to the file's pixels; the one size policy, for the analyzer and its benches."""
    gray, scale = working_gray(media, WORK_SIDE)
    gray, up = enlarged(gray, MIN_WORK_SIDE, MIN_ENLARGE_SIDE)
    return gray, scale / up


def enlarged(gray: np.ndarray, min_side: int, from_side: int) -> tuple[np.ndarray, float]:
    """``gray`` enlarged (bicubic) to a long side of ``min_side`` when its long side is
    at least ``from_side`` and below ``min_side``; and the factor applied (1.0:
    returned unchanged, the same array)."""
    import cv2
    import numpy as np

    h, w = gray.shape[:2]
    if not from_side <= max(h, w) < min_side:
        return gray, 1.0
    up = min_side / max(h, w)
    size = (max(1, round(w * up)), max(1, round(h * up)))
    out = cv2.resize(np.asarray(gray, np.float32), size, interpolation=cv2.INTER_CUBIC)
    # The factor actually applied along x (the scale the boxes are mapped back with).
    return out, size[0] / w


def _inside(c: CloneMatch, photo: tuple[int, int, int, int]) -> bool:
    """Whether both regions of a clone candidate have their centre in ``photo``
    (x0, y0, x1, y1, working pixels)."""
    x0, y0, x1, y1 = photo
    for bx0, by0, bx1, by1 in (c.source_box, c.target_box):
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        if not (x0 <= cx < x1 and y0 <= cy < y1):
            return False
    return True


def _fmt(v: float) -> str:
    return "not measurable" if math.isnan(v) else f"{v:.2f}"


def _describe(c: CloneMatch, scale: float, w: int, h: int) -> dict[str, Any]:
    m = c.transform
    return {
        "region_a": to_full(c.source_box, scale, w, h),
        "region_b": to_full(c.target_box, scale, w, h),
        "inliers": int(c.inliers),
        # Affine map from region a to region b in full-resolution pixels: the linear
        # part is scale-free, the translation scales with the image.
        "transform": [
            [round(float(m[0, 0]), 4), round(float(m[0, 1]), 4), round(float(m[0, 2]) * scale, 2)],
            [round(float(m[1, 0]), 4), round(float(m[1, 1]), 4), round(float(m[1, 2]) * scale, 2)],
        ],
        "scale": round(c.scale, 3),
        # Mirrored: the rotation is that after a left-right flip (up-down: 180).
        "mirrored": c.mirrored,
        "rotation_deg": round(c.rotation_deg, 2),
        "shift_px": round(c.shift * scale, 1),
        "pixel_corr": round(c.pixel_corr, 3),
        "residual_corr": None if math.isnan(c.residual_corr) else round(c.residual_corr, 3),
        # Working pixels: how far a similarity misses the matched points (perspective).
        "similarity_misfit_px": round(c.misfit_px, 2),
        "similarity_misfit_p": float(f"{c.misfit_p:.2g}"),
    }


def _union_area(boxes: list[list[int]]) -> float:
    import numpy as np

    if not boxes:
        return 0.0
    w = max(b[2] for b in boxes)
    h = max(b[3] for b in boxes)
    # Coarse raster at <= 512 px so that the area of overlapping boxes is not double counted.
    s = max(1.0, max(w, h) / 512.0)
    grid = np.zeros((int(h / s) + 1, int(w / s) + 1), bool)
    for x0, y0, x1, y1 in boxes:
        grid[int(y0 / s) : math.ceil(y1 / s), int(x0 / s) : math.ceil(x1 / s)] = True
    return float(grid.sum()) * s * s
