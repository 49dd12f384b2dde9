"""Generator metadata outside content credentials: what the generator wrote about itself.

Reads the fields with :mod:`triage.forensics.genmeta` (PNG text chunks, EXIF, XMP,
IPTC DigitalSourceType; no pixels decoded), matches them against
``triage/data/generators.tsv`` and turns what it finds into findings, with prompt,
model, seed, sampler and steps in the evidence.

Missing generator metadata proves nothing: almost every platform strips it. Metadata is
also easy to write, so explicit parameters are strong but not absolute evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.forensics.genmeta import (
    AI_LABEL,
    MAX_TEXT,
    Fields,
    classify_source_type,
    extract_parameters,
    match_fields,
    read_fields,
)

if TYPE_CHECKING:
    from triage.media import Media


# -------------------------------------------------------------------- analyzer
class GeneratorAnalyzer(Analyzer):
    name = "generator"
    finding_ids = (
        "generator.parameters",
        "generator.software",
        "generator.source_type_ai",
        "generator.source_type_composite",
        "generator.source_type_capture",
        "generator.ai_label",
    )
    version = "1"
    questions = ("synthetic",)
    kinds = ("image",)
    formats = None
    description = (
        "Generator metadata: PNG text chunks of Stable Diffusion UIs, ComfyUI, NovelAI, "
        "InvokeAI and others, EXIF/XMP generation parameters, IPTC DigitalSourceType, "
        "Software/CreatorTool naming a generator (signatures in data/generators.tsv)."
    )

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        result = AnalyzerResult()
        fields = read_fields(media.data, media.format, media.pil_header)
        matches = match_fields(fields)
        result.metrics = {
            "containers": fields.containers,
            "text_fields": sorted(fields.text),
            "software_fields": {k: v[:120] for k, v in fields.software.items()},
            "generators": sorted({m.generator for m in matches}),
        }
        params = [m for m in matches if m.kind == "parameters"]
        soft = [m for m in matches if m.kind == "software"]
        if params:
            best = params[0]
            extracted = extract_parameters(best.generator, fields, best)
            result.findings.append(
                RawFinding(
                    id="generator.parameters",
                    question="synthetic",
                    title=f"Generation parameters written by {best.generator}",
                    detail=(
                        f"The file's {best.field} field holds the settings {best.generator} saves "
                        "with every image it generates"
                        + (" (prompt, seed, sampler...)" if extracted else "")
                        + ". Such metadata is rarely written by anything else, but it can be "
                        "copied into another file, and an img2img/inpainting output also carries it."
                    ),
                    evidence={
                        "generator": best.generator,
                        "field": best.field,
                        "fields": sorted({m.field for m in params}),
                        "other_generators": sorted(
                            {m.generator for m in params} - {best.generator}
                        ),
                        **extracted,
                    },
                )
            )
        elif soft:
            best = soft[0]
            result.findings.append(
                RawFinding(
                    id="generator.software",
                    question="synthetic",
                    title=f"Metadata names an image generator ({best.generator})",
                    detail=(
                        f"The {best.field} field reads {best.text[:120]!r}, which names "
                        f"{best.generator}. A tool name is weaker than generation parameters: "
                        "some of these tools also edit or upscale real photos."
                    ),
                    evidence={
                        "generator": best.generator,
                        "field": best.field,
                        "value": best.text[:200],
                    },
                )
            )
        self._source_types(fields, result)
        if not params and not soft:
            self._ai_label(fields, result)
        has_meta = bool(fields.containers)
        # Absence of generator metadata is normal (platforms strip it): little examined.
        result.examined = {"synthetic": 0.5 if has_meta else 0.25}
        result.not_checked = [
            "generator metadata: "
            + (
                "none of the metadata present names a generator; "
                if has_meta
                else "the file carries no metadata; "
            )
            + "its absence proves nothing (most platforms strip it)",
            "invisible watermarks (DWT-DCT marks of open generators, SynthID and similar) were not "
            "checked: no maintained offline decoder is installed",
        ]
        return result

    def _source_types(self, fields: Fields, result: AnalyzerResult) -> None:
        classes = [(f, v, classify_source_type(v)) for f, v in fields.source_types]
        ai = [c for c in classes if c[2] == "ai"]
        part = [c for c in classes if c[2] == "ai-part"]
        capture = [c for c in classes if c[2] == "capture"]
        if ai:
            f, v, _ = ai[0]
            result.findings.append(
                RawFinding(
                    id="generator.source_type_ai",
                    question="synthetic",
                    title="XMP declares the image AI-generated (IPTC DigitalSourceType)",
                    detail=(
                        f"{f} = {v}: the IPTC vocabulary term generators and platforms use to label "
                        "media created by a trained model. It is an unsigned claim, but one rarely "
                        "made falsely."
                    ),
                    evidence={"field": f, "digital_source_type": v},
                )
            )
        elif part:
            f, v, _ = part[0]
            result.findings.append(
                RawFinding(
                    id="generator.source_type_composite",
                    question="synthetic",
                    title="XMP declares AI-generated parts (compositeWithTrainedAlgorithmicMedia)",
                    detail=(
                        f"{f} = {v}: part of the image was generated or filled by a model "
                        "(e.g. generative fill), the rest may be a photograph."
                    ),
                    evidence={"field": f, "digital_source_type": v},
                )
            )
        elif capture:
            f, v, _ = capture[0]
            result.findings.append(
                RawFinding(
                    id="generator.source_type_capture",
                    question="synthetic",
                    title="XMP claims a camera capture (IPTC DigitalSourceType)",
                    detail=(
                        f"{f} = {v}. This is an unsigned claim anyone can write, not proof: it "
                        "counts only slightly against generation."
                    ),
                    evidence={"field": f, "digital_source_type": v},
                )
            )

    def _ai_label(self, fields: Fields, result: AnalyzerResult) -> None:
        for name, value in list(fields.text.items()) + list(fields.software.items()):
            m = AI_LABEL.search(value[:MAX_TEXT])
            if m:
                result.findings.append(
                    RawFinding(
                        id="generator.ai_label",
                        question="synthetic",
                        title="Metadata text labels the image as AI-generated",
                        detail=f"The {name} field says {m.group(0)!r}.",
                        evidence={"field": name, "text": value[:200]},
                    )
                )
                return
