"""Content credentials (C2PA): what the capture device or generator declared, and whether
that declaration is still intact.

Reads the C2PA manifest store with c2pa-python (the Content Authenticity Initiative's
reference SDK, c2pa-rs underneath) and reports its facts separately from its judgments,
as c2patool does: store present, active manifest, validation (claim signature,
certificate trust as far as it can be checked offline, hard binding of the manifest to
the file's bytes), claim generator, signer, signing time, actions, ingredients (the
chain of earlier versions) and the IPTC digitalSourceType of each action.

Standard: C2PA Technical Specification 2.x (https://c2pa.org/specifications/), the
validation status codes of its section 15, and the IPTC NewsCodes digital source types.

Nothing goes over the network: remote manifests and OCSP revocation are not fetched
(``verify.remote_manifest_fetch``/``ocsp_fetch`` off, no allowed network hosts). Trust
is checked only against anchors the user supplies (``ctx.options["c2pa_trust_anchors"]``,
PEM text or a path); without them every signer is "untrusted", which says nothing bad
about the file - anyone can sign anything with a certificate of their own.

When the bytes no longer match the signed hash, the signed thumbnail (if any) is
compared with the current pixels to tell a re-saved/metadata-changed file from one
whose picture changed after signing.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding

if TYPE_CHECKING:
    import numpy as np

    from triage.media import Media

_MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "gif": "image/gif",
    "heif": "image/heif",
    "avif": "image/avif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
}

# Validation codes (C2PA spec, "Validation" chapter).
_BINDING_MISMATCH = re.compile(
    r"^assertion\.(?:data|boxes|bmff|collection)Hash\.(?:mismatch|malformed)$"
)
_TRUST_PREFIXES = ("signingCredential.", "cawg.", "ingredient.unknownProvenance")


def _is_trust_code(code: str) -> bool:
    """Codes about who signed and when (trust lists, OCSP, timestamps), not integrity.

    A timestamp whose digest no longer matches the signature is integrity, not trust.
    """
    if code.startswith(_TRUST_PREFIXES):
        return True
    return code.startswith("timeStamp.") and not code.endswith("mismatch")


# Actions that change what the picture shows vs. ones that only re-wrap it.
_CONTENT_EDITS = {  # >= 0.8: changes what the picture shows; below: routine adjustment
    "c2pa.edited": 1.0,
    "c2pa.drawing": 1.0,
    "c2pa.placed": 1.0,
    "c2pa.removed": 1.0,
    "c2pa.redacted": 0.8,
    "c2pa.filtered": 0.5,
    "c2pa.color_adjustments": 0.5,
    "c2pa.cropped": 0.5,
    "c2pa.edited.metadata": 0.0,
}
_NON_EDITORIAL = {
    "c2pa.created",
    "c2pa.opened",
    "c2pa.converted",
    "c2pa.transcoded",
    "c2pa.repackaged",
    "c2pa.resized",
    "c2pa.orientation",
    "c2pa.published",
    "c2pa.watermarked",
    "c2pa.unknown",
}
_GENAI_LABEL = re.compile(
    r"(?i)(?:^|[._-])(?:gen_?ai|prompt|prompt_data|model|model_data|ai_model|ai_generat\w*|"
    r"generat(?:ive|ion|ed))(?:$|[._-])"
)


def _settings(trust_anchors: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "verify": {
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
            "verify_after_reading": True,
            "verify_trust": True,
        },
        "core": {"allowed_network_hosts": []},
    }
    if trust_anchors:
        settings["trust"] = {"trust_anchors": trust_anchors}
    return settings


@cache
def _c2pa_context(trust_anchors: str | None) -> Any:
    import c2pa

    return c2pa.Context.from_dict(_settings(trust_anchors))


def _anchors(ctx: Context) -> str | None:
    value = ctx.options.get("c2pa_trust_anchors")
    if not value:
        return None
    text = str(value)
    if "-----BEGIN" not in text:
        text = Path(text).read_text("utf-8")
    return text


@dataclass
class Store:
    """The facts read from a manifest store (no judgments)."""

    data: dict[str, Any]
    active: str | None
    state: str | None  # Invalid / Valid / Trusted
    failures: list[str] = field(default_factory=list)  # active manifest failure codes
    ingredient_failures: list[str] = field(default_factory=list)
    embedded: bool = True
    thumbnail: bytes | None = None

    @property
    def manifests(self) -> dict[str, Any]:
        m = self.data.get("manifests")
        return m if isinstance(m, dict) else {}

    @property
    def active_manifest(self) -> dict[str, Any]:
        return self.manifests.get(self.active or "", {}) or {}


def read_store(source: Any, mime: str, trust_anchors: str | None = None) -> Store | None:
    """Read and validate a manifest store from a binary stream; None when there is none.

    Raises ``c2pa.C2paError`` for stores that exist but cannot be read.
    """
    import c2pa

    reader = c2pa.Reader.try_create(mime, source, None, _c2pa_context(trust_anchors))
    if reader is None:
        return None
    with reader:
        data = json.loads(reader.json())
        results = data.get("validation_results") or {}
        active_res = results.get("activeManifest") or {}
        failures = [str(f.get("code")) for f in active_res.get("failure", []) or []]
        if not results:  # older stores report a flat list
            failures = [str(s.get("code")) for s in data.get("validation_status", []) or []]
        ing_fail: list[str] = []
        for delta in results.get("ingredientDeltas", []) or []:
            vd = delta.get("validationDeltas") or {}
            ing_fail.extend(str(f.get("code")) for f in vd.get("failure", []) or [])
            ing_fail.extend(
                str(f.get("code"))
                for f in vd.get("informational", []) or []
                if str(f.get("code", "")).endswith("mismatch")
            )
        store = Store(
            data=data,
            active=data.get("active_manifest"),
            state=data.get("validation_state"),
            failures=failures,
            ingredient_failures=ing_fail,
        )
        try:
            store.embedded = bool(reader.is_embedded())
        except Exception:
            store.embedded = True
        thumb = (store.active_manifest.get("thumbnail") or {}).get("identifier")
        if thumb:
            buf = io.BytesIO()
            try:
                reader.resource_to_stream(thumb, buf)
                store.thumbnail = buf.getvalue()
            except Exception:
                store.thumbnail = None
    return store


# ---------------------------------------------------------------- summarising
def actions_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for assertion in manifest.get("assertions", []) or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = assertion.get("data") or {}
        for act in data.get("actions", []) or []:
            if isinstance(act, dict):
                out.append(act)
    return out


def _agent(act: dict[str, Any]) -> str | None:
    agent = act.get("softwareAgent")
    if isinstance(agent, dict):
        agent = agent.get("name")
    return str(agent) if agent else None


def _generator_name(manifest: dict[str, Any]) -> str:
    gen = manifest.get("claim_generator")
    if gen:
        return str(gen)
    info = manifest.get("claim_generator_info") or []
    if info and isinstance(info[0], dict):
        name = info[0].get("name", "")
        version = info[0].get("version")
        return f"{name}/{version}" if version else str(name)
    return ""


def summarize(manifest: dict[str, Any]) -> dict[str, Any]:
    """A compact, JSON-safe summary of one manifest for the evidence."""
    sig = manifest.get("signature_info") or {}
    acts = actions_of(manifest)
    return {
        "label": manifest.get("label"),
        "claim_generator": _generator_name(manifest),
        "title": manifest.get("title"),
        "signer": sig.get("common_name") or sig.get("issuer"),
        "issuer": sig.get("issuer"),
        "signed_at": sig.get("time"),
        "alg": sig.get("alg"),
        "actions": [
            {
                k: v
                for k, v in (
                    ("action", a.get("action")),
                    ("digital_source_type", a.get("digitalSourceType")),
                    ("software_agent", _agent(a)),
                    ("when", a.get("when")),
                )
                if v
            }
            for a in acts[:30]
        ],
        "ingredients": [
            {
                "title": i.get("title"),
                "relationship": i.get("relationship"),
                "has_manifest": bool(i.get("active_manifest")),
            }
            for i in (manifest.get("ingredients") or [])[:20]
            if isinstance(i, dict)
        ],
        "assertions": [str(a.get("label")) for a in (manifest.get("assertions") or [])[:40]],
    }


# ---------------------------------------------------------- thumbnail check
def compare_thumbnail(
    thumb: np.ndarray, image: np.ndarray, full_size: tuple[int, int] | None = None
) -> dict[str, Any]:
    """Compare a signed thumbnail with the current pixels (both RGB uint8).

    Returns the mean absolute difference at thumbnail scale, the fraction of 8x8
    blocks that differ far beyond JPEG-thumbnail noise, and their bounding boxes in
    the coordinates of ``full_size`` (width, height; default: ``image``'s size). A differing aspect ratio means the picture was
    cropped or re-framed.
    """
    import cv2
    import numpy as np

    th, tw = thumb.shape[:2]
    ih, iw = image.shape[:2]
    if abs(th / tw - ih / iw) > 0.02 * (ih / iw) + 1.5 / min(th, tw):
        return {"aspect_mismatch": True, "mad": None, "changed_fraction": 1.0, "boxes": []}
    # Compare both at a common, modest scale: thumbnails are re-encoded (and sometimes
    # upscaled) copies, so exact pixels differ at edges; what a real change moves is the
    # local mean colour.
    cw = max(8, round(min(tw, iw) * min(1.0, 256.0 / max(min(tw, iw), min(th, ih)))))
    ch = max(8, round(cw * th / tw))

    def prep(arr: np.ndarray) -> np.ndarray:
        small = cv2.resize(np.ascontiguousarray(arr), (cw, ch), interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small.astype(np.float32), (0, 0), 1.0)

    a, b = prep(thumb), prep(image)
    diff = a - b
    mad = float(np.abs(diff).mean())
    bs = 4
    hb, wb = ch // bs, cw // bs
    th, tw = ch, cw
    if hb == 0 or wb == 0:
        return {
            "aspect_mismatch": False,
            "mad": round(mad, 3),
            "changed_fraction": 0.0,
            "boxes": [],
        }
    blocks = np.abs(diff[: hb * bs, : wb * bs].reshape(hb, bs, wb, bs, 3).mean(axis=(1, 3))).max(
        axis=2
    )
    # Edges (in any channel: thumbnails subsample chroma) tolerate larger differences.
    grad = (
        np.hypot(cv2.Sobel(b, cv2.CV_32F, 1, 0), cv2.Sobel(b, cv2.CV_32F, 0, 1)).max(axis=2) / 8.0
    )
    gblocks = grad[: hb * bs, : wb * bs].reshape(hb, bs, wb, bs).mean(axis=(1, 3))
    thr = 10.0 + 0.5 * gblocks + 3.0 * float(np.median(blocks))
    mask = (blocks > thr).astype(np.uint8)
    frac = float(mask.mean())
    boxes: list[list[int]] = []
    if mask.any():
        n, _labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        fw, fh = full_size or (iw, ih)
        sx, sy = fw / tw, fh / th
        for i in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[i])
            if area < 2:
                continue
            boxes.append(
                [
                    int(x * bs * sx),
                    int(y * bs * sy),
                    min(fw, int(np.ceil((x + w) * bs * sx))),
                    min(fh, int(np.ceil((y + h) * bs * sy))),
                ]
            )
    return {
        "aspect_mismatch": False,
        "mad": round(mad, 3),
        "changed_fraction": round(frac, 4),
        "boxes": boxes[:20],
    }


# -------------------------------------------------------------------- analyzer
class CredentialsAnalyzer(Analyzer):
    name = "credentials"
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
        mime = _MIME.get(media.format)
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
        self._judge(store, media, result, trusted_anchors=anchors is not None)
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

    # -- a store ------------------------------------------------------------
    def _judge(
        self, store: Store, media: Media, result: AnalyzerResult, trusted_anchors: bool
    ) -> None:
        active = store.active_manifest
        summary = summarize(active) if active else {}
        chain = [summarize(m) for label, m in store.manifests.items() if label != store.active]
        binding = [c for c in store.failures if _BINDING_MISMATCH.match(c)]
        trust_codes = [c for c in store.failures if _is_trust_code(c)]
        other = [c for c in store.failures if c not in binding and c not in trust_codes]
        ing_bad = [c for c in store.ingredient_failures if not _is_trust_code(c)]
        intact = not binding and not other and active != {}
        trusted = store.state == "Trusted"
        facts: dict[str, Any] = {
            "manifest_store": True,
            "manifests": len(store.manifests),
            "active_manifest": store.active,
            "validation_state": store.state,
            "failures": store.failures,
            "signature_intact": not other,
            "bound_to_bytes": not binding,
            "trusted": trusted,
            "trust_anchors_supplied": trusted_anchors,
            "embedded": store.embedded,
            "active": summary,
            "history": chain[:10],
        }
        result.metrics = facts
        result.examined = {"synthetic": 1.0, "manipulation": 1.0}
        if not trusted:
            result.not_checked.append(
                "signer trust: the signing certificate is not on a trust list available offline "
                "(anyone can sign with a certificate of their own)"
            )
        result.not_checked.append("certificate revocation (OCSP) was not fetched (offline)")
        base = {
            "validation_state": store.state,
            "claim_generator": summary.get("claim_generator"),
            "signer": summary.get("signer"),
            "signed_at": summary.get("signed_at"),
        }

        # --- integrity ---
        if binding:
            self._binding(store, media, result, binding, base)
        if other:
            result.findings.append(
                RawFinding(
                    id="credentials.signature_invalid",
                    question="manipulation",
                    title="Content credentials altered after signing",
                    detail=(
                        "The manifest's own signature or assertion hashes do not verify ("
                        + ", ".join(other[:4])
                        + "): its claims were changed after it was signed, so none of them can be relied on."
                    ),
                    evidence={**base, "codes": other},
                )
            )
        if ing_bad:
            result.findings.append(
                RawFinding(
                    id="credentials.ingredient_invalid",
                    question="manipulation",
                    title="An earlier version's credentials do not validate",
                    detail=(
                        "An ingredient (earlier version) in the credential chain fails validation ("
                        + ", ".join(sorted(set(ing_bad))[:4])
                        + "); the current manifest itself validates."
                    ),
                    evidence={**base, "codes": sorted(set(ing_bad))},
                )
            )

        # --- what was declared ---
        acts = actions_of(active)
        dst_active = [
            (a, str(a.get("digitalSourceType", ""))) for a in acts if a.get("digitalSourceType")
        ]
        from triage.analyzers.generator import classify_source_type, match_software

        classes = [(a, d, classify_source_type(d)) for a, d in dst_active]
        history_ai = [
            (label, str(a.get("digitalSourceType")))
            for label, m in store.manifests.items()
            if label != store.active
            for a in actions_of(m)
            if a.get("digitalSourceType")
            and classify_source_type(str(a["digitalSourceType"])) in ("ai", "ai-part")
        ]
        strength = 1.0 if intact else 0.6
        ai = [c for c in classes if c[2] == "ai"]
        part = [c for c in classes if c[2] == "ai-part"]
        genai_labels = sorted(
            {
                str(x.get("label"))
                for m in store.manifests.values()
                for x in (m.get("assertions") or [])
                if _GENAI_LABEL.search(str(x.get("label", "")))
            }
        )
        named = [
            (where, name)
            for where, name in (
                [
                    ("claim generator", match_software(_generator_name(m)))
                    for m in store.manifests.values()
                ]
                + [
                    ("software agent", match_software(_agent(a) or ""))
                    for m in store.manifests.values()
                    for a in actions_of(m)
                ]
            )
            if name
        ]
        declared_ai = False
        if ai:
            act, dst, _ = ai[0]
            declared_ai = True
            result.findings.append(
                RawFinding(
                    id="credentials.ai_generated",
                    question="synthetic",
                    title="Content credentials declare the image AI-generated",
                    detail=(
                        f"The {'valid' if intact else 'damaged'} C2PA manifest by "
                        f"{summary.get('claim_generator') or 'an unnamed tool'} records "
                        f"{act.get('action')} with digitalSourceType {dst.rsplit('/', 1)[-1]}"
                        + (f" by {_agent(act)}" if _agent(act) else "")
                        + "."
                    ),
                    evidence={
                        **base,
                        "action": act.get("action"),
                        "digital_source_type": dst,
                        "software_agent": _agent(act),
                    },
                    strength=strength,
                )
            )
        elif part or history_ai:
            declared_ai = True
            if part:
                act, dst, _ = part[0]
                where = f"{act.get('action')} with digitalSourceType {dst.rsplit('/', 1)[-1]}"
            else:
                act, dst = {}, history_ai[0][1]
                where = f"an earlier version in its chain declared {dst.rsplit('/', 1)[-1]}"
            # An earlier version that was wholly generated (then cropped or retouched)
            # weighs more than a generative fill in a photograph.
            wholly = any(classify_source_type(d) == "ai" for _, d in history_ai)
            if wholly:
                where += " (an earlier version in its chain was wholly generated)"
            result.findings.append(
                RawFinding(
                    id="credentials.ai_composite",
                    question="synthetic",
                    title="Content credentials declare AI-generated parts or an AI-made earlier version",
                    detail=(
                        f"The C2PA manifest records {where}: part of the image (or the image it was "
                        "made from) was generated by a model."
                    ),
                    evidence={
                        **base,
                        "digital_source_type": dst,
                        "history": [h[1] for h in history_ai][:5],
                        "earlier_version_wholly_generated": wholly,
                    },
                    strength=strength * (1.3 if wholly else 1.0),
                )
            )
        if not declared_ai and (genai_labels or named):
            capture_claimed = any(c[2] == "capture" for c in classes)
            result.findings.append(
                RawFinding(
                    id="credentials.generation_assertions",
                    question="synthetic",
                    title="Content credentials describe a generator, prompt or model",
                    detail=(
                        "The manifest carries "
                        + (f"assertions {', '.join(genai_labels[:3])}" if genai_labels else "")
                        + (" and " if genai_labels and named else "")
                        + (f"a {named[0][0]} naming {named[0][1]}" if named else "")
                        + " without declaring AI generation"
                        + (
                            " - yet it claims a camera capture (digitalCapture): the declaration "
                            "contradicts its own content"
                            if capture_claimed
                            else ""
                        )
                        + "."
                    ),
                    evidence={
                        **base,
                        "assertions": genai_labels,
                        "named": [n for _, n in named][:3],
                        "capture_claimed": capture_claimed,
                    },
                    strength=1.0 if intact else 0.6,
                )
            )
            declared_ai = True

        edits = [
            (str(a.get("action")), _CONTENT_EDITS[str(a.get("action"))])
            for a in acts
            if _CONTENT_EDITS.get(str(a.get("action")), 0) > 0
        ]
        unknown = [
            str(a.get("action"))
            for a in acts
            if str(a.get("action")) not in _CONTENT_EDITS
            and str(a.get("action")) not in _NON_EDITORIAL
        ]
        if edits:
            # Edits that add, remove or repaint content vs. routine adjustments
            # (colour, crop, filters) that newsrooms accept as normal processing.
            content = [e for e, w in edits if w >= 0.8]
            routine = [e for e, w in edits if w < 0.8]
            actions = sorted({e for e, _ in edits})
            result.findings.append(
                RawFinding(
                    id="credentials.content_edits_declared"
                    if content
                    else "credentials.edits_declared",
                    question="manipulation",
                    title=(
                        "Content credentials record edits to the picture's content"
                        if content
                        else "Content credentials record routine adjustments"
                    ),
                    detail=(
                        "The manifest lists editing actions: "
                        + ", ".join(actions)
                        + (
                            ". They are declared by the editor itself and say that, not how much, "
                            "the content changed."
                            if content
                            else ". Colour, crop and filter adjustments are normal processing; "
                            "they say nothing of what the picture shows."
                        )
                    ),
                    evidence={
                        **base,
                        "actions": actions[:20],
                        "content_edits": sorted(set(content)),
                        "routine_edits": sorted(set(routine)),
                        "other_actions": unknown[:10],
                    },
                    strength=1.0 if intact else 0.6,
                )
            )
        capture = [c for c in classes if c[2] == "capture"]
        exif_capture = not classes and any(
            str(x.get("label", "")).startswith("stds.exif")
            for x in active.get("assertions", []) or []
        )
        if (capture or exif_capture) and not declared_ai and not edits and intact:
            dst = capture[0][1] if capture else "camera EXIF assertion"
            s = 1.0 if trusted else 0.5
            result.findings.append(
                RawFinding(
                    id="credentials.capture_unedited",
                    question="manipulation",
                    title="Valid content credentials of a capture with no recorded edits",
                    detail=(
                        f"The signed manifest declares a capture ({dst.rsplit('/', 1)[-1]}), lists no "
                        "editing actions, and still matches the file's bytes."
                        + (
                            ""
                            if trusted
                            else " The signer is not on a trust list available here, so "
                            "this is only as good as whoever holds the signing key."
                        )
                    ),
                    evidence={**base, "digital_source_type": dst, "trusted": trusted},
                    strength=s,
                )
            )
            result.findings.append(
                RawFinding(
                    id="credentials.capture_declared",
                    question="synthetic",
                    title="Content credentials declare a camera capture",
                    detail=(
                        "The signed manifest declares a capture; a signed claim, not proof (a "
                        "generator can be made to write it)."
                    ),
                    evidence={**base, "digital_source_type": dst, "trusted": trusted},
                    strength=s,
                )
            )

    def _binding(
        self,
        store: Store,
        media: Media,
        result: AnalyzerResult,
        codes: list[str],
        base: dict[str, Any],
    ) -> None:
        cmp: dict[str, Any] | None = None
        if store.thumbnail and media.kind == "image":
            cmp = self._thumbnail_check(store.thumbnail, media)
        evidence: dict[str, Any] = {**base, "codes": codes}
        if cmp is not None:
            evidence["thumbnail_comparison"] = {k: v for k, v in cmp.items() if k != "boxes"}
        changed = cmp is not None and (
            cmp["aspect_mismatch"] or (cmp["mad"] or 0) > 8.0 or cmp["changed_fraction"] > 0.001
        )
        if changed and cmp is not None:
            w, h = media.width or 1, media.height or 1
            boxes = cmp["boxes"]
            area = (
                sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes) / float(w * h) if boxes else 1.0
            )
            if boxes:
                evidence["boxes"] = boxes
                evidence["area_fraction"] = round(min(1.0, area), 4)
            result.findings.append(
                RawFinding(
                    id="credentials.pixels_changed_after_signing",
                    question="manipulation",
                    title="Picture changed after it was signed",
                    detail=(
                        "The file no longer matches the hash its content credentials signed ("
                        + ", ".join(codes)
                        + "), and the signed thumbnail differs from the current picture"
                        + (
                            " (different framing)"
                            if cmp["aspect_mismatch"]
                            else f" in {len(boxes)} region(s)"
                            if boxes
                            else ""
                        )
                        + "."
                    ),
                    evidence=evidence,
                )
            )
        elif cmp is not None:
            result.findings.append(
                RawFinding(
                    id="credentials.bytes_changed_after_signing",
                    question="manipulation",
                    title="File changed after signing; picture still matches the signed thumbnail",
                    detail=(
                        "The bytes no longer match the signed hash (" + ", ".join(codes) + "), but "
                        "the signed thumbnail matches the current picture at thumbnail scale: a "
                        "re-save or metadata change is the likelier cause; small edits below "
                        "thumbnail resolution cannot be excluded."
                    ),
                    evidence=evidence,
                )
            )
        else:
            result.findings.append(
                RawFinding(
                    id="credentials.changed_after_signing",
                    question="manipulation",
                    title="File changed after signing",
                    detail=(
                        "The file's bytes no longer match the hash its content credentials signed ("
                        + ", ".join(codes)
                        + "). Something changed it after signing - an edit, or a tool that "
                        "rewrote its metadata; there is no signed thumbnail to tell which."
                    ),
                    evidence=evidence,
                )
            )

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
