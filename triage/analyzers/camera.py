"""Camera-likeness of the pixels, learned from real photos only (``synthetic``).

Wraps :mod:`triage.forensics.camera` and the model in ``triage/data/models/camera.npz``
(``python -m triage.train camera``; data, seed and held-out figures in its manifest).
Two readings:

- the whole image: the coding cost of a lossless predictor fitted on real photos
  against the cost expected for the content (ZED, Cozzolino et al. 2024), at two
  scales, and the noise-level function (Liu et al. 2006); their one-class distance
  from real photos is reported as metrics only (measured near chance once files are
  re-saved, see the card), never as a finding;
- regions: tiles that are smoother and more predictable than the rest of the same
  photo (no sensor noise where the rest has it), reported with their box.

Size policy: the whole-image statistics read a centred window of at most 512 x 512
native pixels (sensor noise lives at the pixel scale); the region search reads the
shared reduced copy (long side at most 1024 px), so it covers the whole image.
Works the same on PNG and JPEG: nothing here reads the file format.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.analyzers.common import camera_planes, declined_as_palette
from triage.report import Question

if TYPE_CHECKING:
    import numpy as np

    from triage.forensics.camera import CodingModel, Fusion, RegionMaps
    from triage.media import Media

MIN_SIDE = 128
REGION_SIDE = 1024
REGION_TILE = 32
# Robust z (in MADs of the photo's own tiles) a region must reach on both statistics.
REGION_Z = 6.0
REGION_MIN_TILES = 6
REGION_MAX_SHARE = 0.4


@cache
def load() -> tuple[CodingModel, Fusion, dict[str, Any]]:
    """The shipped model, fusion and manifest, loaded once per process."""
    import json
    from importlib import resources

    from triage.forensics.camera import shipped_model

    model, fusion = shipped_model()
    text = resources.files("triage.data").joinpath("models", "camera.manifest.json")
    return model, fusion, json.loads(text.read_text("utf-8"))


class CameraAnalyzer(Analyzer):
    name = "camera"
    version = "1.1"
    questions: ClassVar[tuple[Question, ...]] = ("synthetic",)
    kinds = ("image",)
    finding_ids: ClassVar[tuple[str, ...]] = ("camera.smooth_region",)
    description = "Camera-likeness: coding cost and noise level against real photos (trained here)."

    def preload(self) -> None:
        load()

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        import numpy as np

        from triage.forensics.camera import FEATURE_NAMES, centre_window, features, region_maps

        result = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if min(w, h) < MIN_SIDE:
            result.skipped_reason = f"image too small for the camera statistics ({w}x{h})"
            return result
        if declined_as_palette(media, result, "a camera's noise and coding cost"):
            return result
        model, fusion, manifest = load()
        x0, y0, x1, y1 = centre_window(h, w)
        # A crop of the shared decode: no full-size array is made for 512 x 512 pixels.
        rgb = np.asarray(media.image().crop((x0, y0, x1, y1)))
        feats = features(model, rgb)
        v = feats.vector()
        d2 = fusion.distance2(v)
        ref = float(fusion.d2_quantiles[-1])
        z = fusion.z(v)
        result.metrics = {
            "model_version": manifest.get("version"),
            "window": [x0, y0, x1, y1],
            "distance2": round(d2, 3),
            "distance_ratio": round(d2 / max(ref, 1e-9), 3),
            "coding_cost_z": round(float(z[FEATURE_NAMES.index("cc0_excess")]), 3),
            "coding_cost_half_z": round(float(z[FEATURE_NAMES.index("cc1_excess")]), 3),
            "noise_level_z": round(float(z[FEATURE_NAMES.index("nlf_level")]), 3),
            "noise_slope_z": round(float(z[FEATURE_NAMES.index("nlf_slope")]), 3),
            **{k: round(val, 4) for k, val in feats.values.items()},
        }
        # The whole-image distance is reported as metrics only: measured on generator
        # samples against held-out camera photos put through the same steps, it sits
        # near chance (AUC 0.50 after JPEG q90, docs/analyzers/camera.md), so it raises
        # no finding. Only the region comparison speaks, and only for a region.
        result.examined = {"synthetic": 0.2}
        result.not_checked.append(
            "whole-image camera-likeness is measured but not used as evidence: on its own "
            "it does not tell generated images from camera photos once both are re-saved"
        )
        gray = media.reduced_gray(REGION_SIDE)  # the luma of media.reduced(REGION_SIDE)
        if min(gray.shape) >= 4 * REGION_TILE:
            maps = region_maps(model, gray, REGION_TILE, planes=camera_planes(media, REGION_SIDE))
            found = smooth_region(maps)
            scale = w / float(gray.shape[1])
            if found is not None:
                result.findings.append(_region_finding(found, scale, (w, h)))
            result.metrics["region_tiles"] = int(maps.excess.size)
        return result


def smooth_region(maps: RegionMaps) -> tuple[tuple[int, int, int, int], float, int] | None:
    """The largest block of tiles smoother than the rest of the photo: (box in map
    pixels, smoother z of the box against the rest, tiles), or None."""
    import cv2
    import numpy as np

    from triage.forensics.camera import compare_region

    good = maps.weight >= 0.5
    if good.sum() < 16:
        return None

    def rz(a: np.ndarray) -> np.ndarray:
        med = float(np.median(a[good]))
        mad = 1.4826 * float(np.median(np.abs(a[good] - med)))
        return (a - med) / max(mad, 1e-3)

    s = np.minimum(-rz(maps.excess), -rz(maps.noise))
    mask = (good & (s >= 2.0)).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    tiles = int(stats[best, cv2.CC_STAT_AREA])
    if tiles < REGION_MIN_TILES or tiles > REGION_MAX_SHARE * good.sum():
        return None
    t = maps.tile
    bx, by = int(stats[best, cv2.CC_STAT_LEFT]), int(stats[best, cv2.CC_STAT_TOP])
    bw, bh = int(stats[best, cv2.CC_STAT_WIDTH]), int(stats[best, cv2.CC_STAT_HEIGHT])
    box = (bx * t, by * t, (bx + bw) * t, (by + bh) * t)
    cmp = compare_region(maps, box)
    if cmp.smoother_z < REGION_Z:
        return None
    return box, cmp.smoother_z, tiles


def _region_finding(
    found: tuple[tuple[int, int, int, int], float, int], scale: float, size: tuple[int, int]
) -> RawFinding:
    (x0, y0, x1, y1), sz, _ = found
    w, h = size
    box = [
        max(0, round(x0 * scale)),
        max(0, round(y0 * scale)),
        min(w, round(x1 * scale)),
        min(h, round(y1 * scale)),
    ]
    area = (box[2] - box[0]) * (box[3] - box[1]) / float(max(w * h, 1))
    strength = min(1.5, max(0.5, sz / (2 * REGION_Z)))
    return RawFinding(
        id="camera.smooth_region",
        question="synthetic",
        title="Region smoother and more predictable than the rest of the photo",
        detail=(
            f"A region of about {area:.0%} of the image lacks the sensor noise and "
            f"coding cost of the rest of the photo ({sz:.1f} robust deviations below it on "
            "both): what a generated or smoothed patch pasted onto a camera photo looks "
            "like. Skies, defocused backgrounds, skin after a beauty filter, and local "
            "denoising or retouching raise it too."
        ),
        evidence={"box": box, "area_fraction": round(area, 4), "smoother_z": round(sz, 2)},
        strength=round(strength, 3),
    )
