"""Content credentials (C2PA): reading a manifest store and the facts it holds.

Reads the store with c2pa-python (the Content Authenticity Initiative's reference SDK,
c2pa-rs underneath) and returns its facts without judging them, as c2patool does:
active manifest, validation state and failure codes, claim generator, signer, signing
time, actions, ingredients and the signed thumbnail. :mod:`triage.forensics.c2pa_judge`
turns them into findings.

Nothing goes over the network: remote manifests and OCSP revocation are not fetched
(``verify.remote_manifest_fetch``/``ocsp_fetch`` off, no allowed network hosts); trust
is checked only against anchors the caller supplies.

References
----------
C2PA Technical Specification 2.x (https://c2pa.org/specifications/), its validation
status codes (section 15); IPTC NewsCodes digital source types.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# Media types the C2PA reader is given, by sniffed format.
MIME = {
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
BINDING_MISMATCH = re.compile(
    r"^assertion\.(?:data|boxes|bmff|collection)Hash\.(?:mismatch|malformed)$"
)
_TRUST_PREFIXES = ("signingCredential.", "cawg.", "ingredient.unknownProvenance")


def is_trust_code(code: str) -> bool:
    """Whether a validation code is about trust (who signed and when), not integrity.

    Parameters
    ----------
    code : str
        A C2PA validation status code, e.g. ``signingCredential.untrusted``.

    Returns
    -------
    bool
        True for trust-list, OCSP, CAWG identity and timestamp codes. A timestamp whose
        digest no longer matches the signature (``timeStamp.mismatch``) is integrity.

    References
    ----------
    C2PA Technical Specification 2.x, "Validation" chapter (status codes).
    """
    if code.startswith(_TRUST_PREFIXES):
        return True
    return code.startswith("timeStamp.") and not code.endswith("mismatch")


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
    """Read and validate the manifest store of a file, offline.

    Parameters
    ----------
    source : binary stream
        The file's bytes (an open file or ``io.BytesIO``).
    mime : str
        Its media type (see ``MIME``).
    trust_anchors : str or None
        PEM certificates the signer may chain to; None: every signer is untrusted.

    Returns
    -------
    Store or None
        The store's JSON, active manifest, validation state and failure codes (active
        manifest and ingredients), whether it is embedded, and the signed thumbnail;
        None when the file holds no store.

    Raises
    ------
    c2pa.C2paError
        For a store that exists but cannot be read.

    References
    ----------
    C2PA Technical Specification 2.x, "Manifests" and "Validation" chapters;
    the reader is c2pa-python, the Content Authenticity Initiative's reference SDK.
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
    """The actions a manifest records.

    Parameters
    ----------
    manifest : dict
        One manifest of the store's JSON.

    Returns
    -------
    list of dict
        The entries of every ``c2pa.actions`` (and ``c2pa.actions.v2``) assertion, in order.

    References
    ----------
    C2PA Technical Specification 2.x, "Actions" assertion.
    """
    out: list[dict[str, Any]] = []
    for assertion in manifest.get("assertions", []) or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = assertion.get("data") or {}
        for act in data.get("actions", []) or []:
            if isinstance(act, dict):
                out.append(act)
    return out


def agent_name(act: dict[str, Any]) -> str | None:
    """The software agent that performed an action.

    Parameters
    ----------
    act : dict
        One action entry.

    Returns
    -------
    str or None
        ``softwareAgent`` (its ``name`` when it is a claim-generator-info object).

    References
    ----------
    C2PA Technical Specification 2.x, "Actions" assertion.
    """
    agent = act.get("softwareAgent")
    if isinstance(agent, dict):
        agent = agent.get("name")
    return str(agent) if agent else None


def generator_name(manifest: dict[str, Any]) -> str:
    """The claim generator of a manifest as one string.

    Parameters
    ----------
    manifest : dict
        One manifest of the store's JSON.

    Returns
    -------
    str
        ``claim_generator``, or ``name/version`` of the first ``claim_generator_info``;
        empty when neither is there.

    References
    ----------
    C2PA Technical Specification 2.x, "Claims" chapter.
    """
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
    """A compact, JSON-safe summary of one manifest for the evidence.

    Parameters
    ----------
    manifest : dict
        One manifest of the store's JSON.

    Returns
    -------
    dict
        Label, claim generator, title, signer, issuer, signing time, algorithm, up to 30
        actions (action, digital source type, agent, when), up to 20 ingredients and up
        to 40 assertion labels.

    References
    ----------
    C2PA Technical Specification 2.x; c2patool's report, whose facts it follows.
    """
    sig = manifest.get("signature_info") or {}
    acts = actions_of(manifest)
    return {
        "label": manifest.get("label"),
        "claim_generator": generator_name(manifest),
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
                    ("software_agent", agent_name(a)),
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

    Both are brought to a common modest scale and blurred (thumbnails are re-encoded,
    sometimes upscaled copies), then 4x4 blocks whose mean colour moved beyond a
    threshold that grows with local gradient are counted and boxed. A differing aspect
    ratio means the picture was cropped or re-framed.

    Parameters
    ----------
    thumb : ndarray
        The signed thumbnail, H x W x 3.
    image : ndarray
        The current picture (any size), H x W x 3.
    full_size : tuple of int, optional
        (width, height) the boxes are given in; default ``image``'s size.

    Returns
    -------
    dict
        ``aspect_mismatch``, ``mad`` (mean absolute difference at the common scale),
        ``changed_fraction`` of blocks, and up to 20 ``boxes`` [x0, y0, x1, y1].

    References
    ----------
    C2PA Technical Specification 2.x, "Thumbnail" assertion and "Hard bindings".
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
