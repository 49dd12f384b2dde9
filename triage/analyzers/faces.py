"""Faces that disagree with the rest of the photo (``synthetic``).

Portraits are the usual fabricated "leak": a generated or swapped face on a real
body. This analyzer finds frontal faces with the Haar cascade that ships in
opencv-python-headless (``cv2.data.haarcascades``), reads the camera-likeness
statistics of :mod:`triage.forensics.camera` (coding cost against the real-photo
model, sensor-noise level) per tile, and compares each face's tiles with the rest of
the same photo. A face much smoother and more predictable than its surroundings is
reported with its box.

Size policy: faces are found on a 640-px copy and compared on the shared reduced copy
(long side at most 1024 px); boxes are reported in the file's pixels. Without cascades in the
OpenCV build, the analyzer is unavailable. Finding no face says nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.analyzers.common import camera_planes
from triage.report import Question

if TYPE_CHECKING:
    from triage.forensics.camera import RegionComparison, RegionMaps
    from triage.media import Media

SIDE = 1024
DETECT_SIDE = 640  # the cascade runs on a smaller copy: it is most of the cost
TILE = 16
MIN_FACE = 48  # px on the reduced copy: smaller faces hold too few tiles
MAX_FACES = 4
# Robust z (MADs of the photo's other tiles) on both statistics.
FACE_Z = 4.0


class FacesAnalyzer(Analyzer):
    name = "faces"
    version = "1"
    questions: ClassVar[tuple[Question, ...]] = ("synthetic",)
    kinds = ("image",)
    finding_ids: ClassVar[tuple[str, ...]] = ("faces.face_unlike_rest",)
    description = "Faces whose noise and coding cost disagree with the rest of the photo."
    trait_words: ClassVar[dict[str, str]] = {"synthetic": "a face is in the picture"}

    def available(self) -> str | None:
        from triage.forensics.camera import _face_cascade

        if _face_cascade() is None:
            return "this OpenCV build ships no Haar cascades (cv2.data.haarcascades)"
        return None

    def preload(self) -> None:
        from triage.forensics.camera import _face_cascade, shipped_model

        _face_cascade()
        shipped_model()

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        import cv2
        import numpy as np

        from triage.forensics.camera import find_faces, region_maps, shipped_model

        result = AnalyzerResult()
        # The shared luma of media.reduced(SIDE) (integer-valued: exact as uint8).
        luma = media.reduced_gray(SIDE)
        rh, rw = luma.shape
        if min(rh, rw) < 4 * MIN_FACE:
            result.skipped_reason = f"image too small to look for faces ({rw}x{rh})"
            return result
        gray = luma.astype(np.uint8)
        f = min(1.0, DETECT_SIDE / float(max(rh, rw)))
        small = cv2.resize(gray, (round(rw * f), round(rh * f)), interpolation=cv2.INTER_AREA)
        faces = [
            (round(x0 / f), round(y0 / f), round(x1 / f), round(y1 / f))
            for x0, y0, x1, y1 in find_faces(small, max(24, round(MIN_FACE * f)))[:MAX_FACES]
        ]
        result.metrics = {"faces": len(faces), "side": max(rh, rw)}
        if not faces:
            result.not_checked.append("no frontal face found (profiles and small faces are missed)")
            return result
        model, _ = shipped_model()
        maps = region_maps(model, luma, TILE, planes=camera_planes(media, SIDE))
        result.examined = {"synthetic": 0.3}
        scale = (media.width or rw) / float(rw)
        rows = []
        for box in faces:
            cmp = face_comparison(maps, box)
            full = [round(c * scale) for c in box]
            rows.append(
                {
                    "box": full,
                    "excess_z": round(cmp.excess_z, 2),
                    "noise_z": round(cmp.noise_z, 2),
                    "smoother_z": round(cmp.smoother_z, 2),
                }
            )
            if cmp.smoother_z >= FACE_Z:
                result.findings.append(face_finding(full, cmp.smoother_z, cmp))
        result.metrics["face_comparisons"] = rows
        return result


def face_comparison(maps: RegionMaps, box: tuple[int, int, int, int]) -> RegionComparison:
    """The face's inner tiles against the rest (see :func:`compare_region`)."""
    from triage.forensics.camera import compare_region

    x0, y0, x1, y1 = box
    # The cascade box includes hair and background at its edges: keep the inner 70%.
    mx, my = (x1 - x0) * 0.15, (y1 - y0) * 0.15
    inner = (int(x0 + mx), int(y0 + my), int(x1 - mx), int(y1 - my))
    return compare_region(maps, inner)


def face_finding(box: list[int], z: float, cmp: RegionComparison) -> RawFinding:
    strength = min(1.5, max(0.5, z / (2 * FACE_Z)))
    return RawFinding(
        id="faces.face_unlike_rest",
        question="synthetic",
        title="Face smoother and more predictable than the rest of the photo",
        detail=(
            f"The face at {box} lacks the sensor noise and coding cost of the rest of the "
            f"photo ({z:.1f} robust deviations below it on both statistics): what a "
            "generated or swapped face on a camera photo looks like. Beauty filters, "
            "portrait modes that blur or smooth skin, and make-up retouching raise it too."
        ),
        evidence={
            "box": box,
            "smoother_z": round(z, 2),
            "excess_z": round(cmp.excess_z, 2),
            "noise_z": round(cmp.noise_z, 2),
        },
        strength=round(strength, 3),
    )
