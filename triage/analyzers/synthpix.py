"""Generated pixels: a patch-level model of the high-pass residual (``synthetic``).

Wraps :mod:`triage.forensics.genresidual` and the model in
``triage/data/models/synthpix.npz`` (``python -m triage.train synthpix``; data, seed
and held-out figures in its manifest): a logistic regression on residual
co-occurrences, up-sampling spectral peaks and cross-channel residual statistics of
128-px patches, fitted on generated panels of open latent-diffusion models against
camera photos, both classes through the same platform chains. The image's score is the
mean log-odds of the informative patches of a grid spread over the image
(:func:`~triage.forensics.cellgrid.symmetric_cells`: at most 36, and the same patches,
turned, when the picture is turned or mirrored) at native resolution (no resize: the
traces live at the pixel scale).

Nothing here reads the file format or metadata. The model was trained on 3-4 open
latent-diffusion families only (see the card for what it was measured on).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.analyzers.common import declined_as_palette
from triage.report import Question

if TYPE_CHECKING:
    import numpy as np

    from triage.media import Media

MIN_PATCHES = 2
# Mean patch log-odds at which the finding is raised, and the log-odds at strength 1
# (docs/analyzers/synthpix.md). Set for model 1 above all but one of its 46 held-out
# training camera photos at each of the png / q90 / 1024q85 steps, never on the corpus;
# kept for model 2 (its 40 held-out training photos stay under it at those steps).
THRESHOLD = 1.7
FULL = 4.0
# Arrays of the model file; the graphics pair exists from model 3 on.
MODEL_KEYS = ("mean", "scale", "coef", "intercept", "coef_graphics", "intercept_graphics")


@cache
def load() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The shipped model arrays and manifest, loaded once per process."""
    import io
    import json
    from importlib import resources

    import numpy as np

    base = resources.files("triage.data").joinpath("models")
    with np.load(io.BytesIO(base.joinpath("synthpix.npz").read_bytes())) as z:
        model = {k: z[k] for k in MODEL_KEYS if k in z}
    manifest = json.loads(base.joinpath("synthpix.manifest.json").read_text("utf-8"))
    return model, manifest


def patch_log_odds(model: dict[str, np.ndarray], feats: np.ndarray) -> np.ndarray:
    """Log-odds that each patch's feature row is generated.

    Model 2: generated against camera photos. Model 3 adds generated against graphics
    drawn by code; the two log-odds are combined by a soft minimum,
    ``-log(exp(-a) + exp(-b))``: a patch reads generated only if it reads so against
    both, and where the graphics side is sure (b large) the camera model's value stands.
    """
    import numpy as np

    z = (feats - model["mean"]) / model["scale"]
    lo = z @ model["coef"] + float(model["intercept"][0])
    if "coef_graphics" in model:
        lg = z @ model["coef_graphics"] + float(model["intercept_graphics"][0])
        lo = -np.logaddexp(-lo, -lg)
    return lo


class SynthpixAnalyzer(Analyzer):
    name = "synthpix"
    version = "1.4"
    questions: ClassVar[tuple[Question, ...]] = ("synthetic",)
    kinds = ("image",)
    finding_ids: ClassVar[tuple[str, ...]] = ("synthpix.generated_pixels",)
    description = "Generated-pixel traces in the high-pass residual (patch model, trained here)."
    metrics_title = "the generated-pixel model's reading of the image's patches"

    def preload(self) -> None:
        load()

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        import numpy as np

        from triage.forensics.genresidual import PATCH, grid_patch_features

        result = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if min(w, h) < PATCH:
            result.skipped_reason = f"image too small for 128-px patches ({w}x{h})"
            return result
        if declined_as_palette(media, result, "a generator's decoder traces"):
            return result
        model, manifest = load()
        img = media.image()

        def crop(y: int, x: int) -> np.ndarray:
            # Patches are cut from the shared decode: no full-size array is made.
            return np.asarray(img.crop((x, y, x + PATCH, y + PATCH)).convert("RGB"))

        feats = grid_patch_features(crop, h, w)
        n = len(feats)
        result.metrics = {"model_version": manifest.get("version"), "patches": n}
        if n < MIN_PATCHES:
            result.skipped_reason = "too few patches with fine detail (flat or clipped image)"
            return result
        lo = patch_log_odds(model, feats)
        mean = float(lo.mean())
        result.metrics.update(
            {
                "log_odds": round(mean, 3),
                "generated_share": round(float(np.mean(lo > 0)), 3),
                "log_odds_iqr": round(float(np.subtract(*np.percentile(lo, [75, 25]))), 3),
            }
        )
        result.examined = {"synthetic": 0.5}
        result.not_checked.append(
            "the pixel model knows open latent-diffusion decoders (Stable Diffusion 1/2, "
            "latent diffusion, FLUX samples); GANs and closed models were not measured"
        )
        if mean >= THRESHOLD:
            result.findings.append(_finding(mean, float(np.mean(lo > 0)), n))
        return result


def _finding(mean: float, share: float, n: int) -> RawFinding:
    strength = min(1.5, max(0.5, mean / FULL))
    return RawFinding(
        id="synthpix.generated_pixels",
        question="synthetic",
        title="Fine pixel detail like a generator's decoder, not a camera's",
        detail=(
            f"The high-pass residual of {n} patches reads like the output of a "
            f"latent-diffusion decoder (mean log-odds {mean:.2f}; {share:.0%} of patches "
            "lean generated). Heavy denoising, night modes, beauty filters, upscalers, "
            "screenshots and digital paintings can look like this too."
        ),
        evidence={"log_odds": round(mean, 3), "generated_share": round(share, 3), "patches": n},
        strength=round(strength, 3),
    )
