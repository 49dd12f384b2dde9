"""Invisible ``dwtDct`` watermark of the Stable Diffusion reference scripts (``synthetic``).

Wraps :mod:`triage.forensics.watermark`. Size policy: the mark lives in the exact pixel
grid, so it is read at native resolution; its block schedule runs row by row over the
full width, so a large image is read on its top rows only (at most ``MAX_PIXELS``,
about 0.15 s for four readings), which keeps the schedule intact.

Only a found mark speaks: the mark does not survive resizing, cropping or most
re-encoding, and most generators never embed it, so its absence is no evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.report import Question

if TYPE_CHECKING:
    from triage.media import Media

MAX_PIXELS = 2_000_000
MIN_SIDE = 64
# Chance (Bonferroni over every payload and reading) below which a mark is claimed. The
# independence behind it is optimistic (neighbouring blocks share content): camera photos
# reach z = 5.6 (chance ~1e-7), so the bar sits well above that (z ~ 7.6).
CLAIM_CHANCE = 1e-12
# And the association, in units of the image's own spread over shifted schedules
# (forensics.watermark.shifted_null), at least this: a camera photo of the corpus saved
# as WebP q80 passed CLAIM_CHANCE (z 7.5) and reads 1.2-2.0 here in any format; the
# marked fixtures and the SD x4-upscaler's marked output read 6.7-8.7.
MIN_ALIGNED_Z = 4.0


class WatermarkAnalyzer(Analyzer):
    name = "watermark"
    version = "1.1"
    questions: ClassVar[tuple[Question, ...]] = ("synthetic",)
    kinds = ("image",)
    finding_ids: ClassVar[tuple[str, ...]] = ("watermark.dwtdct_payload",)
    description = "Invisible DWT-DCT watermark of the Stable Diffusion reference scripts."

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        from triage.forensics.watermark import aligned_z, match_payloads

        result = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if min(w, h) < MIN_SIDE:
            result.skipped_reason = f"image too small to carry the watermark ({w}x{h})"
            return result
        rows = max(MIN_SIDE, min(h, MAX_PIXELS // max(w, 1)) // 4 * 4)
        rgb = media.rgb[:rows]
        matches = match_payloads(rgb, full_height=h)
        best = matches[0]
        if best.chance_any >= CLAIM_CHANCE:
            # A picture turned or mirrored without loss keeps its mark on another
            # schedule: read so only when the picture as stored shows none.
            turned = [m for m in matches[1:] if m.orientation != "as stored"]
            if turned and turned[0].chance_any < CLAIM_CHANCE:
                best = turned[0]
        result.metrics = {
            "rows_read": int(rgb.shape[0]),
            "best_payload": best.payload,
            "channel_order": best.channel_order,
            "bits_matching": best.matching,
            "bits": best.n_bits,
            "bit_error_rate": round(best.bit_error_rate, 4),
            "chance_bits": float(f"{best.chance_bits:.3g}"),
            "block_z": round(best.block_z, 2),
            "chance_any": float(f"{best.chance_any:.3g}"),
        }
        if best.orientation != "as stored":
            result.metrics["orientation"] = best.orientation
        # Small: only a found mark speaks; most generators embed none, and resizing or
        # re-encoding removes it.
        result.examined = {"synthetic": 0.2}
        aligned = None
        if best.chance_any < CLAIM_CHANCE:
            aligned, spread = aligned_z(rgb, best, full_height=h)
            result.metrics["aligned_z"] = round(aligned, 2)
            result.metrics["null_spread"] = round(spread, 2)
        if aligned is None or aligned < MIN_ALIGNED_Z:
            result.not_checked.append(
                "no dwtDct watermark found: the mark does not survive resizing, cropping or "
                "re-encoding, and most generators never embed one, so this says nothing"
            )
            return result
        result.findings.append(
            RawFinding(
                id="watermark.dwtdct_payload",
                question="synthetic",
                title=f"Stable Diffusion invisible watermark ({best.payload})",
                detail=(
                    f"The image carries the invisible dwtDct watermark with the payload "
                    f"{best.payload!r}, embedded by {best.source}. {best.matching} of "
                    f"{best.n_bits} payload bits read back (bit error rate "
                    f"{best.bit_error_rate:.0%}); over {best.blocks} blocks the marks follow "
                    f"the payload with a chance of {best.chance_any:.1e} for an unmarked image, "
                    f"{aligned:.1f} times the spread the image shows where no mark is aligned. "
                    + (
                        f"The picture has been {best.orientation} since it was marked: the "
                        "mark reads once that is undone (a lossless turn or mirror keeps it). "
                        if best.orientation != "as stored"
                        else ""
                    )
                    + "The mark is put there by the generation script, not by a camera; "
                    "anyone who has the open encoder can also add it to any image."
                ),
                evidence={
                    "payload": best.payload,
                    "source": best.source,
                    "channel_order": best.channel_order,
                    "bits_matching": best.matching,
                    "bits": best.n_bits,
                    "bit_error_rate": round(best.bit_error_rate, 4),
                    "chance_bits": float(f"{best.chance_bits:.3g}"),
                    "blocks": best.blocks,
                    "block_z": round(best.block_z, 2),
                    "chance_any": float(f"{best.chance_any:.3g}"),
                    "aligned_z": round(aligned, 2),
                    **(
                        {"orientation": best.orientation} if best.orientation != "as stored" else {}
                    ),
                },
            )
        )
        return result
