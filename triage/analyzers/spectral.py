"""Spectral up-sampling peaks: a weak cue for generator output (``synthetic``).

Wraps :mod:`triage.forensics.spectral`. Size policy: up-sampling patterns live at the
pixel scale, so tiles are read at native resolution: every tile while there are at most
``TILES_PER_SIDE`` squared, else that many rows and columns of them spread over the image,
whatever its size, on a grid that a turn or a
mirror maps onto itself (:func:`~triage.forensics.cellgrid.symmetric_cells`), so a
picture turned or mirrored is read on the same tiles, turned.

A clean spectrum proves nothing: most generator images that were resized or
recompressed show no peaks, and JPEG files cannot be judged at all (their 8x8 block
grid puts peaks on the same frequencies).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.analyzers.common import native_gray
from triage.report import Question

if TYPE_CHECKING:
    from triage.media import Media

TILES_PER_SIDE = 8  # at most 64 tiles, all of them up to 64
MIN_TILES = 8
PEAK_THRESHOLD = 4.5  # median-over-tiles ratio at 1/2 or 1/4 cycles/pixel (noise floor ~1-2.5)
# Formats whose block transform puts peaks on the up-sampling frequencies.
GRID_FORMATS = ("jpeg",)


class SpectralAnalyzer(Analyzer):
    name = "spectral"
    finding_ids = ("spectral.upsampling_peaks",)
    version = "1.2"
    questions: ClassVar[tuple[Question, ...]] = ("synthetic",)
    kinds = ("image",)
    description = "Periodic up-sampling peaks in the residual spectrum (weak generator cue)."
    trait_words: ClassVar[dict[str, str]] = {"synthetic": "not a JPEG"}

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        import numpy as np

        from triage.analyzers.common import declined_as_palette, declined_for_few_levels
        from triage.forensics.cellgrid import symmetric_cells
        from triage.forensics.spectral import (
            azimuthal_profile,
            grid_peaks,
            power_spectra,
        )
        from triage.forensics.webp import webp_is_lossy

        result = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if media.format in GRID_FORMATS:
            result.skipped_reason = (
                "JPEG: its 8x8 block grid puts peaks on the up-sampling frequencies, "
                "so they cannot be told apart"
            )
            return result
        if media.format == "webp" and webp_is_lossy(media.data):
            result.skipped_reason = (
                "lossy WebP: its 4x4 transforms in 16x16 macroblocks put peaks on the "
                "up-sampling frequencies, so they cannot be told apart"
            )
            return result
        tile = 128 if (w // 128) * (h // 128) >= 12 else 64
        if (w // tile) * (h // tile) < MIN_TILES:
            result.skipped_reason = f"image too small for a stable spectrum ({w}x{h})"
            return result
        # A mask or line art: hard edges between flat areas put sharp peaks in any
        # spectrum, with no interpolation behind them.
        if declined_for_few_levels(media, result, "up-sampling peaks") or declined_as_palette(
            media, result, "up-sampling peaks"
        ):
            return result
        # Every tile while they are few (a strip of panels is read whole); else an
        # 8 x 8 sample.
        ny, nx = h // tile, w // tile
        per_side = TILES_PER_SIDE if ny * nx > TILES_PER_SIDE**2 else max(ny, nx) + max(ny, nx) % 2
        origins = symmetric_cells(h, w, per_side, tile)
        tiles = np.stack([native_gray(media, (x, y, x + tile, y + tile)) for y, x in origins])
        power = power_spectra(tiles)
        gp = grid_peaks(power)
        # Peaks at odd multiples of 1/8 are never counted (a PNG that was once a JPEG
        # carries the block grid); a 1/2 or 1/4 peak must clearly exceed them.
        score = max(gp.up2, gp.up4)
        grid_like = gp.up8 >= 0.6 * score
        result.metrics = {
            "scale": 1.0,
            "tile": tile,
            "tiles": len(origins),
            "up2_ratio": round(gp.up2, 3),
            "up4_ratio": round(gp.up4, 3),
            "up8_ratio": round(gp.up8, 3),
            "azimuthal_log10_power": [round(v, 3) for v in azimuthal_profile(power.mean(0))],
        }
        # Half: the check sees one kind of generator trace, and only while it survives.
        result.examined = {"synthetic": 0.5}
        result.not_checked.append(
            "a clean spectrum proves nothing: generator images that were resized or "
            "recompressed, and many recent decoders, show no up-sampling peaks"
        )
        if score >= PEAK_THRESHOLD and not grid_like:
            peaks = [p for p in gp.peaks if (p["fy"] * 8) % 2 == 0 and (p["fx"] * 8) % 2 == 0]
            result.findings.append(
                RawFinding(
                    id="spectral.upsampling_peaks",
                    question="synthetic",
                    title="Periodic up-sampling pattern in the pixel noise",
                    detail=(
                        f"The noise residual's spectrum has isolated peaks at multiples of "
                        f"1/{'2' if gp.up2 >= gp.up4 else '4'} cycles per pixel, "
                        f"{score:.1f}x its surroundings in most tiles: the trace of 2x/4x "
                        "up-sampling layers in GANs and diffusion decoders, but also of images "
                        "enlarged 2x or 4x by an ordinary up-scaler. A weak cue; a clean "
                        "spectrum proves nothing."
                    ),
                    evidence={
                        "peaks": peaks[:6],
                        "peak_ratio": round(score, 2),
                        "tiles": len(origins),
                        "tile_px": tile,
                        "scale": 1.0,
                    },
                    strength=round(min(1.5, max(0.7, score / 10.0)), 3),
                )
            )
        return result
