"""Local tamper detector: a model trained here on edits of real photos.

Wraps :mod:`triage.forensics.blockfeatures` and the lightgbm model in
``triage/data/models/tamper.txt`` (trained by ``python -m triage.train tamper``; its
manifest holds the data, seed and held-out figures). The model scores every 32-px
tile for "this does not look like the rest of this photo"; the analyzer reports the
image-level score, the regions above the threshold and a heatmap.

Size policy: the features need the file's own 8x8 grid, so the image is read at
native resolution; above ``MAX_PIXELS`` a centred window of that size is examined
and the rest is reported as not checked.
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
MAX_PIXELS = 16_000_000
DEFAULT_THRESHOLD = 0.5
MODEL = "tamper.txt"


@cache
def load_model() -> tuple[Any, dict[str, Any]]:
    """The shipped booster and its manifest, loaded once per process."""
    import lightgbm as lgb

    models = resources.files("triage.data").joinpath("models")
    booster = lgb.Booster(model_str=models.joinpath(MODEL).read_text("utf-8"))
    manifest = json.loads(models.joinpath("tamper.manifest.json").read_text("utf-8"))
    return booster, manifest


class TamperAnalyzer(Analyzer):
    name = "tamper"
    version = "1"
    questions: ClassVar[tuple[Question, ...]] = ("manipulation",)
    kinds = ("image",)
    description = "Learned local tamper detector over per-tile block features (trained here)."
    finding_ids: ClassVar[tuple[str, ...]] = ("tamper.local_region",)

    def available(self) -> str | None:
        try:
            import lightgbm  # noqa: F401
        except ImportError:
            return "lightgbm is not installed (pip install lightgbm)"
        return None

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        import numpy as np

        from triage.forensics.blockfeatures import TILE, image_score, rgb_tile_features

        result = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if min(w, h) < MIN_SIDE:
            result.skipped_reason = f"image too small for the tamper model ({w}x{h})"
            return result
        booster, manifest = load_model()
        rgb, (ox, oy) = _window(media.rgb)
        feats = rgb_tile_features(rgb, TILE)
        r, c, f = feats.values.shape
        prob = booster.predict(feats.values.reshape(-1, f)).reshape(r, c).astype(np.float32)
        score = image_score(prob)
        threshold = float(manifest.get("held_out", {}).get("threshold", DEFAULT_THRESHOLD))
        share = (rgb.shape[0] * rgb.shape[1]) / float(w * h)
        result.examined = {"manipulation": round(min(1.0, share), 3)}
        if share < 0.999:
            result.not_checked.append(
                f"only a centred window of {rgb.shape[1]}x{rgb.shape[0]} px was examined "
                f"({share:.0%} of the image)"
            )
        result.metrics = {
            "model_version": manifest.get("version"),
            "image_score": round(score, 4),
            "tiles": int(r * c),
            "tile": TILE,
            "threshold": threshold,
            "tiles_above_threshold": int((prob >= threshold).sum()),
            "p99_tile": round(float(np.quantile(prob, 0.99)), 4) if prob.size else 0.0,
        }
        if score >= threshold:
            result.findings.append(_finding(prob, score, threshold, TILE, (ox, oy), (w, h)))
        if ctx.want_artifacts and prob.size:
            result.artifacts.append(
                Artifact(
                    kind="tamper_map",
                    title="Tamper model: probability per 32-px tile (bright = unlike the rest)",
                    png=ctx.png(_heatmap(prob, rgb)),
                )
            )
        return result


def _window(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    h, w = rgb.shape[:2]
    if h * w <= MAX_PIXELS:
        return rgb, (0, 0)
    s = (MAX_PIXELS / float(h * w)) ** 0.5
    ch, cw = int(h * s) // 8 * 8, int(w * s) // 8 * 8
    oy, ox = (h - ch) // 2 // 8 * 8, (w - cw) // 2 // 8 * 8
    return rgb[oy : oy + ch, ox : ox + cw], (ox, oy)


def _finding(
    prob: np.ndarray,
    score: float,
    threshold: float,
    tile: int,
    origin: tuple[int, int],
    size: tuple[int, int],
) -> RawFinding:
    from triage.forensics.blockfeatures import probability_regions

    (ox, oy), (w, h) = origin, size
    regions = probability_regions(prob, threshold, min_tiles=2)[:3]
    boxes = [
        [ox + c0 * tile, oy + r0 * tile, min(w, ox + c1 * tile), min(h, oy + r1 * tile)]
        for (c0, r0, c1, r1), _, _ in regions
    ]
    area = sum(n for _, n, _ in regions) * tile * tile / float(w * h)
    # 0.5 at the threshold (chosen for 5% of unedited held-out photos), rising with
    # the model's own confidence, capped at 1.5.
    strength = min(1.5, max(0.3, 0.5 + (score - threshold) / max(0.05, 1 - threshold)))
    return RawFinding(
        id="tamper.local_region",
        question="manipulation",
        title="Region that the tamper model finds unlike the rest of the photo",
        detail=(
            f"The local tamper model scores a region of about {area:.1%} of the image at "
            f"{score:.2f} (threshold {threshold:.2f}). It was trained on splices, copy-moves, "
            "removals, retouches and overlays made from real photos and re-saved as "
            "platforms do; strong local filters, HDR tone mapping and text also raise it."
        ),
        evidence={
            "boxes": boxes,
            "area_fraction": round(area, 4),
            "image_score": round(score, 4),
            "regions": [
                {"box": b, "tiles": n, "mean_probability": round(p, 3)}
                for b, (_, n, p) in zip(boxes, regions, strict=True)
            ],
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
