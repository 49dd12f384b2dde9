"""Content credentials (C2PA): what a manifest store's facts say about the file.

Judges the facts read by :mod:`triage.forensics.c2pa`: whether the declaration is
still intact (signature, hard binding to the bytes, ingredients), what it declares
(AI generation, generative parts, a generator named in its assertions, edits, a
capture), and, when the bytes changed after signing, whether the signed thumbnail
still matches the current picture. Integrity failures are kept apart from trust:
a signer not on a trust list says nothing bad about the file.

References
----------
C2PA Technical Specification 2.x (https://c2pa.org/specifications/), validation
status codes ("Validation" chapter) and standard actions ("Actions" assertion); IPTC NewsCodes digital
source types (https://cv.iptc.org/newscodes/digitalsourcetype/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from triage.evidence import RawFinding
from triage.forensics.c2pa import (
    BINDING_MISMATCH,
    Store,
    actions_of,
    agent_name,
    generator_name,
    is_trust_code,
    summarize,
)
from triage.forensics.genmeta import classify_source_type, match_software

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


@dataclass
class Judgement:
    """What a manifest store says: facts for the metrics, limits, findings."""

    metrics: dict[str, Any]
    not_checked: list[str] = field(default_factory=list)
    findings: list[RawFinding] = field(default_factory=list)


# Codes that only restate what the trust facts already say (no list offline, OCSP
# not fetched): kept in the facts, not repeated as findings.
_TRUST_ONLY = re.compile(
    r"^(?:signingCredential\.(?:untrusted|ocsp\.skipped)|timeStamp\.untrusted|"
    r"cawg\..*untrusted.*|ingredient\.unknownProvenance)$"
)


def validation_codes(store: Store) -> dict[str, list[str]]:
    """Every validation status code the C2PA library returned, by kind.

    Parameters
    ----------
    store : Store
        The store as read by :func:`triage.forensics.c2pa.read_store`.

    Returns
    -------
    dict of str to list of str
        ``success``, ``informational`` and ``failure`` codes of the active manifest,
        and ``ingredient`` codes (failure and informational) of earlier versions.

    References
    ----------
    C2PA Technical Specification 2.x, section 15 (validation status codes).
    """
    results = store.data.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    out: dict[str, list[str]] = {
        kind: [str(c.get("code")) for c in active.get(kind, []) or [] if isinstance(c, dict)]
        for kind in ("success", "informational", "failure")
    }
    if not results:  # older stores report one flat list
        out["failure"] = list(store.failures)
    out["ingredient"] = sorted(
        {
            str(c.get("code"))
            for delta in results.get("ingredientDeltas", []) or []
            for kind in ("failure", "informational")
            for c in ((delta.get("validationDeltas") or {}).get(kind) or [])
            if isinstance(c, dict)
        }
    )
    return out


def binding_codes(store: Store) -> list[str]:
    """The failure codes saying the manifest no longer matches the file's bytes.

    Parameters
    ----------
    store : Store
        A store read by :func:`triage.forensics.c2pa.read_store`.

    Returns
    -------
    list of str
        Its ``assertion.dataHash``/``boxesHash``/``bmffHash``/``collectionHash``
        mismatch or malformed codes.

    References
    ----------
    C2PA Technical Specification 2.x, "Validation" chapter (hard bindings).
    """
    return [c for c in store.failures if BINDING_MISMATCH.match(c)]


def judge(
    store: Store,
    trusted_anchors: bool,
    thumbnail: dict[str, Any] | None = None,
    size: tuple[int, int] = (1, 1),
) -> Judgement:
    """Findings and facts of a manifest store.

    Parameters
    ----------
    store : Store
        The store as read by :func:`triage.forensics.c2pa.read_store`.
    trusted_anchors : bool
        Whether the caller supplied trust anchors (recorded in the facts).
    thumbnail : dict or None
        :func:`triage.forensics.c2pa.compare_thumbnail` of the signed thumbnail with
        the current picture, when the bytes no longer match the signed hash.
    size : tuple of int
        The picture's (width, height), for the share of it that changed.

    Returns
    -------
    Judgement
        Facts (metrics), what could not be checked offline, and the findings in a
        fixed order: integrity, then declared generation, edits and capture.

    References
    ----------
    C2PA Technical Specification 2.x, "Validation" chapter and "Actions" assertion.
    """
    active = store.active_manifest
    summary = summarize(active) if active else {}
    chain = [summarize(m) for label, m in store.manifests.items() if label != store.active]
    binding = binding_codes(store)
    trust_codes = [c for c in store.failures if is_trust_code(c)]
    other = [c for c in store.failures if c not in binding and c not in trust_codes]
    ing_bad = [c for c in store.ingredient_failures if not is_trust_code(c)]
    intact = not binding and not other and active != {}
    trusted = store.state == "Trusted"
    valid = intact and store.state in ("Valid", "Trusted")
    codes = validation_codes(store)
    out = Judgement(
        metrics={
            "manifest_store": True,
            # The four facts c2patool states apart: present, valid, trusted, bound.
            "present": True,
            "valid": valid,
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
            "validation_codes": codes,
        }
    )
    if not trusted:
        out.not_checked.append(
            "signer trust: the signing certificate is not on a trust list available offline "
            "(anyone can sign with a certificate of their own)"
        )
    out.not_checked.append("certificate revocation (OCSP) was not fetched (offline)")
    base = {
        "validation_state": store.state,
        "claim_generator": summary.get("claim_generator"),
        "signer": summary.get("signer"),
        "signed_at": summary.get("signed_at"),
    }
    findings = out.findings
    if binding:
        findings.extend(_binding(binding, base, thumbnail, size))
    findings.extend(_integrity(other, ing_bad, base))
    findings.extend(_credential_codes(codes, set(binding) | set(other), base))
    if valid:
        findings.append(_valid(summary, trusted, trusted_anchors, store.embedded, base))

    acts = actions_of(active)
    dst_active = [
        (a, str(a.get("digitalSourceType", ""))) for a in acts if a.get("digitalSourceType")
    ]
    classes = [(a, d, classify_source_type(d)) for a, d in dst_active]
    declared_ai = _declared_generation(store, classes, summary, base, intact, findings)
    if not declared_ai:
        declared_ai = _generation_assertions(store, classes, base, intact, findings)
    edits = _edits(acts, base, intact, findings)
    findings.extend(_capture(active, classes, declared_ai, bool(edits), intact, trusted, base))
    return out


_Classes = list[tuple[dict[str, Any], str, str]]  # (action, digitalSourceType, class)


def _valid(
    summary: dict[str, Any], trusted: bool, anchors: bool, embedded: bool, base: dict[str, Any]
) -> RawFinding:
    """A manifest that validates is a fact worth stating, whatever it declares."""
    who = summary.get("signer") or "an unnamed signer"
    trust = (
        "the signer chains to a trust anchor supplied here"
        if trusted
        else "the signer is on no trust list supplied here"
        + ("" if anchors else " (none given: --trust-anchors)")
        + ", so the credentials are only as good as whoever holds the key"
    )
    return RawFinding(
        id="credentials.valid",
        question="manipulation",
        title="Valid content credentials" + (" from a trusted signer" if trusted else ""),
        detail=(
            f"Signed by {who} with {summary.get('claim_generator') or 'an unnamed tool'}"
            + (f" on {summary['signed_at']}" if summary.get("signed_at") else "")
            + f"; the signature verifies and the manifest is bound to these bytes; {trust}."
            + ("" if embedded else " The manifest is stored outside the file.")
        ),
        evidence={**base, "trusted": trusted, "embedded": embedded},
    )


def _credential_codes(
    codes: dict[str, list[str]], explained: set[str], base: dict[str, Any]
) -> list[RawFinding]:
    """Failure codes about the signing credential, identity assertions and anything
    else the library reported that no other finding explains."""
    failure = [c for c in codes["failure"] if c not in explained and not _TRUST_ONLY.match(c)]
    credential = [c for c in failure if c.startswith("signingCredential.")]
    identity = [c for c in failure if c.startswith("cawg.")]
    rest = [c for c in failure if c not in credential and c not in identity]
    rest += [
        c
        for c in codes["informational"]
        if not _TRUST_ONLY.match(c) and c not in explained and c not in rest
    ]
    findings: list[RawFinding] = []
    if credential:
        findings.append(
            RawFinding(
                id="credentials.signing_credential_invalid",
                question="manipulation",
                title="The signing certificate was expired, revoked or invalid",
                detail=(
                    "The C2PA library rejects the credential the manifest was signed with ("
                    + ", ".join(credential[:4])
                    + "): the claims cannot be attributed to a signer in good standing. "
                    "An old signing key reused after expiry is the innocent cause."
                ),
                evidence={**base, "codes": credential},
            )
        )
    if identity:
        findings.append(
            RawFinding(
                id="credentials.identity_invalid",
                question="manipulation",
                title="An identity assertion in the credentials does not validate",
                detail=(
                    "A CAWG identity assertion (who made or published the content) fails "
                    "validation (" + ", ".join(identity[:4]) + "): the named identity is not "
                    "bound to this manifest as signed."
                ),
                evidence={**base, "codes": identity},
            )
        )
    if rest:
        findings.append(
            RawFinding(
                id="credentials.validation_codes",
                question="manipulation",
                title="The C2PA library reported further validation codes",
                detail=(
                    "Codes without a finding of their own: "
                    + ", ".join(rest[:8])
                    + ". Listed so that nothing the validator said is silent."
                ),
                evidence={**base, "codes": rest},
            )
        )
    return findings


def _integrity(other: list[str], ing_bad: list[str], base: dict[str, Any]) -> list[RawFinding]:
    """The manifest's own signature, and the earlier versions in its chain."""
    findings: list[RawFinding] = []
    if other:
        findings.append(
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
        findings.append(
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
    return findings


def _declared_generation(
    store: Store,
    classes: _Classes,
    summary: dict[str, Any],
    base: dict[str, Any],
    intact: bool,
    findings: list[RawFinding],
) -> bool:
    """AI generation declared by a digitalSourceType, here or earlier in the chain."""
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
    declared_ai = False
    if ai:
        act, dst, _ = ai[0]
        declared_ai = True
        findings.append(
            RawFinding(
                id="credentials.ai_generated",
                question="synthetic",
                title="Content credentials declare the image AI-generated",
                detail=(
                    f"The {'valid' if intact else 'damaged'} C2PA manifest by "
                    f"{summary.get('claim_generator') or 'an unnamed tool'} records "
                    f"{act.get('action')} with digitalSourceType {dst.rsplit('/', 1)[-1]}"
                    + (f" by {agent_name(act)}" if agent_name(act) else "")
                    + "."
                ),
                evidence={
                    **base,
                    "action": act.get("action"),
                    "digital_source_type": dst,
                    "software_agent": agent_name(act),
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
        findings.append(
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
    return declared_ai


def _generation_assertions(
    store: Store,
    classes: _Classes,
    base: dict[str, Any],
    intact: bool,
    findings: list[RawFinding],
) -> bool:
    """A generator, prompt or model named in the manifests without a declaration."""
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
                ("claim generator", match_software(generator_name(m)))
                for m in store.manifests.values()
            ]
            + [
                ("software agent", match_software(agent_name(a) or ""))
                for m in store.manifests.values()
                for a in actions_of(m)
            ]
        )
        if name
    ]
    declared_ai = False
    if not declared_ai and (genai_labels or named):
        capture_claimed = any(c[2] == "capture" for c in classes)
        findings.append(
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
    return declared_ai


def _edits(
    acts: list[dict[str, Any]], base: dict[str, Any], intact: bool, findings: list[RawFinding]
) -> list[tuple[str, float]]:
    """Editing actions the manifest records, content edits apart from routine ones."""
    edits = [
        (str(a.get("action")), _CONTENT_EDITS[str(a.get("action"))])
        for a in acts
        if _CONTENT_EDITS.get(str(a.get("action")), 0) > 0
    ]
    unknown = [
        str(a.get("action"))
        for a in acts
        if str(a.get("action")) not in _CONTENT_EDITS and str(a.get("action")) not in _NON_EDITORIAL
    ]
    if edits:
        # Edits that add, remove or repaint content vs. routine adjustments
        # (colour, crop, filters) that newsrooms accept as normal processing.
        content = [e for e, w in edits if w >= 0.8]
        routine = [e for e, w in edits if w < 0.8]
        actions = sorted({e for e, _ in edits})
        findings.append(
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
    return edits


def _capture(
    active: dict[str, Any],
    classes: _Classes,
    declared_ai: bool,
    edited: bool,
    intact: bool,
    trusted: bool,
    base: dict[str, Any],
) -> list[RawFinding]:
    """An intact, unedited capture declaration (one finding per question)."""
    findings: list[RawFinding] = []
    capture = [c for c in classes if c[2] == "capture"]
    exif_capture = not classes and any(
        str(x.get("label", "")).startswith("stds.exif") for x in active.get("assertions", []) or []
    )
    if (capture or exif_capture) and not declared_ai and not edited and intact:
        dst = capture[0][1] if capture else "camera EXIF assertion"
        s = 1.0 if trusted else 0.5
        findings.append(
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
        findings.append(
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
    return findings


def _binding(
    codes: list[str],
    base: dict[str, Any],
    cmp: dict[str, Any] | None,
    size: tuple[int, int],
) -> list[RawFinding]:
    """The bytes changed after signing: did the picture (signed thumbnail) change too?"""
    findings: list[RawFinding] = []
    evidence: dict[str, Any] = {**base, "codes": codes}
    if cmp is not None:
        evidence["thumbnail_comparison"] = {k: v for k, v in cmp.items() if k != "boxes"}
    changed = cmp is not None and (
        cmp["aspect_mismatch"] or (cmp["mad"] or 0) > 8.0 or cmp["changed_fraction"] > 0.001
    )
    if changed and cmp is not None:
        w, h = size
        boxes = cmp["boxes"]
        area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes) / float(w * h) if boxes else 1.0
        if boxes:
            evidence["boxes"] = boxes
            evidence["area_fraction"] = round(min(1.0, area), 4)
        findings.append(
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
        findings.append(
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
        findings.append(
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
    return findings
