"""Local tamper detector: a model trained here on edits of real photos.

Wraps :mod:`triage.forensics.blockfeatures` and the lightgbm model in
``triage/data/models/tamper.txt`` (trained by ``python -m triage.train tamper``; its
manifest holds the data, seed and held-out figures). The model scores every tile
(4 x 4 JPEG blocks on the file's own grid) for "this does not look like the rest of
this photo"; the analyzer reports the image-level score, the regions above the
region threshold and a heatmap.

Size policy: the features need the file's own 8x8 grid, so the image is read at
native resolution, but on large images only every ``step``-th block row and column
is transformed (tiles of ``32 * step`` px, see
:func:`triage.forensics.blockfeatures.stride_for`): the work stays near that of a
2.5 MP image and the whole frame is examined.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Artifact, Context, RawFinding
from triage.report import Question

if TYPE_CHECKING:
    import numpy as np

    from triage.media import Media

MIN_SIDE = 256
DEFAULT_THRESHOLD = 0.5
MODEL = "tamper.txt"


@cache
def load_model() -> tuple[list[Any], dict[str, Any], list[Any] | None]:
    """The shipped tile boosters (one per ensemble member), the manifest and the
    members' second-stage image boosters (None for a model without them), loaded once
    per process."""
    import lightgbm as lgb

    models = resources.files("triage.data").joinpath("models")
    manifest = json.loads(models.joinpath("tamper.manifest.json").read_text("utf-8"))
    stage = manifest.get("image_model") or {}
    members = manifest.get("members") or [{"tile_model": MODEL, "image_model": stage.get("file")}]

    def booster(name: str) -> Any:
        return lgb.Booster(model_str=models.joinpath(name).read_text("utf-8"))

    boosters = [booster(m["tile_model"]) for m in members]
    with_image = all(m.get("image_model") for m in members)
    image_models = [booster(m["image_model"]) for m in members] if with_image else None
    return boosters, manifest, image_models


class TamperAnalyzer(Analyzer):
    name = "tamper"
    version = "4.7"
    questions: ClassVar[tuple[Question, ...]] = ("manipulation",)
    kinds = ("image",)
    description = "Learned local tamper detector over per-tile block features (trained here)."
    finding_ids: ClassVar[tuple[str, ...]] = ("tamper.local_region",)
    metrics_title = "the tamper model's reading of the whole image"

    def available(self) -> str | None:
        try:
            import lightgbm  # noqa: F401
        except ImportError:
            return "lightgbm is not installed (pip install lightgbm)"
        return None

    def preload(self) -> None:
        load_model()

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        import numpy as np

        from triage.analyzers.common import (
            adaptive_codec,
            declined_as_graphic,
            framed_photo,
            note_framed_photo,
        )
        from triage.forensics.blockfeatures import (
            image_score,
            reads_content,
            rgb_tile_features,
            stride_for,
        )
        from triage.forensics.tampermap import ensemble_map, peak_region, refined_region

        result = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if min(w, h) < MIN_SIDE:
            result.skipped_reason = f"image too small for the tamper model ({w}x{h})"
            return result
        codec = adaptive_codec(media)
        if codec is not None:
            result.skipped_reason = (
                f"{codec}: its codec smooths and quantizes each region by its own rule, "
                "which the tamper model, trained on JPEG copies, reads as a region unlike "
                "the rest (unedited photos as such copies read as edited 2-4 times as "
                "often as JPEG copies)"
            )
            return result
        # A photo in a screenshot's frame is compared with itself: the flat interface
        # around it is unlike any photo, and the model would say so.
        box = framed_photo(media, MIN_SIDE)
        if declined_as_graphic(media, result, "the tamper model's block statistics"):
            return result
        boosters, manifest, image_models = load_model()
        rgb = media.rgb
        x0, y0 = (box[0], box[1]) if box is not None else (0, 0)
        if box is not None:
            rgb = rgb[box[1] : box[3], box[0] : box[2]]
        step = stride_for(*rgb.shape[:2])
        table: list[int] | tuple[int, ...] | None = _luma_table(media)
        if media.format != "jpeg":
            # Read as the JPEG it was, when it was one: on that grid, with that table.
            (sy, sx), table = _lossless_reading(media, box, step)
            rgb, x0, y0 = rgb[sy:, sx:], x0 + sx, y0 + sy
        h, w = rgb.shape[:2]
        content = reads_content(boosters[0].num_feature())
        form = int(manifest.get("block_features", 1))
        feats = rgb_tile_features(rgb, table, step=step, content=content, form=form)
        tile = feats.tile
        r, c, f = feats.values.shape
        rows = feats.values.reshape(-1, f)
        maps = [b.predict(rows).reshape(r, c).astype(np.float32) for b in boosters]
        prob = ensemble_map(maps)
        score, threshold, region_threshold = _score_and_regions(maps, prob, manifest, image_models)
        result.examined = {"manipulation": 1.0}
        hot = peak_region(prob, region_threshold)
        # Its border at the block level (the map interpolated between tile centres).
        fine = refined_region(prob, hot, region_threshold)
        result.metrics = {
            "model_version": manifest.get("version"),
            "image_score": round(score, 4),
            "map_max3": round(image_score(prob), 4),
            "max_prob": round(float(prob.max()), 4) if prob.size else 0.0,
            "area": round(float(hot.mean()), 4) if prob.size else 0.0,
            "tiles": int(r * c),
            "tile": tile,
            "block_stride": feats.step,
            # Image position of the first tile: a lossless picture is read on the grid
            # of its earlier JPEG compression when one shows.
            "read_from": [x0, y0],
            "threshold": threshold,
            "region_threshold": round(region_threshold, 4),
            "region_tiles": int(hot.sum()),
            "p99_tile": round(float(np.quantile(prob, 0.99)), 4) if prob.size else 0.0,
        }
        if box is not None:
            note_framed_photo(result, box)
        if score >= threshold:
            result.findings.append(
                _finding(
                    prob,
                    (hot, fine),
                    score,
                    (threshold, region_threshold),
                    tile,
                    (w, h),
                    (x0, y0),
                    framed=box is not None,
                )
            )
        if ctx.want_artifacts and prob.size:
            result.artifacts.append(
                Artifact(
                    kind="tamper_map",
                    title=(
                        f"Tamper model: probability per {tile}-px tile (bright = unlike the rest)"
                    ),
                    png=ctx.png(_heatmap(prob, rgb)),
                )
            )
        return result


def _score_and_regions(
    maps: list[np.ndarray],
    prob: np.ndarray,
    manifest: dict[str, Any],
    image_models: list[Any] | None,
) -> tuple[float, float, float]:
    """(image score, its threshold, region threshold) of the members' tile maps and
    their mean ``prob``.

    From model v4 on, the image score is the second-stage model over the map's
    statistics and the region threshold is relative to the photo's own map (see
    :mod:`triage.forensics.tampermap`); from 4.3 on, both over an ensemble (the mean of
    the members' image scores; regions on their mean map). Before v4, the tile-map
    rule and one fixed region threshold.
    """
    from triage.forensics.blockfeatures import image_score
    from triage.forensics.tampermap import ensemble_probability, relative_threshold

    held = manifest.get("held_out", {})
    if image_models is not None:
        score = ensemble_probability(maps, image_models)
        threshold = float(held.get("image_threshold", DEFAULT_THRESHOLD))
        return score, threshold, relative_threshold(prob, float(held["region_fraction"]))
    score = image_score(prob, str(held.get("score_rule", "max3")))
    threshold = float(held.get("threshold", DEFAULT_THRESHOLD))
    return score, threshold, float(held.get("region_threshold", threshold))


def _lossless_reading(
    media: Media, box: tuple[int, int, int, int] | None, step: int
) -> tuple[tuple[int, int], tuple[int, ...] | None]:
    """:func:`triage.forensics.blockfeatures.lossless_reading` of a file, with the
    compression analyzer's phase scan and block transform (computed once per file)."""
    from triage.analyzers.common import phase_scan_of
    from triage.forensics.blockfeatures import lossless_reading

    def coeffs(grid: tuple[int, int], stride: int) -> np.ndarray:
        return media.block_dct(*grid, terms=21, row_step=stride, col_step=stride)

    return lossless_reading(media.luma, box, step, phase_scan_of(media), coeffs)


def _luma_table(media: Media) -> list[int] | None:
    """The file's luma quantization table (natural order), None when not a JPEG."""
    if media.format != "jpeg":
        return None
    try:
        tables = getattr(media.pil_header, "quantization", None) or {}
    except Exception:  # a damaged header: the lattice features fall back to a default
        return None
    table = tables.get(0)
    return list(table) if table is not None and len(table) == 64 else None


def _finding(
    prob: np.ndarray,
    regions: tuple[np.ndarray, np.ndarray],
    score: float,
    thresholds: tuple[float, float],
    tile: int,
    size: tuple[int, int],
    origin: tuple[int, int] = (0, 0),
    framed: bool = False,
) -> RawFinding:
    """The finding for a map whose score passed the threshold. ``regions`` is the
    peak region on the tile grid and the same region refined on the block grid
    (:func:`triage.forensics.tampermap.refined_region`); ``origin`` is the image
    position of the map's first tile, ``size`` the pixels read from there; ``framed``:
    the map covers a photo inside a frame, not the whole image."""
    import numpy as np

    hot, fine = regions
    w, h = size
    threshold, _ = thresholds
    cell = tile * hot.shape[0] // fine.shape[0] if fine.shape[0] else tile
    ox, oy = origin
    boxes, described = [], []
    if fine.any():
        ys, xs = np.nonzero(fine)
        box = [
            ox + int(xs.min()) * cell,
            oy + int(ys.min()) * cell,
            ox + min(w, (int(xs.max()) + 1) * cell),
            oy + min(h, (int(ys.max()) + 1) * cell),
        ]
        boxes.append(box)
        described.append(
            {
                "box": box,
                "tiles": int(hot.sum()),
                "mean_probability": round(float(prob[hot].mean()), 3) if hot.any() else 0.0,
            }
        )
    area = float(fine.sum()) * cell * cell / float(w * h)
    # 0.5 at the threshold (chosen for 5% of unedited held-out photos), rising with
    # the model's own confidence, capped at 1.5.
    strength = min(1.5, max(0.3, 0.5 + (score - threshold) / max(0.05, 1 - threshold)))
    return RawFinding(
        id="tamper.local_region",
        question="manipulation",
        title="Region that the tamper model finds unlike the rest of the photo",
        detail=(
            f"The local tamper model scores a region of about {area:.1%} of the "
            f"{'photo inside the frame' if framed else 'image'} at "
            f"{score:.2f} (threshold {threshold:.2f}). It was trained on splices, copy-moves, "
            "removals, retouches and overlays made from real photos and re-saved as "
            "platforms do; strong local filters, HDR tone mapping and text also raise it."
        ),
        evidence={
            "boxes": boxes,
            "area_fraction": round(area, 4),
            "image_score": round(score, 4),
            "regions": described,
        },
        strength=round(strength, 3),
    )


def _heatmap(prob: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    import cv2
    import numpy as np

    h, w = rgb.shape[:2]
    heat = cv2.resize((prob * 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    colour = cv2.cvtColor(cv2.applyColorMap(heat, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
    grey = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(grey, 0.35, colour, 0.65, 0)
