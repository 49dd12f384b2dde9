"""Content credentials (C2PA): what the capture device or generator declared, and whether
that declaration is still intact.

Reads the C2PA manifest store (:mod:`triage.forensics.c2pa`, with c2pa-python, the
Content Authenticity Initiative's reference SDK) and judges it
(:mod:`triage.forensics.c2pa_judge`), reporting facts separately from judgments, as
c2patool does: store present, active manifest, validation (claim signature,
certificate trust as far as it can be checked offline, hard binding of the manifest to
the file's bytes), claim generator, signer, signing time, actions, ingredients (the
chain of earlier versions) and the IPTC digitalSourceType of each action.

Standard: C2PA Technical Specification 2.x (https://c2pa.org/specifications/), the
validation status codes of its section 15, and the IPTC NewsCodes digital source types.

Nothing goes over the network: remote manifests and OCSP revocation are not fetched
(``verify.remote_manifest_fetch``/``ocsp_fetch`` off, no allowed network hosts). Trust
is checked only against anchors the user supplies (``ctx.options.credentials.trust_anchors``,
PEM text or a path); without them every signer is "untrusted", which says nothing bad
about the file - anyone can sign anything with a certificate of their own.

When the bytes no longer match the signed hash, the signed thumbnail (if any) is
compared with the current pixels to tell a re-saved/metadata-changed file from one
whose picture changed after signing.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.forensics.c2pa import MIME, compare_thumbnail, read_store
from triage.forensics.c2pa_judge import binding_codes, judge

if TYPE_CHECKING:
    from triage.media import Media


def _anchors(ctx: Context) -> str | None:
    value = ctx.options.credentials.trust_anchors
    if not value:
        return None
    text = str(value)
    if "-----BEGIN" not in text:
        text = Path(text).read_text("utf-8")
    return text


class CredentialsAnalyzer(Analyzer):
    name = "credentials"
    finding_ids = (
        "credentials.ai_generated",
        "credentials.ai_composite",
        "credentials.generation_assertions",
        "credentials.capture_declared",
        "credentials.capture_unedited",
        "credentials.content_edits_declared",
        "credentials.edits_declared",
        "credentials.pixels_changed_after_signing",
        "credentials.changed_after_signing",
        "credentials.bytes_changed_after_signing",
        "credentials.signature_invalid",
        "credentials.ingredient_invalid",
        "credentials.unreadable",
        "credentials.stripped",
        "credentials.valid",
        "credentials.signing_credential_invalid",
        "credentials.identity_invalid",
        "credentials.validation_codes",
    )
    version = "1"
    questions = ("synthetic", "manipulation")
    kinds = ("image", "video")
    formats = None
    description = (
        "Content credentials (C2PA): manifest, signature, offline trust, hash binding to "
        "the bytes, claim generator, actions, ingredients and digitalSourceType."
    )

    def available(self) -> str | None:
        try:
            import c2pa  # noqa: F401
        except Exception as exc:  # missing wheel, or a native library that fails to load
            return f"c2pa-python cannot be imported here ({type(exc).__name__}); content credentials not read"
        return None

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        import c2pa

        result = AnalyzerResult()
        mime = MIME.get(media.format)
        if mime is None:
            result.skipped_reason = f"the C2PA library does not read {media.format} files"
            return result
        try:
            anchors = _anchors(ctx)
        except OSError as exc:
            anchors = None
            result.not_checked.append(f"trust anchors could not be read ({exc.strerror or exc})")
        try:
            if media.kind == "image":
                store = read_store(io.BytesIO(media.data), mime, anchors)
            else:
                with open(media.path, "rb") as fh:
                    store = read_store(fh, mime, anchors)
        except c2pa.C2paError as exc:
            return self._unreadable(exc, media, result)
        if store is None:
            self._absent(media, result)
            return result
        thumbnail = None
        if binding_codes(store) and store.thumbnail and media.kind == "image":
            thumbnail = self._thumbnail_check(store.thumbnail, media)
        size = (media.width or 1, media.height or 1)
        judged = judge(store, anchors is not None, thumbnail, size)
        result.metrics = judged.metrics
        result.examined = {"synthetic": 1.0, "manipulation": 1.0}
        result.not_checked.extend(judged.not_checked)
        result.findings.extend(judged.findings)
        return result

    # -- no store -----------------------------------------------------------
    def _absent(self, media: Media, result: AnalyzerResult) -> None:
        stripped_hint = False
        if media.kind == "image":
            from triage.xmp import read_xmp

            props = read_xmp(media.data)
            stripped_hint = any(k.endswith(":provenance") for k in props)
        result.metrics = {"manifest_store": False}
        if stripped_hint:
            result.findings.append(
                RawFinding(
                    id="credentials.stripped",
                    question="manipulation",
                    title="XMP points to content credentials that are no longer in the file",
                    detail=(
                        "dcterms:provenance names a C2PA manifest, but the file holds none: a tool "
                        "re-saved the file and dropped the credentials (or they live remotely, "
                        "which is not fetched offline)."
                    ),
                    evidence={"xmp": "dcterms:provenance"},
                )
            )
        # Absence of credentials is normal and says nothing either way.
        result.examined = {"synthetic": 0.1, "manipulation": 0.05}
        result.not_checked.insert(
            0,
            "no content credentials (C2PA) in the file; missing credentials prove nothing "
            "(most cameras do not sign, and most platforms strip credentials and generator "
            "metadata alike)",
        )

    def _unreadable(self, exc: Exception, media: Media, result: AnalyzerResult) -> AnalyzerResult:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        kind = type(exc).__name__.lstrip("_").replace("C2pa", "")
        result.metrics = {"manifest_store": True, "error": text[:200]}
        if kind in ("RemoteManifest",):
            result.examined = {"synthetic": 0.1, "manipulation": 0.05}
            result.not_checked.insert(
                0, "the content credentials are stored remotely; not fetched (offline)"
            )
            return result
        if kind in ("NotSupported",):
            result.skipped_reason = (
                f"the C2PA library cannot read this {media.format} file ({text[:120]})"
            )
            return result
        if media.kind == "image" and not (b"jumb" in media.data and b"c2pa" in media.data):
            # The container itself is broken (no JUMBF box anywhere): not a credentials issue.
            self._absent(media, result)
            result.metrics["error"] = text[:200]
            result.not_checked.append(
                f"the C2PA reader could not parse the file's container ({text[:120]})"
            )
            return result
        result.findings.append(
            RawFinding(
                id="credentials.unreadable",
                question="manipulation",
                title="Content credentials present but unreadable",
                detail=(
                    f"A C2PA manifest store is there but could not be validated: {text[:160]}. "
                    "Damage after signing is one cause; a pre-release or newer format is another."
                ),
                evidence={"error": text[:300], "error_kind": kind},
            )
        )
        result.examined = {"synthetic": 0.1, "manipulation": 0.3}
        result.not_checked.insert(
            0, "the content credentials could not be read, so nothing they declare was used"
        )
        return result

    def _thumbnail_check(self, thumb_bytes: bytes, media: Media) -> dict[str, Any] | None:
        import numpy as np
        from PIL import Image

        try:
            with Image.open(io.BytesIO(thumb_bytes)) as im:
                if im.width * im.height > 16_000_000:
                    return None
                thumb = np.asarray(im.convert("RGB"))
        except Exception:
            return None
        if min(thumb.shape[:2]) < 16:
            return None
        current = media.reduced(max(thumb.shape[:2]) * 2)
        full = (media.width or current.shape[1], media.height or current.shape[0])
        return compare_thumbnail(thumb, np.asarray(current), full)
