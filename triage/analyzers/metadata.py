"""Metadata consistency: what the file says about its own history.

Checks editing software, the capture dates against each other, the EXIF thumbnail
against the picture, declared against actual dimensions, camera fields that a
transplant or rewrite leaves out, XMP edit history, and the extension against the
sniffed format. Metadata is easy to strip and to forge: its absence is never
evidence, and its presence is a claim, not proof.
"""

from __future__ import annotations

from typing import ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.forensics import metadata as md
from triage.media import Media
from triage.report import Question
from triage.sniff import EXTENSIONS

# Correlation of 16x16 grey versions below which thumbnail and image show
# different pictures. Measured: camera originals in ../shared/corpus/camera have
# 0.93-1.0; a thumbnail of an unrelated scene gives < 0.5 (docs/analyzers/metadata.md).
THUMBNAIL_MIN_CORRELATION = 0.75
THUMBNAIL_MAX_ASPECT_LOG = 0.08  # ~8 % aspect difference after removing letterbox bars
# A main image found inside its preview covering less than this share of it is a crop.
THUMBNAIL_CROP_AREA = 0.98
# A placement of the image inside its preview is trusted when the two agree at 16x16
# more closely than whole pictures must (a search over placements finds chance matches
# on smooth scenes: 0.87 on a generated one) and the pixel-level match is not poor.
# Unedited crops of the calibration's fit side: 0.975-1.0 at 16x16; their pixel-level
# match reaches only 0.75 where the camera sharpened its preview differently.
THUMBNAIL_CROP_CORRELATION = 0.9
THUMBNAIL_CROP_MATCH = 0.6
# Largest cell difference (over the median cell's) between the image and the preview at
# the same place, above which part of the picture changed (metadata.local_change).
# Chosen on the calibration's fit side: its 137 unedited copies with a preview (crops and
# camera files) reach 3.55 at most (one dark photo; 2.35 at the 99th percentile).
THUMBNAIL_LOCAL_CHANGE = 4.0
DIMENSION_TOLERANCE = 0.02


class MetadataAnalyzer(Analyzer):
    name = "metadata"
    finding_ids = (
        "metadata.editing_software",
        "metadata.xmp_history",
        "metadata.editor_namespaces",
        "metadata.derived_document",
        "metadata.dates_inconsistent",
        "metadata.dates_impossible",
        "metadata.thumbnail_mismatch",
        "metadata.thumbnail_cropped",
        "metadata.dimensions_mismatch",
        "metadata.capture_fields_missing",
        "metadata.extension_mismatch",
        "metadata.camera_consistent",
        "metadata.camera_origin",
        "metadata.no_metadata",
    )
    version = "2.2"
    questions: ClassVar[tuple[Question, ...]] = ("manipulation", "synthetic")
    trait_words: ClassVar[dict[str, str]] = {
        "manipulation": "it keeps its metadata, which can be rewritten",
        "synthetic": "its metadata names a camera, which can be copied",
    }
    kinds = ("image",)
    description = (
        "EXIF/XMP/PNG metadata: editing software, date consistency, stale thumbnail, "
        "declared vs actual size, missing camera fields, XMP edit history, extension."
    )

    def preload(self) -> None:
        import exifread  # noqa: F401

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        result = AnalyzerResult()
        header = media.pil_header
        meta = md.read_metadata(media.data, header)
        findings = result.findings
        result.metrics = {
            "make": meta.make,
            "model": meta.model,
            "software": [v for _, v in md.software_strings(meta)][:5],
            "exif_tags": len(meta.exif),
            "xmp_properties": len(meta.xmp),
            "png_text_keys": sorted(meta.png_text)[:20],
            "has_thumbnail": meta.thumbnail is not None,
            "has_maker_note": meta.has_maker_note,
        }
        findings.extend(_extension(media))
        _embedded_video(media, meta, result)
        if meta.cut:
            result.metrics["truncated"] = meta.cut
            result.not_checked.append(f"metadata after the cut: {meta.cut}")
        if meta.empty:
            findings.append(
                RawFinding(
                    id="metadata.no_metadata",
                    question="manipulation",
                    title="No metadata",
                    detail=(
                        "The file carries no EXIF, XMP or text metadata. Social platforms and "
                        "messaging apps strip it routinely: this is neither evidence of editing "
                        "nor of authenticity, only less to check."
                    ),
                )
            )
            result.not_checked.append("no EXIF/XMP metadata to check (stripped or never written)")
            return result

        camera = bool(meta.make or meta.model)
        has_dates = any(
            meta.get(k)
            for k in ("EXIF DateTimeOriginal", "EXIF DateTimeDigitized", "Image DateTime")
        )
        # How much of the metadata checks could run: camera + dates is the full set.
        result.examined["manipulation"] = 1.0 if camera and has_dates else 0.5
        if camera:
            result.examined["synthetic"] = 1.0

        findings.extend(_software(meta))
        findings.extend(_dates(meta))
        findings.extend(_thumbnail(media, meta, result))
        findings.extend(_dimensions(media, meta))
        findings.extend(_capture_fields(meta))
        findings.extend(_xmp(meta))
        if not camera:
            result.not_checked.append("no camera make/model: camera-consistency checks skipped")
        if meta.thumbnail is None:
            result.not_checked.append("no EXIF thumbnail to compare with the image")

        positive = [f for f in findings if f.id not in ("metadata.extension_mismatch",)]
        if camera and has_dates and not positive and meta.has_maker_note and meta.capture_fields:
            findings.append(
                RawFinding(
                    id="metadata.camera_consistent",
                    question="manipulation",
                    title="Camera metadata is complete and consistent",
                    detail=(
                        f"{meta.make or ''} {meta.model or ''}".strip()
                        + ": maker notes, exposure fields and dates present and consistent, "
                        "no editing software named. Metadata can be forged, so this counts only a little."
                    ),
                    evidence={"make": meta.make, "model": meta.model},
                )
            )
            findings.append(
                RawFinding(
                    id="metadata.camera_origin",
                    question="synthetic",
                    title="Metadata of a camera capture",
                    detail=(
                        "Maker notes and exposure fields of a camera are present; generators do "
                        "not write them, though a forger can copy them."
                    ),
                    evidence={"make": meta.make, "model": meta.model},
                )
            )
        return result


def _extension(media: Media) -> list[RawFinding]:
    ext = media.extension
    allowed = EXTENSIONS.get(media.format, frozenset())
    if not ext or ext in allowed:
        return []
    return [
        RawFinding(
            id="metadata.extension_mismatch",
            question="manipulation",
            title="File extension does not match its content",
            detail=(
                f"Named {ext} but the bytes are {media.format.upper()}. Often a careless rename or "
                "a platform download; sometimes a sign the file was re-exported."
            ),
            evidence={"extension": ext, "sniffed_format": media.format},
        )
    ]


def _software(meta: md.Metadata) -> list[RawFinding]:
    hits = md.match_editors(meta)
    if not hits:
        return []
    where, value, editor = max(hits, key=lambda h: h[2].strength)
    return [
        RawFinding(
            id="metadata.editing_software",
            question="manipulation",
            title=f"Saved by {editor.name}",
            detail=(
                f"{where} = {value!r} names {editor.name} ({editor.kind}). The file passed "
                "through it after capture; that may be a harmless resize or export, or an edit."
            ),
            evidence={
                "field": where,
                "value": value,
                "software": editor.name,
                "kind": editor.kind,
                "all": [{"field": w, "value": v, "software": e.name} for w, v, e in hits],
            },
            strength=editor.strength,
        )
    ]


def _dates(meta: md.Metadata) -> list[RawFinding]:
    facts = md.date_facts(meta)
    inconsistent, impossible = md.date_problems(facts)
    out = []
    if inconsistent:
        out.append(
            RawFinding(
                id="metadata.dates_inconsistent",
                question="manipulation",
                title="Capture dates disagree",
                detail="; ".join(inconsistent) + ".",
                evidence={"dates": facts.raw, "problems": inconsistent},
            )
        )
    if impossible:
        out.append(
            RawFinding(
                id="metadata.dates_impossible",
                question="manipulation",
                title="Impossible date",
                detail="; ".join(impossible)
                + ". A camera with an unset clock does this too; so does hand-edited metadata.",
                evidence={"dates": facts.raw, "problems": impossible},
            )
        )
    return out


def _embedded_video(media: Media, meta: md.Metadata, result: AnalyzerResult) -> None:
    """Name a video that follows a JPEG's picture (a motion photo): it is evidence of
    neither question, but it is in the file, no analyzer examines it, and it may show
    the moments around the shot. A desk should know it is there and how to get it."""
    if media.format != "jpeg":
        return
    from triage.forensics.embedded import embedded_video
    from triage.forensics.jpeg import JpegError, parse_jpeg

    try:
        info = parse_jpeg(media.data)
    except JpegError:
        return
    if not info.eoi or not info.trailing_bytes:
        return
    found = embedded_video(media.data, len(media.data) - info.trailing_bytes)
    if found is None:
        return
    google = any(
        "1" in meta.xmp.get(key, []) for key in ("GCamera:MotionPhoto", "GCamera:MicroVideo")
    )
    if google:
        kind = "a Google motion photo"
    elif b"MotionPhoto_Data" in media.data[found.offset - 64 : found.offset]:
        kind = "a Samsung motion photo"
    else:
        kind = "not a known motion-photo layout"
    result.metrics["embedded_video"] = {
        "offset": found.offset,
        "bytes": found.size,
        "brand": found.brand,
        "duration_s": None if found.duration is None else round(found.duration, 3),
        "kind": kind,
    }
    length = f"a {found.duration:.1f}-s video" if found.duration else "a video"
    size = f"{found.size / 1e6:.1f} MB" if found.size >= 1e6 else f"{found.size / 1e3:.0f} kB"
    result.not_checked.append(
        f"{length} follows the picture inside the file ({kind}; {size} from byte "
        f"{found.offset}), not examined: it may show the moments around the shot; "
        f"`tail -c +{found.offset + 1} FILE > clip.mp4` extracts it for `triage check`"
    )


def _thumbnail(media: Media, meta: md.Metadata, result: AnalyzerResult) -> list[RawFinding]:
    if meta.thumbnail is None:
        return []
    if min(media.width or 0, media.height or 0) < 32:
        result.not_checked.append("image too small to compare with its EXIF thumbnail")
        return []
    sim = md.thumbnail_similarity(meta.thumbnail, media.reduced(256))
    if sim is None:
        result.not_checked.append("the EXIF thumbnail could not be decoded")
        return []
    whole_differs = sim["correlation"] < THUMBNAIL_MIN_CORRELATION
    different_shape = sim["aspect_log_diff"] > THUMBNAIL_MAX_ASPECT_LOG
    located = False
    change = sim["local_change"]
    if whole_differs or different_shape:
        # The picture may be part of what the preview shows (cut after capture by
        # software that kept the camera's preview): compared whole the two then look like
        # different pictures. Only what the preview shows at the image's place counts.
        sim.update(md.locate_crop(meta.thumbnail, media.reduced(256)) or {})
        located = (
            sim.get("crop_match", 0.0) >= THUMBNAIL_CROP_MATCH
            and sim.get("crop_correlation", 0.0) >= THUMBNAIL_CROP_CORRELATION
        )
        change = sim.get("crop_local_change", 0.0) if located else 0.0
    result.metrics["thumbnail"] = sim
    cropped = located and sim.get("crop_area", 1.0) < THUMBNAIL_CROP_AREA
    different_picture = whole_differs and not located
    local_change = change > THUMBNAIL_LOCAL_CHANGE
    if different_picture or local_change:
        if different_picture:
            what = f"its content differs from the image (correlation {sim['correlation']:.2f})"
            strength = 1.0
        else:
            what = (
                "part of the image differs from what the preview shows at the same place "
                f"(a cell {change:.1f} times the typical difference)"
            )
            strength = min(1.0, 0.6 + 0.1 * (change - THUMBNAIL_LOCAL_CHANGE))
        if cropped:
            what += f"; the image is also a crop of {sim['crop_area']:.0%} of the preview"
        return [
            RawFinding(
                id="metadata.thumbnail_mismatch",
                question="manipulation",
                title="EXIF thumbnail does not match the image",
                detail=(
                    f"The preview the camera embedded no longer matches: {what}. Editors "
                    "that keep the old thumbnail leave this behind."
                ),
                evidence=sim,
                strength=strength,
            )
        ]
    if not (different_shape or whole_differs):
        # The whole picture matches its preview: a camera's own letterboxed or bordered
        # preview places the image inside a frame, which is no crop.
        return []
    if cropped:
        shown = (
            f"the image matches {sim['crop_area']:.0%} of it (correlation "
            f"{sim['crop_correlation']:.2f}), so it was cropped after capture by software "
            "that kept the old preview. What was cut away is not shown; what is shown "
            "matches the preview at its scale"
        )
    else:  # the shape changed but the image could not be placed inside the preview
        shown = (
            f"its aspect ratio {sim['thumbnail_aspect']:.2f} differs from the image's "
            f"{sim['image_aspect']:.2f}, so it was cropped after capture by software that "
            "kept the old preview (where the image lies inside it could not be told)"
        )
    return [
        RawFinding(
            id="metadata.thumbnail_cropped",
            question="manipulation",
            title="Image is a crop of its EXIF thumbnail",
            detail=(
                f"The preview the camera embedded shows more than the image: {shown}. "
                "Cropping can remove context; it does not change what is shown."
            ),
            evidence=sim,
            strength=0.6,
        )
    ]


def _dimensions(media: Media, meta: md.Metadata) -> list[RawFinding]:
    declared = md.declared_dimensions(meta)
    if declared is None or not media.width or not media.height:
        return []
    dw, dh = declared
    w, h = media.width, media.height

    def close(a: int, b: int) -> bool:
        return abs(a - b) <= max(16, DIMENSION_TOLERANCE * max(a, b))

    if (close(dw, w) and close(dh, h)) or (close(dw, h) and close(dh, w)):
        return []
    same_aspect = abs(dw / dh - w / h) < 0.02 or abs(dw / dh - h / w) < 0.02
    change = "resized" if same_aspect else "cropped or resized unevenly"
    return [
        RawFinding(
            id="metadata.dimensions_mismatch",
            question="manipulation",
            title="Image size differs from the size in EXIF",
            detail=(
                f"EXIF records {dw}x{dh} but the image is {w}x{h}: {change} after capture "
                "while the camera's metadata was kept."
            ),
            evidence={"declared": [dw, dh], "actual": [w, h], "same_aspect": same_aspect},
            strength=0.7 if same_aspect else 1.0,
        )
    ]


def _capture_fields(meta: md.Metadata) -> list[RawFinding]:
    if not (meta.make or meta.model) or meta.capture_fields:
        return []
    missing = ["ExposureTime", "FNumber", "ISOSpeedRatings"]
    if not meta.has_maker_note:
        missing.append("MakerNote")
    return [
        RawFinding(
            id="metadata.capture_fields_missing",
            question="manipulation",
            title="Camera named but capture fields missing",
            detail=(
                f"Make/Model say {meta.make or ''} {meta.model or ''}".rstrip()
                + f", yet {', '.join(missing)} are absent. Cameras write these; metadata "
                "written or transplanted by a tool often lacks them. Some simple devices omit them."
            ),
            evidence={"make": meta.make, "model": meta.model, "missing": missing},
            strength=1.0 if not meta.has_maker_note else 0.6,
        )
    ]


_EDIT_ACTIONS = {
    "saved",
    "converted",
    "derived",
    "edited",
    "cropped",
    "filtered",
    "produced",
    "printed",
}


def _xmp(meta: md.Metadata) -> list[RawFinding]:
    out = []
    actions = [a.lower() for a in meta.xmp.get("xmpMM:History/stEvt:action", [])]
    agents = list(dict.fromkeys(meta.xmp.get("xmpMM:History/stEvt:softwareAgent", [])))
    edits = [a for a in actions if a in _EDIT_ACTIONS]
    if edits:
        out.append(
            RawFinding(
                id="metadata.xmp_history",
                question="manipulation",
                title="XMP edit history",
                detail=(
                    f"xmpMM:History lists {len(actions)} action(s) ({', '.join(dict.fromkeys(actions))})"
                    + (f" by {', '.join(agents[:3])}" if agents else "")
                    + "."
                ),
                evidence={"actions": actions[:50], "software_agents": agents[:10]},
            )
        )
    editor_keys = sorted(
        {k.split(":")[0] for k in meta.xmp if k.split(":")[0] in ("photoshop", "crs", "lr")}
    )
    if editor_keys:
        out.append(
            RawFinding(
                id="metadata.editor_namespaces",
                question="manipulation",
                title="Editor properties in XMP",
                detail=(
                    f"XMP carries {', '.join(p + ':' for p in editor_keys)} properties, written by "
                    "Adobe editors and raw converters."
                ),
                evidence={"namespaces": editor_keys},
                strength=0.7 if editor_keys == ["crs"] else 1.0,
            )
        )
    doc = meta.xmp.get("xmpMM:DocumentID", [None])[0]
    orig = meta.xmp.get("xmpMM:OriginalDocumentID", [None])[0]
    derived = meta.xmp.get("xmpMM:DerivedFrom/stRef:documentID") or meta.xmp.get("stRef:documentID")
    if (doc and orig and doc != orig) or derived:
        out.append(
            RawFinding(
                id="metadata.derived_document",
                question="manipulation",
                title="Derived from another document",
                detail=(
                    "XMP says this file was derived from an earlier document "
                    f"(DocumentID {doc or '?'} vs OriginalDocumentID {orig or '?'})."
                ),
                evidence={"document_id": doc, "original_document_id": orig},
            )
        )
    return out
